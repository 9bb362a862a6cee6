package slackapp_test

import (
	"encoding/base64"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgcredit/orgcredit/internal/slackapp"
	"github.com/orgcredit/orgcredit/internal/slacktestx"
)

// TestSignature: only a correctly signed, fresh request gets through; any
// other is 401 and changes nothing, neither the store nor Slack. The body
// used would request a transfer, so a request that got through shows.
func TestSignature(t *testing.T) {
	submit := slacktestx.InteractionBody(submitPayload(dina, org, "sari"))
	other := slacktestx.InteractionBody(submitPayload(dina, org, "omar"))
	now := time.Now()
	signed := func(ts time.Time, body []byte, b64 bool) events.APIGatewayV2HTTPRequest {
		return slacktestx.Request(testSecret, ts, slackapp.PathInteractions, formType, body, b64)
	}
	tests := []struct {
		name     string
		req      func() events.APIGatewayV2HTTPRequest
		wantCode int
	}{
		{"plain body, valid", func() events.APIGatewayV2HTTPRequest { return signed(now, submit, false) }, 200},
		{"base64 body, valid", func() events.APIGatewayV2HTTPRequest { return signed(now, submit, true) }, 200},
		{"canonical header names", func() events.APIGatewayV2HTTPRequest {
			r := signed(now, submit, false)
			r.Headers = map[string]string{"X-Slack-Signature": r.Headers["x-slack-signature"], "X-Slack-Request-Timestamp": r.Headers["x-slack-request-timestamp"]}
			return r
		}, 200},
		{"missing signature", func() events.APIGatewayV2HTTPRequest {
			r := signed(now, submit, false)
			delete(r.Headers, "x-slack-signature")
			return r
		}, 401},
		{"missing timestamp", func() events.APIGatewayV2HTTPRequest {
			r := signed(now, submit, false)
			delete(r.Headers, "x-slack-request-timestamp")
			return r
		}, 401},
		{"malformed timestamp", func() events.APIGatewayV2HTTPRequest {
			r := signed(now, submit, false)
			r.Headers["x-slack-request-timestamp"] = "yesterday"
			return r
		}, 401},
		{"wrong secret", func() events.APIGatewayV2HTTPRequest {
			return slacktestx.Request("not-the-secret", now, slackapp.PathInteractions, formType, submit, false)
		}, 401},
		{"signature not hex", func() events.APIGatewayV2HTTPRequest {
			r := signed(now, submit, false)
			r.Headers["x-slack-signature"] = "v0=zz"
			return r
		}, 401},
		{"stale, 6 minutes old", func() events.APIGatewayV2HTTPRequest { return signed(now.Add(-6*time.Minute), submit, false) }, 401},
		{"from the future, 6 minutes ahead", func() events.APIGatewayV2HTTPRequest { return signed(now.Add(6*time.Minute), submit, false) }, 401},
		{"timestamp changed after signing", func() events.APIGatewayV2HTTPRequest {
			r := signed(now, submit, false)
			r.Headers["x-slack-request-timestamp"] = strconv.FormatInt(now.Unix()-1, 10)
			return r
		}, 401},
		{"replayed signature with another body", func() events.APIGatewayV2HTTPRequest {
			r := signed(now, other, false)
			r.Body = string(submit)
			return r
		}, 401},
		{"base64 body tampered", func() events.APIGatewayV2HTTPRequest {
			r := signed(now, other, true)
			r.Body = base64.StdEncoding.EncodeToString(submit)
			return r
		}, 401},
		{"base64 flag on a plain body", func() events.APIGatewayV2HTTPRequest {
			r := signed(now, submit, false)
			r.IsBase64Encoded = true
			return r
		}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			resp, err := f.app.Handle(f.ctx, tt.req())
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("status = %d (%s), want %d", resp.StatusCode, resp.Body, tt.wantCode)
			}
			p := f.pending()
			if tt.wantCode == 200 {
				if p == nil || p.RecipientID != "sari" {
					t.Fatalf("a valid request did not take effect: pending = %+v", p)
				}
				return
			}
			if resp.Body == "" {
				t.Error("a refused request should say why")
			}
			if p != nil {
				t.Errorf("a refused request changed the store: pending = %+v", p)
			}
			if calls := f.slack.Calls(); len(calls) != 0 {
				t.Errorf("a refused request called Slack: %v", calls)
			}
		})
	}
}

// TestSignatureEveryPath: each endpoint refuses an unsigned request before
// parsing it.
func TestSignatureEveryPath(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{slackapp.PathCommands, slackapp.PathInteractions, slackapp.PathEvents} {
		r := slacktestx.Request(testSecret, time.Now(), path, formType, []byte("x=1"), false)
		r.Headers["x-slack-signature"] = "v0=" + "00000000000000000000000000000000000000000000000000000000000000"
		resp, err := f.app.Handle(f.ctx, r)
		if err != nil || resp.StatusCode != 401 {
			t.Errorf("%s: status %d err %v, want 401", path, resp.StatusCode, err)
		}
	}
	r := slacktestx.Request(testSecret, time.Now(), "/slack/other", formType, []byte("x=1"), false)
	if resp, _ := f.app.Handle(f.ctx, r); resp.StatusCode != 404 {
		t.Errorf("unknown path: status %d, want 404", resp.StatusCode)
	}
}

package slackapp_test

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgcredit/orgcredit/internal/slackapp"
	"github.com/orgcredit/orgcredit/internal/slacktestx"
)

var updateEvents = flag.Bool("update-events", false, "rewrite the signed sample events in events/slack")

const eventsDir = "../../events/slack"

// sampleTime is the timestamp the samples are signed at; tests re-sign
// them with a fresh one, as a stale timestamp is refused.
var sampleTime = time.Unix(1767225600, 0) // 2026-01-01T00:00:00Z

// samples are the signed sample requests in events/slack and what the app
// answers to each (re-signed now) on the worked example's organization.
var samples = []struct {
	file, path, contentType string
	body                    []byte
	b64                     bool
	want                    string // in the answer or in the Slack calls
}{
	{"command_billing_status.json", slackapp.PathCommands, formType,
		slacktestx.Form("team_id", team, "team_domain", "acme", "channel_id", "C0GENERAL", "user_id", dina, "user_name", "dina",
			"command", "/billing", "text", "status", "response_url", "https://hooks.slack.com/commands/T0ACME/1/x", "trigger_id", "1.2.abc", "api_app_id", "A0APP"),
		true, "You hold Billing of *Acme*"},
	{"command_billing_transfer.json", slackapp.PathCommands, formType,
		slacktestx.Form("team_id", team, "team_domain", "acme", "channel_id", "C0GENERAL", "user_id", dina, "user_name", "dina",
			"command", "/billing", "text", "transfer", "response_url", "https://hooks.slack.com/commands/T0ACME/2/x", "trigger_id", "2.2.abc", "api_app_id", "A0APP"),
		true, `"callback_id":"billing_transfer"`},
	{"interaction_accept.json", slackapp.PathInteractions, formType,
		slacktestx.InteractionBody(clickPayload(sari, "transfer_accept", org+"|tr-sample", "D0SARI", "1700000000.000001", true)),
		true, `transfer "tr-sample" does not exist. Nothing was changed.`},
	{"url_verification.json", slackapp.PathEvents, "application/json",
		[]byte(`{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`),
		false, `"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"`},
	{"event_app_home_opened.json", slackapp.PathEvents, "application/json", homeOpened(dina), false, "1,234.5 credits"},
}

// TestSampleEvents: every sample's stored signature is valid for its
// stored timestamp under the documented test secret, and the app answers
// it once re-signed with a fresh timestamp. `go test ./internal/slackapp
// -run TestSampleEvents -update-events` rewrites the samples.
func TestSampleEvents(t *testing.T) {
	for _, s := range samples {
		t.Run(s.file, func(t *testing.T) {
			file := filepath.Join(eventsDir, s.file)
			if *updateEvents {
				req := slacktestx.Request(testSecret, sampleTime, s.path, s.contentType, s.body, s.b64)
				b, err := json.MarshalIndent(req, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update-events to write it)", err)
			}
			var req events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(raw, &req); err != nil {
				t.Fatal(err)
			}
			body := []byte(req.Body)
			if req.IsBase64Encoded {
				if body, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
					t.Fatal(err)
				}
			}
			ts, err := strconv.ParseInt(req.Headers["x-slack-request-timestamp"], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			if got := slacktestx.Signature(testSecret, ts, body); got != req.Headers["x-slack-signature"] {
				t.Fatalf("stored signature does not match the body under the test secret")
			}

			f := newFixture(t)
			// As stored, the timestamp is stale: refused.
			if resp, _ := f.app.Handle(f.ctx, req); resp.StatusCode != 401 {
				t.Errorf("stale sample: status %d, want 401", resp.StatusCode)
			}
			now := time.Now().Unix()
			req.Headers["x-slack-request-timestamp"] = strconv.FormatInt(now, 10)
			req.Headers["x-slack-signature"] = slacktestx.Signature(testSecret, now, body)
			resp, err := f.app.Handle(f.ctx, req)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("re-signed sample: %d %s %v", resp.StatusCode, resp.Body, err)
			}
			seen := resp.Body
			for _, c := range f.slack.Calls() {
				seen += "\n" + c.Text() + c.Param("text")
			}
			if !strings.Contains(seen, s.want) {
				t.Errorf("answer and Slack calls do not contain %q:\n%s", s.want, seen)
			}
		})
	}
}

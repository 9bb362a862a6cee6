package slackapp_test

import (
	"testing"
	"time"

	"github.com/orgcredit/orgcredit/internal/slackapp"
	"github.com/orgcredit/orgcredit/internal/slacktestx"
)

var fuzzPaths = []string{slackapp.PathCommands, slackapp.PathInteractions, slackapp.PathEvents}

// FuzzVerifyAndParse: whatever the body, the app never panics, answers a
// correctly signed request with something other than 401 (plain or
// base64), and refuses the same request with its body altered by one byte.
// The seed corpus is in testdata/fuzz/FuzzVerifyAndParse; run
// `go test ./internal/slackapp -run '^$' -fuzz FuzzVerifyAndParse -fuzztime 30s`.
func FuzzVerifyAndParse(f *testing.F) {
	for _, s := range samples {
		for i, p := range fuzzPaths {
			if p == s.path {
				f.Add(uint8(i), s.body, uint16(7))
			}
		}
	}
	f.Add(uint8(1), slacktestx.InteractionBody(submitPayload(dina, org, "sari")), uint16(40))
	f.Add(uint8(0), []byte("command=%2Fbilling&text=%ZZ"), uint16(0))
	f.Add(uint8(2), []byte(`{"type":"event_callback","event":{"type":"app_home_opened"}}`), uint16(3))
	f.Add(uint8(1), []byte("payload=%7B%22type%22%3A%22block_actions%22%7D"), uint16(1))

	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, which uint8, body []byte, at uint16) {
		path := fuzzPaths[int(which)%len(fuzzPaths)]
		now := time.Now()
		for _, b64 := range []bool{false, true} {
			resp, err := fx.app.Handle(fx.ctx, slacktestx.Request(testSecret, now, path, formType, body, b64))
			if err != nil {
				t.Fatalf("Handle returned an error (Lambda would answer 500): %v", err)
			}
			if resp.StatusCode == 401 {
				t.Fatalf("a correctly signed request was refused: %s", resp.Body)
			}
		}
		if len(body) == 0 {
			return
		}
		tampered := append([]byte(nil), body...)
		tampered[int(at)%len(tampered)] ^= 0x01
		req := slacktestx.Request(testSecret, now, path, formType, body, false)
		req.Body = string(tampered)
		resp, err := fx.app.Handle(fx.ctx, req)
		if err != nil || resp.StatusCode != 401 {
			t.Fatalf("a tampered body was not refused: status %d, err %v", resp.StatusCode, err)
		}
		extended := slacktestx.Request(testSecret, now, path, formType, body, false)
		extended.Body += " "
		if resp, _ := fx.app.Handle(fx.ctx, extended); resp.StatusCode != 401 {
			t.Fatalf("a body with a byte appended was not refused: status %d", resp.StatusCode)
		}
	})
}

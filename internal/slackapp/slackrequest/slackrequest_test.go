package slackrequest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/orgcredit/orgcredit/internal/slackapp"
)

const secret = "8f742231b10e8888abcd99yyyzzz85a5"

var demo = Identity{Team: DefaultTeam, User: DefaultUser, Org: DefaultOrg}

// verify checks a request's signature as the app does, with slack-go's
// verifier (internal/slackapp.verify wraps it).
func verify(h http.Header, body []byte, secret string) error {
	v, err := slack.NewSecretsVerifier(h, secret)
	if err != nil {
		return err
	}
	if _, err := v.Write(body); err != nil {
		return err
	}
	return v.Ensure()
}

// TestSignature: the signature is Slack's v0 scheme (the worked example of
// Slack's "Verifying requests from Slack" gives the same value), and
// slack-go's verifier takes it only with the right secret, body and a
// fresh timestamp.
func TestSignature(t *testing.T) {
	slackExample := "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	if got, want := Signature(secret, 1531420618, []byte(slackExample)), "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"; got != want {
		t.Errorf("Signature of Slack's example = %s, want %s", got, want)
	}
	body := []byte("token=x&team_id=T0ACME&command=%2Fbilling&text=status")
	now := time.Now()
	tests := []struct {
		name   string
		mutate func(h http.Header, body []byte) []byte
		ok     bool
	}{
		{"as signed", func(http.Header, []byte) []byte { return body }, true},
		{"other body", func(_ http.Header, b []byte) []byte { return append(bytes.Clone(b), '&') }, false},
		{"other secret", func(h http.Header, b []byte) []byte {
			h.Set("X-Slack-Signature", Signature("other", now.Unix(), b))
			return b
		}, false},
		{"stale", func(h http.Header, b []byte) []byte {
			old := now.Add(-10 * time.Minute).Unix()
			h.Set("X-Slack-Request-Timestamp", strconv.FormatInt(old, 10))
			h.Set("X-Slack-Signature", Signature(secret, old, b))
			return b
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := Request{Path: slackapp.PathCommands, ContentType: formType, Body: body}.HTTP(context.Background(), DefaultURL, secret, now)
			if err != nil {
				t.Fatal(err)
			}
			if req.URL.String() != DefaultURL+slackapp.PathCommands || req.Method != http.MethodPost || req.Header.Get("Content-Type") != formType {
				t.Fatalf("request = %s %s %v", req.Method, req.URL, req.Header)
			}
			sent, _ := io.ReadAll(req.Body)
			if !bytes.Equal(sent, body) {
				t.Fatalf("body sent = %q", sent)
			}
			got := tt.mutate(req.Header, sent)
			if err := verify(req.Header, got, secret); (err == nil) != tt.ok {
				t.Errorf("verify = %v, want ok %v", err, tt.ok)
			}
		})
	}
	if _, err := (Request{}).HTTP(context.Background(), DefaultURL, "", now); err == nil {
		t.Error("signed with no secret")
	}
}

// TestBuild: each request is what Slack sends, as slack-go (which the app
// parses with) reads it.
func TestBuild(t *testing.T) {
	interaction := func(t *testing.T, r Request) slack.InteractionCallback {
		t.Helper()
		if r.Path != slackapp.PathInteractions || r.ContentType != formType {
			t.Fatalf("interaction to %s as %s", r.Path, r.ContentType)
		}
		v, err := url.ParseQuery(string(r.Body))
		if err != nil || len(v) != 1 {
			t.Fatalf("form %v, %v: want one field, payload", v, err)
		}
		var ic slack.InteractionCallback
		if err := json.Unmarshal([]byte(v.Get("payload")), &ic); err != nil {
			t.Fatal(err)
		}
		if ic.Team.ID != demo.Team || ic.User.ID == "" || ic.User.TeamID != demo.Team || ic.APIAppID == "" {
			t.Errorf("interaction team %q user %+v app %q", ic.Team.ID, ic.User, ic.APIAppID)
		}
		return ic
	}

	t.Run("command", func(t *testing.T) {
		for _, tt := range []struct{ line, command, text string }{
			{"/billing status", "/billing", "status"},
			{"  /billing   audit 5 ", "/billing", "audit 5"},
			{"/credit", "/credit", ""},
		} {
			r, err := Command(demo, tt.line)
			if err != nil {
				t.Fatalf("%q: %v", tt.line, err)
			}
			v, _ := url.ParseQuery(string(r.Body))
			if r.Path != slackapp.PathCommands || v.Get("command") != tt.command || v.Get("text") != tt.text ||
				v.Get("team_id") != "T0ACME" || v.Get("user_id") != "U0DINA" || v.Get("trigger_id") == "" || v.Get("channel_id") == "" {
				t.Errorf("%q: %s %v", tt.line, r.Path, v)
			}
		}
		for _, bad := range []string{"", "billing status", "/"} {
			if _, err := Command(demo, bad); err == nil {
				t.Errorf("Command(%q) accepted", bad)
			}
		}
	})

	t.Run("home", func(t *testing.T) {
		r := HomeOpened(Identity{Team: "T0ACME", User: "U0SARI", Org: "acme"})
		ev, err := slackevents.ParseEvent(json.RawMessage(r.Body), slackevents.OptionNoVerifyToken())
		if err != nil {
			t.Fatal(err)
		}
		home, ok := ev.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent)
		if r.Path != slackapp.PathEvents || r.ContentType != "application/json" || ev.Type != slackevents.CallbackEvent || ev.TeamID != "T0ACME" ||
			!ok || home.User != "U0SARI" || home.Tab != "home" {
			t.Errorf("home = %s %s %+v %+v", r.Path, r.ContentType, ev, home)
		}
	})

	t.Run("transfer", func(t *testing.T) {
		ic := interaction(t, TransferSubmission(demo, "sari"))
		if ic.Type != slack.InteractionTypeViewSubmission || ic.View.CallbackID != "billing_transfer" || ic.View.PrivateMetadata != "acme" || ic.User.ID != "U0DINA" {
			t.Errorf("submission = %s %q %q by %s", ic.Type, ic.View.CallbackID, ic.View.PrivateMetadata, ic.User.ID)
		}
		if ic.View.State == nil {
			t.Fatal("no state")
		}
		if got := ic.View.State.Values["recipient"]["recipient"].SelectedOption.Value; got != "sari" {
			t.Errorf("chosen = %q, want sari", got)
		}
	})

	t.Run("clicks", func(t *testing.T) {
		sari := Identity{Team: "T0ACME", User: "U0SARI", Org: "acme"}
		for _, tt := range []struct {
			button, transfer, action, value string
		}{
			{"accept", "tr_1", "transfer_accept", "acme|tr_1"},
			{"decline", "tr_1", "transfer_decline", "acme|tr_1"},
			{"cancel", "tr_1", "transfer_cancel", "acme|tr_1"},
			{"accept", "globex|tr_2", "transfer_accept", "globex|tr_2"},
		} {
			r, err := Click(sari, tt.button, tt.transfer)
			if err != nil {
				t.Fatal(err)
			}
			ic := interaction(t, r)
			acts := ic.ActionCallback.BlockActions
			if ic.Type != slack.InteractionTypeBlockActions || len(acts) != 1 || acts[0].ActionID != tt.action || acts[0].Value != tt.value ||
				acts[0].BlockID != "transfer_actions" || ic.User.ID != "U0SARI" || ic.Channel.ID != "D0SARI" {
				t.Errorf("%s %s: %s %+v by %s in %s", tt.button, tt.transfer, ic.Type, acts, ic.User.ID, ic.Channel.ID)
			}
		}
		for _, bad := range []struct{ button, transfer string }{{"accept", ""}, {"accept", "acme|"}, {"accept", "|tr_1"}, {"approve", "tr_1"}} {
			if _, err := Click(sari, bad.button, bad.transfer); err == nil {
				t.Errorf("Click(%q, %q) accepted", bad.button, bad.transfer)
			}
		}
	})

	t.Run("file", func(t *testing.T) {
		files, _ := filepath.Glob("../../../events/slack/*.json")
		if len(files) < 5 {
			t.Fatalf("samples: %v", files)
		}
		for _, f := range files {
			r, err := FromFile(f)
			if err != nil {
				t.Fatal(err)
			}
			// The samples are signed with the documented test secret at a
			// fixed time: the decoded body is what was signed.
			var ev struct {
				Headers map[string]string `json:"headers"`
			}
			raw := mustRead(t, f)
			_ = json.Unmarshal(raw, &ev)
			ts, _ := strconv.ParseInt(ev.Headers["x-slack-request-timestamp"], 10, 64)
			if got := Signature(secret, ts, r.Body); got != ev.Headers["x-slack-signature"] {
				t.Errorf("%s: body read is not the body signed", f)
			}
			if !strings.HasPrefix(r.Path, "/slack/") || r.ContentType == "" {
				t.Errorf("%s: to %q as %q", f, r.Path, r.ContentType)
			}
		}
		if _, err := FromFile("testdata/none.json"); err == nil {
			t.Error("a missing file was read")
		}
	})
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// received is what a test server got.
type received struct {
	mu   sync.Mutex
	reqs []*http.Request
	body [][]byte
}

// TestMainCommand drives the command line against a server that verifies as the
// app does: exit codes, usage, the printed answer.
func TestMainCommand(t *testing.T) {
	got := &received{}
	status := http.StatusOK
	answer := `{"response_type":"ephemeral","text":"You hold Billing of *Acme*."}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.mu.Lock()
		got.reqs, got.body = append(got.reqs, r), append(got.body, b)
		got.mu.Unlock()
		if err := verify(r.Header, b, secret); err != nil {
			http.Error(w, "invalid Slack signature", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	defer srv.Close()

	env := map[string]string{"SLACK_SIGNING_SECRET": secret}
	getenv := func(k string) string { return env[k] }
	tests := []struct {
		name     string
		args     []string
		noEnv    bool
		code     int
		stdout   string // contained in stdout
		stderr   string // contained in stderr
		path     string // the request's path, "" when none was sent
		formKey  string // a form field of the request...
		formWant string // ...and its value
	}{
		{"command", []string{"command", "/billing", "status"}, false, 0, "→ 200 OK\n{\n  \"response_type\": \"ephemeral\"", "", "/slack/commands", "text", "status"},
		{"quoted command", []string{"-user", "U0SARI", "command", "/billing status"}, false, 0, "200", "", "/slack/commands", "user_id", "U0SARI"},
		{"secret flag", []string{"-secret", secret, "home"}, true, 0, "200", "", "/slack/events", "", ""},
		{"transfer", []string{"transfer", "sari"}, false, 0, "200", "", "/slack/interactions", "", ""},
		{"accept", []string{"-user", "U0SARI", "accept", "tr_1"}, false, 0, "200", "", "/slack/interactions", "", ""},
		{"file", []string{"file", "../../../events/slack/url_verification.json"}, false, 0, "200", "", "/slack/events", "", ""},
		{"wrong secret", []string{"-secret", "nope", "home"}, false, 1, "401 Unauthorized\ninvalid Slack signature", "is -secret the local server's", "/slack/events", "", ""},
		{"no secret", []string{"home"}, true, 2, "", "no signing secret", "", "", ""},
		{"no subcommand", nil, false, 2, "", "usage: slack-request", "", "", ""},
		{"unknown", []string{"approve", "tr_1"}, false, 2, "", `unknown subcommand "approve"`, "", "", ""},
		{"missing id", []string{"accept"}, false, 2, "", "usage: slack-request [flags] accept <transfer-id>", "", "", ""},
		{"extra args", []string{"transfer", "sari", "ravi"}, false, 2, "", "wrong number of arguments", "", "", ""},
		{"not a command", []string{"command", "billing"}, false, 2, "", "not a slash command", "", "", ""},
		{"flag after subcommand", []string{"home", "-user", "U0SARI"}, false, 2, "", "Flags go before", "", "", ""},
		{"help", []string{"-help"}, false, 0, "", "Subcommands (each takes --help)", "", "", ""},
		{"subcommand help", []string{"transfer", "--help"}, false, 0, "", "member ids (sari", "", "", ""},
		{"subcommand help word", []string{"file", "help"}, false, 0, "", "isBase64Encoded", "", "", ""},
		{"missing file", []string{"file", "nope.json"}, false, 2, "", "nope.json", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got.mu.Lock()
			got.reqs, got.body = nil, nil
			got.mu.Unlock()
			var stdout, stderr bytes.Buffer
			ge := getenv
			if tt.noEnv {
				ge = func(string) string { return "" }
			}
			code := Main(context.Background(), append([]string{"-url", srv.URL}, tt.args...), ge, &stdout, &stderr, srv.Client())
			if code != tt.code || !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s\nwant stdout ∋ %q, stderr ∋ %q", code, tt.code, stdout.String(), stderr.String(), tt.stdout, tt.stderr)
			}
			got.mu.Lock()
			defer got.mu.Unlock()
			switch {
			case tt.path == "" && len(got.reqs) != 0:
				t.Errorf("sent %d requests, want none", len(got.reqs))
			case tt.path != "" && (len(got.reqs) != 1 || got.reqs[0].URL.Path != tt.path):
				t.Errorf("sent %d requests, want one to %s", len(got.reqs), tt.path)
			case tt.formKey != "":
				v, _ := url.ParseQuery(string(got.body[0]))
				if v.Get(tt.formKey) != tt.formWant {
					t.Errorf("%s = %q, want %q", tt.formKey, v.Get(tt.formKey), tt.formWant)
				}
			}
		})
	}

	// A 5xx answer is a failure too, printed in full.
	status, answer = http.StatusInternalServerError, "boom"
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"-url", srv.URL, "home"}, getenv, &stdout, &stderr, srv.Client()); code != 1 || !strings.Contains(stdout.String(), "500 Internal Server Error\nboom") {
		t.Errorf("500: exit %d, stdout %s", code, stdout.String())
	}
	// No server: a failure that says where it posted.
	srv.Close()
	stdout.Reset()
	stderr.Reset()
	if code := Main(context.Background(), []string{"-url", srv.URL, "home"}, getenv, &stdout, &stderr, nil); code != 1 || !strings.Contains(stderr.String(), "is the local server running?") {
		t.Errorf("no server: exit %d, stderr %s", code, stderr.String())
	}
}

// Package slacktestx extends slack-go's slacktest server with the Web API
// methods the Slack app uses (views.open, views.publish, views.update,
// chat.postMessage, chat.update, chat.postEphemeral, conversations.open,
// and for installs oauth.v2.access and auth.test) and records every call
// with the token it was made with, so tests drive the real slack-go client
// against a real HTTP server and assert on what the app sent, and as whom. Like Slack, it checks
// every view and message it receives against Block Kit's limits and rules
// (internal/slackapp/blockkit) and refuses one that breaks them with
// Slack's error; it also fails the test that sent it. It also signs
// requests the way Slack does. It is imported by tests only.
package slacktestx

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"

	"github.com/orgcredit/orgcredit/internal/slackapp/blockkit"
	"github.com/orgcredit/orgcredit/internal/slackapp/slackrequest"
)

// Call is one Web API call the server received.
type Call struct {
	Method string     // "chat.postMessage", without the leading slash
	Form   url.Values // form-encoded parameters (chat.*, conversations.*)
	JSON   map[string]json.RawMessage
	// Token is the token the call was made with: the bearer of its
	// Authorization header (slack-go's JSON calls) or its token form field
	// (form calls); empty when it had none.
	Token string
	// Invalid holds the Block Kit violations of the call's view or
	// message (blockkit.Violations), nil when Slack would accept it. An
	// invalid call is answered with Slack's error and fails the test.
	Invalid error
}

// Param returns a parameter of the call, from the form or, for JSON calls,
// a top-level string field.
func (c Call) Param(name string) string {
	if v := c.Form.Get(name); v != "" {
		return v
	}
	if raw, ok := c.JSON[name]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return string(raw)
	}
	return ""
}

// View decodes the "view" of views.open, views.publish and views.update.
func (c Call) View() (slack.View, error) {
	var v slack.View
	raw, ok := c.JSON["view"]
	if !ok {
		if s := c.Form.Get("view"); s != "" {
			raw = json.RawMessage(s)
		} else {
			return v, fmt.Errorf("%s has no view", c.Method)
		}
	}
	err := json.Unmarshal(raw, &v)
	return v, err
}

// Blocks decodes the blocks of a message call, or of a view call's view.
func (c Call) Blocks() (slack.Blocks, error) {
	if s := c.Form.Get("blocks"); s != "" {
		var b slack.Blocks
		err := json.Unmarshal([]byte(s), &b)
		return b, err
	}
	if _, ok := c.JSON["view"]; ok {
		v, err := c.View()
		return v.Blocks, err
	}
	if raw, ok := c.JSON["blocks"]; ok {
		var b slack.Blocks
		err := json.Unmarshal(raw, &b)
		return b, err
	}
	return slack.Blocks{}, nil
}

// Text returns everything readable in the call: the text parameter and
// the raw blocks or view, for assertions on wording.
func (c Call) Text() string {
	var b strings.Builder
	b.WriteString(c.Form.Get("text"))
	b.WriteString("\n")
	b.WriteString(c.Form.Get("blocks"))
	for _, k := range []string{"text", "blocks", "view"} {
		if raw, ok := c.JSON[k]; ok {
			b.WriteString("\n")
			b.Write(raw)
		}
	}
	// encoding/json escapes <, > and & in JSON bodies; undo it so that
	// assertions can look for Slack mentions such as <@U123>.
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(b.String())
}

// HasTransferButtons reports whether the call's blocks hold a live button
// of a Billing transfer (Accept, Decline, Cancel request).
func (c Call) HasTransferButtons() bool {
	for _, s := range []string{c.Form.Get("blocks"), string(c.JSON["view"]), string(c.JSON["blocks"])} {
		if strings.Contains(s, `"action_id":"transfer_accept"`) || strings.Contains(s, `"action_id":"transfer_decline"`) ||
			strings.Contains(s, `"action_id":"transfer_cancel"`) {
			return true
		}
	}
	return false
}

// upload takes a file's bytes at its upload URL, and records them as a
// call of method "upload" (the body in Form "bytes").
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: "upload", Form: url.Values{"file_id": {strings.TrimPrefix(r.URL.Path, uploadPath)}, "bytes": {string(b)}}})
	s.mu.Unlock()
	_, _ = io.WriteString(w, "OK - "+strconv.Itoa(len(b)))
}

// Server is a slacktest server with the extra methods and a call log.
type Server struct {
	*slacktest.Server

	mu    sync.Mutex
	calls []Call
	fail  map[string]string // method → Slack error for its next call
	hang  map[string]bool   // method → its next call never answers
	seq   int

	t        testing.TB
	tolerate bool // invalid payloads are answered with Slack's error only

	oauth oauthState // oauth.v2.access and auth.test (oauth.go)
}

// Methods are the Web API methods the server answers beyond slacktest's.
var Methods = []string{
	"views.open", "views.publish", "views.update",
	"chat.postMessage", "chat.update", "chat.postEphemeral",
	"conversations.open",
	"files.getUploadURLExternal", "files.completeUploadExternal", "files.delete",
	"oauth.v2.access", "auth.test",
}

// uploadPath is where the server takes a file's bytes, as Slack's upload
// URL does (the client posts them between getUploadURLExternal and
// completeUploadExternal).
const uploadPath = "/upload/"

// New starts a server and stops it when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{fail: map[string]string{}, hang: map[string]bool{}, t: t, oauth: newOAuthState()}
	// slacktest registers its own handlers after the binders and keeps the
	// first registration, so these override its chat.postMessage (whose
	// timestamps repeat within a second) and add the missing methods.
	s.Server = slacktest.NewTestServer(func(c slacktest.Customize) {
		for _, m := range Methods {
			c.Handle("/"+m, s.handler(m))
		}
		c.Handle(uploadPath, s.upload)
	})
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

// Client returns slack-go's client talking to this server.
func (s *Server) Client() *slack.Client {
	return slack.New("xoxb-test-token", slack.OptionAPIURL(s.GetAPIURL()))
}

// Calls returns the recorded calls, only those of the given methods when
// any are named, in the order they arrived.
func (s *Server) Calls(methods ...string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if len(methods) == 0 || contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

// Reset forgets the recorded calls.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// FailNext makes the next call of method answer {"ok":false,"error":slackErr}.
func (s *Server) FailNext(method, slackErr string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[method] = slackErr
}

// TolerateInvalid stops the server from failing the test when the app
// sends a view or message that breaks Block Kit's limits; such calls are
// still answered with Slack's error and recorded with Call.Invalid. For
// tests of how the app handles that error.
func (s *Server) TolerateInvalid() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tolerate = true
}

// HangNext makes the next call of method never answer (until the caller
// gives up), as a Slack that is down or slow would.
func (s *Server) HangNext(method string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hang[method] = true
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (s *Server) handler(method string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c := Call{Method: method, Form: url.Values{}}
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct == "application/json" {
			if err := json.Unmarshal(body, &c.JSON); err != nil {
				http.Error(w, "bad JSON: "+err.Error(), http.StatusBadRequest)
				return
			}
		} else if c.Form, err = url.ParseQuery(string(body)); err != nil {
			http.Error(w, "bad form: "+err.Error(), http.StatusBadRequest)
			return
		}

		c.Token = callToken(r, c)
		c.Invalid = Check(c)

		s.mu.Lock()
		s.calls = append(s.calls, c)
		s.seq++
		seq := s.seq
		slackErr, failing := s.fail[method]
		delete(s.fail, method)
		hanging := s.hang[method]
		delete(s.hang, method)
		tolerate := s.tolerate
		s.mu.Unlock()

		if c.Invalid != nil && !tolerate {
			s.t.Errorf("slacktestx: the app sent %s a payload that breaks Block Kit's limits (answered %s):\n%v", method, refusal(c), c.Invalid)
		}

		if hanging {
			<-r.Context().Done() // the client gave up
			return
		}

		w.Header().Set("Content-Type", "application/json")
		if failing {
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": slackErr})
			return
		}
		if c.Token == "" && method != "oauth.v2.access" {
			// Slack refuses a call that carries no token.
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "not_authed"})
			return
		}
		if s.revoked(c.Token) {
			// Slack refuses every call made with a revoked token.
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "token_revoked"})
			return
		}
		if c.Invalid != nil {
			_ = json.NewEncoder(w).Encode(refuse(c))
			return
		}
		switch method {
		case "oauth.v2.access":
			_ = json.NewEncoder(w).Encode(s.exchange(r, c))
		case "auth.test":
			_ = json.NewEncoder(w).Encode(s.authTest(c))
		default:
			_ = json.NewEncoder(w).Encode(answer(c, seq, s.GetAPIURL()))
		}
	}
}

// Check checks what a call asks Slack to show against Block Kit's limits
// and rules: the view of views.open, views.push, views.update and
// views.publish, the text and blocks of chat.postMessage, chat.update and
// chat.postEphemeral. It returns blockkit.Violations or nil; calls of other
// methods are not checked.
func Check(c Call) error {
	var kind blockkit.Kind
	switch c.Method {
	case "views.open", "views.push", "views.update", "views.publish":
		kind = blockkit.ViewRequest
	case "chat.postMessage", "chat.update", "chat.postEphemeral":
		kind = blockkit.Message
	default:
		return nil
	}
	if c.JSON != nil {
		return blockkit.ValidateAs(kind, c.JSON)
	}
	// Form-encoded: the structured arguments are JSON text in the form.
	payload := map[string]any{}
	for k, vs := range c.Form {
		if len(vs) == 0 {
			continue
		}
		switch k {
		case "view", "blocks", "attachments":
			if !json.Valid([]byte(vs[0])) {
				return blockkit.Violations{{Path: k, Pointer: "/" + k, Message: "not JSON"}}
			}
			payload[k] = json.RawMessage(vs[0])
		default:
			payload[k] = vs[0]
		}
	}
	return blockkit.ValidateAs(kind, payload)
}

// refusal is the error Slack answers a call that Check refuses with:
// invalid_arguments for a view, msg_too_long for a message whose only
// fault is its text's length, invalid_blocks for other messages.
func refusal(c Call) string {
	if strings.HasPrefix(c.Method, "views.") {
		return "invalid_arguments"
	}
	var vs blockkit.Violations
	if errors.As(c.Invalid, &vs) && len(vs) == 1 && vs[0].Path == "text" && strings.Contains(vs[0].Message, "the limit is") {
		return "msg_too_long"
	}
	return "invalid_blocks"
}

// refuse is Slack's answer to an invalid call: the error, and each
// violation as Slack words them, "[ERROR] <what> [json-pointer:/blocks/0/text/text]",
// in errors and response_metadata.messages.
func refuse(c Call) map[string]any {
	var vs blockkit.Violations
	if !errors.As(c.Invalid, &vs) {
		vs = blockkit.Violations{{Message: c.Invalid.Error()}}
	}
	errs := make([]string, len(vs))
	messages := make([]string, len(vs))
	for i, v := range vs {
		errs[i] = fmt.Sprintf("%s [json-pointer:%s]", v.Message, v.Pointer)
		messages[i] = "[ERROR] " + errs[i]
	}
	return map[string]any{
		"ok":                false,
		"error":             refusal(c),
		"errors":            errs,
		"response_metadata": map[string]any{"messages": messages},
	}
}

// CheckAnswer checks the app's HTTP answer to the Slack request body as
// Slack would read it, against Block Kit's limits and rules: a slash
// command's JSON answer as a message, a view_submission's as a
// view_submission response, a block_suggestion's as an options answer.
// It reports violations with t.Errorf and returns them. Empty answers,
// answers that are not JSON, and answers to events and other interactions
// are not checked.
func CheckAnswer(t testing.TB, body []byte, resp events.APIGatewayV2HTTPResponse) error {
	t.Helper()
	ct, _, _ := mime.ParseMediaType(resp.Headers["Content-Type"])
	if resp.StatusCode != http.StatusOK || resp.Body == "" || ct != "application/json" {
		return nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil // an event's JSON
	}
	var kind blockkit.Kind
	switch {
	case form.Get("payload") != "":
		var p struct {
			Type string `json:"type"`
		}
		if json.Unmarshal([]byte(form.Get("payload")), &p) != nil {
			return nil
		}
		switch p.Type {
		case "view_submission":
			kind = blockkit.ViewSubmissionResponse
		case "block_suggestion":
			kind = blockkit.Options
		default:
			return nil
		}
	case form.Get("command") != "":
		kind = blockkit.Message
	default:
		return nil
	}
	err = blockkit.ValidateAs(kind, []byte(resp.Body))
	if err != nil {
		t.Errorf("slacktestx: the app's answer (a %s) breaks Block Kit's limits:\n%v\nanswer: %s", kind, err, blockkit.Truncate(resp.Body, 300))
	}
	return err
}

// answer is what Slack answers to a successful call, as far as the client
// reads it.
func answer(c Call, seq int, apiURL string) map[string]any {
	ts := fmt.Sprintf("1700000000.%06d", seq)
	switch c.Method {
	case "conversations.open":
		// A user's DM channel id, stable per user as in Slack.
		users := c.Form.Get("users")
		return map[string]any{"ok": true, "channel": map[string]any{"id": "D" + strings.TrimPrefix(users, "U")}}
	case "chat.postMessage":
		return map[string]any{"ok": true, "channel": c.Form.Get("channel"), "ts": ts, "message": map[string]any{"text": c.Form.Get("text"), "ts": ts}}
	case "chat.update":
		return map[string]any{"ok": true, "channel": c.Form.Get("channel"), "ts": c.Form.Get("ts"), "text": c.Form.Get("text")}
	case "chat.postEphemeral":
		return map[string]any{"ok": true, "message_ts": ts}
	case "files.getUploadURLExternal":
		id := fmt.Sprintf("F%06d", seq)
		return map[string]any{"ok": true, "file_id": id, "upload_url": apiURL + strings.TrimPrefix(uploadPath, "/") + id}
	case "files.completeUploadExternal":
		var files []map[string]any
		_ = json.Unmarshal([]byte(c.Form.Get("files")), &files)
		return map[string]any{"ok": true, "files": files}
	case "files.delete":
		return map[string]any{"ok": true}
	default: // views.*
		view := map[string]any{"id": fmt.Sprintf("V%06d", seq)}
		if raw, ok := c.JSON["view"]; ok {
			var v map[string]any
			if json.Unmarshal(raw, &v) == nil {
				v["id"] = view["id"]
				view = v
			}
		}
		return map[string]any{"ok": true, "view": view}
	}
}

// Signature computes Slack's v0 request signature of body at timestamp ts,
// as slack-request signs its requests.
func Signature(secret string, ts int64, body []byte) string {
	return slackrequest.Signature(secret, ts, body)
}

// Request builds the API Gateway v2 event Slack's POST to path becomes,
// signed with secret at ts, with lower-cased header names as API Gateway
// delivers them. With b64 the body is base64-encoded as API Gateway does
// for some content types.
func Request(secret string, ts time.Time, path, contentType string, body []byte, b64 bool) events.APIGatewayV2HTTPRequest {
	req := events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: "POST " + path,
		RawPath:  path,
		Headers: map[string]string{
			"content-type":              contentType,
			"x-slack-request-timestamp": strconv.FormatInt(ts.Unix(), 10),
			"x-slack-signature":         Signature(secret, ts.Unix(), body),
		},
		Body: string(body),
	}
	req.Headers["user-agent"] = "Slackbot 1.0 (+https://api.slack.com/robots)"
	req.RequestContext.RouteKey = req.RouteKey
	req.RequestContext.Stage = "$default"
	req.RequestContext.HTTP.Method = http.MethodPost
	req.RequestContext.HTTP.Path = path
	req.RequestContext.HTTP.Protocol = "HTTP/1.1"
	req.RequestContext.HTTP.UserAgent = req.Headers["user-agent"]
	if b64 {
		req.Body = base64.StdEncoding.EncodeToString(body)
		req.IsBase64Encoded = true
	}
	return req
}

// Form encodes a slash command or interaction body.
func Form(kv ...string) []byte {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return []byte(v.Encode())
}

// InteractionBody encodes an interaction payload as Slack posts it: a form
// with one field, payload, holding the JSON.
func InteractionBody(payload any) []byte {
	b, err := json.Marshal(payload)
	if err != nil {
		panic(err)
	}
	return Form("payload", string(b))
}

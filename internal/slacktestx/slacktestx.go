// Package slacktestx extends slack-go's slacktest server with the Web API
// methods the Slack app uses (views.open, views.publish, views.update,
// chat.postMessage, chat.update, chat.postEphemeral, conversations.open)
// and records every call, so tests drive the real slack-go client against
// a real HTTP server and assert on what the app sent. It also signs
// requests the way Slack does. It is imported by tests only.
package slacktestx

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
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
)

// Call is one Web API call the server received.
type Call struct {
	Method string     // "chat.postMessage", without the leading slash
	Form   url.Values // form-encoded parameters (chat.*, conversations.*)
	JSON   map[string]json.RawMessage
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

// HasButtons reports whether the call's blocks hold any button.
func (c Call) HasButtons() bool {
	return strings.Contains(c.Form.Get("blocks"), `"type":"button"`) ||
		strings.Contains(string(c.JSON["view"]), `"type":"button"`)
}

// Server is a slacktest server with the extra methods and a call log.
type Server struct {
	*slacktest.Server

	mu    sync.Mutex
	calls []Call
	fail  map[string]string // method → Slack error for its next call
	hang  map[string]bool   // method → its next call never answers
	seq   int
}

// Methods are the Web API methods the server answers beyond slacktest's.
var Methods = []string{
	"views.open", "views.publish", "views.update",
	"chat.postMessage", "chat.update", "chat.postEphemeral",
	"conversations.open",
}

// New starts a server and stops it when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{fail: map[string]string{}, hang: map[string]bool{}}
	// slacktest registers its own handlers after the binders and keeps the
	// first registration, so these override its chat.postMessage (whose
	// timestamps repeat within a second) and add the missing methods.
	s.Server = slacktest.NewTestServer(func(c slacktest.Customize) {
		for _, m := range Methods {
			c.Handle("/"+m, s.handler(m))
		}
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

		s.mu.Lock()
		s.calls = append(s.calls, c)
		s.seq++
		seq := s.seq
		slackErr, failing := s.fail[method]
		delete(s.fail, method)
		hanging := s.hang[method]
		delete(s.hang, method)
		s.mu.Unlock()

		if hanging {
			<-r.Context().Done() // the client gave up
			return
		}

		w.Header().Set("Content-Type", "application/json")
		if failing {
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": slackErr})
			return
		}
		_ = json.NewEncoder(w).Encode(answer(c, seq))
	}
}

// answer is what Slack answers to a successful call, as far as the client
// reads it.
func answer(c Call, seq int) map[string]any {
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

// Signature computes Slack's v0 request signature of body at timestamp ts.
func Signature(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%d:", ts)
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
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

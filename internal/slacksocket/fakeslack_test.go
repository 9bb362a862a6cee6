package slacksocket_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/orgcredit/orgcredit/internal/slacksocket"
)

// appToken is the app-level token the fake Slack accepts.
const appToken = "xapp-1-A0TEST-1-fake"

// fakeSlack is Slack's side of Socket Mode: the Web API method
// apps.connections.open, answering a ws:// URL, and the WebSocket behind
// it, which says hello, lets the test send envelopes and records every ack
// the app sends back.
type fakeSlack struct {
	t      testing.TB
	srv    *httptest.Server
	opens  atomic.Int32 // apps.connections.open calls
	conns  chan *fakeConn
	acks   chan gotAck
	closed chan struct{} // a connection was closed by the app
}

// fakeConn is one WebSocket connection; writes are serialized.
type fakeConn struct {
	mu sync.Mutex
	ws *websocket.Conn
}

// gotAck is an ack as it arrived.
type gotAck struct {
	EnvelopeID string          `json:"envelope_id"`
	Payload    json.RawMessage `json:"payload"`
	At         time.Time       `json:"-"`
	Raw        string          `json:"-"`
}

func newFakeSlack(t testing.TB) *fakeSlack {
	t.Helper()
	f := &fakeSlack{t: t, conns: make(chan *fakeConn, 4), acks: make(chan gotAck, 100), closed: make(chan struct{}, 4)}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer "+appToken {
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		n := f.opens.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "url": fmt.Sprintf("ws://%s/link/?ticket=%d", r.Host, n)})
	})
	mux.HandleFunc("/link/", func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("fake Slack: upgrade: %v", err)
			return
		}
		c := &fakeConn{ws: ws}
		c.send(t, map[string]any{
			"type": "hello", "num_connections": 1,
			"connection_info": map[string]any{"app_id": "A0TEST"},
			"debug_info":      map[string]any{"host": "fake-applink", "approximate_connection_time": 18060},
		})
		f.conns <- c
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				f.closed <- struct{}{}
				return
			}
			a := gotAck{At: time.Now(), Raw: string(msg)}
			if err := json.Unmarshal(msg, &a); err != nil {
				t.Errorf("fake Slack: the app sent something that is not an ack: %s", msg)
				continue
			}
			f.acks <- a
		}
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (c *fakeConn) send(t testing.TB, v any) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.ws.WriteJSON(v); err != nil {
		t.Errorf("fake Slack: write: %v", err)
	}
}

// envelope sends one envelope as Slack does and returns when it was sent.
func (c *fakeConn) envelope(t testing.TB, typ, id string, payload any) time.Time {
	t.Helper()
	accepts := typ == socketmode.RequestTypeSlashCommands
	if m, ok := payload.(map[string]any); ok && typ == socketmode.RequestTypeInteractive {
		accepts = m["type"] == "view_submission" || m["type"] == "block_suggestion"
	}
	env := map[string]any{"envelope_id": id, "type": typ, "payload": payload, "accepts_response_payload": accepts}
	if typ == socketmode.RequestTypeEventsAPI {
		env["retry_attempt"], env["retry_reason"] = 0, ""
	}
	sent := time.Now()
	c.send(t, env)
	return sent
}

// conn waits for the app's next connection.
func (f *fakeSlack) conn() *fakeConn {
	f.t.Helper()
	select {
	case c := <-f.conns:
		return c
	case <-time.After(5 * time.Second):
		f.t.Fatal("the app did not connect to the fake Slack")
		return nil
	}
}

// waitAcks collects n acks, failing after within.
func (f *fakeSlack) waitAcks(n int, within time.Duration) []gotAck {
	f.t.Helper()
	var out []gotAck
	deadline := time.After(within)
	for len(out) < n {
		select {
		case a := <-f.acks:
			out = append(out, a)
		case <-deadline:
			f.t.Fatalf("got %d acks of %d within %v: %+v", len(out), n, within, out)
		}
	}
	return out
}

// noMoreAcks fails on any ack arriving within d.
func (f *fakeSlack) noMoreAcks(d time.Duration) {
	f.t.Helper()
	select {
	case a := <-f.acks:
		f.t.Errorf("an extra ack arrived: %s", a.Raw)
	case <-time.After(d):
	}
}

// startServer runs the adapter with h against f until the test ends, and
// checks then that it stops cleanly and promptly on cancel.
func startServer(t testing.TB, f *fakeSlack, h slacksocket.Handler, opts ...slacksocket.Option) (stop func()) {
	t.Helper()
	logger := testLogger(t) // its cleanup runs after the server's
	api := slackNew(f, appToken)
	srv := slacksocket.New(socketmode.New(api), h, append([]slacksocket.Option{slacksocket.WithLogger(logger)}, opts...)...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run after cancel: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Error("Run did not return within 5 s of cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// slackNew is slack-go's client on the fake Slack with an app-level token.
func slackNew(f *fakeSlack, token string) *slack.Client {
	return slack.New("xoxb-test", slack.OptionAppLevelToken(token), slack.OptionAPIURL(f.srv.URL+"/api/"))
}

// testLogger logs to the test's output while the test runs.
func testLogger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(w.stop)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.done = true
}

// jsonEqual reports whether a and b are the same JSON value.
func jsonEqual(t testing.TB, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Errorf("not JSON: %s", a)
		return false
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Errorf("not JSON: %s", b)
		return false
	}
	xs, _ := json.Marshal(x)
	ys, _ := json.Marshal(y)
	return string(xs) == string(ys)
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hasPayload tells whether an ack carries a payload.
func (a gotAck) hasPayload() bool {
	p := strings.TrimSpace(string(a.Payload))
	return p != "" && p != "null"
}

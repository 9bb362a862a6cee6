// Package slacksocket serves the Slack app over Socket Mode: Slack's own
// WebSocket, opened by the app with an app-level token, instead of public
// request URLs, so that a laptop can serve a real workspace.
//
// Each envelope Slack sends becomes the request it would have POSTed to
// the HTTP endpoints, and goes through the same handler
// (slackapp.App.ServeVerified):
//
//	slash_commands  the command's fields as a url-encoded form  → /slack/commands
//	interactive     "payload=<the JSON>"                        → /slack/interactions
//	events_api      the event callback JSON as it is            → /slack/events
//
// Every envelope is acknowledged exactly once, with the handler's answer
// as the ack's payload (a command's message, a view submission's
// response_action, an options list), within Slack's 3 seconds: a handler
// that has not answered by then is acknowledged without its answer. An
// envelope that cannot be handled is acknowledged too, and logged.
// Envelopes are served concurrently, so a slow one holds up no other.
// Reconnecting (Slack's "disconnect" requests, dropped connections) is the
// socketmode client's job.
package slacksocket

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/orgcredit/orgcredit/internal/slackapp"
)

// Handler answers a Slack request whose sender is already proven: path is
// slackapp.PathCommands, PathInteractions or PathEvents, body what Slack
// would have posted there. *slackapp.App is one.
type Handler interface {
	ServeVerified(ctx context.Context, path string, body []byte) events.APIGatewayV2HTTPResponse
}

var _ Handler = (*slackapp.App)(nil)

// DefaultAckWithin is how long an envelope waits for its handler before it
// is acknowledged without the handler's answer. Slack allows 3 s from
// sending; the app's own budget is 2.5 s, and the rest is for the network.
const DefaultAckWithin = 2700 * time.Millisecond

// ackSendTimeout bounds the wait to queue an ack on the client when its
// outgoing queue is full (a connection that stopped writing).
const ackSendTimeout = time.Second

// flushGrace is how long the connection stays open at shutdown after the
// last ack was queued: the client writes its queue from its own goroutine
// and has no flush, so closing at once could lose the last acks.
const flushGrace = 250 * time.Millisecond

// Server serves the Slack app over one socketmode client.
type Server struct {
	client    *socketmode.Client
	handler   Handler
	log       *slog.Logger
	ackWithin time.Duration
	inflight  sync.WaitGroup
	lastAck   atomic.Int64 // when the last ack was queued, Unix ns
}

// Option configures a Server.
type Option func(*Server)

// WithLogger sets the logger (default: none).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// WithAckWithin sets how long an envelope waits for its handler before it
// is acknowledged without the answer (default DefaultAckWithin).
func WithAckWithin(d time.Duration) Option { return func(s *Server) { s.ackWithin = d } }

// New serves h over client, made with socketmode.New on a slack.Client that
// carries the app-level token (slack.OptionAppLevelToken).
func New(client *socketmode.Client, h Handler, opts ...Option) *Server {
	s := &Server{client: client, handler: h, ackWithin: DefaultAckWithin}
	for _, o := range opts {
		o(s)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.ackWithin <= 0 {
		s.ackWithin = DefaultAckWithin
	}
	return s
}

// CheckAppToken tells whether token looks like an app-level token, the
// only kind Socket Mode accepts, with a message that says where to find
// one when it does not.
func CheckAppToken(token string) error {
	const where = "create one under Basic Information → App-Level Tokens with the connections:write scope"
	switch {
	case token == "":
		return errors.New("no app-level token; " + where)
	case strings.HasPrefix(token, "xapp-"):
		return nil
	case strings.HasPrefix(token, "xoxb-"), strings.HasPrefix(token, "xoxp-"):
		return fmt.Errorf("this is a %s token, not an app-level token (xapp-...); %s", token[:4], where)
	}
	return errors.New("an app-level token starts with xapp-; " + where)
}

// Run connects and serves until ctx is cancelled, then lets the envelopes
// in flight finish (each within the ack deadline) and closes the
// connection. It returns nil after a cancel, or the client's error when it
// gave up (such as invalid_auth: a wrong or revoked app-level token).
func (s *Server) Run(ctx context.Context) error {
	// The connection outlives ctx by the time the envelopes in flight need
	// to send their acks.
	connCtx, closeConn := context.WithCancel(context.WithoutCancel(ctx))
	defer closeConn()
	done := make(chan error, 1)
	go func() { done <- s.client.RunContext(connCtx) }()

	var runErr error
serve:
	for {
		select {
		case <-ctx.Done():
			break serve
		case runErr = <-done:
			done = nil
			break serve
		case ev := <-s.client.Events:
			s.dispatch(ctx, ev)
		}
	}
	s.inflight.Wait()
	if wait := time.Until(time.Unix(0, s.lastAck.Load()).Add(flushGrace)); wait > 0 && runErr == nil {
		time.Sleep(wait)
	}
	closeConn()
	if done != nil {
		runErr = <-done
	}
	if runErr == nil || errors.Is(runErr, context.Canceled) {
		return nil
	}
	return fmt.Errorf("slack socket mode: %w", runErr)
}

// dispatch serves an envelope in its own goroutine, and logs the client's
// own events.
func (s *Server) dispatch(ctx context.Context, ev socketmode.Event) {
	switch ev.Type {
	case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive, socketmode.EventTypeEventsAPI:
		if ev.Request == nil {
			s.log.WarnContext(ctx, "slack socket: envelope without its request", "type", string(ev.Type))
			return
		}
		req := *ev.Request
		s.inflight.Go(func() { s.serve(ctx, req) })
	case socketmode.EventTypeErrorBadMessage:
		// slack-go could not read the envelope's payload: it still must be
		// acknowledged, or Slack shows the person an error (or retries).
		bad, _ := ev.Data.(*socketmode.ErrorBadMessage)
		var req socketmode.Request
		if bad == nil || json.Unmarshal(bad.Message, &req) != nil || req.EnvelopeID == "" {
			s.log.WarnContext(ctx, "slack socket: unreadable message", "err", errOf(bad))
			return
		}
		s.log.WarnContext(ctx, "slack socket: envelope not handled; acknowledged", "type", req.Type, "envelope_id", req.EnvelopeID, "err", errOf(bad))
		s.inflight.Go(func() { s.ack(ctx, req, nil) })
	case socketmode.EventTypeConnecting:
		s.log.DebugContext(ctx, "slack socket: connecting")
	case socketmode.EventTypeConnected:
		s.log.InfoContext(ctx, "slack socket: connected to Slack over Socket Mode")
	case socketmode.EventTypeHello:
		s.log.DebugContext(ctx, "slack socket: hello")
	case socketmode.EventTypeConnectionError:
		if e, ok := ev.Data.(*slack.ConnectionErrorEvent); ok {
			s.log.ErrorContext(ctx, "slack socket: could not connect; retrying", "attempt", e.Attempt, "retry_in", e.Backoff, "err", e.ErrorObj)
		} else {
			s.log.ErrorContext(ctx, "slack socket: could not connect; retrying")
		}
	case socketmode.EventTypeInvalidAuth:
		s.log.ErrorContext(ctx, "slack socket: Slack refused the app-level token")
	case socketmode.EventTypeIncomingError:
		s.log.WarnContext(ctx, "slack socket: read error", "data", fmt.Sprint(ev.Data))
	case socketmode.EventTypeErrorWriteFailed:
		if e, ok := ev.Data.(*socketmode.ErrorWriteFailed); ok && e.Response != nil {
			s.log.ErrorContext(ctx, "slack socket: an ack was not written", "envelope_id", e.Response.EnvelopeID, "err", e.Cause)
		}
	}
}

func errOf(bad *socketmode.ErrorBadMessage) error {
	if bad == nil {
		return errors.New("no detail")
	}
	return bad.Cause
}

// serve answers one envelope through the handler and acknowledges it, once.
func (s *Server) serve(ctx context.Context, env socketmode.Request) {
	start := time.Now()
	r, err := Translate(env)
	if err != nil {
		s.log.WarnContext(ctx, "slack socket: envelope not handled; acknowledged", "type", env.Type, "envelope_id", env.EnvelopeID, "err", err)
		s.ack(ctx, env, nil)
		return
	}
	// The handler finishes even when the server is stopping (its ack is
	// still sent), but never runs past the ack deadline.
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.ackWithin)
	defer cancel()
	answered := make(chan events.APIGatewayV2HTTPResponse, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				s.log.ErrorContext(ctx, "slack socket: handler panicked", "kind", r.Kind, "panic", fmt.Sprint(p))
				answered <- events.APIGatewayV2HTTPResponse{StatusCode: 500}
			}
		}()
		answered <- s.handler.ServeVerified(hctx, r.Path, r.Body)
	}()

	var payload json.RawMessage
	select {
	case resp := <-answered:
		payload = s.ackPayload(ctx, r, resp)
		s.log.InfoContext(ctx, "slack socket: answered", "kind", r.Kind, "status", resp.StatusCode,
			"took", time.Since(start).Round(time.Millisecond), "envelope_id", env.EnvelopeID)
	case <-hctx.Done():
		s.log.ErrorContext(ctx, "slack socket: no answer in time; acknowledged without it", "kind", r.Kind,
			"after", s.ackWithin, "envelope_id", env.EnvelopeID)
	}
	s.ack(ctx, env, payload)
}

// ackPayload is what of the handler's answer goes back to Slack with the
// ack: the JSON body of a successful answer. A refusal (4xx, 5xx) is
// logged and acknowledged without payload, as a person never reads an
// internal error.
func (s *Server) ackPayload(ctx context.Context, r Request, resp events.APIGatewayV2HTTPResponse) json.RawMessage {
	body := strings.TrimSpace(resp.Body)
	switch {
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		s.log.WarnContext(ctx, "slack socket: handler refused the request", "kind", r.Kind, "status", resp.StatusCode, "body", truncate(body, 200))
		return nil
	case body == "":
		return nil
	case json.Valid([]byte(body)):
		return json.RawMessage(body)
	case r.Path == slackapp.PathCommands:
		// Over HTTP, Slack shows a command's plain-text answer as its
		// message; Socket Mode takes the message as JSON.
		b, _ := json.Marshal(map[string]string{"text": body})
		return b
	}
	s.log.WarnContext(ctx, "slack socket: answer is not JSON; acknowledged without it", "kind", r.Kind, "body", truncate(body, 200))
	return nil
}

// ack acknowledges env, with payload when there is one. Slack drops an ack
// of 20 KB or more, which slack-go refuses to send: such an envelope is
// acknowledged without payload instead, so that it is acknowledged still.
func (s *Server) ack(ctx context.Context, env socketmode.Request, payload json.RawMessage) {
	defer func() { s.lastAck.Store(time.Now().UnixNano()) }()
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackSendTimeout)
	defer cancel()
	var err error
	if len(payload) > 0 {
		if err = s.client.AckCtx(actx, env.EnvelopeID, payload); err == nil {
			return
		}
		if actx.Err() != nil {
			s.log.ErrorContext(ctx, "slack socket: ack not sent", "envelope_id", env.EnvelopeID, "err", err)
			return
		}
		s.log.ErrorContext(ctx, "slack socket: answer not sent with the ack; acknowledged without it", "envelope_id", env.EnvelopeID, "err", err)
	}
	if err = s.client.AckCtx(actx, env.EnvelopeID, nil); err != nil {
		s.log.ErrorContext(ctx, "slack socket: ack not sent", "envelope_id", env.EnvelopeID, "err", err)
	}
}

// Request is an envelope as the HTTP request Slack would have sent.
type Request struct {
	Path string // slackapp.PathCommands, PathInteractions or PathEvents
	Body []byte
	// Kind names the request for logs: the command, the interaction's
	// type or the event's type (never its content).
	Kind string
}

// Translate turns a Socket Mode envelope into the request Slack would have
// POSTed to the HTTP endpoints.
func Translate(env socketmode.Request) (Request, error) {
	p := bytes.TrimSpace(env.Payload)
	if len(p) == 0 || p[0] != '{' {
		return Request{}, fmt.Errorf("%s envelope without a JSON object payload", env.Type)
	}
	switch env.Type {
	case socketmode.RequestTypeSlashCommands:
		form, err := commandForm(p)
		if err != nil {
			return Request{}, err
		}
		return Request{Path: slackapp.PathCommands, Body: []byte(form.Encode()), Kind: "command " + form.Get("command")}, nil
	case socketmode.RequestTypeInteractive:
		var head struct{ Type string }
		if err := json.Unmarshal(p, &head); err != nil {
			return Request{}, fmt.Errorf("interactive payload: %w", err)
		}
		return Request{Path: slackapp.PathInteractions, Body: []byte(url.Values{"payload": {string(p)}}.Encode()), Kind: "interaction " + head.Type}, nil
	case socketmode.RequestTypeEventsAPI:
		var head struct {
			Type  string
			Event struct{ Type string }
		}
		if err := json.Unmarshal(p, &head); err != nil {
			return Request{}, fmt.Errorf("events_api payload: %w", err)
		}
		kind := "event " + head.Type
		if head.Event.Type != "" {
			kind = "event " + head.Event.Type
		}
		return Request{Path: slackapp.PathEvents, Body: p, Kind: kind}, nil
	}
	return Request{}, fmt.Errorf("envelope type %q carries no request for the app", env.Type)
}

// commandForm is a slash command's JSON payload as the form Slack posts
// over HTTP: every field a form value, strings as they are, anything else
// as its JSON text.
func commandForm(p []byte) (url.Values, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(p, &fields); err != nil {
		return nil, fmt.Errorf("slash command payload: %w", err)
	}
	form := url.Values{}
	for k, raw := range fields {
		switch {
		case string(raw) == "null":
		case len(raw) > 0 && raw[0] == '"':
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, fmt.Errorf("slash command field %s: %w", k, err)
			}
			form.Set(k, v)
		default:
			form.Set(k, string(raw))
		}
	}
	return form, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

package slacksocket_test

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/slack-go/slack/socketmode"

	"github.com/orgcredit/orgcredit/internal/slackapp"
	"github.com/orgcredit/orgcredit/internal/slacksocket"
)

// slackLimit is Slack's time to acknowledge an envelope.
const slackLimit = 3 * time.Second

// served is one request the handler got.
type served struct {
	Path string
	Body string
}

// fakeApp stands in for the Slack app: it records what it is asked and
// answers with answer.
type fakeApp struct {
	mu     sync.Mutex
	got    []served
	answer func(ctx context.Context, path string, body []byte) events.APIGatewayV2HTTPResponse
}

func (a *fakeApp) ServeVerified(ctx context.Context, path string, body []byte) events.APIGatewayV2HTTPResponse {
	a.mu.Lock()
	a.got = append(a.got, served{path, string(body)})
	a.mu.Unlock()
	return a.answer(ctx, path, body)
}

func (a *fakeApp) requests() []served {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]served(nil), a.got...)
}

func okJSON(body string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/json"}, Body: body}
}

// Payloads as Slack sends them over Socket Mode.
var (
	commandPayload = map[string]any{
		"token": "gIkuvaNzQIHg97ATvDxqgjtO", "team_id": "T0ACME", "team_domain": "acme",
		"channel_id": "C0GENERAL", "channel_name": "general", "user_id": "U0DINA", "user_name": "dina",
		"command": "/billing", "text": "status org:acme & <more>", "api_app_id": "A0TEST",
		"is_enterprise_install": "false", "response_url": "https://hooks.slack.com/commands/T0ACME/1/x",
		"trigger_id": "13345224609.738474920.8088930838d88f008e0",
	}
	blockActionsPayload = map[string]any{
		"type": "block_actions", "team": map[string]any{"id": "T0ACME", "domain": "acme"},
		"user":    map[string]any{"id": "U0SARI", "team_id": "T0ACME"},
		"channel": map[string]any{"id": "D0SARI"}, "trigger_id": "1.2.3",
		"container": map[string]any{"type": "message", "message_ts": "1700000000.000001", "channel_id": "D0SARI"},
		"actions": []any{map[string]any{"type": "button", "action_id": "transfer_accept", "block_id": "transfer_actions",
			"value": "acme|tr-1", "action_ts": "1700000001.0"}},
	}
	viewSubmissionPayload = map[string]any{
		"type": "view_submission", "team": map[string]any{"id": "T0ACME"},
		"user": map[string]any{"id": "U0DINA", "team_id": "T0ACME"},
		"view": map[string]any{"id": "V0MODAL", "type": "modal", "callback_id": "billing_transfer", "private_metadata": "acme",
			"state": map[string]any{"values": map[string]any{}}},
	}
	blockSuggestionPayload = map[string]any{
		"type": "block_suggestion", "team": map[string]any{"id": "T0ACME"},
		"user":      map[string]any{"id": "U0DINA", "team_id": "T0ACME"},
		"action_id": "recipient", "block_id": "recipient", "value": "sa & +ri%",
		"view": map[string]any{"id": "V0MODAL", "type": "modal", "callback_id": "billing_transfer", "private_metadata": "acme"},
	}
	homeOpenedPayload = map[string]any{
		"token": "gIkuvaNzQIHg97ATvDxqgjtO", "team_id": "T0ACME", "api_app_id": "A0TEST", "type": "event_callback",
		"event_id": "Ev0HOME", "event_time": 1700000000,
		"event": map[string]any{"type": "app_home_opened", "user": "U0DINA", "channel": "D0DINA", "tab": "home", "event_ts": "1700000000.000100"},
	}
)

// TestEveryEnvelopeTypeIsAnsweredThroughTheHandler sends one envelope of
// each kind the app serves and checks that the handler got the body the
// HTTP endpoint would have, and that each envelope is acknowledged once,
// in time, with the handler's answer as payload where there is one.
func TestEveryEnvelopeTypeIsAnsweredThroughTheHandler(t *testing.T) {
	answers := map[string]string{
		"command":          `{"response_type":"ephemeral","text":"Dina holds Billing."}`,
		"block_actions":    ``,
		"view_submission":  `{"response_action":"errors","errors":{"recipient":"Choose the member who should receive Billing."}}`,
		"block_suggestion": `{"options":[{"text":{"type":"plain_text","text":"Sari (Finance)"},"value":"sari"}]}`,
		"event":            ``,
	}
	app := &fakeApp{answer: func(_ context.Context, path string, body []byte) events.APIGatewayV2HTTPResponse {
		switch path {
		case slackapp.PathCommands:
			return okJSON(answers["command"])
		case slackapp.PathEvents:
			return events.APIGatewayV2HTTPResponse{StatusCode: 200}
		}
		for k, v := range answers {
			if strings.Contains(string(body), k) {
				return okJSON(v)
			}
		}
		return events.APIGatewayV2HTTPResponse{StatusCode: 200}
	}}
	f := newFakeSlack(t)
	startServer(t, f, app)
	c := f.conn()

	type sent struct {
		typ     string
		payload map[string]any
		path    string
		answer  string
	}
	envs := map[string]sent{
		"env-command":    {socketmode.RequestTypeSlashCommands, commandPayload, slackapp.PathCommands, answers["command"]},
		"env-actions":    {socketmode.RequestTypeInteractive, blockActionsPayload, slackapp.PathInteractions, answers["block_actions"]},
		"env-submission": {socketmode.RequestTypeInteractive, viewSubmissionPayload, slackapp.PathInteractions, answers["view_submission"]},
		"env-suggestion": {socketmode.RequestTypeInteractive, blockSuggestionPayload, slackapp.PathInteractions, answers["block_suggestion"]},
		"env-home":       {socketmode.RequestTypeEventsAPI, homeOpenedPayload, slackapp.PathEvents, answers["event"]},
	}
	sentAt := map[string]time.Time{}
	for id, e := range envs {
		sentAt[id] = c.envelope(t, e.typ, id, e.payload)
	}
	acks := f.waitAcks(len(envs), slackLimit)
	f.noMoreAcks(300 * time.Millisecond)

	seen := map[string]int{}
	for _, a := range acks {
		seen[a.EnvelopeID]++
		e, ok := envs[a.EnvelopeID]
		if !ok {
			t.Errorf("ack for an envelope never sent: %s", a.Raw)
			continue
		}
		if took := a.At.Sub(sentAt[a.EnvelopeID]); took >= slackLimit {
			t.Errorf("%s acknowledged after %v", a.EnvelopeID, took)
		}
		switch {
		case e.answer == "" && a.hasPayload():
			t.Errorf("%s: ack has a payload, the handler answered none: %s", a.EnvelopeID, a.Raw)
		case e.answer != "" && !a.hasPayload():
			t.Errorf("%s: ack without the handler's answer: %s", a.EnvelopeID, a.Raw)
		case e.answer != "" && !jsonEqual(t, a.Payload, []byte(e.answer)):
			t.Errorf("%s: ack payload %s, the handler answered %s", a.EnvelopeID, a.Payload, e.answer)
		}
	}
	for id := range envs {
		if seen[id] != 1 {
			t.Errorf("%s acknowledged %d times", id, seen[id])
		}
	}

	// What the handler got is what Slack would have POSTed over HTTP.
	got := app.requests()
	if len(got) != len(envs) {
		t.Fatalf("handler served %d requests, want %d: %+v", len(got), len(envs), got)
	}
	byPath := map[string][]string{}
	for _, r := range got {
		byPath[r.Path] = append(byPath[r.Path], r.Body)
	}
	// The command: the same fields as the HTTP form.
	if len(byPath[slackapp.PathCommands]) != 1 {
		t.Fatalf("commands served: %v", byPath[slackapp.PathCommands])
	}
	form, err := url.ParseQuery(byPath[slackapp.PathCommands][0])
	if err != nil {
		t.Fatalf("command body is not a form: %v", err)
	}
	want := url.Values{}
	for k, v := range commandPayload {
		want.Set(k, v.(string))
	}
	if !reflect.DeepEqual(form, want) {
		t.Errorf("command form\n got %v\nwant %v", form, want)
	}
	// Interactions: a form whose one field, payload, is the JSON.
	var interactions []string
	for _, b := range byPath[slackapp.PathInteractions] {
		v, err := url.ParseQuery(b)
		if err != nil || len(v) != 1 || v.Get("payload") == "" {
			t.Fatalf("interaction body is not payload=<json>: %q", b)
		}
		interactions = append(interactions, v.Get("payload"))
	}
	for _, p := range []map[string]any{blockActionsPayload, viewSubmissionPayload, blockSuggestionPayload} {
		found := false
		for _, got := range interactions {
			found = found || jsonEqual(t, []byte(got), mustJSON(t, p))
		}
		if !found {
			t.Errorf("the handler never got interaction %v; got %v", p["type"], interactions)
		}
	}
	// The event: the callback JSON itself.
	if ev := byPath[slackapp.PathEvents]; len(ev) != 1 || !jsonEqual(t, []byte(ev[0]), mustJSON(t, homeOpenedPayload)) {
		t.Errorf("event bodies: %v", ev)
	}
}

// TestSlowEnvelopeHoldsUpNoOther: envelopes are served concurrently.
func TestSlowEnvelopeHoldsUpNoOther(t *testing.T) {
	release := make(chan struct{})
	app := &fakeApp{answer: func(_ context.Context, _ string, body []byte) events.APIGatewayV2HTTPResponse {
		if strings.Contains(string(body), "slow") {
			<-release
		}
		return okJSON(`{"text":"done"}`)
	}}
	f := newFakeSlack(t)
	startServer(t, f, app)
	c := f.conn()

	slow := map[string]any{"team_id": "T0ACME", "user_id": "U0DINA", "command": "/billing", "text": "slow"}
	fast := map[string]any{"team_id": "T0ACME", "user_id": "U0DINA", "command": "/billing", "text": "fast"}
	c.envelope(t, socketmode.RequestTypeSlashCommands, "env-slow", slow)
	sent := c.envelope(t, socketmode.RequestTypeSlashCommands, "env-fast", fast)
	// env-slow is held until released: served one after the other, env-fast
	// would not be acknowledged before that.
	a := f.waitAcks(1, slackLimit)[0]
	if a.EnvelopeID != "env-fast" {
		t.Fatalf("first ack is %s, want env-fast while env-slow is still being served", a.EnvelopeID)
	}
	if took := a.At.Sub(sent); took >= slackLimit {
		t.Errorf("env-fast acknowledged after %v", took)
	}
	close(release)
	if a := f.waitAcks(1, slackLimit)[0]; a.EnvelopeID != "env-slow" {
		t.Errorf("second ack is %s, want env-slow", a.EnvelopeID)
	}
}

// TestUnansweredEnvelopeIsAcknowledgedAtTheDeadline: a handler that does
// not answer in time is not waited for, and its late answer is not sent
// as a second ack.
func TestUnansweredEnvelopeIsAcknowledgedAtTheDeadline(t *testing.T) {
	const within = 400 * time.Millisecond
	returned := make(chan struct{})
	app := &fakeApp{answer: func(ctx context.Context, _ string, _ []byte) events.APIGatewayV2HTTPResponse {
		<-ctx.Done() // the handler's budget is the ack deadline
		time.Sleep(100 * time.Millisecond)
		close(returned)
		return okJSON(`{"text":"too late"}`)
	}}
	f := newFakeSlack(t)
	startServer(t, f, app, slacksocket.WithAckWithin(within))
	c := f.conn()

	sent := c.envelope(t, socketmode.RequestTypeSlashCommands, "env-hung", map[string]any{"team_id": "T0ACME", "user_id": "U0DINA", "command": "/credit"})
	a := f.waitAcks(1, slackLimit)[0]
	if took := a.At.Sub(sent); a.EnvelopeID != "env-hung" || took < within || took > within+time.Second {
		t.Fatalf("ack %s after %v, want env-hung after about %v", a.Raw, took, within)
	}
	if a.hasPayload() {
		t.Errorf("the deadline ack carries a payload: %s", a.Raw)
	}
	<-returned
	f.noMoreAcks(300 * time.Millisecond)
}

// TestUnhandledEnvelopesAreStillAcknowledged: what cannot be served is
// acknowledged (without payload) all the same, and the connection goes on.
func TestUnhandledEnvelopesAreStillAcknowledged(t *testing.T) {
	app := &fakeApp{answer: func(_ context.Context, path string, body []byte) events.APIGatewayV2HTTPResponse {
		switch b := string(body); {
		case strings.Contains(b, "refused"):
			return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusBadRequest, Body: "malformed interaction payload"}
		case strings.Contains(b, "panic"):
			panic("handler bug")
		case strings.Contains(b, "huge"):
			return okJSON(`{"text":"` + strings.Repeat("x", 25<<10) + `"}`)
		}
		return okJSON(`{"text":"fine"}`)
	}}
	f := newFakeSlack(t)
	startServer(t, f, app)
	c := f.conn()

	cases := []struct {
		id, typ   string
		payload   any
		reachesUs bool // the handler is called
	}{
		{"env-event-string", socketmode.RequestTypeEventsAPI, "not an event", false},
		{"env-command-array", socketmode.RequestTypeSlashCommands, []any{"x"}, false},
		{"env-command-number", socketmode.RequestTypeSlashCommands, map[string]any{"command": 5}, false},
		{"env-unknown-type", "workflow_step_execute", map[string]any{"x": 1}, false},
		{"env-refused", socketmode.RequestTypeInteractive, map[string]any{"type": "block_actions", "trigger_id": "refused"}, true},
		{"env-panic", socketmode.RequestTypeInteractive, map[string]any{"type": "block_actions", "trigger_id": "panic"}, true},
		{"env-huge", socketmode.RequestTypeSlashCommands, map[string]any{"team_id": "T", "user_id": "U", "command": "/billing", "text": "huge"}, true},
	}
	for _, tc := range cases {
		c.envelope(t, tc.typ, tc.id, tc.payload)
	}
	acks := f.waitAcks(len(cases), slackLimit)
	f.noMoreAcks(300 * time.Millisecond)
	seen := map[string]int{}
	for _, a := range acks {
		seen[a.EnvelopeID]++
		if a.hasPayload() {
			t.Errorf("%s: ack carries a payload: %.200s", a.EnvelopeID, a.Raw)
		}
	}
	want := 0
	for _, tc := range cases {
		if seen[tc.id] != 1 {
			t.Errorf("%s acknowledged %d times", tc.id, seen[tc.id])
		}
		if tc.reachesUs {
			want++
		}
	}
	if got := len(app.requests()); got != want {
		t.Errorf("handler served %d requests, want %d: %+v", got, want, app.requests())
	}

	// Still serving.
	c.envelope(t, socketmode.RequestTypeSlashCommands, "env-after", map[string]any{"team_id": "T", "user_id": "U", "command": "/credit"})
	if a := f.waitAcks(1, slackLimit)[0]; a.EnvelopeID != "env-after" || !jsonEqual(t, a.Payload, []byte(`{"text":"fine"}`)) {
		t.Errorf("after the unhandled ones: %s", a.Raw)
	}
}

// TestReconnectsWhenSlackAsks: on "disconnect" the client opens a new
// connection (apps.connections.open again) and envelopes on it are served.
func TestReconnectsWhenSlackAsks(t *testing.T) {
	app := &fakeApp{answer: func(context.Context, string, []byte) events.APIGatewayV2HTTPResponse {
		return okJSON(`{"text":"ok"}`)
	}}
	f := newFakeSlack(t)
	startServer(t, f, app)
	first := f.conn()
	first.send(t, map[string]any{"type": "disconnect", "reason": "refresh_requested", "debug_info": map[string]any{"host": "fake-applink"}})
	second := f.conn()
	if n := f.opens.Load(); n != 2 {
		t.Errorf("apps.connections.open called %d times, want 2", n)
	}
	second.envelope(t, socketmode.RequestTypeSlashCommands, "env-2", map[string]any{"team_id": "T", "user_id": "U", "command": "/credit"})
	if a := f.waitAcks(1, slackLimit)[0]; a.EnvelopeID != "env-2" {
		t.Errorf("ack %s", a.Raw)
	}
}

// TestStopFinishesEnvelopesInFlight: on cancel, the envelope being served
// is still answered and acknowledged, then the connection is closed and
// Run returns nil.
func TestStopFinishesEnvelopesInFlight(t *testing.T) {
	started := make(chan struct{})
	app := &fakeApp{answer: func(context.Context, string, []byte) events.APIGatewayV2HTTPResponse {
		close(started)
		time.Sleep(300 * time.Millisecond)
		return okJSON(`{"text":"finished"}`)
	}}
	f := newFakeSlack(t)
	stop := startServer(t, f, app)
	c := f.conn()
	c.envelope(t, socketmode.RequestTypeSlashCommands, "env-inflight", map[string]any{"team_id": "T", "user_id": "U", "command": "/credit"})
	<-started
	stop() // fails the test unless Run returns nil within 5 s
	if a := f.waitAcks(1, 2*time.Second)[0]; a.EnvelopeID != "env-inflight" || !jsonEqual(t, a.Payload, []byte(`{"text":"finished"}`)) {
		t.Errorf("in-flight ack: %s", a.Raw)
	}
	select {
	case <-f.closed:
	case <-time.After(2 * time.Second):
		t.Error("the connection was not closed after stop")
	}
}

// TestWrongAppTokenStopsRun: Slack refusing the token ends Run with an
// error instead of retrying forever.
func TestWrongAppTokenStopsRun(t *testing.T) {
	f := newFakeSlack(t)
	api := slackNew(f, "xapp-1-wrong")
	srv := slacksocket.New(socketmode.New(api), &fakeApp{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "invalid_auth") {
		t.Fatalf("Run = %v, want invalid_auth", err)
	}
}

func TestCheckAppToken(t *testing.T) {
	if err := slacksocket.CheckAppToken("xapp-1-A0-1-abc"); err != nil {
		t.Errorf("app-level token refused: %v", err)
	}
	for tok, want := range map[string]string{
		"":               "connections:write",
		"xoxb-1-2-abc":   "xoxb token, not an app-level token",
		"xoxp-1-2-abc":   "xoxp token",
		"A0123-whatever": "starts with xapp-",
	} {
		err := slacksocket.CheckAppToken(tok)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckAppToken(%q) = %v, want it to say %q", tok, err, want)
		}
	}
}

func TestTranslate(t *testing.T) {
	r, err := slacksocket.Translate(socketmode.Request{Type: socketmode.RequestTypeSlashCommands,
		Payload: []byte(`{"command":"/billing","text":"a+b c&d=é","team_id":"T1","is_enterprise_install":false,"enterprise_id":null,"n":3}`)})
	if err != nil {
		t.Fatal(err)
	}
	v, _ := url.ParseQuery(string(r.Body))
	want := url.Values{"command": {"/billing"}, "text": {"a+b c&d=é"}, "team_id": {"T1"}, "is_enterprise_install": {"false"}, "n": {"3"}}
	if r.Path != slackapp.PathCommands || !reflect.DeepEqual(v, want) || r.Kind != "command /billing" {
		t.Errorf("command: %s %v %q", r.Path, v, r.Kind)
	}

	r, err = slacksocket.Translate(socketmode.Request{Type: socketmode.RequestTypeInteractive, Payload: []byte(` {"type":"view_submission","x":"&="} `)})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := url.ParseQuery(string(r.Body)); r.Path != slackapp.PathInteractions || v.Get("payload") != `{"type":"view_submission","x":"&="}` || r.Kind != "interaction view_submission" {
		t.Errorf("interaction: %s %q %q", r.Path, r.Body, r.Kind)
	}

	ev := `{"type":"event_callback","event":{"type":"app_home_opened"}}`
	r, err = slacksocket.Translate(socketmode.Request{Type: socketmode.RequestTypeEventsAPI, Payload: []byte(ev)})
	if err != nil || r.Path != slackapp.PathEvents || string(r.Body) != ev || r.Kind != "event app_home_opened" {
		t.Errorf("event: %v %s %q %q", err, r.Path, r.Body, r.Kind)
	}

	for _, bad := range []socketmode.Request{
		{Type: socketmode.RequestTypeEventsAPI, Payload: []byte(`"x"`)},
		{Type: socketmode.RequestTypeSlashCommands},
		{Type: "hello", Payload: []byte(`{}`)},
		{Type: socketmode.RequestTypeInteractive, Payload: []byte(`{"type":`)},
	} {
		if _, err := slacksocket.Translate(bad); err == nil {
			t.Errorf("Translate(%s %s) accepted it", bad.Type, bad.Payload)
		}
	}
}

package slackapp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/dynamotest"
	"github.com/orgcredit/orgcredit/internal/slackapp"
	"github.com/orgcredit/orgcredit/internal/slacktestx"
)

// The store's methods are what the app's Store interface asks for.
var _ slackapp.Store = (*dynamo.Store)(nil)

// testSecret is the signing secret of the tests and of the sample events
// in events/slack (documented there). It is Slack's documentation example.
const testSecret = "8f742231b10e8888abcd99yyyzzz85a5"

const (
	team  = "T0ACME"
	org   = "acme"
	dina  = "U0DINA" // Owner, holds Billing
	sari  = "U0SARI" // Member, from finance
	omar  = "U0OMAR" // Admin
	ravi  = "U0RAVI" // Builder
	stray = "U0STRAY"
)

const credit = domain.MicrosPerCredit

// fixture is the app on the real store (embedded back end or DynamoDB
// Local) and slack-go's client against the extended slacktest server.
type fixture struct {
	t     testing.TB
	ctx   context.Context
	store *dynamo.Store
	slack *slacktestx.Server
	app   *slackapp.App
	// ahead moves the store's clock past the wall clock (expiry tests);
	// the app's clock stays on the wall clock, which slack-go's signature
	// check uses.
	ahead   atomic.Int64
	trigger atomic.Int64
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	return newFixtureOn(t, dynamotest.Default(t))
}

func newFixtureOn(t testing.TB, b dynamotest.Backend) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background()}
	table := dynamotest.NewTable(t, b)
	f.store = dynamo.New(b.Client, table, dynamo.WithClock(func() time.Time {
		return time.Now().Add(time.Duration(f.ahead.Load()))
	}))
	f.slack = slacktestx.New(t)
	if _, bench := t.(*testing.B); !bench {
		t.Cleanup(func() { collectShapes(f.slack.Shapes()...) })
	}
	f.app = slackapp.New(slackapp.Config{
		Store:         f.store,
		Workspaces:    slackapp.OneWorkspace(f.slack.Client()),
		SigningSecret: testSecret,
		Now:           time.Now,
	})
	f.seed()
	return f
}

// seed is the worked example: Acme with Dina (Owner, Billing), Sari
// (Member), Omar (Admin), Ravi (Builder), Nora (no Slack account), and
// 1,234.5 credits granted.
func (f *fixture) seed() {
	f.t.Helper()
	if _, _, err := f.store.CreateOrg(f.ctx, domain.Org{ID: org, Name: "Acme", SlackTeamID: team},
		domain.Member{ID: "dina", Name: "Dina", SlackUserID: dina}); err != nil {
		f.t.Fatalf("create org: %v", err)
	}
	for _, m := range []domain.Member{
		{ID: "sari", Name: "Sari", SlackUserID: sari, Role: domain.RoleMember},
		{ID: "omar", Name: "Omar", SlackUserID: omar, Role: domain.RoleAdmin},
		{ID: "ravi", Name: "Ravi", SlackUserID: ravi, Role: domain.RoleBuilder},
		{ID: "nora", Name: "Nora", Role: domain.RoleMember},
	} {
		m.OrgID = org
		if _, _, err := f.store.AddMember(f.ctx, m, nil); err != nil {
			f.t.Fatalf("add member %s: %v", m.ID, err)
		}
	}
	if _, _, _, err := f.store.Grant(f.ctx, domain.Grant{OrgID: org, ID: "g1", Amount: 1234*credit + credit/2, Reason: "seed"}, nil); err != nil {
		f.t.Fatalf("grant: %v", err)
	}
}

// nowStore is the store's clock.
func (f *fixture) nowStore() time.Time { return time.Now().Add(time.Duration(f.ahead.Load())) }

func (f *fixture) send(path, contentType string, body []byte) events.APIGatewayV2HTTPResponse {
	f.t.Helper()
	resp, err := f.app.Handle(f.ctx, slacktestx.Request(testSecret, time.Now(), path, contentType, body, false))
	if err != nil {
		f.t.Fatalf("Handle %s: %v", path, err)
	}
	// Slack refuses an answer that breaks Block Kit's limits as it refuses
	// a Web API call (which the fake Slack checks).
	slacktestx.CheckAnswer(f.t, body, resp)
	if s, ok := slacktestx.AnswerShape(body, resp); ok {
		if _, bench := f.t.(*testing.B); !bench {
			collectShapes(s)
		}
	}
	return resp
}

const formType = "application/x-www-form-urlencoded"

func (f *fixture) commandBody(command, user, text string) []byte {
	return slacktestx.Form("team_id", team, "user_id", user, "command", command, "text", text,
		"channel_id", "C0GENERAL", "trigger_id", fmt.Sprintf("trigger-%d", f.trigger.Add(1)))
}

// billing runs `/billing text` as user and returns the answer.
func (f *fixture) billing(user, text string) events.APIGatewayV2HTTPResponse {
	f.t.Helper()
	return f.send(slackapp.PathCommands, formType, f.commandBody("/billing", user, text))
}

func (f *fixture) interact(payload any) events.APIGatewayV2HTTPResponse {
	f.t.Helper()
	return f.send(slackapp.PathInteractions, formType, slacktestx.InteractionBody(payload))
}

// submitPayload is the modal's Send Request with recipientID chosen.
func submitPayload(user, orgID, recipientID string) map[string]any {
	return map[string]any{
		"type": "view_submission",
		"team": map[string]any{"id": team},
		"user": map[string]any{"id": user, "team_id": team},
		"view": map[string]any{
			"id": "V0MODAL", "type": "modal", "callback_id": "billing_transfer", "private_metadata": orgID,
			"state": map[string]any{"values": map[string]any{"recipient": map[string]any{"recipient": map[string]any{
				"type": "static_select", "selected_option": map[string]any{"value": recipientID, "text": map[string]any{"type": "plain_text", "text": recipientID}},
			}}}},
		},
	}
}

// clickPayload is a click on a button of msg (a recorded chat.postMessage).
func clickPayload(user, actionID, value, channel, ts string, live bool) map[string]any {
	blocks := []any{map[string]any{"type": "section", "block_id": "s", "text": map[string]any{"type": "mrkdwn", "text": "request"}}}
	if live {
		blocks = append(blocks, map[string]any{"type": "actions", "block_id": "transfer_actions", "elements": []any{
			map[string]any{"type": "button", "action_id": actionID, "value": value, "text": map[string]any{"type": "plain_text", "text": "x"}},
		}})
	}
	return map[string]any{
		"type":      "block_actions",
		"team":      map[string]any{"id": team},
		"user":      map[string]any{"id": user, "team_id": team},
		"channel":   map[string]any{"id": channel},
		"container": map[string]any{"type": "message", "message_ts": ts, "channel_id": channel},
		"message":   map[string]any{"ts": ts, "blocks": blocks},
		"actions":   []any{map[string]any{"type": "button", "action_id": actionID, "block_id": "transfer_actions", "value": value, "action_ts": "1"}},
	}
}

// sentMessage is a message the app posted, with its buttons.
type sentMessage struct {
	Channel, Text string
	Buttons       map[string]string // action id → value
}

// posted returns the messages the app posted to channel, in order.
func (f *fixture) posted(channel string) []sentMessage {
	f.t.Helper()
	var out []sentMessage
	for _, c := range f.slack.Calls("chat.postMessage") {
		if c.Param("channel") != channel {
			continue
		}
		m := sentMessage{Channel: channel, Text: c.Text(), Buttons: map[string]string{}}
		blocks, err := c.Blocks()
		if err != nil {
			f.t.Fatalf("decode blocks: %v", err)
		}
		for _, b := range blocks.BlockSet {
			if ab, ok := b.(*slack.ActionBlock); ok {
				for _, e := range ab.Elements.ElementSet {
					if btn, ok := e.(*slack.ButtonBlockElement); ok {
						m.Buttons[btn.ActionID] = btn.Value
					}
				}
			}
		}
		out = append(out, m)
	}
	return out
}

// pending is the organization's pending transfer, nil when none.
func (f *fixture) pending() *domain.Transfer {
	f.t.Helper()
	p, err := f.store.PendingTransfer(f.ctx, org)
	if err != nil {
		f.t.Fatalf("pending transfer: %v", err)
	}
	return p
}

func (f *fixture) orgNow() domain.Org {
	f.t.Helper()
	o, err := f.store.GetOrg(f.ctx, org)
	if err != nil {
		f.t.Fatalf("get org: %v", err)
	}
	return o
}

// requestTransfer runs the whole request as Dina → recipient and returns
// the pending transfer with its stored messages.
func (f *fixture) requestTransfer(recipientID string) domain.Transfer {
	f.t.Helper()
	if r := f.billing(dina, "transfer"); r.StatusCode != 200 || r.Body != "" {
		f.t.Fatalf("/billing transfer: %d %s", r.StatusCode, r.Body)
	}
	r := f.interact(submitPayload(dina, org, recipientID))
	if !strings.Contains(r.Body, `"response_action":"clear"`) {
		f.t.Fatalf("submit: want clear, got %d %s", r.StatusCode, r.Body)
	}
	p := f.pending()
	if p == nil {
		f.t.Fatal("no pending transfer after submit")
	}
	if p.RecipientMessage.TS == "" || p.InitiatorMessage.TS == "" {
		f.t.Fatalf("messages not stored on the transfer: %+v", p)
	}
	return *p
}

// ephemeralText decodes a command's ephemeral answer.
func ephemeralText(t testing.TB, r events.APIGatewayV2HTTPResponse) string {
	t.Helper()
	var v struct {
		ResponseType string          `json:"response_type"`
		Text         string          `json:"text"`
		Blocks       json.RawMessage `json:"blocks"`
	}
	if r.StatusCode != 200 || json.Unmarshal([]byte(r.Body), &v) != nil || v.ResponseType != "ephemeral" {
		t.Fatalf("want an ephemeral answer, got %d %q", r.StatusCode, r.Body)
	}
	return v.Text + "\n" + readable(v.Blocks)
}

// readable is every text of blocks (mrkdwn and plain_text, button labels,
// confirm dialogs) joined by line breaks, for assertions on wording.
func readable(raw json.RawMessage) string {
	var walk func(v any, out *[]string)
	walk = func(v any, out *[]string) {
		switch x := v.(type) {
		case map[string]any:
			if t, ok := x["text"].(string); ok {
				*out = append(*out, t)
			}
			for _, k := range slices.Sorted(maps.Keys(x)) {
				walk(x[k], out)
			}
		case []any:
			for _, c := range x {
				walk(c, out)
			}
		}
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	var out []string
	walk(v, &out)
	return strings.Join(out, "\n")
}

package slacksocket_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/dynamotest"
	"github.com/orgcredit/orgcredit/internal/slackapp"
	"github.com/orgcredit/orgcredit/internal/slacktestx"
)

const signingSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// recorder is the real app, recording what it is asked.
type recorder struct {
	app *slackapp.App
	got chan served
}

func (r *recorder) ServeVerified(ctx context.Context, path string, body []byte) events.APIGatewayV2HTTPResponse {
	r.got <- served{path, string(body)}
	return r.app.ServeVerified(ctx, path, body)
}

// TestWorkedExampleOverSocketMode drives the real Slack app on the real
// store over Socket Mode: Dina opens the transfer dialog, searches for
// Sari, submits (first without a choice), Sari accepts and opens her App
// Home. Each answer travels as the ack's payload, and the answers that
// change nothing are the very ones the HTTP endpoints give.
func TestWorkedExampleOverSocketMode(t *testing.T) {
	ctx := context.Background()
	b := dynamotest.Backends(t)[0]
	store := dynamo.New(b.Client, dynamotest.NewTable(t, b))
	if _, _, err := store.CreateOrg(ctx, domain.Org{ID: "acme", Name: "Acme", SlackTeamID: "T0ACME"},
		domain.Member{ID: "dina", Name: "Dina", SlackUserID: "U0DINA"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.AddMember(ctx, domain.Member{OrgID: "acme", ID: "sari", Name: "Sari (Finance)", SlackUserID: "U0SARI", Role: domain.RoleMember}, nil); err != nil {
		t.Fatal(err)
	}
	web := slacktestx.New(t)
	app := slackapp.New(slackapp.Config{Store: store, Workspaces: slackapp.OneWorkspace(web.Client()), SigningSecret: signingSecret})
	rec := &recorder{app: app, got: make(chan served, 20)}

	f := newFakeSlack(t)
	startServer(t, f, rec)
	c := f.conn()

	// send sends an envelope and returns its one ack, checking that it
	// came in time and that the app was called.
	n := 0
	send := func(typ string, payload map[string]any) gotAck {
		t.Helper()
		n++
		id := "env-" + string(rune('a'+n))
		sent := c.envelope(t, typ, id, payload)
		a := f.waitAcks(1, slackLimit)[0]
		if a.EnvelopeID != id {
			t.Fatalf("ack for %s, want %s", a.EnvelopeID, id)
		}
		if took := a.At.Sub(sent); took >= slackLimit {
			t.Errorf("%s acknowledged after %v", id, took)
		}
		select {
		case <-rec.got:
		default:
			t.Fatalf("%s: the app was not called", id)
		}
		return a
	}
	// overHTTP is the app's answer to the same request posted, signed, to
	// the HTTP endpoint.
	overHTTP := func(path string, body []byte) events.APIGatewayV2HTTPResponse {
		t.Helper()
		resp, err := app.Handle(ctx, slacktestx.Request(signingSecret, time.Now(), path, "application/x-www-form-urlencoded", body, false))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("HTTP %s: %v %d %s", path, err, resp.StatusCode, resp.Body)
		}
		return resp
	}
	command := func(user, text, trigger string) map[string]any {
		return map[string]any{"token": "x", "team_id": "T0ACME", "team_domain": "acme", "channel_id": "C0GENERAL",
			"channel_name": "general", "user_id": user, "user_name": strings.ToLower(user), "command": "/billing",
			"text": text, "api_app_id": "A0TEST", "is_enterprise_install": "false",
			"response_url": "https://hooks.slack.com/commands/T0ACME/1/x", "trigger_id": trigger}
	}
	formOf := func(p map[string]any) []byte {
		var kv []string
		for k, v := range p {
			kv = append(kv, k, v.(string))
		}
		return slacktestx.Form(kv...)
	}

	// /billing status: the ack's payload is the HTTP answer.
	status := command("U0DINA", "status", "trigger-status")
	a := send(socketmode.RequestTypeSlashCommands, status)
	if want := overHTTP(slackapp.PathCommands, formOf(status)); !jsonEqual(t, a.Payload, []byte(want.Body)) {
		t.Errorf("/billing status over Socket Mode: %s\nover HTTP: %s", a.Payload, want.Body)
	}
	if !strings.Contains(string(a.Payload), "ephemeral") || !strings.Contains(string(a.Payload), "Billing") {
		t.Errorf("/billing status answer: %s", a.Payload)
	}

	// /billing transfer opens the dialog with the command's trigger.
	if a := send(socketmode.RequestTypeSlashCommands, command("U0DINA", "transfer", "trigger-transfer")); a.hasPayload() {
		t.Errorf("/billing transfer answered %s, want a bare ack (the dialog opens)", a.Payload)
	}
	opened := web.Calls("views.open")
	if len(opened) != 1 || opened[0].Param("trigger_id") != "trigger-transfer" || !strings.Contains(opened[0].Text(), "Transfer Billing Role") {
		t.Fatalf("views.open calls: %+v", opened)
	}

	// Searching the member list: the options travel in the ack.
	view := map[string]any{"id": "V0MODAL", "type": "modal", "callback_id": "billing_transfer", "private_metadata": "acme"}
	suggest := map[string]any{"type": "block_suggestion", "team": map[string]any{"id": "T0ACME"},
		"user": map[string]any{"id": "U0DINA", "team_id": "T0ACME"}, "action_id": "recipient", "block_id": "recipient",
		"value": "sa", "view": view}
	a = send(socketmode.RequestTypeInteractive, suggest)
	var opts slack.OptionsResponse
	if err := json.Unmarshal(a.Payload, &opts); err != nil || len(opts.Options) != 1 || opts.Options[0].Value != "sari" {
		t.Errorf("options: %s", a.Payload)
	}
	if want := overHTTP(slackapp.PathInteractions, slacktestx.InteractionBody(suggest)); !jsonEqual(t, a.Payload, []byte(want.Body)) {
		t.Errorf("options over Socket Mode: %s\nover HTTP: %s", a.Payload, want.Body)
	}

	// Send Request without a choice: the error shows on the field.
	submit := func(recipient string) map[string]any {
		v := map[string]any{}
		for k, x := range view {
			v[k] = x
		}
		values := map[string]any{}
		if recipient != "" {
			values["recipient"] = map[string]any{"recipient": map[string]any{"type": "external_select",
				"selected_option": map[string]any{"value": recipient, "text": map[string]any{"type": "plain_text", "text": recipient}}}}
		}
		v["state"] = map[string]any{"values": values}
		return map[string]any{"type": "view_submission", "team": map[string]any{"id": "T0ACME"},
			"user": map[string]any{"id": "U0DINA", "team_id": "T0ACME"}, "trigger_id": "trigger-submit", "view": v}
	}
	a = send(socketmode.RequestTypeInteractive, submit(""))
	var va struct {
		Action string            `json:"response_action"`
		Errors map[string]string `json:"errors"`
	}
	if err := json.Unmarshal(a.Payload, &va); err != nil || va.Action != "errors" || va.Errors["recipient"] == "" {
		t.Errorf("submit without a choice: %s", a.Payload)
	}

	// Send Request for Sari: the dialog closes, Sari gets Accept / Decline.
	a = send(socketmode.RequestTypeInteractive, submit("sari"))
	if err := json.Unmarshal(a.Payload, &va); err != nil || va.Action != "clear" {
		t.Fatalf("submit for Sari: %s", a.Payload)
	}
	p, err := store.PendingTransfer(ctx, "acme")
	if err != nil || p == nil || p.RecipientID != "sari" {
		t.Fatalf("pending transfer: %+v %v", p, err)
	}
	accept := ""
	for _, call := range web.Calls("chat.postMessage") {
		blocks, err := call.Blocks()
		if err != nil || call.Param("channel") != "D0SARI" {
			continue
		}
		for _, bl := range blocks.BlockSet {
			if ab, ok := bl.(*slack.ActionBlock); ok {
				for _, e := range ab.Elements.ElementSet {
					if btn, ok := e.(*slack.ButtonBlockElement); ok && btn.ActionID == "transfer_accept" {
						accept = btn.Value
					}
				}
			}
		}
	}
	if accept == "" {
		t.Fatalf("no Accept button sent to Sari: %+v", web.Calls("chat.postMessage"))
	}

	// Sari clicks Accept: Billing moves to her.
	click := map[string]any{"type": "block_actions", "team": map[string]any{"id": "T0ACME"},
		"user": map[string]any{"id": "U0SARI", "team_id": "T0ACME"}, "channel": map[string]any{"id": "D0SARI"},
		"container": map[string]any{"type": "message", "message_ts": p.RecipientMessage.TS, "channel_id": "D0SARI"},
		"message":   map[string]any{"ts": p.RecipientMessage.TS},
		"actions": []any{map[string]any{"type": "button", "action_id": "transfer_accept", "block_id": "transfer_actions",
			"value": accept, "action_ts": "1700000001.0"}}}
	if a := send(socketmode.RequestTypeInteractive, click); a.hasPayload() {
		t.Errorf("Accept answered %s, want a bare ack", a.Payload)
	}
	org, err := store.GetOrg(ctx, "acme")
	if err != nil || org.BillingHolderID != "sari" || org.PendingTransferID != "" {
		t.Fatalf("after Accept: %+v %v", org, err)
	}

	// Sari opens App Home: My Credit is published for her.
	web.Reset()
	home := map[string]any{"token": "x", "team_id": "T0ACME", "api_app_id": "A0TEST", "type": "event_callback",
		"event_id": "Ev0HOME", "event_time": 1700000000,
		"event": map[string]any{"type": "app_home_opened", "user": "U0SARI", "channel": "D0SARI", "tab": "home", "event_ts": "1700000000.000100"}}
	if a := send(socketmode.RequestTypeEventsAPI, home); a.hasPayload() {
		t.Errorf("event answered %s", a.Payload)
	}
	pub := web.Calls("views.publish")
	if len(pub) != 1 || pub[0].Param("user_id") != "U0SARI" {
		t.Fatalf("views.publish calls: %+v", pub)
	}
	f.noMoreAcks(200 * time.Millisecond)
}

package slackapp_test

import (
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamotest"
	"github.com/orgcredit/orgcredit/internal/slacktestx"
)

// dmChannel is the DM channel the fake Slack opens with a user.
func dmChannel(user string) string { return "D" + strings.TrimPrefix(user, "U") }

// TestWorkedExample: Dina (Owner, Billing) runs /billing transfer, the
// modal lists Sari and not Dina, she submits, Sari's DM has Accept and
// Decline, Sari accepts, both messages lose their buttons and Sari's App
// Home shows the balance.
// It runs on every back end: the embedded one and, when configured,
// DynamoDB Local.
func TestWorkedExample(t *testing.T) {
	for _, b := range dynamotest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { workedExample(t, newFixtureOn(t, b)) })
	}
}

func workedExample(t *testing.T, f *fixture) {

	// 1. The command opens the modal with the eligible members only.
	r := f.billing(dina, "transfer")
	if r.StatusCode != 200 || r.Body != "" {
		t.Fatalf("/billing transfer: want an empty 200 (modal opened), got %d %q", r.StatusCode, r.Body)
	}
	opens := f.slack.Calls("views.open")
	if len(opens) != 1 {
		t.Fatalf("views.open calls = %d, want 1", len(opens))
	}
	if got := opens[0].Param("trigger_id"); !strings.HasPrefix(got, "trigger-") {
		t.Errorf("views.open trigger_id = %q", got)
	}
	view, err := opens[0].View()
	if err != nil {
		t.Fatal(err)
	}
	if view.Title == nil || view.Title.Text != "Transfer Billing Role" || view.Submit == nil || view.Submit.Text != "Send Request" {
		t.Errorf("modal title/submit = %+v / %+v", view.Title, view.Submit)
	}
	options := modalOptions(t, view)
	if !options["sari"] || options["dina"] || options["nora"] {
		t.Errorf("modal options = %v; want sari listed, not dina (holder) nor nora (no Slack account)", options)
	}

	// 2. Submitting sends the request to Sari and a confirmation to Dina.
	f.slack.Reset()
	r = f.interact(submitPayload(dina, org, "sari"))
	if !strings.Contains(r.Body, `"response_action":"clear"`) {
		t.Fatalf("submit: want the modal closed, got %d %s", r.StatusCode, r.Body)
	}
	p := f.pending()
	if p == nil || p.RecipientID != "sari" || p.InitiatorID != "dina" {
		t.Fatalf("pending transfer = %+v", p)
	}
	if p.RecipientMessage.Channel != dmChannel(sari) || p.InitiatorMessage.Channel != dmChannel(dina) {
		t.Errorf("stored messages = %+v / %+v", p.RecipientMessage, p.InitiatorMessage)
	}
	toSari := f.posted(dmChannel(sari))
	if len(toSari) != 1 {
		t.Fatalf("messages to Sari = %d, want 1", len(toSari))
	}
	value := org + "|" + p.ID
	if toSari[0].Buttons["transfer_accept"] != value || toSari[0].Buttons["transfer_decline"] != value {
		t.Errorf("Sari's buttons = %v, want Accept and Decline with %q", toSari[0].Buttons, value)
	}
	toDina := f.posted(dmChannel(dina))
	if len(toDina) != 1 || toDina[0].Buttons["transfer_cancel"] != value {
		t.Errorf("Dina's confirmation = %+v, want a Cancel button", toDina)
	}

	// 3. Sari accepts.
	f.slack.Reset()
	r = f.interact(clickPayload(sari, "transfer_accept", value, p.RecipientMessage.Channel, p.RecipientMessage.TS, true))
	if r.StatusCode != 200 {
		t.Fatalf("accept: %d %s", r.StatusCode, r.Body)
	}
	if got := f.orgNow().BillingHolderID; got != "sari" {
		t.Fatalf("Billing holder after accept = %q, want sari", got)
	}
	assertRewritten(t, f.slack, p.RecipientMessage, p.InitiatorMessage, "accepted")
	told := f.posted(dmChannel(dina))
	if len(told) != 1 || !strings.Contains(told[0].Text, "accepted") {
		t.Errorf("Dina was not told of the accept: %+v", told)
	}

	// 4. Sari's App Home shows the balance; Dina's says who holds Billing.
	home := publishedFor(t, f.slack, sari)
	if !strings.Contains(home, "1,234.5 credits") {
		t.Errorf("Sari's home does not show the balance 1,234.5:\n%s", home)
	}
	if h := publishedFor(t, f.slack, dina); !strings.Contains(h, "<@"+sari+">") || strings.Contains(h, "1,234.5") {
		t.Errorf("Dina's home should name Sari as holder and hide the balance:\n%s", h)
	}

	// The audit trail has the request and the accept.
	entries, err := f.store.ReadAudit(f.ctx, org, "sari", 5)
	if err != nil {
		t.Fatal(err)
	}
	if entries[0].Action != domain.ActionTransferAccepted {
		t.Errorf("latest audit entry = %s, want %s", entries[0].Action, domain.ActionTransferAccepted)
	}
}

func modalOptions(t *testing.T, view slack.View) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, b := range view.Blocks.BlockSet {
		in, ok := b.(*slack.InputBlock)
		if !ok || in.BlockID != "recipient" {
			continue
		}
		sel, ok := in.Element.(*slack.SelectBlockElement)
		if !ok {
			t.Fatalf("recipient element is %T", in.Element)
		}
		for _, o := range sel.Options {
			out[o.Value] = true
		}
	}
	if len(out) == 0 {
		t.Fatalf("the modal has no recipient options")
	}
	return out
}

// assertRewritten checks that each message was updated and no update left
// a button.
func assertRewritten(t *testing.T, s *slacktestx.Server, msgs ...any) {
	t.Helper()
	want := msgs[len(msgs)-1].(string)
	updates := s.Calls("chat.update")
	for _, m := range msgs[:len(msgs)-1] {
		msg := m.(domain.Message)
		found := false
		for _, u := range updates {
			if u.Param("channel") == msg.Channel && u.Param("ts") == msg.TS {
				found = true
				if u.HasTransferButtons() {
					t.Errorf("chat.update of %v still has buttons: %s", msg, u.Text())
				}
				if !strings.Contains(u.Text(), want) {
					t.Errorf("chat.update of %v does not say %q: %s", msg, want, u.Text())
				}
			}
		}
		if !found {
			t.Errorf("message %v was not rewritten (updates: %d)", msg, len(updates))
		}
	}
}

// publishedFor is the text of the last App Home published for user.
func publishedFor(t *testing.T, s *slacktestx.Server, user string) string {
	t.Helper()
	var last string
	for _, c := range s.Calls("views.publish") {
		if c.Param("user_id") == user {
			last = c.Text()
		}
	}
	if last == "" {
		t.Fatalf("no App Home published for %s", user)
	}
	return last
}

package slackapp_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/slackapp"
	"github.com/orgcredit/orgcredit/internal/slacktestx"
)

// The worked example of the product page, by clicks only: "the Owner
// clicks Transfer Billing Role", picks Sari, sends the request; "Sari sees
// the pending request and clicks Accept" in My Credit; both My Credit tabs
// show the new state.

// openHome is app_home_opened for user; it returns the published view.
func (f *fixture) openHome(user string) slack.View {
	f.t.Helper()
	f.slack.Reset()
	if r := f.send(slackapp.PathEvents, "application/json", homeOpened(user)); r.StatusCode != 200 {
		f.t.Fatalf("app_home_opened: %d %s", r.StatusCode, r.Body)
	}
	return f.lastHome(user)
}

// lastHome is the last view published for user.
func (f *fixture) lastHome(user string) slack.View {
	f.t.Helper()
	var v slack.View
	found := false
	for _, c := range f.slack.Calls("views.publish") {
		if c.Param("user_id") == user {
			var err error
			if v, err = c.View(); err != nil {
				f.t.Fatal(err)
			}
			found = true
		}
	}
	if !found {
		f.t.Fatalf("no My Credit published for %s", user)
	}
	return v
}

// buttonIn finds the button with action id in view's blocks.
func buttonIn(t *testing.T, v slack.View, action string) *slack.ButtonBlockElement {
	t.Helper()
	for _, b := range v.Blocks.BlockSet {
		switch x := b.(type) {
		case *slack.ActionBlock:
			for _, e := range x.Elements.ElementSet {
				if btn, ok := e.(*slack.ButtonBlockElement); ok && btn.ActionID == action {
					return btn
				}
			}
		case *slack.SectionBlock:
			if x.Accessory != nil && x.Accessory.ButtonElement != nil && x.Accessory.ButtonElement.ActionID == action {
				return x.Accessory.ButtonElement
			}
		}
	}
	js, _ := json.Marshal(v.Blocks)
	t.Fatalf("no %q button in the view: %s", action, js)
	return nil
}

// homeClick is a click on a button of a Home tab: no channel, a trigger.
func (f *fixture) homeClick(user string, btn *slack.ButtonBlockElement) {
	f.t.Helper()
	r := f.interact(map[string]any{
		"type": "block_actions", "api_app_id": "A0ORGCREDIT", "trigger_id": "trigger-home-" + user,
		"team": map[string]any{"id": team}, "user": map[string]any{"id": user, "team_id": team},
		"container": map[string]any{"type": "view", "view_id": "VHOME"},
		"view":      map[string]any{"id": "VHOME", "type": "home"},
		"actions":   []any{map[string]any{"type": "button", "action_id": btn.ActionID, "block_id": "b", "value": btn.Value, "action_ts": "1"}},
	})
	if r.StatusCode != 200 || r.Body != "" {
		f.t.Fatalf("click %s: %d %q", btn.ActionID, r.StatusCode, r.Body)
	}
}

// lastDialog is the last dialog the app opened or updated.
func (f *fixture) lastDialog() slack.View {
	f.t.Helper()
	calls := f.slack.Calls("views.open", "views.update")
	if len(calls) == 0 {
		f.t.Fatal("no dialog was opened")
	}
	v, err := calls[len(calls)-1].View()
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

// transferByClicks walks the request: holder opens My Credit, clicks
// Transfer Billing Role, chooses recipientID in the dialog (which tells
// what it means for them), and sends it.
func (f *fixture) transferByClicks(holder, orgID, recipientID string, wantConsequence string) domain.Transfer {
	f.t.Helper()
	home := f.openHome(holder)
	f.homeClick(holder, buttonIn(f.t.(*testing.T), home, "open_transfer"))
	opened := f.slack.Calls("views.open")
	if len(opened) != 1 || opened[0].Param("trigger_id") != "trigger-home-"+holder {
		f.t.Fatalf("the button did not open the dialog with its trigger: %+v", opened)
	}
	dialog := f.lastDialog()
	if dialog.Title.Text != "Transfer Billing Role" || dialog.Close.Text != "Close" || dialog.PrivateMetadata != orgID {
		f.t.Fatalf("dialog = %+v", dialog)
	}
	// Choosing a member updates the dialog with what it means for them.
	r := f.interact(map[string]any{
		"type": "block_actions", "team": map[string]any{"id": team}, "user": map[string]any{"id": holder, "team_id": team},
		"container": map[string]any{"type": "view", "view_id": "V0MODAL"},
		"view":      map[string]any{"id": "V0MODAL", "hash": "h1", "type": "modal", "callback_id": "billing_transfer", "private_metadata": orgID},
		"actions": []any{map[string]any{"type": "static_select", "action_id": "recipient", "block_id": "recipient",
			"selected_option": map[string]any{"value": recipientID, "text": map[string]any{"type": "plain_text", "text": recipientID}}}},
	})
	if r.StatusCode != 200 {
		f.t.Fatalf("choose: %d %s", r.StatusCode, r.Body)
	}
	updates := f.slack.Calls("views.update")
	if len(updates) != 1 || updates[0].Param("view_id") != "V0MODAL" || updates[0].Param("hash") != "h1" {
		f.t.Fatalf("choosing a member did not update the dialog: %+v", updates)
	}
	if got := updates[0].Text(); !strings.Contains(got, wantConsequence) {
		f.t.Errorf("the updated dialog does not say %q:\n%s", wantConsequence, got)
	}
	if sub := f.interact(submitPayload(holder, orgID, recipientID)); !strings.Contains(sub.Body, `"response_action":"clear"`) {
		f.t.Fatalf("submit: %d %s", sub.StatusCode, sub.Body)
	}
	p, err := f.store.PendingTransfer(f.ctx, orgID)
	if err != nil || p == nil {
		f.t.Fatalf("no pending transfer after Send Request: %v", err)
	}
	return *p
}

func TestWorkedExampleByClicks(t *testing.T) {
	f := newFixture(t)
	tr := f.transferByClicks(dina, org, "sari", "*Sari* is a Member. As Billing holder they can watch")

	// Both My Credit tabs were refreshed by the request.
	if v := f.lastHome(dina); !strings.Contains(viewText(v), "You asked <@"+sari+"> to take over Billing") {
		t.Errorf("Dina's My Credit does not show her request:\n%s", viewText(v))
	}
	sariHome := f.openHome(sari)
	accept := buttonIn(t, sariHome, "transfer_accept")
	if accept.Confirm == nil || !strings.Contains(accept.Confirm.Text.Text, "can't leave") {
		t.Errorf("Accept has no confirm that states the consequence: %+v", accept.Confirm)
	}
	if d := buttonIn(t, sariHome, "transfer_decline"); d.Confirm == nil {
		t.Error("Decline has no confirm dialog")
	}
	f.slack.Reset()
	f.homeClick(sari, accept)

	if got := f.orgNow().BillingHolderID; got != "sari" {
		t.Fatalf("holder after Accept in My Credit = %q", got)
	}
	// Both messages are rewritten without a live transfer button; Dina is
	// told once, in her request's thread; both tabs are refreshed.
	updates := f.slack.Calls("chat.update")
	if len(updates) != 2 {
		t.Fatalf("%d messages rewritten, want both", len(updates))
	}
	for _, u := range updates {
		if u.HasTransferButtons() {
			t.Errorf("a rewritten message still has a transfer button: %s", u.Text())
		}
	}
	var replies []slacktestx.Call
	for _, c := range f.slack.Calls("chat.postMessage") {
		if c.Param("thread_ts") != "" {
			replies = append(replies, c)
		}
	}
	if len(replies) != 1 || replies[0].Param("thread_ts") != tr.InitiatorMessage.TS || !strings.Contains(replies[0].Param("text"), "<@"+sari+"> accepted your request") {
		t.Errorf("Dina is told %d times, want once in her request's thread: %+v", len(replies), replies)
	}
	if v := f.lastHome(sari); !strings.Contains(viewText(v), "credit is") {
		t.Errorf("Sari's My Credit after Accept does not show the credit:\n%s", viewText(v))
	}
	if v := f.lastHome(dina); !strings.Contains(viewText(v), "Billing is held by <@"+sari+">") {
		t.Errorf("Dina's My Credit after Accept does not name Sari:\n%s", viewText(v))
	}
	// Sari is a Member: her My Credit says what must happen before she can
	// pass Billing on, and offers no Transfer button.
	if v := f.openHome(sari); strings.Contains(viewText(v), `"action_id":"open_transfer"`) || !strings.Contains(viewText(v), "must first make you an Owner") {
		t.Errorf("Sari's My Credit as a holder who is not an Owner:\n%s", viewText(v))
	}
}

// TestWorkedExampleByClicksInTwoOrganizations: Sari is a Member of Acme
// and the Owner holding Billing of Beta, in the same workspace. She picks
// Beta in My Credit (remembered) and hands Beta's Billing to Omar, by
// clicks; Acme is untouched.
func TestWorkedExampleByClicksInTwoOrganizations(t *testing.T) {
	f := newFixture(t)
	f.secondOrg()
	home := f.openHome(sari)
	if !strings.Contains(viewText(home), `"action_id":"home_org"`) {
		t.Fatalf("no organization selector in My Credit:\n%s", viewText(home))
	}
	f.interact(map[string]any{
		"type": "block_actions", "team": map[string]any{"id": team}, "user": map[string]any{"id": sari, "team_id": team},
		"container": map[string]any{"type": "view", "view_id": "VHOME"},
		"actions": []any{map[string]any{"type": "static_select", "action_id": "home_org", "block_id": "home_org",
			"selected_option": map[string]any{"value": "beta", "text": map[string]any{"type": "plain_text", "text": "Beta"}}}},
	})
	tr := f.transferByClicks(sari, "beta", "omar-b", "*Omar* is a Member")
	f.openHome(omar) // Omar's My Credit opens on his only... he is in both: Acme (Admin) and Beta
	f.slack.Reset()
	f.interact(map[string]any{
		"type": "block_actions", "team": map[string]any{"id": team}, "user": map[string]any{"id": omar, "team_id": team},
		"container": map[string]any{"type": "view", "view_id": "VHOME"},
		"actions": []any{map[string]any{"type": "static_select", "action_id": "home_org", "block_id": "home_org",
			"selected_option": map[string]any{"value": "beta", "text": map[string]any{"type": "plain_text", "text": "Beta"}}}},
	})
	f.homeClick(omar, buttonIn(t, f.lastHome(omar), "transfer_accept"))
	if o, _ := f.store.GetOrg(f.ctx, "beta"); o.BillingHolderID != "omar-b" {
		t.Fatalf("Beta's holder = %q", o.BillingHolderID)
	}
	if f.orgNow().BillingHolderID != "dina" || f.pending() != nil {
		t.Error("the transfer in Beta touched Acme")
	}
	if got, _ := f.store.GetTransfer(f.ctx, "beta", tr.ID); got.Status != domain.TransferAccepted {
		t.Errorf("transfer = %s", got.Status)
	}
	// Every message of the transfer names Beta.
	for _, c := range f.slack.Calls("chat.update") {
		if !strings.Contains(c.Text(), "Beta") {
			t.Errorf("a rewritten message does not name the organization: %s", c.Text())
		}
	}
}

func viewText(v slack.View) string {
	b, _ := json.Marshal(v)
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(b))
}

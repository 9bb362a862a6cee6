package slackapp_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/slackapp"
	"github.com/orgcredit/orgcredit/internal/slacktestx"
)

// hostile are names and reasons a hostile workspace member or operator
// could give, each allowed by the domain (no control or invisible
// characters), each markup if sent raw.
var hostile = struct{ org, owner, member, group, agent, reason string }{
	org:    "<!channel> <https://evil.example/pay|Top up credits here>",
	owner:  "Eve <!here>",
	member: "Mallory <@U0ADMIN> & co",
	group:  "<!everyone> <https://evil.example/x|Research>",
	agent:  "<#C0GENERAL> bot",
	reason: "<https://evil.example/refund|refund> <!channel>",
}

// markup a hostile value would inject, if it reached a mrkdwn text raw.
var injected = []string{"<!channel>", "<!here>", "<!everyone>", "<https://evil", "|Top up credits here>", "<@U0ADMIN>", "<#C0GENERAL>"}

// TestHostileNamesReachSlackAsText drives every surface of the app with an
// organization whose every name is hostile, and reads every mrkdwn text
// it sent or answered: a name shows as typed, never as a ping or a link.
// (plain_text is shown literally by Slack, so it is not markup.)
func TestHostileNamesReachSlackAsText(t *testing.T) {
	f := newFixture(t)
	const team2, eve, mal = team, "U0EVE", "U0MAL"
	if _, _, err := f.store.CreateOrg(f.ctx, domain.Org{ID: "evil", Name: hostile.org, SlackTeamID: team2, LowBalanceThreshold: 50 * credit},
		domain.Member{ID: "eve", Name: hostile.owner, SlackUserID: eve}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.store.AddMember(f.ctx, domain.Member{OrgID: "evil", ID: "mal", Name: hostile.member, SlackUserID: mal, Role: domain.RoleMember}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.store.AddMember(f.ctx, domain.Member{OrgID: "evil", ID: "mal2", Name: hostile.member + " 2", SlackUserID: "U0MAL2", Role: domain.RoleAdmin}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := f.store.Grant(f.ctx, domain.Grant{OrgID: "evil", ID: "g1", Amount: 100 * credit, Reason: hostile.reason}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.store.CreateGroup(f.ctx, domain.BudgetGroup{OrgID: "evil", ID: "research", Name: hostile.group, Cap: 10 * credit}, nil); err != nil {
		t.Fatal(err)
	}
	agent, _, _, err := f.store.CreateAgent(f.ctx, domain.Agent{OrgID: "evil", ID: "bot", Name: hostile.agent, BudgetGroupID: "research"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Debit(f.ctx, agent, domain.UsageEvent{ID: "u1", Amount: 9 * credit}); err != nil {
		t.Fatal(err)
	}

	var answers []string
	cmd := func(user, command, text string) {
		t.Helper()
		r := f.send(slackapp.PathCommands, formType, f.commandBody(command, user, text))
		answers = append(answers, r.Body)
	}
	for _, c := range [][3]string{
		{eve, "/billing", "help"}, {eve, "/billing", "status"}, {eve, "/credit", ""}, {mal, "/credit", ""},
		{eve, "/billing", "groups"}, {eve, "/billing", "audit 20"}, {eve, "/billing", "leave"}, {mal, "/billing", "leave"},
		{eve, "/billing", "group create ops 5 " + hostile.group}, {eve, "/billing", "group cap research 20"},
		{eve, "/billing", "group assign bot none"}, {eve, "/billing", "role <@" + mal + "> admin"}, {mal, "/billing", "role <@" + eve + "> member"},
		{eve, "/billing", "transfer"},
	} {
		cmd(c[0], c[1], c[2])
	}
	// A request to Mallory, answered both ways and invalidated.
	submit := func(recipient string) domain.Transfer {
		t.Helper()
		f.interact(submitPayload(eve, "evil", recipient))
		p, err := f.store.PendingTransfer(f.ctx, "evil")
		if err != nil || p == nil {
			t.Fatalf("no pending transfer to %s: %v", recipient, err)
		}
		return *p
	}
	tr := submit("mal")
	cmd(mal, "/billing", "status")
	f.clickValue(mal, "transfer_decline", "evil|"+tr.ID, tr.RecipientMessage)
	if got, _ := f.store.GetTransfer(f.ctx, "evil", tr.ID); got.Status != domain.TransferDeclined {
		t.Fatalf("the decline did not land: %s", got.Status)
	}
	tr = submit("mal")
	if err := f.store.RemoveMember(f.ctx, "evil", nil, "mal"); err != nil {
		t.Fatal(err)
	}
	gone, err := f.store.GetTransfer(f.ctx, "evil", tr.ID)
	if err != nil || gone.Status != domain.TransferInvalidated {
		t.Fatalf("transfer after the removal: %+v %v", gone, err)
	}
	if err := f.app.AnnounceTransferOutcome(f.ctx, gone); err != nil {
		t.Fatal(err)
	}
	tr = submit("mal2")
	f.clickValue("U0MAL2", "transfer_accept", "evil|"+tr.ID, tr.RecipientMessage)
	if o, _ := f.store.GetOrg(f.ctx, "evil"); o.BillingHolderID != "mal2" {
		t.Fatalf("the accept did not land: holder %s", o.BillingHolderID)
	}
	for _, u := range []string{eve, "U0MAL2"} {
		if err := f.app.PublishHome(f.ctx, team2, u); err != nil {
			t.Fatal(err)
		}
	}
	org, _ := f.store.GetOrg(f.ctx, "evil")
	holder, _ := f.store.GetMember(f.ctx, "evil", org.BillingHolderID)
	group, _ := f.store.GetGroup(f.ctx, "evil", "research")
	for _, a := range []domain.Alert{
		{Kind: domain.AlertLowBalance, OrgID: "evil", Balance: 9 * credit, Threshold: 50 * credit},
		{Kind: domain.AlertExhausted, OrgID: "evil"},
		{Kind: domain.AlertGroupSpend, OrgID: "evil", GroupID: "research", Period: domain.Period(time.Now()), Spent: 9 * credit, Cap: 10 * credit, Level: 80},
		{Kind: domain.AlertGroupSpend, OrgID: "evil", GroupID: "research", Period: domain.Period(time.Now()), Spent: 10 * credit, Cap: 10 * credit, Level: 100},
	} {
		if err := f.app.SendAlert(f.ctx, org, holder, a, &group); err != nil {
			t.Fatal(err)
		}
	}

	var texts []string
	for _, body := range answers {
		texts = append(texts, mrkdwnTexts(json.RawMessage(body))...)
	}
	for _, c := range f.slack.Calls() {
		texts = append(texts, callTexts(c)...)
	}
	if len(texts) < 40 {
		t.Fatalf("only %d texts were read: the drive did not reach the surfaces", len(texts))
	}
	for _, s := range texts {
		for _, bad := range injected {
			if strings.Contains(s, bad) {
				t.Errorf("markup %q reached Slack in %q", bad, s)
			}
		}
	}
	// The names did reach the messages, escaped.
	all := strings.Join(texts, "\n")
	for _, want := range []string{"&lt;!channel&gt;", "Eve &lt;!here&gt;", "Mallory &lt;@U0ADMIN&gt; &amp; co", "&lt;!everyone&gt;"} {
		if !strings.Contains(all, want) {
			t.Errorf("no message shows %q", want)
		}
	}
}

// callTexts are the mrkdwn texts of a Web API call: its text parameter
// (Slack reads it as mrkdwn) and every mrkdwn text object of its blocks
// or view.
func callTexts(c slacktestx.Call) []string {
	var out []string
	if s := c.Form.Get("text"); s != "" {
		out = append(out, s)
	}
	for _, k := range []string{"blocks", "view"} {
		if s := c.Form.Get(k); s != "" {
			out = append(out, mrkdwnTexts(json.RawMessage(s))...)
		}
		if raw, ok := c.JSON[k]; ok {
			out = append(out, mrkdwnTexts(raw)...)
		}
	}
	return out
}

// mrkdwnTexts walks a payload for mrkdwn text objects, and a message's
// top-level text.
func mrkdwnTexts(raw json.RawMessage) []string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	var out []string
	if m, ok := v.(map[string]any); ok {
		if s, ok := m["text"].(string); ok {
			out = append(out, s)
		}
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if x["type"] == "mrkdwn" {
				if s, ok := x["text"].(string); ok {
					out = append(out, s)
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(v)
	return out
}

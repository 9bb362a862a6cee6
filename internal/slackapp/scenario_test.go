package slackapp_test

// Scenarios: the app driven as Slack drives it, one story per test, read
// as the people in it would read it.

import (
	"strings"
	"testing"
	"time"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/slackapp"
	"github.com/orgcredit/orgcredit/internal/slacktestx"
)

// transferAs runs the whole request as initiator (a Slack user) to the
// member recipientID and returns the pending transfer.
func (f *fixture) transferAs(initiator, recipientID string) domain.Transfer {
	f.t.Helper()
	if r := f.billing(initiator, "transfer"); r.StatusCode != 200 || r.Body != "" {
		f.t.Fatalf("/billing transfer by %s: %d %s", initiator, r.StatusCode, r.Body)
	}
	r := f.interact(submitPayload(initiator, org, recipientID))
	if !strings.Contains(r.Body, `"response_action":"clear"`) {
		f.t.Fatalf("submit by %s: want clear, got %d %s", initiator, r.StatusCode, r.Body)
	}
	p := f.pending()
	if p == nil || p.RecipientID != recipientID {
		f.t.Fatalf("pending transfer after submit = %+v", p)
	}
	return *p
}

// click clicks action on msg as user, with value naming transfer t.
func (f *fixture) click(user, action string, t domain.Transfer, msg domain.Message) {
	f.t.Helper()
	f.clickValue(user, action, org+"|"+t.ID, msg)
}

func (f *fixture) clickValue(user, action, value string, msg domain.Message) {
	f.t.Helper()
	if r := f.interact(clickPayload(user, action, value, msg.Channel, msg.TS, true)); r.StatusCode != 200 || r.Body != "" {
		f.t.Fatalf("click %s by %s: %d %q", action, user, r.StatusCode, r.Body)
	}
}

// saidTo is the last ephemeral message shown to user since the last Reset.
func (f *fixture) saidTo(user string) string {
	var said string
	for _, c := range f.slack.Calls("chat.postEphemeral") {
		if c.Param("user") == user {
			said = c.Param("text")
		}
	}
	return said
}

// updatesOf are the rewrites of msg since the last Reset.
func (f *fixture) updatesOf(msg domain.Message) []slacktestx.Call {
	var out []slacktestx.Call
	for _, c := range f.slack.Calls("chat.update") {
		if c.Param("channel") == msg.Channel && c.Param("ts") == msg.TS {
			out = append(out, c)
		}
	}
	return out
}

func (f *fixture) transfer(id string) domain.Transfer {
	f.t.Helper()
	t, err := f.store.GetTransfer(f.ctx, org, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return t
}

func (f *fixture) member(id string) domain.Member {
	f.t.Helper()
	m, err := f.store.GetMember(f.ctx, org, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

func wantContains(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s = %q\nwant it to contain %q", what, got, w)
		}
	}
}

// TestScenarioWorkedExampleReversed: after the worked example Sari holds
// Billing but is a Member. She cannot hand it back or leave until an Owner
// makes her an Owner; then she transfers it back to Dina.
func TestScenarioWorkedExampleReversed(t *testing.T) {
	f := newFixture(t)
	tr := f.transferAs(dina, "sari")
	f.click(sari, "transfer_accept", tr, tr.RecipientMessage)
	if got := f.orgNow().BillingHolderID; got != "sari" {
		t.Fatalf("holder after accept = %q", got)
	}

	f.slack.Reset()
	wantContains(t, "Sari's /billing transfer", ephemeralText(t, f.billing(sari, "transfer")),
		"Only an Owner who holds Billing", "Ask an Owner to make you an Owner")
	wantContains(t, "Sari's /billing leave", ephemeralText(t, f.billing(sari, "leave")),
		"holds Billing", "an Owner must first make them an Owner", "/billing role")
	if n := len(f.slack.Calls("views.open")); n != 0 {
		t.Errorf("a Member holder got the transfer modal (%d views.open)", n)
	}
	if !f.member("sari").Active() {
		t.Fatal("the holder left")
	}
	wantContains(t, "Sari's /credit", ephemeralText(t, f.send(slackapp.PathCommands, formType, f.commandBody("/credit", sari, ""))),
		"*Acme*: balance 1,234.5 credits")
	wantContains(t, "Dina's /credit", ephemeralText(t, f.send(slackapp.PathCommands, formType, f.commandBody("/credit", dina, ""))),
		"Only the Billing holder", "<@"+sari+">")

	wantContains(t, "Dina's /billing role", ephemeralText(t, f.billing(dina, "role <@"+sari+"|sari> owner")),
		"<@"+sari+"> is now Owner")
	back := f.transferAs(sari, "dina")
	opens := f.slack.Calls("views.open")
	view, err := opens[len(opens)-1].View()
	if err != nil {
		t.Fatal(err)
	}
	if opts := modalOptions(t, view); !opts["dina"] || opts["sari"] || opts["nora"] {
		t.Errorf("Sari's modal lists %v; want Dina, not Sari nor Nora", opts)
	}
	toDina := f.posted(dmChannel(dina))
	if last := toDina[len(toDina)-1]; last.Buttons["transfer_accept"] == "" || !strings.Contains(last.Text, "<@"+sari+"> asks you") {
		t.Errorf("Dina's request = %+v", last)
	}
	f.slack.Reset()
	f.click(dina, "transfer_accept", back, back.RecipientMessage)
	if got := f.orgNow().BillingHolderID; got != "dina" {
		t.Fatalf("holder after the transfer back = %q", got)
	}
	if got := f.member("sari").Role; got != domain.RoleOwner {
		t.Errorf("Sari's everyday role changed to %s", got)
	}
	assertRewritten(t, f.slack, back.RecipientMessage, back.InitiatorMessage, "accepted")
	wantContains(t, "what Sari is told", f.posted(dmChannel(sari))[0].Text, "<@"+dina+"> accepted the Billing role")
}

// TestScenarioExpiredRequestReplaced: a request nobody answered expires;
// before any sweep, Dina asks Omar instead. Sari's old request must lose
// its buttons and both be told it expired, once.
func TestScenarioExpiredRequestReplaced(t *testing.T) {
	f := newFixture(t)
	old := f.transferAs(dina, "sari")
	f.ahead.Store(int64(domain.DefaultTransferTTL + time.Hour))
	f.slack.Reset()
	wantContains(t, "status after expiry", ephemeralText(t, f.billing(dina, "status")), "No transfer of Billing is pending")

	f.transferAs(dina, "omar")
	if got := f.transfer(old.ID).Status; got != domain.TransferExpired {
		t.Fatalf("old transfer = %s, want expired", got)
	}
	assertRewritten(t, f.slack, old.RecipientMessage, old.InitiatorMessage, "expired")
	if n := len(f.posted(dmChannel(sari))); n != 1 {
		t.Errorf("Sari was told %d times of the expiry, want 1", n)
	}

	// Her late click on the rewritten message only says where it stands.
	f.slack.Reset()
	f.interact(clickPayload(sari, "transfer_accept", org+"|"+old.ID, old.RecipientMessage.Channel, old.RecipientMessage.TS, false))
	wantContains(t, "Sari's late click", f.saidTo(sari), "already expired")
	if n := len(f.posted(dmChannel(sari))) + len(f.posted(dmChannel(dina))); n != 0 {
		t.Errorf("a late click announced the expiry again (%d messages)", n)
	}
	if p := f.pending(); p == nil || p.RecipientID != "omar" {
		t.Errorf("the request to Omar is no longer pending: %+v", p)
	}
}

// TestScenarioRecipientLeaves: Sari leaves while a transfer to her is
// pending. The transfer is invalidated, Dina is told and her Cancel button
// goes away; her late click changes nothing.
func TestScenarioRecipientLeaves(t *testing.T) {
	for _, expired := range []bool{false, true} {
		name := "pending"
		if expired {
			name = "expired but not yet swept"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			tr := f.transferAs(dina, "sari")
			if expired {
				f.ahead.Store(int64(domain.DefaultTransferTTL + time.Hour))
			}
			f.slack.Reset()
			wantContains(t, "Sari's leave", ephemeralText(t, f.billing(sari, "leave confirm")), "You left *Acme*")
			if f.member("sari").Active() {
				t.Fatal("Sari is still active")
			}
			if got := f.transfer(tr.ID).Status; got == domain.TransferPending {
				t.Fatalf("the transfer is still pending after the recipient left")
			}
			want := "no longer valid"
			if expired {
				want = "" // either outcome is honest; the buttons must go
			}
			assertRewritten(t, f.slack, tr.RecipientMessage, tr.InitiatorMessage, want)
			told := f.posted(dmChannel(dina))
			if len(told) != 1 {
				t.Fatalf("Dina was told %d times, want 1", len(told))
			}
			if !expired {
				wantContains(t, "what Dina is told", told[0].Text, "Sari left the organization")
			}

			f.slack.Reset()
			f.interact(clickPayload(dina, "transfer_cancel", org+"|"+tr.ID, tr.InitiatorMessage.Channel, tr.InitiatorMessage.TS, false))
			if said := f.saidTo(dina); !strings.Contains(said, "already") {
				t.Errorf("Dina's late Cancel: %q", said)
			}
			if n := len(f.posted(dmChannel(dina))); n != 0 {
				t.Errorf("the late click announced again")
			}
		})
	}
}

// TestScenarioForgedValue: a click whose value names another transfer, or
// another organization, changes nothing, and in particular does not
// rewrite the clicked, still pending request.
func TestScenarioForgedValue(t *testing.T) {
	f := newFixture(t)
	if _, _, err := f.store.CreateOrg(f.ctx, domain.Org{ID: "beta", Name: "Beta", SlackTeamID: team},
		domain.Member{ID: "sari-b", Name: "Sari", SlackUserID: sari}); err != nil {
		t.Fatal(err)
	}
	first := f.transferAs(dina, "sari")
	f.click(sari, "transfer_decline", first, first.RecipientMessage)
	live := f.transferAs(dina, "sari")

	for _, value := range []string{org + "|" + first.ID, "beta|" + live.ID, org + "|", "nonsense", org + "|tr_nope"} {
		f.slack.Reset()
		f.clickValue(sari, "transfer_accept", value, live.RecipientMessage)
		if n := len(f.updatesOf(live.RecipientMessage)); n != 0 {
			t.Errorf("value %q: the live request was rewritten", value)
		}
		if got := f.transfer(live.ID).Status; got != domain.TransferPending {
			t.Fatalf("value %q: the live transfer is %s", value, got)
		}
		if said := f.saidTo(sari); said == "" {
			t.Errorf("value %q: Sari was told nothing", value)
		}
		if f.orgNow().BillingHolderID != "dina" {
			t.Fatalf("value %q moved Billing", value)
		}
	}
	// The genuine click still works.
	f.click(sari, "transfer_accept", live, live.RecipientMessage)
	if f.orgNow().BillingHolderID != "sari" {
		t.Fatal("the genuine accept did not move Billing")
	}
}

// TestScenarioLeaving: `/billing leave` says what leaving does and asks for
// `/billing leave confirm`, which alone leaves; the Billing holder and the
// last Owner are told why not and how.
func TestScenarioLeaving(t *testing.T) {
	tests := []struct {
		name       string
		before     func(f *fixture)
		user, text string
		want       []string
		wantActive bool
	}{
		{name: "a Member asks", user: ravi, text: "leave", wantActive: true,
			want: []string{"*Acme*", "an operator", "`/billing leave confirm`"}},
		{name: "a Member in two organizations asks about one", user: sari, text: "leave org:acme", wantActive: true,
			before: func(f *fixture) { f.secondOrg() },
			want:   []string{"*Acme*", "`/billing leave confirm org:acme`"}},
		{name: "the recipient of a pending transfer asks", user: sari, text: "leave", wantActive: true,
			before: func(f *fixture) { f.transferAs(dina, "sari") },
			want:   []string{"pending", "`/billing leave confirm`"}},
		{name: "a Member confirms", user: ravi, text: "leave confirm", want: []string{"You left *Acme*"}},
		{name: "the holder is told how", user: dina, text: "leave", wantActive: true,
			want: []string{"holds Billing", "Transfer Billing first with `/billing transfer`"}},
		{name: "the holder confirms and is still told how", user: dina, text: "leave confirm", wantActive: true,
			want: []string{"holds Billing", "/billing transfer"}},
		{name: "the last Owner, not holding Billing", user: dina, text: "leave", wantActive: true,
			before: func(f *fixture) {
				tr := f.transferAs(dina, "sari")
				f.click(sari, "transfer_accept", tr, tr.RecipientMessage)
			},
			want: []string{"last Owner", "Make another member an Owner first"}},
		{name: "leave with nonsense", user: ravi, text: "leave now", wantActive: true,
			want: []string{"`/billing leave confirm`"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.before != nil {
				tt.before(f)
			}
			id := map[string]string{ravi: "ravi", sari: "sari", dina: "dina"}[tt.user]
			wantContains(t, "answer", ephemeralText(t, f.billing(tt.user, tt.text)), tt.want...)
			if got := f.member(id).Active(); got != tt.wantActive {
				t.Errorf("active after %q = %v, want %v", tt.text, got, tt.wantActive)
			}
		})
	}
}

// secondOrg makes Beta, in the same Slack workspace, where Sari is the
// Owner holding Billing, with 7 credits.
func (f *fixture) secondOrg() {
	f.t.Helper()
	if _, _, err := f.store.CreateOrg(f.ctx, domain.Org{ID: "beta", Name: "Beta", SlackTeamID: team},
		domain.Member{ID: "sari-b", Name: "Sari", SlackUserID: sari}); err != nil {
		f.t.Fatal(err)
	}
	if _, _, err := f.store.AddMember(f.ctx, domain.Member{OrgID: "beta", ID: "omar-b", Name: "Omar", SlackUserID: omar, Role: domain.RoleMember}, nil); err != nil {
		f.t.Fatal(err)
	}
	if _, _, _, err := f.store.Grant(f.ctx, domain.Grant{OrgID: "beta", ID: "g1", Amount: 7 * credit, Reason: "seed"}, nil); err != nil {
		f.t.Fatal(err)
	}
}

// TestScenarioGroupsAndRoles: Owners, Admins and plain Members manage
// budget groups and roles by command; every answer is read as a person
// reads it, and a refused command changes nothing.
func TestScenarioGroupsAndRoles(t *testing.T) {
	f := newFixture(t)
	if _, _, _, err := f.store.CreateAgent(f.ctx, domain.Agent{OrgID: org, ID: "bot1", Name: "Bot One"}, nil); err != nil {
		t.Fatal(err)
	}
	capOf := func(id string) domain.Micros {
		g, err := f.store.GetGroup(f.ctx, org, id)
		if err != nil {
			return -1
		}
		return g.Cap
	}
	steps := []struct {
		user, text string
		want       []string
		check      func() bool
	}{
		{omar, "group create eng 12.5 Engineering team", []string{"Created budget group *Engineering team* (`eng`)", "12.5 credits"},
			func() bool { return capOf("eng") == 12*credit+credit/2 }},
		{omar, "group cap eng 0.000001", []string{"0.000001 credits"}, func() bool { return capOf("eng") == 1 }},
		{omar, "group cap eng 1,000", []string{"1,000 credits"}, func() bool { return capOf("eng") == 1000*credit }},
		{omar, "group cap eng -3", []string{`"-3" is not an amount`}, func() bool { return capOf("eng") == 1000*credit }},
		{omar, "group cap eng abc", []string{`"abc" is not an amount`}, func() bool { return capOf("eng") == 1000*credit }},
		{omar, "group cap eng 1.1234567", []string{"more than 6 decimals"}, func() bool { return capOf("eng") == 1000*credit }},
		{omar, "group cap eng 1,5", []string{"a comma may only separate thousands"}, func() bool { return capOf("eng") == 1000*credit }},
		{omar, "group cap nope 5", []string{`"nope"`, "/billing groups"}, func() bool { return capOf("nope") == -1 }},
		{sari, "group cap eng 5", []string{"Only Owners and Admins"}, func() bool { return capOf("eng") == 1000*credit }},
		{sari, "group create ops 5", []string{"Only Owners and Admins"}, func() bool { return capOf("ops") == -1 }},
		{omar, "group assign bot1 eng", []string{"*Bot One* (`bot1`) is now in budget group `eng`"}, nil},
		{omar, "group assign bot1 nope", []string{`"nope"`, "/billing groups"}, nil},
		{omar, "group assign ghost eng", []string{`"ghost"`}, nil},
		{omar, "groups", []string{"*Engineering team* (`eng`)", "of 1,000 credits spent"}, nil},
		{sari, "groups", []string{"Owners, Admins and the Billing holder"}, nil},

		{omar, "role <@" + sari + "|sari> billing", []string{"not an everyday role", "/billing transfer"},
			func() bool { return f.member("sari").Role == domain.RoleMember && f.orgNow().BillingHolderID == "dina" }},
		{dina, "role <@" + dina + "|dina> member", []string{"last Owner", "Make another member an Owner first"},
			func() bool { return f.member("dina").Role == domain.RoleOwner }},
		{omar, "role <@" + ravi + "> owner", []string{"Only an Owner can make or unmake an Owner"},
			func() bool { return f.member("ravi").Role == domain.RoleBuilder }},
		{sari, "role <@" + ravi + "> admin", []string{"Only Owners and Admins"},
			func() bool { return f.member("ravi").Role == domain.RoleBuilder }},
		{omar, "role <@" + stray + "> admin", []string{"<@" + stray + "> is not an active member of *Acme*"}, nil},
		{omar, "role <@" + ravi + "> admin", []string{"<@" + ravi + "> is now Admin in *Acme*"},
			func() bool { return f.member("ravi").Role == domain.RoleAdmin }},
		{omar, "role <@" + ravi + "> admin", []string{"already Admin"}, nil},

		{sari, "audit", []string{"Owners, Admins"}, nil},
		{omar, "audit 5", []string{"*Audit trail of Acme*", "`member.role_changed` *Ravi* (builder → admin)", "(none → eng)", "(0.000001 credits → 1,000 credits)"}, nil},
	}
	for _, s := range steps {
		got := ephemeralText(t, f.billing(s.user, s.text))
		wantContains(t, s.user+" /billing "+s.text, got, s.want...)
		if s.check != nil && !s.check() {
			t.Errorf("%s /billing %s: the state is not what the answer says (answer %q)", s.user, s.text, got)
		}
	}
}

package slackapp_test

// Scenarios: the app driven as Slack drives it, one story per test, read
// as the people in it would read it.

import (
	"regexp"
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
		"*Acme's credit is healthy:* 1,234.5 credits left")
	wantContains(t, "Dina's /credit", ephemeralText(t, f.send(slackapp.PathCommands, formType, f.commandBody("/credit", dina, ""))),
		"Only the Billing holder", "<@"+sari+">")

	wantContains(t, "Dina's /billing role", ephemeralText(t, f.billing(dina, "role <@"+sari+"|sari> owner")),
		"<@"+sari+"> is now an Owner")
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
	wantContains(t, "what Sari is told", f.posted(dmChannel(sari))[0].Text, "<@"+dina+"> accepted your request")
}

// TestScenarioExpiredRequestReplaced: a request nobody answered expires;
// before any sweep, Dina asks Omar instead. Sari's old request must lose
// its buttons and both be told it expired, once.
func TestScenarioExpiredRequestReplaced(t *testing.T) {
	f := newFixture(t)
	old := f.transferAs(dina, "sari")
	f.ahead.Store(int64(domain.DefaultTransferTTL + time.Hour))
	f.slack.Reset()
	wantContains(t, "status after expiry", ephemeralText(t, f.billing(dina, "status")), "No transfer is waiting for an answer")

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
			want: []string{"*Acme*", "only whoever runs orgcredit for it can add you back", "Leave Acme", "Stay"}},
		{name: "a Member in two organizations asks about one", user: sari, text: "leave org:acme", wantActive: true,
			before: func(f *fixture) { f.secondOrg() },
			want:   []string{"Leaving *Acme*", "Leave Acme"}},
		{name: "the recipient of a pending transfer asks", user: sari, text: "leave", wantActive: true,
			before: func(f *fixture) { f.transferAs(dina, "sari") },
			want:   []string{"The Billing transfer waiting for an answer is cancelled too", "Leave Acme"}},
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
			want: []string{"Leave Acme"}},
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
		{omar, "group assign bot1 eng", []string{"*Bot One* of *Acme* is now in budget group `eng`"}, nil},
		{omar, "group assign bot1 nope", []string{`"nope"`, "/billing groups"}, nil},
		{omar, "group assign ghost eng", []string{`"ghost"`}, nil},
		{omar, "groups", []string{"*Engineering team* — 0 % · 0 of 1,000 credits"}, nil},
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
		{omar, "role <@" + ravi + "> admin", []string{"<@" + ravi + "> is now an Admin in *Acme*"},
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

// TestScenarioTwoOrganizations: Sari is a Member of Acme and the Owner
// holding Billing of Beta, in the same Slack workspace. She names the
// organization or is asked to; App Home has a selector; a transfer in Beta
// touches nothing in Acme.
func TestScenarioTwoOrganizations(t *testing.T) {
	f := newFixture(t)
	f.secondOrg()
	credit := func(user, text string) string {
		return ephemeralText(t, f.send(slackapp.PathCommands, formType, f.commandBody("/credit", user, text)))
	}
	wantContains(t, "/credit without an organization", credit(sari, ""),
		"You belong to 2 organizations", "*Acme* (`org:acme`)", "*Beta* (`org:beta`)", "Choose one in *My Credit*")
	wantContains(t, "/credit org:beta", credit(sari, "org:beta"), "*Beta's credit is healthy:* 7 credits left")
	wantContains(t, "/credit org:acme", credit(sari, "org:acme"), "Only the Billing holder of *Acme*", "<@"+dina+">")
	wantContains(t, "/billing status without an organization", ephemeralText(t, f.billing(sari, "status")), "Choose one in *My Credit*", "`org:&lt;id&gt;`")

	// App Home: opened, it shows the first organization with a selector.
	f.slack.Reset()
	homeEvent := func(privateMetadata string) {
		t.Helper()
		ev := `{"type":"event_callback","team_id":"` + team + `","event":{"type":"app_home_opened","user":"` + sari + `","channel":"D0SARI","tab":"home"`
		if privateMetadata != "" {
			ev += `,"view":{"id":"V1","type":"home","private_metadata":"` + privateMetadata + `"}`
		}
		ev += `},"event_id":"Ev1","event_time":1}`
		if r := f.send(slackapp.PathEvents, "application/json", []byte(ev)); r.StatusCode != 200 {
			t.Fatalf("app_home_opened: %d %s", r.StatusCode, r.Body)
		}
	}
	homeEvent("")
	home := publishedFor(t, f.slack, sari)
	wantContains(t, "Sari's home", home, `"action_id":"home_org"`, "*Acme* · Billing is held by <@"+dina+">", "Only the Billing holder sees Acme's credit", `"private_metadata":"acme"`)
	f.interact(map[string]any{
		"type": "block_actions", "team": map[string]any{"id": team}, "user": map[string]any{"id": sari, "team_id": team},
		"container": map[string]any{"type": "view", "view_id": "V1"},
		"actions": []any{map[string]any{"type": "static_select", "action_id": "home_org", "block_id": "home_org_select",
			"selected_option": map[string]any{"value": "beta", "text": map[string]any{"type": "plain_text", "text": "Beta"}}}},
	})
	wantContains(t, "Sari's home on Beta", publishedFor(t, f.slack, sari), "Beta's credit is healthy", "7 credits", `"private_metadata":"beta"`)
	homeEvent("")
	wantContains(t, "Sari's home reopened", publishedFor(t, f.slack, sari), "Beta's credit is healthy", `"private_metadata":"beta"`)
	// The choice is the default of her commands from now on.
	wantContains(t, "/credit after choosing Beta", credit(sari, ""), "*Beta's credit is healthy:* 7 credits left")

	// A transfer in Beta, to Omar (a Member of Beta and the Admin of Acme).
	if r := f.billing(sari, "transfer org:beta"); r.StatusCode != 200 || r.Body != "" {
		t.Fatalf("/billing transfer org:beta: %d %s", r.StatusCode, r.Body)
	}
	opens := f.slack.Calls("views.open")
	view, err := opens[len(opens)-1].View()
	if err != nil {
		t.Fatal(err)
	}
	if view.PrivateMetadata != "beta" || !modalOptions(t, view)["omar-b"] || len(modalOptions(t, view)) != 1 {
		t.Fatalf("Beta's modal: metadata %q options %v", view.PrivateMetadata, modalOptions(t, view))
	}
	f.slack.Reset()
	if r := f.interact(submitPayload(sari, "beta", "omar-b")); !strings.Contains(r.Body, `"response_action":"clear"`) {
		t.Fatalf("submit in Beta: %s", r.Body)
	}
	p, err := f.store.PendingTransfer(f.ctx, "beta")
	if err != nil || p == nil {
		t.Fatalf("Beta's pending transfer: %v %v", p, err)
	}
	value := "beta|" + p.ID
	if got := f.posted(dmChannel(omar)); len(got) != 1 || got[0].Buttons["transfer_accept"] != value || !strings.Contains(got[0].Text, "*Beta*") {
		t.Fatalf("Omar's request = %+v", got)
	}

	// Ravi is not in Beta: his click changes nothing.
	f.slack.Reset()
	f.clickValue(ravi, "transfer_accept", value, p.RecipientMessage)
	wantContains(t, "Ravi's click", f.saidTo(ravi), "not an active member of the organization this transfer belongs to")
	if len(f.slack.Calls("chat.update")) != 0 {
		t.Error("Ravi's click rewrote a message")
	}
	// Omar accepts: Beta's Billing moves; Acme's does not.
	f.clickValue(omar, "transfer_accept", value, p.RecipientMessage)
	if o, _ := f.store.GetOrg(f.ctx, "beta"); o.BillingHolderID != "omar-b" {
		t.Errorf("Beta's holder = %q", o.BillingHolderID)
	}
	if f.orgNow().BillingHolderID != "dina" || f.pending() != nil {
		t.Error("the transfer in Beta touched Acme")
	}
	wantContains(t, "what Sari is told", f.posted(dmChannel(sari))[0].Text, "<@"+omar+"> accepted your request", "Billing of *Beta*")
}

// TestScenarioMalformed: what is not a well-formed Slack request, though
// correctly signed, is answered 4xx or a harmless 200, never a 5xx, and
// changes nothing.
func TestScenarioMalformed(t *testing.T) {
	const jsonType = "application/json"
	interaction := func(p string) []byte { return slacktestx.Form("payload", p) }
	tests := []struct {
		name, path, contentType string
		body                    []byte
		b64                     bool
		want                    int // 0: any 2xx or 4xx
	}{
		{"command: bad form encoding", slackapp.PathCommands, formType, []byte("team_id=%zz&user_id=U"), false, 400},
		{"command: no user", slackapp.PathCommands, formType, slacktestx.Form("team_id", team, "command", "/billing", "text", "status"), false, 400},
		{"command: no team", slackapp.PathCommands, formType, slacktestx.Form("user_id", dina, "command", "/billing", "text", "status"), false, 400},
		{"command: JSON body", slackapp.PathCommands, jsonType, []byte(`{"team_id":"T"}`), false, 400},
		{"command: invalid UTF-8 text", slackapp.PathCommands, formType, slacktestx.Form("team_id", team, "user_id", dina, "command", "/billing", "text", "\xff\xfe transfer"), false, 0},
		{"command: unknown command", slackapp.PathCommands, formType, slacktestx.Form("team_id", team, "user_id", dina, "command", "/rm", "text", "-rf"), true, 0},
		{"interaction: bad form encoding", slackapp.PathInteractions, formType, []byte("payload=%zz"), false, 400},
		{"interaction: no payload", slackapp.PathInteractions, formType, []byte("x=1"), false, 400},
		{"interaction: payload not JSON", slackapp.PathInteractions, formType, interaction("{nope"), true, 400},
		{"interaction: no user", slackapp.PathInteractions, formType, interaction(`{"type":"block_actions","team":{"id":"` + team + `"}}`), false, 400},
		{"interaction: no team", slackapp.PathInteractions, formType, interaction(`{"type":"block_actions","user":{"id":"` + dina + `"}}`), false, 400},
		{"interaction: unknown action", slackapp.PathInteractions, formType, interaction(`{"type":"block_actions","team":{"id":"` + team + `"},"user":{"id":"` + dina + `"},"actions":[{"action_id":"rm_rf","value":"acme|x"}]}`), false, 200},
		{"interaction: null action", slackapp.PathInteractions, formType, interaction(`{"type":"block_actions","team":{"id":"` + team + `"},"user":{"id":"` + dina + `"},"actions":[null]}`), false, 0},
		{"interaction: accept without value", slackapp.PathInteractions, formType, interaction(`{"type":"block_actions","team":{"id":"` + team + `"},"user":{"id":"` + sari + `"},"actions":[{"action_id":"transfer_accept"}]}`), false, 200},
		{"interaction: unknown view", slackapp.PathInteractions, formType, interaction(`{"type":"view_submission","team":{"id":"` + team + `"},"user":{"id":"` + dina + `"},"view":{"callback_id":"rm_rf"}}`), false, 200},
		{"interaction: transfer view without state", slackapp.PathInteractions, formType, interaction(`{"type":"view_submission","team":{"id":"` + team + `"},"user":{"id":"` + dina + `"},"view":{"callback_id":"billing_transfer","private_metadata":"acme"}}`), false, 200},
		{"interaction: suggestion for another org", slackapp.PathInteractions, formType, interaction(`{"type":"block_suggestion","team":{"id":"` + team + `"},"user":{"id":"` + sari + `"},"action_id":"recipient","value":"","view":{"private_metadata":"acme"}}`), false, 200},
		{"interaction: unknown type", slackapp.PathInteractions, formType, interaction(`{"type":"message_action","team":{"id":"` + team + `"},"user":{"id":"` + dina + `"}}`), false, 200},
		{"event: not JSON", slackapp.PathEvents, jsonType, []byte("nope"), false, 400},
		{"event: callback without event", slackapp.PathEvents, jsonType, []byte(`{"type":"event_callback","team_id":"` + team + `"}`), false, 0},
		{"event: app_home_opened without user", slackapp.PathEvents, jsonType, []byte(`{"type":"event_callback","team_id":"` + team + `","event":{"type":"app_home_opened","tab":"home"}}`), true, 0},
		{"event: unknown event", slackapp.PathEvents, jsonType, []byte(`{"type":"event_callback","team_id":"` + team + `","event":{"type":"member_joined_channel","user":"U1"}}`), false, 200},
		{"event: unknown type", slackapp.PathEvents, jsonType, []byte(`{"type":"app_rate_limited"}`), false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			before := f.orgNow()
			resp, err := f.app.Handle(f.ctx, slacktestx.Request(testSecret, time.Now(), tt.path, tt.contentType, tt.body, tt.b64))
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			switch {
			case tt.want != 0 && resp.StatusCode != tt.want:
				t.Errorf("status %d %q, want %d", resp.StatusCode, resp.Body, tt.want)
			case resp.StatusCode >= 500 || resp.StatusCode < 200 || (resp.StatusCode >= 300 && resp.StatusCode < 400):
				t.Errorf("status %d %q, want 2xx or 4xx", resp.StatusCode, resp.Body)
			}
			if after := f.orgNow(); after != before {
				t.Errorf("the organization changed: %+v → %+v", before, after)
			}
			for _, c := range f.slack.Calls("chat.postMessage", "chat.update", "views.open") {
				t.Errorf("a malformed request made Slack call %s: %s", c.Method, c.Text())
			}
		})
	}
}

// TestScenarioRetries: Slack redelivers a request it got no timely answer
// for, with x-slack-retry-num. A redelivery must not act twice.
func TestScenarioRetries(t *testing.T) {
	f := newFixture(t)
	deliver := func(path, contentType string, body []byte, retry string) int {
		t.Helper()
		req := slacktestx.Request(testSecret, time.Now(), path, contentType, body, true)
		if retry != "" {
			req.Headers["x-slack-retry-num"] = retry
			req.Headers["x-slack-retry-reason"] = "http_timeout"
		}
		resp, err := f.app.Handle(f.ctx, req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s (retry %q): %d %s %v", path, retry, resp.StatusCode, resp.Body, err)
		}
		return resp.StatusCode
	}

	// The Send Request submission, delivered twice.
	submit := slacktestx.InteractionBody(submitPayload(dina, org, "sari"))
	deliver(slackapp.PathInteractions, formType, submit, "")
	first := f.pending()
	deliver(slackapp.PathInteractions, formType, submit, "1")
	if p := f.pending(); p == nil || first == nil || p.ID != first.ID {
		t.Fatalf("pending after a redelivered submission: %+v, first %+v", p, first)
	}
	if n := len(f.posted(dmChannel(sari))); n != 1 {
		t.Errorf("Sari got %d requests, want 1", n)
	}

	// Accept, delivered twice: Billing moves once, Dina is told once.
	f.slack.Reset()
	accept := slacktestx.InteractionBody(clickPayload(sari, "transfer_accept", org+"|"+first.ID, first.RecipientMessage.Channel, first.RecipientMessage.TS, true))
	deliver(slackapp.PathInteractions, formType, accept, "")
	deliver(slackapp.PathInteractions, formType, accept, "1")
	if f.orgNow().BillingHolderID != "sari" {
		t.Fatal("Billing did not move")
	}
	if n := len(f.posted(dmChannel(dina))); n != 1 {
		t.Errorf("Dina was told %d times, want 1", n)
	}

	// A group created by a command delivered twice exists once, as asked.
	cmd := f.commandBody("/billing", omar, "group create eng 10")
	deliver(slackapp.PathCommands, formType, cmd, "")
	deliver(slackapp.PathCommands, formType, cmd, "1")
	if gs := wantGroups(t, f, 1); gs[0].Cap != 10*credit {
		t.Errorf("group = %+v", gs[0])
	}

	// app_home_opened redelivered: answered 200, the view is the same.
	f.slack.Reset()
	ev := []byte(`{"type":"event_callback","team_id":"` + team + `","event":{"type":"app_home_opened","user":"` + sari + `","tab":"home"},"event_id":"Ev9"}`)
	deliver(slackapp.PathEvents, "application/json", ev, "")
	deliver(slackapp.PathEvents, "application/json", ev, "2")
	pubs := f.slack.Calls("views.publish")
	// The same view, but for when it says it was updated.
	undated := func(s string) string { return regexp.MustCompile(`<!date\^\d+\^[^>]*>`).ReplaceAllString(s, "<date>") }
	if len(pubs) == 0 || len(pubs) > 2 || undated(pubs[0].Text()) != undated(pubs[len(pubs)-1].Text()) {
		t.Errorf("views.publish calls = %d", len(pubs))
	}
}

// TestScenarioInitiatorDemoted: while Dina's request to Sari is pending,
// another Owner makes Dina an Admin. Sari's Accept finds the request no
// longer valid: Billing stays, both messages lose their buttons, both are
// told once, and Sari's second click only says where it stands.
func TestScenarioInitiatorDemoted(t *testing.T) {
	f := newFixture(t)
	tr := f.transferAs(dina, "sari")
	wantContains(t, "Dina makes Ravi an Owner", ephemeralText(t, f.billing(dina, "role <@"+ravi+"> owner")), "is now an Owner")
	wantContains(t, "Ravi makes Dina an Admin", ephemeralText(t, f.billing(ravi, "role <@"+dina+"> admin")), "is now an Admin")
	wantContains(t, "status", ephemeralText(t, f.billing(sari, "status")), "asked you", "to take over Billing", "The request expires <!date^")

	f.slack.Reset()
	f.click(sari, "transfer_accept", tr, tr.RecipientMessage)
	if f.orgNow().BillingHolderID != "dina" {
		t.Fatal("Billing moved on an invalid transfer")
	}
	if got := f.transfer(tr.ID); got.Status != domain.TransferInvalidated {
		t.Fatalf("transfer = %s", got.Status)
	}
	wantContains(t, "what Sari is told", f.saidTo(sari), "no longer valid", "Dina is no longer an Owner")
	assertRewritten(t, f.slack, tr.RecipientMessage, tr.InitiatorMessage, "no longer valid")
	if n := len(f.posted(dmChannel(dina))); n != 1 {
		t.Errorf("Dina told %d times", n)
	}

	f.slack.Reset()
	f.interact(clickPayload(sari, "transfer_accept", org+"|"+tr.ID, tr.RecipientMessage.Channel, tr.RecipientMessage.TS, false))
	wantContains(t, "Sari's second click", f.saidTo(sari), "already invalidated")
	if n := len(f.posted(dmChannel(dina))) + len(f.posted(dmChannel(sari))); n != 0 {
		t.Errorf("the second click announced again")
	}
	// Dina, an Admin holding Billing, cannot start a transfer and is told why.
	wantContains(t, "Dina's transfer", ephemeralText(t, f.billing(dina, "transfer")), "Ask an Owner to make you an Owner")
}

// TestScenarioHomeAfterChanges: App Home of the holder and of others, and
// its pending-transfer state, as each person opens it.
func TestScenarioHomeAfterChanges(t *testing.T) {
	f := newFixture(t)
	open := func(user string) string {
		t.Helper()
		f.slack.Reset()
		ev := []byte(`{"type":"event_callback","team_id":"` + team + `","event":{"type":"app_home_opened","user":"` + user + `","tab":"home"}}`)
		if r := f.send(slackapp.PathEvents, "application/json", ev); r.StatusCode != 200 {
			t.Fatalf("app_home_opened: %d", r.StatusCode)
		}
		return publishedFor(t, f.slack, user)
	}
	wantContains(t, "Dina's home", open(dina), "credit is healthy", "1,234.5 credits", "You hold Billing of Acme", "Transfer Billing Role")
	wantContains(t, "Omar's home", open(omar), "Only the Billing holder sees Acme's credit", "<@"+dina+">")
	wantContains(t, "a stranger's home", open(stray), "not a member of any organization")
	if h := open(omar); strings.Contains(h, "1,234.5") {
		t.Errorf("Omar sees the balance:\n%s", h)
	}
	f.transferAs(dina, "sari")
	h := open(dina)
	wantContains(t, "Dina's home with a pending transfer", h, "You asked <@"+sari+"> to take over Billing", "Cancel request")
	if strings.Contains(h, "Transfer Billing Role\"") {
		t.Errorf("Dina's home offers a second transfer while one is pending:\n%s", h)
	}
	// Sari finds the request waiting for her, with its buttons.
	wantContains(t, "Sari's home with the request", open(sari), "<@"+dina+"> asks you to take over the *Billing* role", `"action_id":"transfer_accept"`, `"action_id":"transfer_decline"`)
}

// TestScenarioSweepRacesClick: the sweeper expires Sari's request while she
// clicks Accept on it; the click and the notifier's announcement each
// learn of the expiry, and the parties are told once.
func TestScenarioSweepRacesClick(t *testing.T) {
	f := newFixture(t)
	tr := f.transferAs(dina, "sari")
	f.ahead.Store(int64(domain.DefaultTransferTTL + time.Hour))
	expired, err := f.store.ExpireDueTransfers(f.ctx)
	if err != nil || len(expired) != 1 {
		t.Fatalf("sweep: %v %v", expired, err)
	}
	f.slack.Reset()
	f.click(sari, "transfer_accept", tr, tr.RecipientMessage) // still shows the buttons
	if err := f.app.AnnounceTransferOutcome(f.ctx, expired[0]); err != nil {
		t.Fatal(err)
	}
	wantContains(t, "Sari's click", f.saidTo(sari), "expired")
	if n, m := len(f.posted(dmChannel(dina))), len(f.posted(dmChannel(sari))); n != 1 || m != 1 {
		t.Errorf("told Dina %d and Sari %d times, want once each", n, m)
	}
	assertRewritten(t, f.slack, tr.RecipientMessage, tr.InitiatorMessage, "expired")
}

// TestHomesRefreshedByCommands: a command that changes what someone's My
// Credit shows publishes it again: the holder's after a group change, the
// member's after their role changed, a leaver's after they left.
func TestHomesRefreshedByCommands(t *testing.T) {
	f := newFixture(t)
	steps := []struct {
		who, command, home string
		want               []string
	}{
		{omar, "group create research 10 Research", dina, []string{"*Research*", "0 of 10 credits"}},
		{omar, "group cap research 12", dina, []string{"0 of 12 credits"}},
		{dina, "role <@" + sari + "> admin", sari, []string{"<@" + dina + ">"}},
		{ravi, "leave confirm", ravi, []string{"not a member of any organization"}},
	}
	for _, s := range steps {
		f.slack.Reset()
		if r := f.billing(s.who, s.command); r.StatusCode != 200 {
			t.Fatalf("/billing %s: %d %s", s.command, r.StatusCode, r.Body)
		}
		wantContains(t, "the Home after /billing "+s.command, publishedFor(t, f.slack, s.home), s.want...)
	}
}

package slackapp_test

import (
	"strings"
	"testing"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/slackapp"
)

// TestCommands: each sub-command's answer, in order on one organization,
// and what it changed.
func TestCommands(t *testing.T) {
	f := newFixture(t)
	if _, _, _, err := f.store.CreateAgent(f.ctx, domain.Agent{OrgID: org, ID: "bot-1", Name: "Research bot"}, nil); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		user, command, text string
		want                []string // all must appear in the answer
		wantNot             []string // none may
		check               func(t *testing.T)
	}{
		// Help lists only what the caller may do.
		{user: ravi, command: "/billing", text: "", want: []string{"as a Builder", "/billing status", "/billing leave"},
			wantNot: []string{"/billing transfer", "/credit", "/billing audit", "/billing group create", "/billing role"}},
		{user: dina, command: "/billing", text: "help", want: []string{"as an Owner", "/billing transfer", "/credit", "/billing audit", "/billing role", "/billing group create"},
			wantNot: []string{"/billing leave", "/billing cancel"}},
		{user: omar, command: "/billing", text: "help", want: []string{"/billing audit", "/billing role", "/billing group create", "/billing leave"},
			wantNot: []string{"/billing transfer", "/credit"}},
		{user: ravi, command: "/billing", text: "frobnicate", want: []string{"not a `/billing` command", "/billing status"}},
		{user: ravi, command: "/billing", text: "status", want: []string{"held by <@" + dina + ">", "No transfer is waiting", "Only <@" + dina + "> can pass it on"}},

		// Credit: the holder sees it, others are told who holds Billing.
		{user: dina, command: "/credit", want: []string{"credit is healthy", "1,234.5 credits left", "*Used in November 2026*", "*Used in October 2026*", "View groups"}},
		{user: sari, command: "/credit", want: []string{"Only the Billing holder of *Acme*", "<@" + dina + ">", "Transfer Billing Role"}},

		// Audit: Owners, Admins and the holder.
		{user: omar, command: "/billing", text: "audit 3", want: []string{"Audit trail of Acme", "credit.granted", "1,234.5 credits", "An operator"}},
		{user: ravi, command: "/billing", text: "audit", want: []string{"Owners, Admins"}},
		{user: omar, command: "/billing", text: "audit 999", want: []string{"from 1 to 40"}},

		// Budget groups.
		{user: omar, command: "/billing", text: "groups", want: []string{"has no budget groups", "/billing group create"}},
		{user: ravi, command: "/billing", text: "group create research 50", want: []string{"Only Owners and Admins"},
			check: func(t *testing.T) { wantGroups(t, f, 0) }},
		{user: omar, command: "/billing", text: "group create research 50.1234567 Research", want: []string{"more than 6 decimals"},
			check: func(t *testing.T) { wantGroups(t, f, 0) }},
		{user: omar, command: "/billing", text: "group create research 1e3", want: []string{"not an amount of credits"}},
		{user: omar, command: "/billing", text: "group create research 50.25 Research team", want: []string{"Created budget group *Research team*", "50.25 credits"},
			check: func(t *testing.T) {
				gs := wantGroups(t, f, 1)
				if gs[0].Cap != 50*credit+credit/4 {
					t.Errorf("cap = %d µcr, want 50.25 credits", gs[0].Cap)
				}
			}},
		{user: omar, command: "/billing", text: "group cap research 20", want: []string{"now has a monthly cap of 20 credits"},
			check: func(t *testing.T) {
				if gs := wantGroups(t, f, 1); gs[0].Cap != 20*credit {
					t.Errorf("cap = %d µcr, want 20 credits", gs[0].Cap)
				}
			}},
		{user: omar, command: "/billing", text: "group assign bot-1 research", want: []string{"now in budget group `research`"}},
		{user: omar, command: "/billing", text: "groups", want: []string{"*Budget groups of Acme* · November 2026", "*Research team* — 0 % · 0 of 20 credits"}},
		{user: omar, command: "/billing", text: "group assign bot-1 none", want: []string{"in no budget group"}},
		{user: omar, command: "/billing", text: "group", want: []string{"Usage:"}},

		// Roles: Billing is not one; only Owners make Owners.
		{user: dina, command: "/billing", text: "role <@" + sari + "|sari> billing", want: []string{"/billing transfer", "not an everyday role"}},
		{user: omar, command: "/billing", text: "role <@" + sari + "> owner", want: []string{"Only an Owner"}},
		{user: ravi, command: "/billing", text: "role <@" + sari + "> admin", want: []string{"Only Owners and Admins"}},
		{user: omar, command: "/billing", text: "role <@" + sari + "|sari> builder", want: []string{"is now a Builder in *Acme*"},
			check: func(t *testing.T) {
				if m, _ := f.store.GetMember(f.ctx, org, "sari"); m.Role != domain.RoleBuilder {
					t.Errorf("Sari's role = %s, want builder", m.Role)
				}
			}},
		{user: omar, command: "/billing", text: "role <@U0NOBODY> admin", want: []string{"not an active member"}},

		// Leaving: the holder cannot, and is told how.
		{user: dina, command: "/billing", text: "leave", want: []string{"holds Billing", "/billing transfer"}},
		{user: ravi, command: "/billing", text: "leave", want: []string{"Leaving *Acme* ends your membership", "Leave Acme", "Stay"}},
		{user: ravi, command: "/billing", text: "leave confirm", want: []string{"You left *Acme*"}},
		{user: ravi, command: "/billing", text: "status", want: []string{"not a member of any organization"}},
	}
	for _, s := range steps {
		got := ephemeralText(t, f.send(slackapp.PathCommands, formType, f.commandBody(s.command, s.user, s.text)))
		for _, w := range s.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s %s %q: answer %q does not contain %q", s.user, s.command, s.text, got, w)
			}
		}
		for _, w := range s.wantNot {
			if strings.Contains(got, w) {
				t.Errorf("%s %s %q: answer %q contains %q", s.user, s.command, s.text, got, w)
			}
		}
		if s.check != nil {
			s.check(t)
		}
	}
}

func wantGroups(t *testing.T, f *fixture, n int) []domain.BudgetGroup {
	t.Helper()
	gs, err := f.store.ListGroups(f.ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != n {
		t.Fatalf("groups = %+v, want %d", gs, n)
	}
	return gs
}

// TestSeveralOrganizations: a user in two organizations names one, or is
// asked to.
func TestSeveralOrganizations(t *testing.T) {
	f := newFixture(t)
	if _, _, err := f.store.CreateOrg(f.ctx, domain.Org{ID: "beta", Name: "Beta", SlackTeamID: team},
		domain.Member{ID: "sari-b", Name: "Sari", SlackUserID: sari}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text string
		want string
	}{
		{"status", "You belong to 2 organizations"},
		{"status org:beta", "You hold Billing of *Beta*"},
		{"status --org acme", "Billing of *Acme* is held by <@" + dina + ">"},
		{"status --org=acme", "Billing of *Acme* is held by <@" + dina + ">"},
		{"status org:gamma", "not a member of an organization `org:gamma`"},
	}
	for _, tt := range tests {
		if got := ephemeralText(t, f.billing(sari, tt.text)); !strings.Contains(got, tt.want) {
			t.Errorf("%q: answer %q does not contain %q", tt.text, got, tt.want)
		}
	}
	// The App Home offers a selector and switches on it.
	f.slack.Reset()
	if err := f.app.PublishHome(f.ctx, team, sari); err != nil {
		t.Fatal(err)
	}
	home := publishedFor(t, f.slack, sari)
	if !strings.Contains(home, `"action_id":"home_org"`) || !strings.Contains(home, "Acme") {
		t.Fatalf("home has no organization selector:\n%s", home)
	}
	f.slack.Reset()
	r := f.interact(map[string]any{
		"type": "block_actions", "team": map[string]any{"id": team}, "user": map[string]any{"id": sari, "team_id": team},
		"container": map[string]any{"type": "view", "view_id": "V1"},
		"actions": []any{map[string]any{"type": "static_select", "action_id": "home_org", "block_id": "home_org_select",
			"selected_option": map[string]any{"value": "beta", "text": map[string]any{"type": "plain_text", "text": "Beta"}}}},
	})
	if r.StatusCode != 200 {
		t.Fatalf("select: %d %s", r.StatusCode, r.Body)
	}
	if home := publishedFor(t, f.slack, sari); !strings.Contains(home, "Beta's credit") || !strings.Contains(home, `"private_metadata":"beta"`) {
		t.Errorf("after choosing Beta the home should show Beta's credit:\n%s", home)
	}
	// The choice is remembered: commands without org:<id> use it.
	if got := ephemeralText(t, f.billing(sari, "status")); !strings.Contains(got, "You hold Billing of *Beta*") {
		t.Errorf("status after choosing Beta in My Credit = %q", got)
	}
	// A later app_home_opened keeps it too.
	f.slack.Reset()
	if err := f.app.PublishHome(f.ctx, team, sari); err != nil {
		t.Fatal(err)
	}
	if home := publishedFor(t, f.slack, sari); !strings.Contains(home, `"private_metadata":"beta"`) {
		t.Errorf("My Credit did not keep the chosen organization:\n%s", home)
	}
	// A transfer in Acme to Sari refreshes Dina's Home (Acme) but does not
	// switch Sari's from Beta, which she chose.
	f.slack.Reset()
	f.requestTransfer("sari")
	for _, c := range f.slack.Calls("views.publish") {
		if c.Param("user_id") == sari {
			t.Errorf("a change in Acme published Sari's Home, which shows Beta:\n%s", c.Text())
		}
	}
	if home := publishedFor(t, f.slack, dina); !strings.Contains(home, "You asked <@"+sari+"> to take over Billing") {
		t.Errorf("Dina's Home was not refreshed with the request:\n%s", home)
	}
	if got := ephemeralText(t, f.billing(sari, "status")); !strings.Contains(got, "*Beta*") {
		t.Errorf("status after the transfer request = %q, want Beta still chosen", got)
	}
}

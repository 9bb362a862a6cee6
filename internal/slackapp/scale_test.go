package slackapp_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/slackapp"
)

// TestBlockKitAtScale drives the app's surfaces for large organizations
// with the longest names and ids the store accepts (200 characters of
// names that escaping lengthens, 128-character ids). It asserts nothing of
// its own: the fake Slack checks every view and message against Block
// Kit's limits (slacktestx.Check), and the fixture every answer
// (slacktestx.CheckAnswer), and either fails the test on a payload Slack
// would refuse. DESIGN §3: "Every payload respects Block Kit's limits ...
// by construction, at any organization size."
func TestBlockKitAtScale(t *testing.T) {
	// 200 characters, 40 of them '&' (escaped to "&amp;", 5 each).
	longName := func(i int) string {
		n := fmt.Sprintf("R&D Ünïcödé %03d ", i)
		return n + strings.Repeat("&a<b>c", 200)[:200-len([]rune(n))]
	}
	longID := func(prefix string, i int) string {
		id := fmt.Sprintf("%s-%03d-", prefix, i)
		return id + strings.Repeat("x", 128-len(id))
	}

	t.Run("many budget groups", func(t *testing.T) {
		f := newFixture(t)
		for i := range 60 {
			g := domain.BudgetGroup{OrgID: org, ID: longID("group", i), Name: longName(i), Cap: 1000 * credit}
			if _, _, err := f.store.CreateGroup(f.ctx, g, nil); err != nil {
				t.Fatal(err)
			}
		}
		f.send(slackapp.PathEvents, "application/json", homeOpened(dina))
		if len(f.slack.Calls("views.publish")) != 1 {
			t.Fatal("no Home tab published")
		}
		f.billing(dina, "groups")
		f.billing(dina, "audit 50")
	})

	t.Run("many organizations", func(t *testing.T) {
		f := newFixture(t)
		for i := range 101 {
			o := domain.Org{ID: longID("org", i), Name: longName(i), SlackTeamID: team}
			if _, _, err := f.store.CreateOrg(f.ctx, o, domain.Member{ID: "sari", Name: "Sari", SlackUserID: sari}); err != nil {
				t.Fatal(err)
			}
		}
		f.send(slackapp.PathEvents, "application/json", homeOpened(sari))
		if len(f.slack.Calls("views.publish")) != 1 {
			t.Fatal("no Home tab published")
		}
		f.billing(sari, "status")
	})

	t.Run("long names in the transfer dialog", func(t *testing.T) {
		f := newFixture(t)
		for i := range 100 {
			m := domain.Member{OrgID: org, ID: longID("member", i), Name: longName(i), SlackUserID: fmt.Sprintf("U%03d", i), Role: domain.RoleMember}
			if _, _, err := f.store.AddMember(f.ctx, m, nil); err != nil {
				t.Fatal(err)
			}
		}
		f.billing(dina, "transfer")
		if len(f.slack.Calls("views.open")) != 1 {
			t.Fatal("no dialog opened")
		}
	})
}

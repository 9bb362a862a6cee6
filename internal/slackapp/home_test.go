package slackapp_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/slackapp"
)

func homeOpened(user string) []byte {
	b, _ := json.Marshal(map[string]any{
		"type": "event_callback", "team_id": team, "api_app_id": "A0APP", "event_id": "Ev1", "event_time": 1700000000,
		"event": map[string]any{"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home", "event_ts": "1700000000.1"},
	})
	return b
}

// TestHome: the holder's My Credit shows balance, period usage, group bars,
// daily usage and the pending transfer; everyone else is told who holds
// Billing and how it moves.
func TestHome(t *testing.T) {
	f := newFixture(t)
	if _, _, err := f.store.CreateGroup(f.ctx, domain.BudgetGroup{OrgID: org, ID: "research", Name: "Research", Cap: 10 * credit}, nil); err != nil {
		t.Fatal(err)
	}
	agent, _, _, err := f.store.CreateAgent(f.ctx, domain.Agent{OrgID: org, ID: "bot-1", Name: "Bot", BudgetGroupID: "research"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Debit(f.ctx, agent, domain.UsageEvent{ID: "u1", Amount: 8 * credit}); err != nil {
		t.Fatal(err)
	}

	r := f.send(slackapp.PathEvents, "application/json", homeOpened(dina))
	if r.StatusCode != 200 {
		t.Fatalf("app_home_opened: %d %s", r.StatusCode, r.Body)
	}
	home := publishedFor(t, f.slack, dina)
	for _, want := range []string{
		"My Credit", "credit is healthy", "You hold Billing of Acme",
		"1,226.5 credits", // balance after the debit
		"*Used in November 2026*\\n8 credits",
		"*Research* — :warning: near cap (80 %) · 8 of 10 credits",
		"more than a year at this week's pace",                           // 1,226.5 credits at 8 a week
		`"type":"image"`, `"slack_file":{"id":"F`, "Daily usage of Acme", // the chart, and its alt text
		"Transfer Billing Role",
	} {
		if !strings.Contains(home, want) {
			t.Errorf("holder's home lacks %q:\n%s", want, home)
		}
	}

	f.requestTransfer("sari")
	f.slack.Reset()
	f.send(slackapp.PathEvents, "application/json", homeOpened(dina))
	if home := publishedFor(t, f.slack, dina); !strings.Contains(home, "You asked <@"+sari+"> to take over Billing") {
		t.Errorf("holder's home does not show the pending transfer:\n%s", home)
	}

	f.send(slackapp.PathEvents, "application/json", homeOpened(omar))
	home = publishedFor(t, f.slack, omar)
	if strings.Contains(home, "1,226.5") || !strings.Contains(home, "<@"+dina+">") {
		t.Errorf("a non-holder's home must not show credit and must name the holder:\n%s", home)
	}

	f.send(slackapp.PathEvents, "application/json", homeOpened(stray))
	if home := publishedFor(t, f.slack, stray); !strings.Contains(home, "not a member of any organization") {
		t.Errorf("a stranger's home:\n%s", home)
	}
}

// TestURLVerification: Slack's check when the events URL is configured.
func TestURLVerification(t *testing.T) {
	f := newFixture(t)
	body := []byte(`{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}`)
	r := f.send(slackapp.PathEvents, "application/json", body)
	if r.StatusCode != 200 || !strings.Contains(r.Body, `"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"`) {
		t.Fatalf("url_verification: %d %s", r.StatusCode, r.Body)
	}
}

// TestManyRecipients: beyond 100 eligible members the dialog searches with
// an external select, answered by block_suggestion.
func TestManyRecipients(t *testing.T) {
	f := newFixture(t)
	for i := range 101 {
		m := domain.Member{OrgID: org, ID: fmt.Sprintf("m%03d", i), Name: fmt.Sprintf("Member %03d", i), SlackUserID: fmt.Sprintf("U%03d", i), Role: domain.RoleMember}
		if _, _, err := f.store.AddMember(f.ctx, m, nil); err != nil {
			t.Fatal(err)
		}
	}
	f.billing(dina, "transfer")
	opens := f.slack.Calls("views.open")
	if len(opens) != 1 || !strings.Contains(opens[0].Text(), `"type":"external_select"`) {
		t.Fatalf("want an external select, got %v", opens)
	}
	tests := []struct {
		query string
		want  int
	}{
		{"member 05", 10},
		{"SARI", 1},
		{"dina", 0}, // the holder is never offered
		{"", 100},   // capped at 100
	}
	for _, tt := range tests {
		r := f.interact(map[string]any{
			"type": "block_suggestion", "team": map[string]any{"id": team}, "user": map[string]any{"id": dina, "team_id": team},
			"action_id": "recipient", "block_id": "recipient", "value": tt.query,
			"view": map[string]any{"id": "V0MODAL", "callback_id": "billing_transfer", "private_metadata": org},
		})
		var opts slack.OptionsResponse
		if err := json.Unmarshal([]byte(r.Body), &opts); err != nil {
			t.Fatalf("%q: %v in %s", tt.query, err, r.Body)
		}
		if len(opts.Options) != tt.want {
			t.Errorf("search %q: %d options, want %d", tt.query, len(opts.Options), tt.want)
		}
	}
}

// TestHomeChartUploads: the chart is drawn and uploaded when its numbers
// changed and the one shown is older than chartRedrawAfter, replacing
// (deleting) the one before; a Home Slack refuses for its image is
// published without it, and the file is forgotten.
func TestHomeChartUploads(t *testing.T) {
	f := newFixture(t)
	agent, _, _, err := f.store.CreateAgent(f.ctx, domain.Agent{OrgID: org, ID: "bot-1", Name: "Bot"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	debit := func(id string) {
		t.Helper()
		if _, err := f.store.Debit(f.ctx, agent, domain.UsageEvent{ID: id, Amount: credit}); err != nil {
			t.Fatal(err)
		}
	}
	open := func() (uploads, deletes int, shown string) {
		t.Helper()
		f.slack.Reset()
		if r := f.send(slackapp.PathEvents, "application/json", homeOpened(dina)); r.StatusCode != 200 {
			t.Fatalf("app_home_opened: %d %s", r.StatusCode, r.Body)
		}
		home := publishedFor(t, f.slack, dina)
		if i := strings.Index(home, `"slack_file":{"id":"`); i >= 0 {
			shown, _, _ = strings.Cut(home[i+len(`"slack_file":{"id":"`):], `"`)
		}
		return len(f.slack.Calls("files.completeUploadExternal")), len(f.slack.Calls("files.delete")), shown
	}
	age := func(by time.Duration) {
		t.Helper()
		key, id, at, err := f.store.ChartFile(f.ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.store.SetChartFile(f.ctx, org, key, id, at.Add(-by)); err != nil {
			t.Fatal(err)
		}
	}

	debit("u1")
	up, del, first := open()
	if up != 1 || del != 0 || first == "" {
		t.Fatalf("first open: %d uploads, %d deletes, file %q; want 1, 0, a file", up, del, first)
	}
	debit("u2") // today's usage, and so the chart's numbers, changed
	if up, del, shown := open(); up != 0 || del != 0 || shown != first {
		t.Errorf("open within minutes of the upload: %d uploads, %d deletes, file %q; want none and %q", up, del, shown, first)
	}
	age(11 * time.Minute)
	up, del, second := open()
	if up != 1 || del != 1 || second == first || f.slack.Calls("files.delete")[0].Param("file") != first {
		t.Errorf("open of changed numbers 11 minutes on: %d uploads, %d deletes (%v), file %q; want a new file replacing %q", up, del, f.slack.Calls("files.delete"), second, first)
	}
	age(time.Hour)
	if up, _, shown := open(); up != 0 || shown != second {
		t.Errorf("open of the same numbers an hour on: %d uploads, file %q; want none and %q", up, shown, second)
	}

	// Slack refuses the image: the Home is published without it, and the
	// next open uploads a new one.
	f.slack.Reset()
	f.slack.FailNext("views.publish", "invalid_blocks")
	if r := f.send(slackapp.PathEvents, "application/json", homeOpened(dina)); r.StatusCode != 200 {
		t.Fatalf("app_home_opened: %d", r.StatusCode)
	}
	if pubs := f.slack.Calls("views.publish"); len(pubs) != 2 || strings.Contains(pubs[1].Text(), `"slack_file"`) {
		t.Fatalf("after invalid_blocks: %d publishes, want the second without the chart", len(pubs))
	}
	if up, _, shown := open(); up != 1 || shown == second || shown == "" {
		t.Errorf("open after the refused image: %d uploads, file %q; want a new upload", up, shown)
	}
	// A publish Slack did not answer is not retried without the chart.
	f.slack.Reset()
	f.slack.FailNext("views.publish", "ratelimited")
	f.send(slackapp.PathEvents, "application/json", homeOpened(dina))
	if n := len(f.slack.Calls("views.publish")); n != 1 {
		t.Errorf("after ratelimited: %d publishes, want 1", n)
	}
}

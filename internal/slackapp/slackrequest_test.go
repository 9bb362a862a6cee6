package slackapp_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/orgcredit/orgcredit/internal/apigw"
	"github.com/orgcredit/orgcredit/internal/slackapp/slackrequest"
)

// TestSlackRequestTool: what cmd/slack-request builds and signs is taken
// by the app's own verifier and read as Slack's request: Dina's command
// and Home, the dialog's submission choosing Sari, Sari's Accept with the
// id the request message carries. Signed with another secret, each is
// refused and changes nothing.
func TestSlackRequestTool(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(apigw.HTTP(f.app.Handle))
	defer srv.Close()
	asDina := slackrequest.Identity{Team: team, User: dina, Org: org}
	asSari := slackrequest.Identity{Team: team, User: sari, Org: org}
	send := func(secret string, build func() (slackrequest.Request, error)) slackrequest.Answer {
		t.Helper()
		r, err := build()
		if err != nil {
			t.Fatal(err)
		}
		a, err := slackrequest.Send(context.Background(), srv.Client(), srv.URL, secret, r)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	transferID := func() string {
		for _, m := range f.posted("D0SARI") {
			if v, ok := m.Buttons["transfer_accept"]; ok {
				_, id, _ := strings.Cut(v, "|")
				return id
			}
		}
		return "tr_none"
	}
	steps := []struct {
		name  string
		build func() (slackrequest.Request, error)
		want  string // in the answer or the Slack calls since the step
		check func() bool
	}{
		{"status", func() (slackrequest.Request, error) { return slackrequest.Command(asDina, "/billing status") }, "You hold Billing of *Acme*", nil},
		{"home", func() (slackrequest.Request, error) { return slackrequest.HomeOpened(asDina), nil }, "My Credit", nil},
		{"open dialog", func() (slackrequest.Request, error) { return slackrequest.Command(asDina, "/billing transfer") }, `"callback_id":"billing_transfer"`, nil},
		{"submit", func() (slackrequest.Request, error) { return slackrequest.TransferSubmission(asDina, "sari"), nil }, `"response_action":"clear"`,
			func() bool { return f.pending() != nil && f.pending().RecipientID == "sari" }},
		{"accept", func() (slackrequest.Request, error) { return slackrequest.Click(asSari, "accept", transferID()) }, "You accepted",
			func() bool { return f.orgNow().BillingHolderID == "sari" }},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			before := len(f.slack.Calls())
			// Signed with another secret: refused, nothing sent or changed.
			if a := send("not-the-secret", s.build); a.Status != 401 {
				t.Errorf("wrong secret: %d %s", a.Status, a.Body)
			}
			if n := len(f.slack.Calls()); n != before {
				t.Errorf("a refused request made %d Slack calls", n-before)
			}
			if s.check != nil && s.check() {
				t.Fatal("a refused request changed the store")
			}
			a := send(testSecret, s.build)
			if a.Status != 200 {
				t.Fatalf("%d %s", a.Status, a.Body)
			}
			seen := string(a.Body)
			for _, c := range f.slack.Calls()[before:] {
				seen += "\n" + c.Text()
			}
			if !strings.Contains(seen, s.want) {
				t.Errorf("answer and Slack calls lack %q:\n%s", s.want, seen)
			}
			if s.check != nil && !s.check() {
				t.Error("the store did not change")
			}
		})
	}
}

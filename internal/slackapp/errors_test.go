package slackapp_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/slackapp"
)

// What goes wrong inside (Slack unreachable, a Web API error) reaches the
// log, never the person: they read in plain words what happened and what
// to do.
func TestInternalErrorsAreNotShownToPeople(t *testing.T) {
	f := newFixture(t)
	// A Slack Web API nobody listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/"
	ln.Close()
	f.app = slackapp.New(slackapp.Config{
		Store:         f.store,
		Workspaces:    slackapp.OneWorkspace(slack.New("xoxb-test", slack.OptionAPIURL(dead))),
		SigningSecret: testSecret,
		Now:           time.Now,
	})
	leaks := []string{"dial tcp", "Post \"", "127.0.0.1", "connection refused", "views.open", "chat.postMessage", "xoxb-", ": EOF"}
	check := func(what, got string) {
		t.Helper()
		for _, l := range leaks {
			if strings.Contains(got, l) {
				t.Errorf("%s shows %q to a person: %s", what, l, got)
			}
		}
	}
	got := ephemeralText(t, f.billing(dina, "transfer"))
	check("/billing transfer", got)
	wantContains(t, "/billing transfer", got, "Slack didn't open the transfer dialog", "nothing was changed", "try again")

	// Slack refuses the request's message: the dialog says so in words,
	// the request is withdrawn.
	g := newFixture(t)
	g.slack.FailNext("chat.postMessage", "channel_not_found")
	r := g.interact(submitPayload(dina, org, "sari"))
	check("the dialog's error", r.Body)
	wantContains(t, "the dialog's error", r.Body, "didn't deliver the request", "withdrawn", "nothing changed")
	if g.pending() != nil {
		t.Error("an undelivered request stayed pending")
	}
}

package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/orgcredit/orgcredit/internal/domain"
)

func TestPollerTurnsChangesIntoAlerts(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	st := newStore(t, c)
	if _, err := st.SetGroupCap(ctx, "acme", "research", 14*cr, nil); err != nil {
		t.Fatal(err)
	}
	agent, _, _, err := st.CreateAgent(ctx, domain.Agent{OrgID: "acme", ID: "bot", Name: "Bot", BudgetGroupID: "research"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := st.Grant(ctx, domain.Grant{OrgID: "acme", ID: "g1", Amount: 12 * cr, Reason: "test"}, nil); err != nil {
		t.Fatal(err)
	}
	slack := &fakeSlack{}
	p := NewPoller(New(st, slack, WithLogger(quiet)), st, time.Hour, WithPollerClock(c.Now))
	debit := func(id string, amount domain.Micros) {
		t.Helper()
		if _, err := st.Debit(ctx, agent, domain.UsageEvent{ID: id, Amount: amount}); err != nil {
			t.Fatal(err)
		}
	}

	steps := []struct {
		name string
		do   func()
		fail int      // Slack failures during the round
		want []string // new messages this round, in order
	}{
		{"the first read is the baseline", func() {}, 0, nil},
		{"a debit from 12 to 9 credits crosses the threshold", func() { debit("u1", 3*cr) }, 0,
			[]string{"below its low-balance threshold of 10 credits: 9 credits left."}},
		{"nothing changed, nothing sent", func() {}, 0, nil},
		{"a failed send is offered again by the next round", func() { debit("u2", 9*cr) }, 1, nil},
		{"the retried round sends the empty pool and the group's 80%", func() {}, 0,
			[]string{"credit pool is empty", `Budget group "Research" of Acme Corp has used 80% of its cap for 2026-11: 12 of 14 credits spent.`}},
		{"a grant re-arms without a message", func() {
			if _, _, _, err := st.Grant(ctx, domain.Grant{OrgID: "acme", ID: "g2", Amount: 11 * cr, Reason: "test"}, nil); err != nil {
				t.Fatal(err)
			}
		}, 0, nil},
		{"the next crossing alerts again, and the group reaches its cap", func() { debit("u3", 2*cr) }, 0,
			[]string{"9 credits left.", "has used its whole cap for 2026-11: 14 of 14 credits spent."}},
	}
	seen := 0
	for _, s := range steps {
		s.do()
		slack.fail = s.fail
		if err := p.Poll(ctx); err != nil {
			t.Fatalf("%s: Poll: %v", s.name, err)
		}
		got := slack.sent()[seen:]
		seen += len(got)
		if len(got) != len(s.want) {
			t.Fatalf("%s: sent %v, want %d messages %q", s.name, got, len(s.want), s.want)
		}
		for i, w := range s.want {
			if got[i].user != "U0LIVIA" || !strings.Contains(got[i].text, w) {
				t.Errorf("%s: message %d = %+v, want to U0LIVIA containing %q", s.name, i, got[i], w)
			}
		}
	}
}

func TestPollerExpiresTransfersAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c := newClock()
	st := newStore(t, c)
	if _, err := st.RequestTransfer(ctx, "acme", "olivia", "bob"); err != nil {
		t.Fatal(err)
	}
	c.Advance(domain.DefaultTransferTTL + time.Minute)
	slack := &fakeSlack{}
	p := NewPoller(New(st, slack, WithLogger(quiet)), st, 10*time.Millisecond, WithPollerClock(c.Now))
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()

	deadline := time.After(10 * time.Second)
	for {
		slack.mu.Lock()
		n := len(slack.announced)
		slack.mu.Unlock()
		if n > 0 {
			break
		}
		select {
		case <-deadline:
			t.Fatal("the poller did not run the schedule")
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if len(slack.announced) != 1 || slack.announced[0].Status != domain.TransferExpired {
		t.Errorf("announced %+v, want one expired transfer", slack.announced)
	}
}

// TestPollerAlertsWhenADebitIsRefusedForTheCap: a group whose agents are
// refused for its cap is at 100% for them, though its spend is below the
// cap; the holder is told once.
func TestPollerAlertsWhenADebitIsRefusedForTheCap(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	st := newStore(t, c)
	if _, err := st.SetGroupCap(ctx, "acme", "research", 10*cr, nil); err != nil {
		t.Fatal(err)
	}
	agent, _, _, err := st.CreateAgent(ctx, domain.Agent{OrgID: "acme", ID: "bot", BudgetGroupID: "research"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := st.Grant(ctx, domain.Grant{OrgID: "acme", ID: "g1", Amount: 100 * cr}, nil); err != nil {
		t.Fatal(err)
	}
	slack := &fakeSlack{}
	p := NewPoller(New(st, slack, WithLogger(quiet)), st, time.Hour, WithPollerClock(c.Now))
	if err := p.Poll(ctx); err != nil { // baseline
		t.Fatal(err)
	}
	if _, err := st.Debit(ctx, agent, domain.UsageEvent{ID: "u1", Amount: 7 * cr}); err != nil {
		t.Fatal(err)
	}
	for i, amount := range []domain.Micros{4 * cr, 4 * cr} { // both refused
		if _, err := st.Debit(ctx, agent, domain.UsageEvent{ID: fmt.Sprintf("r%d", i), Amount: amount}); !errors.Is(err, domain.ErrGroupCapReached) {
			t.Fatalf("debit over the cap: %v", err)
		}
	}
	for range 2 {
		if err := p.Poll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got := slack.sent()
	if len(got) != 1 || !strings.Contains(got[0].text, "has reached its cap for 2026-11: 7 of 10 credits spent, and a debit that would have gone over it was refused") {
		t.Fatalf("sent %+v, want one cap-reached message", got)
	}
}

package dynamo_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/dynamotest"
)

func TestDebitContract(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dynamotest.Backend) {
		ctx := context.Background()

		t.Run("duplicate and conflict", func(t *testing.T) {
			w := newWorld(t, b)
			bot := w.agents["research-bot"]
			ev := domain.UsageEvent{ID: "u1", Amount: 3 * credit, Kind: "conversation"}
			first, err := w.s.Debit(ctx, bot, ev)
			if err != nil {
				t.Fatal(err)
			}
			if first.Duplicate || first.Balance != 97*credit || first.Group == nil || first.Group.Remaining != 47*credit {
				t.Fatalf("first debit: %+v", first)
			}
			again, err := w.s.Debit(ctx, bot, ev)
			if err != nil {
				t.Fatal(err)
			}
			if !again.Duplicate || again.Balance != 97*credit || again.Usage.RecordedAt != first.Usage.RecordedAt {
				t.Fatalf("duplicate: %+v", again)
			}
			_, err = w.s.Debit(ctx, bot, domain.UsageEvent{ID: "u1", Amount: 4 * credit, Kind: "conversation"})
			if !errors.Is(err, domain.ErrUsageConflict) {
				t.Fatalf("other content: err = %v, want usage conflict", err)
			}
			// Another agent of the org reusing the id is other content too.
			_, err = w.s.Debit(ctx, w.agents["support-bot"], ev)
			if !errors.Is(err, domain.ErrUsageConflict) {
				t.Fatalf("other agent: err = %v, want usage conflict", err)
			}
			if got := w.pool(t).Balance; got != 97*credit {
				t.Fatalf("balance = %d, want moved once", got)
			}
		})

		t.Run("pool cannot pay", func(t *testing.T) {
			w := newWorld(t, b)
			_, err := w.s.Debit(ctx, w.agents["free-bot"], domain.UsageEvent{ID: "big", Amount: 100*credit + 1})
			var ic *domain.InsufficientCredit
			if !errors.As(err, &ic) || ic.Balance != 100*credit || !errors.Is(err, domain.ErrInsufficientCredit) {
				t.Fatalf("err = %v", err)
			}
			if got := w.pool(t).Balance; got != 100*credit {
				t.Fatalf("balance = %d", got)
			}
			// The same id can still be used once the pool can pay: nothing was recorded.
			if _, err := w.s.Debit(ctx, w.agents["free-bot"], domain.UsageEvent{ID: "big", Amount: 100 * credit}); err != nil {
				t.Fatal(err)
			}
			if got := w.pool(t).Balance; got != 0 {
				t.Fatalf("balance = %d, want 0", got)
			}
			// Empty pool: every agent is refused.
			for _, a := range w.agents {
				if _, err := w.s.Debit(ctx, a, domain.UsageEvent{ID: "x-" + a.ID, Amount: 1}); !errors.Is(err, domain.ErrInsufficientCredit) {
					t.Fatalf("%s on an empty pool: %v", a.ID, err)
				}
			}
		})

		t.Run("group cap", func(t *testing.T) {
			w := newWorld(t, b)
			sup := w.agents["support-bot"]
			if _, err := w.s.Debit(ctx, sup, domain.UsageEvent{ID: "s1", Amount: 15 * credit}); err != nil {
				t.Fatal(err)
			}
			_, err := w.s.Debit(ctx, sup, domain.UsageEvent{ID: "s2", Amount: 6 * credit})
			var capErr *domain.GroupCapReached
			if !errors.As(err, &capErr) || capErr.GroupID != "support" || capErr.Cap != 20*credit || capErr.Period != "2026-11" || capErr.Spent != 15*credit {
				t.Fatalf("err = %#v", err)
			}
			sts, err := w.s.GroupStatuses(ctx, w.org, "2026-11")
			if err != nil {
				t.Fatal(err)
			}
			for _, gs := range sts {
				if want := gs.Group.ID == "support"; gs.CapReached != want {
					t.Fatalf("%s: CapReached = %v after a refusal for support's cap", gs.Group.ID, gs.CapReached)
				}
			}
			// Exactly up to the cap is allowed.
			if _, err := w.s.Debit(ctx, sup, domain.UsageEvent{ID: "s3", Amount: 5 * credit}); err != nil {
				t.Fatalf("debit to the cap: %v", err)
			}
			// Other teams keep working.
			if _, err := w.s.Debit(ctx, w.agents["research-bot"], domain.UsageEvent{ID: "r1", Amount: 6 * credit}); err != nil {
				t.Fatalf("research after support is capped: %v", err)
			}
			if got := w.pool(t).Balance; got != 74*credit {
				t.Fatalf("balance = %d, want 74 credits", got)
			}
			// An amount alone above the cap is refused even in a fresh period,
			// and does not mark the group as having reached its cap.
			if _, err := w.s.Debit(ctx, w.agents["research-bot"], domain.UsageEvent{ID: "r2", Amount: 51 * credit}); !errors.Is(err, domain.ErrGroupCapReached) {
				t.Fatalf("above cap: %v", err)
			}
			sts, err = w.s.GroupStatuses(ctx, w.org, "2026-11")
			if err != nil {
				t.Fatal(err)
			}
			for _, gs := range sts {
				if gs.Group.ID == "research" && gs.CapReached {
					t.Fatal("an event larger than the whole cap marked research as reached")
				}
			}
		})

		t.Run("cap changes take effect at once", func(t *testing.T) {
			w := newWorld(t, b)
			res := w.agents["research-bot"]
			if _, err := w.s.Debit(ctx, res, domain.UsageEvent{ID: "r1", Amount: 10 * credit}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.s.SetGroupCap(ctx, w.org, "research", 5*credit, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := w.s.Debit(ctx, res, domain.UsageEvent{ID: "r2", Amount: 1}); !errors.Is(err, domain.ErrGroupCapReached) {
				t.Fatalf("after lowering: %v", err)
			}
			if _, err := w.s.SetGroupCap(ctx, w.org, "research", 20*credit, nil); err != nil {
				t.Fatal(err)
			}
			r, err := w.s.Debit(ctx, res, domain.UsageEvent{ID: "r2", Amount: 1})
			if err != nil {
				t.Fatalf("after raising: %v", err)
			}
			if r.Group.Remaining != 10*credit-1 {
				t.Fatalf("remaining = %d", r.Group.Remaining)
			}
		})

		t.Run("cap changed by another instance", func(t *testing.T) {
			w := newWorld(t, b)
			res := w.agents["research-bot"]
			if _, err := w.s.Debit(ctx, res, domain.UsageEvent{ID: "r1", Amount: 10 * credit}); err != nil {
				t.Fatal(err) // the cap (50) is now cached by w.s
			}
			other := dynamo.New(b.Client, w.s.Table(), dynamo.WithClock(w.clock.Now)) // another Lambda instance
			if _, err := other.SetGroupCap(ctx, w.org, "research", 12*credit, nil); err != nil {
				t.Fatal(err)
			}
			bal, err := w.s.Balance(ctx, res)
			gs := bal.Group
			if err != nil || gs.Group.Cap != 12*credit || gs.Remaining != 2*credit {
				t.Fatalf("balance after a cap change elsewhere: %+v %v", gs, err)
			}
			if _, err := w.s.Debit(ctx, res, domain.UsageEvent{ID: "r2", Amount: 3 * credit}); !errors.Is(err, domain.ErrGroupCapReached) {
				t.Fatalf("debit over the new cap: %v", err)
			}
			r, err := w.s.Debit(ctx, res, domain.UsageEvent{ID: "r3", Amount: 2 * credit})
			if err != nil || r.Group.Group.Cap != 12*credit || r.Group.Remaining != 0 {
				t.Fatalf("debit to the new cap: %+v %v", r.Group, err)
			}
			if _, err := other.SetGroupCap(ctx, w.org, "research", 20*credit, nil); err != nil {
				t.Fatal(err)
			}
			dup, err := w.s.Debit(ctx, res, domain.UsageEvent{ID: "r3", Amount: 2 * credit})
			if err != nil || !dup.Duplicate || dup.Group.Group.Cap != 20*credit || dup.Group.Remaining != 8*credit {
				t.Fatalf("duplicate after another cap change: %+v %v", dup.Group, err)
			}
		})

		t.Run("cap raised by another instance", func(t *testing.T) {
			w := newWorld(t, b)
			sup := w.agents["support-bot"]
			if _, err := w.s.Debit(ctx, sup, domain.UsageEvent{ID: "s1", Amount: 18 * credit}); err != nil {
				t.Fatal(err) // the cap (20) is now cached by w.s
			}
			other := dynamo.New(b.Client, w.s.Table(), dynamo.WithClock(w.clock.Now))
			if _, err := other.SetGroupCap(ctx, w.org, "support", 30*credit, nil); err != nil {
				t.Fatal(err)
			}
			// 18 + 5 is over the cached cap but within the current one.
			r, err := w.s.Debit(ctx, sup, domain.UsageEvent{ID: "s2", Amount: 5 * credit})
			if err != nil || r.Group.Remaining != 7*credit {
				t.Fatalf("debit within a raised cap: %+v %v", r.Group, err)
			}
		})

		t.Run("daily usage", func(t *testing.T) {
			w := newWorld(t, b) // 2026-11-20 12:00 UTC
			bot := w.agents["free-bot"]
			debit := func(id string, amount domain.Micros) {
				t.Helper()
				if _, err := w.s.Debit(ctx, bot, domain.UsageEvent{ID: id, Amount: amount}); err != nil {
					t.Fatal(err)
				}
			}
			debit("d1", 2*credit)
			debit("d1", 2*credit) // a duplicate counts once
			debit("d2", 3*credit)
			w.clock.Advance(12 * time.Hour) // 2026-11-21 00:00
			debit("d3", 1)
			if _, err := w.s.Debit(ctx, bot, domain.UsageEvent{ID: "too-big", Amount: 99 * credit}); !errors.Is(err, domain.ErrInsufficientCredit) {
				t.Fatalf("refused debit: %v", err) // and it counts nothing
			}
			w.clock.Advance(48 * time.Hour) // 2026-11-23
			days, err := w.s.DailyUsage(ctx, w.org, 5)
			if err != nil {
				t.Fatal(err)
			}
			want := []domain.DayUsage{
				{Day: "2026-11-19"}, {Day: "2026-11-20", Amount: 5 * credit, Count: 2}, {Day: "2026-11-21", Amount: 1, Count: 1},
				{Day: "2026-11-22"}, {Day: "2026-11-23"},
			}
			if !slices.Equal(days, want) {
				t.Fatalf("daily usage = %+v, want %+v", days, want)
			}
		})

		t.Run("next month starts at zero", func(t *testing.T) {
			w := newWorld(t, b)
			sup := w.agents["support-bot"]
			if _, err := w.s.Debit(ctx, sup, domain.UsageEvent{ID: "s1", Amount: 20 * credit}); err != nil {
				t.Fatal(err)
			}
			if _, err := w.s.Debit(ctx, sup, domain.UsageEvent{ID: "s2", Amount: 1}); !errors.Is(err, domain.ErrGroupCapReached) {
				t.Fatalf("capped month: %v", err)
			}
			w.clock.Advance(11 * 24 * time.Hour) // 2026-12-01 12:00 UTC
			r, err := w.s.Debit(ctx, sup, domain.UsageEvent{ID: "s2", Amount: 1})
			if err != nil {
				t.Fatalf("new month: %v", err)
			}
			if r.Usage.Period != "2026-12" || r.Group.Spent != 1 {
				t.Fatalf("new month result: %+v", r.Group)
			}
			bal, err := w.s.Balance(ctx, sup)
			gs := bal.Group
			if err != nil || gs.Spent != 1 || gs.Period != "2026-12" {
				t.Fatalf("balance: %+v %v", gs, err)
			}
		})

		t.Run("tokens and revocation", func(t *testing.T) {
			w := newWorld(t, b)
			a, err := w.s.AgentByToken(ctx, w.tokens["free-bot"])
			if err != nil || a.ID != "free-bot" || a.OrgID != "acme" {
				t.Fatalf("lookup: %+v %v", a, err)
			}
			if _, err := w.s.AgentByToken(ctx, domain.NewToken()); !errors.Is(err, domain.ErrNotFound) {
				t.Fatalf("unknown token: %v", err)
			}
			if err := w.s.RevokeAgent(ctx, w.org, "free-bot", nil); err != nil {
				t.Fatal(err)
			}
			if _, err := w.s.AgentByToken(ctx, w.tokens["free-bot"]); !errors.Is(err, domain.ErrAgentRevoked) {
				t.Fatalf("revoked: %v", err)
			}
		})

		t.Run("idempotent admin creates", func(t *testing.T) {
			w := newWorld(t, b)
			_, _, created, err := w.s.Grant(ctx, domain.Grant{OrgID: "acme", ID: "g1", Amount: 100 * credit, Reason: "purchase"}, nil)
			if err != nil || created {
				t.Fatalf("repeat grant: created=%v err=%v", created, err)
			}
			if _, _, _, err := w.s.Grant(ctx, domain.Grant{OrgID: "acme", ID: "g1", Amount: 5 * credit, Reason: "purchase"}, nil); !errors.Is(err, domain.ErrAlreadyExists) {
				t.Fatalf("grant other amount: %v", err)
			}
			if got := w.pool(t); got.Balance != 100*credit || got.Granted != 100*credit {
				t.Fatalf("pool = %+v", got)
			}
			_, tok, created, err := w.s.CreateAgent(ctx, domain.Agent{OrgID: "acme", ID: "free-bot"}, nil)
			if err != nil || created || tok != "" {
				t.Fatalf("repeat agent: %v %v %q", created, err, tok)
			}
			if _, _, _, err := w.s.CreateAgent(ctx, domain.Agent{OrgID: "acme", ID: "x", BudgetGroupID: "nope"}, nil); !errors.Is(err, domain.ErrNotFound) {
				t.Fatalf("agent in missing group: %v", err)
			}
			if _, _, err := w.s.CreateOrg(ctx, domain.Org{ID: "acme", Name: "Other"}, domain.Member{ID: "dina", Name: "Dina"}); !errors.Is(err, domain.ErrAlreadyExists) {
				t.Fatalf("org other content: %v", err)
			}
			if _, _, err := w.s.CreateOrg(ctx, domain.Org{ID: "acme", Name: "Acme", SlackTeamID: "T1", LowBalanceThreshold: 11 * credit},
				domain.Member{ID: "dina", Name: "Dina", SlackUserID: "UDINA"}); !errors.Is(err, domain.ErrAlreadyExists) {
				t.Fatalf("org with another threshold: %v", err)
			}
			if _, created, err := w.s.CreateOrg(ctx, domain.Org{ID: "acme", Name: "Acme", SlackTeamID: "T1", LowBalanceThreshold: 10 * credit},
				domain.Member{ID: "dina", Name: "Dina", SlackUserID: "UDINA"}); err != nil || created {
				t.Fatalf("org again: created=%v %v", created, err)
			}
			// No-op changes and repeated removals change nothing, audit included.
			before := len(w.auditActions(t))
			if _, err := w.s.SetAgentGroup(ctx, w.org, "free-bot", "", nil); err != nil {
				t.Fatalf("no-op group move: %v", err)
			}
			if err := w.s.RemoveMember(ctx, w.org, nil, "ravi"); err != nil {
				t.Fatal(err)
			}
			if err := w.s.RemoveMember(ctx, w.org, nil, "ravi"); err != nil {
				t.Fatalf("second removal: %v", err)
			}
			if got := len(w.auditActions(t)); got != before+1 {
				t.Fatalf("audit grew by %d, want 1 (one removal)", got-before)
			}
		})
	})
}

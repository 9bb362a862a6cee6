package dynamo_test

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/dynamotest"
)

// A debit carries the agent as its caller last read it (the agent API
// caches it). A revocation or a group move, made by any process, must hold
// from the very next debit of every other process, without adding a
// request or write capacity to the debit.
func TestAgentChangesTakeEffectAtTheNextDebit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dynamotest.Backend) {
		ctx := context.Background()
		w := newWorld(t, b)
		// Another function instance: its own store, its own caches.
		other := dynamo.New(b.Client, w.s.Table(), dynamo.WithClock(w.clock.Now))
		research, err := other.AgentByToken(ctx, w.tokens["research-bot"])
		if err != nil {
			t.Fatal(err)
		}
		free, err := other.AgentByToken(ctx, w.tokens["free-bot"])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.Debit(ctx, research, domain.UsageEvent{ID: "warm-1", Amount: credit}); err != nil {
			t.Fatal(err)
		}

		// A change to another agent of the organization: the cached agent
		// is reloaded, still valid, and its debit goes through once.
		if err := w.s.RevokeAgent(ctx, w.org, "support-bot", nil); err != nil {
			t.Fatal(err)
		}
		res, err := other.Debit(ctx, research, domain.UsageEvent{ID: "after-other", Amount: credit})
		if err != nil {
			t.Fatalf("debit after another agent's revocation: %v", err)
		}
		if res.Agent.ID != "research-bot" || res.Agent.Version == research.Version {
			t.Fatalf("the debit should answer the reloaded agent: %+v (was version %d)", res.Agent, research.Version)
		}

		// A revoked agent's very next debit is refused, and debits nothing.
		balance := w.pool(t).Balance
		if err := w.s.RevokeAgent(ctx, w.org, "research-bot", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := other.Debit(ctx, res.Agent, domain.UsageEvent{ID: "after-revoke", Amount: credit}); !errors.Is(err, domain.ErrAgentRevoked) {
			t.Fatalf("debit of a revoked agent: err = %v, want agent revoked", err)
		}
		if _, err := other.Balance(ctx, res.Agent); !errors.Is(err, domain.ErrAgentRevoked) {
			t.Fatalf("balance of a revoked agent: err = %v, want agent revoked", err)
		}
		if got := w.pool(t).Balance; got != balance {
			t.Fatalf("balance %d → %d: a revoked agent debited", balance, got)
		}
		if w.s.HasUsage(ctx, w.org, "after-revoke") {
			t.Fatal("the refused debit left a usage record")
		}

		// A moved agent's very next debit counts against its new group.
		if _, err := w.s.SetAgentGroup(ctx, w.org, "free-bot", "support", nil); err != nil {
			t.Fatal(err)
		}
		res, err = other.Debit(ctx, free, domain.UsageEvent{ID: "after-move", Amount: 2 * credit})
		if err != nil {
			t.Fatal(err)
		}
		if res.Usage.BudgetGroupID != "support" || res.Group == nil || res.Group.Group.ID != "support" || res.Group.Spent != 2*credit {
			t.Fatalf("debit after a move to support: usage %+v, group %+v", res.Usage, res.Group)
		}
		bal, err := other.Balance(ctx, free)
		if err != nil {
			t.Fatal(err)
		}
		if bal.Group == nil || bal.Group.Group.ID != "support" {
			t.Fatalf("balance after a move: %+v", bal)
		}
	})
}

// TestDebitRequests: a warm debit (token and cap cached) is one
// TransactWriteItems and one read, in a group or not: checking the agent's
// version adds a condition, not a request.
func TestDebitRequests(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dynamotest.Backend) {
		ctx := context.Background()
		w := newWorld(t, b)
		rc := &recorder{}
		s := recorded(w, b, rc)
		for _, name := range []string{"research-bot", "free-bot"} {
			agent, err := s.AgentByToken(ctx, w.tokens[name])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Debit(ctx, agent, domain.UsageEvent{ID: name + "-warm", Amount: 1}); err != nil { // caches the cap
				t.Fatal(err)
			}
			rc.reset()
			if _, err := s.Debit(ctx, agent, domain.UsageEvent{ID: name + "-1", Amount: 1}); err != nil {
				t.Fatal(err)
			}
			rc.mu.Lock()
			ops := maps.Clone(rc.ops)
			rc.mu.Unlock()
			if len(ops) != 2 || ops["TransactWriteItems"] != 1 || ops["BatchGetItem"] != 1 {
				t.Errorf("%s: a warm debit sent %v, want 1 TransactWriteItems and 1 BatchGetItem", name, ops)
			}
		}
	})
}

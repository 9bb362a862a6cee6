package domain

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestValidateBatchSize(t *testing.T) {
	for _, tt := range []struct {
		n  int
		ok bool
	}{{0, false}, {1, true}, {MaxBatchEvents, true}, {MaxBatchEvents + 1, false}, {-1, false}} {
		err := ValidateBatchSize(tt.n)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateBatchSize(%d) = %v", tt.n, err)
		}
		var r *Refusal
		if err != nil && (!errors.As(err, &r) || r.Rule != RuleInvalid || r.Field != "events") {
			t.Errorf("ValidateBatchSize(%d) = %#v, want an invalid-input refusal about \"events\"", tt.n, err)
		}
	}
}

// outcome is a compact spelling of an entry for the table: "debit",
// "debited", "dup", or the refusal's rule.
func outcome(e BatchEntry) string {
	switch e.Verdict {
	case VerdictDebit:
		return "debit"
	case VerdictDebited:
		return "debited"
	case VerdictDuplicate:
		return "dup"
	case VerdictRefused:
		var r *Refusal
		switch {
		case errors.As(e.Err, &r):
			return string(r.Rule)
		case errors.Is(e.Err, ErrInsufficientCredit):
			return "credit"
		case errors.Is(e.Err, ErrGroupCapReached):
			return "cap"
		}
		return "refused: " + e.Err.Error()
	}
	return "?"
}

func outcomes(d BatchDecision) string {
	out := make([]string, len(d.Entries))
	for i, e := range d.Entries {
		out[i] = outcome(e)
	}
	return strings.Join(out, " ")
}

func TestDecideBatch(t *testing.T) {
	research := &BudgetGroup{OrgID: "acme", ID: "research", Name: "Research", Cap: 50}
	inGroup := Agent{OrgID: "acme", ID: "research-bot", BudgetGroupID: "research"}
	free := Agent{OrgID: "acme", ID: "free-bot"}
	ev := func(id string, amount Micros) UsageEvent { return UsageEvent{ID: id, Amount: amount} }
	recorded := func(a Agent, e UsageEvent, ours bool) RecordedUsage {
		return RecordedUsage{Usage: NewUsage("acme", a, e, t0.Add(-time.Hour)), Ours: ours}
	}
	tests := []struct {
		name   string
		agent  Agent
		events []UsageEvent
		state  BatchState
		want   string
	}{
		{"all new, plenty of credit", free, []UsageEvent{ev("a", 10), ev("b", 20), ev("c", 30)},
			BatchState{Balance: 100}, "debit debit debit"},
		{"the pool pays to the last micro-credit", free, []UsageEvent{ev("a", 60), ev("b", 40)},
			BatchState{Balance: 100}, "debit debit"},
		{"a refusal for credit does not stop a smaller later event", free, []UsageEvent{ev("a", 60), ev("b", 50), ev("c", 40), ev("d", 1)},
			BatchState{Balance: 100}, "debit credit debit credit"},
		{"an empty pool refuses every new event", free, []UsageEvent{ev("a", 1), ev("b", 1)},
			BatchState{}, "credit credit"},
		{"the cap counts the spend before and the batch's own debits", inGroup, []UsageEvent{ev("a", 20), ev("b", 11), ev("c", 10), ev("d", 1)},
			BatchState{Balance: 1000, Group: research, Spent: 20}, "debit cap debit cap"},
		{"an event larger than the cap alone", inGroup, []UsageEvent{ev("a", 51), ev("b", 50)},
			BatchState{Balance: 1000, Group: research}, "cap debit"},
		{"the pool is checked before the cap", inGroup, []UsageEvent{ev("a", 60)},
			BatchState{Balance: 10, Group: research}, "credit"},
		{"a lowered cap below the spend refuses everything", inGroup, []UsageEvent{ev("a", 1)},
			BatchState{Balance: 1000, Group: &BudgetGroup{ID: "research", Cap: 5}, Spent: 9}, "cap"},
		{"a repeat with the same content is a duplicate of the first", free, []UsageEvent{ev("a", 10), ev("a", 10), ev("b", 5)},
			BatchState{Balance: 100}, "debit dup debit"},
		{"a repeat with other content is a conflict", free, []UsageEvent{ev("a", 10), ev("a", 11)},
			BatchState{Balance: 100}, "debit usage_id_conflict"},
		{"a repeat of a refused event is refused the same way", free, []UsageEvent{ev("a", 200), ev("a", 200), ev("a", 1)},
			BatchState{Balance: 100}, "credit credit usage_id_conflict"},
		{"the ledger's record: duplicate, conflict, or this batch's own", free, []UsageEvent{ev("old", 10), ev("other", 11), ev("mine", 12), ev("new", 13)},
			BatchState{Balance: 100, Recorded: map[string]RecordedUsage{
				"old": recorded(free, ev("old", 10), false), "other": recorded(free, ev("other", 99), false), "mine": recorded(free, ev("mine", 12), true),
			}}, "dup usage_id_conflict debited debit"},
		{"the same id recorded for another agent is a conflict", free, []UsageEvent{ev("x", 10)},
			BatchState{Balance: 100, Recorded: map[string]RecordedUsage{"x": recorded(inGroup, ev("x", 10), false)}}, "usage_id_conflict"},
		{"duplicates cost nothing: the pool still pays later events", free, []UsageEvent{ev("old", 90), ev("new", 100)},
			BatchState{Balance: 100, Recorded: map[string]RecordedUsage{"old": recorded(free, ev("old", 90), false)}}, "dup debit"},
		{"an invalid event is refused and its id is not an occurrence", free, []UsageEvent{ev("a", 0), ev("a", 5), ev("a#b", 5), ev("c", MaxUsageMicros+1)},
			BatchState{Balance: 100}, "invalid debit invalid invalid"},
		{"a revoked agent debits nothing new", Agent{OrgID: "acme", ID: "free-bot", Revoked: true}, []UsageEvent{ev("mine", 12), ev("new", 1)},
			BatchState{Balance: 100, Recorded: map[string]RecordedUsage{"mine": recorded(free, ev("mine", 12), true)}}, "debited agent_revoked"},
		{"a state without the agent's group never debits", inGroup, []UsageEvent{ev("a", 1)},
			BatchState{Balance: 100}, "not_found"},
		{"a state with another group never debits", inGroup, []UsageEvent{ev("a", 1)},
			BatchState{Balance: 100, Group: &BudgetGroup{ID: "support", Cap: 100}}, "not_found"},
		{"the day's ceiling", free, []UsageEvent{ev("a", 5), ev("b", 6), ev("c", 1)},
			BatchState{Balance: 100, Day: MaxRunningTotalMicros - 10}, "debit credit_ceiling_reached debit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := DecideBatch(BatchInput{OrgID: "acme", Agent: tt.agent, Events: tt.events, Now: t0, State: tt.state})
			if got := outcomes(d); got != tt.want {
				t.Fatalf("outcomes %q, want %q", got, tt.want)
			}
			for i, e := range d.Entries {
				if e.Verdict == VerdictDebit && (e.Usage.ID != tt.events[i].ID || e.Usage.Amount != tt.events[i].Amount || !e.Usage.RecordedAt.Equal(t0) || e.Usage.BudgetGroupID != tt.agent.BudgetGroupID) {
					t.Errorf("entry %d debits %+v", i, e.Usage)
				}
			}
		})
	}
}

func TestDecideBatchRefusalsSayWhatTheEventSaw(t *testing.T) {
	research := &BudgetGroup{ID: "research", Name: "Research", Cap: 50}
	agent := Agent{OrgID: "acme", ID: "research-bot", BudgetGroupID: "research"}
	d := DecideBatch(BatchInput{OrgID: "acme", Agent: agent, Now: t0,
		Events: []UsageEvent{{ID: "a", Amount: 30}, {ID: "b", Amount: 80}, {ID: "c", Amount: 5}, {ID: "d", Amount: 10}},
		State:  BatchState{Balance: 100, Group: research, Spent: 10}})
	var ic *InsufficientCredit
	if !errors.As(d.Entries[1].Err, &ic) || ic.Balance != 70 || ic.Requested != 80 {
		t.Errorf("b: %#v, want the balance after a (70)", d.Entries[1].Err)
	}
	var gc *GroupCapReached
	if !errors.As(d.Entries[3].Err, &gc) || gc.Spent != 45 || gc.Cap != 50 || gc.Requested != 10 || gc.Period != "2026-11" || gc.GroupID != "research" {
		t.Errorf("d: %#v, want the spend after a and c (45)", d.Entries[3].Err)
	}
	// A repeat answers as its first occurrence did: the same record.
	d = DecideBatch(BatchInput{OrgID: "acme", Agent: agent, Now: t0,
		Events: []UsageEvent{{ID: "a", Amount: 3, Kind: "chat"}, {ID: "a", Amount: 3, Kind: "chat"}}, State: BatchState{Balance: 100, Group: research}})
	if d.Entries[1].Usage != d.Entries[0].Usage {
		t.Errorf("repeat answers %+v, first %+v", d.Entries[1].Usage, d.Entries[0].Usage)
	}
}

// TestDecideBatchKeepsFinalDecisions: events decided and written by an
// earlier transaction of the batch stand, and their ids count as first
// occurrences, whatever the state says now.
func TestDecideBatchKeepsFinalDecisions(t *testing.T) {
	agent := Agent{OrgID: "acme", ID: "free-bot"}
	events := []UsageEvent{{ID: "a", Amount: 10}, {ID: "b", Amount: 500}, {ID: "a", Amount: 10}, {ID: "b", Amount: 500}, {ID: "c", Amount: 5}}
	first := DecideBatch(BatchInput{OrgID: "acme", Agent: agent, Events: events, Now: t0, State: BatchState{Balance: 100}})
	if got := outcomes(first); got != "debit credit dup credit debit" {
		t.Fatalf("first decision %q", got)
	}
	// a and b are written; a grant of 1000 lands; the rest is decided
	// again. b stays refused (it was final), its repeat with it; a's
	// repeat is a duplicate of the record this batch wrote.
	again := DecideBatch(BatchInput{OrgID: "acme", Agent: agent, Events: events, Now: t0, Final: first.Entries[:2],
		State: BatchState{Balance: 1090, Recorded: map[string]RecordedUsage{"a": {Usage: first.Entries[0].Usage, Ours: true}}}})
	if got := outcomes(again); got != "debit credit dup credit debit" {
		t.Fatalf("decided again %q", got)
	}
	if p := again.Premise(2, 5); p.Balance != (Range{Min: 5, Max: MaxRunningTotalMicros}) || p.Amount != 5 || p.Count != 1 {
		t.Errorf("the repeat of a final refusal must not bound the balance: %+v", p)
	}
}

// TestBatchPremiseIsExact checks, over many random batches and states,
// that the premise of a decision is as loose as it can be and no looser:
// at both ends of every range every event gets the same verdict (debited,
// duplicate, refused), and just outside a range some answer changes (a
// verdict, or the reason a refusal gives is no longer the one that
// fails). It also checks the premise of a later run after the earlier runs
// are written.
func TestBatchPremiseIsExact(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	group := &BudgetGroup{ID: "g", Name: "G"}
	agent := Agent{OrgID: "acme", ID: "bot", BudgetGroupID: "g"}
	for round := range 500 {
		group.Cap = Micros(r.IntN(200))
		n := 1 + r.IntN(12)
		events := make([]UsageEvent, n)
		recorded := map[string]RecordedUsage{}
		for i := range events {
			events[i] = UsageEvent{ID: fmt.Sprintf("e%d", r.IntN(n+2)), Amount: Micros(1 + r.IntN(60))}
			if r.IntN(8) == 0 {
				recorded[events[i].ID] = RecordedUsage{Usage: NewUsage("acme", agent, events[i], t0)}
			}
		}
		state := BatchState{Balance: Micros(r.IntN(300)), Day: Micros(r.IntN(100)), Group: group, Spent: Micros(r.IntN(150)), Recorded: recorded}
		if r.IntN(10) == 0 {
			state.Day = MaxRunningTotalMicros - Micros(r.IntN(100))
		}
		decide := func(s BatchState) BatchDecision {
			return DecideBatch(BatchInput{OrgID: "acme", Agent: agent, Events: events, Now: t0, State: s})
		}
		d := decide(state)
		want, wantVerdicts := outcomes(d), verdicts(d)
		p := d.Premise(0, n)
		if !p.Balance.Holds(state.Balance) || !p.Day.Holds(state.Day) || !p.Spent.Holds(state.Spent) {
			t.Fatalf("round %d: the state the decision was made in is outside its premise %+v: %+v", round, p, state)
		}
		totals := []struct {
			name string
			r    Range
			set  func(*BatchState, Micros)
		}{
			{"balance", p.Balance, func(s *BatchState, v Micros) { s.Balance = v }},
			{"day", p.Day, func(s *BatchState, v Micros) { s.Day = v }},
			{"spent", p.Spent, func(s *BatchState, v Micros) { s.Spent = v }},
		}
		for _, tot := range totals {
			for _, v := range []Micros{tot.r.Min, tot.r.Max} {
				s := state
				tot.set(&s, v)
				if got := verdicts(decide(s)); got != wantVerdicts {
					t.Fatalf("round %d: %s %d is inside the premise %+v, yet the verdicts change from %q to %q", round, tot.name, v, tot.r, wantVerdicts, got)
				}
			}
			for _, v := range []Micros{tot.r.Min - 1, tot.r.Max + 1} {
				if !anyTotal.Holds(v) {
					continue
				}
				s := state
				tot.set(&s, v)
				if got := outcomes(decide(s)); got == want {
					t.Fatalf("round %d: %s %d is outside the premise %+v, yet the decision %q is the same: the premise is too strict", round, tot.name, v, tot.r, want)
				}
			}
		}
		var debited Micros
		for _, e := range d.Entries {
			if e.Verdict == VerdictDebit {
				debited += e.Usage.Amount
			}
		}
		if p.Amount != debited || p.Count != countVerdict(d, VerdictDebit) {
			t.Fatalf("round %d: premise amount %d count %d, debits %d", round, p.Amount, p.Count, debited)
		}
		// Split anywhere: once [0,k) is written, the rest's premise holds
		// for the totals as that write left them.
		k := r.IntN(n + 1)
		p1, p2 := d.Premise(0, k), d.Premise(k, n)
		after := BatchState{Balance: state.Balance - p1.Amount, Day: state.Day + p1.Amount, Spent: state.Spent + p1.Amount}
		if !p2.Balance.Holds(after.Balance) || !p2.Day.Holds(after.Day) || !p2.Spent.Holds(after.Spent) {
			t.Fatalf("round %d: split at %d: the second run's premise %+v does not hold after the first %+v", round, k, p2, after)
		}
	}
}

func verdicts(d BatchDecision) string {
	var b strings.Builder
	for _, e := range d.Entries {
		fmt.Fprint(&b, int(e.Verdict))
	}
	return b.String()
}

func countVerdict(d BatchDecision, v Verdict) int {
	n := 0
	for _, e := range d.Entries {
		if e.Verdict == v {
			n++
		}
	}
	return n
}

func TestBatchPremiseOfRefusalsOnly(t *testing.T) {
	d := DecideBatch(BatchInput{OrgID: "acme", Agent: Agent{OrgID: "acme", ID: "bot"}, Now: t0,
		Events: []UsageEvent{{ID: "a", Amount: 7}, {ID: "b", Amount: 0}}, State: BatchState{Balance: 5}})
	p := d.Premise(0, 2)
	if p.Count != 0 || p.Amount != 0 || p.Balance != (Range{0, 6}) {
		t.Fatalf("premise %+v", p)
	}
	if !slices.EqualFunc(d.Entries, []BatchEntry{{Verdict: VerdictRefused}, {Verdict: VerdictRefused}}, func(a, b BatchEntry) bool { return a.Verdict == b.Verdict }) {
		t.Fatalf("entries %+v", d.Entries)
	}
}

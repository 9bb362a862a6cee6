package domain

import "time"

// MaxBatchEvents is the most usage events one batch (POST /v1/usage/batch)
// may carry.
const MaxBatchEvents = 100

// ValidateBatchSize checks how many events a batch carries: 1 to
// MaxBatchEvents. A batch of another size is refused as a whole.
func ValidateBatchSize(n int) error {
	switch {
	case n < 1:
		return invalidField("events", "\"events\" must hold at least one usage event.")
	case n > MaxBatchEvents:
		return invalidField("events", "\"events\" holds %d usage events; a batch holds at most %d. Send the rest in another batch.", n, MaxBatchEvents)
	}
	return nil
}

// UsageConflict refuses a usage event whose id was already used for other
// content.
func UsageConflict(id string) *Refusal {
	return Refusef(RuleUsageConflict,
		"usage id %q was already used for a different event (agent, amount, kind or occurred_at differ); nothing was debited. Use a new id for a new event, and the same body when retrying", id)
}

// DayCeilingReached refuses a debit that would take the organization's
// usage of the day past MaxRunningTotalMicros.
func DayCeilingReached() *Refusal {
	return Refusef(RuleCeilingReached, "the organization's usage of today has reached the ceiling of %s credits of every running total; nothing was debited", MaxRunningTotalMicros.Credits())
}

// Verdict is what a batch decided for one of its events.
type Verdict int

const (
	// VerdictDebit: the event is new; it is debited.
	VerdictDebit Verdict = iota + 1
	// VerdictDebited: this very batch already wrote the event's ledger
	// entry (an earlier transaction of it, or one whose answer was lost):
	// it is the original debit, not a duplicate.
	VerdictDebited
	// VerdictDuplicate: the event was debited before, by another request
	// or earlier in this batch, with the same content. It is answered as
	// the original; nothing more is debited.
	VerdictDuplicate
	// VerdictRefused: the event is not debited; BatchEntry.Err says why,
	// as the single debit would have refused it.
	VerdictRefused
)

// BatchEntry is the decision about one event of a batch.
type BatchEntry struct {
	Verdict Verdict
	// Usage is the ledger entry the answer shows: the new one for
	// VerdictDebit, the recorded one for VerdictDebited and
	// VerdictDuplicate. For a refusal it is the entry the event would have
	// made (zero for an invalid event).
	Usage Usage
	// Err is the refusal, for VerdictRefused.
	Err error
	// valid tells whether the event passed validation, so that its id
	// counts as an occurrence for the events after it.
	valid bool
	// repeat marks an event decided as an earlier occurrence of its id
	// was: its outcome depends on no running total.
	repeat bool
}

// Debits tells whether the entry is debited by this batch (now or by an
// earlier transaction of it), as opposed to a duplicate or a refusal.
func (e BatchEntry) Debits() bool { return e.Verdict == VerdictDebit || e.Verdict == VerdictDebited }

// RecordedUsage is a usage record found in the ledger.
type RecordedUsage struct {
	Usage Usage
	// Ours tells that this very batch wrote it (the store knows its
	// writes by an id it gives each batch call).
	Ours bool
}

// BatchState is what the decision of a batch depends on: the
// organization's running totals, and what the ledger holds for the
// batch's ids. The store fills it from one read, or assumes it (plenty of
// credit, nothing recorded yet) and lets the conditions of its write
// check the assumption (see BatchDecision.Premise): either way the
// decision holds exactly when the premise does.
type BatchState struct {
	Balance Micros       // the pool's balance
	Day     Micros       // the organization's usage of the day the batch is recorded on
	Group   *BudgetGroup // the agent's budget group and its cap; nil without one
	Spent   Micros       // the group's spend in the period
	// Recorded are the ledger's records of the batch's ids, by id; an id
	// without one is new.
	Recorded map[string]RecordedUsage
}

// BatchInput is a batch to decide.
type BatchInput struct {
	OrgID  string
	Agent  Agent
	Events []UsageEvent
	Now    time.Time
	// Final are the decisions about the first len(Final) events that are
	// already written (or needed no write): they stand, and their ids
	// count as earlier occurrences for the events after them.
	Final []BatchEntry
	State BatchState
}

// BatchDecision is a batch decided: one entry per event.
type BatchDecision struct {
	Entries []BatchEntry
	// Group is the budget group (and cap) the decision applied; nil
	// without one.
	Group *BudgetGroup
}

// DecideBatch decides the events of a batch after in.Final, in request
// order, each on its own, by the rules of a single debit:
//
//   - An invalid event is refused (400) and takes no part in the rest: its
//     id is not an occurrence.
//   - An id repeated inside the batch is decided as its first occurrence
//     was when the content is the same (a duplicate of a debit, or the
//     same refusal), and is a conflict (409) otherwise.
//   - An id the ledger holds is a duplicate with the same content and a
//     conflict (409) otherwise; a record this very batch wrote is its
//     original debit.
//   - A revoked agent debits nothing: every new event is refused.
//   - A new event is debited when the pool, after the events debited
//     before it in the batch, can pay it in full (else 402
//     insufficient-credit), the day's total stays under the ceiling, and
//     the agent's group stays within its cap (else 402
//     budget-group-cap-reached). A refused event does not stop later
//     ones: a smaller one after it can still be debited.
func DecideBatch(in BatchInput) BatchDecision {
	st := in.State
	d := BatchDecision{Entries: make([]BatchEntry, 0, len(in.Events))}
	if g := st.Group; g != nil && in.Agent.BudgetGroupID == g.ID {
		d.Group = g
	}
	d.Entries = append(d.Entries, in.Final...)
	first := map[string]int{} // id → index of its first valid occurrence
	for i, e := range d.Entries {
		if _, seen := first[in.Events[i].ID]; e.valid && !seen {
			first[in.Events[i].ID] = i
		}
	}
	var debited Micros // by this decision so far
	for i := len(in.Final); i < len(in.Events); i++ {
		e := in.Events[i]
		if err := e.Validate(); err != nil {
			d.Entries = append(d.Entries, BatchEntry{Verdict: VerdictRefused, Err: err})
			continue
		}
		u := NewUsage(in.OrgID, in.Agent, e, in.Now)
		entry := decideEvent(u, first, d.Entries, st, d.Group, in.Agent.Revoked, debited)
		entry.valid = true
		if _, seen := first[e.ID]; !seen {
			first[e.ID] = i
		}
		if entry.Verdict == VerdictDebit {
			debited += u.Amount
		}
		d.Entries = append(d.Entries, entry)
	}
	return d
}

func decideEvent(u Usage, first map[string]int, decided []BatchEntry, st BatchState, group *BudgetGroup, revoked bool, debited Micros) BatchEntry {
	if j, ok := first[u.ID]; ok {
		orig := decided[j]
		switch {
		case orig.Usage.Fingerprint != u.Fingerprint:
			return BatchEntry{Verdict: VerdictRefused, Usage: u, Err: UsageConflict(u.ID), repeat: true}
		case orig.Verdict == VerdictRefused:
			return BatchEntry{Verdict: VerdictRefused, Usage: u, Err: orig.Err, repeat: true}
		default:
			return BatchEntry{Verdict: VerdictDuplicate, Usage: orig.Usage, repeat: true}
		}
	}
	if rec, ok := st.Recorded[u.ID]; ok {
		switch {
		case rec.Usage.Fingerprint != u.Fingerprint:
			return BatchEntry{Verdict: VerdictRefused, Usage: u, Err: UsageConflict(u.ID)}
		case rec.Ours:
			return BatchEntry{Verdict: VerdictDebited, Usage: rec.Usage}
		default:
			return BatchEntry{Verdict: VerdictDuplicate, Usage: rec.Usage}
		}
	}
	if revoked {
		return BatchEntry{Verdict: VerdictRefused, Usage: u, Err: Refusef(RuleAgentRevoked, "this agent's token was revoked")}
	}
	if u.BudgetGroupID != "" && group == nil {
		// Never debit without the cap that applies: a state without the
		// agent's group is refused, not taken for "no group".
		return BatchEntry{Verdict: VerdictRefused, Usage: u, Err: NotFound("budget group", u.BudgetGroupID)}
	}
	if balance := st.Balance - debited; balance < u.Amount {
		return BatchEntry{Verdict: VerdictRefused, Usage: u, Err: &InsufficientCredit{Balance: balance, Requested: u.Amount}}
	}
	if st.Day+debited > MaxRunningTotalMicros-u.Amount {
		return BatchEntry{Verdict: VerdictRefused, Usage: u, Err: DayCeilingReached()}
	}
	if g := group; g != nil {
		if spent := st.Spent + debited; spent > g.Cap-u.Amount {
			return BatchEntry{Verdict: VerdictRefused, Usage: u, Err: &GroupCapReached{
				GroupID: g.ID, GroupName: g.Name, Cap: g.Cap, Spent: spent, Requested: u.Amount, Period: u.Period,
			}}
		}
	}
	return BatchEntry{Verdict: VerdictDebit, Usage: u}
}

// Range is an inclusive interval of a running total.
type Range struct{ Min, Max Micros }

// Holds tells whether v lies in r.
func (r Range) Holds(v Micros) bool { return r.Min <= v && v <= r.Max }

// anyTotal is the range every running total lies in: none is negative,
// none passes the ceiling.
var anyTotal = Range{Min: 0, Max: MaxRunningTotalMicros}

// Premise is what the decisions about a run of a batch's events assume of
// the running totals at the moment the run is written: each lies in its
// range. The store writes the run with these as the conditions of its
// updates, so the run is written only while every decision in it still
// holds; otherwise nothing of the run is written and the events are
// decided again. Amount and Count are what the run debits.
type Premise struct {
	// Balance: the pool can pay every event debited in the run (Min) and
	// cannot pay those refused for credit (Max).
	Balance Range
	// Day: the day's total stays under the ceiling with the run's debits
	// (Max), and would not with the events refused for it (Min).
	Day Range
	// Spent: the group's spend stays within the cap with the run's
	// debits (Max), and would not with the events refused for the cap
	// (Min). Meaningful only for a decision with a group.
	Spent  Range
	Amount Micros
	Count  int
}

// Premise is the premise of the run of entries [from, to), relative to the
// totals just before the run: the runs before it are written by then. The
// refusals for a duplicate, a conflict or invalid input depend on no
// total.
func (d BatchDecision) Premise(from, to int) Premise {
	p := Premise{Balance: anyTotal, Day: anyTotal, Spent: anyTotal}
	for _, e := range d.Entries[from:to] {
		a := e.Usage.Amount
		switch {
		case e.Verdict == VerdictDebit:
			p.Balance.Min = max(p.Balance.Min, p.Amount+a)
			p.Day.Max = min(p.Day.Max, MaxRunningTotalMicros-p.Amount-a)
			if d.Group != nil {
				p.Spent.Max = min(p.Spent.Max, d.Group.Cap-p.Amount-a)
			}
			p.Amount += a
			p.Count++
		case e.Verdict != VerdictRefused || e.repeat:
		case errorIs[*InsufficientCredit](e.Err):
			p.Balance.Max = min(p.Balance.Max, p.Amount+a-1)
		case isDayCeiling(e.Err):
			p.Day.Min = max(p.Day.Min, MaxRunningTotalMicros-p.Amount-a+1)
		case errorIs[*GroupCapReached](e.Err) && d.Group != nil:
			p.Spent.Min = max(p.Spent.Min, d.Group.Cap-p.Amount-a+1)
		}
	}
	return p
}

func errorIs[T error](err error) bool {
	_, ok := err.(T)
	return ok
}

func isDayCeiling(err error) bool {
	r, ok := err.(*Refusal)
	return ok && r.Rule == RuleCeilingReached
}

// BatchResult is the answer to a batch: one item per event, in request
// order.
type BatchResult struct {
	Items []BatchItem
	// Balance is the pool balance read right after the batch; it may
	// already include later debits.
	Balance Micros
	// Agent is the agent as the batch was decided for it (see
	// DebitResult.Agent).
	Agent Agent
}

// BatchItem is the answer about one event of a batch: a usage record
// (debited now or a duplicate), or the refusal.
type BatchItem struct {
	Usage     Usage
	Duplicate bool
	// Group is the budget group of the usage's period, read right after
	// the batch; nil without a group.
	Group *GroupStatus
	// Err is the refusal of an event that was not debited.
	Err error
}

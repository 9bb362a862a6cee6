package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// maxTransactItems is DynamoDB's limit of actions in one
// TransactWriteItems (no two of them on the same item; 4 MB in all, far
// more than 100 usage records take).
const maxTransactItems = 100

// runDebits is how many usage records one transaction of a batch carries:
// the rest of its items are the pool, the day's total and, for an agent in
// a group, the group's spend and the check of its cap.
func runDebits(group *domain.BudgetGroup) int {
	if group != nil {
		return maxTransactItems - 4
	}
	return maxTransactItems - 2
}

// DebitBatch debits a batch of one agent's usage events (1 to
// domain.MaxBatchEvents), each exactly once per usage id, across batches
// and single debits alike. domain.DecideBatch decides the events in
// request order, each on its own; the store reads what the decision
// needs, and writes the debited events in as few transactions as DynamoDB
// allows (up to 96 events each, the pool updated once per transaction),
// each conditioned on the decision's premise (domain.BatchDecision.Premise)
// and on the agent's version, like a single debit.
//
// A batch is first decided on an assumption instead of a read: plenty of
// credit, every id new, the cached cap. When that holds, as it does for a
// healthy organization, the batch costs its transactions and one read for
// the answer. When the assumption itself refuses an event for its group's
// cap, the store reads before writing, as the refusal states the group's
// real spend. When the assumption does not hold (an id was debited before,
// the pool or the group cannot pay everything, the cap or the agent
// changed), a condition fails and nothing of that transaction is written;
// the store then reads
// the state once (the pool, the day, the group, the ledger's records of
// the batch's ids), decides the events not yet written again, and writes
// what is to be debited. A refusal costs one read, never a transaction per
// event. This works the same whatever a back end reports of a
// cancellation: the decision is always made from a read, never from the
// cancellation reasons (the embedded back end reports only the first
// failed condition, without old images).
//
// A batch is not all-or-nothing: the transactions that went through stay,
// and each event's answer says what happened to it; when a later one fails
// for good (domain.ErrBusy, domain.ErrUnavailable), the error says nothing
// of them, and sending the batch again whole answers them as duplicates
// and decides the rest. A revoked agent's
// batch is refused as a whole (domain.ErrAgentRevoked) unless part of it
// was already debited, in which case the rest is refused event by event.
func (s *Store) DebitBatch(ctx context.Context, agent domain.Agent, events []domain.UsageEvent) (domain.BatchResult, error) {
	if err := domain.ValidateBatchSize(len(events)); err != nil {
		return domain.BatchResult{}, err
	}
	now := s.now().UTC()
	b := &batch{s: s, agent: agent, events: events, now: now, writeID: newID("bw_", now)}
	// When the pool was last seen short of what the batch asks, a write on
	// the assumption of plenty would most likely be refused: read first.
	b.read = s.poolShort(agent.OrgID, events)
	for len(b.final) < len(events) {
		if err := s.mutate(ctx, "batch debit", b.decide); err != nil {
			return domain.BatchResult{}, err
		}
		// The run is written (or needed no write): its decisions stand.
		b.final = b.plan.Entries[:b.to]
	}
	if b.agent.Revoked && !anyDebits(b.final) {
		return domain.BatchResult{}, domain.Refusef(domain.RuleAgentRevoked, "this agent's token was revoked")
	}
	b.noteCapReached(ctx)
	return s.batchResult(ctx, b)
}

// batch is one DebitBatch call in progress.
type batch struct {
	s       *Store
	agent   domain.Agent
	events  []domain.UsageEvent
	now     time.Time
	writeID string

	// final are the decisions written (or needing no write), for the
	// first len(final) events.
	final []domain.BatchEntry
	// plan is the decision about the rest; nil when it must be made
	// again.
	plan *domain.BatchDecision
	// read tells to decide from a read of the state rather than from the
	// assumption of plenty.
	read bool
	// to is the end of the run of plan being written.
	to int
}

// decide is the decision step of mutate: it decides the events not yet
// written (once per read), and returns the transaction of the next run.
func (b *batch) decide(ctx context.Context) (*write, error) {
	if b.plan == nil {
		st, err := b.state(ctx)
		if err != nil {
			return nil, err
		}
		d := domain.DecideBatch(domain.BatchInput{OrgID: b.agent.OrgID, Agent: b.agent, Events: b.events, Now: b.now, Final: b.final, State: st})
		if !b.read && capRefused(d.Entries[len(b.final):]) {
			// The assumption left the group's spend out, and a cap
			// refusal tells the spend: decide it from the real one.
			b.read = true
			return b.decide(ctx)
		}
		b.plan = &d
	}
	from := len(b.final)
	b.to = runEnd(b.plan.Entries, from, runDebits(b.plan.Group))
	p := b.plan.Premise(from, b.to)
	if p.Count == 0 {
		return nil, nil // nothing more to debit: the rest are duplicates and refusals
	}
	tx := batchTxn(b.agent.OrgID, b.plan.Entries[from:b.to], p, b.plan.Group, b.agent.Version, b.writeID, b.now)
	return &write{tx: tx, canceled: func(*canceled) error {
		// A premise failed: an id was recorded meanwhile, the pool, day
		// or spend left the premise's range, the cap or the agents
		// changed. Which one does not matter: read, and decide again.
		b.plan, b.read = nil, true
		return errDecideAgain
	}}, nil
}

// runEnd is the end of the run of entries that starts at from: it holds
// at most limit debits, and every refusal up to the next debit (after the
// last debit, every remaining entry), so each refusal's premise is checked
// by a run that is written.
func runEnd(entries []domain.BatchEntry, from, limit int) int {
	n := 0
	for i := from; i < len(entries); i++ {
		if entries[i].Verdict == domain.VerdictDebit {
			if n == limit {
				return i
			}
			n++
		}
	}
	return len(entries)
}

// capRefused tells whether any entry is refused for its group's cap.
func capRefused(entries []domain.BatchEntry) bool {
	for _, e := range entries {
		var gc *domain.GroupCapReached
		if e.Verdict == domain.VerdictRefused && errors.As(e.Err, &gc) {
			return true
		}
	}
	return false
}

func anyDebits(entries []domain.BatchEntry) bool {
	for _, e := range entries {
		if e.Debits() {
			return true
		}
	}
	return false
}

// state is what the next decision starts from: the assumption of plenty
// (the first time, unless the pool was seen short), or a read.
func (b *batch) state(ctx context.Context) (domain.BatchState, error) {
	if !b.read {
		st := domain.BatchState{Balance: domain.MaxRunningTotalMicros}
		if gid := b.agent.BudgetGroupID; gid != "" {
			g, err := b.s.cachedGroup(ctx, b.agent.OrgID, gid, false)
			if err != nil {
				return domain.BatchState{}, err
			}
			st.Group = &g
		}
		return st, nil
	}
	return b.readState(ctx)
}

// readState reads, in one BatchGetItem of consistent reads, the pool, the
// day's total, the agent's group and its spend in the period, and the
// ledger's records of the ids still to decide. When the pool shows the
// organization's agents changed, the agent is read again (a revoked one
// debits nothing more; a moved one counts against its new group).
func (b *batch) readState(ctx context.Context) (domain.BatchState, error) {
	org, period := b.agent.OrgID, domain.Period(b.now)
	keys := []key{itemKey(orgPK(org), skPool), itemKey(orgPK(org), daySK(b.now))}
	keys = append(keys, groupKeys(org, b.agent.BudgetGroupID, period)...)
	keys = append(keys, b.usageKeys()...)
	items, err := b.s.batchGet(ctx, keys)
	if err != nil {
		return domain.BatchState{}, err
	}
	st := domain.BatchState{Recorded: map[string]domain.RecordedUsage{}}
	var pool *domain.Pool
	for _, raw := range items {
		switch itemType(raw) {
		case typePool:
			p, err := unmarshal[poolItem](raw)
			if err != nil {
				return domain.BatchState{}, unreadable("pool of "+org, err)
			}
			dp := p.domain()
			pool = &dp
		case typeDay:
			d, err := unmarshal[dayItem](raw)
			if err != nil {
				return domain.BatchState{}, unreadable("usage of a day", err)
			}
			st.Day = domain.Micros(d.Amount)
		case typeUsage:
			u, err := unmarshal[usageItem](raw)
			if err != nil {
				return domain.BatchState{}, unreadable("a usage record", err)
			}
			st.Recorded[u.ID] = domain.RecordedUsage{Usage: u.domain(), Ours: u.WriteID == b.writeID}
		default:
			if err := readGroupItem(raw, &st); err != nil {
				return domain.BatchState{}, err
			}
		}
	}
	if pool == nil {
		return domain.BatchState{}, notFound("organization", org)
	}
	st.Balance = pool.Balance
	b.s.notePool(*pool)
	if pool.AgentsVersion != b.agent.Version {
		fresh, err := b.s.freshAgent(ctx, org, b.agent.ID)
		switch {
		case errors.Is(err, domain.ErrAgentRevoked):
			b.agent.Revoked, b.agent.Version = true, pool.AgentsVersion
			return st, nil
		case err != nil:
			return domain.BatchState{}, err
		}
		if fresh.BudgetGroupID != b.agent.BudgetGroupID {
			st.Group, st.Spent = nil, 0
			if fresh.BudgetGroupID != "" {
				items, err := b.s.batchGet(ctx, groupKeys(org, fresh.BudgetGroupID, period))
				if err != nil {
					return domain.BatchState{}, err
				}
				for _, raw := range items {
					if err := readGroupItem(raw, &st); err != nil {
						return domain.BatchState{}, err
					}
				}
			}
		}
		b.agent = fresh
	}
	if gid := b.agent.BudgetGroupID; gid != "" {
		if st.Group == nil {
			return domain.BatchState{}, notFound("budget group", gid)
		}
		b.s.cacheGroup(*st.Group)
	}
	return st, nil
}

// readGroupItem takes a group or spend item into st.
func readGroupItem(raw map[string]types.AttributeValue, st *domain.BatchState) error {
	switch itemType(raw) {
	case typeGroup:
		g, err := unmarshal[groupItem](raw)
		if err != nil {
			return unreadable("budget group", err)
		}
		dg := g.domain()
		st.Group = &dg
	case typeSpend:
		sp, err := unmarshal[spendItem](raw)
		if err != nil {
			return unreadable("spend of a budget group", err)
		}
		st.Spent = domain.Micros(sp.Spent)
	}
	return nil
}

// groupKeys are the keys of a group and its spend in period; none without
// a group.
func groupKeys(org, groupID, period string) []key {
	if groupID == "" {
		return nil
	}
	return []key{itemKey(orgPK(org), groupSK(groupID)), itemKey(orgPK(org), spendSK(groupID, period))}
}

// usageKeys are the keys of the ledger records the next decision needs:
// each valid id of the events not yet decided, once, except those whose
// first occurrence is already decided.
func (b *batch) usageKeys() []key {
	seen := map[string]bool{}
	for i := range b.final {
		seen[b.events[i].ID] = true
	}
	var keys []key
	for _, e := range b.events[len(b.final):] {
		if seen[e.ID] || domain.ValidateID("usage", e.ID) != nil {
			continue
		}
		seen[e.ID] = true
		keys = append(keys, itemKey(usagePK(b.agent.OrgID, e.ID), skUsage))
	}
	return keys
}

// batchTxn is the transaction of one run of a batch: a usage record per
// debited event, and one update each of the pool, the day's total and the
// group's spend by the run's total, each conditioned on the premise's
// range, and the check that the cap is the one decided with.
func batchTxn(orgID string, run []domain.BatchEntry, p domain.Premise, group *domain.BudgetGroup, agentsVersion int64, writeID string, now time.Time) *txn {
	tx := new(txn)
	var u domain.Usage
	for _, e := range run {
		if e.Verdict != domain.VerdictDebit {
			continue
		}
		u = e.Usage
		it := newUsageItem(u)
		it.WriteID = writeID
		tx.add("usage", putNew(marshal(it)))
	}
	amt := int64(p.Amount)
	tx.add("pool", update(itemKey(orgPK(orgID), skPool),
		expression.Add(name("balance_micros"), value(-amt)),
		poolWithin(p.Balance, agentsVersion)))
	tx.add("day", update(itemKey(orgPK(orgID), daySK(now)),
		expression.Add(name("amount_micros"), value(amt)).Add(name("debits"), value(p.Count)).
			Set(name("type"), value(typeDay)).Set(name("org_id"), value(orgID)).Set(name("day"), value(dayOf(now))),
		whenWithin("amount_micros", p.Day)))
	if group == nil {
		return tx
	}
	return tx.
		add("spend", update(itemKey(orgPK(orgID), spendSK(group.ID, u.Period)),
			spendIdentity(u, *group).Add(name("spent_micros"), value(amt)), whenWithin("spent_micros", p.Spent))).
		add("cap", check(itemKey(orgPK(orgID), groupSK(group.ID)), name("cap_micros").Equal(value(int64(group.Cap)))))
}

// within is the condition that attribute attr lies in r, with a lower or
// an upper bound or both; ok is false when r bounds nothing.
func within(attr string, r domain.Range) (c expression.ConditionBuilder, ok bool) {
	switch low, high := r.Min > 0, r.Max < domain.MaxRunningTotalMicros; {
	case low && high:
		return name(attr).Between(value(int64(r.Min)), value(int64(r.Max))), true
	case low:
		return name(attr).GreaterThanEqual(value(int64(r.Min))), true
	case high:
		return name(attr).LessThanEqual(value(int64(r.Max))), true
	}
	return c, false
}

// whenWithin is within for a running total kept in an item that may not
// exist yet (a day's total, a group's spend), which counts as zero.
func whenWithin(attr string, r domain.Range) cond {
	c, ok := within(attr, r)
	if !ok {
		return nil
	}
	if r.Holds(0) {
		c = expression.Or(name(attr).AttributeNotExists(), c)
	}
	return when(c)
}

// poolWithin is the pool's condition: the balance lies in r (a run always
// debits, so r has a lower bound) and the agents are those decided with.
func poolWithin(r domain.Range, agentsVersion int64) cond {
	c, ok := within("balance_micros", r)
	if !ok {
		c = present()
	}
	return when(c.And(agentsAt(agentsVersion)))
}

// noteCapReached records a refusal for the cap, as a single debit does
// (see Store.noteCapReached), for the first event of the batch refused for
// it that would have fitted an empty group.
func (b *batch) noteCapReached(ctx context.Context) {
	for _, e := range b.final {
		if gc, ok := errors.AsType[*domain.GroupCapReached](e.Err); ok && gc.Requested <= gc.Cap {
			g := domain.BudgetGroup{OrgID: b.agent.OrgID, ID: gc.GroupID, Name: gc.GroupName, Cap: gc.Cap}
			b.s.noteCapReached(ctx, e.Usage, g, false)
			return
		}
	}
}

// batchResult reads the pool, and the spend and cap of every group and
// period the answer shows, in one request, and builds the answer.
func (s *Store) batchResult(ctx context.Context, b *batch) (domain.BatchResult, error) {
	org := b.agent.OrgID
	type gp struct{ group, period string }
	keys := []key{itemKey(orgPK(org), skPool)}
	seen := map[gp]bool{}
	for _, e := range b.final {
		k := gp{e.Usage.BudgetGroupID, e.Usage.Period}
		if e.Verdict == domain.VerdictRefused || k.group == "" || seen[k] {
			continue
		}
		seen[k] = true
		keys = append(keys, itemKey(orgPK(org), spendSK(k.group, k.period)))
	}
	for k := range seen {
		keys = append(keys, itemKey(orgPK(org), groupSK(k.group)))
	}
	keys = dedupKeys(keys)
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return domain.BatchResult{}, err
	}
	var pool *domain.Pool
	groups := map[string]domain.BudgetGroup{}
	spent := map[gp]domain.Micros{}
	for _, raw := range items {
		switch itemType(raw) {
		case typePool:
			p, err := unmarshal[poolItem](raw)
			if err != nil {
				return domain.BatchResult{}, unreadable("pool of "+org, err)
			}
			dp := p.domain()
			pool = &dp
		case typeGroup:
			g, err := unmarshal[groupItem](raw)
			if err != nil {
				return domain.BatchResult{}, unreadable("budget group", err)
			}
			groups[g.ID] = g.domain()
		case typeSpend:
			sp, err := unmarshal[spendItem](raw)
			if err != nil {
				return domain.BatchResult{}, unreadable("spend of a budget group", err)
			}
			spent[gp{sp.GroupID, sp.Period}] = domain.Micros(sp.Spent)
		}
	}
	if pool == nil {
		return domain.BatchResult{}, notFound("organization", org)
	}
	s.notePool(*pool)
	res := domain.BatchResult{Items: make([]domain.BatchItem, len(b.final)), Balance: pool.Balance, Agent: b.agent}
	for i, e := range b.final {
		if e.Verdict == domain.VerdictRefused {
			res.Items[i] = domain.BatchItem{Err: e.Err}
			continue
		}
		it := domain.BatchItem{Usage: e.Usage, Duplicate: e.Verdict == domain.VerdictDuplicate}
		if gid := e.Usage.BudgetGroupID; gid != "" {
			g, ok := groups[gid]
			if !ok {
				return domain.BatchResult{}, notFound("budget group", gid)
			}
			gs := domain.NewGroupStatus(g, e.Usage.Period, spent[gp{gid, e.Usage.Period}])
			it.Group = &gs
		}
		res.Items[i] = it
	}
	return res, nil
}

// dedupKeys drops repeated keys: BatchGetItem refuses a request that
// names an item twice.
func dedupKeys(keys []key) []key {
	seen := map[string]bool{}
	out := keys[:0]
	for _, k := range keys {
		id := compose(k[PartitionKey].(*types.AttributeValueMemberS).Value, k[SortKey].(*types.AttributeValueMemberS).Value)
		if !seen[id] {
			seen[id] = true
			out = append(out, k)
		}
	}
	return out
}

// notePool remembers the balance a read found, as a hint for the next
// batch of the organization (see poolShort).
func (s *Store) notePool(p domain.Pool) { s.poolHints.Store(p.OrgID, p.Balance) }

// poolShort tells whether the pool was last seen holding less than the
// events ask in all. It is only a hint for the cost: it decides whether a
// batch reads before it writes, never what is debited.
func (s *Store) poolShort(orgID string, events []domain.UsageEvent) bool {
	v, ok := s.poolHints.Load(orgID)
	if !ok {
		return false
	}
	var total domain.Micros
	for _, e := range events {
		if e.Amount > 0 && e.Amount <= domain.MaxUsageMicros {
			total += e.Amount
		}
	}
	return v.(domain.Micros) < total
}

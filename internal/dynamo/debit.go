package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// Debit debits one usage event from the organization's pool, within the
// agent's budget group, exactly once per usage id. It costs one
// TransactWriteItems and one read (the balance for the answer). agent is
// the caller's copy (the agent API caches it): the pool's update is
// conditioned on the organization's agents version it was read at, so a
// revocation or move made anywhere is seen by the very next debit, which
// reloads the agent and decides again. The group's cap likewise comes from
// a cache the transaction itself validates.
func (s *Store) Debit(ctx context.Context, agent domain.Agent, e domain.UsageEvent) (domain.DebitResult, error) {
	if err := e.Validate(); err != nil {
		return domain.DebitResult{}, err
	}
	now := s.now().UTC()
	writeID := newID("dw_", now)
	var (
		u         domain.Usage
		group     domain.BudgetGroup
		duplicate *domain.Usage
	)
	err := s.mutate(ctx, "debit", func(ctx context.Context) (*write, error) {
		u = domain.NewUsage(agent.OrgID, agent, e, now)
		group = domain.BudgetGroup{}
		if u.BudgetGroupID != "" {
			g, err := s.cachedGroup(ctx, agent.OrgID, u.BudgetGroupID, false)
			if err != nil {
				return nil, err
			}
			group = g
		}
		return &write{tx: debitTxn(u, group, agent.Version, writeID), canceled: func(c *canceled) error {
			switch {
			case c.failed("usage"):
				// The id was debited before: the same content is a
				// duplicate, answered as the original was; other content
				// is a conflict.
				old, err := s.usageOf(ctx, c.item("usage"), u)
				if err != nil {
					return err
				}
				if old.WriteID == writeID {
					// An earlier attempt of this call was applied but its
					// answer lost: this is the original debit.
					return nil
				}
				if old.Fingerprint != u.Fingerprint {
					return domain.UsageConflict(u.ID)
				}
				d := old.domain()
				duplicate = &d
				return nil
			case u.BudgetGroupID != "" && c.failed("cap"):
				// The cap changed since it was cached: reload, decide again.
				if _, err := s.cachedGroup(ctx, agent.OrgID, u.BudgetGroupID, true); err != nil {
					return err
				}
				return errDecideAgain
			case c.failed("pool"):
				pool, err := s.poolOf(ctx, c.item("pool"), u.OrgID)
				if err != nil {
					return err
				}
				if pool.AgentsVersion != agent.Version {
					// An agent of the organization was revoked or moved
					// since this one was read: read it again, as of the
					// version now current, and decide again.
					fresh, err := s.freshAgent(ctx, agent.OrgID, agent.ID)
					if err != nil {
						return err
					}
					agent = fresh
					return errDecideAgain
				}
				if pool.Balance >= u.Amount {
					return errDecideAgain // a grant landed meanwhile
				}
				return &domain.InsufficientCredit{Balance: pool.Balance, Requested: u.Amount}
			case c.failed("day"):
				return domain.DayCeilingReached()
			case u.BudgetGroupID != "" && c.failed("spend"):
				// Before refusing, make sure the cap the condition used is
				// current: a back end may report only the first failed
				// condition, hiding a stale cap behind the spend check.
				g, err := s.cachedGroup(ctx, agent.OrgID, u.BudgetGroupID, true)
				if err != nil {
					return err
				}
				if g.Cap != group.Cap {
					return errDecideAgain
				}
				sp, _ := unmarshal[spendItem](c.item("spend"))
				// An event larger than the whole cap says nothing about how
				// full the group is; only one that would have fit marks it
				// reached.
				if u.Amount <= group.Cap {
					s.noteCapReached(ctx, u, group, sp.CapReachedAt != "")
				}
				return &domain.GroupCapReached{
					GroupID: group.ID, GroupName: group.Name, Cap: group.Cap,
					Spent: domain.Micros(sp.Spent), Requested: u.Amount, Period: u.Period,
				}
			}
			return errDecideAgain
		}}, nil
	})
	if err != nil {
		return domain.DebitResult{}, err
	}
	if duplicate != nil {
		return s.debitResult(ctx, *duplicate, nil, true, agent)
	}
	return s.debitResult(ctx, u, &group, false, agent)
}

// usageOf is the usage record a cancellation found in place of a new one:
// its old image, or read when the back end did not return it.
func (s *Store) usageOf(ctx context.Context, image map[string]types.AttributeValue, u domain.Usage) (usageItem, error) {
	if old, err := unmarshal[usageItem](image); err == nil && old.Fingerprint != "" {
		return old, nil
	}
	old, ok, err := getItem[usageItem](ctx, s, usagePK(u.OrgID, u.ID), skUsage)
	if err != nil {
		return usageItem{}, err
	}
	if !ok {
		return usageItem{}, unavailable("debit", errors.New("the usage record that refused the debit is gone"))
	}
	return old, nil
}

// poolOf is the pool a cancellation found: its old image, or read.
func (s *Store) poolOf(ctx context.Context, image map[string]types.AttributeValue, orgID string) (domain.Pool, error) {
	if p, err := unmarshal[poolItem](image); err == nil && p.OrgID != "" {
		return p.domain(), nil
	}
	return s.GetPool(ctx, orgID)
}

// noteCapReached records on the group's spend item, once per period, that
// a debit was refused for the cap. Nothing is debited; the notifier sees
// the change in the stream and tells the Billing holder the group is at
// its limit, which a refused debit would otherwise never show. Each
// process remembers what it recorded, so refusals cost one extra write at
// most once per group and period.
func (s *Store) noteCapReached(ctx context.Context, u domain.Usage, group domain.BudgetGroup, already bool) {
	k := compose(u.OrgID, u.BudgetGroupID, u.Period)
	if _, done := s.capReached.LoadOrStore(k, true); done || already {
		return
	}
	e := build(expression.NewBuilder().
		WithUpdate(spendIdentity(u, group).Set(name("cap_reached_at"), value(fmtTime(s.now())))).
		WithCondition(name("cap_reached_at").AttributeNotExists()))
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: s.table, Key: itemKey(orgPK(u.OrgID), spendSK(u.BudgetGroupID, u.Period)),
		UpdateExpression: e.Update(), ConditionExpression: e.Condition(),
		ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values(),
	})
	if _, ok := errors.AsType[*types.ConditionalCheckFailedException](err); err != nil && !ok {
		s.capReached.Delete(k) // try again on the next refusal
	}
}

// spendIdentity sets what a spend item says about itself, so a stream
// consumer reads it from the image alone.
func spendIdentity(u domain.Usage, group domain.BudgetGroup) expression.UpdateBuilder {
	return expression.Set(name("type"), value(typeSpend)).
		Set(name("org_id"), value(u.OrgID)).
		Set(name("group_id"), value(u.BudgetGroupID)).
		Set(name("period"), value(u.Period)).
		Set(name("cap_micros"), value(int64(group.Cap)))
}

// agentsAt is the condition that the organization's agents version is
// still v (a pool written before versions existed has none, which is 0).
func agentsAt(v int64) expression.ConditionBuilder {
	c := name("agents_version").Equal(value(v))
	if v == 0 {
		c = expression.Or(name("agents_version").AttributeNotExists(), c)
	}
	return c
}

// debitTxn builds the debit transaction: the usage record, the pool, the
// day's usage, and for an agent in a group the group's spend and a check of
// its cap.
func debitTxn(u domain.Usage, group domain.BudgetGroup, agentsVersion int64, writeID string) *txn {
	amt := int64(u.Amount)
	usage := newUsageItem(u)
	usage.WriteID = writeID
	tx := new(txn).
		add("usage", putNew(marshal(usage))).
		add("pool", update(itemKey(orgPK(u.OrgID), skPool),
			expression.Add(name("balance_micros"), value(-amt)),
			when(name("balance_micros").GreaterThanEqual(value(amt)).And(agentsAt(agentsVersion))))).
		// The day's total makes "usage this month" and "recent daily
		// usage" a read of a few small items, however many debits there
		// were. Like every running total it stays under the ceiling.
		add("day", update(itemKey(orgPK(u.OrgID), daySK(u.RecordedAt)),
			expression.Add(name("amount_micros"), value(amt)).Add(name("debits"), value(1)).
				Set(name("type"), value(typeDay)).Set(name("org_id"), value(u.OrgID)).Set(name("day"), value(dayOf(u.RecordedAt))),
			when(expression.Or(name("amount_micros").AttributeNotExists(),
				name("amount_micros").LessThanEqual(value(int64(domain.MaxRunningTotalMicros)-amt))))))
	if u.BudgetGroupID == "" {
		return tx
	}
	// DynamoDB conditions cannot add, so "spent + amount <= cap" is written
	// as "spent <= cap - amount", with the cap the debit believes in; the
	// condition check on the group item proves that belief current. A
	// negative limit (the amount alone exceeds the cap) can never pass.
	// Caps are at most domain.MaxCapMicros, below the ceiling, so the cap
	// also keeps the spend under it.
	limit := int64(group.Cap) - amt
	within := name("spent_micros").LessThanEqual(value(limit))
	if limit >= 0 {
		within = expression.Or(name("spent_micros").AttributeNotExists(), within)
	}
	return tx.
		add("spend", update(itemKey(orgPK(u.OrgID), spendSK(u.BudgetGroupID, u.Period)),
			spendIdentity(u, group).Add(name("spent_micros"), value(amt)), when(within))).
		add("cap", check(itemKey(orgPK(u.OrgID), groupSK(u.BudgetGroupID)), name("cap_micros").Equal(value(int64(group.Cap)))))
}

// debitResult reads the pool and the group's spend right after a debit, in
// one request. group is the group the debit's transaction validated; nil
// (duplicates) reads the group too, since a cached one may be stale.
func (s *Store) debitResult(ctx context.Context, u domain.Usage, group *domain.BudgetGroup, duplicate bool, agent domain.Agent) (domain.DebitResult, error) {
	bal, err := s.readBalances(ctx, u.OrgID, u.BudgetGroupID, u.Period, group == nil)
	if err != nil {
		return domain.DebitResult{}, err
	}
	res := domain.DebitResult{Usage: u, Duplicate: duplicate, Balance: bal.pool.Balance, Agent: agent}
	if u.BudgetGroupID != "" {
		if group == nil {
			group = bal.group
		}
		gs := domain.NewGroupStatus(*group, u.Period, bal.spent)
		res.Group = &gs
	}
	return res, nil
}

// balances are the items an answer about credit needs.
type balances struct {
	pool  domain.Pool
	spent domain.Micros       // the group's spend in the period
	group *domain.BudgetGroup // when asked for; never nil then
}

// readBalances reads the pool, a group's spend in period and, withGroup,
// the group itself, in one consistent BatchGetItem.
func (s *Store) readBalances(ctx context.Context, orgID, groupID, period string, withGroup bool) (balances, error) {
	keys := []key{itemKey(orgPK(orgID), skPool)}
	if groupID != "" {
		keys = append(keys, itemKey(orgPK(orgID), spendSK(groupID, period)))
		if withGroup {
			keys = append(keys, itemKey(orgPK(orgID), groupSK(groupID)))
		}
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return balances{}, err
	}
	var bal balances
	for _, raw := range items {
		switch itemType(raw) {
		case typePool:
			p, err := unmarshal[poolItem](raw)
			if err != nil {
				return balances{}, unreadable("pool of "+orgID, err)
			}
			bal.pool = p.domain()
			s.notePool(bal.pool)
		case typeSpend:
			sp, err := unmarshal[spendItem](raw)
			if err != nil {
				return balances{}, unreadable("spend of "+groupID, err)
			}
			bal.spent = domain.Micros(sp.Spent)
		case typeGroup:
			g, err := unmarshal[groupItem](raw)
			if err != nil {
				return balances{}, unreadable("budget group "+groupID, err)
			}
			dg := g.domain()
			bal.group = &dg
		}
	}
	if bal.pool.OrgID == "" {
		return balances{}, notFound("organization", orgID)
	}
	if withGroup && groupID != "" {
		if bal.group == nil {
			return balances{}, notFound("budget group", groupID)
		}
		s.cacheGroup(*bal.group)
	}
	return bal, nil
}

// Balance is the pool and, for an agent in a group, the group's cap and
// spend this period, read fresh in one request. When the pool shows that
// the organization's agents changed since agent was read, the agent is
// read again first: a revoked agent is refused, a moved one answered for
// its new group.
func (s *Store) Balance(ctx context.Context, agent domain.Agent) (domain.Balance, error) {
	period := domain.Period(s.now())
	bal, err := s.readBalances(ctx, agent.OrgID, agent.BudgetGroupID, period, true)
	if err != nil {
		return domain.Balance{}, err
	}
	if bal.pool.AgentsVersion != agent.Version {
		fresh, err := s.freshAgent(ctx, agent.OrgID, agent.ID)
		if err != nil {
			return domain.Balance{}, err
		}
		if fresh.BudgetGroupID != agent.BudgetGroupID {
			if bal, err = s.readBalances(ctx, agent.OrgID, fresh.BudgetGroupID, period, true); err != nil {
				return domain.Balance{}, err
			}
		}
		agent = fresh
	}
	out := domain.Balance{Pool: bal.pool, Agent: agent}
	if agent.BudgetGroupID != "" {
		gs := domain.NewGroupStatus(*bal.group, period, bal.spent)
		out.Group = &gs
	}
	return out, nil
}

// DailyUsage is the organization's debits per UTC day over the last days
// days (today included), oldest first, with empty days as zero. It reads
// the day totals the debits keep, not the ledger.
func (s *Store) DailyUsage(ctx context.Context, orgID string, days int) ([]domain.DayUsage, error) {
	if days <= 0 || days > 366 {
		days = 14
	}
	now := s.now().UTC()
	start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -(days - 1))
	kc := expression.Key(PartitionKey).Equal(expression.Value(orgPK(orgID))).
		And(expression.Key(SortKey).Between(expression.Value(daySK(start)), expression.Value(daySK(now))))
	items, err := s.query(ctx, queryInput("", kc, true), 0)
	if err != nil {
		return nil, err
	}
	byDay := map[string]*domain.DayUsage{}
	out := make([]domain.DayUsage, days)
	for i := range out {
		d := dayOf(start.AddDate(0, 0, i))
		out[i] = domain.DayUsage{Day: d}
		byDay[d] = &out[i]
	}
	for _, raw := range items {
		it, err := unmarshal[dayItem](raw)
		if err != nil {
			return nil, unreadable("usage of a day", err)
		}
		if d, ok := byDay[it.Day]; ok {
			*d = it.domain()
		}
	}
	return out, nil
}

// DebitRequests are the DynamoDB requests one debit of e by agent issues
// when the group's cap is cached: its TransactWriteItems and the read of
// the balance for the answer. Benchmarks issue them bare, to measure what
// the layers above the store cost.
func (s *Store) DebitRequests(agent domain.Agent, group domain.BudgetGroup, e domain.UsageEvent) (*dynamodb.TransactWriteItemsInput, *dynamodb.BatchGetItemInput) {
	u := domain.NewUsage(agent.OrgID, agent, e, s.now().UTC())
	keys := []key{itemKey(orgPK(u.OrgID), skPool)}
	if u.BudgetGroupID != "" {
		keys = append(keys, itemKey(orgPK(u.OrgID), spendSK(u.BudgetGroupID, u.Period)))
	}
	tx := debitTxn(u, group, agent.Version, newID("dw_", u.RecordedAt))
	return &dynamodb.TransactWriteItemsInput{TransactItems: withTable(s.table, tx.items)},
		&dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{*s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}}
}

// HasUsage reports whether usage id has a ledger entry (for audits of the
// ledger and tests).
func (s *Store) HasUsage(ctx context.Context, orgID, usageID string) bool {
	_, ok, err := getItem[usageItem](ctx, s, usagePK(orgID, usageID), skUsage)
	return err == nil && ok
}

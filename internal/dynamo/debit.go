package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// The debit transaction's items, in order. Cancellation reasons come back
// in the same order, so they are read by these indexes.
const (
	debitUsage = iota // put usage record, only if the id is new
	debitPool         // pool balance down by the amount, only if it can pay
	debitDay          // the organization's usage of the UTC day up
	debitSpend        // group spend for the period up, only within the cap
	debitCap          // the group's cap is the one the spend condition used
)

// Debit debits one usage event from the organization's pool, within the
// agent's budget group, exactly once per usage id. It costs one
// TransactWriteItems and one read (the balance for the answer); the group's
// cap comes from a cache that the transaction itself validates.
func (s *Store) Debit(ctx context.Context, agent domain.Agent, e domain.UsageEvent) (domain.DebitResult, error) {
	if err := e.Validate(); err != nil {
		return domain.DebitResult{}, err
	}
	now := s.now().UTC()
	u := domain.NewUsage(agent.OrgID, agent, e, now)

	var group domain.BudgetGroup
	if u.BudgetGroupID != "" {
		g, err := s.cachedGroup(ctx, agent.OrgID, u.BudgetGroupID, false)
		if err != nil {
			return domain.DebitResult{}, err
		}
		group = g
	}

	writeID := newID("dw_", now)
	var last error
	capRefreshes := 0
	for attempt := 0; attempt < s.maxAttempts; attempt++ {
		if attempt > 0 && last != nil {
			if err := backoff(ctx, attempt); err != nil {
				return domain.DebitResult{}, err
			}
		}
		items := s.withTable(debitItems(u, group, writeID))
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return s.debitResult(ctx, u, &group, false)
		}
		var tce *types.TransactionCanceledException
		if !errors.As(err, &tce) {
			if retryable(err) {
				last = err
				continue
			}
			return domain.DebitResult{}, unavailable("debit", err)
		}
		tc := &txCanceled{reasons: tce.CancellationReasons}
		switch {
		case tc.failed(debitUsage):
			// The id was debited before: the same content is a duplicate,
			// answered as the original was; other content is a conflict.
			old, uerr := unmarshal[usageItem](tc.item(debitUsage))
			if uerr != nil || old.Fingerprint == "" {
				o, ok, gerr := getItem[usageItem](ctx, s, usagePK(u.OrgID, u.ID), skUsage)
				if gerr != nil || !ok {
					return domain.DebitResult{}, unavailable("debit", errors.Join(uerr, gerr))
				}
				old = o
			}
			if old.WriteID == writeID {
				// An earlier attempt of this call was applied but its
				// answer lost: this is the original debit.
				return s.debitResult(ctx, u, &group, false)
			}
			if old.Fingerprint != u.Fingerprint {
				return domain.DebitResult{}, domain.Refusef(domain.RuleUsageConflict,
					"usage id %q was already used for a different event (agent, amount, kind or occurred_at differ); nothing was debited. Use a new id for a new event, and the same body when retrying", u.ID)
			}
			return s.debitResult(ctx, old.domain(), nil, true)
		case u.BudgetGroupID != "" && tc.failed(debitCap):
			// The cap changed since it was cached: reload and try again.
			g, gerr := s.cachedGroup(ctx, agent.OrgID, u.BudgetGroupID, true)
			if gerr != nil {
				return domain.DebitResult{}, gerr
			}
			group = g
			// Not a conflict: retry at once, and without counting it as
			// an attempt, unless the cap keeps changing under us.
			if capRefreshes++; capRefreshes > 3 {
				return domain.DebitResult{}, raced("debit")
			}
			attempt--
			last = nil
			continue
		case tc.failed(debitPool):
			pool, _ := unmarshal[poolItem](tc.item(debitPool))
			if tc.item(debitPool) == nil {
				p, _ := s.GetPool(ctx, u.OrgID)
				pool.Balance = int64(p.Balance)
			}
			return domain.DebitResult{}, &domain.InsufficientCredit{Balance: domain.Micros(pool.Balance), Requested: u.Amount}
		case u.BudgetGroupID != "" && tc.failed(debitSpend):
			// Before refusing, make sure the cap the condition used is
			// current: a back end may report only the first failed
			// condition, hiding a stale cap behind the spend check.
			g, gerr := s.cachedGroup(ctx, agent.OrgID, u.BudgetGroupID, true)
			if gerr != nil {
				return domain.DebitResult{}, gerr
			}
			if g.Cap != group.Cap {
				group = g
				if capRefreshes++; capRefreshes > 3 {
					return domain.DebitResult{}, raced("debit")
				}
				attempt--
				last = nil
				continue
			}
			sp, _ := unmarshal[spendItem](tc.item(debitSpend))
			// An event larger than the whole cap says nothing about how full
			// the group is; only one that would have fit marks it reached.
			if u.Amount <= group.Cap {
				s.noteCapReached(ctx, u, group, sp.CapReachedAt != "")
			}
			return domain.DebitResult{}, &domain.GroupCapReached{
				GroupID: group.ID, GroupName: group.Name, Cap: group.Cap,
				Spent: domain.Micros(sp.Spent), Requested: u.Amount, Period: u.Period,
			}
		}
		last = err // conflicts or throttling only: retry
	}
	return domain.DebitResult{}, unavailable("debit", last)
}

// noteCapReached records on the group's spend item, once per period, that
// a debit was refused for the cap. Nothing is debited; the notifier sees
// the change in the stream and tells the Billing holder the group is at
// its limit, which a refused debit would otherwise never show. Each
// process remembers what it recorded, so refusals cost one extra write at
// most once per group and period.
func (s *Store) noteCapReached(ctx context.Context, u domain.Usage, group domain.BudgetGroup, already bool) {
	k := u.OrgID + "/" + u.BudgetGroupID + "/" + u.Period
	if _, done := s.capReached.LoadOrStore(k, true); done || already {
		return
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                s.table,
		Key:                      key(orgPK(u.OrgID), spendSK(u.BudgetGroupID, u.Period)),
		UpdateExpression:         aws.String("SET cap_reached_at = :at, #t = :type, org_id = :org, group_id = :g, period = :p, cap_micros = :cap"),
		ConditionExpression:      aws.String("attribute_not_exists(cap_reached_at)"),
		ExpressionAttributeNames: map[string]string{"#t": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":at": str(fmtTime(s.now())), ":type": str(typeSpend), ":org": str(u.OrgID),
			":g": str(u.BudgetGroupID), ":p": str(u.Period), ":cap": num(int64(group.Cap)),
		},
	})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		s.capReached.Delete(k) // try again on the next refusal
	}
}

// debitItems builds the debit transaction.
func debitItems(u domain.Usage, group domain.BudgetGroup, writeID string) []types.TransactWriteItem {
	amt := num(int64(u.Amount))
	usage := newUsageItem(u)
	usage.WriteID = writeID
	items := []types.TransactWriteItem{
		debitUsage: put(marshal(usage), "attribute_not_exists(PK)", nil),
		debitPool: update{key: key(orgPK(u.OrgID), skPool), expr: "ADD balance_micros :neg",
			cond: "balance_micros >= :amt", vals: map[string]types.AttributeValue{":neg": num(-int64(u.Amount)), ":amt": amt}}.item(),
		// The day's total makes "usage this month" and "recent daily
		// usage" a read of a few small items, however many debits there
		// were.
		debitDay: update{key: key(orgPK(u.OrgID), daySK(u.RecordedAt)),
			expr:  "ADD amount_micros :amt, debits :one SET #t = :type, org_id = :org, #d = :day",
			names: map[string]string{"#t": "type", "#d": "day"},
			vals: map[string]types.AttributeValue{
				":amt": amt, ":one": num(1), ":type": str(typeDay), ":org": str(u.OrgID), ":day": str(dayOf(u.RecordedAt)),
			}}.item(),
	}
	if u.BudgetGroupID == "" {
		return items
	}
	// DynamoDB conditions cannot add, so "spent + amount <= cap" is written
	// as "spent <= cap - amount", with the cap the debit believes in; the
	// condition check on the group item proves that belief current. A
	// negative limit (the amount alone exceeds the cap) can never pass.
	limit := int64(group.Cap) - int64(u.Amount)
	spendCond := "attribute_not_exists(spent_micros) OR spent_micros <= :limit"
	if limit < 0 {
		spendCond = "spent_micros <= :limit"
	}
	items = append(items,
		update{key: key(orgPK(u.OrgID), spendSK(u.BudgetGroupID, u.Period)),
			expr: "ADD spent_micros :amt SET #t = :type, org_id = :org, group_id = :g, period = :p, cap_micros = :cap",
			cond: spendCond, names: map[string]string{"#t": "type"},
			vals: map[string]types.AttributeValue{
				":amt": amt, ":limit": num(limit), ":type": str(typeSpend), ":org": str(u.OrgID),
				":g": str(u.BudgetGroupID), ":p": str(u.Period), ":cap": num(int64(group.Cap)),
			}}.item(),
		check(key(orgPK(u.OrgID), groupSK(u.BudgetGroupID)), "cap_micros = :cap",
			map[string]types.AttributeValue{":cap": num(int64(group.Cap))}),
	)
	return items
}

// debitResult reads the pool and the group's spend right after a debit, in
// one request. group is the group the debit's transaction validated; nil
// (duplicates) reads the group too, since a cached one may be stale.
func (s *Store) debitResult(ctx context.Context, u domain.Usage, group *domain.BudgetGroup, duplicate bool) (domain.DebitResult, error) {
	bal, err := s.readBalances(ctx, u.OrgID, u.BudgetGroupID, u.Period, group == nil)
	if err != nil {
		return domain.DebitResult{}, err
	}
	res := domain.DebitResult{Usage: u, Duplicate: duplicate, Balance: bal.pool.Balance}
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
	keys := []map[string]types.AttributeValue{key(orgPK(orgID), skPool)}
	if groupID != "" {
		keys = append(keys, key(orgPK(orgID), spendSK(groupID, period)))
		if withGroup {
			keys = append(keys, key(orgPK(orgID), groupSK(groupID)))
		}
	}
	req := map[string]types.KeysAndAttributes{*s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	var bal balances
	for attempt := 0; len(req) > 0; attempt++ {
		if attempt >= s.maxAttempts {
			return balances{}, unavailable("read", errors.New("unprocessed keys"))
		}
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return balances{}, err
			}
		}
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			if retryable(err) {
				continue
			}
			return balances{}, unavailable("read", err)
		}
		for _, raw := range out.Responses[*s.table] {
			t, _ := raw["type"].(*types.AttributeValueMemberS)
			if t == nil {
				continue
			}
			switch t.Value {
			case typePool:
				p, err := unmarshal[poolItem](raw)
				if err != nil {
					return balances{}, err
				}
				bal.pool = p.domain()
			case typeSpend:
				sp, err := unmarshal[spendItem](raw)
				if err != nil {
					return balances{}, err
				}
				bal.spent = domain.Micros(sp.Spent)
			case typeGroup:
				g, err := unmarshal[groupItem](raw)
				if err != nil {
					return balances{}, err
				}
				dg := g.domain()
				bal.group = &dg
			}
		}
		req = out.UnprocessedKeys
	}
	if bal.pool.OrgID == "" {
		return balances{}, domain.NotFound("organization", orgID)
	}
	if withGroup && groupID != "" {
		if bal.group == nil {
			return balances{}, domain.NotFound("budget group", groupID)
		}
		s.cacheGroup(*bal.group)
	}
	return bal, nil
}

// Balance is the pool and, for an agent in a group, the group's cap and
// spend this period, read fresh in one request.
func (s *Store) Balance(ctx context.Context, agent domain.Agent) (domain.Pool, *domain.GroupStatus, error) {
	period := domain.Period(s.now())
	bal, err := s.readBalances(ctx, agent.OrgID, agent.BudgetGroupID, period, true)
	if err != nil {
		return domain.Pool{}, nil, err
	}
	if agent.BudgetGroupID == "" {
		return bal.pool, nil, nil
	}
	gs := domain.NewGroupStatus(*bal.group, period, bal.spent)
	return bal.pool, &gs, nil
}

// cachedGroup returns a budget group from the cap cache, reading it when
// missing or when refresh is asked for.
func (s *Store) cachedGroup(ctx context.Context, orgID, groupID string, refresh bool) (domain.BudgetGroup, error) {
	k := orgID + "/" + groupID
	if !refresh {
		s.capsMu.Lock()
		g, ok := s.caps[k]
		s.capsMu.Unlock()
		if ok {
			return g, nil
		}
	}
	g, err := s.GetGroup(ctx, orgID, groupID)
	if err != nil {
		return domain.BudgetGroup{}, err
	}
	s.cacheGroup(g)
	return g, nil
}

func (s *Store) cacheGroup(g domain.BudgetGroup) {
	s.capsMu.Lock()
	s.caps[g.OrgID+"/"+g.ID] = g
	s.capsMu.Unlock()
}

// DayUsage is one UTC day's debits.
type DayUsage struct {
	Day    string // "2006-01-02"
	Amount domain.Micros
	Count  int
}

// DailyUsage is the organization's debits per UTC day over the last days
// days (today included), oldest first, with empty days as zero. It reads
// the day totals the debits keep, not the ledger.
func (s *Store) DailyUsage(ctx context.Context, orgID string, days int) ([]DayUsage, error) {
	if days <= 0 || days > 366 {
		days = 14
	}
	now := s.now().UTC()
	start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, -(days - 1))
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		KeyConditionExpression: aws.String("PK = :pk AND SK BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(orgPK(orgID)), ":from": str(daySK(start)), ":to": str(daySK(now)),
		},
		ConsistentRead: aws.Bool(true),
	}, 0)
	if err != nil {
		return nil, err
	}
	byDay := map[string]*DayUsage{}
	out := make([]DayUsage, days)
	for i := range out {
		d := dayOf(start.AddDate(0, 0, i))
		out[i] = DayUsage{Day: d}
		byDay[d] = &out[i]
	}
	for _, raw := range items {
		it, err := unmarshal[dayItem](raw)
		if err != nil {
			return nil, err
		}
		if d, ok := byDay[it.Day]; ok {
			d.Amount, d.Count = domain.Micros(it.Amount), it.Debits
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
	keys := []map[string]types.AttributeValue{key(orgPK(u.OrgID), skPool)}
	if u.BudgetGroupID != "" {
		keys = append(keys, key(orgPK(u.OrgID), spendSK(u.BudgetGroupID, u.Period)))
	}
	return &dynamodb.TransactWriteItemsInput{TransactItems: s.withTable(debitItems(u, group, newID("dw_", u.RecordedAt)))},
		&dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{*s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}}
}

package dynamo

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// CreateGroup creates a budget group. The same id with the same content
// again answers the existing group.
func (s *Store) CreateGroup(ctx context.Context, g domain.BudgetGroup, actor *domain.Member) (domain.BudgetGroup, bool, error) {
	if err := domain.ValidateID("budget group", g.ID); err != nil {
		return domain.BudgetGroup{}, false, err
	}
	if g.Name == "" {
		g.Name = g.ID
	}
	if err := domain.ValidateName("budget group", g.Name); err != nil {
		return domain.BudgetGroup{}, false, err
	}
	if err := domain.ValidateAmount("cap_micros", g.Cap, domain.MaxCapMicros, true); err != nil {
		return domain.BudgetGroup{}, false, err
	}
	if actor != nil {
		if err := s.requireOwnerOrAdmin(ctx, g.OrgID, actor.ID); err != nil {
			return domain.BudgetGroup{}, false, err
		}
	}
	now := s.now().UTC()
	g.CreatedAt = now
	err := s.transactAs(ctx, g.OrgID, actor, []types.TransactWriteItem{
		putNew(marshal(groupItem{PK: orgPK(g.OrgID), SK: groupSK(g.ID), Type: typeGroup, OrgID: g.OrgID, ID: g.ID, Name: g.Name, Cap: int64(g.Cap), CreatedAt: fmtTime(now)})),
		check(key(orgPK(g.OrgID), skOrg), "attribute_exists(PK)", nil),
		s.auditPut(g.OrgID, now, domain.ActorID(actor), domain.ActionGroupCreated, g.ID, "", strconv.FormatInt(int64(g.Cap), 10), g.Name),
	})
	var tc *txCanceled
	if errors.As(err, &tc) {
		if !tc.failed(0) {
			return domain.BudgetGroup{}, false, domain.NotFound("organization", g.OrgID)
		}
		existing, gerr := s.GetGroup(ctx, g.OrgID, g.ID)
		if gerr != nil {
			return domain.BudgetGroup{}, false, gerr
		}
		if existing.Name == g.Name && existing.Cap == g.Cap {
			return existing, false, nil
		}
		return domain.BudgetGroup{}, false, domain.Refusef(domain.RuleAlreadyExists, "budget group %q already exists with another name or cap; change its cap instead", g.ID)
	}
	if err != nil {
		return domain.BudgetGroup{}, false, err
	}
	return g, true, nil
}

// GetGroup reads a budget group.
func (s *Store) GetGroup(ctx context.Context, orgID, groupID string) (domain.BudgetGroup, error) {
	return getDomain[groupItem](ctx, s, orgPK(orgID), groupSK(groupID), "budget group", groupID)
}

// SetGroupCap changes a group's cap. It takes effect at once: every debit
// checks the group's current cap in its transaction.
func (s *Store) SetGroupCap(ctx context.Context, orgID, groupID string, capMicros domain.Micros, actor *domain.Member) (domain.BudgetGroup, error) {
	if err := domain.ValidateAmount("cap_micros", capMicros, domain.MaxCapMicros, true); err != nil {
		return domain.BudgetGroup{}, err
	}
	if actor != nil {
		if err := s.requireOwnerOrAdmin(ctx, orgID, actor.ID); err != nil {
			return domain.BudgetGroup{}, err
		}
	}
	for range retryDecisions {
		g, err := s.GetGroup(ctx, orgID, groupID)
		if err != nil {
			return domain.BudgetGroup{}, err
		}
		if g.Cap == capMicros {
			return g, nil // already so: nothing changes, nothing to audit
		}
		now := s.now().UTC()
		err = s.transactAs(ctx, orgID, actor, []types.TransactWriteItem{
			update{key: key(orgPK(orgID), groupSK(groupID)), expr: "SET cap_micros = :new", cond: "cap_micros = :old",
				vals: map[string]types.AttributeValue{":new": num(int64(capMicros)), ":old": num(int64(g.Cap))}}.item(),
			s.auditPut(orgID, now, domain.ActorID(actor), domain.ActionGroupCapChanged, groupID, strconv.FormatInt(int64(g.Cap), 10), strconv.FormatInt(int64(capMicros), 10), ""),
		})
		var tc *txCanceled
		if errors.As(err, &tc) {
			continue
		}
		if err != nil {
			return domain.BudgetGroup{}, err
		}
		g.Cap = capMicros
		s.cacheGroup(g)
		return g, nil
	}
	return domain.BudgetGroup{}, raced("cap change")
}

// ListGroups reads an organization's budget groups.
func (s *Store) ListGroups(ctx context.Context, orgID string) ([]domain.BudgetGroup, error) {
	return listDomain[groupItem](ctx, s, orgPK(orgID), "GROUP#")
}

// GroupStatuses reads every group's spend in period.
func (s *Store) GroupStatuses(ctx context.Context, orgID, period string) ([]domain.GroupStatus, error) {
	groups, err := s.ListGroups(ctx, orgID)
	if err != nil {
		return nil, err
	}
	spends, err := queryPrefix[spendItem](ctx, s, orgPK(orgID), "SPEND#")
	if err != nil {
		return nil, err
	}
	byGroup := map[string]spendItem{}
	for _, sp := range spends {
		if sp.Period == period {
			byGroup[sp.GroupID] = sp
		}
	}
	out := make([]domain.GroupStatus, len(groups))
	for i, g := range groups {
		sp := byGroup[g.ID]
		out[i] = domain.NewGroupStatus(g, period, domain.Micros(sp.Spent))
		out[i].CapReached = sp.CapReachedAt != "" || (g.Cap > 0 && sp.Spent >= int64(g.Cap))
	}
	return out, nil
}

// CreateAgent creates an agent and its token. The token is returned once;
// only its hash is stored. The same id with the same content again answers
// the existing agent without a token (it cannot be shown twice).
func (s *Store) CreateAgent(ctx context.Context, a domain.Agent, actor *domain.Member) (domain.Agent, string, bool, error) {
	if err := domain.ValidateID("agent", a.ID); err != nil {
		return domain.Agent{}, "", false, err
	}
	if a.Name == "" {
		a.Name = a.ID
	}
	if err := domain.ValidateName("agent", a.Name); err != nil {
		return domain.Agent{}, "", false, err
	}
	if actor != nil {
		if err := s.requireOwnerOrAdmin(ctx, a.OrgID, actor.ID); err != nil {
			return domain.Agent{}, "", false, err
		}
	}
	now := s.now().UTC()
	a.CreatedAt, a.Revoked = now, false
	token := domain.NewToken()
	hash := domain.HashToken(token)
	items := []types.TransactWriteItem{
		putNew(marshal(agentItem{PK: orgPK(a.OrgID), SK: agentSK(a.ID), Type: typeAgent, OrgID: a.OrgID, ID: a.ID, Name: a.Name, BudgetGroupID: a.BudgetGroupID, TokenHash: hash, CreatedAt: fmtTime(now)})),
		putNew(marshal(tokenItem{PK: tokenPK(hash), SK: skToken, Type: typeToken, OrgID: a.OrgID, AgentID: a.ID})),
		check(key(orgPK(a.OrgID), skOrg), "attribute_exists(PK)", nil),
		s.auditPut(a.OrgID, now, domain.ActorID(actor), domain.ActionAgentCreated, a.ID, "", a.BudgetGroupID, a.Name),
	}
	if a.BudgetGroupID != "" {
		items = append(items, check(key(orgPK(a.OrgID), groupSK(a.BudgetGroupID)), "attribute_exists(PK)", nil))
	}
	err := s.transactAs(ctx, a.OrgID, actor, items)
	var tc *txCanceled
	if errors.As(err, &tc) {
		switch {
		case tc.failed(2):
			return domain.Agent{}, "", false, domain.NotFound("organization", a.OrgID)
		case len(items) > 4 && tc.failed(4):
			return domain.Agent{}, "", false, domain.NotFound("budget group", a.BudgetGroupID)
		}
		existing, gerr := s.GetAgent(ctx, a.OrgID, a.ID)
		if gerr != nil {
			return domain.Agent{}, "", false, gerr
		}
		if existing.Name == a.Name && existing.BudgetGroupID == a.BudgetGroupID && !existing.Revoked {
			return existing, "", false, nil
		}
		return domain.Agent{}, "", false, domain.Refusef(domain.RuleAlreadyExists, "agent %q already exists with other details (or was revoked); choose another id", a.ID)
	}
	if err != nil {
		return domain.Agent{}, "", false, err
	}
	return a, token, true, nil
}

// GetAgent reads an agent.
func (s *Store) GetAgent(ctx context.Context, orgID, agentID string) (domain.Agent, error) {
	return getDomain[agentItem](ctx, s, orgPK(orgID), agentSK(agentID), "agent", agentID)
}

// ListAgents reads an organization's agents, revoked ones included.
func (s *Store) ListAgents(ctx context.Context, orgID string) ([]domain.Agent, error) {
	return listDomain[agentItem](ctx, s, orgPK(orgID), "AGENT#")
}

// SetAgentGroup moves an agent to another budget group ("" for none).
func (s *Store) SetAgentGroup(ctx context.Context, orgID, agentID, groupID string, actor *domain.Member) (domain.Agent, error) {
	if actor != nil {
		if err := s.requireOwnerOrAdmin(ctx, orgID, actor.ID); err != nil {
			return domain.Agent{}, err
		}
	}
	for range retryDecisions {
		a, err := s.GetAgent(ctx, orgID, agentID)
		if err != nil {
			return domain.Agent{}, err
		}
		if a.Revoked {
			return domain.Agent{}, domain.Refusef(domain.RuleAgentRevoked, "agent %q is revoked; create a new agent (with a new id) for a new token", agentID)
		}
		if a.BudgetGroupID == groupID {
			if groupID != "" {
				if _, err := s.GetGroup(ctx, orgID, groupID); err != nil {
					return domain.Agent{}, err
				}
			}
			return a, nil // already there: nothing to change or audit
		}
		now := s.now().UTC()
		items := []types.TransactWriteItem{
			update{key: key(orgPK(orgID), agentSK(agentID)), expr: "SET budget_group_id = :new", cond: "budget_group_id = :old AND revoked = :f",
				vals: map[string]types.AttributeValue{":new": str(groupID), ":old": str(a.BudgetGroupID), ":f": &types.AttributeValueMemberBOOL{Value: false}}}.item(),
			s.auditPut(orgID, now, domain.ActorID(actor), domain.ActionAgentGroupChanged, agentID, a.BudgetGroupID, groupID, ""),
		}
		if groupID != "" {
			items = append(items, check(key(orgPK(orgID), groupSK(groupID)), "attribute_exists(PK)", nil))
		}
		err = s.transactAs(ctx, orgID, actor, items)
		var tc *txCanceled
		if errors.As(err, &tc) {
			if len(items) > 2 && tc.failed(2) {
				return domain.Agent{}, domain.NotFound("budget group", groupID)
			}
			continue
		}
		if err != nil {
			return domain.Agent{}, err
		}
		a.BudgetGroupID = groupID
		return a, nil
	}
	return domain.Agent{}, raced("agent group change")
}

// RevokeAgent revokes an agent and its token. Token caches in front of
// AgentByToken make this effective within their TTL.
func (s *Store) RevokeAgent(ctx context.Context, orgID, agentID string, actor *domain.Member) error {
	if actor != nil {
		if err := s.requireOwnerOrAdmin(ctx, orgID, actor.ID); err != nil {
			return err
		}
	}
	it, ok, err := getItem[agentItem](ctx, s, orgPK(orgID), agentSK(agentID))
	if err != nil {
		return err
	}
	if !ok {
		return domain.NotFound("agent", agentID)
	}
	if it.Revoked {
		return nil // already revoked: revoking is idempotent
	}
	now := s.now().UTC()
	t := &types.AttributeValueMemberBOOL{Value: true}
	err = s.transactAs(ctx, orgID, actor, []types.TransactWriteItem{
		// Only the revocation that finds the agent unrevoked writes, so
		// concurrent revocations record one audit entry.
		update{key: key(orgPK(orgID), agentSK(agentID)), expr: "SET revoked = :t", cond: "revoked = :f",
			vals: map[string]types.AttributeValue{":t": t, ":f": &types.AttributeValueMemberBOOL{Value: false}}}.item(),
		update{key: key(tokenPK(it.TokenHash), skToken), expr: "SET revoked = :t", cond: "attribute_exists(PK)", vals: map[string]types.AttributeValue{":t": t}}.item(),
		s.auditPut(orgID, now, domain.ActorID(actor), domain.ActionAgentRevoked, agentID, "active", "revoked", ""),
	})
	var tc *txCanceled
	if errors.As(err, &tc) {
		return nil // concurrently revoked
	}
	return err
}

// AgentByToken resolves a bearer token to its agent. It reads DynamoDB on
// every call; the agent API caches it.
func (s *Store) AgentByToken(ctx context.Context, token string) (domain.Agent, error) {
	if !domain.LooksLikeToken(token) {
		return domain.Agent{}, domain.Refusef(domain.RuleNotFound, "unknown token")
	}
	tok, ok, err := getItem[tokenItem](ctx, s, tokenPK(domain.HashToken(token)), skToken)
	if err != nil {
		return domain.Agent{}, err
	}
	if !ok {
		return domain.Agent{}, domain.Refusef(domain.RuleNotFound, "unknown token")
	}
	a, err := s.GetAgent(ctx, tok.OrgID, tok.AgentID)
	if err != nil {
		return domain.Agent{}, err
	}
	if tok.Revoked || a.Revoked {
		return domain.Agent{}, domain.Refusef(domain.RuleAgentRevoked, "this agent's token was revoked")
	}
	return a, nil
}

// Grant adds purchased credit to the pool. A grant id is recorded, so a
// repeated grant adds nothing twice.
func (s *Store) Grant(ctx context.Context, g domain.Grant, actor *domain.Member) (domain.Grant, domain.Pool, bool, error) {
	if err := domain.ValidateID("grant", g.ID); err != nil {
		return domain.Grant{}, domain.Pool{}, false, err
	}
	if err := domain.ValidateAmount("amount_micros", g.Amount, domain.MaxGrantMicros, false); err != nil {
		return domain.Grant{}, domain.Pool{}, false, err
	}
	if len(g.Reason) > 500 {
		return domain.Grant{}, domain.Pool{}, false, domain.Refusef(domain.RuleInvalid, "reason must be at most 500 characters")
	}
	now := s.now().UTC()
	g.At = now
	err := s.transact(ctx, []types.TransactWriteItem{
		putNew(marshal(grantItem{PK: orgPK(g.OrgID), SK: grantSK(g.ID), Type: typeGrant, OrgID: g.OrgID, ID: g.ID, Amount: int64(g.Amount), Reason: g.Reason, At: fmtTime(now)})),
		update{key: key(orgPK(g.OrgID), skPool), expr: "ADD balance_micros :a, granted_micros :a", cond: "attribute_exists(PK)",
			vals: map[string]types.AttributeValue{":a": num(int64(g.Amount))}}.item(),
		s.auditPut(g.OrgID, now, domain.ActorID(actor), domain.ActionGrant, g.ID, "", strconv.FormatInt(int64(g.Amount), 10), g.Reason),
	})
	var tc *txCanceled
	if errors.As(err, &tc) {
		if !tc.failed(0) {
			return domain.Grant{}, domain.Pool{}, false, domain.NotFound("organization", g.OrgID)
		}
		it, ok, gerr := getItem[grantItem](ctx, s, orgPK(g.OrgID), grantSK(g.ID))
		if gerr != nil || !ok {
			return domain.Grant{}, domain.Pool{}, false, unavailable("read", errors.Join(gerr, errors.New("grant vanished")))
		}
		if it.Amount != int64(g.Amount) || it.Reason != g.Reason {
			return domain.Grant{}, domain.Pool{}, false, domain.Refusef(domain.RuleAlreadyExists, "grant %q was already made with another amount or reason; use a new id for a new grant", g.ID)
		}
		pool, perr := s.GetPool(ctx, g.OrgID)
		return it.domain(), pool, false, perr
	}
	if err != nil {
		return domain.Grant{}, domain.Pool{}, false, err
	}
	pool, err := s.GetPool(ctx, g.OrgID)
	return g, pool, true, err
}

// MarkOnce records key and reports whether this was the first time. The
// notifier uses it so a redelivered stream record sends nothing twice.
// Marks are forgotten after ttl (DynamoDB TTL).
func (s *Store) MarkOnce(ctx context.Context, markKey string, ttl time.Duration) (bool, error) {
	now := s.now()
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: s.table,
		Item: map[string]types.AttributeValue{
			PartitionKey: str(markPK(markKey)), SortKey: str(skMark), "type": str(typeMark),
			TTLAttribute: num(now.Add(ttl).Unix()),
		},
		ConditionExpression: aws.String("attribute_not_exists(PK)"),
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil
	}
	if err != nil {
		return false, unavailable("write", err)
	}
	return true, nil
}

// Unmark forgets a mark, so a notification whose delivery failed can be
// tried again.
func (s *Store) Unmark(ctx context.Context, markKey string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: s.table, Key: key(markPK(markKey), skMark)})
	if err != nil {
		return unavailable("write", err)
	}
	return nil
}

// Audit reads an organization's audit trail, newest first.
func (s *Store) Audit(ctx context.Context, orgID string, limit int) ([]domain.AuditEntry, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	if _, err := s.GetOrg(ctx, orgID); err != nil {
		return nil, err
	}
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(auditPK(orgID))},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(int32(limit)),
		ConsistentRead:            aws.Bool(true),
	}, limit)
	if err != nil {
		return nil, err
	}
	out := make([]domain.AuditEntry, 0, len(items))
	for _, raw := range items {
		it, err := unmarshal[auditItem](raw)
		if err != nil {
			return nil, err
		}
		out = append(out, it.domain())
	}
	return out, nil
}

// ReadAudit is the audit trail for a member: Owners, Admins and the
// Billing holder may read it.
func (s *Store) ReadAudit(ctx context.Context, orgID, actorID string, limit int) ([]domain.AuditEntry, error) {
	org, err := s.GetOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	m, err := s.GetMember(ctx, orgID, actorID)
	if err != nil || !domain.CanReadAudit(m, org) {
		return nil, domain.Refusef(domain.RuleCannotReadAudit, "Only Owners, Admins and the Billing holder can read the audit trail.")
	}
	return s.Audit(ctx, orgID, limit)
}

// HasUsage reports whether usage id has a ledger entry (for audits of the
// ledger and tests).
func (s *Store) HasUsage(ctx context.Context, orgID, usageID string) bool {
	_, ok, err := getItem[usageItem](ctx, s, usagePK(orgID, usageID), skUsage)
	return err == nil && ok
}

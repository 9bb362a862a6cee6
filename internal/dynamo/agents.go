package dynamo

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// CreateAgent creates an agent (domain.NewAgent) and its token. The token
// is returned once; only its hash is stored. The same id with the same
// content again answers the existing agent without a token (it cannot be
// shown twice).
func (s *Store) CreateAgent(ctx context.Context, a domain.Agent, actor *domain.Member) (domain.Agent, string, bool, error) {
	a, err := domain.NewAgent(a, s.now())
	if err != nil {
		return domain.Agent{}, "", false, err
	}
	token := domain.NewToken()
	hash := domain.HashToken(token)
	created := true
	err = s.mutate(ctx, "agent create", func(ctx context.Context) (*write, error) {
		_, act, err := s.manager(ctx, a.OrgID, actor)
		if err != nil {
			return nil, err
		}
		tx := new(txn).
			add("agent", putNew(marshal(agentItem{PK: orgPK(a.OrgID), SK: agentSK(a.ID), Type: typeAgent, OrgID: a.OrgID, ID: a.ID, Name: a.Name,
				BudgetGroupID: a.BudgetGroupID, TokenHash: hash, CreatedAt: fmtTime(a.CreatedAt)}))).
			add("token", putNew(marshal(tokenItem{PK: tokenPK(hash), SK: skToken, Type: typeToken, OrgID: a.OrgID, AgentID: a.ID}))).
			add("org", check(itemKey(orgPK(a.OrgID), skOrg), present())).
			add("audit", s.auditEntry(a.OrgID, a.CreatedAt, domain.ActorID(act), domain.ActionAgentCreated, a.ID, "", a.BudgetGroupID, a.Name))
		if a.BudgetGroupID != "" {
			tx.add("group", check(itemKey(orgPK(a.OrgID), groupSK(a.BudgetGroupID)), present()))
		}
		asActor(tx, a.OrgID, act)
		return &write{tx: tx, canceled: func(c *canceled) error {
			switch {
			case c.failed("actor"):
				return errDecideAgain
			case c.failed("org"):
				return notFound("organization", a.OrgID)
			case c.failed("group"):
				return notFound("budget group", a.BudgetGroupID)
			}
			existing, err := s.GetAgent(ctx, a.OrgID, a.ID)
			if err != nil {
				return err
			}
			if existing.Name != a.Name || existing.BudgetGroupID != a.BudgetGroupID || existing.Revoked {
				return domain.Refusef(domain.RuleAlreadyExists, "agent %q already exists with other details (or was revoked); choose another id", a.ID)
			}
			a, token, created = existing, "", false
			return nil
		}}, nil
	})
	if err != nil {
		return domain.Agent{}, "", false, err
	}
	return a, token, created, nil
}

// GetAgent reads an agent.
func (s *Store) GetAgent(ctx context.Context, orgID, agentID string) (domain.Agent, error) {
	return getDomain[agentItem](ctx, s, orgPK(orgID), agentSK(agentID), "agent", agentID)
}

// ListAgents reads an organization's agents, revoked ones included.
func (s *Store) ListAgents(ctx context.Context, orgID string) ([]domain.Agent, error) {
	return listDomain[agentItem](ctx, s, orgPK(orgID), agentsPrefix)
}

// bumpAgents is the pool update that tells every debit, in every process,
// that the organization's agents changed (see Store.Debit).
func bumpAgents(orgID string) types.TransactWriteItem {
	return update(itemKey(orgPK(orgID), skPool), expression.Add(name("agents_version"), value(1)), when(present()))
}

// SetAgentGroup moves an agent to another budget group ("" for none). The
// move bumps the organization's agents version, so the agent's very next
// debit, from any process, counts against its new group.
func (s *Store) SetAgentGroup(ctx context.Context, orgID, agentID, groupID string, actor *domain.Member) (domain.Agent, error) {
	if groupID != "" {
		if err := domain.ValidateID("budget group", groupID); err != nil {
			return domain.Agent{}, err
		}
	}
	var a domain.Agent
	err := s.mutate(ctx, "agent group change", func(ctx context.Context) (*write, error) {
		_, act, err := s.manager(ctx, orgID, actor)
		if err != nil {
			return nil, err
		}
		if a, err = s.GetAgent(ctx, orgID, agentID); err != nil {
			return nil, err
		}
		if err := domain.CanChangeAgent(a); err != nil {
			return nil, err
		}
		if a.BudgetGroupID == groupID {
			if groupID != "" {
				if _, err := s.GetGroup(ctx, orgID, groupID); err != nil {
					return nil, err
				}
			}
			return nil, nil // already there: nothing to change or audit
		}
		old := a.BudgetGroupID
		tx := new(txn).
			add("agent", update(itemKey(orgPK(orgID), agentSK(agentID)),
				expression.Set(name("budget_group_id"), value(groupID)),
				when(name("budget_group_id").Equal(value(old)).And(name("revoked").Equal(value(false)))))).
			add("pool", bumpAgents(orgID)).
			add("audit", s.auditEntry(orgID, s.now().UTC(), domain.ActorID(act), domain.ActionAgentGroupChanged, agentID, old, groupID, ""))
		if groupID != "" {
			tx.add("group", check(itemKey(orgPK(orgID), groupSK(groupID)), present()))
		}
		asActor(tx, orgID, act)
		a.BudgetGroupID = groupID
		return &write{tx: tx, canceled: func(c *canceled) error {
			if c.failed("group") {
				return notFound("budget group", groupID)
			}
			return errDecideAgain
		}}, nil
	})
	if err != nil {
		return domain.Agent{}, err
	}
	return a, nil
}

// RevokeAgent revokes an agent and its token. The revocation bumps the
// organization's agents version, so the agent's very next debit, from any
// process and whatever it cached, is refused. Revoking a revoked agent
// changes nothing.
func (s *Store) RevokeAgent(ctx context.Context, orgID, agentID string, actor *domain.Member) error {
	return s.mutate(ctx, "agent revocation", func(ctx context.Context) (*write, error) {
		_, act, err := s.manager(ctx, orgID, actor)
		if err != nil {
			return nil, err
		}
		it, ok, err := getItem[agentItem](ctx, s, orgPK(orgID), agentSK(agentID))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, notFound("agent", agentID)
		}
		if it.Revoked {
			return nil, nil // already revoked: revoking is idempotent
		}
		tx := new(txn).
			// Only the revocation that finds the agent unrevoked writes, so
			// concurrent revocations record one audit entry.
			add("agent", update(itemKey(orgPK(orgID), agentSK(agentID)),
				expression.Set(name("revoked"), value(true)), when(name("revoked").Equal(value(false))))).
			add("token", update(itemKey(tokenPK(it.TokenHash), skToken),
				expression.Set(name("revoked"), value(true)), when(present()))).
			add("pool", bumpAgents(orgID)).
			add("audit", s.auditEntry(orgID, s.now().UTC(), domain.ActorID(act), domain.ActionAgentRevoked, agentID, "active", "revoked", ""))
		asActor(tx, orgID, act)
		return &write{tx: tx}, nil
	})
}

// AgentByToken resolves a bearer token to its agent, with the
// organization's agents version it was read at (domain.Agent.Version): the
// token's item, then the pool and the agent in one TransactGetItems, so
// the version and the agent are one consistent snapshot. The agent API
// caches the answer; the version keeps the cache honest.
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
	if tok.Revoked {
		return domain.Agent{}, domain.Refusef(domain.RuleAgentRevoked, "this agent's token was revoked")
	}
	return s.freshAgent(ctx, tok.OrgID, tok.AgentID)
}

// freshAgent reads an agent with the organization's current agents
// version, in one consistent snapshot; a revoked agent is refused.
func (s *Store) freshAgent(ctx context.Context, orgID, agentID string) (domain.Agent, error) {
	get := func(pk, sk string) types.TransactGetItem {
		return types.TransactGetItem{Get: &types.Get{TableName: s.table, Key: itemKey(pk, sk)}}
	}
	var out *dynamodb.TransactGetItemsOutput
	var last error
	for attempt := 0; out == nil; attempt++ {
		if attempt >= s.maxAttempts {
			return domain.Agent{}, exhausted("read", attempt, last)
		}
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return domain.Agent{}, err
			}
		}
		res, err := s.db.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []types.TransactGetItem{
			get(orgPK(orgID), skPool), get(orgPK(orgID), agentSK(agentID)),
		}})
		if err != nil {
			if _, ok := errors.AsType[*types.TransactionCanceledException](err); ok || retryable(err) {
				last = err
				continue
			}
			return domain.Agent{}, unavailable("read", err)
		}
		out = res
	}
	if len(out.Responses) != 2 || out.Responses[0].Item == nil || out.Responses[1].Item == nil {
		return domain.Agent{}, notFound("agent", agentID)
	}
	pool, err := unmarshal[poolItem](out.Responses[0].Item)
	if err != nil {
		return domain.Agent{}, unreadable("pool of "+orgID, err)
	}
	it, err := unmarshal[agentItem](out.Responses[1].Item)
	if err != nil {
		return domain.Agent{}, unreadable("agent "+agentID, err)
	}
	a := it.domain()
	a.Version = pool.AgentsVersion
	if a.Revoked {
		return domain.Agent{}, domain.Refusef(domain.RuleAgentRevoked, "this agent's token was revoked")
	}
	return a, nil
}

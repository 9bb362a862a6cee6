package dynamo

import (
	"context"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// CreateOrg creates an organization, its empty pool and its first member,
// who becomes an Owner and the Billing holder (domain.NewOrg). Creating the
// same id again with the same content answers the existing organization
// (created false); other content is refused.
func (s *Store) CreateOrg(ctx context.Context, org domain.Org, owner domain.Member) (domain.Org, bool, error) {
	org, owner, err := domain.NewOrg(org, owner, s.now())
	if err != nil {
		return domain.Org{}, false, err
	}
	created := true
	err = s.mutate(ctx, "organization create", func(ctx context.Context) (*write, error) {
		tx := new(txn).
			add("org", putNew(marshal(newOrgItem(org)))).
			add("pool", putNew(marshal(poolItem{PK: orgPK(org.ID), SK: skPool, Type: typePool, OrgID: org.ID, Threshold: int64(org.LowBalanceThreshold)}))).
			add("owner", putNew(marshal(newMemberItem(owner, org.SlackTeamID)))).
			add("audit",
				s.auditEntry(org.ID, org.CreatedAt, domain.OperatorActor, domain.ActionOrgCreated, org.ID, "", org.Name, "billing holder: "+owner.ID),
				s.auditEntry(org.ID, org.CreatedAt, domain.OperatorActor, domain.ActionMemberJoined, owner.ID, "", string(domain.RoleOwner), "holds Billing"))
		if owner.SlackUserID != "" {
			tx.add("claim", claimSlackUser(owner))
		}
		return &write{tx: tx, canceled: func(*canceled) error {
			existing, err := s.GetOrg(ctx, org.ID)
			if err != nil {
				return err
			}
			same := existing.Name == org.Name && existing.SlackTeamID == org.SlackTeamID &&
				existing.LowBalanceThreshold == org.LowBalanceThreshold && existing.TopUpURL == org.TopUpURL
			if same {
				m, err := s.GetMember(ctx, org.ID, owner.ID)
				same = err == nil && m.Name == owner.Name && m.SlackUserID == owner.SlackUserID
			}
			if !same {
				return domain.Refusef(domain.RuleAlreadyExists, "organization %q already exists with other details; choose another id", org.ID)
			}
			org, created = existing, false
			return nil
		}}, nil
	})
	if err != nil {
		return domain.Org{}, false, err
	}
	return org, created, nil
}

// GetOrg reads an organization.
func (s *Store) GetOrg(ctx context.Context, orgID string) (domain.Org, error) {
	return getDomain[orgItem](ctx, s, orgPK(orgID), skOrg, "organization", orgID)
}

// GetPool reads an organization's credit pool.
func (s *Store) GetPool(ctx context.Context, orgID string) (domain.Pool, error) {
	return getDomain[poolItem](ctx, s, orgPK(orgID), skPool, "organization", orgID)
}

// UpdateOrg changes an organization's settings. actor is nil for an
// operator; a member must be allowed by domain.CanManage. The threshold is
// kept on the pool item too, so the notifier finds crossings from the
// pool's stream images alone. A value set to what it already is changes
// nothing and is not audited.
func (s *Store) UpdateOrg(ctx context.Context, orgID string, actor *domain.Member, change domain.OrgChange) (domain.Org, error) {
	if err := change.Validate(); err != nil {
		return domain.Org{}, err
	}
	var org domain.Org
	err := s.mutate(ctx, "organization change", func(ctx context.Context) (*write, error) {
		var (
			act *domain.Member
			err error
		)
		if org, act, err = s.manager(ctx, orgID, actor); err != nil {
			return nil, err
		}
		now := s.now().UTC()
		// One update of the organization item carries every setting: a
		// transaction may touch an item once.
		var (
			set     expression.UpdateBuilder
			premise expression.ConditionBuilder
			audits  []types.TransactWriteItem
		)
		and := func(c expression.ConditionBuilder) {
			if premise.IsSet() {
				c = premise.And(c)
			}
			premise = c
		}
		tx := new(txn)
		if t := change.LowBalanceThreshold; t != nil && *t != org.LowBalanceThreshold {
			old := org.LowBalanceThreshold
			set = set.Set(name("threshold_micros"), value(int64(*t)))
			and(name("threshold_micros").Equal(value(int64(old))))
			tx.add("pool", update(itemKey(orgPK(orgID), skPool),
				expression.Set(name("threshold_micros"), value(int64(*t))), when(present())))
			audits = append(audits, s.auditEntry(orgID, now, domain.ActorID(act), domain.ActionThresholdChanged, orgID,
				strconv.FormatInt(int64(old), 10), strconv.FormatInt(int64(*t), 10), ""))
			org.LowBalanceThreshold = *t
		}
		if u := change.TopUpURL; u != nil && *u != org.TopUpURL {
			old := org.TopUpURL
			set = set.Set(name("top_up_url"), value(*u))
			and(unchangedString("top_up_url", old))
			audits = append(audits, s.auditEntry(orgID, now, domain.ActorID(act), domain.ActionTopUpURLChanged, orgID, old, *u, ""))
			org.TopUpURL = *u
		}
		if len(audits) == 0 {
			return nil, nil // already so: nothing changes, nothing to audit
		}
		tx.add("org", update(itemKey(orgPK(orgID), skOrg), set, when(premise)))
		tx.add("audit", audits...)
		asActor(tx, orgID, act)
		return &write{tx: tx}, nil
	})
	if err != nil {
		return domain.Org{}, err
	}
	return org, nil
}

// unchangedString is the condition that an optional string attribute is
// still old ("" for absent).
func unchangedString(attr, old string) expression.ConditionBuilder {
	if old == "" {
		return expression.Or(name(attr).AttributeNotExists(), name(attr).Equal(value("")))
	}
	return name(attr).Equal(value(old))
}

// actor re-reads the member acting, for a decision: nil stays nil (an
// operator); a member who is gone or unknown cannot act.
func (s *Store) actor(ctx context.Context, org domain.Org, actor *domain.Member) (*domain.Member, error) {
	if actor == nil {
		return nil, nil
	}
	m, err := s.GetMember(ctx, org.ID, actor.ID)
	if err != nil {
		if domain.IsNotFound(err) {
			return nil, domain.Refusef(domain.RuleNotMember, "You are not a member of %s.", org.Name)
		}
		return nil, err
	}
	return &m, nil
}

// manager reads the organization and the acting member, and checks that
// they may manage it (an Owner or Admin; an operator, nil, always may).
// The member is as read, for asActor to make a premise of the write.
func (s *Store) manager(ctx context.Context, orgID string, actor *domain.Member) (domain.Org, *domain.Member, error) {
	org, err := s.GetOrg(ctx, orgID)
	if err != nil {
		return domain.Org{}, nil, err
	}
	act, err := s.actor(ctx, org, actor)
	if err != nil {
		return domain.Org{}, nil, err
	}
	if err := domain.CanManage(act); err != nil {
		return domain.Org{}, nil, err
	}
	return org, act, nil
}

// asActor makes the acting member's role and status, as the decision read
// them, a premise of the write: an Owner demoted meanwhile cannot slip a
// change through. An operator (nil) adds nothing.
func asActor(tx *txn, orgID string, actor *domain.Member) {
	if actor == nil {
		return
	}
	tx.add("actor", check(itemKey(orgPK(orgID), memberSK(actor.ID)), unchangedMember(*actor)))
}

// unchangedMember is the condition that a member's role and status are
// still those read.
func unchangedMember(m domain.Member) expression.ConditionBuilder {
	return name("role").Equal(value(string(m.Role))).And(name("status").Equal(value(string(m.Status))))
}

package dynamo

import (
	"context"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// CreateGroup creates a budget group (domain.NewBudgetGroup), by an
// operator (actor nil) or an Owner or Admin. The same id with the same
// content again answers the existing group.
func (s *Store) CreateGroup(ctx context.Context, g domain.BudgetGroup, actor *domain.Member) (domain.BudgetGroup, bool, error) {
	g, err := domain.NewBudgetGroup(g, s.now())
	if err != nil {
		return domain.BudgetGroup{}, false, err
	}
	created := true
	err = s.mutate(ctx, "budget group create", func(ctx context.Context) (*write, error) {
		_, act, err := s.manager(ctx, g.OrgID, actor)
		if err != nil {
			return nil, err
		}
		tx := new(txn).
			add("group", putNew(marshal(groupItem{PK: orgPK(g.OrgID), SK: groupSK(g.ID), Type: typeGroup, OrgID: g.OrgID, ID: g.ID, Name: g.Name, Cap: int64(g.Cap), CreatedAt: fmtTime(g.CreatedAt)}))).
			add("org", check(itemKey(orgPK(g.OrgID), skOrg), present())).
			add("audit", s.auditEntry(g.OrgID, g.CreatedAt, domain.ActorID(act), domain.ActionGroupCreated, g.ID, "", strconv.FormatInt(int64(g.Cap), 10), g.Name))
		asActor(tx, g.OrgID, act)
		return &write{tx: tx, canceled: func(c *canceled) error {
			switch {
			case c.failed("actor"):
				return errDecideAgain
			case !c.failed("group"):
				return notFound("organization", g.OrgID)
			}
			existing, err := s.GetGroup(ctx, g.OrgID, g.ID)
			if err != nil {
				return err
			}
			if existing.Name != g.Name || existing.Cap != g.Cap {
				return domain.Refusef(domain.RuleAlreadyExists, "budget group %q already exists with another name or cap; change its cap instead", g.ID)
			}
			g, created = existing, false
			return nil
		}}, nil
	})
	if err != nil {
		return domain.BudgetGroup{}, false, err
	}
	return g, created, nil
}

// GetGroup reads a budget group.
func (s *Store) GetGroup(ctx context.Context, orgID, groupID string) (domain.BudgetGroup, error) {
	return getDomain[groupItem](ctx, s, orgPK(orgID), groupSK(groupID), "budget group", groupID)
}

// SetGroupCap changes a group's cap. It takes effect at once: every debit
// checks the group's current cap in its transaction. Setting the cap it
// already has changes nothing and is not audited.
func (s *Store) SetGroupCap(ctx context.Context, orgID, groupID string, capMicros domain.Micros, actor *domain.Member) (domain.BudgetGroup, error) {
	if err := domain.ValidateCap(capMicros); err != nil {
		return domain.BudgetGroup{}, err
	}
	var g domain.BudgetGroup
	err := s.mutate(ctx, "cap change", func(ctx context.Context) (*write, error) {
		_, act, err := s.manager(ctx, orgID, actor)
		if err != nil {
			return nil, err
		}
		if g, err = s.GetGroup(ctx, orgID, groupID); err != nil {
			return nil, err
		}
		if g.Cap == capMicros {
			return nil, nil // already so: nothing changes, nothing to audit
		}
		old := g.Cap
		tx := new(txn).
			add("group", update(itemKey(orgPK(orgID), groupSK(groupID)),
				expression.Set(name("cap_micros"), value(int64(capMicros))), when(name("cap_micros").Equal(value(int64(old)))))).
			add("audit", s.auditEntry(orgID, s.now().UTC(), domain.ActorID(act), domain.ActionGroupCapChanged, groupID,
				strconv.FormatInt(int64(old), 10), strconv.FormatInt(int64(capMicros), 10), ""))
		asActor(tx, orgID, act)
		g.Cap = capMicros
		return &write{tx: tx}, nil
	})
	if err != nil {
		return domain.BudgetGroup{}, err
	}
	s.cacheGroup(g)
	return g, nil
}

// ListGroups reads an organization's budget groups.
func (s *Store) ListGroups(ctx context.Context, orgID string) ([]domain.BudgetGroup, error) {
	return listDomain[groupItem](ctx, s, orgPK(orgID), groupsPrefix)
}

// GroupStatuses reads every group's spend in period.
func (s *Store) GroupStatuses(ctx context.Context, orgID, period string) ([]domain.GroupStatus, error) {
	groups, err := s.ListGroups(ctx, orgID)
	if err != nil {
		return nil, err
	}
	// The period's spend of each group, not every period's ever kept.
	keys := make([]key, len(groups))
	for i, g := range groups {
		keys[i] = itemKey(orgPK(orgID), spendSK(g.ID, period))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	byGroup := map[string]spendItem{}
	for _, raw := range items {
		sp, err := unmarshal[spendItem](raw)
		if err != nil {
			return nil, unreadable("group spend", err)
		}
		byGroup[sp.GroupID] = sp
	}
	out := make([]domain.GroupStatus, len(groups))
	for i, g := range groups {
		sp := byGroup[g.ID]
		out[i] = domain.NewGroupStatus(g, period, domain.Micros(sp.Spent))
		out[i].CapReached = sp.CapReachedAt != "" || (g.Cap > 0 && sp.Spent >= int64(g.Cap))
	}
	return out, nil
}

// cachedGroup returns a budget group from the cap cache, reading it when
// missing or when refresh is asked for.
func (s *Store) cachedGroup(ctx context.Context, orgID, groupID string, refresh bool) (domain.BudgetGroup, error) {
	k := compose(orgID, groupID)
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
	s.caps[compose(g.OrgID, g.ID)] = g
	s.capsMu.Unlock()
}

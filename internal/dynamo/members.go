package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// AddMember adds a member with an everyday role (domain.NewMember): by an
// operator (actor nil) or by an Owner or Admin (domain.CanAddMember).
// Billing is not a role, so nobody joins holding it. Adding the same id
// again with the same content answers the existing member.
func (s *Store) AddMember(ctx context.Context, m domain.Member, actor *domain.Member) (domain.Member, bool, error) {
	m, err := domain.NewMember(m, s.now())
	if err != nil {
		return domain.Member{}, false, err
	}
	created := true
	err = s.mutate(ctx, "member add", func(ctx context.Context) (*write, error) {
		org, err := s.GetOrg(ctx, m.OrgID)
		if err != nil {
			return nil, err
		}
		act, err := s.actor(ctx, org, actor)
		if err != nil {
			return nil, err
		}
		if err := domain.CanAddMember(act, m.Role); err != nil {
			return nil, err
		}
		orgOp := check(itemKey(orgPK(m.OrgID), skOrg), present())
		if m.Role == domain.RoleOwner {
			orgOp = update(itemKey(orgPK(m.OrgID), skOrg), expression.Add(name("owner_count"), value(1)), when(present()))
		}
		tx := new(txn).
			add("member", putNew(marshal(newMemberItem(m, org.SlackTeamID)))).
			add("org", orgOp).
			add("audit", s.auditEntry(m.OrgID, m.JoinedAt, domain.ActorID(act), domain.ActionMemberJoined, m.ID, "", string(m.Role), ""))
		asActor(tx, m.OrgID, act)
		if m.SlackUserID != "" {
			tx.add("claim", claimSlackUser(m))
		}
		return &write{tx: tx, canceled: func(c *canceled) error {
			switch {
			case c.failed("actor"):
				return errDecideAgain
			case c.failed("claim") && !c.failed("member"):
				other, _ := unmarshal[slackClaim](c.item("claim"))
				if other.MemberID == "" { // not every back end returns the old item of a put
					other, _, _ = getItem[slackClaim](ctx, s, orgPK(m.OrgID), slackClaimSK(m.SlackUserID))
				}
				return domain.Refusef(domain.RuleAlreadyExists,
					"Slack user %s is already member %q of %s; one Slack identity is one member. Use that member, or remove it first", m.SlackUserID, other.MemberID, org.Name)
			case !c.failed("member"):
				return notFound("organization", m.OrgID)
			}
			existing, err := s.GetMember(ctx, m.OrgID, m.ID)
			if err != nil {
				return err
			}
			if existing.Name != m.Name || existing.SlackUserID != m.SlackUserID || existing.Role != m.Role || !existing.Active() {
				return domain.Refusef(domain.RuleAlreadyExists, "member %q already exists in %s with other details (or has left); choose another id", m.ID, org.Name)
			}
			m, created = existing, false
			return nil
		}}, nil
	})
	if err != nil {
		return domain.Member{}, false, err
	}
	return m, created, nil
}

// GetMember reads a member, active or not.
func (s *Store) GetMember(ctx context.Context, orgID, memberID string) (domain.Member, error) {
	return getDomain[memberItem](ctx, s, orgPK(orgID), memberSK(memberID), "member", memberID)
}

// Members reads the members of an organization with the given ids, those
// that exist, in one batch read (any order).
func (s *Store) Members(ctx context.Context, orgID string, ids []string) ([]domain.Member, error) {
	seen := map[string]bool{}
	var keys []key
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			keys = append(keys, itemKey(orgPK(orgID), memberSK(id)))
		}
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make([]domain.Member, 0, len(items))
	for _, raw := range items {
		it, err := unmarshal[memberItem](raw)
		if err != nil {
			return nil, unreadable("member", err)
		}
		out = append(out, it.domain())
	}
	return out, nil
}

// ListMembers reads every member of an organization, including those who
// left.
func (s *Store) ListMembers(ctx context.Context, orgID string) ([]domain.Member, error) {
	return listDomain[memberItem](ctx, s, orgPK(orgID), membersPrefix)
}

// maxMemberships bounds how many organizations one Slack identity is
// resolved to.
const maxMemberships = 100

// Memberships resolves a Slack identity to the members it is, one per
// organization, active members only. The index is eventually consistent,
// so each member it names is confirmed by a consistent read, and read with
// its organization: a few BatchGetItems, however many organizations.
func (s *Store) Memberships(ctx context.Context, slackTeamID, slackUserID string) ([]domain.Membership, error) {
	in := queryInput(GSI1Name, expression.Key(GSI1PartitionKey).Equal(expression.Value(slackUserGSI(slackTeamID, slackUserID))), false)
	items, err := s.query(ctx, in, maxMemberships)
	if err != nil {
		return nil, err
	}
	// A Slack user who left an organization and was added again has two
	// member items there, one no longer active; the organization is read
	// once (BatchGetItem refuses a key twice).
	var keys []key
	seenOrg := map[string]bool{}
	for _, raw := range items {
		it, err := unmarshal[memberItem](raw)
		if err != nil {
			return nil, unreadable("member", err)
		}
		keys = append(keys, itemKey(orgPK(it.OrgID), memberSK(it.ID)))
		if !seenOrg[it.OrgID] {
			seenOrg[it.OrgID] = true
			keys = append(keys, itemKey(orgPK(it.OrgID), skOrg))
		}
	}
	members := map[string]domain.Member{}
	orgs := map[string]domain.Org{}
	got, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	for _, raw := range got {
		switch itemType(raw) {
		case typeMember:
			it, err := unmarshal[memberItem](raw)
			if err != nil {
				return nil, unreadable("member", err)
			}
			// Of a user's member items in one organization, the active
			// one with their Slack id is the membership.
			if m := it.domain(); m.Active() && m.SlackUserID == slackUserID {
				members[it.OrgID] = m
			}
		case typeOrg:
			it, err := unmarshal[orgItem](raw)
			if err != nil {
				return nil, unreadable("organization", err)
			}
			orgs[it.ID] = it.domain()
		}
	}
	var out []domain.Membership
	for orgID, m := range members {
		org, ok := orgs[orgID]
		if !ok {
			continue
		}
		out = append(out, domain.Membership{Org: org, Member: m})
	}
	return out, nil
}

// SetRole edits a member's everyday role (domain.DecideRoleChange). actor
// is nil for an operator. The last Owner is protected by a condition on the
// organization's owner count, so two concurrent demotions cannot both
// pass.
func (s *Store) SetRole(ctx context.Context, orgID string, actor *domain.Member, memberID string, role domain.Role) (domain.Member, error) {
	to, err := domain.ParseRole(string(role))
	if err != nil {
		return domain.Member{}, err
	}
	var target domain.Member
	err = s.mutate(ctx, "role edit", func(ctx context.Context) (*write, error) {
		org, err := s.GetOrg(ctx, orgID)
		if err != nil {
			return nil, err
		}
		if target, err = s.GetMember(ctx, orgID, memberID); err != nil {
			return nil, err
		}
		act, err := s.actor(ctx, org, actor)
		if err != nil {
			return nil, err
		}
		change, err := domain.DecideRoleChange(org, act, target, to)
		if err != nil {
			return nil, err
		}
		tx := new(txn).add("member", update(itemKey(orgPK(orgID), memberSK(memberID)),
			expression.Set(name("role"), value(string(to))), when(unchangedMember(target))))
		if act != nil && act.ID != memberID {
			asActor(tx, orgID, act)
		}
		if change.OwnerDelta != 0 {
			tx.add("org", update(itemKey(orgPK(orgID), skOrg),
				expression.Set(name("owner_count"), value(org.OwnerCount+change.OwnerDelta)),
				when(name("owner_count").Equal(value(org.OwnerCount)))))
		}
		tx.add("audit", s.auditEntry(orgID, s.now().UTC(), domain.ActorID(act), domain.ActionRoleChanged, memberID, string(change.From), string(to), ""))
		target.Role = to
		// Any failed condition is a role, a status or the owner count
		// changed meanwhile: decide again.
		return &write{tx: tx}, nil
	})
	if err != nil {
		return domain.Member{}, err
	}
	return target, nil
}

// Leave takes a member out of the organization at their own request.
func (s *Store) Leave(ctx context.Context, orgID, memberID string) error {
	return s.depart(ctx, orgID, nil, memberID, memberID, domain.MemberLeft)
}

// RemoveMember removes a member; actor is nil for an operator.
func (s *Store) RemoveMember(ctx context.Context, orgID string, actor *domain.Member, memberID string) error {
	if actor != nil && actor.ID == memberID {
		return s.Leave(ctx, orgID, memberID)
	}
	// Removing a member who was already removed is done: answer as the
	// first removal did, so a retried DELETE is harmless.
	if m, err := s.GetMember(ctx, orgID, memberID); err == nil && m.Status == domain.MemberRemoved {
		return nil
	}
	return s.depart(ctx, orgID, actor, domain.ActorID(actor), memberID, domain.MemberRemoved)
}

// depart applies leaving and removal (domain.DecideLeave): refused for the
// Billing holder and the last Owner; a transfer pending to or from the
// member is closed in the same transaction.
func (s *Store) depart(ctx context.Context, orgID string, actor *domain.Member, actorID, memberID string, status domain.MemberStatus) error {
	return s.mutate(ctx, "leave", func(ctx context.Context) (*write, error) {
		org, err := s.GetOrg(ctx, orgID)
		if err != nil {
			return nil, err
		}
		m, err := s.GetMember(ctx, orgID, memberID)
		if err != nil {
			return nil, err
		}
		var act *domain.Member
		if actor != nil && actor.ID != memberID {
			if act, err = s.actor(ctx, org, actor); err != nil {
				return nil, err
			}
		}
		pending, err := s.lockedTransfer(ctx, org)
		if err != nil {
			return nil, err
		}
		now := s.now().UTC()
		dep, err := domain.DecideLeave(org, m, act, status, pending, now)
		if err != nil {
			return nil, err
		}

		// The organization item: the member does not hold Billing, the
		// owner count and the lock are as read; an Owner leaving lowers
		// the count, a closed transfer releases the lock.
		premise := name("billing_holder").NotEqual(value(memberID)).
			And(name("owner_count").Equal(value(org.OwnerCount))).
			And(lockIs(org.PendingTransferID))
		var set expression.UpdateBuilder
		changed := false
		if m.Role == domain.RoleOwner {
			set, changed = set.Set(name("owner_count"), value(org.OwnerCount-1)), true
		}
		if dep.Closes != nil {
			set, changed = releaseLock(set), true
		}
		orgOp := check(itemKey(orgPK(orgID), skOrg), premise)
		if changed {
			orgOp = update(itemKey(orgPK(orgID), skOrg), set, when(premise))
		}

		action := domain.ActionMemberLeft
		if status == domain.MemberRemoved {
			action = domain.ActionMemberRemoved
		}
		tx := new(txn).
			add("member", update(itemKey(orgPK(orgID), memberSK(memberID)),
				expression.Set(name("status"), value(string(status))), when(unchangedMember(m)))).
			add("org", orgOp)
		asActor(tx, orgID, act)
		tx.add("audit", s.auditEntry(orgID, now, actorID, action, memberID, string(domain.MemberActive), string(status), ""))
		if m.SlackUserID != "" {
			tx.add("claim", releaseSlackUser(m)) // the Slack user may join again, as a new member
		}
		if dep.Closes != nil {
			closer := actorID
			if dep.As == domain.TransferExpired {
				closer = domain.SystemActor
			}
			s.closeTransfer(tx, *dep.Closes, dep.As, dep.Reason, closer, now)
		}
		return &write{tx: tx}, nil
	})
}

// claimSlackUser reserves m's Slack user in the organization.
func claimSlackUser(m domain.Member) types.TransactWriteItem {
	return putNew(marshal(slackClaim{PK: orgPK(m.OrgID), SK: slackClaimSK(m.SlackUserID), Type: typeClaim, OrgID: m.OrgID, MemberID: m.ID}))
}

// releaseSlackUser frees m's Slack user, if m holds it.
func releaseSlackUser(m domain.Member) types.TransactWriteItem {
	return remove(itemKey(orgPK(m.OrgID), slackClaimSK(m.SlackUserID)),
		when(expression.Or(name(PartitionKey).AttributeNotExists(), name("member_id").Equal(value(m.ID)))))
}

package dynamo

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// CreateOrg creates an organization, its empty pool and its first member,
// who becomes an Owner and the Billing holder, so an organization always
// has one. Creating the same id again with the same content answers the
// existing organization (created false); other content is refused.
func (s *Store) CreateOrg(ctx context.Context, org domain.Org, owner domain.Member) (domain.Org, bool, error) {
	if err := domain.ValidateID("organization", org.ID); err != nil {
		return domain.Org{}, false, err
	}
	if err := domain.ValidateName("organization", org.Name); err != nil {
		return domain.Org{}, false, err
	}
	if err := domain.ValidateID("member", owner.ID); err != nil {
		return domain.Org{}, false, err
	}
	if err := domain.ValidateName("member", owner.Name); err != nil {
		return domain.Org{}, false, err
	}
	if err := domain.ValidateAmount("low_balance_threshold_micros", org.LowBalanceThreshold, domain.MaxCapMicros, true); err != nil {
		return domain.Org{}, false, err
	}
	now := s.now().UTC()
	org.CreatedAt = now
	org.BillingHolderID = owner.ID
	org.OwnerCount = 1
	org.PendingTransferID = ""
	owner.OrgID, owner.Role, owner.Status, owner.JoinedAt = org.ID, domain.RoleOwner, domain.MemberActive, now

	items := []types.TransactWriteItem{
		putNew(marshal(newOrgItem(org))),
		putNew(marshal(poolItem{PK: orgPK(org.ID), SK: skPool, Type: typePool, OrgID: org.ID, Threshold: int64(org.LowBalanceThreshold)})),
		putNew(marshal(newMemberItem(owner, org.SlackTeamID))),
		s.auditPut(org.ID, now, domain.OperatorActor, domain.ActionOrgCreated, org.ID, "", org.Name, "billing holder: "+owner.ID),
		s.auditPut(org.ID, now, domain.OperatorActor, domain.ActionMemberJoined, owner.ID, "", string(domain.RoleOwner), "holds Billing"),
	}
	if owner.SlackUserID != "" {
		items = append(items, claimSlackUser(owner))
	}
	err := s.transact(ctx, items)
	var tc *txCanceled
	if errors.As(err, &tc) {
		existing, gerr := s.GetOrg(ctx, org.ID)
		if gerr != nil {
			return domain.Org{}, false, gerr
		}
		same := existing.Name == org.Name && existing.SlackTeamID == org.SlackTeamID && existing.LowBalanceThreshold == org.LowBalanceThreshold
		if same {
			m, merr := s.GetMember(ctx, org.ID, owner.ID)
			same = merr == nil && m.Name == owner.Name && m.SlackUserID == owner.SlackUserID
		}
		if !same {
			return domain.Org{}, false, domain.Refusef(domain.RuleAlreadyExists, "organization %q already exists with other details; choose another id", org.ID)
		}
		return existing, false, nil
	}
	if err != nil {
		return domain.Org{}, false, err
	}
	return org, true, nil
}

// GetOrg reads an organization.
func (s *Store) GetOrg(ctx context.Context, orgID string) (domain.Org, error) {
	return getDomain[orgItem](ctx, s, orgPK(orgID), skOrg, "organization", orgID)
}

// ListOrgs reads every organization. It scans the table and is meant for
// the local run's change poller and operators, not for request paths.
func (s *Store) ListOrgs(ctx context.Context) ([]domain.Org, error) {
	var orgs []domain.Org
	in := &dynamodb.ScanInput{
		TableName:                 s.table,
		FilterExpression:          aws.String("#t = :t"),
		ExpressionAttributeNames:  map[string]string{"#t": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": str(typeOrg)},
	}
	for {
		out, err := s.db.Scan(ctx, in)
		if err != nil {
			return nil, unavailable("scan", err)
		}
		for _, raw := range out.Items {
			it, err := unmarshal[orgItem](raw)
			if err != nil {
				return nil, err
			}
			orgs = append(orgs, it.domain())
		}
		if len(out.LastEvaluatedKey) == 0 {
			return orgs, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// GetPool reads an organization's credit pool.
func (s *Store) GetPool(ctx context.Context, orgID string) (domain.Pool, error) {
	return getDomain[poolItem](ctx, s, orgPK(orgID), skPool, "organization", orgID)
}

// SetThreshold changes the low-balance threshold. It is kept on the pool
// item too, so the notifier finds crossings from the pool's stream images
// alone.
func (s *Store) SetThreshold(ctx context.Context, orgID string, actor *domain.Member, threshold domain.Micros) (domain.Pool, error) {
	if err := domain.ValidateAmount("low_balance_threshold_micros", threshold, domain.MaxCapMicros, true); err != nil {
		return domain.Pool{}, err
	}
	for range retryDecisions {
		org, err := s.GetOrg(ctx, orgID)
		if err != nil {
			return domain.Pool{}, err
		}
		if actor != nil {
			if err := s.requireOwnerOrAdmin(ctx, orgID, actor.ID); err != nil {
				return domain.Pool{}, err
			}
		}
		old := org.LowBalanceThreshold
		if old == threshold {
			return s.GetPool(ctx, orgID) // already so: nothing changes, nothing to audit
		}
		now := s.now().UTC()
		vals := map[string]types.AttributeValue{":new": num(int64(threshold)), ":old": num(int64(old))}
		err = s.transactAs(ctx, orgID, actor, []types.TransactWriteItem{
			update{key: key(orgPK(orgID), skOrg), expr: "SET threshold_micros = :new", cond: "threshold_micros = :old", vals: vals}.item(),
			update{key: key(orgPK(orgID), skPool), expr: "SET threshold_micros = :new", cond: "attribute_exists(PK)", vals: map[string]types.AttributeValue{":new": num(int64(threshold))}}.item(),
			s.auditPut(orgID, now, domain.ActorID(actor), domain.ActionThresholdChanged, orgID, strconv.FormatInt(int64(old), 10), strconv.FormatInt(int64(threshold), 10), ""),
		})
		var tc *txCanceled
		if errors.As(err, &tc) {
			continue
		}
		if err != nil {
			return domain.Pool{}, err
		}
		return s.GetPool(ctx, orgID)
	}
	return domain.Pool{}, raced("threshold change")
}

// requireOwnerOrAdmin checks that a member acting in Slack may manage the
// organization's settings.
func (s *Store) requireOwnerOrAdmin(ctx context.Context, orgID, memberID string) error {
	m, err := s.GetMember(ctx, orgID, memberID)
	if err != nil {
		return err
	}
	if !m.Active() || (m.Role != domain.RoleOwner && m.Role != domain.RoleAdmin) {
		return domain.Refusef(domain.RuleNotOwnerOrAdmin, "Only Owners and Admins can do this. Ask an Owner or Admin.")
	}
	return nil
}

// AddMember adds a member with an everyday role. Billing is not a role, so
// nobody joins holding it. Adding the same id again with the same content
// answers the existing member.
func (s *Store) AddMember(ctx context.Context, m domain.Member, actor *domain.Member) (domain.Member, bool, error) {
	if err := domain.ValidateID("member", m.ID); err != nil {
		return domain.Member{}, false, err
	}
	if err := domain.ValidateName("member", m.Name); err != nil {
		return domain.Member{}, false, err
	}
	role, err := domain.ParseRole(string(m.Role))
	if err != nil {
		return domain.Member{}, false, err
	}
	org, err := s.GetOrg(ctx, m.OrgID)
	if err != nil {
		return domain.Member{}, false, err
	}
	var act domain.Member
	if actor != nil {
		if err := s.requireOwnerOrAdmin(ctx, m.OrgID, actor.ID); err != nil {
			return domain.Member{}, false, err
		}
		act, _ = s.GetMember(ctx, m.OrgID, actor.ID)
		if role == domain.RoleOwner && act.Role != domain.RoleOwner {
			return domain.Member{}, false, domain.Refusef(domain.RuleOnlyOwnerEditsOwner, "Only an Owner can make an Owner.")
		}
	}
	now := s.now().UTC()
	m.Role, m.Status, m.JoinedAt = role, domain.MemberActive, now
	orgOp := check(key(orgPK(m.OrgID), skOrg), "attribute_exists(PK)", nil)
	if role == domain.RoleOwner {
		orgOp = update{key: key(orgPK(m.OrgID), skOrg), expr: "ADD owner_count :one", cond: "attribute_exists(PK)", vals: map[string]types.AttributeValue{":one": num(1)}}.item()
	}
	items := []types.TransactWriteItem{
		putNew(marshal(newMemberItem(m, org.SlackTeamID))),
		orgOp,
		s.auditPut(m.OrgID, now, domain.ActorID(actor), domain.ActionMemberJoined, m.ID, "", string(role), ""),
	}
	const actorItem = 3
	if actor != nil {
		// The adder's authority was decided from their role: it must still
		// be theirs when the member is written.
		items = append(items, memberCheck(m.OrgID, act.ID, "#r = :r AND #s = :active",
			map[string]types.AttributeValue{":r": str(string(act.Role))}))
	}
	claimItem := -1
	if m.SlackUserID != "" {
		claimItem = len(items)
		items = append(items, claimSlackUser(m))
	}
	err = s.transact(ctx, items)
	var tc *txCanceled
	if errors.As(err, &tc) {
		if claimItem >= 0 && tc.failed(claimItem) && !tc.failed(0) {
			other, _ := unmarshal[slackClaim](tc.item(claimItem))
			if other.MemberID == "" { // not every back end returns the old item of a put
				other, _, _ = getItem[slackClaim](ctx, s, orgPK(m.OrgID), slackClaimSK(m.SlackUserID))
			}
			return domain.Member{}, false, domain.Refusef(domain.RuleAlreadyExists,
				"Slack user %s is already member %q of %s; one Slack identity is one member. Use that member, or remove it first", m.SlackUserID, other.MemberID, org.Name)
		}
		if actor != nil && tc.failed(actorItem) {
			if err := s.requireOwnerOrAdmin(ctx, m.OrgID, actor.ID); err != nil {
				return domain.Member{}, false, err
			}
			return domain.Member{}, false, raced("member add")
		}
		if !tc.failed(0) {
			return domain.Member{}, false, domain.NotFound("organization", m.OrgID)
		}
		existing, gerr := s.GetMember(ctx, m.OrgID, m.ID)
		if gerr != nil {
			return domain.Member{}, false, gerr
		}
		if existing.Name == m.Name && existing.SlackUserID == m.SlackUserID && existing.Role == role && existing.Active() {
			return existing, false, nil
		}
		return domain.Member{}, false, domain.Refusef(domain.RuleAlreadyExists, "member %q already exists in %s with other details (or has left); choose another id", m.ID, org.Name)
	}
	if err != nil {
		return domain.Member{}, false, err
	}
	return m, true, nil
}

// GetMember reads a member, active or not.
func (s *Store) GetMember(ctx context.Context, orgID, memberID string) (domain.Member, error) {
	return getDomain[memberItem](ctx, s, orgPK(orgID), memberSK(memberID), "member", memberID)
}

// ListMembers reads every member of an organization, including those who
// left.
func (s *Store) ListMembers(ctx context.Context, orgID string) ([]domain.Member, error) {
	return listDomain[memberItem](ctx, s, orgPK(orgID), "MEMBER#")
}

// Membership is one organization a Slack user is an active member of.
type Membership struct {
	Org    domain.Org
	Member domain.Member
}

// Memberships resolves a Slack identity to the members it is, one per
// organization, active members only.
func (s *Store) Memberships(ctx context.Context, slackTeamID, slackUserID string) ([]Membership, error) {
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		IndexName:                 aws.String(GSI1Name),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(slackUserGSI(slackTeamID, slackUserID))},
	}, 100)
	if err != nil {
		return nil, err
	}
	var out []Membership
	for _, raw := range items {
		it, err := unmarshal[memberItem](raw)
		if err != nil {
			return nil, err
		}
		// The index is eventually consistent: confirm with a consistent read.
		m, err := s.GetMember(ctx, it.OrgID, it.ID)
		if err != nil || !m.Active() {
			continue
		}
		org, err := s.GetOrg(ctx, it.OrgID)
		if err != nil {
			return nil, err
		}
		out = append(out, Membership{Org: org, Member: m})
	}
	return out, nil
}

// SetRole edits a member's everyday role. actor is nil for an operator.
// The last Owner is protected by a condition on the organization's owner
// count, so two concurrent demotions cannot both pass.
func (s *Store) SetRole(ctx context.Context, orgID string, actor *domain.Member, memberID string, role domain.Role) (domain.Member, error) {
	to, err := domain.ParseRole(string(role))
	if err != nil {
		return domain.Member{}, err
	}
	for range retryDecisions {
		org, err := s.GetOrg(ctx, orgID)
		if err != nil {
			return domain.Member{}, err
		}
		target, err := s.GetMember(ctx, orgID, memberID)
		if err != nil {
			return domain.Member{}, err
		}
		var act *domain.Member
		if actor != nil {
			a, err := s.GetMember(ctx, orgID, actor.ID)
			if err != nil {
				return domain.Member{}, domain.Refusef(domain.RuleNotMember, "You are not a member of %s.", org.Name)
			}
			act = &a
		}
		change, err := domain.DecideRoleChange(org, act, target, to)
		if err != nil {
			return domain.Member{}, err
		}
		now := s.now().UTC()
		items := []types.TransactWriteItem{
			update{key: key(orgPK(orgID), memberSK(memberID)), expr: "SET #r = :to",
				cond:  "#r = :from AND #s = :active",
				names: map[string]string{"#r": "role", "#s": "status"},
				vals:  map[string]types.AttributeValue{":to": str(string(to)), ":from": str(string(change.From)), ":active": str(string(domain.MemberActive))}}.item(),
		}
		if act != nil && act.ID != memberID {
			items = append(items, check(key(orgPK(orgID), memberSK(act.ID)), "#r = :r AND #s = :active", map[string]types.AttributeValue{
				":r": str(string(act.Role)), ":active": str(string(domain.MemberActive)),
			}))
			items[len(items)-1].ConditionCheck.ExpressionAttributeNames = map[string]string{"#r": "role", "#s": "status"}
		}
		if change.OwnerDelta != 0 {
			items = append(items, update{key: key(orgPK(orgID), skOrg), expr: "SET owner_count = :new", cond: "owner_count = :old",
				vals: map[string]types.AttributeValue{":new": num(int64(org.OwnerCount + change.OwnerDelta)), ":old": num(int64(org.OwnerCount))}}.item())
		}
		items = append(items, s.auditPut(orgID, now, domain.ActorID(act), domain.ActionRoleChanged, memberID, string(change.From), string(to), ""))
		err = s.transact(ctx, items)
		var tc *txCanceled
		if errors.As(err, &tc) {
			continue // someone changed a role or the owner count meanwhile: decide again
		}
		if err != nil {
			return domain.Member{}, err
		}
		target.Role = to
		return target, nil
	}
	return domain.Member{}, raced("role edit")
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

// depart applies leaving and removal: refused for the Billing holder and
// the last Owner; a transfer pending to or from the member is invalidated
// in the same transaction.
func (s *Store) depart(ctx context.Context, orgID string, actor *domain.Member, actorID, memberID string, status domain.MemberStatus) error {
	for range retryDecisions {
		org, err := s.GetOrg(ctx, orgID)
		if err != nil {
			return err
		}
		m, err := s.GetMember(ctx, orgID, memberID)
		if err != nil {
			return err
		}
		var act *domain.Member
		if actor != nil {
			a, err := s.GetMember(ctx, orgID, actor.ID)
			if err != nil {
				return domain.Refusef(domain.RuleNotMember, "You are not a member of %s.", org.Name)
			}
			act = &a
		}
		var pending *domain.Transfer
		if org.PendingTransferID != "" {
			t, err := s.GetTransfer(ctx, orgID, org.PendingTransferID)
			if err != nil {
				return err
			}
			pending = &t
		}
		now := s.now().UTC()
		dep, err := domain.DecideLeave(org, m, act, status, pending, now)
		if err != nil {
			return err
		}

		orgCond := "billing_holder <> :m AND owner_count = :oc"
		orgVals := map[string]types.AttributeValue{":m": str(memberID), ":oc": num(int64(org.OwnerCount))}
		if org.PendingTransferID == "" {
			orgCond += " AND " + noPending
			orgVals[":none"] = str("")
		} else {
			orgCond += " AND pending_transfer_id = :p"
			orgVals[":p"] = str(org.PendingTransferID)
		}
		var sets []string
		if m.Role == domain.RoleOwner {
			sets = append(sets, "owner_count = :ocn")
			orgVals[":ocn"] = num(int64(org.OwnerCount - 1))
		}
		if dep.Closes != nil {
			sets = append(sets, releaseLock)
			orgVals[":none"], orgVals[":zero"] = str(""), num(0)
		}
		items := []types.TransactWriteItem{
			update{key: key(orgPK(orgID), memberSK(memberID)), expr: "SET #s = :st", cond: "#s = :active AND #r = :role",
				names: map[string]string{"#s": "status", "#r": "role"},
				vals:  map[string]types.AttributeValue{":st": str(string(status)), ":active": str(string(domain.MemberActive)), ":role": str(string(m.Role))}}.item(),
		}
		if len(sets) > 0 {
			items = append(items, update{key: key(orgPK(orgID), skOrg), expr: "SET " + strings.Join(sets, ", "), cond: orgCond, vals: orgVals}.item())
		} else {
			items = append(items, check(key(orgPK(orgID), skOrg), orgCond, orgVals))
		}
		if act != nil && act.ID != memberID {
			// The remover's authority was decided from their role: it must
			// still be theirs when the removal is written.
			items = append(items, memberCheck(orgID, act.ID, "#r = :r AND #s = :active",
				map[string]types.AttributeValue{":r": str(string(act.Role))}))
		}
		action := domain.ActionMemberLeft
		if status == domain.MemberRemoved {
			action = domain.ActionMemberRemoved
		}
		items = append(items, s.auditPut(orgID, now, actorID, action, memberID, string(domain.MemberActive), string(status), ""))
		if m.SlackUserID != "" {
			items = append(items, releaseSlackUser(m)) // the Slack user may join again, as a new member
		}
		if dep.Closes != nil {
			closer := actorID
			if dep.As == domain.TransferExpired {
				closer = domain.SystemActor
			}
			items = append(items, s.closeTransferItems(*dep.Closes, dep.As, dep.Reason, closer, now, true)...)
		}
		err = s.transact(ctx, items)
		var tc *txCanceled
		if errors.As(err, &tc) {
			continue
		}
		return err
	}
	return raced("leave")
}

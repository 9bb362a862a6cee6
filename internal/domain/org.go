package domain

import (
	"fmt"
	"time"
)

// Org is an organization: one credit pool, one Billing holder, members,
// agents and budget groups.
type Org struct {
	ID                  string
	Name                string
	SlackTeamID         string
	LowBalanceThreshold Micros
	// TopUpURL is where the Billing holder adds credit (the purchase
	// flow lives elsewhere); alerts link to it. Empty: they say whom to
	// ask.
	TopUpURL        string
	BillingHolderID string
	// OwnerCount is kept on the organization so that "the last Owner cannot
	// be demoted or leave" is a condition on one item, not a count read
	// before a write.
	OwnerCount int
	// PendingTransferID is the organization's pending-transfer lock: set by
	// a request only when absent (or when the pending one has expired),
	// cleared by every outcome.
	PendingTransferID string
	PendingExpiresAt  time.Time
	CreatedAt         time.Time
}

// Pool is the organization's one prepaid credit pool.
type Pool struct {
	OrgID     string
	Balance   Micros
	Granted   Micros
	Threshold Micros
	// AgentsVersion counts the changes to the organization's agents that
	// a debit must see at once (revocations, group moves). A debit is
	// written only while it is the version its agent was read at.
	AgentsVersion int64
}

// MemberStatus tells whether a member is still in the organization.
type MemberStatus string

const (
	MemberActive  MemberStatus = "active"
	MemberLeft    MemberStatus = "left"
	MemberRemoved MemberStatus = "removed"
)

// Member is a person in an organization, with an everyday role and a Slack
// identity.
type Member struct {
	OrgID       string
	ID          string
	Name        string
	SlackUserID string
	Role        Role
	Status      MemberStatus
	JoinedAt    time.Time
}

// Active reports whether the member is still in the organization.
func (m Member) Active() bool { return m.Status == MemberActive }

// Describe names a member for messages.
func (m Member) Describe() string {
	if m.Name != "" {
		return m.Name
	}
	return fmt.Sprintf("member %s", m.ID)
}

// Membership is one organization a person is an active member of, and
// the member they are there.
type Membership struct {
	Org    Org
	Member Member
}

// Grant adds purchased credit to the pool.
type Grant struct {
	OrgID  string
	ID     string
	Amount Micros
	Reason string
	At     time.Time
}

// NewOrg checks a new organization and its first member, who becomes an
// Owner and the Billing holder, so an organization always has one.
func NewOrg(org Org, owner Member, now time.Time) (Org, Member, error) {
	if err := ValidateID("organization", org.ID); err != nil {
		return Org{}, Member{}, withField(err, "id")
	}
	if err := ValidateName("organization", org.Name); err != nil {
		return Org{}, Member{}, withField(err, "name")
	}
	if err := ValidateSlackTeamID(org.SlackTeamID); err != nil {
		return Org{}, Member{}, withField(err, "slack_team_id")
	}
	if err := ValidateThreshold(org.LowBalanceThreshold); err != nil {
		return Org{}, Member{}, err
	}
	if err := ValidateTopUpURL(org.TopUpURL); err != nil {
		return Org{}, Member{}, err
	}
	owner.OrgID, owner.Role = org.ID, RoleOwner
	owner, err := NewMember(owner, now)
	if err != nil {
		return Org{}, Member{}, prefixField(err, "owner.")
	}
	org.CreatedAt = now.UTC()
	org.BillingHolderID = owner.ID
	org.OwnerCount = 1
	org.PendingTransferID, org.PendingExpiresAt = "", time.Time{}
	return org, owner, nil
}

// NewMember checks a member joining with an everyday role (Member when
// none is given). Billing is not a role, so nobody joins holding it.
func NewMember(m Member, now time.Time) (Member, error) {
	if err := ValidateID("member", m.ID); err != nil {
		return Member{}, withField(err, "id")
	}
	if err := ValidateName("member", m.Name); err != nil {
		return Member{}, withField(err, "name")
	}
	if err := ValidateSlackUserID(m.SlackUserID); err != nil {
		return Member{}, withField(err, "slack_user_id")
	}
	role := RoleMember
	if m.Role != "" {
		r, err := ParseRole(string(m.Role))
		if err != nil {
			return Member{}, withField(err, "role")
		}
		role = r
	}
	m.Role, m.Status, m.JoinedAt = role, MemberActive, now.UTC()
	return m, nil
}

// NewGrant checks a grant of purchased credit.
func NewGrant(g Grant, now time.Time) (Grant, error) {
	if err := ValidateID("grant", g.ID); err != nil {
		return Grant{}, withField(err, "id")
	}
	if err := ValidateAmount("amount_micros", g.Amount, MaxGrantMicros, false); err != nil {
		return Grant{}, err
	}
	if err := ValidateReason(g.Reason); err != nil {
		return Grant{}, err
	}
	g.At = now.UTC()
	return g, nil
}

// ValidateThreshold checks a low-balance threshold.
func ValidateThreshold(t Micros) error {
	return ValidateAmount("low_balance_threshold_micros", t, MaxCapMicros, true)
}

// CheckCeiling refuses a grant that would take the pool's total granted
// (and so its balance, never above it) past MaxRunningTotalMicros. The
// store writes the same limit as a condition, so a concurrent grant cannot
// slip past it either.
func CheckCeiling(p Pool, amount Micros) error {
	if p.Granted > MaxRunningTotalMicros-amount || p.Balance > MaxRunningTotalMicros-amount {
		return &CeilingReached{Granted: p.Granted, Balance: p.Balance, Requested: amount}
	}
	return nil
}

// NotFound builds the refusal for a missing thing.
func NotFound(kind, id string) *Refusal {
	return Refusef(RuleNotFound, "%s %q does not exist", kind, id)
}

// OrgChange changes an organization's settings; nil fields stay as they
// are.
type OrgChange struct {
	LowBalanceThreshold *Micros
	TopUpURL            *string
}

// Validate checks the new values.
func (c OrgChange) Validate() error {
	if c.LowBalanceThreshold == nil && c.TopUpURL == nil {
		return Refusef(RuleInvalid, "nothing to change: give low_balance_threshold_micros or top_up_url")
	}
	if c.LowBalanceThreshold != nil {
		if err := ValidateThreshold(*c.LowBalanceThreshold); err != nil {
			return err
		}
	}
	if c.TopUpURL != nil {
		return ValidateTopUpURL(*c.TopUpURL)
	}
	return nil
}

// PoolState is how a pool stands, in the words its holder reads.
type PoolState string

const (
	PoolHealthy PoolState = "healthy" // at or above its low-balance threshold
	PoolLow     PoolState = "low"     // below the threshold, not empty
	PoolEmpty   PoolState = "empty"   // nothing left: every agent is refused
)

// State is the pool's state: empty at zero, low below its threshold,
// healthy otherwise (a threshold of zero is never crossed).
func (p Pool) State() PoolState {
	switch {
	case p.Balance <= 0:
		return PoolEmpty
	case p.Balance < p.Threshold:
		return PoolLow
	}
	return PoolHealthy
}

// DaysLeft estimates how many whole days balance lasts at the pace of
// recent days (their average use per day); ok is false when they used
// nothing, so there is no pace to tell.
func DaysLeft(balance Micros, recent []DayUsage) (days int64, ok bool) {
	var used Micros
	for _, d := range recent {
		used += d.Amount
	}
	if used <= 0 || len(recent) == 0 {
		return 0, false
	}
	perDay := used / Micros(len(recent))
	if perDay <= 0 {
		perDay = 1
	}
	return int64(balance / perDay), true
}

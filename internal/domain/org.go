package domain

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Org is an organization: one credit pool, one Billing holder, members,
// agents and budget groups.
type Org struct {
	ID                  string
	Name                string
	SlackTeamID         string
	LowBalanceThreshold Micros
	BillingHolderID     string
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

// Agent is an AI agent of an organization. Its usage is debited from the
// organization's pool, within its budget group's cap if it has one.
type Agent struct {
	OrgID         string
	ID            string
	Name          string
	BudgetGroupID string
	Revoked       bool
	CreatedAt     time.Time
}

// BudgetGroup caps how much of the pool one team's agents may spend in a
// period (a UTC calendar month).
type BudgetGroup struct {
	OrgID     string
	ID        string
	Name      string
	Cap       Micros
	CreatedAt time.Time
}

// GroupStatus is a budget group's position in one period.
type GroupStatus struct {
	Group     BudgetGroup
	Period    string
	Spent     Micros
	Remaining Micros
	// CapReached is set once a debit of the period was refused for the
	// cap: the group is at its limit even if its spend is a little below
	// the cap.
	CapReached bool
}

// NewGroupStatus computes the remaining headroom; it is zero, never
// negative, when a lowered cap is already below the spend.
func NewGroupStatus(g BudgetGroup, period string, spent Micros) GroupStatus {
	rem := g.Cap - spent
	if rem < 0 {
		rem = 0
	}
	return GroupStatus{Group: g, Period: period, Spent: spent, Remaining: rem}
}

// Grant adds purchased credit to the pool.
type Grant struct {
	OrgID  string
	ID     string
	Amount Micros
	Reason string
	At     time.Time
}

// Period is the budget period of t: its UTC calendar month, "2026-11".
// Spend is kept per (group, period), so a new month starts from zero with no
// reset job.
func Period(t time.Time) string { return t.UTC().Format("2006-01") }

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// ValidateID checks a caller-chosen identifier: 1 to 128 characters of
// letters, digits and . _ : -, starting with a letter or digit. Ids become
// parts of storage keys, so '#' and spaces are not allowed.
func ValidateID(kind, id string) error {
	if !idPattern.MatchString(id) {
		return Refusef(RuleInvalid, "%s id %q is not valid: use 1 to 128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit", kind, id)
	}
	return nil
}

// ValidateName checks a display name: 1 to 200 characters, not blank, no
// control characters (names end up in Slack messages and logs).
func ValidateName(kind, name string) error {
	if strings.TrimSpace(name) == "" || utf8.RuneCountInString(name) > 200 {
		return Refusef(RuleInvalid, "%s name must be 1 to 200 characters and not blank", kind)
	}
	if !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) {
		return Refusef(RuleInvalid, "%s name must be valid text without control characters", kind)
	}
	return nil
}

// ValidateAmount checks an amount against a documented maximum.
func ValidateAmount(field string, v, max Micros, allowZero bool) error {
	if v < 0 || (v == 0 && !allowZero) {
		return Refusef(RuleInvalid, "%s must be a positive integer number of micro-credits", field)
	}
	if v > max {
		return Refusef(RuleInvalid, "%s must be at most %d micro-credits", field, int64(max))
	}
	return nil
}

// NotFound builds the refusal for a missing thing.
func NotFound(kind, id string) *Refusal {
	return Refusef(RuleNotFound, "%s %q does not exist", kind, id)
}

// Describe names a member for messages.
func (m Member) Describe() string {
	if m.Name != "" {
		return m.Name
	}
	return fmt.Sprintf("member %s", m.ID)
}

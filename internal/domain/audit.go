package domain

import "time"

// Action names what an audit entry records.
type Action string

const (
	ActionOrgCreated          Action = "org.created"
	ActionThresholdChanged    Action = "org.threshold_changed"
	ActionTopUpURLChanged     Action = "org.top_up_url_changed"
	ActionMemberJoined        Action = "member.joined"
	ActionMemberLeft          Action = "member.left"
	ActionMemberRemoved       Action = "member.removed"
	ActionRoleChanged         Action = "member.role_changed"
	ActionGroupCreated        Action = "budget_group.created"
	ActionGroupCapChanged     Action = "budget_group.cap_changed"
	ActionAgentCreated        Action = "agent.created"
	ActionAgentGroupChanged   Action = "agent.budget_group_changed"
	ActionAgentRevoked        Action = "agent.revoked"
	ActionGrant               Action = "credit.granted"
	ActionTransferRequested   Action = "transfer.requested"
	ActionTransferAccepted    Action = "transfer.accepted"
	ActionTransferDeclined    Action = "transfer.declined"
	ActionTransferCancelled   Action = "transfer.cancelled"
	ActionTransferExpired     Action = "transfer.expired"
	ActionTransferInvalidated Action = "transfer.invalidated"
)

// OperatorActor is the actor of changes made through the admin API.
const OperatorActor = "operator"

// SystemActor is the actor of changes nobody clicked, such as expiry.
const SystemActor = "system"

// AuditEntry is one append-only record of a change, written in the same
// transaction as the change.
type AuditEntry struct {
	OrgID  string
	ID     string
	At     time.Time
	Actor  string // a member id, "operator" or "system"
	Action Action
	Target string // what changed: a member, group, agent, grant or transfer id
	Before string // the value before, where it applies
	After  string // the value after, where it applies
	Detail string
}

// ActorID names who acts: a member's id, or the operator when m is nil.
func ActorID(m *Member) string {
	if m == nil {
		return OperatorActor
	}
	return m.ID
}

// Audit trail pages.
const (
	DefaultAuditEntries = 50
	MaxAuditEntries     = 500
)

// AuditLimit checks how many audit entries are asked for: 0 is the
// default, 1 to MaxAuditEntries are taken as they are, anything else is
// refused rather than silently changed.
func AuditLimit(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultAuditEntries, nil
	case n < 0 || n > MaxAuditEntries:
		return 0, invalidField("limit", "limit must be a whole number from 1 to %d (default %d), got %d.", MaxAuditEntries, DefaultAuditEntries, n)
	}
	return n, nil
}

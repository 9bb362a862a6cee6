package adminapi

import (
	"time"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// The JSON shapes of the admin API's answers.

// OrgView is an organization with its pool.
type OrgView struct {
	ID                        string        `json:"id"`
	Name                      string        `json:"name"`
	SlackTeamID               string        `json:"slack_team_id"`
	BalanceMicros             int64         `json:"balance_micros"`
	GrantedMicros             int64         `json:"granted_micros"`
	LowBalanceThresholdMicros int64         `json:"low_balance_threshold_micros"`
	TopUpURL                  string        `json:"top_up_url"`
	BillingHolder             MemberRef     `json:"billing_holder"`
	PendingTransfer           *TransferView `json:"pending_transfer"`
	CreatedAt                 string        `json:"created_at,omitempty"`
}

// MemberRef names a member.
type MemberRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// TransferView is a Billing transfer.
type TransferView struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	InitiatorID string `json:"initiator_id"`
	RecipientID string `json:"recipient_id"`
	RequestedAt string `json:"requested_at"`
	ExpiresAt   string `json:"expires_at"`
	ClosedAt    string `json:"closed_at,omitempty"`
	ClosedBy    string `json:"closed_by,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

func transferView(t domain.Transfer) *TransferView {
	return &TransferView{ID: t.ID, Status: string(t.Status), InitiatorID: t.InitiatorID, RecipientID: t.RecipientID,
		RequestedAt: timestamp(t.RequestedAt), ExpiresAt: timestamp(t.ExpiresAt),
		ClosedAt: timestamp(t.ClosedAt), ClosedBy: t.ClosedBy, Reason: t.Reason}
}

// MemberView is a member. BillingHolder is true for the one member who
// holds Billing, which is not a role.
type MemberView struct {
	OrgID         string `json:"org_id"`
	ID            string `json:"id"`
	Name          string `json:"name"`
	SlackUserID   string `json:"slack_user_id"`
	Role          string `json:"role"`
	BillingHolder bool   `json:"billing_holder"`
	Status        string `json:"status"`
	JoinedAt      string `json:"joined_at,omitempty"`
}

// MemberList is the answer to GET .../members.
type MemberList struct {
	Members []MemberView `json:"members"`
}

func memberView(m domain.Member, org domain.Org) MemberView {
	return MemberView{OrgID: m.OrgID, ID: m.ID, Name: m.Name, SlackUserID: m.SlackUserID, Role: string(m.Role),
		BillingHolder: org.BillingHolderID == m.ID, Status: string(m.Status), JoinedAt: timestamp(m.JoinedAt)}
}

// GroupView is a budget group with its spend in the current period.
type GroupView struct {
	OrgID           string `json:"org_id"`
	ID              string `json:"id"`
	Name            string `json:"name"`
	CapMicros       int64  `json:"cap_micros"`
	Period          string `json:"period"`
	SpentMicros     int64  `json:"spent_micros"`
	RemainingMicros int64  `json:"remaining_micros"`
}

// GroupList is the answer to GET .../budget-groups.
type GroupList struct {
	BudgetGroups []GroupView `json:"budget_groups"`
}

func groupView(s domain.GroupStatus) GroupView {
	return GroupView{OrgID: s.Group.OrgID, ID: s.Group.ID, Name: s.Group.Name, CapMicros: int64(s.Group.Cap),
		Period: s.Period, SpentMicros: int64(s.Spent), RemainingMicros: int64(s.Remaining)}
}

// AgentView is an agent.
type AgentView struct {
	OrgID         string  `json:"org_id"`
	ID            string  `json:"id"`
	Name          string  `json:"name"`
	BudgetGroupID *string `json:"budget_group_id"`
	Revoked       bool    `json:"revoked"`
	CreatedAt     string  `json:"created_at,omitempty"`
}

// CreatedAgent is the answer to an agent create: the agent and, the first
// time only, its token.
type CreatedAgent struct {
	AgentView
	Token     *string `json:"token"`
	TokenNote string  `json:"token_note,omitempty"`
}

// AgentList is the answer to GET .../agents.
type AgentList struct {
	Agents []AgentView `json:"agents"`
}

func agentView(a domain.Agent) AgentView {
	v := AgentView{OrgID: a.OrgID, ID: a.ID, Name: a.Name, Revoked: a.Revoked, CreatedAt: timestamp(a.CreatedAt)}
	if a.BudgetGroupID != "" {
		g := a.BudgetGroupID
		v.BudgetGroupID = &g
	}
	return v
}

// GrantView is a grant and the pool after it.
type GrantView struct {
	ID            string `json:"id"`
	OrgID         string `json:"org_id"`
	AmountMicros  int64  `json:"amount_micros"`
	Reason        string `json:"reason"`
	GrantedAt     string `json:"granted_at"`
	BalanceMicros int64  `json:"balance_micros"`
	GrantedMicros int64  `json:"granted_micros"`
}

// AuditView is one audit entry.
type AuditView struct {
	ID     string `json:"id"`
	At     string `json:"at"`
	Actor  string `json:"actor"`
	Action string `json:"action"`
	Target string `json:"target"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// AuditList is the answer to GET .../audit, newest first.
type AuditList struct {
	Entries []AuditView `json:"entries"`
}

func auditView(e domain.AuditEntry) AuditView {
	return AuditView{ID: e.ID, At: timestamp(e.At), Actor: e.Actor, Action: string(e.Action), Target: e.Target,
		Before: e.Before, After: e.After, Detail: e.Detail}
}

func timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

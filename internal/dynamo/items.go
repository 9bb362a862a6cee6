package dynamo

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// The stored shape of each item. Attribute names are snake_case and part
// of the store's contract with stream consumers (see the notifier).

type orgItem struct {
	PK                string `dynamodbav:"PK"`
	SK                string `dynamodbav:"SK"`
	Type              string `dynamodbav:"type"`
	ID                string `dynamodbav:"id"`
	Name              string `dynamodbav:"name"`
	SlackTeamID       string `dynamodbav:"slack_team_id,omitempty"`
	Threshold         int64  `dynamodbav:"threshold_micros"`
	BillingHolder     string `dynamodbav:"billing_holder"`
	OwnerCount        int    `dynamodbav:"owner_count"`
	PendingTransferID string `dynamodbav:"pending_transfer_id,omitempty"`
	PendingExpiryMs   int64  `dynamodbav:"pending_expiry_ms,omitempty"`
	TopUpURL          string `dynamodbav:"top_up_url,omitempty"`
	CreatedAt         string `dynamodbav:"created_at"`
}

func newOrgItem(o domain.Org) orgItem {
	return orgItem{
		PK: orgPK(o.ID), SK: skOrg, Type: typeOrg,
		ID: o.ID, Name: o.Name, SlackTeamID: o.SlackTeamID,
		Threshold: int64(o.LowBalanceThreshold), BillingHolder: o.BillingHolderID,
		OwnerCount: o.OwnerCount, TopUpURL: o.TopUpURL, CreatedAt: fmtTime(o.CreatedAt),
	}
}

func (it orgItem) domain() domain.Org {
	return domain.Org{
		ID: it.ID, Name: it.Name, SlackTeamID: it.SlackTeamID, TopUpURL: it.TopUpURL,
		LowBalanceThreshold: domain.Micros(it.Threshold), BillingHolderID: it.BillingHolder,
		OwnerCount: it.OwnerCount, PendingTransferID: it.PendingTransferID,
		PendingExpiresAt: fromMillis(it.PendingExpiryMs), CreatedAt: parseTime(it.CreatedAt),
	}
}

type poolItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	OrgID     string `dynamodbav:"org_id"`
	Balance   int64  `dynamodbav:"balance_micros"`
	Granted   int64  `dynamodbav:"granted_micros"`
	Threshold int64  `dynamodbav:"threshold_micros"`
	// AgentsVersion is bumped by every revocation and group move; every
	// debit's update of the pool is conditioned on the version its agent
	// was read at (see Store.Debit).
	AgentsVersion int64 `dynamodbav:"agents_version"`
}

func (it poolItem) domain() domain.Pool {
	return domain.Pool{OrgID: it.OrgID, Balance: domain.Micros(it.Balance), Granted: domain.Micros(it.Granted),
		Threshold: domain.Micros(it.Threshold), AgentsVersion: it.AgentsVersion}
}

type memberItem struct {
	PK          string `dynamodbav:"PK"`
	SK          string `dynamodbav:"SK"`
	Type        string `dynamodbav:"type"`
	OrgID       string `dynamodbav:"org_id"`
	ID          string `dynamodbav:"id"`
	Name        string `dynamodbav:"name"`
	SlackUserID string `dynamodbav:"slack_user_id,omitempty"`
	Role        string `dynamodbav:"role"`
	Status      string `dynamodbav:"status"`
	JoinedAt    string `dynamodbav:"joined_at"`
	GSI1PK      string `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK      string `dynamodbav:"GSI1SK,omitempty"`
}

func newMemberItem(m domain.Member, slackTeam string) memberItem {
	it := memberItem{
		PK: orgPK(m.OrgID), SK: memberSK(m.ID), Type: typeMember,
		OrgID: m.OrgID, ID: m.ID, Name: m.Name, SlackUserID: m.SlackUserID,
		Role: string(m.Role), Status: string(m.Status), JoinedAt: fmtTime(m.JoinedAt),
	}
	if m.SlackUserID != "" {
		it.GSI1PK, it.GSI1SK = slackUserGSI(slackTeam, m.SlackUserID), orgPK(m.OrgID)
	}
	return it
}

func (it memberItem) domain() domain.Member {
	return domain.Member{
		OrgID: it.OrgID, ID: it.ID, Name: it.Name, SlackUserID: it.SlackUserID,
		Role: domain.Role(it.Role), Status: domain.MemberStatus(it.Status), JoinedAt: parseTime(it.JoinedAt),
	}
}

// slackClaim reserves a Slack user for one active member of an
// organization; it is deleted when the member leaves or is removed.
type slackClaim struct {
	PK       string `dynamodbav:"PK"`
	SK       string `dynamodbav:"SK"`
	Type     string `dynamodbav:"type"`
	OrgID    string `dynamodbav:"org_id"`
	MemberID string `dynamodbav:"member_id"`
}

type groupItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	OrgID     string `dynamodbav:"org_id"`
	ID        string `dynamodbav:"id"`
	Name      string `dynamodbav:"name"`
	Cap       int64  `dynamodbav:"cap_micros"`
	CreatedAt string `dynamodbav:"created_at"`
}

func (it groupItem) domain() domain.BudgetGroup {
	return domain.BudgetGroup{OrgID: it.OrgID, ID: it.ID, Name: it.Name, Cap: domain.Micros(it.Cap), CreatedAt: parseTime(it.CreatedAt)}
}

type spendItem struct {
	PK      string `dynamodbav:"PK"`
	SK      string `dynamodbav:"SK"`
	Type    string `dynamodbav:"type"`
	OrgID   string `dynamodbav:"org_id"`
	GroupID string `dynamodbav:"group_id"`
	Period  string `dynamodbav:"period"`
	Spent   int64  `dynamodbav:"spent_micros"`
	Cap     int64  `dynamodbav:"cap_micros"`
	// CapReachedAt is when a debit of the period was first refused for
	// the cap; the notifier tells the Billing holder from it.
	CapReachedAt string `dynamodbav:"cap_reached_at,omitempty"`
}

func (it spendItem) domain() domain.GroupSpend {
	return domain.GroupSpend{OrgID: it.OrgID, GroupID: it.GroupID, Period: it.Period,
		Spent: domain.Micros(it.Spent), Cap: domain.Micros(it.Cap), CapReached: it.CapReachedAt != ""}
}

type agentItem struct {
	PK            string `dynamodbav:"PK"`
	SK            string `dynamodbav:"SK"`
	Type          string `dynamodbav:"type"`
	OrgID         string `dynamodbav:"org_id"`
	ID            string `dynamodbav:"id"`
	Name          string `dynamodbav:"name"`
	BudgetGroupID string `dynamodbav:"budget_group_id"`
	TokenHash     string `dynamodbav:"token_hash"`
	Revoked       bool   `dynamodbav:"revoked"`
	CreatedAt     string `dynamodbav:"created_at"`
}

func (it agentItem) domain() domain.Agent {
	return domain.Agent{OrgID: it.OrgID, ID: it.ID, Name: it.Name, BudgetGroupID: it.BudgetGroupID, Revoked: it.Revoked, CreatedAt: parseTime(it.CreatedAt)}
}

type tokenItem struct {
	PK      string `dynamodbav:"PK"`
	SK      string `dynamodbav:"SK"`
	Type    string `dynamodbav:"type"`
	OrgID   string `dynamodbav:"org_id"`
	AgentID string `dynamodbav:"agent_id"`
	Revoked bool   `dynamodbav:"revoked"`
}

type grantItem struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	Type   string `dynamodbav:"type"`
	OrgID  string `dynamodbav:"org_id"`
	ID     string `dynamodbav:"id"`
	Amount int64  `dynamodbav:"amount_micros"`
	Reason string `dynamodbav:"reason"`
	At     string `dynamodbav:"at"`
}

func (it grantItem) domain() domain.Grant {
	return domain.Grant{OrgID: it.OrgID, ID: it.ID, Amount: domain.Micros(it.Amount), Reason: it.Reason, At: parseTime(it.At)}
}

type usageItem struct {
	PK            string `dynamodbav:"PK"`
	SK            string `dynamodbav:"SK"`
	Type          string `dynamodbav:"type"`
	OrgID         string `dynamodbav:"org_id"`
	ID            string `dynamodbav:"id"`
	AgentID       string `dynamodbav:"agent_id"`
	BudgetGroupID string `dynamodbav:"budget_group_id"`
	Amount        int64  `dynamodbav:"amount_micros"`
	Kind          string `dynamodbav:"kind"`
	Period        string `dynamodbav:"period"`
	OccurredAt    string `dynamodbav:"occurred_at"`
	RecordedAt    string `dynamodbav:"recorded_at"`
	Fingerprint   string `dynamodbav:"fingerprint"`
	// WriteID is chosen by each Debit call. A retry that finds the record
	// with its own WriteID knows an earlier attempt of the same call
	// wrote it (its answer was lost): the original debit, not a duplicate.
	WriteID string `dynamodbav:"write_id,omitempty"`
}

// dayItem is an organization's usage of one UTC day.
type dayItem struct {
	OrgID  string `dynamodbav:"org_id"`
	Day    string `dynamodbav:"day"`
	Amount int64  `dynamodbav:"amount_micros"`
	Debits int    `dynamodbav:"debits"`
}

func (it dayItem) domain() domain.DayUsage {
	return domain.DayUsage{Day: it.Day, Amount: domain.Micros(it.Amount), Count: it.Debits}
}

func newUsageItem(u domain.Usage) usageItem {
	return usageItem{
		PK: usagePK(u.OrgID, u.ID), SK: skUsage, Type: typeUsage,
		OrgID: u.OrgID, ID: u.ID, AgentID: u.AgentID, BudgetGroupID: u.BudgetGroupID,
		Amount: int64(u.Amount), Kind: u.Kind, Period: u.Period,
		OccurredAt: fmtTime(u.OccurredAt), RecordedAt: fmtTime(u.RecordedAt), Fingerprint: u.Fingerprint,
	}
}

func (it usageItem) domain() domain.Usage {
	return domain.Usage{
		OrgID: it.OrgID, ID: it.ID, AgentID: it.AgentID, BudgetGroupID: it.BudgetGroupID,
		Amount: domain.Micros(it.Amount), Kind: it.Kind, Period: it.Period,
		OccurredAt: parseTime(it.OccurredAt), RecordedAt: parseTime(it.RecordedAt), Fingerprint: it.Fingerprint,
	}
}

type transferItem struct {
	PK               string `dynamodbav:"PK"`
	SK               string `dynamodbav:"SK"`
	Type             string `dynamodbav:"type"`
	OrgID            string `dynamodbav:"org_id"`
	ID               string `dynamodbav:"id"`
	InitiatorID      string `dynamodbav:"initiator_id"`
	RecipientID      string `dynamodbav:"recipient_id"`
	Status           string `dynamodbav:"status"`
	RequestedAt      string `dynamodbav:"requested_at"`
	ExpiryMs         int64  `dynamodbav:"expiry_ms"`
	ClosedAt         string `dynamodbav:"closed_at,omitempty"`
	ClosedBy         string `dynamodbav:"closed_by,omitempty"`
	Reason           string `dynamodbav:"reason,omitempty"`
	RecipientChannel string `dynamodbav:"recipient_channel,omitempty"`
	RecipientTS      string `dynamodbav:"recipient_ts,omitempty"`
	InitiatorChannel string `dynamodbav:"initiator_channel,omitempty"`
	InitiatorTS      string `dynamodbav:"initiator_ts,omitempty"`
	GSI1PK           string `dynamodbav:"GSI1PK,omitempty"`
	GSI1SK           string `dynamodbav:"GSI1SK,omitempty"`
}

func newTransferItem(t domain.Transfer) transferItem {
	return transferItem{
		PK: orgPK(t.OrgID), SK: transferSK(t.ID), Type: typeTransfer,
		OrgID: t.OrgID, ID: t.ID, InitiatorID: t.InitiatorID, RecipientID: t.RecipientID,
		Status: string(t.Status), RequestedAt: fmtTime(t.RequestedAt), ExpiryMs: millis(t.ExpiresAt),
		GSI1PK: pendingGSI, GSI1SK: expirySortKey(t.ExpiresAt, t.OrgID, t.ID),
	}
}

func (it transferItem) domain() domain.Transfer {
	return domain.Transfer{
		OrgID: it.OrgID, ID: it.ID, InitiatorID: it.InitiatorID, RecipientID: it.RecipientID,
		Status: domain.TransferStatus(it.Status), RequestedAt: parseTime(it.RequestedAt),
		ExpiresAt: fromMillis(it.ExpiryMs), ClosedAt: parseTime(it.ClosedAt), ClosedBy: it.ClosedBy, Reason: it.Reason,
		RecipientMessage: domain.Message{Channel: it.RecipientChannel, TS: it.RecipientTS},
		InitiatorMessage: domain.Message{Channel: it.InitiatorChannel, TS: it.InitiatorTS},
	}
}

type auditItem struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	Type   string `dynamodbav:"type"`
	OrgID  string `dynamodbav:"org_id"`
	ID     string `dynamodbav:"id"`
	At     string `dynamodbav:"at"`
	Actor  string `dynamodbav:"actor"`
	Action string `dynamodbav:"action"`
	Target string `dynamodbav:"target"`
	Before string `dynamodbav:"before,omitempty"`
	After  string `dynamodbav:"after,omitempty"`
	Detail string `dynamodbav:"detail,omitempty"`
}

func (it auditItem) domain() domain.AuditEntry {
	return domain.AuditEntry{
		OrgID: it.OrgID, ID: it.ID, At: parseTime(it.At), Actor: it.Actor,
		Action: domain.Action(it.Action), Target: it.Target, Before: it.Before, After: it.After, Detail: it.Detail,
	}
}

func marshal(v any) map[string]types.AttributeValue {
	m, err := attributevalue.MarshalMap(v)
	if err != nil {
		// Only our own item structs are marshalled; they always can be.
		panic(fmt.Sprintf("marshal %T: %v", v, err))
	}
	return m
}

func unmarshal[T any](m map[string]types.AttributeValue) (T, error) {
	var v T
	err := attributevalue.UnmarshalMap(m, &v)
	return v, err
}

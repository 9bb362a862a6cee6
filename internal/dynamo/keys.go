package dynamo

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Item types, stored in every item's "type" attribute so that stream
// consumers and scans can tell items apart.
const (
	typeOrg      = "org"
	typePool     = "pool"
	typeMember   = "member"
	typeGroup    = "group"
	typeSpend    = "spend"
	typeAgent    = "agent"
	typeToken    = "token"
	typeGrant    = "grant"
	typeUsage    = "usage"
	typeDay      = "day"
	typeTransfer = "transfer"
	typeAudit    = "audit"
	typeMark     = "mark"
	typeClaim    = "slack_claim"
)

// Keys of the single table. Everything of an organization that changes
// together lives under its ORG#<org> partition; usage records get one
// partition each (they are written at the highest rate and read by key),
// the audit trail one partition per organization, sorted by time.
func orgPK(org string) string       { return "ORG#" + org }
func usagePK(org, id string) string { return "USAGE#" + org + "#" + id }
func auditPK(org string) string     { return "AUDIT#" + org }
func tokenPK(hash string) string    { return "TOKEN#" + hash }
func markPK(key string) string      { return "MARK#" + key }

// slackClaimSK keys the item that reserves a Slack user for one active
// member of an organization, so one Slack identity cannot act as two.
func slackClaimSK(slackUserID string) string { return "SLACKUSER#" + slackUserID }

func memberSK(id string) string           { return "MEMBER#" + id }
func groupSK(id string) string            { return "GROUP#" + id }
func agentSK(id string) string            { return "AGENT#" + id }
func grantSK(id string) string            { return "GRANT#" + id }
func transferSK(id string) string         { return "TRANSFER#" + id }
func spendSK(group, period string) string { return "SPEND#" + group + "#" + period }

// daySK is the sort key of an organization's usage of t's UTC day.
func daySK(t time.Time) string { return "DAY#" + dayOf(t) }

func dayOf(t time.Time) string { return t.UTC().Format("2006-01-02") }

const (
	skOrg   = "ORG"
	skPool  = "POOL"
	skUsage = "USAGE"
	skToken = "TOKEN"
	skMark  = "MARK"
)

// GSI1 keys.
func teamGSI(team string) string            { return "TEAM#" + team }
func slackUserGSI(team, user string) string { return "SLACKUSER#" + team + "#" + user }
func historyGSI(org string) string          { return "TRANSFERS#" + org }

// pendingGSI is the GSI1 partition of pending transfers, sorted by expiry,
// so the sweeper finds due ones with one query. A transfer leaves it (its
// GSI1 attributes are removed) when it closes.
const pendingGSI = "PENDING"

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{PartitionKey: str(pk), SortKey: str(sk)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// timeFormat is fixed-width so that stored times sort as strings.
const timeFormat = "2006-01-02T15:04:05.000000000Z"

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// expirySortKey orders pending transfers by expiry in GSI1.
func expirySortKey(expiry time.Time, org, id string) string {
	return fmt.Sprintf("%016d#%s#%s", millis(expiry), org, id)
}

// newID makes a time-ordered random id with a prefix, for ids the system
// chooses (transfers, audit entries).
func newID(prefix string, now time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s%s%s", prefix, strconv.FormatInt(now.UnixMilli(), 36), hex.EncodeToString(b[:]))
}

package dynamo

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Item types, stored in every item's "type" attribute so that stream
// consumers and scans can tell items apart.
const (
	typeOrg          = "org"
	typePool         = "pool"
	typeMember       = "member"
	typeGroup        = "group"
	typeSpend        = "spend"
	typeAgent        = "agent"
	typeToken        = "token"
	typeGrant        = "grant"
	typeUsage        = "usage"
	typeDay          = "day"
	typeTransfer     = "transfer"
	typeAudit        = "audit"
	typeMark         = "mark"
	typeClaim        = "slack_claim"
	typeInstallation = "slack_installation"
)

// compose builds a key from its parts, unambiguously: the parts are joined
// with '#', and each part has '%' and '#' percent-encoded first, so no part
// can reach into the next ("x#y" + "z" and "x" + "y#z" differ). Every key
// of the table and every once-key is built with it. Valid ids contain
// neither character, so their keys read as the plain join.
func compose(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('#')
		}
		if !strings.ContainsAny(p, "%#") {
			b.WriteString(p)
			continue
		}
		for _, r := range p {
			switch r {
			case '%':
				b.WriteString("%25")
			case '#':
				b.WriteString("%23")
			default:
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// prefix is the start of every key composed from parts and more: parts
// joined, and the separator.
func prefix(parts ...string) string { return compose(parts...) + "#" }

// Keys of the single table. Everything of an organization that changes
// together lives under its ORG#<org> partition; usage records get one
// partition each (they are written at the highest rate and read by key),
// the audit trail one partition per organization, sorted by time.
func orgPK(org string) string       { return compose("ORG", org) }
func usagePK(org, id string) string { return compose("USAGE", org, id) }
func auditPK(org string) string     { return compose("AUDIT", org) }
func tokenPK(hash string) string    { return compose("TOKEN", hash) }
func markPK(parts []string) string  { return compose(append([]string{"MARK"}, parts...)...) }

// installationPK is the partition of the Slack app's installation in a
// workspace (one item, skInstallation).
func installationPK(team string) string { return compose("SLACKTEAM", team) }

// slackClaimSK keys the item that reserves a Slack user for one active
// member of an organization, so one Slack identity cannot act as two.
func slackClaimSK(slackUserID string) string { return compose("SLACKUSER", slackUserID) }

func memberSK(id string) string           { return compose("MEMBER", id) }
func groupSK(id string) string            { return compose("GROUP", id) }
func agentSK(id string) string            { return compose("AGENT", id) }
func grantSK(id string) string            { return compose("GRANT", id) }
func transferSK(id string) string         { return compose("TRANSFER", id) }
func spendSK(group, period string) string { return compose("SPEND", group, period) }

// Sort-key prefixes of an organization's collections.
var (
	membersPrefix   = prefix("MEMBER")
	groupsPrefix    = prefix("GROUP")
	agentsPrefix    = prefix("AGENT")
	transfersPrefix = prefix("TRANSFER")
)

// daySK is the sort key of an organization's usage of t's UTC day.
func daySK(t time.Time) string { return compose("DAY", dayOf(t)) }

func dayOf(t time.Time) string { return t.UTC().Format("2006-01-02") }

const (
	skOrg   = "ORG"
	skPool  = "POOL"
	skUsage = "USAGE"
	skToken = "TOKEN"
	skMark  = "MARK"

	skInstallation = "INSTALLATION"
)

// GSI1 keys: members by Slack identity, pending transfers by expiry, and
// closed transfers by organization (its Billing history).
func slackUserGSI(team, user string) string { return compose("SLACKUSER", team, user) }
func historyGSI(org string) string          { return compose("TRANSFERS", org) }

// pendingGSI is the GSI1 partition of pending transfers, sorted by expiry,
// so the sweeper finds due ones with one query. A transfer leaves it for
// its organization's history partition when it closes.
const pendingGSI = "PENDING"

// expirySortKey orders pending transfers by expiry in GSI1.
func expirySortKey(expiry time.Time, org, id string) string {
	return compose(fmt.Sprintf("%016d", millis(expiry)), org, id)
}

type key = map[string]types.AttributeValue

func itemKey(pk, sk string) key {
	return key{PartitionKey: str(pk), SortKey: str(sk)}
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

// newID makes a time-ordered random id with a prefix, for ids the system
// chooses (transfers, audit entries).
func newID(prefix string, now time.Time) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s%s%s", prefix, strconv.FormatInt(now.UnixMilli(), 36), hex.EncodeToString(b[:]))
}

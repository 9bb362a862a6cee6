package slackapp

import (
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// escape makes text safe inside Slack mrkdwn: &, < and > are control
// characters there.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// mentionOf names a member so Slack shows them as a person.
func mentionOf(m domain.Member) string {
	if m.SlackUserID != "" {
		return "<@" + m.SlackUserID + ">"
	}
	return "*" + escape(m.Describe()) + "*"
}

// memberNames names an organization's members by id.
type memberNames map[string]domain.Member

func (a *App) memberNames(ctx context.Context, orgID string) (memberNames, error) {
	ms, err := a.store.ListMembers(ctx, orgID)
	if err != nil {
		return nil, err
	}
	n := make(memberNames, len(ms))
	for _, m := range ms {
		n[m.ID] = m
	}
	return n, nil
}

func (n memberNames) mention(id string) string {
	if m, ok := n[id]; ok {
		return mentionOf(m)
	}
	return "`" + escape(id) + "`"
}

// plain names without pinging anyone, for lists such as the audit trail.
func (n memberNames) plain(id string) string {
	if m, ok := n[id]; ok {
		return "*" + escape(m.Describe()) + "*"
	}
	return escape(id)
}

// barWidth is the number of cells of a text bar.
const barWidth = 10

// bar draws spent against limit: "████████░░ 80%". Over the limit the
// cells are full and the percentage says by how much.
func bar(spent, limit domain.Micros) string {
	pct := percent(spent, limit)
	return cells(pct) + fmt.Sprintf(" %d%%", pct)
}

// percent is spent as a whole percentage of limit; int64 holds it for any
// amount the store accepts (at most about 10^15 µcr).
func percent(spent, limit domain.Micros) int64 {
	switch {
	case limit > 0:
		return int64(spent) * 100 / int64(limit)
	case spent > 0:
		return 100
	}
	return 0
}

// cells draws a percentage as barWidth cells.
func cells(pct int64) string {
	n := min(max(pct*barWidth/100, 0), barWidth)
	return strings.Repeat("█", int(n)) + strings.Repeat("░", barWidth-int(n))
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func plainText(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func section(s string) *slack.SectionBlock {
	return slack.NewSectionBlock(mrkdwn(s), nil, nil)
}

// truncate keeps s within n runes, as Slack limits plain_text fields.
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

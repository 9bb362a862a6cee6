package slackapp

import (
	"context"
	"sort"
	"strings"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/slackapp/mrkdwn"
)

// What the Billing holder reads about their organization's credit, shared
// by My Credit, /credit and the alerts: the state in words, the figures,
// the groups by how full they are, and how Billing moves.

// creditFacts are an organization's credit as the holder sees it.
type creditFacts struct {
	org       domain.Org
	pool      domain.Pool
	period    string
	thisMonth domain.Micros
	lastMonth domain.Micros
	today     domain.Micros
	recent    []domain.DayUsage // the last 30 days, oldest first, today last
	groups    []domain.GroupStatus
	daysLeft  int64
	paceKnown bool
}

// historyDays is how many days of usage the holder's views read: this
// month and the whole of the last, and the chart's 30 days.
const historyDays = 62

// chartDays is how many days the usage chart shows.
const chartDays = 30

// paceDays is how many recent days set the pace of "days left".
const paceDays = 7

// readCredit reads the facts of an organization's credit: the pool, two
// months of day totals and the groups' spend, a few small reads.
func (a *App) readCredit(ctx context.Context, org domain.Org) (creditFacts, error) {
	f := creditFacts{org: org, period: domain.Period(a.now())}
	var err error
	if f.pool, err = a.store.GetPool(ctx, org.ID); err != nil {
		return f, err
	}
	if err := a.readUsage(ctx, &f); err != nil {
		return f, err
	}
	if f.groups, err = a.store.GroupStatuses(ctx, org.ID, f.period); err != nil {
		return f, err
	}
	sortGroups(f.groups)
	return f, nil
}

// readUsage fills in f's usage figures from the daily totals, and the
// pace at which f.pool.Balance lasts.
func (a *App) readUsage(ctx context.Context, f *creditFacts) error {
	days, err := a.store.DailyUsage(ctx, f.org.ID, historyDays)
	if err != nil {
		return err
	}
	last := domain.PreviousPeriod(f.period)
	for _, d := range days {
		switch {
		case strings.HasPrefix(d.Day, f.period):
			f.thisMonth += d.Amount
		case strings.HasPrefix(d.Day, last):
			f.lastMonth += d.Amount
		}
	}
	if len(days) > 0 {
		f.today = days[len(days)-1].Amount
	}
	f.recent = days[max(0, len(days)-chartDays):]
	f.daysLeft, f.paceKnown = domain.DaysLeft(f.pool.Balance, days[max(0, len(days)-paceDays):])
	return nil
}

// stateLine is the pool's state in words, first thing the holder reads.
func stateLine(f creditFacts) md {
	org := mrkdwn.Escape(f.org.Name)
	switch f.pool.State() {
	case domain.PoolEmpty:
		return mrkdwn.F(":red_circle: *%s's credit pool is empty.* Every agent is refused until credit is added.", org)
	case domain.PoolLow:
		return mrkdwn.F(":large_orange_circle: *%s's credit is low:* %s left, below your low-balance threshold of %s.", org, credits(f.pool.Balance), credits(f.pool.Threshold))
	}
	if f.pool.Threshold > 0 {
		return mrkdwn.F(":large_green_circle: *%s's credit is healthy:* %s left, above your low-balance threshold of %s.", org, credits(f.pool.Balance), credits(f.pool.Threshold))
	}
	return mrkdwn.F(":large_green_circle: *%s's credit is healthy:* %s left.", org, credits(f.pool.Balance))
}

// paceWords is how long the credit lasts at this week's pace; empty when
// there was no usage to set a pace.
func paceWords(f creditFacts) md {
	if !f.paceKnown || f.pool.Balance <= 0 {
		return md{}
	}
	switch {
	case f.daysLeft < 1:
		return mrkdwn.F("less than a day at this week's pace")
	case f.daysLeft == 1:
		return mrkdwn.F("about 1 day at this week's pace")
	case f.daysLeft > 365:
		return mrkdwn.F("more than a year at this week's pace")
	}
	return mrkdwn.F("about %d days at this week's pace", f.daysLeft)
}

// creditFields are the figures beside the state line.
func creditFields(f creditFacts) *slack.SectionBlock {
	fs := []md{
		field("Balance", credits(f.pool.Balance)),
		field("Low-balance threshold", thresholdWords(f.pool.Threshold)),
		field("Used in "+month(f.period), credits(f.thisMonth)),
		field("Used in "+month(domain.PreviousPeriod(f.period)), credits(f.lastMonth)),
	}
	if p := paceWords(f); !p.Empty() {
		fs = append(fs, field("Credit lasts", p))
	}
	return fields(fs...)
}

func thresholdWords(t domain.Micros) md {
	if t <= 0 {
		return mrkdwn.F("none set")
	}
	return credits(t)
}

// sortGroups orders groups by the share of their cap used, fullest first,
// then by name.
func sortGroups(gs []domain.GroupStatus) {
	sort.SliceStable(gs, func(i, j int) bool {
		a, b := gs[i], gs[j]
		if a.AtCap() != b.AtCap() {
			return a.AtCap()
		}
		if pa, pb := a.SharePercent(), b.SharePercent(); pa != pb {
			return pa > pb
		}
		return strings.ToLower(a.Group.Name) < strings.ToLower(b.Group.Name)
	})
}

// groupLine is one budget group in words: "*Research* — near cap (82 %)
// · 41 of 50 credits".
func groupLine(s domain.GroupStatus) md {
	var label md
	switch {
	case s.AtCap():
		label = mrkdwn.F(":no_entry: at cap")
	case s.NearCap():
		label = mrkdwn.F(":warning: near cap (%d %%)", s.SharePercent())
	default:
		label = mrkdwn.F("%d %%", s.SharePercent())
	}
	return mrkdwn.F("*%s* — %s · %s of %s", s.Group.Name, label, s.Spent.Credits(), credits(s.Group.Cap))
}

// groupLines are the groups in words, fullest first.
func groupLines(gs []domain.GroupStatus) []md {
	out := make([]md, len(gs))
	for i, s := range gs {
		out[i] = groupLine(s)
	}
	return out
}

// howBillingMoves tells a member, truthfully for their role, how Billing
// moves from its holder.
func howBillingMoves(org domain.Org, viewer, holder domain.Member) md {
	switch {
	case viewer.ID == holder.ID && viewer.Role == domain.RoleOwner:
		return mrkdwn.F("You can pass it on with *Transfer Billing Role* (in My Credit, or `/billing transfer`): the member you choose accepts or declines in Slack.")
	case viewer.ID == holder.ID:
		return mrkdwn.F("You hold it but you're %s, and only an Owner who holds Billing can pass it on: an Owner of %s must first make you an Owner (`/billing role @you owner`).", roleName(viewer.Role), mrkdwn.Escape(org.Name))
	case holder.Role == domain.RoleOwner:
		return mrkdwn.F("Only %s can pass it on: they choose the next holder with *Transfer Billing Role*, and that member accepts in Slack.", person(holder))
	case viewer.Role == domain.RoleOwner:
		return mrkdwn.F("%s isn't an Owner, so they can't pass it on yet: as an Owner you can make them one (`/billing role @them owner`), then they transfer it.", person(holder))
	}
	return mrkdwn.F("%s isn't an Owner, so they can't pass it on yet: an Owner of %s must first make them one.", person(holder), mrkdwn.Escape(org.Name))
}

// creditActions are the next steps of a credit view: open My Credit (not
// from My Credit itself), view the groups, add credit.
func (a *App) creditActions(org domain.Org, inHome bool) []slack.BlockElement {
	var els []slack.BlockElement
	if !inHome {
		if u := a.homeURL(org.SlackTeamID); u != "" {
			els = append(els, linkButton(actionOpenHome, "Open My Credit", u, slack.StylePrimary))
		}
		els = append(els, button(actionViewGroups, "View groups", org.ID, ""))
	}
	if org.TopUpURL != "" {
		els = append(els, linkButton(actionAddCredit, "Add credit", org.TopUpURL, ""))
	}
	return els
}

// topUpHint says how to add credit when the organization has no top-up
// link set (with one, the surfaces show its button instead).
func topUpHint(org domain.Org) md {
	return mrkdwn.F("To add credit, ask whoever runs orgcredit for %s.", mrkdwn.Escape(org.Name))
}

package slackapp

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/slackapp/mrkdwn"
)

// How the app words things, in one place: people, organizations, amounts,
// months, roles and failures.

// person names a member so Slack shows them as a person (a mention), or by
// name when they have no Slack account.
func person(m domain.Member) md {
	if m.SlackUserID != "" {
		return mrkdwn.Mention(m.SlackUserID)
	}
	return mrkdwn.Bold(m.Describe())
}

// orgName is an organization's name in bold.
func orgName(o domain.Org) md { return mrkdwn.Bold(o.Name) }

// credits is an amount as people read it: "1,234.5 credits".
func credits(m domain.Micros) md { return mrkdwn.F("%s", m.String()) }

// month names a budget period ("2026-11") as "November 2026".
func month(period string) string {
	t, err := time.Parse("2006-01", period)
	if err != nil {
		return period
	}
	return t.Format("January 2006")
}

// roleName is an everyday role as a person reads it, with its article:
// "an Owner", "a Member".
func roleName(r domain.Role) string {
	if r == domain.RoleOwner || r == domain.RoleAdmin {
		return "an " + r.Title()
	}
	return "a " + r.Title()
}

// names knows an organization's members by id.
type names map[string]domain.Member

// names reads the members with ids, or with none given every member (an
// audit trail names many): a Home names a few people, and must not read
// the whole of a large organization to do it.
func (a *App) names(ctx context.Context, orgID string, ids ...string) (names, error) {
	var (
		ms  []domain.Member
		err error
	)
	if len(ids) == 0 {
		ms, err = a.store.ListMembers(ctx, orgID)
	} else {
		ms, err = a.store.Members(ctx, orgID, ids)
	}
	if err != nil {
		return nil, err
	}
	n := make(names, len(ms))
	for _, m := range ms {
		n[m.ID] = m
	}
	return n, nil
}

// billingPeople are the members a Billing surface names: the holder and
// the parties of the pending transfer.
func billingPeople(org domain.Org, pending *domain.Transfer) []string {
	ids := []string{org.BillingHolderID}
	if pending != nil {
		ids = append(ids, pending.InitiatorID, pending.RecipientID)
	}
	return ids
}

// person names member id (a mention), or shows the id when unknown.
func (n names) person(id string) md {
	if m, ok := n[id]; ok {
		return person(m)
	}
	return mrkdwn.Code(id)
}

// plainName names member id without a mention, for lists such as the
// audit trail that should not look like they ping anyone.
func (n names) plainName(id string) md {
	if m, ok := n[id]; ok {
		return mrkdwn.Bold(m.Describe())
	}
	return mrkdwn.Escape(id)
}

// failure is what a person reads when something did not work: a rule's
// own message, or in plain words what happened and what to do. Details go
// to the log, never to the person.
func (a *App) failure(ctx context.Context, op string, err error) md {
	if r, ok := errors.AsType[*domain.Refusal](err); ok {
		return mrkdwn.Escape(sentence(r.Message))
	}
	var ic *domain.InsufficientCredit
	var gc *domain.GroupCapReached
	if errors.As(err, &ic) || errors.As(err, &gc) {
		return mrkdwn.Escape(sentence(upperFirst(err.Error())))
	}
	a.log.ErrorContext(ctx, "slack: "+op+" failed", "err", err)
	switch {
	case errors.Is(err, ErrNotInstalled) && a.installURL != "":
		return mrkdwn.F("orgcredit is not installed in this Slack workspace, so it cannot message anyone here. A workspace admin can install it from %s, then try again.", a.installURL)
	case errors.Is(err, ErrNotInstalled):
		return mrkdwn.F("orgcredit is not installed in this Slack workspace, so it cannot message anyone here. Ask a workspace admin to install it, then try again.")
	case errors.Is(err, domain.ErrBusy), errors.Is(err, domain.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return mrkdwn.F("orgcredit is busy right now and nothing was changed. Please try again in a moment.")
	}
	return mrkdwn.F("Something went wrong on our side and nothing was changed. Please try again in a moment; if it keeps happening, tell whoever runs orgcredit for your organization.")
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

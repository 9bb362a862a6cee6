package slackapp

import (
	"context"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/domain"
)

const (
	homeOrgActionID = "home_org"
	homeOrgBlockID  = "home_org_select"
	// recentDays is how many days of daily usage App Home shows.
	recentDays = 14
)

// PublishHome publishes a user's App Home "My Credit". With several
// organizations it shows the first by name; the user switches with the
// selector.
func (a *App) PublishHome(ctx context.Context, teamID, slackUserID string) error {
	return a.publishHome(ctx, teamID, slackUserID, "")
}

// publishHome publishes My Credit for the organization orgID when the user
// is a member of it, else their first. The shown organization is kept in
// the view's private_metadata so the next app_home_opened keeps it.
func (a *App) publishHome(ctx context.Context, teamID, slackUserID, orgID string) error {
	ms, err := a.store.Memberships(ctx, teamID, slackUserID)
	if err != nil {
		return err
	}
	sortMemberships(ms)
	view := slack.HomeTabViewRequest{Type: slack.VTHomeTab}
	if len(ms) == 0 {
		view.Blocks.BlockSet = []slack.Block{
			slack.NewHeaderBlock(plainText("My Credit")),
			section("You are not a member of any organization that uses this app in this Slack workspace. An operator adds members through the admin API."),
		}
	} else {
		m := ms[0]
		for _, x := range ms {
			if x.Org.ID == orgID {
				m = x
			}
		}
		blocks, err := a.homeBlocks(ctx, ms, m)
		if err != nil {
			return err
		}
		view.Blocks.BlockSet = blocks
		view.PrivateMetadata = m.Org.ID
	}
	if _, err := a.client(ctx).PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: slackUserID, View: view}); err != nil {
		return fmt.Errorf("views.publish: %w", err)
	}
	return nil
}

func (a *App) homeBlocks(ctx context.Context, ms []domain.Membership, m domain.Membership) ([]slack.Block, error) {
	blocks := []slack.Block{slack.NewHeaderBlock(plainText("My Credit"))}
	if len(ms) > 1 {
		opts := make([]*slack.OptionBlockObject, len(ms))
		var initial *slack.OptionBlockObject
		for i, x := range ms {
			opts[i] = slack.NewOptionBlockObject(x.Org.ID, plainText(truncate(x.Org.Name, 75)), nil)
			if x.Org.ID == m.Org.ID {
				initial = opts[i]
			}
		}
		sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plainText("Organization"), homeOrgActionID, opts...)
		sel.InitialOption = initial
		blocks = append(blocks, slack.NewActionBlock(homeOrgBlockID, sel))
	}
	names, err := a.memberNames(ctx, m.Org.ID)
	if err != nil {
		return nil, err
	}
	if m.Org.BillingHolderID != m.Member.ID {
		return append(blocks, section(fmt.Sprintf("*%s*\n%s", escape(m.Org.Name), notHolderText(m.Org, names)))), nil
	}

	now := a.now()
	period := domain.Period(now)
	pool, err := a.store.GetPool(ctx, m.Org.ID)
	if err != nil {
		return nil, err
	}
	days := recentDays
	if d := now.UTC().Day(); d > days {
		days = d
	}
	usage, err := a.store.DailyUsage(ctx, m.Org.ID, days)
	if err != nil {
		return nil, err
	}
	groups, err := a.store.GroupStatuses(ctx, m.Org.ID, period)
	if err != nil {
		return nil, err
	}
	pending, err := a.store.PendingTransfer(ctx, m.Org.ID)
	if err != nil {
		return nil, err
	}

	blocks = append(blocks,
		section(fmt.Sprintf("*%s* – you hold Billing.", escape(m.Org.Name))),
		slack.NewSectionBlock(nil, []*slack.TextBlockObject{
			mrkdwn(fmt.Sprintf("*Balance*\n%s credits", pool.Balance.Credits())),
			mrkdwn(fmt.Sprintf("*Usage in %s*\n%s credits", period, periodUsage(usage, period).Credits())),
		}, nil),
		slack.NewDividerBlock(),
	)

	var g strings.Builder
	g.WriteString("*Budget groups this month*\n")
	if len(groups) == 0 {
		g.WriteString("No budget groups; agents are limited by the pool only.")
	}
	for _, s := range groups {
		g.WriteString(groupLine(s) + "\n")
	}
	blocks = append(blocks, section(g.String()))

	var u strings.Builder
	u.WriteString("*Recent daily usage*\n")
	recent := usage
	if len(recent) > recentDays {
		recent = recent[len(recent)-recentDays:]
	}
	var peak domain.Micros
	for _, d := range recent {
		peak = max(peak, d.Amount)
	}
	if len(recent) == 0 {
		u.WriteString("No usage recorded in the last days.")
	}
	for _, d := range recent {
		fmt.Fprintf(&u, "`%s` `%s` %s credits, %d events\n", d.Day, cells(percent(d.Amount, peak)), d.Amount.Credits(), d.Count)
	}
	blocks = append(blocks, section(u.String()), slack.NewDividerBlock())

	if pending == nil {
		blocks = append(blocks, section("*Billing transfer*\nNo transfer is pending. Move Billing with `/billing transfer`."))
	} else {
		blocks = append(blocks, section("*Billing transfer*\n"+pending.Describe(now, names.mention)))
	}
	return blocks, nil
}

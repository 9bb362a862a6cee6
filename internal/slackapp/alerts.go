package slackapp

import (
	"context"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/slackapp/mrkdwn"
)

// SendAlert tells an organization's Billing holder about a crossing of its
// pool or of a group's spend (the notifier finds them): a header naming
// the organization, the figures, the ways to act. group is the budget
// group of a spend alert, nil otherwise.
func (a *App) SendAlert(ctx context.Context, org domain.Org, holder domain.Member, al domain.Alert, group *domain.BudgetGroup) error {
	m := a.alertMessage(ctx, org, al, group)
	_, err := a.post(ctx, org.SlackTeamID, holder.SlackUserID, "", "", m)
	return err
}

func (a *App) alertMessage(ctx context.Context, org domain.Org, al domain.Alert, group *domain.BudgetGroup) message {
	f := creditFacts{org: org, pool: domain.Pool{OrgID: org.ID, Balance: al.Balance, Threshold: al.Threshold}, period: domain.Period(a.now())}
	if al.Kind != domain.AlertGroupSpend {
		// Today's usage and the pace at which the alert's balance lasts.
		if err := a.readUsage(ctx, &f); err != nil {
			// The alert still goes out, with the figures it carries.
			a.log.ErrorContext(ctx, "slack: read usage for an alert", "org", org.ID, "err", err)
		}
	}
	return a.renderAlert(org, al, group, f)
}

// renderAlert lays out an alert from what was read.
func (a *App) renderAlert(org domain.Org, al domain.Alert, group *domain.BudgetGroup, f creditFacts) message {
	name := mrkdwn.Escape(org.Name)
	var (
		title string
		lead  md
		figs  []md
	)
	switch al.Kind {
	case domain.AlertLowBalance, domain.AlertExhausted:
		figs = []md{field("Balance", credits(al.Balance)), field("Low-balance threshold", thresholdWords(al.Threshold)), field("Used today", credits(f.today))}
		if p := paceWords(f); !p.Empty() {
			figs = append(figs, field("Credit lasts", p))
		}
		if al.Kind == domain.AlertExhausted {
			title = "Credit pool empty · " + org.Name
			lead = mrkdwn.F(":red_circle: *%s's credit pool is empty.* Every agent of %s is refused until credit is added.", name, name)
		} else {
			title = "Low credit · " + org.Name
			lead = mrkdwn.F(":large_orange_circle: *%s's credit is below your low-balance threshold:* %s left. Agents keep working until the pool is empty; add credit to keep them going.", name, credits(al.Balance))
		}
	default:
		gname := al.GroupID
		if group != nil {
			gname = group.Name
		}
		figs = []md{field("Spent", credits(al.Spent)), field("Cap", credits(al.Cap)), field("Share used", mrkdwn.F("%d %%", al.SharePercent())), field("Period", mrkdwn.F("%s", month(al.Period)))}
		if al.Level >= 100 {
			title = "Budget group at its cap · " + org.Name
			lead = mrkdwn.F(":no_entry: Budget group *%s* of %s has reached its cap for %s: its agents are refused until an Owner or Admin raises the cap or the month ends. Other groups keep working.", gname, name, month(al.Period))
		} else {
			title = "Budget group near its cap · " + org.Name
			lead = mrkdwn.F(":warning: Budget group *%s* of %s has used %d %% of its cap for %s.", gname, name, al.SharePercent(), month(al.Period))
		}
	}
	blocks := []slack.Block{header(title), section(lead), fields(figs...)}
	if els := a.creditActions(org, false); len(els) > 0 {
		blocks = append(blocks, actions("alert_actions", els...))
	}
	if al.Kind != domain.AlertGroupSpend && org.TopUpURL == "" {
		blocks = append(blocks, contextLine(topUpHint(org)))
	}
	return message{text: lead, blocks: blocks}
}

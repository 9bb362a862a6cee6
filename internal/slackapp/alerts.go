package slackapp

import (
	"context"
	"fmt"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// SendAlert tells an organization's Billing holder about a crossing of its
// pool or a group's spend (the notifier finds them). group is the budget
// group of a spend alert, nil otherwise.
func (a *App) SendAlert(ctx context.Context, org domain.Org, holder domain.Member, al domain.Alert, group *domain.BudgetGroup) error {
	text := alertText(org, al, group)
	_, err := a.post(ctx, holder.SlackUserID, "", text, section(text))
	return err
}

// alertText words an alert. Every name is escaped.
func alertText(org domain.Org, a domain.Alert, group *domain.BudgetGroup) string {
	orgName := escape(org.Name)
	switch a.Kind {
	case domain.AlertLowBalance:
		return fmt.Sprintf("%s's credit pool is below its low-balance threshold of %s credits: %s credits left. Usage continues until the pool is empty; add credit to keep every agent working.",
			orgName, a.Threshold.Credits(), a.Balance.Credits())
	case domain.AlertExhausted:
		return fmt.Sprintf("%s's credit pool is empty: every agent of %s is refused until credit is added.", orgName, orgName)
	case domain.AlertGroupSpend:
		name := escape(a.GroupID)
		if group != nil {
			name = escape(group.Name)
		}
		if a.Level >= 100 {
			return fmt.Sprintf("Budget group *%s* of %s has reached its cap for %s: %s of %s credits spent. Its agents are refused until an Owner or Admin raises the cap or the month ends.",
				name, orgName, a.Period, a.Spent.Credits(), a.Cap.Credits())
		}
		return fmt.Sprintf("Budget group *%s* of %s has used %d%% of its cap for %s: %s of %s credits spent.",
			name, orgName, a.SharePercent(), a.Period, a.Spent.Credits(), a.Cap.Credits())
	}
	return fmt.Sprintf("%s: %s", orgName, a.Kind)
}

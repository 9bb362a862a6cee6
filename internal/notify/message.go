package notify

import (
	"fmt"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// Text is the direct message an alert sends to the Billing holder. group
// is the budget group's display name for spend alerts ("" falls back to
// its id). Amounts are credits, as Slack shows them everywhere.
func Text(org domain.Org, a Alert, group string) string {
	orgName := org.Name
	if orgName == "" {
		orgName = org.ID
	}
	switch a.Kind {
	case KindLowBalance:
		return fmt.Sprintf("%s's credit pool is below its low-balance threshold of %s credits: %s credits left. Usage continues until the pool is empty; add credit to keep every agent working.",
			orgName, a.Threshold.Credits(), a.Balance.Credits())
	case KindExhausted:
		return fmt.Sprintf("%s's credit pool is empty: every agent of %s is refused until credit is added.",
			orgName, orgName)
	case KindSpend:
		if group == "" {
			group = a.GroupID
		}
		if a.Level >= 100 && a.Spent < a.Cap {
			return fmt.Sprintf("Budget group %q of %s has reached its cap for %s: %s of %s credits spent, and a debit that would have gone over it was refused. Its agents are refused until an Owner or Admin raises the cap or the month ends.",
				group, orgName, a.Period, a.Spent.Credits(), a.Cap.Credits())
		}
		if a.Level >= 100 {
			return fmt.Sprintf("Budget group %q of %s has used its whole cap for %s: %s of %s credits spent. Its agents are refused until an Owner or Admin raises the cap or the month ends.",
				group, orgName, a.Period, a.Spent.Credits(), a.Cap.Credits())
		}
		return fmt.Sprintf("Budget group %q of %s has used %d%% of its cap for %s: %s of %s credits spent.",
			group, orgName, a.Level, a.Period, a.Spent.Credits(), a.Cap.Credits())
	}
	return fmt.Sprintf("%s: %s", orgName, a.Kind)
}

package main

import (
	"context"
	"log/slog"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// printedSlack stands in for Slack's Web API in the notifier when the local
// server has none and no stand-in either (Socket Mode without
// SLACK_BOT_TOKEN: Slack calls the app, but the app cannot call Slack):
// the messages the Billing holder would get are printed to the log instead
// of being retried forever against a Slack that refuses them. With no
// Slack configured at all, the notifier goes through the app to the
// stand-in (standin.go), which prints them as the messages Slack would
// show.
type printedSlack struct {
	log *slog.Logger
}

func (p printedSlack) SendAlert(ctx context.Context, org domain.Org, holder domain.Member, a domain.Alert, group *domain.BudgetGroup) error {
	args := []any{"org", org.ID, "to", holder.SlackUserID, "kind", string(a.Kind)}
	switch a.Kind {
	case domain.AlertGroupSpend:
		args = append(args, "group", a.GroupID, "period", a.Period, "spent", a.Spent.String(), "cap", a.Cap.String(), "level", a.Level)
	default:
		args = append(args, "balance", a.Balance.String(), "threshold", a.Threshold.String())
	}
	p.log.InfoContext(ctx, "Slack alert (not sent: no Slack Web API configured)", args...)
	return nil
}

func (p printedSlack) AnnounceTransferOutcome(ctx context.Context, t domain.Transfer) error {
	p.log.InfoContext(ctx, "transfer outcome (not announced in Slack: no Slack Web API configured)",
		"org", t.OrgID, "transfer", t.ID, "status", string(t.Status), "initiator", t.InitiatorID, "recipient", t.RecipientID)
	return nil
}

// Command notifier is the notifier's Lambda function: the table's DynamoDB
// stream (low-balance, exhaustion and budget-group alerts to the Billing
// holder) and the 5-minute schedule (expiring due Billing transfers and
// announcing them). Wiring only; the logic is internal/notify.
//
// Environment: TABLE_NAME (required); DYNAMODB_ENDPOINT (optional);
// SLACK_SECRET_ARN, the Secrets Manager secret holding
// {"signing_secret","bot_token"}, read once at cold start; or, for local
// invokes only, SLACK_BOT_TOKEN instead; SLACK_API_URL (optional, a fake
// Slack's Web API base URL).
package main

import (
	"context"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/metrics"
	"github.com/orgcredit/orgcredit/internal/notify"
	"github.com/orgcredit/orgcredit/internal/secrets"
	"github.com/orgcredit/orgcredit/internal/slackapp"
)

// The Slack app is what the notifier sends through.
var _ notify.Slack = (*slackapp.App)(nil)

func main() {
	ctx := context.Background()
	log := metrics.Logger(metrics.FunctionNotifier, os.Stderr)
	fail := func(msg string, args ...any) {
		log.Error(msg, args...)
		os.Exit(1)
	}
	store, err := dynamo.OpenFromEnv(ctx, os.Getenv)
	if err != nil {
		fail("cannot open the store", "err", err)
	}
	creds, err := secrets.SlackFromEnv(ctx, os.Getenv)
	if err != nil {
		fail("cannot read the Slack credentials", "err", err)
	}
	if creds.BotToken == "" {
		fail("no Slack bot token: set SLACK_SECRET_ARN (or, locally, SLACK_BOT_TOKEN); no alert could be sent")
	}
	// A bounded call fails, and releases its alert for a retry, well
	// before the function's own timeout.
	opts := []slack.Option{slack.OptionHTTPClient(&http.Client{Timeout: 10 * time.Second})}
	if u := os.Getenv("SLACK_API_URL"); u != "" {
		opts = append(opts, slack.OptionAPIURL(u))
	}
	app := slackapp.New(slackapp.Config{Store: store, Workspaces: slackapp.OneWorkspace(slack.New(creds.BotToken, opts...)),
		AppID: os.Getenv("SLACK_APP_ID"), Logger: log})
	n := notify.New(store, app, notify.WithLogger(log))
	lambda.Start(metrics.Wrap(metrics.FunctionNotifier, os.Stdout, n.Handle))
}

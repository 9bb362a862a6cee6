// Command slack is the Slack app's Lambda function: slash commands
// (/slack/commands), interactions (/slack/interactions) and events
// (/slack/events) behind API Gateway's HTTP API. Wiring only; the app is
// internal/slackapp.
//
// Environment: TABLE_NAME (required); DYNAMODB_ENDPOINT (optional);
// SLACK_SECRET_ARN, the Secrets Manager secret holding
// {"signing_secret","bot_token"}, read once at cold start; or, for local
// runs only, SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN instead;
// SLACK_API_URL (optional, a fake Slack's Web API base URL); TRANSFER_TTL
// (optional, how long a Billing transfer stays pending, default 168h).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/metrics"
	"github.com/orgcredit/orgcredit/internal/secrets"
	"github.com/orgcredit/orgcredit/internal/slackapp"
)

func main() {
	ctx := context.Background()
	log := metrics.Logger(metrics.FunctionSlack, os.Stderr)
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
	if creds.SigningSecret == "" {
		fail("no Slack signing secret: set SLACK_SECRET_ARN (or, locally, SLACK_SIGNING_SECRET); every Slack request would be refused")
	}
	ttl, err := dynamo.TransferTTLFromEnv(os.Getenv)
	if err != nil {
		fail("bad configuration", "err", err)
	}
	var opts []slack.Option
	if u := os.Getenv("SLACK_API_URL"); u != "" {
		opts = append(opts, slack.OptionAPIURL(u))
	}
	app := slackapp.New(slackapp.Config{
		Store:         store,
		Workspaces:    slackapp.OneWorkspace(slack.New(creds.BotToken, opts...)),
		SigningSecret: creds.SigningSecret,
		AppID:         os.Getenv("SLACK_APP_ID"),
		TransferTTL:   ttl,
		Logger:        log,
	})
	lambda.Start(metrics.Wrap(metrics.FunctionSlack, os.Stdout, app.Handle))
}

// Command notifier is the notifier's Lambda function: the table's DynamoDB
// stream (low-balance, exhaustion and budget-group alerts to the Billing
// holder) and the 5-minute schedule (expiring due Billing transfers and
// announcing them). Wiring only; the logic is internal/notify, each
// workspace's client internal/slackinstall.
//
// Environment: TABLE_NAME (required); DYNAMODB_ENDPOINT (optional);
// SLACK_SECRET_ARN, the Secrets Manager secret holding
// {"signing_secret","bot_token","client_id","client_secret"}, read once at
// cold start; or, for local invokes only, SLACK_BOT_TOKEN,
// SLACK_CLIENT_ID and SLACK_CLIENT_SECRET instead; with a client id,
// SLACK_KMS_KEY_ARN (the key sealing the bot tokens; locally
// SLACK_LOCAL_KEY); SLACK_API_URL (optional, a fake Slack's Web API base
// URL).
package main

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/envelope"
	"github.com/orgcredit/orgcredit/internal/kmskeys"
	"github.com/orgcredit/orgcredit/internal/metrics"
	"github.com/orgcredit/orgcredit/internal/notify"
	"github.com/orgcredit/orgcredit/internal/secrets"
	"github.com/orgcredit/orgcredit/internal/slackapp"
	"github.com/orgcredit/orgcredit/internal/slackinstall"
)

// The Slack app is what the notifier sends through.
var _ notify.Slack = (*slackapp.App)(nil)

func main() {
	ctx := context.Background()
	// JSON lines with the function's name and the request id, for this
	// code's logs and the libraries' (apigw, metrics) alike.
	log := metrics.Logger(metrics.FunctionNotifier, os.Stderr)
	slog.SetDefault(log)
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
	var keys envelope.KeyService
	if creds.OAuth() {
		if keys, err = kmskeys.FromEnv(ctx, os.Getenv); err != nil {
			fail("cannot open the installations' bot tokens", "err", err)
		}
	}
	// A bounded call fails, and releases its alert for a retry, well
	// before the function's own timeout.
	workspaces, _, err := slackinstall.Setup(slackinstall.Config{
		BotToken: creds.BotToken, ClientID: creds.ClientID, ClientSecret: creds.ClientSecret, Store: store, Keys: keys,
		APIURL: os.Getenv("SLACK_API_URL"), HTTPClient: &http.Client{Timeout: 10 * time.Second}, Logger: log,
	})
	if err != nil {
		fail("no Slack workspace to send to: set SLACK_SECRET_ARN (or, locally, SLACK_BOT_TOKEN or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET)", "err", err)
	}
	app := slackapp.New(slackapp.Config{Store: store, Workspaces: workspaces, AppID: os.Getenv("SLACK_APP_ID"), Logger: log})
	n := notify.New(store, app, notify.WithLogger(log))
	lambda.Start(metrics.Wrap(metrics.FunctionNotifier, os.Stdout, n.Handle))
}

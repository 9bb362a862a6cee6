// Command slack is the Slack app's Lambda function: slash commands
// (/slack/commands), interactions (/slack/interactions) and events
// (/slack/events) behind API Gateway's HTTP API, and the install by OAuth
// (GET /slack/install, GET /slack/oauth_redirect). Wiring only; the app is
// internal/slackapp, the installs and each workspace's client
// internal/slackinstall.
//
// Environment: TABLE_NAME (required); DYNAMODB_ENDPOINT (optional);
// SLACK_SECRET_ARN, the Secrets Manager secret holding
// {"signing_secret","bot_token","client_id","client_secret"}, read once at
// cold start; or, for local runs only, SLACK_SIGNING_SECRET,
// SLACK_BOT_TOKEN, SLACK_CLIENT_ID and SLACK_CLIENT_SECRET instead; with a
// client id, SLACK_KMS_KEY_ARN (the key sealing the bot tokens; locally
// SLACK_LOCAL_KEY) and SLACK_REDIRECT_URL (this API's
// /slack/oauth_redirect URL); SLACK_API_URL (optional, a fake Slack's Web
// API base URL); TRANSFER_TTL (optional, how long a Billing transfer stays
// pending, default 168h).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/envelope"
	"github.com/orgcredit/orgcredit/internal/kmskeys"
	"github.com/orgcredit/orgcredit/internal/metrics"
	"github.com/orgcredit/orgcredit/internal/secrets"
	"github.com/orgcredit/orgcredit/internal/slackapp"
	"github.com/orgcredit/orgcredit/internal/slackinstall"
)

func main() {
	ctx := context.Background()
	// JSON lines with the function's name and the request id, for this
	// code's logs and the libraries' (apigw, metrics) alike.
	log := metrics.Logger(metrics.FunctionSlack, os.Stderr)
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
	if creds.SigningSecret == "" {
		fail("no Slack signing secret: set SLACK_SECRET_ARN (or, locally, SLACK_SIGNING_SECRET); every Slack request would be refused")
	}
	ttl, err := dynamo.TransferTTLFromEnv(os.Getenv)
	if err != nil {
		fail("bad configuration", "err", err)
	}
	var keys envelope.KeyService
	if creds.OAuth() {
		if keys, err = kmskeys.FromEnv(ctx, os.Getenv); err != nil {
			fail("cannot seal or open the installations' bot tokens", "err", err)
		}
	}
	workspaces, installer, err := slackinstall.Setup(slackinstall.Config{
		BotToken: creds.BotToken, ClientID: creds.ClientID, ClientSecret: creds.ClientSecret,
		RedirectURL: os.Getenv("SLACK_REDIRECT_URL"), Store: store, Keys: keys,
		APIURL: os.Getenv("SLACK_API_URL"), Logger: log,
	})
	if err != nil {
		fail("cannot serve the Slack workspaces", "err", err)
	}
	app := slackapp.New(slackapp.Config{
		Store:         store,
		Workspaces:    workspaces,
		SigningSecret: creds.SigningSecret,
		AppID:         os.Getenv("SLACK_APP_ID"),
		InstallURL:    installer.InstallURL(),
		TransferTTL:   ttl,
		Logger:        log,
	})
	lambda.Start(metrics.Wrap(metrics.FunctionSlack, os.Stdout, slackinstall.Route(installer, app.Handle)))
}

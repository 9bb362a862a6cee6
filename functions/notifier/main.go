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
	"errors"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/notify"
	"github.com/orgcredit/orgcredit/internal/secrets"
	"github.com/orgcredit/orgcredit/internal/slackapp"
)

// The Slack app is what the notifier sends through.
var _ notify.Slack = (*slackapp.App)(nil)

func main() {
	ctx := context.Background()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	fail := func(msg string, args ...any) {
		log.Error(msg, args...)
		os.Exit(1)
	}
	store, err := dynamo.OpenFromEnv(ctx, os.Getenv)
	if err != nil {
		fail("cannot open the store", "err", err)
	}
	token, err := botToken(ctx)
	if err != nil {
		fail("cannot read the Slack bot token", "err", err)
	}
	// A bounded call fails, and releases its alert for a retry, well
	// before the function's own timeout.
	opts := []slack.Option{slack.OptionHTTPClient(&http.Client{Timeout: 10 * time.Second})}
	if u := os.Getenv("SLACK_API_URL"); u != "" {
		opts = append(opts, slack.OptionAPIURL(u))
	}
	app := slackapp.New(slackapp.Config{Store: store, Slack: slack.New(token, opts...), Logger: log})
	n := notify.New(store, app, notify.WithLogger(log))
	lambda.Start(n.Handle)
}

// botToken reads the secret named by SLACK_SECRET_ARN, or, when it is
// unset (local invokes), SLACK_BOT_TOKEN.
func botToken(ctx context.Context) (string, error) {
	arn := os.Getenv("SLACK_SECRET_ARN")
	if arn == "" {
		t := os.Getenv("SLACK_BOT_TOKEN")
		if t == "" {
			return "", errors.New("neither SLACK_SECRET_ARN nor SLACK_BOT_TOKEN is set; no alert could be sent")
		}
		return t, nil
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return "", err
	}
	s, err := secrets.LoadSlack(ctx, secretsmanager.NewFromConfig(cfg), arn)
	if err != nil {
		return "", err
	}
	return s.BotToken, nil
}

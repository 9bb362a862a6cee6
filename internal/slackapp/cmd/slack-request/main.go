// Command slack-request plays Slack against the local server: it builds a
// Slack request (a slash command, app_home_opened, the Transfer Billing
// Role dialog's submission, a click of Accept, Decline or Cancel request,
// or a stored sample of events/slack), signs it now with the signing
// secret as Slack does, posts it and prints the answer.
//
//	go run ./internal/slackapp/cmd/slack-request -secret <s> command "/billing status"
//	go run ./internal/slackapp/cmd/slack-request -secret <s> transfer sari
//	go run ./internal/slackapp/cmd/slack-request -secret <s> -user U0SARI accept tr_…
//	go run ./internal/slackapp/cmd/slack-request -secret <s> file events/slack/event_app_home_opened.json
//
// The local server (go run ./functions/local) prints the secret and these
// lines at start; -help lists every subcommand. See package
// internal/slackapp/slackrequest.
package main

import (
	"context"
	"os"

	"github.com/orgcredit/orgcredit/internal/slackapp/slackrequest"
)

func main() {
	os.Exit(slackrequest.Main(context.Background(), os.Args[1:], os.Getenv, os.Stdout, os.Stderr, nil))
}

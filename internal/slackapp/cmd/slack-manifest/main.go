// Command slack-manifest prints the Slack app manifest for a deployed API,
// ready to paste into https://api.slack.com/apps → Create New App → From a
// manifest:
//
//	go run ./internal/slackapp/cmd/slack-manifest -base-url https://abc123.execute-api.eu-west-1.amazonaws.com
//
// or, for an app that the local server serves over Socket Mode (no public
// URL; see SLACK_APP_TOKEN):
//
//	go run ./internal/slackapp/cmd/slack-manifest -socket-mode
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/orgcredit/orgcredit/internal/slackapp"
)

func main() {
	base := flag.String("base-url", "", "the API's base URL (https), e.g. the HttpApi URL output of cdk deploy")
	socket := flag.Bool("socket-mode", false, "a Socket Mode app instead (no request URLs), for the local server with SLACK_APP_TOKEN")
	flag.Parse()
	var m string
	var err error
	switch {
	case *socket && *base != "":
		err = fmt.Errorf("-socket-mode takes no -base-url: Slack delivers everything over the app's WebSocket")
	case *socket:
		m, err = slackapp.SocketModeManifest()
	default:
		m, err = slackapp.Manifest(*base)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "slack-manifest:", err)
		os.Exit(2)
	}
	fmt.Print(m)
}

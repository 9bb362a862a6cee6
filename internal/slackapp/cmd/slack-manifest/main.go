// Command slack-manifest prints the Slack app manifest for a deployed API,
// ready to paste into https://api.slack.com/apps → Create New App → From a
// manifest:
//
//	go run ./internal/slackapp/cmd/slack-manifest -base-url https://abc123.execute-api.eu-west-1.amazonaws.com
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/orgcredit/orgcredit/internal/slackapp"
)

func main() {
	base := flag.String("base-url", "", "the API's base URL (https), e.g. the HttpApi URL output of cdk deploy")
	flag.Parse()
	m, err := slackapp.Manifest(*base)
	if err != nil {
		fmt.Fprintln(os.Stderr, "slack-manifest:", err)
		os.Exit(2)
	}
	fmt.Print(m)
}

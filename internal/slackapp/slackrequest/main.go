package slackrequest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Exit codes of Main.
const (
	ExitOK     = 0
	ExitFailed = 1 // the request could not be sent, or was answered non-2xx
	ExitUsage  = 2 // unknown subcommand, missing or extra arguments, no secret
)

const usageHead = `usage: slack-request [flags] <subcommand> [args]

Plays Slack against the local server (go run ./functions/local): builds the
request Slack would send, signs it now with the signing secret (v0
HMAC-SHA256, X-Slack-Request-Timestamp and X-Slack-Signature, as Slack
does), posts it and prints the HTTP status and the answer. Without a Slack
workspace configured, the local server's Slack stand-in prints what Slack
would show (messages, dialogs, Home tab, buttons with their values).

Subcommands (each takes --help):
  command /billing status   a slash command, any text: "/billing transfer", "/credit"
  home                      -user opens the app's Home tab (app_home_opened)
  transfer <member-id>      -user submits "Transfer Billing Role" choosing that member (sari)
  accept <transfer-id>      -user clicks Accept on a transfer request (decline: Decline)
  cancel <transfer-id>      -user clicks "Cancel request" on their confirmation
  file <event.json>         re-signs a stored sample (events/slack/*.json) now and posts its body

The worked example, as Dina then Sari:
  slack-request -secret S command "/billing transfer"
  slack-request -secret S transfer sari
  slack-request -secret S -user U0SARI accept tr_…   (the id the stand-in printed)

Flags (before the subcommand):
`

// subcommand is one of Main's subcommands.
type subcommand struct {
	args  string // what follows its name, for its usage line
	help  string
	nargs func(n int) bool
	build func(id Identity, args []string) (Request, error)
}

func exactly(k int) func(int) bool { return func(n int) bool { return n == k } }

var subcommands = map[string]subcommand{
	"command": {
		args: `/<command> [text]`,
		help: `Runs a slash command typed by -user in a channel of -team, e.g.
  slack-request command /billing status
  slack-request command "/billing transfer"   (opens the Transfer Billing Role dialog)
  slack-request -user U0SARI command /credit
The words after the command are its text; quote them or not. The answer is
what Slack shows the person (an ephemeral message).`,
		nargs: func(n int) bool { return n >= 1 },
		build: func(id Identity, args []string) (Request, error) { return Command(id, strings.Join(args, " ")) },
	},
	"home": {
		help: `Sends app_home_opened for -user: the app publishes their Home tab, "My
Credit" (the stand-in prints its first lines). The answer is empty.`,
		nargs: exactly(0),
		build: func(id Identity, _ []string) (Request, error) { return HomeOpened(id), nil },
	},
	"transfer": {
		args: "<member-id>",
		help: `Submits the "Transfer Billing Role" dialog (view_submission, callback
billing_transfer, private_metadata -org) as -user, choosing the member with
that id in the organization: the dialog's select offers member ids (sari,
ravi), not Slack user ids. Open the dialog first with
  slack-request command "/billing transfer"
to see (in the stand-in's output) whom it offers. An empty answer closes
the dialog; a refusal comes back as {"response_action":"errors",...}.`,
		nargs: exactly(1),
		build: func(id Identity, args []string) (Request, error) { return TransferSubmission(id, args[0]), nil },
	},
	"accept":  clickCommand("accept", "Accept", "the recipient of the transfer (Sari: -user U0SARI)"),
	"decline": clickCommand("decline", "Decline", "the recipient of the transfer (Sari: -user U0SARI)"),
	"cancel":  clickCommand("cancel", "Cancel request", "the Owner who asked for the transfer (Dina, the default -user)"),
	"file": {
		args: "<event.json>",
		help: `Re-signs a stored API Gateway event (events/slack/*.json) with a fresh
timestamp and this server's secret, and posts its raw body (base64-decoded
when isBase64Encoded) to its rawPath, e.g.
  slack-request file events/slack/command_billing_status.json
The samples are the demo's people (team T0ACME, Dina U0DINA, Sari U0SARI);
-team and -user do not change them.`,
		nargs: exactly(1),
		build: func(_ Identity, args []string) (Request, error) { return FromFile(args[0]) },
	},
}

func clickCommand(name, label, who string) subcommand {
	return subcommand{
		args: "<transfer-id>",
		help: fmt.Sprintf(`Clicks %q on a transfer's message (block_actions; the button's value
is "<org>|<transfer-id>") as -user, who must be
%s.
The transfer id is the one the stand-in printed with the button (tr_…);
the whole value "acme|tr_…" works too.`, label, who),
		nargs: exactly(1),
		build: func(id Identity, args []string) (Request, error) { return Click(id, name, args[0]) },
	}
}

// order is the subcommands in the usage's order.
var order = []string{"command", "home", "transfer", "accept", "decline", "cancel", "file"}

// Main runs the command line args (without the program's name), with the
// environment getenv, printing to stdout and stderr, and returns the exit
// code. client posts (http.DefaultClient when nil).
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, client *http.Client) int {
	fs := flag.NewFlagSet("slack-request", flag.ContinueOnError)
	fs.SetOutput(stderr)
	base := fs.String("url", DefaultURL, "the server's base URL (the local server's address)")
	secret := fs.String("secret", getenv("SLACK_SIGNING_SECRET"), "the signing secret (default $SLACK_SIGNING_SECRET; the local server prints it at start)")
	var id Identity
	fs.StringVar(&id.Team, "team", DefaultTeam, "Slack team id of the workspace")
	fs.StringVar(&id.User, "user", DefaultUser, "Slack user id of who types or clicks (U0DINA Dina, U0SARI Sari, U0RAVI Ravi)")
	fs.StringVar(&id.Org, "org", DefaultOrg, "the organization the dialog and the buttons name")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the answer")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return ExitUsage
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	sub, ok := subcommands[name]
	if !ok {
		fmt.Fprintf(stderr, "slack-request: unknown subcommand %q\n\n", name)
		fs.Usage()
		return ExitUsage
	}
	subUsage := func() {
		fmt.Fprintf(stderr, "usage: slack-request [flags] %s %s\n\n%s\n\nFlags go before %q; see slack-request -help.\n", name, sub.args, sub.help, name)
	}
	if len(rest) > 0 && isHelp(rest[0]) {
		subUsage()
		return ExitOK
	}
	// Its own flags are only -h and --help; a flag after the subcommand is
	// refused with its usage.
	sfs := flag.NewFlagSet(name, flag.ContinueOnError)
	sfs.SetOutput(stderr)
	sfs.Usage = subUsage
	if err := sfs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	rest = sfs.Args()
	if !sub.nargs(len(rest)) {
		fmt.Fprintf(stderr, "slack-request: %s: wrong number of arguments (%d)\n\n", name, len(rest))
		subUsage()
		return ExitUsage
	}
	if *secret == "" {
		fmt.Fprintln(stderr, "slack-request: no signing secret: pass -secret (the local server prints it at start, with ready-to-run lines) or set SLACK_SIGNING_SECRET")
		return ExitUsage
	}
	req, err := sub.build(id, rest)
	if err != nil {
		fmt.Fprintf(stderr, "slack-request: %s: %v\n", name, err)
		return ExitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	ans, err := Send(ctx, client, *base, *secret, req)
	if err != nil {
		fmt.Fprintf(stderr, "slack-request: POST %s%s: %v (is the local server running? go run ./functions/local)\n", strings.TrimSuffix(*base, "/"), req.Path, err)
		return ExitFailed
	}
	fmt.Fprintf(stdout, "POST %s → %d %s\n%s\n", req.Path, ans.Status, http.StatusText(ans.Status), ans.Pretty())
	if !ans.OK() {
		if ans.Status == http.StatusUnauthorized {
			fmt.Fprintln(stderr, "slack-request: refused: is -secret the local server's SLACK_SIGNING_SECRET (printed at its start)?")
		}
		return ExitFailed
	}
	return ExitOK
}

func isHelp(s string) bool {
	switch s {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

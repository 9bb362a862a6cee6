package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/orgcredit/orgcredit/internal/slackapp"
	"github.com/orgcredit/orgcredit/internal/slackinstall"
	"github.com/orgcredit/orgcredit/internal/slacksocket"
)

// Socket Mode: with SLACK_APP_TOKEN (an app-level xapp- token) the local
// server also connects to Slack over Socket Mode, so a developer's own
// workspace drives it without a public URL. The DEMO_SLACK_* variables tie
// the demo organization to that workspace and its people.

// The variables naming the demo's workspace and people in Slack.
const (
	envDemoTeam = "DEMO_SLACK_TEAM_ID"
	envDemoDina = "DEMO_SLACK_DINA"
	envDemoSari = "DEMO_SLACK_SARI"
	envDemoRavi = "DEMO_SLACK_RAVI"
)

// demoSlack is who the demo organization's people are in Slack.
type demoSlack struct {
	Team, Dina, Sari, Ravi string
	// Real is set when they were given (DEMO_SLACK_*), not the
	// placeholders.
	Real bool
}

// placeholderDemoSlack are the demo's made-up Slack ids, for the local
// Slack stand-in and signed requests: the same as the signed samples in
// events/slack and the Slack app's tests (team T0ACME).
var placeholderDemoSlack = demoSlack{Team: "T0ACME", Dina: "U0DINA", Sari: "U0SARI", Ravi: "U0RAVI"}

// demoSlackFromEnv reads DEMO_SLACK_*; without any, the placeholders. With
// them, Ravi has no Slack account unless DEMO_SLACK_RAVI names one, so he
// is never offered as a recipient who cannot be reached.
func demoSlackFromEnv(getenv func(string) string) demoSlack {
	d := demoSlack{Team: getenv(envDemoTeam), Dina: getenv(envDemoDina), Sari: getenv(envDemoSari), Ravi: getenv(envDemoRavi)}
	if d == (demoSlack{}) {
		return placeholderDemoSlack
	}
	d.Real = true
	return d
}

var (
	slackTeamID = regexp.MustCompile(`^T[A-Z0-9]{2,}$`)
	slackUserID = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
)

// check tells what is wrong with the given ids, in words that say where
// to find the right ones.
func (d demoSlack) check() error {
	if !d.Real {
		return nil
	}
	if d.Team == "" || d.Dina == "" || d.Sari == "" {
		return fmt.Errorf("set %s, %s and %s together (and %s if you like): the demo's workspace and the Slack users who play Dina and Sari",
			envDemoTeam, envDemoDina, envDemoSari, envDemoRavi)
	}
	if !slackTeamID.MatchString(d.Team) {
		return fmt.Errorf("%s=%q is not a Slack team id (T followed by capitals and digits, e.g. T01ABCDEF; it is in your workspace's URL app.slack.com/client/T…/)", envDemoTeam, d.Team)
	}
	seen := map[string]string{}
	for _, u := range []struct{ env, id string }{{envDemoDina, d.Dina}, {envDemoSari, d.Sari}, {envDemoRavi, d.Ravi}} {
		if u.id == "" {
			continue
		}
		if !slackUserID.MatchString(u.id) {
			return fmt.Errorf("%s=%q is not a Slack user id (U or W followed by capitals and digits, e.g. U01ABCDEF: a profile's ⋮ menu → Copy member ID)", u.env, u.id)
		}
		if other, dup := seen[u.id]; dup {
			return fmt.Errorf("%s and %s are the same Slack user %s: each demo person needs their own account", other, u.env, u.id)
		}
		seen[u.id] = u.env
	}
	return nil
}

// checkSlack refuses Slack settings that cannot work, with the fix.
func (c config) checkSlack() error {
	if err := c.DemoSlack.check(); err != nil {
		return err
	}
	if (c.SlackClientID == "") != (c.SlackClientSecret == "") {
		return errors.New("set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET together (the Slack app's Basic Information page), to install the app by OAuth")
	}
	if c.SlackAppToken == "" {
		return nil
	}
	if err := slacksocket.CheckAppToken(c.SlackAppToken); err != nil {
		return fmt.Errorf("SLACK_APP_TOKEN: %w", err)
	}
	if strings.HasPrefix(c.SlackBotToken, "xapp-") {
		return errors.New("SLACK_BOT_TOKEN holds an app-level token (xapp-): it takes the Bot User OAuth Token (xoxb-) from OAuth & Permissions; the app-level token goes in SLACK_APP_TOKEN")
	}
	return nil
}

// botTokenMissing tells that Socket Mode is on against Slack itself with
// no bot token and no installs by OAuth (whose installations carry the
// workspaces' tokens): requests arrive, but every Web API call is refused.
func (c config) botTokenMissing() bool {
	return c.SlackAppToken != "" && c.SlackBotToken == "" && c.SlackAPIURL == "" && !c.oauth()
}

// socketMode is the Socket Mode connection of the local server; nil when
// SLACK_APP_TOKEN is not set.
type socketMode struct {
	fatal   chan error    // receives the reason Socket Mode gave up
	stopped chan struct{} // closed when it has stopped
}

// startSocketMode connects to Slack over Socket Mode and serves app there
// until ctx is cancelled. Its Web API calls (apps.connections.open) go to
// SLACK_API_URL when set, as the app's do.
func startSocketMode(ctx context.Context, cfg config, app *slackapp.App) *socketMode {
	if cfg.SlackAppToken == "" {
		return nil
	}
	opts := []slack.Option{
		slack.OptionAppLevelToken(cfg.SlackAppToken),
		slack.OptionHTTPClient(&http.Client{Timeout: 10 * time.Second}),
	}
	if u := cfg.SlackAPIURL; u != "" {
		opts = append(opts, slack.OptionAPIURL(slackinstall.APIURL(u)))
	}
	srv := slacksocket.New(socketmode.New(slack.New(cfg.SlackBotToken, opts...)), app, slacksocket.WithLogger(slog.Default()))
	s := &socketMode{fatal: make(chan error, 1), stopped: make(chan struct{})}
	go func() {
		defer close(s.stopped)
		if err := srv.Run(ctx); err != nil {
			s.fatal <- fmt.Errorf("%w (SLACK_APP_TOKEN must be an app-level token of this app with the connections:write scope, and the app must have Socket Mode on: create it from `go run ./internal/slackapp/cmd/slack-manifest -socket-mode`)", err)
		}
	}()
	return s
}

// failed receives the reason Socket Mode gave up (never, when it is off).
func (s *socketMode) failed() <-chan error {
	if s == nil {
		return nil
	}
	return s.fatal
}

// wait waits for Socket Mode to stop after ctx is cancelled: the envelopes
// in flight are answered and acknowledged first.
func (s *socketMode) wait() {
	if s != nil {
		<-s.stopped
	}
}

// printSocketMode is the banner's Socket Mode part.
func printSocketMode(w io.Writer, cfg config) {
	if cfg.SlackAppToken == "" {
		fmt.Fprintln(w, "  Slack Socket Mode: off (set SLACK_APP_TOKEN, an app-level xapp- token, to serve your own workspace without a public URL)")
		return
	}
	fmt.Fprintln(w, "  Slack Socket Mode: ON (SLACK_APP_TOKEN): commands, clicks and App Home arrive over Slack's WebSocket; no public URL needed")
	if cfg.botTokenMissing() {
		fmt.Fprintln(w, "  WARNING: SLACK_BOT_TOKEN is not set: commands are answered, but nothing that calls Slack's Web API works")
		fmt.Fprintln(w, "           (the transfer dialog, direct messages, App Home). Set it to the app's Bot User OAuth Token (xoxb-).")
	}
}

// printDemoSlack is the banner's line on who the demo's people are in
// Slack.
func printDemoSlack(w io.Writer, d demoSlack) {
	ravi := d.Ravi
	if ravi == "" {
		ravi = "no Slack account (" + envDemoRavi + ")"
	}
	fmt.Fprintf(w, "In Slack: team %s; Dina is %s, Sari %s, Ravi %s.\n", d.Team, d.Dina, d.Sari, ravi)
	if !d.Real {
		fmt.Fprintf(w, "(Placeholders. To play the example in your own workspace, set %s, %s and %s to its team id and two real users' ids.)\n",
			envDemoTeam, envDemoDina, envDemoSari)
		return
	}
	fmt.Fprintln(w, "In Slack, as Dina: /billing transfer → choose Sari → Send Request; then as Sari: Accept in the app's direct message.")
}

// Command local serves every function's handler on one HTTP server, as
// API Gateway would: each net/http request becomes the same HTTP API
// (payload 2.0) event that AWS sends (see internal/apigw).
//
//	go run ./functions/local [-addr 127.0.0.1:8080] [-seed=false]
//
// Routes: /v1/... the agent API, /admin/... the admin API (bearer
// ADMIN_TOKEN), /slack/commands, /slack/interactions, /slack/events, and
// the install by OAuth, /slack/install and /slack/oauth_redirect.
//
// Environment: ADMIN_TOKEN and SLACK_SIGNING_SECRET (generated and
// printed when unset), SLACK_BOT_TOKEN, SLACK_API_URL (a local or fake
// Slack Web API, which also takes the install's code exchange),
// SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (installs by OAuth into any
// number of workspaces; the bot tokens are sealed with SLACK_LOCAL_KEY,
// generated and printed when unset; Slack sends installers back to
// SLACK_REDIRECT_URL, default this server's /slack/oauth_redirect),
// DYNAMODB_ENDPOINT (default: the embedded in-process back end, whose data
// lives as long as the process), TABLE_NAME, TRANSFER_TTL (how long a
// Billing transfer stays pending; default 168h).
// SLACK_APP_TOKEN (an app-level xapp- token) also serves Slack over Socket
// Mode, and DEMO_SLACK_TEAM_ID, DEMO_SLACK_DINA, DEMO_SLACK_SARI and
// DEMO_SLACK_RAVI tie the demo organization to a real workspace (socket.go).
//
// With none of SLACK_API_URL, SLACK_BOT_TOKEN, SLACK_CLIENT_ID and
// SLACK_APP_TOKEN, an in-process stand-in for Slack's Web API answers the
// app's calls and prints each one (standin.go); Slack's side is played
// with signed requests from go run ./internal/slackapp/cmd/slack-request,
// whose lines the banner prints.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/adminapi"
	"github.com/orgcredit/orgcredit/internal/agentapi"
	"github.com/orgcredit/orgcredit/internal/apigw"
	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/embedded"
	"github.com/orgcredit/orgcredit/internal/envelope"
	"github.com/orgcredit/orgcredit/internal/kmskeys"
	"github.com/orgcredit/orgcredit/internal/metrics"
	"github.com/orgcredit/orgcredit/internal/notify"
	"github.com/orgcredit/orgcredit/internal/slackapp"
	"github.com/orgcredit/orgcredit/internal/slackinstall"
)

// config is the local server's configuration, from flags and environment.
type config struct {
	Addr               string
	Seed               bool
	AdminToken         string
	SlackSigningSecret string
	SlackBotToken      string
	SlackAPIURL        string
	SlackClientID      string // installs by OAuth, with SlackClientSecret
	SlackClientSecret  string
	SlackRedirectURL   string    // default BaseURL + /slack/oauth_redirect
	SlackLocalKey      string    // seals the installations' bot tokens
	BaseURL            string    // where the server listens, once it does
	SlackAppToken      string    // Socket Mode (socket.go)
	DemoSlack          demoSlack // who the demo's people are in Slack
	DynamoDBEndpoint   string
	Table              string
	TransferTTL        time.Duration
	generated          []string // names of the values made up at start
	// standIn answers the app's Slack Web API calls in process when none
	// is configured (useStandIn); nil otherwise, and in tests that do
	// without.
	standIn *slackStandIn
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg := loadConfig()
	if err := cfg.checkSlack(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	db, err := startDB(cfg.DynamoDBEndpoint)
	if err != nil {
		return err
	}
	defer db.Close()
	client := db.Client()
	if err := dynamo.EnsureTable(ctx, client, cfg.Table); err != nil {
		return fmt.Errorf("prepare table %s: %w", cfg.Table, err)
	}
	storeOpts, err := dynamo.OptionsFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	store := dynamo.New(client, cfg.Table, storeOpts...)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	base := "http://" + ln.Addr().String()
	cfg.BaseURL = base

	var demo *demoOrg
	if cfg.Seed {
		if demo, err = seedDemoFor(ctx, store, cfg.DemoSlack); err != nil {
			ln.Close()
			return fmt.Errorf("seed the demo organization (start with -seed=false to skip it): %w", err)
		}
	}

	if cfg.useStandIn() {
		cfg.standIn = newSlackStandIn(os.Stderr, cfg.DemoSlack.Team, demoNames(demo), playCommand(cfg, base))
	}
	app, installer, err := newSlack(store, cfg)
	if err != nil {
		ln.Close()
		return err
	}
	socket := startSocketMode(ctx, cfg, app)
	totals := metrics.NewTotals()
	srv := &http.Server{Handler: routes(store, app, installer, cfg, totals), ReadHeaderTimeout: 10 * time.Second}
	printBanner(os.Stdout, cfg, base, demo)

	// There are no DynamoDB Streams or schedules locally: every write goes
	// through the recorder in front of the back end, which turns it into
	// the stream record DynamoDB would deliver, and the notifier follows
	// that stream and runs its schedule in process. Its messages go
	// through the app, to Slack or to the stand-in, which prints them.
	var notifySlack notify.Slack = app
	if !cfg.slackReachable() && cfg.standIn == nil {
		notifySlack = printedSlack{log: slog.Default()}
	}
	go notify.New(store, notifySlack, notify.WithLogger(slog.Default())).
		Follow(ctx, db.Feed(), notify.FollowOptions{Totals: totals})

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case err := <-socket.failed():
		return err
	case <-ctx.Done():
	}
	slog.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	socket.wait()
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// routes mounts every function's handler as API Gateway would route to it.
// It dispatches on the path exactly as sent: http.ServeMux would clean
// "//v1/usage" or "/admin/orgs/x/../y" and answer a 307 redirect in HTML,
// while API Gateway hands such paths to the function, whose router answers
// a 404 problem.
func routes(store *dynamo.Store, app *slackapp.App, installer *slackinstall.Installer, cfg config, totals *metrics.Totals) http.Handler {
	agent := apigw.HTTP(measured(totals, metrics.FunctionUsage, agentapi.New(store).Handle))
	admin := apigw.HTTP(measured(totals, metrics.FunctionAdmin, adminapi.New(store, adminapi.WithAdminToken(cfg.AdminToken)).Handle))
	slackHandler := apigw.HTTP(measured(totals, metrics.FunctionSlack, app.Handle))
	install := apigw.HTTP(slackinstall.Route(installer, nil))
	notFound := apigw.HTTP(func(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return apigw.NotFound(req), nil
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.EscapedPath(); {
		case strings.HasPrefix(p, "/v1/"):
			agent.ServeHTTP(w, r)
		case strings.HasPrefix(p, "/admin/"):
			admin.ServeHTTP(w, r)
		case p == slackapp.PathCommands, p == slackapp.PathInteractions, p == slackapp.PathEvents:
			slackHandler.ServeHTTP(w, r)
		case p == metricsPath && r.Method == http.MethodGet:
			serveTotals(w, totals)
		case p == slackapp.PathInstall, p == slackapp.PathOAuthRedirect:
			install.ServeHTTP(w, r)
		default:
			notFound.ServeHTTP(w, r)
		}
	})
}

func loadConfig() config {
	var cfg config
	flag.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	flag.BoolVar(&cfg.Seed, "seed", true, "create the demo organization (idempotent); -seed=false skips it")
	noSeed := flag.Bool("no-seed", false, "same as -seed=false")
	flag.Parse()
	if *noSeed {
		cfg.Seed = false
	}
	cfg.AdminToken = envOrGenerate(&cfg, "ADMIN_TOKEN")
	cfg.SlackSigningSecret = envOrGenerate(&cfg, "SLACK_SIGNING_SECRET")
	cfg.SlackBotToken = os.Getenv("SLACK_BOT_TOKEN")
	cfg.SlackAPIURL = os.Getenv("SLACK_API_URL")
	cfg.SlackClientID = os.Getenv("SLACK_CLIENT_ID")
	cfg.SlackClientSecret = os.Getenv("SLACK_CLIENT_SECRET")
	cfg.SlackRedirectURL = os.Getenv("SLACK_REDIRECT_URL")
	if cfg.SlackClientID != "" {
		cfg.SlackLocalKey = os.Getenv(kmskeys.EnvLocalKey)
		if cfg.SlackLocalKey == "" {
			cfg.SlackLocalKey = envelope.GenerateLocalKey()
			cfg.generated = append(cfg.generated, kmskeys.EnvLocalKey)
		}
	}
	cfg.SlackAppToken = os.Getenv("SLACK_APP_TOKEN")
	cfg.DemoSlack = demoSlackFromEnv(os.Getenv)
	cfg.DynamoDBEndpoint = os.Getenv("DYNAMODB_ENDPOINT")
	cfg.TransferTTL, _ = dynamo.TransferTTLFromEnv(os.Getenv) // checked again, with its error, when the store opens
	cfg.Table = os.Getenv("TABLE_NAME")
	if cfg.Table == "" {
		cfg.Table = dynamo.DefaultTableName
	}
	return cfg
}

// slackReachable tells whether a Slack Web API was configured: a fake one
// (SLACK_API_URL), or Slack itself with a real bot token or installs.
func (c config) slackReachable() bool {
	return c.SlackAPIURL != "" || c.SlackBotToken != "" || c.oauth()
}

// useStandIn tells whether the app's Slack Web API calls go to the
// in-process stand-in (standin.go): when nothing names a Slack to call or
// to be called from (SLACK_API_URL, SLACK_BOT_TOKEN, SLACK_CLIENT_ID,
// SLACK_APP_TOKEN).
func (c config) useStandIn() bool {
	return !c.slackReachable() && c.SlackAppToken == ""
}

// oauth tells whether workspaces are installed by OAuth.
func (c config) oauth() bool { return c.SlackClientID != "" }

// redirectURL is where Slack sends installers back.
func (c config) redirectURL() string {
	if c.SlackRedirectURL != "" || c.BaseURL == "" {
		return c.SlackRedirectURL
	}
	return c.BaseURL + slackapp.PathOAuthRedirect
}

// newSlack is the Slack app on the local store, and the install when
// SLACK_CLIENT_ID is set. Without SLACK_API_URL its Web API calls go to
// Slack itself, which needs a real bot token or installs. With none of
// them, to the stand-in when there is one (cfg.standIn), else through a
// tokenless client (Socket Mode without a bot token: the banner warns).
func newSlack(store *dynamo.Store, cfg config) (*slackapp.App, *slackinstall.Installer, error) {
	hc := &http.Client{Timeout: 10 * time.Second}
	var (
		workspaces slackapp.Workspaces
		installer  *slackinstall.Installer
	)
	if cfg.standIn != nil {
		workspaces = slackapp.OneWorkspace(cfg.standIn.Client())
	} else if cfg.SlackBotToken == "" && !cfg.oauth() {
		opts := []slack.Option{slack.OptionHTTPClient(hc)}
		if u := cfg.SlackAPIURL; u != "" {
			opts = append(opts, slack.OptionAPIURL(slackinstall.APIURL(u)))
		}
		workspaces = slackapp.OneWorkspace(slack.New("", opts...))
	} else {
		var keys envelope.KeyService
		if cfg.oauth() {
			k, err := envelope.ParseLocalKey(cfg.SlackLocalKey)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", kmskeys.EnvLocalKey, err)
			}
			keys = k
		}
		ws, inst, err := slackinstall.Setup(slackinstall.Config{
			BotToken: cfg.SlackBotToken, ClientID: cfg.SlackClientID, ClientSecret: cfg.SlackClientSecret,
			RedirectURL: cfg.redirectURL(), Store: store, Keys: keys, APIURL: cfg.SlackAPIURL, HTTPClient: hc, Logger: slog.Default(),
		})
		if err != nil {
			return nil, nil, fmt.Errorf("Slack: %w", err)
		}
		workspaces, installer = ws, inst
	}
	return slackapp.New(slackapp.Config{
		Store:         store,
		Workspaces:    workspaces,
		SigningSecret: cfg.SlackSigningSecret,
		AppID:         os.Getenv("SLACK_APP_ID"),
		InstallURL:    installer.InstallURL(),
		TransferTTL:   cfg.TransferTTL,
		Logger:        slog.Default(),
	}), installer, nil
}

// envOrGenerate reads a secret from the environment, or makes one up (and
// records that it did, so that the banner prints it).
func envOrGenerate(cfg *config, name string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	var b [24]byte
	_, _ = rand.Read(b[:])
	cfg.generated = append(cfg.generated, name)
	return hex.EncodeToString(b[:])
}

// startDB serves the embedded back end by default, or the given endpoint
// (DynamoDB Local, or any DynamoDB-compatible server), behind the recorder
// of the local change stream.
func startDB(endpoint string) (*embedded.Server, error) {
	if endpoint == "" {
		return embedded.StartRecorded(), nil
	}
	db, err := embedded.Proxy(endpoint)
	if err != nil {
		return nil, fmt.Errorf("DYNAMODB_ENDPOINT=%q: %w", endpoint, err)
	}
	return db, nil
}

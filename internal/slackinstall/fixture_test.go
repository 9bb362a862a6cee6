package slackinstall_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/dynamotest"
	"github.com/orgcredit/orgcredit/internal/envelope"
	"github.com/orgcredit/orgcredit/internal/slackapp"
	"github.com/orgcredit/orgcredit/internal/slackinstall"
	"github.com/orgcredit/orgcredit/internal/slacktestx"
)

// The store is what the install and the workspaces are wired to.
var _ slackinstall.FullStore = (*dynamo.Store)(nil)

const (
	clientID     = "1111.2222"
	clientSecret = "the-client-secret"
	redirectURL  = "https://orgcredit.example/slack/oauth_redirect"
	installURL   = "https://orgcredit.example/slack/install"
	appID        = "A0ORGCREDIT"
)

// logBuffer collects a test's log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// fixture is the install and the workspaces on the real store (DynamoDB
// Local under make test), the fake Slack, and local keys.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	clock *dynamotest.Clock
	store *dynamo.Store
	slack *slacktestx.Server
	keys  envelope.KeyService
	ws    *slackinstall.Workspaces
	inst  *slackinstall.Installer
	logs  *logBuffer
	log   *slog.Logger
}

type option func(*slackinstall.Config)

func withBotToken(token string) option { return func(c *slackinstall.Config) { c.BotToken = token } }

func newFixture(t *testing.T, opts ...option) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), logs: &logBuffer{}}
	f.clock = dynamotest.NewClock(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	f.store = dynamotest.NewStore(t, dynamo.WithClock(f.clock.Now))
	f.slack = slacktestx.New(t)
	f.slack.SetOAuthClient(clientID, clientSecret)
	keys, err := envelope.ParseLocalKey(envelope.GenerateLocalKey())
	if err != nil {
		t.Fatal(err)
	}
	f.keys = keys
	f.log = slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := slackinstall.Config{
		ClientID: clientID, ClientSecret: clientSecret, RedirectURL: redirectURL,
		Store: f.store, Keys: keys, APIURL: f.slack.GetAPIURL(), Logger: f.log, Now: f.clock.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	f.ws, f.inst, err = slackinstall.Setup(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// No bot token is ever logged, whatever the test did.
	t.Cleanup(func() {
		if strings.Contains(f.logs.String(), "xoxb-") {
			t.Errorf("a bot token is in the log:\n%s", f.logs.String())
		}
	})
	return f
}

// request is the API Gateway event of a browser's GET.
func request(path string, query url.Values, cookies ...string) events.APIGatewayV2HTTPRequest {
	req := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "GET " + path, RawPath: path, RawQueryString: query.Encode(), Cookies: cookies}
	if len(query) > 0 {
		req.QueryStringParameters = map[string]string{}
		for k := range query {
			req.QueryStringParameters[k] = query.Get(k)
		}
	}
	req.RequestContext.HTTP.Method = http.MethodGet
	req.RequestContext.HTTP.Path = path
	return req
}

func (f *fixture) serve(req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	f.t.Helper()
	resp, err := slackinstall.Route(f.inst, nil)(f.ctx, req)
	if err != nil {
		f.t.Fatalf("%s: %v", req.RawPath, err)
	}
	return resp
}

// start opens /slack/install and returns the state it sent to Slack and
// the cookie it set ("name=value", as the browser sends it back).
func (f *fixture) start() (state, cookie string) {
	f.t.Helper()
	resp := f.serve(request(slackapp.PathInstall, nil))
	if resp.StatusCode != http.StatusFound {
		f.t.Fatalf("GET /slack/install = %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Headers["Location"])
	if err != nil {
		f.t.Fatal(err)
	}
	state = loc.Query().Get("state")
	if len(resp.Cookies) != 1 {
		f.t.Fatalf("cookies set: %q, want the state's", resp.Cookies)
	}
	c, err := http.ParseSetCookie(resp.Cookies[0])
	if err != nil {
		f.t.Fatal(err)
	}
	return state, c.Name + "=" + c.Value
}

// finish is Slack's redirect of the browser back with query.
func (f *fixture) finish(query url.Values, cookies ...string) events.APIGatewayV2HTTPResponse {
	f.t.Helper()
	return f.serve(request(slackapp.PathOAuthRedirect, query, cookies...))
}

// grant is what Slack hands out for an install of team with token.
func grant(team, token string) slacktestx.Install {
	return slacktestx.Install{
		TeamID: team, TeamName: "Workspace " + team, AppID: appID, BotUserID: "U0BOT" + team[1:],
		BotToken: token, Scope: "commands,chat:write,im:write", InstallerUserID: "U0ADMIN" + team[1:],
		RedirectURI: redirectURL,
	}
}

// install runs a whole install of team with token, as an admin of that
// workspace would in a browser.
func (f *fixture) install(team, token string) events.APIGatewayV2HTTPResponse {
	f.t.Helper()
	code := "code-" + team + "-" + token
	f.slack.IssueCode(code, grant(team, token))
	state, cookie := f.start()
	resp := f.finish(url.Values{"code": {code}, "state": {state}}, cookie)
	if resp.StatusCode != http.StatusOK {
		f.t.Fatalf("install of %s = %d:\n%s", team, resp.StatusCode, resp.Body)
	}
	return resp
}

// tokenOf posts a message with team's client and returns the token the
// fake Slack saw.
func (f *fixture) tokenOf(team string) (string, error) {
	f.t.Helper()
	c, err := f.ws.Client(f.ctx, team)
	if err != nil {
		return "", err
	}
	if _, _, err := c.PostMessageContext(f.ctx, "C1", slack.MsgOptionText("hello", false)); err != nil {
		return "", err
	}
	calls := f.slack.Calls("chat.postMessage")
	return calls[len(calls)-1].Token, nil
}

func (f *fixture) installed(team string) (domain.Installation, bool) {
	f.t.Helper()
	in, err := f.store.GetInstallation(f.ctx, team)
	if domain.IsNotFound(err) {
		return in, false
	}
	if err != nil {
		f.t.Fatal(err)
	}
	return in, true
}

package slackinstall_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgcredit/orgcredit/internal/envelope"
	"github.com/orgcredit/orgcredit/internal/slackapp"
	"github.com/orgcredit/orgcredit/internal/slackinstall"
	"github.com/orgcredit/orgcredit/internal/slacktestx"
)

func TestInstallSendsTheBrowserToSlack(t *testing.T) {
	f := newFixture(t)
	resp := f.serve(request(slackapp.PathInstall, url.Values{"team": {"T0PICK"}}))
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want 302", resp.StatusCode)
	}
	loc, err := url.Parse(resp.Headers["Location"])
	if err != nil {
		t.Fatal(err)
	}
	scopes, _ := slackapp.BotScopes()
	q := loc.Query()
	if loc.Scheme+"://"+loc.Host+loc.Path != slackinstall.AuthorizeURL {
		t.Errorf("redirect to %s, want Slack's authorize page", loc)
	}
	for k, want := range map[string]string{
		"client_id": clientID, "scope": strings.Join(scopes, ","), "redirect_uri": redirectURL, "team": "T0PICK",
	} {
		if q.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, q.Get(k), want)
		}
	}
	if q.Get("state") == "" || q.Has("user_scope") {
		t.Errorf("state %q, user_scope %q: want a state and no user scopes", q.Get("state"), q.Get("user_scope"))
	}
	c, err := http.ParseSetCookie(resp.Cookies[0])
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != slackinstall.StateCookie || c.Value != q.Get("state") || !c.HttpOnly || !c.Secure ||
		c.SameSite != http.SameSiteLaxMode || c.Path != slackapp.PathOAuthRedirect || c.MaxAge != 600 {
		t.Errorf("cookie %q: want the state, HttpOnly, Secure, SameSite=Lax, Path=%s, Max-Age=600", resp.Cookies[0], slackapp.PathOAuthRedirect)
	}
	if resp.Headers["Cache-Control"] != "no-store" {
		t.Errorf("Cache-Control = %q", resp.Headers["Cache-Control"])
	}

	// A team that is not a team id is not passed on.
	resp = f.serve(request(slackapp.PathInstall, url.Values{"team": {"T0X&evil=1"}}))
	if loc, _ := url.Parse(resp.Headers["Location"]); loc.Query().Has("team") || loc.Query().Has("evil") {
		t.Errorf("a bad team was passed on: %s", loc)
	}
	// Only a browser's GET; a HEAD of the redirect does not use the state
	// up.
	post := request(slackapp.PathInstall, nil)
	post.RequestContext.HTTP.Method = http.MethodPost
	if resp := f.serve(post); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /slack/install = %d, want 405", resp.StatusCode)
	}
	f.slack.IssueCode("code", grant("T0ACME", "xoxb-acme"))
	state, cookie := f.start()
	head := request(slackapp.PathOAuthRedirect, url.Values{"code": {"code"}, "state": {state}}, cookie)
	head.RequestContext.HTTP.Method = http.MethodHead
	if resp := f.serve(head); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("HEAD /slack/oauth_redirect = %d, want 405", resp.StatusCode)
	}
	if resp := f.finish(url.Values{"code": {"code"}, "state": {state}}, cookie); resp.StatusCode != http.StatusOK {
		t.Errorf("the install after a HEAD = %d, want 200", resp.StatusCode)
	}
}

func TestInstall(t *testing.T) {
	f := newFixture(t)
	f.slack.IssueCode("code-1", grant("T0ACME", "xoxb-acme-1"))
	state, cookie := f.start()
	resp := f.finish(url.Values{"code": {"code-1"}, "state": {state}}, cookie)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d:\n%s", resp.StatusCode, resp.Body)
	}
	for _, want := range []string{"Org Credit is installed in Workspace T0ACME", "slack_team_id T0ACME",
		"--slack-team-id T0ACME", "--owner-slack-user-id U0ADMIN0ACME", "https://slack.com/app_redirect?app=" + appID + "&amp;team=T0ACME"} {
		if !strings.Contains(resp.Body, want) {
			t.Errorf("the page does not say %q:\n%s", want, resp.Body)
		}
	}
	if c, err := http.ParseSetCookie(resp.Cookies[0]); err != nil || c.Name != slackinstall.StateCookie || c.MaxAge >= 0 {
		t.Errorf("the state's cookie is not cleared: %q", resp.Cookies)
	}
	if resp.Headers["Referrer-Policy"] != "no-referrer" || !strings.Contains(resp.Headers["Content-Security-Policy"], "default-src 'none'") {
		t.Errorf("page headers %v", resp.Headers)
	}

	in, ok := f.installed("T0ACME")
	if !ok {
		t.Fatal("nothing stored")
	}
	if in.TeamName != "Workspace T0ACME" || in.AppID != appID || in.BotUserID != "U0BOT0ACME" || in.InstalledBy != "U0ADMIN0ACME" ||
		!slices.Equal(in.BotScopes, []string{"commands", "chat:write", "im:write"}) || !in.InstalledAt.Equal(f.clock.Now()) {
		t.Errorf("stored %+v", in)
	}
	// Sealed at rest, for this workspace only.
	if bytes.Contains(in.SealedBotToken, []byte("xoxb-")) {
		t.Error("the bot token is stored in clear")
	}
	sealer := envelope.New(f.keys)
	if tok, err := sealer.Open(f.ctx, in.SealedBotToken, map[string]string{"purpose": "slack-bot-token", "slack_team_id": "T0ACME"}); err != nil || string(tok) != "xoxb-acme-1" {
		t.Errorf("the sealed token opens as %q, %v", tok, err)
	}
	if _, err := sealer.Open(f.ctx, in.SealedBotToken, map[string]string{"purpose": "slack-bot-token", "slack_team_id": "T0OTHER"}); !errors.Is(err, envelope.ErrCannotOpen) {
		t.Errorf("the sealed token opens for another workspace: %v", err)
	}
	if tok, err := f.tokenOf("T0ACME"); err != nil || tok != "xoxb-acme-1" {
		t.Errorf("the workspace's calls use %q, %v; want its bot token", tok, err)
	}
	exchanges := f.slack.Calls("oauth.v2.access")
	if len(exchanges) != 1 || exchanges[0].Form.Get("redirect_uri") != redirectURL {
		t.Errorf("exchanges %+v", exchanges)
	}
}

// TestInstallRefusals: every way an install can go wrong answers a small
// page that says what to do, stores nothing, and shows no internal error.
func TestInstallRefusals(t *testing.T) {
	type setup struct {
		query   url.Values
		cookies []string
	}
	tests := []struct {
		name string
		// prepare returns Slack's redirect; f is a fresh fixture, with
		// code "code" issued for T0ACME.
		prepare   func(f *fixture) setup
		status    int
		title     string
		exchanged bool // whether the code reached Slack
	}{
		{"wrong state", func(f *fixture) setup {
			state, _ := f.start()
			bad := state[:len(state)-2] + flip(state[len(state)-2:])
			return setup{url.Values{"code": {"code"}, "state": {bad}}, []string{slackinstall.StateCookie + "=" + bad}}
		}, 400, "This install link is not valid", false},
		{"state of another deployment", func(f *fixture) setup {
			other, err := slackinstall.NewInstaller(slackinstall.InstallerConfig{ClientID: clientID, ClientSecret: "another secret",
				RedirectURL: redirectURL, Store: f.store, Sealer: envelope.New(f.keys), Now: f.clock.Now})
			if err != nil {
				f.t.Fatal(err)
			}
			resp, _ := other.Handle(f.ctx, request(slackapp.PathInstall, nil))
			loc, _ := url.Parse(resp.Headers["Location"])
			state := loc.Query().Get("state")
			return setup{url.Values{"code": {"code"}, "state": {state}}, []string{slackinstall.StateCookie + "=" + state}}
		}, 400, "This install link is not valid", false},
		{"no state", func(f *fixture) setup {
			_, cookie := f.start()
			return setup{url.Values{"code": {"code"}}, []string{cookie}}
		}, 400, "This install link is not valid", false},
		{"expired state", func(f *fixture) setup {
			state, cookie := f.start()
			f.clock.Advance(slackinstall.DefaultStateTTL + time.Second)
			return setup{url.Values{"code": {"code"}, "state": {state}}, []string{cookie}}
		}, 400, "This install link has expired", false},
		{"no cookie", func(f *fixture) setup {
			state, _ := f.start()
			return setup{url.Values{"code": {"code"}, "state": {state}}, nil}
		}, 400, "This install was started in another browser", false},
		{"cookie of another browser", func(f *fixture) setup {
			state, _ := f.start()
			_, theirs := f.start()
			return setup{url.Values{"code": {"code"}, "state": {state}}, []string{"other=1", theirs}}
		}, 400, "This install was started in another browser", false},
		{"state used twice", func(f *fixture) setup {
			state, cookie := f.start()
			if resp := f.finish(url.Values{"code": {"code"}, "state": {state}}, cookie); resp.StatusCode != 200 {
				f.t.Fatalf("first use: %d", resp.StatusCode)
			}
			f.removeInstallation("T0ACME")
			f.slack.IssueCode("code", grant("T0ACME", "xoxb-acme-again"))
			f.slack.Reset()
			return setup{url.Values{"code": {"code"}, "state": {state}}, []string{cookie}}
		}, 400, "This install link was already used", false},
		{"denied", func(f *fixture) setup {
			state, cookie := f.start()
			return setup{url.Values{"error": {"access_denied"}, "state": {state}}, []string{cookie}}
		}, 200, "Install cancelled", false},
		{"another error from Slack", func(f *fixture) setup {
			state, cookie := f.start()
			return setup{url.Values{"error": {"invalid_team_for_non_distributed_app"}, "state": {state}}, []string{cookie}}
		}, 400, "The install did not finish", false},
		{"no code", func(f *fixture) setup {
			state, cookie := f.start()
			return setup{url.Values{"state": {state}}, []string{cookie}}
		}, 400, "The install did not finish", false},
		{"failed exchange", func(f *fixture) setup {
			state, cookie := f.start()
			return setup{url.Values{"code": {"not-a-code"}, "state": {state}}, []string{cookie}}
		}, 502, "Slack did not confirm the install", true},
		{"exchange with the wrong client secret", func(f *fixture) setup {
			f.slack.SetOAuthClient(clientID, "rotated in Slack, not here")
			state, cookie := f.start()
			return setup{url.Values{"code": {"code"}, "state": {state}}, []string{cookie}}
		}, 502, "Slack did not confirm the install", true},
		{"org-wide install", func(f *fixture) setup {
			f.slack.IssueCode("code", func() (g slacktestx.Install) {
				g = grant("T0ACME", "xoxb-grid")
				g.TeamID, g.EnterpriseID, g.IsEnterpriseInstall = "", "E0GRID", true
				return g
			}())
			state, cookie := f.start()
			return setup{url.Values{"code": {"code"}, "state": {state}}, []string{cookie}}
		}, 400, "Org Credit cannot be installed this way", true},
		{"token rotation on", func(f *fixture) setup {
			g := grant("T0ACME", "xoxb-rotating")
			g.ExpiresIn = 43200
			f.slack.IssueCode("code", g)
			state, cookie := f.start()
			return setup{url.Values{"code": {"code"}, "state": {state}}, []string{cookie}}
		}, 400, "Org Credit cannot be installed this way", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.slack.IssueCode("code", grant("T0ACME", "xoxb-acme"))
			s := tt.prepare(f)
			resp := f.finish(s.query, s.cookies...)
			if resp.StatusCode != tt.status || !strings.Contains(resp.Body, "<h1>"+tt.title+"</h1>") {
				t.Errorf("answer %d %q, want %d with title %q", resp.StatusCode, resp.Body, tt.status, tt.title)
			}
			if !strings.HasPrefix(resp.Headers["Content-Type"], "text/html") || !strings.Contains(resp.Body, `href="`+installURL+`"`) {
				t.Errorf("want an HTML page with a link to start again:\n%s", resp.Body)
			}
			for _, internal := range []string{"invalid_code", "bad_client_secret", "err", "slack install", "xoxb-"} {
				if strings.Contains(resp.Body, internal) {
					t.Errorf("the page shows %q:\n%s", internal, resp.Body)
				}
			}
			if _, ok := f.installed("T0ACME"); ok {
				t.Error("an installation was stored")
			}
			if got := len(f.slack.Calls("oauth.v2.access")) > 0; got != tt.exchanged {
				t.Errorf("the code was exchanged: %v, want %v", got, tt.exchanged)
			}
			if c, err := http.ParseSetCookie(resp.Cookies[0]); err != nil || c.Name != slackinstall.StateCookie || c.MaxAge >= 0 {
				t.Errorf("the state's cookie is not cleared: %q", resp.Cookies)
			}
		})
	}
}

// flip changes a base64url string's characters.
func flip(s string) string {
	b := []byte(s)
	for i := range b {
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
	}
	return string(b)
}

func (f *fixture) removeInstallation(team string) {
	f.t.Helper()
	in, ok := f.installed(team)
	if !ok {
		return
	}
	if _, err := f.store.DeleteInstallation(f.ctx, team, in.InstalledAt); err != nil {
		f.t.Fatal(err)
	}
}

// TestInstallFailsToStore: Slack approved, but the token could not be
// sealed (KMS down): the person is told, and nothing is half-stored.
func TestInstallFailsToStore(t *testing.T) {
	f := newFixture(t)
	inst, err := slackinstall.NewInstaller(slackinstall.InstallerConfig{ClientID: clientID, ClientSecret: clientSecret,
		RedirectURL: redirectURL, APIURL: f.slack.GetAPIURL(), Store: f.store, Sealer: envelope.New(downKeys{}), Now: f.clock.Now, Logger: f.log})
	if err != nil {
		t.Fatal(err)
	}
	f.inst = inst
	f.slack.IssueCode("code", grant("T0ACME", "xoxb-acme"))
	state, cookie := f.start()
	resp := f.finish(url.Values{"code": {"code"}, "state": {state}}, cookie)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(resp.Body, "could not be stored") || strings.Contains(resp.Body, "KMS") {
		t.Errorf("answer %d:\n%s", resp.StatusCode, resp.Body)
	}
	if _, ok := f.installed("T0ACME"); ok {
		t.Error("an installation was stored")
	}
	if !strings.Contains(f.logs.String(), "KMSInternalException") {
		t.Errorf("the log does not say why:\n%s", f.logs.String())
	}
}

type downKeys struct{}

func (downKeys) GenerateDataKey(context.Context, map[string]string) ([]byte, []byte, error) {
	return nil, nil, errors.New("KMSInternalException")
}
func (downKeys) DecryptDataKey(context.Context, []byte, map[string]string) ([]byte, error) {
	return nil, errors.New("KMSInternalException")
}

// TestInstallPageEscapes: the workspace's name comes from Slack and is
// shown escaped.
func TestInstallPageEscapes(t *testing.T) {
	f := newFixture(t)
	g := grant("T0ACME", "xoxb-acme")
	g.TeamName = `<img src=x onerror="alert(1)"> & Co`
	f.slack.IssueCode("code", g)
	state, cookie := f.start()
	resp := f.finish(url.Values{"code": {"code"}, "state": {state}}, cookie)
	if strings.Contains(resp.Body, "<img") || !strings.Contains(resp.Body, "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; Co") {
		t.Errorf("the name is not escaped:\n%s", resp.Body)
	}
}

// TestReinstallReplacesTheToken: installing again stores the new token,
// and the workspace's calls use it at once in this instance.
func TestReinstallReplacesTheToken(t *testing.T) {
	f := newFixture(t)
	f.install("T0ACME", "xoxb-acme-1")
	if tok, err := f.tokenOf("T0ACME"); err != nil || tok != "xoxb-acme-1" {
		t.Fatalf("token %q, %v", tok, err)
	}
	f.clock.Advance(time.Minute)
	f.install("T0ACME", "xoxb-acme-2")
	if tok, err := f.tokenOf("T0ACME"); err != nil || tok != "xoxb-acme-2" {
		t.Errorf("after the re-install the calls use %q, %v; want the new token", tok, err)
	}
}

func TestInstallNotConfigured(t *testing.T) {
	var served bool
	next := func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		served = true
		return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
	}
	h := slackinstall.Route(nil, next)
	for _, p := range []string{slackapp.PathInstall, slackapp.PathOAuthRedirect} {
		resp, err := h(context.Background(), request(p, nil))
		if err != nil || resp.StatusCode != http.StatusNotFound || !strings.Contains(resp.Body, "Installs are not set up here") {
			t.Errorf("%s without an installer = %d %q, %v", p, resp.StatusCode, resp.Body, err)
		}
	}
	if served {
		t.Error("an install path reached the Slack app")
	}
	if _, err := h(context.Background(), request(slackapp.PathEvents, nil)); err != nil || !served {
		t.Errorf("other paths do not reach the Slack app: %v", err)
	}
}

func TestNewInstallerRefusesBadConfiguration(t *testing.T) {
	f := newFixture(t)
	good := slackinstall.InstallerConfig{ClientID: clientID, ClientSecret: clientSecret, RedirectURL: redirectURL, Store: f.store, Sealer: envelope.New(f.keys)}
	bad := map[string]func(c *slackinstall.InstallerConfig){
		"no client id":            func(c *slackinstall.InstallerConfig) { c.ClientID = "" },
		"no client secret":        func(c *slackinstall.InstallerConfig) { c.ClientSecret = "" },
		"no sealer":               func(c *slackinstall.InstallerConfig) { c.Sealer = nil },
		"relative redirect":       func(c *slackinstall.InstallerConfig) { c.RedirectURL = "/slack/oauth_redirect" },
		"redirect elsewhere":      func(c *slackinstall.InstallerConfig) { c.RedirectURL = "https://orgcredit.example/callback" },
		"redirect with a query":   func(c *slackinstall.InstallerConfig) { c.RedirectURL = redirectURL + "?x=1" },
		"redirect with no scheme": func(c *slackinstall.InstallerConfig) { c.RedirectURL = "orgcredit.example/slack/oauth_redirect" },
	}
	for name, change := range bad {
		c := good
		change(&c)
		if _, err := slackinstall.NewInstaller(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	inst, err := slackinstall.NewInstaller(good)
	if err != nil || inst.InstallURL() != installURL {
		t.Errorf("install URL %q, %v; want %s", inst.InstallURL(), err, installURL)
	}
}

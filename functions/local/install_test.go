package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/envelope"
	"github.com/orgcredit/orgcredit/internal/kmskeys"
	"github.com/orgcredit/orgcredit/internal/metrics"
	"github.com/orgcredit/orgcredit/internal/slackapp"
	"github.com/orgcredit/orgcredit/internal/slacktestx"
)

// TestLocalInstall drives a whole install through the local server over
// HTTP, as a browser would, with the fake Slack taking the code exchange
// (SLACK_API_URL): the state travels in a cookie the server sets, the
// installation is stored with its token sealed, and a second use of the
// same redirect is refused.
func TestLocalInstall(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	fake := slacktestx.New(t)
	fake.SetOAuthClient("1111.2222", "client-secret")

	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	defer srv.Close()
	cfg := config{AdminToken: "admin-secret", SlackSigningSecret: "signing-secret", SlackAPIURL: fake.GetAPIURL(),
		SlackClientID: "1111.2222", SlackClientSecret: "client-secret", SlackLocalKey: envelope.GenerateLocalKey(), BaseURL: srv.URL}
	app, installer, err := newSlack(st, cfg)
	if err != nil || installer == nil {
		t.Fatalf("newSlack = %v, installer %v", err, installer)
	}
	srv.Config.Handler = routes(st, app, installer, cfg, metrics.NewTotals())

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: noRedirects.CheckRedirect}
	get := func(u string) (*http.Response, string) {
		t.Helper()
		resp, err := browser.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	resp, _ := get(srv.URL + slackapp.PathInstall)
	installCookies := resp.Cookies()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || loc.Host != "slack.com" {
		t.Fatalf("GET /slack/install = %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	redirect := loc.Query().Get("redirect_uri")
	if redirect != srv.URL+slackapp.PathOAuthRedirect {
		t.Errorf("redirect_uri %q, want this server's", redirect)
	}
	// Over http the cookie cannot be Secure, or the browser would not
	// send it back.
	if c := resp.Header.Get("Set-Cookie"); strings.Contains(c, "Secure") || !strings.Contains(c, "HttpOnly") {
		t.Errorf("Set-Cookie %q", c)
	}

	// The admin approves on Slack's page; Slack sends the browser back.
	fake.IssueCode("the-code", slacktestx.Install{TeamID: "T0LOCAL", TeamName: "Local", AppID: "A0APP", BotUserID: "U0BOT",
		BotToken: "xoxb-local-1", Scope: "commands,chat:write,im:write", InstallerUserID: "U0ADMIN", RedirectURI: redirect})
	back := redirect + "?" + url.Values{"code": {"the-code"}, "state": {loc.Query().Get("state")}}.Encode()
	resp, body := get(back)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Org Credit is installed in Local") {
		t.Fatalf("redirect = %d:\n%s", resp.StatusCode, body)
	}
	in, err := st.GetInstallation(ctx, "T0LOCAL")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(in.SealedBotToken, []byte("xoxb-")) {
		t.Error("the bot token is stored in clear")
	}
	keys, _ := envelope.ParseLocalKey(cfg.SlackLocalKey)
	if tok, err := envelope.New(keys).Open(ctx, in.SealedBotToken, map[string]string{"purpose": "slack-bot-token", "slack_team_id": "T0LOCAL"}); err != nil || string(tok) != "xoxb-local-1" {
		t.Errorf("the sealed token opens as %q, %v", tok, err)
	}

	// The same redirect again (a reload, or a replay) is refused: as the
	// browser now sends it, without the cleared cookie, and even with the
	// cookie it had, by the state's single use.
	if resp, body := get(back); resp.StatusCode != http.StatusBadRequest || strings.Contains(body, "is installed") {
		t.Errorf("the redirect again = %d:\n%s", resp.StatusCode, body)
	}
	replay, _ := http.NewRequest(http.MethodGet, back, nil)
	for _, c := range installCookies {
		replay.AddCookie(c)
	}
	if len(installCookies) == 0 {
		t.Fatal("the install set no cookie")
	}
	if resp, err := noRedirects.Do(replay); err != nil {
		t.Fatal(err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "already used") {
			t.Errorf("the redirect replayed with the browser's cookie = %d:\n%s", resp.StatusCode, b)
		}
	}
	if n := len(fake.Calls("oauth.v2.access")); n != 1 {
		t.Errorf("%d code exchanges, want 1", n)
	}
	if _, err := st.GetInstallation(ctx, "T0OTHER"); !domain.IsNotFound(err) {
		t.Errorf("another workspace: %v", err)
	}
}

// TestLocalInstallNotConfigured: without a client id the install's paths
// say installs are not set up, and the rest is served as before.
func TestLocalInstallNotConfigured(t *testing.T) {
	st := newStore(t)
	cfg := config{AdminToken: "admin-secret", SlackSigningSecret: "signing-secret"}
	app, installer, err := newSlack(st, cfg)
	if err != nil || installer != nil {
		t.Fatalf("newSlack = %v, installer %v; want none", err, installer)
	}
	srv := httptest.NewServer(routes(st, app, installer, cfg, metrics.NewTotals()))
	defer srv.Close()
	for _, p := range []string{slackapp.PathInstall, slackapp.PathOAuthRedirect} {
		resp, err := noRedirects.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(b), "Installs are not set up here") {
			t.Errorf("GET %s = %d %s", p, resp.StatusCode, b)
		}
	}
}

func TestLocalConfigChecksOAuth(t *testing.T) {
	for _, c := range []config{
		{DemoSlack: placeholderDemoSlack, SlackClientID: "1111.2222"},
		{DemoSlack: placeholderDemoSlack, SlackClientSecret: "s"},
	} {
		if err := c.checkSlack(); err == nil || !strings.Contains(err.Error(), "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET together") {
			t.Errorf("checkSlack(%+v) = %v", c, err)
		}
	}
	var b bytes.Buffer
	printBanner(&b, config{AdminToken: "a", SlackClientID: "1111.2222", SlackLocalKey: "KEY", BaseURL: "http://127.0.0.1:8080",
		generated: []string{kmskeys.EnvLocalKey}}, "http://127.0.0.1:8080", nil)
	for _, want := range []string{"http://127.0.0.1:8080/slack/install", "back to http://127.0.0.1:8080/slack/oauth_redirect", "SLACK_LOCAL_KEY was not set; generated: KEY"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, b.String())
		}
	}
}

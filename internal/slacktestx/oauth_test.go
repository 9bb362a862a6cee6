package slacktestx_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/slacktestx"
)

// TestCallsRecordTheirToken: every call records the token it was made
// with, whether slack-go sent it as a form field or a bearer header.
func TestCallsRecordTheirToken(t *testing.T) {
	ctx := context.Background()
	s := slacktestx.New(t)
	a := slack.New("xoxb-team-a", slack.OptionAPIURL(s.GetAPIURL()))
	b := slack.New("xoxb-team-b", slack.OptionAPIURL(s.GetAPIURL()))
	if _, _, err := a.PostMessageContext(ctx, "C1", slack.MsgOptionText("hi", false)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: "U1",
		View: slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{section("home")}}}}); err != nil {
		t.Fatal(err)
	}
	calls := s.Calls()
	if len(calls) != 2 {
		t.Fatalf("%d calls, want 2", len(calls))
	}
	if calls[0].Method != "chat.postMessage" || calls[0].Token != "xoxb-team-a" {
		t.Errorf("form call recorded as %s with token %q, want chat.postMessage with xoxb-team-a", calls[0].Method, calls[0].Token)
	}
	if calls[1].Method != "views.publish" || calls[1].Token != "xoxb-team-b" {
		t.Errorf("JSON call recorded as %s with token %q, want views.publish with xoxb-team-b", calls[1].Method, calls[1].Token)
	}
	// As Slack, a call without a token is refused (and recorded).
	none := slack.New("", slack.OptionAPIURL(s.GetAPIURL()))
	if _, _, err := none.PostMessageContext(ctx, "C1", slack.MsgOptionText("hi", false)); err == nil || !strings.Contains(err.Error(), "not_authed") {
		t.Errorf("a call without a token: %v, want not_authed", err)
	}
	if calls := s.Calls(); len(calls) != 3 || calls[2].Token != "" {
		t.Errorf("the call without a token is not recorded as such: %+v", calls)
	}
}

func TestOAuthV2Access(t *testing.T) {
	ctx := context.Background()
	s := slacktestx.New(t)
	s.SetOAuthClient("111.222", "shh")
	install := slacktestx.Install{TeamID: "T0A", TeamName: "A & Co", AppID: "A0APP", BotUserID: "U0BOT",
		BotToken: "xoxb-a-1", Scope: "commands,chat:write", InstallerUserID: "U0ALICE",
		RedirectURI: "https://example.test/slack/oauth_redirect"}
	s.IssueCode("code-1", install)
	api := slack.OAuthOptionAPIURL(s.GetAPIURL())
	redirect := install.RedirectURI

	tests := []struct {
		name, id, secret, code, redirect string
		wantErr                          string
	}{
		{"wrong client id", "999", "shh", "code-1", redirect, "invalid_client_id"},
		{"wrong secret", "111.222", "nope", "code-1", redirect, "bad_client_secret"},
		{"unknown code", "111.222", "shh", "code-2", redirect, "invalid_code"},
		{"other redirect", "111.222", "shh", "code-1", "https://evil.test/cb", "bad_redirect_uri"},
		{"good", "111.222", "shh", "code-1", redirect, ""},
		{"used twice", "111.222", "shh", "code-1", redirect, "invalid_code"},
	}
	for _, tt := range tests {
		resp, err := slack.GetOAuthV2ResponseContext(ctx, http.DefaultClient, tt.id, tt.secret, tt.code, tt.redirect, api)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%s: err = %v, want %s", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if resp.AccessToken != "xoxb-a-1" || resp.TokenType != "bot" || resp.Team.ID != "T0A" || resp.Team.Name != "A & Co" ||
			resp.BotUserID != "U0BOT" || resp.AppID != "A0APP" || resp.AuthedUser.ID != "U0ALICE" ||
			resp.Scope != "commands,chat:write" || resp.IsEnterpriseInstall || resp.Enterprise.ID != "" {
			t.Errorf("%s: response %+v", tt.name, resp)
		}
	}

	// The issued token now answers auth.test with its team, until revoked.
	c := slack.New("xoxb-a-1", slack.OptionAPIURL(s.GetAPIURL()))
	at, err := c.AuthTestContext(ctx)
	if err != nil || at.TeamID != "T0A" || at.UserID != "U0BOT" {
		t.Fatalf("auth.test = %+v, %v; want team T0A, user U0BOT", at, err)
	}
	if _, err := slack.New("xoxb-unknown", slack.OptionAPIURL(s.GetAPIURL())).AuthTestContext(ctx); err == nil || !strings.Contains(err.Error(), "invalid_auth") {
		t.Errorf("auth.test with an unknown token: %v, want invalid_auth", err)
	}
	s.Revoke("xoxb-a-1")
	if _, err := c.AuthTestContext(ctx); err == nil || !strings.Contains(err.Error(), "token_revoked") {
		t.Errorf("auth.test after Revoke: %v, want token_revoked", err)
	}
	if _, _, err := c.PostMessageContext(ctx, "C1", slack.MsgOptionText("hi", false)); err == nil || !strings.Contains(err.Error(), "token_revoked") {
		t.Errorf("chat.postMessage after Revoke: %v, want token_revoked", err)
	}
}

// TestOAuthV2AccessEnterprise: a workspace of an Enterprise Grid
// organization comes with its enterprise; an org-wide install with no team.
func TestOAuthV2AccessEnterprise(t *testing.T) {
	ctx := context.Background()
	s := slacktestx.New(t)
	s.SetOAuthClient("id", "secret")
	s.IssueCode("grid", slacktestx.Install{TeamID: "T0G", EnterpriseID: "E0ORG", EnterpriseName: "Org", BotToken: "xoxb-g"})
	s.IssueCode("orgwide", slacktestx.Install{EnterpriseID: "E0ORG", IsEnterpriseInstall: true, BotToken: "xoxb-o"})
	api := slack.OAuthOptionAPIURL(s.GetAPIURL())
	g, err := slack.GetOAuthV2ResponseContext(ctx, http.DefaultClient, "id", "secret", "grid", "", api)
	if err != nil || g.Team.ID != "T0G" || g.Enterprise.ID != "E0ORG" || g.IsEnterpriseInstall {
		t.Errorf("grid workspace install = %+v, %v", g, err)
	}
	o, err := slack.GetOAuthV2ResponseContext(ctx, http.DefaultClient, "id", "secret", "orgwide", "", api)
	if err != nil || o.Team.ID != "" || o.Enterprise.ID != "E0ORG" || !o.IsEnterpriseInstall {
		t.Errorf("org-wide install = %+v, %v", o, err)
	}
}

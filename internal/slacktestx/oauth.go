package slacktestx

import (
	"net/http"
	"strings"
)

// Install is what Slack hands out, through oauth.v2.access, for one
// authorization code: the installation of the app in a workspace.
type Install struct {
	TeamID, TeamName             string
	EnterpriseID, EnterpriseName string // a workspace of an Enterprise Grid organization
	// IsEnterpriseInstall is an org-wide install: Slack then gives no team.
	IsEnterpriseInstall bool
	AppID               string
	BotUserID           string
	BotToken            string // xoxb-…
	Scope               string // the bot scopes granted, comma-separated
	InstallerUserID     string // authed_user.id: who installed it
	// RedirectURI, when set, is the redirect_uri the authorize request
	// named; the exchange must name the same one, as Slack requires.
	RedirectURI string
	// ExpiresIn is set by an app with token rotation on.
	ExpiresIn int
}

// tokenInfo is what auth.test answers for a token.
type tokenInfo struct {
	team, enterprise, user, app string
}

// oauthState is the server's OAuth app and the tokens it knows. It is
// guarded by Server.mu.
type oauthState struct {
	clientID, clientSecret string
	codes                  map[string]Install // unused codes
	tokens                 map[string]tokenInfo
	revoked                map[string]bool
}

func newOAuthState() oauthState {
	return oauthState{codes: map[string]Install{}, tokens: map[string]tokenInfo{}, revoked: map[string]bool{}}
}

// SetOAuthClient sets the app's client id and secret; oauth.v2.access
// refuses an exchange that names others.
func (s *Server) SetOAuthClient(id, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.clientID, s.oauth.clientSecret = id, secret
}

// IssueCode makes code exchangeable, once, for the installation in. It is
// what Slack does when a person approves the install on its authorize
// page and Slack redirects their browser back with ?code=…&state=….
func (s *Server) IssueCode(code string, in Install) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.codes[code] = in
}

// AddToken makes auth.test answer for token with its team (and bot user),
// as for a token installed outside the OAuth flow (SLACK_BOT_TOKEN).
func (s *Server) AddToken(token, teamID, botUserID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.tokens[token] = tokenInfo{team: teamID, user: botUserID}
}

// Revoke revokes token, as uninstalling the app does: every later call
// made with it is answered {"ok":false,"error":"token_revoked"}.
func (s *Server) Revoke(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.revoked[token] = true
}

func (s *Server) revoked(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return token != "" && s.oauth.revoked[token]
}

// callToken is the token a call carries: the bearer of its Authorization
// header or its token form field.
func callToken(r *http.Request, c Call) string {
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		return strings.TrimPrefix(h, "Bearer ")
	}
	return c.Form.Get("token")
}

// exchange answers oauth.v2.access as Slack does: the client's
// credentials (HTTP Basic or form fields) must be the app's, the code one
// issued and not yet used, and redirect_uri the one the authorize request
// named.
func (s *Server) exchange(r *http.Request, c Call) map[string]any {
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = c.Form.Get("client_id"), c.Form.Get("client_secret")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fail := func(code string) map[string]any { return map[string]any{"ok": false, "error": code} }
	switch {
	case s.oauth.clientID == "" || id != s.oauth.clientID:
		return fail("invalid_client_id")
	case secret != s.oauth.clientSecret:
		return fail("bad_client_secret")
	}
	code := c.Form.Get("code")
	in, ok := s.oauth.codes[code]
	if !ok {
		return fail("invalid_code")
	}
	if in.RedirectURI != "" && c.Form.Get("redirect_uri") != in.RedirectURI {
		return fail("bad_redirect_uri")
	}
	delete(s.oauth.codes, code) // a code is good for one exchange
	s.oauth.tokens[in.BotToken] = tokenInfo{team: in.TeamID, enterprise: in.EnterpriseID, user: in.BotUserID, app: in.AppID}
	delete(s.oauth.revoked, in.BotToken)

	var team, enterprise any // JSON null when absent, as Slack sends
	if in.TeamID != "" {
		team = map[string]any{"id": in.TeamID, "name": in.TeamName}
	}
	if in.EnterpriseID != "" {
		enterprise = map[string]any{"id": in.EnterpriseID, "name": in.EnterpriseName}
	}
	out := map[string]any{
		"ok": true, "access_token": in.BotToken, "token_type": "bot", "scope": in.Scope,
		"bot_user_id": in.BotUserID, "app_id": in.AppID, "team": team, "enterprise": enterprise,
		"is_enterprise_install": in.IsEnterpriseInstall,
		"authed_user":           map[string]any{"id": in.InstallerUserID},
	}
	if in.ExpiresIn > 0 {
		out["expires_in"] = in.ExpiresIn
		out["refresh_token"] = "xoxe-1-refresh"
	}
	return out
}

// authTest answers auth.test for the tokens the server knows (issued by
// an exchange or added with AddToken); any other is invalid_auth.
func (s *Server) authTest(c Call) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	info, ok := s.oauth.tokens[c.Token]
	if !ok {
		return map[string]any{"ok": false, "error": "invalid_auth"}
	}
	out := map[string]any{"ok": true, "url": "https://" + strings.ToLower(info.team) + ".slack.example/",
		"team": info.team, "team_id": info.team, "user_id": info.user, "bot_id": "B" + strings.TrimPrefix(info.user, "U")}
	if info.enterprise != "" {
		out["enterprise_id"] = info.enterprise
	}
	return out
}

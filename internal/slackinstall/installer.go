package slackinstall

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/apigw"
	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/slackapp"
)

// AuthorizeURL is Slack's OAuth v2 authorize page.
const AuthorizeURL = "https://slack.com/oauth/v2/authorize"

// InstallStore is what the install writes (*dynamo.Store): the
// installation, and the once-mark that makes a state single-use.
type InstallStore interface {
	SaveInstallation(ctx context.Context, in domain.Installation) error
	MarkOnce(ctx context.Context, key domain.OnceKey, ttl time.Duration) (bool, error)
}

// InstallerConfig configures the install.
type InstallerConfig struct {
	// ClientID and ClientSecret are the Slack app's (Basic Information).
	ClientID, ClientSecret string
	// RedirectURL is this deployment's GET /slack/oauth_redirect URL, one
	// of the app's redirect URLs (the manifest's
	// oauth_config.redirect_urls). Slack sends the installer's browser
	// back there; the install page is the same URL with /slack/install.
	RedirectURL string
	// Scopes are the bot scopes asked for; default the manifest's.
	Scopes []string
	// APIURL is Slack's Web API base URL, where the code is exchanged
	// (oauth.v2.access); default slack.APIURL. AuthorizeURL is Slack's
	// authorize page; default AuthorizeURL.
	APIURL, AuthorizeURL string
	HTTPClient           *http.Client
	Store                InstallStore
	Sealer               Sealer
	// Workspaces, when set, forgets a workspace's cached client as soon
	// as it is installed again.
	Workspaces *Workspaces
	// StateTTL is how long an install may take (default DefaultStateTTL).
	StateTTL time.Duration
	Now      func() time.Time
	Logger   *slog.Logger
}

// Installer serves the install: GET /slack/install and GET
// /slack/oauth_redirect.
type Installer struct {
	cfg        InstallerConfig
	key        []byte
	installURL string
	cookiePath string
	secure     bool
}

// NewInstaller checks the configuration and makes the installer.
func NewInstaller(cfg InstallerConfig) (*Installer, error) {
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("slackinstall: the install needs the Slack app's client id and client secret")
	}
	if cfg.Store == nil || cfg.Sealer == nil {
		return nil, errors.New("slackinstall: the install needs a store and a sealer for the bot tokens")
	}
	u, err := url.Parse(cfg.RedirectURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" ||
		!strings.HasSuffix(u.Path, slackapp.PathOAuthRedirect) {
		return nil, fmt.Errorf("slackinstall: redirect URL %q must be an absolute URL ending in %s, like https://abc123.execute-api.eu-west-1.amazonaws.com%s",
			cfg.RedirectURL, slackapp.PathOAuthRedirect, slackapp.PathOAuthRedirect)
	}
	if len(cfg.Scopes) == 0 {
		if cfg.Scopes, err = slackapp.BotScopes(); err != nil {
			return nil, err
		}
	}
	cfg.APIURL = APIURL(cfg.APIURL)
	if cfg.AuthorizeURL == "" {
		cfg.AuthorizeURL = AuthorizeURL
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.StateTTL <= 0 {
		cfg.StateTTL = DefaultStateTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	install := *u
	install.Path = strings.TrimSuffix(u.Path, slackapp.PathOAuthRedirect) + slackapp.PathInstall
	return &Installer{
		cfg: cfg, key: stateKey(cfg.ClientSecret), installURL: install.String(),
		cookiePath: u.Path, secure: u.Scheme == "https",
	}, nil
}

// InstallURL is where a browser starts an install; empty for no installer
// (no installs by OAuth).
func (i *Installer) InstallURL() string {
	if i == nil {
		return ""
	}
	return i.installURL
}

// Route serves the install's paths with inst and every other request with
// next (the Slack app's Handle). Without an installer (no client id and
// secret configured) the install's paths answer a page that says so.
func Route(inst *Installer, next apigw.Handler) apigw.Handler {
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		switch requestPath(req) {
		case slackapp.PathInstall, slackapp.PathOAuthRedirect:
			if inst == nil {
				return page{Status: http.StatusNotFound, Title: "Installs are not set up here",
					Paragraphs: []string{"This deployment of Org Credit serves one Slack workspace with a configured bot token; " +
						"it has no Slack client id and secret to install into other workspaces."}}.response(), nil
			}
			return inst.Handle(ctx, req)
		}
		if next == nil {
			return page{Status: http.StatusNotFound, Title: "Not found"}.response(), nil
		}
		return next(ctx, req)
	}
}

func requestPath(req events.APIGatewayV2HTTPRequest) string {
	p := req.RawPath
	if p == "" {
		p = req.RequestContext.HTTP.Path
	}
	return strings.TrimSuffix(p, "/")
}

// Handle answers GET /slack/install and GET /slack/oauth_redirect.
func (i *Installer) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if m := req.RequestContext.HTTP.Method; m != "" && m != http.MethodGet && m != http.MethodHead {
		resp := page{Status: http.StatusMethodNotAllowed, Title: "Open this page in a browser"}.response()
		resp.Headers["Allow"] = "GET, HEAD"
		return resp, nil
	}
	switch requestPath(req) {
	case slackapp.PathInstall:
		return i.install(ctx, req), nil
	case slackapp.PathOAuthRedirect:
		// Only the browser's GET finishes an install: a HEAD (a link
		// checker, a prefetch) must not use up the state.
		if req.RequestContext.HTTP.Method == http.MethodHead {
			resp := page{Status: http.StatusMethodNotAllowed, Title: "Open this page in a browser"}.response()
			resp.Headers["Allow"] = "GET"
			return resp, nil
		}
		return i.redirect(ctx, req), nil
	}
	return page{Status: http.StatusNotFound, Title: "Not found"}.response(), nil
}

var teamParam = regexp.MustCompile(`^T[A-Z0-9]{1,31}$`)

// install sends the browser to Slack's authorize page with a fresh state,
// which it also keeps in a cookie.
func (i *Installer) install(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	state, err := newState(i.key, i.cfg.Now().Add(i.cfg.StateTTL))
	if err != nil {
		i.cfg.Logger.ErrorContext(ctx, "slack install: make a state", "err", err)
		return page{Status: http.StatusInternalServerError, Title: "Something went wrong on our side",
			Paragraphs: []string{"Please try again in a moment."}, Link: startOver(i.installURL)}.response()
	}
	q := url.Values{
		"client_id":    {i.cfg.ClientID},
		"scope":        {strings.Join(i.cfg.Scopes, ",")},
		"redirect_uri": {i.cfg.RedirectURL},
		"state":        {state},
	}
	// ?team=T… preselects the workspace on Slack's page.
	if t := req.QueryStringParameters["team"]; teamParam.MatchString(t) {
		q.Set("team", t)
	}
	target := i.cfg.AuthorizeURL + "?" + q.Encode()
	cookie := (&http.Cookie{
		Name: StateCookie, Value: state, Path: i.cookiePath,
		MaxAge: int(i.cfg.StateTTL.Seconds()), HttpOnly: true, Secure: i.secure, SameSite: http.SameSiteLaxMode,
	}).String()
	resp := page{Status: http.StatusFound, Title: "Continue in Slack",
		Link: &link{URL: target, Text: "Add Org Credit to your Slack workspace"}}.response(cookie)
	resp.Headers["Location"] = target
	return resp
}

// exchangeTimeout bounds the code exchange with Slack.
const exchangeTimeout = 8 * time.Second

// redirect finishes an install: the state is checked, the code exchanged
// for the workspace's bot token, and the installation stored. Whatever
// happens, the state's cookie is cleared.
func (i *Installer) redirect(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	log := i.cfg.Logger
	clearCookie := (&http.Cookie{Name: StateCookie, Value: "", Path: i.cookiePath, MaxAge: -1,
		HttpOnly: true, Secure: i.secure, SameSite: http.SameSiteLaxMode}).String()
	refuse := func(status int, title string, paragraphs ...string) events.APIGatewayV2HTTPResponse {
		return page{Status: status, Title: title, Paragraphs: paragraphs, Link: startOver(i.installURL)}.response(clearCookie)
	}
	q := req.QueryStringParameters

	if e := q["error"]; e != "" {
		log.InfoContext(ctx, "slack install: Slack reports the install was not approved", "error", e)
		if e == "access_denied" {
			return refuse(http.StatusOK, "Install cancelled",
				"Org Credit was not added to the workspace: the install was cancelled on Slack's page. Nothing was stored.")
		}
		return refuse(http.StatusBadRequest, "The install did not finish",
			"Slack did not complete the install, and nothing was stored. Please start again.")
	}

	state := q["state"]
	nonce, err := parseState(i.key, state, i.cfg.Now())
	if err == nil {
		err = i.checkCookie(req, state)
	}
	if err != nil {
		log.WarnContext(ctx, "slack install: state refused", "reason", err.Error())
		switch {
		case errors.Is(err, errStateExpired):
			return refuse(http.StatusBadRequest, "This install link has expired",
				fmt.Sprintf("An install has to finish within %s of starting it. Nothing was stored; please start again.", minutes(i.cfg.StateTTL)))
		case errors.Is(err, errStateNoCookie), errors.Is(err, errStateOtherUser):
			return refuse(http.StatusBadRequest, "This install was started in another browser",
				"Finish the install in the browser where you started it, with cookies allowed for this site. Nothing was stored.")
		default:
			return refuse(http.StatusBadRequest, "This install link is not valid",
				"It was not made by this Org Credit deployment, or it was changed. Nothing was stored; please start again.")
		}
	}
	first, err := i.cfg.Store.MarkOnce(ctx, domain.NewOnceKey("slack-oauth-state", nonce), i.cfg.StateTTL+time.Hour)
	if err != nil {
		log.ErrorContext(ctx, "slack install: claim the state", "err", err)
		return refuse(http.StatusServiceUnavailable, "Something went wrong on our side",
			"Nothing was stored. Please start again in a moment.")
	}
	if !first {
		log.WarnContext(ctx, "slack install: state refused", "reason", errStateUsed.Error())
		return refuse(http.StatusBadRequest, "This install link was already used",
			"Each install link works once. If the install did not finish, start again.")
	}
	code := q["code"]
	if code == "" {
		log.WarnContext(ctx, "slack install: no code in Slack's redirect")
		return refuse(http.StatusBadRequest, "The install did not finish",
			"Slack sent no authorization code, and nothing was stored. Please start again.")
	}

	xctx, cancel := context.WithTimeout(ctx, exchangeTimeout)
	defer cancel()
	resp, err := slack.GetOAuthV2ResponseContext(xctx, i.cfg.HTTPClient, i.cfg.ClientID, i.cfg.ClientSecret, code,
		i.cfg.RedirectURL, slack.OAuthOptionAPIURL(i.cfg.APIURL))
	if err != nil {
		log.ErrorContext(ctx, "slack install: oauth.v2.access failed", "err", err)
		return refuse(http.StatusBadGateway, "Slack did not confirm the install",
			"Nothing was stored. Please start again; if it keeps failing, tell whoever runs Org Credit.")
	}
	in, problem := installationOf(resp, i.cfg.Now())
	if problem != "" {
		log.ErrorContext(ctx, "slack install: refused Slack's answer", "reason", problem, "team", resp.Team.ID,
			"enterprise", resp.Enterprise.ID, "enterprise_install", resp.IsEnterpriseInstall, "token_type", resp.TokenType)
		return refuse(http.StatusBadRequest, "Org Credit cannot be installed this way", problem+" Nothing was stored.")
	}
	in.SealedBotToken, err = i.cfg.Sealer.Seal(xctx, []byte(resp.AccessToken), binding(in.TeamID))
	if err == nil {
		err = i.cfg.Store.SaveInstallation(xctx, in)
	}
	if err != nil {
		log.ErrorContext(ctx, "slack install: store the installation", "team", in.TeamID, "err", err)
		return refuse(http.StatusServiceUnavailable, "Something went wrong on our side",
			"Slack approved the install, but it could not be stored. Please start again in a moment.")
	}
	if i.cfg.Workspaces != nil {
		i.cfg.Workspaces.Forget(in.TeamID)
	}
	log.InfoContext(ctx, "slack install: installation stored", "team", in.TeamID, "enterprise", in.EnterpriseID,
		"app", in.AppID, "bot_user", in.BotUserID, "installed_by", in.InstalledBy, "scopes", strings.Join(in.BotScopes, ","))
	return installedPage(in).response(clearCookie)
}

// checkCookie compares the state with the browser's cookie.
func (i *Installer) checkCookie(req events.APIGatewayV2HTTPRequest, state string) error {
	var found bool
	for _, c := range req.Cookies {
		name, value, ok := strings.Cut(c, "=")
		if !ok || strings.TrimSpace(name) != StateCookie {
			continue
		}
		found = true
		if sameState(state, strings.TrimSpace(value)) {
			return nil
		}
	}
	if !found {
		return errStateNoCookie
	}
	return errStateOtherUser
}

// installationOf reads Slack's answer into the installation to store, or
// says, for the person installing, why it cannot be.
func installationOf(r *slack.OAuthV2Response, now time.Time) (domain.Installation, string) {
	switch {
	case r.IsEnterpriseInstall || r.Team.ID == "":
		return domain.Installation{}, "Org Credit is installed workspace by workspace, not for a whole Enterprise Grid organization at once: install it from each workspace."
	case r.TokenType != "bot" || !strings.HasPrefix(r.AccessToken, "xoxb-"):
		return domain.Installation{}, "Slack did not give Org Credit a bot token."
	case r.ExpiresIn > 0 || r.RefreshToken != "":
		return domain.Installation{}, "The Slack app has token rotation turned on, which Org Credit does not support: turn it off in the app's settings (token_rotation_enabled: false in the manifest) and install again."
	}
	var scopes []string
	for s := range strings.SplitSeq(r.Scope, ",") {
		if s = strings.TrimSpace(s); s != "" {
			scopes = append(scopes, s)
		}
	}
	in := domain.Installation{
		TeamID: r.Team.ID, TeamName: r.Team.Name, EnterpriseID: r.Enterprise.ID, EnterpriseName: r.Enterprise.Name,
		AppID: r.AppID, BotUserID: r.BotUserID, BotScopes: scopes, InstalledBy: r.AuthedUser.ID, InstalledAt: now,
	}
	// Validate what the store will check, with the token to seal stood in.
	check := in
	check.SealedBotToken = []byte{0}
	if err := check.Validate(); err != nil {
		return domain.Installation{}, "Slack's answer did not describe a workspace Org Credit can serve."
	}
	return in, ""
}

// installedPage tells the installer what happened and what comes next.
func installedPage(in domain.Installation) page {
	name := in.TeamName
	if name == "" {
		name = in.TeamID
	}
	p := page{
		Status: http.StatusOK,
		Title:  "Org Credit is installed in " + name,
		Paragraphs: []string{
			fmt.Sprintf("Slack workspace %s (id %s) now has Org Credit. Its bot token is stored encrypted; nobody needs to copy it anywhere. If Org Credit was installed here before, this install replaces it.", name, in.TeamID),
			"What comes next:",
		},
		Steps: []string{
			fmt.Sprintf("Your organization is tied to this workspace by the workspace's id, %s. Whoever operates Org Credit creates the organization with slack_team_id %s (the admin API's POST /admin/orgs, or the orgcredit-admin command below), and adds its members with their Slack user ids.", in.TeamID, in.TeamID),
			fmt.Sprintf("If you are to hold the Billing role, give them your Slack user id, %s, as the owner's.", in.InstalledBy),
			"Then open Org Credit in Slack: its Home tab is My Credit, and /billing help lists what you can do.",
		},
	}
	owner := in.InstalledBy
	if owner == "" {
		p.Steps = append(p.Steps[:1], p.Steps[2:]...)
		owner = "<slack-user-id>"
	}
	p.Command = fmt.Sprintf("orgcredit-admin orgs create --id <org-id> --name <name> --slack-team-id %s --owner-id <member-id> --owner-name <name> --owner-slack-user-id %s", in.TeamID, owner)
	if in.AppID != "" {
		p.Link = &link{URL: "https://slack.com/app_redirect?" + url.Values{"app": {in.AppID}, "team": {in.TeamID}}.Encode(), Text: "Open Org Credit in Slack"}
	}
	return p
}

func minutes(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	if m == 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", m)
}

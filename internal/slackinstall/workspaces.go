// Package slackinstall lets one deployment serve many Slack workspaces: the
// OAuth v2 install (GET /slack/install sends the browser to Slack's
// authorize page, GET /slack/oauth_redirect exchanges the code and stores
// the workspace's installation), and Workspaces, slackapp's source of each
// workspace's Web API client, backed by those installations.
//
// Bot tokens are stored sealed (internal/envelope: a data key per token
// from AWS KMS in AWS, a local key otherwise), bound to their workspace's
// team id, and are opened only when a workspace's client is built.
package slackinstall

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/envelope"
	"github.com/orgcredit/orgcredit/internal/slackapp"
)

// Store is what the installations need from the store (*dynamo.Store).
type Store interface {
	SaveInstallation(ctx context.Context, in domain.Installation) error
	GetInstallation(ctx context.Context, teamID string) (domain.Installation, error)
	DeleteInstallation(ctx context.Context, teamID string, installedAt time.Time) (bool, error)
}

// Sealer seals bot tokens for storage and opens them (*envelope.Sealer).
type Sealer interface {
	Seal(ctx context.Context, secret []byte, binding map[string]string) ([]byte, error)
	Open(ctx context.Context, sealed []byte, binding map[string]string) ([]byte, error)
}

// What a workspace's sealed bot token is bound to: the KMS encryption
// context (which the stack's key grants are conditioned on) and the
// AES-GCM additional data, {"purpose": "slack-bot-token", "slack_team_id":
// <team>}. A token sealed for one workspace does not open as another's.
const (
	BindingPurposeKey = "purpose"
	BindingPurpose    = "slack-bot-token"
	BindingTeamKey    = "slack_team_id"
)

func binding(teamID string) map[string]string {
	return map[string]string{BindingPurposeKey: BindingPurpose, BindingTeamKey: teamID}
}

// How long a workspace's client is cached in one function instance.
//
// A token is looked up in the table and opened (one read, one KMS
// Decrypt) when a workspace's client is first needed, then reused for
// CacheTTL: a Slack request makes several Web API calls, and one instance
// serves a workspace's people for minutes at a time. What the cache can
// hide from this instance: an uninstall or re-install handled by another
// instance. Neither is a risk: Slack refuses a revoked token, and such a
// refusal (token_revoked, invalid_auth, account_inactive) drops the entry
// at once, so the next call reads the table again; the event handled here
// (Uninstall) and an install finished here (Forget) drop it at once too.
// Five minutes bounds the rest (a re-install with other scopes) and keeps
// the lookups at about one read and one Decrypt per workspace, instance
// and five minutes.
//
// A workspace without an installation is remembered for NotInstalledTTL,
// so a burst of alerts for a workspace that has gone costs one read.
const (
	CacheTTL        = 5 * time.Minute
	NotInstalledTTL = time.Minute
)

// APIURL is the Slack Web API base URL u as slack-go takes it (it appends
// method names): Slack's own when u is empty, with a trailing slash.
func APIURL(u string) string {
	if u == "" {
		return slack.APIURL
	}
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}

// WorkspacesConfig configures Workspaces.
type WorkspacesConfig struct {
	// Store and Sealer keep the installations. Without a Sealer there are
	// none: BotToken serves every workspace (the single-token
	// configuration).
	Store  Store
	Sealer Sealer
	// BotToken is the single-token configuration (SLACK_BOT_TOKEN): the
	// bot token of the one workspace the app was installed in by hand.
	// Without installations it serves every request, as
	// slackapp.OneWorkspace does. With them it is the first installation:
	// it serves its own workspace (found with auth.test when first
	// needed) until an install by OAuth stores one for that workspace,
	// and the installations serve the others.
	BotToken string
	// APIURL is Slack's Web API base URL (a fake Slack's, locally);
	// default slack.APIURL.
	APIURL string
	// HTTPClient makes the Web API calls (timeouts); default a client
	// with a 10-second timeout.
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
}

// Workspaces gives each workspace's Web API client, with its own bot
// token. It implements slackapp.Workspaces and slackapp.Uninstaller.
type Workspaces struct {
	store  Store
	sealer Sealer
	apiURL string
	hc     *http.Client
	log    *slog.Logger
	now    func() time.Time

	static *slack.Client // the single-token configuration's client, or nil

	mu         sync.Mutex
	cache      map[string]entry
	gen        uint64
	staticTeam string               // found with auth.test; "" until then
	staticTry  time.Time            // when auth.test last failed
	staticDead bool                 // Slack refused the single token
	dead       map[string]time.Time // installations whose token Slack refused, by installed_at
}

// entry is a cached answer for one workspace: its client, or that it has
// none (client nil).
type entry struct {
	client      *slack.Client
	installedAt time.Time // of the installation it was built from; zero for the single token
	expires     time.Time
}

var (
	_ slackapp.Workspaces  = (*Workspaces)(nil)
	_ slackapp.Uninstaller = (*Workspaces)(nil)
)

// NewWorkspaces makes the workspaces.
func NewWorkspaces(cfg WorkspacesConfig) (*Workspaces, error) {
	if cfg.Sealer == nil && cfg.BotToken == "" {
		return nil, errors.New("slackinstall: neither a bot token nor installations (a sealer and store): no workspace could be served")
	}
	if cfg.Sealer != nil && cfg.Store == nil {
		return nil, errors.New("slackinstall: installations need a store")
	}
	w := &Workspaces{
		store: cfg.Store, sealer: cfg.Sealer, apiURL: cfg.APIURL, hc: cfg.HTTPClient, log: cfg.Logger, now: cfg.Now,
		cache: map[string]entry{}, dead: map[string]time.Time{},
	}
	w.apiURL = APIURL(w.apiURL)
	if w.hc == nil {
		w.hc = &http.Client{Timeout: 10 * time.Second}
	}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	if w.now == nil {
		w.now = time.Now
	}
	if cfg.BotToken != "" {
		w.static = w.newClient("", cfg.BotToken, time.Time{})
	}
	return w, nil
}

// installations reports whether workspaces are installed by OAuth.
func (w *Workspaces) installations() bool { return w.sealer != nil }

// Client implements slackapp.Workspaces: the client of teamID's
// installation. A workspace without one is slackapp.ErrNotInstalled,
// logged (once per NotInstalledTTL and instance); it is never served with
// another workspace's token. With an
// error the client returned has no token at all, so a caller that ignores
// the error fails at Slack (not_authed) rather than on a nil client.
func (w *Workspaces) Client(ctx context.Context, teamID string) (*slack.Client, error) {
	if !w.installations() {
		// One workspace, one token, as slackapp.OneWorkspace.
		w.mu.Lock()
		dead := w.staticDead
		w.mu.Unlock()
		if dead {
			return w.noToken(), fmt.Errorf("%w: Slack refused the configured bot token (revoked, or the app was uninstalled); put a new one in the Slack secret", slackapp.ErrNotInstalled)
		}
		return w.static, nil
	}
	if teamID == "" {
		w.log.ErrorContext(ctx, "slack: a Web API call named no workspace; refused (it must name the team it concerns)")
		return w.noToken(), fmt.Errorf("%w: no workspace named", slackapp.ErrNotInstalled)
	}
	now := w.now()
	w.mu.Lock()
	e, ok := w.cache[teamID]
	gen := w.gen
	w.mu.Unlock()
	if ok && now.Before(e.expires) {
		if e.client == nil {
			return w.noToken(), slackapp.ErrNotInstalled
		}
		return e.client, nil
	}
	return w.load(ctx, teamID, gen)
}

// load finds teamID's token: its stored installation, else the single
// token when it is that workspace's.
func (w *Workspaces) load(ctx context.Context, teamID string, gen uint64) (*slack.Client, error) {
	in, err := w.store.GetInstallation(ctx, teamID)
	switch {
	case err == nil:
		if w.refused(teamID, in.InstalledAt) {
			w.log.WarnContext(ctx, "slack: workspace's stored bot token was refused by Slack; it needs installing again", "team", teamID)
			w.put(teamID, entry{}, NotInstalledTTL, gen)
			return w.noToken(), fmt.Errorf("%w: its bot token was revoked", slackapp.ErrNotInstalled)
		}
		token, err := w.sealer.Open(ctx, in.SealedBotToken, binding(teamID))
		if errors.Is(err, envelope.ErrCannotOpen) {
			w.log.ErrorContext(ctx, "slack: the stored bot token cannot be opened (sealed for another workspace, with another key, or altered); install the app again there", "team", teamID, "err", err)
			// Remembered as not installed for a while, so that every call
			// does not read and try to open it again.
			w.put(teamID, entry{}, NotInstalledTTL, gen)
			return w.noToken(), fmt.Errorf("%w: its stored bot token cannot be opened", slackapp.ErrNotInstalled)
		}
		if err != nil {
			return w.noToken(), fmt.Errorf("open the bot token of workspace %s: %w", teamID, err)
		}
		c := w.newClient(teamID, string(token), in.InstalledAt)
		clear(token)
		w.put(teamID, entry{client: c, installedAt: in.InstalledAt}, CacheTTL, gen)
		return c, nil
	case domain.IsNotFound(err):
		if w.static != nil && w.staticServes(ctx, teamID) {
			w.put(teamID, entry{client: w.static}, CacheTTL, gen)
			return w.static, nil
		}
		w.log.WarnContext(ctx, "slack: the app is not installed in this workspace", "team", teamID)
		w.put(teamID, entry{}, NotInstalledTTL, gen)
		return w.noToken(), slackapp.ErrNotInstalled
	default:
		return w.noToken(), fmt.Errorf("read the installation of workspace %s: %w", teamID, err)
	}
}

// staticTeamRetry is how long a failed auth.test of the single token is
// remembered before it is tried again.
const staticTeamRetry = time.Minute

// staticServes reports whether the single token is teamID's: its team,
// found with auth.test the first time it is needed.
func (w *Workspaces) staticServes(ctx context.Context, teamID string) bool {
	w.mu.Lock()
	team, dead, tried := w.staticTeam, w.staticDead, w.staticTry
	w.mu.Unlock()
	if dead {
		return false
	}
	if team == "" {
		if !tried.IsZero() && w.now().Before(tried.Add(staticTeamRetry)) {
			return false
		}
		resp, err := w.static.AuthTestContext(ctx)
		w.mu.Lock()
		if err != nil || resp.TeamID == "" {
			w.staticTry = w.now()
			w.mu.Unlock()
			w.log.ErrorContext(ctx, "slack: auth.test of the configured bot token failed; it serves no workspace until it answers", "err", err)
			return false
		}
		w.staticTeam, team = resp.TeamID, resp.TeamID
		w.mu.Unlock()
		w.log.InfoContext(ctx, "slack: the configured bot token is the installation of its workspace", "team", team)
	}
	return team == teamID
}

// Forget drops teamID's cached client, so the next call reads its
// installation again (after an install).
func (w *Workspaces) Forget(teamID string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.cache, teamID)
	delete(w.dead, teamID)
	w.gen++
}

// Uninstall implements slackapp.Uninstaller: Slack said the app was
// uninstalled from teamID or its bot token revoked. The cached client goes
// at once; the stored installation is removed unless its token still
// works, which means the event is about an earlier installation (Slack
// retries an event, and the order of events and a re-install is not
// guaranteed). The single token, when Slack refuses it, stops serving in
// this instance.
func (w *Workspaces) Uninstall(ctx context.Context, teamID string) error {
	w.Forget(teamID)
	if !w.installations() {
		// The one workspace: its token is configuration, not stored.
		if _, refused := check(ctx, w.static, ""); refused {
			w.markStaticDead(ctx)
		}
		return nil
	}
	in, err := w.store.GetInstallation(ctx, teamID)
	switch {
	case domain.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("read the installation of workspace %s: %w", teamID, err)
	default:
		if token, err := w.sealer.Open(ctx, in.SealedBotToken, binding(teamID)); err == nil {
			c := slack.New(string(token), slack.OptionAPIURL(w.apiURL), slack.OptionHTTPClient(w.hc))
			clear(token)
			// Kept only when Slack says the token works: an answer that
			// cannot be had removes it (installing again restores it).
			if works, _ := check(ctx, c, teamID); works {
				w.log.InfoContext(ctx, "slack: the stored installation's token still works; the event is about an earlier one, so it is kept", "team", teamID)
				return nil
			}
		}
		removed, err := w.store.DeleteInstallation(ctx, teamID, in.InstalledAt)
		if err != nil {
			return fmt.Errorf("remove the installation of workspace %s: %w", teamID, err)
		}
		if removed {
			w.log.InfoContext(ctx, "slack: installation removed", "team", teamID, "installed_at", in.InstalledAt)
		}
	}
	// Again: a request may have cached the installation while it was
	// being removed.
	w.Forget(teamID)
	if w.static != nil {
		w.mu.Lock()
		mine := w.staticTeam == teamID
		w.mu.Unlock()
		if mine {
			if _, refused := check(ctx, w.static, teamID); refused {
				w.markStaticDead(ctx)
			}
		}
	}
	return nil
}

// check asks Slack about c's token (auth.test): works when Slack takes it
// for teamID (any team when ""), refused when Slack says it will never
// work again. Both are false when no answer could be had.
func check(ctx context.Context, c *slack.Client, teamID string) (works, refused bool) {
	resp, err := c.AuthTestContext(ctx)
	if err == nil {
		return teamID == "" || resp.TeamID == teamID, false
	}
	var se slack.SlackErrorResponse
	return false, errors.As(err, &se) && slices.Contains(tokenRefusals, se.Err)
}

func (w *Workspaces) markStaticDead(ctx context.Context) {
	w.mu.Lock()
	already := w.staticDead
	w.staticDead = true
	for team, e := range w.cache {
		if e.client == w.static {
			delete(w.cache, team)
		}
	}
	w.gen++
	w.mu.Unlock()
	if !already {
		w.log.ErrorContext(ctx, "slack: Slack refuses the configured bot token (the app was uninstalled or its token revoked); it serves no workspace in this instance. Install the app again and put its new bot token in the Slack secret")
	}
}

// refused reports whether Slack refused the token of teamID's installation
// of installedAt.
func (w *Workspaces) refused(teamID string, installedAt time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	at, ok := w.dead[teamID]
	return ok && at.Equal(installedAt)
}

// put caches an answer for teamID unless the cache changed since the
// lookup began (an install or uninstall meanwhile).
func (w *Workspaces) put(teamID string, e entry, ttl time.Duration, gen uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gen != gen {
		return
	}
	e.expires = w.now().Add(ttl)
	w.cache[teamID] = e
}

// refusedBySlack is called when Slack refused a client's token. The
// workspace's cached client goes, and its installation is not used again
// until it is installed anew.
func (w *Workspaces) refusedBySlack(teamID string, installedAt time.Time, code string) {
	if teamID == "" {
		w.markStaticDead(context.Background())
		return
	}
	w.mu.Lock()
	if e, ok := w.cache[teamID]; ok && e.installedAt.Equal(installedAt) {
		delete(w.cache, teamID)
	}
	w.dead[teamID] = installedAt
	w.gen++
	w.mu.Unlock()
	w.log.Warn("slack: Slack refused a workspace's bot token; it is not used again until the app is installed there anew", "team", teamID, "error", code)
}

// noToken is a client without a token: what Client returns with an error.
func (w *Workspaces) noToken() *slack.Client {
	return slack.New("", slack.OptionAPIURL(w.apiURL), slack.OptionHTTPClient(w.hc))
}

// newClient makes a workspace's client; its transport tells the
// workspaces when Slack refuses the token.
func (w *Workspaces) newClient(teamID, token string, installedAt time.Time) *slack.Client {
	hc := *w.hc
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = refusalWatch{base: base, refused: func(code string) { w.refusedBySlack(teamID, installedAt, code) }}
	return slack.New(token, slack.OptionAPIURL(w.apiURL), slack.OptionHTTPClient(&hc))
}

// tokenRefusals are Slack's answers that say a token will never work
// again: revoked (uninstalled), not a valid token, or its workspace or
// user deactivated.
var tokenRefusals = []string{"token_revoked", "invalid_auth", "account_inactive", "token_expired"}

// maxWatchedBody bounds the answer read to look for a refusal; Slack's
// refusals are tiny, and larger answers are passed on unread.
const maxWatchedBody = 64 << 10

// refusalWatch passes Web API answers through and calls refused when one
// is a refusal of the token.
type refusalWatch struct {
	base    http.RoundTripper
	refused func(code string)
}

func (r refusalWatch) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK || resp.ContentLength > maxWatchedBody {
		return resp, err
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, maxWatchedBody+1))
	if err != nil {
		resp.Body.Close()
		return nil, err
	}
	// The caller reads the whole answer: what was read, then the rest.
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	if len(head) > maxWatchedBody || !bytes.Contains(head, []byte(`"error"`)) {
		return resp, nil // a success (a refusal always names its error): nothing to parse
	}
	var answer struct {
		OK    *bool  `json:"ok"`
		Error string `json:"error"`
	}
	if json.Unmarshal(head, &answer) == nil && answer.OK != nil && !*answer.OK && slices.Contains(tokenRefusals, answer.Error) {
		r.refused(answer.Error)
	}
	return resp, nil
}

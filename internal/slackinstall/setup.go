package slackinstall

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/orgcredit/orgcredit/internal/envelope"
)

// FullStore is the store of the installations and of the install's
// once-marks (*dynamo.Store).
type FullStore interface {
	Store
	InstallStore
}

// Config is how a function serves Slack workspaces, from its Slack
// credentials (internal/secrets) and environment.
type Config struct {
	// BotToken is the single-token configuration (bot_token,
	// SLACK_BOT_TOKEN). ClientID and ClientSecret (both) turn on installs
	// by OAuth; the bot token then serves its own workspace only.
	BotToken, ClientID, ClientSecret string
	// RedirectURL is the deployment's GET /slack/oauth_redirect URL
	// (SLACK_REDIRECT_URL). Without it there is no installer: the
	// notifier only reads installations.
	RedirectURL string
	Store       FullStore
	// Keys seal and open the bot tokens (kmskeys in AWS, envelope's
	// LocalKeys locally); needed with ClientID.
	Keys       envelope.KeyService
	APIURL     string
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
}

// Setup makes the workspaces and, when the deployment installs by OAuth
// and knows its redirect URL, the installer (nil otherwise).
func Setup(cfg Config) (*Workspaces, *Installer, error) {
	if (cfg.ClientID == "") != (cfg.ClientSecret == "") {
		return nil, nil, errors.New("slackinstall: the client id and the client secret go together: give both to install by OAuth, or neither")
	}
	wc := WorkspacesConfig{BotToken: cfg.BotToken, APIURL: cfg.APIURL, HTTPClient: cfg.HTTPClient, Logger: cfg.Logger, Now: cfg.Now}
	if cfg.ClientID == "" {
		ws, err := NewWorkspaces(wc)
		return ws, nil, err
	}
	if cfg.Keys == nil {
		return nil, nil, errors.New("slackinstall: installs by OAuth need a key service for the bot tokens (a KMS key in AWS)")
	}
	if cfg.Store == nil {
		return nil, nil, errors.New("slackinstall: installs by OAuth need the store")
	}
	sealer := envelope.New(cfg.Keys)
	wc.Store, wc.Sealer = cfg.Store, sealer
	ws, err := NewWorkspaces(wc)
	if err != nil {
		return nil, nil, err
	}
	if cfg.RedirectURL == "" {
		return ws, nil, nil
	}
	inst, err := NewInstaller(InstallerConfig{
		ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, RedirectURL: cfg.RedirectURL,
		APIURL: cfg.APIURL, HTTPClient: cfg.HTTPClient, Store: cfg.Store, Sealer: sealer, Workspaces: ws,
		Now: cfg.Now, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, nil, err
	}
	return ws, inst, nil
}

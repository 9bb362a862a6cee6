package slackapp

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// manifestTemplate is the Slack app manifest (manifest.json) with a
// placeholder base URL, so that a user creates the app in one step from
// the deployed API's URL ("Create New App" → "From a manifest").
//
//go:embed manifest.json
var manifestTemplate string

// ManifestPlaceholder is the base URL manifest.json carries.
const ManifestPlaceholder = "https://API-BASE-URL.example"

// The install's paths, relative to the API's base URL: a browser opens
// PathInstall to add the app to a workspace and Slack sends it back to
// PathOAuthRedirect (the manifest's oauth_config.redirect_urls) with the
// authorization code.
const (
	PathInstall       = "/slack/install"
	PathOAuthRedirect = "/slack/oauth_redirect"
)

// BotScopes are the bot token scopes the manifest asks for, which the
// install asks Slack to grant.
func BotScopes() ([]string, error) {
	var m struct {
		OAuth struct {
			Scopes struct {
				Bot []string `json:"bot"`
			} `json:"scopes"`
		} `json:"oauth_config"`
	}
	if err := json.Unmarshal([]byte(manifestTemplate), &m); err != nil {
		return nil, fmt.Errorf("manifest.json: %w", err)
	}
	if len(m.OAuth.Scopes.Bot) == 0 {
		return nil, fmt.Errorf("manifest.json: no bot scopes")
	}
	return m.OAuth.Scopes.Bot, nil
}

// Manifest renders the app manifest for the API at baseURL, such as
// https://abc123.execute-api.eu-west-1.amazonaws.com. Slack calls the
// command, interactivity and event URLs under it, and sends installers
// back to its OAuth redirect URL.
func Manifest(baseURL string) (string, error) {
	u, err := url.Parse(baseURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("base URL %q must be an absolute https URL without query or fragment, like https://abc123.execute-api.eu-west-1.amazonaws.com", baseURL)
	}
	return strings.ReplaceAll(manifestTemplate, ManifestPlaceholder, strings.TrimSuffix(baseURL, "/")), nil
}

// SocketModeManifest renders the app manifest for Socket Mode: the same
// scopes, commands, events, interactivity and App Home, delivered over
// the app's own WebSocket (socket_mode_enabled), so without request URLs
// and without an OAuth redirect URL (a Socket Mode app is installed from
// its settings page, with the bot token given as SLACK_BOT_TOKEN).
// It is how a developer serves their own workspace from the local server
// (SLACK_APP_TOKEN); the app then needs an app-level token with
// connections:write.
func SocketModeManifest() (string, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(manifestTemplate), &m); err != nil {
		return "", fmt.Errorf("manifest.json: %w", err)
	}
	features, _ := m["features"].(map[string]any)
	settings, _ := m["settings"].(map[string]any)
	if features == nil || settings == nil {
		return "", fmt.Errorf("manifest.json: no features or settings")
	}
	cmds, _ := features["slash_commands"].([]any)
	for _, c := range cmds {
		if c, ok := c.(map[string]any); ok {
			delete(c, "url")
		}
	}
	for _, section := range []string{"event_subscriptions", "interactivity"} {
		if s, ok := settings[section].(map[string]any); ok {
			delete(s, "request_url")
			delete(s, "message_menu_options_url")
		}
	}
	if oauth, ok := m["oauth_config"].(map[string]any); ok {
		delete(oauth, "redirect_urls")
	}
	settings["socket_mode_enabled"] = true
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep usage hints such as org:<id> readable
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return "", err
	}
	if strings.Contains(b.String(), ManifestPlaceholder) {
		return "", fmt.Errorf("manifest.json: a request URL is left in the Socket Mode manifest")
	}
	return b.String(), nil
}

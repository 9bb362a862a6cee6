package slackapp_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/orgcredit/orgcredit/internal/slackapp"
)

func TestManifest(t *testing.T) {
	const base = "https://abc123.execute-api.eu-west-1.amazonaws.com"
	out, err := slackapp.Manifest(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, slackapp.ManifestPlaceholder) {
		t.Fatal("the placeholder is left in the rendered manifest")
	}
	var m struct {
		Features struct {
			AppHome struct {
				HomeTab bool `json:"home_tab_enabled"`
			} `json:"app_home"`
			SlashCommands []struct {
				Command, URL string
			} `json:"slash_commands"`
		} `json:"features"`
		OAuth struct {
			RedirectURLs []string               `json:"redirect_urls"`
			Scopes       struct{ Bot []string } `json:"scopes"`
		} `json:"oauth_config"`
		Settings struct {
			Events struct {
				URL       string   `json:"request_url"`
				BotEvents []string `json:"bot_events"`
			} `json:"event_subscriptions"`
			Interactivity struct {
				Enabled    bool   `json:"is_enabled"`
				URL        string `json:"request_url"`
				OptionsURL string `json:"message_menu_options_url"`
			} `json:"interactivity"`
		} `json:"settings"`
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("rendered manifest is not JSON: %v", err)
	}
	cmds := map[string]string{}
	for _, c := range m.Features.SlashCommands {
		cmds[c.Command] = c.URL
	}
	for _, c := range []string{"/billing", "/credit"} {
		if cmds[c] != base+slackapp.PathCommands {
			t.Errorf("%s URL = %q", c, cmds[c])
		}
	}
	if m.Settings.Interactivity.URL != base+slackapp.PathInteractions || !m.Settings.Interactivity.Enabled ||
		m.Settings.Interactivity.OptionsURL != base+slackapp.PathInteractions {
		t.Errorf("interactivity = %+v", m.Settings.Interactivity)
	}
	if m.Settings.Events.URL != base+slackapp.PathEvents || strings.Join(m.Settings.Events.BotEvents, ",") != "app_home_opened,app_uninstalled,tokens_revoked" {
		t.Errorf("events = %+v, want App Home and the two that end an installation", m.Settings.Events)
	}
	if strings.Join(m.OAuth.RedirectURLs, ",") != base+slackapp.PathOAuthRedirect {
		t.Errorf("OAuth redirect URLs = %q, want the API's %s", m.OAuth.RedirectURLs, slackapp.PathOAuthRedirect)
	}
	if got, err := slackapp.BotScopes(); err != nil || strings.Join(got, ",") != strings.Join(m.OAuth.Scopes.Bot, ",") {
		t.Errorf("BotScopes() = %v, %v; want the manifest's %v", got, err, m.OAuth.Scopes.Bot)
	}
	if !m.Features.AppHome.HomeTab {
		t.Error("the App Home tab is not enabled")
	}
	scopes := strings.Join(m.OAuth.Scopes.Bot, ",")
	for _, s := range []string{"commands", "chat:write", "im:write"} {
		if !strings.Contains(scopes, s) {
			t.Errorf("scope %s missing from %s", s, scopes)
		}
	}

	for _, bad := range []string{"", "http://insecure.example", "abc123.execute-api.amazonaws.com", "https://x.example/?q=1"} {
		if _, err := slackapp.Manifest(bad); err == nil {
			t.Errorf("Manifest(%q) accepted a bad base URL", bad)
		}
	}
}

// TestSocketModeManifest: the Socket Mode manifest is the HTTP one with
// Socket Mode on and no request URL left; everything else (scopes,
// commands, events, interactivity, App Home) is the same.
func TestSocketModeManifest(t *testing.T) {
	out, err := slackapp.SocketModeManifest()
	if err != nil {
		t.Fatal(err)
	}
	var socket map[string]any
	if err := json.Unmarshal([]byte(out), &socket); err != nil {
		t.Fatalf("Socket Mode manifest is not JSON: %v", err)
	}
	if strings.Contains(out, "https://") || strings.Contains(out, "url") {
		t.Errorf("a URL is left in the Socket Mode manifest:\n%s", out)
	}
	settings := socket["settings"].(map[string]any)
	if settings["socket_mode_enabled"] != true {
		t.Errorf("socket_mode_enabled = %v", settings["socket_mode_enabled"])
	}
	if !strings.Contains(out, `"usage_hint": "[org:<id>]"`) {
		t.Errorf("usage hints are escaped or missing:\n%s", out)
	}

	httpOut, err := slackapp.Manifest("https://abc123.execute-api.eu-west-1.amazonaws.com")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := json.Unmarshal([]byte(httpOut), &want); err != nil {
		t.Fatal(err)
	}
	ws := want["settings"].(map[string]any)
	if ws["socket_mode_enabled"] != false {
		t.Errorf("the HTTP manifest has socket_mode_enabled = %v", ws["socket_mode_enabled"])
	}
	for _, c := range want["features"].(map[string]any)["slash_commands"].([]any) {
		delete(c.(map[string]any), "url")
	}
	delete(ws["event_subscriptions"].(map[string]any), "request_url")
	delete(ws["interactivity"].(map[string]any), "request_url")
	delete(ws["interactivity"].(map[string]any), "message_menu_options_url")
	delete(want["oauth_config"].(map[string]any), "redirect_urls")
	ws["socket_mode_enabled"] = true
	a, _ := json.Marshal(socket)
	b, _ := json.Marshal(want)
	if string(a) != string(b) {
		t.Errorf("Socket Mode manifest differs from the HTTP one beyond URLs and Socket Mode:\n got %s\nwant %s", a, b)
	}
	if len(want["features"].(map[string]any)["slash_commands"].([]any)) != 2 ||
		ws["interactivity"].(map[string]any)["is_enabled"] != true ||
		len(ws["event_subscriptions"].(map[string]any)["bot_events"].([]any)) != 3 {
		t.Errorf("commands, interactivity or events missing: %s", b)
	}
}

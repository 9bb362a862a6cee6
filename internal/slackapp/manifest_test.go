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
			Scopes struct{ Bot []string } `json:"scopes"`
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
	if m.Settings.Events.URL != base+slackapp.PathEvents || strings.Join(m.Settings.Events.BotEvents, ",") != "app_home_opened" {
		t.Errorf("events = %+v", m.Settings.Events)
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

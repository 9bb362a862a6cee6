package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func envOf(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestDemoSlackFromEnv(t *testing.T) {
	if d := demoSlackFromEnv(envOf(nil)); d != placeholderDemoSlack || d.check() != nil {
		t.Errorf("no variables: %+v, want the placeholders", d)
	}
	real := map[string]string{envDemoTeam: "T01ABCDEF", envDemoDina: "U01DINA", envDemoSari: "U02SARI"}
	d := demoSlackFromEnv(envOf(real))
	if !d.Real || d.Team != "T01ABCDEF" || d.Dina != "U01DINA" || d.Sari != "U02SARI" || d.Ravi != "" || d.check() != nil {
		t.Errorf("real ids: %+v, %v", d, d.check())
	}
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{envDemoDina: "U01DINA"}, "together"},
		{map[string]string{envDemoTeam: "T01ABCDEF", envDemoDina: "U01DINA"}, "together"},
		{map[string]string{envDemoTeam: "acme", envDemoDina: "U01DINA", envDemoSari: "U02SARI"}, "not a Slack team id"},
		{map[string]string{envDemoTeam: "T01ABCDEF", envDemoDina: "@dina", envDemoSari: "U02SARI"}, envDemoDina + `="@dina" is not a Slack user id`},
		{map[string]string{envDemoTeam: "T01ABCDEF", envDemoDina: "U01DINA", envDemoSari: "U01DINA"}, "same Slack user"},
		{map[string]string{envDemoTeam: "T01ABCDEF", envDemoDina: "U01DINA", envDemoSari: "U02SARI", envDemoRavi: "u03ravi"}, envDemoRavi},
	} {
		err := demoSlackFromEnv(envOf(tc.env)).check()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want it to say %q", tc.env, err, tc.want)
		}
	}
}

func TestCheckSlackTokens(t *testing.T) {
	ok := []config{
		{DemoSlack: placeholderDemoSlack},
		{DemoSlack: placeholderDemoSlack, SlackAppToken: "xapp-1-A0-1-abc", SlackBotToken: "xoxb-1-2-abc"},
		{DemoSlack: placeholderDemoSlack, SlackAppToken: "xapp-1-A0-1-abc"}, // allowed, with a warning
	}
	for _, c := range ok {
		if err := c.checkSlack(); err != nil {
			t.Errorf("%+v refused: %v", c, err)
		}
	}
	for _, tc := range []struct {
		cfg  config
		want string
	}{
		{config{DemoSlack: placeholderDemoSlack, SlackAppToken: "xoxb-1-2-abc"}, "SLACK_APP_TOKEN: this is a xoxb token, not an app-level token"},
		{config{DemoSlack: placeholderDemoSlack, SlackAppToken: "secret"}, "SLACK_APP_TOKEN: an app-level token starts with xapp-"},
		{config{DemoSlack: placeholderDemoSlack, SlackAppToken: "xapp-1-A0-1-abc", SlackBotToken: "xapp-1-A0-1-abc"}, "SLACK_BOT_TOKEN holds an app-level token"},
		{config{DemoSlack: demoSlack{Real: true, Team: "T01"}}, "together"},
	} {
		if err := tc.cfg.checkSlack(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want it to say %q", tc.cfg, err, tc.want)
		}
	}
}

// TestSeedForRealWorkspace: with real ids the demo's people are who Slack
// says they are, and Ravi, without an id, has no Slack account.
func TestSeedForRealWorkspace(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	ids := demoSlack{Real: true, Team: "T01ABCDEF", Dina: "U01DINA", Sari: "U02SARI"}
	demo, err := seedDemoFor(ctx, st, ids)
	if err != nil {
		t.Fatal(err)
	}
	org, err := st.GetOrg(ctx, demoOrgID)
	if err != nil || org.SlackTeamID != "T01ABCDEF" || org.BillingHolderID != "dina" {
		t.Fatalf("org = %+v, %v", org, err)
	}
	for user, member := range map[string]string{"U01DINA": "dina", "U02SARI": "sari"} {
		ms, err := st.Memberships(ctx, "T01ABCDEF", user)
		if err != nil || len(ms) != 1 || ms[0].Member.ID != member {
			t.Errorf("memberships of %s: %+v, %v", user, ms, err)
		}
	}
	if ravi, err := st.GetMember(ctx, demoOrgID, "ravi"); err != nil || ravi.SlackUserID != "" {
		t.Errorf("ravi = %+v, %v; want no Slack account", ravi, err)
	}
	if ms, _ := st.Memberships(ctx, "T0ACME", "U0DINA"); len(ms) != 0 {
		t.Errorf("the placeholders are still members: %+v", ms)
	}

	var b strings.Builder
	printBanner(&b, config{AdminToken: "a", SlackAppToken: "xapp-1-x", SlackBotToken: "xoxb-1"}, "http://127.0.0.1:8080", demo)
	out := b.String()
	for _, want := range []string{"Slack team T01ABCDEF", "Dina is U01DINA, Sari U02SARI, Ravi no Slack account (DEMO_SLACK_RAVI)",
		"Socket Mode: ON", "/billing transfer → choose Sari → Send Request"} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "WARNING") || strings.Contains(out, "xapp-1-x") {
		t.Errorf("banner warns with a bot token set, or prints the app token:\n%s", out)
	}
}

func TestBannerSocketMode(t *testing.T) {
	demo := &demoOrg{Slack: placeholderDemoSlack, Agents: []demoAgent{{ID: "a", Group: "g", Token: "t"}}}
	banner := func(c config) string {
		var b strings.Builder
		printBanner(&b, c, "http://127.0.0.1:8080", demo)
		return b.String()
	}
	off := banner(config{AdminToken: "a"})
	if !strings.Contains(off, "Socket Mode: off (set SLACK_APP_TOKEN") || !strings.Contains(off, "Placeholders. To play the example in your own workspace, set DEMO_SLACK_TEAM_ID") {
		t.Errorf("banner without Socket Mode:\n%s", off)
	}
	noBot := banner(config{AdminToken: "a", SlackAppToken: "xapp-1-x"})
	if !strings.Contains(noBot, "Socket Mode: ON") || !strings.Contains(noBot, "WARNING: SLACK_BOT_TOKEN is not set") {
		t.Errorf("banner with Socket Mode and no bot token:\n%s", noBot)
	}
	if fake := banner(config{AdminToken: "a", SlackAppToken: "xapp-1-x", SlackAPIURL: "http://127.0.0.1:9/api/"}); strings.Contains(fake, "WARNING") {
		t.Errorf("a fake Slack needs no bot token:\n%s", fake)
	}
	if oauth := banner(config{AdminToken: "a", SlackAppToken: "xapp-1-x", SlackClientID: "1.2", SlackClientSecret: "s"}); strings.Contains(oauth, "WARNING") {
		t.Errorf("installs by OAuth carry the bot tokens:\n%s", oauth)
	}
}

// fakeSocketSlack answers apps.connections.open for appToken with its own
// WebSocket, says hello, sends envelope and hands back the first ack.
func fakeSocketSlack(t *testing.T, appToken string, envelope map[string]any) (apiURL string, acks <-chan map[string]any) {
	t.Helper()
	got := make(chan map[string]any, 4)
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }} // slack-go sends Origin: https://api.slack.com
	mux := http.NewServeMux()
	mux.HandleFunc("/api/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+appToken {
			fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
			return
		}
		fmt.Fprintf(w, `{"ok":true,"url":"ws://%s/link"}`, r.Host)
	})
	mux.HandleFunc("/link", func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		_ = ws.WriteJSON(map[string]any{"type": "hello", "num_connections": 1})
		_ = ws.WriteJSON(envelope)
		for {
			var a map[string]any
			if err := ws.ReadJSON(&a); err != nil {
				return
			}
			got <- a
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/api/", got
}

// TestSocketModeServesTheDemo: with SLACK_APP_TOKEN the local server
// connects (apps.connections.open through SLACK_API_URL) and answers the
// demo's Dina over Socket Mode; on cancel it stops.
func TestSocketModeServesTheDemo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := newStore(t)
	ids := demoSlack{Real: true, Team: "T01ABCDEF", Dina: "U01DINA", Sari: "U02SARI"}
	if _, err := seedDemoFor(ctx, st, ids); err != nil {
		t.Fatal(err)
	}
	const appToken = "xapp-1-A0LOCAL-1-abc"
	api, acks := fakeSocketSlack(t, appToken, map[string]any{
		"envelope_id": "env-status", "type": "slash_commands", "accepts_response_payload": true,
		"payload": map[string]any{"team_id": ids.Team, "user_id": ids.Dina, "command": "/billing", "text": "status", "trigger_id": "t1"},
	})
	cfg := config{SlackSigningSecret: "s", SlackAPIURL: strings.TrimSuffix(api, "/"), SlackAppToken: appToken, SlackBotToken: "xoxb-1", DemoSlack: ids}
	socket := startSocketMode(ctx, cfg, slackApp(st, cfg))
	select {
	case a := <-acks:
		payload, _ := json.Marshal(a["payload"])
		if a["envelope_id"] != "env-status" || !strings.Contains(string(payload), "Acme Corp") || !strings.Contains(string(payload), "ephemeral") {
			t.Errorf("ack = %v", a)
		}
	case err := <-socket.failed():
		t.Fatalf("Socket Mode failed: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no ack within 5 s")
	}
	cancel()
	stopped := make(chan struct{})
	go func() { socket.wait(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Socket Mode did not stop on cancel")
	}
}

// TestSocketModeWrongToken: Slack refusing the app-level token stops the
// local server with the fix in the message.
func TestSocketModeWrongToken(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := newStore(t)
	api, _ := fakeSocketSlack(t, "xapp-1-right", nil)
	cfg := config{SlackSigningSecret: "s", SlackAPIURL: api, SlackAppToken: "xapp-1-wrong", SlackBotToken: "xoxb-1", DemoSlack: placeholderDemoSlack}
	socket := startSocketMode(ctx, cfg, slackApp(st, cfg))
	select {
	case err := <-socket.failed():
		if !strings.Contains(err.Error(), "invalid_auth") || !strings.Contains(err.Error(), "connections:write") {
			t.Errorf("error = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a refused token did not stop Socket Mode")
	}
	if (*socketMode)(nil).failed() != nil {
		t.Error("Socket Mode off has a failure channel")
	}
	(*socketMode)(nil).wait() // returns at once
}

// TestReseedWithOtherSlackIDs: a kept table seeded with other Slack ids
// is refused with the way out, not "choose another id".
func TestReseedWithOtherSlackIDs(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	if _, err := seedDemo(ctx, st); err != nil {
		t.Fatal(err)
	}
	_, err := seedDemoFor(ctx, st, demoSlack{Real: true, Team: "T01ABCDEF", Dina: "U01DINA", Sari: "U02SARI"})
	if err == nil || !strings.Contains(err.Error(), "use a fresh TABLE_NAME") {
		t.Errorf("reseed with other ids: %v", err)
	}
}

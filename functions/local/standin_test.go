package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/metrics"
	"github.com/orgcredit/orgcredit/internal/notify"
	"github.com/orgcredit/orgcredit/internal/slackapp/slackrequest"
)

// TestUseStandIn: the stand-in serves only when nothing names a Slack to
// call or to be called from.
func TestUseStandIn(t *testing.T) {
	for _, tt := range []struct {
		cfg  config
		want bool
	}{
		{config{}, true},
		{config{SlackSigningSecret: "s", DemoSlack: placeholderDemoSlack}, true},
		{config{SlackAPIURL: "http://127.0.0.1:9999/api/"}, false},
		{config{SlackBotToken: "xoxb-1"}, false},
		{config{SlackClientID: "1.2", SlackClientSecret: "s"}, false},
		{config{SlackAppToken: "xapp-1-A0-1-abc"}, false},
	} {
		if got := tt.cfg.useStandIn(); got != tt.want {
			t.Errorf("useStandIn(%+v) = %v, want %v", tt.cfg, got, tt.want)
		}
	}
}

// TestStandInAnswers: slack-go's client gets from the stand-in what it
// gets from Slack, and each call is printed.
func TestStandInAnswers(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	s := newSlackStandIn(&out, "T0ACME", map[string]string{"U0SARI": "Sari"}, "slack-request -secret x")
	api := s.Client()
	button := slack.NewButtonBlockElement("transfer_accept", "acme|tr_1", slack.NewTextBlockObject(slack.PlainTextType, "Accept", false, false))
	blocks := slack.MsgOptionBlocks(
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "Take <@U0SARI> &amp; go", false, false), nil, nil),
		slack.NewActionBlock("transfer_actions", button))
	long := slack.MsgOptionBlocks(slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, strings.Repeat("x", 3001), false, false), nil, nil))
	modal := slack.ModalViewRequest{Type: slack.VTModal, CallbackID: "c", Title: slack.NewTextBlockObject(slack.PlainTextType, "Transfer Billing Role", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "Choose", false, false), nil, nil)}}}
	home := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{
		slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, "My Credit", false, false)),
		slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, "100 credits left", false, false), nil, nil)}}}

	tests := []struct {
		name    string
		call    func() (string, error) // what the client read back
		want    string                 // in what it read
		wantErr string                 // Slack's error, "" for ok
		printed string                 // in the printout
	}{
		{"conversations.open", func() (string, error) {
			ch, _, _, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{"U0SARI"}, ReturnIM: true})
			if err != nil {
				return "", err
			}
			return ch.ID, nil
		}, "D0SARI", "", "conversations.open direct message with Sari [U0SARI] → D0SARI"},
		{"chat.postMessage", func() (string, error) {
			ch, ts, err := api.PostMessageContext(ctx, "D0SARI", slack.MsgOptionText("Take <@U0SARI>", false), blocks)
			return ch + " " + ts, err
		}, "D0SARI 1", "", "chat.postMessage to Sari [U0SARI] (direct message D0SARI, ts "},
		{"buttons", func() (string, error) {
			_, _, err := api.PostMessageContext(ctx, "D0SARI", slack.MsgOptionText("t", false), blocks)
			return "", err
		}, "", "", "[Accept]  action_id=transfer_accept  value=acme|tr_1\n    ▶ Accept as Sari [U0SARI]: slack-request -secret x -user U0SARI accept tr_1"},
		{"mentions by name", func() (string, error) {
			_, _, err := api.PostMessageContext(ctx, "C0GENERAL", slack.MsgOptionText("Take <@U0SARI> &amp; go", false))
			return "", err
		}, "", "", "chat.postMessage in C0GENERAL (ts"},
		{"chat.update", func() (string, error) {
			ch, ts, _, err := api.UpdateMessageContext(ctx, "D0SARI", "1700000000.000001", slack.MsgOptionText("done", false))
			return ch + " " + ts, err
		}, "D0SARI 1700000000.000001", "", "chat.update of the message 1700000000.000001 in D0SARI"},
		{"chat.postEphemeral", func() (string, error) {
			return api.PostEphemeralContext(ctx, "C0GENERAL", "U0SARI", slack.MsgOptionText("only you", false))
		}, "", "", "chat.postEphemeral to Sari [U0SARI] only, in C0GENERAL\n    | only you"},
		{"views.open", func() (string, error) {
			v, err := api.OpenViewContext(ctx, "1.2.abc", modal)
			if err != nil {
				return "", err
			}
			return v.ID + " " + v.CallbackID, nil
		}, "V", "", `views.open modal "Transfer Billing Role"`},
		{"views.update", func() (string, error) {
			v, err := api.UpdateViewContext(ctx, modal, "", "h", "V0001")
			if err != nil {
				return "", err
			}
			return v.ID, nil
		}, "V0001", "", `views.update modal "Transfer Billing Role"`},
		{"views.publish", func() (string, error) {
			v, err := api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: "U0SARI", View: home})
			if err != nil {
				return "", err
			}
			return v.ID, nil
		}, "V", "", "views.publish Home tab of Sari [U0SARI]: \"My Credit\"\n    | 100 credits left"},
		{"users.info", func() (string, error) {
			u, err := api.GetUserInfoContext(ctx, "U0SARI")
			if err != nil {
				return "", err
			}
			return u.RealName + " " + u.TeamID, nil
		}, "Sari T0ACME", "", "users.info Sari [U0SARI]"},
		{"users.info of a stranger", func() (string, error) {
			_, err := api.GetUserInfoContext(ctx, "U0NOBODY")
			return "", err
		}, "", "user_not_found", "users.info U0NOBODY → error user_not_found"},
		{"upload", func() (string, error) {
			f, err := api.UploadFileContext(ctx, slack.UploadFileParameters{Reader: strings.NewReader("png"), FileSize: 3, Filename: "chart.png", Title: "Chart"})
			if err != nil {
				return "", err
			}
			return f.ID, nil
		}, "F", "", "upload 3 bytes of file F"},
		{"auth.test", func() (string, error) {
			r, err := api.AuthTestContext(ctx)
			if err != nil {
				return "", err
			}
			return r.TeamID, nil
		}, "T0ACME", "", "auth.test"},
		{"Block Kit's rules", func() (string, error) {
			_, _, err := api.PostMessageContext(ctx, "D0SARI", slack.MsgOptionText("t", false), long)
			return "", err
		}, "", "invalid_blocks", "→ error invalid_blocks"},
		{"unknown method", func() (string, error) {
			_, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: "C1"})
			return "", err
		}, "", "unknown_method", "conversations.info → error unknown_method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out.Reset()
			got, err := tt.call()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("error %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want %s", err, tt.wantErr)
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("read %q, want %q in it", got, tt.want)
			}
			if !strings.Contains(out.String(), tt.printed) {
				t.Errorf("printed:\n%s\nwant %q in it", out.String(), tt.printed)
			}
		})
	}
	if calls := s.Calls("chat.postMessage"); len(calls) != 4 || calls[0].User != "U0SARI" || len(calls[1].Buttons) != 1 {
		t.Errorf("recorded postMessages = %+v", calls)
	}
	if r := s.readable("<@U0SARI> <@U0RAVI|ravi> <!date^1700000000^{date_short}|Nov 14> <https://x.io|top up> &lt;b&gt; &amp;"); r != "@Sari @ravi Nov 14 top up (https://x.io) <b> &" {
		t.Errorf("readable = %q", r)
	}
}

// localServer is the local server's handler on the seeded demo, with
// Slack played by the stand-in, which prints to log.
type localServer struct {
	*httptest.Server
	store   *dynamo.Store
	standIn *slackStandIn
	log     *lockedBuffer
	cfg     config
}

func startLocal(t *testing.T) *localServer {
	t.Helper()
	st := newStore(t)
	demo, err := seedDemo(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config{AdminToken: "admin-secret", SlackSigningSecret: "local-secret", DemoSlack: placeholderDemoSlack}
	if !cfg.useStandIn() {
		t.Fatal("the stand-in is not used with no Slack configured")
	}
	log := &lockedBuffer{}
	cfg.standIn = newSlackStandIn(log, cfg.DemoSlack.Team, demoNames(demo), "")
	srv := httptest.NewServer(routes(st, slackApp(st, cfg), nil, cfg, metrics.NewTotals()))
	t.Cleanup(srv.Close)
	cfg.standIn.play = playCommand(cfg, srv.URL)
	return &localServer{Server: srv, store: st, standIn: cfg.standIn, log: log, cfg: cfg}
}

// play runs slack-request's code with args against the server, as
// `go run ./internal/slackapp/cmd/slack-request -url … -secret … args…`.
func (s *localServer) play(t *testing.T, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	full := append([]string{"-url", s.URL, "-secret", s.cfg.SlackSigningSecret}, args...)
	if code := slackrequest.Main(context.Background(), full, func(string) string { return "" }, &stdout, &stderr, s.Client()); code != 0 {
		t.Fatalf("slack-request %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// TestPlayWorkedExample plays the worked example's Slack side on the local
// server with slack-request, Slack being the stand-in: Dina asks for the
// status, opens her Home and the transfer dialog, sends the request to
// Sari; Sari gets it with Accept and Decline and accepts with the id it
// carries; Billing is Sari's. The stand-in printed each step.
func TestPlayWorkedExample(t *testing.T) {
	s := startLocal(t)
	ctx := context.Background()

	if out := s.play(t, "command", "/billing status"); !strings.Contains(out, "You hold Billing of *Acme Corp*") {
		t.Errorf("status:\n%s", out)
	}
	s.play(t, "home")
	if homes := s.standIn.Calls("views.publish"); len(homes) != 1 || homes[0].User != "U0DINA" || !strings.Contains(homes[0].Text, "100 credits left") {
		t.Errorf("Dina's Home: %+v", homes)
	}

	s.play(t, "command", "/billing transfer")
	dialogs := s.standIn.Calls("views.open")
	if len(dialogs) != 1 || dialogs[0].Title != "Transfer Billing Role" || len(dialogs[0].Selects) != 1 {
		t.Fatalf("dialog: %+v", dialogs)
	}
	var offered []string
	for _, o := range dialogs[0].Selects[0].Options {
		offered = append(offered, o[0])
	}
	if strings.Join(offered, ",") != "ravi,sari" {
		t.Errorf("the dialog offers %v, want ravi and sari (member ids)", offered)
	}

	if out := s.play(t, "transfer", "sari"); !strings.Contains(out, `"response_action": "clear"`) {
		t.Errorf("submit:\n%s", out)
	}
	var toSari *standInCall
	for _, c := range s.standIn.Calls("chat.postMessage") {
		if c.User == "U0SARI" && c.Channel == "D0SARI" {
			toSari = &c
		}
	}
	if toSari == nil {
		t.Fatalf("no direct message to Sari: %+v", s.standIn.Calls())
	}
	buttons := map[string]string{}
	for _, b := range toSari.Buttons {
		buttons[b.ActionID] = b.Value
	}
	accept, decline := buttons["transfer_accept"], buttons["transfer_decline"]
	org, id, _ := strings.Cut(accept, "|")
	if org != "acme" || !strings.HasPrefix(id, "tr_") || decline != accept || !strings.Contains(toSari.Text, "@Dina asks you to take over the *Billing* role") {
		t.Fatalf("Sari's request: %+v", toSari)
	}
	pending, err := s.store.PendingTransfer(ctx, "acme")
	if err != nil || pending == nil || pending.ID != id || pending.RecipientID != "sari" {
		t.Fatalf("pending = %+v, %v; want %s to sari", pending, err, id)
	}

	// Dina cannot accept for Sari: refused, told, nothing changes.
	s.play(t, "accept", id)
	if org, _ := s.store.GetOrg(ctx, "acme"); org.BillingHolderID != "dina" {
		t.Fatalf("Dina's click on Accept moved Billing to %s", org.BillingHolderID)
	}
	s.play(t, "-user", "U0SARI", "accept", id)
	org2, err := s.store.GetOrg(ctx, "acme")
	if err != nil || org2.BillingHolderID != "sari" || org2.PendingTransferID != "" {
		t.Fatalf("after Sari's Accept: %+v, %v", org2, err)
	}
	// The admin API says so too.
	req, _ := http.NewRequest("GET", s.URL+"/admin/orgs/acme", nil)
	req.Header.Set("Authorization", "Bearer admin-secret")
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"billing_holder":{"id":"sari"`) {
		t.Errorf("admin API: %s", b)
	}

	// What a developer reads in the server's log.
	log := s.log.String()
	for _, want := range []string{
		"Slack stand-in: views.publish Home tab of Dina [U0DINA]: \"My Credit\"",
		"Slack stand-in: views.open modal \"Transfer Billing Role\"",
		"select recipient: ravi = Ravi · Builder; sari = Sari (Finance) · Member",
		"choose Sari (Finance) · Member and Send Request: " + slackRequestCmd + " -url " + s.URL + " -secret local-secret transfer sari",
		"Slack stand-in: chat.postMessage to Sari (Finance) [U0SARI] (direct message D0SARI",
		"[Accept]   action_id=transfer_accept  value=acme|" + id,
		"[Decline]  action_id=transfer_decline  value=acme|" + id,
		"Accept as Sari (Finance) [U0SARI]: " + slackRequestCmd + " -url " + s.URL + " -secret local-secret -user U0SARI accept " + id,
		"Slack stand-in: chat.postMessage to Dina [U0DINA]",
		"[Cancel request]  action_id=transfer_cancel  value=acme|" + id,
		"Slack stand-in: chat.postEphemeral to Dina [U0DINA] only",
		"You accepted. You now hold the *Billing* role of *Acme Corp*",
		"@Sari (Finance) accepted your request",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the stand-in did not print %q:\n%s", want, log)
		}
	}
	for _, c := range s.standIn.Calls() {
		if c.Error != "" {
			t.Errorf("the stand-in refused %s: %s %s", c.Method, c.Error, c.Text)
		}
	}
}

// TestSamplesPlayOnTheDemo: the signed samples of events/slack are the
// demo's people, and each, re-signed by slack-request with the server's
// secret, is answered 200.
func TestSamplesPlayOnTheDemo(t *testing.T) {
	s := startLocal(t)
	files, err := filepath.Glob("../../events/slack/*.json")
	if err != nil || len(files) < 5 {
		t.Fatalf("samples: %v %v", files, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r, err := slackrequest.FromFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if team := sampleTeam(t, r.Body); team != "" && team != placeholderDemoSlack.Team {
				t.Errorf("sample of team %s; the demo is %s", team, placeholderDemoSlack.Team)
			}
			out := s.play(t, "file", f)
			if !strings.Contains(out, "→ 200 OK") {
				t.Errorf("answer:\n%s", out)
			}
		})
	}
	if len(s.standIn.Calls("views.open")) != 1 || len(s.standIn.Calls("views.publish")) == 0 {
		t.Errorf("the samples' dialog and Home did not reach the stand-in: %+v", s.standIn.Calls())
	}
	// Stored as they are, the samples are refused: stale, and signed
	// with the test secret.
	raw, _ := os.ReadFile(files[0])
	var ev struct {
		RawPath string            `json:"rawPath"`
		Headers map[string]string `json:"headers"`
	}
	_ = json.Unmarshal(raw, &ev)
	r, _ := slackrequest.FromFile(files[0])
	req, _ := http.NewRequest("POST", s.URL+ev.RawPath, bytes.NewReader(r.Body))
	for k, v := range ev.Headers {
		req.Header.Set(k, v)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("a stored sample as it is: %d, want 401", resp.StatusCode)
	}
}

// sampleTeam is the Slack team a sample's body names: team_id of a
// command or event, team.id of an interaction; "" for none.
func sampleTeam(t *testing.T, body []byte) string {
	t.Helper()
	var v struct {
		TeamID string `json:"team_id"`
		Team   struct {
			ID string `json:"id"`
		} `json:"team"`
	}
	if json.Unmarshal(body, &v) != nil {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			t.Fatal(err)
		}
		if p := form.Get("payload"); p != "" {
			_ = json.Unmarshal([]byte(p), &v)
		} else {
			v.TeamID = form.Get("team_id")
		}
	}
	if v.TeamID != "" {
		return v.TeamID
	}
	return v.Team.ID
}

// TestAlertsThroughStandIn: with no Slack configured, the notifier's
// alerts go through the app to the stand-in, printed as the direct
// message Dina would get.
func TestAlertsThroughStandIn(t *testing.T) {
	st, feed := newRecordedStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	demo, err := seedDemo(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	log := &lockedBuffer{}
	cfg := config{SlackSigningSecret: "s", DemoSlack: placeholderDemoSlack}
	cfg.standIn = newSlackStandIn(log, "T0ACME", demoNames(demo), "")
	go notify.New(st, slackApp(st, cfg), notify.WithLogger(slog.New(slog.DiscardHandler))).Follow(ctx, feed, notify.FollowOptions{ScheduleEvery: time.Hour})
	agent, err := st.AgentByToken(ctx, demo.Agents[0].Token)
	if err != nil {
		t.Fatal(err)
	}
	// The research group's cap is 50 credits: 45 crosses its 80 %, and a
	// second 45 is refused at the cap.
	for _, id := range []string{"n1", "n2"} {
		if _, err := st.Debit(ctx, agent, domain.UsageEvent{ID: id, Amount: 45 * domain.MicrosPerCredit}); err != nil && !errors.Is(err, domain.ErrGroupCapReached) {
			t.Fatal(err)
		}
	}
	want := "Slack stand-in: chat.postMessage to Dina [U0DINA]"
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(log.String(), want) || !strings.Contains(log.String(), "Budget group near its cap · Acme Corp") {
		if time.Now().After(deadline) {
			t.Fatalf("log = %s", log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBannerPlaysSlack: with the stand-in, the banner says so and prints
// slack-request lines with this run's secret and address.
func TestBannerPlaysSlack(t *testing.T) {
	demo := &demoOrg{Slack: placeholderDemoSlack, Agents: []demoAgent{{ID: "a", Group: "g", Token: "t"}}}
	tests := []struct {
		name      string
		cfg       config
		base      string
		want, not []string
	}{
		{"generated secret", config{AdminToken: "a", SlackSigningSecret: "abc123", generated: []string{"SLACK_SIGNING_SECRET"}}, defaultBase,
			[]string{
				"Slack Web API: the local stand-in",
				`go run ./internal/slackapp/cmd/slack-request -secret abc123 command "/billing status"`,
				"go run ./internal/slackapp/cmd/slack-request -secret abc123 home",
				"go run ./internal/slackapp/cmd/slack-request -secret abc123 transfer sari",
				"go run ./internal/slackapp/cmd/slack-request -secret abc123 -user U0SARI accept tr_",
				"go run ./internal/slackapp/cmd/slack-request -secret abc123 file events/slack/command_billing_status.json",
				"SLACK_SIGNING_SECRET=local-secret go run ./functions/local gives a fixed one",
			}, nil},
		{"fixed secret, other address", config{AdminToken: "a", SlackSigningSecret: "it's fixed"}, "http://127.0.0.1:9000",
			[]string{`slack-request -url http://127.0.0.1:9000 -secret 'it'\''s fixed' command "/billing status"`, "The secret is SLACK_SIGNING_SECRET's"}, nil},
		{"a fake Slack", config{AdminToken: "a", SlackSigningSecret: "abc123", SlackAPIURL: "http://127.0.0.1:9999/api/"}, defaultBase,
			nil, []string{"stand-in", "slack-request"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			printBanner(&b, tt.cfg, tt.base, demo)
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("banner lacks %q:\n%s", w, b.String())
				}
			}
			for _, w := range tt.not {
				if strings.Contains(b.String(), w) {
					t.Errorf("banner has %q:\n%s", w, b.String())
				}
			}
		})
	}
}

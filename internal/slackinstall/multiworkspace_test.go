package slackinstall_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/notify"
	"github.com/orgcredit/orgcredit/internal/slackapp"
	"github.com/orgcredit/orgcredit/internal/slacktestx"
)

// Two organizations, each in its own workspace, served by one deployment:
// the Slack surface (driven through its public API, with signed requests)
// and the notifier make every Web API call with the bot token of the
// workspace it concerns.

const signingSecret = "8f742231b10e8888abcd99yyyzzz85a5"

// workspace is one organization in its workspace.
type workspace struct {
	team, token, org string
	owner, member    domain.Member
}

var (
	acme = workspace{team: "T0ACME", token: "xoxb-acme", org: "acme",
		owner:  domain.Member{OrgID: "acme", ID: "dina", Name: "Dina", SlackUserID: "U0DINA"},
		member: domain.Member{OrgID: "acme", ID: "sari", Name: "Sari", SlackUserID: "U0SARI", Role: domain.RoleMember}}
	globex = workspace{team: "T0GLOBEX", token: "xoxb-globex", org: "globex",
		owner:  domain.Member{OrgID: "globex", ID: "hank", Name: "Hank", SlackUserID: "U0HANK"},
		member: domain.Member{OrgID: "globex", ID: "marge", Name: "Marge", SlackUserID: "U0MARGE", Role: domain.RoleMember}}
)

// asked records the workspaces the Slack surface asked for clients of.
type asked struct {
	slackapp.Workspaces
	mu    sync.Mutex
	teams []string
}

func (a *asked) Client(ctx context.Context, team string) (*slack.Client, error) {
	a.mu.Lock()
	a.teams = append(a.teams, team)
	a.mu.Unlock()
	return a.Workspaces.Client(ctx, team)
}

func (a *asked) Uninstall(ctx context.Context, team string) error {
	return a.Workspaces.(slackapp.Uninstaller).Uninstall(ctx, team)
}

func (a *asked) named() (teams []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.teams)
}

// deployment is one deployment serving acme's and globex's workspaces.
type deployment struct {
	*fixture
	app   *slackapp.App
	asked *asked
}

func newDeployment(t *testing.T) *deployment {
	t.Helper()
	d := &deployment{fixture: newFixture(t)}
	for _, w := range []workspace{acme, globex} {
		d.install(w.team, w.token)
		if _, _, err := d.store.CreateOrg(d.ctx, domain.Org{ID: w.org, Name: strings.ToUpper(w.org[:1]) + w.org[1:], SlackTeamID: w.team,
			LowBalanceThreshold: 10 * domain.MicrosPerCredit}, w.owner); err != nil {
			t.Fatal(err)
		}
		if _, _, err := d.store.AddMember(d.ctx, w.member, nil); err != nil {
			t.Fatal(err)
		}
	}
	d.asked = &asked{Workspaces: d.ws}
	d.app = slackapp.New(slackapp.Config{Store: d.store, Workspaces: d.asked, SigningSecret: signingSecret, Logger: d.log, InstallURL: d.inst.InstallURL()})
	return d
}

// signed sends Slack's signed request to the app.
func (d *deployment) signed(path, contentType string, body []byte) events.APIGatewayV2HTTPResponse {
	d.t.Helper()
	resp, err := d.app.Handle(d.ctx, slacktestx.Request(signingSecret, time.Now(), path, contentType, body, false))
	if err != nil {
		d.t.Fatal(err)
	}
	return resp
}

func (d *deployment) event(team string, event map[string]any) events.APIGatewayV2HTTPResponse {
	d.t.Helper()
	body, err := json.Marshal(map[string]any{"token": "unused", "team_id": team, "api_app_id": appID, "type": "event_callback",
		"event_id": fmt.Sprintf("Ev%d", time.Now().UnixNano()), "event_time": time.Now().Unix(), "event": event})
	if err != nil {
		d.t.Fatal(err)
	}
	return d.signed(slackapp.PathEvents, "application/json", body)
}

// each runs step and checks that Slack was called, and only with want's
// token. A surface that asked for a client without naming its workspace
// fails the test. The chart's bytes go to the pre-signed URL Slack handed
// out for that workspace, which, as in Slack, takes no token.
func (d *deployment) each(name string, want workspace, step func() error) {
	d.t.Helper()
	d.slack.Reset()
	before := len(d.asked.named())
	err := step()
	d.named(name, before)
	if err != nil {
		d.t.Errorf("%s: %v", name, err)
	}
	calls := d.slack.Calls()
	if len(calls) == 0 {
		d.t.Errorf("%s: no Web API call", name)
	}
	for _, c := range calls {
		if c.Method == "upload" {
			continue
		}
		if c.Token != want.token {
			d.t.Errorf("%s: %s was called with %q, want %s's %s", name, c.Method, c.Token, want.team, want.token)
		}
	}
}

// named fails the test if the Slack surface asked for a client without
// naming the workspace since the before'th request.
func (d *deployment) named(name string, before int) {
	d.t.Helper()
	if !slices.Contains(d.asked.named()[before:], "") {
		return
	}
	d.t.Errorf("%s: the Slack surface asked for a client without naming the workspace", name)
}

// TestTwoWorkspaces: App Home, the transfer dialog, transfer outcomes and
// alerts of each organization go out with its own workspace's token.
func TestTwoWorkspaces(t *testing.T) {
	d := newDeployment(t)
	for _, w := range []workspace{acme, globex, acme} {
		d.each("app_home_opened in "+w.team, w, func() error {
			if resp := d.event(w.team, map[string]any{"type": "app_home_opened", "user": w.owner.SlackUserID, "channel": "D1", "tab": "home"}); resp.StatusCode != 200 {
				return fmt.Errorf("answered %d", resp.StatusCode)
			}
			if len(d.slack.Calls("views.publish")) != 1 {
				return errors.New("App Home was not published")
			}
			return nil
		})
		d.each("/billing transfer in "+w.team, w, func() error {
			resp := d.signed(slackapp.PathCommands, "application/x-www-form-urlencoded", slacktestx.Form("team_id", w.team, "user_id", w.owner.SlackUserID,
				"command", "/billing", "text", "transfer", "channel_id", "C1", "trigger_id", "trigger-"+w.team))
			if resp.StatusCode != 200 || len(d.slack.Calls("views.open")) != 1 {
				return fmt.Errorf("answered %d, %d views.open", resp.StatusCode, len(d.slack.Calls("views.open")))
			}
			return nil
		})
		d.each("transfer outcome in "+w.team, w, func() error {
			tr, _, err := d.store.RequestTransfer(d.ctx, w.org, w.owner.ID, w.member.ID)
			if err != nil {
				return err
			}
			if err := d.store.SetTransferMessages(d.ctx, w.org, tr.ID, domain.Message{Channel: "D" + w.member.SlackUserID, TS: "1.1"},
				domain.Message{Channel: "D" + w.owner.SlackUserID, TS: "1.2"}); err != nil {
				return err
			}
			tr, err = d.store.DeclineTransfer(d.ctx, w.org, tr.ID, w.member.ID)
			if err != nil {
				return err
			}
			if err := d.app.AnnounceTransferOutcome(d.ctx, tr); err != nil {
				return err
			}
			if len(d.slack.Calls("chat.update")) != 2 {
				return errors.New("the transfer's messages were not rewritten")
			}
			return nil
		})
		d.each("low-balance alert of "+w.org, w, func() error {
			org, err := d.store.GetOrg(d.ctx, w.org)
			if err != nil {
				return err
			}
			owner, _ := d.store.GetMember(d.ctx, w.org, w.owner.ID)
			al := domain.Alert{Kind: domain.AlertLowBalance, OrgID: w.org, Threshold: org.LowBalanceThreshold, Balance: domain.MicrosPerCredit,
				Keys: []domain.OnceKey{domain.NewOnceKey("test", w.org)}}
			return d.app.SendAlert(d.ctx, org, owner, al, nil)
		})
	}
}

// TestUninstallByEvent: a signed app_uninstalled (or tokens_revoked)
// event removes that workspace's installation and nothing else; installing
// again restores it.
func TestUninstallByEvent(t *testing.T) {
	for _, ev := range []map[string]any{
		{"type": "app_uninstalled"},
		{"type": "tokens_revoked", "tokens": map[string]any{"bot": []string{"U0BOT0GLOBEX"}}},
	} {
		t.Run(ev["type"].(string), func(t *testing.T) {
			d := newDeployment(t)
			if _, err := d.tokenOf(globex.team); err != nil { // cached in this instance
				t.Fatal(err)
			}
			d.slack.Revoke(globex.token) // Slack revokes the token, then tells the app
			if resp := d.event(globex.team, ev); resp.StatusCode != http.StatusOK {
				t.Fatalf("event answered %d", resp.StatusCode)
			}
			if _, ok := d.installed(globex.team); ok {
				t.Error("the installation is still stored")
			}
			if _, err := d.ws.Client(d.ctx, globex.team); !errors.Is(err, slackapp.ErrNotInstalled) {
				t.Errorf("globex after the event: %v, want ErrNotInstalled at once", err)
			}
			if tok, err := d.tokenOf(acme.team); err != nil || tok != acme.token {
				t.Errorf("acme after globex's uninstall: %q, %v", tok, err)
			}
			if !strings.Contains(d.logs.String(), `"msg":"slack: installation removed","team":"T0GLOBEX"`) {
				t.Errorf("the removal is not logged:\n%s", d.logs.String())
			}

			d.clock.Advance(time.Hour)
			d.install(globex.team, "xoxb-globex-again")
			if tok, err := d.tokenOf(globex.team); err != nil || tok != "xoxb-globex-again" {
				t.Errorf("globex installed again: %q, %v", tok, err)
			}
		})
	}
}

// TestCommandsInAnUninstalledWorkspace: a person whose workspace
// uninstalled the app is told so and where an admin installs it again;
// the other workspace is unaffected.
func TestCommandsInAnUninstalledWorkspace(t *testing.T) {
	d := newDeployment(t)
	d.slack.Revoke(globex.token) // Slack revokes the token, then tells the app
	if resp := d.event(globex.team, map[string]any{"type": "app_uninstalled"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("event answered %d", resp.StatusCode)
	}
	transfer := func(w workspace) string {
		resp := d.signed(slackapp.PathCommands, "application/x-www-form-urlencoded", slacktestx.Form("team_id", w.team, "user_id", w.owner.SlackUserID,
			"command", "/billing", "text", "transfer", "channel_id", "C1", "trigger_id", "trigger-"+w.team))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: answered %d", w.team, resp.StatusCode)
		}
		return resp.Body
	}
	want := "A workspace admin can install it from " + d.inst.InstallURL()
	if d.inst.InstallURL() == "" {
		t.Fatal("the fixture's installer has no install URL")
	}
	if got := transfer(globex); !strings.Contains(got, want) {
		t.Errorf("globex's /billing transfer answered %s, want it to contain %q", got, want)
	}
	d.slack.Reset()
	if got := transfer(acme); strings.Contains(got, "not installed") || len(d.slack.Calls("views.open")) != 1 {
		t.Errorf("acme's /billing transfer answered %s and opened %d dialogs", got, len(d.slack.Calls("views.open")))
	}
}

// TestAlertsToAnUninstalledWorkspace: after globex's workspace uninstalled
// the app, its alerts are undeliverable: logged, not retried, and sent
// with no token; acme's still go out with acme's.
func TestAlertsToAnUninstalledWorkspace(t *testing.T) {
	d := newDeployment(t)
	d.slack.Revoke(globex.token)
	d.event(globex.team, map[string]any{"type": "app_uninstalled"})
	n := notify.New(d.store, d.app, notify.WithLogger(d.log))

	poolRecord := func(org string) events.DynamoDBEvent {
		img := func(balance int64) map[string]events.DynamoDBAttributeValue {
			return map[string]events.DynamoDBAttributeValue{
				"PK": events.NewStringAttribute("ORG#" + org), "SK": events.NewStringAttribute("POOL"),
				"type": events.NewStringAttribute("pool"), "org_id": events.NewStringAttribute(org),
				"balance_micros": events.NewNumberAttribute(fmt.Sprint(balance)), "granted_micros": events.NewNumberAttribute("100000000"),
				"threshold_micros": events.NewNumberAttribute("10000000"), "agents_version": events.NewNumberAttribute("0"),
			}
		}
		return events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{{EventID: "e-" + org, EventName: "MODIFY", EventSource: "aws:dynamodb",
			Change: events.DynamoDBStreamRecord{OldImage: img(11_000_000), NewImage: img(9_000_000), SequenceNumber: "1" + org}}}}
	}
	d.slack.Reset()
	before := len(d.asked.named())
	resp := n.HandleStream(d.ctx, poolRecord(globex.org))
	d.named("alert of globex", before)
	if len(resp.BatchItemFailures) != 0 {
		t.Errorf("globex's alert will be retried: %v", resp.BatchItemFailures)
	}
	if calls := d.slack.Calls(); len(calls) != 0 {
		t.Errorf("globex's alert reached Slack: %+v", calls)
	}
	if !strings.Contains(d.logs.String(), `"msg":"notifier: alert not sent: undeliverable"`) {
		t.Errorf("the undeliverable alert is not logged:\n%s", d.logs.String())
	}
	d.each("alert of acme", acme, func() error {
		if resp := n.HandleStream(d.ctx, poolRecord(acme.org)); len(resp.BatchItemFailures) != 0 {
			return fmt.Errorf("failures %v", resp.BatchItemFailures)
		}
		if len(d.slack.Calls("chat.postMessage")) != 1 {
			return errors.New("acme's alert was not sent")
		}
		return nil
	})
}

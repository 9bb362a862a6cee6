package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/kmskeys"
	"github.com/orgcredit/orgcredit/internal/slackapp"
)

// The demo organization of the worked example: Acme, whose Billing is held
// by Dina (an Owner), with Sari from finance (a Member who may receive
// Billing) and Ravi (a Builder); two teams with budget groups; 100 credits.
// Their Slack ids are placeholders unless DEMO_SLACK_* name real ones
// (socket.go).
const demoOrgID = "acme"

var (
	demoOwner   = domain.Member{OrgID: demoOrgID, ID: "dina", Name: "Dina", Role: domain.RoleOwner, Status: domain.MemberActive}
	demoMembers = []domain.Member{
		{OrgID: demoOrgID, ID: "sari", Name: "Sari (Finance)", Role: domain.RoleMember, Status: domain.MemberActive},
		{OrgID: demoOrgID, ID: "ravi", Name: "Ravi", Role: domain.RoleBuilder, Status: domain.MemberActive},
	}
	demoGroups = []domain.BudgetGroup{
		{OrgID: demoOrgID, ID: "research", Name: "Research", Cap: 50 * domain.MicrosPerCredit},
		{OrgID: demoOrgID, ID: "support", Name: "Support", Cap: 20 * domain.MicrosPerCredit},
	}
	demoGrant  = domain.Grant{OrgID: demoOrgID, ID: "demo-welcome", Amount: 100 * domain.MicrosPerCredit, Reason: "demo credit"}
	demoAgents = []domain.Agent{
		{OrgID: demoOrgID, ID: "research-bot", Name: "Research bot", BudgetGroupID: "research"},
		{OrgID: demoOrgID, ID: "support-bot", Name: "Support bot", BudgetGroupID: "support"},
	}
)

// demoOrg is what the banner shows of the seeded organization.
type demoOrg struct {
	Agents []demoAgent
	// Reused is set when the organization already existed (a persistent
	// DynamoDB endpoint): the first agents' tokens were shown then and
	// cannot be read back, so fresh agents were made for this run.
	Reused bool
	// Slack is who its people are in Slack.
	Slack demoSlack
}

type demoAgent struct {
	ID, Group, Token string
}

// seedDemo creates the demo organization with the placeholder Slack ids.
func seedDemo(ctx context.Context, st *dynamo.Store) (*demoOrg, error) {
	return seedDemoFor(ctx, st, placeholderDemoSlack)
}

// seedDemoFor creates the demo organization idempotently, its people being
// who ids says in Slack: every id is fixed, so a second start finds
// everything in place. Tokens are stored only as hashes, so on such a
// start new agents are created to have tokens to print.
func seedDemoFor(ctx context.Context, st *dynamo.Store, ids demoSlack) (*demoOrg, error) {
	org := domain.Org{ID: demoOrgID, Name: "Acme Corp", SlackTeamID: ids.Team, LowBalanceThreshold: 10 * domain.MicrosPerCredit}
	owner := demoOwner
	owner.SlackUserID = ids.Dina
	// A table that keeps its data (DYNAMODB_ENDPOINT) keeps the Slack ids
	// of the first start: other ones are refused as other content.
	otherIDs := func(err error) string {
		if _, ok := errors.AsType[*domain.Refusal](err); ok {
			return fmt.Sprintf(" (was it seeded with other Slack ids? This start has team %s, Dina %s, Sari %s: use a fresh TABLE_NAME to seed them)", ids.Team, ids.Dina, ids.Sari)
		}
		return ""
	}
	if _, _, err := st.CreateOrg(ctx, org, owner); err != nil {
		return nil, fmt.Errorf("organization %s: %w%s", org.ID, err, otherIDs(err))
	}
	slackID := map[string]string{"sari": ids.Sari, "ravi": ids.Ravi}
	for _, m := range demoMembers {
		m.SlackUserID = slackID[m.ID]
		if _, _, err := st.AddMember(ctx, m, nil); err != nil {
			return nil, fmt.Errorf("member %s: %w%s", m.ID, err, otherIDs(err))
		}
	}
	for _, g := range demoGroups {
		if _, _, err := st.CreateGroup(ctx, g, nil); err != nil {
			return nil, fmt.Errorf("budget group %s: %w", g.ID, err)
		}
	}
	if _, _, _, err := st.Grant(ctx, demoGrant, nil); err != nil {
		return nil, fmt.Errorf("grant %s: %w", demoGrant.ID, err)
	}
	demo := &demoOrg{Slack: ids}
	for _, a := range demoAgents {
		_, token, _, err := st.CreateAgent(ctx, a, nil)
		if err != nil {
			return nil, fmt.Errorf("agent %s: %w", a.ID, err)
		}
		if token == "" {
			demo.Reused = true
			a.ID = fmt.Sprintf("%s-%d", a.ID, time.Now().Unix())
			if _, token, _, err = st.CreateAgent(ctx, a, nil); err != nil {
				return nil, fmt.Errorf("agent %s: %w", a.ID, err)
			}
		}
		demo.Agents = append(demo.Agents, demoAgent{ID: a.ID, Group: a.BudgetGroupID, Token: token})
	}
	return demo, nil
}

// printBanner tells what runs where, the values made up at start, and
// ready-to-paste curl lines.
func printBanner(w io.Writer, cfg config, base string, demo *demoOrg) {
	backend := "embedded (in memory; gone when the server stops)"
	if cfg.DynamoDBEndpoint != "" {
		backend = cfg.DynamoDBEndpoint
	}
	fmt.Fprintf(w, "orgcredit local server on %s\n", base)
	fmt.Fprintf(w, "  DynamoDB: %s, table %s\n", backend, cfg.Table)
	fmt.Fprintf(w, "  agent API %s/v1/  admin API %s/admin/  Slack %s/slack/{commands,interactions,events}\n", base, base, base)
	switch {
	case cfg.useStandIn():
		fmt.Fprintln(w, "  Slack Web API: the local stand-in (no SLACK_API_URL, SLACK_BOT_TOKEN, SLACK_CLIENT_ID or SLACK_APP_TOKEN): the app's calls")
		fmt.Fprintln(w, "    are answered in process and printed to this server's log: messages, dialogs, Home tabs, buttons with their values")
	case !cfg.slackReachable():
		fmt.Fprintln(w, "  Slack Web API: none configured (SLACK_API_URL, SLACK_BOT_TOKEN, SLACK_CLIENT_ID); the Billing holder's notifications are printed here instead")
	}
	if cfg.oauth() {
		fmt.Fprintf(w, "  Slack installs by OAuth: open %s%s in a browser; Slack sends installers back to %s (add it to the app's redirect URLs)\n",
			base, slackapp.PathInstall, cfg.redirectURL())
	}
	printSocketMode(w, cfg)
	for _, name := range cfg.generated {
		v := cfg.AdminToken
		switch name {
		case "SLACK_SIGNING_SECRET":
			v = cfg.SlackSigningSecret
		case kmskeys.EnvLocalKey:
			v = cfg.SlackLocalKey + " (it seals the installed workspaces' bot tokens: set it to read this run's installations again)"
		}
		fmt.Fprintf(w, "  %s was not set; generated: %s\n", name, v)
	}
	if demo == nil {
		fmt.Fprintln(w, "\nNo demo organization (-seed=false).")
		return
	}
	fmt.Fprintf(w, "\nDemo organization %q (Acme Corp, Slack team %s): Dina holds Billing (Owner), Sari (Member), Ravi (Builder);\n", demoOrgID, demo.Slack.Team)
	fmt.Fprintf(w, "budget groups research (cap 50 credits) and support (cap 20 credits); 100 credits granted.\n")
	printDemoSlack(w, demo.Slack)
	if demo.Reused {
		fmt.Fprintln(w, "The organization existed already: its first agents' tokens were shown when they were created and cannot be read back, so new agents were made for this run.")
	}
	fmt.Fprintln(w, "Agent tokens (shown once):")
	for _, a := range demo.Agents {
		fmt.Fprintf(w, "  %-28s group %-9s %s\n", a.ID, a.Group, a.Token)
	}
	token := demo.Agents[0].Token
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	fmt.Fprintln(w, "\nTry:")
	fmt.Fprintf(w, "  curl -sS -X POST %s/v1/usage -H %s -H 'Content-Type: application/json' -d '{\"id\":\"demo-0001\",\"amount_micros\":1250000,\"kind\":\"conversation\"}'\n",
		base, q("Authorization: Bearer "+token))
	fmt.Fprintf(w, "  curl -sS -X POST %s/v1/usage/batch -H %s -H 'Content-Type: application/json' -d '{\"events\":[{\"id\":\"demo-0002\",\"amount_micros\":500000},{\"id\":\"demo-0003\",\"amount_micros\":250000,\"kind\":\"search\"}]}'\n",
		base, q("Authorization: Bearer "+token))
	fmt.Fprintf(w, "  curl -sS %s/v1/balance -H %s\n", base, q("Authorization: Bearer "+token))
	fmt.Fprintf(w, "  curl -sS %s/admin/orgs/%s -H %s\n", base, demoOrgID, q("Authorization: Bearer "+cfg.AdminToken))
	fmt.Fprintf(w, "  curl -sS '%s/admin/orgs/%s/audit?limit=20' -H %s\n", base, demoOrgID, q("Authorization: Bearer "+cfg.AdminToken))
	fmt.Fprintln(w, "(Send the same usage twice: the second answer says \"duplicate\": true and debits nothing.)")
	if cfg.useStandIn() {
		printPlay(w, cfg, base, demo.Slack)
	}
}

// slackRequestCmd runs the tool that plays Slack's side.
const slackRequestCmd = "go run ./internal/slackapp/cmd/slack-request"

// defaultBase is the local server's address by default, which
// slack-request posts to unless told otherwise.
const defaultBase = "http://127.0.0.1:8080"

// playCommand is the slack-request command line for this server: its
// address when not the default, and its signing secret.
func playCommand(cfg config, base string) string {
	c := slackRequestCmd
	if base != defaultBase {
		c += " -url " + shellWord(base)
	}
	return c + " -secret " + shellWord(cfg.SlackSigningSecret)
}

// printPlay is the banner's ready-to-run lines that play the worked
// example in Slack against the stand-in.
func printPlay(w io.Writer, cfg config, base string, ids demoSlack) {
	play := playCommand(cfg, base)
	if ids.Team != placeholderDemoSlack.Team {
		play += " -team " + shellWord(ids.Team)
	}
	as := func(user string) string {
		if user == placeholderDemoSlack.Dina {
			return play
		}
		return play + " -user " + shellWord(user)
	}
	dina := as(ids.Dina)
	fmt.Fprintln(w, "\nPlay Slack (requests signed now with this run's secret; the stand-in prints what Slack would show):")
	fmt.Fprintf(w, "  %s command \"/billing status\"\n", dina)
	fmt.Fprintf(w, "  %s home\n", dina)
	fmt.Fprintf(w, "  %s command \"/billing transfer\"\n", dina)
	fmt.Fprintf(w, "  %s transfer sari\n", dina)
	if ids.Sari != "" {
		fmt.Fprintf(w, "  %s accept tr_…   # the id printed with Sari's Accept button\n", as(ids.Sari))
	}
	fmt.Fprintf(w, "  %s file events/slack/command_billing_status.json\n", dina)
	if slices.Contains(cfg.generated, "SLACK_SIGNING_SECRET") {
		fmt.Fprintln(w, "(The secret changes with every start: SLACK_SIGNING_SECRET=local-secret go run ./functions/local gives a fixed one for scripts,")
		fmt.Fprintln(w, " and with SLACK_SIGNING_SECRET exported slack-request needs no -secret. -help lists every subcommand.)")
	} else {
		fmt.Fprintln(w, "(The secret is SLACK_SIGNING_SECRET's: with it exported, slack-request needs no -secret. -help lists every subcommand.)")
	}
}

// shellWord quotes s for a POSIX shell when it needs it.
func shellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:@%+=,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// demoNames are the demo's people by Slack id, for the stand-in.
func demoNames(demo *demoOrg) map[string]string {
	names := map[string]string{}
	if demo == nil {
		return names
	}
	byID := map[string]string{"dina": demo.Slack.Dina, "sari": demo.Slack.Sari, "ravi": demo.Slack.Ravi}
	for _, m := range append([]domain.Member{demoOwner}, demoMembers...) {
		if id := byID[m.ID]; id != "" {
			names[id] = m.Name
		}
	}
	return names
}

package slackapp

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/slackapp/blockkit"
	"github.com/orgcredit/orgcredit/internal/slackapp/mrkdwn"
)

// update rewrites the golden files: go test ./internal/slackapp -run Golden -update
var update = flag.Bool("update", false, "rewrite the golden files of the Slack surfaces")

// Every surface a person reads, rendered from fixed values, as the JSON
// Slack receives: reviewed in diffs, and shown in the README. Each is also
// checked against Block Kit's rules.

var (
	g0   = time.Date(2026, 11, 30, 14, 5, 0, 0, time.UTC)
	gOrg = domain.Org{ID: "acme", Name: "Acme Corp", SlackTeamID: "T0ACME", BillingHolderID: "dina", OwnerCount: 1,
		LowBalanceThreshold: 10 * domain.MicrosPerCredit}
	gDina = domain.Member{OrgID: "acme", ID: "dina", Name: "Dina", SlackUserID: "U0DINA", Role: domain.RoleOwner, Status: domain.MemberActive}
	gSari = domain.Member{OrgID: "acme", ID: "sari", Name: "Sari (Finance)", SlackUserID: "U0SARI", Role: domain.RoleMember, Status: domain.MemberActive}
	gRavi = domain.Member{OrgID: "acme", ID: "ravi", Name: "Ravi", SlackUserID: "U0RAVI", Role: domain.RoleBuilder, Status: domain.MemberActive}
	gTr   = domain.Transfer{OrgID: "acme", ID: "tr_golden", InitiatorID: "dina", RecipientID: "sari", Status: domain.TransferPending,
		RequestedAt: g0, ExpiresAt: g0.Add(domain.DefaultTransferTTL)}
)

func goldenApp() *App {
	return New(Config{AppID: "A0ORGCREDIT", Now: func() time.Time { return g0 }})
}

func golden(t *testing.T, name string, v any) {
	t.Helper()
	if err := blockkit.Validate(v); err != nil {
		t.Errorf("%s breaks Block Kit's rules:\n%v", name, err)
	}
	goldenFile(t, name, v)
}

// goldenFile compares v, as indented JSON, with its golden file.
func goldenFile(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(bytes.ReplaceAll(bytes.ReplaceAll(bytes.ReplaceAll(got, []byte(`\u003c`), []byte("<")), []byte(`\u003e`), []byte(">")), []byte(`\u0026`), []byte("&")), '\n')
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed; review the diff and run with -update if it is right.\ngot:\n%s", name, got)
	}
}

// msg is a message as chat.postMessage sends it.
func msg(m message) map[string]any {
	return map[string]any{"text": m.text.String(), "blocks": m.blocks}
}

func TestGoldenTransfer(t *testing.T) {
	golden(t, "transfer_dialog", transferDialog(gOrg, []domain.Member{gRavi, gSari}, nil, domain.DefaultTransferTTL))
	golden(t, "transfer_dialog_member_chosen", transferDialog(gOrg, []domain.Member{gRavi, gSari}, &gSari, domain.DefaultTransferTTL))

	p := transferParts{org: gOrg, t: gTr, initiator: gDina, recipient: gSari, homeURL: "slack://app?team=T0ACME&id=A0ORGCREDIT&tab=home"}
	golden(t, "transfer_request_to_recipient", msg(requestMessage(p)))
	golden(t, "transfer_confirmation_to_initiator", msg(confirmationMessage(p)))

	for _, st := range []domain.TransferStatus{domain.TransferAccepted, domain.TransferDeclined, domain.TransferCancelled, domain.TransferExpired, domain.TransferInvalidated} {
		q := p
		q.t.Status, q.t.ClosedAt = st, g0.Add(3*time.Hour)
		if st == domain.TransferExpired {
			q.t.ClosedAt = q.t.ExpiresAt
		}
		if st == domain.TransferInvalidated {
			q.t.Reason = "Sari (Finance) left the organization."
		}
		golden(t, "transfer_"+string(st)+"_recipient", msg(recipientOutcome(q)))
		golden(t, "transfer_"+string(st)+"_initiator", msg(initiatorOutcome(q, true)))
		w := q.words()
		goldenFile(t, "transfer_"+string(st)+"_thread_replies", map[string]string{"to_recipient": w.tellRecipient.String(), "to_initiator": w.tellInitiator.String()})
	}
}

// gFacts are Acme's credit on 30 November: 82.5 credits left, a week of
// use, three groups.
func gFacts() creditFacts {
	f := creditFacts{org: gOrg, period: "2026-11",
		pool:      domain.Pool{OrgID: "acme", Balance: 82_500_000, Granted: 500 * domain.MicrosPerCredit, Threshold: 10 * domain.MicrosPerCredit},
		thisMonth: 417_500_000, lastMonth: 388_250_000, today: 6_250_000,
	}
	f.daysLeft, f.paceKnown = 4, true
	research := domain.BudgetGroup{OrgID: "acme", ID: "research", Name: "Research", Cap: 200 * domain.MicrosPerCredit}
	support := domain.BudgetGroup{OrgID: "acme", ID: "support", Name: "Support", Cap: 100 * domain.MicrosPerCredit}
	ops := domain.BudgetGroup{OrgID: "acme", ID: "ops", Name: "Ops & <!channel>", Cap: 50 * domain.MicrosPerCredit}
	f.groups = []domain.GroupStatus{
		domain.NewGroupStatus(research, "2026-11", 164_000_000),
		domain.NewGroupStatus(support, "2026-11", 100_000_000),
		domain.NewGroupStatus(ops, "2026-11", 6_000_000),
	}
	sortGroups(f.groups)
	return f
}

func TestGoldenHome(t *testing.T) {
	a := goldenApp()
	n := names{"dina": gDina, "sari": gSari, "ravi": gRavi}
	f := gFacts()
	chartBlock := slack.NewImageBlockSlackFile(&slack.SlackFileObject{ID: "F0CHART"},
		"Daily usage of Acme Corp, 1–30 November 2026: 417.5 credits in total, highest 38.2 credits on 16 November.", chartBlockID, nil)
	holder := homeData{ms: []domain.Membership{{Org: gOrg, Member: gDina}}, m: domain.Membership{Org: gOrg, Member: gDina},
		names: n, credit: &f, chart: chartBlock, trend: mrkdwn.F("%s", "▂▃▅▃▂▇█▅▃▂ 417.5 credits in 30 days; last 7 days 98.55 credits, up 5 % on the 7 days before"), now: g0}
	golden(t, "home_holder", slack.HomeTabViewRequest{Type: slack.VTHomeTab, PrivateMetadata: "acme", Blocks: slack.Blocks{BlockSet: a.renderHome(holder)}})

	pending := gTr
	withRequest := holder
	withRequest.pending = &pending
	golden(t, "home_holder_transfer_pending", slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: a.renderHome(withRequest)}})

	beta := domain.Org{ID: "beta", Name: "Beta Labs", SlackTeamID: "T0ACME", BillingHolderID: "sari-b"}
	recipient := homeData{ms: []domain.Membership{{Org: gOrg, Member: gSari}, {Org: beta, Member: domain.Member{ID: "sari-b", Role: domain.RoleOwner, Status: domain.MemberActive}}},
		m: domain.Membership{Org: gOrg, Member: gSari}, names: n, pending: &pending, now: g0}
	golden(t, "home_recipient_with_request", slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: a.renderHome(recipient)}})

	member := homeData{ms: []domain.Membership{{Org: gOrg, Member: gRavi}}, m: domain.Membership{Org: gOrg, Member: gRavi}, names: n, now: g0}
	golden(t, "home_member", slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: a.renderHome(member)}})

	// A holder who is not an Owner is told what must happen first.
	sariHolds := gOrg
	sariHolds.BillingHolderID = "sari"
	nonOwner := homeData{ms: []domain.Membership{{Org: sariHolds, Member: gSari}}, m: domain.Membership{Org: sariHolds, Member: gSari},
		names: n, credit: &f, trend: mrkdwn.F("No usage in the last 30 days."), now: g0}
	golden(t, "home_holder_not_owner", slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: a.renderHome(nonOwner)}})
}

func TestGoldenCreditAndAlerts(t *testing.T) {
	a := goldenApp()
	f := gFacts()
	golden(t, "credit_holder", msg(a.creditAnswer(gOrg, f)))

	withTopUp := gOrg
	withTopUp.TopUpURL = "https://billing.example.com/acme"
	low := f
	low.pool.Balance = 8_000_000
	golden(t, "alert_low_balance", msg(a.renderAlert(withTopUp, domain.Alert{Kind: domain.AlertLowBalance, OrgID: "acme", Balance: 8_000_000, Threshold: 10 * domain.MicrosPerCredit}, nil, low)))
	empty := f
	empty.pool.Balance = 0
	golden(t, "alert_empty", msg(a.renderAlert(gOrg, domain.Alert{Kind: domain.AlertExhausted, OrgID: "acme", Threshold: 10 * domain.MicrosPerCredit}, nil, empty)))
	research := f.groups[1].Group
	golden(t, "alert_group_near_cap", msg(a.renderAlert(gOrg, domain.Alert{Kind: domain.AlertGroupSpend, OrgID: "acme", GroupID: "research", Period: "2026-11",
		Spent: 164_000_000, Cap: 200 * domain.MicrosPerCredit, Level: 80}, &research, f)))
	support := f.groups[0].Group
	golden(t, "alert_group_at_cap", msg(a.renderAlert(gOrg, domain.Alert{Kind: domain.AlertGroupSpend, OrgID: "acme", GroupID: "support", Period: "2026-11",
		Spent: 100 * domain.MicrosPerCredit, Cap: 100 * domain.MicrosPerCredit, Level: 100}, &support, f)))
}

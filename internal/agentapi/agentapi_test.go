package agentapi

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamo"
)

func TestDebitIsIdempotent(t *testing.T) {
	f := newFixture(t)
	body := `{"id":"evt-1","amount_micros":1250000,"kind":"conversation","occurred_at":"2026-11-03T13:59:00Z"}`
	first := f.postUsage("research-bot", body)
	if first.StatusCode != 200 {
		t.Fatalf("first POST = %d %s", first.StatusCode, first.Body)
	}
	var u1 UsageResponse
	decode(t, first, &u1)
	want := UsageResponse{ID: "evt-1", AgentID: "research-bot", AmountMicros: 1250000, Kind: "conversation", Period: "2026-11",
		OccurredAt: "2026-11-03T13:59:00Z", RecordedAt: "2026-11-03T14:00:00Z", BalanceMicros: 100*credit - 1250000}
	if u1.BudgetGroupID == nil || *u1.BudgetGroupID != "research" || u1.RemainingMicros == nil || *u1.RemainingMicros != 50*credit-1250000 || u1.Duplicate {
		t.Errorf("first answer %s", first.Body)
	}
	u1.BudgetGroupID, u1.RemainingMicros = nil, nil
	if u1 != want {
		t.Errorf("first answer = %+v, want %+v", u1, want)
	}

	f.clock.Advance(time.Minute)
	second := f.postUsage("research-bot", body)
	if second.StatusCode != first.StatusCode {
		t.Fatalf("duplicate status = %d, want the original's %d", second.StatusCode, first.StatusCode)
	}
	if want := strings.Replace(first.Body, `"duplicate":false`, `"duplicate":true`, 1); second.Body != want {
		t.Errorf("duplicate body\n got %s\nwant %s", second.Body, want)
	}
	if b := f.balance("research-bot"); b.BalanceMicros != 100*credit-1250000 || b.BudgetGroup.SpentMicros != 1250000 {
		t.Errorf("after a duplicate, balance %d spent %d: debited twice?", b.BalanceMicros, b.BudgetGroup.SpentMicros)
	}

	before := f.state()
	for _, other := range []string{
		`{"id":"evt-1","amount_micros":1250001,"kind":"conversation","occurred_at":"2026-11-03T13:59:00Z"}`,
		`{"id":"evt-1","amount_micros":1250000,"kind":"search","occurred_at":"2026-11-03T13:59:00Z"}`,
		`{"id":"evt-1","amount_micros":1250000,"kind":"conversation"}`,
	} {
		resp := f.postUsage("research-bot", other)
		if resp.StatusCode != 409 {
			t.Fatalf("same id, other content = %d %s, want 409", resp.StatusCode, resp.Body)
		}
		if p := problem(t, resp); p["type"] != "https://orgcredit.dev/problems/usage-id-conflict" {
			t.Errorf("problem type %v", p["type"])
		}
	}
	f.requireUnchanged(before)

	// The same id from another agent of the organization is other content.
	if resp := f.postUsage("support-bot", body); resp.StatusCode != 409 {
		t.Errorf("same id from another agent = %d %s, want 409", resp.StatusCode, resp.Body)
	}
	f.requireUnchanged(before)
}

func TestPoolCannotPay(t *testing.T) {
	f := newFixture(t)
	// Globex has 10 credits and an agent without a group.
	before := f.state()
	resp := f.postUsage("globex-bot", `{"id":"big","amount_micros":10000001}`)
	if resp.StatusCode != 402 {
		t.Fatalf("POST = %d %s, want 402", resp.StatusCode, resp.Body)
	}
	p := problem(t, resp)
	if p["type"] != "https://orgcredit.dev/problems/insufficient-credit" || p["balance_micros"] != float64(10*credit) || p["requested_micros"] != float64(10000001) {
		t.Errorf("problem = %v", p)
	}
	f.requireUnchanged(before)

	// Exactly the balance can be paid; then every agent is refused.
	if resp := f.postUsage("globex-bot", `{"id":"all","amount_micros":10000000}`); resp.StatusCode != 200 {
		t.Fatalf("paying the whole balance = %d %s", resp.StatusCode, resp.Body)
	}
	if resp := f.postUsage("globex-bot", `{"id":"one-more","amount_micros":1}`); resp.StatusCode != 402 {
		t.Errorf("empty pool answered %d %s", resp.StatusCode, resp.Body)
	}
	if b := f.balance("globex-bot"); b.BalanceMicros != 0 {
		t.Errorf("balance %d, want 0", b.BalanceMicros)
	}
}

func TestGroupCap(t *testing.T) {
	f := newFixture(t)
	if resp := f.postUsage("research-bot", `{"id":"r1","amount_micros":40000000}`); resp.StatusCode != 200 {
		t.Fatalf("first research debit = %d %s", resp.StatusCode, resp.Body)
	}
	before := f.state()
	resp := f.postUsage("research-bot", `{"id":"r2","amount_micros":10000001}`)
	if resp.StatusCode != 402 {
		t.Fatalf("over the cap = %d %s, want 402", resp.StatusCode, resp.Body)
	}
	p := problem(t, resp)
	if p["type"] != "https://orgcredit.dev/problems/budget-group-cap-reached" || p["budget_group_id"] != "research" ||
		p["cap_micros"] != float64(50*credit) || p["spent_micros"] != float64(40*credit) || p["period"] != "2026-11" {
		t.Errorf("problem = %v", p)
	}
	if d, _ := p["detail"].(string); !strings.Contains(d, "research") || !strings.Contains(d, "2026-11") {
		t.Errorf("detail %q does not name the group and period", d)
	}
	f.requireUnchanged(before)

	// The other teams keep working.
	resp = f.postUsage("support-bot", `{"id":"s1","amount_micros":5000000}`)
	if resp.StatusCode != 200 {
		t.Fatalf("support debit while research is capped = %d %s", resp.StatusCode, resp.Body)
	}
	var u UsageResponse
	decode(t, resp, &u)
	if *u.RemainingMicros != 15*credit || u.BalanceMicros != 55*credit {
		t.Errorf("support debit answered %s", resp.Body)
	}
	if resp := f.postUsage("free-bot", `{"id":"f1","amount_micros":1000000}`); resp.StatusCode != 200 {
		t.Errorf("agent without a group = %d %s", resp.StatusCode, resp.Body)
	} else {
		var u UsageResponse
		decode(t, resp, &u)
		if u.RemainingMicros != nil || u.BudgetGroupID != nil || !strings.Contains(resp.Body, `"remaining_micros":null`) {
			t.Errorf("agent without a group answered %s", resp.Body)
		}
	}
	// Up to the cap exactly is allowed.
	if resp := f.postUsage("research-bot", `{"id":"r3","amount_micros":10000000}`); resp.StatusCode != 200 {
		t.Errorf("debit up to the cap = %d %s", resp.StatusCode, resp.Body)
	}
}

func TestNextPeriodStartsFromZero(t *testing.T) {
	f := newFixture(t)
	f.clock.Set(time.Date(2026, 11, 30, 23, 59, 0, 0, time.UTC))
	if resp := f.postUsage("support-bot", `{"id":"nov","amount_micros":20000000}`); resp.StatusCode != 200 {
		t.Fatalf("November debit = %d %s", resp.StatusCode, resp.Body)
	}
	if resp := f.postUsage("support-bot", `{"id":"nov-2","amount_micros":1}`); resp.StatusCode != 402 {
		t.Fatalf("over November's cap = %d %s", resp.StatusCode, resp.Body)
	}
	f.clock.Set(time.Date(2026, 12, 1, 0, 0, 1, 0, time.UTC))
	b := f.balance("support-bot")
	if b.BudgetGroup == nil || b.BudgetGroup.Period != "2026-12" || b.BudgetGroup.SpentMicros != 0 || b.BudgetGroup.RemainingMicros != 20*credit {
		t.Errorf("December balance = %+v", b.BudgetGroup)
	}
	resp := f.postUsage("support-bot", `{"id":"dec","amount_micros":3000000}`)
	if resp.StatusCode != 200 {
		t.Fatalf("December debit = %d %s", resp.StatusCode, resp.Body)
	}
	var u UsageResponse
	decode(t, resp, &u)
	if u.Period != "2026-12" || *u.RemainingMicros != 17*credit || u.BalanceMicros != 77*credit {
		t.Errorf("December debit answered %s", resp.Body)
	}
}

func TestBalance(t *testing.T) {
	f := newFixture(t)
	f.postUsage("research-bot", `{"id":"a","amount_micros":2000000}`)
	b := f.balance("research-bot")
	want := BalanceResponse{OrgID: "acme", AgentID: "research-bot", BalanceMicros: 98 * credit,
		BudgetGroup: &GroupBalance{ID: "research", Name: "Research", CapMicros: 50 * credit, SpentMicros: 2 * credit, RemainingMicros: 48 * credit, Period: "2026-11"}}
	if b.OrgID != want.OrgID || b.AgentID != want.AgentID || b.BalanceMicros != want.BalanceMicros || b.BudgetGroup == nil || *b.BudgetGroup != *want.BudgetGroup {
		t.Errorf("balance = %+v %+v, want %+v %+v", b, b.BudgetGroup, want, want.BudgetGroup)
	}
	resp := f.do(request(http.MethodGet, "/v1/balance", f.tokens["free-bot"], "", ""))
	if !strings.Contains(resp.Body, `"budget_group":null`) {
		t.Errorf("agent without a group: %s", resp.Body)
	}
	if g := f.balance("globex-bot"); g.OrgID != "globex" || g.BalanceMicros != 10*credit {
		t.Errorf("globex balance = %+v", g)
	}
}

// TestTokenNamesTheOrganization: nothing in the body can name another
// organization or agent; such bodies are refused and debit nothing anywhere.
func TestTokenNamesTheOrganization(t *testing.T) {
	f := newFixture(t)
	before := f.state()
	for _, body := range []string{
		`{"id":"x1","amount_micros":1,"org_id":"globex"}`,
		`{"id":"x2","amount_micros":1,"org":"globex"}`,
		`{"id":"x3","amount_micros":1,"OrgID":"globex"}`,
		`{"id":"x4","amount_micros":1,"agent_id":"globex-bot"}`,
		`{"id":"x5","amount_micros":1,"organization":{"id":"globex"}}`,
		`{"ID":"x6","amount_micros":1}`,
		`{"id":"x7","ID":"x8","amount_micros":1}`,
		`{"id":"x9","Amount_Micros":1}`,
		`{"id":"x10","amount_micros":1,"AMOUNT_MICROS":2}`,
		`{"id":"x11","amount_micros":1,"amount_micros":2}`,
		`{"id":"x12","id":"x12","amount_micros":1}`,
		`{"id":"x13","amount_micros":1,"Org_Id":"globex"}`,
	} {
		for _, agent := range []string{"research-bot", "globex-bot"} {
			resp := f.postUsage(agent, body)
			if resp.StatusCode != 400 {
				t.Errorf("%s as %s = %d %s, want 400", body, agent, resp.StatusCode, resp.Body)
				continue
			}
			problem(t, resp)
		}
	}
	f.requireUnchanged(before)
	// The usage records were not written either: the same ids now debit.
	if resp := f.postUsage("research-bot", `{"id":"x1","amount_micros":1}`); resp.StatusCode != 200 || strings.Contains(resp.Body, `"duplicate":true`) {
		t.Errorf("x1 after the refusals = %d %s", resp.StatusCode, resp.Body)
	}
	if b := f.balance("globex-bot"); b.BalanceMicros != 10*credit {
		t.Errorf("globex balance moved to %d", b.BalanceMicros)
	}
}

func TestTokenCache(t *testing.T) {
	f := newFixture(t, WithTokenTTL(30*time.Second))
	token := f.tokens["support-bot"]
	get := func() int {
		return f.do(request(http.MethodGet, "/v1/balance", token, "", "")).StatusCode
	}
	if s := get(); s != 200 {
		t.Fatalf("first request = %d", s)
	}
	n := f.store.tokenLookups.Load()
	if n != 1 {
		t.Fatalf("first request made %d token lookups, want 1", n)
	}
	for i := range 20 {
		if s := get(); s != 200 {
			t.Fatalf("request %d = %d", i, s)
		}
		if resp := f.postUsage("support-bot", fmt.Sprintf(`{"id":"c%d","amount_micros":1}`, i)); resp.StatusCode != 200 {
			t.Fatalf("debit %d = %d %s", i, resp.StatusCode, resp.Body)
		}
	}
	if got := f.store.tokenLookups.Load(); got != n {
		t.Errorf("a warm cache looked the token up %d more times", got-n)
	}

	// Unknown tokens are cached too.
	unknown := domain.NewToken()
	for range 3 {
		if s := f.do(request(http.MethodGet, "/v1/balance", unknown, "", "")).StatusCode; s != 401 {
			t.Fatalf("unknown token = %d", s)
		}
	}
	if got := f.store.tokenLookups.Load(); got != n+1 {
		t.Errorf("an unknown token was looked up %d times, want once", got-n)
	}

	// A revocation holds at once, though the agent is cached: the very
	// next request is refused.
	if err := f.store.RevokeAgent(f.ctx, "acme", "support-bot", nil); err != nil {
		t.Fatal(err)
	}
	resp := f.do(request(http.MethodGet, "/v1/balance", token, "", ""))
	if resp.StatusCode != 401 || !strings.Contains(resp.Headers["WWW-Authenticate"], "invalid_token") {
		t.Fatalf("revoked token right after the revocation = %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	before := f.state()
	if resp := f.postUsage("support-bot", `{"id":"after-revoke","amount_micros":1}`); resp.StatusCode != 401 {
		t.Errorf("revoked token debit = %d %s", resp.StatusCode, resp.Body)
	}
	f.requireUnchanged(before)
}

// Two function instances share one table, each with its own token cache
// and store: what one revokes or moves, the other refuses or counts
// against the new group at its very next request, cache or no cache.
func TestAgentChangesHoldAtOnceAcrossInstances(t *testing.T) {
	f := newFixture(t)
	other := New(dynamo.New(f.store.Client(), f.store.Table(), dynamo.WithClock(f.clock.Now)), WithClock(f.clock.Now))
	post := func(api *API, agent, id string, amount int64) events.APIGatewayV2HTTPResponse {
		return f.doWith(api, request(http.MethodPost, "/v1/usage", f.tokens[agent], "application/json",
			fmt.Sprintf(`{"id":%q,"amount_micros":%d}`, id, amount)))
	}
	// Warm both instances' caches.
	for i, api := range []*API{f.api, other} {
		for _, agent := range []string{"research-bot", "free-bot"} {
			if resp := post(api, agent, fmt.Sprintf("warm-%s-%d", agent, i), 1); resp.StatusCode != 200 {
				t.Fatalf("warm-up debit of %s = %d %s", agent, resp.StatusCode, resp.Body)
			}
		}
	}
	// The first instance's operator revokes: the second refuses at once.
	if err := f.store.RevokeAgent(f.ctx, "acme", "research-bot", nil); err != nil {
		t.Fatal(err)
	}
	before := f.state()
	if resp := post(other, "research-bot", "after-revoke", credit); resp.StatusCode != 401 {
		t.Fatalf("the other instance's next debit of a revoked agent = %d %s", resp.StatusCode, resp.Body)
	}
	f.requireUnchanged(before)
	if resp := f.doWith(other, request(http.MethodGet, "/v1/balance", f.tokens["research-bot"], "", "")); resp.StatusCode != 401 {
		t.Fatalf("the other instance's balance of a revoked agent = %d %s", resp.StatusCode, resp.Body)
	}
	// A move: the next debit from the other instance counts against the
	// new group.
	if _, err := f.store.SetAgentGroup(f.ctx, "acme", "free-bot", "support", nil); err != nil {
		t.Fatal(err)
	}
	resp := post(other, "free-bot", "after-move", 2*credit)
	var got UsageResponse
	decode(t, resp, &got)
	if resp.StatusCode != 200 || got.BudgetGroupID == nil || *got.BudgetGroupID != "support" || got.RemainingMicros == nil || *got.RemainingMicros != 18*credit {
		t.Fatalf("debit after a move = %d %s", resp.StatusCode, resp.Body)
	}
}

func TestTokenTTLIsCapped(t *testing.T) {
	a := New(nil, WithTokenTTL(time.Hour))
	if a.tokens.ttl != MaxTokenTTL {
		t.Errorf("ttl = %v, want the cap %v", a.tokens.ttl, MaxTokenTTL)
	}
}

// TestConcurrentDebits: parallel debits through one API (one Lambda
// instance's token cache) each debit once.
func TestConcurrentDebits(t *testing.T) {
	f := newFixture(t)
	const n = 16
	statuses := make(chan int, 2*n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"id":"p%d","amount_micros":1000000}`, i)
			for range 2 { // every event delivered twice
				statuses <- f.postUsage("free-bot", body).StatusCode
			}
		}()
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != 200 {
			t.Errorf("status %d", s)
		}
	}
	if b := f.balance("free-bot"); b.BalanceMicros != 100*credit-n*credit {
		t.Errorf("balance %d, want %d", b.BalanceMicros, 100*credit-n*credit)
	}
}

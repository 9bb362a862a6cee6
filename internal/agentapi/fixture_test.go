package agentapi

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgcredit/orgcredit/internal/apigw"
	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/dynamotest"
)

const credit = int64(domain.MicrosPerCredit)

// countingStore is the real store, counting token lookups.
type countingStore struct {
	*dynamo.Store
	tokenLookups atomic.Int64
}

func (s *countingStore) AgentByToken(ctx context.Context, token string) (domain.Agent, error) {
	s.tokenLookups.Add(1)
	return s.Store.AgentByToken(ctx, token)
}

// fixture is the worked example's organization on the embedded back end:
// Acme with a 100-credit pool, budget groups research (cap 50) and
// support (cap 20), and agents in each and one without a group; and a
// second organization, Globex, with its own agent and pool.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	clock  *dynamotest.Clock
	store  *countingStore
	api    *API
	tokens map[string]string // agent id → token
}

var start = time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)

func newFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	ctx := context.Background()
	c := dynamotest.NewClock(start)
	st := &countingStore{Store: dynamotest.NewStore(t, dynamo.WithClock(c.Now))}
	f := &fixture{t: t, ctx: ctx, clock: c, store: st, tokens: map[string]string{}}
	f.api = New(st, append([]Option{WithClock(c.Now)}, opts...)...)

	f.org("acme", "Acme Corp", "dina", 100*credit)
	f.group("acme", "research", 50*credit)
	f.group("acme", "support", 20*credit)
	f.agent("acme", "research-bot", "research")
	f.agent("acme", "support-bot", "support")
	f.agent("acme", "free-bot", "")
	f.org("globex", "Globex", "gina", 10*credit)
	f.agent("globex", "globex-bot", "")
	return f
}

func (f *fixture) org(id, name, owner string, grant int64) {
	f.t.Helper()
	_, _, err := f.store.CreateOrg(f.ctx, domain.Org{ID: id, Name: name, SlackTeamID: "T" + strings.ToUpper(id)},
		domain.Member{OrgID: id, ID: owner, Name: owner, SlackUserID: "U" + strings.ToUpper(owner), Role: domain.RoleOwner, Status: domain.MemberActive})
	if err != nil {
		f.t.Fatalf("CreateOrg %s: %v", id, err)
	}
	if grant > 0 {
		if _, _, _, err := f.store.Grant(f.ctx, domain.Grant{OrgID: id, ID: "initial", Amount: domain.Micros(grant), Reason: "test"}, nil); err != nil {
			f.t.Fatalf("Grant %s: %v", id, err)
		}
	}
}

func (f *fixture) group(org, id string, capMicros int64) {
	f.t.Helper()
	if _, _, err := f.store.CreateGroup(f.ctx, domain.BudgetGroup{OrgID: org, ID: id, Name: strings.ToUpper(id[:1]) + id[1:], Cap: domain.Micros(capMicros)}, nil); err != nil {
		f.t.Fatalf("CreateGroup %s: %v", id, err)
	}
}

func (f *fixture) agent(org, id, group string) {
	f.t.Helper()
	_, token, _, err := f.store.CreateAgent(f.ctx, domain.Agent{OrgID: org, ID: id, Name: id, BudgetGroupID: group}, nil)
	if err != nil {
		f.t.Fatalf("CreateAgent %s: %v", id, err)
	}
	if token == "" {
		f.t.Fatalf("CreateAgent %s returned no token", id)
	}
	f.tokens[id] = token
}

// request builds an HTTP request to the local server's address (the
// OpenAPI document's server).
func request(method, path, token, contentType, body string) *http.Request {
	r := httptest.NewRequest(method, "http://127.0.0.1:8080"+path, strings.NewReader(body))
	if body == "" {
		r.Body = http.NoBody
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

// do sends r through the handler as the API Gateway event AWS would send.
func (f *fixture) do(r *http.Request) events.APIGatewayV2HTTPResponse {
	return f.doWith(f.api, r)
}

// doWith serves r by api, as another function instance would.
func (f *fixture) doWith(api *API, r *http.Request) events.APIGatewayV2HTTPResponse {
	f.t.Helper()
	ev, err := apigw.Event(r)
	if err != nil {
		f.t.Fatal(err)
	}
	// Event consumed the body; give it back for whoever reads r next.
	r.Body = io.NopCloser(strings.NewReader(mustBody(f.t, ev)))
	resp, err := api.Handle(f.ctx, ev)
	if err != nil {
		f.t.Fatalf("Handle returned an error (API Gateway would answer a bare 500): %v", err)
	}
	return resp
}

func mustBody(t *testing.T, ev events.APIGatewayV2HTTPRequest) string {
	b, err := apigw.Body(ev)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (f *fixture) postUsage(agent, body string) events.APIGatewayV2HTTPResponse {
	f.t.Helper()
	return f.do(request(http.MethodPost, "/v1/usage", f.tokens[agent], "application/json", body))
}

func (f *fixture) balance(agent string) BalanceResponse {
	f.t.Helper()
	resp := f.do(request(http.MethodGet, "/v1/balance", f.tokens[agent], "", ""))
	if resp.StatusCode != 200 {
		f.t.Fatalf("GET /v1/balance = %d %s", resp.StatusCode, resp.Body)
	}
	var b BalanceResponse
	decode(f.t, resp, &b)
	return b
}

func decode(t *testing.T, resp events.APIGatewayV2HTTPResponse, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(resp.Body), v); err != nil {
		t.Fatalf("response body %q: %v", resp.Body, err)
	}
}

func problem(t *testing.T, resp events.APIGatewayV2HTTPResponse) map[string]any {
	t.Helper()
	if ct := resp.Headers["Content-Type"]; ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json (status %d, body %s)", ct, resp.StatusCode, resp.Body)
	}
	var p map[string]any
	decode(t, resp, &p)
	if p["status"] != float64(resp.StatusCode) || p["type"] == "" || p["detail"] == "" || p["title"] == "" {
		t.Errorf("problem %v lacks status, type, title or detail", p)
	}
	return p
}

// state is what a refused request must leave unchanged.
type state struct {
	Balance map[string]int64            // org → pool balance
	Spent   map[string]map[string]int64 // org → group → spent this period
	Audit   map[string][]string         // org → audit entry ids
}

func (f *fixture) state() state {
	f.t.Helper()
	s := state{Balance: map[string]int64{}, Spent: map[string]map[string]int64{}, Audit: map[string][]string{}}
	for _, org := range []string{"acme", "globex"} {
		p, err := f.store.GetPool(f.ctx, org)
		if err != nil {
			f.t.Fatal(err)
		}
		s.Balance[org] = int64(p.Balance)
		sts, err := f.store.GroupStatuses(f.ctx, org, domain.Period(f.clock.Now()))
		if err != nil {
			f.t.Fatal(err)
		}
		s.Spent[org] = map[string]int64{}
		for _, g := range sts {
			s.Spent[org][g.Group.ID] = int64(g.Spent)
		}
		entries, err := f.store.Audit(f.ctx, org, 500)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, e := range entries {
			s.Audit[org] = append(s.Audit[org], e.ID)
		}
	}
	return s
}

func (f *fixture) requireUnchanged(before state) {
	f.t.Helper()
	after := f.state()
	a, _ := json.Marshal(after)
	b, _ := json.Marshal(before)
	if string(a) != string(b) {
		f.t.Errorf("state changed:\nbefore %s\nafter  %s", b, a)
	}
}

package adminapi

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/dynamotest"
)

const adminToken = "test-admin-token"

var now = time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)

func newAPI(t *testing.T, opts ...Option) (*API, *dynamo.Store) {
	t.Helper()
	clock := dynamotest.NewClock(now).Now
	st := dynamotest.NewStore(t, dynamo.WithClock(clock))
	return New(st, append([]Option{WithAdminToken(adminToken), WithClock(clock)}, opts...)...), st
}

func event(method, path, auth, body string) events.APIGatewayV2HTTPRequest {
	raw, query, _ := strings.Cut(path, "?")
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "$default", RawPath: raw, RawQueryString: query, Headers: map[string]string{}, Body: body}
	ev.RequestContext.HTTP.Method = method
	ev.RequestContext.HTTP.Path = raw
	if query != "" {
		ev.QueryStringParameters = map[string]string{}
		for kv := range strings.SplitSeq(query, "&") {
			k, v, _ := strings.Cut(kv, "=")
			ev.QueryStringParameters[k] = v
		}
	}
	if auth != "" {
		ev.Headers["authorization"] = auth
	}
	if body != "" {
		ev.Headers["content-type"] = "application/json"
	}
	return ev
}

func call(t *testing.T, a *API, method, path, body string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := a.Handle(context.Background(), event(method, path, "Bearer "+adminToken, body))
	if err != nil {
		t.Fatalf("%s %s: Handle returned an error: %v", method, path, err)
	}
	return resp
}

const createAcme = `{"id":"acme","name":"Acme Corp","slack_team_id":"T0DEMO","low_balance_threshold_micros":10000000,"owner":{"id":"dina","name":"Dina","slack_user_id":"U0DINA"}}`

// step is one request of a scenario and what it must answer.
type step struct {
	method, path, body string
	status             int
	contains           []string // substrings of the body
	absent             []string // substrings the body must not have
}

func run(t *testing.T, a *API, steps []step) {
	t.Helper()
	for _, s := range steps {
		resp := call(t, a, s.method, s.path, s.body)
		if resp.StatusCode != s.status {
			t.Errorf("%s %s %s = %d, want %d: %s", s.method, s.path, s.body, resp.StatusCode, s.status, resp.Body)
			continue
		}
		if resp.StatusCode >= 400 && resp.Headers["Content-Type"] != "application/problem+json" {
			t.Errorf("%s %s: error answered as %q", s.method, s.path, resp.Headers["Content-Type"])
		}
		for _, c := range s.contains {
			if !strings.Contains(resp.Body, c) {
				t.Errorf("%s %s %s: body lacks %s: %s", s.method, s.path, s.body, c, resp.Body)
			}
		}
		for _, c := range s.absent {
			if strings.Contains(resp.Body, c) {
				t.Errorf("%s %s %s: body has %s: %s", s.method, s.path, s.body, c, resp.Body)
			}
		}
	}
}

func TestOrganizationsAndMembers(t *testing.T) {
	a, st := newAPI(t)
	run(t, a, []step{
		{"POST", "/admin/orgs", createAcme, 201, []string{`"id":"acme"`, `"billing_holder":{"id":"dina","name":"Dina"}`, `"pending_transfer":null`, `"balance_micros":0`, `"low_balance_threshold_micros":10000000`}, nil},
		{"POST", "/admin/orgs", createAcme, 200, []string{`"id":"acme"`}, nil},
		{"POST", "/admin/orgs", strings.Replace(createAcme, "Acme Corp", "Acme Inc", 1), 409, []string{"already-exists"}, nil},
		{"POST", "/admin/orgs", `{"id":"x","name":"X","owner":{"id":"o","name":"O"},"org_id":"y"}`, 400, []string{`"field":"org_id"`}, nil},
		{"POST", "/admin/orgs", `{"id":"x","name":"X"}`, 400, []string{`"field":"owner"`}, nil},
		{"POST", "/admin/orgs", `{"id":"x","name":"X","owner":{"id":"o","name":"O","Role":"admin"}}`, 400, []string{`"field":"owner.Role"`}, nil},
		{"POST", "/admin/orgs", `{"id":"x y","name":"X","owner":{"id":"o","name":"O"}}`, 400, []string{`"field":"id"`}, nil},
		{"GET", "/admin/orgs/acme", "", 200, []string{`"name":"Acme Corp"`, `"slack_team_id":"T0DEMO"`, `"billing_holder":{"id":"dina","name":"Dina"}`}, nil},
		{"GET", "/admin/orgs/nope", "", 404, []string{"not-found", `nope`}, nil},
		{"GET", "/admin/orgs/bad%23id", "", 404, []string{"not-found"}, nil},
		{"PATCH", "/admin/orgs/acme", `{"low_balance_threshold_micros":5000000}`, 200, []string{`"low_balance_threshold_micros":5000000`}, nil},
		{"PATCH", "/admin/orgs/acme", `{"low_balance_threshold_micros":-1}`, 400, []string{"low_balance_threshold_micros"}, nil},
		{"PATCH", "/admin/orgs/acme", `{}`, 400, []string{"Nothing to change", "low_balance_threshold_micros", "top_up_url"}, nil},
		{"PATCH", "/admin/orgs/acme", `{"top_up_url":"https://billing.example.com/credit?org=acme"}`, 200, []string{`"top_up_url":"https://billing.example.com/credit?org=acme"`, `"low_balance_threshold_micros":5000000`}, nil},
		{"PATCH", "/admin/orgs/acme", `{"top_up_url":"http://billing.example.com"}`, 400, []string{`"field":"top_up_url"`, "https"}, nil},
		{"PATCH", "/admin/orgs/acme", `{"top_up_url":"https://evil.example/pay|Top up credits here"}`, 400, []string{`"field":"top_up_url"`}, nil},
		{"PATCH", "/admin/orgs/acme", `{"top_up_url":""}`, 200, []string{`"top_up_url":""`}, nil},

		{"POST", "/admin/orgs/acme/members", `{"id":"sari","name":"Sari","slack_user_id":"U0SARI","role":"member"}`, 201, []string{`"id":"sari"`, `"role":"member"`, `"billing_holder":false`, `"status":"active"`}, nil},
		{"POST", "/admin/orgs/acme/members", `{"id":"sari","name":"Sari","slack_user_id":"U0SARI","role":"member"}`, 200, []string{`"id":"sari"`}, nil},
		{"POST", "/admin/orgs/acme/members", `{"id":"sari","name":"Sari","slack_user_id":"U0SARI","role":"admin"}`, 409, []string{"already-exists"}, nil},
		{"POST", "/admin/orgs/acme/members", `{"id":"ravi","name":"Ravi","slack_user_id":"U0RAVI","role":"billing"}`, 400, []string{"billing-not-a-role", "transfer"}, nil},
		{"POST", "/admin/orgs/acme/members", `{"id":"ravi","name":"Ravi","slack_user_id":"U0RAVI","role":"wizard"}`, 400, []string{"unknown-role"}, nil},
		{"POST", "/admin/orgs/acme/members", `{"id":"ravi","name":"Ravi","slack_user_id":"U0RAVI","role":"builder"}`, 201, []string{`"role":"builder"`}, nil},
		{"POST", "/admin/orgs/nope/members", `{"id":"ravi","name":"Ravi"}`, 404, nil, nil},
		{"GET", "/admin/orgs/acme/members", "", 200, []string{`"id":"dina"`, `"id":"sari"`, `"id":"ravi"`, `"billing_holder":true`}, nil},
		{"PATCH", "/admin/orgs/acme/members/sari", `{"role":"billing"}`, 400, []string{"billing-not-a-role", "/billing transfer"}, nil},
		{"PATCH", "/admin/orgs/acme/members/sari", `{"role":"Billing"}`, 400, []string{"billing-not-a-role"}, nil},
		{"PATCH", "/admin/orgs/acme/members/sari", `{"role":"admin"}`, 200, []string{`"role":"admin"`}, nil},
		{"PATCH", "/admin/orgs/acme/members/dina", `{"role":"admin"}`, 409, []string{"last-owner"}, nil},
		{"PATCH", "/admin/orgs/acme/members/nobody", `{"role":"admin"}`, 404, nil, nil},
		{"DELETE", "/admin/orgs/acme/members/dina", "", 409, []string{"billing-holder-cannot-leave", "transfer"}, nil},
		{"DELETE", "/admin/orgs/acme/members/ravi", "", 204, nil, nil},
		{"GET", "/admin/orgs/acme/members", "", 200, []string{`"id":"ravi"`, `"status":"removed"`}, nil},
		{"GET", "/admin/orgs/acme", "", 200, []string{`"billing_holder":{"id":"dina"`}, nil},
	})
	tr, _, err := st.RequestTransfer(context.Background(), "acme", "dina", "sari")
	if err != nil {
		t.Fatalf("RequestTransfer: %v", err)
	}
	run(t, a, []step{
		{"GET", "/admin/orgs/acme", "", 200, []string{`"pending_transfer":{"id":"` + tr.ID + `","status":"pending","initiator_id":"dina","recipient_id":"sari"`}, nil},
		{"PUT", "/admin/orgs/acme", "", 405, []string{"method-not-allowed"}, nil},
		{"GET", "/admin/organizations", "", 404, nil, nil},
	})
}

func TestGroupsAgentsGrants(t *testing.T) {
	a, st := newAPI(t)
	run(t, a, []step{{"POST", "/admin/orgs", createAcme, 201, nil, nil}})

	resp := call(t, a, "POST", "/admin/orgs/acme/agents", `{"id":"research-bot","name":"Research bot","budget_group_id":"research"}`)
	// The path is right; the body names a group that is not there.
	if resp.StatusCode != 400 || !strings.Contains(resp.Body, `"field":"budget_group_id"`) {
		t.Errorf("agent in a missing group = %d %s, want 400 about budget_group_id", resp.StatusCode, resp.Body)
	}
	run(t, a, []step{
		{"POST", "/admin/orgs/acme/budget-groups", `{"id":"research","name":"Research","cap_micros":50000000}`, 201, []string{`"cap_micros":50000000`, `"period":"2026-11"`, `"spent_micros":0`, `"remaining_micros":50000000`}, nil},
		{"POST", "/admin/orgs/acme/budget-groups", `{"id":"research","name":"Research","cap_micros":50000000}`, 200, nil, nil},
		{"POST", "/admin/orgs/acme/budget-groups", `{"id":"research","name":"Research","cap_micros":60000000}`, 409, []string{"already-exists"}, nil},
		{"POST", "/admin/orgs/acme/budget-groups", `{"id":"support","name":"Support","cap_micros":1e7}`, 400, []string{`"field":"cap_micros"`}, nil},
		{"POST", "/admin/orgs/acme/budget-groups", `{"id":"support","name":"Support","cap_micros":1000000000000000001}`, 400, []string{`"field":"cap_micros"`, `"max_micros"`}, nil},
		{"POST", "/admin/orgs/acme/budget-groups", `{"id":"support","name":"Support","cap_micros":20000000}`, 201, nil, nil},
		{"PATCH", "/admin/orgs/acme/budget-groups/support", `{"cap_micros":25000000}`, 200, []string{`"cap_micros":25000000`, `"remaining_micros":25000000`}, nil},
		{"PATCH", "/admin/orgs/acme/budget-groups/nope", `{"cap_micros":25000000}`, 404, nil, nil},
		{"GET", "/admin/orgs/acme/budget-groups", "", 200, []string{`"id":"research"`, `"id":"support"`}, nil},

		{"POST", "/admin/orgs/acme/grants", `{"id":"g1","amount_micros":100000000,"reason":"purchase"}`, 201, []string{`"balance_micros":100000000`, `"amount_micros":100000000`}, nil},
		{"POST", "/admin/orgs/acme/grants", `{"id":"g1","amount_micros":100000000,"reason":"purchase"}`, 200, []string{`"balance_micros":100000000`}, nil},
		{"POST", "/admin/orgs/acme/grants", `{"id":"g1","amount_micros":200000000,"reason":"purchase"}`, 409, nil, nil},
		{"POST", "/admin/orgs/acme/grants", `{"id":"g2","amount_micros":0}`, 400, []string{`"field":"amount_micros"`}, nil},
		{"POST", "/admin/orgs/acme/grants", `{"id":"g2","amount_micros":1000000000000001}`, 400, []string{`"field":"amount_micros"`}, nil},
		{"POST", "/admin/orgs/acme/grants", `{"id":"g2","amount_micros":"5"}`, 400, []string{`"field":"amount_micros"`}, nil},
		{"GET", "/admin/orgs/acme", "", 200, []string{`"balance_micros":100000000`}, nil},
	})

	resp = call(t, a, "POST", "/admin/orgs/acme/agents", `{"id":"research-bot","name":"Research bot","budget_group_id":"research"}`)
	var created CreatedAgent
	if resp.StatusCode != 201 || json.Unmarshal([]byte(resp.Body), &created) != nil || created.Token == nil {
		t.Fatalf("create agent = %d %s", resp.StatusCode, resp.Body)
	}
	if !domain.LooksLikeToken(*created.Token) {
		t.Errorf("token %q does not look like a token", *created.Token)
	}
	ag, err := st.AgentByToken(context.Background(), *created.Token)
	if err != nil || ag.ID != "research-bot" || ag.OrgID != "acme" || ag.BudgetGroupID != "research" {
		t.Errorf("the token resolves to %+v, %v", ag, err)
	}
	run(t, a, []step{
		{"POST", "/admin/orgs/acme/agents", `{"id":"research-bot","name":"Research bot","budget_group_id":"research"}`, 200, []string{`"token":null`, `"token_note"`, "shown once"}, []string{*created.Token}},
		{"POST", "/admin/orgs/acme/agents", `{"id":"research-bot","name":"Research bot","budget_group_id":"support"}`, 409, nil, nil},
		{"POST", "/admin/orgs/acme/agents", `{"id":"free-bot","name":"Free bot"}`, 201, []string{`"budget_group_id":null`, `"token":"ocp_`}, nil},
		{"PATCH", "/admin/orgs/acme/agents/research-bot", `{"budget_group_id":"support"}`, 200, []string{`"budget_group_id":"support"`}, nil},
		{"PATCH", "/admin/orgs/acme/agents/research-bot", `{"budget_group_id":null}`, 200, []string{`"budget_group_id":null`}, nil},
		{"PATCH", "/admin/orgs/acme/agents/research-bot", `{}`, 400, []string{`"field":"budget_group_id"`}, nil},
		{"PATCH", "/admin/orgs/acme/agents/research-bot", `{"budget_group_id":"nope"}`, 400, []string{`"field":"budget_group_id"`}, nil},
		{"PATCH", "/admin/orgs/acme/agents/ghost", `{"budget_group_id":"nope"}`, 404, []string{`\"ghost\" does not exist`}, nil},
		{"GET", "/admin/orgs/acme/agents", "", 200, []string{`"id":"research-bot"`, `"id":"free-bot"`}, []string{"token"}},
		{"DELETE", "/admin/orgs/acme/agents/research-bot", "", 204, nil, nil},
		{"GET", "/admin/orgs/acme/agents", "", 200, []string{`"revoked":true`}, nil},
	})
	if _, err := st.AgentByToken(context.Background(), *created.Token); err == nil {
		t.Error("the revoked agent's token still resolves")
	}
}

func TestAudit(t *testing.T) {
	a, _ := newAPI(t)
	run(t, a, []step{
		{"POST", "/admin/orgs", createAcme, 201, nil, nil},
		{"POST", "/admin/orgs/acme/budget-groups", `{"id":"research","name":"Research","cap_micros":50000000}`, 201, nil, nil},
		{"POST", "/admin/orgs/acme/grants", `{"id":"g1","amount_micros":100000000}`, 201, nil, nil},
		{"GET", "/admin/orgs/acme/audit?limit=0", "", 400, []string{`"field":"limit"`}, nil},
		{"GET", "/admin/orgs/acme/audit?limit=501", "", 400, nil, nil},
		{"GET", "/admin/orgs/acme/audit?limit=ten", "", 400, nil, nil},
		{"GET", "/admin/orgs/nope/audit", "", 404, nil, nil},
	})
	var list AuditList
	resp := call(t, a, "GET", "/admin/orgs/acme/audit", "")
	if resp.StatusCode != 200 || json.Unmarshal([]byte(resp.Body), &list) != nil {
		t.Fatalf("audit = %d %s", resp.StatusCode, resp.Body)
	}
	if len(list.Entries) < 3 || list.Entries[0].Action != string(domain.ActionGrant) || list.Entries[0].Actor != domain.OperatorActor {
		t.Fatalf("audit is not newest first with the grant on top: %s", resp.Body)
	}
	resp = call(t, a, "GET", "/admin/orgs/acme/audit?limit=2", "")
	list = AuditList{}
	if json.Unmarshal([]byte(resp.Body), &list) != nil || len(list.Entries) != 2 || list.Entries[1].Action != string(domain.ActionGroupCreated) {
		t.Errorf("audit?limit=2 = %s", resp.Body)
	}
}

func TestAdminToken(t *testing.T) {
	a, _ := newAPI(t)
	for _, auth := range []string{"", "Bearer wrong", "Bearer " + adminToken + "x", "Basic " + adminToken, adminToken} {
		resp, err := a.Handle(context.Background(), event("POST", "/admin/orgs", auth, createAcme))
		if err != nil || resp.StatusCode != http.StatusUnauthorized || resp.Headers["WWW-Authenticate"] == "" {
			t.Errorf("Authorization %q = %d %v %s, want 401 with a challenge", auth, resp.StatusCode, resp.Headers, resp.Body)
		}
	}
	// Nothing was created by the refused requests.
	run(t, a, []step{{"GET", "/admin/orgs/acme", "", 404, nil, nil}})

	// Without a configured token (behind IAM in AWS) the caller is trusted.
	open, _ := newAPI(t, WithAdminToken(""))
	resp, err := open.Handle(context.Background(), event("POST", "/admin/orgs", "", createAcme))
	if err != nil || resp.StatusCode != 201 {
		t.Errorf("without an admin token configured: %d %s", resp.StatusCode, resp.Body)
	}
}

// TestSampleEvents runs events/admin through the handler in order, so that
// they stay valid for local invokes.
func TestSampleEvents(t *testing.T) {
	want := []struct {
		file   string
		status int
	}{
		{"create-org.json", 201},
		{"grant.json", 201},
		{"get-org.json", 200},
		{"get-audit.json", 200},
	}
	files, _ := filepath.Glob("../../events/admin/*.json")
	if len(files) != len(want) {
		t.Fatalf("events/admin has %d files, this test expects %d: add the new ones here", len(files), len(want))
	}
	a, _ := newAPI(t, WithAdminToken("EXAMPLE-ADMIN-TOKEN"))
	for _, w := range want {
		raw, err := os.ReadFile(filepath.Join("../../events/admin", w.file))
		if err != nil {
			t.Fatal(err)
		}
		var ev events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatalf("%s: %v", w.file, err)
		}
		resp, err := a.Handle(context.Background(), ev)
		if err != nil || resp.StatusCode != w.status {
			t.Errorf("%s = %d %v %s, want %d", w.file, resp.StatusCode, err, resp.Body, w.status)
		}
	}
}

// TestTransfers: the transfer waiting for an answer and the past ones,
// newest first, as an operator looks into who held Billing when.
func TestTransfers(t *testing.T) {
	a, st := newAPI(t)
	ctx := context.Background()
	run(t, a, []step{
		{"POST", "/admin/orgs", createAcme, 201, nil, nil},
		{"POST", "/admin/orgs/acme/members", `{"id":"sari","name":"Sari","slack_user_id":"U0SARI"}`, 201, nil, nil},
		{"GET", "/admin/orgs/acme/transfers", "", 200, []string{`"pending":null`, `"history":[]`}, nil},
	})
	first, _, err := st.RequestTransfer(ctx, "acme", "dina", "sari")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DeclineTransfer(ctx, "acme", first.ID, "sari"); err != nil {
		t.Fatal(err)
	}
	second, _, err := st.RequestTransfer(ctx, "acme", "dina", "sari")
	if err != nil {
		t.Fatal(err)
	}
	run(t, a, []step{
		{"GET", "/admin/orgs/acme/transfers?limit=10", "", 200, []string{`"pending":{"id":"` + second.ID + `"`, `"history":[{"id":"` + first.ID + `","status":"declined"`, `"closed_by":"sari"`}, nil},
		{"GET", "/admin/orgs/acme/transfers?limit=0", "", 400, []string{`"field":"limit"`}, nil},
		{"GET", "/admin/orgs/acme/transfers?limit=501", "", 400, []string{`"field":"limit"`}, nil},
		{"GET", "/admin/orgs/nope/transfers", "", 404, nil, nil},
	})
}

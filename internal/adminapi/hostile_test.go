package adminapi

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// TestBadInputChangesNothing sends the odd and hostile requests an
// operator's script (or an attacker with the admin token) might send:
// each is a clear 4xx problem naming what is wrong, and neither
// organization changes, whatever org id the path or the body names.
func TestBadInputChangesNothing(t *testing.T) {
	a, st := newAPI(t)
	run(t, a, []step{
		{"POST", "/admin/orgs", createAcme, 201, nil, nil},
		{"POST", "/admin/orgs", `{"id":"globex","name":"Globex","slack_team_id":"T0GLOB","owner":{"id":"hank","name":"Hank","slack_user_id":"U0HANK"}}`, 201, nil, nil},
		{"POST", "/admin/orgs/acme/budget-groups", `{"id":"research","name":"Research","cap_micros":50000000}`, 201, nil, nil},
		{"POST", "/admin/orgs/acme/members", `{"id":"sari","name":"Sari","slack_user_id":"U0SARI"}`, 201, nil, nil},
		{"POST", "/admin/orgs/acme/agents", `{"id":"research-bot","name":"Research bot","budget_group_id":"research"}`, 201, nil, nil},
		{"POST", "/admin/orgs/acme/agents", `{"id":"old-bot","name":"Old bot"}`, 201, nil, nil},
		{"DELETE", "/admin/orgs/acme/agents/old-bot", "", 204, nil, nil},
		{"POST", "/admin/orgs/globex/budget-groups", `{"id":"ops","name":"Ops","cap_micros":1000000}`, 201, nil, nil},
	})
	snapshot := func() string {
		var b strings.Builder
		for _, org := range []string{"acme", "globex"} {
			for _, path := range []string{"", "/members", "/agents", "/budget-groups", "/audit"} {
				b.WriteString(call(t, a, "GET", "/admin/orgs/"+org+path, "").Body)
			}
		}
		return b.String()
	}
	before := snapshot()

	type bad struct {
		name, method, path, body string
		status                   int
		contains                 []string
	}
	tests := []bad{
		// Cross-organization: a thing of acme under globex's path is not
		// there, and a body cannot reach acme's groups from globex.
		{"acme agent under globex", "PATCH", "/admin/orgs/globex/agents/research-bot", `{"budget_group_id":null}`, 404, []string{"not-found"}},
		{"acme agent revoked under globex", "DELETE", "/admin/orgs/globex/agents/research-bot", "", 404, nil},
		{"acme member under globex", "PATCH", "/admin/orgs/globex/members/dina", `{"role":"member"}`, 404, nil},
		{"acme member removed under globex", "DELETE", "/admin/orgs/globex/members/sari", "", 404, nil},
		{"acme group under globex", "PATCH", "/admin/orgs/globex/budget-groups/research", `{"cap_micros":1}`, 404, nil},
		{"globex agent into acme group", "POST", "/admin/orgs/globex/agents", `{"id":"g-bot","name":"G","budget_group_id":"research"}`, 400, []string{`"field":"budget_group_id"`}},
		{"acme agent into globex group", "PATCH", "/admin/orgs/acme/agents/research-bot", `{"budget_group_id":"ops"}`, 400, []string{`"field":"budget_group_id"`}},
		{"org in the body", "POST", "/admin/orgs/acme/grants", `{"id":"g1","amount_micros":5,"org_id":"globex"}`, 400, []string{`"field":"org_id"`}},
		{"org in the query", "POST", "/admin/orgs/acme/grants?org=globex", `{"id":"g1","amount_micros":5}`, 400, []string{`"field":"org"`}},
		{"unknown audit parameter", "GET", "/admin/orgs/acme/audit?limit=5&before=x", "", 400, []string{`"field":"before"`}},

		// A revoked agent is a state of the agent, not a credential
		// problem of the operator: no 401, no WWW-Authenticate.
		{"move a revoked agent", "PATCH", "/admin/orgs/acme/agents/old-bot", `{"budget_group_id":"research"}`, 409, []string{"agent-revoked", `\"old-bot\" is revoked; create a new agent`}},

		// Text that would corrupt the audit trail or Slack messages.
		{"blank member name", "POST", "/admin/orgs/acme/members", `{"id":"m1","name":"   "}`, 400, []string{`"field":"name"`, "blank"}},
		{"control character in a name", "POST", "/admin/orgs/acme/members", `{"id":"m1","name":"a\u001b[31m"}`, 400, []string{`"field":"name"`, "U+001B"}},
		{"bidirectional override in a name", "POST", "/admin/orgs/acme/members", `{"id":"m1","name":"Sari\u202egnp.exe"}`, 400, []string{`"field":"name"`, "U+202E"}},
		{"zero-width space in a group name", "POST", "/admin/orgs/acme/budget-groups", `{"id":"g","name":"Re\u200bsearch","cap_micros":1}`, 400, []string{`"field":"name"`, "U+200B"}},
		{"reason over 500 characters", "POST", "/admin/orgs/acme/grants", `{"id":"g1","amount_micros":5,"reason":"` + strings.Repeat("é", 501) + `"}`, 400, []string{`"field":"reason"`, "500 characters"}},
		{"top-up link that is not https", "PATCH", "/admin/orgs/acme", `{"top_up_url":"javascript:alert(1)"}`, 400, []string{`"field":"top_up_url"`}},
		{"NUL in a reason", "POST", "/admin/orgs/acme/grants", `{"id":"g1","amount_micros":5,"reason":"a\u0000"}`, 400, []string{`"field":"reason"`}},
		{"Slack user id that is a display name", "POST", "/admin/orgs/acme/members", `{"id":"m1","name":"M","slack_user_id":"@dina"}`, 400, []string{`"field":"slack_user_id"`}},
		{"Slack user id too long", "POST", "/admin/orgs/acme/members", `{"id":"m1","name":"M","slack_user_id":"U` + strings.Repeat("A", 5000) + `"}`, 400, []string{`"field":"slack_user_id"`}},
		{"Slack channel id as a team", "POST", "/admin/orgs", `{"id":"o2","name":"O","slack_team_id":"C0123","owner":{"id":"o","name":"O"}}`, 400, []string{`"field":"slack_team_id"`}},
		{"lower-case owner Slack id", "POST", "/admin/orgs", `{"id":"o2","name":"O","owner":{"id":"o","name":"O","slack_user_id":"u0abc"}}`, 400, []string{`"field":"owner.slack_user_id"`}},
		{"blank group name", "POST", "/admin/orgs/acme/budget-groups", `{"id":"g","name":"\t","cap_micros":1}`, 400, []string{`"field":"name"`}},
		{"blank org name", "POST", "/admin/orgs", `{"id":"o2","name":" ","owner":{"id":"o","name":"O"}}`, 400, []string{`"field":"name"`}},

		// Amounts and bodies.
		{"negative threshold", "PATCH", "/admin/orgs/acme", `{"low_balance_threshold_micros":-1}`, 400, []string{`"field":"low_balance_threshold_micros"`}},
		{"int64 overflow grant", "POST", "/admin/orgs/acme/grants", `{"id":"g1","amount_micros":9223372036854775808}`, 400, []string{`"max_micros"`}},
		{"float cap", "PATCH", "/admin/orgs/acme/budget-groups/research", `{"cap_micros":1.0}`, 400, []string{`"field":"cap_micros"`}},
		{"billing role", "PATCH", "/admin/orgs/acme/members/sari", `{"role":"billing"}`, 400, []string{"billing-not-a-role", "transfer"}},
		{"remove the Billing holder", "DELETE", "/admin/orgs/acme/members/dina", "", 409, []string{"billing-holder-cannot-leave"}},
		{"demote the last Owner", "PATCH", "/admin/orgs/acme/members/dina", `{"role":"admin"}`, 409, []string{"last-owner", `"title":"Last owner"`}},
		{"array body", "POST", "/admin/orgs/acme/grants", `[{"id":"g1","amount_micros":5}]`, 400, nil},
		{"trailing garbage", "POST", "/admin/orgs/acme/grants", `{"id":"g1","amount_micros":5}]`, 400, nil},
		{"id with #", "POST", "/admin/orgs/acme/grants", `{"id":"g#1","amount_micros":5}`, 400, []string{`"field":"id"`}},
		{"path id with #", "GET", "/admin/orgs/acme%23x", "", 404, nil},
		{"HEAD has no body", "HEAD", "/admin/orgs/acme", "", 200, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := call(t, a, tt.method, tt.path, tt.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			if tt.method == "HEAD" {
				if resp.Body != "" {
					t.Errorf("HEAD answered a body: %s", resp.Body)
				}
				return
			}
			if resp.StatusCode >= 400 {
				if resp.Headers["Content-Type"] != "application/problem+json" || resp.Headers["WWW-Authenticate"] != "" {
					t.Errorf("headers = %v", resp.Headers)
				}
				if path, _, _ := strings.Cut(tt.path, "?"); !strings.Contains(resp.Body, `"instance":"`+path+`"`) {
					t.Errorf("problem lacks instance %s: %s", path, resp.Body)
				}
			}
			for _, c := range tt.contains {
				if !strings.Contains(resp.Body, c) {
					t.Errorf("body lacks %s: %s", c, resp.Body)
				}
			}
		})
	}
	if after := snapshot(); after != before {
		t.Errorf("refused requests changed something:\nbefore %s\nafter  %s", before, after)
	}
	if ag, err := st.GetAgent(context.Background(), "acme", "research-bot"); err != nil || ag.BudgetGroupID != "research" {
		t.Errorf("acme's agent = %+v, %v", ag, err)
	}
}

// TestAgentTokenOnAdminAPI: an agent's token is refused with a pointer
// to the API it belongs to.
func TestAgentTokenOnAdminAPI(t *testing.T) {
	a, _ := newAPI(t)
	resp, err := a.Handle(context.Background(), event("GET", "/admin/orgs/acme", "Bearer "+domain.NewToken(), ""))
	if err != nil || resp.StatusCode != 401 || !strings.Contains(resp.Body, "agent API (/v1)") || !strings.Contains(resp.Body, `"instance":"/admin/orgs/acme"`) {
		t.Errorf("agent token on the admin API = %d %s", resp.StatusCode, resp.Body)
	}
}

// TestGrantLimits: a reason is counted in characters, as its error says,
// and grants stop at the ceiling of the pool's running totals with a
// problem that says so, nothing written.
func TestGrantLimits(t *testing.T) {
	a, st := newAPI(t)
	run(t, a, []step{
		{"POST", "/admin/orgs", createAcme, 201, nil, nil},
		// 500 two-byte characters: 1,000 bytes, within the limit.
		{"POST", "/admin/orgs/acme/grants", `{"id":"g-accents","amount_micros":5,"reason":"` + strings.Repeat("é", 500) + `"}`, 201, nil, nil},
	})
	ctx := context.Background()
	for i := 0; ; i++ {
		resp := call(t, a, "POST", "/admin/orgs/acme/grants", fmt.Sprintf(`{"id":"big-%d","amount_micros":%d}`, i, domain.MaxGrantMicros))
		if resp.StatusCode == 201 {
			if i > 200 {
				t.Fatal("grants never stopped at a ceiling")
			}
			continue
		}
		if resp.StatusCode != 409 || !strings.Contains(resp.Body, "credit-ceiling-reached") || !strings.Contains(resp.Body, `"ceiling_micros":`) ||
			!strings.Contains(resp.Body, "nothing was granted") {
			t.Fatalf("the grant past the ceiling = %d %s", resp.StatusCode, resp.Body)
		}
		break
	}
	p, err := st.GetPool(ctx, "acme")
	if err != nil || p.Granted > domain.MaxRunningTotalMicros {
		t.Fatalf("pool after the ceiling: %+v %v", p, err)
	}
	if resp := call(t, a, "GET", "/admin/orgs/acme", ""); resp.StatusCode != 200 {
		t.Fatalf("the organization is unreadable at the ceiling: %d %s", resp.StatusCode, resp.Body)
	}
}

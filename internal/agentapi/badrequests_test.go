package agentapi

import (
	"net/http"
	"strings"
	"testing"
)

// badRequest is one request the API must refuse without changing
// anything.
type badRequest struct {
	name        string
	method      string // POST when empty
	path        string // /v1/usage when empty
	token       string // "" = research-bot's; "-" = none; else the Authorization value as is
	contentType string // application/json when empty; "-" = none
	body        string
	status      int
	typ         string // problem type name under https://orgcredit.dev/problems/
	field       string // the problem's "field", when it names one
}

var revokedToken = "<revoked>" // replaced by the fixture's revoked agent's token

func badRequests() []badRequest {
	long := strings.Repeat("a", 129)
	return []badRequest{
		{name: "negative amount", body: `{"id":"b1","amount_micros":-5}`, status: 400, typ: "invalid-request", field: "amount_micros"},
		{name: "zero amount", body: `{"id":"b1","amount_micros":0}`, status: 400, typ: "invalid-request", field: "amount_micros"},
		{name: "fractional amount", body: `{"id":"b1","amount_micros":1.5}`, status: 400, typ: "invalid-request", field: "amount_micros"},
		{name: "integral float amount", body: `{"id":"b1","amount_micros":2.0}`, status: 400, typ: "invalid-request", field: "amount_micros"},
		{name: "string amount", body: `{"id":"b1","amount_micros":"5"}`, status: 400, typ: "invalid-request", field: "amount_micros"},
		{name: "exponent amount", body: `{"id":"b1","amount_micros":1e6}`, status: 400, typ: "invalid-request", field: "amount_micros"},
		{name: "plus sign", body: `{"id":"b1","amount_micros":+5}`, status: 400, typ: "invalid-request"},
		{name: "amount over the maximum", body: `{"id":"b1","amount_micros":1000000000001}`, status: 400, typ: "invalid-request", field: "amount_micros"},
		{name: "amount over int64", body: `{"id":"b1","amount_micros":9223372036854775808}`, status: 400, typ: "invalid-request", field: "amount_micros"},
		{name: "huge amount", body: `{"id":"b1","amount_micros":` + strings.Repeat("9", 400) + `}`, status: 400, typ: "invalid-request", field: "amount_micros"},
		{name: "null amount", body: `{"id":"b1","amount_micros":null}`, status: 400, typ: "invalid-request", field: "amount_micros"},
		{name: "missing amount", body: `{"id":"b1"}`, status: 400, typ: "invalid-request", field: "amount_micros"},
		{name: "boolean amount", body: `{"id":"b1","amount_micros":true}`, status: 400, typ: "invalid-request", field: "amount_micros"},
		{name: "missing id", body: `{"amount_micros":5}`, status: 400, typ: "invalid-request", field: "id"},
		{name: "empty id", body: `{"id":"","amount_micros":5}`, status: 400, typ: "invalid-request", field: "id"},
		{name: "null id", body: `{"id":null,"amount_micros":5}`, status: 400, typ: "invalid-request", field: "id"},
		{name: "over-long id", body: `{"id":"` + long + `","amount_micros":5}`, status: 400, typ: "invalid-request", field: "id"},
		{name: "id with #", body: `{"id":"a#b","amount_micros":5}`, status: 400, typ: "invalid-request", field: "id"},
		{name: "id with space", body: `{"id":"a b","amount_micros":5}`, status: 400, typ: "invalid-request", field: "id"},
		{name: "id starting with -", body: `{"id":"-a","amount_micros":5}`, status: 400, typ: "invalid-request", field: "id"},
		{name: "numeric id", body: `{"id":12,"amount_micros":5}`, status: 400, typ: "invalid-request", field: "id"},
		{name: "unknown field", body: `{"id":"b1","amount_micros":5,"currency":"usd"}`, status: 400, typ: "invalid-request", field: "currency"},
		{name: "duplicate key", body: `{"id":"b1","amount_micros":5,"amount_micros":6}`, status: 400, typ: "invalid-request", field: "amount_micros"},
		{name: "case-variant key", body: `{"id":"b1","Amount_Micros":5}`, status: 400, typ: "invalid-request", field: "Amount_Micros"},
		{name: "trailing data", body: `{"id":"b1","amount_micros":5}{"id":"b2","amount_micros":5}`, status: 400, typ: "invalid-request"},
		{name: "array body", body: `[{"id":"b1","amount_micros":5}]`, status: 400, typ: "invalid-request"},
		{name: "empty body", body: ``, status: 400, typ: "invalid-request"},
		{name: "null body", body: `null`, status: 400, typ: "invalid-request"},
		{name: "not JSON", body: `id=b1&amount_micros=5`, status: 400, typ: "invalid-request"},
		{name: "kind too long", body: `{"id":"b1","amount_micros":5,"kind":"` + strings.Repeat("k", 65) + `"}`, status: 400, typ: "invalid-request", field: "kind"},
		{name: "null kind", body: `{"id":"b1","amount_micros":5,"kind":null}`, status: 400, typ: "invalid-request", field: "kind"},
		{name: "bad occurred_at", body: `{"id":"b1","amount_micros":5,"occurred_at":"yesterday"}`, status: 400, typ: "invalid-request", field: "occurred_at"},
		{name: "occurred_at without zone", body: `{"id":"b1","amount_micros":5,"occurred_at":"2026-11-03T14:05:00"}`, status: 400, typ: "invalid-request", field: "occurred_at"},
		{name: "numeric occurred_at", body: `{"id":"b1","amount_micros":5,"occurred_at":1762178700}`, status: 400, typ: "invalid-request", field: "occurred_at"},
		{name: "body over 64 KiB", body: `{"id":"b1","amount_micros":5,"kind":"` + strings.Repeat("k", 70_000) + `"}`, status: 413, typ: "payload-too-large"},
		{name: "text/plain", contentType: "text/plain", body: `{"id":"b1","amount_micros":5}`, status: 415, typ: "unsupported-media-type"},
		{name: "form content type", contentType: "application/x-www-form-urlencoded", body: `{"id":"b1","amount_micros":5}`, status: 415, typ: "unsupported-media-type"},
		{name: "no content type", contentType: "-", body: `{"id":"b1","amount_micros":5}`, status: 415, typ: "unsupported-media-type"},
		{name: "no token", token: "-", body: `{"id":"b1","amount_micros":5}`, status: 401, typ: "unauthorized"},
		{name: "basic auth", token: "Basic dXNlcjpwYXNz", body: `{"id":"b1","amount_micros":5}`, status: 401, typ: "unauthorized"},
		{name: "malformed token", token: "Bearer not-a-token", body: `{"id":"b1","amount_micros":5}`, status: 401, typ: "unauthorized"},
		{name: "unknown token", token: "Bearer ocp_" + strings.Repeat("A", 43), body: `{"id":"b1","amount_micros":5}`, status: 401, typ: "unauthorized"},
		{name: "revoked token", token: revokedToken, body: `{"id":"b1","amount_micros":5}`, status: 401, typ: "unauthorized"},
		{name: "wrong method on usage", method: "GET", body: ``, status: 405, typ: "method-not-allowed"},
		{name: "wrong method on balance", method: "POST", path: "/v1/balance", body: `{}`, status: 405, typ: "method-not-allowed"},
		{name: "unknown path", path: "/v1/usages", body: `{"id":"b1","amount_micros":5}`, status: 404, typ: "not-found"},
		{name: "trailing slash", path: "/v1/usage/", body: `{"id":"b1","amount_micros":5}`, status: 404, typ: "not-found"},
		{name: "double slash", path: "/v1//usage", body: `{"id":"b1","amount_micros":5}`, status: 404, typ: "not-found"},
		{name: "dot segment", path: "/v1/x/../usage", body: `{"id":"b1","amount_micros":5}`, status: 404, typ: "not-found"},
		{name: "PUT", method: "PUT", body: `{"id":"b1","amount_micros":5}`, status: 405, typ: "method-not-allowed"},
		{name: "query naming another org", path: "/v1/usage?org_id=globex", body: `{"id":"b1","amount_micros":5}`, status: 400, typ: "invalid-request", field: "org_id"},
		{name: "query on balance", method: "GET", path: "/v1/balance?agent_id=globex-bot", body: ``, status: 400, typ: "invalid-request", field: "agent_id"},
		{name: "NUL in kind", body: `{"id":"b1","amount_micros":5,"kind":"a\u0000b"}`, status: 400, typ: "invalid-request", field: "kind"},
		{name: "terminal escape in kind", body: `{"id":"b1","amount_micros":5,"kind":"\u001b[31mred"}`, status: 400, typ: "invalid-request", field: "kind"},
		{name: "raw newline in kind", body: "{\"id\":\"b1\",\"amount_micros\":5,\"kind\":\"a\\nb\"}", status: 400, typ: "invalid-request", field: "kind"},
		{name: "byte order mark", body: "\ufeff" + `{"id":"b1","amount_micros":5}`, status: 400, typ: "invalid-request"},
		{name: "two tokens", token: "Bearer <research> <research>", body: `{"id":"b1","amount_micros":5}`, status: 401, typ: "unauthorized"},
		{name: "admin token", token: "Bearer adm", body: `{"id":"b1","amount_micros":5}`, status: 401, typ: "unauthorized"},
	}
}

func (f *fixture) send(tc badRequest) *http.Request {
	method, path, ct := tc.method, tc.path, tc.contentType
	if method == "" {
		method = http.MethodPost
	}
	if path == "" {
		path = "/v1/usage"
	}
	switch ct {
	case "":
		ct = "application/json"
	case "-":
		ct = ""
	}
	r := request(method, path, "", ct, tc.body)
	switch tc.token {
	case "":
		r.Header.Set("Authorization", "Bearer "+f.tokens["research-bot"])
	case "-":
	case revokedToken:
		r.Header.Set("Authorization", "Bearer "+f.tokens["revoked-bot"])
	default:
		r.Header.Set("Authorization", strings.ReplaceAll(tc.token, "<research>", f.tokens["research-bot"]))
	}
	return r
}

func TestBadRequestsChangeNothing(t *testing.T) {
	f := newFixture(t)
	f.agent("acme", "revoked-bot", "research")
	if err := f.store.RevokeAgent(f.ctx, "acme", "revoked-bot", nil); err != nil {
		t.Fatal(err)
	}
	if resp := f.postUsage("research-bot", `{"id":"before","amount_micros":3000000}`); resp.StatusCode != 200 {
		t.Fatalf("setup debit = %d %s", resp.StatusCode, resp.Body)
	}
	cases := badRequests()
	if len(cases) < 25 {
		t.Fatalf("only %d bad requests", len(cases))
	}
	before := f.state()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := f.do(f.send(tc))
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, tc.status, resp.Body)
			}
			p := problem(t, resp)
			if want := "https://orgcredit.dev/problems/" + tc.typ; p["type"] != want {
				t.Errorf("type = %v, want %s", p["type"], want)
			}
			// Every problem says where it happened and has a title, the
			// 401s included.
			wantInstance, _, _ := strings.Cut(tc.path, "?")
			if wantInstance == "" {
				wantInstance = "/v1/usage"
			}
			if p["instance"] != wantInstance || p["title"] == "" {
				t.Errorf("instance = %v, title = %v; want instance %q and a title", p["instance"], p["title"], wantInstance)
			}
			if tc.field != "" && p["field"] != tc.field {
				t.Errorf("field = %v, want %q (%v)", p["field"], tc.field, p["detail"])
			}
			switch tc.status {
			case 401:
				if !strings.HasPrefix(resp.Headers["WWW-Authenticate"], "Bearer") {
					t.Errorf("401 without a Bearer challenge: %v", resp.Headers)
				}
			case 405:
				if resp.Headers["Allow"] == "" {
					t.Errorf("405 without Allow: %v", resp.Headers)
				}
			}
		})
	}
	f.requireUnchanged(before)
	// b1 was never recorded: it debits now, once.
	if resp := f.postUsage("research-bot", `{"id":"b1","amount_micros":5}`); resp.StatusCode != 200 || !strings.Contains(resp.Body, `"duplicate":false`) {
		t.Errorf("b1 after the refusals = %d %s", resp.StatusCode, resp.Body)
	}
}

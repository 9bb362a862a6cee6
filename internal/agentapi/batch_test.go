package agentapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgcredit/orgcredit/internal/domain"
)

func (f *fixture) postBatch(agent, body string) events.APIGatewayV2HTTPResponse {
	f.t.Helper()
	return f.do(request(http.MethodPost, "/v1/usage/batch", f.tokens[agent], "application/json", body))
}

// batchAnswer is a batch's answer with each result kept raw, to compare
// it with what POST /v1/usage answers.
type batchAnswer struct {
	Results       []json.RawMessage `json:"results"`
	BalanceMicros int64             `json:"balance_micros"`
}

func (f *fixture) batch(agent string, evs ...string) batchAnswer {
	f.t.Helper()
	resp := f.postBatch(agent, `{"events":[`+strings.Join(evs, ",")+`]}`)
	if resp.StatusCode != 200 || resp.Headers["Content-Type"] != "application/json" {
		f.t.Fatalf("batch = %d %s", resp.StatusCode, resp.Body)
	}
	var a batchAnswer
	decode(f.t, resp, &a)
	if len(a.Results) != len(evs) {
		f.t.Fatalf("%d results for %d events: %s", len(a.Results), len(evs), resp.Body)
	}
	return a
}

// singleProblem is the problem POST /v1/usage answers for body, as a batch
// result holds it: without "instance".
func (f *fixture) singleProblem(agent, body string) (int, map[string]any) {
	f.t.Helper()
	resp := f.postUsage(agent, body)
	p := problem(f.t, resp)
	delete(p, "instance")
	return resp.StatusCode, p
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// eventResult reads a result: a usage record or an event problem.
type eventResult struct {
	ID        *string        `json:"id"`
	Problem   map[string]any `json:"problem"`
	Duplicate *bool          `json:"duplicate"`
}

func readResult(t *testing.T, raw json.RawMessage) eventResult {
	t.Helper()
	var r eventResult
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestBatchEventProblemsAreTheSingleEndpoints sends every malformed single
// request whose body is a JSON object as one event of a batch between two
// good ones: its result holds exactly the problem POST /v1/usage answers
// for it, and the good ones are debited. A body that is not a JSON object
// cannot be an event: the batch is refused whole.
func TestBatchEventProblemsAreTheSingleEndpoints(t *testing.T) {
	f := newFixture(t)
	n := 0
	for _, tc := range badRequests() {
		if tc.method != "" || tc.path != "" || tc.token != "" || tc.contentType != "" {
			continue // not about the body
		}
		t.Run(tc.name, func(t *testing.T) {
			n++
			good := func(i int) string { return fmt.Sprintf(`{"id":"good-%d-%d","amount_micros":1}`, n, i) }
			body := `{"events":[` + good(1) + `,` + tc.body + `,` + good(2) + `]}`
			if !json.Valid([]byte(body)) || !strings.HasPrefix(strings.TrimSpace(tc.body), "{") {
				before := f.state()
				resp := f.postBatch("research-bot", body)
				if resp.StatusCode != 400 || problem(t, resp)["type"] != "https://orgcredit.dev/problems/invalid-request" {
					t.Fatalf("a batch holding %q = %d %s, want a whole-batch 400", tc.body, resp.StatusCode, resp.Body)
				}
				f.requireUnchanged(before)
				return
			}
			status, want := f.singleProblem("research-bot", tc.body)
			if status != tc.status {
				t.Fatalf("single = %d, want %d", status, tc.status)
			}
			a := f.batch("research-bot", good(1), tc.body, good(2))
			r := readResult(t, a.Results[1])
			if got := asJSON(t, r.Problem); got != asJSON(t, want) {
				t.Errorf("the event's problem\n got %s\nwant %s (POST /v1/usage's)", got, asJSON(t, want))
			}
			var id struct{ ID any }
			_ = json.Unmarshal([]byte(tc.body), &id)
			if s, ok := id.ID.(string); (ok && (r.ID == nil || *r.ID != s)) || (!ok && r.ID != nil) {
				t.Errorf("the event's id = %v, want %v", r.ID, id.ID)
			}
			for _, i := range []int{0, 2} {
				if d := readResult(t, a.Results[i]).Duplicate; d == nil || *d {
					t.Errorf("good event %d: %s", i, a.Results[i])
				}
			}
		})
	}
}

// TestBatchAnswersAsTheSingleEndpoint: a result of a batch is, byte for
// byte, what POST /v1/usage answers for the same event in the same state:
// the usage record (with "duplicate") or the refusal of a product rule.
func TestBatchAnswersAsTheSingleEndpoint(t *testing.T) {
	f := newFixture(t)
	// A debit answered by the single endpoint, then its duplicate by both.
	ev := `{"id":"same-1","amount_micros":1250000,"kind":"conversation","occurred_at":"2026-11-03T13:59:00Z"}`
	if resp := f.postUsage("research-bot", ev); resp.StatusCode != 200 {
		t.Fatal(resp.Body)
	}
	single := f.postUsage("research-bot", ev)
	a := f.batch("research-bot", ev)
	if got := string(a.Results[0]); got+"\n" != single.Body {
		t.Errorf("duplicate\nbatch  %s\nsingle %s", got, single.Body)
	}
	// A first debit by a batch, then its duplicate by the single endpoint.
	a = f.batch("research-bot", `{"id":"same-2","amount_micros":5}`)
	single = f.postUsage("research-bot", `{"id":"same-2","amount_micros":5}`)
	if got := strings.Replace(string(a.Results[0]), `"duplicate":false`, `"duplicate":true`, 1); got+"\n" != single.Body {
		t.Errorf("first by batch, then single\nbatch  %s\nsingle %s", got, single.Body)
	}
	if a.BalanceMicros != 100*credit-1250000-5 {
		t.Errorf("balance %d", a.BalanceMicros)
	}
	// Refusals: the pool (Globex has 10 credits), the cap (support's is
	// 20), an id used with other content.
	for _, c := range []struct{ agent, body string }{
		{"globex-bot", `{"id":"big","amount_micros":10000001}`},
		{"support-bot", `{"id":"cap","amount_micros":20000001}`},
		{"research-bot", `{"id":"same-1","amount_micros":7}`},
	} {
		_, want := f.singleProblem(c.agent, c.body)
		a := f.batch(c.agent, c.body)
		if got := asJSON(t, readResult(t, a.Results[0]).Problem); got != asJSON(t, want) {
			t.Errorf("%s\n got %s\nwant %s", c.body, got, asJSON(t, want))
		}
	}
}

func TestBatchDecidesEachEventInOrder(t *testing.T) {
	f := newFixture(t)
	before := f.balance("globex-bot").BalanceMicros
	a := f.batch("globex-bot",
		`{"id":"g1","amount_micros":6000000}`,
		`{"id":"g2","amount_micros":5000000}`, // the pool holds 4 credits now
		`{"id":"g1","amount_micros":6000000}`, // a repeat of g1: its duplicate
		`{"id":"g1","amount_micros":1}`,       // g1 with other content
		`{"id":"g3","amount_micros":4000000}`, // smaller, after the refusal: debited
		`{"id":"g4","amount_micros":0}`,       // invalid alone
	)
	want := []string{"debit", "insufficient-credit", "dup", "usage-id-conflict", "debit", "invalid-request"}
	for i, raw := range a.Results {
		r := readResult(t, raw)
		got := "debit"
		switch {
		case r.Problem != nil:
			got = strings.TrimPrefix(r.Problem["type"].(string), "https://orgcredit.dev/problems/")
		case *r.Duplicate:
			got = "dup"
		}
		if got != want[i] {
			t.Errorf("event %d: %s, want %s: %s", i, got, want[i], raw)
		}
	}
	if p := readResult(t, a.Results[1]).Problem; p["balance_micros"] != float64(4*credit) {
		t.Errorf("g2's problem says the pool holds %v, want 4 credits: %v", p["balance_micros"], p)
	}
	if a.BalanceMicros != 0 || before != 10*credit || f.balance("globex-bot").BalanceMicros != 0 {
		t.Errorf("balance %d", a.BalanceMicros)
	}
}

func TestBatchRefusedWhole(t *testing.T) {
	f := newFixture(t)
	f.agent("acme", "revoked-bot", "research")
	if err := f.store.RevokeAgent(f.ctx, "acme", "revoked-bot", nil); err != nil {
		t.Fatal(err)
	}
	ev := `{"id":"w1","amount_micros":1}`
	many := strings.TrimSuffix(strings.Repeat(ev+",", domain.MaxBatchEvents+1), ",")
	cases := []struct {
		name, body, token, contentType, path string
		status                               int
		typ, field                           string
	}{
		{name: "not JSON", body: `events=1`, status: 400, typ: "invalid-request"},
		{name: "an array", body: `[` + ev + `]`, status: 400, typ: "invalid-request"},
		{name: "no events field", body: `{}`, status: 400, typ: "invalid-request", field: "events"},
		{name: "null events", body: `{"events":null}`, status: 400, typ: "invalid-request", field: "events"},
		{name: "no events", body: `{"events":[]}`, status: 400, typ: "invalid-request", field: "events"},
		{name: "101 events", body: `{"events":[` + many + `]}`, status: 400, typ: "invalid-request", field: "events"},
		{name: "an event that is not an object", body: `{"events":[` + ev + `,"w2"]}`, status: 400, typ: "invalid-request", field: "events[1]"},
		{name: "unknown field", body: `{"events":[` + ev + `],"org_id":"globex"}`, status: 400, typ: "invalid-request", field: "org_id"},
		{name: "events twice", body: `{"events":[` + ev + `],"events":[` + ev + `]}`, status: 400, typ: "invalid-request", field: "events"},
		{name: "trailing data", body: `{"events":[` + ev + `]}{}`, status: 400, typ: "invalid-request"},
		{name: "malformed JSON inside an event", body: `{"events":[{"id":"w1","amount_micros":1,}]}`, status: 400, typ: "invalid-request"},
		{name: "over 1 MiB", body: `{"events":[{"id":"w1","amount_micros":1,"kind":"` + strings.Repeat("k", 1<<20) + `"}]}`, status: 413, typ: "payload-too-large"},
		{name: "text/plain", contentType: "text/plain", body: `{"events":[` + ev + `]}`, status: 415, typ: "unsupported-media-type"},
		{name: "no token", token: "-", body: `{"events":[` + ev + `]}`, status: 401, typ: "unauthorized"},
		{name: "revoked token", token: revokedToken, body: `{"events":[` + ev + `]}`, status: 401, typ: "unauthorized"},
		{name: "query", path: "/v1/usage/batch?org_id=globex", body: `{"events":[` + ev + `]}`, status: 400, typ: "invalid-request", field: "org_id"},
	}
	before := f.state()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if path == "" {
				path = "/v1/usage/batch"
			}
			resp := f.do(f.send(badRequest{path: path, token: tc.token, contentType: tc.contentType, body: tc.body}))
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, resp.Body)
			}
			p := problem(t, resp)
			if p["type"] != "https://orgcredit.dev/problems/"+tc.typ || p["instance"] != "/v1/usage/batch" {
				t.Errorf("problem %v", p)
			}
			if tc.field != "" && p["field"] != tc.field {
				t.Errorf("field %v, want %s: %v", p["field"], tc.field, p["detail"])
			}
		})
	}
	f.requireUnchanged(before)
}

// revokingStore answers a batch as the store does when the agent is
// revoked between two of the batch's transactions.
type revokingStore struct{ *countingStore }

func (s revokingStore) DebitBatch(ctx context.Context, agent domain.Agent, evs []domain.UsageEvent) (domain.BatchResult, error) {
	res, err := s.countingStore.DebitBatch(ctx, agent, evs[:1])
	if err != nil {
		return res, err
	}
	for range evs[1:] {
		res.Items = append(res.Items, domain.BatchItem{Err: domain.Refusef(domain.RuleAgentRevoked, "this agent's token was revoked")})
	}
	return res, nil
}

func TestBatchRevokedMidway(t *testing.T) {
	f := newFixture(t)
	api := New(revokingStore{f.store}, WithClock(f.clock.Now))
	resp := f.doWith(api, request(http.MethodPost, "/v1/usage/batch", f.tokens["free-bot"], "application/json",
		`{"events":[{"id":"m1","amount_micros":1},{"id":"m2","amount_micros":1}]}`))
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, resp.Body)
	}
	var a batchAnswer
	decode(t, resp, &a)
	if r := readResult(t, a.Results[0]); r.Problem != nil {
		t.Errorf("the event debited before the revocation: %s", a.Results[0])
	}
	if p := readResult(t, a.Results[1]).Problem; p["type"] != "https://orgcredit.dev/problems/unauthorized" || p["status"] != float64(401) {
		t.Errorf("the event after the revocation: %s", a.Results[1])
	}
	// The token is forgotten: the next request looks it up again.
	lookups := f.store.tokenLookups.Load()
	f.doWith(api, request(http.MethodGet, "/v1/balance", f.tokens["free-bot"], "", ""))
	if f.store.tokenLookups.Load() != lookups+1 {
		t.Error("the revoked token stayed cached")
	}
}

// TestBatchOfInvalidEventsOnly: nothing to debit, every event answered
// with its problem, and the balance.
func TestBatchOfInvalidEventsOnly(t *testing.T) {
	f := newFixture(t)
	before := f.state()
	a := f.batch("free-bot", `{"id":"i1","amount_micros":0}`, `{"amount_micros":1}`)
	if r := readResult(t, a.Results[1]); r.ID != nil || r.Problem["field"] != "id" {
		t.Errorf("%s", a.Results[1])
	}
	if a.BalanceMicros != 100*credit {
		t.Errorf("balance %d", a.BalanceMicros)
	}
	f.requireUnchanged(before)
}

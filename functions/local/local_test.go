package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/embedded"
	"github.com/orgcredit/orgcredit/internal/metrics"
	"github.com/orgcredit/orgcredit/internal/notify"
	"github.com/orgcredit/orgcredit/internal/slackapp"
)

// newStore starts the local server's back end (embedded, recorded) with
// its table.
func newStore(t *testing.T) *dynamo.Store {
	st, _ := newRecordedStore(t)
	return st
}

func newRecordedStore(t *testing.T) (*dynamo.Store, *embedded.Feed) {
	t.Helper()
	db, err := startDB("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if err := dynamo.EnsureTable(context.Background(), db.Client(), "local-test"); err != nil {
		t.Fatal(err)
	}
	return dynamo.New(db.Client(), "local-test"), db.Feed()
}

// TestSeedIsIdempotent: a second start against the same table (a
// persistent DynamoDB endpoint) finds the organization in place, adds no
// credit, and makes fresh agents since the first tokens cannot be reread.
func TestSeedIsIdempotent(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	first, err := seedDemo(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if first.Reused || len(first.Agents) != 2 || first.Agents[0].ID != "research-bot" {
		t.Fatalf("first seed = %+v", first)
	}
	second, err := seedDemo(ctx, st)
	if err != nil {
		t.Fatalf("second seed: %v", err)
	}
	if !second.Reused || second.Agents[0].ID == "research-bot" {
		t.Errorf("second seed = %+v, want fresh agents", second)
	}
	for _, a := range append(first.Agents, second.Agents...) {
		ag, err := st.AgentByToken(ctx, a.Token)
		if err != nil || ag.ID != a.ID || ag.BudgetGroupID != a.Group || ag.OrgID != "acme" {
			t.Errorf("token of %s resolves to %+v, %v", a.ID, ag, err)
		}
	}
	pool, err := st.GetPool(ctx, "acme")
	if err != nil || pool.Balance != 100*domain.MicrosPerCredit {
		t.Errorf("pool after two seeds = %+v, %v; want 100 credits", pool, err)
	}
	org, err := st.GetOrg(ctx, "acme")
	if err != nil || org.BillingHolderID != "dina" || org.SlackTeamID != "T0ACME" {
		t.Errorf("org = %+v, %v", org, err)
	}
}

// TestServer talks to the local server's routes over real HTTP, as the
// printed curl lines do.
// noRedirects shows redirects instead of following them: an API answers
// what it was asked, and a redirect would hide a path the server cleaned.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func TestServer(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	demo, err := seedDemo(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config{AdminToken: "admin-secret", SlackSigningSecret: "signing-secret"}
	srv := httptest.NewServer(routes(st, slackApp(st, cfg), nil, cfg, metrics.NewTotals()))
	defer srv.Close()

	do := func(method, path, auth, body string) (int, string, http.Header) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	token := demo.Agents[0].Token
	tests := []struct {
		method, path, auth, body string
		status                   int
		contains                 string
	}{
		{"POST", "/v1/usage", token, `{"id":"demo-0001","amount_micros":1250000,"kind":"conversation"}`, 200, `"duplicate":false`},
		{"POST", "/v1/usage", token, `{"id":"demo-0001","amount_micros":1250000,"kind":"conversation"}`, 200, `"duplicate":true`},
		{"GET", "/v1/balance", token, "", 200, `"balance_micros":98750000`},
		{"GET", "/admin/orgs/acme", "admin-secret", "", 200, `"billing_holder":{"id":"dina"`},
		{"GET", "/admin/orgs/acme/audit?limit=20", "admin-secret", "", 200, `"action":"agent.created"`},
		{"GET", "/admin/orgs/acme", "", "", 401, "unauthorized"},
		{"GET", "/admin/orgs/acme", token, "", 401, "unauthorized"},
		{"GET", "/v1/balance", "admin-secret", "", 401, "unauthorized"},
		{"GET", "/", "", "", 404, "not-found"},
		{"DELETE", "/v1/balance", token, "", 405, "method-not-allowed"},
		// The figures the functions send to CloudWatch, added up: one debit
		// and one duplicate so far, and the refusals above by rule.
		{"GET", "/local/metrics", "", "", 200, `"usage/Debits": 1`},
		{"GET", "/local/metrics", "", "", 200, `"usage/Duplicates": 1`},
		{"GET", "/local/metrics", "", "", 200, `"usage/DebitedMicros": 1250000`},
		{"GET", "/local/metrics", "", "", 200, `"admin/Refusals/unauthorized": 2`},
		// Paths are routed as sent, as API Gateway does: no cleaning, no
		// redirects in HTML.
		{"POST", "//v1/usage", token, `{"id":"demo-0002","amount_micros":1}`, 404, "not-found"},
		{"POST", "/v1//usage", token, `{"id":"demo-0002","amount_micros":1}`, 404, "not-found"},
		{"GET", "/v1", token, "", 404, "not-found"},
		{"GET", "/admin/orgs/acme/../acme", "admin-secret", "", 404, "not-found"},
		{"GET", "/admin/orgs//audit", "admin-secret", "", 404, "not-found"},
		{"GET", "/slack/commands/", "", "", 404, "not-found"},
		{"HEAD", "/v1/balance", token, "", 200, ""},
		{"OPTIONS", "/v1/usage", "", "", 204, ""},
		{"POST", "/v1/usage?org_id=globex", token, `{"id":"demo-0002","amount_micros":1}`, 400, `"field":"org_id"`},
		// Nothing above debited demo-0002.
		{"POST", "/v1/usage", token, `{"id":"demo-0002","amount_micros":1}`, 200, `"duplicate":false`},
		{"POST", "/v1/usage/batch", token, `{"events":[{"id":"demo-0002","amount_micros":1},{"id":"demo-0003","amount_micros":250000,"kind":"search"}]}`, 200, `"duplicate":true`},
		{"POST", "/v1/usage/batch", token, `{"events":[]}`, 400, `"field":"events"`},
		{"GET", "/v1/balance", token, "", 200, `"balance_micros":98499999`},
		{"POST", "/v1/usage/batch", token, `{"events":[{"id":"demo-0004","amount_micros":0}]}`, 200, `"type":"https://orgcredit.dev/problems/invalid-request"`},
		// A batch's events count as single posts do: demo-0002 and
		// demo-0003 above are one more duplicate and one more debit, the
		// zero amount one more refusal (after the org_id query and the
		// empty batch).
		{"GET", "/local/metrics", "", "", 200, `"usage/Debits": 3`},
		{"GET", "/local/metrics", "", "", 200, `"usage/Duplicates": 2`},
		{"GET", "/local/metrics", "", "", 200, `"usage/Refusals/invalid-request": 3`},
	}
	for _, tt := range tests {
		status, body, h := do(tt.method, tt.path, tt.auth, tt.body)
		if status != tt.status || !strings.Contains(body, tt.contains) {
			t.Errorf("%s %s = %d %s, want %d containing %s", tt.method, tt.path, status, body, tt.status, tt.contains)
		}
		if status >= 400 && h.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s: error with Content-Type %q", tt.method, tt.path, h.Get("Content-Type"))
		}
	}
}

// TestLocalServerMountsSlack checks the Slack endpoints are served and
// verified: a signed URL verification is answered, an unsigned one is not.
func TestLocalServerMountsSlack(t *testing.T) {
	st := newStore(t)
	cfg := config{AdminToken: "admin-secret", SlackSigningSecret: "signing-secret"}
	srv := httptest.NewServer(routes(st, slackApp(st, cfg), nil, cfg, metrics.NewTotals()))
	defer srv.Close()

	body := `{"type":"url_verification","token":"x","challenge":"chal-123"}`
	post := func(sign bool) (int, string) {
		req, _ := http.NewRequest("POST", srv.URL+"/slack/events", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if sign {
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			mac := hmac.New(sha256.New, []byte(cfg.SlackSigningSecret))
			mac.Write([]byte("v0:" + ts + ":" + body))
			req.Header.Set("X-Slack-Request-Timestamp", ts)
			req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
		}
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, b := post(true); status != 200 || !strings.Contains(b, "chal-123") {
		t.Errorf("signed url_verification = %d %s", status, b)
	}
	if status, _ := post(false); status != 401 {
		t.Errorf("unsigned request = %d, want 401", status)
	}
}

// TestNotificationsPrintedWithoutSlack: with no Slack Web API to call and
// no stand-in (Socket Mode without a bot token), the Billing holder's
// notifications show in the log instead of failing. With no Slack at all
// they go to the stand-in (TestAlertsThroughStandIn).
func TestNotificationsPrintedWithoutSlack(t *testing.T) {
	st, feed := newRecordedStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	demo, err := seedDemo(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	if (config{}).slackReachable() || !(config{SlackAPIURL: "http://x"}).slackReachable() {
		t.Fatal("slackReachable")
	}
	go notify.New(st, printedSlack{log: log}, notify.WithLogger(log)).Follow(ctx, feed, notify.FollowOptions{ScheduleEvery: time.Hour})
	agent, err := st.AgentByToken(ctx, demo.Agents[0].Token)
	if err != nil {
		t.Fatal(err)
	}
	// 100 credits granted, threshold 10: 45 + 45 crosses it.
	for _, id := range []string{"n1", "n2"} {
		if _, err := st.Debit(ctx, agent, domain.UsageEvent{ID: id, Amount: 45 * domain.MicrosPerCredit}); err != nil && !errors.Is(err, domain.ErrGroupCapReached) {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "Slack alert (not sent") || !strings.Contains(logs.String(), "U0DINA") {
		if time.Now().After(deadline) {
			t.Fatalf("log = %s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lockedBuffer is a log destination written by one goroutine and read by
// another.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// slackApp is newSlack's app, for the tests' configurations, which
// cannot fail.
func slackApp(store *dynamo.Store, cfg config) *slackapp.App {
	app, _, err := newSlack(store, cfg)
	if err != nil {
		panic(err)
	}
	return app
}

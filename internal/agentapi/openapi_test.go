package agentapi

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/orgcredit/orgcredit/internal/domain"
)

func loadOpenAPI(t *testing.T) routers.Router {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(OpenAPI)
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.yaml is not valid: %v", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return router
}

// TestOpenAPI sends real requests through the handler and checks each
// request and answer against openapi.yaml: every success and every
// problem the API answers must be one the document describes.
func TestOpenAPI(t *testing.T) {
	router := loadOpenAPI(t)
	f := newFixture(t)
	f.agent("acme", "revoked-bot", "research")
	if err := f.store.RevokeAgent(f.ctx, "acme", "revoked-bot", nil); err != nil {
		t.Fatal(err)
	}
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}

	type exchange struct {
		name          string
		req           *http.Request
		validRequest  bool // the document must accept the request too
		invalidBefore bool // the document must refuse the request (it describes the input rule)
		status        int
	}
	good := []exchange{
		{name: "debit", req: request("POST", "/v1/usage", f.tokens["research-bot"], "application/json", `{"id":"o1","amount_micros":1500000,"kind":"conversation","occurred_at":"2026-11-03T13:00:00.5+01:00"}`), validRequest: true, status: 200},
		{name: "duplicate", req: request("POST", "/v1/usage", f.tokens["research-bot"], "application/json", `{"id":"o1","amount_micros":1500000,"kind":"conversation","occurred_at":"2026-11-03T13:00:00.5+01:00"}`), validRequest: true, status: 200},
		{name: "debit without group", req: request("POST", "/v1/usage", f.tokens["free-bot"], "application/json; charset=utf-8", `{"id":"o2","amount_micros":1}`), validRequest: true, status: 200},
		{name: "balance", req: request("GET", "/v1/balance", f.tokens["research-bot"], "", ""), validRequest: true, status: 200},
		{name: "balance without group", req: request("GET", "/v1/balance", f.tokens["free-bot"], "", ""), validRequest: true, status: 200},
		{name: "conflict", req: request("POST", "/v1/usage", f.tokens["research-bot"], "application/json", `{"id":"o1","amount_micros":2}`), validRequest: true, status: 409},
		{name: "cap reached", req: request("POST", "/v1/usage", f.tokens["support-bot"], "application/json", `{"id":"o3","amount_micros":20000001}`), validRequest: true, status: 402},
		{name: "insufficient credit", req: request("POST", "/v1/usage", f.tokens["globex-bot"], "application/json", `{"id":"o4","amount_micros":10000001}`), validRequest: true, status: 402},
		{name: "revoked", req: request("GET", "/v1/balance", f.tokens["revoked-bot"], "", ""), status: 401},
		{name: "no token", req: request("GET", "/v1/balance", "", "", ""), status: 401},
		{name: "unknown field", req: request("POST", "/v1/usage", f.tokens["research-bot"], "application/json", `{"id":"o5","amount_micros":1,"org_id":"globex"}`), invalidBefore: true, status: 400},
		{name: "case variant", req: request("POST", "/v1/usage", f.tokens["research-bot"], "application/json", `{"ID":"o5","amount_micros":1}`), invalidBefore: true, status: 400},
		{name: "zero", req: request("POST", "/v1/usage", f.tokens["research-bot"], "application/json", `{"id":"o5","amount_micros":0}`), invalidBefore: true, status: 400},
		{name: "over max", req: request("POST", "/v1/usage", f.tokens["research-bot"], "application/json", `{"id":"o5","amount_micros":1000000000001}`), invalidBefore: true, status: 400},
		{name: "fraction", req: request("POST", "/v1/usage", f.tokens["research-bot"], "application/json", `{"id":"o5","amount_micros":1.5}`), invalidBefore: true, status: 400},
		{name: "bad id", req: request("POST", "/v1/usage", f.tokens["research-bot"], "application/json", `{"id":"a#b","amount_micros":1}`), invalidBefore: true, status: 400},
		{name: "bad time", req: request("POST", "/v1/usage", f.tokens["research-bot"], "application/json", `{"id":"o5","amount_micros":1,"occurred_at":"soon"}`), invalidBefore: true, status: 400},
		{name: "missing amount", req: request("POST", "/v1/usage", f.tokens["research-bot"], "application/json", `{"id":"o5"}`), invalidBefore: true, status: 400},
		{name: "too large", req: request("POST", "/v1/usage", f.tokens["research-bot"], "application/json", `{"id":"o5","amount_micros":1,"kind":"`+strings.Repeat("k", 70000)+`"}`), invalidBefore: true, status: 413},
		{name: "content type", req: request("POST", "/v1/usage", f.tokens["research-bot"], "text/plain", `{"id":"o5","amount_micros":1}`), invalidBefore: true, status: 415},

		{name: "batch", req: request("POST", "/v1/usage/batch", f.tokens["research-bot"], "application/json", `{"events":[{"id":"ob1","amount_micros":1500000,"kind":"conversation"},{"id":"o1","amount_micros":1500000,"kind":"conversation","occurred_at":"2026-11-03T13:00:00.5+01:00"},{"id":"ob2","amount_micros":1}]}`), validRequest: true, status: 200},
		{name: "batch without group", req: request("POST", "/v1/usage/batch", f.tokens["free-bot"], "application/json", `{"events":[{"id":"ob3","amount_micros":1}]}`), validRequest: true, status: 200},
		// Refused events: an id conflict, the cap, then malformed ones
		// (the document describes valid events, so it refuses the
		// request; the API answers each event).
		{name: "batch of refusals", req: request("POST", "/v1/usage/batch", f.tokens["support-bot"], "application/json", `{"events":[{"id":"o1","amount_micros":2},{"id":"ob4","amount_micros":20000001},{"id":"ob5","amount_micros":0},{"amount_micros":1},{"id":"ob6","amount_micros":1,"kind":"`+strings.Repeat("k", 70000)+`"}]}`), status: 200},
		{name: "batch the pool cannot pay", req: request("POST", "/v1/usage/batch", f.tokens["globex-bot"], "application/json", `{"events":[{"id":"ob7","amount_micros":10000001},{"id":"ob8","amount_micros":1}]}`), validRequest: true, status: 200},
		{name: "batch revoked", req: request("POST", "/v1/usage/batch", f.tokens["revoked-bot"], "application/json", `{"events":[{"id":"ob9","amount_micros":1}]}`), validRequest: true, status: 401},
		{name: "batch empty", req: request("POST", "/v1/usage/batch", f.tokens["research-bot"], "application/json", `{"events":[]}`), invalidBefore: true, status: 400},
		{name: "batch over 100", req: request("POST", "/v1/usage/batch", f.tokens["research-bot"], "application/json", `{"events":[`+strings.TrimSuffix(strings.Repeat(`{"id":"ob9","amount_micros":1},`, 101), ",")+`]}`), invalidBefore: true, status: 400},
		{name: "batch of a string", req: request("POST", "/v1/usage/batch", f.tokens["research-bot"], "application/json", `{"events":["ob9"]}`), invalidBefore: true, status: 400},
		{name: "batch unknown field", req: request("POST", "/v1/usage/batch", f.tokens["research-bot"], "application/json", `{"events":[{"id":"ob9","amount_micros":1}],"org_id":"globex"}`), invalidBefore: true, status: 400},
		{name: "batch too large", req: request("POST", "/v1/usage/batch", f.tokens["research-bot"], "application/json", `{"events":[{"id":"ob9","amount_micros":1,"kind":"`+strings.Repeat("k", 1<<20)+`"}]}`), invalidBefore: true, status: 413},
		{name: "batch content type", req: request("POST", "/v1/usage/batch", f.tokens["research-bot"], "text/plain", `{"events":[{"id":"ob9","amount_micros":1}]}`), invalidBefore: true, status: 415},
	}
	for _, ex := range good {
		t.Run(ex.name, func(t *testing.T) {
			body, _ := io.ReadAll(ex.req.Body)
			ex.req.Body = io.NopCloser(bytes.NewReader(body))
			route, params, err := router.FindRoute(ex.req)
			if err != nil {
				t.Fatalf("the document has no route for %s %s: %v", ex.req.Method, ex.req.URL, err)
			}
			in := &openapi3filter.RequestValidationInput{Request: ex.req, PathParams: params, Route: route, Options: opts}
			reqErr := openapi3filter.ValidateRequest(context.Background(), in)
			if ex.validRequest && reqErr != nil {
				t.Errorf("the document refuses a request the API accepts: %v", reqErr)
			}
			if ex.invalidBefore && reqErr == nil {
				t.Errorf("the document accepts a request the API refuses with %d", ex.status)
			}

			ex.req.Body = io.NopCloser(bytes.NewReader(body))
			resp := f.do(ex.req)
			if resp.StatusCode != ex.status {
				t.Fatalf("status = %d, want %d: %s", resp.StatusCode, ex.status, resp.Body)
			}
			h := http.Header{}
			for k, v := range resp.Headers {
				h.Set(k, v)
			}
			out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: h, Options: opts}
			out.SetBodyBytes([]byte(resp.Body))
			if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
				t.Errorf("the answer does not match the document: %v\n%s", err, resp.Body)
			}
		})
	}
}

// busyStore answers every debit as a store whose organization items are
// too hot to write answers it: a failure DynamoDB cannot be made to
// produce on demand.
type busyStore struct{ Store }

func (busyStore) Debit(context.Context, domain.Agent, domain.UsageEvent) (domain.DebitResult, error) {
	return domain.DebitResult{}, domain.ErrBusy
}

func (busyStore) DebitBatch(context.Context, domain.Agent, []domain.UsageEvent) (domain.BatchResult, error) {
	return domain.BatchResult{}, domain.ErrBusy
}

// TestOpenAPIDescribesThrottling: both 429s an agent can get are in the
// document: the function's problem+json with Retry-After, and API
// Gateway's own fixed answer to a route over its throttle.
func TestOpenAPIDescribesThrottling(t *testing.T) {
	router := loadOpenAPI(t)
	f := newFixture(t)
	busy := New(busyStore{f.store})
	opts := &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, IncludeResponseStatus: true}
	tests := []struct {
		name, path, body string
		gateway          bool // API Gateway answers, not the function
	}{
		{name: "function, single", path: "/v1/usage", body: `{"id":"t1","amount_micros":1}`},
		{name: "function, batch", path: "/v1/usage/batch", body: `{"events":[{"id":"t2","amount_micros":1}]}`},
		{name: "API Gateway, single", path: "/v1/usage", body: `{"id":"t3","amount_micros":1}`, gateway: true},
		{name: "API Gateway, batch", path: "/v1/usage/batch", body: `{"events":[{"id":"t4","amount_micros":1}]}`, gateway: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := request("POST", tt.path, f.tokens["research-bot"], "application/json", tt.body)
			route, params, err := router.FindRoute(req)
			if err != nil {
				t.Fatal(err)
			}
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
			h := http.Header{}
			var body string
			if tt.gateway {
				// HTTP APIs answer a throttled route with this fixed body.
				h.Set("Content-Type", "application/json")
				body = `{"message":"Too Many Requests"}`
			} else {
				resp := f.doWith(busy, req)
				if resp.StatusCode != http.StatusTooManyRequests || resp.Headers["Retry-After"] == "" {
					t.Fatalf("answer %d %v %s, want 429 with Retry-After", resp.StatusCode, resp.Headers, resp.Body)
				}
				for k, v := range resp.Headers {
					h.Set(k, v)
				}
				body = resp.Body
			}
			out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: http.StatusTooManyRequests, Header: h, Options: opts}
			out.SetBodyBytes([]byte(body))
			if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
				t.Errorf("the document does not describe this 429: %v\n%s", err, body)
			}
			// The document must refuse what neither sends.
			out = &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: http.StatusTooManyRequests, Header: h, Options: opts}
			out.SetBodyBytes([]byte(`{"message":"Slow down"}`))
			if h.Get("Content-Type") == "application/json" && openapi3filter.ValidateResponse(context.Background(), out) == nil {
				t.Errorf("the document accepts a 429 body API Gateway never sends")
			}
		})
	}
}

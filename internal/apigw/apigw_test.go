package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgcredit/orgcredit/internal/domain"
)

func jsonEvent(body string) events.APIGatewayV2HTTPRequest {
	return events.APIGatewayV2HTTPRequest{
		Headers: map[string]string{"content-type": "application/json"},
		Body:    body,
	}
}

type inner struct {
	ID   string `json:"id,required"`
	Name string `json:"name"`
}

type sample struct {
	ID     string      `json:"id,required"`
	Amount json.Number `json:"amount_micros,required"`
	Kind   string      `json:"kind"`
	Group  *string     `json:"group,nullable"`
	Owner  inner       `json:"owner"`
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name, body, contentType string
		status                  int
		field, detail           string // field of the problem; a substring of its detail
	}{
		{name: "valid", body: `{"id":"a","amount_micros":5}`, status: 0},
		{name: "valid nested and nullable", body: `{"id":"a","amount_micros":5,"group":null,"owner":{"id":"o"}}`, status: 0},
		{name: "charset allowed", body: `{"id":"a","amount_micros":5}`, contentType: "application/json; charset=UTF-8", status: 0},
		{name: "unknown field", body: `{"id":"a","amount_micros":5,"org_id":"x"}`, status: 400, field: "org_id", detail: "not a field"},
		{name: "case variant", body: `{"ID":"a","amount_micros":5}`, status: 400, field: "ID", detail: "case-sensitive"},
		{name: "case variant after exact", body: `{"id":"a","amount_micros":5,"Amount_Micros":7}`, status: 400, field: "Amount_Micros", detail: `write "amount_micros"`},
		{name: "duplicate key", body: `{"id":"a","id":"b","amount_micros":5}`, status: 400, field: "id", detail: "more than once"},
		{name: "nested unknown", body: `{"id":"a","amount_micros":5,"owner":{"id":"o","org":"x"}}`, status: 400, field: "owner.org"},
		{name: "nested missing required", body: `{"id":"a","amount_micros":5,"owner":{}}`, status: 400, field: "owner.id", detail: "required"},
		{name: "nested not object", body: `{"id":"a","amount_micros":5,"owner":"o"}`, status: 400, field: "owner", detail: "object"},
		{name: "missing required", body: `{"id":"a"}`, status: 400, field: "amount_micros", detail: "required"},
		{name: "null required", body: `{"id":null,"amount_micros":5}`, status: 400, field: "id", detail: "null"},
		{name: "null optional", body: `{"id":"a","amount_micros":5,"kind":null}`, status: 400, field: "kind", detail: "null"},
		{name: "string amount", body: `{"id":"a","amount_micros":"5"}`, status: 400, field: "amount_micros", detail: "JSON integer"},
		{name: "fraction", body: `{"id":"a","amount_micros":5.0}`, status: 400, field: "amount_micros", detail: "without fraction"},
		{name: "exponent", body: `{"id":"a","amount_micros":5e3}`, status: 400, field: "amount_micros", detail: "exponent"},
		{name: "leading plus", body: `{"id":"a","amount_micros":+5}`, status: 400, detail: "not valid JSON"},
		{name: "number id", body: `{"id":5,"amount_micros":5}`, status: 400, field: "id", detail: "string"},
		{name: "array body", body: `[{"id":"a","amount_micros":5}]`, status: 400, detail: "JSON object, not an array"},
		{name: "string body", body: `"x"`, status: 400, detail: "JSON object"},
		{name: "empty body", body: ``, status: 400, detail: "empty"},
		{name: "blank body", body: "  \n", status: 400, detail: "empty"},
		{name: "trailing data", body: `{"id":"a","amount_micros":5} {}`, status: 400, detail: "after the JSON object"},
		{name: "trailing garbage", body: `{"id":"a","amount_micros":5}x`, status: 400, detail: "after the JSON object"},
		{name: "truncated", body: `{"id":"a","amount_micros":5`, status: 400, detail: "JSON"},
		{name: "syntax error", body: `{"id":"a",}`, status: 400, detail: "not valid JSON"},
		{name: "too large", body: `{"id":"` + strings.Repeat("a", MaxBodyBytes) + `","amount_micros":5}`, status: 413},
		{name: "no content type", body: `{}`, contentType: "-", status: 415},
		{name: "wrong content type", body: `{}`, contentType: "text/plain", status: 415},
		{name: "wrong charset", body: `{}`, contentType: "application/json; charset=latin1", status: 415},
		{name: "control character", body: `{"id":"a","amount_micros":5,"kind":"x\u0007"}`, status: 400, field: "kind", detail: "U+0007"},
		{name: "DEL character", body: "{\"id\":\"a\",\"amount_micros\":5,\"kind\":\"x\x7f\"}", status: 400, field: "kind", detail: "control character"},
		{name: "nested control character", body: `{"id":"a","amount_micros":5,"owner":{"id":"o","name":"\u001b[2J"}}`, status: 400, field: "owner.name", detail: "U+001B"},
		{name: "unicode text allowed", body: `{"id":"a","amount_micros":5,"kind":"réunion 会議 ✓"}`, status: 0},
		{name: "byte order mark", body: "\xef\xbb\xbf" + `{"id":"a","amount_micros":5}`, status: 400, detail: "byte order mark"},
		{name: "json-ish content type", body: `{}`, contentType: "application/jsonx", status: 415},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := jsonEvent(tt.body)
			switch tt.contentType {
			case "":
			case "-":
				delete(req.Headers, "content-type")
			default:
				req.Headers["content-type"] = tt.contentType
			}
			var dst sample
			err := DecodeJSON(req, &dst)
			if tt.status == 0 {
				if err != nil {
					t.Fatalf("DecodeJSON: %v", err)
				}
				return
			}
			var p *Problem
			if !errors.As(err, &p) {
				t.Fatalf("DecodeJSON = %v, want a *Problem with status %d", err, tt.status)
			}
			if p.Status != tt.status {
				t.Errorf("status = %d, want %d (%s)", p.Status, tt.status, p.Detail)
			}
			if tt.field != "" && p.Extra["field"] != tt.field {
				t.Errorf("field = %v, want %q (%s)", p.Extra["field"], tt.field, p.Detail)
			}
			if !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("detail = %q, want it to contain %q", p.Detail, tt.detail)
			}
		})
	}
}

type batchSample struct {
	Events []json.RawMessage `json:"events,required"`
}

// TestDecodeJSONArrayOfObjects: an array of raw objects is checked for
// its shape only; what is inside each element is left to DecodeObject.
func TestDecodeJSONArrayOfObjects(t *testing.T) {
	tests := []struct {
		name, body    string
		status        int
		field, detail string
		elements      int
	}{
		{name: "valid", body: `{"events":[{"id":"a","amount_micros":5},{"x":[1,{"y":[]}]}]}`, elements: 2},
		{name: "empty array", body: `{"events":[]}`, elements: 0},
		{name: "elements are kept even when invalid inside", body: `{"events":[{"id":"a","id":"a","amount_micros":"5"}]}`, elements: 1},
		{name: "missing", body: `{}`, status: 400, field: "events", detail: "required"},
		{name: "null", body: `{"events":null}`, status: 400, field: "events", detail: "null"},
		{name: "not an array", body: `{"events":{"id":"a"}}`, status: 400, field: "events", detail: "array of objects"},
		{name: "a number element", body: `{"events":[{"id":"a"},5]}`, status: 400, field: "events[1]", detail: "JSON object, not a number"},
		{name: "an array element", body: `{"events":[[{"id":"a"}]]}`, status: 400, field: "events[0]", detail: "not an array"},
		{name: "a null element", body: `{"events":[null]}`, status: 400, field: "events[0]", detail: "not null"},
		{name: "syntax error inside an element", body: `{"events":[{"id":"a",}]}`, status: 400, detail: "not valid JSON"},
		{name: "truncated", body: `{"events":[{"id":"a"}`, status: 400, detail: "JSON"},
		{name: "unknown top-level field", body: `{"events":[],"org_id":"x"}`, status: 400, field: "org_id"},
		{name: "over 1 MiB", body: `{"events":[{"kind":"` + strings.Repeat("k", MaxBatchBodyBytes) + `"}]}`, status: 413, detail: "(1 MiB)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var dst batchSample
			err := DecodeJSONUpTo(jsonEvent(tt.body), &dst, MaxBatchBodyBytes)
			if tt.status == 0 {
				if err != nil || len(dst.Events) != tt.elements {
					t.Fatalf("DecodeJSONUpTo: %v, %d elements", err, len(dst.Events))
				}
				return
			}
			var p *Problem
			if !errors.As(err, &p) || p.Status != tt.status {
				t.Fatalf("DecodeJSONUpTo = %v, want a problem with status %d", err, tt.status)
			}
			if tt.field != "" && p.Extra["field"] != tt.field {
				t.Errorf("field = %v, want %q (%s)", p.Extra["field"], tt.field, p.Detail)
			}
			if !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("detail = %q, want it to contain %q", p.Detail, tt.detail)
			}
		})
	}
}

// TestDecodeObjectIsDecodeJSON: an object decoded on its own (an element
// of a batch) is refused exactly as the same object sent as a request
// body is.
func TestDecodeObjectIsDecodeJSON(t *testing.T) {
	bodies := []string{
		`{"id":"a","amount_micros":5}`,
		`{"id":"a","amount_micros":5,"org_id":"x"}`,
		`{"ID":"a","amount_micros":5}`,
		`{"id":"a","id":"b","amount_micros":5}`,
		`{"id":"a","amount_micros":5,"owner":{"id":"o","org":"x"}}`,
		`{"id":"a"}`,
		`{"id":null,"amount_micros":5}`,
		`{"id":"a","amount_micros":"5"}`,
		`{"id":"a","amount_micros":5.0}`,
		`{"id":"a","amount_micros":5,"kind":"x\u0007"}`,
		`{"id":"` + strings.Repeat("a", MaxBodyBytes) + `","amount_micros":5}`,
	}
	for _, body := range bodies {
		var a, b sample
		single := DecodeJSON(jsonEvent(body), &a)
		alone := DecodeObject([]byte(body), &b)
		sj, _ := json.Marshal(ProblemFor(single))
		aj, _ := json.Marshal(ProblemFor(alone))
		if (single == nil) != (alone == nil) || (single != nil && string(sj) != string(aj)) || a != b {
			t.Errorf("body %.60s: as a body %v (%+v), alone %v (%+v)", body, single, a, alone, b)
		}
	}
}

func TestDecodeJSONBase64Body(t *testing.T) {
	req := jsonEvent(base64.StdEncoding.EncodeToString([]byte(`{"id":"a","amount_micros":7}`)))
	req.IsBase64Encoded = true
	var dst sample
	if err := DecodeJSON(req, &dst); err != nil {
		t.Fatal(err)
	}
	if dst.ID != "a" || dst.Amount != "7" {
		t.Errorf("decoded %+v", dst)
	}
}

func TestMicros(t *testing.T) {
	tests := []struct {
		in   string
		want domain.Micros
		ok   bool
	}{
		{"1", 1, true},
		{"0", 0, true},
		{"-5", -5, true}, // the domain refuses it, with the field's own rule
		{"9223372036854775807", math.MaxInt64, true},
		// Beyond int64: read as the extreme, which the domain then
		// refuses as too large or not positive.
		{"9223372036854775808", math.MaxInt64, true},
		{"-9223372036854775809", math.MinInt64, true},
		{"", 0, false},
		{"1.5", 0, false},
		{"1e3", 0, false},
	}
	for _, tt := range tests {
		got, err := Micros("amount_micros", json.Number(tt.in))
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Micros(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		var p *Problem
		if err != nil && (!errors.As(err, &p) || p.Status != 400) {
			t.Errorf("Micros(%q) error %v is not a 400 problem", tt.in, err)
		}
	}
}

func TestProblemFor(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		typ    string
		extra  map[string]any
		title  string // when set, the problem's title
	}{
		{"insufficient credit", fmt.Errorf("debit: %w", &domain.InsufficientCredit{Balance: 5, Requested: 9}), 402, TypeInsufficientCredit,
			map[string]any{"balance_micros": int64(5), "requested_micros": int64(9)}, ""},
		{"group cap", &domain.GroupCapReached{GroupID: "research", Cap: 10, Spent: 8, Requested: 5, Period: "2026-11"}, 402, TypeGroupCapReached,
			map[string]any{"budget_group_id": "research", "cap_micros": int64(10), "spent_micros": int64(8), "period": "2026-11"}, ""},
		{"not found", domain.NotFound("organization", "x"), 404, ProblemBase + "not-found", nil, "Not found"},
		{"already exists", domain.Refusef(domain.RuleAlreadyExists, "taken"), 409, TypeAlreadyExists, nil, ""},
		{"usage conflict", domain.Refusef(domain.RuleUsageConflict, "other content"), 409, TypeUsageIDConflict, nil, "Usage id conflict"},
		{"invalid", domain.Refusef(domain.RuleInvalid, "bad"), 400, TypeInvalidRequest, nil, ""},
		{"billing not a role", domain.ErrBillingNotARole, 400, ProblemBase + "billing-not-a-role", nil, ""},
		{"holder cannot leave", domain.Refusef(domain.RuleHolderCannotLeave, "transfer first"), 409, ProblemBase + "billing-holder-cannot-leave", nil, ""},
		{"last owner", domain.Refusef(domain.RuleLastOwner, "dina is the last Owner"), 409, ProblemBase + "last-owner", nil, "Last owner"},
		{"not owner or admin", domain.ErrNotOwnerOrAdmin, 403, ProblemBase + "not-owner-or-admin", nil, ""},
		{"revoked agent is a state, not credentials", domain.Refusef(domain.RuleAgentRevoked, "agent %q is revoked", "a"), 409, TypeAgentRevoked, nil, ""},
		{"timeout", context.DeadlineExceeded, 503, TypeUnavailable, nil, ""},
		{"store unavailable", fmt.Errorf("read: %w", domain.ErrUnavailable), 503, TypeUnavailable, nil, ""},
		{"organization's items hot", fmt.Errorf("debit: %w", domain.ErrBusy), 429, TypeTooManyRequests, nil, "Too many requests"},
		{"grant past the ceiling", &domain.CeilingReached{Granted: domain.MaxRunningTotalMicros, Requested: 5}, 409, ProblemBase + "credit-ceiling-reached",
			map[string]any{"ceiling_micros": int64(domain.MaxRunningTotalMicros), "requested_micros": int64(5)}, "Credit ceiling reached"},
		{"invalid field", fmt.Errorf("x: %w", domain.ValidateAmount("cap_micros", 5, 4, true)), 400, TypeInvalidRequest,
			map[string]any{"field": "cap_micros", "max_micros": int64(4)}, "Invalid request"},
		{"other", errors.New("boom: secret table detail"), 500, TypeInternal, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ProblemFor(tt.err)
			if p.Status != tt.status || p.Type != tt.typ {
				t.Fatalf("ProblemFor = %d %s, want %d %s", p.Status, p.Type, tt.status, tt.typ)
			}
			for k, v := range tt.extra {
				if p.Extra[k] != v {
					t.Errorf("%s = %v, want %v", k, p.Extra[k], v)
				}
			}
			resp := ErrorResponse(context.Background(), events.APIGatewayV2HTTPRequest{RawPath: "/x"}, tt.err)
			if resp.Headers["Content-Type"] != "application/problem+json" {
				t.Errorf("content type %q", resp.Headers["Content-Type"])
			}
			if (tt.status == 503 || tt.status == 429) && resp.Headers["Retry-After"] == "" {
				t.Errorf("%d without Retry-After", tt.status)
			}
			if tt.status == 500 && strings.Contains(resp.Body, "secret") {
				t.Errorf("500 leaks the error: %s", resp.Body)
			}
			var body map[string]any
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
				t.Fatal(err)
			}
			if tt.title != "" && body["title"] != tt.title {
				t.Errorf("title = %v, want %q", body["title"], tt.title)
			}
			if d, _ := body["detail"].(string); tt.status < 500 && (d == "" || d[:1] != strings.ToUpper(d[:1]) || !strings.HasSuffix(d, ".")) {
				t.Errorf("detail %q is not a sentence", d)
			}
			if body["type"] != tt.typ || body["status"] != float64(tt.status) || body["detail"] == "" || body["instance"] != "/x" {
				t.Errorf("body = %v", body)
			}
		})
	}
}

func TestRouter(t *testing.T) {
	var rt Router
	ok := func(name string) RouteFunc {
		return func(_ context.Context, _ events.APIGatewayV2HTTPRequest, p Params) (events.APIGatewayV2HTTPResponse, error) {
			return JSON(200, map[string]any{"route": name, "params": p})
		}
	}
	rt.Handle("GET", "/admin/orgs/{org}", ok("get"))
	rt.Handle("PATCH", "/admin/orgs/{org}", ok("patch"))
	rt.Handle("DELETE", "/admin/orgs/{org}/members/{member}", ok("delete"))
	rt.Handle("GET", "/fail", func(context.Context, events.APIGatewayV2HTTPRequest, Params) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{}, domain.NotFound("thing", "x")
	})
	tests := []struct {
		method, path string
		status       int
		want, allow  string
	}{
		{"GET", "/admin/orgs/acme", 200, `"route":"get"`, ""},
		{"PATCH", "/admin/orgs/acme", 200, `"org":"acme"`, ""},
		{"DELETE", "/admin/orgs/acme/members/m%3A1", 200, `"member":"m:1"`, ""},
		{"POST", "/admin/orgs/acme", 405, "use GET or PATCH.", "GET, HEAD, OPTIONS, PATCH"},
		{"DELETE", "/admin/orgs/acme", 405, "method-not-allowed", "GET, HEAD, OPTIONS, PATCH"},
		{"OPTIONS", "/admin/orgs/acme", 204, "", "GET, HEAD, OPTIONS, PATCH"},
		{"OPTIONS", "/admin/orgs/acme/members/m", 204, "", "DELETE, OPTIONS"},
		{"OPTIONS", "/nothing", 404, "not-found", ""},
		{"PUT", "/admin/orgs/acme/members/m", 405, "use DELETE.", "DELETE, OPTIONS"},
		{"GET", "/admin/%6frgs/acme", 200, `"org":"acme"`, ""},
		{"GET", "/admin//orgs/acme", 404, "not-found", ""},
		{"GET", "/admin/orgs/acme/../acme", 404, "not-found", ""},
		{"GET", "/admin/orgs/acme/", 404, "not-found", ""},
		{"GET", "/admin/orgs", 404, "not-found", ""},
		{"GET", "/nothing", 404, "not-found", ""},
		{"GET", "/fail", 404, `"rule":"not_found"`, ""},
	}
	for _, tt := range tests {
		req := events.APIGatewayV2HTTPRequest{RawPath: tt.path}
		req.RequestContext.HTTP.Method = tt.method
		req.RequestContext.HTTP.Path = tt.path
		resp, err := rt.Serve(context.Background(), req)
		if err != nil {
			t.Fatalf("%s %s: Serve returned an error: %v", tt.method, tt.path, err)
		}
		if resp.StatusCode != tt.status || !strings.Contains(resp.Body, tt.want) || resp.Headers["Allow"] != tt.allow {
			t.Errorf("%s %s = %d %v %s; want %d Allow=%q containing %s", tt.method, tt.path, resp.StatusCode, resp.Headers, resp.Body, tt.status, tt.allow, tt.want)
		}
	}
}

// TestHTTP checks that a net/http request becomes the event API Gateway
// would send, and that the response is written back.
func TestHTTP(t *testing.T) {
	var got events.APIGatewayV2HTTPRequest
	srv := httptest.NewServer(HTTP(func(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		got = req
		if req.RawPath == "/boom" {
			return events.APIGatewayV2HTTPResponse{}, errors.New("handler failure")
		}
		return events.APIGatewayV2HTTPResponse{
			StatusCode:        201,
			Headers:           map[string]string{"Content-Type": "application/octet-stream"},
			MultiValueHeaders: map[string][]string{"X-Multi": {"a", "b"}},
			Cookies:           []string{"s=1; Path=/"},
			Body:              base64.StdEncoding.EncodeToString([]byte{0xff, 0x00, 0x01}),
			IsBase64Encoded:   true,
		}, nil
	}))
	defer srv.Close()

	req, _ := http.NewRequest("POST", srv.URL+"/v1/usage?a=1&a=2&b=x%20y", strings.NewReader(`{"id":"é"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Add("X-Thing", "one")
	req.Header.Add("X-Thing", "two")
	req.Header.Set("Cookie", "c1=v1; c2=v2")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	if got.Version != "2.0" || got.RouteKey != "$default" || got.RequestContext.RouteKey != "$default" {
		t.Errorf("version/route = %q %q", got.Version, got.RouteKey)
	}
	if got.RawPath != "/v1/usage" || got.RawQueryString != "a=1&a=2&b=x%20y" {
		t.Errorf("path/query = %q %q", got.RawPath, got.RawQueryString)
	}
	if got.QueryStringParameters["a"] != "1,2" || got.QueryStringParameters["b"] != "x y" {
		t.Errorf("query parameters = %v", got.QueryStringParameters)
	}
	if got.Headers["x-thing"] != "one,two" || got.Headers["content-type"] != "application/json" {
		t.Errorf("headers = %v", got.Headers)
	}
	if _, ok := got.Headers["cookie"]; ok || len(got.Cookies) != 2 || got.Cookies[0] != "c1=v1" {
		t.Errorf("cookies = %v, headers %v", got.Cookies, got.Headers)
	}
	h := got.RequestContext.HTTP
	if h.Method != "POST" || h.Path != "/v1/usage" || h.SourceIP != "127.0.0.1" || got.RequestContext.RequestID == "" {
		t.Errorf("request context = %+v", got.RequestContext)
	}
	if got.Body != `{"id":"é"}` || got.IsBase64Encoded {
		t.Errorf("text body = %q base64=%v", got.Body, got.IsBase64Encoded)
	}
	if resp.StatusCode != 201 || string(body) != "\xff\x00\x01" || resp.Header.Values("X-Multi")[1] != "b" || resp.Header.Get("Set-Cookie") != "s=1; Path=/" {
		t.Errorf("response = %d %q %v", resp.StatusCode, body, resp.Header)
	}

	// A body that is not UTF-8 travels base64-encoded, as from AWS.
	resp, err = http.Post(srv.URL+"/bin", "application/octet-stream", strings.NewReader("\xff\xfe"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if b, _ := Body(got); !got.IsBase64Encoded || string(b) != "\xff\xfe" {
		t.Errorf("binary body = %q base64=%v", got.Body, got.IsBase64Encoded)
	}

	// A body over what API Gateway delivers is a 413 problem that names
	// that limit.
	resp, err = http.Post(srv.URL+"/v1/usage", "application/json", strings.NewReader(strings.Repeat(" ", maxEventBody+1)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 || !strings.Contains(string(body), `"title":"Payload too large"`) || !strings.Contains(string(body), `"max_bytes":6291456`) || !strings.Contains(string(body), "more than API Gateway passes to a function") {
		t.Errorf("oversized body answered %d %s", resp.StatusCode, body)
	}

	// A handler error becomes a 500 problem, as API Gateway would answer 500.
	resp, err = http.Get(srv.URL + "/boom")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || resp.Header.Get("Content-Type") != "application/problem+json" || strings.Contains(string(body), "handler failure") {
		t.Errorf("handler error answered %d %s", resp.StatusCode, body)
	}
}

func TestUnavailableIs503(t *testing.T) {
	p := ProblemFor(fmt.Errorf("debit: %w", domain.ErrUnavailable))
	if p.Status != 503 || p.Type != TypeUnavailable || p.Header["Retry-After"] == "" {
		t.Errorf("ProblemFor(ErrUnavailable) = %+v", p)
	}
}

// TestProblemJSONReadsAsWritten: problem details are for people at a
// terminal too; "<token>" must not arrive as "\u003ctoken\u003e".
func TestProblemJSONReadsAsWritten(t *testing.T) {
	tests := []events.APIGatewayV2HTTPResponse{
		ProblemResponse(Problem{Type: TypeUnauthorized, Status: 401, Detail: `Send "Authorization: Bearer <token>" & retry.`}),
		mustJSON(t, map[string]string{"detail": `Send "Authorization: Bearer <token>" & retry.`}),
	}
	for _, resp := range tests {
		if !strings.Contains(resp.Body, `Bearer <token>\" & retry.`) {
			t.Errorf("body %s escapes HTML characters", resp.Body)
		}
		if !json.Valid([]byte(resp.Body)) || !strings.HasSuffix(resp.Body, "}\n") {
			t.Errorf("body %q is not one JSON value and a newline", resp.Body)
		}
	}
}

func mustJSON(t *testing.T, v any) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := JSON(200, v)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestRouterHeadAndQuery: HEAD is GET without a body; query parameters a
// route does not take are refused before the route runs.
func TestRouterHeadAndQuery(t *testing.T) {
	var rt Router
	var ran int
	ok := func(_ context.Context, req events.APIGatewayV2HTTPRequest, _ Params) (events.APIGatewayV2HTTPResponse, error) {
		ran++
		return JSON(200, map[string]any{"limit": req.QueryStringParameters["limit"]})
	}
	rt.Handle("GET", "/orgs/{org}/audit?limit", ok)
	rt.Handle("POST", "/usage", ok)
	tests := []struct {
		method, path, query string
		status              int
		body, field         string
		runs                bool
	}{
		{"GET", "/orgs/a/audit", "limit=5", 200, `"limit":"5"`, "", true},
		{"HEAD", "/orgs/a/audit", "limit=5", 200, "", "", true},
		{"GET", "/orgs/a/audit", "limit=5&org=b", 400, `it takes \"limit\"`, "org", false},
		{"POST", "/usage", "org_id=globex", 400, "takes no query parameters", "org_id", false},
		{"POST", "/usage", "", 200, "", "", true},
		{"HEAD", "/usage", "", 405, "", "", false},
	}
	for _, tt := range tests {
		req := events.APIGatewayV2HTTPRequest{RawPath: tt.path, RawQueryString: tt.query}
		req.RequestContext.HTTP.Method = tt.method
		req.RequestContext.HTTP.Path = tt.path
		if tt.query != "" {
			req.QueryStringParameters = map[string]string{}
			for kv := range strings.SplitSeq(tt.query, "&") {
				k, v, _ := strings.Cut(kv, "=")
				req.QueryStringParameters[k] = v
			}
		}
		before := ran
		resp, err := rt.Serve(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tt.status || !strings.Contains(resp.Body, tt.body) || (ran > before) != tt.runs {
			t.Errorf("%s %s?%s = %d %s (route ran: %v); want %d containing %q (runs: %v)", tt.method, tt.path, tt.query, resp.StatusCode, resp.Body, ran > before, tt.status, tt.body, tt.runs)
		}
		if tt.method == "HEAD" && resp.Body != "" {
			t.Errorf("HEAD answered a body: %s", resp.Body)
		}
		if tt.field != "" && !strings.Contains(resp.Body, `"field":"`+tt.field+`"`) {
			t.Errorf("%s %s?%s: problem does not name field %s: %s", tt.method, tt.path, tt.query, tt.field, resp.Body)
		}
	}
}

func TestRouterRoutes(t *testing.T) {
	var rt Router
	f := func(context.Context, events.APIGatewayV2HTTPRequest, Params) (events.APIGatewayV2HTTPResponse, error) {
		return NoContent(), nil
	}
	rt.Handle("GET", "/admin/orgs/{org}", f)
	rt.Handle("GET", "/admin/orgs/{org}/audit?limit", f)
	rt.Handle("GET", "/x?a&b", f)
	want := []string{"GET /admin/orgs/{org}", "GET /admin/orgs/{org}/audit?limit", "GET /x?a&b"}
	if got := rt.Routes(); !slices.Equal(got, want) {
		t.Errorf("Routes() = %q, want %q", got, want)
	}
}

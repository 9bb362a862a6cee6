package apigw

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/metrics"
)

// Problem types are URIs under ProblemBase, one per kind of failure, and
// stable: programs switch on them. The URIs identify; they need not
// resolve. The refusals of product rules use the rule's name with '-' for
// '_' (domain.Rule "last_owner" is ProblemBase+"last-owner"), so a new rule
// gets a type without a change here.
const ProblemBase = "https://orgcredit.dev/problems/"

// Problem types of the HTTP layer and of the credit rules.
const (
	TypeInvalidRequest       = ProblemBase + "invalid-request"        // 400: malformed or out-of-range input
	TypeUnauthorized         = ProblemBase + "unauthorized"           // 401: missing, malformed, unknown or revoked credentials
	TypeNotFound             = ProblemBase + "not-found"              // 404: no such route or thing
	TypeMethodNotAllowed     = ProblemBase + "method-not-allowed"     // 405: see the Allow header
	TypeAlreadyExists        = ProblemBase + "already-exists"         // 409: the id is taken by other content
	TypeUsageIDConflict      = ProblemBase + "usage-id-conflict"      // 409: a usage id reused with other content
	TypePayloadTooLarge      = ProblemBase + "payload-too-large"      // 413
	TypeUnsupportedMediaType = ProblemBase + "unsupported-media-type" // 415
	TypeAgentRevoked         = ProblemBase + "agent-revoked"          // 409: an admin change to a revoked agent
	TypeInsufficientCredit   = ProblemBase + "insufficient-credit"    // 402: the pool cannot pay
	TypeGroupCapReached      = ProblemBase + "budget-group-cap-reached"
	TypeUnavailable          = ProblemBase + "service-unavailable" // 503: retry after Retry-After
	TypeTooManyRequests      = ProblemBase + "too-many-requests"   // 429: retry after Retry-After
	TypeInternal             = ProblemBase + "internal-error"      // 500
)

// RetryAfterSeconds is the Retry-After of a 503: the store has already
// retried with backoff inside the request, so the next try should wait a
// little longer than those retries took.
const RetryAfterSeconds = 2

// Problem is an RFC 9457 problem detail. Extra members are written next to
// the standard ones, for programs (e.g. "balance_micros").
type Problem struct {
	Type     string
	Title    string
	Status   int
	Detail   string
	Instance string
	Extra    map[string]any
	// Header is added to the response (Allow, WWW-Authenticate,
	// Retry-After).
	Header map[string]string
}

func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Type, p.Detail) }

// MarshalJSON writes the standard members and the extra ones in one object.
func (p Problem) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, len(p.Extra)+5)
	for k, v := range p.Extra {
		m[k] = v
	}
	m["type"] = p.Type
	m["title"] = p.title()
	m["status"] = p.Status
	if p.Detail != "" {
		m["detail"] = p.Detail
	}
	if p.Instance != "" {
		m["instance"] = p.Instance
	}
	return marshal(m)
}

// marshal is json.Marshal without HTML escaping: the answers are read by
// programs and by people at a terminal, never embedded in HTML, and a
// detail such as "Bearer <token>" should read as written, not as
// "Bearer \u003ctoken\u003e".
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func (p Problem) title() string {
	if p.Title != "" {
		return p.Title
	}
	return http.StatusText(p.Status)
}

// ProblemResponse renders p as application/problem+json.
func ProblemResponse(p Problem) events.APIGatewayV2HTTPResponse {
	if p.Status == 0 {
		p.Status = http.StatusInternalServerError
	}
	if p.Type == "" {
		p.Type = "about:blank"
	}
	body, err := marshal(p)
	if err != nil {
		// Extra holds only plain values; this cannot happen.
		body = []byte(`{"type":"` + TypeInternal + `","status":500}`)
	}
	h := map[string]string{"Content-Type": "application/problem+json", "Cache-Control": "no-store"}
	for k, v := range p.Header {
		h[k] = v
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: p.Status, Headers: h, Body: string(body) + "\n"}
}

// JSON renders v as an application/json response with status.
func JSON(status int, v any) (events.APIGatewayV2HTTPResponse, error) {
	body, err := marshal(v)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("encode response: %w", err)
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
		Body:       string(body) + "\n",
	}, nil
}

// NoContent is a 204 response.
func NoContent() events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusNoContent, Headers: map[string]string{"Cache-Control": "no-store"}}
}

// BadRequest is a 400 invalid-request problem about field (empty when the
// problem is the body as a whole).
func BadRequest(field, format string, args ...any) *Problem {
	p := &Problem{Type: TypeInvalidRequest, Title: "Invalid request", Status: http.StatusBadRequest, Detail: fmt.Sprintf(format, args...)}
	if field != "" {
		p.Extra = map[string]any{"field": field}
	}
	return p
}

// ErrorResponse maps err to a problem response. Product-rule refusals keep
// their message as the detail; anything unrecognized is logged and
// answered with a generic 500 that leaks nothing.
func ErrorResponse(ctx context.Context, req events.APIGatewayV2HTTPRequest, err error) events.APIGatewayV2HTTPResponse {
	p := ProblemFor(err)
	CountProblem(ctx, p)
	if p.Status >= 500 {
		slog.ErrorContext(ctx, "request failed", "method", req.RequestContext.HTTP.Method, "path", req.RawPath,
			"request_id", req.RequestContext.RequestID, "status", p.Status, "err", err)
		if p.Status == http.StatusInternalServerError {
			p.Detail = "The request failed unexpectedly and nothing is known to have changed. Retry later; if it persists, report request " +
				req.RequestContext.RequestID + "."
		}
	}
	if p.Instance == "" {
		p.Instance = Path(req)
	}
	return ProblemResponse(p)
}

// CountProblem records a refused or failed request in the request's
// metrics: a refusal by the rule (the problem type's name) that refused
// it. A batch counts each refused event the same way, though the batch
// itself is answered 200.
func CountProblem(ctx context.Context, p Problem) {
	switch {
	case p.Status == http.StatusTooManyRequests:
		metrics.Count(ctx, metrics.Throttled, 1)
	case p.Status == http.StatusServiceUnavailable:
		metrics.Count(ctx, metrics.Unavailable, 1)
	case p.Status >= 400 && p.Status < 500:
		metrics.CountBy(ctx, metrics.Refusals, metrics.DimRule, strings.TrimPrefix(p.Type, ProblemBase), 1)
	}
}

// ProblemFor maps an error to its problem without logging.
func ProblemFor(err error) Problem {
	var p *Problem
	if errors.As(err, &p) {
		return *p
	}
	var ic *domain.InsufficientCredit
	if errors.As(err, &ic) {
		return Problem{Type: TypeInsufficientCredit, Title: "Insufficient credit", Status: http.StatusPaymentRequired,
			Detail: sentence(ic.Error()),
			Extra:  map[string]any{"balance_micros": int64(ic.Balance), "requested_micros": int64(ic.Requested)}}
	}
	var gc *domain.GroupCapReached
	if errors.As(err, &gc) {
		return Problem{Type: TypeGroupCapReached, Title: "Budget group cap reached", Status: http.StatusPaymentRequired,
			Detail: sentence(gc.Error()),
			Extra: map[string]any{"budget_group_id": gc.GroupID, "cap_micros": int64(gc.Cap), "spent_micros": int64(gc.Spent),
				"requested_micros": int64(gc.Requested), "period": gc.Period}}
	}
	var ce *domain.CeilingReached
	if errors.As(err, &ce) {
		return Problem{Type: RuleType(domain.RuleCeilingReached), Title: RuleTitle(domain.RuleCeilingReached), Status: RuleStatus(domain.RuleCeilingReached),
			Detail: sentence(ce.Error()),
			Extra: map[string]any{"rule": string(domain.RuleCeilingReached), "ceiling_micros": int64(domain.MaxRunningTotalMicros),
				"granted_micros": int64(ce.Granted), "balance_micros": int64(ce.Balance), "requested_micros": int64(ce.Requested)}}
	}
	var r *domain.Refusal
	if errors.As(err, &r) {
		return refusalProblem(r)
	}
	if errors.Is(err, domain.ErrBusy) {
		// The organization's own items are hot: its agents write faster
		// than its pool item takes. Only that organization is slowed down.
		return Problem{Type: TypeTooManyRequests, Title: "Too many requests", Status: http.StatusTooManyRequests,
			Detail: "This organization's credit pool is receiving more writes than it can take right now, and nothing was written. Retry the same request after the Retry-After delay; sending usage in batches (POST /v1/usage/batch) writes the pool far less often.",
			Header: map[string]string{"Retry-After": strconv.Itoa(RetryAfterSeconds)}}
	}
	if errors.Is(err, domain.ErrUnavailable) {
		return Problem{Type: TypeUnavailable, Title: "Service unavailable", Status: http.StatusServiceUnavailable,
			Detail: "The database is busy or unreachable and the request was not completed. It is safe to retry the same request after the Retry-After delay.",
			Header: map[string]string{"Retry-After": strconv.Itoa(RetryAfterSeconds)}}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return Problem{Type: TypeUnavailable, Title: "Service unavailable", Status: http.StatusServiceUnavailable,
			Detail: "The request ran out of time before it completed. It is safe to retry the same request after the Retry-After delay.",
			Header: map[string]string{"Retry-After": strconv.Itoa(RetryAfterSeconds)}}
	}
	return Problem{Type: TypeInternal, Title: "Internal error", Status: http.StatusInternalServerError}
}

// sentence capitalizes a domain message and ends it with a period.
func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// RuleType is the problem type of a product rule's refusal.
func RuleType(rule domain.Rule) string {
	if rule == domain.RuleInvalid {
		return TypeInvalidRequest
	}
	return ProblemBase + strings.ReplaceAll(string(rule), "_", "-")
}

// ruleStatus is the HTTP status of each rule's refusal: 400 for input that
// can never succeed, 403 for who-may-do-what, 409 for the current state of
// things, 402 for money.
var ruleStatus = map[domain.Rule]int{
	domain.RuleNotFound:            http.StatusNotFound,
	domain.RuleAlreadyExists:       http.StatusConflict,
	domain.RuleInvalid:             http.StatusBadRequest,
	domain.RuleUnknownRole:         http.StatusBadRequest,
	domain.RuleBillingNotARole:     http.StatusBadRequest,
	domain.RuleNotOwnerOrAdmin:     http.StatusForbidden,
	domain.RuleOnlyOwnerEditsOwner: http.StatusForbidden,
	domain.RuleRoleUnchanged:       http.StatusConflict,
	domain.RuleLastOwner:           http.StatusConflict,
	domain.RuleNotMember:           http.StatusConflict,
	domain.RuleNotBillingHolder:    http.StatusForbidden,
	domain.RuleNotOwner:            http.StatusForbidden,
	domain.RuleIneligibleRecipient: http.StatusConflict,
	domain.RuleTransferPending:     http.StatusConflict,
	domain.RuleNotRecipient:        http.StatusForbidden,
	domain.RuleNotInitiator:        http.StatusForbidden,
	domain.RuleTransferClosed:      http.StatusConflict,
	domain.RuleTransferExpired:     http.StatusConflict,
	domain.RuleTransferInvalidated: http.StatusConflict,
	domain.RuleHolderCannotLeave:   http.StatusConflict,
	domain.RuleCannotReadBilling:   http.StatusForbidden,
	domain.RuleCannotReadAudit:     http.StatusForbidden,
	domain.RuleInsufficientCredit:  http.StatusPaymentRequired,
	domain.RuleGroupCapReached:     http.StatusPaymentRequired,
	domain.RuleUsageConflict:       http.StatusConflict,
	// On the admin API a revoked agent is the state of a thing, not the
	// caller's credentials; the agent API answers a revoked token 401
	// itself, before any rule is asked.
	domain.RuleAgentRevoked: http.StatusConflict,
	// A grant past the ceiling conflicts with the pool's current totals.
	domain.RuleCeilingReached: http.StatusConflict,
}

// RuleTitle is the problem title of a rule's refusal: the same for every
// occurrence of the type, as RFC 9457 asks, and more telling than the
// status text ("Last owner" rather than "Conflict").
func RuleTitle(rule domain.Rule) string {
	if rule == domain.RuleInvalid {
		return "Invalid request"
	}
	t := strings.ReplaceAll(string(rule), "_", " ")
	if t == "" {
		return ""
	}
	return strings.ToUpper(t[:1]) + t[1:]
}

// RuleStatus is the HTTP status of a refusal by rule.
func RuleStatus(rule domain.Rule) int {
	if s, ok := ruleStatus[rule]; ok {
		return s
	}
	return http.StatusConflict
}

func refusalProblem(r *domain.Refusal) Problem {
	p := Problem{Type: RuleType(r.Rule), Title: RuleTitle(r.Rule), Status: RuleStatus(r.Rule), Detail: sentence(r.Error()),
		Extra: map[string]any{"rule": string(r.Rule)}}
	if r.Field != "" {
		p.Extra["field"] = r.Field
	}
	if r.Max > 0 {
		p.Extra["max_micros"] = int64(r.Max)
	}
	if t := r.Transfer; t != nil {
		p.Extra["transfer"] = map[string]any{"id": t.ID, "status": string(t.Status), "initiator_id": t.InitiatorID,
			"recipient_id": t.RecipientID, "requested_at": t.RequestedAt, "expires_at": t.ExpiresAt}
	}
	return p
}

// Package agentapi is the agent API: AI agents report usage, which is
// debited from their organization's credit pool, and read the balance.
//
//	POST /v1/usage        {"id","amount_micros","kind","occurred_at"} → the usage record
//	POST /v1/usage/batch  {"events":[event, …]} → one result per event, and the balance
//	GET  /v1/balance      → the pool balance and the agent's budget group
//
// The organization and the agent come only from the bearer token. The API
// is described by openapi.yaml (OpenAPI 3.1), which the tests check the
// handler against.
package agentapi

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgcredit/orgcredit/internal/apigw"
	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/metrics"
)

// OpenAPI is the OpenAPI 3.1 document of this API.
//
//go:embed openapi.yaml
var OpenAPI []byte

// Store is what the agent API needs of the store (internal/dynamo).
type Store interface {
	// AgentByToken finds the agent a token belongs to; domain.ErrNotFound
	// for an unknown token, domain.ErrAgentRevoked for a revoked agent.
	AgentByToken(ctx context.Context, token string) (domain.Agent, error)
	// Debit debits e; the result carries the agent as the debit saw it,
	// reloaded when a revocation or move made the cached one stale.
	Debit(ctx context.Context, agent domain.Agent, e domain.UsageEvent) (domain.DebitResult, error)
	// DebitBatch debits events (1 to domain.MaxBatchEvents), each on its
	// own, in request order; one item per event.
	DebitBatch(ctx context.Context, agent domain.Agent, events []domain.UsageEvent) (domain.BatchResult, error)
	Balance(ctx context.Context, agent domain.Agent) (domain.Balance, error)
}

// API serves the agent API.
type API struct {
	store  Store
	tokens *tokenCache
	router apigw.Router
}

// Option configures an API.
type Option func(*API)

// WithTokenTTL sets how long a token lookup is kept. A revocation does not
// wait for it (see DefaultTokenTTL). It is capped at MaxTokenTTL.
func WithTokenTTL(d time.Duration) Option {
	return func(a *API) { a.tokens.ttl = min(d, MaxTokenTTL) }
}

// WithClock sets the clock of the token cache (tests).
func WithClock(now func() time.Time) Option {
	return func(a *API) { a.tokens.now = now }
}

// New makes the agent API over store.
func New(store Store, opts ...Option) *API {
	a := &API{store: store}
	a.tokens = newTokenCache(func(ctx context.Context, token string) (domain.Agent, error) {
		return a.store.AgentByToken(ctx, token)
	}, DefaultTokenTTL, time.Now)
	for _, o := range opts {
		o(a)
	}
	a.router.Handle(http.MethodPost, "/v1/usage", a.authed(a.postUsage))
	a.router.Handle(http.MethodPost, "/v1/usage/batch", a.authed(a.postUsageBatch))
	a.router.Handle(http.MethodGet, "/v1/balance", a.authed(a.getBalance))
	return a
}

// Handle is the Lambda handler: one API Gateway HTTP API event in, one
// response out. It never returns an error.
func (a *API) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return a.router.Serve(ctx, req)
}

// caller is who sends a request: the agent its token names, as cached.
type caller struct {
	agent domain.Agent
	token string
}

type agentFunc func(ctx context.Context, req events.APIGatewayV2HTTPRequest, c caller) (events.APIGatewayV2HTTPResponse, error)

// authed resolves the bearer token to its agent before f runs. Every
// refusal of the credentials is a 401 problem with a Bearer challenge.
func (a *API) authed(f agentFunc) apigw.RouteFunc {
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest, _ apigw.Params) (events.APIGatewayV2HTTPResponse, error) {
		token, ok := apigw.BearerToken(req)
		if !ok {
			return events.APIGatewayV2HTTPResponse{}, unauthorized("", "Send the agent's token as \"Authorization: Bearer <token>\".")
		}
		if !domain.LooksLikeToken(token) {
			return events.APIGatewayV2HTTPResponse{}, unauthorized("invalid_token", "The bearer token is malformed: agent tokens start with \""+domain.TokenPrefix+"\" followed by 43 characters. Send one token, exactly as it was shown when the agent was created.")
		}
		agent, err := a.tokens.lookup(ctx, token)
		switch {
		case errors.Is(err, domain.ErrNotFound):
			return events.APIGatewayV2HTTPResponse{}, unauthorized("invalid_token", "The bearer token is not known. Send the token that was shown when the agent was created, or ask an operator for a new agent.")
		case errors.Is(err, domain.ErrAgentRevoked):
			return events.APIGatewayV2HTTPResponse{}, errRevoked
		case err != nil:
			return events.APIGatewayV2HTTPResponse{}, err
		}
		resp, err := f(ctx, req, caller{agent: agent, token: token})
		if errors.Is(err, domain.ErrAgentRevoked) {
			// Revoked after the cache was filled: forget it now, and
			// answer as for any revoked token (the store's refusal alone
			// would be a 409 about the agent, as on the admin API).
			a.tokens.forget(token)
			return events.APIGatewayV2HTTPResponse{}, errRevoked
		}
		return resp, err
	}
}

var errRevoked = unauthorized("invalid_token", "The agent's token was revoked. Ask an operator for a new agent.")

// unauthorized is the 401 problem of refused credentials. It is returned
// as an error so that the router fills in the instance like for any other
// problem.
func unauthorized(code, detail string) *apigw.Problem {
	challenge := `Bearer realm="orgcredit"`
	if code != "" {
		challenge += `, error="` + code + `"`
	}
	return &apigw.Problem{Type: apigw.TypeUnauthorized, Title: "Unauthorized", Status: http.StatusUnauthorized,
		Detail: detail, Header: map[string]string{"WWW-Authenticate": challenge}}
}

// usageRequest is the body of POST /v1/usage. There is no field for the
// organization: it comes from the token.
type usageRequest struct {
	ID           string      `json:"id,required"`
	AmountMicros json.Number `json:"amount_micros,required"`
	Kind         string      `json:"kind"`
	OccurredAt   string      `json:"occurred_at"`
}

// UsageResponse is the answer to POST /v1/usage, the same for the first
// delivery and every duplicate except for Duplicate.
type UsageResponse struct {
	ID              string  `json:"id"`
	AgentID         string  `json:"agent_id"`
	BudgetGroupID   *string `json:"budget_group_id"`
	AmountMicros    int64   `json:"amount_micros"`
	Kind            string  `json:"kind"`
	Period          string  `json:"period"`
	OccurredAt      string  `json:"occurred_at"`
	RecordedAt      string  `json:"recorded_at"`
	BalanceMicros   int64   `json:"balance_micros"`
	RemainingMicros *int64  `json:"remaining_micros"`
	Duplicate       bool    `json:"duplicate"`
}

// usageEvent reads a usage event from its JSON form and checks it
// (domain.UsageEvent.Validate) before anything is read or written; the
// store checks it again, as it does for every caller.
func usageEvent(in usageRequest) (domain.UsageEvent, error) {
	amount, err := apigw.Micros("amount_micros", in.AmountMicros)
	if err != nil {
		return domain.UsageEvent{}, err
	}
	e := domain.UsageEvent{ID: in.ID, Amount: amount, Kind: in.Kind}
	if in.OccurredAt != "" {
		t, err := time.Parse(time.RFC3339Nano, in.OccurredAt)
		if err != nil {
			return domain.UsageEvent{}, apigw.BadRequest("occurred_at",
				"\"occurred_at\" must be an RFC 3339 time such as \"2026-11-03T14:05:00Z\", got %q.", in.OccurredAt)
		}
		e.OccurredAt = t
	}
	return e, e.Validate()
}

// postUsage debits one usage event. The first delivery and every duplicate
// are answered 200 with the same body, except "duplicate": a retry cannot
// tell "my first try was lost" from "my first try succeeded", and need
// not.
func (a *API) postUsage(ctx context.Context, req events.APIGatewayV2HTTPRequest, c caller) (events.APIGatewayV2HTTPResponse, error) {
	var in usageRequest
	if err := apigw.DecodeJSON(req, &in); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	e, err := usageEvent(in)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	res, err := a.store.Debit(ctx, c.agent, e)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	a.tokens.refresh(c.token, res.Agent)
	counted(ctx, res)
	return apigw.JSON(http.StatusOK, usageResponse(res.Usage, res.Duplicate, res.Balance, res.Group))
}

// usageResponse is the answer about one debited (or duplicate) event, the
// same from both usage endpoints.
func usageResponse(u domain.Usage, duplicate bool, balance domain.Micros, group *domain.GroupStatus) UsageResponse {
	out := UsageResponse{
		ID:            u.ID,
		AgentID:       u.AgentID,
		BudgetGroupID: optional(u.BudgetGroupID),
		AmountMicros:  int64(u.Amount),
		Kind:          u.Kind,
		Period:        u.Period,
		OccurredAt:    timestamp(u.OccurredAt),
		RecordedAt:    timestamp(u.RecordedAt),
		BalanceMicros: int64(balance),
		Duplicate:     duplicate,
	}
	if group != nil {
		r := int64(group.Remaining)
		out.RemainingMicros = &r
	}
	return out
}

// batchRequest is the body of POST /v1/usage/batch: the events, each kept
// as sent and read on its own, so that one malformed event is refused
// alone.
type batchRequest struct {
	Events []json.RawMessage `json:"events,required"`
}

// BatchResponse is the answer to POST /v1/usage/batch.
type BatchResponse struct {
	// Results has one element per event, in request order: a
	// UsageResponse for an event debited now or before (duplicate), or an
	// EventProblem for an event that was not debited.
	Results []any `json:"results"`
	// BalanceMicros is the pool balance read right after the batch.
	BalanceMicros int64 `json:"balance_micros"`
}

// EventProblem is the result of an event of a batch that was not
// debited: its id (null when the event has no string id) and the
// problem POST /v1/usage would have answered for it alone (without
// "instance").
type EventProblem struct {
	ID      *string       `json:"id"`
	Problem apigw.Problem `json:"problem"`
}

func eventProblem(ctx context.Context, id *string, err error) EventProblem {
	p := apigw.ProblemFor(err)
	apigw.CountProblem(ctx, p)
	return EventProblem{ID: id, Problem: p}
}

// rawID is the id an event carries, when it carries a string one; for the
// result of an event too malformed to read.
func rawID(raw json.RawMessage) *string {
	var v struct {
		ID any `json:"id"`
	}
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	if s, ok := v.ID.(string); ok {
		return &s
	}
	return nil
}

// postUsageBatch debits a batch of usage events. What makes the batch
// unreadable as a whole (not JSON, not {"events":[objects]}, unknown
// fields, 0 or more than 100 events, over 1 MiB) is one problem, and
// debits nothing; what makes one event invalid (a field unknown,
// repeated, missing or of the wrong type, an amount out of range, a bad
// id, kind or time) is that event's problem, exactly as POST /v1/usage
// would answer it, and the others are debited.
func (a *API) postUsageBatch(ctx context.Context, req events.APIGatewayV2HTTPRequest, c caller) (events.APIGatewayV2HTTPResponse, error) {
	var in batchRequest
	if err := apigw.DecodeJSONUpTo(req, &in, apigw.MaxBatchBodyBytes); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if err := domain.ValidateBatchSize(len(in.Events)); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	out := BatchResponse{Results: make([]any, len(in.Events))}
	var (
		evs []domain.UsageEvent
		at  []int // the index in the request of each of evs
	)
	for i, raw := range in.Events {
		var ur usageRequest
		err := apigw.DecodeObject(raw, &ur)
		if err != nil {
			out.Results[i] = eventProblem(ctx, rawID(raw), err)
			continue
		}
		e, err := usageEvent(ur)
		if err != nil {
			out.Results[i] = eventProblem(ctx, &ur.ID, err)
			continue
		}
		evs, at = append(evs, e), append(at, i)
	}
	if len(evs) == 0 {
		// Nothing to debit; the answer still tells the balance (and a
		// revoked token is still refused).
		bal, err := a.store.Balance(ctx, c.agent)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
		a.tokens.refresh(c.token, bal.Agent)
		out.BalanceMicros = int64(bal.Pool.Balance)
		return apigw.JSON(http.StatusOK, out)
	}
	res, err := a.store.DebitBatch(ctx, c.agent, evs)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	revoked := false
	for k, it := range res.Items {
		id := evs[k].ID
		switch {
		case errors.Is(it.Err, domain.ErrAgentRevoked):
			// Revoked while the batch was written: the events before
			// are debited, the rest answered as a revoked token is.
			revoked = true
			out.Results[at[k]] = eventProblem(ctx, &id, errRevoked)
		case it.Err != nil:
			out.Results[at[k]] = eventProblem(ctx, &id, it.Err)
		default:
			counted(ctx, domain.DebitResult{Usage: it.Usage, Duplicate: it.Duplicate})
			out.Results[at[k]] = usageResponse(it.Usage, it.Duplicate, res.Balance, it.Group)
		}
	}
	if revoked {
		a.tokens.forget(c.token)
	} else {
		a.tokens.refresh(c.token, res.Agent)
	}
	out.BalanceMicros = int64(res.Balance)
	return apigw.JSON(http.StatusOK, out)
}

// BalanceResponse is the answer to GET /v1/balance.
type BalanceResponse struct {
	OrgID         string        `json:"org_id"`
	AgentID       string        `json:"agent_id"`
	BalanceMicros int64         `json:"balance_micros"`
	BudgetGroup   *GroupBalance `json:"budget_group"`
}

// GroupBalance is the agent's budget group in the current period.
type GroupBalance struct {
	ID              string `json:"id"`
	Name            string `json:"name"`
	CapMicros       int64  `json:"cap_micros"`
	SpentMicros     int64  `json:"spent_micros"`
	RemainingMicros int64  `json:"remaining_micros"`
	Period          string `json:"period"`
}

func (a *API) getBalance(ctx context.Context, req events.APIGatewayV2HTTPRequest, c caller) (events.APIGatewayV2HTTPResponse, error) {
	bal, err := a.store.Balance(ctx, c.agent)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	a.tokens.refresh(c.token, bal.Agent)
	out := BalanceResponse{OrgID: c.agent.OrgID, AgentID: c.agent.ID, BalanceMicros: int64(bal.Pool.Balance)}
	if group := bal.Group; group != nil {
		out.BudgetGroup = &GroupBalance{
			ID:              group.Group.ID,
			Name:            group.Group.Name,
			CapMicros:       int64(group.Group.Cap),
			SpentMicros:     int64(group.Spent),
			RemainingMicros: int64(group.Remaining),
			Period:          group.Period,
		}
	}
	return apigw.JSON(http.StatusOK, out)
}

// counted records a debit in the request's metrics.
func counted(ctx context.Context, res domain.DebitResult) {
	if res.Duplicate {
		metrics.Count(ctx, metrics.Duplicates, 1)
		return
	}
	metrics.Count(ctx, metrics.Debits, 1)
	metrics.Add(ctx, metrics.DebitedMicros, float64(res.Usage.Amount))
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func timestamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Package adminapi is the operators' API: create organizations, members,
// budget groups and agents, grant credit, and read the audit trail.
//
// Every id is chosen by the caller, so every create is idempotent: the
// first create answers 201, the same id with the same content again
// answers 200 with the existing thing, and the same id with other content
// is a 409 that changes nothing.
//
// Authorization: in AWS the route is IAM-authorized by API Gateway and the
// function runs without an admin token. Where an admin token is configured
// (always in the local server), every request must carry
// "Authorization: Bearer <token>".
package adminapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgcredit/orgcredit/internal/apigw"
	"github.com/orgcredit/orgcredit/internal/domain"
)

// Store is what the admin API needs of the store (internal/dynamo). The
// actor is always nil: the operator.
type Store interface {
	CreateOrg(ctx context.Context, org domain.Org, owner domain.Member) (domain.Org, bool, error)
	GetOrg(ctx context.Context, orgID string) (domain.Org, error)
	GetPool(ctx context.Context, orgID string) (domain.Pool, error)
	UpdateOrg(ctx context.Context, orgID string, actor *domain.Member, change domain.OrgChange) (domain.Org, error)
	PendingTransfer(ctx context.Context, orgID string) (*domain.Transfer, error)

	AddMember(ctx context.Context, m domain.Member, actor *domain.Member) (domain.Member, bool, error)
	GetMember(ctx context.Context, orgID, memberID string) (domain.Member, error)
	ListMembers(ctx context.Context, orgID string) ([]domain.Member, error)
	SetRole(ctx context.Context, orgID string, actor *domain.Member, memberID string, role domain.Role) (domain.Member, error)
	RemoveMember(ctx context.Context, orgID string, actor *domain.Member, memberID string) error

	CreateGroup(ctx context.Context, g domain.BudgetGroup, actor *domain.Member) (domain.BudgetGroup, bool, error)
	GetGroup(ctx context.Context, orgID, groupID string) (domain.BudgetGroup, error)
	SetGroupCap(ctx context.Context, orgID, groupID string, cap domain.Micros, actor *domain.Member) (domain.BudgetGroup, error)
	GroupStatuses(ctx context.Context, orgID, period string) ([]domain.GroupStatus, error)

	CreateAgent(ctx context.Context, a domain.Agent, actor *domain.Member) (domain.Agent, string, bool, error)
	GetAgent(ctx context.Context, orgID, agentID string) (domain.Agent, error)
	SetAgentGroup(ctx context.Context, orgID, agentID, groupID string, actor *domain.Member) (domain.Agent, error)
	RevokeAgent(ctx context.Context, orgID, agentID string, actor *domain.Member) error
	ListAgents(ctx context.Context, orgID string) ([]domain.Agent, error)

	Grant(ctx context.Context, g domain.Grant, actor *domain.Member) (domain.Grant, domain.Pool, bool, error)
	TransferHistory(ctx context.Context, orgID string, limit int) ([]domain.Transfer, error)
	Audit(ctx context.Context, orgID string, limit int) ([]domain.AuditEntry, error)
}

// API serves the admin API.
type API struct {
	store     Store
	tokenHash []byte // SHA-256 of the admin token; nil when none is configured
	now       func() time.Time
	router    apigw.Router
}

// Option configures an API.
type Option func(*API)

// WithAdminToken requires "Authorization: Bearer <token>" on every
// request. Without it the API trusts its caller, as it does behind API
// Gateway's IAM authorization.
func WithAdminToken(token string) Option {
	return func(a *API) {
		if token == "" {
			a.tokenHash = nil
			return
		}
		h := sha256.Sum256([]byte(token))
		a.tokenHash = h[:]
	}
}

// WithClock sets the clock that picks the current budget period.
func WithClock(now func() time.Time) Option { return func(a *API) { a.now = now } }

// New makes the admin API over store.
func New(store Store, opts ...Option) *API {
	a := &API{store: store, now: time.Now}
	for _, o := range opts {
		o(a)
	}
	r := &a.router
	r.Handle(http.MethodPost, "/admin/orgs", a.guard(a.createOrg))
	r.Handle(http.MethodGet, "/admin/orgs/{org}", a.guard(a.getOrg))
	r.Handle(http.MethodPatch, "/admin/orgs/{org}", a.guard(a.patchOrg))
	r.Handle(http.MethodGet, "/admin/orgs/{org}/members", a.guard(a.listMembers))
	r.Handle(http.MethodPost, "/admin/orgs/{org}/members", a.guard(a.addMember))
	r.Handle(http.MethodPatch, "/admin/orgs/{org}/members/{member}", a.guard(a.patchMember))
	r.Handle(http.MethodDelete, "/admin/orgs/{org}/members/{member}", a.guard(a.removeMember))
	r.Handle(http.MethodGet, "/admin/orgs/{org}/budget-groups", a.guard(a.listGroups))
	r.Handle(http.MethodPost, "/admin/orgs/{org}/budget-groups", a.guard(a.createGroup))
	r.Handle(http.MethodPatch, "/admin/orgs/{org}/budget-groups/{group}", a.guard(a.patchGroup))
	r.Handle(http.MethodGet, "/admin/orgs/{org}/agents", a.guard(a.listAgents))
	r.Handle(http.MethodPost, "/admin/orgs/{org}/agents", a.guard(a.createAgent))
	r.Handle(http.MethodPatch, "/admin/orgs/{org}/agents/{agent}", a.guard(a.patchAgent))
	r.Handle(http.MethodDelete, "/admin/orgs/{org}/agents/{agent}", a.guard(a.revokeAgent))
	r.Handle(http.MethodPost, "/admin/orgs/{org}/grants", a.guard(a.grant))
	r.Handle(http.MethodGet, "/admin/orgs/{org}/audit?limit", a.guard(a.audit))
	r.Handle(http.MethodGet, "/admin/orgs/{org}/transfers?limit", a.guard(a.transfers))
	return a
}

// Routes lists the admin API's routes as "METHOD pattern", such as
// "PATCH /admin/orgs/{org}/members/{member}" (see apigw.Router.Routes).
func (a *API) Routes() []string { return a.router.Routes() }

// Handle is the Lambda handler. It never returns an error.
func (a *API) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return a.router.Serve(ctx, req)
}

// guard checks the admin token, when one is configured, and that the ids
// in the path are well-formed (an id that cannot exist is a 404, and never
// reaches a storage key).
func (a *API) guard(f apigw.RouteFunc) apigw.RouteFunc {
	return func(ctx context.Context, req events.APIGatewayV2HTTPRequest, p apigw.Params) (events.APIGatewayV2HTTPResponse, error) {
		if a.tokenHash != nil {
			token, ok := apigw.BearerToken(req)
			h := sha256.Sum256([]byte(token))
			// Comparing hashes keeps the comparison constant-time whatever
			// the length of what was sent.
			if !ok || subtle.ConstantTimeCompare(h[:], a.tokenHash) != 1 {
				detail := "Send the admin token as \"Authorization: Bearer <token>\"."
				switch {
				case ok && domain.LooksLikeToken(token):
					detail = "This is an agent token: agents use the agent API (/v1). The admin API takes the ADMIN_TOKEN the server was started with."
				case ok:
					detail = "The admin token is wrong. Send the ADMIN_TOKEN the server was started with."
				}
				return none, &apigw.Problem{Type: apigw.TypeUnauthorized, Title: "Unauthorized", Status: http.StatusUnauthorized,
					Detail: detail, Header: map[string]string{"WWW-Authenticate": `Bearer realm="orgcredit-admin"`}}
			}
		}
		for _, kind := range []string{"org", "member", "group", "agent"} {
			if id, ok := p[kind]; ok {
				if domain.ValidateID(kind, id) != nil {
					return events.APIGatewayV2HTTPResponse{}, domain.NotFound(kindName[kind], id)
				}
			}
		}
		return f(ctx, req, p)
	}
}

var kindName = map[string]string{"org": "organization", "member": "member", "group": "budget group", "agent": "agent"}

// created answers 201 for a first create and 200 for a repeat.
func created(first bool) int {
	if first {
		return http.StatusCreated
	}
	return http.StatusOK
}

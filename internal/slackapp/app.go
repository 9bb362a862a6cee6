// Package slackapp is the Slack surface of the product: the /billing and
// /credit slash commands, the Transfer Billing Role dialog, the transfer's
// messages with their Accept, Decline and Cancel buttons, the alerts to
// the Billing holder, and the App Home tab "My Credit".
//
// Every request is verified against the signing secret before anything
// else. Every Web API call happens inside the handler, before it returns:
// on Lambda nothing runs after the answer. The rules live in
// internal/domain and are enforced by the store; this package resolves who
// acts from their Slack identity, calls the store, and words the outcome
// in Block Kit (mrkdwn text is escaped by construction, see package
// mrkdwn; every payload is kept within Block Kit's limits, see package
// blockkit).
package slackapp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/metrics"
)

// Paths the app answers, relative to the API's base URL.
const (
	PathCommands     = "/slack/commands"
	PathInteractions = "/slack/interactions"
	PathEvents       = "/slack/events"
)

// maxBody bounds what is read from a request. Slack's payloads are far
// smaller; anything this large is not from Slack.
const maxBody = 1 << 20

// Store is what the Slack app needs from the store (internal/dynamo).
type Store interface {
	Memberships(ctx context.Context, slackTeamID, slackUserID string) ([]domain.Membership, error)
	PreferredOrg(ctx context.Context, slackTeamID, slackUserID string) (string, error)
	SetPreferredOrg(ctx context.Context, slackTeamID, slackUserID, orgID string) error
	GetOrg(ctx context.Context, orgID string) (domain.Org, error)
	GetPool(ctx context.Context, orgID string) (domain.Pool, error)
	GetMember(ctx context.Context, orgID, memberID string) (domain.Member, error)
	ListMembers(ctx context.Context, orgID string) ([]domain.Member, error)
	Members(ctx context.Context, orgID string, ids []string) ([]domain.Member, error)

	EligibleRecipients(ctx context.Context, orgID, actorID string) ([]domain.Member, error)
	RequestTransfer(ctx context.Context, orgID, actorID, recipientID string) (domain.Transfer, *domain.Transfer, error)
	AcceptTransfer(ctx context.Context, orgID, transferID, actorID string) (domain.Transfer, error)
	DeclineTransfer(ctx context.Context, orgID, transferID, actorID string) (domain.Transfer, error)
	CancelTransfer(ctx context.Context, orgID, transferID, actorID string) (domain.Transfer, error)
	GetTransfer(ctx context.Context, orgID, transferID string) (domain.Transfer, error)
	PendingTransfer(ctx context.Context, orgID string) (*domain.Transfer, error)
	SetTransferMessages(ctx context.Context, orgID, transferID string, recipient, initiator domain.Message) error

	ReadAudit(ctx context.Context, orgID, actorID string, limit int) ([]domain.AuditEntry, error)
	GroupStatuses(ctx context.Context, orgID, period string) ([]domain.GroupStatus, error)
	CreateGroup(ctx context.Context, g domain.BudgetGroup, actor *domain.Member) (domain.BudgetGroup, bool, error)
	SetGroupCap(ctx context.Context, orgID, groupID string, cap domain.Micros, actor *domain.Member) (domain.BudgetGroup, error)
	SetAgentGroup(ctx context.Context, orgID, agentID, groupID string, actor *domain.Member) (domain.Agent, error)
	SetRole(ctx context.Context, orgID string, actor *domain.Member, memberID string, role domain.Role) (domain.Member, error)
	Leave(ctx context.Context, orgID, memberID string) error
	DailyUsage(ctx context.Context, orgID string, days int) ([]domain.DayUsage, error)
	ChartFile(ctx context.Context, orgID string) (key, fileID string, at time.Time, err error)
	SetChartFile(ctx context.Context, orgID, key, fileID string, at time.Time) error
	MarkOnce(ctx context.Context, key domain.OnceKey, ttl time.Duration) (bool, error)
}

// Config wires the app.
type Config struct {
	Store Store
	// Workspaces gives the Slack client of each workspace (OneWorkspace
	// for a single bot token).
	Workspaces    Workspaces
	SigningSecret string
	// AppID is the Slack app's id (A0…), for links that open its Home tab.
	// The app also learns it from the requests Slack sends.
	AppID string
	// InstallURL is where a workspace admin installs the app by OAuth
	// (GET /slack/install), told to people in a workspace the app cannot
	// message; empty without installs by OAuth.
	InstallURL string
	// Now is the clock for the signature window, dates and the budget
	// period. slack-go's verifier also checks the window against the wall
	// clock, so Now must stay close to real time.
	Now    func() time.Time
	Logger *slog.Logger
	// TransferTTL is how long a transfer request stays pending, as the
	// store is configured (default domain.DefaultTransferTTL); the dialog
	// states it.
	TransferTTL time.Duration
	// Budget bounds the work of one request, Slack and DynamoDB calls
	// included, so the answer reaches Slack within its 3 seconds
	// (default 2.5 s).
	Budget time.Duration
}

// App answers Slack's requests.
type App struct {
	store       Store
	workspaces  Workspaces
	secret      string
	appID       atomic.Value // string
	now         func() time.Time
	log         *slog.Logger
	budget      time.Duration
	transferTTL time.Duration
	installURL  string
}

// defaultBudget leaves half a second of Slack's 3 s for the network.
const defaultBudget = 2500 * time.Millisecond

// New makes the app.
func New(cfg Config) *App {
	a := &App{store: cfg.Store, workspaces: cfg.Workspaces, secret: cfg.SigningSecret, now: cfg.Now, log: cfg.Logger, budget: cfg.Budget, transferTTL: cfg.TransferTTL, installURL: cfg.InstallURL}
	if a.transferTTL <= 0 {
		a.transferTTL = domain.DefaultTransferTTL
	}
	a.appID.Store(cfg.AppID)
	if a.budget <= 0 {
		a.budget = defaultBudget
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	return a
}

type response = events.APIGatewayV2HTTPResponse

// Handle answers one request from Slack, delivered by API Gateway (HTTP
// API, payload 2.0). The signature is checked first; a request that fails
// it is answered 401 and changes nothing.
func (a *App) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	path := req.RawPath
	if path == "" {
		path = req.RequestContext.HTTP.Path
	}
	path = strings.TrimSuffix(path, "/")
	if path != PathCommands && path != PathInteractions && path != PathEvents {
		return plainResponse(http.StatusNotFound, "not found"), nil
	}
	if m := req.RequestContext.HTTP.Method; m != "" && m != http.MethodPost {
		return plainResponse(http.StatusMethodNotAllowed, "Slack requests are POSTs"), nil
	}
	body, err := rawBody(req)
	if err != nil {
		return plainResponse(http.StatusBadRequest, err.Error()), nil
	}
	if err := a.verify(req.Headers, body); err != nil {
		a.log.WarnContext(ctx, "slack request refused", "path", path, "reason", err.Error())
		return plainResponse(http.StatusUnauthorized, err.Error()), nil
	}
	return a.ServeVerified(ctx, path, body), nil
}

// ServeVerified answers a Slack request whose sender is already proven,
// with the same code as Handle after its signature check: Socket Mode
// delivers requests over Slack's own authenticated WebSocket, unsigned.
// path is PathCommands, PathInteractions or PathEvents; body is what Slack
// would have posted there (a command's form, "payload=<json>" for an
// interaction, an event's JSON).
func (a *App) ServeVerified(ctx context.Context, path string, body []byte) events.APIGatewayV2HTTPResponse {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, a.budget)
	defer cancel()
	kind := metrics.KindEvent
	var resp response
	switch path {
	case PathCommands:
		kind, resp = metrics.KindCommand, a.handleCommand(ctx, body)
	case PathInteractions:
		kind, resp = metrics.KindInteraction, a.handleInteraction(ctx, body)
	case PathEvents:
		resp = a.handleEvent(ctx, body)
	default:
		return plainResponse(http.StatusNotFound, "not found")
	}
	metrics.Duration(ctx, metrics.SlackLatency, metrics.DimKind, kind, time.Since(start))
	return resp
}

// learnAppID remembers the app's id from a request (api_app_id), for links
// to its Home tab.
func (a *App) learnAppID(id string) {
	if id != "" && a.appID.Load() == "" {
		a.appID.Store(id)
	}
}

// homeURL opens the app's Home tab ("My Credit") in the Slack client, or
// "" while the app's id is unknown.
func (a *App) homeURL(teamID string) string {
	id, _ := a.appID.Load().(string)
	if id == "" || teamID == "" {
		return ""
	}
	return "slack://app?team=" + teamID + "&id=" + id + "&tab=home"
}

// rawBody returns the bytes Slack signed: API Gateway base64-encodes some
// bodies, and the signature is over the original.
func rawBody(req events.APIGatewayV2HTTPRequest) ([]byte, error) {
	if len(req.Body) > maxBody*4/3+4 {
		return nil, errors.New("request body too large")
	}
	if !req.IsBase64Encoded {
		return []byte(req.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return nil, errors.New("request body is not valid base64")
	}
	return b, nil
}

func plainResponse(status int, text string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "text/plain; charset=utf-8"},
		Body:       text,
	}
}

func jsonResponse(v any) events.APIGatewayV2HTTPResponse {
	b, err := json.Marshal(v)
	if err != nil {
		return plainResponse(http.StatusInternalServerError, "could not encode the answer")
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusOK,
		Headers:    map[string]string{"Content-Type": "application/json"},
		Body:       string(b),
	}
}

// ack is an empty 200: Slack needs nothing more.
func ack() events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK}
}

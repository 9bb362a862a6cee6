package adminapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgcredit/orgcredit/internal/apigw"
	"github.com/orgcredit/orgcredit/internal/domain"
)

type response = events.APIGatewayV2HTTPResponse

// none is the zero response that goes with an error.
var none response

// groupRefProblem turns the store's not-found for a budget group named in
// the body into a 400 about that field: a 404 would say the URL is wrong.
// It returns err itself when the organization or the agent is what is
// missing.
func (a *API) groupRefProblem(ctx context.Context, err error, orgID, agentID, groupID string) error {
	if groupID == "" || !errors.Is(err, domain.ErrNotFound) {
		return err
	}
	if _, gerr := a.store.GetGroup(ctx, orgID, groupID); !errors.Is(gerr, domain.ErrNotFound) {
		return err
	}
	if _, oerr := a.store.GetOrg(ctx, orgID); oerr != nil {
		return oerr
	}
	if agentID != "" {
		if _, aerr := a.store.GetAgent(ctx, orgID, agentID); aerr != nil {
			return aerr
		}
	}
	p := apigw.BadRequest("budget_group_id", "Budget group %q does not exist in organization %q. Create it first (POST /admin/orgs/%s/budget-groups) or pick one from GET /admin/orgs/%s/budget-groups.",
		groupID, orgID, orgID, orgID)
	p.Extra["rule"] = string(domain.RuleNotFound)
	return p
}

type memberInput struct {
	ID          string `json:"id,required"`
	Name        string `json:"name,required"`
	SlackUserID string `json:"slack_user_id"`
}

type createOrgRequest struct {
	ID                        string      `json:"id,required"`
	Name                      string      `json:"name,required"`
	SlackTeamID               string      `json:"slack_team_id"`
	LowBalanceThresholdMicros json.Number `json:"low_balance_threshold_micros"`
	TopUpURL                  string      `json:"top_up_url"`
	Owner                     memberInput `json:"owner,required"`
}

func (a *API) createOrg(ctx context.Context, req events.APIGatewayV2HTTPRequest, _ apigw.Params) (response, error) {
	var in createOrgRequest
	if err := apigw.DecodeJSON(req, &in); err != nil {
		return none, err
	}
	var threshold domain.Micros
	if in.LowBalanceThresholdMicros != "" {
		t, err := apigw.Micros("low_balance_threshold_micros", in.LowBalanceThresholdMicros)
		if err != nil {
			return none, err
		}
		threshold = t
	}
	org := domain.Org{ID: in.ID, Name: in.Name, SlackTeamID: in.SlackTeamID, LowBalanceThreshold: threshold, TopUpURL: in.TopUpURL}
	owner := domain.Member{OrgID: in.ID, ID: in.Owner.ID, Name: in.Owner.Name, SlackUserID: in.Owner.SlackUserID}
	org, first, err := a.store.CreateOrg(ctx, org, owner)
	if err != nil {
		return none, err
	}
	view, err := a.orgView(ctx, org)
	if err != nil {
		return none, err
	}
	return apigw.JSON(created(first), view)
}

func (a *API) getOrg(ctx context.Context, _ events.APIGatewayV2HTTPRequest, p apigw.Params) (response, error) {
	org, err := a.store.GetOrg(ctx, p["org"])
	if err != nil {
		return none, err
	}
	view, err := a.orgView(ctx, org)
	if err != nil {
		return none, err
	}
	return apigw.JSON(http.StatusOK, view)
}

type patchOrgRequest struct {
	LowBalanceThresholdMicros json.Number `json:"low_balance_threshold_micros"`
	// TopUpURL is where people add credit; "" removes it.
	TopUpURL *string `json:"top_up_url"`
}

func (a *API) patchOrg(ctx context.Context, req events.APIGatewayV2HTTPRequest, p apigw.Params) (response, error) {
	var in patchOrgRequest
	if err := apigw.DecodeJSON(req, &in); err != nil {
		return none, err
	}
	change := domain.OrgChange{TopUpURL: in.TopUpURL}
	if in.LowBalanceThresholdMicros != "" {
		t, err := apigw.Micros("low_balance_threshold_micros", in.LowBalanceThresholdMicros)
		if err != nil {
			return none, err
		}
		change.LowBalanceThreshold = &t
	}
	if _, err := a.store.UpdateOrg(ctx, p["org"], nil, change); err != nil {
		return none, err
	}
	return a.getOrg(ctx, req, p)
}

func (a *API) orgView(ctx context.Context, org domain.Org) (OrgView, error) {
	pool, err := a.store.GetPool(ctx, org.ID)
	if err != nil {
		return OrgView{}, err
	}
	holder, err := a.store.GetMember(ctx, org.ID, org.BillingHolderID)
	if err != nil {
		return OrgView{}, err
	}
	pending, err := a.store.PendingTransfer(ctx, org.ID)
	if err != nil {
		return OrgView{}, err
	}
	v := OrgView{
		ID:                        org.ID,
		Name:                      org.Name,
		SlackTeamID:               org.SlackTeamID,
		BalanceMicros:             int64(pool.Balance),
		GrantedMicros:             int64(pool.Granted),
		LowBalanceThresholdMicros: int64(pool.Threshold),
		TopUpURL:                  org.TopUpURL,
		BillingHolder:             MemberRef{ID: holder.ID, Name: holder.Name},
		CreatedAt:                 timestamp(org.CreatedAt),
	}
	if pending != nil {
		v.PendingTransfer = transferView(*pending)
	}
	return v, nil
}

type addMemberRequest struct {
	ID          string `json:"id,required"`
	Name        string `json:"name,required"`
	SlackUserID string `json:"slack_user_id"`
	Role        string `json:"role"`
}

func (a *API) addMember(ctx context.Context, req events.APIGatewayV2HTTPRequest, p apigw.Params) (response, error) {
	var in addMemberRequest
	if err := apigw.DecodeJSON(req, &in); err != nil {
		return none, err
	}
	m := domain.Member{OrgID: p["org"], ID: in.ID, Name: in.Name, SlackUserID: in.SlackUserID, Role: domain.Role(in.Role)}
	m, first, err := a.store.AddMember(ctx, m, nil)
	if err != nil {
		return none, err
	}
	org, err := a.store.GetOrg(ctx, m.OrgID)
	if err != nil {
		return none, err
	}
	return apigw.JSON(created(first), memberView(m, org))
}

func (a *API) listMembers(ctx context.Context, _ events.APIGatewayV2HTTPRequest, p apigw.Params) (response, error) {
	org, err := a.store.GetOrg(ctx, p["org"])
	if err != nil {
		return none, err
	}
	ms, err := a.store.ListMembers(ctx, org.ID)
	if err != nil {
		return none, err
	}
	out := MemberList{Members: make([]MemberView, 0, len(ms))}
	for _, m := range ms {
		out.Members = append(out.Members, memberView(m, org))
	}
	return apigw.JSON(http.StatusOK, out)
}

type patchMemberRequest struct {
	Role string `json:"role,required"`
}

func (a *API) patchMember(ctx context.Context, req events.APIGatewayV2HTTPRequest, p apigw.Params) (response, error) {
	var in patchMemberRequest
	if err := apigw.DecodeJSON(req, &in); err != nil {
		return none, err
	}
	m, err := a.store.SetRole(ctx, p["org"], nil, p["member"], domain.Role(in.Role))
	if err != nil {
		return none, err
	}
	org, err := a.store.GetOrg(ctx, m.OrgID)
	if err != nil {
		return none, err
	}
	return apigw.JSON(http.StatusOK, memberView(m, org))
}

func (a *API) removeMember(ctx context.Context, _ events.APIGatewayV2HTTPRequest, p apigw.Params) (response, error) {
	if err := a.store.RemoveMember(ctx, p["org"], nil, p["member"]); err != nil {
		return none, err
	}
	return apigw.NoContent(), nil
}

type createGroupRequest struct {
	ID        string      `json:"id,required"`
	Name      string      `json:"name,required"`
	CapMicros json.Number `json:"cap_micros,required"`
}

func (a *API) createGroup(ctx context.Context, req events.APIGatewayV2HTTPRequest, p apigw.Params) (response, error) {
	var in createGroupRequest
	if err := apigw.DecodeJSON(req, &in); err != nil {
		return none, err
	}
	capMicros, err := apigw.Micros("cap_micros", in.CapMicros)
	if err != nil {
		return none, err
	}
	g, first, err := a.store.CreateGroup(ctx, domain.BudgetGroup{OrgID: p["org"], ID: in.ID, Name: in.Name, Cap: capMicros}, nil)
	if err != nil {
		return none, err
	}
	return a.groupAnswer(ctx, g, created(first))
}

type patchGroupRequest struct {
	CapMicros json.Number `json:"cap_micros,required"`
}

func (a *API) patchGroup(ctx context.Context, req events.APIGatewayV2HTTPRequest, p apigw.Params) (response, error) {
	var in patchGroupRequest
	if err := apigw.DecodeJSON(req, &in); err != nil {
		return none, err
	}
	capMicros, err := apigw.Micros("cap_micros", in.CapMicros)
	if err != nil {
		return none, err
	}
	g, err := a.store.SetGroupCap(ctx, p["org"], p["group"], capMicros, nil)
	if err != nil {
		return none, err
	}
	return a.groupAnswer(ctx, g, http.StatusOK)
}

// groupAnswer shows a group with its spend in the current period.
func (a *API) groupAnswer(ctx context.Context, g domain.BudgetGroup, status int) (response, error) {
	period := domain.Period(a.now())
	sts, err := a.store.GroupStatuses(ctx, g.OrgID, period)
	if err != nil {
		return none, err
	}
	st := domain.NewGroupStatus(g, period, 0)
	for _, s := range sts {
		if s.Group.ID == g.ID {
			st = domain.NewGroupStatus(g, period, s.Spent)
		}
	}
	return apigw.JSON(status, groupView(st))
}

func (a *API) listGroups(ctx context.Context, _ events.APIGatewayV2HTTPRequest, p apigw.Params) (response, error) {
	if _, err := a.store.GetOrg(ctx, p["org"]); err != nil {
		return none, err
	}
	sts, err := a.store.GroupStatuses(ctx, p["org"], domain.Period(a.now()))
	if err != nil {
		return none, err
	}
	out := GroupList{BudgetGroups: make([]GroupView, 0, len(sts))}
	for _, s := range sts {
		out.BudgetGroups = append(out.BudgetGroups, groupView(s))
	}
	return apigw.JSON(http.StatusOK, out)
}

type createAgentRequest struct {
	ID            string `json:"id,required"`
	Name          string `json:"name,required"`
	BudgetGroupID string `json:"budget_group_id,nullable"`
}

// tokenNote explains why a repeated create shows no token.
const tokenNote = "This agent already existed, so its token is not shown: a token is shown once, in the answer to the create that made the agent, and only its hash is stored. If the token was lost, revoke the agent (DELETE) and create a new one with a new id."

func (a *API) createAgent(ctx context.Context, req events.APIGatewayV2HTTPRequest, p apigw.Params) (response, error) {
	var in createAgentRequest
	if err := apigw.DecodeJSON(req, &in); err != nil {
		return none, err
	}
	ag, token, first, err := a.store.CreateAgent(ctx, domain.Agent{OrgID: p["org"], ID: in.ID, Name: in.Name, BudgetGroupID: in.BudgetGroupID}, nil)
	if err != nil {
		return none, a.groupRefProblem(ctx, err, p["org"], "", in.BudgetGroupID)
	}
	out := CreatedAgent{AgentView: agentView(ag)}
	if token != "" {
		out.Token = &token
	} else {
		out.TokenNote = tokenNote
	}
	return apigw.JSON(created(first), out)
}

type patchAgentRequest struct {
	// null or "" takes the agent out of its group.
	BudgetGroupID *string `json:"budget_group_id,required,nullable"`
}

func (a *API) patchAgent(ctx context.Context, req events.APIGatewayV2HTTPRequest, p apigw.Params) (response, error) {
	var in patchAgentRequest
	if err := apigw.DecodeJSON(req, &in); err != nil {
		return none, err
	}
	group := ""
	if in.BudgetGroupID != nil {
		group = *in.BudgetGroupID
	}
	ag, err := a.store.SetAgentGroup(ctx, p["org"], p["agent"], group, nil)
	if err != nil {
		return none, a.groupRefProblem(ctx, err, p["org"], p["agent"], group)
	}
	return apigw.JSON(http.StatusOK, agentView(ag))
}

func (a *API) revokeAgent(ctx context.Context, _ events.APIGatewayV2HTTPRequest, p apigw.Params) (response, error) {
	if err := a.store.RevokeAgent(ctx, p["org"], p["agent"], nil); err != nil {
		return none, err
	}
	return apigw.NoContent(), nil
}

func (a *API) listAgents(ctx context.Context, _ events.APIGatewayV2HTTPRequest, p apigw.Params) (response, error) {
	if _, err := a.store.GetOrg(ctx, p["org"]); err != nil {
		return none, err
	}
	as, err := a.store.ListAgents(ctx, p["org"])
	if err != nil {
		return none, err
	}
	out := AgentList{Agents: make([]AgentView, 0, len(as))}
	for _, ag := range as {
		out.Agents = append(out.Agents, agentView(ag))
	}
	return apigw.JSON(http.StatusOK, out)
}

type grantRequest struct {
	ID           string      `json:"id,required"`
	AmountMicros json.Number `json:"amount_micros,required"`
	Reason       string      `json:"reason"`
}

func (a *API) grant(ctx context.Context, req events.APIGatewayV2HTTPRequest, p apigw.Params) (response, error) {
	var in grantRequest
	if err := apigw.DecodeJSON(req, &in); err != nil {
		return none, err
	}
	amount, err := apigw.Micros("amount_micros", in.AmountMicros)
	if err != nil {
		return none, err
	}
	g, pool, first, err := a.store.Grant(ctx, domain.Grant{OrgID: p["org"], ID: in.ID, Amount: amount, Reason: in.Reason}, nil)
	if err != nil {
		return none, err
	}
	return apigw.JSON(created(first), GrantView{
		ID: g.ID, OrgID: g.OrgID, AmountMicros: int64(g.Amount), Reason: g.Reason, GrantedAt: timestamp(g.At),
		BalanceMicros: int64(pool.Balance), GrantedMicros: int64(pool.Granted),
	})
}

// limitParam reads a list's ?limit=N: 0 when absent, for the store's
// default; the store checks its range (domain.AuditLimit).
func limitParam(req events.APIGatewayV2HTTPRequest) (int, error) {
	s, ok := req.QueryStringParameters["limit"]
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 {
		return 0, apigw.BadRequest("limit", "limit must be a whole number from 1 to %d (default %d), got %q.", domain.MaxAuditEntries, domain.DefaultAuditEntries, s)
	}
	return n, nil
}

func (a *API) audit(ctx context.Context, req events.APIGatewayV2HTTPRequest, p apigw.Params) (response, error) {
	limit, err := limitParam(req)
	if err != nil {
		return none, err
	}
	entries, err := a.store.Audit(ctx, p["org"], limit)
	if err != nil {
		return none, err
	}
	out := AuditList{Entries: make([]AuditView, 0, len(entries))}
	for _, e := range entries {
		out.Entries = append(out.Entries, auditView(e))
	}
	return apigw.JSON(http.StatusOK, out)
}

// TransferList is the answer to GET .../transfers: the transfer waiting
// for an answer, if any, and the past ones, newest first.
type TransferList struct {
	Pending *TransferView  `json:"pending"`
	History []TransferView `json:"history"`
}

func (a *API) transfers(ctx context.Context, req events.APIGatewayV2HTTPRequest, p apigw.Params) (response, error) {
	limit, err := limitParam(req)
	if err != nil {
		return none, err
	}
	pending, err := a.store.PendingTransfer(ctx, p["org"])
	if err != nil {
		return none, err
	}
	past, err := a.store.TransferHistory(ctx, p["org"], limit)
	if err != nil {
		return none, err
	}
	out := TransferList{History: make([]TransferView, 0, len(past))}
	if pending != nil {
		out.Pending = transferView(*pending)
	}
	for _, t := range past {
		out.History = append(out.History, *transferView(t))
	}
	return apigw.JSON(http.StatusOK, out)
}

package dynamo_test

import (
	"context"
	"testing"
	"time"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/dynamotest"
)

const credit = domain.MicrosPerCredit

// world is the worked example: Acme, Dina (Owner, Billing), Sari from
// finance (Member), Ravi (Builder), Omar (Admin); groups research (50 cr)
// and support (20 cr); 100 credits granted; one agent per group and one
// without a group.
type world struct {
	s      *dynamo.Store
	clock  *dynamotest.Clock
	org    string
	agents map[string]domain.Agent
	tokens map[string]string
}

func forEachBackend(t *testing.T, f func(t *testing.T, b dynamotest.Backend)) {
	for _, b := range dynamotest.Backends(t) {
		t.Run(b.Name, func(t *testing.T) { f(t, b) })
	}
}

func newWorld(t *testing.T, b dynamotest.Backend, opts ...dynamo.Option) *world {
	t.Helper()
	table := dynamotest.NewTable(t, b)
	c := dynamotest.NewClock(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	s := dynamo.New(b.Client, table, append([]dynamo.Option{dynamo.WithClock(c.Now)}, opts...)...)
	w := &world{s: s, clock: c, org: "acme", agents: map[string]domain.Agent{}, tokens: map[string]string{}}
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := s.CreateOrg(ctx, domain.Org{ID: "acme", Name: "Acme", SlackTeamID: "T1", LowBalanceThreshold: 10 * credit},
		domain.Member{ID: "dina", Name: "Dina", SlackUserID: "UDINA"})
	must(err)
	for _, m := range []domain.Member{
		{OrgID: "acme", ID: "sari", Name: "Sari", SlackUserID: "USARI", Role: domain.RoleMember},
		{OrgID: "acme", ID: "ravi", Name: "Ravi", SlackUserID: "URAVI", Role: domain.RoleBuilder},
		{OrgID: "acme", ID: "omar", Name: "Omar", SlackUserID: "UOMAR", Role: domain.RoleAdmin},
	} {
		_, _, err := s.AddMember(ctx, m, nil)
		must(err)
	}
	for _, g := range []domain.BudgetGroup{
		{OrgID: "acme", ID: "research", Name: "Research", Cap: 50 * credit},
		{OrgID: "acme", ID: "support", Name: "Support", Cap: 20 * credit},
	} {
		_, _, err := s.CreateGroup(ctx, g, nil)
		must(err)
	}
	_, _, _, err = s.Grant(ctx, domain.Grant{OrgID: "acme", ID: "g1", Amount: 100 * credit, Reason: "purchase"}, nil)
	must(err)
	for _, a := range []domain.Agent{
		{OrgID: "acme", ID: "research-bot", BudgetGroupID: "research"},
		{OrgID: "acme", ID: "support-bot", BudgetGroupID: "support"},
		{OrgID: "acme", ID: "free-bot"},
	} {
		agent, tok, created, err := s.CreateAgent(ctx, a, nil)
		must(err)
		if !created || tok == "" {
			t.Fatalf("agent %s: created=%v token=%q", a.ID, created, tok)
		}
		w.agents[a.ID], w.tokens[a.ID] = agent, tok
	}
	return w
}

func (w *world) pool(t *testing.T) domain.Pool {
	t.Helper()
	p, err := w.s.GetPool(context.Background(), w.org)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (w *world) holder(t *testing.T) string {
	t.Helper()
	o, err := w.s.GetOrg(context.Background(), w.org)
	if err != nil {
		t.Fatal(err)
	}
	return o.BillingHolderID
}

func (w *world) member(t *testing.T, id string) domain.Member {
	t.Helper()
	m, err := w.s.GetMember(context.Background(), w.org, id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (w *world) auditActions(t *testing.T) []domain.Action {
	t.Helper()
	es, err := w.s.Audit(context.Background(), w.org, 500)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]domain.Action, len(es))
	for i, e := range es {
		out[i] = e.Action
	}
	return out
}

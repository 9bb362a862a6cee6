package dynamo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/dynamotest"
)

// --- deterministic interleavings

// interceptor sits between a store and DynamoDB. The first request whose
// operation is op (and whose body contains every string of contains),
// after skip such requests went through untouched, first runs before (a
// competing change, made through another store), then goes out; with
// loseAnswer its answer is dropped after DynamoDB applied it, as a reset
// connection would. It fires once. This turns "a change between the
// store's read and its write" into a test that fails the same way every
// time, on every back end.
type interceptor struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
	op       string
	contains []string
	before   func()
	lose     bool
	skip     int

	mu      sync.Mutex
	fired   bool
	matched int
}

func (ic *interceptor) Do(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	match := strings.HasSuffix(r.Header.Get("X-Amz-Target"), "."+ic.op)
	for _, c := range ic.contains {
		match = match && bytes.Contains(body, []byte(c))
	}
	ic.mu.Lock()
	if match {
		ic.matched++
	}
	fire := match && !ic.fired && ic.matched > ic.skip
	ic.fired = ic.fired || fire
	ic.mu.Unlock()
	if fire && ic.before != nil {
		ic.before()
	}
	resp, err := ic.next.Do(r)
	if fire && ic.lose && err == nil {
		resp.Body.Close()
		return nil, errors.New("injected: connection reset after DynamoDB applied the request")
	}
	return resp, err
}

// intercepted is a second store on w's table and clock whose requests go
// through ic; w.s stays direct, for the competing changes.
func intercepted(w *world, b dynamotest.Backend, ic *interceptor) *dynamo.Store {
	ic.next = b.Client.Options().HTTPClient
	client := dynamodb.New(b.Client.Options(), func(o *dynamodb.Options) { o.HTTPClient = ic })
	return dynamo.New(client, w.s.Table(), dynamo.WithClock(w.clock.Now))
}

// --- invariants

// checkInvariants reads the organization, its members, transfers, pool and
// audit trail and fails t for every invariant that does not hold.
func checkInvariants(t *testing.T, s *dynamo.Store, orgID string) {
	t.Helper()
	vs, err := invariantViolations(context.Background(), s, orgID)
	if err != nil {
		t.Fatalf("invariants: %v", err)
	}
	for _, v := range vs {
		t.Error("invariant: " + v)
	}
}

// invariantViolations lists what does not hold that must hold after any
// sequence of operations, concurrent or not.
func invariantViolations(ctx context.Context, s *dynamo.Store, orgID string) ([]string, error) {
	org, err := s.GetOrg(ctx, orgID)
	if err != nil {
		return nil, err
	}
	members, err := s.ListMembers(ctx, orgID)
	if err != nil {
		return nil, err
	}
	transfers, err := s.ListTransfers(ctx, orgID)
	if err != nil {
		return nil, err
	}
	pool, err := s.GetPool(ctx, orgID)
	if err != nil {
		return nil, err
	}
	audit, err := s.Audit(ctx, orgID, 500)
	if err != nil {
		return nil, err
	}
	var vs []string
	errorf := func(format string, args ...any) { vs = append(vs, fmt.Sprintf(format, args...)) }
	byID := map[string]domain.Member{}
	owners := 0
	for _, m := range members {
		byID[m.ID] = m
		if m.Active() && m.Role == domain.RoleOwner {
			owners++
		}
	}

	// Exactly one Billing holder, an active member.
	if h, ok := byID[org.BillingHolderID]; !ok || !h.Active() {
		errorf("Billing holder %q is not an active member (%+v)", org.BillingHolderID, h)
	}
	// The owner count is the members' roles, and there is an Owner.
	if org.OwnerCount != owners || owners < 1 {
		errorf("owner_count %d, active Owners %d", org.OwnerCount, owners)
	}
	// At most one pending transfer, the one the lock names, and the lock
	// names only a pending transfer.
	var pending []domain.Transfer
	for _, tr := range transfers {
		if tr.Status == domain.TransferPending {
			pending = append(pending, tr)
		}
	}
	if len(pending) > 1 {
		errorf("%d transfers pending: %+v", len(pending), pending)
	}
	switch {
	case org.PendingTransferID == "" && len(pending) > 0:
		errorf("transfer %s is pending but the lock is free", pending[0].ID)
	case org.PendingTransferID != "" && (len(pending) != 1 || pending[0].ID != org.PendingTransferID):
		errorf("the lock names %s, pending are %+v", org.PendingTransferID, pending)
	case len(pending) == 1:
		p := pending[0]
		if !org.PendingExpiresAt.Equal(p.ExpiresAt) {
			errorf("lock expiry %v, transfer expiry %v", org.PendingExpiresAt, p.ExpiresAt)
		}
		// A stored-pending transfer is still valid: from the holder, to an
		// active member who is not the holder.
		if p.InitiatorID != org.BillingHolderID || p.RecipientID == org.BillingHolderID || !byID[p.RecipientID].Active() {
			errorf("pending transfer %+v is not valid (holder %s)", p, org.BillingHolderID)
		}
	}
	// The pool.
	if pool.Balance < 0 || pool.Balance > pool.Granted {
		errorf("balance %d, granted %d", pool.Balance, pool.Granted)
	}
	// The audit trail has one entry per change: one "requested" per
	// transfer, one closing entry per closed transfer (with its outcome),
	// one departure per member who left or was removed.
	count := map[string]int{}
	for _, e := range audit {
		count[string(e.Action)+" "+e.Target]++
	}
	for _, tr := range transfers {
		if n := count[string(domain.ActionTransferRequested)+" "+tr.ID]; n != 1 {
			errorf("transfer %s has %d 'requested' audit entries", tr.ID, n)
		}
		closing := 0
		for _, st := range []domain.TransferStatus{domain.TransferAccepted, domain.TransferDeclined, domain.TransferCancelled, domain.TransferExpired, domain.TransferInvalidated} {
			n := count[string(st.AuditAction())+" "+tr.ID]
			closing += n
			if n > 0 && st != tr.Status {
				errorf("transfer %s is %s but the audit says %s", tr.ID, tr.Status, st)
			}
		}
		if want := map[bool]int{true: 0, false: 1}[tr.Status == domain.TransferPending]; closing != want {
			errorf("transfer %s (%s) has %d closing audit entries, want %d", tr.ID, tr.Status, closing, want)
		}
	}
	for _, m := range members {
		left, removed := count[string(domain.ActionMemberLeft)+" "+m.ID], count[string(domain.ActionMemberRemoved)+" "+m.ID]
		want := map[domain.MemberStatus][2]int{domain.MemberActive: {0, 0}, domain.MemberLeft: {1, 0}, domain.MemberRemoved: {0, 1}}[m.Status]
		if left != want[0] || removed != want[1] {
			errorf("member %s is %s with %d 'left' and %d 'removed' audit entries", m.ID, m.Status, left, removed)
		}
	}
	// Holder changes in the audit trail match the accepted transfers.
	accepted := 0
	for _, tr := range transfers {
		if tr.Status == domain.TransferAccepted {
			accepted++
		}
	}
	if n := countActions(audit, domain.ActionTransferAccepted); n != accepted {
		errorf("%d accepted transfers, %d audit entries", accepted, n)
	}
	return vs, nil
}

func countActions(es []domain.AuditEntry, a domain.Action) int {
	n := 0
	for _, e := range es {
		if e.Action == a {
			n++
		}
	}
	return n
}

func refusalRule(err error) domain.Rule {
	var r *domain.Refusal
	if errors.As(err, &r) {
		return r.Rule
	}
	return ""
}

// --- findings

// TestNoOpEditsWriteNoAudit: setting a cap or a threshold to the
// value it already has changes nothing, so it must not be audited as a
// change.
func TestNoOpEditsWriteNoAudit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dynamotest.Backend) {
		ctx := context.Background()
		cases := []struct {
			name string
			do   func(w *world) error
		}{
			{"same cap", func(w *world) error {
				g, err := w.s.SetGroupCap(ctx, w.org, "research", 50*credit, nil)
				if err == nil && g.Cap != 50*credit {
					err = fmt.Errorf("cap %d", g.Cap)
				}
				return err
			}},
			{"same cap by an Admin", func(w *world) error {
				omar := w.member(t, "omar")
				_, err := w.s.SetGroupCap(ctx, w.org, "support", 20*credit, &omar)
				return err
			}},
			{"same threshold", func(w *world) error {
				threshold := 10 * credit
				o, err := w.s.UpdateOrg(ctx, w.org, nil, domain.OrgChange{LowBalanceThreshold: &threshold})
				if err == nil && o.LowBalanceThreshold != 10*credit {
					err = fmt.Errorf("threshold %d", o.LowBalanceThreshold)
				}
				return err
			}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				w := newWorld(t, b)
				before := w.auditActions(t)
				if err := c.do(w); err != nil {
					t.Fatal(err)
				}
				if after := w.auditActions(t); len(after) != len(before) {
					t.Fatalf("a no-op edit wrote audit entries: %v", after[:len(after)-len(before)])
				}
			})
		}
		// An unauthorized no-op is still refused.
		w := newWorld(t, b)
		sari := w.member(t, "sari")
		if _, err := w.s.SetGroupCap(ctx, w.org, "research", 50*credit, &sari); !errors.Is(err, domain.ErrNotOwnerOrAdmin) {
			t.Fatalf("member sets the same cap: %v", err)
		}
	})
}

// TestRaces runs each race deterministically: the competing change
// lands between the store's reads and its write. Every outcome must be
// what the rules say at the moment of the write, and the invariants hold.
func TestRaces(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dynamotest.Backend) {
		ctx := context.Background()
		// demoteOmar is the competing change of the races about an Admin's
		// authority: Dina makes Omar a Member.
		demoteOmar := func(t *testing.T, w *world, _ string) {
			dina := w.member(t, "dina")
			if _, err := w.s.SetRole(ctx, w.org, &dina, "omar", domain.RoleMember); err != nil {
				t.Error(err)
			}
		}
		cases := []struct {
			name string
			// setup prepares the world and returns the id of a transfer
			// the race is about, if any.
			setup func(t *testing.T, w *world) string
			// race is the competing change, made through w.s.
			race func(t *testing.T, w *world, transfer string)
			// match selects the store's write to interleave before.
			match []string
			// act is the operation under test, through the intercepted store.
			act   func(s *dynamo.Store, w *world, transfer string) error
			check func(t *testing.T, w *world, transfer string, err error)
		}{
			{
				name:  "revoke racing revoke is audited once",
				setup: func(*testing.T, *world) string { return "" },
				race: func(t *testing.T, w *world, _ string) {
					if err := w.s.RevokeAgent(ctx, w.org, "free-bot", nil); err != nil {
						t.Error(err)
					}
				},
				match: []string{"revoked"},
				act:   func(s *dynamo.Store, w *world, _ string) error { return s.RevokeAgent(ctx, w.org, "free-bot", nil) },
				check: func(t *testing.T, w *world, _ string, err error) {
					if err != nil {
						t.Fatalf("second revoke: %v", err)
					}
					if n := countActions(mustAudit(t, w), domain.ActionAgentRevoked); n != 1 {
						t.Fatalf("%d revoke audit entries, want 1", n)
					}
				},
			},
			{
				name:  "an Admin demoted while removing a member",
				setup: func(*testing.T, *world) string { return "" },
				race:  demoteOmar,
				match: []string{"removed"},
				act: func(s *dynamo.Store, w *world, _ string) error {
					omar := w.member(t, "omar")
					return s.RemoveMember(ctx, w.org, &omar, "ravi")
				},
				check: func(t *testing.T, w *world, _ string, err error) {
					if !errors.Is(err, domain.ErrNotOwnerOrAdmin) {
						t.Fatalf("removal by a demoted Admin: %v", err)
					}
					if !w.member(t, "ravi").Active() {
						t.Fatal("a Member removed a member")
					}
				},
			},
			{
				name:  "an Admin demoted while changing a cap",
				setup: func(*testing.T, *world) string { return "" },
				race:  demoteOmar,
				match: []string{"cap_micros"},
				act: func(s *dynamo.Store, w *world, _ string) error {
					omar := w.member(t, "omar")
					_, err := s.SetGroupCap(ctx, w.org, "research", 1, &omar)
					return err
				},
				check: func(t *testing.T, w *world, _ string, err error) {
					if !errors.Is(err, domain.ErrNotOwnerOrAdmin) {
						t.Fatalf("cap change by a demoted Admin: %v", err)
					}
					if g, _ := w.s.GetGroup(ctx, w.org, "research"); g.Cap != 50*credit {
						t.Fatalf("a Member changed the cap to %d", g.Cap)
					}
				},
			},
			{
				name:  "an Admin demoted while revoking an agent",
				setup: func(*testing.T, *world) string { return "" },
				race:  demoteOmar,
				match: []string{"revoked"},
				act: func(s *dynamo.Store, w *world, _ string) error {
					omar := w.member(t, "omar")
					return s.RevokeAgent(ctx, w.org, "free-bot", &omar)
				},
				check: func(t *testing.T, w *world, _ string, err error) {
					if !errors.Is(err, domain.ErrNotOwnerOrAdmin) {
						t.Fatalf("revocation by a demoted Admin: %v", err)
					}
					if a, _ := w.s.GetAgent(ctx, w.org, "free-bot"); a.Revoked {
						t.Fatal("a Member revoked an agent")
					}
				},
			},
			{
				name:  "an Admin demoted while adding a member",
				setup: func(*testing.T, *world) string { return "" },
				race:  demoteOmar,
				match: []string{"member.joined"},
				act: func(s *dynamo.Store, w *world, _ string) error {
					omar := w.member(t, "omar")
					_, _, err := s.AddMember(ctx, domain.Member{OrgID: w.org, ID: "eve", Name: "Eve", SlackUserID: "UEVE", Role: domain.RoleAdmin}, &omar)
					return err
				},
				check: func(t *testing.T, w *world, _ string, err error) {
					if !errors.Is(err, domain.ErrNotOwnerOrAdmin) {
						t.Fatalf("add by a demoted Admin: %v", err)
					}
					if _, err := w.s.GetMember(ctx, w.org, "eve"); !errors.Is(err, domain.ErrNotFound) {
						t.Fatalf("a Member added a member: %v", err)
					}
				},
			},
			{
				name: "initiator promoted back while the accept decides invalidated",
				setup: func(t *testing.T, w *world) string {
					tr := mustRequest(t, w, "dina", "sari")
					promote(t, w, "omar")
					omar := w.member(t, "omar")
					if _, err := w.s.SetRole(ctx, w.org, &omar, "dina", domain.RoleAdmin); err != nil {
						t.Fatal(err)
					}
					return tr
				},
				race: func(t *testing.T, w *world, _ string) {
					omar := w.member(t, "omar")
					if _, err := w.s.SetRole(ctx, w.org, &omar, "dina", domain.RoleOwner); err != nil {
						t.Error(err)
					}
				},
				match: []string{"invalidated"},
				act: func(s *dynamo.Store, w *world, tr string) error {
					_, err := s.AcceptTransfer(ctx, w.org, tr, "sari")
					return err
				},
				check: func(t *testing.T, w *world, _ string, err error) {
					// At the moment of the write Dina is an Owner again:
					// the transfer is valid and the accept goes through.
					if err != nil || w.holder(t) != "sari" {
						t.Fatalf("accept: %v, holder %s", err, w.holder(t))
					}
				},
			},
			{
				name:  "initiator demoted while the recipient accepts",
				setup: func(t *testing.T, w *world) string { promote(t, w, "omar"); return mustRequest(t, w, "dina", "sari") },
				race: func(t *testing.T, w *world, _ string) {
					omar := w.member(t, "omar")
					if _, err := w.s.SetRole(ctx, w.org, &omar, "dina", domain.RoleAdmin); err != nil {
						t.Error(err)
					}
				},
				match: []string{"accepted"},
				act: func(s *dynamo.Store, w *world, tr string) error {
					_, err := s.AcceptTransfer(ctx, w.org, tr, "sari")
					return err
				},
				check: func(t *testing.T, w *world, tr string, err error) {
					if !errors.Is(err, domain.ErrTransferInvalidated) || w.holder(t) != "dina" {
						t.Fatalf("accept: %v, holder %s", err, w.holder(t))
					}
					if got, _ := w.s.GetTransfer(ctx, w.org, tr); got.Status != domain.TransferInvalidated {
						t.Fatalf("transfer %s", got.Status)
					}
				},
			},
			{
				name:  "recipient leaves while accepting",
				setup: func(t *testing.T, w *world) string { return mustRequest(t, w, "dina", "sari") },
				race: func(t *testing.T, w *world, _ string) {
					if err := w.s.Leave(ctx, w.org, "sari"); err != nil {
						t.Error(err)
					}
				},
				match: []string{"accepted"},
				act: func(s *dynamo.Store, w *world, tr string) error {
					_, err := s.AcceptTransfer(ctx, w.org, tr, "sari")
					return err
				},
				check: func(t *testing.T, w *world, _ string, err error) {
					if !errors.Is(err, domain.ErrTransferInvalidated) || w.holder(t) != "dina" {
						t.Fatalf("accept: %v, holder %s", err, w.holder(t))
					}
				},
			},
			{
				name:  "recipient removed while the transfer is accepted",
				setup: func(t *testing.T, w *world) string { return mustRequest(t, w, "dina", "sari") },
				race: func(t *testing.T, w *world, tr string) {
					if _, err := w.s.AcceptTransfer(ctx, w.org, tr, "sari"); err != nil {
						t.Error(err)
					}
				},
				match: []string{"removed"},
				act: func(s *dynamo.Store, w *world, _ string) error {
					omar := w.member(t, "omar")
					return s.RemoveMember(ctx, w.org, &omar, "sari")
				},
				check: func(t *testing.T, w *world, _ string, err error) {
					if !errors.Is(err, domain.ErrHolderCannotLeave) || !w.member(t, "sari").Active() || w.holder(t) != "sari" {
						t.Fatalf("removal of the new holder: %v", err)
					}
				},
			},
			{
				name:  "recipient leaves while the request is written",
				setup: func(*testing.T, *world) string { return "" },
				race: func(t *testing.T, w *world, _ string) {
					if err := w.s.Leave(ctx, w.org, "sari"); err != nil {
						t.Error(err)
					}
				},
				match: []string{"transfer.requested"},
				act: func(s *dynamo.Store, w *world, _ string) error {
					_, _, err := s.RequestTransfer(ctx, w.org, "dina", "sari")
					return err
				},
				check: func(t *testing.T, w *world, _ string, err error) {
					if refusalRule(err) != domain.RuleIneligibleRecipient {
						t.Fatalf("request to a member who left: %v", err)
					}
				},
			},
			{
				name:  "the lock is taken while the request is written",
				setup: func(*testing.T, *world) string { return "" },
				race: func(t *testing.T, w *world, _ string) {
					if _, _, err := w.s.RequestTransfer(ctx, w.org, "dina", "ravi"); err != nil {
						t.Error(err)
					}
				},
				match: []string{"transfer.requested"},
				act: func(s *dynamo.Store, w *world, _ string) error {
					_, _, err := s.RequestTransfer(ctx, w.org, "dina", "sari")
					return err
				},
				check: func(t *testing.T, w *world, _ string, err error) {
					var r *domain.Refusal
					if !errors.As(err, &r) || r.Rule != domain.RuleTransferPending || r.Transfer == nil || r.Transfer.RecipientID != "ravi" {
						t.Fatalf("second request: %v", err)
					}
				},
			},
			{
				name:  "the last other Owner leaves while an Owner is demoted",
				setup: func(t *testing.T, w *world) string { promote(t, w, "omar"); return "" },
				race: func(t *testing.T, w *world, _ string) {
					if err := w.s.Leave(ctx, w.org, "omar"); err != nil {
						t.Error(err)
					}
				},
				match: []string{"role_changed"},
				act: func(s *dynamo.Store, w *world, _ string) error {
					_, err := s.SetRole(ctx, w.org, nil, "dina", domain.RoleAdmin)
					return err
				},
				check: func(t *testing.T, w *world, _ string, err error) {
					if !errors.Is(err, domain.ErrLastOwner) || w.member(t, "dina").Role != domain.RoleOwner {
						t.Fatalf("demotion of the last Owner: %v", err)
					}
				},
			},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				w := newWorld(t, b)
				tr := c.setup(t, w)
				ic := &interceptor{op: "TransactWriteItems", contains: c.match, before: func() { c.race(t, w, tr) }}
				s := intercepted(w, b, ic)
				err := c.act(s, w, tr)
				if !ic.fired {
					t.Fatal("the race was not run: no matching write")
				}
				c.check(t, w, tr, err)
				checkInvariants(t, w.s, w.org)
			})
		}
	})
}

func mustAudit(t *testing.T, w *world) []domain.AuditEntry {
	t.Helper()
	es, err := w.s.Audit(context.Background(), w.org, 500)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func mustRequest(t *testing.T, w *world, from, to string) string {
	t.Helper()
	tr, _, err := w.s.RequestTransfer(context.Background(), w.org, from, to)
	if err != nil {
		t.Fatal(err)
	}
	return tr.ID
}

func promote(t *testing.T, w *world, id string) {
	t.Helper()
	if _, err := w.s.SetRole(context.Background(), w.org, nil, id, domain.RoleOwner); err != nil {
		t.Fatal(err)
	}
}

// TestLostDebitAnswer: DynamoDB applied the debit but its answer was
// lost, so the store retries. The retry finds the usage record it wrote
// itself: that is the original debit, not a duplicate delivery, and it is
// answered as such, debited once.
func TestLostDebitAnswer(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dynamotest.Backend) {
		ctx := context.Background()
		w := newWorld(t, b)
		ic := &interceptor{op: "TransactWriteItems", contains: []string{"lost-1"}, lose: true}
		s := intercepted(w, b, ic)
		ev := domain.UsageEvent{ID: "lost-1", Amount: 2 * credit}
		r, err := s.Debit(ctx, w.agents["research-bot"], ev)
		if err != nil || !ic.fired {
			t.Fatalf("debit: %v (fired %v)", err, ic.fired)
		}
		if r.Duplicate || r.Balance != 98*credit || r.Group == nil || r.Group.Spent != 2*credit {
			t.Fatalf("first delivery answered %+v", r)
		}
		// A real second delivery is a duplicate.
		r, err = w.s.Debit(ctx, w.agents["research-bot"], ev)
		if err != nil || !r.Duplicate || w.pool(t).Balance != 98*credit {
			t.Fatalf("second delivery: %+v %v", r, err)
		}
	})
}

// TestStoredExpiry: the transfer a request returns carries the
// expiry that is stored and decides everything (millisecond precision), so
// a caller comparing it with the clock agrees with the store.
func TestStoredExpiry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dynamotest.Backend) {
		ctx := context.Background()
		w := newWorld(t, b)
		w.clock.Advance(123456789 * time.Nanosecond)
		tr, _, err := w.s.RequestTransfer(ctx, w.org, "dina", "sari")
		if err != nil {
			t.Fatal(err)
		}
		stored, err := w.s.GetTransfer(ctx, w.org, tr.ID)
		if err != nil {
			t.Fatal(err)
		}
		org, _ := w.s.GetOrg(ctx, w.org)
		if !tr.ExpiresAt.Equal(stored.ExpiresAt) || !org.PendingExpiresAt.Equal(stored.ExpiresAt) {
			t.Fatalf("returned expiry %v, stored %v, lock %v", tr.ExpiresAt, stored.ExpiresAt, org.PendingExpiresAt)
		}
		// Every path agrees on the instant it expires.
		w.clock.Advance(stored.ExpiresAt.Sub(w.clock.Now()) - time.Nanosecond)
		if p, _ := w.s.PendingTransfer(ctx, w.org); p == nil || tr.Closed(w.clock.Now()) {
			t.Fatal("expired a nanosecond early")
		}
		w.clock.Advance(time.Nanosecond)
		if p, _ := w.s.PendingTransfer(ctx, w.org); p != nil || !tr.Closed(w.clock.Now()) {
			t.Fatal("still pending at its expiry")
		}
		if _, err := w.s.AcceptTransfer(ctx, w.org, tr.ID, "sari"); !errors.Is(err, domain.ErrTransferExpired) {
			t.Fatalf("accept at expiry: %v", err)
		}
		checkInvariants(t, w.s, w.org)
	})
}

// TestPeriodBoundaries: the month and the day of a debit are UTC,
// whatever the clock's location, and a new month starts the group's spend
// from zero while the old month keeps its own.
func TestPeriodBoundaries(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dynamotest.Backend) {
		ctx := context.Background()
		w := newWorld(t, b)
		tokyo := time.FixedZone("JST", 9*3600)
		// 2026-11-30 23:59:59.999999999 UTC, as Tokyo sees it (already December there).
		w.clock.Set(time.Date(2026, 12, 1, 8, 59, 59, 999999999, tokyo))
		bot := w.agents["support-bot"]
		r, err := w.s.Debit(ctx, bot, domain.UsageEvent{ID: "nov-last", Amount: 20 * credit})
		if err != nil || r.Usage.Period != "2026-11" {
			t.Fatalf("last instant of November: %+v %v", r.Usage, err)
		}
		if _, err := w.s.Debit(ctx, bot, domain.UsageEvent{ID: "nov-over", Amount: 1}); !errors.Is(err, domain.ErrGroupCapReached) {
			t.Fatalf("over November's cap: %v", err)
		}
		w.clock.Advance(time.Nanosecond)
		r, err = w.s.Debit(ctx, bot, domain.UsageEvent{ID: "dec-first", Amount: 5 * credit})
		if err != nil || r.Usage.Period != "2026-12" || r.Group.Spent != 5*credit || r.Group.Remaining != 15*credit {
			t.Fatalf("first instant of December: %+v %+v %v", r.Usage, r.Group, err)
		}
		nov, _ := w.s.GroupStatuses(ctx, w.org, "2026-11")
		dec, _ := w.s.GroupStatuses(ctx, w.org, "2026-12")
		spent := func(gs []domain.GroupStatus, id string) domain.Micros {
			for _, g := range gs {
				if g.Group.ID == id {
					return g.Spent
				}
			}
			return -1
		}
		if spent(nov, "support") != 20*credit || spent(dec, "support") != 5*credit {
			t.Fatalf("spend: November %d, December %d", spent(nov, "support"), spent(dec, "support"))
		}
		days, err := w.s.DailyUsage(ctx, w.org, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(days) != 2 || days[0].Day != "2026-11-30" || days[0].Amount != 20*credit || days[0].Count != 1 ||
			days[1].Day != "2026-12-01" || days[1].Amount != 5*credit || days[1].Count != 1 {
			t.Fatalf("daily usage %+v", days)
		}
	})
}

// TestInvariantsUnderMixedConcurrency throws every kind of Billing
// operation at one organization at once, for several rounds (requests,
// answers, cancels, role edits, leaves and removals, debits and grants),
// then checks every invariant.
func TestInvariantsUnderMixedConcurrency(t *testing.T) {
	b := dynamotest.LocalOnly(t)
	w := newWorld(t, b, dynamo.WithClock(time.Now))
	ctx := context.Background()
	ids := []string{"dina", "sari", "ravi", "omar"}
	for i := range 8 {
		id := fmt.Sprintf("m%d", i)
		role := []domain.Role{domain.RoleOwner, domain.RoleAdmin, domain.RoleMember, domain.RoleBuilder}[i%4]
		if _, _, err := w.s.AddMember(ctx, domain.Member{OrgID: w.org, ID: id, Name: "Member " + id, SlackUserID: "U" + strings.ToUpper(id), Role: role}, nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	promote(t, w, "sari")
	pick := func() string { return ids[rand.IntN(len(ids))] }
	expected := func(err error) bool {
		var r *domain.Refusal
		return err == nil || errors.As(err, &r) || errors.Is(err, domain.ErrUnavailable) ||
			errors.Is(err, domain.ErrInsufficientCredit) || errors.Is(err, domain.ErrGroupCapReached)
	}
	for round := range 6 {
		org, err := w.s.GetOrg(ctx, w.org)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		run := func(name string, f func() error) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := f(); !expected(err) {
					t.Errorf("round %d %s: %v", round, name, err)
				}
			}()
		}
		holder := org.BillingHolderID
		for range 6 {
			to := pick()
			run("request", func() error { _, _, err := w.s.RequestTransfer(ctx, w.org, holder, to); return err })
		}
		if p, _ := w.s.PendingTransfer(ctx, w.org); p != nil {
			for range 2 {
				run("accept", func() error { _, err := w.s.AcceptTransfer(ctx, w.org, p.ID, p.RecipientID); return err })
				run("decline", func() error { _, err := w.s.DeclineTransfer(ctx, w.org, p.ID, p.RecipientID); return err })
			}
			run("cancel", func() error { _, err := w.s.CancelTransfer(ctx, w.org, p.ID, p.InitiatorID); return err })
			run("recipient leaves", func() error { return w.s.Leave(ctx, w.org, p.RecipientID) })
		}
		for range 6 {
			who, to := pick(), domain.Roles[rand.IntN(len(domain.Roles))]
			run("role", func() error { _, err := w.s.SetRole(ctx, w.org, nil, who, to); return err })
		}
		for range 2 {
			who := pick()
			run("leave", func() error { return w.s.Leave(ctx, w.org, who) })
			gone := pick()
			run("remove", func() error { return w.s.RemoveMember(ctx, w.org, nil, gone) })
		}
		for i := range 10 {
			id := fmt.Sprintf("r%d-%d", round, i)
			a := w.agents[[]string{"research-bot", "support-bot", "free-bot"}[i%3]]
			run("debit", func() error { _, err := w.s.Debit(ctx, a, domain.UsageEvent{ID: id, Amount: 3 * credit}); return err })
			run("debit again", func() error { _, err := w.s.Debit(ctx, a, domain.UsageEvent{ID: id, Amount: 3 * credit}); return err })
		}
		run("grant", func() error {
			_, _, _, err := w.s.Grant(ctx, domain.Grant{OrgID: w.org, ID: fmt.Sprintf("g-r%d", round), Amount: 5 * credit}, nil)
			return err
		})
		wg.Wait()
		checkInvariants(t, w.s, w.org)
		if t.Failed() {
			t.Fatalf("round %d broke an invariant", round)
		}
	}
}

// TestInvariantCheckerCatchesCorruption: the checker the scenarios
// rely on fails for each broken invariant, written behind the store's back.
func TestInvariantCheckerCatchesCorruption(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dynamotest.Backend) {
		ctx := context.Background()
		cases := []struct {
			name, sk, expr string
			vals           map[string]types.AttributeValue
			want           string
		}{
			{"holder not a member", "ORG", "SET billing_holder = :v", map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: "ghost"}}, "Billing holder"},
			{"holder left", "MEMBER#dina", "SET #s = :v", map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: "left"}}, "Billing holder"},
			{"owner count", "ORG", "SET owner_count = :v", map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: "2"}}, "owner_count"},
			{"lock names nothing", "ORG", "SET pending_transfer_id = :v", map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: "tr_ghost"}}, "the lock names"},
			{"negative balance", "POOL", "SET balance_micros = :v", map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: "-1"}}, "balance"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				w := newWorld(t, b)
				if vs, err := invariantViolations(ctx, w.s, w.org); err != nil || len(vs) != 0 {
					t.Fatalf("fresh world: %v %v", vs, err)
				}
				in := &dynamodb.UpdateItemInput{
					TableName:                 aws.String(w.s.Table()),
					Key:                       map[string]types.AttributeValue{dynamo.PartitionKey: &types.AttributeValueMemberS{Value: "ORG#acme"}, dynamo.SortKey: &types.AttributeValueMemberS{Value: c.sk}},
					UpdateExpression:          aws.String(c.expr),
					ExpressionAttributeValues: c.vals,
				}
				if strings.Contains(c.expr, "#s") {
					in.ExpressionAttributeNames = map[string]string{"#s": "status"}
				}
				if _, err := b.Client.UpdateItem(ctx, in); err != nil {
					t.Fatal(err)
				}
				vs, err := invariantViolations(ctx, w.s, w.org)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.ContainsFunc(vs, func(v string) bool { return strings.Contains(v, c.want) }) {
					t.Fatalf("violations %q, want one about %q", vs, c.want)
				}
			})
		}
		// A transfer pending behind the lock's back.
		w := newWorld(t, b)
		mustRequest(t, w, "dina", "sari")
		if _, err := b.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                 aws.String(w.s.Table()),
			Key:                       map[string]types.AttributeValue{dynamo.PartitionKey: &types.AttributeValueMemberS{Value: "ORG#acme"}, dynamo.SortKey: &types.AttributeValueMemberS{Value: "ORG"}},
			UpdateExpression:          aws.String("SET pending_transfer_id = :v"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberS{Value: ""}},
		}); err != nil {
			t.Fatal(err)
		}
		if vs, _ := invariantViolations(ctx, w.s, w.org); !slices.ContainsFunc(vs, func(v string) bool { return strings.Contains(v, "lock is free") }) {
			t.Fatalf("violations %q", vs)
		}
	})
}

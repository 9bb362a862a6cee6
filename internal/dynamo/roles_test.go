package dynamo_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamotest"
)

func TestTransferContract(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dynamotest.Backend) {
		ctx := context.Background()

		t.Run("worked example", func(t *testing.T) {
			w := newWorld(t, b)
			eligible, err := w.s.EligibleRecipients(ctx, w.org, "dina")
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, m := range eligible {
				ids = append(ids, m.ID)
			}
			if !slices.Equal(ids, []string{"omar", "ravi", "sari"}) {
				t.Fatalf("eligible = %v", ids)
			}
			tr, _, err := w.s.RequestTransfer(ctx, w.org, "dina", "sari")
			if err != nil {
				t.Fatal(err)
			}
			p, err := w.s.PendingTransfer(ctx, w.org)
			if err != nil || p == nil || p.ID != tr.ID {
				t.Fatalf("pending = %+v %v", p, err)
			}
			done, err := w.s.AcceptTransfer(ctx, w.org, tr.ID, "sari")
			if err != nil {
				t.Fatal(err)
			}
			if done.Status != domain.TransferAccepted || w.holder(t) != "sari" {
				t.Fatalf("after accept: %+v holder=%s", done, w.holder(t))
			}
			if w.member(t, "dina").Role != domain.RoleOwner || w.member(t, "sari").Role != domain.RoleMember {
				t.Fatal("everyday roles changed")
			}
			acts := w.auditActions(t)
			if acts[0] != domain.ActionTransferAccepted || acts[1] != domain.ActionTransferRequested {
				t.Fatalf("audit newest first = %v", acts[:2])
			}
			if p, _ := w.s.PendingTransfer(ctx, w.org); p != nil {
				t.Fatalf("still pending: %+v", p)
			}
			// Idempotent: a second accept and a late decline change nothing.
			if _, err := w.s.AcceptTransfer(ctx, w.org, tr.ID, "sari"); !errors.Is(err, domain.ErrTransferClosed) {
				t.Fatalf("second accept: %v", err)
			}
			var r *domain.Refusal
			if _, err := w.s.DeclineTransfer(ctx, w.org, tr.ID, "sari"); !errors.As(err, &r) || r.Transfer == nil || r.Transfer.Status != domain.TransferAccepted {
				t.Fatalf("decline after accept: %v", err)
			}
			if w.holder(t) != "sari" || len(w.auditActions(t)) != len(acts) {
				t.Fatal("late answers changed something")
			}
		})

		t.Run("refusals", func(t *testing.T) {
			w := newWorld(t, b)
			cases := []struct {
				name      string
				actor, to string
				rule      domain.Rule
			}{
				{"non-owner non-holder", "sari", "ravi", domain.RuleNotBillingHolder},
				{"admin", "omar", "ravi", domain.RuleNotBillingHolder},
				{"to self", "dina", "dina", domain.RuleIneligibleRecipient},
				{"not a member", "dina", "nobody", domain.RuleIneligibleRecipient},
			}
			for _, c := range cases {
				_, _, err := w.s.RequestTransfer(ctx, w.org, c.actor, c.to)
				var r *domain.Refusal
				if !errors.As(err, &r) || r.Rule != c.rule || r.Message == "" {
					t.Errorf("%s: err = %v, want rule %s", c.name, err, c.rule)
				}
			}
			// An Owner who does not hold Billing.
			if _, err := w.s.SetRole(ctx, w.org, nil, "omar", domain.RoleOwner); err != nil {
				t.Fatal(err)
			}
			if _, _, err := w.s.RequestTransfer(ctx, w.org, "omar", "ravi"); !errors.Is(err, domain.ErrNotBillingHolder) {
				t.Errorf("owner non-holder: %v", err)
			}
			// A holder who is not an Owner (after a transfer to a Member).
			tr, _, err := w.s.RequestTransfer(ctx, w.org, "dina", "sari")
			if err != nil {
				t.Fatal(err)
			}
			// Second pending, naming the first.
			_, _, err = w.s.RequestTransfer(ctx, w.org, "dina", "ravi")
			var r *domain.Refusal
			if !errors.As(err, &r) || r.Rule != domain.RuleTransferPending || r.Transfer == nil || r.Transfer.ID != tr.ID || r.Transfer.RecipientID != "sari" {
				t.Fatalf("second pending: %v", err)
			}
			for _, who := range []string{"dina", "ravi", "omar", "ghost"} {
				if _, err := w.s.AcceptTransfer(ctx, w.org, tr.ID, who); !errors.Is(err, domain.ErrNotRecipient) {
					t.Errorf("accept by %s: %v", who, err)
				}
				if _, err := w.s.DeclineTransfer(ctx, w.org, tr.ID, who); !errors.Is(err, domain.ErrNotRecipient) {
					t.Errorf("decline by %s: %v", who, err)
				}
			}
			for _, who := range []string{"sari", "ravi", "omar"} {
				if _, err := w.s.CancelTransfer(ctx, w.org, tr.ID, who); !errors.Is(err, domain.ErrNotInitiator) {
					t.Errorf("cancel by %s: %v", who, err)
				}
			}
			if _, err := w.s.AcceptTransfer(ctx, w.org, tr.ID, "sari"); err != nil {
				t.Fatal(err)
			}
			if _, _, err := w.s.RequestTransfer(ctx, w.org, "sari", "dina"); !errors.Is(err, domain.ErrNotOwner) {
				t.Errorf("holder who is a Member: %v", err)
			}
			// Recipient is the holder.
			if _, err := w.s.SetRole(ctx, w.org, nil, "sari", domain.RoleOwner); err != nil {
				t.Fatal(err)
			}
			if _, _, err := w.s.RequestTransfer(ctx, w.org, "sari", "sari"); !errors.Is(err, domain.ErrIneligibleRecipient) {
				t.Errorf("to the holder: %v", err)
			}
			// Recipient who left.
			if err := w.s.Leave(ctx, w.org, "ravi"); err != nil {
				t.Fatal(err)
			}
			if _, _, err := w.s.RequestTransfer(ctx, w.org, "sari", "ravi"); !errors.Is(err, domain.ErrIneligibleRecipient) {
				t.Errorf("to a member who left: %v", err)
			}
		})

		t.Run("decline and cancel", func(t *testing.T) {
			w := newWorld(t, b)
			tr, _, err := w.s.RequestTransfer(ctx, w.org, "dina", "sari")
			if err != nil {
				t.Fatal(err)
			}
			if got, err := w.s.DeclineTransfer(ctx, w.org, tr.ID, "sari"); err != nil || got.Status != domain.TransferDeclined {
				t.Fatalf("decline: %+v %v", got, err)
			}
			if _, err := w.s.AcceptTransfer(ctx, w.org, tr.ID, "sari"); !errors.Is(err, domain.ErrTransferClosed) {
				t.Fatalf("accept after decline: %v", err)
			}
			tr2, _, err := w.s.RequestTransfer(ctx, w.org, "dina", "ravi")
			if err != nil {
				t.Fatalf("request after decline: %v", err)
			}
			if got, err := w.s.CancelTransfer(ctx, w.org, tr2.ID, "dina"); err != nil || got.Status != domain.TransferCancelled {
				t.Fatalf("cancel: %+v %v", got, err)
			}
			if _, err := w.s.AcceptTransfer(ctx, w.org, tr2.ID, "ravi"); !errors.Is(err, domain.ErrTransferClosed) {
				t.Fatalf("accept after cancel: %v", err)
			}
			if w.holder(t) != "dina" {
				t.Fatal("holder moved")
			}
		})

		t.Run("expiry without a sweeper", func(t *testing.T) {
			w := newWorld(t, b)
			tr, _, err := w.s.RequestTransfer(ctx, w.org, "dina", "sari")
			if err != nil {
				t.Fatal(err)
			}
			w.clock.Advance(domain.DefaultTransferTTL + time.Second)
			if p, _ := w.s.PendingTransfer(ctx, w.org); p != nil {
				t.Fatalf("expired transfer reported pending")
			}
			if _, err := w.s.AcceptTransfer(ctx, w.org, tr.ID, "sari"); !errors.Is(err, domain.ErrTransferExpired) {
				t.Fatalf("accept after expiry: %v", err)
			}
			if w.holder(t) != "dina" {
				t.Fatal("holder moved after expiry")
			}
			if _, _, err := w.s.RequestTransfer(ctx, w.org, "dina", "ravi"); err != nil {
				t.Fatalf("new request after expiry: %v", err)
			}
		})

		t.Run("expiry replaced by a new request", func(t *testing.T) {
			w := newWorld(t, b)
			tr, _, err := w.s.RequestTransfer(ctx, w.org, "dina", "sari")
			if err != nil {
				t.Fatal(err)
			}
			w.clock.Advance(domain.DefaultTransferTTL)
			tr2, _, err := w.s.RequestTransfer(ctx, w.org, "dina", "ravi")
			if err != nil {
				t.Fatalf("request after expiry: %v", err)
			}
			old, _ := w.s.GetTransfer(ctx, w.org, tr.ID)
			if old.Status != domain.TransferExpired {
				t.Fatalf("replaced transfer status = %s", old.Status)
			}
			if _, err := w.s.AcceptTransfer(ctx, w.org, tr2.ID, "ravi"); err != nil {
				t.Fatal(err)
			}
			if w.holder(t) != "ravi" {
				t.Fatal("holder did not move")
			}
		})

		t.Run("sweeper", func(t *testing.T) {
			w := newWorld(t, b)
			tr, _, err := w.s.RequestTransfer(ctx, w.org, "dina", "sari")
			if err != nil {
				t.Fatal(err)
			}
			if got, err := w.s.ExpireDueTransfers(ctx); err != nil || len(got) != 0 {
				t.Fatalf("nothing due: %v %v", got, err)
			}
			w.clock.Advance(domain.DefaultTransferTTL + time.Minute)
			var got []domain.Transfer
			// GSI reads are eventually consistent on AWS; poll briefly.
			for i := 0; i < 20 && len(got) == 0; i++ {
				got, err = w.s.ExpireDueTransfers(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) == 0 {
					time.Sleep(50 * time.Millisecond)
				}
			}
			if len(got) != 1 || got[0].ID != tr.ID || got[0].Status != domain.TransferExpired {
				t.Fatalf("expired = %+v", got)
			}
			if again, _ := w.s.ExpireDueTransfers(ctx); len(again) != 0 {
				t.Fatalf("expired twice: %+v", again)
			}
			if w.auditActions(t)[0] != domain.ActionTransferExpired {
				t.Fatal("no expiry audit entry")
			}
		})

		t.Run("invalidated at accept time", func(t *testing.T) {
			w := newWorld(t, b)
			if _, err := w.s.SetRole(ctx, w.org, nil, "omar", domain.RoleOwner); err != nil {
				t.Fatal(err)
			}
			tr, _, err := w.s.RequestTransfer(ctx, w.org, "dina", "sari")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.s.SetRole(ctx, w.org, nil, "dina", domain.RoleAdmin); err != nil {
				t.Fatal(err)
			}
			if _, err := w.s.AcceptTransfer(ctx, w.org, tr.ID, "sari"); !errors.Is(err, domain.ErrTransferInvalidated) {
				t.Fatalf("accept from a demoted initiator: %v", err)
			}
			if w.holder(t) != "dina" {
				t.Fatal("holder moved")
			}
			got, _ := w.s.GetTransfer(ctx, w.org, tr.ID)
			if got.Status != domain.TransferInvalidated || got.Reason == "" {
				t.Fatalf("transfer = %+v", got)
			}
		})

		t.Run("leaving", func(t *testing.T) {
			w := newWorld(t, b)
			var r *domain.Refusal
			if err := w.s.Leave(ctx, w.org, "dina"); !errors.As(err, &r) || r.Rule != domain.RuleHolderCannotLeave {
				t.Fatalf("holder leaves: %v", err)
			}
			if err := w.s.RemoveMember(ctx, w.org, nil, "dina"); !errors.Is(err, domain.ErrHolderCannotLeave) {
				t.Fatalf("holder removed: %v", err)
			}
			// The recipient leaving invalidates the pending transfer.
			tr, _, err := w.s.RequestTransfer(ctx, w.org, "dina", "sari")
			if err != nil {
				t.Fatal(err)
			}
			if err := w.s.Leave(ctx, w.org, "sari"); err != nil {
				t.Fatal(err)
			}
			got, _ := w.s.GetTransfer(ctx, w.org, tr.ID)
			if got.Status != domain.TransferInvalidated {
				t.Fatalf("transfer after recipient left: %s", got.Status)
			}
			if p, _ := w.s.PendingTransfer(ctx, w.org); p != nil {
				t.Fatal("lock not released")
			}
			if _, _, err := w.s.RequestTransfer(ctx, w.org, "dina", "ravi"); err != nil {
				t.Fatalf("request after invalidation: %v", err)
			}
			// A non-Owner holder is told an Owner must promote them first.
			w2 := newWorld(t, b)
			tr2, _, _ := w2.s.RequestTransfer(ctx, w2.org, "dina", "sari")
			if _, err := w2.s.AcceptTransfer(ctx, w2.org, tr2.ID, "sari"); err != nil {
				t.Fatal(err)
			}
			if err := w2.s.Leave(ctx, w2.org, "sari"); !errors.As(err, &r) || r.Rule != domain.RuleHolderCannotLeave || !contains(r.Message, "make them an Owner") {
				t.Fatalf("non-owner holder leaves: %v", err)
			}
		})
	})
}

// TestOneMemberPerSlackUser: one Slack identity is one member of an
// organization, so nobody can act as two (say, answer a transfer meant for
// the other); after leaving, the Slack user can join again.
func TestOneMemberPerSlackUser(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dynamotest.Backend) {
		ctx := context.Background()
		w := newWorld(t, b)
		twin := domain.Member{OrgID: w.org, ID: "sari2", Name: "Sari again", SlackUserID: "USARI", Role: domain.RoleAdmin}
		if _, _, err := w.s.AddMember(ctx, twin, nil); !errors.Is(err, domain.ErrAlreadyExists) || !contains(err.Error(), `"sari"`) {
			t.Fatalf("second member for a Slack user: %v", err)
		}
		owner := domain.Member{OrgID: w.org, ID: "dina2", Name: "Dina", SlackUserID: "UDINA", Role: domain.RoleMember}
		if _, _, err := w.s.AddMember(ctx, owner, nil); !errors.Is(err, domain.ErrAlreadyExists) {
			t.Fatalf("second member for the founding Owner's Slack user: %v", err)
		}
		// Re-adding the same member is still idempotent.
		if _, created, err := w.s.AddMember(ctx, domain.Member{OrgID: w.org, ID: "sari", Name: "Sari", SlackUserID: "USARI", Role: domain.RoleMember}, nil); err != nil || created {
			t.Fatalf("same member again: created=%v %v", created, err)
		}
		if err := w.s.Leave(ctx, w.org, "sari"); err != nil {
			t.Fatal(err)
		}
		if _, created, err := w.s.AddMember(ctx, twin, nil); err != nil || !created {
			t.Fatalf("rejoining as a new member after leaving: created=%v %v", created, err)
		}
		ms, err := w.s.Memberships(ctx, "T1", "USARI")
		if err != nil || len(ms) != 1 || ms[0].Member.ID != "sari2" {
			t.Fatalf("memberships after rejoining = %+v, %v", ms, err)
		}
	})
}

func TestRoleContract(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dynamotest.Backend) {
		ctx := context.Background()
		w := newWorld(t, b)
		sari, omar, ravi := w.member(t, "sari"), w.member(t, "omar"), w.member(t, "ravi")
		dina := w.member(t, "dina")

		if _, err := w.s.SetRole(ctx, w.org, &dina, "sari", "billing"); !errors.Is(err, domain.ErrBillingNotARole) {
			t.Fatalf("role billing: %v", err)
		}
		if _, err := w.s.SetRole(ctx, w.org, nil, "dina", domain.RoleAdmin); !errors.Is(err, domain.ErrLastOwner) {
			t.Fatalf("demote last owner: %v", err)
		}
		if _, err := w.s.SetRole(ctx, w.org, &sari, "ravi", domain.RoleAdmin); !errors.Is(err, domain.ErrNotOwnerOrAdmin) {
			t.Fatalf("member edits: %v", err)
		}
		if _, err := w.s.SetRole(ctx, w.org, &omar, "ravi", domain.RoleOwner); !errors.Is(err, domain.ErrOnlyOwnerEditsOwner) {
			t.Fatalf("admin makes owner: %v", err)
		}
		if _, err := w.s.SetRole(ctx, w.org, &omar, "ravi", domain.RoleAdmin); err != nil {
			t.Fatalf("admin edits builder: %v", err)
		}
		if _, err := w.s.SetRole(ctx, w.org, &dina, "sari", domain.RoleOwner); err != nil {
			t.Fatal(err)
		}
		if _, err := w.s.SetRole(ctx, w.org, &ravi, "sari", domain.RoleMember); !errors.Is(err, domain.ErrOnlyOwnerEditsOwner) {
			t.Fatalf("admin unmakes owner: %v", err)
		}
		// Two Owners now: Dina can be demoted, then Sari is the last.
		if _, err := w.s.SetRole(ctx, w.org, nil, "dina", domain.RoleMember); err != nil {
			t.Fatal(err)
		}
		if err := w.s.Leave(ctx, w.org, "sari"); !errors.Is(err, domain.ErrLastOwner) {
			t.Fatalf("last owner leaves: %v", err)
		}
		if w.holder(t) != "dina" {
			t.Fatal("a role edit moved Billing")
		}
		if _, err := w.s.ReadAudit(ctx, w.org, "ravi", 10); err != nil {
			t.Fatalf("admin reads audit: %v", err)
		}
		if _, err := w.s.ReadAudit(ctx, w.org, "dina", 10); err != nil {
			t.Fatalf("holder (now a Member) reads audit: %v", err)
		}
		w2 := newWorld(t, b)
		if _, err := w2.s.ReadAudit(ctx, w2.org, "sari", 10); !errors.Is(err, domain.ErrCannotReadAudit) {
			t.Fatalf("member reads audit: %v", err)
		}
	})
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// TestMembersByID: Members reads just the members named, once each,
// leaving out ids nobody has; no ids reads nothing.
func TestMembersByID(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dynamotest.Backend) {
		ctx := context.Background()
		w := newWorld(t, b)
		ms, err := w.s.Members(ctx, w.org, []string{"sari", "dina", "", "sari", "nobody"})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range ms {
			ids = append(ids, m.ID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, []string{"dina", "sari"}) {
			t.Errorf("Members = %v, want dina and sari", ids)
		}
		if ms, err := w.s.Members(ctx, w.org, nil); err != nil || len(ms) != 0 {
			t.Errorf("Members of no ids = %v, %v", ms, err)
		}
	})
}

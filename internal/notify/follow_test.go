package notify

import (
	"context"
	"testing"
	"time"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/dynamotest"
	"github.com/orgcredit/orgcredit/internal/embedded"
)

// follow runs the notifier on the recorded stream of an embedded back end,
// as the local server does, until the test ends.
func follow(t *testing.T) (*dynamo.Store, *fakeSlack) {
	t.Helper()
	db := embedded.StartRecorded()
	t.Cleanup(db.Close)
	st := dynamo.New(db.Client(), dynamotest.NewTable(t, dynamotest.Backend{Name: dynamotest.Embedded, Client: db.Client()}))
	slack := &fakeSlack{}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go New(st, slack, WithLogger(quiet)).Follow(ctx, db.Feed(), FollowOptions{RetryDelay: 10 * time.Millisecond, ScheduleEvery: time.Hour})
	return st, slack
}

// eventually waits until ok holds, or fails.
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Locally, every change reaches the notifier as DynamoDB Streams would
// deliver it: nothing that happens between two looks is lost, as it was
// when a poller compared snapshots every 2 seconds.
func TestFollowSeesEveryChange(t *testing.T) {
	ctx := context.Background()

	t.Run("an organization created, granted and drained at once gets its alert", func(t *testing.T) {
		st, slack := follow(t)
		seed(t, st)
		if _, _, _, err := st.Grant(ctx, domain.Grant{OrgID: "acme", ID: "g1", Amount: 100 * cr}, nil); err != nil {
			t.Fatal(err)
		}
		agent, tok, _, err := st.CreateAgent(ctx, domain.Agent{OrgID: "acme", ID: "bot"}, nil)
		if err != nil || tok == "" {
			t.Fatal(err)
		}
		if _, err := st.Debit(ctx, agent, domain.UsageEvent{ID: "u1", Amount: 95 * cr}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the low-balance alert", func() bool {
			for _, a := range slack.sent() {
				if a.alert.Kind == domain.AlertLowBalance && a.alert.Balance == 5*cr && a.user == "U0LIVIA" {
					return true
				}
			}
			return false
		})
	})

	t.Run("a transfer invalidated right after its request is announced", func(t *testing.T) {
		st, slack := follow(t)
		seed(t, st)
		tr, _, err := st.RequestTransfer(ctx, "acme", "olivia", "bob")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.RemoveMember(ctx, "acme", nil, "bob"); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the announcement of the invalidated transfer", func() bool {
			for _, a := range slack.announcements() {
				if a.ID == tr.ID && a.Status == domain.TransferInvalidated {
					return true
				}
			}
			return false
		})
	})

	// Organization "x:y" with group "z" and organization "x" with group
	// "y:z" once shared an alert's once-key, so the second holder was
	// never told. Both are told.
	t.Run("ids crafted to collide each alert their own holder", func(t *testing.T) {
		st, slack := follow(t)
		for _, o := range []struct{ org, group, holder string }{{"x:y", "z", "UXY"}, {"x", "y:z", "UX"}} {
			if _, _, err := st.CreateOrg(ctx, domain.Org{ID: o.org, Name: "Org " + o.org}, domain.Member{ID: "h", Name: "Holder", SlackUserID: o.holder}); err != nil {
				t.Fatal(err)
			}
			if _, _, _, err := st.Grant(ctx, domain.Grant{OrgID: o.org, ID: "g", Amount: 100 * cr}, nil); err != nil {
				t.Fatal(err)
			}
			if _, _, err := st.CreateGroup(ctx, domain.BudgetGroup{OrgID: o.org, ID: o.group, Cap: 10 * cr}, nil); err != nil {
				t.Fatal(err)
			}
			agent, _, _, err := st.CreateAgent(ctx, domain.Agent{OrgID: o.org, ID: "bot", BudgetGroupID: o.group}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Debit(ctx, agent, domain.UsageEvent{ID: "u", Amount: 9 * cr}); err != nil {
				t.Fatal(err)
			}
		}
		eventually(t, "both holders' 80 % alerts", func() bool {
			told := map[string]bool{}
			for _, a := range slack.sent() {
				if a.alert.Kind == domain.AlertGroupSpend {
					told[a.user] = true
				}
			}
			return told["UXY"] && told["UX"]
		})
	})
}

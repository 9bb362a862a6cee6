package notify

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// errGone stands for slackapp.ErrNotInstalled (the organization's
// workspace uninstalled the app): an error that is a
// domain.ErrUndeliverable. errDown is a failure that may pass.
var (
	errGone = fmt.Errorf("orgcredit is not installed in this workspace: %w", domain.ErrUndeliverable)
	errDown = errors.New("Slack did not answer")
)

// goneSlack is a Slack surface whose every send fails with err, wrapped as
// the Slack surface wraps it.
type goneSlack struct {
	err   error
	mu    sync.Mutex
	tries int
}

func (g *goneSlack) SendAlert(_ context.Context, org domain.Org, _ domain.Member, _ domain.Alert, _ *domain.BudgetGroup) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.tries++
	return fmt.Errorf("workspace %s: %w", org.SlackTeamID, g.err)
}

func (g *goneSlack) AnnounceTransferOutcome(_ context.Context, t domain.Transfer) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.tries++
	return fmt.Errorf("workspace of %s: %w", t.OrgID, g.err)
}

// TestAlertsForAGoneWorkspaceAreNotRetried: an alert, announcement or
// expiry for an organization whose workspace uninstalled the app is
// logged and done, not retried; a send that may pass later is retried.
func TestAlertsForAGoneWorkspaceAreNotRetried(t *testing.T) {
	ctx := context.Background()
	for _, named := range []bool{true, false} {
		t.Run(fmt.Sprint("undeliverable: ", named), func(t *testing.T) {
			c := newClock()
			st := newStore(t, c)
			slack := &goneSlack{err: errDown}
			if named {
				slack.err = errGone
			}
			n := New(st, slack, WithLogger(quiet))

			resp := handleStream(t, n, sample(t, "pool-below-threshold.json"))
			if named && len(resp.BatchItemFailures) != 0 {
				t.Errorf("alert for a gone workspace: failures %v, want none (not retried)", resp.BatchItemFailures)
			}
			if !named && len(resp.BatchItemFailures) == 0 {
				t.Error("a failed send was not retried")
			}
			// A redelivery of the record tries nothing more once it was
			// found undeliverable: the claim stays.
			before := slack.tries
			handleStream(t, n, sample(t, "pool-below-threshold.json"))
			if named && slack.tries != before {
				t.Errorf("the redelivered record tried Slack again (%d tries, then %d)", before, slack.tries)
			}

			// A transfer closed without an answer, and an expiry.
			tr, _, err := st.RequestTransfer(ctx, "acme", "olivia", "bob")
			if err != nil {
				t.Fatal(err)
			}
			img := func(s domain.TransferStatus) map[string]events.DynamoDBAttributeValue {
				return map[string]events.DynamoDBAttributeValue{
					"type": events.NewStringAttribute("transfer"), "org_id": events.NewStringAttribute("acme"),
					"id": events.NewStringAttribute(tr.ID), "status": events.NewStringAttribute(string(s)),
				}
			}
			rec := events.DynamoDBEventRecord{EventID: "e1", EventName: "MODIFY", EventSource: "aws:dynamodb",
				Change: events.DynamoDBStreamRecord{OldImage: img(domain.TransferPending), NewImage: img(domain.TransferInvalidated), SequenceNumber: "7"}}
			if resp := n.HandleStream(ctx, events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{rec}}); named != (len(resp.BatchItemFailures) == 0) {
				t.Errorf("announcement for a gone workspace: failures %v", resp.BatchItemFailures)
			}
			c.Advance(domain.DefaultTransferTTL + time.Minute)
			res, err := n.HandleSchedule(ctx)
			if res.Expired != 1 || res.Announced != 0 {
				t.Errorf("schedule = %+v, want 1 expired, 0 announced", res)
			}
			if named != (err == nil) {
				t.Errorf("schedule error = %v (undeliverable: %v)", err, named)
			}
		})
	}
}

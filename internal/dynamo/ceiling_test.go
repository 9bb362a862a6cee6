package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamotest"
)

// Enough grants, each within MaxGrantMicros, once pushed the pool past
// int64; afterwards every read of the organization failed. Every running
// total now has a ceiling, enforced by the write that raises it.
func TestGrantsStopAtTheCeiling(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dynamotest.Backend) {
		ctx := context.Background()
		w := newWorld(t, b)
		granted := w.pool(t).Granted
		n := 0
		var refused error
		for i := 0; ; i++ {
			_, _, _, err := w.s.Grant(ctx, domain.Grant{OrgID: w.org, ID: fmt.Sprintf("big-%d", i), Amount: domain.MaxGrantMicros}, nil)
			if err != nil {
				refused = err
				break
			}
			n++
			if n > int(domain.MaxRunningTotalMicros/domain.MaxGrantMicros)+1 {
				t.Fatalf("%d grants of the largest amount were all accepted: the total is past the ceiling", n)
			}
		}
		if !errors.Is(refused, domain.ErrCeilingReached) {
			t.Fatalf("the grant past the ceiling: err = %v, want the ceiling refusal", refused)
		}
		want := granted + domain.Micros(n)*domain.MaxGrantMicros
		if want > domain.MaxRunningTotalMicros || want+domain.MaxGrantMicros <= domain.MaxRunningTotalMicros {
			t.Fatalf("granted %d after %d grants: the ceiling %d should refuse exactly the grant that passes it", want, n, domain.MaxRunningTotalMicros)
		}
		before := w.pool(t)
		audit := len(w.auditActions(t))
		if before.Granted != want {
			t.Fatalf("granted = %d, want %d", before.Granted, want)
		}
		// The refused grant wrote nothing: no grant record (the same id is
		// refused the same way, not found as a conflicting repeat), no
		// audit entry, the pool unchanged; and every read still works.
		id := fmt.Sprintf("big-%d", n)
		if _, _, _, err := w.s.Grant(ctx, domain.Grant{OrgID: w.org, ID: id, Amount: domain.MaxGrantMicros}, nil); !errors.Is(err, domain.ErrCeilingReached) {
			t.Fatalf("the same grant again: err = %v", err)
		}
		if got := w.pool(t); got != before {
			t.Fatalf("pool changed by a refused grant: %+v → %+v", before, got)
		}
		if got := len(w.auditActions(t)); got != audit {
			t.Fatalf("audit entries %d → %d after a refused grant", audit, got)
		}
		// A smaller grant that fits is still taken.
		room := domain.MaxRunningTotalMicros - before.Granted
		if room > 0 {
			if _, _, _, err := w.s.Grant(ctx, domain.Grant{OrgID: w.org, ID: "fits", Amount: room}, nil); err != nil {
				t.Fatalf("a grant up to the ceiling: %v", err)
			}
		}
		if _, err := w.s.Debit(ctx, w.agents["free-bot"], domain.UsageEvent{ID: "after", Amount: credit}); err != nil {
			t.Fatalf("a debit at the ceiling: %v", err)
		}
		if _, err := w.s.GetOrg(ctx, w.org); err != nil {
			t.Fatalf("read the organization: %v", err)
		}
	})
}

// A stored number that cannot be read (written by hand, or by an old
// version) is an error for that one item: the sweep over every
// organization's pending transfers carries on past it.
func TestUnreadableItemDoesNotStopTheSweep(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dynamotest.Backend) {
		ctx := context.Background()
		w := newWorld(t, b)
		tr, _, err := w.s.RequestTransfer(ctx, w.org, "dina", "sari")
		if err != nil {
			t.Fatal(err)
		}
		// A corrupt pending transfer of another organization, due before
		// the good one: its expiry does not fit in an int64.
		_, err = b.Client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(w.s.Table()),
			Item: map[string]types.AttributeValue{
				"PK": &types.AttributeValueMemberS{Value: "ORG#broken"}, "SK": &types.AttributeValueMemberS{Value: "TRANSFER#tr_x"},
				"type": &types.AttributeValueMemberS{Value: "transfer"}, "org_id": &types.AttributeValueMemberS{Value: "broken"},
				"id": &types.AttributeValueMemberS{Value: "tr_x"}, "status": &types.AttributeValueMemberS{Value: "pending"},
				"expiry_ms": &types.AttributeValueMemberN{Value: "99999999999999999999999"},
				"GSI1PK":    &types.AttributeValueMemberS{Value: "PENDING"}, "GSI1SK": &types.AttributeValueMemberS{Value: "0000000000000001#broken#tr_x"},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(8 * 24 * time.Hour)
		expired, err := w.s.ExpireDueTransfers(ctx)
		if err == nil {
			t.Error("the unreadable transfer was not reported")
		}
		if len(expired) != 1 || expired[0].ID != tr.ID {
			t.Fatalf("expired %+v, want the good transfer %s despite the unreadable one", expired, tr.ID)
		}
	})
}

package dynamo_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/dynamotest"
)

// countingTransport counts the DynamoDB requests a client sends.
type countingTransport struct {
	next          http.RoundTripper
	reads, writes atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	switch r.Header.Get("X-Amz-Target") {
	case "DynamoDB_20120810.TransactWriteItems", "DynamoDB_20120810.PutItem", "DynamoDB_20120810.UpdateItem":
		c.writes.Add(1)
	default:
		c.reads.Add(1)
	}
	return c.next.RoundTrip(r)
}

// BenchmarkDebitRequests measures what one debit costs in DynamoDB
// requests and write capacity (DynamoDB Local reports consumed capacity as
// AWS computes it), for the README's cost arithmetic.
func BenchmarkDebitRequests(b *testing.B) {
	backend := dynamotest.LocalOnly(b)
	counter := &countingTransport{next: http.DefaultTransport}
	backend.Client = dynamodb.New(backend.Client.Options(), func(o *dynamodb.Options) { o.HTTPClient = &http.Client{Transport: counter} })
	table := dynamotest.NewTable(b, backend)
	s := dynamo.New(backend.Client, table)
	ctx := context.Background()
	if _, _, err := s.CreateOrg(ctx, domain.Org{ID: "bench", Name: "Bench"}, domain.Member{ID: "o", Name: "O"}); err != nil {
		b.Fatal(err)
	}
	g, _, _ := s.CreateGroup(ctx, domain.BudgetGroup{OrgID: "bench", ID: "g", Cap: domain.MaxCapMicros}, nil)
	s.Grant(ctx, domain.Grant{OrgID: "bench", ID: "grant", Amount: domain.MaxGrantMicros}, nil)
	agent, _, _, _ := s.CreateAgent(ctx, domain.Agent{OrgID: "bench", ID: "a", BudgetGroupID: "g"}, nil)
	if _, err := s.Debit(ctx, agent, domain.UsageEvent{ID: "warm", Amount: 1}); err != nil { // fills the cap cache
		b.Fatal(err)
	}

	b.Run("store", func(b *testing.B) {
		counter.reads.Store(0)
		counter.writes.Store(0)
		for i := 0; b.Loop(); i++ {
			if _, err := s.Debit(ctx, agent, domain.UsageEvent{ID: fmt.Sprintf("s-%d-%d", time.Now().UnixNano(), i), Amount: 1000}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(counter.writes.Load())/float64(b.N), "writes/op")
		b.ReportMetric(float64(counter.reads.Load())/float64(b.N), "reads/op")
	})
	b.Run("capacity", func(b *testing.B) {
		var wcu, rcu float64
		for i := 0; b.Loop(); i++ {
			tx, read := s.DebitRequests(agent, g, domain.UsageEvent{ID: fmt.Sprintf("c-%d-%d", time.Now().UnixNano(), i), Amount: 1000})
			tx.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
			read.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
			out, err := backend.Client.TransactWriteItems(ctx, tx)
			if err != nil {
				b.Fatal(err)
			}
			for _, c := range out.ConsumedCapacity {
				if i == 0 {
					b.Logf("transaction capacity: total %v write %v table %v", ptrOr(c.CapacityUnits), ptrOr(c.WriteCapacityUnits), c.Table)
				}
				wcu += ptrOr(c.CapacityUnits)
			}
			rout, err := backend.Client.BatchGetItem(ctx, read)
			if err != nil {
				b.Fatal(err)
			}
			for _, c := range rout.ConsumedCapacity {
				rcu += ptrOr(c.CapacityUnits)
			}
		}
		b.ReportMetric(wcu/float64(b.N), "WCU/op")
		b.ReportMetric(rcu/float64(b.N), "RCU/op")
	})
}

func ptrOr(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

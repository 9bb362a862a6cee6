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

// BenchmarkBatchDebitRequests measures what a batch of 100 events costs
// in DynamoDB requests and, by AWS's transaction pricing, write capacity:
// each item of a TransactWriteItems is billed 2 WRU per KB (every item
// here is under 1 KB: max-item-bytes), condition checks included. It
// counts the transactions that went through, their items, and those that
// write the pool item (the organization's hot key).
//
//	go test -run XXX -bench BatchDebitRequests -benchtime 20x ./internal/dynamo/
func BenchmarkBatchDebitRequests(b *testing.B) {
	backend := dynamotest.LocalOnly(b)
	table := dynamotest.NewTable(b, backend)
	rc := &recorder{next: backend.Client.Options().HTTPClient}
	client := dynamodb.New(backend.Client.Options(), func(o *dynamodb.Options) { o.HTTPClient = rc })
	s := dynamo.New(client, table)
	ctx := context.Background()
	if _, _, err := s.CreateOrg(ctx, domain.Org{ID: "bench", Name: "Bench"}, domain.Member{ID: "o", Name: "O"}); err != nil {
		b.Fatal(err)
	}
	s.CreateGroup(ctx, domain.BudgetGroup{OrgID: "bench", ID: "g", Cap: domain.MaxCapMicros}, nil)
	s.Grant(ctx, domain.Grant{OrgID: "bench", ID: "grant", Amount: domain.MaxGrantMicros}, nil)
	inGroup, _, _, _ := s.CreateAgent(ctx, domain.Agent{OrgID: "bench", ID: "a", BudgetGroupID: "g"}, nil)
	free, _, _, _ := s.CreateAgent(ctx, domain.Agent{OrgID: "bench", ID: "f"}, nil)
	if _, err := s.Debit(ctx, inGroup, domain.UsageEvent{ID: "warm", Amount: 1}); err != nil { // fills the cap cache
		b.Fatal(err)
	}
	batch := func(prefix string, i int) []domain.UsageEvent {
		run := time.Now().UnixNano() // new ids however often this runs
		evs := make([]domain.UsageEvent, domain.MaxBatchEvents)
		for k := range evs {
			evs[k] = domain.UsageEvent{ID: fmt.Sprintf("%s-%d-%d-%03d", prefix, run, i, k), Amount: 1000, Kind: "conversation"}
		}
		return evs
	}
	report := func(b *testing.B, batches int) {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		items := 0
		for _, n := range rc.txItems {
			items += n
		}
		events := float64(batches * domain.MaxBatchEvents)
		b.ReportMetric(float64(rc.ops["TransactWriteItems"])/float64(batches), "transactions/batch")
		b.ReportMetric(float64(rc.ops["BatchGetItem"]+rc.ops["GetItem"]+rc.ops["TransactGetItems"]+rc.ops["Query"])/float64(batches), "reads/batch")
		b.ReportMetric(float64(rc.poolWrites)/events, "pool-writes/event")
		b.ReportMetric(2*float64(items)/events, "WRU/event")
		b.ReportMetric(float64(rc.maxItemBytes), "max-item-bytes")
	}
	for _, c := range []struct {
		name  string
		agent domain.Agent
	}{{"in-group", inGroup}, {"no-group", free}} {
		b.Run(c.name, func(b *testing.B) {
			rc.reset()
			n := 0
			for i := 0; b.Loop(); i++ {
				res, err := s.DebitBatch(ctx, c.agent, batch(c.name, i))
				if err != nil || res.Items[99].Err != nil || res.Items[99].Duplicate {
					b.Fatalf("%v %+v", err, res.Items[99])
				}
				n++
			}
			report(b, n)
		})
	}
	// A batch sent again whole (its answer was lost): every event is a
	// duplicate. The write on the assumption of new ids is refused, the
	// state is read (104 keys: two BatchGetItem), nothing is written, and
	// one more read is the answer's.
	b.Run("resent", func(b *testing.B) {
		var transactions, written, reads, n int
		for i := 0; b.Loop(); i++ {
			b.StopTimer()
			evs := batch("resent", i)
			if _, err := s.DebitBatch(ctx, inGroup, evs); err != nil {
				b.Fatal(err)
			}
			rc.reset()
			b.StartTimer()
			res, err := s.DebitBatch(ctx, inGroup, evs)
			if err != nil || !res.Items[99].Duplicate {
				b.Fatalf("%v %+v", err, res.Items[99])
			}
			rc.mu.Lock()
			transactions, written, reads, n = transactions+rc.ops["TransactWriteItems"], written+len(rc.txItems), reads+rc.ops["BatchGetItem"], n+1
			rc.mu.Unlock()
		}
		b.ReportMetric(float64(transactions)/float64(n), "transactions/batch")
		b.ReportMetric(float64(written)/float64(n), "written/batch")
		b.ReportMetric(float64(reads)/float64(n), "reads/batch")
	})
}

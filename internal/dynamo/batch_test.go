package dynamo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/dynamotest"
)

// recorder counts what a store sends to DynamoDB: requests by operation,
// and for each TransactWriteItems that went through, its items and how
// many of them write the pool item.
type recorder struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}

	mu           sync.Mutex
	ops          map[string]int
	txItems      []int // items of each transaction that went through
	poolWrites   int   // pool items in transactions that went through
	maxItemBytes int   // the largest item written, by DynamoDB's measure
}

func (rc *recorder) Do(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	op := r.Header.Get("X-Amz-Target")
	op = op[strings.LastIndexByte(op, '.')+1:]
	resp, err := rc.next.Do(r)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.ops == nil {
		rc.ops = map[string]int{}
	}
	rc.ops[op]++
	if op == "TransactWriteItems" && err == nil && resp.StatusCode == http.StatusOK {
		items, pool, size := transactionItems(body)
		rc.txItems = append(rc.txItems, items)
		rc.poolWrites += pool
		rc.maxItemBytes = max(rc.maxItemBytes, size)
	}
	return resp, err
}

// transactionItems counts the items of a TransactWriteItems request and
// those of them that write the pool item, and measures the largest item
// put, as DynamoDB sizes items: the lengths of the attribute names and
// values (strings in UTF-8 bytes, numbers about one byte per two digits
// plus one; counted here as one per digit, an overestimate).
func transactionItems(body []byte) (items, pool, maxSize int) {
	var in struct {
		TransactItems []map[string]struct {
			Key  map[string]map[string]string
			Item map[string]map[string]any
		}
	}
	if err := json.Unmarshal(body, &in); err != nil {
		panic(err)
	}
	for _, it := range in.TransactItems {
		for op, a := range it {
			sk := a.Key["SK"]["S"]
			if a.Item != nil {
				sk, _ = a.Item["SK"]["S"].(string)
				size := 0
				for name, v := range a.Item {
					size += len(name)
					for _, x := range v {
						size += len(fmt.Sprint(x))
					}
				}
				maxSize = max(maxSize, size)
			}
			if sk == "POOL" && op != "ConditionCheck" {
				pool++
			}
		}
	}
	return len(in.TransactItems), pool, maxSize
}

func (rc *recorder) reset() {
	rc.mu.Lock()
	rc.ops, rc.txItems, rc.poolWrites = nil, nil, 0
	rc.mu.Unlock()
}

func (rc *recorder) count(op string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.ops[op]
}

// recorded is a second store on w's table and clock whose requests rc
// counts.
func recorded(w *world, b dynamotest.Backend, rc *recorder) *dynamo.Store {
	rc.next = b.Client.Options().HTTPClient
	client := dynamodb.New(b.Client.Options(), func(o *dynamodb.Options) { o.HTTPClient = rc })
	return dynamo.New(client, w.s.Table(), dynamo.WithClock(w.clock.Now))
}

func usageEvents(prefix string, n int, amount domain.Micros) []domain.UsageEvent {
	out := make([]domain.UsageEvent, n)
	for i := range out {
		out[i] = domain.UsageEvent{ID: fmt.Sprintf("%s-%03d", prefix, i), Amount: amount, Kind: "conversation"}
	}
	return out
}

// summary spells a batch's answer compactly: "debit", "dup", or the
// refusal's rule ("credit" and "cap" for the money refusals).
func summary(res domain.BatchResult) string {
	out := make([]string, len(res.Items))
	for i, it := range res.Items {
		var r *domain.Refusal
		switch {
		case it.Err == nil && it.Duplicate:
			out[i] = "dup"
		case it.Err == nil:
			out[i] = "debit"
		case errors.Is(it.Err, domain.ErrInsufficientCredit):
			out[i] = "credit"
		case errors.Is(it.Err, domain.ErrGroupCapReached):
			out[i] = "cap"
		case errors.As(it.Err, &r):
			out[i] = string(r.Rule)
		default:
			out[i] = it.Err.Error()
		}
	}
	return strings.Join(out, " ")
}

func TestBatchDebit(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dynamotest.Backend) {
		ctx := context.Background()

		t.Run("a full batch is two transactions and one read", func(t *testing.T) {
			w := newWorld(t, b)
			rc := &recorder{}
			s := recorded(w, b, rc)
			bot := w.agents["research-bot"]
			if _, err := s.Debit(ctx, bot, domain.UsageEvent{ID: "warm", Amount: 1}); err != nil { // caches the cap
				t.Fatal(err)
			}
			rc.reset()
			evs := usageEvents("full", domain.MaxBatchEvents, credit/10)
			res, err := s.DebitBatch(ctx, bot, evs)
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(res); got != strings.TrimSpace(strings.Repeat("debit ", 100)) {
				t.Fatalf("answers %s", got)
			}
			if rc.count("TransactWriteItems") != 2 || len(rc.txItems) != 2 || rc.poolWrites != 2 {
				t.Errorf("%d transactions (%v items, %d pool writes), want 2 with the pool written once each", rc.count("TransactWriteItems"), rc.txItems, rc.poolWrites)
			}
			if rc.txItems[0]+rc.txItems[1] != 100+2*4 || rc.txItems[0] != 100 {
				t.Errorf("transaction items %v, want 100 + 8: 100 records and pool, day, spend, cap in each", rc.txItems)
			}
			if reads := rc.count("BatchGetItem") + rc.count("GetItem") + rc.count("Query") + rc.count("TransactGetItems"); reads != 1 {
				t.Errorf("%d reads, want 1 (the answer): %v", reads, rc.ops)
			}
			want := 100*credit - 1 - 10*credit
			if res.Balance != want || w.pool(t).Balance != want {
				t.Errorf("balance answered %d, stored %d, want %d", res.Balance, w.pool(t).Balance, want)
			}
			for i, it := range res.Items {
				if it.Usage.ID != evs[i].ID || it.Usage.Amount != evs[i].Amount || it.Usage.BudgetGroupID != "research" || it.Group == nil ||
					it.Group.Remaining != 40*credit-1 || it.Usage.Period != "2026-11" || !w.s.HasUsage(ctx, w.org, evs[i].ID) {
					t.Fatalf("item %d: %+v %+v", i, it.Usage, it.Group)
				}
			}
			days, _ := w.s.DailyUsage(ctx, w.org, 1)
			if days[0].Count != 101 || days[0].Amount != 10*credit+1 {
				t.Errorf("day total %+v, want 101 debits", days[0])
			}
		})

		t.Run("refusals leave out their events, once", func(t *testing.T) {
			w := newWorld(t, b)
			rc := &recorder{}
			s := recorded(w, b, rc)
			evs := []domain.UsageEvent{
				{ID: "a", Amount: 60 * credit}, {ID: "b", Amount: 50 * credit}, {ID: "c", Amount: 30 * credit},
				{ID: "d", Amount: 20 * credit}, {ID: "e", Amount: 10 * credit},
			}
			res, err := s.DebitBatch(ctx, w.agents["free-bot"], evs)
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(res); got != "debit credit debit credit debit" {
				t.Fatalf("answers %s", got)
			}
			var ic *domain.InsufficientCredit
			if !errors.As(res.Items[1].Err, &ic) || ic.Balance != 40*credit || ic.Requested != 50*credit {
				t.Errorf("b's refusal %#v, want the balance after a", res.Items[1].Err)
			}
			if res.Balance != 0 || w.pool(t).Balance != 0 {
				t.Errorf("balance %d", res.Balance)
			}
			// The write on the assumption of plenty is refused; then one
			// read, one write. No retry per refused event.
			if tx, reads := rc.count("TransactWriteItems"), rc.count("BatchGetItem"); tx != 2 || len(rc.txItems) != 1 || reads != 2 {
				t.Errorf("%d transactions (%d through), %d reads; want 2 (1), 2", tx, len(rc.txItems), reads)
			}
			for _, id := range []string{"b", "d"} {
				if w.s.HasUsage(ctx, w.org, id) {
					t.Errorf("refused %s is in the ledger", id)
				}
			}
			// The pool was seen short: the next batch reads first.
			rc.reset()
			res, err = s.DebitBatch(ctx, w.agents["free-bot"], []domain.UsageEvent{{ID: "f", Amount: 1}})
			if err != nil || summary(res) != "credit" || rc.count("TransactWriteItems") != 0 {
				t.Errorf("on an empty pool: %s %v, %d transactions", summary(res), err, rc.count("TransactWriteItems"))
			}
		})

		t.Run("the cap, counting the batch's own debits", func(t *testing.T) {
			w := newWorld(t, b)
			sup := w.agents["support-bot"]
			res, err := w.s.DebitBatch(ctx, sup, []domain.UsageEvent{{ID: "s1", Amount: 15 * credit}, {ID: "s2", Amount: 6 * credit}, {ID: "s3", Amount: 5 * credit}})
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(res); got != "debit cap debit" {
				t.Fatalf("answers %s", got)
			}
			var gc *domain.GroupCapReached
			if !errors.As(res.Items[1].Err, &gc) || gc.Spent != 15*credit || gc.Cap != 20*credit || gc.GroupID != "support" || gc.Period != "2026-11" {
				t.Errorf("refusal %#v", res.Items[1].Err)
			}
			if res.Items[2].Group.Remaining != 0 || res.Items[2].Group.Spent != 20*credit {
				t.Errorf("group %+v", res.Items[2].Group)
			}
			sts, _ := w.s.GroupStatuses(ctx, w.org, "2026-11")
			for _, gs := range sts {
				if gs.Group.ID == "support" && (!gs.CapReached || gs.Spent != 20*credit) {
					t.Errorf("support after the batch: %+v", gs)
				}
			}
		})

		t.Run("the cap, after spend from before the batch", func(t *testing.T) {
			w := newWorld(t, b)
			sup := w.agents["support-bot"]
			if _, err := w.s.Debit(ctx, sup, domain.UsageEvent{ID: "before", Amount: 2 * credit}); err != nil {
				t.Fatal(err)
			}
			res, err := w.s.DebitBatch(ctx, sup, []domain.UsageEvent{{ID: "p1", Amount: 6 * credit}, {ID: "p2", Amount: 15 * credit}})
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(res); got != "debit cap" {
				t.Fatalf("answers %s", got)
			}
			// The refusal states the group's real spend, as a single
			// debit's would: 2 before the batch and 6 in it.
			var gc *domain.GroupCapReached
			if !errors.As(res.Items[1].Err, &gc) || gc.Spent != 8*credit || gc.Cap != 20*credit || gc.Requested != 15*credit {
				t.Errorf("refusal %#v", res.Items[1].Err)
			}
		})

		t.Run("ids across batches and single debits", func(t *testing.T) {
			w := newWorld(t, b)
			bot := w.agents["research-bot"]
			single := domain.UsageEvent{ID: "x1", Amount: 2 * credit, Kind: "chat"}
			if _, err := w.s.Debit(ctx, bot, single); err != nil {
				t.Fatal(err)
			}
			batch := []domain.UsageEvent{
				single,                              // debited by a single POST: duplicate
				{ID: "x1", Amount: 3 * credit},      // other content: conflict
				{ID: "x2", Amount: 1 * credit},      // new
				{ID: "x2", Amount: 1 * credit},      // repeated inside the batch: duplicate of its first
				{ID: "x2", Amount: 9 * credit},      // repeated with other content: conflict
				{ID: "x3", Amount: 0},               // invalid
				{ID: "x3", Amount: 4 * credit},      // the invalid one did not take the id
				{ID: "x4", Amount: 1, Kind: "a\tb"}, // invalid kind
			}
			res, err := w.s.DebitBatch(ctx, bot, batch)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := summary(res), "dup usage_id_conflict debit dup usage_id_conflict invalid debit invalid"; got != want {
				t.Fatalf("answers %s, want %s", got, want)
			}
			if res.Items[3].Usage != res.Items[2].Usage || res.Items[0].Usage.Kind != "chat" {
				t.Errorf("duplicates answer %+v and %+v", res.Items[3].Usage, res.Items[0].Usage)
			}
			if got := w.pool(t).Balance; got != 93*credit {
				t.Fatalf("balance %d, want 93 credits: each id once", got)
			}
			// Sent again whole: the debited events answer as duplicates,
			// the refused ones as before, and nothing moves.
			again, err := w.s.DebitBatch(ctx, bot, batch)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := summary(again), "dup usage_id_conflict dup dup usage_id_conflict invalid dup invalid"; got != want {
				t.Fatalf("resent: %s, want %s", got, want)
			}
			for i := range batch {
				if res.Items[i].Err == nil && again.Items[i].Usage != res.Items[i].Usage {
					t.Errorf("resent item %d answers %+v, first %+v", i, again.Items[i].Usage, res.Items[i].Usage)
				}
			}
			// A single POST of an id a batch debited is a duplicate.
			r, err := w.s.Debit(ctx, bot, domain.UsageEvent{ID: "x3", Amount: 4 * credit})
			if err != nil || !r.Duplicate {
				t.Fatalf("single after batch: %+v %v", r, err)
			}
			if got := w.pool(t).Balance; got != 93*credit {
				t.Fatalf("balance %d after resending", got)
			}
		})

		t.Run("a lost answer is the original debit", func(t *testing.T) {
			w := newWorld(t, b)
			ic := &interceptor{op: "TransactWriteItems", contains: []string{"lost-1"}, lose: true}
			s := intercepted(w, b, ic)
			res, err := s.DebitBatch(ctx, w.agents["free-bot"], []domain.UsageEvent{{ID: "lost-1", Amount: credit}, {ID: "lost-2", Amount: credit}})
			if err != nil || !ic.fired {
				t.Fatalf("%v (fired %v)", err, ic.fired)
			}
			if got := summary(res); got != "debit debit" || w.pool(t).Balance != 98*credit {
				t.Fatalf("answers %s, balance %d", got, w.pool(t).Balance)
			}
		})

		t.Run("a stale cached cap", func(t *testing.T) {
			w := newWorld(t, b)
			sup := w.agents["support-bot"]
			if _, err := w.s.Debit(ctx, sup, domain.UsageEvent{ID: "s0", Amount: 1}); err != nil {
				t.Fatal(err) // caches the cap of 20
			}
			other := dynamo.New(b.Client, w.s.Table(), dynamo.WithClock(w.clock.Now))
			if _, err := other.SetGroupCap(ctx, w.org, "support", 30*credit, nil); err != nil {
				t.Fatal(err)
			}
			res, err := w.s.DebitBatch(ctx, sup, []domain.UsageEvent{{ID: "s1", Amount: 15 * credit}, {ID: "s2", Amount: 14 * credit}})
			if err != nil || summary(res) != "debit debit" {
				t.Fatalf("within the raised cap: %s %v", summary(res), err)
			}
			if _, err := other.SetGroupCap(ctx, w.org, "support", 29*credit, nil); err != nil {
				t.Fatal(err)
			}
			res, err = w.s.DebitBatch(ctx, sup, []domain.UsageEvent{{ID: "s3", Amount: 1}})
			if err != nil || summary(res) != "cap" {
				t.Fatalf("over the lowered cap: %s %v", summary(res), err)
			}
		})

		t.Run("revoked before the batch", func(t *testing.T) {
			w := newWorld(t, b)
			if err := w.s.RevokeAgent(ctx, w.org, "free-bot", nil); err != nil {
				t.Fatal(err)
			}
			_, err := w.s.DebitBatch(ctx, w.agents["free-bot"], usageEvents("rv", 3, credit))
			if !errors.Is(err, domain.ErrAgentRevoked) || w.pool(t).Balance != 100*credit {
				t.Fatalf("batch of a revoked agent: %v, balance %d", err, w.pool(t).Balance)
			}
		})

		t.Run("the size of a batch", func(t *testing.T) {
			w := newWorld(t, b)
			for _, n := range []int{0, domain.MaxBatchEvents + 1} {
				if _, err := w.s.DebitBatch(ctx, w.agents["free-bot"], usageEvents("n", n, 1)); !errors.Is(err, domain.ErrInvalid) {
					t.Errorf("%d events: %v", n, err)
				}
			}
		})
	})
}

// TestBatchDebitRaces runs each race deterministically: the competing
// change lands just before one of the batch's transactions.
func TestBatchDebitRaces(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b dynamotest.Backend) {
		ctx := context.Background()
		t.Run("a grant between the read and the write", func(t *testing.T) {
			w := newWorld(t, b)
			// The first write (on the assumption of plenty) is refused;
			// the second is the decided one: a, c debited, b refused. A
			// grant lands just before it, so b's refusal no longer holds:
			// the premise fails, and b is debited too.
			ic := &interceptor{op: "TransactWriteItems", contains: []string{`"g-a"`}, skip: 1, before: func() {
				if _, _, _, err := w.s.Grant(ctx, domain.Grant{OrgID: w.org, ID: "late", Amount: 50 * credit}, nil); err != nil {
					t.Error(err)
				}
			}}
			s := intercepted(w, b, ic)
			res, err := s.DebitBatch(ctx, w.agents["free-bot"], []domain.UsageEvent{{ID: "g-a", Amount: 80 * credit}, {ID: "g-b", Amount: 30 * credit}, {ID: "g-c", Amount: 10 * credit}})
			if err != nil || !ic.fired {
				t.Fatalf("%v (fired %v)", err, ic.fired)
			}
			if got := summary(res); got != "debit debit debit" || w.pool(t).Balance != 30*credit {
				t.Fatalf("answers %s, balance %d", got, w.pool(t).Balance)
			}
		})
		// Debits by others between the read and the write: those that
		// leave every decision of the batch true do not make it decide
		// again; one that makes the pool unable to pay c does.
		for _, tc := range []struct {
			other        domain.Micros
			want         string
			balance      domain.Micros
			transactions int
		}{
			{5 * credit, "debit credit debit", 5 * credit, 2},
			{15 * credit, "debit credit credit", 5 * credit, 3},
		} {
			t.Run(fmt.Sprintf("a debit of %s between the read and the write", tc.other), func(t *testing.T) {
				w := newWorld(t, b)
				ic := &interceptor{op: "TransactWriteItems", contains: []string{`"o-a"`}, skip: 1, before: func() {
					if _, err := w.s.Debit(ctx, w.agents["support-bot"], domain.UsageEvent{ID: "other", Amount: tc.other}); err != nil {
						t.Error(err)
					}
				}}
				rc := &recorder{}
				s := recorded(w, b, rc)
				ic.next, rc.next = rc.next, ic
				res, err := s.DebitBatch(ctx, w.agents["free-bot"], []domain.UsageEvent{{ID: "o-a", Amount: 80 * credit}, {ID: "o-b", Amount: 30 * credit}, {ID: "o-c", Amount: 10 * credit}})
				if err != nil || !ic.fired {
					t.Fatalf("%v (fired %v)", err, ic.fired)
				}
				if got := summary(res); got != tc.want || w.pool(t).Balance != tc.balance {
					t.Fatalf("answers %s, balance %d", got, w.pool(t).Balance)
				}
				// The write on the assumption of plenty, the decided one,
				// and one more only when the other debit broke it.
				if n := rc.count("TransactWriteItems"); n != tc.transactions {
					t.Errorf("%d transactions, want %d", n, tc.transactions)
				}
			})
		}
		t.Run("the same id debited by a single POST between the read and the write", func(t *testing.T) {
			w := newWorld(t, b)
			ic := &interceptor{op: "TransactWriteItems", contains: []string{`"p-a"`}, skip: 1, before: func() {
				if _, err := w.s.Debit(ctx, w.agents["free-bot"], domain.UsageEvent{ID: "p-c", Amount: 10 * credit}); err != nil {
					t.Error(err)
				}
			}}
			s := intercepted(w, b, ic)
			res, err := s.DebitBatch(ctx, w.agents["free-bot"], []domain.UsageEvent{{ID: "p-a", Amount: 80 * credit}, {ID: "p-b", Amount: 30 * credit}, {ID: "p-c", Amount: 10 * credit}})
			if err != nil || !ic.fired {
				t.Fatalf("%v (fired %v)", err, ic.fired)
			}
			if got := summary(res); got != "debit credit dup" || w.pool(t).Balance != 10*credit {
				t.Fatalf("answers %s, balance %d", got, w.pool(t).Balance)
			}
		})
		t.Run("revoked between two transactions of a batch", func(t *testing.T) {
			w := newWorld(t, b)
			evs := usageEvents("rv", 100, credit/100)
			ic := &interceptor{op: "TransactWriteItems", contains: []string{`"rv-099"`}, before: func() {
				if err := w.s.RevokeAgent(ctx, w.org, "free-bot", nil); err != nil {
					t.Error(err)
				}
			}}
			s := intercepted(w, b, ic)
			res, err := s.DebitBatch(ctx, w.agents["free-bot"], evs)
			if err != nil || !ic.fired {
				t.Fatalf("%v (fired %v)", err, ic.fired)
			}
			want := strings.TrimSpace(strings.Repeat("debit ", 98) + "agent_revoked agent_revoked")
			if got := summary(res); got != want || w.pool(t).Balance != 100*credit-98*credit/100 {
				t.Fatalf("answers %s, balance %d", got, w.pool(t).Balance)
			}
		})
		t.Run("moved between two transactions of a batch", func(t *testing.T) {
			w := newWorld(t, b)
			evs := usageEvents("mv", 100, credit/10)
			ic := &interceptor{op: "TransactWriteItems", contains: []string{`"mv-099"`}, before: func() {
				if _, err := w.s.SetAgentGroup(ctx, w.org, "research-bot", "support", nil); err != nil {
					t.Error(err)
				}
			}}
			s := intercepted(w, b, ic)
			res, err := s.DebitBatch(ctx, w.agents["research-bot"], evs)
			if err != nil || !ic.fired {
				t.Fatalf("%v (fired %v)", err, ic.fired)
			}
			if summary(res) != strings.TrimSpace(strings.Repeat("debit ", 100)) || res.Agent.BudgetGroupID != "support" {
				t.Fatalf("answers %s, agent %+v", summary(res), res.Agent)
			}
			if res.Items[0].Usage.BudgetGroupID != "research" || res.Items[99].Usage.BudgetGroupID != "support" ||
				res.Items[99].Group.Spent != 4*credit/10 || res.Items[0].Group.Spent != 96*credit/10 {
				t.Fatalf("groups: first %+v, last %+v", res.Items[0].Group, res.Items[99].Group)
			}
		})
	})
}

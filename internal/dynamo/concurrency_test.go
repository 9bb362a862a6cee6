package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/dynamotest"
)

// lossyTransport injects the failures a real network produces: a request
// that never reaches DynamoDB, and one whose answer is lost after DynamoDB
// applied it. The store must retry both without debiting twice.
type lossyTransport struct {
	next          http.RoundTripper
	dropRequests  float64 // fail before sending
	loseResponses float64 // send, then fail
	injected      atomic.Int64
}

func (l *lossyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	p := rand.Float64()
	if p < l.dropRequests {
		l.injected.Add(1)
		return nil, errors.New("injected: connection refused")
	}
	resp, err := l.next.RoundTrip(r)
	if err == nil && p < l.dropRequests+l.loseResponses {
		resp.Body.Close()
		l.injected.Add(1)
		return nil, errors.New("injected: connection reset after the request was sent")
	}
	return resp, err
}

// TestConservationUnderConcurrency sends hundreds of concurrent requests,
// single debits and batches mixed, from several agents and groups: each
// event is delivered two or three times, through either endpoint, in
// batches that may hold it twice, through a network that loses requests
// and answers, and a request that fails is sent again whole, as a client
// retries. Afterwards the ledger must balance: granted - balance == the
// sum of distinct accepted debits, no group over its cap, each id debited
// once, and every event answered as debited is in the ledger with its
// amount.
func TestConservationUnderConcurrency(t *testing.T) {
	b := dynamotest.LocalOnly(t)
	w := newWorld(t, b, dynamo.WithClock(time.Now))
	ctx := context.Background()
	// The debits go through the lossy network; set-up, clean-up and the
	// final audit of the ledger do not.
	lossy := &lossyTransport{next: http.DefaultTransport, dropRequests: 0.03, loseResponses: 0.05}
	debits := dynamo.New(dynamodb.New(b.Client.Options(), func(o *dynamodb.Options) { o.HTTPClient = &http.Client{Transport: lossy} }), w.s.Table())

	// About 330 credits of usage against a pool of 100 and caps of 50
	// (research) and 20 (support): the pool runs out as well as the caps.
	type event struct {
		agent domain.Agent
		ev    domain.UsageEvent
	}
	var events []event
	agents := []domain.Agent{w.agents["research-bot"], w.agents["support-bot"], w.agents["free-bot"]}
	for i := range 600 {
		a := agents[i%len(agents)]
		events = append(events, event{a, domain.UsageEvent{ID: fmt.Sprintf("ev-%03d", i), Amount: domain.Micros(rand.IntN(900_000) + 100_000), Kind: "conversation"}})
	}
	// Each event is delivered two or three times; an agent's deliveries
	// are cut, in random order, into single debits (60 %), batches
	// of 2 to 12 events, and a few of 40 to 100, which take two
	// transactions; a batch may hold an event twice.
	type request struct {
		agent  domain.Agent
		events []domain.UsageEvent
		batch  bool
	}
	var requests []request
	byAgent := map[string][]domain.UsageEvent{}
	for i, e := range events {
		copies := 2 + map[bool]int{true: 1}[i%3 == 0]
		for range copies {
			byAgent[e.agent.ID] = append(byAgent[e.agent.ID], e.ev)
		}
	}
	for _, a := range agents {
		evs := byAgent[a.ID]
		rand.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		for len(evs) > 0 {
			p := rand.IntN(100)
			if p < 60 {
				requests = append(requests, request{agent: a, events: evs[:1]})
				evs = evs[1:]
				continue
			}
			n := 2 + rand.IntN(11)
			if p >= 97 {
				n = 40 + rand.IntN(61)
			}
			n = min(len(evs), n)
			requests = append(requests, request{agent: a, events: evs[:n], batch: true})
			evs = evs[n:]
		}
	}
	rand.Shuffle(len(requests), func(i, j int) { requests[i], requests[j] = requests[j], requests[i] })

	// answers[r][k] is what request r answered for its k-th event after
	// its last try: nil (debited, or a duplicate) or the refusal.
	answers := make([][]error, len(requests))
	tries := make([]int, len(requests))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for r, req := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out := make([]error, len(req.events))
			for tries[r] = 1; ; tries[r]++ {
				var err error
				if req.batch {
					var res domain.BatchResult
					if res, err = debits.DebitBatch(ctx, req.agent, req.events); err == nil {
						for k, it := range res.Items {
							out[k] = it.Err
							if it.Err == nil && (it.Usage.ID != req.events[k].ID || it.Usage.Amount != req.events[k].Amount) {
								t.Errorf("batch answered %+v for %+v", it.Usage, req.events[k])
							}
						}
					}
				} else {
					_, err = debits.Debit(ctx, req.agent, req.events[0])
					if err == nil || !errors.Is(err, domain.ErrUnavailable) {
						out[0] = err
						err = nil
					}
				}
				if err == nil || !errors.Is(err, domain.ErrUnavailable) || tries[r] == 3 {
					for k := range out {
						if err != nil {
							out[k] = err
						}
					}
					break
				}
			}
			answers[r] = out
		}()
	}
	wg.Wait()
	retried, batches := 0, 0
	for r := range requests {
		if tries[r] > 1 {
			retried++
		}
		if requests[r].batch {
			batches++
		}
	}
	t.Logf("%d requests (%d batches, %d single debits) of %d events; %d sent again after an error; %d injected network failures",
		len(requests), batches, len(requests)-batches, len(events), retried, lossy.injected.Load())

	// The truth is the ledger: read each usage record by key.
	plain := w.s
	accepted := map[string]bool{}
	for r, req := range requests {
		for k, e := range req.events {
			err := answers[r][k]
			if err == nil {
				accepted[e.ID] = true
			}
			if err != nil && !errors.Is(err, domain.ErrInsufficientCredit) && !errors.Is(err, domain.ErrGroupCapReached) && !errors.Is(err, domain.ErrUnavailable) {
				t.Errorf("delivery of %s (batch %v): unexpected error %v", e.ID, req.batch, err)
			}
		}
	}
	var sum domain.Micros
	bySpendGroup := map[string]domain.Micros{}
	for _, e := range events {
		recorded := plain.HasUsage(ctx, w.org, e.ev.ID)
		if accepted[e.ev.ID] && !recorded {
			t.Errorf("%s was answered as debited but has no ledger entry", e.ev.ID)
		}
		if recorded {
			sum += e.ev.Amount
			bySpendGroup[e.agent.BudgetGroupID] += e.ev.Amount
		}
	}
	pool, err := plain.GetPool(ctx, w.org)
	if err != nil {
		t.Fatal(err)
	}
	if pool.Balance < 0 {
		t.Fatalf("balance went negative: %d", pool.Balance)
	}
	if got := pool.Granted - pool.Balance; got != sum {
		t.Fatalf("granted - balance = %d, sum of distinct accepted debits = %d", got, sum)
	}
	statuses, err := plain.GroupStatuses(ctx, w.org, domain.Period(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	for _, gs := range statuses {
		if gs.Spent > gs.Group.Cap {
			t.Errorf("group %s over its cap: %d > %d", gs.Group.ID, gs.Spent, gs.Group.Cap)
		}
		if gs.Spent != bySpendGroup[gs.Group.ID] {
			t.Errorf("group %s spend %d, ledger says %d", gs.Group.ID, gs.Spent, bySpendGroup[gs.Group.ID])
		}
	}
	days, err := plain.DailyUsage(ctx, w.org, 2) // the test may cross midnight
	if err != nil {
		t.Fatal(err)
	}
	if got := days[0].Amount + days[1].Amount; got != sum {
		t.Errorf("the days' totals %d, ledger says %d", got, sum)
	}
	checkInvariants(t, plain, w.org)
	t.Logf("accepted %d of %d events, %s debited, balance %s", len(accepted), len(events), sum, pool.Balance)
	if len(accepted) == 0 || len(accepted) == len(events) {
		t.Fatalf("the test should see both accepted and refused debits; accepted %d", len(accepted))
	}
}

// TestOnePendingTransferUnderConcurrency: 50 concurrent requests from the
// holder to different members give exactly one pending transfer.
func TestOnePendingTransferUnderConcurrency(t *testing.T) {
	b := dynamotest.LocalOnly(t)
	w := newWorld(t, b)
	ctx := context.Background()
	for i := range 50 {
		if _, _, err := w.s.AddMember(ctx, domain.Member{OrgID: w.org, ID: fmt.Sprintf("m%02d", i), Name: fmt.Sprintf("Member %d", i), SlackUserID: fmt.Sprintf("UM%02d", i), Role: domain.RoleMember}, nil); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	var ok, pending, other atomic.Int64
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := w.s.RequestTransfer(ctx, w.org, "dina", fmt.Sprintf("m%02d", i))
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, domain.ErrTransferPending):
				pending.Add(1)
			default:
				other.Add(1)
				t.Errorf("request: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || pending.Load() != 49 {
		t.Fatalf("ok=%d refused-as-pending=%d other=%d; want exactly one pending", ok.Load(), pending.Load(), other.Load())
	}
	p, err := w.s.PendingTransfer(ctx, w.org)
	if err != nil || p == nil {
		t.Fatalf("pending = %v, %v", p, err)
	}
}

// TestConcurrentAnswersResolveOnce: Accept, Decline and Cancel of one
// transfer racing each other (and themselves) resolve it exactly once.
func TestConcurrentAnswersResolveOnce(t *testing.T) {
	b := dynamotest.LocalOnly(t)
	w := newWorld(t, b)
	ctx := context.Background()
	for round := range 8 {
		holder := w.holder(t)
		recipient := "sari"
		if holder == "sari" {
			recipient = "dina"
		}
		// Both must be Owners so Billing can move back and forth.
		if w.member(t, recipient).Role != domain.RoleOwner {
			if _, err := w.s.SetRole(ctx, w.org, nil, recipient, domain.RoleOwner); err != nil {
				t.Fatal(err)
			}
		}
		tr, _, err := w.s.RequestTransfer(ctx, w.org, holder, recipient)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var wins atomic.Int64
		var won sync.Map
		answer := func(name string, f func() (domain.Transfer, error)) {
			defer wg.Done()
			_, err := f()
			if err == nil {
				wins.Add(1)
				won.Store(name, true)
			} else if !errors.Is(err, domain.ErrTransferClosed) {
				t.Errorf("round %d %s: %v", round, name, err)
			}
		}
		for range 3 {
			wg.Add(3)
			go answer("accept", func() (domain.Transfer, error) { return w.s.AcceptTransfer(ctx, w.org, tr.ID, recipient) })
			go answer("decline", func() (domain.Transfer, error) { return w.s.DeclineTransfer(ctx, w.org, tr.ID, recipient) })
			go answer("cancel", func() (domain.Transfer, error) { return w.s.CancelTransfer(ctx, w.org, tr.ID, holder) })
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("round %d: %d answers won, want exactly 1", round, wins.Load())
		}
		final, _ := w.s.GetTransfer(ctx, w.org, tr.ID)
		wantHolder := holder
		if _, ok := won.Load("accept"); ok {
			wantHolder = recipient
			if final.Status != domain.TransferAccepted {
				t.Fatalf("accept won but status is %s", final.Status)
			}
		}
		if got := w.holder(t); got != wantHolder {
			t.Fatalf("round %d: holder %s, want %s (final %s)", round, got, wantHolder, final.Status)
		}
		if p, _ := w.s.PendingTransfer(ctx, w.org); p != nil {
			t.Fatalf("round %d: lock not released", round)
		}
	}
}

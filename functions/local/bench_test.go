package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/dynamotest"
	"github.com/orgcredit/orgcredit/internal/metrics"
)

// BenchmarkDebitEndToEndVsBare measures one debit through the local HTTP
// server (HTTP, the API Gateway event, the token cache, strict JSON, the
// store) against the same DynamoDB requests issued bare (its
// TransactWriteItems and the balance read), both on the same DynamoDB
// Local. The two alternate within every iteration, so that the machine's
// noise falls on both alike; the ratio is the overhead of everything above
// DynamoDB. Target: at most 1.3.
//
//	eval "$(.ci/dynamodb-local.sh start)"; export DYNAMODB_LOCAL_ENDPOINT
//	go test -run XXX -bench DebitEndToEnd -benchtime 400x ./functions/local/
func BenchmarkDebitEndToEndVsBare(b *testing.B) {
	store, demo, srv := benchServer(b)
	ctx := context.Background()
	token := demo.Agents[0].Token
	agent, err := store.AgentByToken(ctx, token)
	if err != nil {
		b.Fatal(err)
	}
	group, err := store.GetGroup(ctx, demoOrgID, agent.BudgetGroupID)
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	viaHTTP := func(id string) {
		req, _ := http.NewRequest("POST", srv.URL+"/v1/usage", strings.NewReader(`{"id":"`+id+`","amount_micros":1000,"kind":"conversation"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("debit over HTTP: %d %s", resp.StatusCode, body)
		}
	}
	bare := func(id string) {
		tx, read := store.DebitRequests(agent, group, domain.UsageEvent{ID: id, Amount: 1000, Kind: "conversation"})
		if _, err := store.Client().TransactWriteItems(ctx, tx); err != nil {
			b.Fatal(err)
		}
		if _, err := store.Client().BatchGetItem(ctx, read); err != nil {
			b.Fatal(err)
		}
	}
	// Warm both paths: connections, the token cache, the cap cache.
	for i := range 5 {
		viaHTTP(fmt.Sprintf("warm-h-%d", i))
		bare(fmt.Sprintf("warm-b-%d", i))
	}

	var httpTimes, bareTimes []time.Duration
	run := fmt.Sprint(time.Now().UnixNano())
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("%s-%d", run, i)
		t0 := time.Now()
		bare("b-" + id)
		t1 := time.Now()
		viaHTTP("h-" + id)
		t2 := time.Now()
		bareTimes = append(bareTimes, t1.Sub(t0))
		httpTimes = append(httpTimes, t2.Sub(t1))
	}
	med := func(d []time.Duration) time.Duration {
		s := append([]time.Duration(nil), d...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		return s[len(s)/2]
	}
	sum := func(d []time.Duration) (t time.Duration) {
		for _, x := range d {
			t += x
		}
		return t
	}
	b.ReportMetric(float64(med(bareTimes).Microseconds()), "bare-p50-µs")
	b.ReportMetric(float64(med(httpTimes).Microseconds()), "http-p50-µs")
	b.ReportMetric(float64(med(httpTimes))/float64(med(bareTimes)), "ratio-p50")
	b.ReportMetric(float64(sum(httpTimes))/float64(sum(bareTimes)), "ratio-mean")
}

// BenchmarkBatchVsSingleEndToEnd measures events per second through the
// local HTTP server (HTTP, the API Gateway event, the token cache, strict
// JSON, the store) on DynamoDB Local: 100-event batches against single
// POSTs, side by side, by one client sending one request at a time
// ("sequential") and by 8 clients at once ("concurrent-8", an
// organization's agents posting together, all on its one pool item). Each
// iteration has a phase of batches and a phase of singles, so that the
// machine's noise falls on both alike. Target: batches move at least 10
// times the events per second.
//
//	eval "$(.ci/dynamodb-local.sh start)"; export DYNAMODB_LOCAL_ENDPOINT
//	go test -run XXX -bench BatchVsSingle -benchtime 10x ./functions/local/
func BenchmarkBatchVsSingleEndToEnd(b *testing.B) {
	_, demo, srv := benchServer(b)
	token := demo.Agents[0].Token // in the research group
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	// post sends body and answers how many events it debited. It runs on
	// the phases' goroutines, so it reports with Error, not Fatal.
	post := func(path, body string) int {
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			b.Error(err)
			return 0
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case 200:
		case 429, 503: // the pool item is hot: nothing debited, retry later
			return 0
		default:
			b.Errorf("%s: %d %s", path, resp.StatusCode, got)
		}
		return strings.Count(string(got), `"duplicate":false`)
	}
	event := func(id string) string { return `{"id":"` + id + `","amount_micros":1000,"kind":"conversation"}` }
	single := func(id string) int { return post("/v1/usage", event(id)) }
	batch := func(prefix string) int {
		evs := make([]string, domain.MaxBatchEvents)
		for k := range evs {
			evs[k] = event(fmt.Sprintf("%s-%03d", prefix, k))
		}
		return post("/v1/usage/batch", `{"events":[`+strings.Join(evs, ",")+`]}`)
	}
	run := fmt.Sprint(time.Now().UnixNano())
	for i := range 10 { // warm connections, caches and DynamoDB Local's JIT
		single(fmt.Sprintf("warm-s-%s-%d", run, i))
		batch(fmt.Sprintf("warm-b-%s-%d", run, i))
	}
	// phase runs n requests by clients clients at once and answers the
	// events debited and the time taken.
	phase := func(clients, n int, send func(k int) int) (int, time.Duration) {
		var debited atomic.Int64
		var wg sync.WaitGroup
		next := atomic.Int64{}
		t0 := time.Now()
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := int(next.Add(1)) - 1; k < n; k = int(next.Add(1)) - 1 {
					debited.Add(int64(send(k)))
				}
			}()
		}
		wg.Wait()
		return int(debited.Load()), time.Since(t0)
	}
	for _, c := range []struct {
		name                      string
		clients, batches, singles int
	}{
		{"sequential", 1, 1, 10},
		{"concurrent-8", 8, 8, 80},
	} {
		b.Run(c.name, func(b *testing.B) {
			run := fmt.Sprint(time.Now().UnixNano()) // new ids each time this runs
			var batchTime, singleTime time.Duration
			var batched, singled, singlesSent int
			for i := 0; b.Loop(); i++ {
				n, d := phase(c.clients, c.batches, func(k int) int { return batch(fmt.Sprintf("%s-b-%s-%d-%d", c.name, run, i, k)) })
				batched, batchTime = batched+n, batchTime+d
				n, d = phase(c.clients, c.singles, func(k int) int { return single(fmt.Sprintf("%s-s-%s-%d-%d", c.name, run, i, k)) })
				singled, singleTime, singlesSent = singled+n, singleTime+d, singlesSent+c.singles
			}
			batchRate := float64(batched) / batchTime.Seconds()
			singleRate := float64(singled) / singleTime.Seconds()
			b.ReportMetric(batchRate, "batch-events/s")
			b.ReportMetric(singleRate, "single-events/s")
			b.ReportMetric(batchRate/singleRate, "ratio")
			b.ReportMetric(float64(singlesSent-singled)/float64(singlesSent), "singles-refused-busy")
		})
	}
}

// benchServer is the local server on a fresh DynamoDB Local table with the
// demo seeded, credit and the research group's cap raised so far that no
// benchmark runs out, and the store under it.
func benchServer(b *testing.B) (*dynamo.Store, *demoOrg, *httptest.Server) {
	b.Helper()
	backend := dynamotest.LocalOnly(b)
	store := dynamo.New(backend.Client, dynamotest.NewTable(b, backend))
	ctx := context.Background()
	demo, err := seedDemo(ctx, store)
	if err != nil {
		b.Fatal(err)
	}
	if _, _, _, err := store.Grant(ctx, domain.Grant{OrgID: demoOrgID, ID: "bench", Amount: domain.MaxGrantMicros}, nil); err != nil {
		b.Fatal(err)
	}
	if _, err := store.SetGroupCap(ctx, demoOrgID, "research", domain.MaxCapMicros, nil); err != nil {
		b.Fatal(err)
	}
	cfg := config{AdminToken: "admin", SlackSigningSecret: "secret"}
	srv := httptest.NewServer(routes(store, slackApp(store, cfg), nil, cfg, metrics.NewTotals()))
	b.Cleanup(srv.Close)
	return store, demo, srv
}

package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
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
	backend := dynamotest.LocalOnly(b)
	table := dynamotest.NewTable(b, backend)
	store := dynamo.New(backend.Client, table)
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
	defer srv.Close()
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
		if _, err := backend.Client.TransactWriteItems(ctx, tx); err != nil {
			b.Fatal(err)
		}
		if _, err := backend.Client.BatchGetItem(ctx, read); err != nil {
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

package slackapp_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgcredit/orgcredit/internal/dynamotest"
	"github.com/orgcredit/orgcredit/internal/slackapp"
	"github.com/orgcredit/orgcredit/internal/slacktestx"
)

// BenchmarkSlackEndpoints measures the server-side time of App.Handle per
// endpoint, with every store and Slack call it makes, and reports p50 and
// p99 in milliseconds (the target is p99 < 300 ms against DynamoDB Local).
// The store runs on DynamoDB Local when DYNAMODB_LOCAL_ENDPOINT is set,
// else on the embedded back end:
//
//	DYNAMODB_LOCAL_ENDPOINT=http://127.0.0.1:8000 go test ./internal/slackapp -run '^$' -bench SlackEndpoints -benchtime 200x
func BenchmarkSlackEndpoints(b *testing.B) {
	backends := dynamotest.Backends(b)
	backend := backends[len(backends)-1]
	b.Logf("back end: %s", backend.Name)

	b.Run("commands/status", func(b *testing.B) {
		f := newFixtureOn(b, backend)
		measure(b, func(timed func(func())) {
			timed(func() { f.mustOK(f.billing(dina, "status")) })
		})
	})
	b.Run("commands/transfer-modal", func(b *testing.B) {
		f := newFixtureOn(b, backend)
		measure(b, func(timed func(func())) {
			timed(func() { f.mustOK(f.billing(dina, "transfer")) })
		})
	})
	b.Run("interactions/submit-and-cancel", func(b *testing.B) {
		// One request (view_submission: store, 2 DMs, message refs) and one
		// Cancel click (store, 2 rewrites, 1 DM, 2 App Homes) per iteration.
		f := newFixtureOn(b, backend)
		submit := slacktestx.InteractionBody(submitPayload(dina, org, "sari"))
		measure(b, func(timed func(func())) {
			timed(func() {
				if r := f.send(slackapp.PathInteractions, formType, submit); !strings.Contains(r.Body, `"clear"`) {
					b.Fatalf("submit: %s", r.Body)
				}
			})
			p := f.pending()
			click := slacktestx.InteractionBody(clickPayload(dina, "transfer_cancel", org+"|"+p.ID, p.InitiatorMessage.Channel, p.InitiatorMessage.TS, true))
			timed(func() { f.mustOK(f.send(slackapp.PathInteractions, formType, click)) })
			if f.pending() != nil {
				b.Fatal("the Cancel click did not close the transfer")
			}
		})
	})
	b.Run("events/app_home_opened", func(b *testing.B) {
		f := newFixtureOn(b, backend)
		body := homeOpened(dina)
		measure(b, func(timed func(func())) {
			timed(func() { f.mustOK(f.send(slackapp.PathEvents, "application/json", body)) })
		})
	})
}

func (f *fixture) mustOK(r events.APIGatewayV2HTTPResponse) {
	f.t.Helper()
	if r.StatusCode != 200 {
		f.t.Fatalf("status %d: %s", r.StatusCode, r.Body)
	}
}

// measure runs op b.N times and reports the p50 and p99 of the requests
// op times with timed.
func measure(b *testing.B, op func(timed func(func()))) {
	b.Helper()
	d := make([]time.Duration, 0, b.N)
	timed := func(req func()) {
		start := time.Now()
		req()
		d = append(d, time.Since(start))
	}
	b.ResetTimer()
	for range b.N {
		op(timed)
	}
	b.StopTimer()
	slices.Sort(d)
	q := func(p float64) float64 { return float64(d[int(p*float64(len(d)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

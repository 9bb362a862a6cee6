package agentapi

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestSampleEvents runs the sample events of events/usage through the
// handler, so that they stay valid for local invokes.
func TestSampleEvents(t *testing.T) {
	want := map[string]int{
		"post-usage.json":            200,
		"get-balance.json":           200,
		"post-usage-bad-amount.json": 400,
		// Four events: two debited, one refused alone (amount 0), one a
		// duplicate of the first; the answer is 200.
		"post-usage-batch.json":       200,
		"post-usage-batch-empty.json": 400,
	}
	files, err := filepath.Glob("../../events/usage/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events found: %v", err)
	}
	f := newFixture(t)
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			status, ok := want[name]
			if !ok {
				t.Fatalf("no expected status for %s; add it to this test", name)
			}
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var ev events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatalf("not an API Gateway v2 event: %v", err)
			}
			// The sample's token is a placeholder of the right shape: it is
			// refused as unknown, and works once replaced by a real one.
			resp, err := f.api.Handle(f.ctx, ev)
			if err != nil || resp.StatusCode != 401 {
				t.Errorf("with the placeholder token: %d %v %s", resp.StatusCode, err, resp.Body)
			}
			ev.Headers["authorization"] = "Bearer " + f.tokens["research-bot"]
			resp, err = f.api.Handle(f.ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != status {
				t.Errorf("status = %d, want %d: %s", resp.StatusCode, status, resp.Body)
			}
		})
	}
}

package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// The EMF specification: each line is a JSON object with an "_aws" member
// holding Timestamp (ms) and CloudWatchMetrics, a list of directives each
// with Namespace, Dimensions (a list of dimension sets, each a list of
// names of at most 30 members that are themselves members of the object)
// and Metrics (each with Name and an optional Unit, their values members
// of the object: a number or a list of at most 100 numbers).
func TestFlushWritesValidEMF(t *testing.T) {
	r := New(FunctionUsage)
	ctx := With(context.Background(), r)
	Count(ctx, Debits, 1)
	Count(ctx, Debits, 1)
	Add(ctx, DebitedMicros, 1_250_000)
	CountBy(ctx, Refusals, DimRule, "insufficient_credit", 1)
	CountBy(ctx, Refusals, DimRule, "budget_group_cap_reached", 1)
	Duration(ctx, SlackLatency, DimKind, KindCommand, 12*time.Millisecond)
	Duration(ctx, SlackLatency, DimKind, KindCommand, 30*time.Millisecond)
	Property(ctx, "request_id", "req-1")

	var buf bytes.Buffer
	if err := r.Flush(&buf, time.UnixMilli(1_700_000_000_000)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 { // Function; Function+Kind; Function+Rule ×2
		t.Fatalf("%d lines, want 4:\n%s", len(lines), buf.String())
	}
	seen := map[string]any{}
	for _, l := range lines {
		var obj map[string]any
		if err := json.Unmarshal([]byte(l), &obj); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		aws, ok := obj["_aws"].(map[string]any)
		if !ok || aws["Timestamp"] != float64(1_700_000_000_000) {
			t.Fatalf("no _aws.Timestamp: %s", l)
		}
		dirs := aws["CloudWatchMetrics"].([]any)
		if len(dirs) != 1 {
			t.Fatalf("directives: %s", l)
		}
		d := dirs[0].(map[string]any)
		if d["Namespace"] != Namespace {
			t.Errorf("namespace %v", d["Namespace"])
		}
		for _, set := range d["Dimensions"].([]any) {
			names := set.([]any)
			if len(names) == 0 || len(names) > 30 || names[0] != DimFunction {
				t.Errorf("dimension set %v", names)
			}
			for _, n := range names {
				if _, ok := obj[n.(string)].(string); !ok {
					t.Errorf("dimension %v has no string member: %s", n, l)
				}
			}
		}
		for _, m := range d["Metrics"].([]any) {
			md := m.(map[string]any)
			name := md["Name"].(string)
			switch v := obj[name].(type) {
			case float64:
				seen[name+"/"+str(obj[DimRule])] = v
			case []any:
				if len(v) > 100 {
					t.Errorf("%s has %d values", name, len(v))
				}
				seen[name] = v
			default:
				t.Errorf("metric %s has no value: %s", name, l)
			}
		}
		if obj["request_id"] != "req-1" {
			t.Errorf("the request id is not on the line: %s", l)
		}
	}
	if seen["Debits/"] != 2.0 || seen["DebitedMicros/"] != 1_250_000.0 || seen["Refusals/insufficient_credit"] != 1.0 {
		t.Errorf("values %v", seen)
	}
	if l, _ := seen[SlackLatency].([]any); len(l) != 2 {
		t.Errorf("latency observations %v", seen[SlackLatency])
	}
	// Flushed: nothing more to write.
	buf.Reset()
	if err := r.Flush(&buf, time.Now()); err != nil || buf.Len() != 0 {
		t.Errorf("second flush wrote %q %v", buf.String(), err)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func TestWithoutARecorderNothingHappens(t *testing.T) {
	ctx := context.Background()
	Count(ctx, Debits, 1) // must not panic
	Duration(ctx, SlackLatency, DimKind, KindEvent, time.Second)
	if From(ctx) != nil {
		t.Fatal("a recorder appeared")
	}
}

func TestTotals(t *testing.T) {
	tot := NewTotals()
	for range 3 {
		r := New(FunctionSlack)
		ctx := With(context.Background(), r)
		Duration(ctx, SlackLatency, DimKind, KindCommand, 10*time.Millisecond)
		Count(ctx, DynamoDBRetries, 1)
		tot.Add(r)
	}
	snap := tot.Snapshot()
	if snap["slack/SlackLatency/command/count"] != 3 || snap["slack/SlackLatency/command/ms"] != 30 || snap["slack/DynamoDBRetries"] != 3 {
		t.Errorf("totals %v", snap)
	}
	if !slices.IsSorted(tot.Keys()) {
		t.Error("keys are not sorted")
	}
}

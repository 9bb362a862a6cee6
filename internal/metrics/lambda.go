package metrics

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Wrap gives each invocation of a Lambda handler its own Recorder, in the
// context, and writes what it recorded to w (the function's log, which
// CloudWatch reads EMF from) when the invocation ends.
func Wrap[In, Out any](function string, w io.Writer, h func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	return func(ctx context.Context, in In) (Out, error) {
		r := New(function)
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			r.props["request_id"] = lc.AwsRequestID
		}
		out, err := h(With(ctx, r), in)
		if ferr := r.Flush(w, time.Now()); ferr != nil {
			slog.ErrorContext(ctx, "metrics: write the EMF line", "err", ferr)
		}
		return out, err
	}
}

// Logger is the JSON logger of a Lambda function: every line carries the
// function's name and, inside an invocation, its request id, so the logs
// of one request are found together.
func Logger(function string, w io.Writer) *slog.Logger {
	return slog.New(requestIDHandler{slog.NewJSONHandler(w, nil)}).With("function", function)
}

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.AddAttrs(slog.String("request_id", lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// Totals adds up what recorders saw, for the local server, which shows
// the figures the deployed functions send to CloudWatch.
type Totals struct {
	mu     sync.Mutex
	values map[string]float64
}

// NewTotals makes empty totals.
func NewTotals() *Totals { return &Totals{values: map[string]float64{}} }

// Add adds a recorder's figures, by function ("usage/Debits"); a
// latency adds its count ("…/count") and its total milliseconds
// ("…/ms"), from which an average is read.
func (t *Totals) Add(r *Recorder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	for s, e := range r.values {
		k := r.function + "/" + s.name
		if s.value != "" {
			k += "/" + s.value
		}
		if e.unit == "Milliseconds" {
			for _, v := range e.values {
				t.values[k+"/count"]++
				t.values[k+"/ms"] += v
			}
			continue
		}
		for _, v := range e.values {
			t.values[k] += v
		}
	}
}

// Snapshot is a copy of the totals, in key order when ranged with
// slices.Sorted(maps.Keys(...)).
func (t *Totals) Snapshot() map[string]float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.values)
}

// Keys are the totals' names, sorted.
func (t *Totals) Keys() []string {
	return slices.Sorted(maps.Keys(t.Snapshot()))
}

package metrics

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"
)

// Recorder collects the metrics of one unit of work (a request, a stream
// batch) and writes them as one EMF log line when it is flushed. Code deep
// in the call (the store's retries, the refusal of a rule) counts through
// the context, so no signature carries a metrics argument; without a
// recorder in the context, counting does nothing.
type Recorder struct {
	function string
	mu       sync.Mutex
	values   map[series]*entry
	props    map[string]any
}

// series is one metric with its dimension values (beyond Function).
type series struct {
	name      string
	dimension string // "" or DimRule / DimKind
	value     string // the dimension's value
}

type entry struct {
	unit   string
	values []float64
}

// New makes a recorder for one unit of work of function.
func New(function string) *Recorder {
	return &Recorder{function: function, values: map[series]*entry{}, props: map[string]any{}}
}

type ctxKey struct{}

// With returns ctx carrying r.
func With(ctx context.Context, r *Recorder) context.Context {
	return context.WithValue(ctx, ctxKey{}, r)
}

// From returns the recorder ctx carries, or nil.
func From(ctx context.Context) *Recorder {
	r, _ := ctx.Value(ctxKey{}).(*Recorder)
	return r
}

// Count adds n to a count metric of the context's recorder.
func Count(ctx context.Context, metric string, n float64) {
	From(ctx).add(series{name: metric}, "Count", n)
}

// CountBy adds n to a count metric with one more dimension (Rule, Kind).
func CountBy(ctx context.Context, metric, dimension, value string, n float64) {
	From(ctx).add(series{name: metric, dimension: dimension, value: value}, "Count", n)
}

// Add adds v (a plain number, such as micro-credits) to a metric.
func Add(ctx context.Context, metric string, v float64) {
	From(ctx).add(series{name: metric}, "None", v)
}

// Duration records one observation of a latency metric, in milliseconds,
// with one more dimension.
func Duration(ctx context.Context, metric, dimension, value string, d time.Duration) {
	r := From(ctx)
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := series{name: metric, dimension: dimension, value: value}
	e := r.values[s]
	if e == nil {
		e = &entry{unit: "Milliseconds"}
		r.values[s] = e
	}
	// Each observation is kept, so CloudWatch computes percentiles.
	e.values = append(e.values, float64(d.Microseconds())/1000)
}

// Property adds a field to the log line that is not a metric (the request
// id), for searching the logs.
func Property(ctx context.Context, key string, v any) {
	r := From(ctx)
	if r == nil {
		return
	}
	r.mu.Lock()
	r.props[key] = v
	r.mu.Unlock()
}

func (r *Recorder) add(s series, unit string, n float64) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.values[s]
	if e == nil {
		e = &entry{unit: unit, values: []float64{0}}
		r.values[s] = e
	}
	e.values[0] += n
}

// Snapshot returns the recorded totals by metric name, with the dimension
// value after a slash ("Refusals/insufficient_credit"): for tests and the
// local server's figures.
func (r *Recorder) Snapshot() map[string]float64 {
	out := map[string]float64{}
	if r == nil {
		return out
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for s, e := range r.values {
		k := s.name
		if s.value != "" {
			k += "/" + s.value
		}
		for _, v := range e.values {
			out[k] += v
		}
	}
	return out
}

// Flush writes the recorded metrics to w as EMF log lines, one per
// dimension set (EMF declares dimensions per line), and forgets them. A
// recorder with nothing recorded writes nothing.
func (r *Recorder) Flush(w io.Writer, now time.Time) error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	values, props := r.values, r.props
	r.values, r.props = map[series]*entry{}, map[string]any{}
	r.mu.Unlock()
	if len(values) == 0 {
		return nil
	}
	// Group the series into lines: one for the metrics with Function
	// alone, one per (dimension, value) for the others.
	type lineKey struct{ dimension, value string }
	lines := map[lineKey][]series{}
	for s := range values {
		k := lineKey{s.dimension, s.value}
		lines[k] = append(lines[k], s)
	}
	keys := slices.SortedFunc(maps.Keys(lines), func(a, b lineKey) int {
		if a.dimension != b.dimension {
			return compare(a.dimension, b.dimension)
		}
		return compare(a.value, b.value)
	})
	for _, k := range keys {
		ss := lines[k]
		sort.Slice(ss, func(i, j int) bool { return ss[i].name < ss[j].name })
		dims := []string{DimFunction}
		line := map[string]any{DimFunction: r.function}
		if k.dimension != "" {
			dims = append(dims, k.dimension)
			line[k.dimension] = k.value
		}
		defs := make([]map[string]string, 0, len(ss))
		for _, s := range ss {
			e := values[s]
			defs = append(defs, map[string]string{"Name": s.name, "Unit": e.unit})
			if len(e.values) == 1 {
				line[s.name] = e.values[0]
			} else {
				line[s.name] = e.values
			}
		}
		for pk, pv := range props {
			if _, taken := line[pk]; !taken {
				line[pk] = pv
			}
		}
		line["_aws"] = map[string]any{
			"Timestamp": now.UnixMilli(),
			"CloudWatchMetrics": []map[string]any{{
				"Namespace":  Namespace,
				"Dimensions": [][]string{dims},
				"Metrics":    defs,
			}},
		}
		b, err := json.Marshal(line)
		if err != nil {
			return err
		}
		if _, err := w.Write(append(b, '\n')); err != nil {
			return err
		}
	}
	return nil
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

package embedded

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-lambda-go/events"
)

// Feed is a recorded change stream: records in the order their writes were
// applied, each with a sequence number, read by position as a stream's
// shard iterator reads. It keeps what has not been trimmed.
type Feed struct {
	mu      sync.Mutex
	base    int // position of records[0]
	records []events.DynamoDBEventRecord
	seq     int64
	changed chan struct{} // closed and replaced on every append
}

// NewFeed makes an empty feed.
func NewFeed() *Feed { return &Feed{changed: make(chan struct{})} }

func (f *Feed) append(rs ...events.DynamoDBEventRecord) {
	if len(rs) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range rs {
		f.seq++
		r.EventID = fmt.Sprintf("local-%d", f.seq)
		r.Change.SequenceNumber = fmt.Sprintf("%021d", f.seq)
		f.records = append(f.records, r)
	}
	close(f.changed)
	f.changed = make(chan struct{})
}

// Next returns up to max records from position pos on, waiting until there
// is at least one or ctx is done, and the position after them.
func (f *Feed) Next(ctx context.Context, pos, max int) ([]events.DynamoDBEventRecord, int, error) {
	for {
		f.mu.Lock()
		if pos < f.base {
			pos = f.base // trimmed: start at the oldest kept
		}
		if i := pos - f.base; i < len(f.records) {
			end := min(len(f.records), i+max)
			out := append([]events.DynamoDBEventRecord(nil), f.records[i:end]...)
			f.mu.Unlock()
			return out, pos + len(out), nil
		}
		wait := f.changed
		f.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, pos, ctx.Err()
		case <-wait:
		}
	}
}

// Trim forgets the records before position pos, once every reader has
// taken them, so a long local run does not keep its whole history.
func (f *Feed) Trim(pos int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := pos - f.base; n > 0 {
		n = min(n, len(f.records))
		f.records = append(f.records[:0:0], f.records[n:]...)
		f.base += n
	}
}

// Len is the position after the last record.
func (f *Feed) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.base + len(f.records)
}

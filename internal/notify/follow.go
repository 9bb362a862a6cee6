package notify

import (
	"context"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgcredit/orgcredit/internal/metrics"
)

// Source is a change stream read by position, as the local run records it
// (internal/embedded's Feed).
type Source interface {
	// Next returns up to max records from position pos on, waiting until
	// there is one, and the position after them.
	Next(ctx context.Context, pos, max int) ([]events.DynamoDBEventRecord, int, error)
	// Trim forgets the records before pos.
	Trim(pos int)
}

// FollowOptions tune Follow.
type FollowOptions struct {
	// BatchSize is the most records handed over at once (default 100, as
	// the deployed event source mapping).
	BatchSize int
	// RetryDelay is the wait before a failed record is tried again
	// (default 2 s).
	RetryDelay time.Duration
	// ScheduleEvery is how often the schedule handler runs (default
	// 10 s; AWS runs it every 5 minutes).
	ScheduleEvery time.Duration
	// Totals, when set, adds up the metrics of every batch, as the
	// deployed function sends them to CloudWatch.
	Totals *metrics.Totals
}

// Follow does locally what the deployed stream mapping and schedule do:
// it hands every record of src to HandleStream in order, in batches, and
// runs HandleSchedule on a timer, until ctx is done. A record that fails
// is handed over again, with the records after it, as Lambda retries a
// batch from its first failed record; nothing is skipped or reordered.
func (n *Notifier) Follow(ctx context.Context, src Source, opt FollowOptions) {
	if opt.BatchSize <= 0 {
		opt.BatchSize = 100
	}
	if opt.RetryDelay <= 0 {
		opt.RetryDelay = 2 * time.Second
	}
	if opt.ScheduleEvery <= 0 {
		opt.ScheduleEvery = 10 * time.Second
	}
	go n.everySchedule(ctx, opt.ScheduleEvery)
	pos := 0
	for {
		records, next, err := src.Next(ctx, pos, opt.BatchSize)
		if err != nil {
			return // ctx is done
		}
		r := metrics.New(metrics.FunctionNotifier)
		resp := n.HandleStream(metrics.With(ctx, r), events.DynamoDBEvent{Records: records})
		if opt.Totals != nil {
			opt.Totals.Add(r)
		}
		if len(resp.BatchItemFailures) == 0 {
			pos = next
			src.Trim(pos)
			continue
		}
		// Start again at the first failed record, after a pause.
		failed := resp.BatchItemFailures[0].ItemIdentifier
		for i, r := range records {
			if r.Change.SequenceNumber == failed {
				pos += i
				break
			}
		}
		src.Trim(pos)
		select {
		case <-ctx.Done():
			return
		case <-time.After(opt.RetryDelay):
		}
	}
}

func (n *Notifier) everySchedule(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := n.HandleSchedule(ctx); err != nil && ctx.Err() == nil {
				n.log.ErrorContext(ctx, "notifier: scheduled run failed", "err", err)
			}
		}
	}
}

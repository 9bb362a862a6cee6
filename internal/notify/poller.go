package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// SnapshotStore is what the Poller reads (implemented by *dynamo.Store).
type SnapshotStore interface {
	ListOrgs(ctx context.Context) ([]domain.Org, error)
	GetPool(ctx context.Context, orgID string) (domain.Pool, error)
	GroupStatuses(ctx context.Context, orgID, period string) ([]domain.GroupStatus, error)
	ListTransfers(ctx context.Context, orgID string) ([]domain.Transfer, error)
}

// Poller stands in for DynamoDB Streams and the schedule where neither
// exists (the local run on the embedded back end). Every interval it reads
// the items the notifier watches (every organization's pool, and every
// budget group's spend in the current period), turns what changed since
// the previous read into the stream records DynamoDB would have sent (old
// and new images) and hands them to the Notifier's stream handler; then it
// runs the schedule handler. So the same code runs locally as in AWS.
//
// Unlike a stream it sees snapshots, not every write: several debits
// between two reads arrive as one change, which alerts the same way
// (crossings are judged from the old and new images). The first read is
// the baseline and alerts nothing. A change whose record fails is not
// remembered, so the next read offers it again, as Lambda retries a
// failed record.
//
//	p := notify.NewPoller(n, store, 2*time.Second)
//	go p.Run(ctx) // returns when ctx is cancelled
type Poller struct {
	n        *Notifier
	store    SnapshotStore
	interval time.Duration
	now      func() time.Time
	log      *slog.Logger

	primed bool
	last   snapshot
	seq    int64
}

// snapshot is one read of the watched items.
type snapshot struct {
	pools     map[string]PoolImage     // by org id
	spends    map[string]SpendImage    // by org, group and period
	transfers map[string]transferImage // by org and transfer id
}

// PollerOption configures a Poller.
type PollerOption func(*Poller)

// WithPollerClock sets the clock that picks the current budget period
// (default time.Now); tests pass the store's clock.
func WithPollerClock(now func() time.Time) PollerOption { return func(p *Poller) { p.now = now } }

// NewPoller makes a Poller that feeds n every interval (2 seconds when
// interval <= 0).
func NewPoller(n *Notifier, store SnapshotStore, interval time.Duration, opts ...PollerOption) *Poller {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	p := &Poller{n: n, store: store, interval: interval, now: time.Now, log: n.log}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Run polls every interval until ctx is cancelled, and then returns nil.
// Failures are logged and the next round tries again.
func (p *Poller) Run(ctx context.Context) error {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		if err := p.Poll(ctx); err != nil && ctx.Err() == nil {
			p.log.ErrorContext(ctx, "notifier poller: round failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Poll runs one round: read, hand the changes to the stream handler, run
// the schedule handler.
func (p *Poller) Poll(ctx context.Context) error {
	cur, err := p.snapshot(ctx)
	if err != nil {
		return err
	}
	if !p.primed {
		p.last, p.primed = cur, true
	} else {
		p.stream(ctx, cur)
	}
	if _, err := p.n.HandleSchedule(ctx); err != nil {
		return err
	}
	return nil
}

func (p *Poller) snapshot(ctx context.Context) (snapshot, error) {
	orgs, err := p.store.ListOrgs(ctx)
	if err != nil {
		return snapshot{}, fmt.Errorf("list organizations: %w", err)
	}
	period := domain.Period(p.now())
	pools := map[string]PoolImage{}
	spends := map[string]SpendImage{}
	transfers := map[string]transferImage{}
	for _, o := range orgs {
		pool, err := p.store.GetPool(ctx, o.ID)
		if errors.Is(err, domain.ErrNotFound) {
			continue // created between the two reads
		}
		if err != nil {
			return snapshot{}, fmt.Errorf("read pool of %s: %w", o.ID, err)
		}
		pools[o.ID] = PoolImage{OrgID: o.ID, Balance: pool.Balance, Granted: pool.Granted, Threshold: pool.Threshold}
		groups, err := p.store.GroupStatuses(ctx, o.ID, period)
		if err != nil {
			return snapshot{}, fmt.Errorf("read budget groups of %s: %w", o.ID, err)
		}
		for _, g := range groups {
			// The store writes a spend item with a group's first debit of
			// the period (or its first refusal for the cap); until then
			// there is nothing to stream.
			if g.Spent == 0 && !g.CapReached {
				continue
			}
			s := SpendImage{OrgID: o.ID, GroupID: g.Group.ID, Period: g.Period, Spent: g.Spent, Cap: g.Group.Cap, CapReached: g.CapReached}
			spends[spendKey(s)] = s
		}
		ts, err := p.store.ListTransfers(ctx, o.ID)
		if err != nil {
			return snapshot{}, fmt.Errorf("read transfers of %s: %w", o.ID, err)
		}
		for _, t := range ts {
			transfers[o.ID+"#"+t.ID] = transferImage{OrgID: o.ID, ID: t.ID, Status: t.Status}
		}
	}
	return snapshot{pools: pools, spends: spends, transfers: transfers}, nil
}

// watched is an image the poller compares between rounds.
type watched interface {
	comparable
	image() image
}

// changes offers add a record for every item of cur that is new or differs
// from last, in key order so a round's records come in a stable order; the
// record's apply remembers the new image once the notifier took it.
func changes[V watched](cur, last map[string]V, keys func(V) (pk, sk string), add func(pk, sk string, old, new image, apply func())) {
	for _, k := range slices.Sorted(maps.Keys(cur)) {
		img := cur[k]
		prev, had := last[k]
		if had && prev == img {
			continue
		}
		var old image
		if had {
			old = prev.image()
		}
		pk, sk := keys(img)
		add(pk, sk, old, img.image(), func() { last[k] = img })
	}
}

// forget drops from last what is gone from cur.
func forget[V any](last, cur map[string]V) {
	for k := range last {
		if _, ok := cur[k]; !ok {
			delete(last, k)
		}
	}
}

func spendKey(s SpendImage) string { return s.OrgID + "#" + s.GroupID + "#" + s.Period }

// stream hands what changed to the stream handler and remembers the new
// images of the records that succeeded.
func (p *Poller) stream(ctx context.Context, cur snapshot) {
	var ev events.DynamoDBEvent
	commit := map[string]func(){}
	add := func(pk, sk string, old, new image, apply func()) {
		p.seq++
		name := "MODIFY"
		if old == nil {
			name = "INSERT"
		}
		seq := fmt.Sprintf("%021d", p.seq)
		ev.Records = append(ev.Records, events.DynamoDBEventRecord{
			EventID:     "local-" + seq,
			EventName:   name,
			EventSource: "aws:dynamodb",
			AWSRegion:   "local",
			Change: events.DynamoDBStreamRecord{
				ApproximateCreationDateTime: events.SecondsEpochTime{Time: p.now()},
				Keys: image{
					"PK": events.NewStringAttribute(pk),
					"SK": events.NewStringAttribute(sk),
				},
				OldImage:       old,
				NewImage:       new,
				SequenceNumber: seq,
				StreamViewType: string(events.DynamoDBStreamViewTypeNewAndOldImages),
			},
		})
		commit[seq] = apply
	}
	changes(cur.pools, p.last.pools, func(img PoolImage) (string, string) { return "ORG#" + img.OrgID, "POOL" }, add)
	changes(cur.spends, p.last.spends, func(img SpendImage) (string, string) {
		return "ORG#" + img.OrgID, "SPEND#" + img.GroupID + "#" + img.Period
	}, add)
	changes(cur.transfers, p.last.transfers, func(img transferImage) (string, string) {
		return "ORG#" + img.OrgID, "TRANSFER#" + img.ID
	}, add)
	// Items gone from the snapshot (a past period's spend) are forgotten:
	// the notifier owes nothing for a removal.
	forget(p.last.pools, cur.pools)
	forget(p.last.spends, cur.spends)
	forget(p.last.transfers, cur.transfers)
	if len(ev.Records) == 0 {
		return
	}
	resp := p.n.HandleStream(ctx, ev)
	for _, f := range resp.BatchItemFailures {
		delete(commit, f.ItemIdentifier)
	}
	for _, apply := range commit {
		apply()
	}
}

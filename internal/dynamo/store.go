// Package dynamo is the store: one single-table adapter on the DynamoDB API.
// It runs unchanged against AWS, DynamoDB Local and the embedded back end.
//
// The store reads, lets internal/domain decide, and writes with the
// conditions the decision assumed (see mutate): every rule that must hold
// under concurrency (one debit per usage id, a balance that never goes
// below zero, group caps, ceilings, one pending transfer, one Billing
// holder, the last Owner, an actor's authority) is a condition of the write
// that changes it, never a read before the write alone.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/metrics"
)

// Store is the DynamoDB adapter.
type Store struct {
	db          *dynamodb.Client
	table       *string
	now         func() time.Time
	transferTTL time.Duration
	maxAttempts int

	// caps caches budget group caps for the debit path. A stale entry is
	// harmless: the debit's condition check on the group item fails, the
	// entry is refreshed and the debit decided again.
	capsMu sync.Mutex
	caps   map[string]domain.BudgetGroup

	auditSeq atomic.Int64

	// capReached remembers the (org, group, period)s whose refusal this
	// process has already recorded.
	capReached sync.Map

	// poolHints holds, by organization, the balance last read: a batch
	// that asks more than that reads before it writes (see DebitBatch).
	poolHints sync.Map
}

// Option configures a Store.
type Option func(*Store)

// WithClock injects the clock (tests, expiry, periods).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithTransferTTL sets how long a transfer request stays pending.
func WithTransferTTL(d time.Duration) Option { return func(s *Store) { s.transferTTL = d } }

// WithMaxAttempts sets how many times a conflicted or throttled request is
// tried before it fails with domain.ErrBusy.
func WithMaxAttempts(n int) Option { return func(s *Store) { s.maxAttempts = n } }

// New makes a store on table.
func New(db *dynamodb.Client, table string, opts ...Option) *Store {
	s := &Store{
		db: db, table: aws.String(table), now: time.Now,
		transferTTL: domain.DefaultTransferTTL, maxAttempts: 8,
		caps: map[string]domain.BudgetGroup{},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Table is the table's name.
func (s *Store) Table() string { return *s.table }

// Client is the DynamoDB client the store uses, so another store (another
// function instance, in tests) can be opened on the same table.
func (s *Store) Client() *dynamodb.Client { return s.db }

// OptionsFromEnv reads the store's settings from the environment:
// TRANSFER_TTL, how long a transfer request stays pending, as a Go
// duration ("168h", the default, is 7 days).
func OptionsFromEnv(getenv func(string) string) ([]Option, error) {
	d, err := TransferTTLFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	return []Option{WithTransferTTL(d)}, nil
}

// TransferTTLFromEnv reads TRANSFER_TTL (default
// domain.DefaultTransferTTL), which the Slack surface states too.
func TransferTTLFromEnv(getenv func(string) string) (time.Duration, error) {
	v := getenv("TRANSFER_TTL")
	if v == "" {
		return domain.DefaultTransferTTL, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("TRANSFER_TTL=%q is not a positive duration such as 168h", v)
	}
	return d, nil
}

// --- the one write primitive

// A write is what one decision writes: one transaction, and what a
// cancellation of it by a condition means.
type write struct {
	tx *txn
	// canceled reads a cancellation: errDecideAgain when a premise of the
	// decision changed meanwhile (read and decide again), else the answer
	// (a refusal, or nil when the cancellation is itself the answer, such
	// as an idempotent create finding its own earlier write). nil means
	// every cancellation is a changed premise.
	canceled func(c *canceled) error
}

// errDecideAgain makes mutate read and decide again.
var errDecideAgain = errors.New("a premise of the decision changed; decide again")

// retryDecisions is how many times a change is read and decided again when
// concurrent changes keep breaking its premises.
const retryDecisions = 6

// mutate runs one change: decide reads what the change depends on, lets
// the domain decide, and returns the write with the conditions the decision
// assumed (nil: nothing to write). When a concurrent change made those
// conditions fail, mutate reads and decides again. Conflicts and
// throttling are retried inside transact, without deciding again.
func (s *Store) mutate(ctx context.Context, op string, decide func(ctx context.Context) (*write, error)) error {
	for range retryDecisions {
		w, err := decide(ctx)
		if err != nil || w == nil {
			return err
		}
		err = s.transact(ctx, w.tx)
		c, ok := errors.AsType[*canceled](err)
		if !ok {
			return err
		}
		if w.canceled != nil {
			err = w.canceled(c)
		} else {
			err = errDecideAgain
		}
		if !errors.Is(err, errDecideAgain) {
			return err
		}
	}
	return fmt.Errorf("%w: %s kept conflicting with concurrent changes", domain.ErrBusy, op)
}

// transact runs one TransactWriteItems, retrying conflicts and throttling
// with jittered exponential backoff. A refusal by a condition comes back as
// *canceled; exhausted retries as domain.ErrBusy, other failures as
// domain.ErrUnavailable.
func (s *Store) transact(ctx context.Context, tx *txn) error {
	items := withTable(s.table, tx.items)
	var last error
	for attempt := 0; attempt < s.maxAttempts; attempt++ {
		if attempt > 0 {
			metrics.Count(ctx, metrics.DynamoDBRetries, 1)
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
		}
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil
		}
		if tce, ok := errors.AsType[*types.TransactionCanceledException](err); ok {
			if conditionFailed(tce.CancellationReasons) {
				return &canceled{tags: tx.tags, reasons: tce.CancellationReasons}
			}
			// Only conflicts or throttling: nothing was written; retry.
			last = err
			continue
		}
		if retryable(err) {
			last = err
			continue
		}
		return unavailable("write", err)
	}
	return exhausted("write", s.maxAttempts, last)
}

// exhausted is the error of a request whose retries ran out: ErrBusy when
// the last failure was contention (conflicts, throttling), which only more
// time helps, ErrUnavailable otherwise.
func exhausted(op string, attempts int, last error) error {
	if contended(last) {
		return fmt.Errorf("%w: %s: gave up after %d attempts: %v", domain.ErrBusy, op, attempts, last)
	}
	return fmt.Errorf("%w: %s: gave up after %d attempts: %v", domain.ErrUnavailable, op, attempts, last)
}

// contended tells conflicts with other transactions and throttling apart
// from faults: the first mean the items are hot.
func contended(err error) bool {
	if _, ok := errors.AsType[*types.TransactionCanceledException](err); ok {
		return true
	}
	if ae, ok := errors.AsType[smithy.APIError](err); ok {
		switch ae.ErrorCode() {
		case "TransactionConflictException", "TransactionInProgressException",
			"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded":
			return true
		}
	}
	return false
}

// retryable tells errors worth retrying inside the request: throttling,
// conflicts with other transactions, and DynamoDB's own transient faults.
func retryable(err error) bool {
	if ae, ok := errors.AsType[smithy.APIError](err); ok {
		switch ae.ErrorCode() {
		case "TransactionConflictException", "TransactionInProgressException",
			"ThrottlingException", "ProvisionedThroughputExceededException",
			"RequestLimitExceeded", "InternalServerError", "ServiceUnavailable",
			"LimitExceededException":
			return true
		}
		return false
	}
	// Transport errors (connection reset, timeouts) are retried too: a
	// retried transaction is harmless because every write is conditional.
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// backoff sleeps with full jitter: up to 10ms·2^attempt, capped at 500ms.
func backoff(ctx context.Context, attempt int) error {
	ceil := min(10*time.Millisecond<<min(attempt, 6), 500*time.Millisecond)
	t := time.NewTimer(time.Duration(rand.Int64N(int64(ceil)) + 1))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func unavailable(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %s: %v", domain.ErrUnavailable, op, err)
}

func notFound(kind, id string) error { return domain.NotFound(kind, id) }

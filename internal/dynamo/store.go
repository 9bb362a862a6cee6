// Package dynamo is the store: one single-table adapter on the DynamoDB API.
// It runs unchanged against AWS, DynamoDB Local and the embedded minidyn
// back end. Every rule that must hold under concurrency (one debit per
// usage id, a balance that never goes below zero, group caps, one pending
// transfer, one Billing holder, the last Owner) is a condition of the write
// that changes it, never a read before the write.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// ErrUnavailable wraps failures that survived the store's retries
// (conflicts, throttling, DynamoDB errors). The request changed nothing
// that a retry could double: callers answer 503 with Retry-After.
var ErrUnavailable = errors.New("the credit store is temporarily unavailable; retry shortly")

// Store is the DynamoDB adapter.
type Store struct {
	db          *dynamodb.Client
	table       *string
	now         func() time.Time
	transferTTL time.Duration
	maxAttempts int

	// caps caches budget group caps for the debit path. A stale entry is
	// harmless: the debit's condition check on the group item fails, the
	// entry is refreshed and the debit retried.
	capsMu sync.Mutex
	caps   map[string]domain.BudgetGroup

	auditSeq atomic.Int64

	// capReached remembers the (org, group, period)s whose refusal this
	// process has already recorded.
	capReached sync.Map
}

// Option configures a Store.
type Option func(*Store)

// WithClock injects the clock (tests, expiry, periods).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithTransferTTL sets how long a transfer request stays pending.
func WithTransferTTL(d time.Duration) Option { return func(s *Store) { s.transferTTL = d } }

// WithMaxAttempts sets how many times a conflicted or throttled write is
// tried before ErrUnavailable.
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

// --- reads

// get reads one item with a consistent read into T; found is false when
// the item does not exist.
func getItem[T any](ctx context.Context, s *Store, pk, sk string) (v T, found bool, err error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table, Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return v, false, unavailable("read", err)
	}
	if out.Item == nil {
		return v, false, nil
	}
	v, err = unmarshal[T](out.Item)
	return v, err == nil, err
}

// stored is an item struct that converts to its domain value.
type stored[D any] interface{ domain() D }

// getDomain reads one item as its domain value; a missing item is the
// not-found refusal for kind and id.
func getDomain[T stored[D], D any](ctx context.Context, s *Store, pk, sk, kind, id string) (D, error) {
	it, ok, err := getItem[T](ctx, s, pk, sk)
	if err != nil {
		var zero D
		return zero, err
	}
	if !ok {
		var zero D
		return zero, domain.NotFound(kind, id)
	}
	return it.domain(), nil
}

// listDomain reads an organization's items under a sort-key prefix as
// domain values.
func listDomain[T stored[D], D any](ctx context.Context, s *Store, pk, prefix string) ([]D, error) {
	items, err := queryPrefix[T](ctx, s, pk, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]D, len(items))
	for i, it := range items {
		out[i] = it.domain()
	}
	return out, nil
}

// queryAll reads every item of a query, following pages.
func (s *Store) queryAll(ctx context.Context, in *dynamodb.QueryInput, limit int) ([]map[string]types.AttributeValue, error) {
	in.TableName = s.table
	var items []map[string]types.AttributeValue
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, unavailable("query", err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 || (limit > 0 && len(items) >= limit) {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	if limit > 0 && len(items) > limit {
		items = items[:limit]
	}
	return items, nil
}

// queryPrefix reads an organization's items whose sort key starts with
// prefix.
func queryPrefix[T any](ctx context.Context, s *Store, pk, prefix string) ([]T, error) {
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":p": str(prefix)},
		ConsistentRead:            aws.Bool(true),
	}, 0)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(items))
	for _, it := range items {
		v, err := unmarshal[T](it)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// --- writes

// txCanceled is a transaction refused by a condition. Reasons are in the
// order of the transaction's items, so the caller reads them by index.
type txCanceled struct {
	reasons []types.CancellationReason
}

func (e *txCanceled) Error() string { return "transaction cancelled by a condition" }

// failed reports whether item i's condition failed.
func (e *txCanceled) failed(i int) bool {
	return i < len(e.reasons) && aws.ToString(e.reasons[i].Code) == "ConditionalCheckFailed"
}

// item returns the old image DynamoDB returned for item i
// (ReturnValuesOnConditionCheckFailure ALL_OLD), or nil.
func (e *txCanceled) item(i int) map[string]types.AttributeValue {
	if i < len(e.reasons) {
		return e.reasons[i].Item
	}
	return nil
}

// transact runs one TransactWriteItems, retrying conflicts and throttling
// with jittered exponential backoff. A refusal by a condition comes back as
// *txCanceled; exhausted retries as ErrUnavailable.
func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem) error {
	items = s.withTable(items)
	var last error
	for attempt := 0; attempt < s.maxAttempts; attempt++ {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
		}
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			return nil
		}
		var tce *types.TransactionCanceledException
		if errors.As(err, &tce) {
			c := &txCanceled{reasons: tce.CancellationReasons}
			if conditionFailed(c.reasons) {
				return c
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
	return unavailable("write", fmt.Errorf("gave up after %d attempts: %w", s.maxAttempts, last))
}

func conditionFailed(reasons []types.CancellationReason) bool {
	for _, r := range reasons {
		if aws.ToString(r.Code) == "ConditionalCheckFailed" {
			return true
		}
	}
	return false
}

// retryable tells errors worth retrying inside the request: throttling,
// conflicts with other transactions, and DynamoDB's own transient faults.
func retryable(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
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
	ceil := 10 * time.Millisecond << min(attempt, 6)
	if ceil > 500*time.Millisecond {
		ceil = 500 * time.Millisecond
	}
	d := time.Duration(rand.Int64N(int64(ceil)) + 1)
	t := time.NewTimer(d)
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
	return fmt.Errorf("%w: %s: %v", ErrUnavailable, op, err)
}

// raced is returned by an operation whose decision was overtaken by a
// concurrent change more times than it retries.
func raced(op string) error {
	return fmt.Errorf("%w: %s kept conflicting with concurrent changes", ErrUnavailable, op)
}

// --- transaction item builders

func put(item map[string]types.AttributeValue, cond string, vals map[string]types.AttributeValue) types.TransactWriteItem {
	p := &types.Put{TableName: nil, Item: item, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}
	if cond != "" {
		p.ConditionExpression = aws.String(cond)
	}
	if len(vals) > 0 {
		p.ExpressionAttributeValues = vals
	}
	return types.TransactWriteItem{Put: p}
}

func putNew(item map[string]types.AttributeValue) types.TransactWriteItem {
	return put(item, "attribute_not_exists(PK)", nil)
}

type update struct {
	key   map[string]types.AttributeValue
	expr  string
	cond  string
	vals  map[string]types.AttributeValue
	names map[string]string
}

func (u update) item() types.TransactWriteItem {
	up := &types.Update{
		Key: u.key, UpdateExpression: aws.String(u.expr),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	if u.cond != "" {
		up.ConditionExpression = aws.String(u.cond)
	}
	if len(u.vals) > 0 {
		up.ExpressionAttributeValues = u.vals
	}
	if len(u.names) > 0 {
		up.ExpressionAttributeNames = u.names
	}
	return types.TransactWriteItem{Update: up}
}

func check(k map[string]types.AttributeValue, cond string, vals map[string]types.AttributeValue) types.TransactWriteItem {
	c := &types.ConditionCheck{
		Key: k, ConditionExpression: aws.String(cond),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	if len(vals) > 0 {
		c.ExpressionAttributeValues = vals
	}
	return types.TransactWriteItem{ConditionCheck: c}
}

// withTable sets the table name on every item; builders leave it out to
// stay short.
func (s *Store) withTable(items []types.TransactWriteItem) []types.TransactWriteItem {
	for _, it := range items {
		switch {
		case it.Put != nil:
			it.Put.TableName = s.table
		case it.Update != nil:
			it.Update.TableName = s.table
		case it.ConditionCheck != nil:
			it.ConditionCheck.TableName = s.table
		case it.Delete != nil:
			it.Delete.TableName = s.table
		}
	}
	return items
}

// auditPut is the audit entry written in the same transaction as the
// change it records.
func (s *Store) auditPut(org string, at time.Time, actor string, action domain.Action, target, before, after, detail string) types.TransactWriteItem {
	id := newID("au_", at)
	// The sequence orders entries written at the same instant (several in
	// one transaction, or a coarse clock) in the order they were made.
	seq := s.auditSeq.Add(1)
	return putNew(marshal(auditItem{
		PK: auditPK(org), SK: fmt.Sprintf("%s#%012d#%s", fmtTime(at), seq%1e12, id), Type: typeAudit,
		OrgID: org, ID: id, At: fmtTime(at), Actor: actor, Action: string(action),
		Target: target, Before: before, After: after, Detail: detail,
	}))
}

// transactAs runs a transaction on behalf of actor, an Owner or Admin
// acting from Slack (nil: an operator). Their authority was decided from
// their role as read; a condition on their member item, appended after the
// caller's items so their indexes do not move, makes it hold when the
// change is written. If their role changed meanwhile, it is decided again.
func (s *Store) transactAs(ctx context.Context, orgID string, actor *domain.Member, items []types.TransactWriteItem) error {
	if actor == nil {
		return s.transact(ctx, items)
	}
	for range retryDecisions {
		m, err := s.GetMember(ctx, orgID, actor.ID)
		if err != nil {
			return err
		}
		if !m.Active() || (m.Role != domain.RoleOwner && m.Role != domain.RoleAdmin) {
			return domain.Refusef(domain.RuleNotOwnerOrAdmin, "Only Owners and Admins can do this. Ask an Owner or Admin.")
		}
		guarded := append(slices.Clone(items), memberCheck(orgID, m.ID, "#r = :r AND #s = :active",
			map[string]types.AttributeValue{":r": str(string(m.Role))}))
		err = s.transact(ctx, guarded)
		var tc *txCanceled
		if errors.As(err, &tc) && tc.failed(len(items)) {
			continue
		}
		return err
	}
	return raced("change")
}

// retryDecisions is how many times an operation re-reads and re-decides
// when a concurrent change made its conditions fail.
const retryDecisions = 6

// OptionsFromEnv reads the store's settings from the environment:
// TRANSFER_TTL, how long a transfer request stays pending, as a Go
// duration ("168h", the default, is 7 days).
func OptionsFromEnv(getenv func(string) string) ([]Option, error) {
	var opts []Option
	if v := getenv("TRANSFER_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("TRANSFER_TTL=%q is not a positive duration such as 168h", v)
		}
		opts = append(opts, WithTransferTTL(d))
	}
	return opts, nil
}

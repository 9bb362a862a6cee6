// Package notify tells people what changed without anyone asking: it finds
// low-balance, exhaustion and budget-group alerts in the table's stream
// (old and new images, so the debit path writes nothing extra for them)
// and sends them to the organization's Billing holder in Slack, and on a
// schedule it expires due Billing transfers and announces them.
//
// The rules (which change owes which alert, once-keys) are the domain's
// (domain.PoolAlerts, domain.SpendAlert); the store decodes stream records
// into domain values; the Slack surface words and sends the messages. This
// package connects them with the delivery guarantees below. One Lambda runs
// both through Notifier.Handle; locally, Follow reads the embedded back
// end's recorded stream and runs the same code in process.
//
// Delivery: each alert has a once-key naming the crossing itself (not the
// stream record), claimed with MarkOnce before the message is sent. A
// redelivered record, or the same change seen twice, finds the key taken
// and sends nothing. A send that fails releases its claim (Unmark) and its
// record is reported in BatchItemFailures, so the retry sends it. Sends get
// a deadline a little ahead of the function's, so a hung Slack call fails
// and releases its claim before Lambda stops the function. What remains:
// an alert is lost only if the process dies between the claim and the end
// of the send, or the release itself fails (both logged when seen); a
// duplicate only if Slack delivered a message but the call reported an
// error. Claiming first keeps the common path exactly once, and the
// release keeps failed sends retryable. A send the Slack surface says can
// never be delivered (domain.ErrUndeliverable: the organization's
// workspace uninstalled the app) is logged and not retried; it keeps its
// claim.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/metrics"
)

// Store is what the notifier reads and writes (implemented by
// *dynamo.Store).
type Store interface {
	// DecodeRecord reads a stream record as a domain.PoolChange,
	// domain.SpendChange or domain.TransferChange (nil for other items).
	DecodeRecord(r events.DynamoDBEventRecord) (any, error)
	GetOrg(ctx context.Context, orgID string) (domain.Org, error)
	GetMember(ctx context.Context, orgID, memberID string) (domain.Member, error)
	GetGroup(ctx context.Context, orgID, groupID string) (domain.BudgetGroup, error)
	MarkOnce(ctx context.Context, key domain.OnceKey, ttl time.Duration) (bool, error)
	Unmark(ctx context.Context, key domain.OnceKey) error
	ExpireDueTransfers(ctx context.Context) ([]domain.Transfer, error)
	GetTransfer(ctx context.Context, orgID, transferID string) (domain.Transfer, error)
}

// Messenger sends an alert to an organization's Billing holder. group is
// the budget group of a spend alert, nil for pool alerts.
type Messenger interface {
	SendAlert(ctx context.Context, org domain.Org, holder domain.Member, a domain.Alert, group *domain.BudgetGroup) error
}

// Announcer rewrites a transfer's Slack messages after an outcome and tells
// both parties. It announces each transfer at most once, however often it
// is called (the sweep, the stream and a late click may all report the
// same outcome).
type Announcer interface {
	AnnounceTransferOutcome(ctx context.Context, t domain.Transfer) error
}

// Slack is the Slack surface the notifier uses (implemented by
// *slackapp.App).
type Slack interface {
	Messenger
	Announcer
}

// MarkTTL is how long a once-key is remembered. It outlives a stream
// record's 24-hour retention and any budget period, so neither a
// redelivery nor a second crossing of a level in the same month alerts
// again.
const MarkTTL = 90 * 24 * time.Hour

// Notifier handles stream batches and scheduled events.
type Notifier struct {
	store Store
	slack Slack
	log   *slog.Logger
}

// Option configures a Notifier.
type Option func(*Notifier)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(n *Notifier) { n.log = l } }

// undeliverable reports whether err says the message can never be
// delivered (domain.ErrUndeliverable).
func undeliverable(err error) bool { return errors.Is(err, domain.ErrUndeliverable) }

// New makes a Notifier.
func New(store Store, slack Slack, opts ...Option) *Notifier {
	n := &Notifier{store: store, slack: slack, log: slog.Default()}
	for _, o := range opts {
		o(n)
	}
	return n
}

// ScheduleResult is the answer to a scheduled event.
type ScheduleResult struct {
	Expired   int `json:"expired"`
	Announced int `json:"announced"`
}

// Handle is the Lambda entry point. It tells a DynamoDB stream batch
// ("Records" from aws:dynamodb) from an EventBridge scheduled event and
// refuses anything else. A stream batch answers with the records to retry
// (the event source mapping enables ReportBatchItemFailures).
func (n *Notifier) Handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		Records *[]struct {
			EventSource string `json:"eventSource"`
		} `json:"Records"`
		DetailType string `json:"detail-type"`
		Source     string `json:"source"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("notifier: the event is not a JSON object: %w", err)
	}
	switch {
	case probe.Records != nil:
		for i, r := range *probe.Records {
			if r.EventSource != "aws:dynamodb" {
				return nil, fmt.Errorf("notifier: record %d comes from %q; this function handles only DynamoDB stream records (aws:dynamodb) and scheduled events", i, r.EventSource)
			}
		}
		var ev events.DynamoDBEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("notifier: decode DynamoDB stream batch: %w", err)
		}
		return n.HandleStream(ctx, ev), nil
	case probe.DetailType == "Scheduled Event" && probe.Source == "aws.events":
		return n.HandleSchedule(ctx)
	}
	return nil, fmt.Errorf("notifier: unrecognized event (detail-type %q, source %q): want a DynamoDB stream batch (\"Records\" from aws:dynamodb) or an EventBridge \"Scheduled Event\" from aws.events", probe.DetailType, probe.Source)
}

// HandleStream sends the alerts a batch of stream records owes. Records are
// processed in order; at the first one that fails for a reason a retry can
// fix (Slack or the store unavailable), it and every later record (not
// tried) are reported as failures, so that Lambda retries from there and
// an item's alerts keep their order. A record that can never be handled
// (a malformed image, an organization without a reachable Billing holder)
// is logged and skipped, so it does not block the shard.
func (n *Notifier) HandleStream(ctx context.Context, ev events.DynamoDBEvent) events.DynamoDBEventResponse {
	resp := events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{}}
	for i, r := range ev.Records {
		if err := n.handleRecord(ctx, r); err != nil {
			n.log.ErrorContext(ctx, "notifier: stream record failed; it will be retried",
				"event_id", r.EventID, "sequence_number", r.Change.SequenceNumber, "err", err)
			for _, rest := range ev.Records[i:] {
				resp.BatchItemFailures = append(resp.BatchItemFailures,
					events.DynamoDBBatchItemFailure{ItemIdentifier: rest.Change.SequenceNumber})
			}
			break
		}
	}
	return resp
}

func (n *Notifier) handleRecord(ctx context.Context, r events.DynamoDBEventRecord) error {
	change, err := n.store.DecodeRecord(r)
	if err != nil {
		// It can never be decoded, and retrying cannot help: skip it, so
		// one broken item never stops the alerts of every organization
		// behind it in the shard.
		n.log.ErrorContext(ctx, "notifier: skipping a stream record that cannot be decoded",
			"event_id", r.EventID, "sequence_number", r.Change.SequenceNumber, "err", err)
		return nil
	}
	var alerts []domain.Alert
	switch c := change.(type) {
	case domain.TransferChange:
		if t, ok := closedWithoutAnswer(c); ok {
			return n.announceClosed(ctx, t.OrgID, t.ID)
		}
	case domain.PoolChange:
		alerts = domain.PoolAlerts(c.Old, c.New)
	case domain.SpendChange:
		if a, ok := domain.SpendAlert(c.Old, c.New); ok {
			alerts = append(alerts, a)
		}
	}
	for _, a := range alerts {
		if err := n.deliver(ctx, a); err != nil {
			return fmt.Errorf("%s alert for %s: %w", a.Kind, a.OrgID, err)
		}
	}
	return nil
}

// closedWithoutAnswer reports a transfer a change shows closed by
// something other than an answer in Slack: expired (the sweeper, or a new
// request replacing it) or invalidated (a member left or was removed, also
// through the admin API, which has no Slack). Its Slack messages must still
// lose their buttons and the parties be told.
func closedWithoutAnswer(c domain.TransferChange) (domain.Transfer, bool) {
	if c.Old == nil || c.New == nil || c.Old.Status != domain.TransferPending {
		return domain.Transfer{}, false
	}
	switch c.New.Status {
	case domain.TransferExpired, domain.TransferInvalidated:
		return *c.New, true
	}
	return domain.Transfer{}, false
}

// announceClosed has the Slack surface announce a transfer closed without
// an answer. The announcement claims a once-key shared with the Slack
// surface's own paths (a late click, the sweep), so the parties are told
// once whichever gets there first.
func (n *Notifier) announceClosed(ctx context.Context, orgID, transferID string) error {
	t, err := n.store.GetTransfer(ctx, orgID, transferID)
	if errors.Is(err, domain.ErrNotFound) {
		n.log.ErrorContext(ctx, "notifier: closed transfer not found", "org", orgID, "transfer", transferID)
		return nil
	}
	if err != nil {
		return err
	}
	if err := n.slack.AnnounceTransferOutcome(ctx, t); err != nil {
		if undeliverable(err) {
			n.log.WarnContext(ctx, "notifier: transfer outcome not announced: undeliverable", "org", orgID, "transfer", t.ID, "err", err)
			return nil
		}
		return fmt.Errorf("announce %s transfer %s of %s: %w", t.Status, t.ID, orgID, err)
	}
	return nil
}

func (n *Notifier) deliver(ctx context.Context, a domain.Alert) error {
	first, err := n.store.MarkOnce(ctx, a.Key(), MarkTTL)
	if err != nil {
		return fmt.Errorf("claim once-key %q: %w", a.Key(), err)
	}
	if !first {
		return nil // sent before: a redelivery, or the same change seen twice
	}
	org, holder, group, err := n.recipient(ctx, a)
	if errors.Is(err, domain.ErrUndeliverable) {
		// Nobody can receive it and a retry cannot change that; the claim
		// stays so the record is not tried again.
		n.log.WarnContext(ctx, "notifier: alert not sent", "key", a.Key(), "err", err)
		return nil
	}
	if err == nil {
		sendCtx, cancel := sendContext(ctx)
		err = n.slack.SendAlert(sendCtx, org, holder, a, group)
		cancel()
		if err != nil && undeliverable(err) {
			// The organization's workspace is gone; a retry cannot
			// deliver it. The claim stays.
			n.log.WarnContext(ctx, "notifier: alert not sent: undeliverable", "key", a.Key(), "org", org.ID, "slack_team", org.SlackTeamID, "err", err)
			return nil
		}
		if err != nil {
			err = fmt.Errorf("send Slack message: %w", err)
		}
	}
	if err != nil {
		metrics.Count(ctx, metrics.NotifierFailures, 1)
		n.release(ctx, a.Key())
		return err
	}
	metrics.Count(ctx, metrics.NotifierDeliveries, 1)
	// Lower spend levels this alert made stale (see domain.SpendAlert).
	for _, k := range a.Keys[1:] {
		if _, err := n.store.MarkOnce(ctx, k, MarkTTL); err != nil {
			n.log.WarnContext(ctx, "notifier: could not record a stale spend level", "key", k, "err", err)
		}
	}
	return nil
}

// sendMargin is the time kept after a send's deadline to release its claim
// before the function's own deadline.
const sendMargin = 2 * time.Second

func sendContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, dl.Add(-sendMargin))
	}
	return context.WithCancel(ctx)
}

// release frees a claim after a failed send, so the retried record sends
// the alert. It runs even when ctx is done, which is when sends fail.
func (n *Notifier) release(ctx context.Context, key domain.OnceKey) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sendMargin)
	defer cancel()
	if err := n.store.Unmark(rctx, key); err != nil {
		n.log.ErrorContext(ctx, "notifier: could not release the once-key of a failed alert; a retry will not send it", "key", key, "err", err)
	}
}

// recipient finds who an alert goes to: the organization's Billing
// holder, with a Slack identity; and the budget group of a spend alert.
func (n *Notifier) recipient(ctx context.Context, a domain.Alert) (domain.Org, domain.Member, *domain.BudgetGroup, error) {
	org, err := n.store.GetOrg(ctx, a.OrgID)
	if domain.IsNotFound(err) {
		return org, domain.Member{}, nil, fmt.Errorf("%w: organization %s does not exist", domain.ErrUndeliverable, a.OrgID)
	}
	if err != nil {
		return org, domain.Member{}, nil, fmt.Errorf("read organization %s: %w", a.OrgID, err)
	}
	holder, err := n.store.GetMember(ctx, org.ID, org.BillingHolderID)
	if domain.IsNotFound(err) {
		return org, holder, nil, fmt.Errorf("%w: Billing holder %s of %s does not exist", domain.ErrUndeliverable, org.BillingHolderID, org.ID)
	}
	if err != nil {
		return org, holder, nil, fmt.Errorf("read Billing holder of %s: %w", org.ID, err)
	}
	if holder.SlackUserID == "" {
		return org, holder, nil, fmt.Errorf("%w: Billing holder %s of %s has no Slack identity", domain.ErrUndeliverable, holder.ID, org.ID)
	}
	if a.Kind != domain.AlertGroupSpend {
		return org, holder, nil, nil
	}
	g, err := n.store.GetGroup(ctx, org.ID, a.GroupID)
	if domain.IsNotFound(err) {
		return org, holder, nil, nil // named by its id
	}
	if err != nil {
		return org, holder, nil, fmt.Errorf("read budget group %s of %s: %w", a.GroupID, org.ID, err)
	}
	return org, holder, &g, nil
}

// HandleSchedule expires every pending transfer past its stored expiry and
// announces each one (rewriting its Slack messages and telling both
// parties). The stream record of each expiry announces it too (see
// closedWithoutAnswer); the Announcer tells the parties once either way,
// whichever comes first.
//
// The store returns a transfer only from the sweep that closed it, so an
// announcement that fails is not retried by a later sweep. The error is
// returned for the function's error metric and alarm; the stale buttons
// it leaves are harmless, since a click on a closed transfer answers with
// its current state.
func (n *Notifier) HandleSchedule(ctx context.Context) (ScheduleResult, error) {
	expired, err := n.store.ExpireDueTransfers(ctx)
	res := ScheduleResult{Expired: len(expired)}
	if err != nil {
		// Some may have been closed before the failure; announce those.
		err = fmt.Errorf("notifier: expire due transfers: %w", err)
	}
	errs := []error{err}
	for _, t := range expired {
		if aerr := n.slack.AnnounceTransferOutcome(ctx, t); aerr != nil {
			if undeliverable(aerr) {
				n.log.WarnContext(ctx, "notifier: expiry not announced: undeliverable", "org", t.OrgID, "transfer", t.ID, "err", aerr)
				continue
			}
			errs = append(errs, fmt.Errorf("notifier: announce expiry of transfer %s of %s: %w", t.ID, t.OrgID, aerr))
			continue
		}
		res.Announced++
	}
	return res, errors.Join(errs...)
}

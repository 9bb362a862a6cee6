package notify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/dynamotest"
)

// The store the Lambda and the local run wire in.
var _ Store = (*dynamo.Store)(nil)

const cr = domain.MicrosPerCredit

// fakeSlack records what the notifier sends; the Slack surface tests the
// real client and the wording. fail makes the next n alerts fail.
type fakeSlack struct {
	mu        sync.Mutex
	alerts    []sentAlert
	announced []domain.Transfer
	fail      int
}

type sentAlert struct {
	user  string
	org   domain.Org
	alert domain.Alert
	group string // the group's name, for spend alerts
}

func (f *fakeSlack) SendAlert(_ context.Context, org domain.Org, holder domain.Member, a domain.Alert, group *domain.BudgetGroup) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail > 0 {
		f.fail--
		return errors.New("slack: service unavailable")
	}
	s := sentAlert{user: holder.SlackUserID, org: org, alert: a}
	if group != nil {
		s.group = group.Name
	}
	f.alerts = append(f.alerts, s)
	return nil
}

// AnnounceTransferOutcome keeps the Announcer's contract: once per
// transfer.
func (f *fakeSlack) AnnounceTransferOutcome(_ context.Context, t domain.Transfer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.announced {
		if a.OrgID == t.OrgID && a.ID == t.ID {
			return nil
		}
	}
	f.announced = append(f.announced, t)
	return nil
}

func (f *fakeSlack) sent() []sentAlert {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentAlert(nil), f.alerts...)
}

func (f *fakeSlack) announcements() []domain.Transfer {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]domain.Transfer(nil), f.announced...)
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newClock() *dynamotest.Clock {
	return dynamotest.NewClock(time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC))
}

// newStore makes a store with the demo organization of the sample events:
// "acme" (Acme Corp), threshold 10 credits, Owner and Billing holder
// olivia, member bob, budget group "research" (Research, cap 100 credits).
func newStore(t *testing.T, c *dynamotest.Clock) *dynamo.Store {
	t.Helper()
	st := dynamotest.NewStore(t, dynamo.WithClock(c.Now))
	seed(t, st)
	return st
}

func seed(t *testing.T, st *dynamo.Store) {
	t.Helper()
	ctx := context.Background()
	org := domain.Org{ID: "acme", Name: "Acme Corp", SlackTeamID: "T1", LowBalanceThreshold: 10 * cr}
	owner := domain.Member{OrgID: "acme", ID: "olivia", Name: "Olivia", SlackUserID: "U0LIVIA"}
	if _, _, err := st.CreateOrg(ctx, org, owner); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.AddMember(ctx, domain.Member{OrgID: "acme", ID: "bob", Name: "Bob", SlackUserID: "U0BOB", Role: domain.RoleMember}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.CreateGroup(ctx, domain.BudgetGroup{OrgID: "acme", ID: "research", Name: "Research", Cap: 100 * cr}, nil); err != nil {
		t.Fatal(err)
	}
}

func sample(t *testing.T, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "notifier", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func handleStream(t *testing.T, n *Notifier, raw json.RawMessage) events.DynamoDBEventResponse {
	t.Helper()
	out, err := n.Handle(context.Background(), raw)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	resp, ok := out.(events.DynamoDBEventResponse)
	if !ok {
		t.Fatalf("Handle answered %T, want events.DynamoDBEventResponse", out)
	}
	return resp
}

func TestHandleStreamSamples(t *testing.T) {
	type want struct {
		kind           domain.AlertKind
		balance, spent domain.Micros
		level          int
		group          string
		shareOfCapPct  int64
	}
	tests := []struct {
		name  string
		files []string
		want  []want // alerts sent to the Billing holder, in order
	}{
		{"a debit below the threshold alerts", []string{"pool-below-threshold.json"},
			[]want{{kind: domain.AlertLowBalance, balance: 9 * cr}}},
		{"a redelivered record sends nothing twice", []string{"pool-below-threshold.json", "pool-below-threshold-redelivered.json", "pool-below-threshold.json"},
			[]want{{kind: domain.AlertLowBalance, balance: 9 * cr}}},
		{"exhaustion alerts once more", []string{"pool-below-threshold.json", "pool-exhausted.json", "pool-exhausted.json"},
			[]want{{kind: domain.AlertLowBalance, balance: 9 * cr}, {kind: domain.AlertExhausted}}},
		{"a grant re-arms: the next crossing alerts again", []string{"pool-below-threshold.json", "pool-grant-then-below-again.json", "pool-grant-then-below-again.json"},
			[]want{{kind: domain.AlertLowBalance, balance: 9 * cr}, {kind: domain.AlertLowBalance, balance: 9_500_000}}},
		{"a budget group crossing 80% alerts once, with the real share", []string{"spend-80.json", "spend-80.json"},
			[]want{{kind: domain.AlertGroupSpend, spent: 81 * cr, level: 80, group: "Research", shareOfCapPct: 81}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slack := &fakeSlack{}
			n := New(newStore(t, newClock()), slack, WithLogger(quiet))
			for _, f := range tt.files {
				if resp := handleStream(t, n, sample(t, f)); len(resp.BatchItemFailures) != 0 {
					t.Fatalf("%s: failures %v", f, resp.BatchItemFailures)
				}
			}
			got := slack.sent()
			if len(got) != len(tt.want) {
				t.Fatalf("sent %d alerts %+v, want %d", len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.user != "U0LIVIA" || g.org.Name != "Acme Corp" || g.alert.Kind != w.kind || g.alert.Balance != w.balance ||
					g.alert.Spent != w.spent || g.alert.Level != w.level || g.group != w.group || g.alert.SharePercent() != w.shareOfCapPct {
					t.Errorf("alert %d = %+v, want %+v to U0LIVIA", i, g, w)
				}
			}
		})
	}
}

func TestHandleStreamFailedSendIsRetried(t *testing.T) {
	slack := &fakeSlack{fail: 1}
	n := New(newStore(t, newClock()), slack, WithLogger(quiet))

	// One batch: the spend record, then the pool record. The first send
	// fails, so both are reported (the pool record was not tried, so its
	// alert keeps its place after the spend one).
	var batch events.DynamoDBEvent
	for _, f := range []string{"spend-80.json", "pool-below-threshold.json"} {
		var ev events.DynamoDBEvent
		if err := json.Unmarshal(sample(t, f), &ev); err != nil {
			t.Fatal(err)
		}
		batch.Records = append(batch.Records, ev.Records...)
	}
	raw, err := json.Marshal(batch)
	if err != nil {
		t.Fatal(err)
	}
	resp := handleStream(t, n, raw)
	var failed []string
	for _, f := range resp.BatchItemFailures {
		failed = append(failed, f.ItemIdentifier)
	}
	want := []string{batch.Records[0].Change.SequenceNumber, batch.Records[1].Change.SequenceNumber}
	if strings.Join(failed, ",") != strings.Join(want, ",") {
		t.Fatalf("BatchItemFailures = %v, want %v", failed, want)
	}
	if got := slack.sent(); len(got) != 0 {
		t.Fatalf("sent %v before the retry", got)
	}

	// Lambda retries from the failed record: now both are sent, once.
	for range 2 {
		if resp := handleStream(t, n, raw); len(resp.BatchItemFailures) != 0 {
			t.Fatalf("retry failed: %v", resp.BatchItemFailures)
		}
	}
	got := slack.sent()
	if len(got) != 2 || got[0].alert.Kind != domain.AlertGroupSpend || got[1].alert.Kind != domain.AlertLowBalance {
		t.Fatalf("after the retry sent %+v, want the spend alert then the low-balance alert", got)
	}
}

func TestHandleSkipsWhatCannotBeHandled(t *testing.T) {
	record := func(mutate func(old, new map[string]any)) json.RawMessage {
		var ev map[string]any
		if err := json.Unmarshal(sample(t, "pool-below-threshold.json"), &ev); err != nil {
			t.Fatal(err)
		}
		ch := ev["Records"].([]any)[0].(map[string]any)["dynamodb"].(map[string]any)
		mutate(ch["OldImage"].(map[string]any), ch["NewImage"].(map[string]any))
		b, _ := json.Marshal(ev)
		return b
	}
	tests := []struct {
		name string
		raw  json.RawMessage
	}{
		{"balance is not a number", record(func(_, n map[string]any) { n["balance_micros"] = map[string]any{"S": "9"} })},
		{"balance is missing", record(func(_, n map[string]any) { delete(n, "balance_micros") })},
		{"balance is not an integer", record(func(_, n map[string]any) { n["balance_micros"] = map[string]any{"N": "9.5"} })},
		{"balance does not fit in an int64", record(func(_, n map[string]any) { n["balance_micros"] = map[string]any{"N": "99999999999999999999999"} })},
		{"organization does not exist", record(func(o, n map[string]any) {
			o["org_id"] = map[string]any{"S": "ghost"}
			n["org_id"] = map[string]any{"S": "ghost"}
		})},
		{"an item the notifier does not watch", record(func(o, n map[string]any) {
			o["type"] = map[string]any{"S": "member"}
			n["type"] = map[string]any{"S": "member"}
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slack := &fakeSlack{}
			n := New(newStore(t, newClock()), slack, WithLogger(quiet))
			if resp := handleStream(t, n, tt.raw); len(resp.BatchItemFailures) != 0 {
				t.Errorf("failures %v: a record that can never succeed must not block the shard", resp.BatchItemFailures)
			}
			if got := slack.sent(); len(got) != 0 {
				t.Errorf("sent %v", got)
			}
		})
	}
}

func TestHandleRefusesUnknownEvents(t *testing.T) {
	tests := []struct {
		name, raw, want string
	}{
		{"not JSON", `{"Records": [`, "not a JSON object"},
		{"an SQS batch", `{"Records": [{"eventSource": "aws:sqs", "body": "x"}]}`, `"aws:sqs"`},
		{"another EventBridge event", `{"detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2"}`, "unrecognized event"},
		{"an API Gateway request", `{"version": "2.0", "rawPath": "/v1/usage"}`, "unrecognized event"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slack := &fakeSlack{}
			n := New(nil, slack, WithLogger(quiet)) // nothing may be read or written
			out, err := n.Handle(context.Background(), json.RawMessage(tt.raw))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Handle = %v, %v; want an error containing %q", out, err, tt.want)
			}
		})
	}
}

func TestScheduleExpiresDueTransfer(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	st := newStore(t, c)
	slack := &fakeSlack{}
	n := New(st, slack, WithLogger(quiet))
	tr, _, err := st.RequestTransfer(ctx, "acme", "olivia", "bob")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		advance     time.Duration
		wantExpired int
		wantTotal   int // announcements so far
	}{
		{0, 0, 0},
		{domain.DefaultTransferTTL - time.Minute, 0, 0},
		{2 * time.Minute, 1, 1}, // past the stored expiry
		{5 * time.Minute, 0, 1}, // the next run finds nothing new
	}
	for i, s := range steps {
		c.Advance(s.advance)
		out, err := n.Handle(ctx, sample(t, "scheduled.json"))
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		res, ok := out.(ScheduleResult)
		if !ok || res.Expired != s.wantExpired || res.Announced != s.wantExpired {
			t.Fatalf("step %d: answered %#v, want %d expired and announced", i, out, s.wantExpired)
		}
		if got := slack.announcements(); len(got) != s.wantTotal {
			t.Fatalf("step %d: %d announcements, want %d", i, len(got), s.wantTotal)
		}
	}
	got := slack.announced[0]
	if got.ID != tr.ID || got.Status != domain.TransferExpired {
		t.Errorf("announced %+v, want transfer %s expired", got, tr.ID)
	}
	if stored, err := st.GetTransfer(ctx, "acme", tr.ID); err != nil || stored.Status != domain.TransferExpired {
		t.Errorf("stored transfer = %+v, %v; want expired", stored, err)
	}
}

// TestStreamAnnouncesTransfersClosedWithoutAnswer: a transfer closed by a
// departure (here through the admin API's path, which has no Slack) or by
// expiry is announced from its stream record; answered ones are not (the
// Slack surface announced them when it answered).
func TestStreamAnnouncesTransfersClosedWithoutAnswer(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	st := newStore(t, c)
	tr, _, err := st.RequestTransfer(ctx, "acme", "olivia", "bob")
	if err != nil {
		t.Fatal(err)
	}
	record := func(from, to domain.TransferStatus) events.DynamoDBEventRecord {
		img := func(s domain.TransferStatus) map[string]events.DynamoDBAttributeValue {
			return map[string]events.DynamoDBAttributeValue{
				"type": events.NewStringAttribute("transfer"), "org_id": events.NewStringAttribute("acme"),
				"id": events.NewStringAttribute(tr.ID), "status": events.NewStringAttribute(string(s)),
			}
		}
		return events.DynamoDBEventRecord{EventID: "e-" + string(to), EventName: "MODIFY", EventSource: "aws:dynamodb",
			Change: events.DynamoDBStreamRecord{OldImage: img(from), NewImage: img(to), SequenceNumber: "1"}}
	}
	if err := st.RemoveMember(ctx, "acme", nil, "bob"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		from, to domain.TransferStatus
		want     int // announcements in total after the record
	}{
		{"accepted by a click: announced by Slack already", domain.TransferPending, domain.TransferAccepted, 0},
		{"declined by a click", domain.TransferPending, domain.TransferDeclined, 0},
		{"invalidated by a removal", domain.TransferPending, domain.TransferInvalidated, 1},
		{"the same record again", domain.TransferPending, domain.TransferInvalidated, 1},
	}
	slack := &fakeSlack{}
	n := New(st, slack, WithLogger(quiet))
	for _, tt := range tests {
		resp := n.HandleStream(ctx, events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{record(tt.from, tt.to)}})
		if len(resp.BatchItemFailures) != 0 {
			t.Fatalf("%s: failures %v", tt.name, resp.BatchItemFailures)
		}
		if len(slack.announced) != tt.want {
			t.Fatalf("%s: %d announcements, want %d", tt.name, len(slack.announced), tt.want)
		}
	}
	if got := slack.announced[0]; got.ID != tr.ID || got.Status != domain.TransferInvalidated {
		t.Fatalf("announced %+v", got)
	}
}

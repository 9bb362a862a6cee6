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
)

// The store the Lambda and the local run wire in.
var (
	_ Store         = (*dynamo.Store)(nil)
	_ SnapshotStore = (*dynamo.Store)(nil)
)

// fakeSlack records what the notifier sends; the Slack surface tests the
// real client. fail makes the next n direct messages fail.
type fakeSlack struct {
	mu        sync.Mutex
	dms       []dm
	announced []domain.Transfer
	fail      int
}

type dm struct{ user, text string }

func (f *fakeSlack) DirectMessage(_ context.Context, user, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail > 0 {
		f.fail--
		return errors.New("slack: service unavailable")
	}
	f.dms = append(f.dms, dm{user, text})
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

func (f *fakeSlack) sent() []dm {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]dm(nil), f.dms...)
}

// clock is a settable clock for the store and the poller.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newStore starts the embedded back end with a fresh table and the demo
// organization of the sample events: "acme" (Acme Corp), threshold 10
// credits, Owner and Billing holder olivia, member bob, budget group
// "research" (Research, cap 100 credits).
func newStore(t *testing.T, c *clock) *dynamo.Store {
	t.Helper()
	ctx := context.Background()
	client, stop, err := dynamo.NewEmbeddedClient()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	if err := dynamo.EnsureTable(ctx, client, "notify-test"); err != nil {
		t.Fatal(err)
	}
	st := dynamo.New(client, "notify-test", dynamo.WithClock(c.Now))
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
	return st
}

func newClock() *clock { return &clock{now: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)} }

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
	tests := []struct {
		name  string
		files []string
		want  []string // texts sent to the Billing holder, in order
	}{
		{"a debit below the threshold alerts", []string{"pool-below-threshold.json"},
			[]string{"Acme Corp's credit pool is below its low-balance threshold of 10 credits: 9 credits left."}},
		{"a redelivered record sends nothing twice", []string{"pool-below-threshold.json", "pool-below-threshold-redelivered.json", "pool-below-threshold.json"},
			[]string{"below its low-balance threshold of 10 credits: 9 credits left."}},
		{"exhaustion alerts once more", []string{"pool-below-threshold.json", "pool-exhausted.json", "pool-exhausted.json"},
			[]string{"9 credits left.", "Acme Corp's credit pool is empty"}},
		{"a grant re-arms: the next crossing alerts again", []string{"pool-below-threshold.json", "pool-grant-then-below-again.json", "pool-grant-then-below-again.json"},
			[]string{"9 credits left.", "9.5 credits left."}},
		{"a budget group crossing 80% alerts once", []string{"spend-80.json", "spend-80.json"},
			[]string{`Budget group "Research" of Acme Corp has used 80% of its cap for 2026-11: 81 of 100 credits spent.`}},
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
				t.Fatalf("sent %d messages %v, want %d", len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				if got[i].user != "U0LIVIA" || !strings.Contains(got[i].text, w) {
					t.Errorf("message %d = %+v, want to U0LIVIA containing %q", i, got[i], w)
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
	if len(got) != 2 || !strings.Contains(got[0].text, "80%") || !strings.Contains(got[1].text, "9 credits left") {
		t.Fatalf("after the retry sent %v, want the spend alert then the low-balance alert", got)
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
		{"organization does not exist", record(func(o, n map[string]any) {
			o["org_id"] = map[string]any{"S": "ghost"}
			n["org_id"] = map[string]any{"S": "ghost"}
		})},
		{"an item the notifier does not watch", record(func(o, n map[string]any) {
			o["type"] = map[string]any{"S": "transfer"}
			n["type"] = map[string]any{"S": "transfer"}
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
	tr, err := st.RequestTransfer(ctx, "acme", "olivia", "bob")
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
		if len(slack.announced) != s.wantTotal {
			t.Fatalf("step %d: %d announcements, want %d", i, len(slack.announced), s.wantTotal)
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
	tr, err := st.RequestTransfer(ctx, "acme", "olivia", "bob")
	if err != nil {
		t.Fatal(err)
	}
	record := func(from, to domain.TransferStatus) events.DynamoDBEventRecord {
		img := func(s domain.TransferStatus) map[string]events.DynamoDBAttributeValue {
			return transferImage{OrgID: "acme", ID: tr.ID, Status: s}.image()
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

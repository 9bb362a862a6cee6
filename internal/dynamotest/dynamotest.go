// Package dynamotest gives tests the DynamoDB back ends to run against: the
// embedded minidyn always, and DynamoDB Local when DYNAMODB_LOCAL_ENDPOINT
// names one (`make test` starts it and sets the variable). It is imported
// by _test.go files only.
//
// In CI (CI=true) DynamoDB Local is required: a missing or unreachable
// endpoint fails the test instead of quietly testing less.
package dynamotest

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/embedded"
)

// EndpointEnv names the environment variable holding DynamoDB Local's
// endpoint, such as http://127.0.0.1:8000.
const EndpointEnv = "DYNAMODB_LOCAL_ENDPOINT"

// Names of the back ends.
const (
	Embedded = "minidyn"
	Local    = "dynamodb-local"
)

// probeTimeout bounds the check that DynamoDB Local answers; it answers in
// milliseconds when it is up, so a few seconds means it is not.
const probeTimeout = 5 * time.Second

// Backend is one DynamoDB back end with a client for it.
type Backend struct {
	Name   string
	Client *dynamodb.Client
}

// Backends returns every back end the test should run against: minidyn,
// and DynamoDB Local when configured. Run the test body once per back end,
// as a subtest named after it.
func Backends(t testing.TB) []Backend {
	t.Helper()
	backends := []Backend{embeddedBackend(t)}
	endpoint, ci := config()
	if endpoint == "" {
		if ci {
			t.Fatalf("dynamotest: CI=true but %s is not set: CI must test against DynamoDB Local too; run the tests with `make test`, which starts it", EndpointEnv)
		}
		t.Logf("dynamotest: %s not set, testing against %s only; `make test` also tests against DynamoDB Local", EndpointEnv, Embedded)
		return backends
	}
	return append(backends, local(t, endpoint))
}

// LocalOnly returns DynamoDB Local alone, for the tests whose point is what
// only a real implementation does (concurrent transactions, conflicts).
// Outside CI without DYNAMODB_LOCAL_ENDPOINT the test is skipped.
func LocalOnly(t testing.TB) Backend {
	t.Helper()
	endpoint, ci := config()
	if endpoint == "" {
		if ci {
			t.Fatalf("dynamotest: CI=true but %s is not set: this test needs DynamoDB Local; run the tests with `make test`, which starts it", EndpointEnv)
		}
		t.Skipf("dynamotest: needs DynamoDB Local: run `make test`, which starts it, or set %s to a running one", EndpointEnv)
	}
	return local(t, endpoint)
}

// config reads the environment: DynamoDB Local's endpoint and whether this
// is CI (CI=true, or any other true value strconv.ParseBool takes).
func config() (endpoint string, ci bool) {
	ci, _ = strconv.ParseBool(os.Getenv("CI"))
	return os.Getenv(EndpointEnv), ci
}

func embeddedBackend(t testing.TB) Backend {
	t.Helper()
	srv := embedded.Start()
	t.Cleanup(srv.Close)
	return Backend{Name: Embedded, Client: srv.Client()}
}

// local connects to DynamoDB Local and checks that it answers, so that a
// stopped server fails with one clear message rather than as every
// test's first store call. A configured endpoint that does not answer fails
// outside CI too: whoever set it meant to test against it.
func local(t testing.TB, endpoint string) Backend {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	client, err := dynamo.NewClient(ctx, endpoint)
	if err != nil {
		t.Fatalf("dynamotest: client for DynamoDB Local at %s=%s: %v", EndpointEnv, endpoint, err)
	}
	if _, err := client.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)}); err != nil {
		t.Fatalf("dynamotest: DynamoDB Local at %s=%s does not answer ListTables within %v: %v (is it running? `make test` starts it)", EndpointEnv, endpoint, probeTimeout, err)
	}
	return Backend{Name: Local, Client: client}
}

// unsafeTableChars are the characters a table name may not have.
var unsafeTableChars = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// NewTable creates a table with the store's schema under a name no other
// test uses, waits until it is active, and deletes it when the test ends.
func NewTable(t testing.TB, b Backend) string {
	t.Helper()
	name := tableName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := b.Client.CreateTable(ctx, dynamo.LocalTableInput(name)); err != nil {
		t.Fatalf("dynamotest: create table %s on %s: %v", name, b.Name, err)
	}
	t.Cleanup(func() {
		// The test's own context is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := b.Client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Errorf("dynamotest: delete table %s on %s: %v", name, b.Name, err)
		}
	})
	if err := waitActive(ctx, b.Client, name); err != nil {
		t.Fatalf("dynamotest: wait for table %s on %s to be active: %v", name, b.Name, err)
	}
	return name
}

// waitActive polls until the table and its indexes are active. It does not
// use the SDK's TableExistsWaiter: minidyn reports no status at all, which
// that waiter never takes for ACTIVE; minidyn's tables are usable at once,
// so here an empty status counts as active.
func waitActive(ctx context.Context, client *dynamodb.Client, name string) error {
	active := func(s string) bool { return s == "" || s == string(types.TableStatusActive) }
	for delay := 20 * time.Millisecond; ; delay = min(2*delay, 500*time.Millisecond) {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return err
		}
		ready := active(string(out.Table.TableStatus))
		for _, ix := range out.Table.GlobalSecondaryIndexes {
			ready = ready && active(string(ix.IndexStatus))
		}
		if ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("table status %s: %w", out.Table.TableStatus, ctx.Err())
		case <-time.After(delay):
		}
	}
}

// tableName makes a valid table name (3 to 255 of [a-zA-Z0-9_.-]) from the
// test's name, readable when debugging, plus random letters so that reruns and
// parallel tests never collide on a shared DynamoDB Local.
func tableName(testName string) string {
	base := unsafeTableChars.ReplaceAllString(testName, "_")
	if len(base) > 200 {
		base = base[:200]
	}
	return "t-" + base + "-" + rand.Text()[:12]
}

// Default is the back end a test of the layers above the store runs on:
// DynamoDB Local when configured (`make test` starts it, so those tests
// run against the real emulator there), the embedded back end otherwise.
// In CI DynamoDB Local is required.
func Default(t testing.TB) Backend {
	t.Helper()
	endpoint, ci := config()
	if endpoint == "" {
		if ci {
			t.Fatalf("dynamotest: CI=true but %s is not set: the tests run against DynamoDB Local in CI; run them with `make test`, which starts it", EndpointEnv)
		}
		return embeddedBackend(t)
	}
	return local(t, endpoint)
}

// NewStore makes a store on a fresh table of the Default back end, with
// the given options (dynamo.WithClock(clock.Now) for a test clock).
func NewStore(t testing.TB, opts ...dynamo.Option) *dynamo.Store {
	t.Helper()
	b := Default(t)
	return dynamo.New(b.Client, NewTable(t, b), opts...)
}

// Clock is a settable test clock, safe for concurrent use. Its zero value
// is not usable; make one with NewClock.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock makes a clock showing t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set sets the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

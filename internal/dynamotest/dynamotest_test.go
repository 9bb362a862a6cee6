package dynamotest

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/orgcredit/orgcredit/internal/dynamo"
)

func TestBackendsRoundTrip(t *testing.T) {
	backends := Backends(t)
	var names []string
	for _, b := range backends {
		names = append(names, b.Name)
	}
	want := []string{Embedded}
	if os.Getenv(EndpointEnv) != "" {
		want = append(want, Local)
	}
	if !slices.Equal(names, want) {
		t.Fatalf("Backends = %v, want %v", names, want)
	}

	for _, b := range backends {
		t.Run(b.Name, func(t *testing.T) {
			ctx := t.Context()
			table := NewTable(t, b)
			item := map[string]types.AttributeValue{
				dynamo.PartitionKey:     &types.AttributeValueMemberS{Value: "ORG#o1"},
				dynamo.SortKey:          &types.AttributeValueMemberS{Value: "POOL"},
				dynamo.GSI1PartitionKey: &types.AttributeValueMemberS{Value: "G#o1"},
				dynamo.GSI1SortKey:      &types.AttributeValueMemberS{Value: "POOL"},
				"balance_micros":        &types.AttributeValueMemberN{Value: "1500000"},
			}
			if _, err := b.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
				t.Fatalf("PutItem: %v", err)
			}
			out, err := b.Client.GetItem(ctx, &dynamodb.GetItemInput{
				TableName:      aws.String(table),
				Key:            map[string]types.AttributeValue{dynamo.PartitionKey: item[dynamo.PartitionKey], dynamo.SortKey: item[dynamo.SortKey]},
				ConsistentRead: aws.Bool(true),
			})
			if err != nil {
				t.Fatalf("GetItem: %v", err)
			}
			got, ok := out.Item["balance_micros"].(*types.AttributeValueMemberN)
			if !ok || got.Value != "1500000" {
				t.Fatalf("GetItem returned %#v, want balance_micros 1500000", out.Item)
			}
			if len(out.Item) != len(item) {
				t.Errorf("GetItem returned %d attributes, want %d", len(out.Item), len(item))
			}
		})
	}
}

func TestNewTableIsFreshAndDeletedAfterTest(t *testing.T) {
	for _, b := range Backends(t) {
		t.Run(b.Name, func(t *testing.T) {
			var first, second string
			t.Run("create", func(t *testing.T) {
				first = NewTable(t, b)
				second = NewTable(t, b)
				if first == second {
					t.Fatalf("two tables share the name %q", first)
				}
				if _, err := b.Client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(first)}); err != nil {
					t.Fatalf("DescribeTable right after NewTable: %v", err)
				}
			})
			// The subtest has ended, so its cleanups have deleted both.
			for _, name := range []string{first, second} {
				_, err := b.Client.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
				var nf *types.ResourceNotFoundException
				if !errors.As(err, &nf) {
					t.Errorf("DescribeTable(%s) after the test = %v, want ResourceNotFoundException", name, err)
				}
			}
		})
	}
}

func TestLocalOnly(t *testing.T) {
	b := LocalOnly(t)
	if b.Name != Local || b.Client == nil {
		t.Fatalf("LocalOnly = %+v, want the %s back end", b, Local)
	}
	table := NewTable(t, b)
	out, err := b.Client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatalf("DescribeTable: %v", err)
	}
	if out.Table.TableStatus != types.TableStatusActive {
		t.Errorf("table status %s, want ACTIVE", out.Table.TableStatus)
	}
}

func TestTableName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)
	tests := []struct {
		testName   string
		wantPrefix string
	}{
		{"TestStore", "t-TestStore-"},
		{"TestStore/debit_twice/minidyn", "t-TestStore_debit_twice_minidyn-"},
		{"Test with spaces, ümlauts & #signs", "t-Test_with_spaces_mlauts_signs-"},
		{"", "t--"},
		{strings.Repeat("x", 400), "t-" + strings.Repeat("x", 200) + "-"},
	}
	for _, tt := range tests {
		a, b := tableName(tt.testName), tableName(tt.testName)
		if !valid.MatchString(a) {
			t.Errorf("tableName(%q) = %q, not a valid table name", tt.testName, a)
		}
		if !strings.HasPrefix(a, tt.wantPrefix) {
			t.Errorf("tableName(%q) = %q, want prefix %q", tt.testName, a, tt.wantPrefix)
		}
		if a == b {
			t.Errorf("tableName(%q) gave %q twice", tt.testName, a)
		}
	}
}

// helperEnv makes TestHelperProcess call the function it names when the
// test binary runs itself as a subprocess.
const helperEnv = "DYNAMOTEST_HELPER"

// TestHelperProcess is not a test on its own: TestEnvironment runs the test
// binary again with a chosen environment, and this is what that run does,
// so that Fatal and Skip act on a real *testing.T.
func TestHelperProcess(t *testing.T) {
	switch os.Getenv(helperEnv) {
	case "":
		return // not a subprocess
	case "Backends":
		var names []string
		for _, b := range Backends(t) {
			names = append(names, b.Name)
		}
		t.Logf("backends: %s", strings.Join(names, ","))
	case "LocalOnly":
		t.Logf("backend: %s", LocalOnly(t).Name)
	default:
		t.Fatalf("unknown %s=%q", helperEnv, os.Getenv(helperEnv))
	}
}

func TestEnvironment(t *testing.T) {
	// An address where nothing listens: DynamoDB Local stopped or never started.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()

	type envCase struct {
		name     string
		call     string // the function TestHelperProcess calls
		ci       string // "" leaves CI unset
		endpoint string // "" leaves it unset
		want     string // PASS, FAIL or SKIP
		output   string // must appear in the output
	}
	tests := []envCase{
		{"CI without endpoint fails", "Backends", "true", "", "FAIL", "CI=true but DYNAMODB_LOCAL_ENDPOINT is not set"},
		{"CI=1 without endpoint fails", "Backends", "1", "", "FAIL", "CI=true but DYNAMODB_LOCAL_ENDPOINT is not set"},
		{"CI with dead endpoint fails", "Backends", "true", dead, "FAIL", "does not answer ListTables"},
		{"dead endpoint fails outside CI", "Backends", "", dead, "FAIL", "does not answer ListTables"},
		{"outside CI without endpoint uses minidyn", "Backends", "", "", "PASS", "backends: minidyn\n"},
		{"CI=false without endpoint uses minidyn", "Backends", "false", "", "PASS", "backends: minidyn\n"},
		{"LocalOnly in CI without endpoint fails", "LocalOnly", "true", "", "FAIL", "this test needs DynamoDB Local"},
		{"LocalOnly outside CI without endpoint skips", "LocalOnly", "", "", "SKIP", "run `make test`"},
		{"LocalOnly with dead endpoint fails", "LocalOnly", "", dead, "FAIL", "does not answer ListTables"},
	}
	if endpoint := os.Getenv(EndpointEnv); endpoint != "" {
		tests = append(tests,
			envCase{"CI with live endpoint uses both", "Backends", "true", endpoint, "PASS", "backends: minidyn,dynamodb-local\n"},
			envCase{"LocalOnly with live endpoint", "LocalOnly", "true", endpoint, "PASS", "backend: dynamodb-local\n"},
		)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperProcess$", "-test.v", "-test.count=1")
			cmd.Env = []string{helperEnv + "=" + tt.call}
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "CI=") && !strings.HasPrefix(kv, EndpointEnv+"=") && !strings.HasPrefix(kv, helperEnv+"=") {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			if tt.ci != "" {
				cmd.Env = append(cmd.Env, "CI="+tt.ci)
			}
			if tt.endpoint != "" {
				cmd.Env = append(cmd.Env, EndpointEnv+"="+tt.endpoint)
			}
			out, err := cmd.CombinedOutput()
			var exitErr *exec.ExitError
			if err != nil && !errors.As(err, &exitErr) {
				t.Fatalf("run helper: %v", err)
			}
			if failed := err != nil; failed != (tt.want == "FAIL") {
				t.Errorf("helper exit error = %v, want failure: %v", err, tt.want == "FAIL")
			}
			if !strings.Contains(string(out), "--- "+tt.want+": TestHelperProcess") {
				t.Errorf("helper did not end in %s", tt.want)
			}
			if !strings.Contains(string(out), tt.output) {
				t.Errorf("helper output lacks %q", tt.output)
			}
			if t.Failed() {
				t.Logf("helper output:\n%s", out)
			}
		})
	}
}

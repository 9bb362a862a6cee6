package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/orgcredit/orgcredit/internal/dynamo"
	"github.com/orgcredit/orgcredit/internal/metrics"
)

// streamActions are what the DynamoDB event source mapping grants the
// notifier on the table's stream, on top of its table actions.
var streamActions = []string{
	"dynamodb:DescribeStream",
	"dynamodb:GetRecords",
	"dynamodb:GetShardIterator",
	"dynamodb:ListStreams",
}

// assetDir holds placeholder bootstrap files, for the stack built from
// prebuilt binaries (-c assetDir=...).
var assetDir string

// sharedOutdir is the cloud assembly folder of the stack the tests share,
// which lives as long as the tests: assertions synthesize into it again.
var sharedOutdir string

func TestMain(m *testing.M) {
	code := func() int {
		defer jsii.Close()
		dir, err := os.MkdirTemp("", "orgcredit-assets-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if err := writePlaceholders(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		assetDir = dir
		if sharedOutdir, err = os.MkdirTemp("", "orgcredit-cdk-out-"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(sharedOutdir)
		return m.Run()
	}()
	os.Exit(code)
}

func writePlaceholders(dir string) error {
	for _, fn := range functions {
		if err := os.MkdirAll(filepath.Join(dir, fn.Name), 0o755); err != nil {
			return err
		}
		// Distinct contents give each function its own asset, as real
		// binaries would.
		if err := os.WriteFile(filepath.Join(dir, fn.Name, "bootstrap"), []byte("placeholder for "+fn.Name), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// cdkContext is the context in cdk.json (feature flags included), so the
// tests synthesize what `cdk synth` synthesizes.
func cdkContext(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "cdk.json"))
	if err != nil {
		t.Fatalf("read cdk.json: %v", err)
	}
	var cfg struct {
		App     string         `json:"app"`
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatalf("cdk.json: %v", err)
	}
	if cfg.App != "go run ./infra" {
		t.Errorf("cdk.json app = %q, want %q", cfg.App, "go run ./infra")
	}
	return cfg.Context
}

// synthesized is the stack as main builds it, with cdk-nag applied.
type synthesized struct {
	app   awscdk.App
	stack awscdk.Stack
	tmpl  template
}

var (
	synthOnce sync.Once
	synthRes  *synthesized
)

// synth is the stack as `cdk synth` builds it from cdk.json, except that
// the functions are not compiled: the CDK skips the bundling of stacks not
// listed in this context key (the CLI sets it to the stacks it deploys),
// and the asset hashes, computed from the sources, are the same.
// TestCDKSynth checks that with the real CLI and real builds.
func synth(t *testing.T) *synthesized {
	t.Helper()
	synthOnce.Do(func() {
		synthRes = synthWith(t, sharedOutdir, map[string]any{}, true)
	})
	if synthRes == nil {
		t.Fatal("stack did not synthesize (see the first failing test)")
	}
	return synthRes
}

// synthWith synthesizes the stack into outdir with cdk.json's context and
// more, with or without the AWS Solutions checks, without compiling the
// functions.
func synthWith(t *testing.T, outdir string, context map[string]any, nag bool) *synthesized {
	t.Helper()
	ctx := cdkContext(t)
	ctx["aws:cdk:bundling-stacks"] = []any{}
	maps.Copy(ctx, context)
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outdir)})
	props, err := propsFromContext(app)
	if err != nil {
		t.Fatalf("propsFromContext: %v", err)
	}
	stack, err := NewStack(app, stackName, props)
	if err != nil {
		t.Fatalf("NewStack: %v", err)
	}
	if nag {
		awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	}
	return &synthesized{app: app, stack: stack, tmpl: parseTemplate(t, assertions.Template_FromStack(stack, nil))}
}

// template is the synthesized CloudFormation template as plain Go values,
// so that failures print as Go diffs rather than jsii panics.
type template struct {
	Resources map[string]resource `json:"Resources"`
	Outputs   map[string]struct {
		Value any `json:"Value"`
	} `json:"Outputs"`
}

type resource struct {
	Type           string         `json:"Type"`
	DeletionPolicy string         `json:"DeletionPolicy"`
	Properties     map[string]any `json:"Properties"`
	Metadata       map[string]any `json:"Metadata"`
	DependsOn      []string       `json:"DependsOn"`
}

func parseTemplate(t *testing.T, tmpl assertions.Template) template {
	t.Helper()
	raw, err := json.Marshal(tmpl.ToJSON())
	if err != nil {
		t.Fatal(err)
	}
	var out template
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func (tm template) ofType(typ string) map[string]resource {
	out := map[string]resource{}
	for id, r := range tm.Resources {
		if r.Type == typ {
			out[id] = r
		}
	}
	return out
}

// only returns the one resource of a type, failing otherwise.
func (tm template) only(t *testing.T, typ string) (string, resource) {
	t.Helper()
	rs := tm.ofType(typ)
	if len(rs) != 1 {
		t.Fatalf("%d resources of type %s, want 1", len(rs), typ)
	}
	for id, r := range rs {
		return id, r
	}
	panic("unreachable")
}

// id is the logical ID of the stack's child construct with the given ID.
func (s *synthesized) id(t *testing.T, constructID string) string {
	t.Helper()
	c := s.stack.Node().TryFindChild(jsii.String(constructID))
	if c == nil {
		t.Fatalf("no construct %q in the stack", constructID)
	}
	return logicalID(s.stack, c)
}

func ref(id string) map[string]any          { return map[string]any{"Ref": id} }
func getAtt(id, attr string) map[string]any { return map[string]any{"Fn::GetAtt": []any{id, attr}} }

// equalJSON compares two values by their JSON form.
func equalJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestTableMatchesSchema(t *testing.T) {
	s := synth(t)
	_, table := s.tmpl.only(t, "AWS::DynamoDB::Table")
	p := table.Properties

	// The expected table is the one internal/dynamo creates locally.
	want := dynamo.CreateTableInput(dynamo.DefaultTableName)

	var keys []any
	for _, k := range want.KeySchema {
		keys = append(keys, map[string]any{"AttributeName": aws.ToString(k.AttributeName), "KeyType": string(k.KeyType)})
	}
	var attrs []any
	for _, a := range want.AttributeDefinitions {
		attrs = append(attrs, map[string]any{"AttributeName": aws.ToString(a.AttributeName), "AttributeType": string(a.AttributeType)})
	}
	var gsis []any
	for _, g := range want.GlobalSecondaryIndexes {
		var ks []any
		for _, k := range g.KeySchema {
			ks = append(ks, map[string]any{"AttributeName": aws.ToString(k.AttributeName), "KeyType": string(k.KeyType)})
		}
		gsis = append(gsis, map[string]any{
			"IndexName":  aws.ToString(g.IndexName),
			"KeySchema":  ks,
			"Projection": map[string]any{"ProjectionType": string(g.Projection.ProjectionType)},
		})
	}

	tests := []struct {
		prop string
		want any
	}{
		{"KeySchema", keys},
		{"AttributeDefinitions", sortedBy(attrs, "AttributeName")},
		{"GlobalSecondaryIndexes", gsis},
		{"BillingMode", string(want.BillingMode)},
		{"StreamSpecification", map[string]any{"StreamViewType": string(want.StreamSpecification.StreamViewType)}},
		{"PointInTimeRecoverySpecification", map[string]any{"PointInTimeRecoveryEnabled": true}},
		{"DeletionProtectionEnabled", true},
		{"TimeToLiveSpecification", map[string]any{"AttributeName": dynamo.TTLAttribute, "Enabled": true}},
	}
	for _, tt := range tests {
		got := p[tt.prop]
		if tt.prop == "AttributeDefinitions" {
			got = sortedBy(got.([]any), "AttributeName")
		}
		if !equalJSON(got, tt.want) {
			t.Errorf("table %s = %s, want %s", tt.prop, js(got), js(tt.want))
		}
	}
	if name, ok := p["TableName"]; ok {
		t.Errorf("table has a fixed TableName %v; CloudFormation must name it", name)
	}
	if table.Properties == nil || s.tmpl.Resources[s.id(t, "Table")].Type != "AWS::DynamoDB::Table" {
		t.Errorf("the Table construct is not the table resource")
	}
}

func sortedBy(items []any, key string) []any {
	out := slices.Clone(items)
	sort.Slice(out, func(i, j int) bool {
		return fmt.Sprint(out[i].(map[string]any)[key]) < fmt.Sprint(out[j].(map[string]any)[key])
	})
	return out
}

func TestFunctions(t *testing.T) {
	s := synth(t)
	if got := len(s.tmpl.ofType("AWS::Lambda::Function")); got != len(functions) {
		t.Errorf("%d Lambda functions in the template, want %d (one per functions/ directory, no helpers)", got, len(functions))
	}
	tableID, secretID := s.id(t, "Table"), s.id(t, "SlackCredentials")
	for _, spec := range functions {
		t.Run(spec.Name, func(t *testing.T) {
			p := s.tmpl.Resources[s.id(t, spec.Name+"Function")].Properties
			checks := []struct {
				prop string
				want any
			}{
				{"Runtime", "provided.al2023"},
				{"Architectures", []any{"arm64"}},
				{"Handler", "bootstrap"},
				{"MemorySize", spec.MemoryMB},
				{"Timeout", spec.Timeout.Seconds()},
				{"LoggingConfig", map[string]any{"LogGroup": ref(s.id(t, spec.Name+"Logs"))}},
			}
			for _, c := range checks {
				if !equalJSON(p[c.prop], c.want) {
					t.Errorf("%s = %s, want %s", c.prop, js(p[c.prop]), js(c.want))
				}
			}
			wantEnv := map[string]any{EnvTableName: ref(tableID)}
			if spec.SlackSecret {
				wantEnv[EnvSlackSecretARN] = ref(secretID)
			}
			if len(spec.TokenKeyActions) > 0 {
				wantEnv[EnvSlackKMSKeyARN] = getAtt(s.id(t, "SlackTokenKey"), "Arn")
			}
			if spec.Name == "slack" {
				// The stage's URL (the API's) and the redirect's path.
				redirect, _ := p["Environment"].(map[string]any)["Variables"].(map[string]any)[EnvSlackRedirectURL]
				if j := js(redirect); !strings.Contains(j, js(ref(s.id(t, "Api")))) || !strings.HasSuffix(j, `/slack/oauth_redirect"]]}`) {
					t.Errorf("%s = %s, want the API's URL and slack/oauth_redirect", EnvSlackRedirectURL, j)
				}
				wantEnv[EnvSlackRedirectURL] = redirect
			}
			gotEnv := p["Environment"].(map[string]any)["Variables"]
			if !equalJSON(gotEnv, wantEnv) {
				t.Errorf("environment = %s, want %s", js(gotEnv), js(wantEnv))
			}
		})
	}

	// Each function has its own code asset (the same hash would deploy
	// one binary for all of them).
	assets := map[string]string{}
	for _, spec := range functions {
		code, _ := s.tmpl.Resources[s.id(t, spec.Name+"Function")].Properties["Code"].(map[string]any)
		key, _ := code["S3Key"].(string)
		if !strings.HasSuffix(key, ".zip") {
			t.Errorf("%s: code %s, want a zipped asset", spec.Name, js(code))
		}
		if other, ok := assets[key]; ok {
			t.Errorf("%s and %s share the code asset %s", other, spec.Name, key)
		}
		assets[key] = spec.Name
	}

	// Every log group, the functions' and the API's, expires.
	for id, lg := range s.tmpl.ofType("AWS::Logs::LogGroup") {
		if lg.Properties["RetentionInDays"] != float64(30) {
			t.Errorf("log group %s RetentionInDays = %v, want 30", id, lg.Properties["RetentionInDays"])
		}
	}
}

// TestFunctionsCoverDirectories keeps the deployed functions and the
// directories under functions/ equal: a function nobody deploys, or a
// deployed function with no source, fails here.
func TestFunctionsCoverDirectories(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join("..", "functions"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() && e.Name() != "local" {
			dirs = append(dirs, e.Name())
		}
	}
	var declared []string
	for _, fn := range functions {
		declared = append(declared, fn.Name)
	}
	for _, d := range dirs {
		if !slices.Contains(declared, d) {
			t.Errorf("functions/%s is not deployed: add it to the functions list in infra/functions.go (memory, timeout, table actions, routes)", d)
		}
	}
	for _, d := range declared {
		if !slices.Contains(dirs, d) {
			t.Errorf("function %q is deployed but functions/%s does not exist", d, d)
		}
	}
}

// policyActions collects every action allowed to a role by the stack's
// inline policies, and the resources of the statements naming each action.
func policyActions(t *testing.T, tm template, roleID string) (actions []string, resources map[string][]any) {
	t.Helper()
	resources = map[string][]any{}
	for _, pol := range tm.ofType("AWS::IAM::Policy") {
		if !slices.ContainsFunc(pol.Properties["Roles"].([]any), func(r any) bool { return equalJSON(r, ref(roleID)) }) {
			continue
		}
		doc := pol.Properties["PolicyDocument"].(map[string]any)
		for _, st := range doc["Statement"].([]any) {
			st := st.(map[string]any)
			if st["Effect"] != "Allow" {
				continue
			}
			res := st["Resource"]
			rs, ok := res.([]any)
			if !ok {
				rs = []any{res}
			}
			acts := st["Action"]
			as, ok := acts.([]any)
			if !ok {
				as = []any{acts}
			}
			for _, a := range as {
				actions = append(actions, a.(string))
				resources[a.(string)] = append(resources[a.(string)], rs...)
			}
		}
	}
	sort.Strings(actions)
	return slices.Compact(actions), resources
}

func TestLeastPrivilege(t *testing.T) {
	s := synth(t)
	tableID, secretID := s.id(t, "Table"), s.id(t, "SlackCredentials")
	tableResources := []any{
		getAtt(tableID, "Arn"),
		map[string]any{"Fn::Join": []any{"", []any{getAtt(tableID, "Arn"), "/index/*"}}},
	}
	for _, spec := range functions {
		t.Run(spec.Name, func(t *testing.T) {
			roleID := s.id(t, spec.Name+"Role")
			role := s.tmpl.Resources[roleID]
			if role.Properties["ManagedPolicyArns"] != nil {
				t.Errorf("role has managed policies %v; it must have only its inline grants", role.Properties["ManagedPolicyArns"])
			}
			fn := s.tmpl.Resources[s.id(t, spec.Name+"Function")]
			if !equalJSON(fn.Properties["Role"], getAtt(roleID, "Arn")) {
				t.Errorf("function runs as %s, want its own role %s", js(fn.Properties["Role"]), roleID)
			}

			want := []string{"logs:CreateLogStream", "logs:PutLogEvents"}
			want = append(want, spec.TableActions...)
			if spec.SlackSecret {
				want = append(want, "secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue")
			}
			if spec.Name == "notifier" {
				want = append(want, streamActions...)
				want = append(want, "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage")
			}
			want = append(want, spec.TokenKeyActions...)
			sort.Strings(want)

			got, resources := policyActions(t, s.tmpl, roleID)
			if !slices.Equal(got, want) {
				t.Errorf("actions allowed:\n got  %v\n want %v", got, want)
			}
			for _, a := range spec.TableActions {
				if !equalJSON(resources[a], tableResources) {
					t.Errorf("%s allowed on %s, want only the table and its indexes", a, js(resources[a]))
				}
			}
			if spec.SlackSecret && !equalJSON(resources["secretsmanager:GetSecretValue"], []any{ref(secretID)}) {
				t.Errorf("GetSecretValue allowed on %s, want only the Slack secret", js(resources["secretsmanager:GetSecretValue"]))
			}
			for _, a := range spec.TokenKeyActions {
				if !equalJSON(resources[a], []any{getAtt(s.id(t, "SlackTokenKey"), "Arn")}) {
					t.Errorf("%s allowed on %s, want only the bot tokens' key", a, js(resources[a]))
				}
			}
		})
	}

	// The action lists themselves stay within what the design needs.
	for _, spec := range functions {
		for _, a := range spec.TableActions {
			if a == "dynamodb:Scan" || strings.Contains(a, "*") {
				t.Errorf("%s: table action %s is broader than any access pattern needs", spec.Name, a)
			}
		}
	}
}

// TestTableActions pins each function's table permissions: widening one is
// a security decision that must change this test too.
func TestTableActions(t *testing.T) {
	read := []string{"dynamodb:BatchGetItem", "dynamodb:GetItem"}
	debit := append(slices.Clone(read), "dynamodb:ConditionCheckItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
	manage := append(slices.Clone(debit), "dynamodb:DeleteItem", "dynamodb:Query")
	want := map[string][]string{
		"usage":    debit,
		"admin":    manage,
		"slack":    manage,
		"notifier": manage,
	}
	for _, fn := range functions {
		got := slices.Sorted(slices.Values(fn.TableActions))
		w := slices.Sorted(slices.Values(want[fn.Name]))
		if !slices.Equal(got, w) {
			t.Errorf("%s table actions = %v, want %v", fn.Name, got, w)
		}
	}
}

func TestRoutes(t *testing.T) {
	s := synth(t)
	// integration logical ID -> function name
	integrations := map[string]string{}
	for id, in := range s.tmpl.ofType("AWS::ApiGatewayV2::Integration") {
		if in.Properties["PayloadFormatVersion"] != "2.0" {
			t.Errorf("integration %s uses payload format %v, want 2.0", id, in.Properties["PayloadFormatVersion"])
		}
		for _, fn := range functions {
			if equalJSON(in.Properties["IntegrationUri"], getAtt(s.id(t, fn.Name+"Function"), "Arn")) {
				integrations[id] = fn.Name
			}
		}
	}
	type route struct{ function, auth string }
	got := map[string]route{}
	for _, r := range s.tmpl.ofType("AWS::ApiGatewayV2::Route") {
		auth, _ := r.Properties["AuthorizationType"].(string)
		if auth == "" {
			auth = "NONE"
		}
		target := fmt.Sprint(r.Properties["Target"])
		var fn string
		for id, name := range integrations {
			if strings.Contains(target, id) {
				fn = name
			}
		}
		got[r.Properties["RouteKey"].(string)] = route{fn, auth}
	}
	want := map[string]route{
		"POST /v1/usage":            {"usage", "NONE"},
		"POST /v1/usage/batch":      {"usage", "NONE"},
		"GET /v1/balance":           {"usage", "NONE"},
		"ANY /admin/{proxy+}":       {"admin", "AWS_IAM"},
		"POST /slack/commands":      {"slack", "NONE"},
		"POST /slack/interactions":  {"slack", "NONE"},
		"POST /slack/events":        {"slack", "NONE"},
		"GET /slack/install":        {"slack", "NONE"},
		"GET /slack/oauth_redirect": {"slack", "NONE"},
	}
	for key, w := range want {
		if g, ok := got[key]; !ok {
			t.Errorf("route %q missing", key)
		} else if g != w {
			t.Errorf("route %q -> %s with authorization %s, want %s with %s", key, g.function, g.auth, w.function, w.auth)
		}
	}
	for key := range got {
		if _, ok := want[key]; !ok {
			t.Errorf("unexpected route %q", key)
		}
	}

	_, stage := s.tmpl.only(t, "AWS::ApiGatewayV2::Stage")
	if stage.Properties["StageName"] != "$default" || stage.Properties["AutoDeploy"] != true {
		t.Errorf("stage = %s, want the auto-deployed $default stage", js(stage.Properties))
	}
	logs, _ := stage.Properties["AccessLogSettings"].(map[string]any)
	if !equalJSON(logs["DestinationArn"], getAtt(s.id(t, "ApiAccessLogs"), "Arn")) || !json.Valid([]byte(fmt.Sprint(logs["Format"]))) {
		t.Errorf("stage access logs = %s, want JSON lines into ApiAccessLogs", js(logs))
	}
}

func TestSecretsNotInEnvironment(t *testing.T) {
	s := synth(t)
	_, secret := s.tmpl.only(t, "AWS::SecretsManager::Secret")
	var placeholder map[string]string
	if err := json.Unmarshal([]byte(fmt.Sprint(secret.Properties["SecretString"])), &placeholder); err != nil {
		t.Fatalf("secret's initial value is not JSON: %v", err)
	}
	if !equalJSON(placeholder, map[string]string{"signing_secret": "", "bot_token": ""}) {
		t.Errorf("secret's initial value = %v, want the two keys, empty (real values are put after deploy)", placeholder)
	}

	forbidden := []string{"SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN", "SIGNING", "TOKEN", "PASSWORD"}
	for id, fn := range s.tmpl.ofType("AWS::Lambda::Function") {
		vars, _ := fn.Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
		for name, v := range vars {
			for _, f := range forbidden {
				if strings.Contains(strings.ToUpper(name), f) {
					t.Errorf("%s: environment variable %s looks like a credential", id, name)
				}
			}
			if str, ok := v.(string); ok && (strings.HasPrefix(str, "xox") || len(str) >= 32) {
				t.Errorf("%s: %s has a literal value that looks like a credential", id, name)
			}
		}
	}
}

func TestNotifierSources(t *testing.T) {
	s := synth(t)
	notifierID, tableID, queueID := s.id(t, "notifierFunction"), s.id(t, "Table"), s.id(t, "NotifierFailures")

	_, esm := s.tmpl.only(t, "AWS::Lambda::EventSourceMapping")
	checks := []struct {
		prop string
		want any
	}{
		{"EventSourceArn", getAtt(tableID, "StreamArn")},
		{"FunctionName", ref(notifierID)},
		{"StartingPosition", "LATEST"},
		{"BatchSize", notifierBatchSize},
		{"MaximumRetryAttempts", notifierRetryAttempts},
		{"BisectBatchOnFunctionError", true},
		{"FunctionResponseTypes", []any{"ReportBatchItemFailures"}},
		{"MaximumRecordAgeInSeconds", notifierMaxRecordAgeHours * 3600},
		{"DestinationConfig", map[string]any{"OnFailure": map[string]any{"Destination": getAtt(queueID, "Arn")}}},
	}
	for _, c := range checks {
		if !equalJSON(esm.Properties[c.prop], c.want) {
			t.Errorf("event source mapping %s = %s, want %s", c.prop, js(esm.Properties[c.prop]), js(c.want))
		}
	}

	q := s.tmpl.Resources[queueID].Properties
	if q["SqsManagedSseEnabled"] != true {
		t.Errorf("failure queue is not encrypted: %s", js(q))
	}
	var ssl bool
	for _, pol := range s.tmpl.ofType("AWS::SQS::QueuePolicy") {
		doc := js(pol.Properties["PolicyDocument"])
		ssl = ssl || (strings.Contains(doc, `"aws:SecureTransport":"false"`) && strings.Contains(doc, `"Effect":"Deny"`))
	}
	if !ssl {
		t.Error("failure queue does not deny non-TLS access")
	}

	ruleID, rule := s.tmpl.only(t, "AWS::Events::Rule")
	if want := fmt.Sprintf("rate(%d minutes)", expiryScheduleMinutes); rule.Properties["ScheduleExpression"] != want {
		t.Errorf("schedule = %v, want %s", rule.Properties["ScheduleExpression"], want)
	}
	targets, _ := rule.Properties["Targets"].([]any)
	if len(targets) != 1 || !equalJSON(targets[0].(map[string]any)["Arn"], getAtt(notifierID, "Arn")) {
		t.Errorf("schedule targets = %s, want the notifier", js(targets))
	}
	var invokable bool
	for _, perm := range s.tmpl.ofType("AWS::Lambda::Permission") {
		p := perm.Properties
		invokable = invokable || (p["Principal"] == "events.amazonaws.com" &&
			equalJSON(p["SourceArn"], getAtt(ruleID, "Arn")) && equalJSON(p["FunctionName"], getAtt(notifierID, "Arn")))
	}
	if !invokable {
		t.Error("EventBridge may not invoke the notifier for the schedule")
	}
}

// alarm is what decides when an alarm fires.
type alarm struct {
	namespace, metric, dimensions, statistic string
	period, threshold                        float64
	op                                       string
}

func alarms(tm template) map[string]alarm {
	out := map[string]alarm{}
	for id, a := range tm.ofType("AWS::CloudWatch::Alarm") {
		p := a.Properties
		stat, _ := p["Statistic"].(string)
		if stat == "" {
			stat, _ = p["ExtendedStatistic"].(string)
		}
		period, _ := p["Period"].(float64)
		threshold, _ := p["Threshold"].(float64)
		out[id] = alarm{fmt.Sprint(p["Namespace"]), fmt.Sprint(p["MetricName"]), js(p["Dimensions"]), stat,
			period, threshold, fmt.Sprint(p["ComparisonOperator"])}
	}
	return out
}

func TestAlarms(t *testing.T) {
	s := synth(t)
	dim := func(kv ...any) string {
		var ds []any
		for i := 0; i < len(kv); i += 2 {
			ds = append(ds, map[string]any{"Name": kv[i], "Value": kv[i+1]})
		}
		return js(ds)
	}
	const atLeast, over = "GreaterThanOrEqualToThreshold", "GreaterThanThreshold"
	fiveMinutes := period.Seconds()
	want := []alarm{
		{"AWS/SQS", "ApproximateNumberOfMessagesVisible", dim("QueueName", getAtt(s.id(t, "NotifierFailures"), "QueueName")), "Maximum", fiveMinutes, 0, over},
		{"AWS/ApiGateway", "5xx", dim("ApiId", ref(s.id(t, "Api"))), "Sum", fiveMinutes, 5, atLeast},
		// What an operator must act on from the functions' own metrics:
		// 503s, Slack messages not sent, a notifier behind its stream.
		{"OrgCredit", "Unavailable", dim("Function", "usage"), "Sum", fiveMinutes, 1, atLeast},
		{"OrgCredit", "Unavailable", dim("Function", "admin"), "Sum", fiveMinutes, 1, atLeast},
		{"OrgCredit", "Unavailable", dim("Function", "slack"), "Sum", fiveMinutes, 1, atLeast},
		{"OrgCredit", "NotifierFailures", dim("Function", "notifier"), "Sum", 900, 3, atLeast},
		{"AWS/Lambda", "IteratorAge", dim("FunctionName", ref(s.id(t, "notifierFunction"))), "Maximum", fiveMinutes, 900_000, atLeast},
	}
	for _, fn := range functions {
		d := dim("FunctionName", ref(s.id(t, fn.Name+"Function")))
		want = append(want,
			alarm{"AWS/Lambda", "Errors", d, "Sum", fiveMinutes, 1, atLeast},
			alarm{"AWS/Lambda", "Throttles", d, "Sum", fiveMinutes, 1, atLeast})
	}
	got := slices.Collect(maps.Values(alarms(s.tmpl)))
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing alarm %+v", w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			t.Errorf("unexpected alarm %+v", g)
		}
	}

	for id, a := range s.tmpl.ofType("AWS::CloudWatch::Alarm") {
		p := a.Properties
		if p["EvaluationPeriods"] != float64(1) || p["TreatMissingData"] != "notBreaching" {
			t.Errorf("alarm %s fires on %v periods, missing data %v; want 1 period, missing data not breaching",
				id, p["EvaluationPeriods"], p["TreatMissingData"])
		}
		// Without alarmTopicArn, alarms notify nobody
		// (TestSmallAccountWithAlarmTopic has the topic).
		if p["AlarmActions"] != nil {
			t.Errorf("alarm %s has actions %s without an alarm topic", id, js(p["AlarmActions"]))
		}
	}
}

// TestMetricNames keeps the Function dimension the functions emit equal to
// the deployed functions' names, which the dashboard and alarms use.
func TestMetricNames(t *testing.T) {
	deployed := functionNames()
	emitted := []string{metrics.FunctionUsage, metrics.FunctionAdmin, metrics.FunctionSlack, metrics.FunctionNotifier}
	slices.Sort(deployed)
	slices.Sort(emitted)
	if !slices.Equal(deployed, emitted) {
		t.Errorf("deployed functions %v, but metrics name the functions %v", deployed, emitted)
	}
}

// dashboardBody renders the dashboard's body, a join of JSON text and
// CloudFormation references, as JSON with each reference written as
// {{Ref:id}} or {{id.Attribute}}.
func dashboardBody(t *testing.T, body any) map[string]any {
	t.Helper()
	var text strings.Builder
	join, _ := body.(map[string]any)["Fn::Join"].([]any)
	if len(join) != 2 {
		t.Fatalf("dashboard body = %s, want an Fn::Join", js(body))
	}
	for _, part := range join[1].([]any) {
		switch p := part.(type) {
		case string:
			text.WriteString(p)
		case map[string]any:
			if id, ok := p["Ref"]; ok {
				fmt.Fprintf(&text, "{{Ref:%v}}", id)
			} else if att, ok := p["Fn::GetAtt"].([]any); ok && len(att) == 2 {
				fmt.Fprintf(&text, "{{%v.%v}}", att[0], att[1])
			} else {
				t.Fatalf("dashboard body: unexpected part %s", js(p))
			}
		}
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(text.String()), &out); err != nil {
		t.Fatalf("dashboard body is not JSON: %v\n%s", err, text.String())
	}
	return out
}

func TestDashboard(t *testing.T) {
	s := synth(t)
	_, dash := s.tmpl.only(t, "AWS::CloudWatch::Dashboard")
	if dash.Properties["DashboardName"] != stackName {
		t.Errorf("dashboard name = %v, want the stack's, %s", dash.Properties["DashboardName"], stackName)
	}
	body := dashboardBody(t, dash.Properties["DashboardBody"])

	// Every graphed metric as "namespace metric dim=value ... stat", and
	// every expression; the alarms of the alarm widget.
	var graphed, expressions, alarmARNs []string
	for _, w := range body["widgets"].([]any) {
		props := w.(map[string]any)["properties"].(map[string]any)
		as, _ := props["alarms"].([]any)
		for _, a := range as {
			alarmARNs = append(alarmARNs, a.(string))
		}
		ms, _ := props["metrics"].([]any)
		for _, m := range ms {
			row := m.([]any)
			opts, _ := row[len(row)-1].(map[string]any)
			if e, ok := opts["expression"]; ok {
				expressions = append(expressions, e.(string))
				continue
			}
			parts := []string{row[0].(string), row[1].(string)}
			for i := 2; i+1 < len(row)-1; i += 2 {
				parts = append(parts, fmt.Sprintf("%v=%v", row[i], row[i+1]))
			}
			graphed = append(graphed, strings.Join(append(parts, fmt.Sprint(opts["stat"])), " "))
		}
	}

	fnRef := func(name string) string { return "{{Ref:" + s.id(t, name+"Function") + "}}" }
	want := []string{
		"OrgCredit Debits Function=usage Sum",
		"OrgCredit DebitedMicros Function=usage Sum",
		"OrgCredit Duplicates Function=usage Sum",
		"OrgCredit Throttled Function=usage Sum",
		"OrgCredit NotifierDeliveries Function=notifier Sum",
		"OrgCredit NotifierFailures Function=notifier Sum",
		"AWS/Lambda IteratorAge FunctionName=" + fnRef("notifier") + " Maximum",
	}
	for _, fn := range unavailableFunctions {
		want = append(want, "OrgCredit Unavailable Function="+fn+" Sum")
	}
	for _, kind := range []string{metrics.KindCommand, metrics.KindInteraction, metrics.KindEvent} {
		for _, stat := range []string{"p50", "p99"} {
			want = append(want, "OrgCredit SlackLatency Function=slack Kind="+kind+" "+stat)
		}
	}
	for _, fn := range functions {
		want = append(want,
			"OrgCredit DynamoDBRetries Function="+fn.Name+" Sum",
			"AWS/Lambda Errors FunctionName="+fnRef(fn.Name)+" Sum",
			"AWS/Lambda Throttles FunctionName="+fnRef(fn.Name)+" Sum")
	}
	for _, w := range want {
		if !slices.Contains(graphed, w) {
			t.Errorf("the dashboard does not graph %s", w)
		}
	}

	// Refusals by rule: a search, since the rules are the domain's.
	refusals := slices.ContainsFunc(expressions, func(e string) bool {
		return strings.HasPrefix(e, "SEARCH(") && strings.Contains(e, "{OrgCredit,Function,Rule}") &&
			strings.Contains(e, `MetricName="Refusals"`)
	})
	if !refusals {
		t.Errorf("no search for refusals by rule among the expressions %q", expressions)
	}

	// Every metric the functions emit is on the dashboard.
	for _, name := range []string{metrics.Debits, metrics.DebitedMicros, metrics.Duplicates, metrics.Refusals,
		metrics.DynamoDBRetries, metrics.Unavailable, metrics.Throttled, metrics.SlackLatency,
		metrics.NotifierDeliveries, metrics.NotifierFailures} {
		shown := slices.ContainsFunc(graphed, func(g string) bool { return strings.HasPrefix(g, "OrgCredit "+name+" ") }) ||
			slices.ContainsFunc(expressions, func(e string) bool { return strings.Contains(e, `"`+name+`"`) })
		if !shown {
			t.Errorf("metric %s is not on the dashboard", name)
		}
	}

	// The alarm widget shows every alarm.
	var all []string
	for id := range s.tmpl.ofType("AWS::CloudWatch::Alarm") {
		all = append(all, "{{"+id+".Arn}}")
	}
	slices.Sort(all)
	slices.Sort(alarmARNs)
	if !slices.Equal(alarmARNs, all) {
		t.Errorf("the alarm widget shows %v, want every alarm %v", alarmARNs, all)
	}
}

func TestOutputs(t *testing.T) {
	s := synth(t)
	apiRef := js(ref(s.id(t, "Api")))
	for name, path := range map[string]string{
		"ApiUrl":               "/",
		"SlackCommandsUrl":     "/slack/commands",
		"SlackInteractionsUrl": "/slack/interactions",
		"SlackEventsUrl":       "/slack/events",
		"SlackInstallUrl":      "/slack/install",
		"SlackRedirectUrl":     "/slack/oauth_redirect",
	} {
		out, ok := s.tmpl.Outputs[name]
		if !ok {
			t.Errorf("output %s missing", name)
			continue
		}
		// {"Fn::Join": ["", ["https://", {"Ref": api}, ..., "<path>"]]}
		join, _ := out.Value.(map[string]any)["Fn::Join"].([]any)
		var parts []any
		if len(join) == 2 {
			parts, _ = join[1].([]any)
		}
		if len(parts) == 0 || !strings.Contains(js(parts), apiRef) || !strings.HasSuffix(fmt.Sprint(parts[len(parts)-1]), path) {
			t.Errorf("output %s = %s, want the API's URL ending in %s", name, js(out.Value), path)
		}
	}

	dashRef := ref(s.id(t, "Dashboard"))
	if name := s.tmpl.Outputs["DashboardName"].Value; !equalJSON(name, dashRef) {
		t.Errorf("output DashboardName = %s, want %s", js(name), js(dashRef))
	}
	url := js(s.tmpl.Outputs["DashboardUrl"].Value)
	for _, part := range []string{`"https://"`, `.console.aws.amazon.com/cloudwatch/home?region=`, `#dashboards/dashboard/`, js(dashRef)} {
		if !strings.Contains(url, part) {
			t.Errorf("output DashboardUrl = %s, want the console's link to the dashboard (missing %s)", url, part)
		}
	}
}

// TestAwsSolutionsChecks fails on any cdk-nag finding left unsuppressed.
func TestAwsSolutionsChecks(t *testing.T) {
	s := synth(t)
	findings := func(stack awscdk.Stack) []string {
		ann := assertions.Annotations_FromStack(stack)
		var out []string
		match := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
		for _, m := range append(*ann.FindError(jsii.String("*"), match), *ann.FindWarning(jsii.String("*"), match)...) {
			out = append(out, fmt.Sprintf("%s: %v", *m.Id, m.Entry.Data))
		}
		return out
	}
	for _, f := range findings(s.stack) {
		t.Errorf("cdk-nag: %s", f)
	}

	// Every suppression says why.
	for id, r := range s.tmpl.Resources {
		nag, _ := r.Metadata["cdk_nag"].(map[string]any)
		rules, _ := nag["rules_to_suppress"].([]any)
		for _, rule := range rules {
			reason := fmt.Sprint(rule.(map[string]any)["reason"])
			if len(reason) < 60 || strings.Contains(strings.ToUpper(reason), "TODO") {
				t.Errorf("%s: suppression of %v has no real justification: %q", id, rule.(map[string]any)["id"], reason)
			}
		}
	}

	// The checks do run: a queue that breaks the rules is reported.
	app := awscdk.NewApp(nil)
	bad := awscdk.NewStack(app, jsii.String("Bad"), nil)
	awssqs.NewQueue(bad, jsii.String("PlainQueue"), nil)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(nil), nil)
	assertions.Template_FromStack(bad, nil) // synthesizes, running the aspects
	if len(findings(bad)) == 0 {
		t.Error("cdk-nag reported nothing for a queue without SSL enforcement or a dead-letter queue")
	}
}

// TestPrebuiltBinaries covers -c assetDir=<dir>: the binaries must be
// there, within the size budget.
func TestPrebuiltBinaries(t *testing.T) {
	oversized := t.TempDir()
	if err := writePlaceholders(oversized); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(oversized, "slack", "bootstrap"), maxBootstrapBytes+1); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir, wantErr string
	}{
		{"asset dir without binaries", t.TempDir(), "run `make build` first"},
		{"binary over the budget", oversized, "over the budget of 15000000 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewStack(awscdk.NewApp(nil), "Stack", &StackProps{AssetDir: tt.dir})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NewStack(AssetDir %q) error = %v, want one containing %q", tt.dir, err, tt.wantErr)
			}
		})
	}
}

// TestSmallAccountWithAlarmTopic synthesizes the stack the way a new
// account (Lambda concurrency limit 10, nothing can be reserved) with an
// operators' SNS topic and prebuilt binaries deploys it.
func TestSmallAccountWithAlarmTopic(t *testing.T) {
	const topic = "arn:aws:sns:us-east-1:123456789012:ops"
	s := synthWith(t, t.TempDir(), map[string]any{
		"alarmTopicArn":            topic,
		"slackReservedConcurrency": "0",
		"usageReservedConcurrency": "0",
		"assetDir":                 assetDir,
	}, false)

	alarms := s.tmpl.ofType("AWS::CloudWatch::Alarm")
	if len(alarms) != len(synth(t).tmpl.ofType("AWS::CloudWatch::Alarm")) {
		t.Errorf("%d alarms with a topic, %d without", len(alarms), len(synth(t).tmpl.ofType("AWS::CloudWatch::Alarm")))
	}
	for id, a := range alarms {
		if !equalJSON(a.Properties["AlarmActions"], []any{topic}) {
			t.Errorf("alarm %s notifies %s, want [%s]", id, js(a.Properties["AlarmActions"]), topic)
		}
	}

	for _, spec := range functions {
		p := s.tmpl.Resources[s.id(t, spec.Name+"Function")].Properties
		if r, ok := p["ReservedConcurrentExecutions"]; ok {
			t.Errorf("%s reserves %v with reserved concurrency 0", spec.Name, r)
		}
		// The deployed code is the prebuilt binary, as the CDK staged it.
		key, _ := p["Code"].(map[string]any)["S3Key"].(string)
		staged := filepath.Join(*s.app.Outdir(), "asset."+strings.TrimSuffix(key, ".zip"), "bootstrap")
		got, err := os.ReadFile(staged)
		if err != nil || string(got) != "placeholder for "+spec.Name {
			t.Errorf("%s: staged %s = %q, %v; want the prebuilt placeholder", spec.Name, staged, got, err)
		}
	}
}

func TestReservedConcurrency(t *testing.T) {
	s := synth(t)
	want := map[string]any{
		"slack": float64(defaultSlackReservedConcurrency),
		"usage": float64(defaultUsageReservedConcurrency),
	}
	for _, spec := range functions {
		got := s.tmpl.Resources[s.id(t, spec.Name+"Function")].Properties["ReservedConcurrentExecutions"]
		if !equalJSON(got, want[spec.Name]) {
			t.Errorf("%s ReservedConcurrentExecutions = %v, want %v", spec.Name, got, want[spec.Name])
		}
	}
}

func TestThrottling(t *testing.T) {
	s := synth(t)
	_, stage := s.tmpl.only(t, "AWS::ApiGatewayV2::Stage")
	limit := func(r routeLimit) map[string]any {
		return map[string]any{"ThrottlingBurstLimit": r.Burst, "ThrottlingRateLimit": r.Rate}
	}
	if got := stage.Properties["DefaultRouteSettings"]; !equalJSON(got, limit(defaultRouteLimit)) {
		t.Errorf("stage DefaultRouteSettings = %s, want %s", js(got), js(limit(defaultRouteLimit)))
	}

	// The agent routes have their own limits.
	want := map[string]any{
		"POST /v1/usage":       limit(agentRoutes[0]),
		"POST /v1/usage/batch": limit(agentRoutes[1]),
		"GET /v1/balance":      limit(agentRoutes[2]),
	}
	if got := stage.Properties["RouteSettings"]; !equalJSON(got, want) {
		t.Errorf("stage RouteSettings = %s, want %s", js(got), js(want))
	}

	// API Gateway refuses settings for a route it does not have yet: the
	// stage must be created after each route it names.
	routes := map[string]string{}
	for id, r := range s.tmpl.ofType("AWS::ApiGatewayV2::Route") {
		routes[fmt.Sprint(r.Properties["RouteKey"])] = id
	}
	for key := range want {
		id, ok := routes[key]
		if !ok {
			t.Errorf("route settings for %q, a route the API does not have", key)
		} else if !slices.Contains(stage.DependsOn, id) {
			t.Errorf("the stage does not depend on route %q (%s): DependsOn %v", key, id, stage.DependsOn)
		}
	}
}

// TestCapacitySizing keeps the limits consistent with each other, as
// infra/README.md sizes them.
func TestCapacitySizing(t *testing.T) {
	var need float64
	for _, r := range agentRoutes {
		if r.Rate <= 0 || r.Burst < r.Rate || r.Duration <= 0 {
			t.Errorf("%s: rate %v, burst %v, duration %v; want a positive rate, a burst at least the rate, and the expected duration",
				r.key(), r.Rate, r.Burst, r.Duration)
		}
		need += r.Rate * r.Duration.Seconds()
	}
	// API Gateway's 429 must come before Lambda's throttling, which agents
	// would see as a 500.
	if need*concurrencyHeadroom > defaultUsageReservedConcurrency {
		t.Errorf("the agent routes need %.0f concurrent instances at their limits, %dx that is over the usage function's ceiling of %d",
			need, concurrencyHeadroom, defaultUsageReservedConcurrency)
	}
	// Lambda keeps 100 of an account's concurrency unreserved; the
	// default account limit is 1,000.
	if reserved := defaultSlackReservedConcurrency + defaultUsageReservedConcurrency; reserved > 1000-100 {
		t.Errorf("the defaults reserve %d, more than an account of 1,000 can reserve (900)", reserved)
	}
}

func TestContextCount(t *testing.T) {
	tests := []struct {
		value   any
		want    int
		wantErr bool
	}{
		{nil, 7, false},
		{"25", 25, false},
		{"0", 0, false},
		{float64(30), 30, false},
		{"-1", 0, true},
		{"ten", 0, true},
		{2.5, 0, true},
		{true, 0, true},
	}
	for _, tt := range tests {
		ctx := map[string]any{}
		if tt.value != nil {
			ctx["n"] = tt.value
		}
		got, err := contextCount(awscdk.NewApp(&awscdk.AppProps{Context: &ctx}), "n", 7)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("contextCount(%#v) = %d, %v; want %d, error %v", tt.value, got, err, tt.want, tt.wantErr)
		}
	}
}

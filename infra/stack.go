package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/orgcredit/orgcredit/internal/dynamo"
)

// StackProps configures the stack beyond what CloudFormation needs.
type StackProps struct {
	awscdk.StackProps

	// AssetDir, when set, holds one folder per function with a prebuilt
	// bootstrap binary (`make build` writes dist/<fn>/bootstrap). When
	// empty, the app builds each function itself with the go command when
	// the CDK needs its asset.
	AssetDir string

	// ModuleDir is a directory of the Go module whose functions/<fn>
	// packages are built; empty means the current directory.
	ModuleDir string

	// TransferTTL, when set (a Go duration such as "168h"), overrides how
	// long a Billing transfer stays pending; passed as TRANSFER_TTL.
	TransferTTL string

	// AlarmTopicARN, when set, is an existing SNS topic every alarm
	// notifies. Without it the alarms are visible in CloudWatch only.
	AlarmTopicARN string

	// SlackReservedConcurrency is set aside for the slack function alone,
	// so that no other function can leave Slack's requests without an
	// instance; 0 reserves nothing.
	SlackReservedConcurrency int

	// UsageReservedConcurrency is the usage function's share and its
	// ceiling, so that a flood of agent requests cannot take the
	// account's whole concurrency; 0 reserves nothing and sets no ceiling.
	UsageReservedConcurrency int
}

// Environment variables the functions read. The Slack credentials are never
// in the environment: only the secret's ARN is, and the functions fetch
// the values from Secrets Manager at start.
const (
	EnvTableName        = "TABLE_NAME"
	EnvSlackSecretARN   = "SLACK_SECRET_ARN"
	EnvTransferTTL      = "TRANSFER_TTL"
	EnvSlackKMSKeyARN   = "SLACK_KMS_KEY_ARN"  // internal/kmskeys.EnvKeyARN
	EnvSlackRedirectURL = "SLACK_REDIRECT_URL" // the install's redirect URL, for the slack function
)

// The encryption context every sealed bot token carries (internal/
// slackinstall's binding); the functions' use of the key is conditioned on
// it. TestTokenKey keeps these equal to slackinstall's.
const (
	tokenContextPurposeKey = "purpose"
	tokenContextPurpose    = "slack-bot-token"
	tokenContextTeamKey    = "slack_team_id"
)

// logRetention is how long function and access logs are kept: long enough
// to investigate a month's disputed debit, short enough not to pile up.
const logRetention = awslogs.RetentionDays_ONE_MONTH

// NewStack builds the whole deployment: the table, the functions, the HTTP
// API, the Slack secret, the notifier's stream and schedule, the dashboard
// and alarms.
func NewStack(scope constructs.Construct, id string, props *StackProps) (_ awscdk.Stack, err error) {
	if props == nil {
		return nil, errors.New("infra: NewStack needs StackProps")
	}
	if props.SlackReservedConcurrency < 0 || props.UsageReservedConcurrency < 0 {
		return nil, errors.New("infra: reserved concurrency cannot be negative")
	}
	var builder *goBuilder
	if props.AssetDir != "" {
		if err := checkPrebuilt(props.AssetDir); err != nil {
			return nil, err
		}
	} else {
		dir := props.ModuleDir
		if dir == "" {
			dir = "."
		}
		if builder, err = newGoBuilder(dir, functionNames()); err != nil {
			return nil, err
		}
		// A build that fails inside the CDK's bundling surfaces as a
		// JavaScript error from the function's construct, which jsii
		// raises as a panic; the build's own error says more.
		defer func() {
			if r := recover(); r != nil {
				buildErr := builder.buildErr()
				if buildErr == nil {
					panic(r)
				}
				err = buildErr
			}
		}()
	}

	stack := awscdk.NewStack(scope, &id, &props.StackProps)
	table := newTable(stack)

	// The Slack app's credentials, as JSON {"signing_secret": "...",
	// "bot_token": "xoxb-..."} for one workspace, or with "client_id" and
	// "client_secret" (and bot_token empty or left out) to install into
	// many by OAuth. The stack creates the secret with empty values
	// (nothing secret is in the template); the operator puts the real ones
	// with `aws secretsmanager put-secret-value` (infra/README.md).
	// CloudFormation does not touch the value again unless this template
	// string changes, which is why it still names only the first two keys:
	// changing it would reset a deployed secret to the placeholders.
	slackSecret := awssecretsmanager.NewSecret(stack, jsii.String("SlackCredentials"), &awssecretsmanager.SecretProps{
		Description:       jsii.String("Slack app credentials: JSON with signing_secret and bot_token"),
		SecretStringValue: awscdk.SecretValue_UnsafePlainText(jsii.String(`{"signing_secret":"","bot_token":""}`)),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(slackSecret, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-SMG4"),
		Reason: jsii.String("Slack issues the signing secret and bot token; no Lambda can rotate them. " +
			"They are rotated in Slack's app settings and stored again with put-secret-value."),
	}}, nil)

	// The key that seals the installed workspaces' bot tokens in the table
	// (envelope encryption: a data key per token from GenerateDataKey,
	// AES-256-GCM in the function). It never leaves KMS; the functions may
	// only use it, for the bot tokens' encryption context. Retained with
	// the table, so the tokens stored there stay readable; rotated yearly
	// by KMS (old versions keep decrypting).
	tokenKey := awskms.NewKey(stack, jsii.String("SlackTokenKey"), &awskms.KeyProps{
		Description:       jsii.String("Seals the Slack bot tokens of the installed workspaces (envelope encryption, context purpose=slack-bot-token)"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})

	reserved := map[string]int{
		"slack": props.SlackReservedConcurrency,
		"usage": props.UsageReservedConcurrency,
	}
	fns := make(map[string]awslambda.Function, len(functions))
	for _, spec := range functions {
		var code awslambda.Code
		if builder != nil {
			code = builder.code(spec.Name)
		} else {
			code = awslambda.Code_FromAsset(jsii.String(filepath.Join(props.AssetDir, spec.Name)), nil)
		}
		fns[spec.Name] = newFunction(stack, spec, props, code, reserved[spec.Name], table, slackSecret, tokenKey)
	}

	api, stage := newAPI(stack, fns)
	url := stage.Url()
	// Slack sends installers back to this URL, which the app's manifest
	// lists (the SlackRedirectUrl output).
	fns["slack"].AddEnvironment(jsii.String(EnvSlackRedirectURL),
		awscdk.Fn_Join(jsii.String(""), &[]*string{url, jsii.String("slack/oauth_redirect")}), nil)
	failures := newNotifierSources(stack, fns["notifier"], table)
	alarms := newAlarms(stack, props.AlarmTopicARN, fns, api, failures)
	dashboard := newDashboard(stack, fns, api, alarms)

	out := func(id, path, desc string) {
		awscdk.NewCfnOutput(stack, jsii.String(id), &awscdk.CfnOutputProps{
			Value:       awscdk.Fn_Join(jsii.String(""), &[]*string{url, jsii.String(path)}),
			Description: jsii.String(desc),
		})
	}
	out("ApiUrl", "", "Base URL of the agent and admin APIs")
	out("SlackCommandsUrl", "slack/commands", "Slash command Request URL for the Slack app manifest")
	out("SlackInteractionsUrl", "slack/interactions", "Interactivity Request URL for the Slack app manifest")
	out("SlackEventsUrl", "slack/events", "Event Subscriptions Request URL for the Slack app manifest")
	out("SlackInstallUrl", "slack/install", "Open in a browser to install the Slack app into a workspace (OAuth)")
	out("SlackRedirectUrl", "slack/oauth_redirect", "OAuth Redirect URL for the Slack app manifest")
	awscdk.NewCfnOutput(stack, jsii.String("SlackSecretArn"), &awscdk.CfnOutputProps{
		Value:       slackSecret.SecretArn(),
		Description: jsii.String("Secret to fill with put-secret-value after installing the Slack app"),
	})
	awscdk.NewCfnOutput(stack, jsii.String("DashboardName"), &awscdk.CfnOutputProps{
		Value:       dashboard.DashboardName(),
		Description: jsii.String("CloudWatch dashboard of the service's metrics and alarms"),
	})
	awscdk.NewCfnOutput(stack, jsii.String("DashboardUrl"), &awscdk.CfnOutputProps{
		Value: awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("https://"), awscdk.Aws_REGION(), jsii.String(".console.aws.amazon.com/cloudwatch/home?region="),
			awscdk.Aws_REGION(), jsii.String("#dashboards/dashboard/"), dashboard.DashboardName(),
		}),
		Description: jsii.String("The dashboard in the CloudWatch console"),
	})
	return stack, nil
}

// checkPrebuilt checks that every function has a binary in dir, within the
// size budget.
func checkPrebuilt(dir string) error {
	for _, fn := range functions {
		p := filepath.Join(dir, fn.Name, "bootstrap")
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("infra: function %q has no binary at %s; run `make build` first, or leave out "+
				"the assetDir context to let the app build the functions: %w", fn.Name, p, err)
		}
		if err := checkSize(fn.Name, p, fi.Size(), maxBootstrapBytes); err != nil {
			return err
		}
	}
	return nil
}

// newTable builds the single table from internal/dynamo's schema, so the
// deployed table and the one the tests and the local run create cannot
// drift. CloudFormation names it; the functions get the name as TABLE_NAME.
func newTable(stack awscdk.Stack) awsdynamodb.Table {
	str := func(name string) *awsdynamodb.Attribute {
		return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
	}
	table := awsdynamodb.NewTable(stack, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: str(dynamo.PartitionKey),
		SortKey:      str(dynamo.SortKey),
		BillingMode:  awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		// The table is the ledger: neither a stack deletion nor a console
		// click may drop it.
		DeletionProtection:  jsii.Bool(true),
		RemovalPolicy:       awscdk.RemovalPolicy_RETAIN,
		TimeToLiveAttribute: jsii.String(dynamo.TTLAttribute),
		// The notifier finds low-balance crossings by comparing the old and
		// new images of the pool item.
		Stream: awsdynamodb.StreamViewType_NEW_AND_OLD_IMAGES,
	})
	for _, ix := range dynamo.Indexes {
		table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
			IndexName:      jsii.String(ix.Name),
			PartitionKey:   str(ix.PartitionKey),
			SortKey:        str(ix.SortKey),
			ProjectionType: awsdynamodb.ProjectionType_ALL,
		})
	}
	return table
}

// newFunction builds one Lambda with its own role, log group and the table
// actions its spec lists, nothing more.
func newFunction(stack awscdk.Stack, spec function, props *StackProps, code awslambda.Code, reserved int,
	table awsdynamodb.Table, slackSecret awssecretsmanager.Secret, tokenKey awskms.Key) awslambda.Function {
	id := func(suffix string) *string { return jsii.String(spec.Name + suffix) }

	logs := awslogs.NewLogGroup(stack, id("Logs"), &awslogs.LogGroupProps{
		Retention:     logRetention,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	// An own role instead of Lambda's default one, whose managed policy
	// (AWSLambdaBasicExecutionRole) may write to every log group.
	role := awsiam.NewRole(stack, id("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("Runs the " + spec.Name + " function"),
	})
	logs.GrantWrite(role)

	env := map[string]*string{EnvTableName: table.TableName()}
	if spec.SlackSecret {
		env[EnvSlackSecretARN] = slackSecret.SecretArn()
		slackSecret.GrantRead(role, nil)
	}
	if props.TransferTTL != "" {
		env[EnvTransferTTL] = jsii.String(props.TransferTTL)
	}
	if len(spec.TokenKeyActions) > 0 {
		env[EnvSlackKMSKeyARN] = tokenKey.KeyArn()
		// Only for a bot token's encryption context: the key serves
		// nothing else, even from these functions.
		role.AddToPrincipalPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("SlackBotTokens"),
			Actions:   jsii.Strings(spec.TokenKeyActions...),
			Resources: &[]*string{tokenKey.KeyArn()},
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"kms:EncryptionContext:" + tokenContextPurposeKey: tokenContextPurpose},
				"ForAllValues:StringEquals": map[string]any{
					"kms:EncryptionContextKeys": []string{tokenContextPurposeKey, tokenContextTeamKey},
				},
			},
		}))
	}

	var reservedConcurrency *float64
	if reserved > 0 {
		reservedConcurrency = jsii.Number(reserved)
	}
	fn := awslambda.NewFunction(stack, id("Function"), &awslambda.FunctionProps{
		Description:                  jsii.String(spec.Description),
		Runtime:                      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture:                 awslambda.Architecture_ARM_64(),
		Handler:                      jsii.String("bootstrap"),
		Code:                         code,
		MemorySize:                   jsii.Number(spec.MemoryMB),
		Timeout:                      awscdk.Duration_Seconds(jsii.Number(spec.Timeout.Seconds())),
		Environment:                  &env,
		Role:                         role,
		LogGroup:                     logs,
		ReservedConcurrentExecutions: reservedConcurrency,
	})
	// Grant on the function's role, after the function exists, so the
	// statement lands in the role's one default policy.
	table.Grant(role, *jsii.Strings(spec.TableActions...)...)

	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("The only wildcard is <table>/index/*: the same actions on this table's own " +
			"global secondary indexes (the overloaded GSI1), which Query needs; no other table or index."),
		AppliesTo: &[]interface{}{jsii.String("Resource::<" + logicalID(stack, table) + ".Arn>/index/*")},
	}}, jsii.Bool(true))
	return fn
}

// newAPI builds the HTTP API (payload 2.0) and its one auto-deployed stage.
func newAPI(stack awscdk.Stack, fns map[string]awslambda.Function) (awsapigatewayv2.HttpApi, awsapigatewayv2.HttpStage) {
	api := awsapigatewayv2.NewHttpApi(stack, jsii.String("Api"), &awsapigatewayv2.HttpApiProps{
		Description:        jsii.String("Organization credit pool: agent API, admin API, Slack app"),
		CreateDefaultStage: jsii.Bool(false),
	})

	accessLogs := awslogs.NewLogGroup(stack, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention:     logRetention,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	stage := awsapigatewayv2.NewHttpStage(stack, jsii.String("ApiStage"), &awsapigatewayv2.HttpStageProps{
		HttpApi:    api,
		StageName:  jsii.String("$default"),
		AutoDeploy: jsii.Bool(true),
		AccessLogSettings: &accessLogSettings{
			destination: awsapigatewayv2.NewLogGroupLogDestination(accessLogs),
			format:      awsapigateway.AccessLogFormat_Custom(jsii.String(accessLogFormat)),
		},
		// Every route has a limit; the agent routes have their own below.
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(defaultRouteLimit.Rate),
			BurstLimit: jsii.Number(defaultRouteLimit.Burst),
		},
	})

	integration := func(name string) awsapigatewayv2integrations.HttpLambdaIntegration {
		return awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String(name+"Integration"), fns[name],
			&awsapigatewayv2integrations.HttpLambdaIntegrationProps{
				PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
			})
	}

	// The agent API has no API Gateway authorizer on purpose: the usage
	// function checks the bearer token itself (hashed, against the table)
	// and caches the answer; every debit is conditional on the
	// organization's agents version, so a revoked token stops working at
	// its next request without an authorizer call per request.
	usage := integration("usage")
	routeSettings := map[string]any{}
	for _, r := range agentRoutes {
		for _, route := range *api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(r.Path),
			Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod(r.Method)},
			Integration: usage,
		}) {
			suppressAuthorization(route, "The usage function authenticates every request by its bearer "+
				"token (stored only as SHA-256, looked up and cached; a revocation applies at the next request); an API Gateway "+
				"authorizer would add a call per debit and could not scope the token to its organization.")
			// API Gateway refuses route settings for a route it does not
			// have yet, so the stage waits for the route.
			stage.Node().AddDependency(route)
		}
		routeSettings[r.key()] = map[string]any{
			"ThrottlingRateLimit":  r.Rate,
			"ThrottlingBurstLimit": r.Burst,
		}
	}
	// The L2 stage sets only the default route settings; per-route ones
	// go on the CloudFormation resource.
	stage.Node().DefaultChild().(awsapigatewayv2.CfnStage).SetRouteSettings(routeSettings)

	// The admin API is for operators only: every route needs a SigV4
	// signature from an IAM principal allowed execute-api:Invoke on it.
	api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
		Path:        jsii.String("/admin/{proxy+}"),
		Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_ANY},
		Integration: integration("admin"),
		Authorizer:  awsapigatewayv2authorizers.NewHttpIamAuthorizer(),
	})

	// Slack signs every request (v0 HMAC of the raw body); the slack
	// function rejects a bad signature with 401 before doing anything.
	slack := integration("slack")
	for _, path := range slackPaths {
		for _, route := range *api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path: jsii.String(path), Methods: &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_POST}, Integration: slack,
		}) {
			suppressAuthorization(route, "Slack cannot sign requests with SigV4 or send a bearer token; "+
				"the slack function verifies Slack's v0 request signature (HMAC-SHA256 with the signing "+
				"secret, 5-minute window) on every request and answers 401 otherwise.")
		}
	}
	// The install by OAuth: a person's browser opens the first and Slack
	// sends it back to the second.
	for _, path := range installPaths {
		for _, route := range *api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path: jsii.String(path), Methods: &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_GET}, Integration: slack,
		}) {
			suppressAuthorization(route, "These are a person's browser following Slack's OAuth install, which can "+
				"neither sign with SigV4 nor hold an API token. /slack/install writes nothing; /slack/oauth_redirect "+
				"stores an installation only for a state the slack function signed (HMAC-SHA256), unexpired (10 minutes), "+
				"equal to the browser's own HttpOnly cookie and never used before (a conditional write), and only "+
				"with a code Slack exchanges for the app's client secret.")
		}
	}
	return api, stage
}

// slackPaths are the Slack app's request URLs (commands, interactivity,
// events), all served by the slack function.
var slackPaths = []string{"/slack/commands", "/slack/interactions", "/slack/events"}

// installPaths are the install's URLs (GET): the start, and Slack's OAuth
// redirect back.
var installPaths = []string{"/slack/install", "/slack/oauth_redirect"}

func suppressAuthorization(route awsapigatewayv2.HttpRoute, reason string) {
	cdknag.NagSuppressions_AddResourceSuppressions(route, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-APIG4"), Reason: jsii.String(reason),
	}}, jsii.Bool(true))
}

// accessLogFormat is one JSON object per request with what an operator
// needs to trace a refused or failed call; never the body or headers.
const accessLogFormat = `{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",` +
	`"requestTime":"$context.requestTime","routeKey":"$context.routeKey","status":"$context.status",` +
	`"protocol":"$context.protocol","responseLength":"$context.responseLength",` +
	`"latency":"$context.responseLatency","integrationLatency":"$context.integrationLatency",` +
	`"integrationError":"$context.integrationErrorMessage","iamUser":"$context.identity.userArn"}`

// accessLogSettings implements awsapigatewayv2.IAccessLogSettings.
type accessLogSettings struct {
	destination awsapigatewayv2.IAccessLogDestination
	format      awsapigateway.AccessLogFormat
}

func (s *accessLogSettings) Destination() awsapigatewayv2.IAccessLogDestination { return s.destination }
func (s *accessLogSettings) Format() awsapigateway.AccessLogFormat              { return s.format }

// newNotifierSources feeds the notifier the table's stream and a schedule,
// and returns the queue that collects stream batches it could not process.
func newNotifierSources(stack awscdk.Stack, notifier awslambda.Function, table awsdynamodb.Table) awssqs.Queue {
	failures := awssqs.NewQueue(stack, jsii.String("NotifierFailures"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(failures, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-SQS3"),
		Reason: jsii.String("This queue is itself the dead-letter destination of the notifier's stream " +
			"mapping; it receives only failure records (pointers to the stream batch) and is read by an operator."),
	}}, nil)

	notifier.AddEventSource(awslambdaeventsources.NewDynamoEventSource(table, &awslambdaeventsources.DynamoEventSourceProps{
		// Alerts are about crossings from now on; replaying the past 24 h
		// of stream on a fresh deployment would send stale alerts.
		StartingPosition: awslambda.StartingPosition_LATEST,
		BatchSize:        jsii.Number(notifierBatchSize),
		// A bad record is retried, then its batch split until it stands
		// alone, then sent to the failure queue, so one poisoned record
		// never stalls the shard (and every later alert) for 24 hours.
		RetryAttempts:           jsii.Number(notifierRetryAttempts),
		BisectBatchOnError:      jsii.Bool(true),
		ReportBatchItemFailures: jsii.Bool(true),
		MaxRecordAge:            awscdk.Duration_Hours(jsii.Number(notifierMaxRecordAgeHours)),
		OnFailure:               awslambdaeventsources.NewSqsDlq(failures),
	}))

	// Pending transfers expire by their stored expiry time; the schedule
	// closes the due ones and rewrites their Slack messages. The notifier
	// receives EventBridge's "Scheduled Event" (source aws.events).
	awsevents.NewRule(stack, jsii.String("ExpireTransfersSchedule"), &awsevents.RuleProps{
		Description: jsii.String("Expire due Billing transfers"),
		Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(expiryScheduleMinutes))),
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(notifier, &awseventstargets.LambdaFunctionProps{
			// The next run retries anyway; do not pile up old invocations.
			RetryAttempts: jsii.Number(0),
		})},
	})

	// The stream mapping's role statements include dynamodb:ListStreams,
	// which IAM only grants on "*".
	cdknag.NagSuppressions_AddResourceSuppressions(notifier.Role(), &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"),
		Reason: jsii.String("dynamodb:ListStreams has no resource-level permissions and must be granted " +
			"on *; it only lists stream ARNs. The stream's records are readable from this table's stream only."),
		AppliesTo: &[]interface{}{jsii.String("Resource::*")},
	}}, jsii.Bool(true))
	return failures
}

// The notifier's stream settings, asserted by the tests.
const (
	notifierBatchSize         = 100
	notifierRetryAttempts     = 5
	notifierMaxRecordAgeHours = 6
	expiryScheduleMinutes     = 5
)

// logicalID is the CloudFormation logical ID of a construct's resource, as
// cdk-nag names it in IAM5 findings.
func logicalID(stack awscdk.Stack, c constructs.IConstruct) string {
	return *stack.GetLogicalId(c.Node().DefaultChild().(awscdk.CfnElement))
}

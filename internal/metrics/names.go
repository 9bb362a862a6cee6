// Package metrics names the CloudWatch metrics the functions emit and
// writes them in the Embedded Metric Format (EMF): one JSON log line per
// request that CloudWatch Logs turns into metrics, with no API call. The
// names are defined once here; infra/ builds the dashboard and alarms from
// the same constants, so the two cannot drift.
package metrics

// Namespace is the CloudWatch namespace of every metric.
const Namespace = "OrgCredit"

// Dimension names. Every metric carries Function; refusals also carry Rule,
// Slack latencies also carry Kind.
const (
	DimFunction = "Function"
	DimRule     = "Rule"
	DimKind     = "Kind"
)

// Function dimension values: the deployed functions.
const (
	FunctionUsage    = "usage"
	FunctionAdmin    = "admin"
	FunctionSlack    = "slack"
	FunctionNotifier = "notifier"
)

// Metric names.
const (
	// Debits counts usage events debited (first deliveries only).
	Debits = "Debits"
	// DebitedMicros sums the micro-credits debited.
	DebitedMicros = "DebitedMicros"
	// Duplicates counts usage events answered as duplicates.
	Duplicates = "Duplicates"
	// Refusals counts refused requests, by the product rule that refused
	// them (dimension Rule), e.g. insufficient_credit.
	Refusals = "Refusals"
	// DynamoDBRetries counts DynamoDB calls retried after a conflict or
	// throttling.
	DynamoDBRetries = "DynamoDBRetries"
	// Unavailable counts requests answered 503 (DynamoDB kept failing
	// after retries).
	Unavailable = "Unavailable"
	// Throttled counts requests answered 429 (an organization writing
	// faster than its pool item takes).
	Throttled = "Throttled"
	// SlackLatency is the server-side time of one Slack request, in
	// milliseconds, by Kind (command, interaction, event).
	SlackLatency = "SlackLatency"
	// NotifierDeliveries counts messages the notifier sent.
	NotifierDeliveries = "NotifierDeliveries"
	// NotifierFailures counts messages the notifier failed to send (they
	// are retried).
	NotifierFailures = "NotifierFailures"
)

// Kind dimension values of SlackLatency.
const (
	KindCommand     = "command"
	KindInteraction = "interaction"
	KindEvent       = "event"
)

package main

import "time"

// The DynamoDB actions each function may perform, written once as data so
// that the stack grants them and the tests assert them. A
// TransactWriteItems call is authorized item by item, so the transactional
// debit needs PutItem, UpdateItem and ConditionCheckItem, not a
// "TransactWriteItems" action (IAM has none). Nobody gets Scan: every
// access pattern is a key lookup or a Query on the table or GSI1.
var (
	// keyReads serve the agent API's lookups by key: an agent's token and
	// agent, a group's cap, the pool and spend for an answer.
	keyReads = []string{
		"dynamodb:GetItem",
		"dynamodb:BatchGetItem",
	}

	// debitActions are what one debit's transaction writes: the usage
	// record (put), the pool, the day's usage and the group spend (update),
	// the group cap (condition check). The agent API neither queries nor
	// deletes.
	debitActions = concat(keyReads, []string{
		"dynamodb:PutItem",
		"dynamodb:UpdateItem",
		"dynamodb:ConditionCheckItem",
	})

	// manageActions add Query (members, groups, agents, the audit trail,
	// day totals; members by Slack identity and pending transfers on GSI1)
	// and DeleteItem (releasing a notification's once-key after a failed
	// send).
	manageActions = concat(debitActions, []string{"dynamodb:Query", "dynamodb:DeleteItem"})
)

// function is one Lambda: the directory functions/<Name> built by
// `make build` into <assetDir>/<Name>/bootstrap.
type function struct {
	Name        string
	Description string

	// MemoryMB also buys CPU: Lambda allots CPU in proportion to memory,
	// and a Go binary's cold start and TLS handshakes to DynamoDB are
	// CPU-bound. 256 MB is the smallest size where that stops dominating
	// the latency of these small handlers; none of them holds much data.
	MemoryMB float64
	Timeout  time.Duration

	// TableActions is everything the function may do to the table and
	// its indexes.
	TableActions []string

	// SlackSecret grants read of the Slack credentials secret and passes
	// its ARN as SLACK_SECRET_ARN.
	SlackSecret bool

	// TokenKeyActions are what the function may do with the KMS key that
	// seals the installed workspaces' bot tokens (its ARN is passed as
	// SLACK_KMS_KEY_ARN): kms:Decrypt to open them, kms:GenerateDataKey
	// to seal a new one. Only for the bot tokens' encryption context.
	TokenKeyActions []string
}

// The KMS actions on the bot tokens' key: opening a token (every function
// that calls Slack), and sealing one (the install, in the slack function).
var (
	openTokens = []string{"kms:Decrypt"}
	sealTokens = []string{"kms:Decrypt", "kms:GenerateDataKey"}
)

// functions are every Lambda the stack deploys. TestFunctionsCoverDirectories
// keeps this list equal to the directories under functions/ (except local,
// the local HTTP server, which is never deployed).
var functions = []function{
	{
		Name:        "usage",
		Description: "Agent API: POST /v1/usage debits the pool, GET /v1/balance reads it",
		MemoryMB:    256,
		// A debit retries conflicts and throttling with jittered backoff
		// inside the request and then answers 503 with Retry-After; 10 s
		// bounds that loop well under API Gateway's 30 s integration limit.
		Timeout:      10 * time.Second,
		TableActions: debitActions,
	},
	{
		Name:        "admin",
		Description: "Admin API for operators (IAM-authorized): organizations, members, agents, grants",
		MemoryMB:    256,
		// Each admin call is one or two small transactions.
		Timeout:      10 * time.Second,
		TableActions: manageActions,
	},
	{
		Name:        "slack",
		Description: "Slack commands, interactions and events",
		MemoryMB:    256,
		// Slack gives up after 3 s, so the handler must answer well before;
		// the longer timeout only lets a slow call that has already begun
		// a write finish cleanly instead of being killed mid-way.
		Timeout:         10 * time.Second,
		TableActions:    manageActions,
		SlackSecret:     true,
		TokenKeyActions: sealTokens,
	},
	{
		Name:        "notifier",
		Description: "Low-balance and cap alerts from the table stream; expires due transfers on a schedule",
		MemoryMB:    256,
		// A stream batch may post several Slack messages in sequence; 60 s
		// leaves room for Slack's rate limiting without holding the shard
		// for long.
		Timeout:         60 * time.Second,
		TableActions:    manageActions,
		SlackSecret:     true,
		TokenKeyActions: openTokens,
	},
}

// functionNames are the deployed functions' names, in the order above.
func functionNames() []string {
	names := make([]string, len(functions))
	for i, fn := range functions {
		names[i] = fn.Name
	}
	return names
}

func concat(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

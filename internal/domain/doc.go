// Package domain holds the product rules of the organization credit pool and
// the Billing role as plain Go: organizations, members and their everyday
// roles, the Billing holder and its transfers, agents, budget groups, usage,
// grants and the audit trail.
//
// It imports nothing from AWS or Slack. Adapters (the DynamoDB store, the
// HTTP and Slack surfaces) call these rules to decide and to explain; the
// store turns each decision's preconditions into conditional writes so that
// the rules also hold under concurrency.
package domain

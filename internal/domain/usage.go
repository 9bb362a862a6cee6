package domain

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
)

// UsageEvent is one usage report of an agent, as it arrives. ID is the
// client's idempotency key, stable across retries.
type UsageEvent struct {
	ID         string
	Amount     Micros
	Kind       string
	OccurredAt time.Time // zero when the client did not say
}

// DefaultUsageKind is the kind of a usage event that names none.
const DefaultUsageKind = "usage"

// Validate checks an event's fields against the documented limits.
func (e UsageEvent) Validate() error {
	if err := ValidateID("usage", e.ID); err != nil {
		return withField(err, "id")
	}
	if err := ValidateAmount("amount_micros", e.Amount, MaxUsageMicros, false); err != nil {
		return err
	}
	return ValidateKind(e.Kind)
}

// Usage is the ledger entry of one debit, and its idempotency record.
type Usage struct {
	OrgID         string
	ID            string
	AgentID       string
	BudgetGroupID string
	Amount        Micros
	Kind          string
	Period        string
	OccurredAt    time.Time
	RecordedAt    time.Time
	// Fingerprint identifies the content of the event (agent, amount, kind,
	// occurred_at). A retry with the same id and fingerprint is a duplicate;
	// the same id with another fingerprint is a conflict.
	Fingerprint string
}

// NewUsage makes the ledger entry for an event debited by agent at now.
// The period is the month the debit is recorded in, so that a late report
// cannot reopen a closed month's cap.
func NewUsage(orgID string, agent Agent, e UsageEvent, now time.Time) Usage {
	kind := e.Kind
	if kind == "" {
		kind = DefaultUsageKind
	}
	occurred := e.OccurredAt
	if occurred.IsZero() {
		occurred = now
	}
	return Usage{
		OrgID:         orgID,
		ID:            e.ID,
		AgentID:       agent.ID,
		BudgetGroupID: agent.BudgetGroupID,
		Amount:        e.Amount,
		Kind:          kind,
		Period:        Period(now),
		OccurredAt:    occurred.UTC(),
		RecordedAt:    now.UTC(),
		Fingerprint:   e.Fingerprint(agent.ID),
	}
}

// Fingerprint hashes what makes two deliveries of an id "the same content".
func (e UsageEvent) Fingerprint(agentID string) string {
	h := sha256.New()
	write := func(s string) { h.Write([]byte(strconv.Itoa(len(s)) + ":" + s)) }
	write(agentID)
	write(strconv.FormatInt(int64(e.Amount), 10))
	write(e.Kind)
	if !e.OccurredAt.IsZero() {
		write(e.OccurredAt.UTC().Format(time.RFC3339Nano))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// DebitResult is the answer to a debit.
type DebitResult struct {
	Usage     Usage
	Duplicate bool
	// Balance is the pool balance read right after the debit; it may
	// already include later debits.
	Balance Micros
	// Group is the agent's budget group in the usage's period, nil for an
	// agent without a group.
	Group *GroupStatus
	// Agent is the agent as the debit was written for it: reloaded when a
	// revocation or group move made the caller's copy stale, so the caller
	// can keep the fresh one.
	Agent Agent
}

// Balance is what an agent may know of its organization's credit: the
// pool, and its budget group in the current period (nil without a group).
type Balance struct {
	Pool  Pool
	Group *GroupStatus
	// Agent is the agent as it was read for the answer (see
	// DebitResult.Agent).
	Agent Agent
}

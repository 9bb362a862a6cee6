package domain

import (
	"errors"
	"fmt"
	"strings"
)

// Rule names the product rule that refused an operation. The names are
// stable: the HTTP surfaces use them in problem types and the Slack surface
// chooses its wording from them.
type Rule string

const (
	RuleNotFound            Rule = "not_found"
	RuleAlreadyExists       Rule = "already_exists"
	RuleInvalid             Rule = "invalid"
	RuleUnknownRole         Rule = "unknown_role"
	RuleBillingNotARole     Rule = "billing_not_a_role"
	RuleNotOwnerOrAdmin     Rule = "not_owner_or_admin"
	RuleOnlyOwnerEditsOwner Rule = "only_owner_edits_owner"
	RuleRoleUnchanged       Rule = "role_unchanged"
	RuleLastOwner           Rule = "last_owner"
	RuleNotMember           Rule = "not_member"
	RuleNotBillingHolder    Rule = "not_billing_holder"
	RuleNotOwner            Rule = "not_owner"
	RuleIneligibleRecipient Rule = "ineligible_recipient"
	RuleTransferPending     Rule = "transfer_pending"
	RuleNotRecipient        Rule = "not_recipient"
	RuleNotInitiator        Rule = "not_initiator"
	RuleTransferClosed      Rule = "transfer_closed"
	RuleTransferExpired     Rule = "transfer_expired"
	RuleTransferInvalidated Rule = "transfer_invalidated"
	RuleHolderCannotLeave   Rule = "billing_holder_cannot_leave"
	RuleCannotReadBilling   Rule = "not_billing_holder_view"
	RuleCannotReadAudit     Rule = "cannot_read_audit"
	RuleInsufficientCredit  Rule = "insufficient_credit"
	RuleGroupCapReached     Rule = "budget_group_cap_reached"
	RuleUsageConflict       Rule = "usage_id_conflict"
	RuleAgentRevoked        Rule = "agent_revoked"
	RuleCeilingReached      Rule = "credit_ceiling_reached"
)

// Refusal is the error every operation returns when a product rule refuses
// it. Message is written for the person who tried: what went wrong and what
// to do. Transfer, when set, is the transfer the refusal is about (the
// pending one that blocks a second request, or the closed one a late click
// landed on), so a caller can show its current state.
type Refusal struct {
	Rule     Rule
	Message  string
	Transfer *Transfer
	// Field names the input the refusal is about, in the APIs' own
	// spelling ("amount_micros", "owner.id"), when it is about one.
	Field string
	// Max is the largest amount the field takes, for a refusal of an
	// amount that is too large.
	Max Micros
}

func (r *Refusal) Error() string {
	if r.Message == "" {
		return string(r.Rule)
	}
	return r.Message
}

// Is makes errors.Is(err, ErrX) match any refusal of the same rule.
func (r *Refusal) Is(target error) bool {
	t, ok := target.(*Refusal)
	return ok && t.Rule == r.Rule
}

func refuse(rule Rule, msg string) *Refusal { return &Refusal{Rule: rule, Message: msg} }

// invalidField refuses one input field.
func invalidField(field, format string, args ...any) *Refusal {
	return &Refusal{Rule: RuleInvalid, Message: fmt.Sprintf(format, args...), Field: field}
}

// withField names the field an invalid-input refusal is about.
func withField(err error, field string) error {
	if r, ok := errors.AsType[*Refusal](err); ok && r.Field == "" {
		c := *r
		c.Field = field
		return &c
	}
	return err
}

// prefixField places a refusal's field inside an enclosing object
// ("id" of the owner is "owner.id").
func prefixField(err error, prefix string) error {
	if r, ok := errors.AsType[*Refusal](err); ok && r.Field != "" && !strings.HasPrefix(r.Field, prefix) {
		c := *r
		c.Field = prefix + r.Field
		return &c
	}
	return err
}

// Refusef builds a refusal; adapters use it for rules they detect themselves
// (a missing item, an existing id with other content).
func Refusef(rule Rule, format string, args ...any) *Refusal {
	return &Refusal{Rule: rule, Message: fmt.Sprintf(format, args...)}
}

// Sentinels for errors.Is. Each matches every refusal of its rule.
var (
	ErrNotFound            = &Refusal{Rule: RuleNotFound}
	ErrAlreadyExists       = &Refusal{Rule: RuleAlreadyExists}
	ErrInvalid             = &Refusal{Rule: RuleInvalid}
	ErrBillingNotARole     = &Refusal{Rule: RuleBillingNotARole}
	ErrNotOwnerOrAdmin     = &Refusal{Rule: RuleNotOwnerOrAdmin}
	ErrOnlyOwnerEditsOwner = &Refusal{Rule: RuleOnlyOwnerEditsOwner}
	ErrLastOwner           = &Refusal{Rule: RuleLastOwner}
	ErrNotMember           = &Refusal{Rule: RuleNotMember}
	ErrNotBillingHolder    = &Refusal{Rule: RuleNotBillingHolder}
	ErrNotOwner            = &Refusal{Rule: RuleNotOwner}
	ErrIneligibleRecipient = &Refusal{Rule: RuleIneligibleRecipient}
	ErrTransferPending     = &Refusal{Rule: RuleTransferPending}
	ErrNotRecipient        = &Refusal{Rule: RuleNotRecipient}
	ErrNotInitiator        = &Refusal{Rule: RuleNotInitiator}
	ErrTransferClosed      = &Refusal{Rule: RuleTransferClosed}
	ErrTransferExpired     = &Refusal{Rule: RuleTransferExpired}
	ErrTransferInvalidated = &Refusal{Rule: RuleTransferInvalidated}
	ErrHolderCannotLeave   = &Refusal{Rule: RuleHolderCannotLeave}
	ErrCannotReadBilling   = &Refusal{Rule: RuleCannotReadBilling}
	ErrCannotReadAudit     = &Refusal{Rule: RuleCannotReadAudit}
	ErrInsufficientCredit  = &Refusal{Rule: RuleInsufficientCredit}
	ErrGroupCapReached     = &Refusal{Rule: RuleGroupCapReached}
	ErrUsageConflict       = &Refusal{Rule: RuleUsageConflict}
	ErrAgentRevoked        = &Refusal{Rule: RuleAgentRevoked}
	ErrCeilingReached      = &Refusal{Rule: RuleCeilingReached}
)

// ErrUnavailable wraps failures of the store that survived its retries
// (DynamoDB errors, timeouts). The request changed nothing that a retry
// could double: callers answer 503 with Retry-After, and retrying the
// same request is safe.
var ErrUnavailable = errors.New("the credit store is temporarily unavailable; retry shortly")

// ErrBusy wraps a write that kept conflicting or being throttled on one
// organization's own items after the store's retries: the organization is
// writing faster than its pool takes. Nothing was written; the caller
// answers 429 with Retry-After, and retrying the same request later is
// safe. It is also an ErrUnavailable.
var ErrBusy = fmt.Errorf("%w: this organization's credit pool is receiving more writes than it can take right now", ErrUnavailable)

// ErrUndeliverable marks a message that can never reach its reader as
// things stand (the organization's Slack workspace uninstalled the app, the
// holder has no Slack identity): retrying cannot help, so it is logged and
// dropped. A surface's own error says so by matching it with errors.Is.
var ErrUndeliverable = errors.New("the message cannot be delivered")

// InsufficientCredit is returned when the pool cannot pay a debit in full.
type InsufficientCredit struct {
	Balance, Requested Micros
}

func (e *InsufficientCredit) Error() string {
	return fmt.Sprintf("the organization's credit pool holds %s µcr and cannot pay %s µcr; usage is refused for every agent until credit is added",
		fmtInt(int64(e.Balance)), fmtInt(int64(e.Requested)))
}

func (e *InsufficientCredit) Is(target error) bool { return target == ErrInsufficientCredit }

// GroupCapReached is returned when a debit would take a budget group over
// its cap for the period.
type GroupCapReached struct {
	GroupID, GroupName string
	Cap, Spent         Micros
	Requested          Micros
	Period             string
}

func (e *GroupCapReached) Error() string {
	return fmt.Sprintf("budget group %q has spent %s of its %s µcr cap for %s; a debit of %s µcr would exceed it. An Owner or Admin can raise the cap",
		e.GroupID, fmtInt(int64(e.Spent)), fmtInt(int64(e.Cap)), e.Period, fmtInt(int64(e.Requested)))
}

func (e *GroupCapReached) Is(target error) bool { return target == ErrGroupCapReached }

// CeilingReached is returned when a grant would take a pool's running
// totals past MaxRunningTotalMicros.
type CeilingReached struct {
	Granted, Balance, Requested Micros
}

func (e *CeilingReached) Error() string {
	return fmt.Sprintf("this grant of %s credits would take the pool's total granted from %s credits past the ceiling of %s credits that every running total of the system has; nothing was granted. Grant at most %s credits, or contact the operators",
		e.Requested.Credits(), e.Granted.Credits(), MaxRunningTotalMicros.Credits(), max(0, MaxRunningTotalMicros-max(e.Granted, e.Balance)).Credits())
}

func (e *CeilingReached) Is(target error) bool { return target == ErrCeilingReached }

func fmtInt(v int64) string { return fmt.Sprintf("%d", v) }

// IsNotFound reports whether err is the refusal of a missing thing.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

package domain

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// DefaultTransferTTL is how long a transfer request stays pending.
const DefaultTransferTTL = 7 * 24 * time.Hour

// TransferStatus is where a Billing transfer stands.
type TransferStatus string

const (
	TransferPending     TransferStatus = "pending"
	TransferAccepted    TransferStatus = "accepted"
	TransferDeclined    TransferStatus = "declined"
	TransferCancelled   TransferStatus = "cancelled"
	TransferExpired     TransferStatus = "expired"
	TransferInvalidated TransferStatus = "invalidated"
)

// Transfer is a request to move the Billing role from the initiating Owner
// (the current holder) to a recipient, who accepts or declines it.
type Transfer struct {
	OrgID       string
	ID          string
	InitiatorID string
	RecipientID string
	Status      TransferStatus
	RequestedAt time.Time
	ExpiresAt   time.Time
	ClosedAt    time.Time
	ClosedBy    string // member id, or SystemActor
	Reason      string // why it was invalidated
	// Slack messages to rewrite on every outcome: the recipient's request
	// and the initiator's confirmation. Set by the Slack surface.
	RecipientMessage Message
	InitiatorMessage Message
}

// Message locates a chat message (a Slack channel and timestamp).
type Message struct {
	Channel string
	TS      string
}

// EffectiveStatus is the status at now: a pending transfer past its stored
// expiry is expired, whether or not anything has swept it yet.
func (t Transfer) EffectiveStatus(now time.Time) TransferStatus {
	if t.Status == TransferPending && !now.Before(t.ExpiresAt) {
		return TransferExpired
	}
	return t.Status
}

// Closed reports whether no outcome can change t any more at now.
func (t Transfer) Closed(now time.Time) bool { return t.EffectiveStatus(now) != TransferPending }

// Describe says where the transfer stands, for messages.
func (t Transfer) Describe(now time.Time, names func(id string) string) string {
	switch t.EffectiveStatus(now) {
	case TransferPending:
		return fmt.Sprintf("The transfer of Billing from %s to %s is pending since %s (expires %s).",
			names(t.InitiatorID), names(t.RecipientID), t.RequestedAt.UTC().Format("2006-01-02 15:04 UTC"), t.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"))
	case TransferAccepted:
		return fmt.Sprintf("%s accepted the Billing role from %s.", names(t.RecipientID), names(t.InitiatorID))
	case TransferDeclined:
		return fmt.Sprintf("%s declined the Billing role from %s.", names(t.RecipientID), names(t.InitiatorID))
	case TransferCancelled:
		return fmt.Sprintf("%s cancelled the transfer of Billing to %s.", names(t.InitiatorID), names(t.RecipientID))
	case TransferExpired:
		return fmt.Sprintf("The transfer of Billing from %s to %s expired on %s without an answer.",
			names(t.InitiatorID), names(t.RecipientID), t.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"))
	case TransferInvalidated:
		return fmt.Sprintf("The transfer of Billing from %s to %s is no longer valid: %s", names(t.InitiatorID), names(t.RecipientID), t.Reason)
	}
	return fmt.Sprintf("Transfer %s is %s.", t.ID, t.Status)
}

// Eligible reports whether m can be offered the Billing role by actor:
// an active member, not the actor, not the holder, reachable in Slack.
func Eligible(org Org, actor, m Member) bool {
	return m.Active() && m.ID != actor.ID && m.ID != org.BillingHolderID && m.SlackUserID != ""
}

// EligibleRecipients filters members to those the transfer dialog lists,
// sorted by name.
func EligibleRecipients(org Org, actor Member, members []Member) []Member {
	var out []Member
	for _, m := range members {
		if Eligible(org, actor, m) {
			out = append(out, m)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name)
	})
	return out
}

// CanStartTransfer checks who may start a transfer: an active Owner who
// holds Billing.
func CanStartTransfer(org Org, actor Member) error {
	if !actor.Active() {
		return refuse(RuleNotMember, "You are not an active member of this organization.")
	}
	if org.BillingHolderID != actor.ID {
		return refuse(RuleNotBillingHolder, "Only the Billing holder can transfer the Billing role, and you do not hold it. Ask the current holder to start the transfer.")
	}
	if actor.Role != RoleOwner {
		return refuse(RuleNotOwner, "Only an Owner who holds Billing can start a transfer. Ask an Owner to make you an Owner first.")
	}
	return nil
}

// DecideRequest applies the rules of a new transfer request. pending is the
// organization's pending transfer, if any; an expired one no longer blocks.
// recipient is nil when the id names no member. name names members in the
// refusal (nil: their ids).
func DecideRequest(org Org, actor Member, recipientID string, recipient *Member, pending *Transfer, name func(id string) string, id string, now time.Time, ttl time.Duration) (Transfer, error) {
	if name == nil {
		name = func(id string) string { return id }
	}
	if err := CanStartTransfer(org, actor); err != nil {
		return Transfer{}, err
	}
	switch {
	case recipientID == actor.ID:
		return Transfer{}, refuse(RuleIneligibleRecipient, "You already hold Billing; choose another member to transfer it to.")
	case recipient == nil:
		return Transfer{}, refuse(RuleIneligibleRecipient, fmt.Sprintf("%q is not a member of %s. Choose a member from the list.", recipientID, org.Name))
	case !recipient.Active():
		return Transfer{}, refuse(RuleIneligibleRecipient, fmt.Sprintf("%s is no longer a member of %s. Choose an active member.", recipient.Describe(), org.Name))
	case recipient.ID == org.BillingHolderID:
		return Transfer{}, refuse(RuleIneligibleRecipient, fmt.Sprintf("%s already holds Billing.", recipient.Describe()))
	case recipient.SlackUserID == "":
		return Transfer{}, refuse(RuleIneligibleRecipient, fmt.Sprintf("%s cannot be reached in Slack, so they could not accept. Choose another member.", recipient.Describe()))
	}
	if pending != nil && !pending.Closed(now) {
		r := refuse(RuleTransferPending, fmt.Sprintf("A transfer of Billing is already pending: to %s, requested by %s on %s. Only one can be pending at a time: %s can cancel it with `/billing cancel`, or wait for %s to answer (it expires %s).",
			name(pending.RecipientID), name(pending.InitiatorID), pending.RequestedAt.UTC().Format("2006-01-02 15:04 UTC"),
			name(pending.InitiatorID), name(pending.RecipientID), pending.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")))
		p := *pending
		r.Transfer = &p
		return Transfer{}, r
	}
	if ttl <= 0 {
		ttl = DefaultTransferTTL
	}
	return Transfer{
		OrgID:       org.ID,
		ID:          id,
		InitiatorID: actor.ID,
		RecipientID: recipient.ID,
		Status:      TransferPending,
		RequestedAt: now.UTC(),
		ExpiresAt:   now.UTC().Add(ttl),
	}, nil
}

// Outcome is how a decided answer to a transfer closes it.
type Outcome struct {
	Status TransferStatus
	Reason string // for invalidated
	// Refusal is returned to the caller after the outcome is written, when
	// the outcome is not what they asked for (expired, invalidated).
	Refusal *Refusal
}

// startAgain tells the parties of a transfer that ended without moving
// Billing what they can do.
const startAgain = "If Billing should still move, its holder can start a new transfer with `/billing transfer`."

// closedRefusal answers any action on a transfer that is no longer pending
// with its current state.
func closedRefusal(t Transfer, now time.Time) *Refusal {
	st := t.EffectiveStatus(now)
	rule := RuleTransferClosed
	if st == TransferExpired {
		rule = RuleTransferExpired
	}
	if st == TransferInvalidated {
		rule = RuleTransferInvalidated
	}
	msg := fmt.Sprintf("This transfer is already %s; nothing was changed.", st)
	if rule != RuleTransferClosed {
		// It ended without an answer: Billing did not move, and may still
		// need to.
		msg += " " + startAgain
	}
	r := refuse(rule, msg)
	tt := t
	r.Transfer = &tt
	return r
}

// DecideAccept applies the rules of an Accept click. initiator and recipient
// are the members as they are now. When the transfer has expired or lost
// its validity, the outcome closes it that way and carries the refusal to
// return once written.
func DecideAccept(org Org, t Transfer, actor Member, initiator, recipient Member, now time.Time) (Outcome, error) {
	if actor.ID != t.RecipientID {
		return Outcome{}, refuse(RuleNotRecipient, "Only the recipient of this transfer can accept or decline it.")
	}
	if t.Status != TransferPending {
		return Outcome{}, closedRefusal(t, now)
	}
	if t.EffectiveStatus(now) == TransferExpired {
		r := closedRefusal(t, now)
		return Outcome{Status: TransferExpired, Refusal: r}, nil
	}
	if reason := invalidReason(org, t, initiator, recipient); reason != "" {
		r := refuse(RuleTransferInvalidated, "This transfer is no longer valid: "+reason+" "+startAgain)
		return Outcome{Status: TransferInvalidated, Reason: reason, Refusal: r}, nil
	}
	return Outcome{Status: TransferAccepted}, nil
}

func invalidReason(org Org, t Transfer, initiator, recipient Member) string {
	switch {
	case !recipient.Active():
		return fmt.Sprintf("%s is no longer a member.", recipient.Describe())
	case !initiator.Active():
		return fmt.Sprintf("%s is no longer a member.", initiator.Describe())
	case org.BillingHolderID != t.InitiatorID:
		return fmt.Sprintf("%s no longer holds Billing.", initiator.Describe())
	case initiator.Role != RoleOwner:
		return fmt.Sprintf("%s is no longer an Owner.", initiator.Describe())
	}
	return ""
}

// DecideDecline applies the rules of a Decline click.
func DecideDecline(t Transfer, actor Member, now time.Time) (Outcome, error) {
	if actor.ID != t.RecipientID {
		return Outcome{}, refuse(RuleNotRecipient, "Only the recipient of this transfer can accept or decline it.")
	}
	return closeByParty(t, TransferDeclined, now)
}

// DecideCancel applies the rules of a Cancel by the initiating Owner.
func DecideCancel(t Transfer, actor Member, now time.Time) (Outcome, error) {
	if actor.ID != t.InitiatorID {
		return Outcome{}, refuse(RuleNotInitiator, "Only the Owner who started this transfer can cancel it.")
	}
	return closeByParty(t, TransferCancelled, now)
}

func closeByParty(t Transfer, to TransferStatus, now time.Time) (Outcome, error) {
	if t.Status != TransferPending {
		return Outcome{}, closedRefusal(t, now)
	}
	if t.EffectiveStatus(now) == TransferExpired {
		return Outcome{Status: TransferExpired, Refusal: closedRefusal(t, now)}, nil
	}
	return Outcome{Status: to}, nil
}

// AuditAction is the audit action recording an outcome.
func (s TransferStatus) AuditAction() Action {
	switch s {
	case TransferPending:
		return ActionTransferRequested
	case TransferAccepted:
		return ActionTransferAccepted
	case TransferDeclined:
		return ActionTransferDeclined
	case TransferCancelled:
		return ActionTransferCancelled
	case TransferExpired:
		return ActionTransferExpired
	}
	return ActionTransferInvalidated
}

// Departure is a decided departure: the pending transfer it closes, if
// any, and how.
type Departure struct {
	Closes *Transfer
	As     TransferStatus // TransferInvalidated, or TransferExpired for one already past its expiry
	Reason string         // why it is invalidated
}

// DecideLeave applies the rules of a member leaving (how is MemberLeft) or
// being removed (MemberRemoved): the Billing holder cannot go until Billing
// has moved; the last Owner cannot go. actor is the member removing them,
// nil when they leave themselves or an operator removes them. A transfer
// pending to or from the member is closed: invalidated, or expired if its
// expiry has already passed unswept.
func DecideLeave(org Org, m Member, actor *Member, how MemberStatus, pending *Transfer, now time.Time) (Departure, error) {
	if !m.Active() {
		return Departure{}, refuse(RuleNotMember, fmt.Sprintf("%s is not an active member of %s.", m.Describe(), org.Name))
	}
	if actor != nil && actor.ID != m.ID {
		if !actor.Active() || !actor.Role.canEditRoles() {
			return Departure{}, refuse(RuleNotOwnerOrAdmin, "Only Owners and Admins can remove members.")
		}
		if m.Role == RoleOwner && actor.Role != RoleOwner {
			return Departure{}, refuse(RuleOnlyOwnerEditsOwner, "Only an Owner can remove an Owner.")
		}
	}
	if org.BillingHolderID == m.ID {
		msg := fmt.Sprintf("%s holds Billing and cannot leave or be removed until Billing has moved. ", m.Describe())
		if m.Role == RoleOwner {
			msg += "Transfer Billing first with `/billing transfer`; once the recipient accepts, leaving is possible."
		} else {
			msg += "Since they are not an Owner they cannot start a transfer: an Owner must first make them an Owner (`/billing role`), then they transfer Billing with `/billing transfer`."
		}
		return Departure{}, refuse(RuleHolderCannotLeave, msg)
	}
	if m.Role == RoleOwner && org.OwnerCount <= 1 {
		return Departure{}, refuse(RuleLastOwner, fmt.Sprintf("%s is the last Owner of %s and cannot leave or be removed. Make another member an Owner first.", m.Describe(), org.Name))
	}
	if pending == nil || pending.Status != TransferPending || (pending.InitiatorID != m.ID && pending.RecipientID != m.ID) {
		return Departure{}, nil
	}
	p := *pending
	if p.EffectiveStatus(now) == TransferExpired {
		return Departure{Closes: &p, As: TransferExpired}, nil
	}
	reason := m.Describe() + " left the organization."
	if how == MemberRemoved {
		reason = m.Describe() + " was removed from the organization."
	}
	return Departure{Closes: &p, As: TransferInvalidated, Reason: reason}, nil
}

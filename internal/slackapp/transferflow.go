package slackapp

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/slackapp/mrkdwn"
)

// The orchestration of a Billing transfer in Slack, in one place: open the
// dialog, request (tell both parties, keep the references of their
// messages, withdraw when Slack fails), answer the buttons, and announce
// each outcome once, whoever discovers it.

// announceOnceTTL keeps the marker that an outcome was announced long past
// any late click or redelivered stream record.
const announceOnceTTL = 30 * 24 * time.Hour

// outcomeKey names the announcement of a transfer's outcome: a click, the
// sweep, the stream and a late click may all report the same outcome, and
// its parties are told once.
func outcomeKey(orgID, transferID string) domain.OnceKey {
	return domain.NewOnceKey("transfer-outcome", orgID, transferID)
}

// openTransferDialog opens "Transfer Billing Role" for member m, from a
// command or a button (trigger). A refusal is returned for the caller to
// show.
func (a *App) openTransferDialog(ctx context.Context, teamID, trigger string, m domain.Membership) (refused md, ok bool) {
	if err := domain.CanStartTransfer(m.Org, m.Member); err != nil {
		return a.failure(ctx, "start transfer", err), false
	}
	pending, err := a.store.PendingTransfer(ctx, m.Org.ID)
	if err != nil {
		return a.failure(ctx, "pending transfer", err), false
	}
	if pending != nil {
		n, err := a.names(ctx, m.Org.ID, pending.RecipientID)
		if err != nil {
			return a.failure(ctx, "list members", err), false
		}
		return mrkdwn.F("A transfer of Billing of %s to %s is already waiting for an answer (it expires %s). Only one can be pending at a time: cancel it first with `/billing cancel` or its *Cancel request* button.",
			orgName(m.Org), n.person(pending.RecipientID), mrkdwn.When(pending.ExpiresAt)), false
	}
	recipients, err := a.store.EligibleRecipients(ctx, m.Org.ID, m.Member.ID)
	if err != nil {
		return a.failure(ctx, "eligible recipients", err), false
	}
	if len(recipients) == 0 {
		return mrkdwn.F("Nobody in %s can receive Billing yet: it goes to an active member other than you who is in this Slack workspace. Ask whoever runs orgcredit for your organization to add them.", orgName(m.Org)), false
	}
	if err := a.openView(ctx, teamID, trigger, transferDialog(m.Org, recipients, nil, a.transferTTL)); err != nil {
		if errors.Is(err, ErrNotInstalled) {
			return a.failure(ctx, "open the transfer dialog", err), false
		}
		a.log.ErrorContext(ctx, "slack: open the transfer dialog", "org", m.Org.ID, "err", err)
		return mrkdwn.F("Slack didn't open the transfer dialog just now, and nothing was changed. Please try again."), false
	}
	return md{}, true
}

// chooseRecipient shows, in the open dialog, what holding Billing means
// for the member just chosen (block_actions of the dispatching select).
func (a *App) chooseRecipient(ctx context.Context, ic slack.InteractionCallback, act *slack.BlockAction) {
	m, ok, err := a.in(ctx, teamOf(ic), ic.User.ID, ic.View.PrivateMetadata)
	if err != nil || !ok {
		return
	}
	recipients, err := a.store.EligibleRecipients(ctx, m.Org.ID, m.Member.ID)
	if err != nil {
		return
	}
	var chosen *domain.Member
	for i, r := range recipients { // eligible, as read just now
		if r.ID == act.SelectedOption.Value {
			chosen = &recipients[i]
		}
	}
	if err := a.updateView(ctx, teamOf(ic), ic.View.ID, ic.View.Hash, transferDialog(m.Org, recipients, chosen, a.transferTTL)); err != nil {
		a.log.ErrorContext(ctx, "slack: show the choice's consequence", "err", err)
	}
}

// suggestRecipients answers the external select's search (block_suggestion).
func (a *App) suggestRecipients(ctx context.Context, ic slack.InteractionCallback) response {
	none := jsonResponse(map[string]any{"options": []any{}})
	m, ok, err := a.in(ctx, teamOf(ic), ic.User.ID, ic.View.PrivateMetadata)
	if err != nil || !ok {
		return none
	}
	recipients, err := a.store.EligibleRecipients(ctx, m.Org.ID, m.Member.ID)
	if err != nil {
		a.log.ErrorContext(ctx, "slack: eligible recipients", "err", err)
		return none
	}
	q := strings.ToLower(strings.TrimSpace(ic.Value))
	opts := []*slack.OptionBlockObject{}
	for _, r := range recipients {
		if q == "" || strings.Contains(strings.ToLower(r.Name), q) || strings.Contains(strings.ToLower(r.ID), q) {
			opts = append(opts, memberOption(r))
			if len(opts) == maxStaticOptions {
				break
			}
		}
	}
	return jsonResponse(map[string]any{"options": opts})
}

// submitTransfer handles the dialog's Send Request: the store decides, a
// refusal is shown on the member field, success sends both messages and
// closes the dialog.
func (a *App) submitTransfer(ctx context.Context, ic slack.InteractionCallback) response {
	fieldError := func(t md) response {
		return jsonResponse(slack.NewErrorsViewSubmissionResponse(map[string]string{recipientBlockID: fieldText(t)}))
	}
	m, ok, err := a.in(ctx, teamOf(ic), ic.User.ID, ic.View.PrivateMetadata)
	if err != nil {
		return fieldError(a.failure(ctx, "resolve member", err))
	}
	if !ok {
		return fieldError(mrkdwn.F("You're no longer an active member of this organization, so you can't transfer its Billing role."))
	}
	recipientID := ""
	if ic.View.State != nil {
		if v, ok := ic.View.State.Values[recipientBlockID][recipientActionID]; ok {
			recipientID = v.SelectedOption.Value
		}
	}
	if recipientID == "" {
		return fieldError(mrkdwn.F("Choose the member to offer Billing to."))
	}
	t, replaced, err := a.store.RequestTransfer(ctx, m.Org.ID, m.Member.ID, recipientID)
	if err != nil {
		return fieldError(a.failure(ctx, "request transfer", err))
	}
	if replaced != nil {
		// The request replaced one that had expired unswept: its parties
		// are told now.
		a.announceOnce(ctx, m.Org, *replaced)
	}
	if err := a.sendRequest(ctx, m.Org, t); err != nil {
		if f, ok := errors.AsType[failed](err); ok {
			return fieldError(f.text)
		}
		return fieldError(a.failure(ctx, "send the transfer request", err))
	}
	return jsonResponse(slack.NewClearViewSubmissionResponse())
}

// failed is a request that could not be delivered, with what the person
// is told.
type failed struct{ text md }

func (f failed) Error() string { return f.text.String() }

// fieldText is t for a dialog's field error, which Slack shows as plain
// text: without the app's markup, names as typed.
func fieldText(t md) string { return t.Plain() }

// sendRequest sends the recipient their request and the initiator a
// confirmation, and stores both so that every outcome can rewrite them.
// When Slack cannot deliver it, the request is withdrawn rather than left
// as a lock nobody can answer, and whatever was posted loses its buttons.
func (a *App) sendRequest(ctx context.Context, org domain.Org, t domain.Transfer) error {
	p, err := a.parts(ctx, org, t)
	if err != nil {
		return failed{a.failure(ctx, "read the transfer's members", err)}
	}
	// Sending may take until withdrawReserve before the request's
	// deadline: what is left is for withdrawing a request Slack did not
	// deliver, so that the answer still reaches Slack in time.
	sendCtx := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		sendCtx, cancel = context.WithDeadline(ctx, dl.Add(-withdrawReserve))
		defer cancel()
	}
	var sent []domain.Message
	rMsg, err := a.post(sendCtx, org.SlackTeamID, p.recipient.SlackUserID, "", "", requestMessage(p))
	if err == nil {
		sent = append(sent, rMsg)
		var iMsg domain.Message
		iMsg, err = a.post(sendCtx, org.SlackTeamID, p.initiator.SlackUserID, "", "", confirmationMessage(p))
		if err != nil {
			// The recipient's message is out; the confirmation is a
			// courtesy, and the Home tab shows the request too.
			a.log.ErrorContext(ctx, "slack: confirmation to the initiator", "org", org.ID, "transfer", t.ID, "err", err)
		} else {
			sent = append(sent, iMsg)
		}
		err = a.store.SetTransferMessages(sendCtx, t.OrgID, t.ID, rMsg, iMsg)
	}
	if err == nil {
		a.refreshHomes(ctx, org, p.initiator, p.recipient)
		return nil
	}
	a.log.ErrorContext(ctx, "slack: send the transfer request", "org", org.ID, "transfer", t.ID, "err", err)
	for _, msg := range sent {
		if uerr := a.update(ctx, org.SlackTeamID, msg, withdrawnMessage(org)); uerr != nil {
			a.log.ErrorContext(ctx, "slack: withdraw a posted message", "err", uerr)
		}
	}
	if _, cerr := a.store.CancelTransfer(ctx, org.ID, t.ID, t.InitiatorID); cerr != nil {
		a.log.ErrorContext(ctx, "slack: withdraw the undelivered transfer", "org", org.ID, "transfer", t.ID, "err", cerr)
		return failed{mrkdwn.F("Slack didn't deliver the request, and withdrawing it failed, so it is still pending. Cancel it with `/billing cancel`, then try again.")}
	}
	return failed{mrkdwn.F("Slack didn't deliver the request to %s, so it was withdrawn and nothing changed. Please try again in a moment.", person(p.recipient))}
}

// withdrawReserve is the part of a request's budget kept for withdrawing
// a transfer request Slack did not deliver: updating what was posted and
// one transaction.
const withdrawReserve = 700 * time.Millisecond

// parts reads what the messages of t say.
func (a *App) parts(ctx context.Context, org domain.Org, t domain.Transfer) (transferParts, error) {
	n, err := a.names(ctx, t.OrgID, t.InitiatorID, t.RecipientID)
	if err != nil {
		return transferParts{}, err
	}
	initiator, ok := n[t.InitiatorID]
	if !ok {
		return transferParts{}, domain.Refusef(domain.RuleNotFound, "member %s does not exist", t.InitiatorID)
	}
	recipient, ok := n[t.RecipientID]
	if !ok {
		return transferParts{}, domain.Refusef(domain.RuleNotFound, "member %s does not exist", t.RecipientID)
	}
	return transferParts{org: org, t: t, initiator: initiator, recipient: recipient, homeURL: a.homeURL(org.SlackTeamID)}, nil
}

// transferClick answers Accept, Decline and Cancel, on a message or in
// My Credit. The clicker is who Slack says clicked, resolved to a member
// of the organization; the button's value only names the transfer, and
// the store checks the clicker is its recipient (Accept, Decline) or its
// initiator (Cancel).
func (a *App) transferClick(ctx context.Context, ic slack.InteractionCallback, act *slack.BlockAction) {
	team := teamOf(ic)
	say := func(t md) { a.tell(ctx, team, ic, t) }
	orgID, transferID, ok := parseTransferValue(act.Value)
	if !ok {
		say(mrkdwn.F("This button does not name a transfer; nothing was changed."))
		return
	}
	m, ok, err := a.in(ctx, team, ic.User.ID, orgID)
	if err != nil {
		say(a.failure(ctx, "resolve member", err))
		return
	}
	if !ok {
		say(mrkdwn.F("You're not an active member of the organization this transfer belongs to, so your click changed nothing."))
		return
	}
	var t domain.Transfer
	switch act.ActionID {
	case actionAccept:
		t, err = a.store.AcceptTransfer(ctx, orgID, transferID, m.Member.ID)
	case actionDecline:
		t, err = a.store.DeclineTransfer(ctx, orgID, transferID, m.Member.ID)
	default:
		t, err = a.store.CancelTransfer(ctx, orgID, transferID, m.Member.ID)
	}
	if err == nil {
		a.announceOnce(ctx, m.Org, t)
		return
	}
	r, isRefusal := errors.AsType[*domain.Refusal](err)
	if !isRefusal {
		say(a.failure(ctx, "answer transfer", err))
		return
	}
	switch r.Rule {
	case domain.RuleTransferClosed, domain.RuleTransferExpired, domain.RuleTransferInvalidated:
	default:
		// Not the clicker's transfer to answer, or gone: nothing changed.
		say(mrkdwn.F("%s Nothing was changed.", mrkdwn.Escape(sentence(r.Message))))
		return
	}
	// A click on a transfer that is no longer pending: if this click is
	// what discovered its expiry or invalidation, the parties are told now
	// (once, even under a double click); either way the clicked message
	// and the Homes show where it stands, with no live button left.
	closed := r.Transfer
	if closed == nil {
		got, gerr := a.store.GetTransfer(ctx, orgID, transferID)
		if gerr != nil {
			say(mrkdwn.Escape(sentence(r.Message)))
			return
		}
		closed = &got
	}
	if !a.announceOnce(ctx, m.Org, *closed) {
		a.rewrite(ctx, m.Org, *closed)
	}
	say(mrkdwn.Escape(sentence(r.Message)))
}

// cancelPending cancels the member's pending transfer (`/billing cancel`).
func (a *App) cancelPending(ctx context.Context, m domain.Membership) md {
	pending, err := a.store.PendingTransfer(ctx, m.Org.ID)
	if err != nil {
		return a.failure(ctx, "pending transfer", err)
	}
	if pending == nil {
		return mrkdwn.F("No transfer of Billing is pending in %s; nothing to cancel.", orgName(m.Org))
	}
	t, err := a.store.CancelTransfer(ctx, m.Org.ID, pending.ID, m.Member.ID)
	if err != nil {
		return a.failure(ctx, "cancel transfer", err)
	}
	a.announceOnce(ctx, m.Org, t)
	n, err := a.names(ctx, m.Org.ID, t.RecipientID)
	if err != nil {
		return mrkdwn.F("You cancelled the transfer. You still hold Billing of %s.", orgName(m.Org))
	}
	return mrkdwn.F("You cancelled the request to %s. You still hold Billing of %s.", n.person(t.RecipientID), orgName(m.Org))
}

// AnnounceTransferOutcome tells both parties how a transfer ended when
// something other than a click in Slack ended it (the sweep, a departure
// through the admin API): the notifier calls it. Its parties are told
// once, whoever reports the outcome first.
func (a *App) AnnounceTransferOutcome(ctx context.Context, t domain.Transfer) error {
	org, err := a.store.GetOrg(ctx, t.OrgID)
	if err != nil {
		return err
	}
	a.announceOnce(ctx, org, t)
	return nil
}

// announceOnce claims the transfer's outcome key and, the first time,
// announces it: both messages rewritten with no live button, the party who
// did not act told in the request's thread, both Homes refreshed. It
// reports whether this call announced it.
func (a *App) announceOnce(ctx context.Context, org domain.Org, t domain.Transfer) bool {
	if t.Status == domain.TransferPending {
		return false
	}
	first, err := a.store.MarkOnce(ctx, outcomeKey(t.OrgID, t.ID), announceOnceTTL)
	if err != nil {
		a.log.ErrorContext(ctx, "slack: claim the announcement of a transfer", "org", t.OrgID, "transfer", t.ID, "err", err)
		return false
	}
	if !first {
		return false
	}
	if err := a.announce(ctx, org, t); err != nil {
		a.log.ErrorContext(ctx, "slack: announce a transfer's outcome", "org", t.OrgID, "transfer", t.ID, "status", string(t.Status), "err", err)
	}
	return true
}

// announce carries past a failed call, so one Slack error does not leave
// the rest stale.
func (a *App) announce(ctx context.Context, org domain.Org, t domain.Transfer) error {
	t = a.withMessages(ctx, t)
	p, err := a.parts(ctx, org, t)
	if err != nil {
		return err
	}
	var errs []error
	if err := a.rewriteParts(ctx, p); err != nil {
		errs = append(errs, err)
	}
	w := p.words()
	if !w.tellInitiator.Empty() && t.InitiatorMessage.TS != "" {
		if _, err := a.post(ctx, org.SlackTeamID, p.initiator.SlackUserID, t.InitiatorMessage.Channel, t.InitiatorMessage.TS, message{text: w.tellInitiator, blocks: []slack.Block{section(w.tellInitiator)}}); err != nil {
			errs = append(errs, err)
		}
	}
	if !w.tellRecipient.Empty() && t.RecipientMessage.TS != "" {
		if _, err := a.post(ctx, org.SlackTeamID, p.recipient.SlackUserID, t.RecipientMessage.Channel, t.RecipientMessage.TS, message{text: w.tellRecipient, blocks: []slack.Block{section(w.tellRecipient)}}); err != nil {
			errs = append(errs, err)
		}
	}
	a.refreshHomes(ctx, org, p.initiator, p.recipient)
	return errors.Join(errs...)
}

// rewrite shows where a closed transfer stands on both its messages,
// without telling anyone again (a late click on an announced outcome).
func (a *App) rewrite(ctx context.Context, org domain.Org, t domain.Transfer) {
	p, err := a.parts(ctx, org, a.withMessages(ctx, t))
	if err == nil {
		err = a.rewriteParts(ctx, p)
	}
	if err != nil {
		a.log.ErrorContext(ctx, "slack: rewrite a closed transfer's messages", "err", err)
	}
}

func (a *App) rewriteParts(ctx context.Context, p transferParts) error {
	var errs []error
	if msg := p.t.RecipientMessage; msg.TS != "" {
		if err := a.update(ctx, p.org.SlackTeamID, msg, recipientOutcome(p)); err != nil {
			errs = append(errs, err)
		}
	}
	if msg := p.t.InitiatorMessage; msg.TS != "" {
		// Whether the initiator may ask again, as the organization stands
		// after the outcome (an accept moved Billing away from them).
		again := domain.CanStartTransfer(p.org, p.initiator) == nil
		if org, err := a.store.GetOrg(ctx, p.org.ID); err == nil {
			again = domain.CanStartTransfer(org, p.initiator) == nil
		}
		if err := a.update(ctx, p.org.SlackTeamID, msg, initiatorOutcome(p, again)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// withMessages fills in the references of t's messages when the caller's
// copy lacks them (a transfer closed by the store, not read back).
func (a *App) withMessages(ctx context.Context, t domain.Transfer) domain.Transfer {
	if t.RecipientMessage.TS != "" || t.InitiatorMessage.TS != "" {
		return t
	}
	if got, err := a.store.GetTransfer(ctx, t.OrgID, t.ID); err == nil {
		t.RecipientMessage, t.InitiatorMessage = got.RecipientMessage, got.InitiatorMessage
	}
	return t
}

// refreshHomes publishes the Home tabs of members whose My Credit of org
// changed, where it is the organization they chose to see.
func (a *App) refreshHomes(ctx context.Context, org domain.Org, ms ...domain.Member) {
	for _, m := range ms {
		if m.SlackUserID == "" {
			continue
		}
		if err := a.publishHomeOf(ctx, org.SlackTeamID, m.SlackUserID, "", org.ID); err != nil {
			a.log.ErrorContext(ctx, "slack: refresh a Home tab", "org", org.ID, "user", m.SlackUserID, "err", err)
		}
	}
}

// teamOf is the workspace of an interaction.
func teamOf(ic slack.InteractionCallback) string {
	if ic.Team.ID != "" {
		return ic.Team.ID
	}
	return ic.User.TeamID
}

package slackapp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// Identifiers of the transfer modal and buttons.
const (
	transferCallbackID = "billing_transfer"
	recipientBlockID   = "recipient"
	recipientActionID  = "recipient"
	actionAccept       = "transfer_accept"
	actionDecline      = "transfer_decline"
	actionCancel       = "transfer_cancel"
	transferBlockID    = "transfer_actions"
)

// maxStaticOptions is Slack's limit of options in a static select; beyond
// it the dialog searches with an external select.
const maxStaticOptions = 100

// announceOnceTTL keeps the marker that one click already announced an
// outcome it discovered (expiry, invalidation) long past any double click.
const announceOnceTTL = 30 * 24 * time.Hour

func (a *App) cmdTransfer(ctx context.Context, c cmdCtx, m domain.Membership) events.APIGatewayV2HTTPResponse {
	if err := domain.CanStartTransfer(m.Org, m.Member); err != nil {
		return ephemeral(a.refusalText(ctx, "start transfer", err))
	}
	pending, err := a.store.PendingTransfer(ctx, m.Org.ID)
	if err != nil {
		return ephemeral(a.refusalText(ctx, "pending transfer", err))
	}
	if pending != nil {
		names, err := a.memberNames(ctx, m.Org.ID)
		if err != nil {
			return ephemeral(a.refusalText(ctx, "list members", err))
		}
		return ephemeral(pending.Describe(a.now(), names.mention) + " Only one transfer can be pending at a time: cancel it with `/billing cancel` or wait for the answer.")
	}
	recipients, err := a.store.EligibleRecipients(ctx, m.Org.ID, m.Member.ID)
	if err != nil {
		return ephemeral(a.refusalText(ctx, "eligible recipients", err))
	}
	if len(recipients) == 0 {
		return ephemeral(fmt.Sprintf("No member of *%s* can receive Billing: it goes to an active member other than you who has a Slack account here. Ask an operator to add them first.", escape(m.Org.Name)))
	}
	if _, err := a.client(ctx).OpenViewContext(ctx, c.cmd.TriggerID, transferModal(m.Org, recipients)); err != nil {
		a.log.ErrorContext(ctx, "views.open", "err", err)
		return ephemeral("Slack did not open the transfer dialog (" + escape(err.Error()) + "). Nothing was changed; please run `/billing transfer` again.")
	}
	return ack()
}

// transferModal is the "Transfer Billing Role" dialog. The organization
// travels in private_metadata; who submits is checked again on submit.
func transferModal(org domain.Org, recipients []domain.Member) slack.ModalViewRequest {
	var el slack.BlockElement
	placeholder := plainText("Choose a member")
	if len(recipients) <= maxStaticOptions {
		opts := make([]*slack.OptionBlockObject, len(recipients))
		for i, r := range recipients {
			opts[i] = memberOption(r)
		}
		el = slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, placeholder, recipientActionID, opts...)
	} else {
		sel := slack.NewOptionsSelectBlockElement(slack.OptTypeExternal, placeholder, recipientActionID)
		zero := 0
		sel.MinQueryLength = &zero
		el = sel
	}
	input := slack.NewInputBlock(recipientBlockID, plainText("Member"),
		plainText("Only active members who do not hold Billing are listed."), el)
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      transferCallbackID,
		PrivateMetadata: org.ID,
		Title:           plainText("Transfer Billing Role"),
		Submit:          plainText("Send Request"),
		Close:           plainText("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			section(fmt.Sprintf("Offer the Billing role of *%s* to a member. They get a direct message to accept or decline; Billing moves only when they accept. Everyday roles do not change.", escape(org.Name))),
			input,
		}},
	}
}

func memberOption(m domain.Member) *slack.OptionBlockObject {
	return slack.NewOptionBlockObject(m.ID, plainText(truncate(m.Describe(), 75)), nil)
}

// suggestRecipients answers the external select's search (block_suggestion).
func (a *App) suggestRecipients(ctx context.Context, ic slack.InteractionCallback) events.APIGatewayV2HTTPResponse {
	empty := jsonResponse(slack.OptionsResponse{Options: []*slack.OptionBlockObject{}})
	m, ok, err := a.membershipIn(ctx, teamOf(ic), ic.User.ID, ic.View.PrivateMetadata)
	if err != nil || !ok {
		return empty
	}
	recipients, err := a.store.EligibleRecipients(ctx, m.Org.ID, m.Member.ID)
	if err != nil {
		a.log.ErrorContext(ctx, "eligible recipients", "err", err)
		return empty
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
	return jsonResponse(slack.OptionsResponse{Options: opts})
}

// submitTransfer handles the modal's Send Request: the store decides, a
// refusal is shown inline on the member field, success sends the messages
// and closes the modal.
func (a *App) submitTransfer(ctx context.Context, ic slack.InteractionCallback) events.APIGatewayV2HTTPResponse {
	fieldError := func(msg string) events.APIGatewayV2HTTPResponse {
		return jsonResponse(slack.NewErrorsViewSubmissionResponse(map[string]string{recipientBlockID: msg}))
	}
	m, ok, err := a.membershipIn(ctx, teamOf(ic), ic.User.ID, ic.View.PrivateMetadata)
	if err != nil {
		return fieldError(a.refusalText(ctx, "resolve member", err))
	}
	if !ok {
		return fieldError("You are no longer an active member of this organization, so you cannot transfer its Billing role.")
	}
	var recipientID string
	if ic.View.State != nil {
		recipientID = ic.View.State.Values[recipientBlockID][recipientActionID].SelectedOption.Value
	}
	if recipientID == "" {
		return fieldError("Choose the member who should receive Billing.")
	}
	// A lock still naming a transfer here means it has expired, unswept:
	// the request replaces it and closes it, and its parties are told below.
	t, replaced, err := a.store.RequestTransfer(ctx, m.Org.ID, m.Member.ID, recipientID)
	if err != nil {
		return fieldError(a.refusalText(ctx, "request transfer", err))
	}
	if replaced != nil {
		a.announceClosedOnce(ctx, m.Org, replaced.ID)
	}
	sent, err := a.sendTransferMessages(ctx, m.Org, t)
	if err != nil {
		// The request could not be delivered or recorded, so it could not
		// be answered or its messages rewritten: withdraw it rather than
		// leave a lock, and take the buttons off whatever was posted.
		a.log.ErrorContext(ctx, "send transfer messages", "org", t.OrgID, "transfer", t.ID, "err", err)
		// The request's budget may be what ran out: withdrawing must still
		// happen, before the handler returns.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		for _, msg := range sent {
			text := "This Billing transfer request was withdrawn because Slack did not deliver it completely. Nothing changed."
			if _, _, _, uerr := a.client(ctx).UpdateMessageContext(ctx, msg.Channel, msg.TS,
				slack.MsgOptionText(text, false), slack.MsgOptionBlocks(section(text))); uerr != nil {
				a.log.ErrorContext(ctx, "withdraw posted message", "err", uerr)
			}
		}
		if _, cerr := a.store.CancelTransfer(ctx, m.Org.ID, t.ID, m.Member.ID); cerr != nil {
			a.log.ErrorContext(ctx, "withdraw unsent transfer", "org", t.OrgID, "transfer", t.ID, "err", cerr)
			return fieldError("Slack did not deliver the request (" + err.Error() + ") and withdrawing it failed; it is pending. Cancel it with `/billing cancel` and try again.")
		}
		return fieldError("Slack did not deliver the request (" + err.Error() + "), so it was withdrawn and nothing changed. Please try again.")
	}
	return jsonResponse(slack.NewClearViewSubmissionResponse())
}

// sendTransferMessages sends the recipient their Accept/Decline message and
// the initiator a confirmation with Cancel, and stores both so that every
// outcome can rewrite them. It returns the messages it posted, also on
// error.
func (a *App) sendTransferMessages(ctx context.Context, org domain.Org, t domain.Transfer) (sent []domain.Message, err error) {
	initiator, err := a.store.GetMember(ctx, t.OrgID, t.InitiatorID)
	if err != nil {
		return nil, err
	}
	recipient, err := a.store.GetMember(ctx, t.OrgID, t.RecipientID)
	if err != nil {
		return nil, err
	}
	value := transferValue(t)
	expires := t.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC")

	rText := fmt.Sprintf("%s asks you to take over the *Billing* role of *%s*. The Billing holder watches the organization's credit (App Home \"My Credit\", `/credit`) and gets its alerts; your everyday role does not change. The request expires %s.",
		mentionOf(initiator), escape(org.Name), expires)
	accept := slack.NewButtonBlockElement(actionAccept, value, plainText("Accept"))
	accept.Style = slack.StylePrimary
	decline := slack.NewButtonBlockElement(actionDecline, value, plainText("Decline"))
	decline.Style = slack.StyleDanger
	rMsg, err := a.post(ctx, recipient.SlackUserID, "", rText, section(rText), slack.NewActionBlock(transferBlockID, accept, decline))
	if err != nil {
		return nil, fmt.Errorf("message to %s: %w", recipient.Describe(), err)
	}
	sent = append(sent, rMsg)

	iText := fmt.Sprintf("You asked %s to take over the *Billing* role of *%s*. You keep it until they accept; the request expires %s.",
		mentionOf(recipient), escape(org.Name), expires)
	cancel := slack.NewButtonBlockElement(actionCancel, value, plainText("Cancel request"))
	iMsg, err := a.post(ctx, initiator.SlackUserID, "", iText, section(iText), slack.NewActionBlock(transferBlockID, cancel))
	if err != nil {
		// The recipient's message is out; the confirmation is a courtesy.
		a.log.ErrorContext(ctx, "confirmation to initiator", "org", t.OrgID, "transfer", t.ID, "err", err)
	} else {
		sent = append(sent, iMsg)
	}
	return sent, a.store.SetTransferMessages(ctx, t.OrgID, t.ID, rMsg, iMsg)
}

// post sends a message into a DM: into channel when known, else into the
// DM opened with slackUserID.
func (a *App) post(ctx context.Context, slackUserID, channel, text string, blocks ...slack.Block) (domain.Message, error) {
	if channel == "" {
		if slackUserID == "" {
			return domain.Message{}, errors.New("the member has no Slack account")
		}
		ch, _, _, err := a.client(ctx).OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{slackUserID}, ReturnIM: true})
		if err != nil {
			return domain.Message{}, fmt.Errorf("conversations.open: %w", err)
		}
		channel = ch.ID
	}
	opts := []slack.MsgOption{slack.MsgOptionText(text, false)}
	if len(blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(blocks...))
	}
	ch, ts, err := a.client(ctx).PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return domain.Message{}, fmt.Errorf("chat.postMessage: %w", err)
	}
	return domain.Message{Channel: ch, TS: ts}, nil
}

// DirectMessage sends text to a Slack user in a direct message.
func (a *App) DirectMessage(ctx context.Context, slackUserID, text string) error {
	_, err := a.post(ctx, slackUserID, "", text)
	return err
}

func transferValue(t domain.Transfer) string { return t.OrgID + "|" + t.ID }

func parseTransferValue(v string) (orgID, transferID string, ok bool) {
	orgID, transferID, ok = strings.Cut(v, "|")
	return orgID, transferID, ok && orgID != "" && transferID != ""
}

// transferClick handles Accept, Decline and Cancel. The clicker is who
// Slack says clicked, resolved to a member of the organization; the
// button's value only names the transfer. The store checks the clicker is
// the recipient (Accept, Decline) or the initiator (Cancel).
func (a *App) transferClick(ctx context.Context, ic slack.InteractionCallback, act *slack.BlockAction) {
	say := func(text string) { a.ephemeralTo(ctx, ic, text) }
	orgID, transferID, ok := parseTransferValue(act.Value)
	if !ok {
		say("This button does not name a transfer; nothing was changed.")
		return
	}
	m, ok, err := a.membershipIn(ctx, teamOf(ic), ic.User.ID, orgID)
	if err != nil {
		say(a.refusalText(ctx, "resolve member", err))
		return
	}
	if !ok {
		say("You are not an active member of the organization this transfer belongs to, so your click changed nothing.")
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
		if err := a.announce(ctx, m.Org, t); err != nil {
			a.log.ErrorContext(ctx, "announce transfer outcome", "org", orgID, "transfer", transferID, "err", err)
		}
		return
	}
	r, isRefusal := errors.AsType[*domain.Refusal](err)
	if !isRefusal {
		say(a.refusalText(ctx, "answer transfer", err))
		return
	}
	switch r.Rule {
	case domain.RuleTransferClosed, domain.RuleTransferExpired, domain.RuleTransferInvalidated:
	default:
		// Not the clicker's transfer to answer, or gone: nothing changed.
		say(sentence(r.Message) + " Nothing was changed.")
		return
	}
	// A click on a transfer that is no longer pending. If this click is
	// what discovered the expiry or invalidation, the parties have not been
	// told yet: announce it, once even under a double click.
	closed := r.Transfer
	if closed == nil {
		got, gerr := a.store.GetTransfer(ctx, orgID, transferID)
		if gerr != nil {
			say(r.Message)
			return
		}
		closed = &got
	}
	if r.Rule != domain.RuleTransferClosed && hasButtons(ic.Message.Blocks) {
		first, merr := a.store.MarkOnce(ctx, outcomeKey(orgID, transferID), announceOnceTTL)
		if merr == nil && first {
			if err := a.announce(ctx, m.Org, *closed); err != nil {
				a.log.ErrorContext(ctx, "announce discovered outcome", "org", orgID, "transfer", transferID, "err", err)
			}
			say(r.Message)
			return
		}
	}
	names, nerr := a.transferNames(ctx, *closed)
	if nerr != nil {
		say(r.Message)
		return
	}
	text := closed.Describe(a.now(), names.mention)
	// Rewrite the clicked message only when it is one of this transfer's:
	// a value naming another transfer must not take the buttons off a
	// request that is still pending.
	clicked := domain.Message{Channel: ic.Channel.ID, TS: ic.Container.MessageTs}
	if clicked.Channel != "" && clicked.TS != "" && (clicked == closed.RecipientMessage || clicked == closed.InitiatorMessage) {
		if _, _, _, err := a.client(ctx).UpdateMessageContext(ctx, ic.Channel.ID, ic.Container.MessageTs,
			slack.MsgOptionText(text, false), slack.MsgOptionBlocks(section(text))); err != nil {
			a.log.ErrorContext(ctx, "rewrite clicked message", "err", err)
		}
	}
	say(r.Message + " " + text)
}

// outcomeKey marks that the parties were told how a transfer ended when
// the outcome was discovered or caused by something other than an answer
// (a late click, a departure, a new request replacing an expired one), so
// that they are told once.
func outcomeKey(orgID, transferID string) domain.OnceKey {
	return domain.NewOnceKey("transfer-outcome", orgID, transferID)
}

// announceClosedOnce announces transfer transferID if it is no longer
// pending and nobody has announced it yet. Some writes close a transfer as
// a side effect: a request replacing an expired one closes it as expired,
// a departure invalidates it. The sweeper never sees those (they are no
// longer pending), so without this their buttons would stay live.
func (a *App) announceClosedOnce(ctx context.Context, org domain.Org, transferID string) {
	t, err := a.store.GetTransfer(ctx, org.ID, transferID)
	if err != nil {
		a.log.ErrorContext(ctx, "read closed transfer", "org", org.ID, "transfer", transferID, "err", err)
		return
	}
	if t.Status == domain.TransferPending {
		return
	}
	first, err := a.store.MarkOnce(ctx, outcomeKey(org.ID, t.ID), announceOnceTTL)
	if err != nil {
		a.log.ErrorContext(ctx, "mark transfer outcome", "org", org.ID, "transfer", t.ID, "err", err)
		return
	}
	if !first {
		return
	}
	if err := a.announce(ctx, org, t); err != nil {
		a.log.ErrorContext(ctx, "announce closed transfer", "org", org.ID, "transfer", t.ID, "err", err)
	}
}

// sentence ends s with a full stop, for joining messages.
func sentence(s string) string {
	if s == "" || strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

func hasButtons(b slack.Blocks) bool {
	for _, blk := range b.BlockSet {
		if blk.BlockType() == slack.MBTAction {
			return true
		}
	}
	return false
}

func (a *App) ephemeralTo(ctx context.Context, ic slack.InteractionCallback, text string) {
	if ic.Channel.ID == "" {
		a.log.InfoContext(ctx, "no channel for an ephemeral answer", "user", ic.User.ID, "text", text)
		return
	}
	if _, err := a.client(ctx).PostEphemeralContext(ctx, ic.Channel.ID, ic.User.ID, slack.MsgOptionText(text, false)); err != nil {
		a.log.ErrorContext(ctx, "chat.postEphemeral", "err", err)
	}
}

func (a *App) transferNames(ctx context.Context, t domain.Transfer) (memberNames, error) {
	names := memberNames{}
	for _, id := range []string{t.InitiatorID, t.RecipientID} {
		m, err := a.store.GetMember(ctx, t.OrgID, id)
		if err != nil {
			return nil, err
		}
		names[id] = m
	}
	return names, nil
}

func (a *App) cmdCancel(ctx context.Context, c cmdCtx, m domain.Membership) events.APIGatewayV2HTTPResponse {
	pending, err := a.store.PendingTransfer(ctx, m.Org.ID)
	if err != nil {
		return ephemeral(a.refusalText(ctx, "pending transfer", err))
	}
	if pending == nil {
		return ephemeral(fmt.Sprintf("No transfer of Billing is pending in *%s*; nothing to cancel.", escape(m.Org.Name)))
	}
	t, err := a.store.CancelTransfer(ctx, m.Org.ID, pending.ID, m.Member.ID)
	if err != nil {
		return ephemeral(a.refusalText(ctx, "cancel transfer", err))
	}
	if err := a.announce(ctx, m.Org, t); err != nil {
		a.log.ErrorContext(ctx, "announce cancel", "org", t.OrgID, "transfer", t.ID, "err", err)
	}
	names, err := a.transferNames(ctx, t)
	if err != nil {
		return ephemeral("The transfer was cancelled.")
	}
	return ephemeral(t.Describe(a.now(), names.mention))
}

// AnnounceTransferOutcome tells both parties how a transfer ended: both
// stored messages are rewritten without buttons, each party gets a direct
// message, and both App Homes are republished. The notifier calls it for
// transfers the sweeper expired. A click on a live button can discover the
// same expiry while the sweep runs; both claim the same once-key, so the
// parties are told once.
func (a *App) AnnounceTransferOutcome(ctx context.Context, t domain.Transfer) error {
	org, err := a.store.GetOrg(ctx, t.OrgID)
	if err != nil {
		return err
	}
	first, err := a.store.MarkOnce(ctx, outcomeKey(t.OrgID, t.ID), announceOnceTTL)
	if err != nil {
		return err
	}
	if !first {
		return nil
	}
	return a.announce(ctx, org, t)
}

// announce rewrites both messages so no live button remains, tells the
// party who did not act, and republishes both App Homes. It carries on
// past a failed call so one Slack error does not leave the rest stale.
func (a *App) announce(ctx context.Context, org domain.Org, t domain.Transfer) error {
	if t.RecipientMessage.Channel == "" && t.InitiatorMessage.Channel == "" {
		if got, err := a.store.GetTransfer(ctx, t.OrgID, t.ID); err == nil {
			t.RecipientMessage, t.InitiatorMessage = got.RecipientMessage, got.InitiatorMessage
		}
	}
	names, err := a.transferNames(ctx, t)
	if err != nil {
		return err
	}
	initiator, recipient := names[t.InitiatorID], names[t.RecipientID]
	text := t.Describe(a.now(), names.mention)
	var errs []error
	for _, msg := range []domain.Message{t.RecipientMessage, t.InitiatorMessage} {
		if msg.Channel == "" || msg.TS == "" {
			continue
		}
		if _, _, _, err := a.client(ctx).UpdateMessageContext(ctx, msg.Channel, msg.TS,
			slack.MsgOptionText(text, false), slack.MsgOptionBlocks(section(text))); err != nil {
			errs = append(errs, fmt.Errorf("chat.update: %w", err))
		}
	}
	tellInitiator, tellRecipient := false, false
	switch t.Status {
	case domain.TransferAccepted, domain.TransferDeclined:
		tellInitiator = true
	case domain.TransferCancelled:
		tellRecipient = true
	default:
		tellInitiator, tellRecipient = true, true
	}
	if tellInitiator {
		if _, err := a.post(ctx, initiator.SlackUserID, t.InitiatorMessage.Channel, text); err != nil {
			errs = append(errs, err)
		}
	}
	if tellRecipient {
		if _, err := a.post(ctx, recipient.SlackUserID, t.RecipientMessage.Channel, text); err != nil {
			errs = append(errs, err)
		}
	}
	for _, m := range []domain.Member{recipient, initiator} {
		if m.SlackUserID == "" {
			continue
		}
		if err := a.publishHome(ctx, org.SlackTeamID, m.SlackUserID, org.ID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// teamOf is the workspace of an interaction.
func teamOf(ic slack.InteractionCallback) string {
	if ic.Team.ID != "" {
		return ic.Team.ID
	}
	return ic.User.TeamID
}

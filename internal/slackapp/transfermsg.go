package slackapp

import (
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/slackapp/blockkit"
	"github.com/orgcredit/orgcredit/internal/slackapp/mrkdwn"
)

// What a Billing transfer looks like in Slack: the dialog that starts it,
// the recipient's request, the initiator's confirmation, and how each
// outcome rewrites them. Every message names the organization and speaks
// to its reader.

// Identifiers of the dialog, buttons and menus.
const (
	transferCallbackID = "billing_transfer"
	recipientBlockID   = "recipient"
	recipientActionID  = "recipient"
	consequenceBlockID = "recipient_consequence"

	actionAccept       = "transfer_accept"
	actionDecline      = "transfer_decline"
	actionCancel       = "transfer_cancel"
	actionOpenTransfer = "open_transfer" // "Transfer Billing Role", "Choose someone else"
	actionOpenHome     = "open_home"     // a link to My Credit
	transferBlockID    = "transfer_actions"
	nextStepBlockID    = "transfer_next"
)

// maxStaticOptions is Slack's limit of options in a static select; beyond
// it the dialog searches with an external select.
const maxStaticOptions = blockkit.MaxSelectOptions

func transferValue(t domain.Transfer) string { return t.OrgID + "|" + t.ID }

func parseTransferValue(v string) (orgID, transferID string, ok bool) {
	for i := 0; i < len(v); i++ {
		if v[i] == '|' {
			orgID, transferID = v[:i], v[i+1:]
			return orgID, transferID, orgID != "" && transferID != ""
		}
	}
	return "", "", false
}

// memberOption is a member in the dialog's list: "Sari · Member".
func memberOption(m domain.Member) *slack.OptionBlockObject {
	label := blockkit.Truncate(m.Describe(), blockkit.MaxOptionText-len(" · Builder"))
	return slack.NewOptionBlockObject(m.ID, plain(label+" · "+m.Role.Title(), blockkit.MaxOptionText), nil)
}

// ttlWords says how long a request stays open: "7 days".
func ttlWords(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d >= 2*time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return d.Round(time.Minute).String()
}

// transferDialog is "Transfer Billing Role". The organization travels in
// private_metadata; who submits is checked again on submit. chosen, when
// set, is the member picked so far: the dialog says what taking Billing
// means for them before the request is sent.
func transferDialog(org domain.Org, recipients []domain.Member, chosen *domain.Member, ttl time.Duration) slack.ModalViewRequest {
	placeholder := plain("Choose a member", blockkit.MaxPlaceholder)
	var sel *slack.SelectBlockElement
	if len(recipients) <= maxStaticOptions {
		opts := make([]*slack.OptionBlockObject, len(recipients))
		for i, r := range recipients {
			opts[i] = memberOption(r)
		}
		sel = slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, placeholder, recipientActionID, opts...)
	} else {
		sel = slack.NewOptionsSelectBlockElement(slack.OptTypeExternal, placeholder, recipientActionID)
		zero := 0
		sel.MinQueryLength = &zero
	}
	if chosen != nil {
		sel.InitialOption = memberOption(*chosen)
	}
	input := slack.NewInputBlock(recipientBlockID, plain("New Billing holder", blockkit.MaxInputLabel),
		plain("Active members you can reach in Slack. Your everyday role and theirs stay as they are.", blockkit.MaxInputHint), sel)
	input.DispatchAction = true // choosing a member shows what it means for them

	blocks := []slack.Block{
		section(mrkdwn.F("Offer the *Billing* role of %s to another member. They get a direct message to accept or decline; Billing moves only if they accept, and until then you keep it.", orgName(org))),
		input,
	}
	if chosen != nil {
		blocks = append(blocks, consequence(*chosen, org))
	}
	blocks = append(blocks, contextLine(mrkdwn.F("If they don't answer, the request expires after %s and you keep Billing.", ttlWords(ttl))))
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      transferCallbackID,
		PrivateMetadata: org.ID,
		Title:           plain("Transfer Billing Role", blockkit.MaxViewTitle),
		Submit:          plain("Send Request", blockkit.MaxViewTitle),
		Close:           plain("Close", blockkit.MaxViewTitle),
		Blocks:          slack.Blocks{BlockSet: blocks},
	}
}

// consequence tells, in the dialog, what holding Billing means for the
// member chosen.
func consequence(m domain.Member, org domain.Org) slack.Block {
	var t md
	if m.Role == domain.RoleOwner {
		t = mrkdwn.F(":information_source: %s is an Owner: as Billing holder they watch %s's credit and get its alerts, and can pass Billing on later themselves.", mrkdwn.Bold(m.Describe()), mrkdwn.Escape(org.Name))
	} else {
		t = mrkdwn.F(":warning: %s is %s. As Billing holder they can watch %s's credit and get its alerts, but they can't pass Billing on, or leave %s, until an Owner makes them an Owner.",
			mrkdwn.Bold(m.Describe()), roleName(m.Role), mrkdwn.Escape(org.Name), mrkdwn.Escape(org.Name))
	}
	b := section(t)
	b.BlockID = consequenceBlockID
	return b
}

// transferParts is what the messages of a transfer say about it.
type transferParts struct {
	org                  domain.Org
	t                    domain.Transfer
	initiator, recipient domain.Member
	homeURL              string
}

// requestHeader and requestContext stay on both messages through every
// rewrite, so the outcome keeps the request's context.
func (p transferParts) recipientHeader() slack.Block {
	return header("Billing role for " + p.org.Name)
}

func (p transferParts) initiatorHeader() slack.Block {
	return header("Billing transfer · " + p.org.Name)
}

func (p transferParts) requestContext(open bool) slack.Block {
	if open {
		return contextLine(mrkdwn.F("Requested %s by %s · expires %s", mrkdwn.When(p.t.RequestedAt), person(p.initiator), mrkdwn.When(p.t.ExpiresAt)))
	}
	return contextLine(mrkdwn.F("Requested %s by %s", mrkdwn.When(p.t.RequestedAt), person(p.initiator)))
}

// requestMessage is the recipient's direct message: what they are asked,
// what changes and what does not, and Accept / Decline.
func requestMessage(p transferParts) message {
	org := mrkdwn.Escape(p.org.Name)
	stays := mrkdwn.F("*Stays the same*\n• Your everyday role (%s)\n• Everyone's access and spending", mrkdwn.Escape(p.recipient.Role.Title()))
	gets := mrkdwn.F("*You'd get*\n• %s's credit in *My Credit* and `/credit`\n• Its low-balance and budget alerts", org)
	var catch md
	if p.recipient.Role == domain.RoleOwner {
		catch = mrkdwn.F("While you hold Billing you can't leave %s until you've passed it on to someone else.", org)
	} else {
		catch = mrkdwn.F("While you hold Billing you can't leave %s until it has moved on, and as %s you couldn't pass it on yourself: an Owner would first have to make you an Owner.", org, roleName(p.recipient.Role))
	}
	accept := button(actionAccept, "Accept", transferValue(p.t), slack.StylePrimary)
	accept.Confirm = confirm("Take over Billing?", mrkdwn.F("You'll hold the Billing role of %s: its credit alerts come to you, and you can't leave %s until Billing moves on.", org, org), "Accept", "Not yet", slack.StylePrimary)
	decline := button(actionDecline, "Decline", transferValue(p.t), slack.StyleDanger)
	decline.Confirm = confirm("Decline the Billing role?", mrkdwn.F("%s will be told you declined, and keeps Billing. Nothing else changes.", person(p.initiator)), "Decline", "Go back", slack.StyleDanger)
	ask := mrkdwn.F("%s asks you to take over the *Billing* role of %s.", person(p.initiator), orgName(p.org))
	return message{
		text: ask,
		blocks: []slack.Block{
			p.recipientHeader(),
			section(ask),
			fields(gets, stays),
			contextLine(catch),
			p.requestContext(true),
			actions(transferBlockID, accept, decline),
		},
	}
}

// confirmationMessage is the initiator's direct message: what they asked,
// and Cancel.
func confirmationMessage(p transferParts) message {
	asked := mrkdwn.F("You asked %s to take over the *Billing* role of %s. You keep it until they accept.", person(p.recipient), orgName(p.org))
	cancel := button(actionCancel, "Cancel request", transferValue(p.t), "")
	cancel.Confirm = confirm("Cancel this request?", mrkdwn.F("%s is told the request was cancelled, and you keep Billing of %s.", person(p.recipient), mrkdwn.Escape(p.org.Name)), "Cancel request", "Keep it", slack.StyleDanger)
	return message{
		text: asked,
		blocks: []slack.Block{
			p.initiatorHeader(),
			section(asked),
			p.requestContext(true),
			actions(transferBlockID, cancel),
		},
	}
}

// outcomeWords are what an outcome says to each party, and when.
type outcomeWords struct {
	toRecipient, toInitiator md
	// tellRecipient and tellInitiator are the thread replies that notify
	// the party who did not act (both, when nobody did); zero when that
	// party needs no notice.
	tellRecipient, tellInitiator md
	when                         md
}

func (p transferParts) words() outcomeWords {
	org := orgName(p.org)
	r, i := person(p.recipient), person(p.initiator)
	at := mrkdwn.When(p.t.ClosedAt)
	switch p.t.Status {
	case domain.TransferAccepted:
		return outcomeWords{
			toRecipient:   mrkdwn.F(":white_check_mark: You accepted. You now hold the *Billing* role of %s; your everyday role is unchanged.", org),
			toInitiator:   mrkdwn.F(":white_check_mark: %s accepted. They now hold the *Billing* role of %s; your everyday role is unchanged.", r, org),
			tellInitiator: mrkdwn.F("%s accepted your request: Billing of %s is theirs now.", r, org),
			when:          mrkdwn.F("Accepted %s", at),
		}
	case domain.TransferDeclined:
		return outcomeWords{
			toRecipient:   mrkdwn.F("You declined. %s still holds Billing of %s.", i, org),
			toInitiator:   mrkdwn.F("%s declined. You still hold Billing of %s.", r, org),
			tellInitiator: mrkdwn.F("%s declined your request. You still hold Billing of %s.", r, org),
			when:          mrkdwn.F("Declined %s", at),
		}
	case domain.TransferCancelled:
		return outcomeWords{
			toRecipient:   mrkdwn.F("%s cancelled this request. Nothing changed for you.", i),
			toInitiator:   mrkdwn.F("You cancelled this request. You still hold Billing of %s.", org),
			tellRecipient: mrkdwn.F("%s cancelled the request to hand you Billing of %s. Nothing changed for you.", i, org),
			when:          mrkdwn.F("Cancelled %s", at),
		}
	case domain.TransferExpired:
		return outcomeWords{
			toRecipient:   mrkdwn.F(":hourglass: This request expired without an answer. %s still holds Billing of %s.", i, org),
			toInitiator:   mrkdwn.F(":hourglass: This request expired without an answer from %s. You still hold Billing of %s.", r, org),
			tellRecipient: mrkdwn.F("The request to hand you Billing of %s expired; nothing changed.", org),
			tellInitiator: mrkdwn.F("Your request to %s expired without an answer. You still hold Billing of %s.", r, org),
			when:          mrkdwn.F("Expired %s", mrkdwn.When(p.t.ExpiresAt)),
		}
	}
	reason := mrkdwn.Escape(sentence(p.t.Reason))
	return outcomeWords{
		toRecipient:   mrkdwn.F("This request is no longer valid: %s %s still holds Billing of %s.", reason, i, org),
		toInitiator:   mrkdwn.F("This request is no longer valid: %s You still hold Billing of %s.", reason, org),
		tellRecipient: mrkdwn.F("The request to hand you Billing of %s is no longer valid: %s", org, reason),
		tellInitiator: mrkdwn.F("Your request to %s is no longer valid: %s", r, reason),
		when:          mrkdwn.F("Closed %s", at),
	}
}

// recipientOutcome rewrites the recipient's request: the header and the
// request's context stay, the buttons give way to the outcome and the next
// step.
func recipientOutcome(p transferParts) message {
	w := p.words()
	blocks := []slack.Block{p.recipientHeader(), section(w.toRecipient), p.requestContext(false), contextLine(w.when)}
	if p.t.Status == domain.TransferAccepted && p.homeURL != "" {
		blocks = append(blocks, actions(nextStepBlockID, linkButton(actionOpenHome, "Open My Credit", p.homeURL, slack.StylePrimary)))
	}
	return message{text: w.toRecipient, blocks: blocks}
}

// initiatorOutcome rewrites the initiator's confirmation likewise; when
// Billing did not move, the next step is to choose someone else.
func initiatorOutcome(p transferParts, canStartAgain bool) message {
	w := p.words()
	blocks := []slack.Block{p.initiatorHeader(), section(w.toInitiator), p.requestContext(false), contextLine(w.when)}
	if p.t.Status != domain.TransferAccepted && canStartAgain {
		blocks = append(blocks, actions(nextStepBlockID, button(actionOpenTransfer, "Choose someone else", p.org.ID, slack.StylePrimary)))
	}
	return message{text: w.toInitiator, blocks: blocks}
}

// withdrawnMessage replaces a request that Slack did not deliver
// completely, so it was withdrawn.
func withdrawnMessage(org domain.Org) message {
	t := mrkdwn.F("This request to hand over Billing of %s was withdrawn because Slack did not deliver it completely. Nothing changed.", orgName(org))
	return message{text: t, blocks: []slack.Block{header("Billing transfer · " + org.Name), section(t)}}
}

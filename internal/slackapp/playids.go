package slackapp

import "github.com/orgcredit/orgcredit/internal/domain"

// What Slack sends back when someone submits the Transfer Billing Role
// dialog or clicks one of a transfer's buttons, for programs that play
// Slack's side against the app (internal/slackapp/slackrequest): the
// same identifiers the app puts into the dialog and the buttons.
const (
	// TransferCallbackID is the dialog's callback_id; its
	// private_metadata is the organization's id.
	TransferCallbackID = transferCallbackID
	// TransferRecipientBlockID and TransferRecipientActionID locate the
	// chosen member in the submitted state: a select whose option values
	// are member ids (not Slack user ids).
	TransferRecipientBlockID  = recipientBlockID
	TransferRecipientActionID = recipientActionID
	// TransferActionsBlockID is the block of Accept, Decline and Cancel
	// request.
	TransferActionsBlockID = transferBlockID
	ActionAccept           = actionAccept
	ActionDecline          = actionDecline
	ActionCancel           = actionCancel
)

// TransferButtonValue is the value Accept, Decline and Cancel request
// carry: "<org>|<transfer>". The clicker is checked against the transfer,
// never this value.
func TransferButtonValue(orgID, transferID string) string {
	return transferValue(domain.Transfer{OrgID: orgID, ID: transferID})
}

package slackapp

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/slackapp/mrkdwn"
)

// Buttons and menus of the app's messages, dialogs and Home tab.
const (
	actionHomeOrg    = "home_org"    // the organization selector of My Credit
	actionViewGroups = "view_groups" // an alert's or /credit's "View groups"
	actionAddCredit  = "add_credit"  // a link to the organization's top-up page
	actionLeave      = "leave"       // "Leave <org>" after `/billing leave`
)

// parseInteraction reads an interaction payload: a form with one field,
// payload, holding JSON.
func parseInteraction(body []byte) (slack.InteractionCallback, error) {
	var ic slack.InteractionCallback
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return ic, errors.New("malformed interaction form")
	}
	p := v.Get("payload")
	if p == "" {
		return ic, errors.New("interaction without payload")
	}
	if err := json.Unmarshal([]byte(p), &ic); err != nil {
		return ic, errors.New("malformed interaction payload")
	}
	if ic.User.ID == "" || (ic.Team.ID == "" && ic.User.TeamID == "") {
		return ic, errors.New("interaction without user or team")
	}
	return ic, nil
}

func (a *App) handleInteraction(ctx context.Context, body []byte) response {
	ic, err := parseInteraction(body)
	if err != nil {
		return plainResponse(400, err.Error())
	}
	a.learnAppID(ic.APIAppID)
	switch ic.Type {
	case slack.InteractionTypeViewSubmission:
		if ic.View.CallbackID == transferCallbackID {
			return a.submitTransfer(ctx, ic)
		}
	case slack.InteractionTypeBlockSuggestion:
		if ic.ActionID == recipientActionID {
			return a.suggestRecipients(ctx, ic)
		}
	case slack.InteractionTypeBlockActions:
		for _, act := range ic.ActionCallback.BlockActions {
			a.click(ctx, ic, act)
		}
	}
	return ack()
}

// click answers one button or menu.
func (a *App) click(ctx context.Context, ic slack.InteractionCallback, act *slack.BlockAction) {
	team := teamOf(ic)
	switch act.ActionID {
	case actionAccept, actionDecline, actionCancel:
		a.transferClick(ctx, ic, act)
	case recipientActionID:
		if ic.View.CallbackID == transferCallbackID {
			a.chooseRecipient(ctx, ic, act)
		}
	case actionOpenTransfer:
		m, ok, err := a.in(ctx, team, ic.User.ID, act.Value)
		switch {
		case err != nil:
			a.whisper(ctx, team, ic.Channel.ID, ic.User.ID, a.failure(ctx, "resolve member", err))
		case !ok:
			a.whisper(ctx, team, ic.Channel.ID, ic.User.ID, mrkdwn.F("You're not an active member of this organization, so you can't transfer its Billing role."))
		default:
			if refused, ok := a.openTransferDialog(ctx, team, ic.TriggerID, m); !ok {
				a.tell(ctx, team, ic, refused)
			}
		}
	case actionHomeOrg:
		orgID := act.SelectedOption.Value
		if _, ok, err := a.in(ctx, team, ic.User.ID, orgID); err == nil && ok {
			if err := a.store.SetPreferredOrg(ctx, team, ic.User.ID, orgID); err != nil {
				a.log.ErrorContext(ctx, "slack: remember the chosen organization", "err", err)
			}
		}
		if err := a.publishHome(ctx, team, ic.User.ID, orgID); err != nil {
			a.log.ErrorContext(ctx, "slack: publish home", "err", err)
		}
	case actionViewGroups:
		a.openGroupsView(ctx, ic, act.Value)
	case actionLeave:
		a.leaveClick(ctx, ic, act.Value)
	case actionOpenHome, actionAddCredit:
		// Link buttons: Slack opens the link; the click needs no answer.
	}
}

// tell answers a click: in the channel it came from, or, from the Home
// tab (no channel), in the person's direct message with the app.
func (a *App) tell(ctx context.Context, team string, ic slack.InteractionCallback, t md) {
	if ic.Channel.ID != "" {
		a.whisper(ctx, team, ic.Channel.ID, ic.User.ID, t)
		return
	}
	if _, err := a.post(ctx, team, ic.User.ID, "", "", message{text: t, blocks: []slack.Block{section(t)}}); err != nil {
		a.log.ErrorContext(ctx, "slack: answer a click", "err", err)
	}
}

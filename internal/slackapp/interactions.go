package slackapp

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"

	"github.com/aws/aws-lambda-go/events"
	"github.com/slack-go/slack"
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

func (a *App) handleInteraction(ctx context.Context, body []byte) events.APIGatewayV2HTTPResponse {
	ic, err := parseInteraction(body)
	if err != nil {
		return plain(400, err.Error())
	}
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
			switch act.ActionID {
			case actionAccept, actionDecline, actionCancel:
				a.transferClick(ctx, ic, act)
			case homeOrgActionID:
				if err := a.publishHome(ctx, teamOf(ic), ic.User.ID, act.SelectedOption.Value); err != nil {
					a.log.ErrorContext(ctx, "publish home", "err", err)
				}
			}
		}
	}
	return ack()
}

package slackapp

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"
	"github.com/slack-go/slack/slackevents"
)

// handleEvent answers the Events API: the URL check when the app is
// configured, and app_home_opened, which publishes My Credit. Slack
// retries an event it got no 200 for; publishing again is harmless.
func (a *App) handleEvent(ctx context.Context, body []byte) events.APIGatewayV2HTTPResponse {
	// The signing secret already proved the sender; the deprecated
	// verification token is not used.
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		return plainResponse(400, "malformed event")
	}
	switch ev.Type {
	case slackevents.URLVerification:
		ch, ok := ev.Data.(*slackevents.EventsAPIURLVerificationEvent)
		if !ok {
			return plainResponse(400, "malformed url_verification")
		}
		return jsonResponse(map[string]string{"challenge": ch.Challenge})
	case slackevents.CallbackEvent:
		a.learnAppID(ev.APIAppID)
		switch inner := ev.InnerEvent.Data.(type) {
		case *slackevents.AppUninstalledEvent:
			a.uninstall(ctx, ev.TeamID, "app_uninstalled")
			return ack()
		case *slackevents.TokensRevokedEvent:
			// Only revoked bot tokens end the installation; a user's token
			// is not one the app uses.
			if len(inner.Tokens.Bot) > 0 {
				a.uninstall(ctx, ev.TeamID, "tokens_revoked")
			}
			return ack()
		}
		if home, ok := ev.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent); ok && (home.Tab == "" || home.Tab == "home") {
			// The organization shown is the one the person last chose.
			if err := a.publishHome(ctx, ev.TeamID, home.User, ""); err != nil {
				a.log.ErrorContext(ctx, "publish home", "team", ev.TeamID, "user", home.User, "err", err)
			}
		}
	}
	return ack()
}

// uninstall forgets a workspace's installation, so nothing is sent there
// until the app is installed again.
func (a *App) uninstall(ctx context.Context, teamID, why string) {
	u, ok := a.workspaces.(Uninstaller)
	if !ok {
		a.log.InfoContext(ctx, "slack: "+why+" for a workspace this configuration does not keep installations of", "team", teamID)
		return
	}
	if err := u.Uninstall(ctx, teamID); err != nil {
		a.log.ErrorContext(ctx, "slack: forget the installation", "team", teamID, "event", why, "err", err)
		return
	}
	a.log.InfoContext(ctx, "slack: installation removed", "team", teamID, "event", why)
}

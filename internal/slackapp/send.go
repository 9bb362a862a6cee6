package slackapp

import (
	"context"
	"errors"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/slackapp/blockkit"
	"github.com/orgcredit/orgcredit/internal/slackapp/mrkdwn"
)

// The app's Web API calls, each through the client of the workspace it
// concerns, each payload checked against Block Kit's rules before it goes.

// post sends m into channel, or into the direct message with slackUserID
// when channel is "", as a reply in thread threadTS when that is set.
func (a *App) post(ctx context.Context, teamID, slackUserID, channel, threadTS string, m message) (domain.Message, error) {
	api, err := a.api(ctx, teamID)
	if err != nil {
		return domain.Message{}, err
	}
	if channel == "" {
		if slackUserID == "" {
			return domain.Message{}, errors.New("the member has no Slack account")
		}
		ch, _, _, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{slackUserID}, ReturnIM: true})
		if err != nil {
			return domain.Message{}, fmt.Errorf("conversations.open: %w", err)
		}
		channel = ch.ID
	}
	opts := a.checked(ctx, m).options()
	if threadTS != "" {
		opts = append(opts, slack.MsgOptionTS(threadTS))
	}
	ch, ts, err := api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return domain.Message{}, fmt.Errorf("chat.postMessage: %w", err)
	}
	return domain.Message{Channel: ch, TS: ts}, nil
}

// update rewrites a message the app posted.
func (a *App) update(ctx context.Context, teamID string, at domain.Message, m message) error {
	api, err := a.api(ctx, teamID)
	if err != nil {
		return err
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, at.Channel, at.TS, a.checked(ctx, m).options()...); err != nil {
		return fmt.Errorf("chat.update: %w", err)
	}
	return nil
}

// whisper shows t to one person in a channel they clicked in, visible to
// them alone (a refusal, a late click).
func (a *App) whisper(ctx context.Context, teamID, channel, slackUserID string, t md) {
	if channel == "" {
		a.log.InfoContext(ctx, "slack: no channel for an ephemeral answer", "user", slackUserID)
		return
	}
	api, err := a.api(ctx, teamID)
	if err != nil {
		a.log.ErrorContext(ctx, "slack: ephemeral answer", "err", err)
		return
	}
	m := a.checked(ctx, message{text: t, blocks: []slack.Block{section(t)}})
	if _, err := api.PostEphemeralContext(ctx, channel, slackUserID, m.options()...); err != nil {
		a.log.ErrorContext(ctx, "slack: chat.postEphemeral", "err", err)
	}
}

// openView opens a modal in answer to a click or command (trigger).
func (a *App) openView(ctx context.Context, teamID, trigger string, v slack.ModalViewRequest) error {
	api, err := a.api(ctx, teamID)
	if err != nil {
		return err
	}
	v.Blocks.BlockSet = fitView(v.Blocks.BlockSet)
	if err := blockkit.ValidateAs(blockkit.View, v); err != nil {
		return fmt.Errorf("the dialog breaks Block Kit's rules: %w", err)
	}
	if _, err := api.OpenViewContext(ctx, trigger, v); err != nil {
		return fmt.Errorf("views.open: %w", err)
	}
	return nil
}

// updateView replaces an open modal (hash guards against a newer one).
func (a *App) updateView(ctx context.Context, teamID, viewID, hash string, v slack.ModalViewRequest) error {
	api, err := a.api(ctx, teamID)
	if err != nil {
		return err
	}
	v.Blocks.BlockSet = fitView(v.Blocks.BlockSet)
	if err := blockkit.ValidateAs(blockkit.View, v); err != nil {
		return fmt.Errorf("the dialog breaks Block Kit's rules: %w", err)
	}
	if _, err := api.UpdateViewContext(ctx, v, "", hash, viewID); err != nil {
		return fmt.Errorf("views.update: %w", err)
	}
	return nil
}

// publishView publishes a user's Home tab. A view that would break Block
// Kit's rules is replaced by a short one that says so, rather than
// leaving the person with nothing.
func (a *App) publishView(ctx context.Context, teamID, slackUserID string, v slack.HomeTabViewRequest) error {
	api, err := a.api(ctx, teamID)
	if err != nil {
		return err
	}
	v.Blocks.BlockSet = fitView(v.Blocks.BlockSet)
	if err := blockkit.ValidateAs(blockkit.View, v); err != nil {
		a.log.ErrorContext(ctx, "slack: the Home view broke Block Kit's rules; publishing a short one", "err", err)
		v.Blocks.BlockSet = []slack.Block{header("My Credit"), section(mrkdwn.F("My Credit could not be shown in full just now. Use `/credit` for the balance, or try again in a moment."))}
	}
	if _, err := api.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: slackUserID, View: v}); err != nil {
		return fmt.Errorf("views.publish: %w", err)
	}
	return nil
}

package slackapp

import (
	"context"
	"strings"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/slackapp/blockkit"
	"github.com/orgcredit/orgcredit/internal/slackapp/mrkdwn"
)

// Building blocks of every surface. mrkdwn text objects take mrkdwn.Text
// only (escaped by construction); plain_text ones take strings, which Slack
// shows as they are. Every constructor keeps its part within Block Kit's
// limits, and a whole surface is checked once more before it is sent
// (message.check, view checks in publish/open), so an organization of any
// size gets a valid payload, shortened where it must be.

type md = mrkdwn.Text

// text is a mrkdwn text object within Slack's 3,000 characters.
func text(t md) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, mrkdwn.Truncate(t, blockkit.MaxSectionText).String(), false, false)
}

// plain is a plain_text object of at most n characters.
func plain(s string, n int) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, blockkit.Truncate(s, n), false, false)
}

// section is a section block of mrkdwn text.
func section(t md) *slack.SectionBlock { return slack.NewSectionBlock(text(t), nil, nil) }

// sectionWith is a section with an element beside its text.
func sectionWith(t md, accessory slack.BlockElement) *slack.SectionBlock {
	return slack.NewSectionBlock(text(t), nil, slack.NewAccessory(accessory))
}

// fields is a section of up to ten labelled values, two columns.
func fields(fs ...md) *slack.SectionBlock {
	fs = fs[:min(len(fs), blockkit.MaxSectionFields)]
	objs := make([]*slack.TextBlockObject, len(fs))
	for i, f := range fs {
		objs[i] = slack.NewTextBlockObject(slack.MarkdownType, mrkdwn.Truncate(f, blockkit.MaxSectionField).String(), false, false)
	}
	return slack.NewSectionBlock(nil, objs, nil)
}

// field is one labelled value of a fields section: "*Balance*\n82.5 credits".
func field(label string, value md) md { return mrkdwn.F("*%s*\n%s", label, value) }

// header is a header block (plain text, 150 characters).
func header(s string) *slack.HeaderBlock {
	return slack.NewHeaderBlock(plain(s, blockkit.MaxHeaderText))
}

// contextLine is a context block: small grey text under what it explains.
func contextLine(ts ...md) *slack.ContextBlock {
	els := make([]slack.MixedElement, 0, min(len(ts), blockkit.MaxContextElements))
	for _, t := range ts[:min(len(ts), blockkit.MaxContextElements)] {
		els = append(els, text(t))
	}
	return slack.NewContextBlock("", els...)
}

func divider() *slack.DividerBlock { return slack.NewDividerBlock() }

// actions is a row of buttons and menus.
func actions(blockID string, els ...slack.BlockElement) *slack.ActionBlock {
	return slack.NewActionBlock(blockID, els[:min(len(els), blockkit.MaxActionsElements)]...)
}

// button is a button; style is "", slack.StylePrimary or slack.StyleDanger.
func button(actionID, label, value string, style slack.Style) *slack.ButtonBlockElement {
	b := slack.NewButtonBlockElement(actionID, value, plain(label, blockkit.MaxButtonText))
	b.Style = style
	return b
}

// linkButton opens url (the app's Home, a top-up page).
func linkButton(actionID, label, url string, style slack.Style) *slack.ButtonBlockElement {
	b := button(actionID, label, "", style)
	b.URL = url
	return b
}

// confirm is a confirmation dialog a button asks before it acts.
func confirm(title string, body md, yes, no string, style slack.Style) *slack.ConfirmationBlockObject {
	c := slack.NewConfirmationBlockObject(plain(title, blockkit.MaxConfirmTitle),
		slack.NewTextBlockObject(slack.MarkdownType, mrkdwn.Truncate(body, blockkit.MaxConfirmText).String(), false, false),
		plain(yes, blockkit.MaxConfirmButton), plain(no, blockkit.MaxConfirmButton))
	if style != "" {
		c.WithStyle(style)
	}
	return c
}

// lines packs lines of mrkdwn into as few sections as fit, for lists of
// any length.
func lines(ls []md) []slack.Block {
	ss := make([]string, len(ls))
	for i, l := range ls {
		ss[i] = mrkdwn.Truncate(l, blockkit.MaxSectionText).String()
	}
	return blockkit.Sections(ss)
}

// message is a Block Kit message and its fallback text (notifications,
// screen readers and old clients show the text).
type message struct {
	text   md
	blocks []slack.Block
}

// fit keeps a message within a message's 50 blocks, summing up the rest.
func (m message) fit() message {
	m.blocks = blockkit.Fit(m.blocks, blockkit.MaxMessageBlocks, func(n int) slack.Block {
		return contextLine(mrkdwn.F("…and %d more not shown here.", n))
	})
	return m
}

// checked returns the message, or when it would still break one of Block
// Kit's rules, its text alone (and logs why): a person always gets the
// message, never Slack's invalid_blocks.
func (a *App) checked(ctx context.Context, m message) message {
	m = m.fit()
	m.text = mrkdwn.Truncate(m.text, blockkit.RecommendedMessageText)
	if err := blockkit.ValidateAs(blockkit.Message, map[string]any{"text": m.text.String(), "blocks": m.blocks}); err != nil {
		a.log.ErrorContext(ctx, "slack: a message broke Block Kit's rules; sending its text alone", "err", err)
		m.blocks = []slack.Block{section(m.text)}
	}
	return m
}

// options are the chat.postMessage / chat.update arguments of m.
func (m message) options() []slack.MsgOption {
	return []slack.MsgOption{slack.MsgOptionText(m.text.String(), false), slack.MsgOptionBlocks(m.blocks...)}
}

// answer is a slash command's answer: a message only its sender sees.
func (a *App) answer(ctx context.Context, m message) response {
	m = a.checked(ctx, m)
	return jsonResponse(map[string]any{"response_type": "ephemeral", "text": m.text.String(), "blocks": m.blocks})
}

// say answers a slash command with one paragraph.
func (a *App) say(ctx context.Context, t md) response {
	return a.answer(ctx, message{text: t, blocks: []slack.Block{section(t)}})
}

// fitView keeps a view within its 100 blocks, summing up the rest.
func fitView(blocks []slack.Block) []slack.Block {
	return blockkit.Fit(blocks, blockkit.MaxViewBlocks, func(n int) slack.Block {
		return contextLine(mrkdwn.F("…and %d more not shown here.", n))
	})
}

// sentence ends s with a full stop, for joining messages.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "?") || strings.HasSuffix(s, "!") {
		return s
	}
	return s + "."
}

package slackapp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/chart"
	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/slackapp/blockkit"
	"github.com/orgcredit/orgcredit/internal/slackapp/mrkdwn"
)

// App Home "My Credit": the product's My Credit page. The Billing holder
// reads the state of the credit in words, the figures, the usage chart,
// the budget groups by how full they are, and the transfer; everyone else
// reads who holds Billing and how it moves, and a recipient finds the
// request waiting for them with its buttons.

const (
	homeOrgBlockID = "home_org"
	chartBlockID   = "usage_chart"
	// maxHomeGroups bounds the groups listed by name; the rest are summed
	// up in one line that points to `/billing groups`.
	maxHomeGroups = 30
)

// PublishHome publishes a user's My Credit for the organization they last
// chose.
func (a *App) PublishHome(ctx context.Context, teamID, slackUserID string) error {
	return a.publishHome(ctx, teamID, slackUserID, "")
}

// publishHome publishes My Credit for organization orgID when the user is
// a member of it, else the one they last chose, else their first.
func (a *App) publishHome(ctx context.Context, teamID, slackUserID, orgID string) error {
	return a.publishHomeOf(ctx, teamID, slackUserID, orgID, "")
}

// publishHomeOf is publishHome; with changed set, only when the Home it
// would show is of that organization (a refresh after a change there must
// not switch the organization a member of several chose).
func (a *App) publishHomeOf(ctx context.Context, teamID, slackUserID, orgID, changed string) error {
	ms, err := a.memberships(ctx, teamID, slackUserID)
	if err != nil {
		return err
	}
	view := slack.HomeTabViewRequest{Type: slack.VTHomeTab}
	if len(ms) == 0 {
		view.Blocks.BlockSet = []slack.Block{header("My Credit"), section(notAMember)}
		return a.publishView(ctx, teamID, slackUserID, view)
	}
	if orgID == "" {
		orgID, _ = a.store.PreferredOrg(ctx, teamID, slackUserID)
	}
	m := ms[0]
	for _, x := range ms {
		if x.Org.ID == orgID {
			m = x
		}
	}
	if changed != "" && m.Org.ID != changed {
		return nil
	}
	blocks, hasChart, err := a.homeBlocks(ctx, ms, m)
	if err != nil {
		return err
	}
	view.Blocks.BlockSet = blocks
	view.PrivateMetadata = m.Org.ID
	err = a.publishView(ctx, teamID, slackUserID, view)
	if hasChart && refusedBlocks(err) {
		// An image Slack will not show (a file it cannot find) must not
		// cost the person their Home: publish it without the chart, and
		// forget the file so the next open uploads a new one.
		a.log.ErrorContext(ctx, "slack: publish My Credit with its chart; trying without", "org", m.Org.ID, "err", err)
		if err := a.store.SetChartFile(ctx, m.Org.ID, "", "", time.Time{}); err != nil {
			a.log.ErrorContext(ctx, "slack: forget the usage chart", "org", m.Org.ID, "err", err)
		}
		view.Blocks.BlockSet = withoutChart(blocks)
		err = a.publishView(ctx, teamID, slackUserID, view)
	}
	return err
}

// refusedBlocks tells whether Slack refused a view's blocks (as it does an
// image whose file it cannot show), rather than failing to answer.
func refusedBlocks(err error) bool {
	var se slack.SlackErrorResponse
	return errors.As(err, &se) && (se.Err == "invalid_blocks" || se.Err == "invalid_arguments")
}

func withoutChart(blocks []slack.Block) []slack.Block {
	out := make([]slack.Block, 0, len(blocks))
	for _, b := range blocks {
		if img, ok := b.(*slack.ImageBlock); ok && img.BlockID == chartBlockID {
			continue
		}
		out = append(out, b)
	}
	return out
}

// homeData is what My Credit shows, read for one person in one
// organization.
type homeData struct {
	ms      []domain.Membership // all the person's organizations, for the selector
	m       domain.Membership
	names   names
	pending *domain.Transfer
	credit  *creditFacts // the holder's view only
	chart   slack.Block  // nil when there is no image
	trend   md
	now     time.Time
}

// homeBlocks builds My Credit of membership m; ms are all the person's
// organizations, for the selector.
func (a *App) homeBlocks(ctx context.Context, ms []domain.Membership, m domain.Membership) (blocks []slack.Block, hasChart bool, err error) {
	d := homeData{ms: ms, m: m, now: a.now()}
	if d.pending, err = a.store.PendingTransfer(ctx, m.Org.ID); err != nil {
		return nil, false, err
	}
	if d.names, err = a.names(ctx, m.Org.ID, billingPeople(m.Org, d.pending)...); err != nil {
		return nil, false, err
	}
	if domain.CanViewCredit(m.Org, m.Member) == nil {
		f, err := a.readCredit(ctx, m.Org)
		if err != nil {
			return nil, false, err
		}
		d.credit = &f
		d.chart, d.trend = a.usageChart(ctx, m.Org, f.recent)
	}
	return a.renderHome(d), d.chart != nil, nil
}

// renderHome lays out My Credit from what was read.
func (a *App) renderHome(d homeData) []slack.Block {
	m, n, pending := d.m, d.names, d.pending
	blocks := []slack.Block{header("My Credit")}
	if len(d.ms) > 1 {
		blocks = append(blocks, orgSelector(d.ms, m))
	}
	holder := n[m.Org.BillingHolderID]
	if pending != nil && pending.RecipientID == m.Member.ID {
		blocks = append(blocks, a.requestOnHome(m, *pending, n)...)
	}
	updated := contextLine(mrkdwn.F("Updated %s", mrkdwn.When(d.now)))
	if d.credit == nil {
		blocks = append(blocks,
			section(mrkdwn.F("*%s* · Billing is held by %s.", mrkdwn.Escape(m.Org.Name), person(holder))),
			contextLine(mrkdwn.F("Only the Billing holder sees %s's credit here. %s", mrkdwn.Escape(m.Org.Name), howBillingMoves(m.Org, m.Member, holder))),
		)
		if pending != nil && pending.RecipientID != m.Member.ID {
			blocks = append(blocks, a.pendingBlock(m, *pending, n))
		}
		if domain.CanViewGroups(m.Org, m.Member) == nil {
			blocks = append(blocks, contextLine(mrkdwn.F("%s shows the budget groups and their spend.", mrkdwn.Code("/billing groups"))))
		}
		return append(blocks, updated)
	}

	f := *d.credit
	blocks = append(blocks, section(stateLine(f)), creditFields(f))
	var acts []slack.BlockElement
	if domain.CanStartTransfer(m.Org, m.Member) == nil && pending == nil {
		acts = append(acts, button(actionOpenTransfer, "Transfer Billing Role", m.Org.ID, slack.StylePrimary))
	}
	acts = append(acts, a.creditActions(m.Org, true)...)
	if len(acts) > 0 {
		blocks = append(blocks, actions("home_actions", acts...))
	}
	if m.Org.TopUpURL == "" && f.pool.State() != domain.PoolHealthy {
		blocks = append(blocks, contextLine(topUpHint(m.Org)))
	}

	blocks = append(blocks, divider())
	if d.chart != nil {
		blocks = append(blocks, d.chart)
	}
	blocks = append(blocks, contextLine(d.trend))

	blocks = append(blocks, divider(), section(mrkdwn.F("*Budget groups* · %s", month(f.period))))
	switch gl := groupLines(f.groups); {
	case len(gl) == 0:
		blocks = append(blocks, contextLine(mrkdwn.F("No budget groups: agents are limited by the credit pool only.")))
	case len(gl) > maxHomeGroups:
		blocks = append(blocks, lines(gl[:maxHomeGroups])...)
		blocks = append(blocks, contextLine(mrkdwn.F("%d more groups, less full. %s lists them all.", len(gl)-maxHomeGroups, mrkdwn.Code("/billing groups"))))
	default:
		blocks = append(blocks, lines(gl)...)
	}

	blocks = append(blocks, divider(), section(mrkdwn.F("*Billing role*")))
	if pending != nil {
		blocks = append(blocks, a.pendingBlock(m, *pending, n))
	} else {
		blocks = append(blocks, contextLine(mrkdwn.F("You hold Billing of %s. %s", mrkdwn.Escape(m.Org.Name), howBillingMoves(m.Org, m.Member, holder))))
	}
	return append(blocks, updated)
}

// orgSelector lets a member of several organizations choose which one My
// Credit shows; the choice is remembered for their commands too.
func orgSelector(ms []domain.Membership, m domain.Membership) slack.Block {
	opts := make([]*slack.OptionBlockObject, 0, min(len(ms), blockkit.MaxSelectOptions))
	var initial *slack.OptionBlockObject
	for _, x := range ms[:min(len(ms), blockkit.MaxSelectOptions)] {
		o := slack.NewOptionBlockObject(x.Org.ID, plain(x.Org.Name, blockkit.MaxOptionText), nil)
		opts = append(opts, o)
		if x.Org.ID == m.Org.ID {
			initial = o
		}
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Choose an organization", blockkit.MaxPlaceholder), actionHomeOrg, opts...)
	sel.InitialOption = initial
	b := sectionWith(mrkdwn.F("*Organization*\nYour commands use the one you choose here."), sel)
	b.BlockID = homeOrgBlockID
	return b
}

// requestOnHome is the request waiting for the viewer, with its buttons,
// at the top of their My Credit.
func (a *App) requestOnHome(m domain.Membership, p domain.Transfer, n names) []slack.Block {
	parts := transferParts{org: m.Org, t: p, initiator: n[p.InitiatorID], recipient: m.Member}
	msg := requestMessage(parts)
	// The request's own blocks, without its header: My Credit has one.
	return append(msg.blocks[1:], divider())
}

// usageChart is the image of the last 30 days' usage and the line that
// says the same in words (the fallback when there is no image). The image
// is uploaded to the workspace by the bot, private (no channel), and drawn
// again only when the numbers changed and at most every chartRedrawAfter.
func (a *App) usageChart(ctx context.Context, org domain.Org, recent []domain.DayUsage) (slack.Block, md) {
	days := make([]chart.Day, 0, len(recent))
	for _, d := range recent {
		t, err := time.Parse(time.DateOnly, d.Day)
		if err != nil {
			continue
		}
		days = append(days, chart.Day{Date: t, Micros: d.Amount})
	}
	c, err := chart.New(org.Name, days)
	if err != nil {
		a.log.ErrorContext(ctx, "slack: usage chart", "org", org.ID, "err", err)
		return nil, mrkdwn.F("Usage of the last %d days could not be summed up just now.", len(recent))
	}
	trend := mrkdwn.F("%s", c.Trend())
	fileID, err := a.chartFile(ctx, org, c)
	if err != nil {
		a.log.ErrorContext(ctx, "slack: upload the usage chart", "org", org.ID, "err", err)
		return nil, trend
	}
	alt := blockkit.Truncate(c.Alt(), blockkit.MaxImageAltText)
	return slack.NewImageBlockSlackFile(&slack.SlackFileObject{ID: fileID}, alt, chartBlockID, nil), trend
}

// chartRedrawAfter is how old an uploaded chart may be before changed
// numbers draw it again. Today's usage changes with every debit; drawing
// and uploading on every Home open would put a PNG and four Slack calls
// into most of them (and a file per open into the workspace). The Home's
// text figures are always exact; the picture is at most this old.
const chartRedrawAfter = 10 * time.Minute

// chartFile is the Slack file of c: the one already uploaded when its
// numbers are the same or it is recent, else a new upload, which replaces
// (deletes) the one before.
func (a *App) chartFile(ctx context.Context, org domain.Org, c *chart.Chart) (string, error) {
	key := c.Key()
	k, old, at, err := a.store.ChartFile(ctx, org.ID)
	if err == nil && old != "" && (k == key || a.now().Sub(at) < chartRedrawAfter) {
		return old, nil
	}
	png, err := c.PNG()
	if err != nil {
		return "", err
	}
	api, err := a.api(ctx, org.SlackTeamID)
	if err != nil {
		return "", err
	}
	f, err := api.UploadFileContext(ctx, slack.UploadFileParameters{
		Reader: bytes.NewReader(png), FileSize: len(png),
		Filename: "usage-" + org.ID + ".png", Title: fmt.Sprintf("Usage of %s, last %d days", org.Name, chartDays),
		AltTxt: blockkit.Truncate(c.Alt(), blockkit.MaxImageAltText),
	})
	if err != nil {
		return "", err
	}
	if err := a.store.SetChartFile(ctx, org.ID, key, f.ID, a.now()); err != nil {
		a.log.ErrorContext(ctx, "slack: remember the usage chart", "org", org.ID, "err", err)
		return f.ID, nil
	}
	if old != "" {
		// The file the Home showed until now is nobody's anymore.
		if err := api.DeleteFileContext(ctx, old); err != nil {
			a.log.WarnContext(ctx, "slack: delete the replaced usage chart", "org", org.ID, "file", old, "err", err)
		}
	}
	return f.ID, nil
}

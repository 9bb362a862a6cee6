package slackapp

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// Audit listing bounds for `/billing audit [n]`.
const (
	defaultAuditEntries = 10
	maxAuditEntries     = 50
)

const helpText = "*Billing and credit commands*\n" +
	"• `/billing transfer` – offer the Billing role to another member (Owner holding Billing)\n" +
	"• `/billing cancel` – cancel your pending transfer\n" +
	"• `/billing status` – who holds Billing and any pending transfer\n" +
	"• `/billing audit [n]` – the last n audit entries (Owners, Admins, Billing holder)\n" +
	"• `/billing groups` – budget groups with this month's spend against their caps\n" +
	"• `/billing group create <id> <cap-credits> [name]` – create a budget group (Owners, Admins)\n" +
	"• `/billing group cap <id> <credits>` – change a group's monthly cap (Owners, Admins)\n" +
	"• `/billing group assign <agent> <group|none>` – move an agent into a group (Owners, Admins)\n" +
	"• `/billing role <@user> <owner|admin|builder|member>` – change an everyday role (Owners, Admins)\n" +
	"• `/billing leave` – leave the organization (then `/billing leave confirm`)\n" +
	"• `/credit` – balance and this month's usage (Billing holder)\n" +
	"• `/billing help` – this list\n" +
	"In several organizations? Add `org:<id>` to any command."

// parseCommand reads a slash command from its form body.
func parseCommand(body []byte) (slack.SlashCommand, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return slack.SlashCommand{}, errors.New("malformed slash command form")
	}
	s := slack.SlashCommand{
		TeamID:      v.Get("team_id"),
		ChannelID:   v.Get("channel_id"),
		UserID:      v.Get("user_id"),
		UserName:    v.Get("user_name"),
		Command:     v.Get("command"),
		Text:        v.Get("text"),
		ResponseURL: v.Get("response_url"),
		TriggerID:   v.Get("trigger_id"),
		APIAppID:    v.Get("api_app_id"),
	}
	if s.TeamID == "" || s.UserID == "" || s.Command == "" {
		return slack.SlashCommand{}, errors.New("slash command without team_id, user_id or command")
	}
	return s, nil
}

// splitOrg takes `org:<id>`, `--org <id>` or `--org=<id>` out of the
// arguments.
func splitOrg(fields []string) (args []string, orgID string) {
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		switch {
		case strings.HasPrefix(f, "org:"):
			orgID = strings.TrimPrefix(f, "org:")
		case strings.HasPrefix(f, "--org="):
			orgID = strings.TrimPrefix(f, "--org=")
		case f == "--org" && i+1 < len(fields):
			orgID = fields[i+1]
			i++
		default:
			args = append(args, f)
		}
	}
	return args, orgID
}

// cmdCtx is one command being answered.
type cmdCtx struct {
	cmd   slack.SlashCommand
	args  []string
	orgID string
}

func (a *App) handleCommand(ctx context.Context, body []byte) events.APIGatewayV2HTTPResponse {
	cmd, err := parseCommand(body)
	if err != nil {
		return plain(400, err.Error())
	}
	args, orgID := splitOrg(strings.Fields(cmd.Text))
	c := cmdCtx{cmd: cmd, args: args, orgID: orgID}
	if cmd.Command == "/credit" {
		return a.withMember(ctx, c, a.cmdCredit)
	}
	sub := ""
	if len(args) > 0 {
		sub = strings.ToLower(args[0])
		c.args = args[1:]
	}
	switch sub {
	case "", "help":
		return ephemeral(helpText)
	case "transfer":
		return a.withMember(ctx, c, a.cmdTransfer)
	case "cancel":
		return a.withMember(ctx, c, a.cmdCancel)
	case "status":
		return a.withMember(ctx, c, a.cmdStatus)
	case "audit":
		return a.withMember(ctx, c, a.cmdAudit)
	case "groups":
		return a.withMember(ctx, c, a.cmdGroups)
	case "group":
		return a.withMember(ctx, c, a.cmdGroup)
	case "role":
		return a.withMember(ctx, c, a.cmdRole)
	case "leave":
		return a.withMember(ctx, c, a.cmdLeave)
	case "credit":
		return a.withMember(ctx, c, a.cmdCredit)
	}
	return ephemeral(fmt.Sprintf("`%s` is not a `/billing` command.\n\n%s", escape(sub), helpText))
}

// withMember resolves who acts, in which organization, from the Slack
// identity of the request, then runs the command.
func (a *App) withMember(ctx context.Context, c cmdCtx, run func(context.Context, cmdCtx, domain.Membership) events.APIGatewayV2HTTPResponse) events.APIGatewayV2HTTPResponse {
	m, reply, err := a.resolve(ctx, c.cmd.TeamID, c.cmd.UserID, c.orgID, c.cmd.Command+" "+c.cmd.Text)
	if err != nil {
		return ephemeral(a.refusalText(ctx, "resolve member", err))
	}
	if reply != "" {
		return ephemeral(reply)
	}
	return run(ctx, c, m)
}

// resolve finds the membership a Slack user acts as. With several
// organizations and none named, reply asks them to name one.
func (a *App) resolve(ctx context.Context, teamID, userID, orgID, example string) (m domain.Membership, reply string, err error) {
	ms, err := a.store.Memberships(ctx, teamID, userID)
	if err != nil {
		return m, "", err
	}
	sortMemberships(ms)
	if len(ms) == 0 {
		return m, "You are not a member of any organization that uses this app in this Slack workspace. An operator adds members through the admin API.", nil
	}
	if orgID != "" {
		for _, x := range ms {
			if x.Org.ID == orgID {
				return x, "", nil
			}
		}
		return m, fmt.Sprintf("You are not a member of an organization `%s`. Yours: %s.", escape(orgID), orgList(ms)), nil
	}
	if len(ms) == 1 {
		return ms[0], "", nil
	}
	return m, fmt.Sprintf("You belong to several organizations: %s. Name one by adding `org:<id>`, for example `%s org:%s`.",
		orgList(ms), escape(strings.TrimSpace(example)), ms[0].Org.ID), nil
}

// membershipIn resolves a Slack user to their member in orgID; ok is false
// when they are not an active member of it.
func (a *App) membershipIn(ctx context.Context, teamID, userID, orgID string) (domain.Membership, bool, error) {
	ms, err := a.store.Memberships(ctx, teamID, userID)
	if err != nil {
		return domain.Membership{}, false, err
	}
	for _, m := range ms {
		if m.Org.ID == orgID {
			return m, true, nil
		}
	}
	return domain.Membership{}, false, nil
}

func sortMemberships(ms []domain.Membership) {
	sort.Slice(ms, func(i, j int) bool {
		a, b := strings.ToLower(ms[i].Org.Name), strings.ToLower(ms[j].Org.Name)
		if a != b {
			return a < b
		}
		return ms[i].Org.ID < ms[j].Org.ID
	})
}

func orgList(ms []domain.Membership) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = fmt.Sprintf("*%s* (`org:%s`)", escape(m.Org.Name), m.Org.ID)
	}
	return strings.Join(parts, ", ")
}

func (a *App) cmdStatus(ctx context.Context, c cmdCtx, m domain.Membership) events.APIGatewayV2HTTPResponse {
	names, err := a.memberNames(ctx, m.Org.ID)
	if err != nil {
		return ephemeral(a.refusalText(ctx, "list members", err))
	}
	pending, err := a.store.PendingTransfer(ctx, m.Org.ID)
	if err != nil {
		return ephemeral(a.refusalText(ctx, "pending transfer", err))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%s*: Billing is held by %s.\n", escape(m.Org.Name), names.mention(m.Org.BillingHolderID))
	if pending == nil {
		b.WriteString("No transfer of Billing is pending.")
	} else {
		b.WriteString(pending.Describe(a.now(), names.mention))
		if pending.InitiatorID == m.Member.ID {
			b.WriteString(" You can cancel it with `/billing cancel`.")
		}
	}
	return ephemeral(b.String())
}

func (a *App) cmdAudit(ctx context.Context, c cmdCtx, m domain.Membership) events.APIGatewayV2HTTPResponse {
	n := defaultAuditEntries
	if len(c.args) > 0 {
		v, err := strconv.Atoi(c.args[0])
		if err != nil || v < 1 || v > maxAuditEntries {
			return ephemeral(fmt.Sprintf("`/billing audit [n]`: n is a number of entries from 1 to %d.", maxAuditEntries))
		}
		n = v
	}
	entries, err := a.store.ReadAudit(ctx, m.Org.ID, m.Member.ID, n)
	if err != nil {
		return ephemeral(a.refusalText(ctx, "read audit", err))
	}
	if len(entries) == 0 {
		return ephemeral(fmt.Sprintf("The audit trail of *%s* is empty.", escape(m.Org.Name)))
	}
	names, err := a.memberNames(ctx, m.Org.ID)
	if err != nil {
		return ephemeral(a.refusalText(ctx, "list members", err))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*Audit trail of %s*, newest first:\n", escape(m.Org.Name))
	for _, e := range entries {
		target := escape(e.Target)
		if strings.HasPrefix(string(e.Action), "member.") {
			target = names.plain(e.Target)
		}
		fmt.Fprintf(&b, "• `%s` %s `%s` %s", e.At.UTC().Format("2006-01-02 15:04"), names.plain(e.Actor), e.Action, target)
		if e.Before != "" || e.After != "" {
			fmt.Fprintf(&b, " (%s → %s)", auditValue(e.Action, e.Before, names), auditValue(e.Action, e.After, names))
		}
		if e.Detail != "" {
			fmt.Fprintf(&b, " – %s", escape(e.Detail))
		}
		b.WriteString("\n")
	}
	return ephemeral(b.String())
}

// auditValue shows an audit entry's before or after as a person reads it:
// amounts (stored in micro-credits) in credits, members by name, an empty
// side as "none".
func auditValue(action domain.Action, v string, names memberNames) string {
	if v == "" {
		return "none"
	}
	switch action {
	case domain.ActionGroupCreated, domain.ActionGroupCapChanged, domain.ActionGrant, domain.ActionThresholdChanged:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return domain.Micros(n).Credits() + " credits"
		}
	case domain.ActionTransferRequested:
		return names.plain(v)
	}
	return escape(v)
}

func (a *App) cmdGroups(ctx context.Context, c cmdCtx, m domain.Membership) events.APIGatewayV2HTTPResponse {
	if err := domain.CanViewGroups(m.Org, m.Member); err != nil {
		return ephemeral(a.refusalText(ctx, "view groups", err))
	}
	period := domain.Period(a.now())
	sts, err := a.store.GroupStatuses(ctx, m.Org.ID, period)
	if err != nil {
		return ephemeral(a.refusalText(ctx, "group statuses", err))
	}
	if len(sts) == 0 {
		return ephemeral(fmt.Sprintf("*%s* has no budget groups. Create one with `/billing group create <id> <cap-credits> [name]`.", escape(m.Org.Name)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*Budget groups of %s*, %s:\n", escape(m.Org.Name), period)
	for _, s := range sts {
		b.WriteString("• " + groupLine(s) + "\n")
	}
	return ephemeral(b.String())
}

func groupLine(s domain.GroupStatus) string {
	return fmt.Sprintf("*%s* (`%s`) `%s` %s of %s credits spent, %s left",
		escape(s.Group.Name), s.Group.ID, bar(s.Spent, s.Group.Cap), s.Spent.Credits(), s.Group.Cap.Credits(), s.Remaining.Credits())
}

func (a *App) cmdGroup(ctx context.Context, c cmdCtx, m domain.Membership) events.APIGatewayV2HTTPResponse {
	usage := "Usage: `/billing group create <id> <cap-credits> [name]`, `/billing group cap <id> <credits>` or `/billing group assign <agent> <group|none>`."
	if len(c.args) < 3 {
		return ephemeral(usage)
	}
	actor := m.Member
	switch strings.ToLower(c.args[0]) {
	case "create":
		capM, err := ParseCredits(c.args[2])
		if err != nil {
			return ephemeral(err.Error())
		}
		name := strings.Join(c.args[3:], " ")
		if name == "" {
			name = c.args[1]
		}
		g, created, err := a.store.CreateGroup(ctx, domain.BudgetGroup{OrgID: m.Org.ID, ID: c.args[1], Name: name, Cap: capM}, &actor)
		if err != nil {
			return ephemeral(a.refusalText(ctx, "create group", err))
		}
		if !created {
			return ephemeral(fmt.Sprintf("Budget group *%s* (`%s`) already exists with a cap of %s credits; nothing changed.", escape(g.Name), g.ID, g.Cap.Credits()))
		}
		return ephemeral(fmt.Sprintf("Created budget group *%s* (`%s`) with a monthly cap of %s credits.", escape(g.Name), g.ID, g.Cap.Credits()))
	case "cap":
		capM, err := ParseCredits(c.args[2])
		if err != nil {
			return ephemeral(err.Error())
		}
		g, err := a.store.SetGroupCap(ctx, m.Org.ID, c.args[1], capM, &actor)
		if err != nil {
			return ephemeral(a.groupRefusal(ctx, "set group cap", err))
		}
		return ephemeral(fmt.Sprintf("Budget group *%s* (`%s`) now has a monthly cap of %s credits.", escape(g.Name), g.ID, g.Cap.Credits()))
	case "assign":
		group := c.args[2]
		if strings.EqualFold(group, "none") {
			group = ""
		}
		ag, err := a.store.SetAgentGroup(ctx, m.Org.ID, c.args[1], group, &actor)
		if err != nil {
			return ephemeral(a.groupRefusal(ctx, "assign agent", err))
		}
		if ag.BudgetGroupID == "" {
			return ephemeral(fmt.Sprintf("Agent *%s* (`%s`) is in no budget group now; only the pool limits it.", escape(ag.Name), ag.ID))
		}
		return ephemeral(fmt.Sprintf("Agent *%s* (`%s`) is now in budget group `%s`.", escape(ag.Name), ag.ID, ag.BudgetGroupID))
	}
	return ephemeral(usage)
}

// groupRefusal words a refused group command; a group or agent that does
// not exist gets a pointer to where the ids are.
func (a *App) groupRefusal(ctx context.Context, op string, err error) string {
	text := sentence(a.refusalText(ctx, op, err))
	if errors.Is(err, domain.ErrNotFound) {
		text += " `/billing groups` lists the budget groups and their ids; agent ids are set when an operator creates the agent."
	}
	return text
}

// userMention reads "<@U123>" or "<@U123|name>", as Slack escapes a
// mention in a command's text.
func userMention(s string) (string, bool) {
	if !strings.HasPrefix(s, "<@") || !strings.HasSuffix(s, ">") {
		return "", false
	}
	id, _, _ := strings.Cut(s[2:len(s)-1], "|")
	return id, id != ""
}

func (a *App) cmdRole(ctx context.Context, c cmdCtx, m domain.Membership) events.APIGatewayV2HTTPResponse {
	if len(c.args) != 2 {
		return ephemeral("Usage: `/billing role <@user> <owner|admin|builder|member>`.")
	}
	role, err := domain.ParseRole(c.args[1])
	if err != nil {
		return ephemeral(a.refusalText(ctx, "parse role", err))
	}
	members, err := a.store.ListMembers(ctx, m.Org.ID)
	if err != nil {
		return ephemeral(a.refusalText(ctx, "list members", err))
	}
	slackID, isMention := userMention(c.args[0])
	var target *domain.Member
	for i, x := range members {
		if !x.Active() {
			continue
		}
		if (isMention && x.SlackUserID == slackID) || (!isMention && x.ID == c.args[0]) {
			target = &members[i]
			break
		}
	}
	if target == nil {
		who := escape(c.args[0])
		if isMention {
			who = "<@" + slackID + ">"
		}
		return ephemeral(fmt.Sprintf("%s is not an active member of *%s*. Name them with Slack's @-mention, like `/billing role @name admin`.", who, escape(m.Org.Name)))
	}
	actor := m.Member
	updated, err := a.store.SetRole(ctx, m.Org.ID, &actor, target.ID, role)
	if err != nil {
		return ephemeral(a.refusalText(ctx, "set role", err))
	}
	return ephemeral(fmt.Sprintf("%s is now %s in *%s*.", mentionOf(updated), updated.Role.Title(), escape(m.Org.Name)))
}

// cmdLeave leaves only on `/billing leave confirm`: leaving cannot be
// undone from Slack (an operator adds members back), so the bare command
// says what it would do, or why it cannot, and how to confirm.
func (a *App) cmdLeave(ctx context.Context, c cmdCtx, m domain.Membership) events.APIGatewayV2HTTPResponse {
	if len(c.args) != 1 || !strings.EqualFold(c.args[0], "confirm") {
		return a.leavePreview(ctx, c, m)
	}
	if err := a.store.Leave(ctx, m.Org.ID, m.Member.ID); err != nil {
		return ephemeral(a.refusalText(ctx, "leave", err))
	}
	// Leaving closes a transfer pending to or from the member, also one
	// past its expiry that nothing has swept yet (so read the lock, not
	// PendingTransfer, which hides those): its messages must lose their
	// buttons and the other party be told.
	if id := m.Org.PendingTransferID; id != "" {
		a.announceClosedOnce(ctx, m.Org, id)
	}
	return ephemeral(fmt.Sprintf("You left *%s*.", escape(m.Org.Name)))
}

func (a *App) leavePreview(ctx context.Context, c cmdCtx, m domain.Membership) events.APIGatewayV2HTTPResponse {
	pending, err := a.store.PendingTransfer(ctx, m.Org.ID)
	if err != nil {
		return ephemeral(a.refusalText(ctx, "pending transfer", err))
	}
	dep, err := domain.DecideLeave(m.Org, m.Member, nil, domain.MemberLeft, pending, a.now())
	if err != nil {
		return ephemeral(a.refusalText(ctx, "leave", err))
	}
	confirm := "/billing leave confirm"
	if c.orgID != "" {
		confirm += " org:" + c.orgID
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Leaving *%s* ends your membership: its commands and messages stop reaching you, and only an operator can add you back.", escape(m.Org.Name))
	if dep.Closes != nil {
		names, err := a.memberNames(ctx, m.Org.ID)
		if err != nil {
			return ephemeral(a.refusalText(ctx, "list members", err))
		}
		b.WriteString(" " + dep.Closes.Describe(a.now(), names.mention) + " Leaving cancels it.")
	}
	fmt.Fprintf(&b, " To leave, run `%s`.", confirm)
	return ephemeral(b.String())
}

func (a *App) cmdCredit(ctx context.Context, c cmdCtx, m domain.Membership) events.APIGatewayV2HTTPResponse {
	if m.Org.BillingHolderID != m.Member.ID {
		names, err := a.memberNames(ctx, m.Org.ID)
		if err != nil {
			return ephemeral(a.refusalText(ctx, "list members", err))
		}
		return ephemeral(notHolderText(m.Org, names))
	}
	pool, err := a.store.GetPool(ctx, m.Org.ID)
	if err != nil {
		return ephemeral(a.refusalText(ctx, "read pool", err))
	}
	now := a.now()
	days, err := a.store.DailyUsage(ctx, m.Org.ID, now.UTC().Day())
	if err != nil {
		return ephemeral(a.refusalText(ctx, "daily usage", err))
	}
	period := domain.Period(now)
	return ephemeral(fmt.Sprintf("*%s*: balance %s credits. Usage in %s: %s credits.",
		escape(m.Org.Name), pool.Balance.Credits(), period, periodUsage(days, period).Credits()))
}

// notHolderText tells someone who is not the Billing holder who is, and
// how Billing moves.
func notHolderText(org domain.Org, names memberNames) string {
	return fmt.Sprintf("Only the Billing holder of *%s* can view its credit, and that is %s. "+
		"Billing moves by transfer: the holder, who must be an Owner, runs `/billing transfer` and the member they choose accepts.",
		escape(org.Name), names.mention(org.BillingHolderID))
}

func periodUsage(days []domain.DayUsage, period string) domain.Micros {
	var sum domain.Micros
	for _, d := range days {
		if strings.HasPrefix(d.Day, period) {
			sum += d.Amount
		}
	}
	return sum
}

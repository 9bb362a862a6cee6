package slackapp

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/slackapp/mrkdwn"
)

// maxAuditEntries bounds `/billing audit [n]`: the entries of one message.
const (
	defaultAuditEntries = 10
	maxAuditEntries     = 40
)

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
	orgID string // named with org:<id>, or ""
}

type command func(ctx context.Context, c cmdCtx, m domain.Membership) response

func (a *App) handleCommand(ctx context.Context, body []byte) response {
	cmd, err := parseCommand(body)
	if err != nil {
		return plainResponse(400, err.Error())
	}
	a.learnAppID(cmd.APIAppID)
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
	run, ok := map[string]command{
		"":         a.cmdHelp,
		"help":     a.cmdHelp,
		"transfer": a.cmdTransfer,
		"cancel":   a.cmdCancel,
		"status":   a.cmdStatus,
		"audit":    a.cmdAudit,
		"groups":   a.cmdGroups,
		"group":    a.cmdGroup,
		"role":     a.cmdRole,
		"leave":    a.cmdLeave,
		"credit":   a.cmdCredit,
	}[sub]
	if !ok {
		return a.withMember(ctx, c, func(ctx context.Context, c cmdCtx, m domain.Membership) response {
			return a.help(ctx, m, mrkdwn.F("%s is not a `/billing` command.", mrkdwn.Code(sub)))
		})
	}
	return a.withMember(ctx, c, run)
}

// withMember resolves who acts, in which organization, from the Slack
// identity of the request, then runs the command.
func (a *App) withMember(ctx context.Context, c cmdCtx, run command) response {
	m, reply, err := a.choose(ctx, c.cmd.TeamID, c.cmd.UserID, c.orgID)
	if err != nil {
		return a.say(ctx, a.failure(ctx, "resolve member", err))
	}
	if !reply.Empty() {
		return a.say(ctx, reply)
	}
	return run(ctx, c, m)
}

// helpEntry is one command of the help, and who may run it.
type helpEntry struct {
	usage, what string
	may         func(m domain.Membership, pending *domain.Transfer) bool
}

func always(domain.Membership, *domain.Transfer) bool { return true }

func managers(m domain.Membership, _ *domain.Transfer) bool {
	return domain.CanManage(&m.Member) == nil
}

func groupViewers(m domain.Membership, _ *domain.Transfer) bool {
	return domain.CanViewGroups(m.Org, m.Member) == nil
}

var helpEntries = []helpEntry{
	{"/credit", "your organization's credit: balance, this month's usage, groups near their cap",
		func(m domain.Membership, _ *domain.Transfer) bool {
			return domain.CanViewCredit(m.Org, m.Member) == nil
		}},
	{"/billing status", "who holds Billing, and any transfer waiting for an answer", always},
	{"/billing transfer", "offer the Billing role to another member (they accept or decline)",
		func(m domain.Membership, p *domain.Transfer) bool {
			return domain.CanStartTransfer(m.Org, m.Member) == nil && p == nil
		}},
	{"/billing cancel", "cancel your transfer that is waiting for an answer",
		func(m domain.Membership, p *domain.Transfer) bool { return p != nil && p.InitiatorID == m.Member.ID }},
	{"/billing groups", "budget groups with this month's spend against their caps", groupViewers},
	{"/billing group create <id> <cap-credits> [name]", "create a budget group", managers},
	{"/billing group cap <id> <credits>", "change a group's monthly cap", managers},
	{"/billing group assign <agent> <group|none>", "move an agent into a group, or out of any", managers},
	{"/billing role @person <owner|admin|builder|member>", "change someone's everyday role (only Owners make or unmake Owners)", managers},
	{"/billing audit [n]", "the last n changes, newest first",
		func(m domain.Membership, _ *domain.Transfer) bool { return domain.CanReadAudit(m.Org, m.Member) == nil }},
	{"/billing leave", "leave the organization (you're asked to confirm)",
		func(m domain.Membership, _ *domain.Transfer) bool { return m.Org.BillingHolderID != m.Member.ID }},
	{"/billing help", "this list", always},
}

func (a *App) cmdHelp(ctx context.Context, c cmdCtx, m domain.Membership) response {
	return a.help(ctx, m, md{})
}

// help lists the commands m may run, in m's organization.
func (a *App) help(ctx context.Context, m domain.Membership, lead md) response {
	pending, err := a.store.PendingTransfer(ctx, m.Org.ID)
	if err != nil {
		return a.say(ctx, a.failure(ctx, "pending transfer", err))
	}
	var ls []md
	for _, e := range helpEntries {
		if e.may(m, pending) {
			ls = append(ls, mrkdwn.F("%s — %s", mrkdwn.Code(e.usage), e.what))
		}
	}
	intro := mrkdwn.F("What you can do in %s, as %s:", orgName(m.Org), roleName(m.Member.Role))
	blocks := []slack.Block{}
	if !lead.Empty() {
		blocks = append(blocks, section(lead))
	}
	blocks = append(blocks, section(intro))
	blocks = append(blocks, lines(ls)...)
	blocks = append(blocks, contextLine(mrkdwn.F("In several organizations? The one you choose in *My Credit* (this app's Home tab) is used by your commands; %s picks another for one command.", mrkdwn.Code("org:<id>"))))
	return a.answer(ctx, message{text: mrkdwn.Join(" ", lead, intro), blocks: blocks})
}

func (a *App) cmdTransfer(ctx context.Context, c cmdCtx, m domain.Membership) response {
	if refused, ok := a.openTransferDialog(ctx, c.cmd.TeamID, c.cmd.TriggerID, m); !ok {
		return a.say(ctx, refused)
	}
	return ack()
}

func (a *App) cmdCancel(ctx context.Context, c cmdCtx, m domain.Membership) response {
	return a.say(ctx, a.cancelPending(ctx, m))
}

func (a *App) cmdStatus(ctx context.Context, c cmdCtx, m domain.Membership) response {
	pending, err := a.store.PendingTransfer(ctx, m.Org.ID)
	if err != nil {
		return a.say(ctx, a.failure(ctx, "pending transfer", err))
	}
	n, err := a.names(ctx, m.Org.ID, billingPeople(m.Org, pending)...)
	if err != nil {
		return a.say(ctx, a.failure(ctx, "list members", err))
	}
	holder := n[m.Org.BillingHolderID]
	held := mrkdwn.F("Billing of %s is held by %s.", orgName(m.Org), n.person(m.Org.BillingHolderID))
	if holder.ID == m.Member.ID {
		held = mrkdwn.F("You hold Billing of %s.", orgName(m.Org))
	}
	blocks := []slack.Block{section(held)}
	if pending == nil {
		blocks = append(blocks, contextLine(mrkdwn.F("No transfer is waiting for an answer.")))
	} else {
		blocks = append(blocks, a.pendingBlock(m, *pending, n))
	}
	blocks = append(blocks, contextLine(howBillingMoves(m.Org, m.Member, holder)))
	return a.answer(ctx, message{text: held, blocks: blocks})
}

// pendingBlock says where a pending transfer stands, for whoever reads it,
// with Cancel request for its initiator.
func (a *App) pendingBlock(m domain.Membership, p domain.Transfer, n names) slack.Block {
	var t md
	switch m.Member.ID {
	case p.InitiatorID:
		t = mrkdwn.F(":hourglass_flowing_sand: You asked %s to take over Billing %s; they haven't answered yet. The request expires %s.",
			n.person(p.RecipientID), mrkdwn.When(p.RequestedAt), mrkdwn.When(p.ExpiresAt))
		cancel := button(actionCancel, "Cancel request", transferValue(p), "")
		cancel.Confirm = confirm("Cancel this request?", mrkdwn.F("%s is told the request was cancelled, and you keep Billing of %s.", n.person(p.RecipientID), mrkdwn.Escape(m.Org.Name)), "Cancel request", "Keep it", slack.StyleDanger)
		return sectionWith(t, cancel)
	case p.RecipientID:
		t = mrkdwn.F(":inbox_tray: %s asked you %s to take over Billing; answer in your direct message from this app or in *My Credit*. The request expires %s.",
			n.person(p.InitiatorID), mrkdwn.When(p.RequestedAt), mrkdwn.When(p.ExpiresAt))
	default:
		t = mrkdwn.F(":hourglass_flowing_sand: %s asked %s %s to take over Billing; no answer yet. The request expires %s.",
			n.person(p.InitiatorID), n.person(p.RecipientID), mrkdwn.When(p.RequestedAt), mrkdwn.When(p.ExpiresAt))
	}
	return section(t)
}

func (a *App) cmdAudit(ctx context.Context, c cmdCtx, m domain.Membership) response {
	count := defaultAuditEntries
	if len(c.args) > 0 {
		v, err := strconv.Atoi(c.args[0])
		if err != nil || v < 1 || v > maxAuditEntries {
			return a.say(ctx, mrkdwn.F("`/billing audit [n]`: n is a number of entries from 1 to %d.", maxAuditEntries))
		}
		count = v
	}
	entries, err := a.store.ReadAudit(ctx, m.Org.ID, m.Member.ID, count)
	if err != nil {
		return a.say(ctx, a.failure(ctx, "read audit", err))
	}
	if len(entries) == 0 {
		return a.say(ctx, mrkdwn.F("Nothing has been recorded for %s yet.", orgName(m.Org)))
	}
	n, err := a.names(ctx, m.Org.ID)
	if err != nil {
		return a.say(ctx, a.failure(ctx, "list members", err))
	}
	ls := make([]md, len(entries))
	for i, e := range entries {
		ls[i] = auditLine(e, n)
	}
	title := mrkdwn.F("*Audit trail of %s*, newest first", mrkdwn.Escape(m.Org.Name))
	return a.answer(ctx, message{text: title, blocks: append([]slack.Block{section(title)}, lines(ls)...)})
}

// auditLine words one audit entry: when, who, what.
func auditLine(e domain.AuditEntry, n names) md {
	who := n.plainName(e.Actor)
	switch e.Actor {
	case domain.OperatorActor:
		who = mrkdwn.F("An operator")
	case domain.SystemActor:
		who = mrkdwn.F("orgcredit")
	}
	target := mrkdwn.Code(e.Target)
	if strings.HasPrefix(string(e.Action), "member.") {
		target = n.plainName(e.Target)
	}
	what := mrkdwn.F("%s %s", mrkdwn.Code(string(e.Action)), target)
	if e.Before != "" || e.After != "" {
		what = mrkdwn.F("%s (%s → %s)", what, auditValue(e.Action, e.Before, n), auditValue(e.Action, e.After, n))
	}
	if e.Detail != "" {
		what = mrkdwn.F("%s – %s", what, e.Detail)
	}
	return mrkdwn.F("• %s · %s: %s", mrkdwn.When(e.At), who, what)
}

// auditValue shows an audit entry's before or after as a person reads it:
// amounts (stored in micro-credits) in credits, members by name, an empty
// side as "none".
func auditValue(action domain.Action, v string, n names) md {
	if v == "" {
		return mrkdwn.F("none")
	}
	switch action {
	case domain.ActionGroupCreated, domain.ActionGroupCapChanged, domain.ActionGrant, domain.ActionThresholdChanged:
		if x, err := strconv.ParseInt(v, 10, 64); err == nil {
			return credits(domain.Micros(x))
		}
	case domain.ActionTransferRequested:
		return n.plainName(v)
	}
	return mrkdwn.Escape(v)
}

func (a *App) cmdGroups(ctx context.Context, c cmdCtx, m domain.Membership) response {
	if err := domain.CanViewGroups(m.Org, m.Member); err != nil {
		return a.say(ctx, a.failure(ctx, "view groups", err))
	}
	period := domain.Period(a.now())
	sts, err := a.store.GroupStatuses(ctx, m.Org.ID, period)
	if err != nil {
		return a.say(ctx, a.failure(ctx, "group statuses", err))
	}
	if len(sts) == 0 {
		hint := mrkdwn.F("Its agents are limited by the credit pool only.")
		if domain.CanManage(&m.Member) == nil {
			hint = mrkdwn.F("Create one with %s.", mrkdwn.Code("/billing group create <id> <cap-credits> [name]"))
		}
		return a.say(ctx, mrkdwn.F("%s has no budget groups. %s", orgName(m.Org), hint))
	}
	sortGroups(sts)
	title := mrkdwn.F("*Budget groups of %s* · %s", mrkdwn.Escape(m.Org.Name), month(period))
	return a.answer(ctx, message{text: title, blocks: append([]slack.Block{section(title)}, lines(groupLines(sts))...)})
}

func (a *App) cmdGroup(ctx context.Context, c cmdCtx, m domain.Membership) response {
	usage := mrkdwn.F("Usage: %s, %s or %s.", mrkdwn.Code("/billing group create <id> <cap-credits> [name]"),
		mrkdwn.Code("/billing group cap <id> <credits>"), mrkdwn.Code("/billing group assign <agent> <group|none>"))
	if len(c.args) < 3 {
		return a.say(ctx, usage)
	}
	actor := m.Member
	switch strings.ToLower(c.args[0]) {
	case "create":
		capM, err := domain.ParseCredits(c.args[2])
		if err != nil {
			return a.say(ctx, mrkdwn.Escape(sentence(err.Error())))
		}
		name := strings.Join(c.args[3:], " ")
		g, created, err := a.store.CreateGroup(ctx, domain.BudgetGroup{OrgID: m.Org.ID, ID: c.args[1], Name: name, Cap: capM}, &actor)
		if err != nil {
			return a.say(ctx, a.failure(ctx, "create group", err))
		}
		if !created {
			return a.say(ctx, mrkdwn.F("Budget group *%s* (%s) already exists in %s with a monthly cap of %s; nothing changed.", g.Name, mrkdwn.Code(g.ID), orgName(m.Org), credits(g.Cap)))
		}
		a.refreshHolder(ctx, m.Org)
		return a.say(ctx, mrkdwn.F("Created budget group *%s* (%s) in %s with a monthly cap of %s.", g.Name, mrkdwn.Code(g.ID), orgName(m.Org), credits(g.Cap)))
	case "cap":
		capM, err := domain.ParseCredits(c.args[2])
		if err != nil {
			return a.say(ctx, mrkdwn.Escape(sentence(err.Error())))
		}
		g, err := a.store.SetGroupCap(ctx, m.Org.ID, c.args[1], capM, &actor)
		if err != nil {
			return a.say(ctx, a.groupFailure(ctx, "set group cap", err))
		}
		a.refreshHolder(ctx, m.Org)
		return a.say(ctx, mrkdwn.F("Budget group *%s* of %s now has a monthly cap of %s. It takes effect at once.", g.Name, orgName(m.Org), credits(g.Cap)))
	case "assign":
		group := c.args[2]
		if strings.EqualFold(group, "none") {
			group = ""
		}
		ag, err := a.store.SetAgentGroup(ctx, m.Org.ID, c.args[1], group, &actor)
		if err != nil {
			return a.say(ctx, a.groupFailure(ctx, "assign agent", err))
		}
		if ag.BudgetGroupID == "" {
			return a.say(ctx, mrkdwn.F("Agent *%s* of %s is in no budget group now: only the credit pool limits it.", ag.Name, orgName(m.Org)))
		}
		return a.say(ctx, mrkdwn.F("Agent *%s* of %s is now in budget group %s; its next usage counts there.", ag.Name, orgName(m.Org), mrkdwn.Code(ag.BudgetGroupID)))
	}
	return a.say(ctx, usage)
}

// refreshHolder publishes the Billing holder's Home again after a change
// it shows (the budget groups).
func (a *App) refreshHolder(ctx context.Context, org domain.Org) {
	holder, err := a.store.GetMember(ctx, org.ID, org.BillingHolderID)
	if err != nil {
		a.log.ErrorContext(ctx, "slack: read the Billing holder to refresh their Home", "org", org.ID, "err", err)
		return
	}
	a.refreshHomes(ctx, org, holder)
}

// groupFailure words a refused group command; a group or agent that does
// not exist gets a pointer to where the ids are.
func (a *App) groupFailure(ctx context.Context, op string, err error) md {
	t := a.failure(ctx, op, err)
	if errors.Is(err, domain.ErrNotFound) {
		return mrkdwn.F("%s %s lists the budget groups and their ids; agent ids are the ones given when the agent was created.", t, mrkdwn.Code("/billing groups"))
	}
	return t
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

func (a *App) cmdRole(ctx context.Context, c cmdCtx, m domain.Membership) response {
	if len(c.args) != 2 {
		return a.say(ctx, mrkdwn.F("Usage: %s.", mrkdwn.Code("/billing role @person <owner|admin|builder|member>")))
	}
	role, err := domain.ParseRole(c.args[1])
	if err != nil {
		return a.say(ctx, a.failure(ctx, "parse role", err))
	}
	members, err := a.store.ListMembers(ctx, m.Org.ID)
	if err != nil {
		return a.say(ctx, a.failure(ctx, "list members", err))
	}
	slackID, isMention := userMention(c.args[0])
	var target *domain.Member
	for i, x := range members {
		if x.Active() && ((isMention && x.SlackUserID == slackID) || (!isMention && x.ID == c.args[0])) {
			target = &members[i]
			break
		}
	}
	if target == nil {
		who := mrkdwn.Escape(c.args[0])
		if isMention {
			who = mrkdwn.Mention(slackID)
		}
		return a.say(ctx, mrkdwn.F("%s is not an active member of %s. Name them with Slack's @-mention, like %s.", who, orgName(m.Org), mrkdwn.Code("/billing role @name admin")))
	}
	actor := m.Member
	updated, err := a.store.SetRole(ctx, m.Org.ID, &actor, target.ID, role)
	if err != nil {
		return a.say(ctx, a.failure(ctx, "set role", err))
	}
	// Their Home says what their role lets them do (an Owner holding
	// Billing gets its Transfer button).
	a.refreshHomes(ctx, m.Org, updated)
	return a.say(ctx, mrkdwn.F("%s is now %s in %s.", person(updated), roleName(updated.Role), orgName(m.Org)))
}

// cmdLeave leaves only when confirmed: leaving cannot be undone from Slack
// (only an operator adds members back), so the bare command says what it
// would do, or why it cannot, with a button that asks again.
func (a *App) cmdLeave(ctx context.Context, c cmdCtx, m domain.Membership) response {
	if len(c.args) == 1 && strings.EqualFold(c.args[0], "confirm") {
		return a.say(ctx, a.leave(ctx, m))
	}
	pending, err := a.store.PendingTransfer(ctx, m.Org.ID)
	if err != nil {
		return a.say(ctx, a.failure(ctx, "pending transfer", err))
	}
	dep, err := domain.DecideLeave(m.Org, m.Member, nil, domain.MemberLeft, pending, a.now())
	if err != nil {
		return a.say(ctx, a.failure(ctx, "leave", err))
	}
	what := mrkdwn.F("Leaving %s ends your membership: its commands, messages and My Credit stop reaching you, and only whoever runs orgcredit for it can add you back.", orgName(m.Org))
	if dep.Closes != nil {
		what = mrkdwn.F("%s The Billing transfer waiting for an answer is cancelled too.", what)
	}
	leave := button(actionLeave, "Leave "+m.Org.Name, m.Org.ID, slack.StyleDanger)
	leave.Confirm = confirm("Leave "+m.Org.Name+"?", mrkdwn.F("You'll no longer be a member of %s.", mrkdwn.Escape(m.Org.Name)), "Leave", "Stay", slack.StyleDanger)
	return a.answer(ctx, message{text: what, blocks: []slack.Block{section(what), actions("leave", leave)}})
}

// leave takes m out of the organization and tells the parties of a
// transfer it closed.
func (a *App) leave(ctx context.Context, m domain.Membership) md {
	if err := a.store.Leave(ctx, m.Org.ID, m.Member.ID); err != nil {
		return a.failure(ctx, "leave", err)
	}
	// Their Home no longer shows this organization.
	if err := a.publishHome(ctx, m.Org.SlackTeamID, m.Member.SlackUserID, ""); err != nil {
		a.log.ErrorContext(ctx, "slack: refresh the Home of a member who left", "org", m.Org.ID, "err", err)
	}
	// Leaving closes a transfer pending to or from the member, also one
	// past its expiry that nothing has swept yet (so read the lock, not
	// PendingTransfer, which hides those): its messages must lose their
	// buttons and the other party be told.
	if id := m.Org.PendingTransferID; id != "" {
		if t, err := a.store.GetTransfer(ctx, m.Org.ID, id); err == nil {
			a.announceOnce(ctx, m.Org, t)
		}
	}
	return mrkdwn.F("You left %s.", orgName(m.Org))
}

// leaveClick is the "Leave" button after `/billing leave`.
func (a *App) leaveClick(ctx context.Context, ic slack.InteractionCallback, orgID string) {
	team := teamOf(ic)
	m, ok, err := a.in(ctx, team, ic.User.ID, orgID)
	switch {
	case err != nil:
		a.tell(ctx, team, ic, a.failure(ctx, "resolve member", err))
	case !ok:
		a.tell(ctx, team, ic, mrkdwn.F("You're not a member of this organization any more; nothing to leave."))
	default:
		a.tell(ctx, team, ic, a.leave(ctx, m))
	}
}

func (a *App) cmdCredit(ctx context.Context, c cmdCtx, m domain.Membership) response {
	if err := domain.CanViewCredit(m.Org, m.Member); err != nil {
		holder, herr := a.store.GetMember(ctx, m.Org.ID, m.Org.BillingHolderID)
		if herr != nil {
			return a.say(ctx, a.failure(ctx, "read holder", herr))
		}
		t := mrkdwn.F("Only the Billing holder of %s can view its credit, and that is %s.", orgName(m.Org), person(holder))
		return a.answer(ctx, message{text: t, blocks: []slack.Block{section(t), contextLine(howBillingMoves(m.Org, m.Member, holder))}})
	}
	f, err := a.readCredit(ctx, m.Org)
	if err != nil {
		return a.say(ctx, a.failure(ctx, "read credit", err))
	}
	return a.answer(ctx, a.creditAnswer(m.Org, f))
}

// creditAnswer is /credit for the Billing holder: the state in words, the
// figures, the groups near their cap, and where to go next.
func (a *App) creditAnswer(org domain.Org, f creditFacts) message {
	state := stateLine(f)
	blocks := []slack.Block{section(state), creditFields(f)}
	var near []md
	for _, g := range f.groups {
		if g.AtCap() || g.NearCap() {
			near = append(near, mrkdwn.F("• %s", groupLine(g)))
		}
	}
	if len(near) > 0 {
		blocks = append(blocks, section(mrkdwn.F("*Budget groups near their cap in %s*", month(f.period))))
		blocks = append(blocks, lines(near)...)
	}
	if els := a.creditActions(org, false); len(els) > 0 {
		blocks = append(blocks, actions("credit_actions", els...))
	}
	if org.TopUpURL == "" && f.pool.State() != domain.PoolHealthy {
		blocks = append(blocks, contextLine(topUpHint(org)))
	}
	return message{text: state, blocks: blocks}
}

// openGroupsView shows an organization's budget groups in a dialog (an
// alert's "View groups").
func (a *App) openGroupsView(ctx context.Context, ic slack.InteractionCallback, orgID string) {
	team := teamOf(ic)
	m, ok, err := a.in(ctx, team, ic.User.ID, orgID)
	if err != nil || !ok {
		a.tell(ctx, team, ic, mrkdwn.F("You're not a member of this organization, so its groups aren't shown to you."))
		return
	}
	if err := domain.CanViewGroups(m.Org, m.Member); err != nil {
		a.tell(ctx, team, ic, a.failure(ctx, "view groups", err))
		return
	}
	period := domain.Period(a.now())
	sts, err := a.store.GroupStatuses(ctx, m.Org.ID, period)
	if err != nil {
		a.tell(ctx, team, ic, a.failure(ctx, "group statuses", err))
		return
	}
	sortGroups(sts)
	blocks := []slack.Block{section(mrkdwn.F("*%s* · %s", mrkdwn.Escape(m.Org.Name), month(period)))}
	if len(sts) == 0 {
		blocks = append(blocks, section(mrkdwn.F("No budget groups: agents are limited by the credit pool only.")))
	}
	blocks = append(blocks, lines(groupLines(sts))...)
	v := slack.ModalViewRequest{Type: slack.VTModal, Title: plain("Budget groups", 24), Close: plain("Close", 24), Blocks: slack.Blocks{BlockSet: blocks}}
	if err := a.openView(ctx, team, ic.TriggerID, v); err != nil {
		a.log.ErrorContext(ctx, "slack: open the groups dialog", "err", err)
		a.tell(ctx, team, ic, mrkdwn.F("Slack didn't open the groups just now; `/billing groups` lists them too."))
	}
}

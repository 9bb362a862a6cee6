package main

import (
	"fmt"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// The operations: one command per route of the admin API, described as
// data (which flag goes to which path segment, query parameter or JSON
// member), so that the help, the flag parsing and the request all come from
// one table. The tests check the table against adminapi's own route list.

// where a field's value goes.
type where int

const (
	inPath  where = iota // a {name} segment of the route
	inQuery              // a query parameter
	inBody               // a member of the JSON body; dotted keys nest ("owner.id")
)

// kind is how a field's flags read their value.
type kind int

const (
	kString   kind = iota // --flag TEXT
	kInt                  // --flag N, a whole number
	kAmount               // --NAME-micros N or --NAME-credits C, sent as integer micro-credits
	kGroupRef             // --group ID or --no-group, sent as a string or null
)

// field is one value of a request and the flag(s) that give it.
type field struct {
	flag     string // flag name; for kAmount the stem of --stem-micros and --stem-credits
	alias    string // another accepted name ("org" for --id of orgs), or ""
	where    where
	key      string // path parameter, query parameter or JSON member
	kind     kind
	required bool
	usage    string // a `WORD` in back quotes names the value in the help
}

// command is one operation.
type command struct {
	resource, verb string
	summary        string
	detail         string // more help, or ""
	method         string
	route          string // the admin API's pattern, exactly as adminapi registers it
	fields         []field
	// anyBody: the command sends a JSON body and takes --set/--set-json
	// for members that have no flag of their own.
	anyBody bool
	// needChange: at least one body member must be given (a PATCH of
	// nothing is a mistake).
	needChange bool
	// notes are printed on stderr for a status, with {org} and {id}
	// replaced by the flags' values.
	notes map[int]string
	// showsToken: the answer may carry a token that is shown only once.
	showsToken bool
}

func (c *command) name() string { return c.resource + " " + c.verb }

// Fields shared by several commands.
var (
	orgFlag = field{flag: "org", where: inPath, key: "org", required: true,
		usage: "the organization's id (`ORG`)"}
	orgIDPath = field{flag: "id", alias: "org", where: inPath, key: "org", required: true,
		usage: "the organization's `ID`"}
	roleUsage = "`ROLE`: owner, admin, builder or member (Billing is not a role: it moves only by a transfer in Slack)"
)

const reuseNote = "Ids are yours to choose and creates are idempotent: the same id with the same content again changes nothing; with other content it is refused (409)."

var commands = []*command{
	{
		resource: "orgs", verb: "create", method: "POST", route: "/admin/orgs",
		summary: "create an organization with its first owner, who holds Billing",
		detail:  reuseNote,
		fields: []field{
			{flag: "id", alias: "org", where: inBody, key: "id", required: true, usage: "`ID` of the new organization (letters, digits, '.', '_', ':', '-')"},
			{flag: "name", where: inBody, key: "name", required: true, usage: "display `NAME` of the organization"},
			{flag: "slack-team-id", where: inBody, key: "slack_team_id", usage: "the Slack workspace `ID` (T…), so the Slack app finds the organization"},
			{flag: "threshold", where: inBody, key: "low_balance_threshold_micros", kind: kAmount, usage: "low-balance alert threshold"},
			{flag: "owner-id", where: inBody, key: "owner.id", required: true, usage: "member `ID` of the first owner"},
			{flag: "owner-name", where: inBody, key: "owner.name", required: true, usage: "display `NAME` of the first owner"},
			{flag: "owner-slack-user-id", where: inBody, key: "owner.slack_user_id", usage: "the owner's Slack user `ID` (U… or W…)"},
		},
		anyBody: true,
		notes:   map[int]string{200: "Organization {id} already existed with this content; nothing changed."},
	},
	{
		resource: "orgs", verb: "get", method: "GET", route: "/admin/orgs/{org}",
		summary: "show an organization: balance, threshold, Billing holder, transfer",
		fields:  []field{orgIDPath},
	},
	{
		resource: "orgs", verb: "update", method: "PATCH", route: "/admin/orgs/{org}",
		summary: "change an organization's threshold or top-up link",
		detail:  "Give at least one change. --set and --set-json send members that have no flag of their own.",
		fields: []field{
			orgIDPath,
			{flag: "threshold", where: inBody, key: "low_balance_threshold_micros", kind: kAmount, usage: "low-balance alert threshold"},
			{flag: "top-up-url", where: inBody, key: "top_up_url", usage: "`URL` (https) where the organization's people add credit; alerts link to it (\"\" removes it)"},
		},
		anyBody: true, needChange: true,
	},
	{
		resource: "members", verb: "add", method: "POST", route: "/admin/orgs/{org}/members",
		summary: "add a member to an organization",
		detail:  reuseNote,
		fields: []field{
			orgFlag,
			{flag: "id", where: inBody, key: "id", required: true, usage: "`ID` of the new member"},
			{flag: "name", where: inBody, key: "name", required: true, usage: "display `NAME` of the member"},
			{flag: "slack-user-id", where: inBody, key: "slack_user_id", usage: "the member's Slack user `ID` (U… or W…)"},
			{flag: "role", where: inBody, key: "role", usage: roleUsage + " (default member)"},
		},
		anyBody: true,
		notes:   map[int]string{200: "Member {id} was already in organization {org} with this content; nothing changed."},
	},
	{
		resource: "members", verb: "list", method: "GET", route: "/admin/orgs/{org}/members",
		summary: "list an organization's members and their roles",
		fields:  []field{orgFlag},
	},
	{
		resource: "members", verb: "update", method: "PATCH", route: "/admin/orgs/{org}/members/{member}",
		summary: "change a member's role",
		fields: []field{
			orgFlag,
			{flag: "id", where: inPath, key: "member", required: true, usage: "the member's `ID`"},
			{flag: "role", where: inBody, key: "role", required: true, usage: "the new " + roleUsage},
		},
		anyBody: true,
	},
	{
		resource: "members", verb: "remove", method: "DELETE", route: "/admin/orgs/{org}/members/{member}",
		summary: "remove a member (not the Billing holder or the last owner)",
		fields: []field{
			orgFlag,
			{flag: "id", where: inPath, key: "member", required: true, usage: "the member's `ID`"},
		},
		notes: map[int]string{204: "Removed member {id} from organization {org}."},
	},
	{
		resource: "groups", verb: "create", method: "POST", route: "/admin/orgs/{org}/budget-groups",
		summary: "create a budget group with a monthly spending cap",
		detail:  reuseNote,
		fields: []field{
			orgFlag,
			{flag: "id", where: inBody, key: "id", required: true, usage: "`ID` of the new budget group"},
			{flag: "name", where: inBody, key: "name", required: true, usage: "display `NAME` of the group"},
			{flag: "cap", where: inBody, key: "cap_micros", kind: kAmount, required: true, usage: "monthly cap"},
		},
		anyBody: true,
		notes:   map[int]string{200: "Budget group {id} already existed with this content; nothing changed."},
	},
	{
		resource: "groups", verb: "list", method: "GET", route: "/admin/orgs/{org}/budget-groups",
		summary: "list budget groups with this month's spend",
		fields:  []field{orgFlag},
	},
	{
		resource: "groups", verb: "update", method: "PATCH", route: "/admin/orgs/{org}/budget-groups/{group}",
		summary: "change a budget group's monthly cap",
		fields: []field{
			orgFlag,
			{flag: "id", where: inPath, key: "group", required: true, usage: "the budget group's `ID`"},
			{flag: "cap", where: inBody, key: "cap_micros", kind: kAmount, required: true, usage: "new monthly cap"},
		},
		anyBody: true,
	},
	{
		resource: "agents", verb: "create", method: "POST", route: "/admin/orgs/{org}/agents",
		summary: "create an agent and show its token, once",
		detail: "The token is in the answer to the create that makes the agent, and never again: only its\n" +
			"hash is stored. It is also printed on stderr so that it is seen; store it at once.\n" + reuseNote,
		fields: []field{
			orgFlag,
			{flag: "id", where: inBody, key: "id", required: true, usage: "`ID` of the new agent"},
			{flag: "name", where: inBody, key: "name", required: true, usage: "display `NAME` of the agent"},
			{flag: "group", where: inBody, key: "budget_group_id", usage: "budget `GROUP` id whose cap the agent spends under (default: none)"},
		},
		anyBody: true, showsToken: true,
	},
	{
		resource: "agents", verb: "list", method: "GET", route: "/admin/orgs/{org}/agents",
		summary: "list an organization's agents",
		fields:  []field{orgFlag},
	},
	{
		resource: "agents", verb: "update", method: "PATCH", route: "/admin/orgs/{org}/agents/{agent}",
		summary: "move an agent into a budget group, or out of any",
		fields: []field{
			orgFlag,
			{flag: "id", where: inPath, key: "agent", required: true, usage: "the agent's `ID`"},
			{flag: "group", where: inBody, key: "budget_group_id", kind: kGroupRef, required: true, usage: "budget `GROUP` id to move the agent to"},
		},
		anyBody: true,
	},
	{
		resource: "agents", verb: "revoke", method: "DELETE", route: "/admin/orgs/{org}/agents/{agent}",
		summary: "revoke an agent: its token stops working",
		fields: []field{
			orgFlag,
			{flag: "id", where: inPath, key: "agent", required: true, usage: "the agent's `ID`"},
		},
		notes: map[int]string{204: "Revoked agent {id} of organization {org}: its token no longer works."},
	},
	{
		resource: "grants", verb: "create", method: "POST", route: "/admin/orgs/{org}/grants",
		summary: "add credit to an organization's pool",
		detail:  "A grant id is applied once: repeating it (a retry) adds nothing, so use the id of the purchase.",
		fields: []field{
			orgFlag,
			{flag: "id", where: inBody, key: "id", required: true, usage: "`ID` of the grant, e.g. the purchase's id"},
			{flag: "amount", where: inBody, key: "amount_micros", kind: kAmount, required: true, usage: "credit to add"},
			{flag: "reason", where: inBody, key: "reason", usage: "`TEXT` kept in the audit trail"},
		},
		anyBody: true,
		notes:   map[int]string{200: "Grant {id} was already applied to organization {org}; nothing was added this time."},
	},
	{
		resource: "audit", verb: "list", method: "GET", route: "/admin/orgs/{org}/audit?limit",
		summary: "show the audit trail, newest first",
		fields: []field{
			orgFlag,
			{flag: "limit", where: inQuery, key: "limit", kind: kInt, usage: "at most `N` entries" + limitNote},
		},
	},
	{
		resource: "transfers", verb: "list", method: "GET", route: "/admin/orgs/{org}/transfers?limit",
		summary: "show the Billing transfer waiting for an answer and the past ones, newest first",
		fields: []field{
			orgFlag,
			{flag: "limit", where: inQuery, key: "limit", kind: kInt, usage: "at most `N` past transfers" + limitNote},
		},
	},
}

// rawCommand is the escape hatch: any method and path.
const rawCommand = "request"

const rawSummary = "send any request: METHOD PATH [--data JSON]"

const rawHelp = `Usage: orgcredit-admin request METHOD PATH [--data JSON | --data @FILE | --data @-] [flags]

Send one request to the API with the same authentication and output as every
other command: for anything without a command of its own. PATH starts with '/'
and may carry a query string. --data is the JSON body: inline, @FILE to read
a file, or @- to read stdin.

Examples:
  orgcredit-admin request GET '/admin/orgs/acme/audit?limit=5'
  orgcredit-admin request PATCH /admin/orgs/acme --data '{"top_up_url":"https://buy.example.com"}'
`

// limitNote is what the API does with a list's limit.
var limitNote = fmt.Sprintf(" (the API's default %d, at most %d)", domain.DefaultAuditEntries, domain.MaxAuditEntries)

package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

const helpIntro = `orgcredit-admin is the operators' client of the orgcredit admin API.

Usage:
  orgcredit-admin <resource> <operation> [flags]
  orgcredit-admin help [<resource> [<operation>]]
  orgcredit-admin <resource> <operation> --help

Operations:
`

const helpOutro = `
Where and how it connects:
  Local server   go run ./functions/local prints an ADMIN_TOKEN and serves
                 http://127.0.0.1:8080 (the default URL). Give the token with
                 ADMIN_TOKEN=... or --admin-token; it is sent as a Bearer token.
  AWS            --url (or ORGCREDIT_URL) is the stack's ApiUrl output. Requests
                 are signed with SigV4 (service execute-api) using your AWS
                 credentials from the SDK's default chain: environment,
                 AWS_PROFILE or --profile (SSO included: aws sso login first).
                 The region comes from --region, else the execute-api host name,
                 else AWS_REGION or the profile's region.

Amounts are integer micro-credits (1 credit = 1000000 micro-credits): give
--X-micros N, or --X-credits C with at most 6 decimals, converted exactly.

Output: the answer's JSON, indented, on stdout. Errors on stderr. A created
agent's token is shown once, and repeated on stderr so that it is seen.

Exit status: 0 done; 1 the API refused (its problem detail is on stderr);
2 wrong command line; 3 the request could not be made (network, credentials).

Examples:
  ADMIN_TOKEN=... orgcredit-admin orgs create --id acme --name "Acme Corp" \
      --owner-id dina --owner-name Dina --threshold-credits 10
  orgcredit-admin grants create --org acme --id purchase-1001 --amount-credits 100 --reason "purchase 1001"
  ORGCREDIT_URL=https://abc123.execute-api.eu-west-1.amazonaws.com AWS_PROFILE=ops \
      orgcredit-admin orgs get --id acme
`

// writeHelp writes the top-level help: every operation with one line.
func writeHelp(w io.Writer) {
	fmt.Fprint(w, helpIntro)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.name(), c.summary, routeText(c))
	}
	fmt.Fprintf(tw, "  %s\t%s\t%s\n", rawCommand, rawSummary, "any")
	tw.Flush()
	fmt.Fprint(w, "\nGlobal flags (anywhere on the line):\n")
	fs := newFlagSet("")
	new(globals).register(fs)
	writeFlags(w, fs)
	fmt.Fprint(w, helpOutro)
}

// routeText is a command's request as the README writes it.
func routeText(c *command) string {
	route, query, _ := strings.Cut(c.route, "?")
	if query != "" {
		route += "?" + query + "=N"
	}
	return c.method + " " + route
}

func writeResourceHelp(w io.Writer, resource string) {
	fmt.Fprintf(w, "Usage: orgcredit-admin %s <operation> [flags]\n\nOperations:\n", resource)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands {
		if c.resource == resource {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", c.name(), c.summary, routeText(c))
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "\nRun 'orgcredit-admin %s <operation> --help' for its flags.\n", resource)
}

// writeCommandHelp writes one operation's usage, description and flags.
func writeCommandHelp(w io.Writer, c *command) {
	var usage []string
	for _, f := range c.fields {
		s := flagSpelling(f)
		switch f.kind {
		case kAmount:
			s = "(--" + f.flag + "-micros N | --" + f.flag + "-credits C)"
		case kGroupRef:
			s = "(--" + f.flag + " GROUP | --no-" + f.flag + ")"
		default:
			name, _ := flag.UnquoteUsage(&flag.Flag{Name: f.flag, Usage: f.usage, Value: new(stringValue)})
			s += " " + name
		}
		if !f.required {
			s = "[" + strings.Trim(s, "()") + "]"
		}
		usage = append(usage, s)
	}
	if c.anyBody {
		usage = append(usage, "[--set KEY=VALUE]... [--set-json KEY=JSON]...")
	}
	fmt.Fprintf(w, "Usage: orgcredit-admin %s %s\n\n", c.name(), strings.Join(usage, " "))
	fmt.Fprintf(w, "%s%s.\nRequest: %s\n", strings.ToUpper(c.summary[:1]), c.summary[1:], routeText(c))
	if c.detail != "" {
		fmt.Fprintf(w, "\n%s\n", c.detail)
	}
	fs := newFlagSet("")
	defineFlags(fs, c, &values{set: map[string]bool{}})
	fmt.Fprint(w, "\nFlags:\n")
	writeFlags(w, fs)
	fmt.Fprint(w, "\nGlobal flags (see 'orgcredit-admin help'):\n")
	gs := newFlagSet("")
	new(globals).register(gs)
	writeFlags(w, gs)
}

// stringValue lets UnquoteUsage name a string flag's value.
type stringValue string

func (s *stringValue) String() string     { return string(*s) }
func (s *stringValue) Set(v string) error { *s = stringValue(v); return nil }

// writeFlags lists fs's flags, "--name VALUE  usage", sorted by name.
func writeFlags(w io.Writer, fs *flag.FlagSet) {
	type line struct{ name, usage string }
	var lines []line
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		if name == "value" {
			name = "VALUE"
		}
		s := "--" + f.Name
		if name != "" {
			s += " " + name
		}
		lines = append(lines, line{s, usage})
	})
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, l := range lines {
		fmt.Fprintf(tw, "  %s\t%s\n", l.name, l.usage)
	}
	tw.Flush()
}

// help answers "help", "help RESOURCE" and "help RESOURCE OPERATION".
func help(args []string, stdout io.Writer) (int, error) {
	switch len(args) {
	case 0:
		writeHelp(stdout)
		return exitOK, nil
	case 1:
		if args[0] == rawCommand {
			writeRawHelp(stdout)
			return exitOK, nil
		}
		if len(verbsOf(args[0])) == 0 {
			return 0, usagef("", "no help for %q: it is not an operation", args[0])
		}
		writeResourceHelp(stdout, args[0])
		return exitOK, nil
	case 2:
		if c := find(args[0], args[1]); c != nil {
			writeCommandHelp(stdout, c)
			return exitOK, nil
		}
	}
	return 0, usagef("", "no help for %q: it is not an operation", strings.Join(args, " "))
}

// resources lists the resources in the order of the table.
func resources() []string {
	var out []string
	for _, c := range commands {
		if !slices.Contains(out, c.resource) {
			out = append(out, c.resource)
		}
	}
	return out
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// Exit statuses.
const (
	exitOK    = 0
	exitAPI   = 1 // the API answered with an error
	exitUsage = 2 // the command line is wrong
	exitSend  = 3 // the request could not be made: network, credentials, signing
)

// Defaults and environment variables.
const (
	defaultURL     = "http://127.0.0.1:8080"
	defaultTimeout = 30 * time.Second
	envURL         = "ORGCREDIT_URL"
	envToken       = "ADMIN_TOKEN"
)

// Env is what run takes from its surroundings besides its arguments. The
// AWS SDK reads its own settings (AWS_PROFILE, AWS_REGION, credentials)
// from the process environment and files, as every AWS tool does.
type Env struct {
	Getenv func(string) string // ORGCREDIT_URL, ADMIN_TOKEN
	Stdin  io.Reader           // for request --data @-
	// HTTPClient sends the requests; nil is http.DefaultClient's transport.
	// Redirects are never followed either way.
	HTTPClient *http.Client
}

// globals are the flags every command takes, anywhere on the line.
type globals struct {
	url, token, auth, profile, region string
	timeout                           time.Duration
	verbose                           bool
	tokenFromFlag                     bool
}

var globalNames = []string{"url", "admin-token", "auth", "profile", "region", "timeout", "verbose"}

// register adds the global flags to fs. They are Func flags, which never
// reset their variable when defined, so the same globals can be defined on
// the top-level flag set and again on the command's.
func (g *globals) register(fs *flag.FlagSet) {
	fs.Func("url", "base `URL` of the API: the stack's ApiUrl output, or the local server (env "+envURL+"; default "+defaultURL+")",
		func(s string) error { g.url = s; return nil })
	fs.Func("admin-token", "the local server's admin `TOKEN` (env "+envToken+", which keeps it out of the shell history)",
		func(s string) error { g.token, g.tokenFromFlag = s, true; return nil })
	fs.Func("auth", "how to authenticate: `MODE` is auto, token, sigv4 or none (default auto: SigV4 for execute-api URLs and when no admin token is given, else the token)",
		func(s string) error {
			switch s {
			case "auto", "token", "sigv4", "none":
				g.auth = s
				return nil
			}
			return errors.New("must be auto, token, sigv4 or none")
		})
	fs.Func("profile", "AWS `PROFILE` for signing (default: AWS_PROFILE, then the SDK's default chain)",
		func(s string) error { g.profile = s; return nil })
	fs.Func("region", "AWS `REGION` to sign for (default: the execute-api host name's region, then AWS_REGION or the profile's)",
		func(s string) error { g.region = s; return nil })
	fs.Func("timeout", "give up after `DURATION` (default 30s)", func(s string) error {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return errors.New("must be a positive duration such as 30s or 2m")
		}
		g.timeout = d
		return nil
	})
	fs.BoolFunc("verbose", "print the request line and the answer's status on stderr", func(s string) error {
		v, err := strconv.ParseBool(s)
		g.verbose = v
		return err
	})
}

// usageError is a wrong command line; run prints it with a pointer to the
// help and exits 2.
type usageError struct {
	msg  string
	help string // the command whose help to point to, "" for the top level
}

func (e *usageError) Error() string { return e.msg }

func usagef(help, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), help: help}
}

// run is the program: it parses args, sends at most one request, writes
// the answer on stdout and messages on stderr, and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, env Env) int {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	code, err := dispatch(ctx, args, stdout, stderr, env)
	if err == nil {
		return code
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "orgcredit-admin: %s\n", ue.msg)
		if ue.help != "" {
			fmt.Fprintf(stderr, "Run 'orgcredit-admin %s --help' for its flags.\n", ue.help)
		} else {
			fmt.Fprintln(stderr, "Run 'orgcredit-admin help' for the list of operations.")
		}
		return exitUsage
	}
	fmt.Fprintf(stderr, "orgcredit-admin: %s\n", err)
	return exitSend
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer, env Env) (int, error) {
	var g globals
	top := newFlagSet("orgcredit-admin")
	g.register(top)
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeHelp(stdout)
			return exitOK, nil
		}
		return 0, usagef("", "%v", err)
	}
	rest := top.Args()
	if len(rest) == 0 {
		writeHelp(stderr)
		return exitUsage, nil
	}
	switch rest[0] {
	case "help":
		return help(rest[1:], stdout)
	case rawCommand:
		return runRaw(ctx, &g, rest[1:], stdout, stderr, env)
	}
	resource := rest[0]
	verbs := verbsOf(resource)
	if len(verbs) == 0 {
		return 0, usagef("", "unknown operation %q: the resources are %s, and %q sends any request", resource, strings.Join(resources(), ", "), rawCommand)
	}
	if len(rest) < 2 || rest[1] == "-h" || rest[1] == "--help" || rest[1] == "-help" {
		var b strings.Builder
		writeResourceHelp(&b, resource)
		if len(rest) < 2 {
			fmt.Fprint(stderr, b.String())
			return exitUsage, nil
		}
		fmt.Fprint(stdout, b.String())
		return exitOK, nil
	}
	cmd := find(resource, rest[1])
	if cmd == nil {
		return 0, usagef("", "%q is not an operation on %s; it has %s", rest[1], resource, strings.Join(verbs, ", "))
	}
	return runCommand(ctx, &g, cmd, rest[2:], stdout, stderr, env)
}

func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run prints errors and help itself
	return fs
}

func find(resource, verb string) *command {
	for _, c := range commands {
		if c.resource == resource && c.verb == verb {
			return c
		}
	}
	return nil
}

func verbsOf(resource string) []string {
	var out []string
	for _, c := range commands {
		if c.resource == resource {
			out = append(out, c.verb)
		}
	}
	return out
}

// parseInterleaved parses flags and positional arguments in any order
// ("request GET /path --data x"); everything after "--" is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos, tail []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, tail = args[:i], args[i+1:]
	}
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return append(pos, tail...), nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// values holds what the flags of a command were given.
type values struct {
	str     map[string]*string // by flag name
	set     map[string]bool    // flags given on the line
	setStr  []string           // --set KEY=VALUE
	setJSON []string           // --set-json KEY=JSON
	noGroup bool
}

func defineFlags(fs *flag.FlagSet, c *command, v *values) {
	v.str = map[string]*string{}
	def := func(name, usage string) {
		p := new(string)
		v.str[name] = p
		fs.StringVar(p, name, "", usage)
	}
	for _, f := range c.fields {
		switch f.kind {
		case kAmount:
			def(f.flag+"-micros", f.usage+": `N` micro-credits, a whole number (1 credit = 1000000)")
			def(f.flag+"-credits", f.usage+": `C` credits, e.g. 12.5 (at most 6 decimals, converted exactly)")
		case kGroupRef:
			def(f.flag, f.usage)
			fs.BoolVar(&v.noGroup, "no-"+f.flag, false, "take the agent out of any budget group")
		default:
			def(f.flag, f.usage)
		}
		if f.alias != "" {
			p := v.str[f.flag]
			fs.Func(f.alias, "the same as --"+f.flag+": the organization's `ID`", func(s string) error { *p = s; v.set[f.flag] = true; return nil })
		}
	}
	if c.anyBody {
		fs.Func("set", "send body member `KEY=VALUE` with VALUE as a JSON string (repeatable; KEY may be dotted: owner.name)",
			func(s string) error { v.setStr = append(v.setStr, s); return nil })
		fs.Func("set-json", "send body member `KEY=JSON` with a raw JSON value: number, true, null, object… (repeatable)",
			func(s string) error { v.setJSON = append(v.setJSON, s); return nil })
	}
}

// request is one HTTP request to make.
type request struct {
	method string
	path   string // escaped path and query, relative to the base URL
	body   []byte // nil: none
}

func runCommand(ctx context.Context, g *globals, c *command, args []string, stdout, stderr io.Writer, env Env) (int, error) {
	fs := newFlagSet("orgcredit-admin " + c.name())
	v := &values{set: map[string]bool{}}
	defineFlags(fs, c, v)
	g.register(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeCommandHelp(stdout, c)
			return exitOK, nil
		}
		return 0, usagef(c.name(), "%s: %v", c.name(), err)
	}
	fs.Visit(func(f *flag.Flag) { v.set[f.Name] = true })
	if len(pos) > 0 {
		hint := ""
		if len(c.fields) > 0 {
			hint = fmt.Sprintf("; name values with flags, e.g. --%s %s", c.fields[0].flag, pos[0])
		}
		return 0, usagef(c.name(), "%s: unexpected argument %q%s", c.name(), pos[0], hint)
	}
	req, err := build(c, v)
	if err != nil {
		return 0, err
	}
	names := map[string]string{}
	for _, f := range c.fields {
		if f.flag == "id" || f.flag == "org" {
			names[f.flag] = *v.str[f.flag]
		}
	}
	return send(ctx, g, env, req, stdout, stderr, func(status int, body []byte) { afterAnswer(c, names, status, body, stderr) })
}

// build turns a command's flag values into its request.
func build(c *command, v *values) (request, error) {
	route, query, _ := strings.Cut(c.route, "?")
	allowedQuery := strings.Split(query, "&")
	path := route
	q := url.Values{}
	body := map[string]any{}
	given := 0
	for _, f := range c.fields {
		val, ok, err := fieldValue(c, f, v)
		if err != nil {
			return request{}, err
		}
		if !ok {
			if f.required {
				return request{}, usagef(c.name(), "%s: %s is required", c.name(), flagSpelling(f))
			}
			continue
		}
		switch f.where {
		case inPath:
			s := val.(string)
			if s == "" {
				return request{}, usagef(c.name(), "%s: --%s must not be empty", c.name(), f.flag)
			}
			path = strings.Replace(path, "{"+f.key+"}", url.PathEscape(s), 1)
		case inQuery:
			if !slices.Contains(allowedQuery, f.key) {
				panic("orgcredit-admin: query parameter " + f.key + " not in route " + c.route)
			}
			q.Set(f.key, fmt.Sprint(val))
		case inBody:
			if err := setMember(body, f.key, val); err != nil {
				return request{}, usagef(c.name(), "%s: %v", c.name(), err)
			}
			given++
		}
	}
	if strings.Contains(path, "{") {
		panic("orgcredit-admin: route " + c.route + " has a segment no flag fills")
	}
	for _, kv := range v.setStr {
		k, val, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return request{}, usagef(c.name(), "%s: --set takes KEY=VALUE, got %q", c.name(), kv)
		}
		if err := setMember(body, k, val); err != nil {
			return request{}, usagef(c.name(), "%s: --set %s: %v", c.name(), kv, err)
		}
		given++
	}
	for _, kv := range v.setJSON {
		k, raw, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return request{}, usagef(c.name(), "%s: --set-json takes KEY=JSON, got %q", c.name(), kv)
		}
		if !json.Valid([]byte(raw)) {
			return request{}, usagef(c.name(), "%s: --set-json %s: %q is not JSON (a string needs quotes: KEY='\"text\"', or use --set)", c.name(), k, raw)
		}
		if err := setMember(body, k, json.RawMessage(raw)); err != nil {
			return request{}, usagef(c.name(), "%s: --set-json %s: %v", c.name(), kv, err)
		}
		given++
	}
	if c.needChange && given == 0 {
		var opts []string
		for _, f := range c.fields {
			if f.where == inBody {
				opts = append(opts, flagSpelling(f))
			}
		}
		opts = append(opts, "--set", "--set-json")
		return request{}, usagef(c.name(), "%s: nothing to change: give %s", c.name(), strings.Join(opts, ", "))
	}
	req := request{method: c.method, path: path}
	if len(q) > 0 {
		req.path += "?" + q.Encode()
	}
	if c.anyBody {
		b, err := marshal(body)
		if err != nil {
			return request{}, err
		}
		req.body = b
	}
	return req, nil
}

// fieldValue reads one field's flags: the value to send and whether any
// was given.
func fieldValue(c *command, f field, v *values) (any, bool, error) {
	switch f.kind {
	case kAmount:
		micros, credits := f.flag+"-micros", f.flag+"-credits"
		switch {
		case v.set[micros] && v.set[credits]:
			return nil, false, usagef(c.name(), "%s: give --%s or --%s, not both", c.name(), micros, credits)
		case v.set[micros]:
			n, err := parseMicros(*v.str[micros])
			if err != nil {
				return nil, false, usagef(c.name(), "%s: --%s: %v", c.name(), micros, err)
			}
			return n, true, nil
		case v.set[credits]:
			n, err := domain.ParseCredits(*v.str[credits])
			if err != nil {
				return nil, false, usagef(c.name(), "%s: --%s: %v", c.name(), credits, err)
			}
			return int64(n), true, nil
		}
		return nil, false, nil
	case kGroupRef:
		switch {
		case v.set[f.flag] && v.noGroup:
			return nil, false, usagef(c.name(), "%s: give --%s or --no-%s, not both", c.name(), f.flag, f.flag)
		case v.noGroup:
			return nil, true, nil // JSON null
		case v.set[f.flag]:
			if *v.str[f.flag] == "" {
				return nil, false, usagef(c.name(), "%s: --%s must not be empty; use --no-%s to take the agent out of its group", c.name(), f.flag, f.flag)
			}
			return *v.str[f.flag], true, nil
		}
		return nil, false, nil
	case kInt:
		if !v.set[f.flag] {
			return nil, false, nil
		}
		n, err := strconv.ParseInt(*v.str[f.flag], 10, 64)
		if err != nil {
			return nil, false, usagef(c.name(), "%s: --%s must be a whole number, got %q", c.name(), f.flag, *v.str[f.flag])
		}
		return n, true, nil
	}
	if !v.set[f.flag] {
		return nil, false, nil
	}
	return *v.str[f.flag], true, nil
}

// flagSpelling is how the help and the errors name a field's flags.
func flagSpelling(f field) string {
	switch f.kind {
	case kAmount:
		return "--" + f.flag + "-micros or --" + f.flag + "-credits"
	case kGroupRef:
		return "--" + f.flag + " or --no-" + f.flag
	}
	return "--" + f.flag
}

// setMember sets a dotted key in a JSON object, refusing to give one
// member twice.
func setMember(obj map[string]any, key string, val any) error {
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := obj[p]
		if !ok {
			m := map[string]any{}
			obj[p] = m
			obj = m
			continue
		}
		m, ok := next.(map[string]any)
		if !ok {
			return fmt.Errorf("%q is given twice", p)
		}
		obj = m
	}
	last := parts[len(parts)-1]
	if _, ok := obj[last]; ok {
		return fmt.Errorf("%q is given twice", key)
	}
	obj[last] = val
	return nil
}

// marshal writes JSON without HTML escaping, as the API does.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// afterAnswer prints what a person should not miss about a successful
// answer: a token shown once, or a create that changed nothing.
func afterAnswer(c *command, names map[string]string, status int, body []byte, stderr io.Writer) {
	if c.showsToken {
		var a struct {
			ID        string  `json:"id"`
			Token     *string `json:"token"`
			TokenNote string  `json:"token_note"`
		}
		if json.Unmarshal(body, &a) == nil {
			switch {
			case a.Token != nil && *a.Token != "":
				fmt.Fprintf(stderr, "\nToken of agent %q, shown only this once (only its hash is stored): store it now.\n\n    %s\n\n", a.ID, *a.Token)
			case a.TokenNote != "":
				fmt.Fprintf(stderr, "Note: %s\n", a.TokenNote)
			}
		}
	}
	if note, ok := c.notes[status]; ok {
		r := strings.NewReplacer("{org}", strconv.Quote(names["org"]), "{id}", strconv.Quote(names["id"]))
		fmt.Fprintln(stderr, r.Replace(note))
	}
}

func runRaw(ctx context.Context, g *globals, args []string, stdout, stderr io.Writer, env Env) (int, error) {
	fs, data := rawFlags(g)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			writeRawHelp(stdout)
			return exitOK, nil
		}
		return 0, usagef(rawCommand, "%s: %v", rawCommand, err)
	}
	if len(pos) != 2 {
		return 0, usagef(rawCommand, "%s takes METHOD and PATH, e.g. request GET /admin/orgs/acme", rawCommand)
	}
	method, path := strings.ToUpper(pos[0]), pos[1]
	if !strings.HasPrefix(path, "/") {
		return 0, usagef(rawCommand, "%s: PATH must start with '/', got %q (the base URL comes from --url)", rawCommand, path)
	}
	req := request{method: method, path: path}
	if *data != "" {
		b, err := readData(*data, env.Stdin)
		if err != nil {
			return 0, usagef(rawCommand, "%s: --data: %v", rawCommand, err)
		}
		if !json.Valid(b) {
			return 0, usagef(rawCommand, "%s: --data is not valid JSON", rawCommand)
		}
		req.body = bytes.TrimSpace(b)
	}
	return send(ctx, g, env, req, stdout, stderr, nil)
}

func rawFlags(g *globals) (*flag.FlagSet, *string) {
	fs := newFlagSet("orgcredit-admin " + rawCommand)
	data := fs.String("data", "", "the `JSON` body: inline, @FILE, or @- for stdin")
	g.register(fs)
	return fs, data
}

func writeRawHelp(w io.Writer) {
	fmt.Fprint(w, rawHelp)
	fmt.Fprint(w, "\nFlags (the global ones as in 'orgcredit-admin help'):\n")
	fs, _ := rawFlags(new(globals))
	writeFlags(w, fs)
}

func readData(data string, stdin io.Reader) ([]byte, error) {
	switch {
	case data == "@-":
		if stdin == nil {
			return nil, errors.New("no stdin")
		}
		return io.ReadAll(io.LimitReader(stdin, 1<<20))
	case strings.HasPrefix(data, "@"):
		return os.ReadFile(data[1:])
	}
	return []byte(data), nil
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/orgcredit/orgcredit/internal/adminapi"
	"github.com/orgcredit/orgcredit/internal/apigw"
	"github.com/orgcredit/orgcredit/internal/domain"
	"github.com/orgcredit/orgcredit/internal/dynamotest"
)

const testToken = "cli-test-admin-token"

// recorder remembers the requests a server received, as "METHOD path?query".
type recorder struct {
	mu   sync.Mutex
	reqs []string
}

func (r *recorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.reqs = append(r.reqs, req.Method+" "+req.URL.RequestURI())
		r.mu.Unlock()
		h.ServeHTTP(w, req)
	})
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reqs)
}

// newAPI builds the admin API over a real store on the embedded back end.
func newAPI(t *testing.T, opts ...adminapi.Option) *adminapi.API {
	t.Helper()
	return adminapi.New(dynamotest.NewStore(t), opts...)
}

// newServer serves the admin API as the local server does: over HTTP,
// with an admin token.
func newServer(t *testing.T) (*httptest.Server, *recorder) {
	t.Helper()
	rec := &recorder{}
	srv := httptest.NewServer(rec.wrap(apigw.HTTP(newAPI(t, adminapi.WithAdminToken(testToken)).Handle)))
	t.Cleanup(srv.Close)
	return srv, rec
}

type envMap map[string]string

func (m envMap) get(k string) string { return m[k] }

type result struct {
	code           int
	stdout, stderr string
}

// cli runs the command line with env as its environment.
func cli(env map[string]string, client *http.Client, args ...string) result {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr, Env{
		Getenv:     func(k string) string { return env[k] },
		Stdin:      strings.NewReader(""),
		HTTPClient: client,
	})
	return result{code, stdout.String(), stderr.String()}
}

// matchRoute reports whether a request "METHOD /path?query" is one of
// route "METHOD pattern?params".
func matchRoute(route, req string) bool {
	rm, rp, _ := strings.Cut(route, " ")
	qm, qp, _ := strings.Cut(req, " ")
	if rm != qm {
		return false
	}
	rpath, rquery, _ := strings.Cut(rp, "?")
	u, err := url.Parse(qp)
	if err != nil {
		return false
	}
	rs, qs := strings.Split(rpath, "/"), strings.Split(u.EscapedPath(), "/")
	if len(rs) != len(qs) {
		return false
	}
	for i := range rs {
		if strings.HasPrefix(rs[i], "{") {
			if qs[i] == "" {
				return false
			}
		} else if rs[i] != qs[i] {
			return false
		}
	}
	for k := range u.Query() {
		if !slices.Contains(strings.Split(rquery, "&"), k) {
			return false
		}
	}
	return true
}

func commandRoute(c *command) string { return c.method + " " + c.route }

// TestEveryRouteHasACommand derives the route list from the admin API
// itself: a new route without a command here fails, and so does a command
// whose route the API no longer has.
func TestEveryRouteHasACommand(t *testing.T) {
	routes := adminapi.New(nil).Routes()
	if len(routes) < 16 {
		t.Fatalf("the admin API lists %d routes: %q", len(routes), routes)
	}
	help := cli(nil, nil, "help")
	if help.code != exitOK {
		t.Fatalf("help = %d: %s", help.code, help.stderr)
	}
	for _, r := range routes {
		i := slices.IndexFunc(commands, func(c *command) bool { return commandRoute(c) == r })
		if i < 0 {
			t.Errorf("route %s has no command: add one to commands.go", r)
			continue
		}
		c := commands[i]
		if !strings.Contains(help.stdout, "  "+c.name()+" ") || !strings.Contains(help.stdout, routeText(c)) {
			t.Errorf("help does not list %s (%s):\n%s", c.name(), routeText(c), help.stdout)
		}
	}
	seen := map[string]bool{}
	for _, c := range commands {
		if !slices.Contains(routes, commandRoute(c)) {
			t.Errorf("command %s sends %s, which the admin API does not serve", c.name(), commandRoute(c))
		}
		if seen[c.name()] {
			t.Errorf("command %s is defined twice", c.name())
		}
		seen[c.name()] = true
	}
	if !strings.Contains(help.stdout, "  "+rawCommand+" ") {
		t.Errorf("help does not list %s", rawCommand)
	}
}

func TestHelp(t *testing.T) {
	top := cli(nil, nil, "help")
	for _, args := range [][]string{{"--help"}, {"-h"}, {"--url", "http://x", "--help"}} {
		if r := cli(nil, nil, args...); r.code != exitOK || r.stdout != top.stdout || r.stderr != "" {
			t.Errorf("%q = %d, stdout differs from help: %v, stderr %q", args, r.code, r.stdout != top.stdout, r.stderr)
		}
	}
	if r := cli(nil, nil); r.code != exitUsage || r.stdout != "" || r.stderr != top.stdout {
		t.Errorf("no arguments = %d, stdout %q; want the help on stderr and 2", r.code, r.stdout)
	}
	for _, c := range commands {
		r := cli(nil, nil, c.resource, c.verb, "--help")
		if r.code != exitOK || r.stderr != "" {
			t.Errorf("%s --help = %d: %s", c.name(), r.code, r.stderr)
			continue
		}
		want := []string{"Usage: orgcredit-admin " + c.name(), routeText(c), "--url", "--admin-token"}
		for _, f := range c.fields {
			switch f.kind {
			case kAmount:
				want = append(want, "--"+f.flag+"-micros N", "--"+f.flag+"-credits C")
			case kGroupRef:
				want = append(want, "--"+f.flag+" ", "--no-"+f.flag)
			default:
				want = append(want, "--"+f.flag+" ")
			}
		}
		if c.anyBody {
			want = append(want, "--set KEY=VALUE", "--set-json KEY=JSON")
		}
		for _, w := range want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("%s --help lacks %q:\n%s", c.name(), w, r.stdout)
			}
		}
		if h := cli(nil, nil, "help", c.resource, c.verb); h.stdout != r.stdout {
			t.Errorf("help %s differs from %s --help", c.name(), c.name())
		}
		if h := cli(nil, nil, c.resource, "--help"); h.code != exitOK || !strings.Contains(h.stdout, c.name()) {
			t.Errorf("%s --help = %d, lacks %s:\n%s", c.resource, h.code, c.name(), h.stdout)
		}
	}
	raw := cli(nil, nil, rawCommand, "--help")
	if raw.code != exitOK || !strings.Contains(raw.stdout, "request METHOD PATH") || !strings.Contains(raw.stdout, "--data JSON") {
		t.Errorf("request --help = %d:\n%s", raw.code, raw.stdout)
	}
	if h := cli(nil, nil, "help", rawCommand); h.stdout != raw.stdout {
		t.Errorf("help request differs from request --help:\n%s", h.stdout)
	}
}

// TestEveryOperation runs every command against the admin API over HTTP,
// checking the answer and that the request went to the command's route.
func TestEveryOperation(t *testing.T) {
	srv, rec := newServer(t)
	env := map[string]string{envURL: srv.URL, envToken: testToken}
	steps := []struct {
		args           []string
		stdout, stderr []string // substrings
		absent         []string // not in stdout
	}{
		{args: []string{"orgs", "create", "--id", "acme", "--name", "Acme Corp", "--slack-team-id", "T0ACME", "--owner-id", "dina", "--owner-name", "Dina",
			"--owner-slack-user-id", "U0DINA", "--threshold-credits", "10"},
			stdout: []string{`"id": "acme"`, `"low_balance_threshold_micros": 10000000`, `"billing_holder": {`, `"slack_team_id": "T0ACME"`}},
		{args: []string{"orgs", "create", "--id", "acme", "--name", "Acme Corp", "--slack-team-id", "T0ACME", "--owner-id", "dina", "--owner-name", "Dina",
			"--owner-slack-user-id", "U0DINA", "--threshold-micros", "10000000"},
			stdout: []string{`"id": "acme"`}, stderr: []string{`Organization "acme" already existed with this content; nothing changed.`}},
		{args: []string{"orgs", "get", "--id", "acme"}, stdout: []string{`"name": "Acme Corp"`, `"balance_micros": 0`}},
		{args: []string{"orgs", "get", "--org", "acme"}, stdout: []string{`"name": "Acme Corp"`}},
		{args: []string{"orgs", "update", "--id", "acme", "--threshold-micros", "5000000"}, stdout: []string{`"low_balance_threshold_micros": 5000000`}},
		{args: []string{"orgs", "update", "--id", "acme", "--set-json", "low_balance_threshold_micros=2500000"}, stdout: []string{`"low_balance_threshold_micros": 2500000`}},
		{args: []string{"members", "add", "--org", "acme", "--id", "sari", "--name", "Sari", "--slack-user-id", "U0SARI", "--role", "admin"},
			stdout: []string{`"id": "sari"`, `"role": "admin"`}},
		{args: []string{"members", "list", "--org", "acme"}, stdout: []string{`"id": "dina"`, `"id": "sari"`}},
		{args: []string{"members", "update", "--org", "acme", "--id", "sari", "--role", "builder"}, stdout: []string{`"role": "builder"`}},
		{args: []string{"groups", "create", "--org", "acme", "--id", "research", "--name", "Research", "--cap-credits", "50.5"},
			stdout: []string{`"cap_micros": 50500000`, `"spent_micros": 0`}},
		{args: []string{"groups", "list", "--org", "acme"}, stdout: []string{`"budget_groups": [`, `"id": "research"`}},
		{args: []string{"groups", "update", "--org", "acme", "--id", "research", "--cap-micros", "70000000"}, stdout: []string{`"cap_micros": 70000000`}},
		{args: []string{"agents", "create", "--org", "acme", "--id", "bot-1", "--name", "Bot 1", "--group", "research"},
			stdout: []string{`"budget_group_id": "research"`, `"token": "`}, stderr: []string{"shown only this once"}},
		{args: []string{"agents", "list", "--org", "acme"}, stdout: []string{`"id": "bot-1"`}, absent: []string{`"token"`}},
		{args: []string{"agents", "update", "--org", "acme", "--id", "bot-1", "--no-group"}, stdout: []string{`"budget_group_id": null`}},
		{args: []string{"agents", "update", "--org", "acme", "--id", "bot-1", "--group", "research"}, stdout: []string{`"budget_group_id": "research"`}},
		{args: []string{"grants", "create", "--org", "acme", "--id", "purchase-1", "--amount-credits", "0.000001", "--reason", "purchase 1"},
			stdout: []string{`"amount_micros": 1,`, `"reason": "purchase 1"`}},
		{args: []string{"grants", "create", "--org", "acme", "--id", "purchase-2", "--amount-micros", "100000000"}, stdout: []string{`"balance_micros": 100000001`}},
		{args: []string{"grants", "create", "--org", "acme", "--id", "purchase-2", "--amount-credits", "100"},
			stdout: []string{`"balance_micros": 100000001`}, stderr: []string{`Grant "purchase-2" was already applied to organization "acme"; nothing was added this time.`}},
		{args: []string{"audit", "list", "--org", "acme", "--limit", "2"}, stdout: []string{`"action": "credit.granted"`}, absent: []string{`"agent.created"`}},
		{args: []string{"audit", "list", "--org", "acme"}, stdout: []string{`"agent.created"`, `"org.created"`}},
		{args: []string{"transfers", "list", "--org", "acme", "--limit", "5"}, stdout: []string{`"pending": null`, `"history": []`}},
		{args: []string{"orgs", "update", "--id", "acme", "--top-up-url", "https://buy.example.com/acme"}, stdout: []string{`"top_up_url": "https://buy.example.com/acme"`}},
		{args: []string{"agents", "revoke", "--org", "acme", "--id", "bot-1"}, stderr: []string{`Revoked agent "bot-1" of organization "acme"`}},
		{args: []string{"members", "remove", "--org", "acme", "--id", "sari"}, stderr: []string{`Removed member "sari" from organization "acme".`}},
		// Global flags anywhere on the line, and over the environment.
		{args: []string{"agents", "list", "--org", "acme", "--url", srv.URL, "--admin-token", testToken}, stdout: []string{`"revoked": true`}},
		{args: []string{rawCommand, "GET", "/admin/orgs/acme/members"}, stdout: []string{`"id": "dina"`, `"status": "removed"`}},
		{args: []string{rawCommand, "--data", `{"low_balance_threshold_micros":1}`, "PATCH", "/admin/orgs/acme"}, stdout: []string{`"low_balance_threshold_micros": 1,`}},
	}
	used := map[string]bool{}
	for _, s := range steps {
		before := len(rec.all())
		r := cli(env, nil, s.args...)
		if r.code != exitOK {
			t.Errorf("%q = %d, want 0; stderr:\n%s", s.args, r.code, r.stderr)
			continue
		}
		for _, w := range s.stdout {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("%q: stdout lacks %s:\n%s", s.args, w, r.stdout)
			}
		}
		for _, w := range s.absent {
			if strings.Contains(r.stdout, w) {
				t.Errorf("%q: stdout has %s:\n%s", s.args, w, r.stdout)
			}
		}
		for _, w := range s.stderr {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%q: stderr lacks %s:\n%s", s.args, w, r.stderr)
			}
		}
		if s.stderr == nil && r.stderr != "" {
			t.Errorf("%q: unexpected stderr:\n%s", s.args, r.stderr)
		}
		if r.stdout != "" {
			if !json.Valid([]byte(r.stdout)) || !strings.HasPrefix(r.stdout, "{\n  \"") {
				t.Errorf("%q: stdout is not indented JSON:\n%s", s.args, r.stdout)
			}
		}
		reqs := rec.all()[before:]
		if len(reqs) != 1 {
			t.Errorf("%q sent %d requests, want 1: %q", s.args, len(reqs), reqs)
			continue
		}
		if c := find(s.args[0], s.args[1]); c != nil {
			used[c.name()] = true
			if !matchRoute(commandRoute(c), reqs[0]) {
				t.Errorf("%q sent %s, not a request of route %s", s.args, reqs[0], commandRoute(c))
			}
		}
	}
	for _, c := range commands {
		if !used[c.name()] {
			t.Errorf("no step runs %s", c.name())
		}
	}
}

func TestAgentTokenShownOnce(t *testing.T) {
	srv, _ := newServer(t)
	env := map[string]string{envURL: srv.URL, envToken: testToken}
	if r := cli(env, nil, "orgs", "create", "--id", "acme", "--name", "Acme", "--owner-id", "dina", "--owner-name", "Dina"); r.code != exitOK {
		t.Fatalf("orgs create = %d: %s", r.code, r.stderr)
	}
	args := []string{"agents", "create", "--org", "acme", "--id", "bot", "--name", "Bot"}
	first := cli(env, nil, args...)
	var out struct {
		Token *string `json:"token"`
	}
	if first.code != exitOK || json.Unmarshal([]byte(first.stdout), &out) != nil || out.Token == nil || !domain.LooksLikeToken(*out.Token) {
		t.Fatalf("first create = %d, no token in stdout:\n%s\n%s", first.code, first.stdout, first.stderr)
	}
	token := *out.Token
	if !strings.Contains(first.stderr, "shown only this once") || !strings.Contains(first.stderr, "\n    "+token+"\n") {
		t.Errorf("stderr does not show the token once, set apart:\n%s", first.stderr)
	}
	again := cli(env, nil, args...)
	if again.code != exitOK {
		t.Fatalf("repeated create = %d: %s", again.code, again.stderr)
	}
	if strings.Contains(again.stdout+again.stderr, token) {
		t.Errorf("the repeated create shows the token again:\n%s\n%s", again.stdout, again.stderr)
	}
	if !strings.Contains(again.stdout, `"token": null`) || !strings.Contains(again.stderr, "Note: This agent already existed, so its token is not shown") {
		t.Errorf("the repeated create does not say why there is no token:\n%s\n%s", again.stdout, again.stderr)
	}
}

// TestProblemAnswers: an error answer exits 1 with the problem's detail,
// status and type on stderr and nothing on stdout.
func TestProblemAnswers(t *testing.T) {
	srv, _ := newServer(t)
	env := map[string]string{envURL: srv.URL, envToken: testToken}
	if r := cli(env, nil, "orgs", "create", "--id", "acme", "--name", "Acme", "--owner-id", "dina", "--owner-name", "Dina"); r.code != exitOK {
		t.Fatalf("orgs create = %d: %s", r.code, r.stderr)
	}
	tests := []struct {
		args []string
		want []string // in stderr
	}{
		{[]string{"orgs", "create", "--id", "acme", "--name", "Acme Inc", "--owner-id", "dina", "--owner-name", "Dina"},
			[]string{"orgcredit-admin: Organization \"acme\" already exists", "status: 409", "type: https://orgcredit.dev/problems/already-exists", "rule: already_exists"}},
		{[]string{"orgs", "get", "--id", "nope"}, []string{"status: 404", "problems/not-found", `"nope"`}},
		{[]string{"members", "update", "--org", "acme", "--id", "dina", "--role", "billing"}, []string{"Billing is not an everyday role", "status: 400"}},
		{[]string{"members", "remove", "--org", "acme", "--id", "dina"}, []string{"status: 409"}},
		{[]string{"orgs", "update", "--id", "acme", "--set", "no_such_setting=x"}, []string{`"no_such_setting" is not a field of this request`, "field: no_such_setting"}},
		{[]string{"grants", "create", "--org", "acme", "--id", "g", "--amount-micros", "0"}, []string{"amount_micros", "status: 400"}},
		{[]string{"audit", "list", "--org", "acme", "--limit", "100000"}, []string{"must be a whole number from 1 to 500", "field: limit"}},
		{[]string{rawCommand, "GET", "/admin/orgs/acme?org=other"}, []string{"status: 400"}},
	}
	for _, tt := range tests {
		r := cli(env, nil, tt.args...)
		if r.code != exitAPI || r.stdout != "" {
			t.Errorf("%q = %d, stdout %q; want 1 and nothing on stdout", tt.args, r.code, r.stdout)
		}
		for _, w := range tt.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%q: stderr lacks %q:\n%s", tt.args, w, r.stderr)
			}
		}
	}
}

func TestAdminToken(t *testing.T) {
	srv, rec := newServer(t)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string // in stderr
	}{
		{"wrong token", map[string]string{envURL: srv.URL, envToken: "not-the-token"}, nil, exitAPI, "The admin token is wrong"},
		{"agent token", map[string]string{envURL: srv.URL, envToken: "ocp_" + strings.Repeat("a", 43)}, nil, exitAPI, "This is an agent token"},
		{"flag over env", map[string]string{envURL: srv.URL, envToken: "not-the-token"}, []string{"--admin-token", testToken}, exitAPI, "not-found"},
		{"no token", map[string]string{envURL: srv.URL}, nil, exitSend, "set ADMIN_TOKEN=<token> or pass --admin-token"},
		{"none sent", map[string]string{envURL: srv.URL, envToken: testToken}, []string{"--auth", "none"}, exitAPI, `Send the admin token as "Authorization: Bearer <token>"`},
		{"default URL is the local server", map[string]string{}, nil, exitSend, "http://127.0.0.1:8080. The local server prints its ADMIN_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cli(tt.env, nil, append([]string{"orgs", "get", "--id", "nope"}, tt.args...)...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) || r.stdout != "" {
				t.Errorf("= %d, stdout %q, stderr:\n%s\nwant %d and %q", r.code, r.stdout, r.stderr, tt.code, tt.want)
			}
		})
	}
	if n := len(rec.all()); n != 4 {
		t.Errorf("the server got %d requests, want 4 (none without a token)", n)
	}
}

func TestUsageErrors(t *testing.T) {
	srv, rec := newServer(t)
	env := map[string]string{envURL: srv.URL, envToken: testToken}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"orgs"}, "Usage: orgcredit-admin orgs <operation>"},
		{[]string{"nope"}, `unknown operation "nope"`},
		{[]string{"orgs", "delete"}, `"delete" is not an operation on orgs; it has create, get, update`},
		{[]string{"orgs", "create", "--id", "x", "--owner-id", "o", "--owner-name", "O"}, "orgs create: --name is required"},
		{[]string{"orgs", "create", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"grants", "create", "--org", "a", "--id", "g"}, "--amount-micros or --amount-credits is required"},
		{[]string{"grants", "create", "--org", "a", "--id", "g", "--amount-micros", "1", "--amount-credits", "1"}, "not both"},
		{[]string{"grants", "create", "--org", "a", "--id", "g", "--amount-credits", "1.0000001"}, "more than 6 decimals"},
		{[]string{"grants", "create", "--org", "a", "--id", "g", "--amount-micros", "1.5"}, "for credits with decimals use the -credits flag"},
		{[]string{"groups", "create", "--org", "a", "--id", "g", "--name", "G", "--cap-credits", "1e3"}, "is not an amount of credits"},
		{[]string{"agents", "update", "--org", "a", "--id", "b"}, "--group or --no-group is required"},
		{[]string{"agents", "update", "--org", "a", "--id", "b", "--group", "g", "--no-group"}, "not both"},
		{[]string{"orgs", "get", "acme"}, `unexpected argument "acme"; name values with flags, e.g. --id acme`},
		{[]string{"orgs", "get", "--id", ""}, "--id must not be empty"},
		{[]string{"orgs", "update", "--id", "a"}, "nothing to change"},
		{[]string{"orgs", "update", "--id", "a", "--threshold-micros", "1", "--set-json", "low_balance_threshold_micros=2"}, "given twice"},
		{[]string{"orgs", "update", "--id", "a", "--set-json", "top_up_url=https://x"}, "is not JSON"},
		{[]string{"orgs", "update", "--id", "a", "--set", "novalue"}, "--set takes KEY=VALUE"},
		{[]string{"audit", "list", "--org", "a", "--limit", "ten"}, "--limit must be a whole number"},
		{[]string{"--url", "ftp://example.com", "orgs", "get", "--id", "a"}, "is not a base URL"},
		{[]string{"orgs", "get", "--id", "a", "--auth", "password"}, "must be auto, token, sigv4 or none"},
		{[]string{rawCommand, "GET"}, "takes METHOD and PATH"},
		{[]string{rawCommand, "GET", "admin/orgs/a"}, "PATH must start with '/'"},
		{[]string{rawCommand, "POST", "/admin/orgs", "--data", "{nope"}, "--data is not valid JSON"},
		{[]string{"help", "orgs", "nope"}, "no help for"},
	}
	for _, tt := range tests {
		r := cli(env, nil, tt.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tt.want) || r.stdout != "" {
			t.Errorf("%q = %d, stdout %q, stderr:\n%s\nwant 2 and %q", tt.args, r.code, r.stdout, r.stderr, tt.want)
		}
	}
	if reqs := rec.all(); len(reqs) != 0 {
		t.Errorf("usage errors sent requests: %q", reqs)
	}
}

// TestBody checks the JSON each kind of flag makes, exactly.
func TestBody(t *testing.T) {
	tests := []struct {
		args       []string
		path, body string
	}{
		{[]string{"orgs", "update", "--id", "acme", "--set", "top_up_url=https://buy.example.com/?a=1&b=2"},
			"/admin/orgs/acme", `{"top_up_url":"https://buy.example.com/?a=1&b=2"}`},
		{[]string{"orgs", "update", "--id", "acme", "--threshold-credits", "2.5", "--set-json", `alerts={"on":true}`, "--set", "x=1"},
			"/admin/orgs/acme", `{"alerts":{"on":true},"low_balance_threshold_micros":2500000,"x":"1"}`},
		{[]string{"orgs", "create", "--id", "a", "--name", "A", "--owner-id", "o", "--owner-name", "O", "--set", "owner.slack_user_id=U1"},
			"/admin/orgs", `{"id":"a","name":"A","owner":{"id":"o","name":"O","slack_user_id":"U1"}}`},
		{[]string{"agents", "update", "--org", "a b", "--id", "x/y", "--no-group"}, "/admin/orgs/a%20b/agents/x%2Fy", `{"budget_group_id":null}`},
		{[]string{"agents", "create", "--org", "a", "--id", "x", "--name", "X"}, "/admin/orgs/a/agents", `{"id":"x","name":"X"}`},
		{[]string{"audit", "list", "--org", "a", "--limit", "7"}, "/admin/orgs/a/audit?limit=7", ""},
		{[]string{"members", "remove", "--org", "a", "--id", "m"}, "/admin/orgs/a/members/m", ""},
	}
	for _, tt := range tests {
		c := find(tt.args[0], tt.args[1])
		fs := newFlagSet("")
		v := &values{set: map[string]bool{}}
		defineFlags(fs, c, v)
		if _, err := parseInterleaved(fs, tt.args[2:]); err != nil {
			t.Fatalf("%q: %v", tt.args, err)
		}
		fs.Visit(func(f *flag.Flag) { v.set[f.Name] = true })
		req, err := build(c, v)
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if req.path != tt.path || string(req.body) != tt.body {
			t.Errorf("%q = %s %s, want %s %s", tt.args, req.path, req.body, tt.path, tt.body)
		}
	}
}

func TestNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens there now
	r := cli(map[string]string{envURL: srv.URL, envToken: "t"}, nil, "orgs", "get", "--id", "acme")
	if r.code != exitSend || !strings.Contains(r.stderr, "cannot reach "+srv.URL) || !strings.Contains(r.stderr, "go run ./functions/local") {
		t.Errorf("= %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestRegionFromHost(t *testing.T) {
	tests := map[string]string{
		"abc123.execute-api.eu-west-1.amazonaws.com":                     "eu-west-1",
		"ABC123.execute-api.us-east-1.amazonaws.com":                     "us-east-1",
		"abc123-vpce-0123.execute-api.ap-southeast-2.vpce.amazonaws.com": "ap-southeast-2",
		"abc123.execute-api.cn-north-1.amazonaws.com.cn":                 "cn-north-1",
		"admin.example.com": "",
		"127.0.0.1":         "",
		"abc.execute-api.eu-west-1.amazonaws.com.evil.example": "",
	}
	for host, want := range tests {
		if got := regionFromHost(host); got != want {
			t.Errorf("regionFromHost(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestRequestData(t *testing.T) {
	srv, _ := newServer(t)
	env := Env{Getenv: envMap{envURL: srv.URL, envToken: testToken}.get}
	file := filepath.Join(t.TempDir(), "org.json")
	if err := os.WriteFile(file, []byte(`{"id":"acme","name":"Acme","owner":{"id":"dina","name":"Dina"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{rawCommand, "POST", "/admin/orgs", "--data", "@" + file}, &stdout, &stderr, env); code != exitOK ||
		!strings.Contains(stdout.String(), `"id": "acme"`) {
		t.Fatalf("--data @FILE = %d: %s %s", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	env.Stdin = strings.NewReader(`{"id":"g1","amount_micros":5}`)
	if code := run(context.Background(), []string{rawCommand, "POST", "/admin/orgs/acme/grants", "--data", "@-"}, &stdout, &stderr, env); code != exitOK ||
		!strings.Contains(stdout.String(), `"balance_micros": 5`) {
		t.Fatalf("--data @- = %d: %s %s", code, stdout.String(), stderr.String())
	}
}

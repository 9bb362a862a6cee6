package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/slackapp"
	"github.com/orgcredit/orgcredit/internal/slackapp/blockkit"
	"github.com/orgcredit/orgcredit/internal/slackapp/slackrequest"
)

// The Slack stand-in: with no Slack Web API configured (no SLACK_API_URL,
// SLACK_BOT_TOKEN, SLACK_CLIENT_ID or SLACK_APP_TOKEN) the local server's
// Slack client talks to this in-process stand-in for Slack's Web API
// instead of https://slack.com. It answers every method the app calls as
// Slack would (ok, plausible ids and timestamps), checks views and
// messages against Block Kit's rules as Slack does, and prints each call
// readably: the method, to whom, the text (a modal's title, the Home's
// first lines) and the buttons with their action_id and value, with the
// slack-request line that clicks them. Requests to the app are played with
// internal/slackapp/cmd/slack-request. (internal/slacktestx, the tests'
// fake Slack, is built on testing and httptest servers; this one runs in
// the binary, with no port of its own.)

// standInURL is the stand-in's Web API base URL. Nothing listens there:
// the client's transport is the stand-in itself.
const standInURL = "http://slack.stand-in/api/"

// standInUploadPath is where the stand-in takes a file's bytes (the upload
// URL of files.getUploadURLExternal).
const standInUploadPath = "/upload/"

// standInToken is the bot token the app's client presents to the
// stand-in.
const standInToken = "xoxb-local-stand-in"

// standInMethods are the Web API methods the stand-in answers.
var standInMethods = []string{
	"chat.postMessage", "chat.update", "chat.postEphemeral", "conversations.open",
	"views.open", "views.update", "views.push", "views.publish",
	"users.info", "auth.test", "files.getUploadURLExternal", "files.completeUploadExternal", "files.delete",
}

// slackStandIn is the stand-in. It is an http.RoundTripper: the Slack
// client's requests are answered in process.
type slackStandIn struct {
	out   io.Writer
	team  string            // the workspace it plays (auth.test)
	users map[string]string // Slack user id → name, for users.info and the printout
	// play is the slack-request command line to click a button with,
	// printed with the transfer's buttons ("" prints none).
	play string

	mu    sync.Mutex
	seq   int
	calls []standInCall
}

// standInCall is one Web API call the stand-in answered, as it printed it.
type standInCall struct {
	Method  string
	User    string // whom it concerns: the DM's person, the Home's owner, the ephemeral's reader
	Channel string
	TS      string // the message's timestamp (chat.postMessage, chat.update)
	Thread  string // the thread a reply went into
	Title   string // a modal's title
	Text    string // the message's text, or the view's first lines
	Buttons []standInButton
	Selects []standInSelect // a view's menus
	Error   string          // the Slack error it answered with; "" when ok
}

type standInButton struct{ Label, ActionID, Value, URL string }

// standInSelect is a menu, with its options as value → label.
type standInSelect struct {
	ActionID string
	Options  [][2]string
}

// newSlackStandIn prints to out; users names the workspace's people.
func newSlackStandIn(out io.Writer, team string, users map[string]string, play string) *slackStandIn {
	return &slackStandIn{out: out, team: team, users: users, play: play}
}

// Client is a slack-go client whose every call the stand-in answers.
func (s *slackStandIn) Client() *slack.Client {
	return slack.New(standInToken, slack.OptionAPIURL(standInURL), slack.OptionHTTPClient(&http.Client{Transport: s, Timeout: 10 * time.Second}))
}

// Calls returns the calls answered so far, only those of the given methods
// when any are named.
func (s *slackStandIn) Calls(methods ...string) []standInCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []standInCall
	for _, c := range s.calls {
		if len(methods) == 0 || slices.Contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

// RoundTrip answers one request of the Slack client.
func (s *slackStandIn) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.seq++
	seq := s.seq
	s.mu.Unlock()

	var (
		c      standInCall
		answer any
	)
	if strings.HasPrefix(r.URL.Path, standInUploadPath) {
		c, answer = s.upload(r, body)
		s.record(c)
		return textResponse(r, answer.(string)), nil
	}
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	args, err := callArgs(r.Header.Get("Content-Type"), body)
	if err != nil {
		return jsonAnswer(r, map[string]any{"ok": false, "error": "invalid_form_data"}), nil
	}
	c, answer = s.answer(method, args, seq)
	s.record(c)
	return jsonAnswer(r, answer), nil
}

// callArgs are a call's arguments: a form's fields, or a JSON body's
// top-level fields (strings as they are, the rest as JSON text).
func callArgs(contentType string, body []byte) (map[string]string, error) {
	args := map[string]string{}
	ct, _, _ := mime.ParseMediaType(contentType)
	if ct == "application/json" {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, err
		}
		for k, raw := range m {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				args[k] = s
			} else {
				args[k] = string(raw)
			}
		}
		return args, nil
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	for k := range v {
		args[k] = v.Get(k)
	}
	return args, nil
}

// answer is Slack's answer to method, and the call as printed.
func (s *slackStandIn) answer(method string, args map[string]string, seq int) (standInCall, any) {
	c := standInCall{Method: method}
	if !slices.Contains(standInMethods, method) {
		c.Error = "unknown_method"
		return c, map[string]any{"ok": false, "error": c.Error}
	}
	if err := standInCheck(method, args); err != nil {
		c.Error = "invalid_blocks"
		if strings.HasPrefix(method, "views.") {
			c.Error = "invalid_arguments"
		}
		c.Text = err.Error()
		return c, map[string]any{"ok": false, "error": c.Error}
	}
	ts := fmt.Sprintf("%d.%06d", time.Now().Unix(), seq%1000000)
	switch method {
	case "conversations.open":
		c.User = args["users"]
		c.Channel = dmChannelOf(c.User)
		return c, map[string]any{"ok": true, "channel": map[string]any{"id": c.Channel, "is_im": true, "user": c.User}}
	case "chat.postMessage", "chat.update", "chat.postEphemeral":
		c.Channel, c.User = args["channel"], userOfDM(args["channel"])
		if method == "chat.postEphemeral" {
			c.User = args["user"]
		}
		c.TS, c.Thread = ts, args["thread_ts"]
		if method == "chat.update" {
			c.TS = args["ts"]
		}
		head, lines, buttons, _ := s.renderBlocks(args["blocks"])
		c.Title, c.Buttons = head, buttons
		c.Text = s.readable(args["text"])
		if c.Text == "" {
			c.Text = strings.Join(lines, "\n")
		}
		switch method {
		case "chat.postEphemeral":
			return c, map[string]any{"ok": true, "message_ts": ts}
		case "chat.update":
			return c, map[string]any{"ok": true, "channel": c.Channel, "ts": c.TS, "text": args["text"]}
		}
		return c, map[string]any{"ok": true, "channel": c.Channel, "ts": ts, "message": map[string]any{"type": "message", "text": args["text"], "ts": ts, "bot_id": "B0STANDIN"}}
	case "views.open", "views.update", "views.push", "views.publish":
		var view map[string]any
		_ = json.Unmarshal([]byte(args["view"]), &view)
		c.User = args["user_id"]
		c.Title = s.textOf(view["title"])
		head, lines, buttons, selects := s.renderBlocks(rawOf(view["blocks"]))
		if c.Title == "" {
			c.Title = head
		} else if head != "" {
			lines = append([]string{"*" + head + "*"}, lines...)
		}
		if submit := s.textOf(view["submit"]); submit != "" {
			buttons = append(buttons, standInButton{Label: submit, ActionID: "(submit)"})
		}
		c.Text, c.Buttons, c.Selects = strings.Join(firstLines(lines, 8), "\n"), buttons, selects
		id := args["view_id"]
		if id == "" {
			id = fmt.Sprintf("V%08d", seq)
		}
		if view == nil {
			view = map[string]any{}
		}
		view["id"], view["team_id"], view["hash"] = id, s.team, fmt.Sprintf("%d.%08x", time.Now().Unix(), seq)
		return c, map[string]any{"ok": true, "view": view}
	case "users.info":
		c.User = args["user"]
		name, ok := s.users[c.User]
		if !ok {
			c.Error = "user_not_found"
			return c, map[string]any{"ok": false, "error": c.Error}
		}
		return c, map[string]any{"ok": true, "user": map[string]any{
			"id": c.User, "team_id": s.team, "name": strings.ToLower(strings.Fields(name)[0]), "real_name": name,
			"profile": map[string]any{"real_name": name, "display_name": name}, "is_bot": false, "deleted": false,
		}}
	case "auth.test":
		return c, map[string]any{"ok": true, "url": "https://local-stand-in.slack.com/", "team": "Local stand-in", "team_id": s.team, "user": "orgcredit", "user_id": "U0BOT", "bot_id": "B0STANDIN"}
	case "files.getUploadURLExternal":
		id := fmt.Sprintf("F%08d", seq)
		c.Text = fmt.Sprintf("%s (%s bytes) → file %s", args["filename"], args["length"], id)
		return c, map[string]any{"ok": true, "file_id": id, "upload_url": strings.TrimSuffix(standInURL, "api/") + strings.TrimPrefix(standInUploadPath, "/") + id}
	case "files.delete":
		c.Text = args["file"]
		return c, map[string]any{"ok": true}
	default: // files.completeUploadExternal
		var files []map[string]any
		_ = json.Unmarshal([]byte(args["files"]), &files)
		for _, f := range files {
			c.Text += fmt.Sprintf("%v %q ", f["id"], f["title"])
		}
		return c, map[string]any{"ok": true, "files": files}
	}
}

// upload takes a file's bytes at its upload URL, as Slack does.
func (s *slackStandIn) upload(r *http.Request, body []byte) (standInCall, any) {
	c := standInCall{Method: "upload"}
	id := strings.TrimPrefix(r.URL.Path, standInUploadPath)
	n := len(body)
	if _, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && params["boundary"] != "" {
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			if p.FormName() == "file" {
				b, _ := io.ReadAll(p)
				n = len(b)
			}
		}
	}
	c.Text = fmt.Sprintf("%d bytes of file %s", n, id)
	return c, fmt.Sprintf("OK - %d", n)
}

// standInCheck holds a view or message to Block Kit's rules, as Slack
// does.
func standInCheck(method string, args map[string]string) error {
	var kind blockkit.Kind
	switch method {
	case "views.open", "views.push", "views.update", "views.publish":
		kind = blockkit.ViewRequest
	case "chat.postMessage", "chat.update", "chat.postEphemeral":
		kind = blockkit.Message
	default:
		return nil
	}
	payload := map[string]any{}
	for k, v := range args {
		switch k {
		case "view", "blocks", "attachments":
			if !json.Valid([]byte(v)) {
				return errors.New(k + ": not JSON")
			}
			payload[k] = json.RawMessage(v)
		default:
			payload[k] = v
		}
	}
	return blockkit.ValidateAs(kind, payload)
}

// record keeps c and prints it.
func (s *slackStandIn) record(c standInCall) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	if s.out != nil {
		_, _ = io.WriteString(s.out, s.format(c))
	}
}

// format is c as printed: a line of who and where, then the text and the
// buttons indented.
func (s *slackStandIn) format(c standInCall) string {
	var b strings.Builder
	who := s.person(c.User)
	fmt.Fprintf(&b, "%s Slack stand-in: %s", time.Now().Format("15:04:05"), c.Method)
	switch c.Method {
	case "chat.postMessage":
		if c.User != "" {
			fmt.Fprintf(&b, " to %s (direct message %s, ts %s)", who, c.Channel, c.TS)
		} else {
			fmt.Fprintf(&b, " in %s (ts %s)", c.Channel, c.TS)
		}
		if c.Thread != "" {
			fmt.Fprintf(&b, ", in the thread of %s", c.Thread)
		}
	case "chat.update":
		fmt.Fprintf(&b, " of the message %s in %s", c.TS, c.Channel)
		if c.User != "" {
			fmt.Fprintf(&b, " (%s's direct message)", who)
		}
	case "chat.postEphemeral":
		fmt.Fprintf(&b, " to %s only, in %s", who, c.Channel)
	case "conversations.open":
		fmt.Fprintf(&b, " direct message with %s → %s", who, c.Channel)
	case "views.open", "views.push", "views.update":
		fmt.Fprintf(&b, " modal %q", c.Title)
	case "views.publish":
		fmt.Fprintf(&b, " Home tab of %s", who)
		if c.Title != "" {
			fmt.Fprintf(&b, ": %q", c.Title)
		}
	case "users.info":
		fmt.Fprintf(&b, " %s", who)
	default:
		if c.Text != "" && c.Error == "" {
			fmt.Fprintf(&b, " %s", c.Text)
		}
	}
	if c.Error != "" {
		fmt.Fprintf(&b, " → error %s", c.Error)
	}
	b.WriteString("\n")
	if c.Method == "upload" || strings.HasPrefix(c.Method, "files.") || c.Method == "conversations.open" || c.Method == "users.info" || c.Method == "auth.test" {
		return b.String()
	}
	indent := func(s string) {
		for _, l := range strings.Split(s, "\n") {
			if strings.TrimSpace(l) != "" {
				fmt.Fprintf(&b, "    | %s\n", l)
			}
		}
	}
	if strings.HasPrefix(c.Method, "chat.") && c.Title != "" {
		indent("*" + c.Title + "*")
	}
	indent(c.Text)
	width := 0
	for _, btn := range c.Buttons {
		width = max(width, len(btn.Label)+2)
	}
	for _, btn := range c.Buttons {
		label := "[" + btn.Label + "]"
		switch {
		case btn.ActionID == "(submit)":
			fmt.Fprintf(&b, "    %s\n", label)
		case btn.URL != "":
			fmt.Fprintf(&b, "    %-*s  action_id=%s  link %s\n", width, label, btn.ActionID, btn.URL)
		default:
			fmt.Fprintf(&b, "    %-*s  action_id=%s  value=%s\n", width, label, btn.ActionID, btn.Value)
		}
	}
	for _, hint := range s.hints(c) {
		fmt.Fprintf(&b, "    ▶ %s\n", hint)
	}
	return b.String()
}

// hints are the slack-request lines that answer c as its reader would.
func (s *slackStandIn) hints(c standInCall) []string {
	if s.play == "" || c.Error != "" {
		return nil
	}
	var out []string
	if c.Method == "views.open" || c.Method == "views.update" {
		for _, sel := range c.Selects {
			if sel.ActionID != slackapp.TransferRecipientActionID || c.Title != "Transfer Billing Role" {
				continue
			}
			for _, o := range sel.Options {
				out = append(out, fmt.Sprintf("choose %s and Send Request: %s transfer %s", o[1], s.play, o[0]))
			}
			if len(out) > 0 {
				out = append(out, "(as slack-request's -user, default "+slackrequest.DefaultUser+": whoever opened the dialog)")
			}
		}
	}
	verbs := map[string]string{slackapp.ActionAccept: "accept", slackapp.ActionDecline: "decline", slackapp.ActionCancel: "cancel"}
	for _, btn := range c.Buttons {
		verb, ok := verbs[btn.ActionID]
		if !ok || !strings.HasPrefix(c.Method, "chat.") {
			continue
		}
		_, id, _ := strings.Cut(btn.Value, "|")
		user := c.User
		if user == "" {
			user = "U…"
		}
		out = append(out, fmt.Sprintf("%s as %s: %s -user %s %s %s", btn.Label, s.person(user), s.play, user, verb, id))
	}
	return out
}

// person names a Slack user: "Sari [U0SARI]".
func (s *slackStandIn) person(id string) string {
	if name, ok := s.users[id]; ok {
		return name + " [" + id + "]"
	}
	if id == "" {
		return "someone"
	}
	return id
}

// dmChannelOf is a person's direct message channel with the app, stable
// per person as in Slack: D + the user id without its U (U0SARI → D0SARI).
func dmChannelOf(user string) string {
	return "D" + strings.TrimPrefix(strings.TrimPrefix(user, "U"), "W")
}

// userOfDM is whose direct message channel is, or "" for other channels.
func userOfDM(channel string) string {
	if strings.HasPrefix(channel, "D") && len(channel) > 1 {
		return "U" + channel[1:]
	}
	return ""
}

// renderBlocks reads blocks (their JSON text): the first header, every
// other line of text, and the buttons and menus.
func (s *slackStandIn) renderBlocks(raw string) (head string, lines []string, buttons []standInButton, selects []standInSelect) {
	var blocks []map[string]any
	if json.Unmarshal([]byte(raw), &blocks) != nil {
		return "", nil, nil, nil
	}
	textOf := s.textOf
	element := func(e map[string]any) {
		switch t, _ := e["type"].(string); {
		case t == "button":
			buttons = append(buttons, standInButton{Label: textOf(e["text"]), ActionID: str(e["action_id"]), Value: str(e["value"]), URL: str(e["url"])})
		case strings.HasSuffix(t, "_select"):
			var opts []string
			sel := standInSelect{ActionID: str(e["action_id"])}
			for _, o := range list(e["options"]) {
				opts = append(opts, fmt.Sprintf("%s = %s", str(o["value"]), textOf(o["text"])))
				sel.Options = append(sel.Options, [2]string{str(o["value"]), textOf(o["text"])})
			}
			selects = append(selects, sel)
			if len(opts) == 0 {
				opts = []string{"(searched as you type)"}
			}
			lines = append(lines, fmt.Sprintf("select %s: %s", str(e["action_id"]), strings.Join(opts, "; ")))
		}
	}
	for _, bl := range blocks {
		switch bl["type"] {
		case "header":
			if head == "" {
				head = textOf(bl["text"])
			} else {
				lines = append(lines, "*"+textOf(bl["text"])+"*")
			}
		case "section":
			lines = append(lines, textOf(bl["text"]))
			for _, f := range list(bl["fields"]) {
				lines = append(lines, textOf(f))
			}
			if acc, ok := bl["accessory"].(map[string]any); ok {
				element(acc)
			}
		case "context":
			var parts []string
			for _, e := range list(bl["elements"]) {
				if t := textOf(e); t != "" {
					parts = append(parts, t)
				}
			}
			lines = append(lines, strings.Join(parts, " · "))
		case "actions":
			for _, e := range list(bl["elements"]) {
				element(e)
			}
		case "input":
			lines = append(lines, textOf(bl["label"])+":")
			if e, ok := bl["element"].(map[string]any); ok {
				element(e)
			}
		case "image":
			lines = append(lines, "[image: "+str(bl["alt_text"])+"]")
		}
	}
	return head, lines, buttons, selects
}

// firstLines are the first n lines of the text of lines.
func firstLines(lines []string, n int) []string {
	var out []string
	for _, l := range lines {
		for _, s := range strings.Split(l, "\n") {
			if strings.TrimSpace(s) == "" {
				continue
			}
			if len(out) == n {
				return append(out, "…")
			}
			out = append(out, s)
		}
	}
	return out
}

// textOf is a text object's text, readable.
func (s *slackStandIn) textOf(v any) string {
	m, _ := v.(map[string]any)
	return s.readable(str(m["text"]))
}

var mrkdwnRef = regexp.MustCompile(`<([^<>]*)>`)

// readable shows mrkdwn as Slack would: mentions by name, links by their
// labels, dates by their fallback, entities unescaped.
func (s *slackStandIn) readable(text string) string {
	text = mrkdwnRef.ReplaceAllStringFunc(text, func(m string) string {
		ref := m[1 : len(m)-1]
		target, label, hasLabel := strings.Cut(ref, "|")
		switch {
		case strings.HasPrefix(target, "!date^"):
			return label
		case strings.HasPrefix(target, "@"):
			if name, ok := s.users[target[1:]]; ok {
				return "@" + name
			}
			if hasLabel {
				return "@" + label
			}
			return "@" + target[1:]
		case strings.HasPrefix(target, "#"):
			if hasLabel {
				return "#" + label
			}
			return target
		case hasLabel:
			return label + " (" + target + ")"
		}
		return target
	})
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(text)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func list(v any) []map[string]any {
	var out []map[string]any
	for _, e := range asSlice(v) {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func rawOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func jsonAnswer(r *http.Request, v any) *http.Response {
	b, _ := json.Marshal(v)
	return response(r, "application/json; charset=utf-8", b)
}

func textResponse(r *http.Request, s string) *http.Response {
	return response(r, "text/plain; charset=utf-8", []byte(s))
}

func response(r *http.Request, contentType string, body []byte) *http.Response {
	return &http.Response{
		Status: "200 OK", StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {contentType}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       r,
	}
}

// Package slackrequest plays Slack's side against the Slack app: it builds
// the requests Slack would send (a slash command, app_home_opened, the
// Transfer Billing Role dialog's submission, a click of a transfer's
// button), or takes a stored sample event, signs them at run time as Slack
// does (v0 HMAC-SHA256 with the signing secret) and posts them to a
// server, by default the local one (go run ./functions/local). The
// command internal/slackapp/cmd/slack-request is its Main.
package slackrequest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgcredit/orgcredit/internal/slackapp"
)

// The demo organization of the local server, whose Slack ids are those of
// the signed samples in events/slack.
const (
	DefaultURL  = "http://127.0.0.1:8080"
	DefaultTeam = "T0ACME"
	DefaultUser = "U0DINA"
	DefaultOrg  = "acme"
)

// appID is the Slack app's id in the requests, as in the samples.
const appID = "A0APP"

const formType = "application/x-www-form-urlencoded"

// Identity is who Slack says is acting, and in which organization's
// workspace.
type Identity struct {
	Team string // Slack team id: T0ACME
	User string // Slack user id of the person acting: U0DINA
	Org  string // the organization the dialog and buttons name: acme
}

// Request is what Slack posts: to Path (slackapp.PathCommands,
// PathInteractions or PathEvents), the raw Body of ContentType.
type Request struct {
	Path        string
	ContentType string
	Body        []byte
}

// Command is the slash command line ("/billing status") typed by id.User
// in a channel.
func Command(id Identity, line string) (Request, error) {
	line = strings.TrimSpace(line)
	cmd, text, _ := strings.Cut(line, " ")
	if !strings.HasPrefix(cmd, "/") || len(cmd) < 2 {
		return Request{}, fmt.Errorf("%q is not a slash command: it starts with /, e.g. \"/billing status\"", line)
	}
	v := url.Values{}
	v.Set("token", "local-verification-token") // deprecated by Slack; the app ignores it
	v.Set("team_id", id.Team)
	v.Set("team_domain", strings.ToLower(id.Org))
	v.Set("channel_id", "C0GENERAL")
	v.Set("channel_name", "general")
	v.Set("user_id", id.User)
	v.Set("user_name", userName(id.User))
	v.Set("command", cmd)
	v.Set("text", strings.TrimSpace(text))
	v.Set("api_app_id", appID)
	v.Set("is_enterprise_install", "false")
	v.Set("response_url", "https://hooks.slack.com/commands/"+id.Team+"/"+digits()+"/"+hexID())
	v.Set("trigger_id", triggerID())
	return Request{Path: slackapp.PathCommands, ContentType: formType, Body: []byte(v.Encode())}, nil
}

// HomeOpened is the app_home_opened event of id.User opening the app's
// Home tab.
func HomeOpened(id Identity) Request {
	now := time.Now()
	ev := map[string]any{
		"token":      "local-verification-token",
		"team_id":    id.Team,
		"api_app_id": appID,
		"type":       "event_callback",
		"event_id":   "Ev" + strings.ToUpper(hexID()[:10]),
		"event_time": now.Unix(),
		"event": map[string]any{
			"type":     "app_home_opened",
			"user":     id.User,
			"channel":  dmChannel(id.User),
			"tab":      "home",
			"event_ts": slackTS(now),
		},
		"authorizations": []any{map[string]any{"team_id": id.Team, "user_id": "U0BOT", "is_bot": true}},
	}
	b, _ := json.Marshal(ev)
	return Request{Path: slackapp.PathEvents, ContentType: "application/json", Body: b}
}

// TransferSubmission is the view_submission of the Transfer Billing Role
// dialog of id.Org by id.User, with recipient chosen: a member id of the
// organization (the dialog's options are member ids, e.g. "sari").
func TransferSubmission(id Identity, recipient string) Request {
	selected := map[string]any{
		"text":  map[string]any{"type": "plain_text", "text": recipient, "emoji": true},
		"value": recipient,
	}
	view := map[string]any{
		"id":               "V" + strings.ToUpper(hexID()[:10]),
		"team_id":          id.Team,
		"type":             "modal",
		"callback_id":      slackapp.TransferCallbackID,
		"private_metadata": id.Org,
		"hash":             digits() + "." + hexID()[:8],
		"title":            map[string]any{"type": "plain_text", "text": "Transfer Billing Role"},
		"submit":           map[string]any{"type": "plain_text", "text": "Send Request"},
		"close":            map[string]any{"type": "plain_text", "text": "Close"},
		"state": map[string]any{"values": map[string]any{
			slackapp.TransferRecipientBlockID: map[string]any{
				slackapp.TransferRecipientActionID: map[string]any{"type": "static_select", "selected_option": selected},
			},
		}},
		"app_id": appID,
	}
	return interaction(map[string]any{
		"type":          "view_submission",
		"team":          map[string]any{"id": id.Team, "domain": strings.ToLower(id.Org)},
		"user":          map[string]any{"id": id.User, "username": userName(id.User), "name": userName(id.User), "team_id": id.Team},
		"api_app_id":    appID,
		"token":         "local-verification-token",
		"trigger_id":    triggerID(),
		"view":          view,
		"response_urls": []any{},
	})
}

// Buttons of a transfer's messages, by the subcommand that clicks them.
var buttons = map[string]struct{ actionID, label, style string }{
	"accept":  {slackapp.ActionAccept, "Accept", "primary"},
	"decline": {slackapp.ActionDecline, "Decline", "danger"},
	"cancel":  {slackapp.ActionCancel, "Cancel request", ""},
}

// Click is id.User clicking Accept, Decline ("accept", "decline": on the
// request in their direct message with the app) or Cancel request
// ("cancel": on their confirmation) of a transfer. transfer is the
// transfer's id, or the button's whole value "<org>|<transfer>" as the
// stand-in prints it.
func Click(id Identity, button, transfer string) (Request, error) {
	b, ok := buttons[button]
	if !ok {
		return Request{}, fmt.Errorf("no transfer button %q: accept, decline or cancel", button)
	}
	value := transfer
	if !strings.Contains(transfer, "|") {
		value = slackapp.TransferButtonValue(id.Org, transfer)
	}
	if transfer == "" || strings.HasPrefix(value, "|") || strings.HasSuffix(value, "|") {
		return Request{}, fmt.Errorf("%q does not name a transfer: give its id (tr_…) or the button's value (org|tr_…)", transfer)
	}
	now := time.Now()
	channel := dmChannel(id.User)
	action := map[string]any{
		"type":      "button",
		"action_id": b.actionID,
		"block_id":  slackapp.TransferActionsBlockID,
		"text":      map[string]any{"type": "plain_text", "text": b.label, "emoji": true},
		"value":     value,
		"action_ts": slackTS(now),
	}
	if b.style != "" {
		action["style"] = b.style
	}
	msgTS := slackTS(now.Add(-time.Minute))
	return interaction(map[string]any{
		"type":       "block_actions",
		"team":       map[string]any{"id": id.Team, "domain": strings.ToLower(id.Org)},
		"user":       map[string]any{"id": id.User, "username": userName(id.User), "name": userName(id.User), "team_id": id.Team},
		"api_app_id": appID,
		"token":      "local-verification-token",
		"trigger_id": triggerID(),
		"container":  map[string]any{"type": "message", "message_ts": msgTS, "channel_id": channel, "is_ephemeral": false},
		"channel":    map[string]any{"id": channel, "name": "directmessage"},
		"message": map[string]any{"type": "message", "ts": msgTS, "user": "U0BOT", "bot_id": "B0BOT", "blocks": []any{
			map[string]any{"type": "actions", "block_id": slackapp.TransferActionsBlockID, "elements": []any{
				map[string]any{"type": "button", "action_id": b.actionID, "value": value, "text": action["text"]},
			}},
		}},
		"response_url": "https://hooks.slack.com/actions/" + id.Team + "/" + digits() + "/" + hexID(),
		"actions":      []any{action},
	}), nil
}

// FromFile reads a stored API Gateway v2 event (events/slack/*.json): its
// raw body (base64-decoded when isBase64Encoded), path (rawPath) and
// content type. Its stored signature is dropped; Send signs it anew.
func FromFile(path string) (Request, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Request{}, err
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		return Request{}, fmt.Errorf("%s is not an API Gateway v2 event: %w", path, err)
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return Request{}, fmt.Errorf("%s: body: %w", path, err)
		}
	}
	p := ev.RawPath
	if p == "" {
		p = ev.RequestContext.HTTP.Path
	}
	if p == "" {
		return Request{}, fmt.Errorf("%s has no rawPath", path)
	}
	ct := ""
	for k, v := range ev.Headers {
		if strings.EqualFold(k, "Content-Type") {
			ct = v
		}
	}
	if ct == "" {
		ct = formType
		if json.Valid(body) {
			ct = "application/json"
		}
	}
	return Request{Path: p, ContentType: ct, Body: body}, nil
}

// interaction is an interaction's form: one field, payload, holding the
// JSON.
func interaction(payload map[string]any) Request {
	b, _ := json.Marshal(payload)
	return Request{Path: slackapp.PathInteractions, ContentType: formType, Body: []byte(url.Values{"payload": {string(b)}}.Encode())}
}

// Signature is Slack's v0 signature of body at ts: "v0=" +
// hex(HMAC-SHA256(secret, "v0:<ts>:<body>")).
func Signature(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%d:", ts)
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// HTTP is r as an HTTP request to baseURL, signed with secret at now with
// the headers Slack sends (X-Slack-Request-Timestamp, X-Slack-Signature).
func (r Request) HTTP(ctx context.Context, baseURL, secret string, now time.Time) (*http.Request, error) {
	if secret == "" {
		return nil, errors.New("no signing secret")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(baseURL, "/")+r.Path, bytes.NewReader(r.Body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", r.ContentType)
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("X-Slack-Signature", Signature(secret, now.Unix(), r.Body))
	return req, nil
}

// Answer is the server's HTTP answer.
type Answer struct {
	Status      int
	ContentType string
	Body        []byte
}

// OK tells whether the status is 2xx.
func (a Answer) OK() bool { return a.Status >= 200 && a.Status < 300 }

// Send signs r now and posts it to baseURL with client
// (http.DefaultClient when nil).
func Send(ctx context.Context, client *http.Client, baseURL, secret string, r Request) (Answer, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := r.HTTP(ctx, baseURL, secret, time.Now())
	if err != nil {
		return Answer{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return Answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return Answer{}, err
	}
	return Answer{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: b}, nil
}

// Pretty is the answer's body for people: JSON indented, anything else as
// it is.
func (a Answer) Pretty() string {
	if len(bytes.TrimSpace(a.Body)) == 0 {
		return "(empty body: Slack takes it as an acknowledgement)"
	}
	ct, _, _ := mime.ParseMediaType(a.ContentType)
	if ct == "application/json" || json.Valid(a.Body) {
		var out bytes.Buffer
		if json.Indent(&out, a.Body, "", "  ") == nil {
			return out.String()
		}
	}
	return string(a.Body)
}

// dmChannel is the id of a person's direct message with the app, as the
// local Slack stand-in gives it (D + the user id without its U).
func dmChannel(user string) string {
	return "D" + strings.TrimPrefix(strings.TrimPrefix(user, "U"), "W")
}

// userName is a Slack handle for a user id: U0DINA → dina.
func userName(user string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(user, "U0"), "U"))
}

// slackTS is a Slack timestamp: seconds, a dot, microseconds.
func slackTS(t time.Time) string {
	return fmt.Sprintf("%d.%06d", t.Unix(), t.Nanosecond()/1000)
}

// triggerID looks like Slack's: "<digits>.<digits>.<hex>".
func triggerID() string { return digits() + "." + digits() + "." + hexID() }

func digits() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return strconv.FormatUint(uint64(b[0])<<24|uint64(b[1])<<16|uint64(b[2])<<8|uint64(b[3]), 10)
}

func hexID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

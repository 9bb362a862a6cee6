package blockkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is what a payload is, which decides the limits it is held to.
type Kind string

// The kinds of payload Validate knows.
const (
	// Auto detects the kind from the payload's JSON (see Detect).
	Auto Kind = ""
	// Message is the arguments of chat.postMessage, chat.update or
	// chat.postEphemeral, or a slash command's or response_url's JSON
	// answer: {"text": ..., "blocks": [...], ...}, at most 50 blocks.
	Message Kind = "message"
	// Blocks is a bare array of blocks, held to a message's limits.
	Blocks Kind = "blocks"
	// View is a view object: {"type": "modal" | "home", ...}.
	View Kind = "view"
	// ViewRequest is the body of views.open, views.push, views.update or
	// views.publish: {"view": {...}, ...}.
	ViewRequest Kind = "views request"
	// ViewSubmissionResponse is the answer to a view_submission:
	// {"response_action": "errors" | "update" | "push" | "clear", ...}.
	ViewSubmissionResponse Kind = "view_submission response"
	// Options is the answer to a block_suggestion (external select):
	// {"options": [...]} or {"option_groups": [...]}.
	Options Kind = "options response"
)

// Violation is one broken limit or rule.
type Violation struct {
	// Path locates the offending value in the payload's JSON, as in
	// blocks[3].text.text; empty for the payload as a whole.
	Path string
	// Pointer is the same place as a JSON pointer (RFC 6901), as Slack
	// reports it: /blocks/3/text/text.
	Pointer string
	// Message says what is wrong: "3,412 characters, the limit is 3,000".
	Message string
}

func (v Violation) String() string {
	if v.Path == "" {
		return v.Message
	}
	return v.Path + ": " + v.Message
}

// Violations is every violation found in one payload. It is the error
// Validate returns; errors.As recovers it.
type Violations []Violation

// Error lists the violations, one a line.
func (vs Violations) Error() string {
	lines := make([]string, len(vs))
	for i, v := range vs {
		lines[i] = v.String()
	}
	return strings.Join(lines, "\n")
}

// Validate checks a whole payload against Block Kit's documented limits
// and the structural rules Slack enforces, detecting its kind (see
// Detect). It returns nil or Violations.
//
// The payload is marshalled to JSON and the generic JSON is checked, so
// what is checked is exactly what would go on the wire, whatever built
// it: slack.Blocks, slack.ModalViewRequest, slack.HomeTabViewRequest,
// slack.PublishViewContextRequest, slack.ViewSubmissionResponse,
// slack.OptionsResponse, maps, or JSON text as []byte or json.RawMessage.
//
// Besides lengths and counts it checks: text objects are plain_text or
// mrkdwn, not empty, and plain_text where Slack requires it (header,
// button, option text in selects, modal title, submit and close, input
// label and hint, confirm dialogs, placeholders); a section has text or
// fields; required fields are present; block types and element types are
// ones this package knows and checks (section, header, divider, context,
// actions, input, image, rich_text and their elements), so that nothing
// passes unchecked; elements sit only where Slack allows them; block_id
// is unique in a surface and action_id in a block; a select's initial
// option is one of its options; a modal with input blocks has submit.
//
// One rule is this project's rather than Slack's (Slack only warns): a
// message with blocks has a top-level text, the fallback shown in
// notifications.
func Validate(payload any) error {
	return ValidateAs(Auto, payload)
}

// ValidateAs is Validate for a payload of a known kind.
func ValidateAs(kind Kind, payload any) error {
	v, err := generic(payload)
	if err != nil {
		return Violations{{Message: err.Error()}}
	}
	if kind == Auto {
		kind = Detect(v)
	}
	c := &checker{}
	switch kind {
	case Message:
		c.message(nil, v)
	case Blocks:
		c.blocks(nil, v, MaxMessageBlocks, "message")
	case View:
		c.view(nil, v, "")
	case ViewRequest:
		c.viewRequest(nil, v)
	case ViewSubmissionResponse:
		c.submissionResponse(nil, v)
	case Options:
		c.optionsResponse(nil, v)
	default:
		return Violations{{Message: fmt.Sprintf("unknown payload kind %q", kind)}}
	}
	if len(c.vs) == 0 {
		return nil
	}
	return c.vs
}

// Detect tells the kind of a payload from its generic JSON: an array is
// Blocks; an object with response_action a ViewSubmissionResponse, with
// view a ViewRequest, of type modal or home a View, with options or
// option_groups but neither text nor blocks an Options answer; any other
// object a Message.
func Detect(v any) Kind {
	switch x := v.(type) {
	case []any:
		return Blocks
	case map[string]any:
		_, options := x["options"]
		_, groups := x["option_groups"]
		_, text := x["text"]
		_, blocks := x["blocks"]
		switch {
		case has(x, "response_action"):
			return ViewSubmissionResponse
		case has(x, "view"):
			return ViewRequest
		case x["type"] == "modal" || x["type"] == "home":
			return View
		case (options || groups) && !text && !blocks:
			return Options
		}
	}
	return Message
}

func has(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}

// generic turns a payload into generic JSON values: JSON text as is, any
// other value through encoding/json, as the Web API client would send it.
func generic(payload any) (any, error) {
	var raw []byte
	switch p := payload.(type) {
	case []byte:
		raw = p
	case json.RawMessage:
		raw = p
	default:
		b, err := json.Marshal(payload)
		if err != nil {
			return nil, fmt.Errorf("cannot encode the payload as JSON: %v", err)
		}
		raw = b
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %v", err)
	}
	if d.More() {
		return nil, fmt.Errorf("not JSON: data after the first value")
	}
	switch v.(type) {
	case map[string]any, []any:
		return v, nil
	}
	return nil, fmt.Errorf("not a JSON object or array")
}

// Count is the length of s as Slack counts it: characters (Unicode code
// points), not bytes.
func Count(s string) int {
	return utf8.RuneCountInString(s)
}

// path is a place in the JSON: object keys (string) and array indexes
// (int).
type path []any

func (p path) key(k string) path { return append(p[:len(p):len(p)], k) }
func (p path) idx(i int) path    { return append(p[:len(p):len(p)], i) }

func (p path) String() string {
	var b strings.Builder
	for _, s := range p {
		switch s := s.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", s)
		case string:
			if isIdent(s) {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(s)
			} else {
				fmt.Fprintf(&b, "[%s]", strconv.Quote(s))
			}
		}
	}
	return b.String()
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func (p path) pointer() string {
	var b strings.Builder
	for _, s := range p {
		b.WriteByte('/')
		switch s := s.(type) {
		case int:
			b.WriteString(strconv.Itoa(s))
		case string:
			b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(s))
		}
	}
	return b.String()
}

// checker collects violations.
type checker struct {
	vs Violations
}

func (c *checker) add(p path, format string, args ...any) {
	c.vs = append(c.vs, Violation{Path: p.String(), Pointer: p.pointer(), Message: fmt.Sprintf(format, args...)})
}

// commas writes n with thousands separators, as the limits are written.
func commas(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + commas(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return commas(n) + " " + one
	}
	return commas(n) + " " + many
}

// object reads an object; a value that is present but not an object is a
// violation. ok is false when there is nothing to check further.
func (c *checker) object(p path, v any, what string) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		c.add(p, "%s must be a JSON object, not %s", what, jsonType(v))
	}
	return m, ok
}

func (c *checker) array(p path, v any, what string) ([]any, bool) {
	a, ok := v.([]any)
	if !ok {
		c.add(p, "%s must be an array, not %s", what, jsonType(v))
	}
	return a, ok
}

func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", v)
}

// field is m[k] with its path; present is false when the key is absent or
// null (encoding/json writes nil pointers without omitempty as null).
func field(p path, m map[string]any, k string) (path, any, bool) {
	v, ok := m[k]
	return p.key(k), v, ok && v != nil
}

func (c *checker) required(p path, m map[string]any, k string) (path, any, bool) {
	fp, v, ok := field(p, m, k)
	if !ok {
		c.add(fp, "missing: Slack requires it")
	}
	return fp, v, ok
}

// str checks an optional string field's length; it returns the string.
func (c *checker) str(p path, m map[string]any, k string, max int) string {
	fp, v, ok := field(p, m, k)
	if !ok {
		return ""
	}
	return c.length(fp, v, max)
}

// requiredStr is str for a field Slack requires, which must not be empty.
func (c *checker) requiredStr(p path, m map[string]any, k string, max int) string {
	fp, v, ok := c.required(p, m, k)
	if !ok {
		return ""
	}
	s := c.length(fp, v, max)
	if _, isStr := v.(string); isStr && s == "" {
		c.add(fp, "empty: Slack requires at least 1 character")
	}
	return s
}

func (c *checker) length(p path, v any, max int) string {
	s, ok := v.(string)
	if !ok {
		c.add(p, "must be a string, not %s", jsonType(v))
		return ""
	}
	if n := Count(s); n > max {
		c.add(p, "%s, the limit is %s", plural(n, "character", "characters"), commas(max))
	}
	return s
}

func (c *checker) count(p path, n, max int, what string) {
	if n > max {
		c.add(p, "%s, the limit is %s", plural(n, what, what+"s"), commas(max))
	}
}

// Text object kinds.
const (
	anyText   = false
	plainOnly = true
)

// text checks a text object: its type, that it is not empty, and its
// length against max (and the 3,000 of every text object).
func (c *checker) text(p path, v any, max int, plain bool) {
	t, ok := c.object(p, v, "a text object")
	if !ok {
		return
	}
	typ, _ := t["type"].(string)
	switch typ {
	case "plain_text":
		if has(t, "verbatim") {
			c.add(p.key("verbatim"), "only usable when type is mrkdwn")
		}
	case "mrkdwn":
		if plain {
			c.add(p.key("type"), "must be plain_text here, not mrkdwn")
		}
		if has(t, "emoji") {
			c.add(p.key("emoji"), "only usable when type is plain_text")
		}
	default:
		c.add(p.key("type"), "must be plain_text or mrkdwn, not %s", describe(t["type"]))
	}
	tp, tv, ok := c.required(p, t, "text")
	if !ok {
		return
	}
	s, isStr := tv.(string)
	if !isStr {
		c.add(tp, "must be a string, not %s", jsonType(tv))
		return
	}
	n := Count(s)
	switch {
	case n < MinText:
		c.add(tp, "empty: Slack requires at least %d character", MinText)
	case n > min(max, MaxText):
		c.add(tp, "%s, the limit is %s", plural(n, "character", "characters"), commas(min(max, MaxText)))
	}
}

// optText checks a text object that may be absent.
func (c *checker) optText(p path, m map[string]any, k string, max int, plain bool) bool {
	fp, v, ok := field(p, m, k)
	if ok {
		c.text(fp, v, max, plain)
	}
	return ok
}

func (c *checker) reqText(p path, m map[string]any, k string, max int, plain bool) {
	if fp, v, ok := c.required(p, m, k); ok {
		c.text(fp, v, max, plain)
	}
}

func describe(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return jsonType(v)
}

// message checks a message: chat.* arguments or a command's answer.
func (c *checker) message(p path, v any) {
	m, ok := c.object(p, v, "a message")
	if !ok {
		return
	}
	text := c.str(p, m, "text", MaxMessageText)
	bp, bv, hasBlocks := field(p, m, "blocks")
	nblocks := 0
	if hasBlocks {
		nblocks = c.blocks(bp, bv, MaxMessageBlocks, "message")
	}
	_, _, hasAttachments := field(p, m, "attachments")
	switch {
	case nblocks > 0 && strings.TrimSpace(text) == "":
		c.add(p.key("text"), "a message with blocks needs a top-level text: it is the fallback shown in notifications")
	case nblocks == 0 && strings.TrimSpace(text) == "" && !hasAttachments:
		c.add(p, "a message needs text or blocks (Slack answers no_text)")
	}
	if rt, _, ok := field(p, m, "response_type"); ok {
		if s, _ := m["response_type"].(string); s != "ephemeral" && s != "in_channel" {
			c.add(rt, "must be ephemeral or in_channel, not %s", describe(m["response_type"]))
		}
	}
}

// blocks checks a surface's blocks and returns how many there are.
func (c *checker) blocks(p path, v any, max int, surface string) int {
	if v == nil {
		c.add(p, "missing: Slack requires an array of blocks")
		return 0
	}
	list, ok := c.array(p, v, "blocks")
	if !ok {
		return 0
	}
	if len(list) > max {
		c.add(p, "%s, the limit is %s for a %s", plural(len(list), "block", "blocks"), commas(max), surface)
	}
	seen := map[string]int{}
	for i, b := range list {
		bp := p.idx(i)
		id := c.block(bp, b)
		if id == "" {
			continue
		}
		if first, dup := seen[id]; dup {
			c.add(bp.key("block_id"), "%q is also the block_id of %s: block_id must be unique in a %s", id, p.idx(first), surface)
			continue
		}
		seen[id] = i
	}
	return len(list)
}

// Element sets: where each element type may go. Sources: the "Compatible
// block elements" of the actions, section (accessory) and input block
// pages, and the context block page (images and text objects only).
var (
	selects = []string{
		"static_select", "external_select", "users_select", "conversations_select", "channels_select",
		"multi_static_select", "multi_external_select", "multi_users_select", "multi_conversations_select", "multi_channels_select",
	}
	actionsElements = set(append([]string{
		"button", "checkboxes", "datepicker", "datetimepicker", "overflow", "radio_buttons", "timepicker",
	}, selects...)...)
	accessoryElements = set(append([]string{
		"button", "checkboxes", "datepicker", "image", "overflow", "radio_buttons", "timepicker",
	}, selects...)...)
	inputElements = set(append([]string{
		"checkboxes", "datepicker", "datetimepicker", "email_text_input", "number_input", "plain_text_input",
		"radio_buttons", "timepicker", "url_text_input",
	}, selects...)...)
	knownElements = func() map[string]bool {
		all := map[string]bool{}
		for _, s := range []map[string]bool{actionsElements, accessoryElements, inputElements} {
			for k := range s {
				all[k] = true
			}
		}
		return all
	}()
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// block checks one block and returns its block_id, if any.
func (c *checker) block(p path, v any) string {
	b, ok := c.object(p, v, "a block")
	if !ok {
		return ""
	}
	id := c.str(p, b, "block_id", MaxBlockID)
	typ, _ := b["type"].(string)
	switch typ {
	case "section":
		hasText := c.optText(p, b, "text", MaxSectionText, anyText)
		hasFields := false
		if fp, fv, ok := field(p, b, "fields"); ok {
			if fields, ok := c.array(fp, fv, "fields"); ok {
				hasFields = true
				if len(fields) == 0 {
					c.add(fp, "empty: leave fields out or give at least 1")
				}
				c.count(fp, len(fields), MaxSectionFields, "field")
				for i, f := range fields {
					c.text(fp.idx(i), f, MaxSectionField, anyText)
				}
			}
		}
		if !hasText && !hasFields {
			c.add(p, "a section needs text or fields")
		}
		if ap, av, ok := field(p, b, "accessory"); ok {
			c.element(ap, av, accessoryElements, "a section's accessory")
		}
	case "header":
		c.reqText(p, b, "text", MaxHeaderText, plainOnly)
	case "divider":
	case "context":
		ep, ev, ok := c.required(p, b, "elements")
		if !ok {
			break
		}
		els, ok := c.array(ep, ev, "elements")
		if !ok {
			break
		}
		if len(els) == 0 {
			c.add(ep, "empty: a context block needs at least 1 element")
		}
		c.count(ep, len(els), MaxContextElements, "element")
		for i, e := range els {
			c.contextElement(ep.idx(i), e)
		}
	case "actions":
		ep, ev, ok := c.required(p, b, "elements")
		if !ok {
			break
		}
		els, ok := c.array(ep, ev, "elements")
		if !ok {
			break
		}
		if len(els) == 0 {
			c.add(ep, "empty: an actions block needs at least 1 element")
		}
		c.count(ep, len(els), MaxActionsElements, "element")
		seen := map[string]int{}
		for i, e := range els {
			id := c.element(ep.idx(i), e, actionsElements, "an actions block")
			if id == "" {
				continue
			}
			if first, dup := seen[id]; dup {
				c.add(ep.idx(i).key("action_id"), "%q is also the action_id of %s: action_id must be unique in a block", id, ep.idx(first))
				continue
			}
			seen[id] = i
		}
	case "input":
		c.reqText(p, b, "label", MaxInputLabel, plainOnly)
		c.optText(p, b, "hint", MaxInputHint, plainOnly)
		if ep, ev, ok := c.required(p, b, "element"); ok {
			c.element(ep, ev, inputElements, "an input block")
		}
	case "image":
		c.image(p, b)
		c.optText(p, b, "title", MaxImageTitle, plainOnly)
	case "rich_text":
		if ep, ev, ok := c.required(p, b, "elements"); ok {
			if els, ok := c.array(ep, ev, "elements"); ok && len(els) == 0 {
				c.add(ep, "empty: a rich_text block needs at least 1 element")
			}
		}
	default:
		c.add(p.key("type"), "unknown block type %s: this package checks section, header, divider, context, actions, input, image and rich_text", describe(b["type"]))
	}
	return id
}

// image checks the fields an image block and an image element share.
func (c *checker) image(p path, m map[string]any) {
	c.requiredStr(p, m, "alt_text", MaxImageAltText)
	_, _, hasURL := field(p, m, "image_url")
	_, _, hasFile := field(p, m, "slack_file")
	switch {
	case hasURL && hasFile:
		c.add(p, "an image has image_url or slack_file, not both")
	case hasURL:
		c.requiredStr(p, m, "image_url", MaxImageURL)
	case !hasFile:
		c.add(p.key("image_url"), "missing: an image needs image_url or slack_file")
	}
}

func (c *checker) contextElement(p path, v any) {
	e, ok := c.object(p, v, "a context element")
	if !ok {
		return
	}
	switch e["type"] {
	case "plain_text", "mrkdwn":
		c.text(p, e, MaxText, anyText)
	case "image":
		c.image(p, e)
	default:
		c.add(p.key("type"), "a context block holds text objects and images, not %s", describe(e["type"]))
	}
}

// element checks a block element allowed (by type) in where, and returns
// its action_id.
func (c *checker) element(p path, v any, allowed map[string]bool, where string) string {
	e, ok := c.object(p, v, "an element")
	if !ok {
		return ""
	}
	typ, _ := e["type"].(string)
	if !knownElements[typ] {
		c.add(p.key("type"), "unknown element type %s", describe(e["type"]))
		return ""
	}
	if !allowed[typ] {
		c.add(p.key("type"), "%s is not allowed in %s", typ, where)
	}
	id := c.str(p, e, "action_id", MaxActionID)
	c.optText(p, e, "placeholder", MaxPlaceholder, plainOnly)
	if cp, cv, ok := field(p, e, "confirm"); ok {
		c.confirm(cp, cv)
	}
	switch typ {
	case "button":
		c.reqText(p, e, "text", MaxButtonText, plainOnly)
		c.str(p, e, "value", MaxButtonValue)
		c.str(p, e, "url", MaxButtonURL)
		c.str(p, e, "accessibility_label", MaxButtonAccessibilityLabel)
		c.style(p, e)
	case "image":
		c.image(p, e)
	case "static_select", "multi_static_select":
		c.staticOptions(p, e)
	case "external_select", "multi_external_select":
		c.initialOptions(p, e, nil)
		if mp, mv, ok := field(p, e, "min_query_length"); ok {
			if n, err := intOf(mv); err != nil || n < 0 {
				c.add(mp, "must be a whole number of at least 0")
			}
		}
	case "overflow":
		c.options(p, e, "options", MaxOverflowOptions, plainOnly, true)
	case "checkboxes", "radio_buttons":
		opts := c.options(p, e, "options", MaxSelectOptions, anyText, false)
		c.initialOptions(p, e, opts)
	case "plain_text_input":
		c.inputLengths(p, e)
	}
	return id
}

func (c *checker) style(p path, m map[string]any) {
	if sp, sv, ok := field(p, m, "style"); ok && sv != "primary" && sv != "danger" {
		c.add(sp, "must be primary or danger, not %s", describe(sv))
	}
}

func intOf(v any) (int, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("not a number")
	}
	i, err := strconv.Atoi(n.String())
	return i, err
}

func (c *checker) inputLengths(p path, e map[string]any) {
	lo, hi := -1, -1
	if mp, mv, ok := field(p, e, "min_length"); ok {
		n, err := intOf(mv)
		if err != nil || n < 0 || n > MaxPlainTextInputLength {
			c.add(mp, "must be a whole number from 0 to %s", commas(MaxPlainTextInputLength))
		} else {
			lo = n
		}
	}
	if mp, mv, ok := field(p, e, "max_length"); ok {
		n, err := intOf(mv)
		if err != nil || n < 1 || n > MaxPlainTextInputLength {
			c.add(mp, "must be a whole number from 1 to %s", commas(MaxPlainTextInputLength))
		} else {
			hi = n
		}
	}
	if lo >= 0 && hi >= 0 && lo > hi {
		c.add(p.key("min_length"), "%d is more than max_length %d", lo, hi)
	}
}

// optionGroups checks option_groups (at p, value v): each a labelled
// group of options. nonEmpty tells that at least one group is required (a
// select's; an options answer may have none). It returns every option.
func (c *checker) optionGroups(p path, v any, nonEmpty bool) []map[string]any {
	groups, ok := c.array(p, v, "option_groups")
	if !ok {
		return nil
	}
	if nonEmpty && len(groups) == 0 {
		c.add(p, "empty: give at least 1 option group")
	}
	c.count(p, len(groups), MaxOptionGroups, "option group")
	var all []map[string]any
	for i, g := range groups {
		gip := p.idx(i)
		gm, ok := c.object(gip, g, "an option group")
		if !ok {
			continue
		}
		c.reqText(gip, gm, "label", MaxOptionGroupLabel, plainOnly)
		if _, _, ok := c.required(gip, gm, "options"); ok {
			all = append(all, c.options(gip, gm, "options", MaxOptionGroupOption, plainOnly, false)...)
		}
	}
	return all
}

// staticOptions checks a static select's options or option groups and its
// initial option(s).
func (c *checker) staticOptions(p path, e map[string]any) {
	_, _, hasOptions := field(p, e, "options")
	gp, gv, hasGroups := field(p, e, "option_groups")
	var all []map[string]any
	switch {
	case hasOptions && hasGroups:
		c.add(p, "a static select has options or option_groups, not both")
	case hasOptions:
		all = c.options(p, e, "options", MaxSelectOptions, plainOnly, false)
	case hasGroups:
		all = c.optionGroups(gp, gv, true)
	default:
		c.add(p.key("options"), "missing: a static select needs options or option_groups")
	}
	c.initialOptions(p, e, all)
}

// options checks m[k], a list of option objects, and returns the options.
func (c *checker) options(p path, m map[string]any, k string, max int, plain, urls bool) []map[string]any {
	op, ov, ok := c.required(p, m, k)
	if !ok {
		return nil
	}
	list, ok := c.array(op, ov, k)
	if !ok {
		return nil
	}
	if len(list) == 0 {
		c.add(op, "empty: give at least 1 option")
	}
	c.count(op, len(list), max, "option")
	var out []map[string]any
	for i, o := range list {
		if om := c.option(op.idx(i), o, plain, urls); om != nil {
			out = append(out, om)
		}
	}
	return out
}

// option checks an option object.
func (c *checker) option(p path, v any, plain, urls bool) map[string]any {
	o, ok := c.object(p, v, "an option")
	if !ok {
		return nil
	}
	c.reqText(p, o, "text", MaxOptionText, plain)
	c.requiredStr(p, o, "value", MaxOptionValue)
	c.optText(p, o, "description", MaxOptionDescription, plainOnly)
	if up, uv, ok := field(p, o, "url"); ok {
		if urls {
			c.length(up, uv, MaxOptionURL)
		} else {
			c.add(up, "url is only available in overflow menus")
		}
	}
	return o
}

// initialOptions checks initial_option and initial_options; with options
// known (static selects, checkboxes, radio buttons) each must be one of
// them, as Slack requires.
func (c *checker) initialOptions(p path, e map[string]any, options []map[string]any) {
	check := func(ip path, iv any) {
		o := c.option(ip, iv, anyText, false)
		if o == nil || options == nil {
			return
		}
		for _, x := range options {
			if x["value"] == o["value"] && textOf(x["text"]) == textOf(o["text"]) {
				return
			}
		}
		c.add(ip, "not one of the element's options: an initial option must match one exactly")
	}
	if ip, iv, ok := field(p, e, "initial_option"); ok {
		check(ip, iv)
	}
	if ip, iv, ok := field(p, e, "initial_options"); ok {
		if list, ok := c.array(ip, iv, "initial_options"); ok {
			for i, o := range list {
				check(ip.idx(i), o)
			}
		}
	}
}

func textOf(v any) any {
	if m, ok := v.(map[string]any); ok {
		return m["text"]
	}
	return nil
}

// confirm checks a confirmation dialog object.
func (c *checker) confirm(p path, v any) {
	m, ok := c.object(p, v, "a confirm dialog")
	if !ok {
		return
	}
	c.reqText(p, m, "title", MaxConfirmTitle, plainOnly)
	c.reqText(p, m, "text", MaxConfirmText, anyText)
	c.reqText(p, m, "confirm", MaxConfirmButton, plainOnly)
	c.reqText(p, m, "deny", MaxConfirmButton, plainOnly)
	c.style(p, m)
}

// view checks a view object; want is "modal" when only a modal will do.
func (c *checker) view(p path, v any, want string) {
	m, ok := c.object(p, v, "a view")
	if !ok {
		return
	}
	typ, _ := m["type"].(string)
	switch {
	case typ != "modal" && typ != "home":
		c.add(p.key("type"), "must be modal or home, not %s", describe(m["type"]))
		return
	case want != "" && typ != want:
		c.add(p.key("type"), "must be %s here, not %s", want, typ)
	}
	surface := "modal"
	if typ == "home" {
		surface = "Home tab"
	}
	bp, bv, _ := field(p, m, "blocks")
	c.blocks(bp, bv, MaxViewBlocks, surface)
	c.str(p, m, "private_metadata", MaxPrivateMetadata)
	c.str(p, m, "callback_id", MaxCallbackID)
	if typ != "modal" {
		return
	}
	c.reqText(p, m, "title", MaxViewTitle, plainOnly)
	c.optText(p, m, "close", MaxViewClose, plainOnly)
	if !c.optText(p, m, "submit", MaxViewSubmit, plainOnly) && hasInput(bv) {
		c.add(p.key("submit"), "missing: a modal with input blocks needs submit")
	}
}

func hasInput(blocks any) bool {
	list, _ := blocks.([]any)
	for _, b := range list {
		if m, ok := b.(map[string]any); ok && m["type"] == "input" {
			return true
		}
	}
	return false
}

func (c *checker) viewRequest(p path, v any) {
	m, ok := c.object(p, v, "a views request")
	if !ok {
		return
	}
	if vp, vv, ok := c.required(p, m, "view"); ok {
		c.view(vp, vv, "")
	}
}

// submissionResponse checks the answer to a view_submission. Slack's pages
// state no length for the messages of response_action errors; they are
// held to be non-empty strings keyed by block_id.
func (c *checker) submissionResponse(p path, v any) {
	m, ok := c.object(p, v, "a view_submission response")
	if !ok {
		return
	}
	ap := p.key("response_action")
	switch action := m["response_action"]; action {
	case "clear":
	case "errors":
		ep, ev, ok := c.required(p, m, "errors")
		if !ok {
			break
		}
		errs, ok := c.object(ep, ev, "errors")
		if !ok {
			break
		}
		if len(errs) == 0 {
			c.add(ep, "empty: name at least 1 input block")
		}
		keys := make([]string, 0, len(errs))
		for k := range errs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			kp, msg := ep.key(k), errs[k]
			if k == "" {
				c.add(kp, "empty block_id")
			} else if n := Count(k); n > MaxBlockID {
				c.add(kp, "block_id of %s, the limit is %s", plural(n, "character", "characters"), commas(MaxBlockID))
			}
			if s, ok := msg.(string); !ok {
				c.add(kp, "must be a string, not %s", jsonType(msg))
			} else if strings.TrimSpace(s) == "" {
				c.add(kp, "empty error message")
			}
		}
	case "update", "push":
		if vp, vv, ok := c.required(p, m, "view"); ok {
			c.view(vp, vv, "modal")
		}
	default:
		c.add(ap, "must be clear, errors, update or push, not %s", describe(action))
	}
}

// optionsResponse checks the answer to a block_suggestion.
func (c *checker) optionsResponse(p path, v any) {
	m, ok := c.object(p, v, "an options response")
	if !ok {
		return
	}
	_, _, hasOptions := field(p, m, "options")
	gp, gv, hasGroups := field(p, m, "option_groups")
	switch {
	case hasOptions && hasGroups:
		c.add(p, "an options response has options or option_groups, not both")
	case hasGroups:
		// An empty list is a valid answer: nothing matched.
		c.optionGroups(gp, gv, false)
	default:
		// An empty list is a valid answer: nothing matched.
		op, ov, _ := c.required(p, m, "options")
		list, ok := ov.([]any)
		if !ok {
			if ov != nil {
				c.add(op, "options must be an array, not %s", jsonType(ov))
			}
			return
		}
		c.count(op, len(list), MaxSelectOptions, "option")
		for i, o := range list {
			c.option(op.idx(i), o, plainOnly, false)
		}
	}
}

package blockkit_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/slackapp/blockkit"
)

// S is n characters of three bytes each: a payload at a limit passes only
// if characters, not bytes, are counted.
func S(n int) string { return strings.Repeat("€", n) }

type obj = map[string]any
type arr = []any

func plain(s string) obj  { return obj{"type": "plain_text", "text": s} }
func mrkdwn(s string) obj { return obj{"type": "mrkdwn", "text": s} }

func msg(blocks ...any) obj { return obj{"text": "fallback", "blocks": arr(blocks)} }

func modal(blocks ...any) obj {
	return obj{"type": "modal", "title": plain("Title"), "submit": plain("Send"), "close": plain("Cancel"), "blocks": arr(blocks)}
}

func home(blocks ...any) obj { return obj{"type": "home", "blocks": arr(blocks)} }

func section(s string) obj { return obj{"type": "section", "text": mrkdwn(s)} }

func button(id string) obj {
	return obj{"type": "button", "action_id": id, "text": plain("Go"), "value": "v"}
}

func actions(els ...any) obj { return obj{"type": "actions", "elements": arr(els)} }

func option(text, value string) obj { return obj{"text": plain(text), "value": value} }

func selectOf(opts ...any) obj {
	return obj{"type": "static_select", "action_id": "pick", "placeholder": plain("Choose"), "options": arr(opts)}
}

func input(el obj) obj {
	return obj{"type": "input", "block_id": "in", "label": plain("Member"), "element": el}
}

func confirmDialog() obj {
	return obj{"title": plain("Sure?"), "text": plain("Really."), "confirm": plain("Yes"), "deny": plain("No")}
}

func times(n int, f func(i int) any) arr {
	out := make(arr, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

// TestLimits builds each payload at the limit, which must pass, and one
// past it, which must fail at the named path with Slack's wording of the
// limit.
func TestLimits(t *testing.T) {
	sectionBlocks := func(n int) arr { return times(n, func(int) any { return section("x") }) }
	tests := []struct {
		name  string
		limit int
		build func(n int) any
		path  string
		unit  string // "character" unless a count
	}{
		{"section text", 3000, func(n int) any { return msg(section(S(n))) }, "blocks[0].text.text", ""},
		{"section field", 2000, func(n int) any {
			return msg(obj{"type": "section", "fields": arr{mrkdwn(S(n))}})
		}, "blocks[0].fields[0].text", ""},
		{"section fields", 10, func(n int) any {
			return msg(obj{"type": "section", "fields": times(n, func(int) any { return mrkdwn("f") })})
		}, "blocks[0].fields", "field"},
		{"header", 150, func(n int) any { return msg(obj{"type": "header", "text": plain(S(n))}) }, "blocks[0].text.text", ""},
		{"context elements", 10, func(n int) any {
			return msg(obj{"type": "context", "elements": times(n, func(int) any { return mrkdwn("c") })})
		}, "blocks[0].elements", "element"},
		{"context text", 3000, func(n int) any {
			return msg(obj{"type": "context", "elements": arr{plain(S(n))}})
		}, "blocks[0].elements[0].text", ""},
		{"context image url", 3000, func(n int) any {
			return msg(obj{"type": "context", "elements": arr{obj{"type": "image", "image_url": S(n), "alt_text": "a"}}})
		}, "blocks[0].elements[0].image_url", ""},
		{"actions elements", 25, func(n int) any {
			return msg(actions(times(n, func(i int) any { return button(fmt.Sprint("b", i)) })...))
		}, "blocks[0].elements", "element"},
		{"button text", 75, func(n int) any {
			b := button("b")
			b["text"] = plain(S(n))
			return msg(actions(b))
		}, "blocks[0].elements[0].text.text", ""},
		{"button value", 2000, func(n int) any {
			b := button("b")
			b["value"] = S(n)
			return msg(actions(b))
		}, "blocks[0].elements[0].value", ""},
		{"button url", 3000, func(n int) any {
			b := button("b")
			b["url"] = S(n)
			return msg(actions(b))
		}, "blocks[0].elements[0].url", ""},
		{"button accessibility_label", 75, func(n int) any {
			b := button("b")
			b["accessibility_label"] = S(n)
			return msg(actions(b))
		}, "blocks[0].elements[0].accessibility_label", ""},
		{"action_id", 255, func(n int) any { return msg(actions(button(S(n)))) }, "blocks[0].elements[0].action_id", ""},
		{"block_id", 255, func(n int) any {
			b := section("x")
			b["block_id"] = S(n)
			return msg(b)
		}, "blocks[0].block_id", ""},
		{"static select options", 100, func(n int) any {
			return msg(actions(selectOf(times(n, func(i int) any { return option("o", fmt.Sprint(i)) })...)))
		}, "blocks[0].elements[0].options", "option"},
		{"overflow options", 5, func(n int) any {
			return msg(actions(obj{"type": "overflow", "action_id": "more", "options": times(n, func(i int) any { return option("o", fmt.Sprint(i)) })}))
		}, "blocks[0].elements[0].options", "option"},
		{"overflow option url", 3000, func(n int) any {
			o := option("Docs", "docs")
			o["url"] = S(n)
			return msg(actions(obj{"type": "overflow", "action_id": "more", "options": arr{o, option("Other", "other")}}))
		}, "blocks[0].elements[0].options[0].url", ""},
		{"option text", 75, func(n int) any { return msg(actions(selectOf(option(S(n), "v")))) }, "blocks[0].elements[0].options[0].text.text", ""},
		{"option value", 150, func(n int) any { return msg(actions(selectOf(option("o", S(n))))) }, "blocks[0].elements[0].options[0].value", ""},
		{"option description", 75, func(n int) any {
			o := option("o", "v")
			o["description"] = plain(S(n))
			return msg(actions(selectOf(o)))
		}, "blocks[0].elements[0].options[0].description.text", ""},
		{"select placeholder", 150, func(n int) any {
			s := selectOf(option("o", "v"))
			s["placeholder"] = plain(S(n))
			return msg(actions(s))
		}, "blocks[0].elements[0].placeholder.text", ""},
		{"option groups", 100, func(n int) any {
			s := selectOf()
			delete(s, "options")
			s["option_groups"] = times(n, func(i int) any {
				return obj{"label": plain("g"), "options": arr{option("o", fmt.Sprint(i))}}
			})
			return msg(actions(s))
		}, "blocks[0].elements[0].option_groups", "option group"},
		{"option group label", 75, func(n int) any {
			s := selectOf()
			delete(s, "options")
			s["option_groups"] = arr{obj{"label": plain(S(n)), "options": arr{option("o", "v")}}}
			return msg(actions(s))
		}, "blocks[0].elements[0].option_groups[0].label.text", ""},
		{"option group options", 100, func(n int) any {
			s := selectOf()
			delete(s, "options")
			s["option_groups"] = arr{obj{"label": plain("g"), "options": times(n, func(i int) any { return option("o", fmt.Sprint(i)) })}}
			return msg(actions(s))
		}, "blocks[0].elements[0].option_groups[0].options", "option"},
		{"confirm title", 100, func(n int) any {
			b, c := button("b"), confirmDialog()
			c["title"], b["confirm"] = plain(S(n)), c
			return msg(actions(b))
		}, "blocks[0].elements[0].confirm.title.text", ""},
		{"confirm text", 300, func(n int) any {
			b, c := button("b"), confirmDialog()
			c["text"], b["confirm"] = plain(S(n)), c
			return msg(actions(b))
		}, "blocks[0].elements[0].confirm.text.text", ""},
		{"confirm confirm", 30, func(n int) any {
			b, c := button("b"), confirmDialog()
			c["confirm"], b["confirm"] = plain(S(n)), c
			return msg(actions(b))
		}, "blocks[0].elements[0].confirm.confirm.text", ""},
		{"confirm deny", 30, func(n int) any {
			b, c := button("b"), confirmDialog()
			c["deny"], b["confirm"] = plain(S(n)), c
			return msg(actions(b))
		}, "blocks[0].elements[0].confirm.deny.text", ""},
		{"input label", 2000, func(n int) any {
			in := input(obj{"type": "plain_text_input", "action_id": "t"})
			in["label"] = plain(S(n))
			return modal(in)
		}, "blocks[0].label.text", ""},
		{"input hint", 2000, func(n int) any {
			in := input(obj{"type": "plain_text_input", "action_id": "t"})
			in["hint"] = plain(S(n))
			return modal(in)
		}, "blocks[0].hint.text", ""},
		{"plain_text_input placeholder", 150, func(n int) any {
			return modal(input(obj{"type": "plain_text_input", "action_id": "t", "placeholder": plain(S(n))}))
		}, "blocks[0].element.placeholder.text", ""},
		{"modal title", 24, func(n int) any {
			m := modal(section("x"))
			m["title"] = plain(S(n))
			return m
		}, "title.text", ""},
		{"modal submit", 24, func(n int) any {
			m := modal(section("x"))
			m["submit"] = plain(S(n))
			return m
		}, "submit.text", ""},
		{"modal close", 24, func(n int) any {
			m := modal(section("x"))
			m["close"] = plain(S(n))
			return m
		}, "close.text", ""},
		{"modal private_metadata", 3000, func(n int) any {
			m := modal(section("x"))
			m["private_metadata"] = S(n)
			return m
		}, "private_metadata", ""},
		{"modal callback_id", 255, func(n int) any {
			m := modal(section("x"))
			m["callback_id"] = S(n)
			return m
		}, "callback_id", ""},
		{"modal blocks", 100, func(n int) any { return modal(sectionBlocks(n)...) }, "blocks", "block"},
		{"home blocks", 100, func(n int) any { return home(sectionBlocks(n)...) }, "blocks", "block"},
		{"home private_metadata", 3000, func(n int) any {
			h := home(section("x"))
			h["private_metadata"] = S(n)
			return h
		}, "private_metadata", ""},
		{"views.publish view blocks", 100, func(n int) any {
			return obj{"user_id": "U1", "view": home(sectionBlocks(n)...)}
		}, "view.blocks", "block"},
		{"message blocks", 50, func(n int) any { return msg(sectionBlocks(n)...) }, "blocks", "block"},
		{"bare blocks", 50, func(n int) any { return sectionBlocks(n) }, "", "block"},
		{"message text", 40000, func(n int) any { return obj{"text": S(n)} }, "text", ""},
		{"image alt_text", 2000, func(n int) any {
			return msg(obj{"type": "image", "image_url": "https://x/y.png", "alt_text": S(n)})
		}, "blocks[0].alt_text", ""},
		{"image image_url", 3000, func(n int) any {
			return msg(obj{"type": "image", "image_url": S(n), "alt_text": "chart"})
		}, "blocks[0].image_url", ""},
		{"image title", 2000, func(n int) any {
			return msg(obj{"type": "image", "image_url": "https://x/y.png", "alt_text": "chart", "title": plain(S(n))})
		}, "blocks[0].title.text", ""},
		{"options response", 100, func(n int) any {
			return obj{"options": times(n, func(i int) any { return option("o", fmt.Sprint(i)) })}
		}, "options", "option"},
		{"view_submission update view blocks", 100, func(n int) any {
			return obj{"response_action": "update", "view": modal(sectionBlocks(n)...)}
		}, "view.blocks", "block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := blockkit.Validate(tt.build(tt.limit)); err != nil {
				t.Fatalf("at the limit of %d: %v", tt.limit, err)
			}
			err := blockkit.Validate(tt.build(tt.limit + 1))
			unit := tt.unit
			if unit == "" {
				unit = "character"
			}
			want := fmt.Sprintf("%s, the limit is %s", count(tt.limit+1, unit), commas(tt.limit))
			v := find(t, err, tt.path)
			if !strings.HasPrefix(v.Message, want) {
				t.Errorf("past the limit: %s: %q, want it to start %q", v.Path, v.Message, want)
			}
		})
	}
}

func count(n int, unit string) string {
	if n == 1 {
		return commas(n) + " " + unit
	}
	return commas(n) + " " + unit + "s"
}

func commas(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// find returns the violation at path, failing the test when err holds
// none there.
func find(t *testing.T, err error, path string) blockkit.Violation {
	t.Helper()
	var vs blockkit.Violations
	if !errors.As(err, &vs) {
		t.Fatalf("want violations at %q, got %v", path, err)
	}
	for _, v := range vs {
		if v.Path == path {
			return v
		}
	}
	t.Fatalf("no violation at %q in:\n%v", path, err)
	return blockkit.Violation{}
}

// as is a payload checked as a given kind rather than detected.
type as struct {
	kind    blockkit.Kind
	payload any
}

// TestRules checks the structural rules, each with a payload that breaks
// only that rule.
func TestRules(t *testing.T) {
	withKey := func(m obj, k string, v any) obj { m[k] = v; return m }
	without := func(m obj, k string) obj { delete(m, k); return m }
	tests := []struct {
		name    string
		payload any
		path    string
		message string // a part of the violation's message
	}{
		{"header is plain_text", msg(obj{"type": "header", "text": mrkdwn("H")}), "blocks[0].text.type", "must be plain_text here, not mrkdwn"},
		{"header needs text", msg(obj{"type": "header"}), "blocks[0].text", "missing"},
		{"button text is plain_text", msg(actions(withKey(button("b"), "text", mrkdwn("Go")))), "blocks[0].elements[0].text.type", "must be plain_text"},
		{"button style", msg(actions(withKey(button("b"), "style", "green"))), "blocks[0].elements[0].style", "primary or danger"},
		{"select option text is plain_text", msg(actions(selectOf(obj{"text": mrkdwn("o"), "value": "v"}))), "blocks[0].elements[0].options[0].text.type", "must be plain_text"},
		{"option needs value", msg(actions(selectOf(obj{"text": plain("o")}))), "blocks[0].elements[0].options[0].value", "missing"},
		{"option url only in overflow", msg(actions(selectOf(withKey(option("o", "v"), "url", "https://x")))), "blocks[0].elements[0].options[0].url", "only available in overflow"},
		{"select needs options", msg(actions(without(selectOf(), "options"))), "blocks[0].elements[0].options", "missing"},
		{"select options or groups", msg(actions(withKey(selectOf(option("o", "v")), "option_groups", arr{obj{"label": plain("g"), "options": arr{option("o", "w")}}}))), "blocks[0].elements[0]", "not both"},
		{"initial option is an option", msg(actions(withKey(selectOf(option("Ann", "ann")), "initial_option", option("Bob", "bob")))), "blocks[0].elements[0].initial_option", "not one of the element's options"},
		{"modal title is plain_text", withKey(modal(section("x")), "title", mrkdwn("T")), "title.type", "must be plain_text"},
		{"modal needs title", without(modal(section("x")), "title"), "title", "missing"},
		{"modal submit is plain_text", withKey(modal(section("x")), "submit", mrkdwn("S")), "submit.type", "must be plain_text"},
		{"modal close is plain_text", withKey(modal(section("x")), "close", mrkdwn("C")), "close.type", "must be plain_text"},
		{"modal with input needs submit", without(modal(input(obj{"type": "plain_text_input", "action_id": "t"})), "submit"), "submit", "input blocks needs submit"},
		{"input label is plain_text", modal(withKey(input(obj{"type": "plain_text_input", "action_id": "t"}), "label", mrkdwn("L"))), "blocks[0].label.type", "must be plain_text"},
		{"input hint is plain_text", modal(withKey(input(obj{"type": "plain_text_input", "action_id": "t"}), "hint", mrkdwn("H"))), "blocks[0].hint.type", "must be plain_text"},
		{"input needs element", modal(without(input(obj{}), "element")), "blocks[0].element", "missing"},
		{"button not in input", modal(input(button("b"))), "blocks[0].element.type", "not allowed in an input block"},
		{"plain_text_input not in actions", msg(actions(obj{"type": "plain_text_input", "action_id": "t"})), "blocks[0].elements[0].type", "not allowed in an actions block"},
		{"image not in actions", msg(actions(obj{"type": "image", "image_url": "https://x", "alt_text": "a"})), "blocks[0].elements[0].type", "not allowed"},
		{"button in context", msg(obj{"type": "context", "elements": arr{button("b")}}), "blocks[0].elements[0].type", "text objects and images"},
		{"empty text", msg(section("")), "blocks[0].text.text", "empty"},
		{"empty field", msg(obj{"type": "section", "fields": arr{mrkdwn("")}}), "blocks[0].fields[0].text", "empty"},
		{"empty fields list", msg(obj{"type": "section", "text": mrkdwn("x"), "fields": arr{}}), "blocks[0].fields", "empty"},
		{"text type", msg(obj{"type": "section", "text": obj{"type": "markdown", "text": "x"}}), "blocks[0].text.type", "plain_text or mrkdwn"},
		{"text must be a string", msg(obj{"type": "section", "text": obj{"type": "mrkdwn", "text": 3}}), "blocks[0].text.text", "must be a string"},
		{"emoji only on plain_text", msg(obj{"type": "section", "text": obj{"type": "mrkdwn", "text": "x", "emoji": true}}), "blocks[0].text.emoji", "only usable when type is plain_text"},
		{"verbatim only on mrkdwn", msg(obj{"type": "section", "text": obj{"type": "plain_text", "text": "x", "verbatim": true}}), "blocks[0].text.verbatim", "only usable when type is mrkdwn"},
		{"section needs text or fields", msg(obj{"type": "section"}), "blocks[0]", "needs text or fields"},
		{"unknown block type", msg(obj{"type": "table"}), "blocks[0].type", `unknown block type "table"`},
		{"block without type", msg(obj{"text": mrkdwn("x")}), "blocks[0].type", "unknown block type null"},
		{"unknown element type", msg(actions(obj{"type": "workflow_button", "text": plain("Run")})), "blocks[0].elements[0].type", `unknown element type "workflow_button"`},
		{"accessory plain_text_input", msg(withKey(section("x"), "accessory", obj{"type": "plain_text_input"})), "blocks[0].accessory.type", "not allowed in a section's accessory"},
		{"duplicate block_id", msg(withKey(section("a"), "block_id", "same"), withKey(section("b"), "block_id", "same")), "blocks[1].block_id", "must be unique"},
		{"duplicate action_id", msg(actions(button("b"), button("b"))), "blocks[0].elements[1].action_id", "must be unique in a block"},
		{"empty actions", msg(obj{"type": "actions", "elements": arr{}}), "blocks[0].elements", "empty"},
		{"actions needs elements", msg(actions()), "blocks[0].elements", "missing"},
		{"empty context", msg(obj{"type": "context", "elements": arr{}}), "blocks[0].elements", "empty"},
		{"image needs a source", msg(obj{"type": "image", "alt_text": "a"}), "blocks[0].image_url", "image_url or slack_file"},
		{"image not both sources", msg(obj{"type": "image", "alt_text": "a", "image_url": "https://x", "slack_file": obj{"id": "F1"}}), "blocks[0]", "not both"},
		{"image needs alt_text", msg(obj{"type": "image", "image_url": "https://x"}), "blocks[0].alt_text", "missing"},
		{"confirm needs deny", msg(actions(withKey(button("b"), "confirm", without(confirmDialog(), "deny")))), "blocks[0].elements[0].confirm.deny", "missing"},
		{"confirm title plain", msg(actions(withKey(button("b"), "confirm", withKey(confirmDialog(), "title", mrkdwn("t"))))), "blocks[0].elements[0].confirm.title.type", "must be plain_text"},
		{"max_length range", modal(input(obj{"type": "plain_text_input", "action_id": "t", "max_length": 3001})), "blocks[0].element.max_length", "from 1 to 3,000"},
		{"min above max", modal(input(obj{"type": "plain_text_input", "action_id": "t", "min_length": 10, "max_length": 5})), "blocks[0].element.min_length", "more than max_length"},
		{"message with blocks needs text", obj{"blocks": arr{section("x")}}, "text", "fallback"},
		{"message needs something", obj{"response_type": "ephemeral"}, "", "needs text or blocks"},
		{"response_type", obj{"text": "x", "response_type": "public"}, "response_type", "ephemeral or in_channel"},
		{"blocks is an array", obj{"text": "x", "blocks": "[]"}, "blocks", "must be an array"},
		{"view type", as{blockkit.View, obj{"type": "dialog", "blocks": arr{}}}, "type", "must be modal or home"},
		{"views request view type", obj{"view": obj{"type": "dialog", "blocks": arr{}}}, "view.type", "must be modal or home"},
		{"view needs blocks", obj{"type": "home"}, "blocks", "missing"},
		{"response_action", obj{"response_action": "close"}, "response_action", "clear, errors, update or push"},
		{"errors needs errors", obj{"response_action": "errors"}, "errors", "missing"},
		{"errors not empty", obj{"response_action": "errors", "errors": obj{}}, "errors", "empty"},
		{"error message not empty", obj{"response_action": "errors", "errors": obj{"recipient": " "}}, "errors.recipient", "empty error message"},
		{"error block_id length", obj{"response_action": "errors", "errors": obj{S(256): "bad"}}, `errors["` + S(256) + `"]`, "the limit is 255"},
		{"update needs a modal", obj{"response_action": "update", "view": home(section("x"))}, "view.type", "must be modal here"},
		{"options and groups", obj{"options": arr{}, "option_groups": arr{}}, "", "not both"},
		{"options must be an array", obj{"options": "none"}, "options", "must be an array"},
		// slack-go's OptionsResponse leaves an empty list out: {} is no
		// answer Slack documents ("either an options array, or an
		// option_groups array").
		{"options response needs options", as{blockkit.Options, slack.OptionsResponse{Options: []*slack.OptionBlockObject{}}}, "options", "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if a, ok := tt.payload.(as); ok {
				err = blockkit.ValidateAs(a.kind, a.payload)
			} else {
				err = blockkit.Validate(tt.payload)
			}
			v := find(t, err, tt.path)
			if !strings.Contains(v.Message, tt.message) {
				t.Errorf("%s: %q, want it to say %q", v.Path, v.Message, tt.message)
			}
		})
	}
}

// TestValid is payloads as the app builds them with slack-go, which must
// pass, so that the rules above do not refuse what Slack accepts.
func TestValid(t *testing.T) {
	txt := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	md := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
	}
	opts := []*slack.OptionBlockObject{
		slack.NewOptionBlockObject("ann", txt("Ann"), nil),
		slack.NewOptionBlockObject("bob", txt("Bob"), txt("Finance")),
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, txt("Choose"), "pick", opts...)
	sel.InitialOption = opts[1]
	ext := slack.NewOptionsSelectBlockElement(slack.OptTypeExternal, txt("Search"), "find")
	zero := 0
	ext.MinQueryLength = &zero
	accept := slack.NewButtonBlockElement("accept", "acme:t1", txt("Accept"))
	accept.Style = slack.StylePrimary
	decline := slack.NewButtonBlockElement("decline", "acme:t1", txt("Decline"))
	decline.Style = slack.StyleDanger
	decline.Confirm = slack.NewConfirmationBlockObject(txt("Decline?"), txt("Billing stays where it is."), txt("Decline"), txt("Keep"))
	all := []slack.Block{
		slack.NewHeaderBlock(txt("My Credit")),
		slack.NewSectionBlock(md("*Acme* – you hold Billing."), nil, nil),
		slack.NewSectionBlock(nil, []*slack.TextBlockObject{md("*Balance*\n1 credit"), md("*Usage*\n2 credits")}, nil),
		slack.NewSectionBlock(md("Chart"), nil, slack.NewAccessory(slack.NewImageBlockElement("https://x/c.png", "usage chart"))),
		slack.NewDividerBlock(),
		slack.NewContextBlock("", md("Updated <!date^1700000000^{date_short}|now>"), slack.NewImageBlockElement("https://x/i.png", "icon")),
		slack.NewActionBlock("actions", accept, decline, sel),
		slack.NewImageBlock("https://x/chart.png", "Usage by day", "chart", txt("Usage")),
	}
	modalView := slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: "billing_transfer", PrivateMetadata: "acme",
		Title: txt("Transfer Billing Role"), Submit: txt("Send Request"), Close: txt("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewSectionBlock(md("Offer *Billing*."), nil, nil),
			slack.NewInputBlock("recipient", txt("Member"), txt("Active members only."), sel),
			slack.NewInputBlock("search", txt("Or search"), nil, ext),
			slack.NewInputBlock("reason", txt("Reason"), nil, slack.NewPlainTextInputBlockElement(txt("Why"), "reason").WithMaxLength(300)),
		}},
	}
	tests := []struct {
		name    string
		payload any
		kind    blockkit.Kind
	}{
		{"blocks", slack.Blocks{BlockSet: all}, blockkit.Blocks},
		{"message map", map[string]any{"text": "fallback", "blocks": slack.Blocks{BlockSet: all}, "response_type": "ephemeral"}, blockkit.Message},
		{"text-only answer", map[string]string{"response_type": "ephemeral", "text": "Done."}, blockkit.Message},
		{"modal", modalView, blockkit.View},
		{"views.open", map[string]any{"trigger_id": "t", "view": modalView}, blockkit.ViewRequest},
		{"home", slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: all}, PrivateMetadata: "acme"}, blockkit.View},
		{"views.publish", slack.PublishViewContextRequest{UserID: "U1", View: slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: all}}}, blockkit.ViewRequest},
		{"errors", slack.NewErrorsViewSubmissionResponse(map[string]string{"recipient": "Choose a member."}), blockkit.ViewSubmissionResponse},
		{"clear", slack.NewClearViewSubmissionResponse(), blockkit.ViewSubmissionResponse},
		{"update", slack.NewUpdateViewSubmissionResponse(&modalView), blockkit.ViewSubmissionResponse},
		{"options", slack.OptionsResponse{Options: opts}, blockkit.Options},
		{"no options", map[string]any{"options": []any{}}, blockkit.Options},
		{"json text", []byte(`{"text":"hi","blocks":[{"type":"divider"}]}`), blockkit.Message},
		{"raw message", json.RawMessage(`[{"type":"section","text":{"type":"mrkdwn","text":"hi"}}]`), blockkit.Blocks},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := blockkit.Validate(tt.payload); err != nil {
				t.Errorf("Validate: %v", err)
			}
			b, _ := json.Marshal(tt.payload)
			if raw, ok := tt.payload.([]byte); ok {
				b = raw
			} else if raw, ok := tt.payload.(json.RawMessage); ok {
				b = raw
			}
			var v any
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatal(err)
			}
			if got := blockkit.Detect(v); got != tt.kind {
				t.Errorf("Detect = %q, want %q", got, tt.kind)
			}
		})
	}
}

func TestNotAPayload(t *testing.T) {
	for _, p := range []any{[]byte(`{"text":`), []byte(`"text"`), []byte(`{} {}`), "a Go string", 42, func() {}} {
		err := blockkit.Validate(p)
		var vs blockkit.Violations
		if !errors.As(err, &vs) || len(vs) != 1 || vs[0].Path != "" {
			t.Errorf("Validate(%#v) = %v, want one violation of the whole payload", p, err)
		}
	}
	if err := blockkit.ValidateAs("dialog", obj{}); err == nil || !strings.Contains(err.Error(), "unknown payload kind") {
		t.Errorf("unknown kind: %v", err)
	}
}

// TestLargeOrganization is a Home tab as a naive builder would make it
// for an organization of 300 groups with long names: one section per
// group, a long summary. Every violation is reported, each with its path,
// in one error.
func TestLargeOrganization(t *testing.T) {
	name := strings.Repeat("Ünïcödé group name ", 6) // 114 characters, more bytes
	var blocks arr
	blocks = append(blocks, obj{"type": "header", "text": plain("My Credit for " + strings.Repeat(name, 2))})
	var all strings.Builder
	for i := range 300 {
		line := fmt.Sprintf("*%s %d* `██████░░░░ 60%%` 600 of 1,000 credits", name, i)
		blocks = append(blocks, section(line))
		all.WriteString(line + "\n")
	}
	blocks[2] = section(all.String())
	err := blockkit.Validate(obj{"type": "home", "blocks": blocks})
	var vs blockkit.Violations
	if !errors.As(err, &vs) {
		t.Fatalf("want violations, got %v", err)
	}
	want := map[string]string{
		"blocks":              "301 blocks, the limit is 100 for a Home tab",
		"blocks[0].text.text": "242 characters, the limit is 150",
		"blocks[2].text.text": fmt.Sprintf("%s characters, the limit is 3,000", commas(blockkit.Count(all.String()))),
	}
	for path, message := range want {
		if v := find(t, err, path); v.Message != message {
			t.Errorf("%s: %q, want %q", path, v.Message, message)
		}
	}
	if len(vs) != len(want) {
		t.Errorf("%d violations, want %d:\n%v", len(vs), len(want), err)
	}
	if !strings.Contains(err.Error(), "\nblocks[2].text.text: ") && !strings.HasPrefix(err.Error(), "blocks[2].text.text: ") {
		t.Errorf("the error does not list blocks[2].text.text on a line of its own:\n%v", err)
	}
	if got := find(t, err, "blocks[2].text.text").Pointer; got != "/blocks/2/text/text" {
		t.Errorf("Pointer = %q", got)
	}
}

func TestPointer(t *testing.T) {
	err := blockkit.Validate(obj{"response_action": "errors", "errors": obj{"a/b~c": ""}})
	v := find(t, err, `errors["a/b~c"]`)
	if v.Pointer != "/errors/a~1b~0c" {
		t.Errorf("Pointer = %q, want /errors/a~1b~0c", v.Pointer)
	}
	if v.String() != `errors["a/b~c"]: empty error message` {
		t.Errorf("String = %q", v.String())
	}
}

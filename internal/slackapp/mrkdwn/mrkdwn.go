// Package mrkdwn builds the text of Slack messages (Slack's "mrkdwn") so
// that nothing a person typed can become markup. A Text is made only by
// this package: formats are written in code, and every value put into one
// is escaped (&, < and >, the characters Slack reads as markup), unless it
// is itself a Text. Markup the app means (a mention, a date, a link, bold)
// comes only from this package's functions, which check what they wrap. So
// a name such as "<!channel> <https://evil.example|Top up here>" shows as
// typed, pings nobody and links nowhere, in every message, and a new
// message cannot forget to escape: a string is not a Text.
package mrkdwn

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Text is mrkdwn that is safe to send. It carries its plain rendering too,
// for the places Slack shows text as typed (a dialog's field error): there
// the app's markup would show as asterisks, and a person's text is kept
// exactly as they typed it.
type Text struct{ s, plain string }

// String is the mrkdwn source.
func (t Text) String() string { return t.s }

// Plain is t as plain text: values as typed, the app's own markup (bold,
// code) left out, a date as its UTC fallback, a link as its label.
func (t Text) Plain() string { return t.plain }

// Empty reports whether t has no text.
func (t Text) Empty() bool { return t.s == "" }

// Format is a format written in the code (a constant), in fmt's syntax. A
// string variable does not convert to it implicitly, so a name cannot
// become a format by accident.
type Format string

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Escape makes s safe as mrkdwn: it shows as typed.
func Escape(s string) Text { return Text{escaper.Replace(s), s} }

// markup is the app's own mrkdwn in a format, left out of the plain text.
var markup = strings.NewReplacer("*", "", "`", "")

// F formats values into format. A Text value goes in as it is, a number as
// a number; every other value (a name, an error, a Stringer) is formatted
// with fmt and escaped.
// The format itself must not hold user text; it may hold mrkdwn the app
// means (*bold*, `code`, line breaks).
func F(format Format, args ...any) Text {
	safe := make([]any, len(args))
	plain := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case Text:
			safe[i], plain[i] = v.s, v.plain
		case string:
			safe[i], plain[i] = escaper.Replace(v), v
		case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64, bool:
			safe[i], plain[i] = v, v // no markup in a number: keep it for %d, %x, %.1f
		default:
			s := fmt.Sprint(v)
			safe[i], plain[i] = escaper.Replace(s), s
		}
	}
	return Text{fmt.Sprintf(string(format), safe...), fmt.Sprintf(markup.Replace(string(format)), plain...)}
}

// Bold is *v*. A person's text may hold '*' and end the bold early; that
// changes only how it looks, never what it does.
func Bold(v any) Text { return F("*%s*", v) }

// Code is `v`, for ids and commands.
func Code(v any) Text {
	t := F("%s", v)
	return Text{"`" + strings.ReplaceAll(t.s, "`", "'") + "`", t.plain}
}

// Join joins parts with sep (written in code).
func Join(sep Format, parts ...Text) Text {
	ss := make([]string, 0, len(parts))
	ps := make([]string, 0, len(parts))
	for _, p := range parts {
		if !p.Empty() {
			ss, ps = append(ss, p.s), append(ps, p.plain)
		}
	}
	return Text{strings.Join(ss, string(sep)), strings.Join(ps, markup.Replace(string(sep)))}
}

var slackID = regexp.MustCompile(`^[UW][A-Z0-9]{1,31}$`)

// Mention shows a Slack user as a person (<@U123>), without pinging them
// in a message they are not part of. An id that is not a user id shows as
// plain text, so it cannot become another kind of link.
func Mention(slackUserID string) Text {
	if !slackID.MatchString(slackUserID) {
		return Escape(slackUserID)
	}
	return Text{"<@" + slackUserID + ">", "<@" + slackUserID + ">"}
}

// Date shows t in each reader's own time zone with Slack's date
// formatting: token is a Slack date token string such as
// "{date_short_pretty} at {time}"; the fallback (for clients that cannot
// format) is t in UTC.
func Date(t time.Time, token Format) Text {
	fallback := t.UTC().Format("Jan 2, 2006 at 15:04 UTC")
	return Text{"<!date^" + strconv.FormatInt(t.Unix(), 10) + "^" + string(token) + "|" + escaper.Replace(fallback) + ">", fallback}
}

// When is a moment as people read it: "Nov 30, 2026 at 2:05 PM" (or
// "Today at…"), in their own time zone.
func When(t time.Time) Text { return Date(t, "{date_short_pretty} at {time}") }

// Day is a date without a time, in the reader's own time zone.
func Day(t time.Time) Text { return Date(t, "{date_short_pretty}") }

// Link is a link with a label: <url|label>. Only absolute https (and
// Slack's own slack://) URLs without characters that end a link are
// linked; anything else shows as its label alone.
func Link(rawURL string, label any) Text {
	l := F("%s", label)
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "slack") || strings.ContainsAny(rawURL, "<>| \t\r\n") {
		return l
	}
	return Text{"<" + rawURL + "|" + strings.ReplaceAll(l.s, "|", "¦") + ">", l.plain}
}

// Truncate keeps t within n characters (as Slack counts them), ending a
// cut text with "…". It never cuts an escape (&amp;) or a piece of markup
// (<@U…>, <!date…>, <url|label>) in two: the cut falls before it.
func Truncate(t Text, n int) Text {
	r := []rune(t.s)
	if len(r) <= n {
		return t
	}
	if n < 1 {
		return Text{}
	}
	plain := t.plain
	if p := []rune(plain); len(p) > n-1 {
		plain = string(p[:max(n-1, 0)]) + "…"
	}
	cut := n - 1
	// Step back out of an unfinished entity or markup.
	for i := cut - 1; i >= 0 && i >= cut-64; i-- {
		if r[i] == ';' || r[i] == '>' {
			break
		}
		if r[i] == '&' || r[i] == '<' {
			cut = i
			break
		}
	}
	return Text{string(r[:cut]) + "…", plain}
}

// Len is t's length in characters, as Slack counts them.
func (t Text) Len() int { return utf8.RuneCountInString(t.s) }

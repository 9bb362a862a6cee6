package mrkdwn

import (
	"strings"
	"testing"
	"time"
)

// Hostile is a corpus of names a hostile workspace member or operator
// might give a member, organization, group or agent: each must show as
// typed wherever it appears.
var Hostile = []string{
	"<!channel>",
	"<!here> <!everyone>",
	"<https://evil.example/pay|Top up credits here>",
	"<@U0ADMIN>",
	"<#C0GENERAL>",
	"<!subteam^S0123|@finance>",
	"<!date^1700000000^{date}|today>",
	"&lt;!channel&gt;",
	"a & b < c > d",
	"*bold* _it_ ~st~ `code` ```block```",
	"> quoted\n>> more",
}

func TestValuesAreEscaped(t *testing.T) {
	for _, h := range Hostile {
		for name, got := range map[string]Text{
			"F":       F("Hello %s, welcome to %s", h, h),
			"Bold":    Bold(h),
			"Code":    Code(h),
			"Escape":  Escape(h),
			"Link":    Link("https://example.com/x", h),
			"Mention": Mention(h),
		} {
			s := got.String()
			if strings.ContainsAny(strings.ReplaceAll(strings.ReplaceAll(s, "<https://example.com/x|", ""), ">", ""), "<") {
				t.Errorf("%s(%q) = %q: a '<' of the value reached the text", name, h, s)
			}
			if strings.Contains(s, "<!") || strings.Contains(s, "<@U0ADMIN>") || strings.Contains(s, "<https://evil") {
				t.Errorf("%s(%q) = %q: markup of the value reached the text", name, h, s)
			}
		}
	}
}

func TestTextComposes(t *testing.T) {
	name := Bold("R&D")
	got := F("%s spent %d credits for %s", name, 42, Mention("U0DINA"))
	if want := "*R&amp;D* spent 42 credits for <@U0DINA>"; got.String() != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := Join("\n", Escape("a"), Text{}, Escape("b")).String(); got != "a\nb" {
		t.Errorf("Join leaving out the empty part = %q", got)
	}
}

func TestMarkupTheAppMeans(t *testing.T) {
	tests := []struct {
		got  Text
		want string
	}{
		{Mention("U0DINA"), "<@U0DINA>"},
		{Mention("W0ENT"), "<@W0ENT>"},
		{Mention("u0dina"), "u0dina"},     // not a Slack user id: plain text
		{Mention("U0DINA|x"), "U0DINA|x"}, // cannot add a label
		{Mention("U0DINA><!here"), "U0DINA&gt;&lt;!here"},
		{Link("https://billing.example.com/a?b=c", "Add credit"), "<https://billing.example.com/a?b=c|Add credit>"},
		{Link("https://billing.example.com", "a|b"), "<https://billing.example.com|a¦b>"},
		{Link("javascript:alert(1)", "Add credit"), "Add credit"},
		{Link("http://billing.example.com", "Add credit"), "Add credit"},
		{Link("https://evil.example/x|Top up", "Add credit"), "Add credit"},
		{Link("slack://app?team=T1&id=A1&tab=home", "My Credit"), "<slack://app?team=T1&id=A1&tab=home|My Credit>"},
		{When(time.Date(2026, 11, 30, 14, 5, 0, 0, time.UTC)), "<!date^1796047500^{date_short_pretty} at {time}|Nov 30, 2026 at 14:05 UTC>"},
		{Code("a`b"), "`a'b`"},
	}
	for _, tt := range tests {
		if tt.got.String() != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestTruncateKeepsMarkupWhole(t *testing.T) {
	tests := []struct {
		in   Text
		n    int
		want string
	}{
		{Escape("short"), 10, "short"},
		{Escape("abcdefghij"), 5, "abcd…"},
		{F("ab%s", "&&&&"), 5, "ab…"},                    // "ab&amp;…" would cut &amp; in two
		{F("hi %s there", Mention("U0DINA")), 8, "hi …"}, // not "hi <@U0D…"
		{F("x %s y", Link("https://e.example/a", "go")), 12, "x …"},
		{Escape("日本語のテキスト"), 4, "日本語…"},
	}
	for _, tt := range tests {
		if got := Truncate(tt.in, tt.n); got.String() != tt.want || got.Len() > tt.n {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// TestPlain: the plain rendering keeps what a person typed exactly (stars
// and angle brackets included) and leaves out only the app's markup.
func TestPlain(t *testing.T) {
	tests := []struct {
		name string
		text Text
		want string
	}{
		{"escaped value", Escape("R*D <&> `x`"), "R*D <&> `x`"},
		{"bold name", F("%s is no longer an active member of %s.", Bold("R*D"), Code("acme")), "R*D is no longer an active member of acme."},
		{"number", F("*%d* credits", 42), "42 credits"},
		{"link", Link("https://example.com/top-up", "the *top-up* page"), "the *top-up* page"},
		{"join", Join(" · ", Bold("a"), Text{}, Escape("b*")), "a · b*"},
		{"date", Day(time.Date(2026, 11, 30, 14, 5, 0, 0, time.UTC)), "Nov 30, 2026 at 14:05 UTC"},
		{"truncated", Truncate(Escape("abcdefgh"), 5), "abcd…"},
	}
	for _, tt := range tests {
		if got := tt.text.Plain(); got != tt.want {
			t.Errorf("%s: Plain = %q, want %q", tt.name, got, tt.want)
		}
	}
}

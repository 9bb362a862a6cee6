package domain

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text that people type (names, reasons, kinds) ends up in Slack messages,
// the audit trail and logs. It is checked here, once, for every adapter.

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// ValidateID checks a caller-chosen identifier: 1 to 128 characters of
// letters, digits and . _ : -, starting with a letter or digit. Ids become
// parts of storage keys, so '#' and spaces are not allowed.
func ValidateID(kind, id string) error {
	if !idPattern.MatchString(id) {
		return Refusef(RuleInvalid, "%s id %q is not valid: use 1 to 128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit", kind, id)
	}
	return nil
}

// MaxNameChars bounds a display name, in characters.
const MaxNameChars = 200

// ValidateName checks a display name: 1 to 200 characters, not blank, no
// control characters and no invisible format characters (names end up in
// Slack messages, where a bidirectional override makes a name display as
// something it is not).
func ValidateName(kind, name string) error {
	if strings.TrimSpace(name) == "" {
		return Refusef(RuleInvalid, "The %s name is blank; send a name people will recognise", kind)
	}
	if utf8.RuneCountInString(name) > MaxNameChars {
		return Refusef(RuleInvalid, "%s name must be 1 to %d characters and not blank", kind, MaxNameChars)
	}
	if !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl) {
		return Refusef(RuleInvalid, "%s name must be valid text without control characters", kind)
	}
	if r, ok := formatControl(name); ok {
		return Refusef(RuleInvalid, "%s name must not contain the invisible format character U+%04X: such characters (bidirectional overrides, zero-width spaces) make a name display as something it is not", kind, r)
	}
	return nil
}

// MaxReasonChars bounds a grant's reason, in characters.
const MaxReasonChars = 500

// ValidateReason checks a grant's reason, kept in the audit trail: at most
// 500 characters (counted as characters, not bytes), line breaks allowed,
// other control and invisible format characters not.
func ValidateReason(reason string) error {
	if !utf8.ValidString(reason) {
		return invalidField("reason", "\"reason\" must be valid UTF-8 text.")
	}
	if n := utf8.RuneCountInString(reason); n > MaxReasonChars {
		return invalidField("reason", "\"reason\" must be at most %d characters; it has %d.", MaxReasonChars, n)
	}
	if strings.ContainsFunc(reason, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) {
		return invalidField("reason", "\"reason\" must not contain control characters other than line breaks and tabs.")
	}
	if r, ok := formatControl(reason); ok {
		return invalidField("reason", "\"reason\" must not contain the invisible format character U+%04X.", r)
	}
	return nil
}

// MaxKindChars bounds a usage event's kind, in bytes of its UTF-8 text.
const MaxKindChars = 64

// ValidateKind checks a usage event's kind: at most 64 bytes of text
// without control or invisible format characters.
func ValidateKind(kind string) error {
	if len(kind) > MaxKindChars {
		return invalidField("kind", "\"kind\" must be at most %d characters.", MaxKindChars)
	}
	if !utf8.ValidString(kind) || strings.ContainsFunc(kind, unicode.IsControl) {
		return invalidField("kind", "\"kind\" must be text without control characters.")
	}
	if r, ok := formatControl(kind); ok {
		return invalidField("kind", "\"kind\" must not contain the invisible format character U+%04X.", r)
	}
	return nil
}

// formatControl finds an invisible format character (Unicode category
// Cf): bidirectional embeddings, overrides, isolates and marks (U+202A–
// U+202E, U+2066–U+2069, U+200E, U+200F, U+061C), zero-width spaces, the
// byte order mark, soft hyphens and the like. The joiners U+200C and U+200D
// are part of many scripts and of emoji sequences, and the tag characters
// U+E0020–U+E007F of flag emoji; those are allowed.
func formatControl(s string) (rune, bool) {
	for _, r := range s {
		if !unicode.Is(unicode.Cf, r) {
			continue
		}
		if r == '\u200c' || r == '\u200d' || (r >= 0xE0020 && r <= 0xE007F) {
			continue
		}
		return r, true
	}
	return 0, false
}

// Slack ids as Slack writes them: upper-case letters and digits, users
// starting with U or W, workspaces with T (or E for an Enterprise Grid).
// Checking the shape catches a display name ("@dina") or a channel id
// pasted where an id belongs; the id ties the record to Slack, so a wrong
// one would make the member or organization unreachable there.
var (
	slackUserPattern = regexp.MustCompile(`^[UW][A-Z0-9]{1,31}$`)
	slackTeamPattern = regexp.MustCompile(`^[TE][A-Z0-9]{1,31}$`)
)

// ValidateSlackUserID checks a Slack user id; empty means none.
func ValidateSlackUserID(v string) error {
	if v == "" || slackUserPattern.MatchString(v) {
		return nil
	}
	return Refusef(RuleInvalid, "%q is not a Slack user id such as %q: upper-case letters and digits, at most 32. Copy it from Slack or leave the field out", v, "U0123ABCD")
}

// ValidateSlackTeamID checks a Slack workspace id; empty means none.
func ValidateSlackTeamID(v string) error {
	if v == "" || slackTeamPattern.MatchString(v) {
		return nil
	}
	return Refusef(RuleInvalid, "%q is not a Slack workspace id such as %q: upper-case letters and digits, at most 32. Copy it from Slack or leave the field out", v, "T0123ABCD")
}

// MaxTopUpURLChars bounds an organization's top-up link.
const MaxTopUpURLChars = 1000

// ValidateTopUpURL checks where an organization's people add credit: an
// absolute https URL (or empty for none). It is shown as a link and a
// button in Slack, so it may not carry characters that end a Slack link.
func ValidateTopUpURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	switch {
	case len(v) > MaxTopUpURLChars:
		return invalidField("top_up_url", "\"top_up_url\" must be at most %d characters.", MaxTopUpURLChars)
	case err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil:
		return invalidField("top_up_url", "\"top_up_url\" must be an absolute https URL, such as \"https://billing.example.com/credit\".")
	case strings.ContainsAny(v, "<>| \t\r\n\"") || strings.ContainsFunc(v, unicode.IsControl):
		return invalidField("top_up_url", "\"top_up_url\" must not contain spaces, quotes or the characters < > |; percent-encode them.")
	}
	return nil
}

package blockkit

import (
	"strings"

	"github.com/slack-go/slack"
)

// Ellipsis ends a truncated text: one character.
const Ellipsis = "…"

// Truncate keeps s within n characters (not bytes): a longer s is cut to
// n-1 characters followed by Ellipsis. It never splits a character. n < 1
// gives "".
func Truncate(s string, n int) string {
	if n < 1 {
		return ""
	}
	if Count(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + Ellipsis
}

// Pack joins lines with newlines into as few texts as possible of at most
// limit characters each, keeping the lines in order and never splitting
// one: a line that alone is longer than limit becomes a text of its own,
// truncated with Truncate. Texts holding only blank lines are dropped, so
// every text Pack returns has something to show. limit < 1 gives nil.
//
// The lines are used as given: a caller writing mrkdwn escapes them
// first. (Truncating an escaped line can cut an entity such as &amp; in
// two; the damage stays within that one line.)
func Pack(lines []string, limit int) []string {
	if limit < 1 {
		return nil
	}
	var out, parts []string
	n := 0 // characters in parts joined with newlines
	flush := func() {
		if t := strings.Join(parts, "\n"); strings.TrimSpace(t) != "" {
			out = append(out, t)
		}
		parts, n = parts[:0], 0
	}
	for _, line := range lines {
		line = Truncate(line, limit)
		ln := Count(line)
		if len(parts) > 0 && n+1+ln > limit {
			flush()
		}
		if len(parts) > 0 {
			n++ // the newline before line
		}
		parts = append(parts, line)
		n += ln
	}
	flush()
	return out
}

// Sections packs lines (mrkdwn, escaped by the caller) into as few section
// blocks as fit MaxSectionText characters each; see Pack.
func Sections(lines []string) []slack.Block {
	texts := Pack(lines, MaxSectionText)
	blocks := make([]slack.Block, len(texts))
	for i, t := range texts {
		blocks[i] = slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, t, false, false), nil, nil)
	}
	return blocks
}

// Fit keeps at most max blocks. When there are more, it keeps the first
// max-1 and puts more(omitted) in the last place, a block saying what was
// left out ("12 more groups…"); with more nil it keeps the first max.
// max < 1 gives nil. The input slice is not modified.
func Fit(blocks []slack.Block, max int, more func(omitted int) slack.Block) []slack.Block {
	switch {
	case max < 1:
		return nil
	case len(blocks) <= max:
		return blocks
	case more == nil:
		return append([]slack.Block(nil), blocks[:max]...)
	}
	keep := max - 1
	out := append(make([]slack.Block, 0, max), blocks[:keep]...)
	return append(out, more(len(blocks)-keep))
}

package blockkit_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/orgcredit/orgcredit/internal/slackapp/blockkit"
)

func TestTruncate(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"", 5, ""},
		{"hello", 5, "hello"},
		{"hello!", 5, "hell…"},
		{"hello", 1, "…"},
		{"hello", 0, ""},
		{"hello", -3, ""},
		{"h", 1, "h"},
		{"Ünïcödé", 7, "Ünïcödé"},                  // 7 characters, 11 bytes
		{"Ünïcödé", 5, "Ünïc…"},                    // cut between characters, never inside one
		{"👍👍👍", 2, "👍…"},                           // four-byte characters
		{strings.Repeat("€", 80), 75, S(74) + "…"}, // an option's text
	}
	for _, tt := range tests {
		got := blockkit.Truncate(tt.s, tt.n)
		if got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
		if tt.n >= 0 && blockkit.Count(got) > tt.n {
			t.Errorf("Truncate(%q, %d) has %d characters", tt.s, tt.n, blockkit.Count(got))
		}
	}
}

func TestPack(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		limit int
		want  []string
	}{
		{"nothing", nil, 10, nil},
		{"blank lines only", []string{"", " ", ""}, 10, nil},
		{"one text", []string{"ab", "cd"}, 10, []string{"ab\ncd"}},
		{"exactly the limit", []string{"abcd", "efgh"}, 9, []string{"abcd\nefgh"}},
		{"one past the limit", []string{"abcd", "efgh"}, 8, []string{"abcd", "efgh"}},
		{"characters, not bytes", []string{"€€€€", "€€€€"}, 9, []string{"€€€€\n€€€€"}},
		{"a line longer than the limit", []string{"ab", "abcdefghijkl", "cd"}, 5, []string{"ab", "abcd…", "cd"}},
		{"lines are never split", []string{"aaa", "bbb", "ccc", "ddd"}, 7, []string{"aaa\nbbb", "ccc\nddd"}},
		{"blank line kept inside a text", []string{"a", "", "b"}, 10, []string{"a\n\nb"}},
		{"no limit", []string{"a"}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := blockkit.Pack(tt.lines, tt.limit)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Pack(%q, %d) = %q, want %q", tt.lines, tt.limit, got, tt.want)
			}
		})
	}
}

// TestPackRandom checks Pack's promises on random lists: every text fits,
// the lines come back in order and whole, and no two neighbouring texts
// could have been one.
func TestPackRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		limit := 1 + r.IntN(60)
		lines := make([]string, r.IntN(40))
		for i := range lines {
			lines[i] = strings.Repeat(string(rune('a'+i%26)), 1+r.IntN(limit))
			if r.IntN(10) == 0 {
				lines[i] = strings.Repeat("é", limit+r.IntN(5)) // may be too long
			}
		}
		texts := blockkit.Pack(lines, limit)
		var back []string
		for i, text := range texts {
			if blockkit.Count(text) > limit {
				t.Fatalf("limit %d: text %d has %d characters", limit, i, blockkit.Count(text))
			}
			if i > 0 && blockkit.Count(texts[i-1])+1+blockkit.Count(strings.SplitN(text, "\n", 2)[0]) <= limit {
				t.Fatalf("limit %d: texts %d and %d could share one text: %q %q", limit, i-1, i, texts[i-1], text)
			}
			back = append(back, strings.Split(text, "\n")...)
		}
		for i := range lines {
			lines[i] = blockkit.Truncate(lines[i], limit)
		}
		if len(lines) == 0 {
			lines = nil
		}
		if !slices.Equal(back, lines) {
			t.Fatalf("limit %d: lines %q came back as %q", limit, lines, back)
		}
	}
}

// TestSections packs the group lines of a large organization: 500 groups
// with long, escaped names. Every section fits, there are as few as the
// lines allow, and a message of them passes Validate.
func TestSections(t *testing.T) {
	var lines []string
	total := 0
	for i := range 500 {
		line := fmt.Sprintf("• *R&amp;D — Ünïcödé team %03d with a rather long name* `████████░░ 80%%` 8,000 of 10,000 credits", i)
		lines = append(lines, line)
		total += blockkit.Count(line) + 1
	}
	blocks := blockkit.Sections(lines)
	if min := (total + blockkit.MaxSectionText - 1) / blockkit.MaxSectionText; len(blocks) < min || len(blocks) > min+1 {
		t.Errorf("%d sections for %d characters, want %d or %d", len(blocks), total, min, min+1)
	}
	var back []string
	for i, b := range blocks {
		s, ok := b.(*slack.SectionBlock)
		if !ok || s.Text == nil || s.Text.Type != slack.MarkdownType {
			t.Fatalf("block %d is not a mrkdwn section: %#v", i, b)
		}
		if n := blockkit.Count(s.Text.Text); n > blockkit.MaxSectionText {
			t.Errorf("section %d has %d characters", i, n)
		}
		back = append(back, strings.Split(s.Text.Text, "\n")...)
	}
	if !slices.Equal(back, lines) {
		t.Error("the lines did not come back whole and in order")
	}
	if err := blockkit.Validate(map[string]any{"text": "Budget groups", "blocks": slack.Blocks{BlockSet: blocks}}); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if got := blockkit.Sections(nil); len(got) != 0 {
		t.Errorf("Sections(nil) = %v", got)
	}
}

func TestFit(t *testing.T) {
	blocks := func(n int) []slack.Block {
		out := make([]slack.Block, n)
		for i := range out {
			out[i] = slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, fmt.Sprint("group ", i), false, false), nil, nil)
		}
		return out
	}
	more := func(omitted int) slack.Block {
		return slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, fmt.Sprintf("%d more groups…", omitted), false, false))
	}
	text := func(b slack.Block) string {
		switch b := b.(type) {
		case *slack.SectionBlock:
			return b.Text.Text
		case *slack.ContextBlock:
			return b.ContextElements.Elements[0].(*slack.TextBlockObject).Text
		}
		return fmt.Sprintf("%T", b)
	}
	tests := []struct {
		name       string
		n, max     int
		more       func(int) slack.Block
		wantLen    int
		wantLast   string
		wantSource bool // the result is the input itself
	}{
		{"fits", 5, 10, more, 5, "group 4", true},
		{"exactly", 10, 10, more, 10, "group 9", true},
		{"one too many", 11, 10, more, 10, "2 more groups…", false},
		{"many too many", 300, 10, more, 10, "291 more groups…", false},
		{"no summary", 300, 10, nil, 10, "group 9", false},
		{"room for the summary only", 300, 1, more, 1, "300 more groups…", false},
		{"no room", 3, 0, more, 0, "", false},
		{"nothing", 0, 10, more, 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := blocks(tt.n)
			orig := slices.Clone(in)
			got := blockkit.Fit(in, tt.max, tt.more)
			if len(got) != tt.wantLen {
				t.Fatalf("%d blocks, want %d", len(got), tt.wantLen)
			}
			if tt.wantLen > 0 {
				if last := text(got[len(got)-1]); last != tt.wantLast {
					t.Errorf("last block %q, want %q", last, tt.wantLast)
				}
				for i := 0; i < len(got)-1; i++ {
					if got[i] != in[i] {
						t.Errorf("block %d is not the input's block %d", i, i)
					}
				}
			}
			if !slices.Equal(in, orig) {
				t.Error("Fit changed its input")
			}
			if tt.wantSource && len(in) > 0 && &got[0] != &in[0] {
				t.Error("a list that fits was copied")
			}
		})
	}
}

// TestHomeByConstruction builds a Home tab for 1,000 groups with the
// helpers, as the app should: it passes Validate, where the naive
// one-section-per-group build does not.
func TestHomeByConstruction(t *testing.T) {
	header := slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType,
		blockkit.Truncate("My Credit – "+strings.Repeat("Very Long Organization Name ", 10), blockkit.MaxHeaderText), false, false))
	var lines []string
	var naive []slack.Block
	for i := range 1000 {
		line := fmt.Sprintf("*Group %d of the research &amp; development department* `██░░░░░░░░ 20%%` 200 of 1,000 credits", i)
		lines = append(lines, line)
		naive = append(naive, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, line, false, false), nil, nil))
	}
	fixed := []slack.Block{header, slack.NewDividerBlock()}
	more := func(omitted int) slack.Block {
		return slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, fmt.Sprintf("%d more sections of groups: see `/billing groups`.", omitted), false, false))
	}
	view := func(groups []slack.Block) slack.HomeTabViewRequest {
		return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: append(slices.Clone(fixed), groups...)}}
	}
	if err := blockkit.Validate(view(naive)); err == nil {
		t.Error("1,002 blocks passed Validate")
	}
	built := view(blockkit.Fit(blockkit.Sections(lines), blockkit.MaxViewBlocks-len(fixed), more))
	if err := blockkit.Validate(built); err != nil {
		t.Errorf("built by construction, still: %v", err)
	}
	// 1,000 lines of about 100 characters fit in about 34 sections: no
	// summary needed.
	if n := len(built.Blocks.BlockSet); n > blockkit.MaxViewBlocks || n < 30 {
		t.Errorf("%d blocks", n)
	}
}

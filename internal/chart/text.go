package chart

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// Alt is the image's alt text: the same numbers as the picture, in words,
// for screen readers and for anyone whose Slack does not load the image.
// It stays under Slack's 2,000-character limit for alt_text whatever the
// organization's name, and is plain text (alt_text is not mrkdwn).
//
//	Daily usage of Acme Corp, 1–30 November 2026: 412.5 credits in total,
//	highest 38.2 credits on 14 November, no usage on 3 of the 30 days;
//	last 7 days 96 credits, up 12 % on the 7 days before; today 3.1 credits so far.
func (c *Chart) Alt() string {
	var b strings.Builder
	b.WriteString("Daily usage")
	if c.org != "" {
		b.WriteString(" of ")
		b.WriteString(truncate(c.org, maxOrgRunes))
	}
	n := len(c.days)
	if n == 0 {
		b.WriteString(": no days to show.")
		return b.String()
	}
	b.WriteString(", ")
	b.WriteString(dateRange(c.days[0].Date, c.days[n-1].Date))
	b.WriteString(": ")
	if c.total == 0 {
		fmt.Fprintf(&b, "no usage in %s.", theseDays(n))
		return b.String()
	}
	fmt.Fprintf(&b, "%s in total", c.total.String())
	peakDay := dayMonth(c.days[c.peakAt].Date)
	if c.active == 1 {
		fmt.Fprintf(&b, ", all of it on %s", peakDay)
	} else {
		fmt.Fprintf(&b, ", highest %s on %s", c.peak.String(), peakDay)
		if idle := n - c.active; idle > 0 {
			fmt.Fprintf(&b, ", no usage on %d of %s", idle, theseDays(n))
		}
	}
	if c.hasWeeks {
		fmt.Fprintf(&b, "; last 7 days %s", c.last7.String())
		if s := c.change(); s != "" {
			b.WriteString(", " + s)
		}
	}
	if n > 1 {
		fmt.Fprintf(&b, "; today %s so far", c.days[n-1].Micros.String())
	}
	b.WriteString(".")
	return b.String()
}

// sparks are the eight heights of a text sparkline, lowest first.
var sparks = []rune("▁▂▃▄▅▆▇█")

// Trend is a one-line text version of the chart for surfaces without the
// image (notification text, a block's fallback, a narrow client):
//
//	▁▂▁▃▅▂▁▄▆█ 412.5 credits in 30 days; last 7 days 96 credits, up 12 % on the 7 days before
//
// A day without usage is the lowest block and any usage at least the
// second, so a quiet day and a small one look different. The line holds
// none of the characters mrkdwn gives a meaning (* _ ~ ` < > &), so it
// needs no escaping.
func (c *Chart) Trend() string {
	n := len(c.days)
	switch {
	case n == 0:
		return "No usage to show."
	case n == 1 && c.total == 0:
		return "No usage today."
	case c.total == 0:
		return fmt.Sprintf("No usage in the last %d days.", n)
	}
	var b strings.Builder
	for _, d := range c.days {
		b.WriteRune(sparks[sparkLevel(d.Micros, c.peak)])
	}
	fmt.Fprintf(&b, " %s in %s", c.total.String(), days(n))
	if c.hasWeeks {
		fmt.Fprintf(&b, "; last 7 days %s", c.last7.String())
		if s := c.change(); s != "" {
			b.WriteString(", " + s)
		}
	}
	return b.String()
}

// sparkLevel maps v in [0, peak] to an index of sparks: 0 for nothing,
// 1–7 for any usage, in proportion to the peak, rounded to the nearest.
func sparkLevel(v, peak domain.Micros) int {
	if v <= 0 || peak <= 0 {
		return 0
	}
	// float64 is exact enough here: this picks one of seven heights.
	return 1 + int(math.Round(float64(v)*6/float64(peak)))
}

// change compares the last 7 days with the 7 before, in words; empty when
// both are zero.
func (c *Chart) change() string {
	pct, ok := c.weekChange()
	switch {
	case c.last7 == 0 && c.prev7 == 0:
		return ""
	case !ok:
		return "none in the 7 days before"
	case pct >= 1000:
		// "up 12,345 %" is true but reads as noise.
		return "over 10 times the 7 days before"
	case pct > 0:
		return fmt.Sprintf("up %d %% on the 7 days before", pct)
	case pct < 0:
		return fmt.Sprintf("down %d %% on the 7 days before", -pct)
	}
	return "about the same as the 7 days before"
}

// weekChange is the last 7 days' change on the 7 before in whole percent,
// at most 1000; false when the 7 before had no usage (or there are not 14
// days). float64 is exact enough for a rounded percentage, and cannot
// overflow where int64 arithmetic on micro-credits could.
func (c *Chart) weekChange() (int, bool) {
	if !c.hasWeeks || c.prev7 == 0 {
		return 0, false
	}
	pct := math.Round((float64(c.last7) - float64(c.prev7)) / float64(c.prev7) * 100)
	return int(min(pct, 1000)), true
}

// credits is an amount as the app writes it, with its unit: "1 credit",
// "1,234.56789 credits".
func days(n int) string {
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

func theseDays(n int) string {
	if n == 1 {
		return "the day"
	}
	return fmt.Sprintf("the %d days", n)
}

// dateRange writes a span of days as a person would, naming a month or a
// year once when both ends share it: "1–30 November 2026",
// "17 October – 15 November 2026", "20 December 2026 – 18 January 2027".
func dateRange(a, b time.Time) string {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	switch {
	case ay == by && am == bm && ad == bd:
		return fmt.Sprintf("%d %s %d", ad, am, ay)
	case ay == by && am == bm:
		return fmt.Sprintf("%d–%d %s %d", ad, bd, am, ay)
	case ay == by:
		return fmt.Sprintf("%d %s – %d %s %d", ad, am, bd, bm, ay)
	}
	return fmt.Sprintf("%d %s %d – %d %s %d", ad, am, ay, bd, bm, by)
}

// dayMonth is "14 November".
func dayMonth(t time.Time) string {
	_, m, d := t.Date()
	return fmt.Sprintf("%d %s", d, m)
}

// shortDate is "14 Nov", for the axis.
func shortDate(t time.Time) string {
	_, m, d := t.Date()
	return fmt.Sprintf("%d %s", d, m.String()[:3])
}

// truncate cuts s to at most n runes, marking the cut with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

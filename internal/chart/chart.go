// Package chart draws an organization's recent daily usage as a PNG for a
// Slack image block, and says the same numbers in words: an alt text for
// the image and a one-line trend for surfaces that show no image.
//
// Everything is computed from the days given and nothing else (no clock,
// no randomness, no map order), so the same input always gives the same
// bytes. A caller can therefore keep an uploaded image and ask Key whether
// it is still current instead of drawing and uploading it again.
package chart

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// Day is one calendar day's usage. Only the date's year, month and day are
// read, in the date's own location, so a day at midnight UTC is that UTC day.
type Day struct {
	Date   time.Time
	Micros domain.Micros
}

// MaxDays is the most days one chart shows: a year, leap or not. A day is
// then about three pixels wide in the image, one or two on screen; more
// days would no longer be bars.
const MaxDays = 366

// maxOrgRunes bounds the organization name in the alt text, so the alt text
// stays within Slack's 2,000 characters whatever the name.
const maxOrgRunes = 100

// Chart is a validated series of days, ready to be drawn or described.
// It is immutable; its methods are safe for concurrent use.
type Chart struct {
	org  string
	days []Day

	total      domain.Micros
	peak       domain.Micros // the highest day
	peakAt     int           // its index, the earliest if several tie
	peakUnique bool          // whether no other day ties with it
	active     int           // days with any usage
	last7      domain.Micros // the last 7 days, today included
	prev7      domain.Micros // the 7 days before those
	hasWeeks   bool          // whether there are 14 days to compare
}

// New checks the days and summarises them. days are consecutive calendar
// days, oldest first, the last one being today (drawn as still in progress);
// amounts are not negative. org names the organization in the title and
// the alt text; it may be empty.
//
// It refuses rather than repairs input, because a chart that quietly drops
// or reorders days shows numbers nobody recorded.
func New(org string, days []Day) (*Chart, error) {
	if len(days) > MaxDays {
		return nil, fmt.Errorf("chart: %d days, at most %d", len(days), MaxDays)
	}
	c := &Chart{org: org, days: append([]Day(nil), days...)}
	for i, d := range days {
		if d.Micros < 0 {
			return nil, fmt.Errorf("chart: negative usage on %s", d.Date.Format(time.DateOnly))
		}
		if i > 0 && !nextDay(days[i-1].Date, d.Date) {
			return nil, fmt.Errorf("chart: %s does not follow %s", d.Date.Format(time.DateOnly), days[i-1].Date.Format(time.DateOnly))
		}
		if d.Micros > math.MaxInt64-c.total {
			return nil, errors.New("chart: the total overflows")
		}
		c.total += d.Micros
		switch {
		case d.Micros > c.peak:
			c.peak, c.peakAt, c.peakUnique = d.Micros, i, true
		case d.Micros == c.peak:
			c.peakUnique = false
		}
		if d.Micros > 0 {
			c.active++
		}
		switch n := len(days) - i; {
		case n <= 7:
			c.last7 += d.Micros
		case n <= 14:
			c.prev7 += d.Micros
		}
	}
	c.hasWeeks = len(days) >= 14
	return c, nil
}

// nextDay reports whether b is the calendar day after a, each read in its
// own location (daylight saving makes some days 23 or 25 hours long, so
// the dates are compared, not the instants).
func nextDay(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	y, m, d := time.Date(ay, am, ad+1, 0, 0, 0, 0, time.UTC).Date()
	return y == by && m == bm && d == bd
}

// version is part of every Key: change it whenever the picture or the
// texts change (a golden test failing is the sign), so that images drawn
// by an older build are drawn again.
const version = "chart/1"

// Key is a short fingerprint of everything the image and texts depend on:
// the organization name, the dates and the amounts, and the drawing's
// version. Equal keys mean the same picture and texts (byte-identical from
// the same build), so a caller can store the key with an uploaded image and
// draw again only when the key changes. It costs a few microseconds.
func (c *Chart) Key() string {
	h := sha256.New()
	var b [8]byte
	put := func(v uint64) {
		binary.BigEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	h.Write([]byte(version))
	put(uint64(len(c.org)))
	h.Write([]byte(c.org))
	put(uint64(len(c.days)))
	for _, d := range c.days {
		y, m, dd := d.Date.Date()
		put(uint64(y)<<16 | uint64(m)<<8 | uint64(dd))
		put(uint64(d.Micros))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

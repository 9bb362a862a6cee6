package chart

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strings"
	"unicode"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"

	"github.com/orgcredit/orgcredit/internal/domain"
)

// Width and Height are the image's size in pixels. Slack shows an image
// block at most about 360–600 pixels wide and scales it down on phones, so
// the chart is drawn at two to three times that and every size below is
// chosen to be legible after the scaling: text at least 24 px here is about
// 10 px on screen.
const (
	Width  = 1200
	Height = 480
)

// The palette: an opaque white card, because Slack shows the image on
// white in its light theme and on near-black in its dark one, and a
// transparent chart would lose its dark text in the latter. Text is a
// dark slate, not black; the grid is barely there; the bars are one
// indigo, and today, still in progress, is a lighter tint of it.
var (
	colBackground = color.RGBA{0xff, 0xff, 0xff, 0xff}
	colInk        = color.RGBA{0x1a, 0x1f, 0x36, 0xff}
	colMuted      = color.RGBA{0x6b, 0x72, 0x80, 0xff}
	colGrid       = color.RGBA{0xec, 0xee, 0xf2, 0xff}
	colBaseline   = color.RGBA{0xd1, 0xd5, 0xdb, 0xff}
	colBar        = color.RGBA{0x63, 0x66, 0xf1, 0xff}
	colToday      = color.RGBA{0xa5, 0xb4, 0xfc, 0xff}
	colPillBg     = color.RGBA{0xee, 0xf2, 0xff, 0xff}
	colPillInk    = color.RGBA{0x43, 0x38, 0xca, 0xff}
)

// Layout, in pixels of the 1200×480 image.
const (
	padX         = 56  // left and right margin
	titleBase    = 68  // baseline of the first header line
	figureBase   = 134 // baseline of the big numbers
	plotTop      = 200 // the top grid line, the axis maximum
	plotBottom   = 404 // the base line, zero
	dateBase     = 446 // baseline of the dates
	gutterGap    = 16  // between the y labels and the bars
	columnGap    = 48  // between the header's left and right
	pillGap      = 14  // between the change pill and the week's figure
	sepWidth     = 26  // the dot between the organization and the title
	barShare     = 0.62
	maxBarRadius = 6
	maxBarWidth  = 72 // a week's bars are bars, not blocks
	minBarHeight = 4  // a day with any usage is never drawn as none
)

// PNG draws the chart: Width×Height pixels, opaque, paletted, about 10 to
// 25 kB. The same Chart always gives the same bytes. It takes about 10 ms
// of CPU on these machines, more under load (BenchmarkPNG).
func (c *Chart) PNG() ([]byte, error) {
	img, err := c.draw()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(32 << 10)
	if err := encoder.Encode(&buf, toPaletted(img)); err != nil {
		return nil, fmt.Errorf("chart: %w", err)
	}
	return buf.Bytes(), nil
}

// painter holds what one drawing needs: the canvas, a rasterizer and the
// fonts' scratch buffer, none of which can be shared between drawings
// running at the same time.
type painter struct {
	dst   *image.RGBA
	z     vector.Rasterizer
	fonts [2]*sfnt.Font
	buf   sfnt.Buffer
	zero  sfnt.Segments // plainZero's output, reused
}

// The faces, sized for legibility after Slack scales the image down.
var (
	titleFace = face{regular, fixed.I(28)} // header labels
	orgFace   = face{medium, fixed.I(28)}  // the organization's name
	labelFace = face{regular, fixed.I(26)} // axis labels
	bigFace   = face{medium, fixed.I(60)}  // the total
	statFace  = face{medium, fixed.I(38)}  // the 7-day figure
	smallFace = face{medium, fixed.I(24)}  // the change pill, the peak
)

func newPainter() (*painter, error) {
	fs, err := fonts()
	if err != nil {
		return nil, fmt.Errorf("chart: font: %w", err)
	}
	return &painter{dst: image.NewRGBA(image.Rect(0, 0, Width, Height)), fonts: fs}, nil
}

func (c *Chart) draw() (*image.RGBA, error) {
	p, err := newPainter()
	if err != nil {
		return nil, err
	}
	draw.Draw(p.dst, p.dst.Bounds(), image.NewUniform(colBackground), image.Point{}, draw.Src)
	c.header(p)
	c.plot(p)
	return p.dst, nil
}

// header writes what the chart is and the numbers that matter: the total
// on the left, the last week and its change on the right. What does not
// fit gives way, least important first: the change, the week, the length
// of the organization's name.
func (c *Chart) header(p *painter) {
	right := Width - padX
	n := len(c.days)

	total, unit := c.total.Credits(), " credits"
	if c.total == domain.MicrosPerCredit {
		unit = " credit"
	}
	leftEnd := padX + p.width(bigFace, total).Ceil() + p.width(titleFace, unit).Ceil()

	week := c.hasWeeks && c.total > 0
	delta := c.delta()
	weekW := p.width(statFace, c.last7.Credits()).Ceil() + p.width(titleFace, " credits").Ceil()
	pillW := p.pillWidth(delta) + pillGap
	if delta == "" || leftEnd+columnGap+weekW+pillW > right {
		delta, pillW = "", 0
	}
	if leftEnd+columnGap+weekW > right {
		week = false
	}

	titleEnd := right
	if week {
		titleEnd = p.text(titleFace, colMuted, right, titleBase, "Last 7 days", alignRight) - columnGap
		x := p.text(titleFace, colMuted, right, figureBase, " credits", alignRight)
		x = p.text(statFace, colInk, x, figureBase, c.last7.Credits(), alignRight)
		if delta != "" {
			p.pill(x-pillGap, figureBase, delta)
		}
	}

	what := "Usage"
	switch {
	case n == 1:
		what = "Usage today"
	case n > 1:
		what = fmt.Sprintf("Usage, last %d days", n)
	}
	x := padX
	if c.org != "" && p.canDraw(medium, c.org) {
		room := fixed.I(titleEnd-padX-sepWidth) - p.width(titleFace, what)
		if org, ok := p.fit(orgFace, c.org, room); ok {
			x = p.text(orgFace, colInk, x, titleBase, org, alignLeft)
			// A drawn dot: the font's middle dot is small and sits high.
			const d = 5
			p.roundRect(float32(x+sepWidth/2)-d/2, titleBase-8-d/2, d, d, d/2, colMuted)
			x += sepWidth
		}
	}
	p.text(titleFace, colMuted, x, titleBase, what, alignLeft)

	x = p.text(bigFace, colInk, padX, figureBase, total, alignLeft)
	p.text(titleFace, colMuted, x, figureBase, unit, alignLeft)
}

// delta is the week's change as the pill reads it: "↑ 12 %", "↓ 5 %",
// "± 0 %"; empty when there is nothing to compare with.
func (c *Chart) delta() string {
	pct, ok := c.weekChange()
	switch {
	case !ok:
		return ""
	case pct >= 1000:
		return "↑ >999 %"
	case pct > 0:
		return fmt.Sprintf("↑ %d %%", pct)
	case pct < 0:
		return fmt.Sprintf("↓ %d %%", -pct)
	}
	return "± 0 %"
}

// plot draws the grid, the bars and the dates.
func (c *Chart) plot(p *painter) {
	n := len(c.days)
	right := Width - padX
	top, step := niceTop(c.peak)

	// The y labels: right-aligned in a gutter as wide as the widest.
	left := padX
	if c.total > 0 {
		gutter := 0
		for v := domain.Micros(0); v <= top; v += step {
			gutter = max(gutter, p.width(labelFace, v.Credits()).Ceil())
		}
		left += gutter + gutterGap
		for v := domain.Micros(0); v <= top; v += step {
			y := yOf(v, top)
			if v > 0 {
				fillRect(p.dst, image.Rect(left, y-1, right, y+1), colGrid)
			}
			// +8: half the height of the digits, to centre them on the line.
			p.text(labelFace, colMuted, left-gutterGap, y+8, v.Credits(), alignRight)
		}
	}
	fillRect(p.dst, image.Rect(left, plotBottom-1, right, plotBottom+1), colBaseline)

	if n == 0 {
		p.text(titleFace, colMuted, (left+right)/2, (plotTop+plotBottom)/2+9, "No usage to show", alignCenter)
		return
	}

	slot := float64(right-left) / float64(n)
	bw := max(1, min(maxBarWidth, int(math.Round(slot*barShare))))
	radius := min(float32(maxBarRadius), float32(bw)/2.5)
	x0 := func(i int) int { return left + int(math.Round(float64(i)*slot+(slot-float64(bw))/2)) }

	for i, d := range c.days {
		if d.Micros == 0 {
			continue
		}
		h := float64(d.Micros) / float64(top) * float64(plotBottom-plotTop)
		h = max(h, minBarHeight)
		col := colBar
		// Today lighter: its day is not over. A lone bar stays in the
		// full colour, as there is no other day to tell it from.
		if i == n-1 && n > 1 {
			col = colToday
		}
		p.topRounded(float32(x0(i)), float32(plotBottom-1)-float32(h), float32(bw), float32(h), radius, col)
	}

	if c.total == 0 {
		msg := "No usage in the last " + days(n)
		if n == 1 {
			msg = "No usage today"
		}
		p.text(titleFace, colMuted, (left+right)/2, (plotTop+plotBottom)/2+9, msg, alignCenter)
	} else if c.peakUnique {
		// The highest day, labelled over its bar: the number a reader
		// looks for first. Not when several days share the top, where
		// the label would pick one of them at random.
		h := float64(c.peak) / float64(top) * float64(plotBottom-plotTop)
		y := plotBottom - int(math.Round(h)) - 12
		p.centred(smallFace, colInk, x0(c.peakAt)+bw/2, y, c.peak.Credits(), left, right)
	}

	// Dates under the first, middle and last bars, the last one named
	// "Today" (the header says how many days there are).
	label := func(i int, s string) {
		p.centred(labelFace, colMuted, x0(i)+bw/2, dateBase, s, left, right)
	}
	label(0, shortDate(c.days[0].Date))
	if n >= 3 {
		label(n/2, shortDate(c.days[n/2].Date))
	}
	if n >= 2 {
		label(n-1, "Today")
	}
}

// yOf is the pixel row of amount v on an axis from 0 to top.
func yOf(v, top domain.Micros) int {
	return plotBottom - int(math.Round(float64(v)/float64(top)*float64(plotBottom-plotTop)))
}

// niceTop is the axis maximum for a peak: the lowest round number at or
// above it that splits into two to four round steps (1, 2, 2.5 or 5 times a
// power of ten micro-credits), so the labels read "0, 10, 20, 30, 40" and
// not "0, 9.55, 19.1, 28.65, 38.2". Of equal maxima the finer steps win.
func niceTop(peak domain.Micros) (top, step domain.Micros) {
	if peak <= 0 {
		return domain.MicrosPerCredit, domain.MicrosPerCredit
	}
	for pow := domain.Micros(1); pow <= peak; pow *= 10 {
		for i, s := range []domain.Micros{pow, 2 * pow, 5 * pow / 2, 5 * pow} {
			if i == 2 && pow == 1 {
				continue // 2.5 µcr is not a whole amount
			}
			k := peak/s + min(1, peak%s)
			if k < 2 || k > 4 || s > math.MaxInt64/k {
				continue
			}
			if t := k * s; top == 0 || t < top {
				top, step = t, s
			}
		}
		if pow > math.MaxInt64/50 {
			break
		}
	}
	if top == 0 { // a peak of 1 µcr, or one too close to the int64 limit
		return peak, peak
	}
	return top, step
}

type align int

const (
	alignLeft align = iota
	alignCenter
	alignRight
)

// text draws s with its baseline at y, aligned on x, and returns the x of
// its other end (the left end when right-aligned), so lines can be
// assembled from pieces in different faces.
func (p *painter) text(f face, col color.RGBA, x, y int, s string, a align) int {
	w := p.width(f, s).Round()
	switch a {
	case alignCenter:
		x -= w / 2
	case alignRight:
		x -= w
	}
	p.drawText(f, col, fixed.I(x), y, s)
	if a == alignRight {
		return x
	}
	return x + w
}

// The change pill's size.
const pillPad, pillHeight = 12, 34

func (p *painter) pillWidth(s string) int {
	return p.width(smallFace, s).Round() + 2*pillPad
}

// centred draws s centred on x, but moved inwards as far as needed to stay
// between min and max: a label under the first or last bar lines up with
// the plot's edge instead of running out of the picture.
func (p *painter) centred(f face, col color.RGBA, x, y int, s string, lo, hi int) {
	w := p.width(f, s).Round()
	x = max(lo, min(hi-w, x-w/2))
	p.text(f, col, x, y, s, alignLeft)
}

// pill draws s in a rounded badge whose right end is at x, centred on the
// digits of a line whose baseline is y (13 px is half their height in
// statFace).
func (p *painter) pill(x, y int, s string) {
	w := p.pillWidth(s)
	top := y - 13 - pillHeight/2
	p.roundRect(float32(x-w), float32(top), float32(w), pillHeight, pillHeight/2, colPillBg)
	p.text(smallFace, colPillInk, x-pillPad, top+pillHeight/2+8, s, alignRight)
}

// fit shortens s with an ellipsis until it is at most room wide; false when
// not even one letter fits.
func (p *painter) fit(f face, s string, room fixed.Int26_6) (string, bool) {
	if p.width(f, s) <= room {
		return s, true
	}
	r := []rune(s)
	for n := len(r) - 1; n > 0; n-- {
		t := strings.TrimRightFunc(string(r[:n]), unicode.IsSpace) + "…"
		if p.width(f, t) <= room {
			return t, true
		}
	}
	return "", false
}

func fillRect(dst *image.RGBA, r image.Rectangle, col color.RGBA) {
	draw.Draw(dst, r, image.NewUniform(col), image.Point{}, draw.Src)
}

// topRounded fills a bar with rounded top corners, anti-aliased, its
// bottom square on the base line.
func (p *painter) topRounded(x, y, w, h, r float32, col color.RGBA) {
	r = min(r, h)
	p.shape(x, y, w, h, col, func(q *pen) {
		q.move(0, h)
		q.line(0, r)
		q.corner(0, 0, r, 0)
		q.line(w-r, 0)
		q.corner(w, 0, w, r)
		q.line(w, h)
	})
}

// roundRect fills a rectangle with all four corners rounded.
func (p *painter) roundRect(x, y, w, h, r float32, col color.RGBA) {
	p.shape(x, y, w, h, col, func(q *pen) {
		q.move(0, r)
		q.corner(0, 0, r, 0)
		q.line(w-r, 0)
		q.corner(w, 0, w, r)
		q.line(w, h-r)
		q.corner(w, h, w-r, h)
		q.line(r, h)
		q.corner(0, h, 0, h-r)
	})
}

// shape fills the closed path that trace draws in coordinates relative to
// (x, y), within the w×h box there. The rasterizer covers that box only,
// which keeps it small and fast; the box starts on whole pixels and the
// path is shifted by the fractions, so edges land where they should.
func (p *painter) shape(x, y, w, h float32, col color.RGBA, trace func(*pen)) {
	ox, oy := math.Floor(float64(x)), math.Floor(float64(y))
	q := &pen{&p.z, x - float32(ox), y - float32(oy), 0, 0}
	bw, bh := int(math.Ceil(float64(q.dx+w))), int(math.Ceil(float64(q.dy+h)))
	p.z.Reset(bw, bh)
	trace(q)
	p.z.ClosePath()
	r := image.Rect(int(ox), int(oy), int(ox)+bw, int(oy)+bh)
	p.z.Draw(p.dst, r, image.NewUniform(col), image.Point{})
}

// pen traces a path on a rasterizer, shifted by (dx, dy).
type pen struct {
	z      *vector.Rasterizer
	dx, dy float32
	x, y   float32 // the current point, unshifted
}

func (q *pen) move(x, y float32) { q.z.MoveTo(x+q.dx, y+q.dy); q.x, q.y = x, y }
func (q *pen) line(x, y float32) { q.z.LineTo(x+q.dx, y+q.dy); q.x, q.y = x, y }

// kappa places a cubic Bézier's control points so that it follows a
// quarter circle to within 0.03 %.
const kappa = 0.5522847

// corner rounds the square corner (cx, cy) with a quarter circle from the
// current point to (x, y).
func (q *pen) corner(cx, cy, x, y float32) {
	q.z.CubeTo(
		q.x+kappa*(cx-q.x)+q.dx, q.y+kappa*(cy-q.y)+q.dy,
		x+kappa*(cx-x)+q.dx, y+kappa*(cy-y)+q.dy,
		x+q.dx, y+q.dy)
	q.x, q.y = x, y
}

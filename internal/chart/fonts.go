package chart

import (
	"image"
	"image/color"
	"math"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gomedium"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// The text is set in the Go fonts, a humanist sans in two weights
// (BSD-licensed, shipped with golang.org/x/image), drawn from their
// outlines, anti-aliased, at any size. The bitmap basicfont would cost less
// binary (about 65 kB against 550 kB) but is 7×13 pixels: scaled up to be
// legible in Slack it turns into blocky pixel art, and the chart is meant
// to look like a product, not a debug plot.
//
// The glyphs are rasterized here rather than through opentype.Face, for
// one reason: the Go fonts slash their zero, a programmer's glyph that
// makes "250 credits" look like code. text draws a plain oval zero instead
// (see plainZero).

// fonts parses the embedded fonts once. A parsed sfnt.Font is safe for
// concurrent use with distinct sfnt.Buffers, which each drawing has.
var fonts = sync.OnceValues(func() ([2]*sfnt.Font, error) {
	var fs [2]*sfnt.Font
	for i, ttf := range [][]byte{goregular.TTF, gomedium.TTF} {
		f, err := sfnt.Parse(ttf)
		if err != nil {
			return fs, err
		}
		fs[i] = f
	}
	return fs, nil
})

// weight picks one of the fonts.
type weight int

const (
	regular weight = iota
	medium
)

// face is a font at a size in pixels per em.
type face struct {
	w    weight
	ppem fixed.Int26_6
}

// No hinting: the text is drawn large and scaled down by Slack, where
// unhinted outlines keep their proportions.
const hinting = font.HintingNone

// glyphs maps s to glyph indices, calling fn with each and the kerning
// before it. A rune the font lacks is its .notdef glyph.
func (p *painter) glyphs(f face, s string, fn func(g sfnt.GlyphIndex, r rune, kern fixed.Int26_6)) {
	fo := p.fonts[f.w]
	prev := sfnt.GlyphIndex(0)
	for i, r := range s {
		g, _ := fo.GlyphIndex(&p.buf, r)
		var k fixed.Int26_6
		if i > 0 {
			k, _ = fo.Kern(&p.buf, prev, g, f.ppem, hinting)
		}
		fn(g, r, k)
		prev = g
	}
}

// width is how far s advances the pen.
func (p *painter) width(f face, s string) fixed.Int26_6 {
	var w fixed.Int26_6
	p.glyphs(f, s, func(g sfnt.GlyphIndex, _ rune, kern fixed.Int26_6) {
		a, _ := p.fonts[f.w].GlyphAdvance(&p.buf, g, f.ppem, hinting)
		w += kern + a
	})
	return w
}

// canDraw reports whether the font has a glyph for every rune of s. An
// organization named in a script the Go fonts lack would otherwise be a
// row of empty boxes; then the title leaves the name out (the alt text and
// the message around the image still carry it).
func (p *painter) canDraw(w weight, s string) bool {
	for _, r := range s {
		g, err := p.fonts[w].GlyphIndex(&p.buf, r)
		if err != nil || g == 0 {
			return false
		}
	}
	return true
}

// drawText draws s with its pen starting at (x, y) on the baseline and
// returns where the pen ends.
func (p *painter) drawText(f face, col color.RGBA, x fixed.Int26_6, y int, s string) fixed.Int26_6 {
	fo := p.fonts[f.w]
	src := image.NewUniform(col)
	p.glyphs(f, s, func(g sfnt.GlyphIndex, r rune, kern fixed.Int26_6) {
		x += kern
		segs, err := fo.LoadGlyph(&p.buf, g, f.ppem, nil)
		if err == nil && len(segs) > 0 {
			if r == '0' {
				segs = plainZero(segs, p.zero[:0])
				p.zero = segs
			}
			p.fill(segs, x, fixed.I(y), src)
		}
		a, _ := fo.GlyphAdvance(&p.buf, g, f.ppem, hinting)
		x += a
	})
	return x
}

// fill rasterizes a glyph's outline with its origin at (x, y).
func (p *painter) fill(segs sfnt.Segments, x, y fixed.Int26_6, src image.Image) {
	b := segs.Bounds().Add(fixed.Point26_6{X: x, Y: y})
	r := image.Rect(b.Min.X.Floor(), b.Min.Y.Floor(), b.Max.X.Ceil(), b.Max.Y.Ceil())
	// Coordinates relative to the raster's corner, in pixels.
	ox, oy := x-fixed.I(r.Min.X), y-fixed.I(r.Min.Y)
	pt := func(q fixed.Point26_6) (float32, float32) {
		return float32(q.X+ox) / 64, float32(q.Y+oy) / 64
	}
	z := &p.z
	z.Reset(r.Dx(), r.Dy())
	for _, s := range segs {
		switch s.Op {
		case sfnt.SegmentOpMoveTo:
			z.MoveTo(pt(s.Args[0]))
		case sfnt.SegmentOpLineTo:
			z.LineTo(pt(s.Args[0]))
		case sfnt.SegmentOpQuadTo:
			x1, y1 := pt(s.Args[0])
			x2, y2 := pt(s.Args[1])
			z.QuadTo(x1, y1, x2, y2)
		case sfnt.SegmentOpCubeTo:
			x1, y1 := pt(s.Args[0])
			x2, y2 := pt(s.Args[1])
			x3, y3 := pt(s.Args[2])
			z.CubeTo(x1, y1, x2, y2, x3, y3)
		}
	}
	z.ClosePath()
	z.Draw(p.dst, r, src, image.Point{})
}

// plainZero turns the Go fonts' slashed zero into a plain oval, appending
// to dst. The glyph is an outer contour and the two halves of its counter,
// split by the slash. The plain counter is the outer contour traced
// backwards (a hole winds the other way) and scaled into the box the two
// halves span: the strokes keep the font's own widths at the four sides,
// and an oval scaled is still a smooth oval. Any other shape of glyph is
// left alone.
func plainZero(segs sfnt.Segments, dst sfnt.Segments) sfnt.Segments {
	contours := splitContours(segs)
	if len(contours) != 3 {
		return segs
	}
	outer := contours[0].Bounds()
	hole := contours[1].Bounds().Union(contours[2].Bounds())
	if !hole.In(outer) || hole.Empty() {
		return segs
	}
	sx := float64(hole.Max.X-hole.Min.X) / float64(outer.Max.X-outer.Min.X)
	sy := float64(hole.Max.Y-hole.Min.Y) / float64(outer.Max.Y-outer.Min.Y)
	move := func(q fixed.Point26_6) fixed.Point26_6 {
		return fixed.Point26_6{
			X: hole.Min.X + fixed.Int26_6(math.Round(float64(q.X-outer.Min.X)*sx)),
			Y: hole.Min.Y + fixed.Int26_6(math.Round(float64(q.Y-outer.Min.Y)*sy)),
		}
	}
	dst = append(dst, contours[0]...)
	for _, s := range reverse(contours[0]) {
		for i := range s.Args {
			s.Args[i] = move(s.Args[i])
		}
		dst = append(dst, s)
	}
	return dst
}

// splitContours cuts an outline at each MoveTo.
func splitContours(segs sfnt.Segments) []sfnt.Segments {
	var out []sfnt.Segments
	for i, s := range segs {
		if s.Op == sfnt.SegmentOpMoveTo {
			out = append(out, nil)
		} else if i == 0 {
			return nil
		}
		out[len(out)-1] = append(out[len(out)-1], s)
	}
	return out
}

// reverse traces a closed contour the other way round.
func reverse(c sfnt.Segments) sfnt.Segments {
	// The points the pen passes, each with the segment arriving there.
	end := func(s sfnt.Segment) fixed.Point26_6 {
		switch s.Op {
		case sfnt.SegmentOpQuadTo:
			return s.Args[1]
		case sfnt.SegmentOpCubeTo:
			return s.Args[2]
		}
		return s.Args[0]
	}
	start := c[0].Args[0]
	if end(c[len(c)-1]) != start {
		c = append(c[:len(c):len(c)], sfnt.Segment{Op: sfnt.SegmentOpLineTo, Args: [3]fixed.Point26_6{start}})
	}
	out := make(sfnt.Segments, 0, len(c))
	out = append(out, sfnt.Segment{Op: sfnt.SegmentOpMoveTo, Args: [3]fixed.Point26_6{start}})
	for i := len(c) - 1; i > 0; i-- {
		from := end(c[i-1])
		s := c[i]
		switch s.Op {
		case sfnt.SegmentOpLineTo:
			s.Args[0] = from
		case sfnt.SegmentOpQuadTo:
			s.Args[1] = from
		case sfnt.SegmentOpCubeTo:
			s.Args[0], s.Args[1], s.Args[2] = s.Args[1], s.Args[0], from
		}
		out = append(out, s)
	}
	return out
}

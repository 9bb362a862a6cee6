package chart

import (
	"image"
	"image/color"
	"image/png"
	"sync"
)

// The chart is drawn in true colour and stored with a palette of at most
// 256 colours. A paletted PNG is a third of the pixels' bytes and skips
// the encoder's per-row filters, which together were most of the time a
// drawing took: about 19 ms of CPU in true colour, 9 ms paletted, 5 ms
// paletted at zlib's best speed (which makes the file about 20 % larger,
// some 20 kB; it is uploaded once per change of the numbers).
//
// The palette needs no analysis of the picture, because the picture is
// made of few colours: the plain ones of the design, and anti-aliased
// edges that blend one of them over another. The palette holds the plain
// colours and, for each pair that meets at an edge, the blends between
// them in 1/32 steps; every pixel takes its nearest entry. An edge with
// 33 levels of coverage looks the same as one with 256, the more so after
// Slack scales the image down.

// blendSteps is the number of steps from one colour of a pair to the other.
const blendSteps = 32

// palette is built once from the design's colours.
var palette = sync.OnceValue(func() color.Palette {
	plain := []color.RGBA{colBackground, colInk, colMuted, colGrid, colBaseline, colBar, colToday, colPillBg, colPillInk}
	pairs := [][2]color.RGBA{ // foreground, background
		{colInk, colBackground},
		{colMuted, colBackground},
		{colBar, colBackground},
		{colToday, colBackground},
		{colPillBg, colBackground},
		{colPillInk, colPillBg},
		{colBar, colGrid},
	}
	p := make(color.Palette, 0, len(plain)+len(pairs)*(blendSteps-1))
	for _, c := range plain {
		p = append(p, c)
	}
	for _, pr := range pairs {
		for i := 1; i < blendSteps; i++ {
			p = append(p, mix(pr[0], pr[1], i))
		}
	}
	if len(p) > 256 {
		panic("chart: more than 256 colours in the palette")
	}
	return p
})

// mix is fg over bg at coverage i/blendSteps, rounded.
func mix(fg, bg color.RGBA, i int) color.RGBA {
	ch := func(f, b uint8) uint8 {
		return uint8((int(f)*i + int(b)*(blendSteps-i) + blendSteps/2) / blendSteps)
	}
	return color.RGBA{ch(fg.R, bg.R), ch(fg.G, bg.G), ch(fg.B, bg.B), 0xff}
}

// toPaletted maps every pixel of m (opaque) to its nearest palette entry.
// Neighbouring pixels are mostly equal, and a picture has about a
// thousand distinct colours, so each distinct colour is looked up once.
func toPaletted(m *image.RGBA) *image.Paletted {
	pal := palette()
	out := image.NewPaletted(m.Rect, pal)
	index := make(map[uint32]uint8, 1024)
	last, lastIdx := uint32(0xffffffff), uint8(0)
	for y := m.Rect.Min.Y; y < m.Rect.Max.Y; y++ {
		row := m.Pix[m.PixOffset(m.Rect.Min.X, y):]
		dst := out.Pix[out.PixOffset(out.Rect.Min.X, y):]
		for x := range m.Rect.Dx() {
			r, g, b := row[4*x], row[4*x+1], row[4*x+2]
			key := uint32(r)<<16 | uint32(g)<<8 | uint32(b)
			if key != last {
				i, ok := index[key]
				if !ok {
					i = nearest(pal, r, g, b)
					index[key] = i
				}
				last, lastIdx = key, i
			}
			dst[x] = lastIdx
		}
	}
	return out
}

// nearest is the palette entry closest to (r, g, b), the first of equals,
// by squared distance weighted roughly as the eye weighs the channels.
func nearest(pal color.Palette, r, g, b uint8) uint8 {
	best, bestD := 0, int(^uint(0)>>1)
	for i, c := range pal {
		p := c.(color.RGBA)
		dr, dg, db := int(p.R)-int(r), int(p.G)-int(g), int(p.B)-int(b)
		if d := 3*dr*dr + 4*dg*dg + 2*db*db; d < bestD {
			best, bestD = i, d
		}
	}
	return uint8(best)
}

// encoderPool keeps the PNG encoder's buffers, its zlib writer above all,
// between drawings.
type encoderPool struct{ p sync.Pool }

func (e *encoderPool) Get() *png.EncoderBuffer {
	b, _ := e.p.Get().(*png.EncoderBuffer)
	return b
}
func (e *encoderPool) Put(b *png.EncoderBuffer) { e.p.Put(b) }

var encoder = png.Encoder{BufferPool: &encoderPool{}, CompressionLevel: png.BestSpeed}

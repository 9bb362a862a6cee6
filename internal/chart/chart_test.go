package chart

import (
	"bytes"
	"flag"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/orgcredit/orgcredit/internal/domain"
)

var update = flag.Bool("update", false, "rewrite the golden PNGs under testdata")

const credit = domain.MicrosPerCredit

// series is len(amounts) days ending on 30 November 2026.
func series(amounts ...domain.Micros) []Day {
	end := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	out := make([]Day, len(amounts))
	for i, a := range amounts {
		out[i] = Day{Date: end.AddDate(0, 0, i-len(amounts)+1), Micros: a}
	}
	return out
}

// realistic is a month of an organization that works on weekdays and is
// growing: quiet weekends, a busy mid-month day, a part-day today.
func realistic() []Day {
	a := []float64{
		6.2, 11.4, 12.8, 10.1, 13.5, 2.1, 0.8,
		12.9, 14.2, 15.8, 13.1, 16.4, 3.2, 0,
		15.1, 38.2, 17.9, 16.2, 18.8, 2.9, 1.4,
		17.7, 19.4, 21.3, 18.6, 22.9, 4.1, 1.9,
		20.4, 9.35,
	}
	out := make([]domain.Micros, len(a))
	for i, v := range a {
		out[i] = domain.Micros(math.Round(v * float64(credit)))
	}
	return series(out...)
}

func flat(n int, v domain.Micros) []Day {
	a := make([]domain.Micros, n)
	for i := range a {
		a[i] = v
	}
	return series(a...)
}

func spike() []Day {
	a := make([]domain.Micros, 30)
	a[13] = 250 * credit
	return series(a...)
}

func growth() []Day {
	a := make([]domain.Micros, 30)
	for i := range a {
		a[i] = domain.Micros(i+1) * credit
	}
	return series(a...)
}

func mustNew(t testing.TB, org string, days []Day) *Chart {
	t.Helper()
	c, err := New(org, days)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// goldens are the charts whose pictures are kept under testdata, each
// chosen for a part of the drawing: the ordinary month, nothing at all,
// one day only, a steady flat line, amounts far below one credit, and a
// huge total with a name too long for its line.
var goldens = []struct {
	name string
	org  string
	days []Day
}{
	{"month", "Acme Corp", realistic()},
	{"empty", "Acme Corp", flat(30, 0)},
	{"spike", "Acme Corp", spike()},
	{"flat", "Acme Corp", flat(30, 5*credit)},
	{"growth", "", growth()},
	{"tiny", "Acme Corp", flat(14, 37)},
	{"huge", "The Very Long Name of an Organization That Does Not Fit on One Line Ltd", flat(30, 123_456_789*credit+654_321)},
	{"week", "Acme Corp", series(3*credit, 4*credit, 0, 2500000, 5*credit, 4*credit, 1200000)},
}

// TestGolden compares each chart with its picture under testdata, pixel
// by pixel. It compares pixels, not PNG bytes, so that a different zlib in
// a future Go does not fail it; and it tolerates a difference of a few
// levels in a channel, because the font rasterizer's floating point may
// round differently on another architecture (arm64 fuses multiply-adds).
// Anything a person could see, a moved bar or a changed colour, fails it.
// go test ./internal/chart -run Golden -update rewrites the pictures.
func TestGolden(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.name, func(t *testing.T) {
			got, err := mustNew(t, g.org, g.days).PNG()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", g.name+".png")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if n, at := differ(t, decode(t, want), decode(t, got), 3); n > 0 {
				t.Errorf("%d pixels differ from %s, the first at %v; look at the new picture and run with -update if it is right", n, path, at)
			}
		})
	}
}

func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	m, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// differ counts the pixels of a and b whose channels differ by more than
// tol (of 255).
func differ(t *testing.T, a, b image.Image, tol uint32) (n int, first image.Point) {
	t.Helper()
	if a.Bounds() != b.Bounds() {
		t.Fatalf("size %v, want %v", b.Bounds(), a.Bounds())
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			r1, g1, b1, a1 := a.At(x, y).RGBA()
			r2, g2, b2, a2 := b.At(x, y).RGBA()
			if far(r1, r2, tol) || far(g1, g2, tol) || far(b1, b2, tol) || far(a1, a2, tol) {
				if n == 0 {
					first = image.Pt(x, y)
				}
				n++
			}
		}
	}
	return n, first
}

func far(a, b, tol uint32) bool {
	a, b = a>>8, b>>8
	if a > b {
		return a-b > tol
	}
	return b-a > tol
}

// TestDeterministic draws the same chart twice, and from a copy of its
// input built separately, and wants the same bytes: Key promises it.
func TestDeterministic(t *testing.T) {
	a, err := mustNew(t, "Acme Corp", realistic()).PNG()
	if err != nil {
		t.Fatal(err)
	}
	b, err := mustNew(t, "Acme Corp", realistic()).PNG()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two drawings of the same input differ")
	}
}

// TestImage checks what Slack relies on: a PNG of the documented size,
// opaque everywhere (a transparent pixel would show Slack's dark theme
// through the card).
func TestImage(t *testing.T) {
	for _, g := range goldens {
		b, err := mustNew(t, g.org, g.days).PNG()
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Width != Width || cfg.Height != Height {
			t.Errorf("%s: %d×%d, want %d×%d", g.name, cfg.Width, cfg.Height, Width, Height)
		}
		m := decode(t, b)
		for y := 0; y < Height; y += 7 {
			for x := 0; x < Width; x += 7 {
				if _, _, _, a := m.At(x, y).RGBA(); a != 0xffff {
					t.Fatalf("%s: pixel (%d, %d) is not opaque", g.name, x, y)
				}
			}
		}
		if len(b) > 200<<10 {
			t.Errorf("%s: %d bytes, more than an image of a chart needs", g.name, len(b))
		}
	}
}

// TestBars looks at the picture's pixels where the bars should be: the
// highest day's bar reaches high, a day without usage has none, and
// today's bar is drawn in its own colour.
func TestBars(t *testing.T) {
	days := spike()
	days[29].Micros = 125 * credit // today: half the spike
	days[3].Micros = 1             // one micro-credit: too little for a pixel
	// The axis runs to 300 credits: the spike is 83 % of the plot's
	// height, today 42 %.
	b, err := mustNew(t, "", days).PNG()
	if err != nil {
		t.Fatal(err)
	}
	m := decode(t, b)
	colAt := func(day int, height float64) (uint32, uint32, uint32) {
		// The bars span the plot; find the column by the layout's own
		// arithmetic would repeat the code under test, so look for it.
		y := plotBottom - 2 - int(height*float64(plotBottom-plotTop))
		x := barCentre(t, m, day, 30)
		r, g, b, _ := m.At(x, y).RGBA()
		return r >> 8, g >> 8, b >> 8
	}
	if r, g, b := colAt(13, 0.8); (color3{r, g, b}) != rgb(colBar) {
		t.Errorf("the spike's bar at 80 %% height is %v, want %v", color3{r, g, b}, rgb(colBar))
	}
	if r, g, b := colAt(29, 0.4); (color3{r, g, b}) != rgb(colToday) {
		t.Errorf("today's bar is %v, want %v", color3{r, g, b}, rgb(colToday))
	}
	if r, g, b := colAt(29, 0.6); (color3{r, g, b}) != rgb(colBackground) {
		t.Errorf("today's bar reaches 60 %% of the plot, but today is 125 of 300 credits")
	}
	if r, g, b := colAt(3, 0); (color3{r, g, b}) != rgb(colBar) {
		t.Errorf("a day with 1 µcr has no visible bar: %v", color3{r, g, b})
	}
	if r, g, b := colAt(5, 0); (color3{r, g, b}) != rgb(colBackground) {
		t.Errorf("a day without usage has a bar: %v", color3{r, g, b})
	}
}

type color3 [3]uint32

func rgb(c interface{ RGBA() (r, g, b, a uint32) }) color3 {
	r, g, b, _ := c.RGBA()
	return color3{r >> 8, g >> 8, b >> 8}
}

// barCentre finds the middle column of day i's slot: the plot spans from
// the end of the y labels to the right margin, in n equal slots. It reads
// the plot's left edge from the picture (the base line starts there).
func barCentre(t *testing.T, m image.Image, i, n int) int {
	t.Helper()
	left := -1
	for x := 0; x < Width; x++ {
		if rgb(m.At(x, plotBottom)) == rgb(colBaseline) {
			left = x
			break
		}
	}
	if left < 0 {
		t.Fatal("no base line")
	}
	right := Width - padX
	slot := float64(right-left) / float64(n)
	return left + int(float64(i)*slot+slot/2)
}

func TestAlt(t *testing.T) {
	for _, tc := range []struct {
		name string
		org  string
		days []Day
		want string
	}{
		{"empty", "Acme Corp", flat(30, 0),
			"Daily usage of Acme Corp, 1–30 November 2026: no usage in the 30 days."},
		{"spike", "Acme Corp", spike(),
			"Daily usage of Acme Corp, 1–30 November 2026: 250 credits in total, all of it on 14 November; last 7 days 0 credits; today 0 credits so far."},
		{"flat", "Acme Corp", flat(30, 5*credit),
			"Daily usage of Acme Corp, 1–30 November 2026: 150 credits in total, highest 5 credits on 1 November; last 7 days 35 credits, about the same as the 7 days before; today 5 credits so far."},
		{"growth", "", growth(),
			"Daily usage, 1–30 November 2026: 465 credits in total, highest 30 credits on 30 November; last 7 days 189 credits, up 35 % on the 7 days before; today 30 credits so far."},
		{"month", "Acme Corp", realistic(),
			"Daily usage of Acme Corp, 1–30 November 2026: 378.65 credits in total, highest 38.2 credits on 16 November, no usage on 1 of the 30 days; last 7 days 98.55 credits, up 5 % on the 7 days before; today 9.35 credits so far."},
		{"across months", "Acme Corp", series(credit, 2*credit, 3*credit)[:2],
			"Daily usage of Acme Corp, 28–29 November 2026: 3 credits in total, highest 2 credits on 29 November; today 2 credits so far."},
		{"one credit", "", series(0, credit),
			"Daily usage, 29–30 November 2026: 1 credit in total, all of it on 30 November; today 1 credit so far."},
		{"one day", "Acme Corp", series(0),
			"Daily usage of Acme Corp, 30 November 2026: no usage in the day."},
		{"no days", "Acme Corp", nil,
			"Daily usage of Acme Corp: no days to show."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustNew(t, tc.org, tc.days).Alt(); got != tc.want {
				t.Errorf("\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestAltSpansMonthsAndYears(t *testing.T) {
	mk := func(y int, m time.Month, d, n int) []Day {
		out := make([]Day, n)
		for i := range out {
			out[i] = Day{Date: time.Date(y, m, d+i, 0, 0, 0, 0, time.UTC)}
		}
		return out
	}
	for _, tc := range []struct {
		days []Day
		want string
	}{
		{mk(2026, 10, 17, 30), "17 October – 15 November 2026"},
		{mk(2026, 12, 20, 30), "20 December 2026 – 18 January 2027"},
	} {
		if got := mustNew(t, "", tc.days).Alt(); !strings.Contains(got, tc.want) {
			t.Errorf("%s lacks %q", got, tc.want)
		}
	}
}

// TestAltLimit: Slack refuses an image block whose alt_text is over 2,000
// characters, which would fail the whole Home view.
func TestAltLimit(t *testing.T) {
	org := strings.Repeat("Ω", 5000)
	days := make([]Day, MaxDays)
	for i := range days {
		days[i] = Day{Date: time.Date(2026, 1, 1+i, 0, 0, 0, 0, time.UTC), Micros: domain.Micros(i)*123_456_789_123 + 987_654}
	}
	alt := mustNew(t, org, days).Alt()
	if n := utf8.RuneCountInString(alt); n > 2000 {
		t.Errorf("alt text of %d characters", n)
	}
}

func TestTrend(t *testing.T) {
	for _, tc := range []struct {
		name string
		days []Day
		want string
	}{
		{"empty", flat(30, 0), "No usage in the last 30 days."},
		{"no days", nil, "No usage to show."},
		{"one quiet day", series(0), "No usage today."},
		{"spike", spike(),
			"▁▁▁▁▁▁▁▁▁▁▁▁▁█▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁ 250 credits in 30 days; last 7 days 0 credits"},
		{"flat", flat(30, 5*credit),
			strings.Repeat("█", 30) + " 150 credits in 30 days; last 7 days 35 credits, about the same as the 7 days before"},
		{"growth", growth(),
			"▂▂▃▃▃▃▃▄▄▄▄▄▅▅▅▅▅▆▆▆▆▆▇▇▇▇▇███ 465 credits in 30 days; last 7 days 189 credits, up 35 % on the 7 days before"},
		{"decline", series(9*credit, 9*credit, 9*credit, 9*credit, 9*credit, 9*credit, 9*credit, 3*credit, 3*credit, 3*credit, 3*credit, 3*credit, 3*credit, 3*credit),
			"███████▄▄▄▄▄▄▄ 84 credits in 14 days; last 7 days 21 credits, down 67 % on the 7 days before"},
		{"from nothing", series(0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0),
			"▁▁▁▁▁▁▁█▁▁▁▁▁▁ 0.000001 credits in 14 days; last 7 days 0.000001 credits, none in the 7 days before"},
		{"tenfold", series(1, 0, 0, 0, 0, 0, 0, 50, 0, 0, 0, 0, 0, 0),
			"▂▁▁▁▁▁▁█▁▁▁▁▁▁ 0.000051 credits in 14 days; last 7 days 0.00005 credits, over 10 times the 7 days before"},
		{"short", series(credit, 2*credit),
			"▅█ 3 credits in 2 days"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustNew(t, "Acme Corp", tc.days).Trend(); got != tc.want {
				t.Errorf("\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestTextsNeedNoEscaping: Trend goes into mrkdwn as it is, and neither it
// nor Alt (with a name free of specials) may hold a character mrkdwn reads.
func TestTextsNeedNoEscaping(t *testing.T) {
	for _, g := range goldens {
		c := mustNew(t, g.org, g.days)
		for _, s := range []string{c.Trend(), c.Alt()} {
			if i := strings.IndexAny(s, "*_~`<>&"); i >= 0 {
				t.Errorf("%s: %q holds %q", g.name, s, s[i])
			}
		}
	}
}

func TestNewRefuses(t *testing.T) {
	gap := series(1, 2, 3)
	gap[2].Date = gap[2].Date.AddDate(0, 0, 1)
	swapped := series(1, 2, 3)
	swapped[0], swapped[1] = swapped[1], swapped[0]
	negative := series(1, -2, 3)
	overflow := series(1<<62, 1<<62, 1<<62)
	long := make([]Day, MaxDays+1)
	for i := range long {
		long[i].Date = time.Date(2026, 1, 1+i, 0, 0, 0, 0, time.UTC)
	}
	for name, days := range map[string][]Day{"gap": gap, "swapped": swapped, "negative": negative, "overflow": overflow, "too long": long} {
		if _, err := New("", days); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestNewAcceptsDaylightSaving: in a zone with daylight saving one day is
// 23 hours long; consecutive dates are still consecutive days.
func TestNewAcceptsDaylightSaving(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	if loc, err := time.LoadLocation("Europe/Berlin"); err == nil {
		berlin = loc
	}
	var days []Day
	for d := 20; d <= 31; d++ {
		days = append(days, Day{Date: time.Date(2026, 3, d, 0, 0, 0, 0, berlin)})
	}
	if _, err := New("", days); err != nil {
		t.Fatal(err)
	}
}

func TestKey(t *testing.T) {
	base := mustNew(t, "Acme Corp", realistic()).Key()
	if again := mustNew(t, "Acme Corp", realistic()).Key(); again != base {
		t.Error("the same input has two keys")
	}
	changed := realistic()
	changed[29].Micros++
	moved := realistic()
	for i := range moved {
		moved[i].Date = moved[i].Date.AddDate(0, 0, 1)
	}
	for name, k := range map[string]string{
		"one micro-credit more today": mustNew(t, "Acme Corp", changed).Key(),
		"a day later":                 mustNew(t, "Acme Corp", moved).Key(),
		"another name":                mustNew(t, "Acme Corp.", realistic()).Key(),
		"one day fewer":               mustNew(t, "Acme Corp", realistic()[1:]).Key(),
	} {
		if k == base {
			t.Errorf("%s: same key", name)
		}
	}
	// The key reads dates, not instants: the same days in another zone
	// draw the same picture.
	inTokyo := realistic()
	tokyo := time.FixedZone("JST", 9*3600)
	for i := range inTokyo {
		y, m, d := inTokyo[i].Date.Date()
		inTokyo[i].Date = time.Date(y, m, d, 0, 0, 0, 0, tokyo)
	}
	if k := mustNew(t, "Acme Corp", inTokyo).Key(); k != base {
		t.Error("the same dates in another zone have another key")
	}
}

// TestConcurrent draws from several goroutines at once: the fonts are
// shared, the rasterizer and the fonts' buffers must not be (go test -race
// shows it).
func TestConcurrent(t *testing.T) {
	c := mustNew(t, "Acme Corp", realistic())
	want, err := c.PNG()
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			got, err := c.PNG()
			if err == nil && !bytes.Equal(got, want) {
				err = os.ErrInvalid
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// BenchmarkPNG is the cost of one drawing, encoding included; the App
// Home is published within Slack's 3 seconds, and the chart should be a
// small part of that.
func BenchmarkPNG(b *testing.B) {
	c := mustNew(b, "Acme Corp", realistic())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.PNG(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkKey(b *testing.B) {
	days := realistic()
	b.ReportAllocs()
	for b.Loop() {
		c, err := New("Acme Corp", days)
		if err != nil {
			b.Fatal(err)
		}
		_ = c.Key()
	}
}

func TestNiceTop(t *testing.T) {
	for _, tc := range []struct {
		peak, top, step domain.Micros
	}{
		{38_200_000, 40 * credit, 10 * credit},
		{250 * credit, 300 * credit, 100 * credit},
		{7 * credit, 7_500_000, 2_500_000},
		{30 * credit, 30 * credit, 10 * credit},
		{412_500_000, 500 * credit, 250 * credit},
		{37, 40, 10},
		{1, 1, 1},
		{3, 3, 1},
		{2, 2, 1},
		{123_456_789 * credit, 150_000_000 * credit, 50_000_000 * credit},
		{0, credit, credit},
	} {
		top, step := niceTop(tc.peak)
		if top != tc.top || step != tc.step {
			t.Errorf("niceTop(%d) = %d, %d; want %d, %d", tc.peak, top, step, tc.top, tc.step)
		}
	}
	// Whatever the peak, the axis covers it in at most four round steps.
	for _, peak := range []domain.Micros{1, 9, 11, 99, 101, 1234567, 999_999_999_999, 1 << 62, math.MaxInt64 / 3} {
		top, step := niceTop(peak)
		if top < peak || top/step > 4 || top%step != 0 {
			t.Errorf("niceTop(%d) = %d, %d", peak, top, step)
		}
	}
}

// TestUndrawableName: a name in a script the fonts lack is left out of the
// picture rather than drawn as boxes; the picture is then the one without
// a name.
func TestUndrawableName(t *testing.T) {
	without, err := mustNew(t, "", realistic()).PNG()
	if err != nil {
		t.Fatal(err)
	}
	for _, org := range []string{"株式会社テスト", "Acme\nCorp", "Acme 🚀"} {
		got, err := mustNew(t, org, realistic()).PNG()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, without) {
			t.Errorf("%q is drawn", org)
		}
	}
	with, err := mustNew(t, "Müller & Söhne", realistic()).PNG()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(with, without) {
		t.Error("a name the fonts can draw is left out")
	}
}

package ui

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestClean(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"empty", "", ""},
		{"plain", "billing-api", "billing-api"},
		{"non-ASCII kept", "héllo 日本 🐇", "héllo 日本 🐇"},
		{"no-break space kept", "a\u00a0b", "a\u00a0b"},
		{"CSI escape", "a\x1b[31mred", `a\x1b[31mred`},
		{"OSC title", "\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},
		{"bell", "\x07", `\x07`},
		{"tab and newline", "a\tb\nc\r", `a\tb\nc\r`},
		{"NUL", "a\x00b", `a\x00b`},
		{"DEL", "a\x7fb", `a\x7fb`},
		{"C1 controls", "\u0085\u009b", `\u0085\u009b`},
		{"bidi override", "abc\u202edcba", "abc<U+202E>dcba"},
		{"zero-width", "a\u200bb", "a<U+200B>b"},
		{"invalid UTF-8", "a\xffb", "a\ufffdb"},
		{"huge", strings.Repeat("x\x1b", 10000), strings.Repeat(`x\x1b`, 10000)},
	} {
		if got := clean(c.in); got != c.want {
			t.Errorf("%s: clean(%q) = %q, want %q", c.name, c.in, got, c.want)
		}
	}
}

func TestFit(t *testing.T) {
	for _, c := range []struct {
		name, in string
		w        int
		want     string
	}{
		{"pads", "abc", 5, "abc  "},
		{"exact", "abc", 3, "abc"},
		{"truncates with an ellipsis", "abcdef", 4, "abc…"},
		{"one cell", "abc", 1, "…"},
		{"zero width", "abc", 0, ""},
		{"negative width", "abc", -2, ""},
		{"empty", "", 3, "   "},
		{"empty, zero", "", 0, ""},
		{"wide characters cut, then padded", "日本語", 4, "日… "},
		{"wide characters", "日本語", 3, "日…"},
		{"emoji", "🐇🐇🐇", 3, "🐇…"},
		{"combining mark is one cell", "a\u0301bc", 2, "a\u0301…"},
		{"styles are kept and not counted", "\x1b[1mbold\x1b[m", 2, "\x1b[1mb…\x1b[m"},
		{"styled, padded", "\x1b[1mab\x1b[m", 4, "\x1b[1mab\x1b[m  "},
		{"huge width", "a", 1000, "a" + strings.Repeat(" ", 999)},
	} {
		if got := fit(c.in, c.w); got != c.want {
			t.Errorf("%s: fit(%q, %d) = %q, want %q", c.name, c.in, c.w, got, c.want)
		}
	}
}

func TestFitRight(t *testing.T) {
	for _, c := range []struct {
		name, in string
		w        int
		want     string
	}{
		{"pads on the left", "abc", 5, "  abc"},
		{"exact", "abc", 3, "abc"},
		{"truncates with an ellipsis", "abcdef", 4, "abc…"},
		{"zero width", "abc", 0, ""},
		{"negative width", "abc", -2, ""},
		{"empty, negative", "", -1, ""},
		{"empty", "", 3, "   "},
		{"wide", "日本", 6, "  日本"},
		// Cut inside a wide character it comes out one cell short (not
		// padded back to w, unlike fit).
		{"wide, cut", "日本語", 4, "日…"},
		{"styled", "\x1b[1m42\x1b[m", 4, "  \x1b[1m42\x1b[m"},
		{"huge width", "a", 1000, strings.Repeat(" ", 999) + "a"},
	} {
		if got := fitRight(c.in, c.w); got != c.want {
			t.Errorf("%s: fitRight(%q, %d) = %q, want %q", c.name, c.in, c.w, got, c.want)
		}
	}
}

func TestDur(t *testing.T) {
	for _, c := range []struct {
		in   time.Duration
		want string
	}{
		{-time.Second, "0s"},
		{math.MinInt64, "0s"},
		{0, "0ms"},
		{time.Nanosecond, "0ms"},
		{850 * time.Millisecond, "850ms"},
		{999 * time.Millisecond, "999ms"},
		{time.Second, "1.0s"},
		{4900 * time.Millisecond, "4.9s"},
		{9990 * time.Millisecond, "10.0s"}, // rounds up under the 10 s boundary
		{10 * time.Second, "10s"},
		{59900 * time.Millisecond, "59s"},
		{time.Minute, "1m00s"},
		{3*time.Minute + 12*time.Second, "3m12s"},
		{59*time.Minute + 59*time.Second, "59m59s"},
		{time.Hour, "1h00m"},
		{5*time.Hour + 3*time.Minute, "5h03m"},
		{47*time.Hour + 59*time.Minute, "47h59m"},
		{48 * time.Hour, "2d00h"},
		{55 * time.Hour, "2d07h"},
		{math.MaxInt64, "106751d23h"},
	} {
		if got := dur(c.in); got != c.want {
			t.Errorf("dur(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSecs(t *testing.T) {
	for _, c := range []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{60 * time.Second, "60s"},
		{600 * time.Second, "600s"},
		{1500 * time.Millisecond, "1s"}, // truncated, as the broker states whole seconds
		{999 * time.Millisecond, "0s"},
		{-5 * time.Second, "-5s"},
		{math.MaxInt64, "9223372036s"},
	} {
		if got := secs(c.in); got != c.want {
			t.Errorf("secs(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMs(t *testing.T) {
	for _, c := range []struct {
		in   time.Duration
		want string
	}{
		{0, "—"},
		{time.Nanosecond, "0.0ms"},
		{500 * time.Microsecond, "0.5ms"},
		{time.Millisecond, "1.0ms"},
		{9990 * time.Microsecond, "10.0ms"}, // rounds up under the 10 ms boundary
		{10 * time.Millisecond, "10ms"},
		{999 * time.Millisecond, "999ms"},
		{time.Second, "1.0s"},
		{1500 * time.Millisecond, "1.5s"},
		{-time.Millisecond, "-1.0ms"},
		{time.Hour, "3600.0s"},
	} {
		if got := ms(c.in); got != c.want {
			t.Errorf("ms(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRate(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want string
	}{
		{0, "0"},
		{0.5, "0"},
		{-100, "0"},
		{1, "1B/s"},
		{999, "999B/s"},
		{999.6, "1000B/s"}, // rounds up under the boundary
		{1000, "1.0k/s"},
		{2048, "2.0k/s"},
		{999_999, "1000.0k/s"},
		{1e6, "1.0M/s"},
		{1e9, "1.0G/s"},
		{1e15, "1000000.0G/s"},
		{math.Inf(1), "+InfG/s"},
		{math.Inf(-1), "0"},
		{math.NaN(), "NaNG/s"},
	} {
		if got := rate(c.in); got != c.want {
			t.Errorf("rate(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSize(t *testing.T) {
	for _, c := range []struct {
		in   uint64
		want string
	}{
		{0, "0B"},
		{1, "1B"},
		{1023, "1023B"},
		{1024, "1KiB"},
		{1536, "2KiB"},
		{1<<20 - 1, "1024KiB"}, // rounds up under the boundary
		{1 << 20, "1MiB"},
		{1<<30 - 1, "1024MiB"},
		{1 << 30, "1.0GiB"},
		{61 << 30, "61.0GiB"},
		{math.MaxUint64, "17179869184.0GiB"},
	} {
		if got := size(c.in); got != c.want {
			t.Errorf("size(%d) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTrend(t *testing.T) {
	for _, c := range []struct {
		now, before float64
		want        string
	}{
		{0, 0, " "},
		{1000, 1000, " "},
		{1000, 500, "↑"},
		{500, 1000, "↓"},
		{150, 100, " "}, // up by half, but only 50 B/s: noise
		{50, 150, " "},
		{200, 0, "↑"},
		{0, 200, "↓"},
		{1100, 1000, " "}, // within a fifth
		{-500, 0, "↓"},
		{1e18, 1e9, "↑"},
		{math.NaN(), 1000, " "},
	} {
		if got := trend(c.now, c.before); got != c.want {
			t.Errorf("trend(%v, %v) = %q, want %q", c.now, c.before, got, c.want)
		}
	}
}

func TestSparkline(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	for _, c := range []struct {
		name string
		in   []time.Duration
		w    int
		want string
	}{
		{"none", nil, 12, ""},
		{"empty", []time.Duration{}, 12, ""},
		{"zero width", ms(1, 2, 3), 0, ""},
		{"one value", ms(5), 12, "▁"},
		{"flat", ms(3, 3, 3), 12, "▁▁▁"},
		{"ramp", ms(1, 2, 3, 4, 5, 6, 7, 8), 12, "▁▂▃▄▅▆▇█"},
		{"the last w values", ms(100, 1, 2, 3), 3, "▁▄█"},
		{"a spike", ms(1, 1, 100, 1), 12, "▁▁█▁"},
		{"zeros and negatives", []time.Duration{-time.Second, 0, time.Second}, 12, "▁▄█"},
		{"huge range", []time.Duration{math.MinInt64, math.MaxInt64}, 12, "▁█"},
	} {
		if got := sparkline(c.in, c.w); got != c.want {
			t.Errorf("%s: sparkline(%v, %d) = %q, want %q", c.name, c.in, c.w, got, c.want)
		}
	}
}

func TestWrap(t *testing.T) {
	for _, c := range []struct {
		name, text string
		width      int
		indent     string
		want       []string
	}{
		{"empty", "", 20, "", nil},
		{"blank", "   ", 20, "", nil},
		{"fits", "one two three", 20, "", []string{"one two three"}},
		{"hanging indent", "one two three", 10, "  ", []string{"one two", "  three"}},
		{"exact width", "abcde fghij", 11, "", []string{"abcde fghij"}},
		{"one over", "abcde fghijk", 11, "", []string{"abcde", "fghijk"}},
		{"narrow widths are 10", "aaa bbb ccc", 3, "", []string{"aaa bbb", "ccc"}},
		{"zero width is 10", "aaa bbb ccc", 0, "", []string{"aaa bbb", "ccc"}},
		{"negative width is 10", "aaa bbb ccc", -5, "", []string{"aaa bbb", "ccc"}},
		{"a long word is not broken", "abcdefghijklmnop", 10, "", []string{"abcdefghijklmnop"}},
		{"a long word after the first", "a abcdefghijklmnop", 10, "  ", []string{"a", "  abcdefghijklmnop"}},
		{"runs of spaces collapse", "a   b    c", 20, "", []string{"a b c"}},
		{"wide characters count two", "日本語 日本語 日本語", 10, "", []string{"日本語", "日本語", "日本語"}},
		{"control characters are inert", "a\x1b[2Jb c", 20, "", []string{`a\x1b[2Jb c`}},
		// clean runs before the split: a newline or a tab joins two words
		// with "?" rather than separating them.
		{"newlines and tabs", "out\n\tx", 30, "", []string{`out\n\tx`}},
		{"huge", strings.Repeat("word ", 1000), 80, "", func() []string {
			var out []string
			for i := 0; i < 62; i++ {
				out = append(out, strings.TrimSpace(strings.Repeat("word ", 16)))
			}
			return append(out, strings.TrimSpace(strings.Repeat("word ", 8)))
		}()},
	} {
		if got := wrap(c.text, c.width, c.indent); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: wrap(%q, %d, %q) = %q, want %q", c.name, c.text, c.width, c.indent, got, c.want)
		}
	}
}

func TestPad(t *testing.T) {
	for _, c := range []struct {
		name string
		in   []string
		h    int
		want []string
	}{
		{"none, zero", nil, 0, nil},
		{"none, padded", nil, 2, []string{"", ""}},
		{"cut", []string{"a", "b", "c"}, 2, []string{"a", "b"}},
		{"exact", []string{"a", "b"}, 2, []string{"a", "b"}},
		{"padded", []string{"a"}, 3, []string{"a", "", ""}},
		{"cut to nothing", []string{"a"}, 0, []string{}},
		{"huge", []string{"a"}, 10000, append([]string{"a"}, make([]string, 9999)...)},
	} {
		if got := pad(c.in, c.h); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: pad(%q, %d) = %q, want %q", c.name, c.in, c.h, got, c.want)
		}
	}
}

func TestStripANSI(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"empty", "", ""},
		{"plain", "plain", "plain"},
		{"SGR", "\x1b[1;31mbold red\x1b[m", "bold red"},
		{"OSC", "\x1b]0;title\x07x", "x"},
		{"non-ASCII", "\x1b[4m日本\x1b[m 🐇", "日本 🐇"},
		{"ESC b is a sequence of its own", "a\x1bb", "a"},
		{"huge", strings.Repeat("\x1b[1mx\x1b[m", 10000), strings.Repeat("x", 10000)},
	} {
		if got := stripANSI(c.in); got != c.want {
			t.Errorf("%s: stripANSI(%q) = %q, want %q", c.name, c.in, got, c.want)
		}
	}
}

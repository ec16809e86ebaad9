package ui

import (
	"fmt"
	"github.com/amqptop/amqptop/model/inert"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// clean makes a text from the network inert on the terminal: the one
// sanitiser every sink uses (model/inert): escape sequences and controls
// as \xNN, bidi overrides and zero-width characters as <U+XXXX>.
func clean(s string) string { return inert.Line(s) }

// fit truncates (with …) or pads s to exactly w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if lipgloss.Width(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	if d := w - lipgloss.Width(s); d > 0 {
		s += strings.Repeat(" ", d)
	}
	return s
}

// fitRight right-aligns s in w cells.
func fitRight(s string, w int) string {
	if lipgloss.Width(s) > w {
		return ansi.Truncate(s, w, "…")
	}
	return strings.Repeat(" ", w-lipgloss.Width(s)) + s
}

// dur formats a duration compactly: 850ms, 4.9s, 3m12s, 5h03m, 2d07h.
func dur(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}

// secs formats a heartbeat the way the broker states it: 60s, 600s.
func secs(d time.Duration) string { return fmt.Sprintf("%ds", int(d.Seconds())) }

// ms formats a latency.
func ms(d time.Duration) string {
	switch {
	case d == 0:
		return "—"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// rate formats bytes per second.
func rate(b float64) string {
	switch {
	case b < 1:
		return "0"
	case b < 1000:
		return fmt.Sprintf("%.0fB/s", b)
	case b < 1e6:
		return fmt.Sprintf("%.1fk/s", b/1e3)
	case b < 1e9:
		return fmt.Sprintf("%.1fM/s", b/1e6)
	}
	return fmt.Sprintf("%.1fG/s", b/1e9)
}

// size formats a byte count.
func size(b uint64) string {
	switch {
	case b < 1<<10:
		return fmt.Sprintf("%dB", b)
	case b < 1<<20:
		return fmt.Sprintf("%.0fKiB", float64(b)/(1<<10))
	case b < 1<<30:
		return fmt.Sprintf("%.0fMiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%.1fGiB", float64(b)/(1<<30))
}

// trend is ↑ or ↓ when a rate moved by more than a fifth, else a space.
func trend(now, before float64) string {
	switch {
	case now > before*1.2 && now-before > 100:
		return "↑"
	case now < before*0.8 && before-now > 100:
		return "↓"
	}
	return " "
}

var sparks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws the last w values.
func sparkline(vals []time.Duration, w int) string {
	if len(vals) > w {
		vals = vals[len(vals)-w:]
	}
	if len(vals) == 0 {
		return ""
	}
	lo, hi := vals[0], vals[0]
	for _, v := range vals {
		lo, hi = min(lo, v), max(hi, v)
	}
	var b strings.Builder
	for _, v := range vals {
		i := 0
		if hi > lo {
			i = int(float64(v-lo) / float64(hi-lo) * float64(len(sparks)-1))
		}
		b.WriteRune(sparks[i])
	}
	return b.String()
}

// wrap wraps text to width with a hanging indent for continuation lines.
func wrap(text string, width int, indent string) []string {
	if width < 10 {
		width = 10
	}
	var out []string
	line := ""
	for _, word := range strings.Fields(clean(text)) {
		lw := lipgloss.Width(line)
		if line != "" && lw+1+lipgloss.Width(word) > width {
			out = append(out, line)
			line = indent
		}
		if line != "" && line != indent {
			line += " "
		}
		line += word
	}
	if line != "" {
		out = append(out, line)
	}
	return out
}

// pad makes a block exactly h lines (cut or padded with blank lines).
func pad(lines []string, h int) []string {
	if len(lines) > h {
		return lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return lines
}

// stripANSI removes styling from a rendered string.
func stripANSI(s string) string { return ansi.Strip(s) }

package ui

import (
	"strings"

	"charm.land/lipgloss/v2"

	tea "charm.land/bubbletea/v2"
)

type rect struct{ x, y, w, h int }

func (r rect) contains(x, y int) bool { return x >= r.x && x < r.x+r.w && y >= r.y && y < r.y+r.h }

// frame is where each pane goes at the current size.
type frame struct {
	wide                      bool
	header                    int // header height
	conns, events, diag, body rect
}

// layout: wide (≥120×30) puts connections on the left and the diagnosis
// over the events on the right; compact (down to 80×24) stacks the
// connections over a diagnosis strip (events when that pane has focus).
// It is computed from the sizes alone: the header says how many lines it
// has.
func layout(w, h, header int) frame {
	f := frame{wide: w >= 120 && h >= 30, header: header}
	bodyH := max(4, h-header-1)
	f.body = rect{0, header, w, bodyH}
	if f.wide {
		lw := w * 62 / 100
		rw := w - lw - 1
		dh := bodyH * 55 / 100
		f.conns = rect{0, header, lw, bodyH}
		f.diag = rect{lw + 1, header, rw, dh}
		f.events = rect{lw + 1, header + dh, rw, bodyH - dh}
		return f
	}
	sh := min(8, max(4, bodyH/3))
	f.conns = rect{0, header, w, bodyH - sh}
	f.diag = rect{0, header + bodyH - sh, w, sh}
	f.events = f.diag
	return f
}

// shown says whether the current screen draws the events and the
// diagnosis.
func (m *Model) shown() (events, diag bool) {
	switch m.screen {
	case screenEvents:
		return true, false
	case screenDiag:
		return false, true
	case screenMain:
		return m.frame.wide || m.focus == paneEvents, m.frame.wide || m.focus != paneEvents
	}
	return false, false
}

// resize sizes the panes to the frame. The table is always sized (its
// page and scroll follow its place on the main screen); the other panes
// when the current screen shows them, so a hidden pane keeps the scroll
// it had where it was last seen.
func (m *Model) resize() {
	f := m.frame
	m.conns.SetSize(f.conns.w, f.conns.h)
	events, diag := m.shown()
	switch m.screen {
	case screenHelp:
		m.helpPane.SetSize(f.body.w, f.body.h)
	case screenDetail:
		m.detail.SetSize(f.body.w, f.body.h)
	case screenEvents:
		m.events.SetSize(f.body.w, f.body.h)
	case screenDiag:
		m.diag.SetSize(f.body.w, f.body.h)
	default:
		if events {
			m.events.SetSize(f.events.w, f.events.h)
		}
		if diag {
			m.diag.SetSize(f.diag.w, f.diag.h)
		}
	}
}

func (m *Model) paneAt(x, y int) (pane, bool) {
	f := m.frame
	switch {
	case f.conns.contains(x, y):
		return paneConns, true
	case f.wide && f.diag.contains(x, y):
		return paneDiag, true
	case f.wide && f.events.contains(x, y):
		return paneEvents, true
	case !f.wide && f.diag.contains(x, y):
		if m.focus == paneEvents {
			return paneEvents, true
		}
		return paneDiag, true
	}
	return 0, false
}

// View implements tea.Model. It only reads: every pane's lines were built
// in Update.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "amqptop — " + m.target
	return v
}

// render draws the whole screen as text (golden tests call it): the
// header, the body of the current screen cut or padded to its height, the
// footer. It composes the panes' lines into a new buffer and never
// appends to a pane's own slices.
func (m *Model) render() string {
	if m.w < 20 || m.h < 6 {
		return "amqptop: the terminal is too small"
	}
	f := m.frame
	var b strings.Builder
	n := 0
	put := func(l string) {
		if n > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l)
		n++
	}
	for _, l := range m.header.Lines() {
		put(l)
	}
	body := 0
	putBody := func(l string) {
		if body < f.body.h {
			put(l)
			body++
		}
	}
	each := func(lines []string) {
		for _, l := range lines {
			putBody(l)
		}
	}
	switch m.screen {
	case screenHelp:
		each(m.helpPane.Lines())
	case screenDetail:
		each(m.detail.Lines())
	case screenEvents:
		each(m.events.Lines())
	case screenDiag:
		each(m.diag.Lines())
	default:
		left := m.conns.Lines()
		if f.wide {
			diag, events := m.diag.Lines(), m.events.Lines()
			sep := m.sty.muted.Render("│")
			for i, l := range left {
				right := ""
				switch {
				case i < len(diag):
					right = diag[i]
				case i-len(diag) < len(events):
					right = events[i-len(diag)]
				}
				putBody(fit(l, f.conns.w) + sep + right)
			}
		} else {
			each(left)
			if m.focus == paneEvents {
				each(m.events.Lines())
			} else {
				each(m.diag.Lines())
			}
		}
	}
	for body < f.body.h {
		putBody("")
	}
	put(m.footer)
	return b.String()
}

// paneTitle draws a pane's title bar: name, facts, and a rule to the width.
func paneTitle(s *styles, name, facts string, w int, focused bool) string {
	st := s.title
	if focused {
		st = s.titleOn
		name = "▶ " + name
	}
	head := st.Render(name)
	if facts != "" {
		head += " " + s.subtle.Render(facts)
	}
	rule := w - lipgloss.Width(head) - 1
	if rule > 0 {
		head += " " + s.muted.Render(strings.Repeat("─", rule))
	}
	return fit(head, w)
}

// footerLine is the open filter, or the key hints.
func (m *Model) footerLine() string {
	if m.filter.Focused() {
		return fit(m.filter.View()+m.sty.subtle.Render("  enter: keep · esc: clear"), m.w)
	}
	return fit(m.help.ShortHelpView(m.keys.ShortHelp()), m.w)
}

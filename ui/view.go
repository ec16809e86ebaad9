package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	tea "charm.land/bubbletea/v2"
	"github.com/amqptop/amqptop/model"
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
func (m *Model) layout() frame {
	f := frame{wide: m.w >= 120 && m.h >= 30}
	f.header = len(m.headerLines())
	bodyH := max(4, m.h-f.header-1)
	f.body = rect{0, f.header, m.w, bodyH}
	if f.wide {
		lw := m.w * 62 / 100
		rw := m.w - lw - 1
		dh := bodyH * 55 / 100
		f.conns = rect{0, f.header, lw, bodyH}
		f.diag = rect{lw + 1, f.header, rw, dh}
		f.events = rect{lw + 1, f.header + dh, rw, bodyH - dh}
		return f
	}
	sh := min(8, max(4, bodyH/3))
	f.conns = rect{0, f.header, m.w, bodyH - sh}
	f.diag = rect{0, f.header + bodyH - sh, m.w, sh}
	f.events = f.diag
	return f
}

func (m *Model) connRows() int { return max(1, m.layout().conns.h-2) }

func (m *Model) paneAt(x, y int) (pane, bool) {
	f := m.layout()
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

// View implements tea.Model.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "amqptop — " + m.target
	return v
}

// render draws the whole screen as text (golden tests call it).
func (m *Model) render() string {
	if m.w < 20 || m.h < 6 {
		return "amqptop: the terminal is too small"
	}
	f := m.layout()
	out := m.headerLines()
	var body []string
	switch m.screen {
	case screenHelp:
		body = m.helpLines(f.body.w, f.body.h)
	case screenDetail:
		body = m.detailLines(f.body.w, f.body.h)
	case screenEvents:
		body = m.eventLines(f.body.w, f.body.h, true)
	case screenDiag:
		body = m.diagLines(f.body.w, f.body.h, true)
	default:
		left := m.connLines(f.conns.w, f.conns.h)
		if f.wide {
			right := append(m.diagLines(f.diag.w, f.diag.h, m.focus == paneDiag), m.eventLines(f.events.w, f.events.h, m.focus == paneEvents)...)
			sep := m.sty.muted.Render("│")
			for i := range left {
				body = append(body, fit(left[i], f.conns.w)+sep+right[i])
			}
		} else {
			body = left
			if m.focus == paneEvents {
				body = append(body, m.eventLines(f.diag.w, f.diag.h, true)...)
			} else {
				body = append(body, m.diagLines(f.diag.w, f.diag.h, m.focus == paneDiag)...)
			}
		}
	}
	out = append(out, pad(body, f.body.h)...)
	out = append(out, m.footer())
	return strings.Join(out, "\n")
}

// title draws a pane's title bar: name, facts, and a rule to the width.
func (m *Model) title(name, facts string, w int, focused bool) string {
	st := m.sty.title
	if focused {
		st = m.sty.titleOn
		name = "▶ " + name
	}
	head := st.Render(name)
	if facts != "" {
		head += " " + m.sty.subtle.Render(facts)
	}
	rule := w - lipgloss.Width(head) - 1
	if rule > 0 {
		head += " " + m.sty.muted.Render(strings.Repeat("─", rule))
	}
	return fit(head, w)
}

func (m *Model) footer() string {
	if m.filter.Focused() {
		return fit(m.filter.View()+m.sty.subtle.Render("  enter: keep · esc: clear"), m.w)
	}
	return fit(m.help.ShortHelpView(m.keys.ShortHelp()), m.w)
}

func (m *Model) helpLines(w, h int) []string {
	lines := []string{m.title("Keys", "press ? or esc to close", w, true), ""}
	for _, b := range m.keys.all() {
		hb := b.Help()
		lines = append(lines, fit("  "+m.sty.keyStyle.Render(fit(hb.Key, 10))+" "+m.sty.text.Render(hb.Desc), w))
	}
	lines = append(lines, "",
		fit(m.sty.subtle.Render("  The filter (/) takes every key while open; q types a q there. Mouse: wheel scrolls, click selects."), w),
		fit(m.sty.subtle.Render("  States: ● running  ◐ flow  ◧ blocking  ■ blocked  ♥ heartbeat at risk  ✕ closed"), w),
		fit(m.sty.subtle.Render("  Severity: ✖ error  ▲ warning  · info"), w))
	return pad(lines, h)
}

// headerLines: the cluster, the nodes with their alarms, the sources and
// the probe; one more line when a source is in trouble.
func (m *Model) headerLines() []string {
	s := m.sty
	ov := m.st.Overview()
	now := m.now()
	var l1 []string
	l1 = append(l1, s.badge.Render("amqptop"))
	if ov.ClusterName != "" {
		l1 = append(l1, s.bold.Render(clean(ov.ClusterName)))
	} else if m.target != "" {
		l1 = append(l1, s.bold.Render(clean(m.target)))
	}
	if ov.RabbitVersion != "" {
		l1 = append(l1, s.text.Render("RabbitMQ "+ov.RabbitVersion))
	}
	open, closed := m.rows.open, m.rows.closed
	l1 = append(l1, s.text.Render(fmt.Sprintf("%d conns", open))+s.subtle.Render(fmt.Sprintf(" (%d closed)", closed)))
	if ov.Queues > 0 {
		l1 = append(l1, s.subtle.Render(fmt.Sprintf("%d queues", ov.Queues)))
	}
	mode := strings.ToUpper(m.mode)
	if m.paused {
		mode = "PAUSED · " + fmt.Sprint(len(m.queued)) + " new"
	}
	if m.ended {
		mode += " · ended"
	}
	right := s.alarm.Render(" "+mode+" ") + " " + s.subtle.Render(now.Local().Format("15:04:05"))
	line1 := strings.Join(l1, s.muted.Render(" · "))
	line1 = fit(line1, m.w-lipgloss.Width(right)-1) + " " + right

	// Nodes with their alarms.
	var nodes []string
	for _, n := range m.st.Nodes() {
		look := m.sty.ok
		glyph := "●"
		if n.Seen && !n.Running {
			look, glyph = m.sty.err, "✗"
		}
		txt := look.Render(glyph) + " " + s.text.Render(clean(n.Name))
		if n.MemLimit > 0 {
			txt += s.subtle.Render(fmt.Sprintf(" mem %d%%", n.MemUsed*100/n.MemLimit))
		}
		if n.DiskFreeLimit > 0 && n.DiskFree > 0 {
			txt += s.subtle.Render(" disk " + size(n.DiskFree))
		}
		for _, a := range n.Alarms() {
			txt += " " + s.alarm.Render(" "+strings.ToUpper(a)+" ALARM ")
		}
		nodes = append(nodes, txt)
	}
	if len(nodes) == 0 {
		nodes = append(nodes, s.subtle.Render("no node seen yet"))
	}
	line2 := fit(strings.Join(nodes, s.muted.Render("  │  ")), m.w)

	// Sources and the probe.
	var srcs []string
	var trouble []string
	for _, sv := range m.st.Sources() {
		lk := s.healthLook(sv.Health)
		srcs = append(srcs, s.subtle.Render(shortSource(sv.Source)+" ")+lk.style.Render(lk.glyph))
		if sv.Health == model.HealthDown || sv.Health == model.HealthDegraded || (sv.Health == model.HealthOff && sv.Hint != "") {
			t := sv.Source.String() + " " + lk.word
			if sv.Detail != "" {
				t += ": " + clean(sv.Detail)
			}
			if sv.Hint != "" {
				t += " — " + clean(sv.Hint)
			}
			trouble = append(trouble, t)
		}
	}
	line3 := strings.Join(srcs, "  ") + s.muted.Render("  │  ") + m.probeSummary(now)
	out := []string{line1, line2, fit(line3, m.w)}
	if !(m.w >= 120 && m.h >= 30) {
		// Compact: nodes only when something is wrong with one.
		alarm := false
		for _, n := range m.st.Nodes() {
			alarm = alarm || len(n.Alarms()) > 0 || (n.Seen && !n.Running)
		}
		if !alarm {
			out = []string{line1, fit(line3, m.w)}
		}
	}
	if len(trouble) > 0 {
		out = append(out, fit(s.err.Render("! ")+s.warn.Render(strings.Join(trouble, "  ·  ")), m.w))
	}
	return out
}

func shortSource(s model.Source) string {
	switch s {
	case model.SourceManagement:
		return "mgmt"
	case model.SourceEvents:
		return "events"
	}
	return s.String()
}

// probeSummary: link, round trip and confirm latency (last, p50, p99,
// sparkline), heartbeats seen each way against the negotiated interval,
// reconnects.
func (m *Model) probeSummary(now time.Time) string {
	s := m.sty
	p := m.st.Probe()
	lk := s.linkLook(p.Link)
	out := s.subtle.Render("probe ") + lk.style.Render(lk.glyph+" "+lk.word)
	if p.Link == model.LinkOff {
		return out
	}
	if p.Link == model.LinkDown || p.Link == model.LinkConnecting {
		if !p.DownSince.IsZero() {
			out += s.err.Render(" for " + dur(now.Sub(p.DownSince)))
		}
		if p.Attempt > 0 {
			out += s.subtle.Render(fmt.Sprintf(" · attempt %d", p.Attempt))
		}
		return out
	}
	if p.Blocked != "" {
		out += s.err.Render(" (" + clean(p.Blocked) + ")")
	}
	if p.RoundTrip.Len() > 0 {
		out += s.subtle.Render(" rt ") + s.text.Render(ms(p.RoundTrip.Last())) +
			s.subtle.Render(" p50 "+ms(p.RoundTrip.Percentile(50))+" p99 "+ms(p.RoundTrip.Percentile(99))+" ") +
			s.series(0).Render(sparkline(p.RoundTrip.Values(), 12)) +
			s.subtle.Render(" confirm ") + s.text.Render(ms(p.Confirm.Last()))
	}
	if p.Lost > 0 {
		out += s.warn.Render(fmt.Sprintf(" lost %d", p.Lost))
	}
	hb := s.subtle.Render(" ♥ ")
	in, outb := "—", "—"
	if !p.LastHBRecv.IsZero() {
		in = dur(now.Sub(p.LastHBRecv))
	}
	if !p.LastHBSent.IsZero() {
		outb = dur(now.Sub(p.LastHBSent))
	}
	hb += s.text.Render("←"+in+" →"+outb) + s.subtle.Render(" /"+dur(p.Heartbeat))
	out += hb
	if p.Reconnects > 0 {
		out += s.warn.Render(fmt.Sprintf(" · %d reconnects", p.Reconnects))
	}
	return out
}

package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/amqptop/amqptop/model"
)

// headerData is what the header shows.
type headerData struct {
	overview     model.Overview
	nodes        []*model.NodeView
	sources      []model.SourceView
	probe        model.Probe
	now          time.Time
	target, mode string
	paused       bool
	queued       int // observations held while paused
	ended        bool
	open, closed int       // connections among all (not only the filtered)
	staleSince   time.Time // every source is lost: what is shown is as of then (zero: current)
	warnings     []string  // shown in red for as long as the dashboard runs
}

// headerPane is the top of the screen: the cluster, the nodes with their
// alarms, the sources and the probe; one more line when a source is in
// trouble. Its lines are built when its data, size or styles change, so
// the layout can ask its Height without drawing anything.
type headerPane struct {
	sty   *styles
	w, h  int // the terminal's size: a compact header shows the nodes only when one is in trouble
	d     headerData
	lines []string
}

// SetStyles points the header at the dashboard's styles and redraws it.
func (p *headerPane) SetStyles(s *styles) {
	p.sty = s
	p.build()
}

// SetSize gives the header the terminal's size.
func (p *headerPane) SetSize(w, h int) {
	if p.w == w && p.h == h {
		return
	}
	p.w, p.h = w, h
	p.build()
}

// SetData gives the header what it shows.
func (p *headerPane) SetData(d headerData) {
	p.d = d
	p.build()
}

// Height is the number of lines the header takes.
func (p headerPane) Height() int { return len(p.lines) }

// Lines are the header's lines, each fitted to the width. Read only.
func (p headerPane) Lines() []string { return p.lines }

// View draws the header. It only reads.
func (p headerPane) View() string { return strings.Join(p.lines, "\n") }

func (p *headerPane) build() {
	if p.sty == nil {
		return
	}
	s, d := p.sty, &p.d
	ov := d.overview
	now := d.now
	var l1 []string
	l1 = append(l1, s.badge.Render("amqptop"))
	if ov.ClusterName != "" {
		l1 = append(l1, s.bold.Render(clean(ov.ClusterName)))
	} else if d.target != "" {
		l1 = append(l1, s.bold.Render(clean(d.target)))
	}
	if ov.RabbitVersion != "" {
		l1 = append(l1, s.text.Render("RabbitMQ "+ov.RabbitVersion))
	}
	l1 = append(l1, s.text.Render(fmt.Sprintf("%d conns", d.open))+s.subtle.Render(fmt.Sprintf(" (%d closed)", d.closed)))
	if ov.Queues > 0 {
		l1 = append(l1, s.subtle.Render(fmt.Sprintf("%d queues", ov.Queues)))
	}
	mode := strings.ToUpper(d.mode)
	if d.paused {
		mode = "PAUSED · " + fmt.Sprint(d.queued) + " new"
	}
	if d.ended {
		mode += " · ended"
	}
	stale := !d.staleSince.IsZero()
	if stale {
		mode = "STALE " + dur(now.Sub(d.staleSince)) + " · " + mode
	}
	right := s.alarm.Render(" "+mode+" ") + " " + s.subtle.Render(now.Local().Format("15:04:05"))
	line1 := strings.Join(l1, s.muted.Render(" · "))
	line1 = fit(line1, p.w-lipgloss.Width(right)-1) + " " + right

	// Nodes with their alarms.
	var nodes []string
	for _, n := range d.nodes {
		look := s.ok
		glyph := "●"
		switch {
		case n.Seen && !n.Running:
			look, glyph = s.err, "✗"
		case stale:
			look, glyph = s.warn, "?" // nothing has said how it is since
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
	line2 := fit(strings.Join(nodes, s.muted.Render("  │  ")), p.w)

	// Sources and the probe.
	var srcs []string
	var trouble []string
	for _, sv := range d.sources {
		lk := s.healthLook(sv.Health)
		srcs = append(srcs, s.subtle.Render(shortSource(sv.Source)+" ")+lk.style.Render(lk.glyph))
		if sv.Health == model.HealthDown || sv.Health == model.HealthDegraded || (sv.Health == model.HealthOff && sv.Hint != "") {
			t := sv.Source.String() + " " + lk.word
			if sv.Source == model.SourceManagement && sv.Health == model.HealthDown && !stale && !sv.Since.IsZero() {
				// The other sources are live, but the nodes' figures, the
				// rates and the states only the API gives are not.
				t += " " + dur(now.Sub(sv.Since)) + " (its figures as of " + sv.Since.Local().Format("15:04:05") + ")"
			}
			if sv.Detail != "" {
				t += ": " + clean(sv.Detail)
			}
			if sv.Hint != "" {
				t += " — " + clean(sv.Hint)
			}
			trouble = append(trouble, t)
		}
	}
	line3 := strings.Join(srcs, "  ") + s.muted.Render("  │  ") + probeSummary(s, &d.probe, now)
	out := []string{line1, line2, fit(line3, p.w)}
	if !(p.w >= 120 && p.h >= 30) {
		// Compact: nodes only when something is wrong with one.
		alarm := false
		for _, n := range d.nodes {
			alarm = alarm || len(n.Alarms()) > 0 || (n.Seen && !n.Running)
		}
		if !alarm {
			out = []string{line1, fit(line3, p.w)}
		}
	}
	for _, w := range d.warnings {
		out = append(out, fit(s.alarm.Render(" ! ")+" "+s.err.Render(clean(w)), p.w))
	}
	if stale {
		out = append(out, fit(s.err.Render("! every source is lost: the nodes and connections below are as of "+
			d.staleSince.Local().Format("15:04:05")+" ("+dur(now.Sub(d.staleSince))+" ago), not current"), p.w))
	}
	if len(trouble) > 0 {
		out = append(out, fit(s.err.Render("! ")+s.warn.Render(strings.Join(trouble, "  ·  ")), p.w))
	}
	p.lines = out
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
func probeSummary(s *styles, p *model.Probe, now time.Time) string {
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

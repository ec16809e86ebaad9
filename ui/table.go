package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/amqptop/amqptop/model"
)

// col is one column of the connections table.
type col struct {
	name  string
	width int  // 0: flexible
	min   int  // for flexible columns
	prio  int  // lower survives longer on narrow screens
	right bool // right-aligned
	cell  func(m *Model, c *model.ConnView) (string, lipgloss.Style)
}

func (m *Model) columns() []col {
	s := m.sty
	now := m.now()
	return []col{
		{name: "STATE", width: 10, prio: 0, cell: func(m *Model, c *model.ConnView) (string, lipgloss.Style) {
			lk := s.stateLook(c.State, c.Closed, c.AtRisk)
			return lk.glyph + " " + lk.word, lk.style
		}},
		{name: "CLIENT", min: 12, prio: 0, cell: func(m *Model, c *model.ConnView) (string, lipgloss.Style) {
			name := clean(displayName(c))
			if c.Own {
				name += " (amqptop)"
			}
			return name, s.text
		}},
		{name: "USER@VHOST", width: 18, prio: 3, cell: func(m *Model, c *model.ConnView) (string, lipgloss.Style) {
			switch {
			case c.Vhost == "":
				return clean(c.User), s.subtle // a refused login never reached a vhost
			}
			return clean(c.User + "@" + c.Vhost), s.subtle
		}},
		{name: "PEER", width: 21, prio: 5, cell: func(m *Model, c *model.ConnView) (string, lipgloss.Style) { return c.Peer, s.subtle }},
		{name: "NODE", width: 13, prio: 6, cell: func(m *Model, c *model.ConnView) (string, lipgloss.Style) {
			return strings.TrimPrefix(c.Node, "rabbit@"), s.subtle
		}},
		{name: "HB", width: 4, prio: 2, right: true, cell: func(m *Model, c *model.ConnView) (string, lipgloss.Style) {
			if c.Heartbeat == 0 {
				switch {
				case c.StatsMissing:
					return "?", s.subtle
				case c.Closed && !c.Listed:
					return "", s.subtle // it never got as far as negotiating one
				}
				return "off", s.warn
			}
			return secs(c.Heartbeat), s.subtle
		}},
		{name: "SILENT", width: 6, prio: 1, right: true, cell: func(m *Model, c *model.ConnView) (string, lipgloss.Style) {
			if c.Closed || c.Heartbeat == 0 || (c.RecvRate > 0 && !c.AtRisk) {
				return "", s.subtle // bytes are flowing: silence is not the question
			}
			sil := c.Silent(now)
			switch {
			case sil > c.Heartbeat:
				return dur(sil) + "!", s.err
			case sil > c.Heartbeat/2:
				return dur(sil), s.warn
			case sil < time.Second:
				return "", s.subtle
			}
			return dur(sil), s.subtle
		}},
		{name: "CH", width: 3, prio: 7, right: true, cell: func(m *Model, c *model.ConnView) (string, lipgloss.Style) {
			if c.Closed {
				return "", s.subtle
			}
			return fmt.Sprint(c.Channels), s.subtle
		}},
		{name: "IN", width: 8, prio: 2, right: true, cell: func(m *Model, c *model.ConnView) (string, lipgloss.Style) {
			if c.Closed || c.StatsMissing {
				return "", s.subtle
			}
			return rate(c.RecvRate) + trend(c.RecvRate, c.PrevRecv), s.text
		}},
		{name: "OUT", width: 8, prio: 4, right: true, cell: func(m *Model, c *model.ConnView) (string, lipgloss.Style) {
			if c.Closed || c.StatsMissing {
				return "", s.subtle
			}
			return rate(c.SendRate) + trend(c.SendRate, c.PrevSend), s.text
		}},
		{name: "AGE", width: 6, prio: 6, right: true, cell: func(m *Model, c *model.ConnView) (string, lipgloss.Style) {
			if c.Closed {
				return dur(now.Sub(c.ClosedAt)), s.muted
			}
			return dur(now.Sub(connectedAt(c))), s.subtle
		}},
		{name: "CAUSE", min: 22, prio: 1, cell: func(m *Model, c *model.ConnView) (string, lipgloss.Style) {
			switch {
			case c.Close != nil && c.Close.Cause != nil && c.Close.Diagnosis.Likely():
				return "likely " + c.Close.Cause.ID, s.sevLook(c.Close.Severity).style
			case c.Close != nil && c.Close.Cause != nil:
				return c.Close.Cause.ID, s.sevLook(c.Close.Severity).style
			case c.Closed && c.Close != nil:
				return "not recognised", s.warn
			case c.Closed:
				return "…", s.subtle
			case c.AtRisk:
				return "heartbeat at risk", s.warn
			case c.State == model.StateBlocked || c.State == model.StateBlocking:
				return "resource alarm", s.warn
			}
			return "", s.subtle
		}},
	}
}

// fitColumns drops the least important columns until the rest fit in w,
// and gives the flexible ones the room left.
func fitColumns(cols []col, w int) []col {
	for {
		need := 0
		for _, c := range cols {
			need += max(c.width, c.min) + 1
		}
		if need <= w || len(cols) <= 3 {
			break
		}
		worst := -1
		for i, c := range cols {
			if c.prio > 0 && (worst < 0 || c.prio > cols[worst].prio) {
				worst = i
			}
		}
		if worst < 0 {
			break
		}
		cols = append(cols[:worst:worst], cols[worst+1:]...)
	}
	fixed, flex := 0, 0
	for _, c := range cols {
		if c.width > 0 {
			fixed += c.width + 1
		} else {
			flex++
		}
	}
	// Flexible columns get their minimum; what is left goes to the first
	// (the client's name) up to 34 cells, then to the others.
	room := w - fixed - flex
	out := make([]col, len(cols))
	copy(out, cols)
	for i := range out {
		if out[i].width == 0 {
			out[i].width = out[i].min
			room -= out[i].min
		}
	}
	for i := range out {
		if cols[i].width == 0 && room > 0 {
			give := room
			if i == firstFlex(cols) {
				give = min(room, 34-out[i].width)
			}
			give = max(0, give)
			out[i].width += give
			room -= give
		}
	}
	return out
}

// connLines draws the connections pane: title, headings, the visible rows.
func (m *Model) connLines(w, h int) []string {
	s := m.sty
	m.rows.rebuild(m.st)
	sortWord := m.rows.col.String()
	if m.rows.desc {
		sortWord += " ↑"
	}
	facts := fmt.Sprintf("%d shown · sort %s", len(m.rows.rows), sortWord)
	if m.rows.filter != "" {
		facts += " · filter “" + clean(m.rows.filter) + "”"
	}
	lines := []string{m.title("Connections", facts, w, m.focus == paneConns && m.screen == screenMain)}
	cols := fitColumns(m.columns(), w-2)
	var head strings.Builder
	head.WriteString("  ")
	for _, c := range cols {
		if c.right {
			head.WriteString(fitRight(c.name, c.width) + " ")
		} else {
			head.WriteString(fit(c.name, c.width) + " ")
		}
	}
	lines = append(lines, s.header.Render(fit(head.String(), w)))
	rows := h - 2
	if len(m.rows.rows) == 0 {
		msg := "no connections yet"
		if m.rows.filter != "" {
			msg = "no connection matches the filter (esc clears it)"
		}
		lines = append(lines, s.subtle.Render(fit("  "+msg, w)))
	}
	for i := m.top; i < len(m.rows.rows) && i < m.top+rows; i++ {
		lines = append(lines, m.connRow(m.rows.rows[i], cols, w, i == m.sel))
	}
	return pad(lines, h)
}

// connRow draws one row; only visible rows are ever formatted.
func (m *Model) connRow(c *model.ConnView, cols []col, w int, selected bool) string {
	var b strings.Builder
	if selected {
		b.WriteString(m.sty.accent.Render("▶ "))
	} else {
		b.WriteString("  ")
	}
	for _, cl := range cols {
		txt, st := cl.cell(m, c)
		if cl.right {
			txt = fitRight(txt, cl.width)
		} else {
			txt = fit(txt, cl.width)
		}
		switch {
		case selected:
			st = m.sty.selected
		case c.Closed && cl.name != "CAUSE":
			st = m.sty.muted
		}
		b.WriteString(st.Render(txt) + " ")
	}
	return fit(b.String(), w)
}

func firstFlex(cols []col) int {
	for i, c := range cols {
		if c.width == 0 {
			return i
		}
	}
	return -1
}

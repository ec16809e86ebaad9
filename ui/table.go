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
	cell  func(c *model.ConnView) (string, lipgloss.Style)
}

// columns are the table's columns, drawn in styles s as of now.
func columns(s *styles, now time.Time) []col {
	return []col{
		{name: "STATE", width: 10, prio: 0, cell: func(c *model.ConnView) (string, lipgloss.Style) {
			lk := s.stateLook(c.State, c.Closed, c.AtRisk)
			return lk.glyph + " " + lk.word, lk.style
		}},
		{name: "CLIENT", min: 12, prio: 0, cell: func(c *model.ConnView) (string, lipgloss.Style) {
			name := clean(displayName(c))
			if c.Own {
				name += " (amqptop)"
			}
			return name, s.text
		}},
		{name: "USER@VHOST", width: 18, prio: 3, cell: func(c *model.ConnView) (string, lipgloss.Style) {
			switch {
			case c.Vhost == "":
				return clean(c.User), s.subtle // a refused login never reached a vhost
			}
			return clean(c.User + "@" + c.Vhost), s.subtle
		}},
		{name: "PEER", width: 21, prio: 5, cell: func(c *model.ConnView) (string, lipgloss.Style) { return c.Peer, s.subtle }},
		{name: "NODE", width: 13, prio: 6, cell: func(c *model.ConnView) (string, lipgloss.Style) {
			return strings.TrimPrefix(c.Node, "rabbit@"), s.subtle
		}},
		{name: "HB", width: 4, prio: 2, right: true, cell: func(c *model.ConnView) (string, lipgloss.Style) {
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
		{name: "SILENT", width: 6, prio: 1, right: true, cell: func(c *model.ConnView) (string, lipgloss.Style) {
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
		{name: "CH", width: 3, prio: 7, right: true, cell: func(c *model.ConnView) (string, lipgloss.Style) {
			if c.Closed {
				return "", s.subtle
			}
			return fmt.Sprint(c.Channels), s.subtle
		}},
		{name: "IN", width: 8, prio: 2, right: true, cell: func(c *model.ConnView) (string, lipgloss.Style) {
			if c.Closed || c.StatsMissing {
				return "", s.subtle
			}
			return rate(c.RecvRate) + trend(c.RecvRate, c.PrevRecv), s.text
		}},
		{name: "OUT", width: 8, prio: 4, right: true, cell: func(c *model.ConnView) (string, lipgloss.Style) {
			if c.Closed || c.StatsMissing {
				return "", s.subtle
			}
			return rate(c.SendRate) + trend(c.SendRate, c.PrevSend), s.text
		}},
		{name: "AGE", width: 6, prio: 6, right: true, cell: func(c *model.ConnView) (string, lipgloss.Style) {
			if c.Closed {
				return dur(now.Sub(c.ClosedAt)), s.muted
			}
			return dur(now.Sub(connectedAt(c))), s.subtle
		}},
		{name: "CAUSE", min: 22, prio: 1, cell: func(c *model.ConnView) (string, lipgloss.Style) {
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

// connsPane is the connections table: its rows (filtered and sorted), the
// selection and the scroll. The rows are re-sorted only when the data, the
// sort or the filter change; only the visible rows are formatted, when the
// selection, the scroll, the size, the focus, the styles or the data
// change. View joins the lines built then.
type connsPane struct {
	sty     *styles
	w, h    int
	focused bool
	all     []*model.ConnView // every connection, as last fed
	now     time.Time
	rows    rowSet
	sel     int       // selected row in rows
	selName string    // the selected connection, kept across rebuilds
	top     int       // first visible row
	moved   bool      // the user moved the selection: keep it on its connection
	stale   time.Time // every source is lost since: the rows are as of then
	lines   []string
}

// SetStyles points the table at the dashboard's styles and redraws it.
func (p *connsPane) SetStyles(s *styles) {
	p.sty = s
	p.build()
}

// SetSize gives the table its place: the title, the headings, h-2 rows.
func (p *connsPane) SetSize(w, h int) {
	if p.w == w && p.h == h {
		return
	}
	p.w, p.h = w, h
	p.clamp()
	p.build()
}

// SetFocused says whether the table has the focus (its title shows it).
func (p *connsPane) SetFocused(f bool) {
	if p.focused == f {
		return
	}
	p.focused = f
	p.build()
}

// SetConns feeds every connection known, as of now, together with the
// table's size: the selection is kept in view once, against the new rows
// at the new height (the header above can grow or shrink with the same
// data, and two clamps in a row can leave a different scroll than one).
// Once the user has chosen a connection the selection stays on it; until
// then it stays on the top (worst) row.
func (p *connsPane) SetConns(all []*model.ConnView, now time.Time, stale time.Time, w, h int) {
	p.all, p.now, p.stale = all, now, stale
	p.w, p.h = w, h
	p.resort()
}

// CycleSort sorts by the next column, ascending.
func (p *connsPane) CycleSort() {
	p.rows.col = (p.rows.col + 1) % numColumns
	p.rows.desc = false
	p.resort()
}

// Reverse reverses the sort.
func (p *connsPane) Reverse() {
	p.rows.desc = !p.rows.desc
	p.resort()
}

// SetFilter keeps the rows matching every word of f. A new filter selects
// the first row.
func (p *connsPane) SetFilter(f string) {
	if f == p.rows.filter {
		return
	}
	p.rows.filter = f
	p.rows.rebuild(p.all, p.now)
	p.sel, p.top = 0, 0
	p.clamp()
	p.build()
}

// Move moves the selection by d rows: the user's choice, kept across
// rebuilds.
func (p *connsPane) Move(d int) {
	p.sel += d
	p.moved = true
	p.clamp()
	p.build()
}

// Click selects the row drawn on line y of the pane (0 is the title, 1
// the headings), as the user's choice.
func (p *connsPane) Click(y int) {
	row := y - 2 + p.top
	if row >= p.top && row < len(p.rows.rows) {
		p.sel, p.moved = row, true
		p.clamp()
		p.build()
	}
}

// SelectName selects the named connection's row; false when it is not
// listed.
func (p *connsPane) SelectName(name string) bool {
	for i, c := range p.rows.rows {
		if c.Name == name {
			p.sel = i
			p.clamp()
			p.build()
			return true
		}
	}
	return false
}

// Selected returns the selected connection, nil when there is none.
func (p connsPane) Selected() *model.ConnView {
	if p.sel < 0 || p.sel >= len(p.rows.rows) {
		return nil
	}
	return p.rows.rows[p.sel]
}

// Filter is the filter in force.
func (p connsPane) Filter() string { return p.rows.filter }

// Counts are the open and the closed connections among all, filtered or not.
func (p connsPane) Counts() (open, closed int) { return p.rows.open, p.rows.closed }

// PageSize is how many rows the table shows.
func (p connsPane) PageSize() int { return max(1, p.h-2) }

// Lines are the table's lines, exactly its height. Read only.
func (p connsPane) Lines() []string { return p.lines }

// View draws the table. It only reads.
func (p connsPane) View() string { return strings.Join(p.lines, "\n") }

func (p *connsPane) resort() {
	p.rows.rebuild(p.all, p.now)
	p.reselect()
	p.build()
}

// reselect keeps the selection on the same connection after a rebuild —
// once the user has chosen one; until then it stays on the top (worst) row.
func (p *connsPane) reselect() {
	if p.moved && p.selName != "" {
		for i, c := range p.rows.rows {
			if c.Name == p.selName {
				p.sel = i
				break
			}
		}
	}
	p.clamp()
}

// clamp keeps the selection on a row and in view.
func (p *connsPane) clamp() {
	n := len(p.rows.rows)
	p.sel = max(0, min(p.sel, n-1))
	if n > 0 {
		p.selName = p.rows.rows[p.sel].Name
	}
	vis := p.PageSize()
	if p.sel < p.top {
		p.top = p.sel
	}
	if p.sel >= p.top+vis {
		p.top = p.sel - vis + 1
	}
	p.top = max(0, min(p.top, max(0, n-vis)))
}

// build draws the title, the headings and the visible rows.
func (p *connsPane) build() {
	if p.sty == nil {
		return
	}
	s, w, h := p.sty, p.w, p.h
	sortWord := p.rows.col.String()
	if p.rows.desc {
		sortWord += " ↑"
	}
	facts := fmt.Sprintf("%d shown · sort %s", len(p.rows.rows), sortWord)
	if !p.stale.IsZero() {
		facts = "as of " + p.stale.Local().Format("15:04:05") + " (stale " + dur(p.now.Sub(p.stale)) + ") · " + facts
	}
	if p.rows.filter != "" {
		facts += " · filter “" + clean(p.rows.filter) + "”"
	}
	lines := []string{paneTitle(s, "Connections", facts, w, p.focused)}
	cols := fitColumns(columns(s, p.now), w-2)
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
	if len(p.rows.rows) == 0 {
		msg := "no connections yet"
		if p.rows.filter != "" {
			msg = "no connection matches the filter (esc clears it)"
		}
		lines = append(lines, s.subtle.Render(fit("  "+msg, w)))
	}
	for i := p.top; i < len(p.rows.rows) && i < p.top+rows; i++ {
		lines = append(lines, connRow(s, p.rows.rows[i], cols, w, i == p.sel, !p.stale.IsZero()))
	}
	p.lines = pad(lines, h)
}

// connRow draws one row; only visible rows are ever formatted.
func connRow(s *styles, c *model.ConnView, cols []col, w int, selected, stale bool) string {
	var b strings.Builder
	if selected {
		b.WriteString(s.accent.Render("▶ "))
	} else {
		b.WriteString("  ")
	}
	for _, cl := range cols {
		txt, st := cl.cell(c)
		if stale && !c.Closed && cl.name == "STATE" {
			// Nothing has said how it is since every source was lost.
			txt, st = "? "+strings.TrimSpace(strings.TrimLeft(txt, "●◐◧■♥ ")), s.warn
		}
		if cl.right {
			txt = fitRight(txt, cl.width)
		} else {
			txt = fit(txt, cl.width)
		}
		switch {
		case selected:
			st = s.selected
		case c.Closed && cl.name != "CAUSE":
			st = s.muted
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

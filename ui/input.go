package ui

// Keys and the mouse.

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/amqptop/amqptop/themes"
)

func (m *Model) onKey(k tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	if key.Matches(k, m.keys.ForceQuit) {
		return m, tea.Quit
	}
	if m.filter.Focused() {
		switch k.String() {
		case "enter":
			m.filter.Blur()
		case "esc":
			m.filter.Blur()
			m.filter.SetValue("")
		default:
			var cmd tea.Cmd
			m.filter, cmd = m.filter.Update(k)
			m.setFilter(m.filter.Value())
			return m, cmd
		}
		m.setFilter(m.filter.Value())
		return m, nil
	}
	switch {
	case key.Matches(k, m.keys.Quit):
		return m, tea.Quit
	case key.Matches(k, m.keys.Help):
		if m.screen == screenHelp {
			m.screen = m.back
		} else {
			m.back, m.screen = m.screen, screenHelp
		}
	case key.Matches(k, m.keys.Back):
		switch {
		case m.screen == screenHelp:
			m.screen = m.back
		case m.screen != screenMain:
			m.screen = screenMain
		case m.rows.filter != "":
			m.filter.SetValue("")
			m.setFilter("")
		}
	case key.Matches(k, m.keys.Tab):
		if m.screen == screenMain {
			if k.String() == "shift+tab" {
				m.focus = (m.focus + numPanes - 1) % numPanes
			} else {
				m.focus = (m.focus + 1) % numPanes
			}
		}
	case key.Matches(k, m.keys.Filter):
		m.screen = screenMain
		m.focus = paneConns
		return m, m.filter.Focus()
	case key.Matches(k, m.keys.Sort):
		m.rows.col = (m.rows.col + 1) % numColumns
		m.rows.desc = false
		m.rows.dirty = true
		m.rows.rebuild(m.st)
		m.reselect()
	case key.Matches(k, m.keys.Reverse):
		m.rows.desc = !m.rows.desc
		m.rows.dirty = true
		m.rows.rebuild(m.st)
		m.reselect()
	case key.Matches(k, m.keys.Pause):
		m.paused = !m.paused
		if !m.paused && len(m.queued) > 0 {
			m.apply(m.queued)
			m.queued = nil
		}
	case key.Matches(k, m.keys.Events):
		m.toggle(screenEvents)
	case key.Matches(k, m.keys.Diagnosis):
		m.toggle(screenDiag)
	case key.Matches(k, m.keys.Level):
		m.level = (m.level + 1) % 3
		m.evSel, m.evTop = 0, 0
	case key.Matches(k, m.keys.Theme):
		m.fixed = true
		m.setTheme(themes.Next(m.pal.Name))
	case key.Matches(k, m.keys.Enter):
		if m.screen == screenMain && m.focus == paneConns && m.selected() != nil {
			m.screen, m.dtTop = screenDetail, 0
		} else if m.focus == paneEvents || m.screen == screenEvents {
			m.jumpToEvent()
		}
	case key.Matches(k, m.keys.Up):
		m.move(-1)
	case key.Matches(k, m.keys.Down):
		m.move(1)
	case key.Matches(k, m.keys.PageUp):
		m.move(-max(1, m.connRows()-1))
	case key.Matches(k, m.keys.PageDown):
		m.move(max(1, m.connRows()-1))
	case key.Matches(k, m.keys.Top):
		m.move(-1 << 30)
	case key.Matches(k, m.keys.Bottom):
		m.move(1 << 30)
	}
	return m, nil
}

func (m *Model) toggle(s screen) {
	if m.screen == s {
		m.screen = screenMain
	} else {
		m.screen = s
	}
}

func (m *Model) setFilter(f string) {
	if f == m.rows.filter {
		return
	}
	m.rows.filter = f
	m.rows.dirty = true
	m.rows.rebuild(m.st)
	m.sel, m.top = 0, 0
	m.clampSel()
}

// activePane is the pane the movement keys act on.
func (m *Model) activePane() pane {
	switch m.screen {
	case screenEvents:
		return paneEvents
	case screenDiag:
		return paneDiag
	case screenDetail:
		return numPanes // the detail screen scrolls as a whole
	}
	return m.focus
}

func (m *Model) move(d int) {
	switch m.activePane() {
	case paneConns:
		m.sel += d
		m.moved = true
		m.clampSel()
	case paneEvents:
		n := len(m.shownEvents())
		m.evSel = max(0, min(m.evSel+d, n-1))
	case paneDiag:
		m.diagTop = max(0, m.diagTop+d)
	default:
		m.dtTop = max(0, m.dtTop+d)
	}
}

// jumpToEvent selects, in the table, the connection of the selected event.
func (m *Model) jumpToEvent() {
	evs := m.shownEvents()
	if m.evSel >= len(evs) {
		return
	}
	conn := evs[m.evSel].Conn
	for i, c := range m.rows.rows {
		if c.Name == conn {
			m.sel = i
			m.clampSel()
			m.screen, m.focus = screenMain, paneConns
			return
		}
	}
}

func (m *Model) onWheel(w tea.MouseWheelMsg) {
	d := 3
	if w.Button == tea.MouseWheelUp {
		d = -3
	}
	if p, ok := m.paneAt(w.X, w.Y); ok && m.screen == screenMain {
		m.focus = p
	}
	m.move(d)
}

func (m *Model) onClick(c tea.MouseClickMsg) {
	if m.screen != screenMain || c.Button != tea.MouseLeft {
		return
	}
	p, ok := m.paneAt(c.X, c.Y)
	if !ok {
		return
	}
	m.focus = p
	if p == paneConns {
		r := m.layout().conns
		row := c.Y - r.y - 2 + m.top // title and column headings
		if row >= m.top && row < len(m.rows.rows) {
			m.sel, m.moved = row, true
			m.clampSel()
		}
	}
}

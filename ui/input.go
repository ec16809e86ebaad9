package ui

// Keys and the mouse. The handlers change the root's focus and screen and
// call the panes' methods; Update's sync then brings the rest up to date.

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/amqptop/amqptop/themes"
)

func (m *Model) onKey(k tea.KeyPressMsg) tea.Cmd {
	if key.Matches(k, m.keys.ForceQuit) {
		return tea.Quit
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
			m.conns.SetFilter(m.filter.Value())
			return cmd
		}
		m.conns.SetFilter(m.filter.Value())
		return nil
	}
	switch {
	case key.Matches(k, m.keys.Quit):
		return tea.Quit
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
		case m.conns.Filter() != "":
			m.filter.SetValue("")
			m.conns.SetFilter("")
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
		return m.filter.Focus()
	case key.Matches(k, m.keys.Sort):
		m.conns.CycleSort()
	case key.Matches(k, m.keys.Reverse):
		m.conns.Reverse()
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
		m.events.CycleLevel()
	case key.Matches(k, m.keys.Theme):
		m.fixed = true
		m.setTheme(themes.Next(m.pal.Name))
	case key.Matches(k, m.keys.Enter):
		if m.screen == screenMain && m.focus == paneConns && m.conns.Selected() != nil {
			m.screen = screenDetail
			m.detail.Clear() // sync shows the selected connection from the top
		} else if m.focus == paneEvents || m.screen == screenEvents {
			m.jumpToEvent()
		}
	case key.Matches(k, m.keys.Up):
		m.move(-1)
	case key.Matches(k, m.keys.Down):
		m.move(1)
	case key.Matches(k, m.keys.PageUp):
		m.move(-max(1, m.conns.PageSize()-1))
	case key.Matches(k, m.keys.PageDown):
		m.move(max(1, m.conns.PageSize()-1))
	case key.Matches(k, m.keys.Top):
		m.move(-1 << 30)
	case key.Matches(k, m.keys.Bottom):
		m.move(1 << 30)
	}
	return nil
}

func (m *Model) toggle(s screen) {
	if m.screen == s {
		m.screen = screenMain
	} else {
		m.screen = s
	}
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
		m.conns.Move(d)
	case paneEvents:
		m.events.Move(d)
	case paneDiag:
		m.diag.Move(d)
	default:
		m.detail.Move(d)
	}
}

// jumpToEvent selects, in the table, the connection of the selected event.
func (m *Model) jumpToEvent() {
	e := m.events.Selected()
	if e == nil {
		return
	}
	if m.conns.SelectName(e.Conn) {
		m.screen, m.focus = screenMain, paneConns
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
		m.conns.Click(c.Y - m.frame.conns.y)
	}
}

package ui

import (
	"charm.land/lipgloss/v2"
	"github.com/amqptop/amqptop/model"
	"github.com/amqptop/amqptop/themes"
)

// styles is every style the dashboard uses, built from one palette.
type styles struct {
	pal       themes.Palette
	text      lipgloss.Style
	subtle    lipgloss.Style
	muted     lipgloss.Style
	accent    lipgloss.Style
	bold      lipgloss.Style
	ok        lipgloss.Style
	warn      lipgloss.Style
	err       lipgloss.Style
	info      lipgloss.Style
	title     lipgloss.Style // a pane's title bar without focus
	titleOn   lipgloss.Style // with focus
	selected  lipgloss.Style // the selected row
	header    lipgloss.Style // the column headings
	badge     lipgloss.Style
	alarm     lipgloss.Style // an alarm badge
	keyStyle  lipgloss.Style
	descStyle lipgloss.Style
}

func newStyles(p themes.Palette) styles {
	s := styles{pal: p}
	base := lipgloss.NewStyle()
	s.text = base.Foreground(p.Text)
	s.subtle = base.Foreground(p.Subtle)
	s.muted = base.Foreground(p.Muted)
	s.accent = base.Foreground(p.Accent)
	s.bold = base.Foreground(p.Text).Bold(true)
	s.ok = base.Foreground(p.OK)
	s.warn = base.Foreground(p.Warn)
	s.err = base.Foreground(p.Error)
	s.info = base.Foreground(p.Info)
	s.title = base.Foreground(p.Subtle).Bold(true)
	s.titleOn = base.Foreground(p.FocusBorder).Bold(true)
	s.selected = base.Background(p.SelectedBg).Bold(true)
	s.header = base.Foreground(p.Subtle).Underline(true)
	s.badge = base.Foreground(p.Accent).Bold(true)
	s.alarm = base.Foreground(p.Error).Bold(true).Reverse(true)
	s.keyStyle = base.Foreground(p.Accent)
	s.descStyle = base.Foreground(p.Subtle)
	return s
}

// look is how one state is shown: a glyph and a word, and a style. Colour
// is never the only signal.
type look struct {
	glyph string
	word  string
	style lipgloss.Style
}

// stateLook is the one place that decides how a connection's state looks.
func (s styles) stateLook(st model.ConnState, closed bool, atRisk bool) look {
	switch {
	case closed:
		return look{"✕", "closed", s.muted}
	case st == model.StateBlocked:
		return look{"■", "blocked", s.err}
	case st == model.StateBlocking:
		return look{"◧", "blocking", s.warn}
	case st == model.StateFlow:
		return look{"◐", "flow", s.warn}
	case st == model.StateClosing:
		return look{"◌", "closing", s.subtle}
	case atRisk:
		return look{"♥", "at risk", s.warn}
	case st == model.StateRunning:
		return look{"●", "running", s.ok}
	case st == model.StateStarting, st == model.StateTuning, st == model.StateOpening:
		return look{"○", st.String(), s.subtle}
	}
	return look{"?", st.String(), s.subtle}
}

// sevLook is how an event's severity looks.
func (s styles) sevLook(v model.Severity) look {
	switch v {
	case model.SevError:
		return look{"✖", "error", s.err}
	case model.SevWarn:
		return look{"▲", "warn", s.warn}
	}
	return look{"·", "info", s.subtle}
}

// healthLook is how a source's health looks.
func (s styles) healthLook(h model.Health) look {
	switch h {
	case model.HealthUp:
		return look{"✓", "ok", s.ok}
	case model.HealthDegraded:
		return look{"~", "lagging", s.warn}
	case model.HealthDown:
		return look{"✗", "down", s.err}
	case model.HealthOff:
		return look{"–", "off", s.muted}
	}
	return look{"…", "waiting", s.subtle}
}

// linkLook is how the probe's link looks.
func (s styles) linkLook(l model.Link) look {
	switch l {
	case model.LinkUp:
		return look{"●", "up", s.ok}
	case model.LinkBlocked:
		return look{"■", "blocked", s.err}
	case model.LinkConnecting:
		return look{"…", "connecting", s.warn}
	case model.LinkDown:
		return look{"✗", "down", s.err}
	}
	return look{"–", "off", s.muted}
}

// series is the style of the i-th data series.
func (s styles) series(i int) lipgloss.Style {
	return lipgloss.NewStyle().Foreground(s.pal.Series[i%len(s.pal.Series)])
}

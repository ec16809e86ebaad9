// Package ui is amqptop's dashboard (Bubble Tea v2). One root model owns
// the state, focus, size, styles and keys; the panes are plain functions of
// it. The model folds observations into its model.State inside Update —
// pure computation, no I/O — and a bridge command reads the observation
// channel, drains what is queued into one message and re-arms itself.
// View never reads the clock: "now" is the latest observation's time.
package ui

import (
	"os"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/amqptop/amqptop/model"
	"github.com/amqptop/amqptop/themes"
)

// Options configure the dashboard.
type Options struct {
	State        *model.State
	Observations <-chan model.Observation // closed when the sources end
	Mode         string                   // "demo", "live", "replay"
	Target       string                   // what is watched (a redacted URL, "demo cluster")
	Theme        string                   // a palette name; "" = follow the terminal's background
	NoColor      bool                     // NO_COLOR: the "none" palette
	// Lookup finds a cause of the knowledge base by id, for events whose
	// cause the model inferred (alarms, flapping) rather than diagnosed.
	Lookup func(id string) *model.Cause
}

type pane int

const (
	paneConns pane = iota
	paneEvents
	paneDiag
	numPanes
)

func (p pane) String() string { return [...]string{"connections", "events", "diagnosis"}[p] }

type screen int

const (
	screenMain screen = iota
	screenDetail
	screenEvents
	screenDiag
	screenHelp
)

// Model is the dashboard.
type Model struct {
	st      *model.State
	obs     <-chan model.Observation
	mode    string
	target  string
	pal     themes.Palette
	fixed   bool // the user chose the theme
	sty     styles
	keys    keyMap
	help    help.Model
	filter  textinput.Model
	w, h    int
	focus   pane
	screen  screen
	back    screen // where esc goes from help
	paused  bool
	queued  []model.Observation // held while paused
	ended   bool
	rows    rowSet
	sel     int    // selected row in rows
	selName string // the selected connection, kept across rebuilds
	top     int    // first visible row
	evSel   int    // selected event (0 = newest shown)
	evTop   int
	level   model.Severity // events at or above this level are shown
	diagTop int
	dtTop   int  // detail screen scroll
	moved   bool // the user moved the selection: keep it on its connection
	lookup  func(string) *model.Cause
}

// New builds the dashboard.
func New(o Options) *Model {
	m := &Model{st: o.State, obs: o.Observations, mode: o.Mode, target: o.Target, keys: defaultKeys(), help: help.New(), lookup: o.Lookup}
	name := o.Theme
	if o.NoColor || os.Getenv("NO_COLOR") != "" {
		name = "none"
	}
	if p, ok := themes.Get(name); ok {
		m.pal, m.fixed = p, true
	} else {
		m.pal = themes.ForBackground(true)
	}
	m.setTheme(m.pal)
	m.filter = textinput.New()
	m.filter.Prompt = "/"
	m.filter.Placeholder = "name, user, vhost, peer, state or cause"
	m.filter.CharLimit = 200
	m.rows.dirty = true
	m.w, m.h = 120, 40
	return m
}

// obsMsg carries a batch of observations from the bridge.
type obsMsg []model.Observation

// feedEndedMsg says the sources are done (a replay ended, the demo stopped).
type feedEndedMsg struct{}

// maxBatch bounds one message so the UI stays responsive under a flood.
const maxBatch = 4096

// waitObs is the bridge: it blocks on the channel (outside Update), then
// drains what is queued into one message.
func waitObs(ch <-chan model.Observation) tea.Cmd {
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		o, ok := <-ch
		if !ok {
			return feedEndedMsg{}
		}
		batch := obsMsg{o}
		for len(batch) < maxBatch {
			select {
			case o, ok := <-ch:
				if !ok {
					return batch
				}
				batch = append(batch, o)
			default:
				return batch
			}
		}
		return batch
	}
}

// Init implements tea.Model.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{waitObs(m.obs)}
	if !m.fixed {
		cmds = append(cmds, tea.RequestBackgroundColor)
	}
	return tea.Batch(cmds...)
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
		m.clampSel()
	case tea.BackgroundColorMsg:
		if !m.fixed {
			m.setTheme(themes.ForBackground(msg.IsDark()))
		}
	case obsMsg:
		if m.paused {
			m.queued = append(m.queued, msg...)
			if len(m.queued) > 500_000 { // don't hold more than that: catch up
				m.paused = false
				m.apply(m.queued)
				m.queued = nil
			}
		} else {
			m.apply(msg)
		}
		return m, waitObs(m.obs)
	case feedEndedMsg:
		m.ended = true
	case tea.KeyPressMsg:
		return m.onKey(msg)
	case tea.MouseWheelMsg:
		m.onWheel(msg)
	case tea.MouseClickMsg:
		m.onClick(msg)
	}
	return m, nil
}

func (m *Model) apply(obs []model.Observation) {
	for _, o := range obs {
		m.st.Apply(o)
	}
	m.rows.dirty = true
	m.rows.rebuild(m.st)
	m.reselect()
}

func (m *Model) setTheme(p themes.Palette) {
	m.pal = p
	m.sty = newStyles(p)
	m.help.Styles = help.Styles{
		ShortKey: m.sty.keyStyle, ShortDesc: m.sty.descStyle, ShortSeparator: m.sty.muted,
		FullKey: m.sty.keyStyle, FullDesc: m.sty.descStyle, FullSeparator: m.sty.muted, Ellipsis: m.sty.muted,
	}
}

// reselect keeps the selection on the same connection after a rebuild —
// once the user has chosen one; until then it stays on the top (worst) row.
func (m *Model) reselect() {
	if m.moved && m.selName != "" {
		for i, c := range m.rows.rows {
			if c.Name == m.selName {
				m.sel = i
				m.clampSel()
				return
			}
		}
	}
	m.clampSel()
}

func (m *Model) clampSel() {
	n := len(m.rows.rows)
	m.sel = max(0, min(m.sel, n-1))
	if n > 0 {
		m.selName = m.rows.rows[m.sel].Name
	}
	vis := max(1, m.connRows())
	if m.sel < m.top {
		m.top = m.sel
	}
	if m.sel >= m.top+vis {
		m.top = m.sel - vis + 1
	}
	m.top = max(0, min(m.top, max(0, n-vis)))
}

// selected returns the selected connection, nil when there is none.
func (m *Model) selected() *model.ConnView {
	if m.sel < 0 || m.sel >= len(m.rows.rows) {
		return nil
	}
	return m.rows.rows[m.sel]
}

// now is the latest observation's time: the dashboard's clock.
func (m *Model) now() time.Time { return m.st.Now() }

// Screen names what the dashboard shows: main, detail, events, diagnosis or help.
func (m *Model) Screen() string {
	return [...]string{"main", "detail", "events", "diagnosis", "help"}[m.screen]
}

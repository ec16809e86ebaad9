// Package ui is amqptop's dashboard (Bubble Tea v2). One root model owns
// the state, focus, size, styles and keys, and routes every message; the
// panes (header, connections, events, diagnosis, detail, help) are plain
// structs that own their scroll and selection, are sized with SetSize and
// fed by setters, and keep their lines ready: their caches are rebuilt in
// Update when an input changes, and View only reads them.
//
// The model folds observations into its model.State inside Update — pure
// computation, no I/O — and a bridge command reads the observation
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
	Mode         string                   // "demo" or "live"
	Target       string                   // what is watched (a redacted URL, "demo cluster")
	Theme        string                   // a palette name; "" = follow the terminal's background
	NoColor      bool                     // NO_COLOR: the "none" palette
	// Warnings are shown in red at the top of the header for as long as
	// the dashboard runs (e.g. the broker's certificate is not verified).
	Warnings []string
}

// pane names the panes of the main screen that can have the focus.
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
	st       *model.State
	obs      <-chan model.Observation
	mode     string
	target   string
	warnings []string // Options.Warnings
	pal      themes.Palette
	fixed    bool // the user chose the theme
	sty      styles
	keys     keyMap
	help     help.Model
	filter   textinput.Model
	w, h     int
	frame    frame // where each pane goes at this size (set by sync)
	focus    pane
	screen   screen
	back     screen // where esc goes from help
	paused   bool
	queued   []model.Observation // held while paused
	ended    bool
	fresh    bool // the state changed since the panes were last fed

	header   headerPane
	conns    connsPane
	events   eventsPane
	diag     diagPane
	detail   detailPane
	helpPane helpPane
	footer   string // the key hints or the open filter
}

// New builds the dashboard.
func New(o Options) *Model {
	st := o.State
	if st == nil {
		st = model.New(model.Options{})
	}
	m := &Model{st: st, obs: o.Observations, mode: o.Mode, target: o.Target, warnings: o.Warnings, keys: defaultKeys(), help: help.New()}
	m.header = headerPane{sty: &m.sty}
	m.conns = connsPane{sty: &m.sty}
	m.events = eventsPane{sty: &m.sty}
	m.diag = diagPane{sty: &m.sty}
	m.detail = detailPane{sty: &m.sty}
	m.helpPane = helpPane{sty: &m.sty, keys: m.keys.all()}
	name := o.Theme
	if o.NoColor || os.Getenv("NO_COLOR") != "" {
		name = "none"
	}
	pal, ok := themes.Get(name)
	if ok {
		m.fixed = true
	} else {
		pal = themes.ForBackground(true)
	}
	m.filter = textinput.New()
	m.filter.Prompt = "/"
	m.filter.Placeholder = "name, user, vhost, peer, state or cause"
	m.filter.CharLimit = 200
	m.w, m.h = 120, 40
	m.setTheme(pal)
	m.fresh = true
	m.sync()
	return m
}

// obsMsg carries a batch of observations from the bridge.
type obsMsg []model.Observation

// feedEndedMsg says the sources are done (the demo stopped, every feed ended).
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

// Update implements tea.Model. Every message it handles ends in sync,
// which brings the panes up to date; View then only reads them.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.w, m.h = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
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
		cmd = waitObs(m.obs)
	case feedEndedMsg:
		m.ended = true
	case tea.KeyPressMsg:
		cmd = m.onKey(msg)
	case tea.MouseWheelMsg:
		m.onWheel(msg)
	case tea.MouseClickMsg:
		m.onClick(msg)
	default:
		return m, nil
	}
	m.sync()
	return m, cmd
}

// apply folds observations into the state; sync feeds the panes.
func (m *Model) apply(obs []model.Observation) {
	for _, o := range obs {
		m.st.Apply(o)
	}
	m.fresh = true
}

func (m *Model) setTheme(p themes.Palette) {
	m.pal = p
	m.sty = newStyles(p)
	m.help.Styles = help.Styles{
		ShortKey: m.sty.keyStyle, ShortDesc: m.sty.descStyle, ShortSeparator: m.sty.muted,
		FullKey: m.sty.keyStyle, FullDesc: m.sty.descStyle, FullSeparator: m.sty.muted, Ellipsis: m.sty.muted,
	}
	// The panes point at m.sty: rebuild their lines in the new colours.
	m.header.SetStyles(&m.sty)
	m.conns.SetStyles(&m.sty)
	m.events.SetStyles(&m.sty)
	m.diag.SetStyles(&m.sty)
	m.detail.SetStyles(&m.sty)
	m.helpPane.SetStyles(&m.sty)
}

// sync brings the panes up to date at the end of Update, in dependency
// order: the header (its height drives the layout), the frame, the table
// and the timeline (fed only when the state changed: re-sorting 10,000
// rows is the expensive part), the sizes and the focus, then the panes
// that only display — the diagnosis and the detail, fed on every message
// while they are on screen — and the footer.
func (m *Model) sync() {
	data := m.fresh
	m.fresh = false
	var all []*model.ConnView
	open, closed := m.conns.Counts()
	if data {
		all = m.st.Conns()
		open, closed = countConns(all)
		m.events.SetEvents(m.newestFirst())
	}
	// The header counts every close, not the closed rows kept.
	closed = max(closed, m.st.ClosedCount())
	m.header.SetData(m.headerData(open, closed))
	m.header.SetSize(m.w, m.h)
	m.frame = layout(m.w, m.h, m.header.Height())
	if data {
		stale, _ := m.st.Stale()
		m.conns.SetConns(all, m.now(), stale, m.frame.conns.w, m.frame.conns.h)
	}
	m.resize()
	m.conns.SetFocused(m.focus == paneConns && m.screen == screenMain)
	m.events.SetFocused(m.screen == screenEvents || m.focus == paneEvents)
	m.diag.SetFocused(m.screen == screenDiag || m.focus == paneDiag)
	if _, diag := m.shown(); diag {
		e := m.diagTarget()
		m.diag.SetTarget(e, m.causeOf(e))
	}
	if m.screen == screenDetail {
		m.feedDetail()
	}
	m.footer = m.footerLine()
}

// countConns counts the open and the closed connections.
func countConns(all []*model.ConnView) (open, closed int) {
	for _, c := range all {
		if c.Closed {
			closed++
		} else {
			open++
		}
	}
	return open, closed
}

// headerData gathers what the header shows.
func (m *Model) headerData(open, closed int) headerData {
	stale, _ := m.st.Stale()
	return headerData{
		overview: m.st.Overview(), nodes: m.st.Nodes(), sources: m.st.Sources(), probe: *m.st.Probe(), now: m.now(),
		target: m.target, mode: m.mode, paused: m.paused, queued: len(m.queued), ended: m.ended,
		open: open, closed: closed, staleSince: stale, warnings: m.warnings,
	}
}

// newestFirst lists the history, newest first.
func (m *Model) newestFirst() []*model.Event {
	n := m.st.EventCount()
	out := make([]*model.Event, 0, n)
	for i := 0; i < n; i++ {
		if e := m.st.EventAt(i); e != nil {
			out = append(out, e)
		}
	}
	return out
}

// diagTarget picks what the diagnosis pane explains: the selected event,
// else the selected closed connection, else the latest fault.
func (m *Model) diagTarget() *model.Event {
	if m.focus == paneEvents || m.screen == screenEvents {
		if e := m.events.Selected(); e != nil && e.Cause != nil {
			return e
		}
	}
	if c := m.conns.Selected(); c != nil && c.Closed && c.Close != nil && m.screen != screenDiag {
		return c.Close
	}
	for i := 0; i < m.st.EventCount(); i++ {
		if e := m.st.EventAt(i); e.Cause != nil && e.Severity >= model.SevWarn {
			return e
		}
	}
	return nil
}

// causeOf is the knowledge base's entry for an event: its diagnosis,
// else the cause the model inferred, looked up by id.
func (m *Model) causeOf(e *model.Event) *model.Cause {
	if e == nil {
		return nil
	}
	var c *model.Cause
	if e.Diagnosis != nil {
		c = e.Diagnosis.Cause
	}
	return c
}

// feedDetail gives the detail pane the selected connection, its channels
// and its own timeline (the newest 200 of its events).
func (m *Model) feedDetail() {
	c := m.conns.Selected()
	var chans []*model.ChanView
	var timeline []*model.Event
	if c != nil {
		chans = m.st.ChannelsOf(c.Name)
		for i := 0; i < m.st.EventCount() && len(timeline) < 200; i++ {
			if e := m.st.EventAt(i); e.Conn == c.Name {
				timeline = append(timeline, e)
			}
		}
	}
	m.detail.SetConn(c, chans, timeline, m.now())
}

// now is the latest observation's time: the dashboard's clock.
func (m *Model) now() time.Time { return m.st.Now() }

// Screen names what the dashboard shows: main, detail, events, diagnosis or help.
func (m *Model) Screen() string {
	return [...]string{"main", "detail", "events", "diagnosis", "help"}[m.screen]
}

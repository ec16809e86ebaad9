package ui

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/amqptop/amqptop/causes"
	"github.com/amqptop/amqptop/demo"
	"github.com/amqptop/amqptop/model"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/golden"
)

func TestMain(m *testing.M) {
	time.Local = time.UTC // golden files show times in UTC
	os.Exit(m.Run())
}

// knowledge is the built-in knowledge base, parsed once for all tests.
var knowledge = sync.OnceValue(causes.Default)

// played returns a dashboard whose state has seen the demo (seed 1) up to
// at into the tour.
func played(t testing.TB, at time.Duration, w, h int) *Model {
	t.Helper()
	world, err := demo.New(demo.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	kb := knowledge()
	st := model.New(model.Options{Diagnoser: kb})
	m := New(Options{State: st, Mode: "demo", Target: "demo cluster", Theme: "dark"})
	var batch []model.Observation
	for {
		o := world.Next()
		if o.At().Sub(world.Start()) > at {
			break
		}
		batch = append(batch, o)
	}
	m.Update(obsMsg(batch))
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

// ascii downsamples rendered output to the ASCII profile: no colours,
// attributes kept.
func ascii(s string) string {
	var b bytes.Buffer
	w := colorprofile.NewWriter(&b, nil)
	w.Profile = colorprofile.ASCII
	w.WriteString(s)
	return b.String()
}

// goldenWidths are the widths every pane is drawn at, with the terminal
// height that goes with each.
var goldenWidths = []struct{ w, h int }{{80, 24}, {120, 40}, {200, 60}}

// goldenPanes draws each pane on its own, at a size of its own, the way
// the golden files show it. Each gets a fresh dashboard.
var goldenPanes = []struct {
	name string
	draw func(m *Model, w int) string
}{
	{"header", func(m *Model, w int) string { return m.header.View() }},
	{"connections", func(m *Model, w int) string {
		m.conns.SetSize(w, 16)
		return m.conns.View()
	}},
	{"events", func(m *Model, w int) string {
		m.events.SetSize(w, 14)
		m.events.SetFocused(true)
		return m.events.View()
	}},
	{"diagnosis", func(m *Model, w int) string {
		m.diag.SetSize(w, 24)
		m.diag.SetFocused(true)
		return m.diag.View()
	}},
	{"detail", func(m *Model, w int) string {
		m.feedDetail() // the selected (worst) connection
		m.detail.SetSize(w, 30)
		return m.detail.View()
	}},
	{"help", func(m *Model, w int) string {
		m.helpPane.SetSize(w, 30)
		return m.helpPane.View()
	}},
}

// Every pane at 80, 120 and 200 columns, and the whole screen, at a moment
// of the demo tour when the memory alarm is in force and several closes
// have been diagnosed. go test ./ui -update rewrites the files under
// testdata/TestGoldenPanes after an intended change.
func TestGoldenPanes(t *testing.T) {
	at := 3*time.Minute + 20*time.Second
	for _, p := range goldenPanes {
		t.Run(p.name, func(t *testing.T) {
			for _, sz := range goldenWidths {
				t.Run(fmt.Sprint(sz.w), func(t *testing.T) {
					m := played(t, at, sz.w, sz.h)
					golden.RequireEqual(t, ascii(p.draw(m, sz.w)))
				})
			}
		})
	}
	t.Run("screen", func(t *testing.T) {
		for _, sz := range goldenWidths {
			t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
				m := played(t, at, sz.w, sz.h)
				golden.RequireEqual(t, ascii(m.View().Content))
			})
		}
	})
}

func TestEveryLineFitsTheWidth(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {100, 30}, {120, 40}, {200, 60}, {250, 70}} {
		m := played(t, 6*time.Minute, size[0], size[1])
		for _, s := range []screen{screenMain, screenDetail, screenEvents, screenDiag, screenHelp} {
			m.screen = s
			m.sync()
			lines := strings.Split(m.render(), "\n")
			if len(lines) != size[1] {
				t.Errorf("%dx%d screen %d: %d lines", size[0], size[1], s, len(lines))
			}
			for i, l := range lines {
				if w := displayWidth(l); w > size[0] {
					t.Errorf("%dx%d screen %d line %d is %d cells: %q", size[0], size[1], s, i, w, l)
				}
			}
		}
	}
}

func displayWidth(s string) int { return lipgloss.Width(s) }

func keyPress(s string) tea.KeyPressMsg {
	switch s {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	}
	r := []rune(s)[0]
	return tea.KeyPressMsg{Code: r, Text: s}
}

func press(m *Model, keys ...string) tea.Cmd {
	var cmd tea.Cmd
	for _, k := range keys {
		_, cmd = m.Update(keyPress(k))
	}
	return cmd
}

func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

func TestKeys(t *testing.T) {
	m := played(t, 5*time.Minute, 120, 40)
	if c := m.conns.Selected(); c == nil || !c.Closed {
		t.Fatalf("the worst connection (a closed one) is selected first: %+v", c)
	}
	// The filter takes every key while open: q types a q.
	press(m, "/")
	if !m.filter.Focused() {
		t.Fatal("/ opens the filter")
	}
	if isQuit(press(m, "q")) {
		t.Fatal("q in the filter must type, not quit")
	}
	press(m, "esc")
	press(m, "/", "i", "n", "v", "e", "n", "t", "o", "r", "y", "enter")
	if m.filter.Focused() || m.conns.rows.filter != "inventory" || len(m.conns.rows.rows) == 0 {
		t.Fatalf("filter = %q, %d rows", m.conns.rows.filter, len(m.conns.rows.rows))
	}
	for _, c := range m.conns.rows.rows {
		if !strings.Contains(c.Client, "inventory") {
			t.Errorf("filtered row %s", c.Client)
		}
	}
	press(m, "esc")
	if m.conns.rows.filter != "" {
		t.Error("esc clears the filter")
	}
	// Filtering by cause.
	press(m, "/")
	for _, r := range "heartbeat-timeout" {
		press(m, string(r))
	}
	press(m, "enter")
	if len(m.conns.rows.rows) == 0 || causeOf(m.conns.rows.rows[0]) != "heartbeat-timeout" {
		t.Errorf("filter by cause: %d rows", len(m.conns.rows.rows))
	}
	press(m, "esc")
	// Sort cycles the columns; S reverses.
	press(m, "s")
	if m.conns.rows.col != colClient {
		t.Errorf("sort = %s", m.conns.rows.col)
	}
	first := displayName(m.conns.rows.rows[0])
	press(m, "S")
	if displayName(m.conns.rows.rows[0]) == first || !m.conns.rows.desc {
		t.Error("S reverses the order")
	}
	// enter drills down, esc comes back; tab moves the focus.
	press(m, "enter")
	if m.screen != screenDetail {
		t.Error("enter opens the detail")
	}
	press(m, "esc")
	press(m, "tab")
	if m.screen != screenMain || m.focus != paneEvents {
		t.Errorf("screen %d focus %s", m.screen, m.focus)
	}
	press(m, "e")
	if m.screen != screenEvents {
		t.Error("e shows the events")
	}
	press(m, "d")
	if m.screen != screenDiag {
		t.Error("d shows the diagnosis")
	}
	press(m, "?")
	if m.screen != screenHelp || !strings.Contains(m.render(), "severity filter") {
		t.Error("? lists the keys")
	}
	press(m, "esc")
	old := m.pal.Name
	press(m, "t")
	if m.pal.Name == old {
		t.Error("t changes the theme")
	}
	press(m, "f")
	if m.events.Level() != model.SevWarn {
		t.Error("f filters the events by severity")
	}
	if !isQuit(press(m, "q")) || !isQuit(press(m, "ctrl+c")) {
		t.Error("q and ctrl+c quit")
	}
}

func TestPauseHoldsTheViewWhileDataArrives(t *testing.T) {
	m := played(t, time.Minute, 120, 40)
	before := m.st.Now()
	press(m, "p")
	m.Update(obsMsg{model.Tick{Meta: model.Meta{Time: before.Add(time.Minute), Source: model.SourceDemo}}})
	if !m.st.Now().Equal(before) || len(m.queued) != 1 || !strings.Contains(m.render(), "PAUSED") {
		t.Fatal("paused: observations are held, the header says so")
	}
	press(m, "p")
	if !m.st.Now().Equal(before.Add(time.Minute)) || len(m.queued) != 0 {
		t.Error("unpaused: the held observations are applied")
	}
}

func TestMouse(t *testing.T) {
	m := played(t, 5*time.Minute, 120, 40)
	f := m.frame
	m.Update(tea.MouseClickMsg{Button: tea.MouseLeft, X: 5, Y: f.conns.y + 2 + 3})
	if m.conns.sel != 3 || m.focus != paneConns {
		t.Errorf("click selects row 3: sel %d", m.conns.sel)
	}
	m.Update(tea.MouseWheelMsg{Button: tea.MouseWheelDown, X: 5, Y: f.conns.y + 5})
	if m.conns.sel != 6 {
		t.Errorf("wheel moves by 3: sel %d", m.conns.sel)
	}
	m.Update(tea.MouseClickMsg{Button: tea.MouseLeft, X: f.events.x + 2, Y: f.events.y + 2})
	if m.focus != paneEvents {
		t.Error("a click focuses the events pane")
	}
}

// No two bindings share a key: every key does one thing in every pane
// (all bindings are global; the filter captures keys while open).
func TestKeyMapHasNoClashes(t *testing.T) {
	seen := map[string]string{}
	for _, b := range defaultKeys().all() {
		for _, k := range b.Keys() {
			if other, ok := seen[k]; ok {
				t.Errorf("key %q is bound to %q and %q", k, other, b.Help().Desc)
			}
			seen[k] = b.Help().Desc
		}
		if b.Help().Key == "" || b.Help().Desc == "" {
			t.Errorf("binding %v has no help", b.Keys())
		}
	}
}

func TestHostileNamesAreInert(t *testing.T) {
	st := model.New(model.Options{})
	st.Apply(model.MgmtSnapshot{Meta: model.Meta{Time: time.Unix(0, 0), Source: model.SourceManagement}, ConnectionsOK: true,
		Connections: []model.Connection{{Name: "a -> b", Client: "evil\x1b]0;pwned\x07\x1b[2J", State: model.StateRunning}}})
	m := New(Options{State: st, Theme: "none"})
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.Update(obsMsg(nil))
	out := m.render()
	if strings.Contains(out, "\x1b]0;") || strings.Contains(out, "\x1b[2J") || strings.Contains(out, "\x07") {
		t.Error("a client-provided name reached the terminal as escape sequences")
	}
	if !strings.Contains(out, `evil\x1b]0;pwned\x07`) {
		t.Errorf("the name is shown, inert:\n%s", out)
	}
}

func TestTinyTerminal(t *testing.T) {
	m := played(t, time.Minute, 10, 3)
	if !strings.Contains(m.render(), "too small") {
		t.Error("a tiny terminal gets a message, not a crash")
	}
}

// BenchmarkRender10k renders one frame with 10,000 connections listed.
func BenchmarkRender10k(b *testing.B) {
	st := model.New(model.Options{})
	snap := model.MgmtSnapshot{Meta: model.Meta{Time: time.Unix(1e9, 0), Source: model.SourceManagement}, ConnectionsOK: true}
	for i := 0; i < 10000; i++ {
		snap.Connections = append(snap.Connections, model.Connection{Name: fmt.Sprintf("10.0.%d.%d:%d -> 10.0.0.1:5672", i/250, i%250, 40000+i),
			Client: fmt.Sprintf("svc-%04d", i), User: "app", Vhost: "/", Peer: fmt.Sprintf("10.0.%d.%d:%d", i/250, i%250, 40000+i),
			Node: "rabbit@n1", State: model.StateRunning, Heartbeat: 60 * time.Second, RecvRate: float64(i), Channels: 2})
	}
	st.Apply(snap)
	m := New(Options{State: st, Theme: "dark"})
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
	m.Update(obsMsg(nil))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = m.render()
	}
}

// BenchmarkResort10k re-sorts and re-filters 10,000 rows (what a new batch costs).
func BenchmarkResort10k(b *testing.B) {
	st := model.New(model.Options{})
	snap := model.MgmtSnapshot{Meta: model.Meta{Time: time.Unix(1e9, 0), Source: model.SourceManagement}, ConnectionsOK: true}
	for i := 0; i < 10000; i++ {
		snap.Connections = append(snap.Connections, model.Connection{Name: fmt.Sprintf("c%05d", i), Client: fmt.Sprintf("svc-%04d", i%700), State: model.StateRunning})
	}
	st.Apply(snap)
	var r rowSet
	for i := 0; i < b.N; i++ {
		r.rebuild(st.Conns(), st.Now())
	}
}

// bench10k is a dashboard at 200×60 with 10,000 connections listed.
func bench10k(b *testing.B) *Model {
	st := model.New(model.Options{})
	snap := model.MgmtSnapshot{Meta: model.Meta{Time: time.Unix(1e9, 0), Source: model.SourceManagement}, ConnectionsOK: true}
	for i := 0; i < 10000; i++ {
		snap.Connections = append(snap.Connections, model.Connection{Name: fmt.Sprintf("10.0.%d.%d:%d -> 10.0.0.1:5672", i/250, i%250, 40000+i),
			Client: fmt.Sprintf("svc-%04d", i), User: "app", Vhost: "/", Peer: fmt.Sprintf("10.0.%d.%d:%d", i/250, i%250, 40000+i),
			Node: "rabbit@n1", State: model.StateRunning, Heartbeat: 60 * time.Second, RecvRate: float64(i), Channels: 2})
	}
	st.Apply(snap)
	m := New(Options{State: st, Theme: "dark"})
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
	m.Update(obsMsg(nil))
	return m
}

// BenchmarkBatch10k is what a batch of observations costs with 10,000
// connections listed: Update (fold, re-sort, rebuild the panes) and the
// frame drawn after it.
func BenchmarkBatch10k(b *testing.B) {
	m := bench10k(b)
	tick := obsMsg{model.Tick{Meta: model.Meta{Time: time.Unix(1e9, 0), Source: model.SourceManagement}}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Update(tick)
		_ = m.View()
	}
}

// BenchmarkKey10k is what a key costs with 10,000 connections listed: the
// selection moves (down, then up), Update, and the frame drawn after it.
func BenchmarkKey10k(b *testing.B) {
	m := bench10k(b)
	keys := []tea.KeyPressMsg{keyPress("down"), {Code: tea.KeyUp}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Update(keys[i%2])
		_ = m.View()
	}
}

// Every field a client or a broker chooses reaches the dashboard inert,
// on every screen: OSC and CSI sequences, a forged line, bidi overrides
// and zero-width characters, invalid UTF-8 (the one sanitiser, model/inert).
func TestHostileStringsOnEveryScreen(t *testing.T) {
	for _, h := range []string{"\x1b]0;pwned\x07", "\x1b]52;c;aGVsbG8=\x07", "\x1b[2J\x1b[H", "ok\nforged line",
		"abc\u202edcba", "zero\u200bwidth\ufeff", "bad\xff\xfeutf8", "c1\u009bcsi"} {
		st := model.New(model.Options{})
		t0 := time.Unix(1000, 0)
		conn := model.Connection{Name: "10.0.0.5:5000 -> 10.0.0.1:5672", Client: h, User: h, Vhost: h, Peer: "10.0.0.5:5000",
			Node: h, Product: h, State: model.StateRunning, Heartbeat: 60 * time.Second}
		st.Apply(model.MgmtSnapshot{Meta: model.Meta{Time: t0, Source: model.SourceManagement}, ConnectionsOK: true,
			Connections: []model.Connection{conn}, ChannelsOK: true, Channels: []model.Channel{{Conn: conn.Name, Number: 1, User: h, Vhost: h}}})
		st.Apply(model.LogEntry{Meta: model.Meta{Time: t0.Add(time.Second), Source: model.SourceLog}, Node: h, Level: "error",
			Text: "closing AMQP connection <0.1.0> (10.0.0.5:5000 -> 10.0.0.1:5672 - " + h + ", vhost: '" + h + "', user: '" + h + "'):\n" + h})
		m := New(Options{State: st, Theme: "none"})
		m.Update(tea.WindowSizeMsg{Width: 160, Height: 50})
		m.Update(obsMsg(nil))
		screens := map[string]string{"main": m.render()}
		for _, k := range []string{"e", "esc", "d", "esc", "enter"} {
			press(m, k)
			screens[m.Screen()] = m.render()
		}
		for name, out := range screens {
			for _, r := range []string{"\x1b]", "\x1b[2J", "\x07", "\u202e", "\u200b", "\ufeff", "\u009b", "forged line\n"} {
				if strings.Contains(out, r) {
					t.Errorf("%q on the %s screen: %q reached the terminal", h, name, r)
				}
			}
		}
	}
}

// While every source is lost the dashboard says its data is stale, with
// its age, instead of showing the node and the connections as running.
func TestStaleDataIsMarked(t *testing.T) {
	st := model.New(model.Options{})
	t0 := time.Unix(1000, 0)
	meta := func(sec float64, src model.Source) model.Meta {
		return model.Meta{Time: t0.Add(time.Duration(sec * float64(time.Second))), Source: src}
	}
	for _, src := range []model.Source{model.SourceManagement, model.SourceEvents, model.SourceLog} {
		st.Apply(model.SourceStatus{Meta: meta(0, src), Of: src, Health: model.HealthUp})
	}
	st.Apply(model.MgmtSnapshot{Meta: meta(1, model.SourceManagement), ConnectionsOK: true, NodesOK: true,
		Nodes:       []model.Node{{Name: "rabbit@mq-1", Running: true, Uptime: time.Hour}},
		Connections: []model.Connection{{Name: "a -> b", Client: "billing-api", State: model.StateRunning, Node: "rabbit@mq-1"}}})
	for _, src := range []model.Source{model.SourceManagement, model.SourceEvents, model.SourceLog} {
		st.Apply(model.SourceStatus{Meta: meta(10, src), Of: src, Health: model.HealthDown, Detail: "connection refused"})
	}
	st.Apply(model.Tick{Meta: meta(75, model.SourceUnknown)})
	m := New(Options{State: st, Theme: "none"})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 40})
	m.Update(obsMsg(nil))
	out := m.render()
	for _, want := range []string{"STALE 1m05s", "every source is lost", "as of " + t0.Add(10*time.Second).Local().Format("15:04:05"), "? running"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q on the screen:\n%s", want, out)
		}
	}
	if strings.Contains(out, "● running") {
		t.Errorf("a connection shown as running while every source is lost:\n%s", out)
	}
}

// With the management API alone down, the rest is live, but its figures
// are not: the header says since when they are.
func TestManagementDownMarksItsFigures(t *testing.T) {
	st := model.New(model.Options{})
	t0 := time.Unix(1000, 0)
	meta := func(sec float64, src model.Source) model.Meta {
		return model.Meta{Time: t0.Add(time.Duration(sec * float64(time.Second))), Source: src}
	}
	for _, src := range []model.Source{model.SourceManagement, model.SourceEvents, model.SourceLog} {
		st.Apply(model.SourceStatus{Meta: meta(0, src), Of: src, Health: model.HealthUp})
	}
	st.Apply(model.MgmtSnapshot{Meta: meta(1, model.SourceManagement), ConnectionsOK: true, NodesOK: true,
		Nodes:       []model.Node{{Name: "rabbit@mq-1", Running: true, Uptime: time.Hour}},
		Connections: []model.Connection{{Name: "a -> b", Client: "billing-api", State: model.StateRunning, Node: "rabbit@mq-1"}}})
	st.Apply(model.SourceStatus{Meta: meta(10, model.SourceManagement), Of: model.SourceManagement, Health: model.HealthDown,
		Detail: "GET /api/overview: timeout after 10s"})
	st.Apply(model.Tick{Meta: meta(40, model.SourceUnknown)})
	m := New(Options{State: st, Theme: "none"})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 40})
	m.Update(obsMsg(nil))
	out := m.render()
	want := "management down 30s (its figures as of " + t0.Add(10*time.Second).Local().Format("15:04:05") + "): GET /api/overview: timeout"
	if !strings.Contains(out, want) || strings.Contains(out, "STALE") {
		t.Errorf("no %q (and no STALE) on the screen:\n%s", want, out)
	}
}

// Counts are counts: the header's closed count is every close since the
// start, not the closed rows the table keeps (MaxClosed).
func TestHeaderCountsEveryClose(t *testing.T) {
	st := model.New(model.Options{MaxClosed: 3})
	t0 := time.Unix(1000, 0)
	var conns []model.Connection
	for i := range 10 {
		conns = append(conns, model.Connection{Name: fmt.Sprintf("10.0.0.5:%d -> 10.0.0.1:5672", 40000+i), Client: "worker",
			State: model.StateRunning, Node: "rabbit@mq-1"})
	}
	snap := func(sec int, cs []model.Connection) model.MgmtSnapshot {
		return model.MgmtSnapshot{Meta: model.Meta{Time: t0.Add(time.Duration(sec) * time.Second), Source: model.SourceManagement},
			ConnectionsOK: true, NodesOK: true, Nodes: []model.Node{{Name: "rabbit@mq-1", Running: true, Uptime: time.Hour}}, Connections: cs}
	}
	st.Apply(snap(0, conns))
	st.Apply(snap(5, conns[:2]))
	st.Apply(snap(10, conns[:2]))
	st.Apply(model.Tick{Meta: model.Meta{Time: t0.Add(20 * time.Second)}})
	m := New(Options{State: st, Theme: "none"})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 40})
	m.Update(obsMsg(nil))
	if out := m.render(); !strings.Contains(out, "2 conns (8 closed)") {
		t.Errorf("want \"2 conns (8 closed)\" with 3 closed rows kept:\n%s", out)
	}
}

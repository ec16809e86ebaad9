package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"github.com/amqptop/amqptop/model"
)

var levelWords = [...]string{"all", "warnings and errors", "errors"}

// eventsPane is the events timeline, newest first, causes highlighted: the
// events at or above a severity level, a selection and a scroll.
type eventsPane struct {
	sty     *styles
	w, h    int
	focused bool
	all     []*model.Event // the history, newest first, as last fed
	level   model.Severity // events at or above this level are shown
	shown   []*model.Event
	sel     int // selected event in shown (0 = newest shown)
	top     int // first visible event
	lines   []string
}

// SetStyles points the pane at the dashboard's styles and redraws it.
func (p *eventsPane) SetStyles(s *styles) {
	p.sty = s
	p.build()
}

// SetSize gives the pane its place: the title and h-1 events.
func (p *eventsPane) SetSize(w, h int) {
	if p.w == w && p.h == h {
		return
	}
	p.w, p.h = w, h
	p.clamp()
	p.build()
}

// SetFocused says whether the pane has the focus: its title and its
// selection show only then.
func (p *eventsPane) SetFocused(f bool) {
	if p.focused == f {
		return
	}
	p.focused = f
	p.build()
}

// SetEvents feeds the history, newest first. The selection stays on its
// index (0 = the newest shown).
func (p *eventsPane) SetEvents(all []*model.Event) {
	p.all = all
	p.refilter()
	p.clamp()
	p.build()
}

// CycleLevel shows all events, then warnings and errors, then errors, and
// selects the newest.
func (p *eventsPane) CycleLevel() {
	p.level = (p.level + 1) % 3
	p.sel, p.top = 0, 0
	p.refilter()
	p.clamp()
	p.build()
}

// Level is the lowest severity shown.
func (p eventsPane) Level() model.Severity { return p.level }

// Move moves the selection by d events.
func (p *eventsPane) Move(d int) {
	p.sel = max(0, min(p.sel+d, len(p.shown)-1))
	p.clamp()
	p.build()
}

// Selected is the selected event, nil when none is shown.
func (p eventsPane) Selected() *model.Event {
	if p.sel < 0 || p.sel >= len(p.shown) {
		return nil
	}
	return p.shown[p.sel]
}

// Lines are the pane's lines, exactly its height. Read only.
func (p eventsPane) Lines() []string { return p.lines }

// View draws the pane. It only reads.
func (p eventsPane) View() string { return strings.Join(p.lines, "\n") }

func (p *eventsPane) refilter() {
	p.shown = p.shown[:0]
	for _, e := range p.all {
		if e.Severity >= p.level {
			p.shown = append(p.shown, e)
		}
	}
}

// clamp keeps the selection on an event and in view.
func (p *eventsPane) clamp() {
	rows := p.h - 1
	p.sel = max(0, min(p.sel, len(p.shown)-1))
	if p.sel < p.top {
		p.top = p.sel
	}
	if p.sel >= p.top+rows {
		p.top = p.sel - rows + 1
	}
}

func (p *eventsPane) build() {
	if p.sty == nil {
		return
	}
	s, w, h := p.sty, p.w, p.h
	evs := p.shown
	lines := []string{paneTitle(s, "Events", fmt.Sprintf("%d · %s (f)", len(evs), levelWords[p.level]), w, p.focused)}
	rows := h - 1
	if len(evs) == 0 {
		lines = append(lines, s.subtle.Render(fit("  nothing yet", w)))
	}
	for i := p.top; i < len(evs) && i < p.top+rows; i++ {
		lines = append(lines, eventLine(s, evs[i], w, p.focused && i == p.sel))
	}
	p.lines = pad(lines, h)
}

// eventLine draws one event on one line of w cells.
func eventLine(s *styles, e *model.Event, w int, selected bool) string {
	lk := s.sevLook(e.Severity)
	mark := "  "
	if selected {
		mark = s.accent.Render("▶ ")
	}
	text := e.Text
	if e.Type == model.ClientReconnected && e.Downtime > 0 {
		text = "back after " + dur(e.Downtime)
	}
	line := mark + s.subtle.Render(e.Time.Local().Format("15:04:05")) + " " + lk.style.Render(lk.glyph) + " "
	if w >= 90 {
		line += s.text.Render(fit(string(e.Type), 18)) + " "
	} else {
		line += s.text.Render(fit(shortType(e.Type), 10)) + " "
	}
	line += s.bold.Render(clean(e.Subject()))
	if e.Channel != 0 {
		line += s.subtle.Render(fmt.Sprintf(" ch%d", e.Channel))
	}
	if e.Cause != nil {
		line += " " + lk.style.Render("→ "+e.Cause.ID)
	}
	if text != "" {
		line += " " + s.subtle.Render(clean(text))
	}
	if selected {
		return s.selected.Render(fit(stripANSI(line), w)) // plain text on the selection's background
	}
	return fit(line, w)
}

// diagPane explains one event: the cause, what happened, what to do, what
// won't help, the docs, and the evidence it rests on. The text is wrapped
// when the event or the width change; the pane scrolls over it. The root
// feeds it (SetTarget) on every message while it is on screen, and that
// is when the scroll is clamped to the text: a hidden pane keeps its
// scroll for when it comes back, as when the old render clamped it.
// SetSize and Move leave the clamp to the next SetTarget; the lines show
// the scroll as clamped meanwhile.
type diagPane struct {
	sty     *styles
	w, h    int
	focused bool
	e       *model.Event // what is explained; nil: no fault seen yet
	cause   *model.Cause // its entry in the knowledge base, if any
	facts   string       // the title's facts: when, how sure
	body    []string     // the explanation, wrapped to the width
	top     int          // first visible line of body
	lines   []string
}

// SetStyles points the pane at the dashboard's styles and redraws it.
func (p *diagPane) SetStyles(s *styles) {
	p.sty = s
	p.wrapBody()
	p.build()
}

// SetSize gives the pane its place: the title and h-1 lines of text.
func (p *diagPane) SetSize(w, h int) {
	if p.w == w && p.h == h {
		return
	}
	p.w, p.h = w, h
	p.wrapBody()
	p.build()
}

// SetFocused says whether the pane has the focus (its title shows it).
func (p *diagPane) SetFocused(f bool) {
	if p.focused == f {
		return
	}
	p.focused = f
	p.build()
}

// SetTarget explains e (nil: nothing to explain) with its cause c. The
// scroll is kept, within the text.
func (p *diagPane) SetTarget(e *model.Event, c *model.Cause) {
	p.e, p.cause = e, c
	p.wrapBody()
	if p.e != nil { // nothing shown: the scroll waits for the next fault
		p.top = p.scroll()
	}
	p.build()
}

// Target is the event explained.
func (p diagPane) Target() *model.Event { return p.e }

// Move scrolls by d lines.
func (p *diagPane) Move(d int) {
	p.top = max(0, p.top+d)
	p.build()
}

// Lines are the pane's lines, exactly its height. Read only.
func (p diagPane) Lines() []string { return p.lines }

// View draws the pane. It only reads.
func (p diagPane) View() string { return strings.Join(p.lines, "\n") }

// maxTop is the last scroll that still fills the pane.
func (p *diagPane) maxTop() int { return max(0, len(p.body)-(p.h-1)) }

// scroll is the scroll within the text.
func (p *diagPane) scroll() int { return min(p.top, p.maxTop()) }

func (p *diagPane) build() {
	if p.sty == nil {
		return
	}
	s, w, h := p.sty, p.w, p.h
	if p.e == nil {
		p.lines = pad([]string{paneTitle(s, "Diagnosis", "", w, p.focused), s.subtle.Render(fit("  no fault seen yet", w))}, h)
		return
	}
	top := p.scroll()
	more := ""
	if maxTop := p.maxTop(); maxTop > 0 {
		more = fmt.Sprintf(" · %d/%d ↓", top+1, maxTop+1)
	}
	lines := []string{paneTitle(s, "Diagnosis", p.facts+more, w, p.focused)}
	for i := top; i < len(p.body) && len(lines) < h; i++ {
		lines = append(lines, fit(p.body[i], w))
	}
	p.lines = pad(lines, h)
}

// wrapBody writes the explanation of p.e, wrapped to the width.
func (p *diagPane) wrapBody() {
	p.body, p.facts = nil, ""
	e, c := p.e, p.cause
	if e == nil || p.sty == nil {
		return
	}
	s, w := p.sty, p.w
	conf := ""
	if e.Diagnosis != nil {
		conf = e.Diagnosis.Confidence.String()
	}
	lk := s.sevLook(e.Severity)
	facts := e.Time.Local().Format("15:04:05")
	if conf != "" {
		facts += " · confidence " + conf
	}
	body := []string{}
	add := func(st func(string) string, text string, indent string) {
		for _, l := range wrap(text, w-2, indent) {
			body = append(body, " "+st(l))
		}
	}
	plain := func(x string) string { return s.text.Render(x) }
	sub := func(x string) string { return s.subtle.Render(x) }
	head := lk.style.Render(lk.glyph + " ")
	if c != nil && e.Diagnosis.Likely() {
		head += s.subtle.Render("likely ")
	}
	switch {
	case c != nil:
		head += lk.style.Render(c.ID) + s.bold.Render(" — "+c.Title)
	case e.Cause != nil:
		head += lk.style.Render(e.Cause.ID) + s.bold.Render(" — "+e.Cause.Title)
	default:
		head += s.warn.Render("not recognised")
	}
	body = append(body, " "+head)
	who := clean(e.Subject())
	if e.User != "" && e.Vhost != "" {
		who += " · " + clean(e.User+"@"+e.Vhost)
	}
	if e.Peer != "" {
		who += " · " + e.Peer
	}
	if e.Node != "" {
		who += " → " + e.Node
	}
	if e.Channel != 0 {
		who += fmt.Sprintf(" · channel %d", e.Channel)
	}
	add(sub, who+" · "+string(e.Type), "  ")
	if e.Code != 0 || e.Text != "" {
		add(plain, strings.TrimSpace(fmt.Sprintf("%s %s", codeWord(e.Code), clean(e.Text))), "  ")
	}
	if e.Diagnosis != nil {
		for _, n := range e.Diagnosis.Notes {
			add(func(x string) string { return s.warn.Render(x) }, "note: "+n, "  ")
		}
		if cs := e.Diagnosis.Candidates; len(cs) > 1 {
			body = append(body, " "+s.warn.Render("Could also be"))
			for _, cd := range cs[1:] {
				add(plain, "? "+cd.ID+" — "+cd.Title, "  ")
			}
			body = append(body, " "+s.ok.Render("How to tell"))
			for _, cd := range cs {
				if cd.Check != "" {
					add(sub, cd.ID+": "+cd.Check, "  ")
				}
			}
		}
	}
	if c != nil {
		body = append(body, "")
		add(plain, c.Happened, "")
		if len(c.Do) > 0 {
			body = append(body, " "+s.ok.Render("What to do"))
			for i, d := range c.Do {
				add(plain, fmt.Sprintf("%d. %s", i+1, d), "   ")
			}
		}
		if len(c.DeadEnds) > 0 {
			body = append(body, " "+s.err.Render("What does not help"))
			for _, d := range c.DeadEnds {
				add(plain, "✗ "+d.Action+": "+d.Why, "  ")
			}
		}
		if len(c.Why) > 0 {
			body = append(body, " "+s.info.Render("Likely causes"))
			for _, x := range c.Why {
				add(sub, "• "+x, "  ")
			}
		}
		for _, d := range c.Docs {
			add(func(x string) string { return s.accent.Render(x) }, d, "")
		}
	}
	if len(e.Evidence) > 0 || (e.Diagnosis != nil && len(e.Diagnosis.Matched) > 0) {
		body = append(body, " "+s.subtle.Render("Evidence"))
		for _, ev := range e.Evidence {
			add(sub, "· "+ev, "  ")
		}
		if e.Diagnosis != nil {
			for _, mt := range e.Diagnosis.Matched {
				add(sub, "matched "+mt, "  ")
			}
		}
	}
	p.body, p.facts = body, facts
}

func codeWord(code int) string {
	if code == 0 {
		return ""
	}
	return fmt.Sprint(code)
}

// detailPane is the selected connection: its properties, its channels and
// its own timeline, scrolled as a whole. Like the diagnosis, the root
// feeds it (SetConn) on every message while it is on screen, and that is
// when the scroll is clamped.
type detailPane struct {
	sty      *styles
	w, h     int
	c        *model.ConnView // nil: none selected
	chans    []*model.ChanView
	timeline []*model.Event // its events, newest first
	now      time.Time
	body     []string
	top      int // first visible line of body
	lines    []string
}

// SetStyles points the pane at the dashboard's styles and redraws it.
func (p *detailPane) SetStyles(s *styles) {
	p.sty = s
	p.writeBody()
	p.build()
}

// SetSize gives the pane its place: the title and h-1 lines.
func (p *detailPane) SetSize(w, h int) {
	if p.w == w && p.h == h {
		return
	}
	p.w, p.h = w, h
	p.writeBody()
	p.build()
}

// SetConn shows connection c (nil: none selected) with its channels and
// its timeline, as of now. The scroll is kept, within the text.
func (p *detailPane) SetConn(c *model.ConnView, chans []*model.ChanView, timeline []*model.Event, now time.Time) {
	p.c, p.chans, p.timeline, p.now = c, chans, timeline, now
	p.writeBody()
	if p.c != nil {
		p.top = p.scroll()
	}
	p.build()
}

// Clear forgets the connection and scrolls back to the top, for a new
// visit.
func (p *detailPane) Clear() {
	p.c, p.chans, p.timeline, p.top = nil, nil, nil, 0
	p.writeBody()
	p.build()
}

// Conn is the connection shown.
func (p detailPane) Conn() *model.ConnView { return p.c }

// Move scrolls by d lines.
func (p *detailPane) Move(d int) {
	p.top = max(0, p.top+d)
	p.build()
}

// Lines are the pane's lines, exactly its height. Read only.
func (p detailPane) Lines() []string { return p.lines }

// View draws the pane. It only reads.
func (p detailPane) View() string { return strings.Join(p.lines, "\n") }

// scroll is the scroll within the text.
func (p *detailPane) scroll() int { return min(p.top, max(0, len(p.body)-(p.h-1))) }

func (p *detailPane) build() {
	if p.sty == nil {
		return
	}
	s, w, h := p.sty, p.w, p.h
	if p.c == nil {
		p.lines = pad([]string{paneTitle(s, "Connection", "none selected (esc)", w, true)}, h)
		return
	}
	lines := []string{paneTitle(s, "Connection", "esc: back · ↑/↓ scroll", w, true)}
	for i := p.scroll(); i < len(p.body) && len(lines) < h; i++ {
		lines = append(lines, fit(p.body[i], w))
	}
	p.lines = pad(lines, h)
}

func (p *detailPane) writeBody() {
	p.body = nil
	c := p.c
	if c == nil || p.sty == nil {
		return
	}
	s, w, now := p.sty, p.w, p.now
	lk := s.stateLook(c.State, c.Closed, c.AtRisk)
	body := []string{" " + lk.style.Render(lk.glyph+" "+lk.word) + "  " + s.bold.Render(clean(displayName(c))) + "  " + s.subtle.Render(clean(c.Name))}
	kv := func(k, v string) string { return s.subtle.Render(fit(k, 14)) + s.text.Render(clean(v)) }
	hb := "disabled (0)"
	if c.Heartbeat > 0 {
		hb = dur(c.Heartbeat) + fmt.Sprintf("  · silent for %s", dur(c.Silent(now)))
	}
	tls := "no"
	if c.TLS {
		tls = "yes " + c.TLSProtocol
	}
	props := []string{
		kv("user@vhost", c.User+"@"+c.Vhost), kv("peer", c.Peer), kv("node", c.Node),
		kv("client", strings.TrimSpace(c.Product+" "+c.Version+" "+c.Platform)), kv("protocol", c.Protocol),
		kv("heartbeat", hb), kv("tls", tls), kv("frame max", fmt.Sprint(c.FrameMax)), kv("channel max", fmt.Sprint(c.ChannelMax)),
		kv("connected", dur(now.Sub(connectedAt(c)))+" ago"), kv("traffic", fmt.Sprintf("in %s (%s total) · out %s (%s total)", rate(c.RecvRate), size(c.RecvBytes), rate(c.SendRate), size(c.SendBytes))),
		kv("capabilities", strings.Join(c.Capabilities, " ")), kv("pid", c.PID),
	}
	if c.Closed && c.Close != nil {
		cause := "not recognised"
		if c.Close.Cause != nil {
			cause = c.Close.Cause.ID + " — " + c.Close.Cause.Title
		}
		props = append(props, kv("closed", dur(now.Sub(c.ClosedAt))+" ago: "+cause))
	}
	for _, pr := range props {
		body = append(body, " "+pr)
	}
	body = append(body, "", " "+s.header.Render(fit("CH  STATE    PREFETCH  UNACKED  CONSUMERS  CONFIRM  PUBLISH/s  DELIVER/s  ACK/s", min(w-2, 80))))
	if len(p.chans) == 0 {
		body = append(body, " "+s.subtle.Render("no channels listed"))
	}
	for _, ch := range p.chans {
		conf := "no"
		if ch.Confirm {
			conf = "yes"
		}
		body = append(body, " "+s.text.Render(fmt.Sprintf("%-3d %-8s %8d %8d %10d  %-7s %9.1f %10.1f %6.1f", ch.Number, clean(ch.State), ch.Prefetch, ch.Unacked, ch.Consumers, conf, ch.PublishRate, ch.DeliverRate, ch.AckRate)))
	}
	body = append(body, "", " "+s.title.Render("Timeline"))
	for _, e := range p.timeline {
		body = append(body, eventLine(s, e, w, false))
	}
	if len(p.timeline) == 0 {
		body = append(body, " "+s.subtle.Render("no events for this connection"))
	}
	p.body = body
}

// helpPane is the keys screen.
type helpPane struct {
	sty   *styles
	keys  []key.Binding
	w, h  int
	lines []string
}

// SetStyles points the pane at the dashboard's styles and redraws it.
func (p *helpPane) SetStyles(s *styles) {
	p.sty = s
	p.build()
}

// SetSize gives the pane its place.
func (p *helpPane) SetSize(w, h int) {
	if p.w == w && p.h == h {
		return
	}
	p.w, p.h = w, h
	p.build()
}

// Lines are the pane's lines, exactly its height. Read only.
func (p helpPane) Lines() []string { return p.lines }

// View draws the pane. It only reads.
func (p helpPane) View() string { return strings.Join(p.lines, "\n") }

func (p *helpPane) build() {
	if p.sty == nil {
		return
	}
	s, w := p.sty, p.w
	lines := []string{paneTitle(s, "Keys", "press ? or esc to close", w, true), ""}
	for _, b := range p.keys {
		hb := b.Help()
		lines = append(lines, fit("  "+s.keyStyle.Render(fit(hb.Key, 10))+" "+s.text.Render(hb.Desc), w))
	}
	lines = append(lines, "",
		fit(s.subtle.Render("  The filter (/) takes every key while open; q types a q there. Mouse: wheel scrolls, click selects."), w),
		fit(s.subtle.Render("  States: ● running  ◐ flow  ◧ blocking  ■ blocked  ♥ heartbeat at risk  ✕ closed"), w),
		fit(s.subtle.Render("  Severity: ✖ error  ▲ warning  · info"), w))
	p.lines = pad(lines, p.h)
}

// shortType names an event type in ten cells, for narrow panes.
func shortType(t model.EventType) string {
	switch t {
	case model.ConnOpened:
		return "opened"
	case model.ConnSeen:
		return "seen"
	case model.ConnClosed:
		return "closed"
	case model.ConnStateChanged:
		return "state"
	case model.ChanOpened:
		return "ch opened"
	case model.ChanClosed:
		return "ch closed"
	case model.HeartbeatAtRisk:
		return "hb risk"
	case model.HeartbeatOK:
		return "hb ok"
	case model.HeartbeatDisabled:
		return "hb off"
	case model.ClientReconnected:
		return "reconnect"
	case model.ClientFlapping:
		return "flapping"
	case model.ProbeRetry:
		return "probe retry"
	case model.SourceChanged:
		return "source"
	case model.BrokerLogged:
		return "broker log"
	}
	return string(t)
}

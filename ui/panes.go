package ui

import (
	"fmt"
	"strings"

	"github.com/amqptop/amqptop/model"
)

// shownEvents returns the events at or above the chosen level, newest first.
func (m *Model) shownEvents() []*model.Event {
	n := m.st.EventCount()
	out := make([]*model.Event, 0, min(n, 512))
	for i := 0; i < n; i++ {
		if e := m.st.EventAt(i); e != nil && e.Severity >= m.level {
			out = append(out, e)
		}
	}
	return out
}

var levelWords = [...]string{"all", "warnings and errors", "errors"}

// eventLines draws the events timeline, newest first, causes highlighted.
func (m *Model) eventLines(w, h int, focused bool) []string {
	s := m.sty
	evs := m.shownEvents()
	lines := []string{m.title("Events", fmt.Sprintf("%d · %s (f)", len(evs), levelWords[m.level]), w, focused)}
	rows := h - 1
	m.evSel = max(0, min(m.evSel, len(evs)-1))
	if m.evSel < m.evTop {
		m.evTop = m.evSel
	}
	if m.evSel >= m.evTop+rows {
		m.evTop = m.evSel - rows + 1
	}
	if len(evs) == 0 {
		lines = append(lines, s.subtle.Render(fit("  nothing yet", w)))
	}
	for i := m.evTop; i < len(evs) && i < m.evTop+rows; i++ {
		lines = append(lines, m.eventLine(evs[i], w, focused && i == m.evSel))
	}
	return pad(lines, h)
}

func (m *Model) eventLine(e *model.Event, w int, selected bool) string {
	s := m.sty
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

// diagTarget picks what the diagnosis pane explains: the selected event,
// else the selected closed connection, else the latest fault.
func (m *Model) diagTarget() *model.Event {
	if m.focus == paneEvents || m.screen == screenEvents {
		if evs := m.shownEvents(); m.evSel < len(evs) && evs[m.evSel].Cause != nil {
			return evs[m.evSel]
		}
	}
	if c := m.selected(); c != nil && c.Closed && c.Close != nil && m.screen != screenDiag {
		return c.Close
	}
	for i := 0; i < m.st.EventCount(); i++ {
		if e := m.st.EventAt(i); e.Cause != nil && e.Severity >= model.SevWarn {
			return e
		}
	}
	return nil
}

// diagLines draws the diagnosis: the cause, what happened, what to do,
// what won't help, the docs, and the evidence it rests on.
func (m *Model) diagLines(w, h int, focused bool) []string {
	s := m.sty
	e := m.diagTarget()
	if e == nil {
		return pad([]string{m.title("Diagnosis", "", w, focused), s.subtle.Render(fit("  no fault seen yet", w))}, h)
	}
	var c *model.Cause
	conf := ""
	if e.Diagnosis != nil {
		c = e.Diagnosis.Cause
		conf = e.Diagnosis.Confidence.String()
	}
	if c == nil && e.Cause != nil && m.lookup != nil {
		c = m.lookup(e.Cause.ID)
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
	maxTop := max(0, len(body)-(h-1))
	m.diagTop = min(m.diagTop, maxTop)
	more := ""
	if maxTop > 0 {
		more = fmt.Sprintf(" · %d/%d ↓", m.diagTop+1, maxTop+1)
	}
	lines := []string{m.title("Diagnosis", facts+more, w, focused)}
	for i := m.diagTop; i < len(body) && len(lines) < h; i++ {
		lines = append(lines, fit(body[i], w))
	}
	return pad(lines, h)
}

func codeWord(code int) string {
	if code == 0 {
		return ""
	}
	return fmt.Sprint(code)
}

// detailLines draws the selected connection: its properties, its
// channels and its own timeline.
func (m *Model) detailLines(w, h int) []string {
	s := m.sty
	c := m.selected()
	if c == nil {
		return pad([]string{m.title("Connection", "none selected (esc)", w, true)}, h)
	}
	now := m.now()
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
	for _, p := range props {
		body = append(body, " "+p)
	}
	body = append(body, "", " "+s.header.Render(fit("CH  STATE    PREFETCH  UNACKED  CONSUMERS  CONFIRM  PUBLISH/s  DELIVER/s  ACK/s", min(w-2, 80))))
	chans := m.st.ChannelsOf(c.Name)
	if len(chans) == 0 {
		body = append(body, " "+s.subtle.Render("no channels listed"))
	}
	for _, ch := range chans {
		conf := "no"
		if ch.Confirm {
			conf = "yes"
		}
		body = append(body, " "+s.text.Render(fmt.Sprintf("%-3d %-8s %8d %8d %10d  %-7s %9.1f %10.1f %6.1f", ch.Number, clean(ch.State), ch.Prefetch, ch.Unacked, ch.Consumers, conf, ch.PublishRate, ch.DeliverRate, ch.AckRate)))
	}
	body = append(body, "", " "+s.title.Render("Timeline"))
	n := 0
	for i := 0; i < m.st.EventCount() && n < 200; i++ {
		if e := m.st.EventAt(i); e.Conn == c.Name {
			body = append(body, m.eventLine(e, w, false))
			n++
		}
	}
	if n == 0 {
		body = append(body, " "+s.subtle.Render("no events for this connection"))
	}
	m.dtTop = min(m.dtTop, max(0, len(body)-(h-1)))
	lines := []string{m.title("Connection", "esc: back · ↑/↓ scroll", w, true)}
	for i := m.dtTop; i < len(body) && len(lines) < h; i++ {
		lines = append(lines, fit(body[i], w))
	}
	return pad(lines, h)
}

// shortType names an event type in ten cells, for narrow panes.
func shortType(t model.EventType) string {
	switch t {
	case model.ConnOpened:
		return "opened"
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

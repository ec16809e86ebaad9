package model

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// closeRec gathers the evidence of one close (of a connection, or of one
// channel) from every source until it is published, and keeps it a while
// after so late evidence revises the same event.
type closeRec struct {
	key      string
	id       uint64 // the event's ID once emitted
	conn     Connection
	channel  int
	src      Source
	at       time.Time // earliest time any source put on the close
	estAt    bool      // at is amqptop's estimate (the node went), not a source's own time
	deadline time.Time
	ev       Evidence
	lines    []string // evidence, one line per source, for people
	reason   bool     // the broker's own reason is in
	why      string   // the broker's reason in its words, when there is no reply text
	emitted  bool
	renamed  bool // its connection's identity came in after it was published: revise it
	quiet    bool // a channel that went with its connection: never published
	diag     Diagnosis
}

// closeNote is one source's report of a close.
type closeNote struct {
	key     string
	conn    Connection
	channel int
	src     Source
	at      time.Time
	ev      Evidence
	reason  bool   // this note carries the broker's reason
	why     string // the broker's reason line, e.g. "missed heartbeats from client, timeout: 60s"
	line    string // evidence line; derived from ev when empty
	est     bool   // at is an estimate (the time the node went), which a source's own time replaces
}

func closeKey(conn string, channel int) string {
	if channel == 0 {
		return conn
	}
	return conn + "#" + strconv.Itoa(channel)
}

// noteClose records one source's report of a close and publishes or
// revises the close event when the evidence allows.
func (s *State) noteClose(n closeNote) *closeRec {
	if n.conn.Name == "" {
		return nil
	}
	r := s.closes[n.key]
	if r == nil {
		r = &closeRec{key: n.key, channel: n.channel, src: n.src, at: n.at, estAt: n.est, deadline: n.at.Add(s.opt.Settle)}
		r.conn = s.knownConn(n.conn.Name)
		s.closes[n.key] = r
		if n.channel == 0 && !strings.HasPrefix(n.key, "pid:") {
			s.markConnClosed(r, n)
		} else {
			s.delChan(ChannelKey{n.conn.Name, n.channel})
		}
	} else if !n.est && (r.estAt || n.at.Before(r.at)) {
		r.at, r.estAt = n.at, false
		if c := s.conns[n.conn.Name]; c != nil && n.channel == 0 {
			c.ClosedAt = n.at
		}
	}
	mergeConn(&r.conn, n.conn)
	if c := s.conns[n.conn.Name]; c != nil && n.channel == 0 {
		mergeConn(&c.Connection, n.conn) // details a later source brings (the user of a refused login)
	}
	r.merge(n)
	switch {
	case !r.emitted && r.reason:
		s.publishClose(r)
	case r.emitted:
		s.publishClose(r) // revises only when the diagnosis changed
	}
	return r
}

// knownConn returns what the state knows of a connection by name.
func (s *State) knownConn(name string) Connection {
	c := Connection{Name: name}
	if v := s.conns[name]; v != nil {
		c = v.Connection
	}
	if cr, ok := s.created[name]; ok {
		mergeConn(&c, cr)
	}
	return c
}

// mergeConn fills dst's empty identity fields from src.
func mergeConn(dst *Connection, src Connection) {
	fill := func(d *string, v string) {
		if *d == "" {
			*d = v
		}
	}
	fill(&dst.Name, src.Name)
	fill(&dst.Client, src.Client)
	fill(&dst.User, src.User)
	fill(&dst.Vhost, src.Vhost)
	fill(&dst.Peer, src.Peer)
	fill(&dst.Node, src.Node)
	fill(&dst.PID, src.PID)
	fill(&dst.Product, src.Product)
	if dst.Heartbeat == 0 {
		dst.Heartbeat = src.Heartbeat
	}
}

func (r *closeRec) merge(n closeNote) {
	e := &r.ev
	if n.ev.Code != 0 && (e.Code == 0 || (n.ev.ByServer && !e.ByServer)) {
		e.Code, e.Text = n.ev.Code, n.ev.Text
	} else if e.Text == "" {
		e.Text = n.ev.Text
	}
	for _, l := range n.ev.Log {
		if !contains(e.Log, l) {
			e.Log = append(e.Log, l)
		}
	}
	if e.Client == "" {
		e.Client = n.ev.Client
	}
	e.ByServer = e.ByServer || n.ev.ByServer
	e.Vanished = e.Vanished || n.ev.Vanished
	r.reason = r.reason || n.reason
	if r.why == "" {
		r.why = n.why
	}
	line := n.line
	if line == "" {
		line = describeNote(n)
	}
	if line != "" && !contains(r.lines, line) {
		r.lines = append(r.lines, line)
	}
}

func describeNote(n closeNote) string {
	src := n.src.String()
	switch {
	case len(n.ev.Log) > 0:
		return src + ": " + oneLine(n.ev.Log[len(n.ev.Log)-1])
	case n.ev.Client != "":
		return src + ": " + n.ev.Client
	case n.ev.Code != 0:
		return fmt.Sprintf("%s: %d %s", src, n.ev.Code, n.ev.Text)
	}
	return ""
}

// markConnClosed marks the connection closed in the table and notes the
// close for reconnect detection.
func (s *State) markConnClosed(r *closeRec, n closeNote) {
	c := s.conns[n.conn.Name]
	if c == nil {
		cn := s.knownConn(n.conn.Name)
		mergeConn(&cn, n.conn)
		c = &ConnView{Connection: cn, Source: n.src, FirstSeen: n.at, LastSeen: n.at}
		s.conns[cn.Name] = c
	}
	if !c.Closed {
		s.closedTotal++
	}
	c.Closed, c.ClosedAt, c.State, c.AtRisk = true, n.at, StateClosed, false
	s.delChansOf(c.Name)
	if !c.Own {
		s.noteReconnectClose(c.Connection, n.at)
	}
}

// diagnose asks the knowledge base, adding what the state knows of the
// moment of the close.
func (s *State) diagnose(r *closeRec) Diagnosis {
	if s.opt.Diagnoser == nil {
		return Diagnosis{Code: r.ev.Code}
	}
	ev := r.ev
	ev.Scope = "connection"
	if r.channel != 0 {
		ev.Scope = "channel"
	}
	if nv := s.nodes[r.conn.Node]; nv != nil && len(nv.Alarms()) > 0 {
		ev.Alarm = true
	}
	ev.Restart = s.stopping(r.conn.Node, r.at)
	if !ev.Restart {
		ev.NodeDown, ev.NodeLost = s.lostWith(r.conn.Node, r.at)
	}
	if nv := s.nodes[s.nodeOf(r.conn.Node)]; nv != nil && nv.out != nil && nv.out.unsure && nv.out.covers(r.at, 0) {
		ev.Restart, ev.NodeDown = true, true // it restarted, and nothing said how
	}
	if sv := s.sources[SourceLog]; sv != nil && sv.Health == HealthUp {
		ev.LogFollowed = true
	}
	if !r.reason && len(ev.Log) == 0 && r.channel == 0 {
		if line := s.vhostLine(r.conn, r.at); line != "" {
			ev.Log = []string{line} // its vhost stopped: that is the broker's reason
		}
	}
	return s.opt.Diagnoser.Diagnose(ev)
}

// publishClose emits the close event, or revises it when the diagnosis
// changed since it was emitted.
func (s *State) publishClose(r *closeRec) {
	if r.quiet {
		return
	}
	if r.channel != 0 && !r.reason && !r.emitted {
		if c := s.conns[r.conn.Name]; c == nil || c.Closed {
			r.emitted, r.quiet = true, true // it went with its connection, whose close tells why
			return
		}
	}
	d := s.diagnose(r)
	if r.emitted && sameDiagnosis(r.diag, d) && !r.renamed {
		return
	}
	r.renamed = false
	r.diag = d
	e := Event{ID: r.id, Time: r.at, Type: ConnClosed, Source: r.src, Node: r.conn.Node, Conn: r.conn.Name,
		Client: r.conn.Client, User: r.conn.User, Vhost: r.conn.Vhost, Peer: r.conn.Peer, Channel: r.channel,
		Code: r.ev.Code, Text: r.ev.Text, ByServer: r.ev.ByServer, Pending: !r.reason, Heartbeat: r.conn.Heartbeat,
		Evidence: append([]string(nil), r.lines...)}
	if r.channel != 0 {
		e.Type = ChanClosed
	}
	if e.Code == 0 {
		e.Code = d.Code
	}
	if e.Text == "" {
		e.Text = r.why
	}
	diag := d
	e.Diagnosis = &diag
	e.Cause = d.Cause.Ref()
	e.Severity = SevWarn
	switch {
	case d.Cause != nil:
		e.Severity = d.Cause.Severity
		e.Detail = d.Cause.Happened
	case r.channel != 0 && !r.reason:
		e.Severity = SevInfo // channels come and go; no reason means no fault seen
	}
	var pub *Event
	if r.emitted {
		pub = s.revise(e)
	} else {
		pub = s.emit(e)
		r.emitted, r.id = true, pub.ID
		if r.conn.Client == "" {
			s.nameless[r.conn.Name] = append(s.nameless[r.conn.Name], r)
		}
	}
	if pub == nil {
		return
	}
	cp := *pub
	if c := s.conns[r.conn.Name]; c != nil && r.channel == 0 {
		c.Close = &cp
	}
	if r.channel == 0 && r.conn.Name == s.probe.Conn {
		s.probe.LastClose = &cp
	}
}

func sameDiagnosis(a, b Diagnosis) bool {
	id := func(d Diagnosis) string {
		if d.Cause == nil {
			return ""
		}
		return d.Cause.ID
	}
	return id(a) == id(b) && a.Confidence == b.Confidence && a.Code == b.Code
}

// node returns the view of a node, creating it.
func (s *State) node(name string) *NodeView {
	nv := s.nodes[name]
	if nv == nil {
		nv = &NodeView{Node: Node{Name: name}}
		s.nodes[name] = nv
	}
	return nv
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// Flush publishes every close still waiting for its reason, as it stands.
// Call it when the input ends (a clean shutdown of watch).
func (s *State) Flush() []Event {
	s.out = nil
	var due []*closeRec
	for _, r := range s.closes {
		if !r.emitted {
			due = append(due, r)
		}
	}
	sort.Slice(due, func(i, j int) bool { return due[i].key < due[j].key })
	for _, r := range due {
		s.publishClose(r)
	}
	out := s.out
	s.out = nil
	return out
}

// named revises the closes published before conn was known by its client
// name (see State.nameless), now that it is.
func (s *State) named(conn Connection) {
	rs := s.nameless[conn.Name]
	if len(rs) == 0 || conn.Client == "" {
		return
	}
	delete(s.nameless, conn.Name)
	for _, r := range rs {
		if r.conn.Client != "" || s.closes[r.key] != r {
			continue
		}
		mergeConn(&r.conn, conn)
		r.renamed = true
		s.publishClose(r)
	}
}

package model

import (
	"sort"
	"time"
)

// Options tune the reducer. Zero values take the defaults.
type Options struct {
	Diagnoser       Diagnoser     // matches closes to causes; nil: no causes
	History         int           // events kept (default 5000)
	ClosedTTL       time.Duration // how long a closed connection stays listed (default 10m)
	MaxClosed       int           // closed connections kept at most (default 2000)
	Settle          time.Duration // how long a close without a reason waits for one (default 2s)
	ReconnectWindow time.Duration // a client back within this is a reconnect (default 30s)
	FlapWindow      time.Duration // reconnects counted over this window (default 5m)
	FlapCount       int           // this many reconnects in the window is flapping (default 3)
	RestartWindow   time.Duration // the longest a stop never seen to end colours the closes after it (default 2m)
	OwnPrefix       string        // client-provided names of amqptop's own connections (default "amqptop-")
	ProbeWindow     int           // latency samples kept (default 300)
	ListGrace       time.Duration // how long the management API may take to list a new connection (default 15s)
}

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.History <= 0 {
		o.History = 5000
	}
	if o.MaxClosed <= 0 {
		o.MaxClosed = 2000
	}
	if o.FlapCount <= 0 {
		o.FlapCount = 3
	}
	if o.ProbeWindow <= 0 {
		o.ProbeWindow = 300
	}
	if o.OwnPrefix == "" {
		o.OwnPrefix = "amqptop-"
	}
	def(&o.ClosedTTL, 10*time.Minute)
	def(&o.Settle, 2*time.Second)
	def(&o.ReconnectWindow, 30*time.Second)
	def(&o.FlapWindow, 5*time.Minute)
	def(&o.RestartWindow, 2*time.Minute)
	def(&o.ListGrace, 15*time.Second)
}

// ConnView is a connection as the state knows it: what the sources
// reported plus what amqptop derived.
type ConnView struct {
	Connection
	Source     Source    // the source that first reported it
	FirstSeen  time.Time // first observation of it
	LastSeen   time.Time // last observation that listed it
	LastRecvAt time.Time // when its received-bytes counter last moved (approximate: snapshot times)
	PrevRecv   float64   // receive rate of the previous snapshot (for the trend)
	PrevSend   float64   // send rate of the previous snapshot
	AtRisk     bool      // silent for longer than its heartbeat
	Probe      bool      // amqptop's own probe
	Own        bool      // one of amqptop's own connections (probe, event and log subscribers)
	Listed     bool      // a management snapshot has listed it
	missedAt   time.Time // the first paged listing that lacked it since (zero: none)
	Closed     bool
	ClosedAt   time.Time
	Close      *Event // its connection.closed event, once emitted
	flaggedHB  bool
}

// Silent returns how long the connection has sent nothing, as of now.
func (c *ConnView) Silent(now time.Time) time.Duration {
	if c.LastRecvAt.IsZero() || c.Closed {
		return 0
	}
	return now.Sub(c.LastRecvAt)
}

// ChanView is a channel as the state knows it.
type ChanView struct {
	Channel
	FirstSeen time.Time
	Listed    bool // the management API has listed it (a channel the event exchange announced may not be yet)
	missed    int  // complete listings in a row that lacked it since it was last listed
}

// NodeView is a node as the state knows it.
type NodeView struct {
	Node
	Seen        bool
	StoppedAt   time.Time // the last time the node was seen shutting down (its own log, a 320 shutdown, the API)
	DownAt      time.Time // the last time it went away without a shutdown (every source cut at once)
	RestartedAt time.Time // the last time it came back
	mem, disk   alarmMark
	out         *outage   // the last stop or loss
	seenAt      time.Time // the last poll that saw it running
}

// alarmMark is the last announced state of one alarm.
type alarmMark struct {
	on  bool
	at  time.Time
	src Source
}

func (n *NodeView) alarm(kind string) *alarmMark {
	if kind == "disk" {
		return &n.disk
	}
	return &n.mem
}

func (n *NodeView) setFlag(kind string, on bool) {
	if kind == "disk" {
		n.DiskAlarm = on
	} else {
		n.MemAlarm = on
	}
}

// SourceView is a source's last reported health.
type SourceView struct {
	Source Source
	Health Health
	Detail string
	Hint   string
	Since  time.Time
	Last   time.Time // last observation from it
}

// State folds observations into the current picture and its events.
// It is not safe for concurrent use: one goroutine owns it.
type State struct {
	opt Options
	now time.Time
	seq uint64

	closedTotal int // connections closed, every one (ClosedCount)

	overview Overview
	nodes    map[string]*NodeView
	conns    map[string]*ConnView
	chans    map[ChannelKey]*ChanView
	chansOf  map[string]map[int]struct{} // channel numbers by connection, to drop them with it
	sources  map[Source]*SourceView
	probe    Probe
	baseline bool // a first complete connection list has been seen
	// stoppedAny is when a node whose name is unknown was seen stopping.
	stoppedAny time.Time
	everUp     map[Source]bool      // sources that have answered at least once
	lost       map[Source]time.Time // sources lost, since when
	vhostStops map[string]vhostStop // node + vhost → the broker closing its connections

	history ring
	closes  map[string]*closeRec // by close key, pending or emitted
	// nameless are published closes whose connection was not known by
	// its client name yet (a channel error in the log before the event
	// exchange's connection.created): revised once it is, by connection.
	nameless map[string][]*closeRec
	pids     map[string]string // Erlang pid → connection name
	chpids   map[string]ChannelKey
	created  map[string]Connection // connection.created details, by name
	recon    map[string]*reconTrack
	out      []Event
}

// New returns an empty State.
func New(o Options) *State {
	o.defaults()
	return &State{
		opt:      o,
		nodes:    map[string]*NodeView{},
		conns:    map[string]*ConnView{},
		chans:    map[ChannelKey]*ChanView{},
		chansOf:  map[string]map[int]struct{}{},
		sources:  map[Source]*SourceView{},
		history:  ring{cap: o.History},
		closes:   map[string]*closeRec{},
		nameless: map[string][]*closeRec{},
		pids:     map[string]string{},
		chpids:   map[string]ChannelKey{},
		created:  map[string]Connection{},
		recon:    map[string]*reconTrack{},
		probe:    newProbe(o.ProbeWindow),
	}
}

// Options returns the options in force (defaults filled in).
func (s *State) Options() Options { return s.opt }

// Now is the latest observation time seen.
func (s *State) Now() time.Time { return s.now }

// Apply folds one observation into the state and returns the events it
// caused, in order. It is deterministic: the same observations in the same
// order give the same events.
func (s *State) Apply(o Observation) []Event {
	s.out = nil
	if t := o.At(); t.After(s.now) {
		s.now = t
	}
	switch x := o.(type) {
	case MgmtSnapshot:
		s.applySnapshot(x)
	case *MgmtSnapshot:
		s.applySnapshot(*x)
	case BrokerEvent:
		s.applyBrokerEvent(x)
	case LogEntry:
		s.applyLog(x)
	case ProbeConnected:
		s.applyProbeConnected(x)
	case ProbeClosed:
		s.applyProbeClosed(x)
	case ProbeBlocked:
		s.applyProbeBlocked(x)
	case ProbeLatency:
		s.probe.addLatency(x)
	case ProbeHeartbeat:
		s.probe.addHeartbeat(x)
	case ProbeReconnecting:
		s.applyProbeReconnecting(x)
	case SourceStatus:
		s.applySourceStatus(x)
	case Tick:
	}
	s.expire()
	out := s.out
	s.out = nil
	return out
}

// emit stamps an event and appends it to the history and the output.
func (s *State) emit(e Event) *Event {
	e = s.stamp(e)
	s.history.push(e)
	s.out = append(s.out, e)
	return s.history.last()
}

// tell emits an event that is not kept in the history: it says what was
// already so when amqptop started (connection.seen), which a script
// reading the stream needs and the history of what happened does not.
func (s *State) tell(e Event) { s.out = append(s.out, s.stamp(e)) }

// stamp gives an event its sequence number, its ID (the same, for a new
// event) and, when it has none, the state's time.
func (s *State) stamp(e Event) Event {
	s.seq++
	e.Seq = s.seq
	if e.ID == 0 {
		e.ID = e.Seq
	}
	if e.Time.IsZero() {
		e.Time = s.now
	}
	return e
}

// revise replaces an event in the history and emits the revision.
func (s *State) revise(e Event) *Event {
	s.seq++
	e.Seq = s.seq
	e.Update = true
	s.history.replace(e)
	s.out = append(s.out, e)
	return s.history.find(e.ID)
}

func (s *State) source(src Source) *SourceView {
	sv := s.sources[src]
	if sv == nil {
		sv = &SourceView{Source: src}
		s.sources[src] = sv
	}
	return sv
}

func (s *State) applySourceStatus(x SourceStatus) {
	of := x.Of
	if of == SourceUnknown {
		of = x.Source
	}
	sv := s.source(of)
	if sv.Health == x.Health && sv.Detail == x.Detail {
		return
	}
	changed := sv.Health != x.Health
	sv.Health, sv.Detail, sv.Hint = x.Health, x.Detail, x.Hint
	if changed {
		sv.Since = x.Time
		switch x.Health {
		case HealthUp:
			s.sourceUp(of, x.Time, x.Source)
		case HealthDown:
			if s.everUp[of] {
				s.sourceLost(of, x.Time, x.Source, x.Detail)
			}
		}
	}
	sev := SevInfo
	switch x.Health {
	case HealthDegraded:
		sev = SevWarn
	case HealthDown:
		sev = SevError
	}
	s.emit(Event{Time: x.Time, Type: SourceChanged, Severity: sev, Source: x.Source,
		Health: x.Health, Detail: x.Detail, Hint: x.Hint, Text: of.String() + " " + x.Health.String() + optional(": ", x.Detail)})
}

// expire settles due closes and drops what has aged out.
func (s *State) expire() {
	var due []*closeRec
	for _, r := range s.closes {
		if !r.emitted && !r.deadline.After(s.now) {
			due = append(due, r)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].deadline.Equal(due[j].deadline) {
			return due[i].deadline.Before(due[j].deadline)
		}
		return due[i].key < due[j].key
	})
	for _, r := range due {
		s.publishClose(r)
	}
	for k, r := range s.closes {
		if r.emitted && s.now.Sub(r.at) > s.opt.ClosedTTL {
			delete(s.closes, k)
			delete(s.nameless, r.conn.Name)
		}
	}
	var closed []*ConnView
	for name, c := range s.conns {
		if !c.Closed {
			continue
		}
		if s.now.Sub(c.ClosedAt) > s.opt.ClosedTTL {
			s.dropConn(name)
			continue
		}
		closed = append(closed, c)
	}
	if len(closed) > s.opt.MaxClosed {
		sort.Slice(closed, func(i, j int) bool { return closed[i].ClosedAt.Before(closed[j].ClosedAt) })
		for _, c := range closed[:len(closed)-s.opt.MaxClosed] {
			s.dropConn(c.Name)
		}
	}
	for k, t := range s.recon {
		if s.now.Sub(t.last) > s.opt.FlapWindow {
			delete(s.recon, k)
		}
	}
}

func (s *State) dropConn(name string) {
	c := s.conns[name]
	delete(s.conns, name)
	delete(s.created, name)
	if c != nil && c.PID != "" {
		delete(s.pids, c.PID)
	}
	s.delChansOf(name)
}

// Overview returns the last overview of the cluster.
func (s *State) Overview() Overview { return s.overview }

// ClosedCount is the number of connections closed since the state began,
// every one of them: the table keeps the latest MaxClosed for ClosedTTL.
func (s *State) ClosedCount() int { return s.closedTotal }

// Nodes returns the known nodes sorted by name.
func (s *State) Nodes() []*NodeView {
	out := make([]*NodeView, 0, len(s.nodes))
	for _, n := range s.nodes {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Conns returns every connection known, open and recently closed, in no
// particular order. The views are owned by the state: read, don't keep.
func (s *State) Conns() []*ConnView {
	out := make([]*ConnView, 0, len(s.conns))
	for _, c := range s.conns {
		out = append(out, c)
	}
	return out
}

// Conn returns one connection by its broker name.
func (s *State) Conn(name string) *ConnView { return s.conns[name] }

// ConnCount returns the number of connections known (open and closed).
func (s *State) ConnCount() int { return len(s.conns) }

// ChannelsOf returns a connection's channels sorted by number.
func (s *State) ChannelsOf(conn string) []*ChanView {
	var out []*ChanView
	for num := range s.chansOf[conn] {
		out = append(out, s.chans[ChannelKey{conn, num}])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
}

// Sources returns each source's health, in Source order.
func (s *State) Sources() []SourceView {
	out := make([]SourceView, 0, len(s.sources))
	for _, v := range s.sources {
		out = append(out, *v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Source < out[j].Source })
	return out
}

// Probe returns the probe's state.
func (s *State) Probe() *Probe { return &s.probe }

// Events returns the history, oldest first. The slice is a copy.
func (s *State) Events() []Event { return s.history.all() }

// EventCount returns how many events the history holds.
func (s *State) EventCount() int { return s.history.len() }

// EventAt returns the i-th newest event (0 = newest).
func (s *State) EventAt(i int) *Event { return s.history.newest(i) }

// LastSeq is the sequence number of the last event emitted.
func (s *State) LastSeq() uint64 { return s.seq }

func optional(sep, s string) string {
	if s == "" {
		return ""
	}
	return sep + s
}

func (s *State) addChan(k ChannelKey, c *ChanView) {
	s.chans[k] = c
	m := s.chansOf[k.Conn]
	if m == nil {
		m = map[int]struct{}{}
		s.chansOf[k.Conn] = m
	}
	m[k.Number] = struct{}{}
}

func (s *State) delChan(k ChannelKey) {
	delete(s.chans, k)
	if m := s.chansOf[k.Conn]; m != nil {
		delete(m, k.Number)
		if len(m) == 0 {
			delete(s.chansOf, k.Conn)
		}
	}
}

// delChansOf drops every channel of a connection.
func (s *State) delChansOf(conn string) {
	for num := range s.chansOf[conn] {
		delete(s.chans, ChannelKey{conn, num})
	}
	delete(s.chansOf, conn)
}

package model

import (
	"fmt"
	"github.com/amqptop/amqptop/model/wire"
	"sort"
	"time"
)

// Link is the probe's connection state.
type Link uint8

// Link states.
const (
	LinkOff Link = iota // no probe (passive mode) or not started
	LinkConnecting
	LinkUp
	LinkBlocked
	LinkDown
)

var linkNames = [...]string{"off", "connecting", "up", "blocked", "down"}

func (l Link) String() string {
	if int(l) < len(linkNames) {
		return linkNames[l]
	}
	return fmt.Sprintf("link(%d)", l)
}

// Window is a bounded series of durations with percentiles.
type Window struct {
	cap  int
	vals []time.Duration
	next int
}

// Add appends a sample, dropping the oldest when full.
func (w *Window) Add(d time.Duration) {
	if len(w.vals) < w.cap {
		w.vals = append(w.vals, d)
		return
	}
	w.vals[w.next] = d
	w.next = (w.next + 1) % w.cap
}

// Len is the number of samples held.
func (w *Window) Len() int { return len(w.vals) }

// Values returns the samples oldest first.
func (w *Window) Values() []time.Duration {
	out := make([]time.Duration, 0, len(w.vals))
	out = append(out, w.vals[w.next:]...)
	return append(out, w.vals[:w.next]...)
}

// Last returns the newest sample (0 when empty).
func (w *Window) Last() time.Duration {
	if len(w.vals) == 0 {
		return 0
	}
	if len(w.vals) < w.cap {
		return w.vals[len(w.vals)-1]
	}
	return w.vals[(w.next+w.cap-1)%w.cap]
}

// Percentile returns the p-th percentile (0..100), nearest rank.
func (w *Window) Percentile(p float64) time.Duration {
	if len(w.vals) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), w.vals...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p/100*float64(len(s))+0.5) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(s) {
		i = len(s) - 1
	}
	return s[i]
}

// Probe is the state of amqptop's own probe connection.
type Probe struct {
	Link       Link
	Conn       string // the broker's name for the probe's connection
	Client     string
	Node       string
	Server     string
	Heartbeat  time.Duration
	UpSince    time.Time
	DownSince  time.Time
	RoundTrip  Window
	Confirm    Window
	Lost       int // messages that did not come back
	Samples    int
	HBSent     int
	HBRecv     int
	LastHBSent time.Time
	LastHBRecv time.Time
	Attempt    int // current reconnect attempt (0 when up)
	Reconnects int // successful reconnects since start
	LastError  string
	Blocked    string // reason while blocked
	LastClose  *Event
	everUp     bool
}

func newProbe(n int) Probe {
	return Probe{RoundTrip: Window{cap: n}, Confirm: Window{cap: n}}
}

func (p *Probe) addLatency(x ProbeLatency) {
	p.Samples++
	if x.Lost {
		p.Lost++
		return
	}
	p.RoundTrip.Add(x.RoundTrip)
	p.Confirm.Add(x.Confirm)
}

func (p *Probe) addHeartbeat(x ProbeHeartbeat) {
	if x.Sent {
		p.HBSent++
		p.LastHBSent = x.Time
	} else {
		p.HBRecv++
		p.LastHBRecv = x.Time
	}
}

func (s *State) applyProbeConnected(x ProbeConnected) {
	p := &s.probe
	var down time.Duration
	if p.everUp && !p.DownSince.IsZero() {
		down = x.Time.Sub(p.DownSince)
		p.Reconnects++
	}
	p.everUp = true
	p.Link, p.Conn, p.Client, p.Node, p.Server = LinkUp, x.Conn, x.Client, x.Node, x.Server
	p.Heartbeat, p.UpSince, p.DownSince, p.Attempt, p.Blocked = x.Heartbeat, x.Time, time.Time{}, 0, ""
	p.LastHBSent, p.LastHBRecv = time.Time{}, time.Time{}
	_, peer, _ := wire.SplitConnName(x.Conn)
	c := s.upsertConn(Connection{Name: x.Conn, Client: x.Client, User: x.User, Vhost: x.Vhost,
		Peer: peer, Node: x.Node, Protocol: "AMQP 0-9-1", State: StateRunning, Heartbeat: x.Heartbeat,
		ChannelMax: x.ChannelMax, FrameMax: x.FrameMax, ConnectedAt: x.Time, Product: "amqptop"}, x.Source, x.Time)
	c.Probe, c.Own = true, true
	s.sourceUp(SourceProbe, x.Time, x.Source)
	s.emit(Event{Time: x.Time, Type: ProbeUp, Severity: SevInfo, Source: x.Source, Node: x.Node,
		Conn: x.Conn, Client: x.Client, User: x.User, Vhost: x.Vhost, Peer: peer,
		Heartbeat: x.Heartbeat, Downtime: down, Count: x.Attempt, Detail: x.Server})
}

func (s *State) applyProbeClosed(x ProbeClosed) {
	p := &s.probe
	name := x.Conn
	if name == "" {
		name = p.Conn
	}
	if x.Channel == 0 {
		p.Link, p.DownSince, p.LastError = LinkDown, x.Time, x.Error
	}
	ev := Evidence{Code: x.Code, Text: x.Text, Client: x.Error, ByServer: x.ByServer}
	if x.ByServer && x.Code == 320 && containsFold(x.Text, "reason 'shutdown'") {
		s.nodeStopping(p.Node, x.Time, x.Source, "the probe got "+x.Text)
	} else if x.Channel == 0 && !x.ByServer && s.everUp[SourceProbe] {
		s.sourceLost(SourceProbe, x.Time, x.Source, x.Error)
	}
	r := s.noteClose(closeNote{key: closeKey(name, x.Channel), conn: Connection{Name: name, Client: p.Client, Node: p.Node},
		channel: x.Channel, src: x.Source, at: x.Time, ev: ev, reason: x.ByServer})
	if x.Channel == 0 && r != nil {
		p.LastClose = s.history.find(r.id)
	}
}

func (s *State) applyProbeBlocked(x ProbeBlocked) {
	p := &s.probe
	e := Event{Time: x.Time, Source: x.Source, Conn: p.Conn, Client: p.Client, Node: p.Node, Text: x.Reason}
	if x.Active {
		p.Link, p.Blocked = LinkBlocked, x.Reason
		e.Type, e.Severity = ProbeIsBlocked, SevWarn
		s.infer(&e, InferResourceAlarm, ConfHigh, "the broker blocked the probe: "+x.Reason)
	} else {
		if p.Link == LinkBlocked {
			p.Link = LinkUp
		}
		p.Blocked = ""
		e.Type, e.Severity = ProbeIsUnblocked, SevInfo
	}
	s.emit(e)
}

func (s *State) applyProbeReconnecting(x ProbeReconnecting) {
	p := &s.probe
	if p.Link != LinkDown {
		p.Link = LinkConnecting
	}
	if p.DownSince.IsZero() {
		p.DownSince = x.Time
	}
	p.Attempt, p.LastError = x.Attempt, x.Error
	e := Event{Time: x.Time, Type: ProbeRetry, Severity: SevWarn, Source: x.Source, Client: p.Client,
		Count: x.Attempt, Delay: x.Delay, Text: x.Error}
	if s.opt.Diagnoser != nil && x.Error != "" {
		d := s.opt.Diagnoser.Diagnose(Evidence{Client: x.Error, Restart: s.stopping(p.Node, x.Time)})
		e.Diagnosis = &d
		e.Cause = d.Cause.Ref()
		e.Code = d.Code
	}
	s.emit(e)
}

// infer gives an event the cause of a situation the model recognises
// itself, whole, as the knowledge base names it (nothing without one).
func (s *State) infer(e *Event, k Inference, conf Confidence, matched string) {
	in, ok := s.opt.Diagnoser.(Inferrer)
	if !ok {
		return
	}
	c := in.Infer(k)
	if c == nil {
		return
	}
	e.Cause = c.Ref()
	e.Diagnosis = &Diagnosis{Cause: c, Confidence: conf, Matched: []string{matched}}
}

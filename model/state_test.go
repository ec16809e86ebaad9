package model

import (
	"encoding/json"
	"github.com/amqptop/amqptop/model/wire"
	"strings"
	"testing"
	"time"
)

// fakeKB is a minimal diagnoser for the reducer's tests; the real
// knowledge base is tested in package causes and end to end in demo.
type fakeKB struct{}

func (fakeKB) Diagnose(ev Evidence) Diagnosis {
	all := strings.Join(append(append([]string{}, ev.Log...), ev.Text, ev.Client), "\n")
	id, conf := "", ConfHigh
	switch {
	case strings.Contains(all, "missed heartbeats"):
		id = "heartbeat-timeout"
	case strings.Contains(all, "shutdown"):
		id = "broker-shutdown"
	case strings.Contains(all, "Closed via management plugin"):
		id = "management-force-close"
	case strings.Contains(all, "connection reset"):
		id, conf = "network-interruption", ConfMedium
	case strings.Contains(all, "invalid credentials"):
		id = "access-refused"
	case strings.Contains(all, "not_found"):
		id = "not-found"
	case ev.Restart && ev.Vanished:
		id, conf = "broker-shutdown", ConfLow
	case strings.Contains(all, "closing AMQP connection"):
		id = "client-closed"
	default:
		return Diagnosis{Code: ev.Code, Notes: []string{"not recognised"}}
	}
	return Diagnosis{Cause: fakeKB{}.Lookup(id), Confidence: conf, Code: ev.Code}
}

func (fakeKB) Lookup(id string) *Cause {
	sev := SevError
	if id == "client-closed" {
		sev = SevInfo
	}
	return &Cause{ID: id, Title: "title of " + id, Severity: sev}
}

func (k fakeKB) Infer(i Inference) *Cause {
	switch i {
	case InferResourceAlarm:
		return k.Lookup("resource-alarm-blocked")
	case InferFlapping:
		return k.Lookup("reconnect-flapping")
	}
	return nil
}

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func at(sec float64) Meta {
	return Meta{Time: t0.Add(time.Duration(sec * float64(time.Second))), Source: SourceManagement}
}

func from(m Meta, s Source) Meta { m.Source = s; return m }

// script applies observations and returns every event.
func script(st *State, obs ...Observation) []Event {
	var out []Event
	for _, o := range obs {
		out = append(out, st.Apply(o)...)
	}
	return out
}

func ofType(evs []Event, t EventType) []Event {
	var out []Event
	for _, e := range evs {
		if e.Type == t {
			out = append(out, e)
		}
	}
	return out
}

func conn(name, client string, recv uint64) Connection {
	_, peer, _ := wire.SplitConnName(name)
	return Connection{Name: name, Client: client, User: "app", Vhost: "/", Peer: peer, Node: "rabbit@a",
		State: StateRunning, Heartbeat: 60 * time.Second, RecvBytes: recv}
}

func snap(sec float64, conns ...Connection) MgmtSnapshot {
	return MgmtSnapshot{Meta: at(sec), Connections: conns, ConnectionsOK: true,
		Nodes: []Node{{Name: "rabbit@a", Running: true, Uptime: 100*time.Hour + time.Duration(sec)*time.Second}}, NodesOK: true}
}

func ticks(from, to float64) []Observation {
	var out []Observation
	for s := from; s <= to; s++ {
		out = append(out, Tick{Meta: at(s)})
	}
	return out
}

func logEntry(sec float64, level, text string) LogEntry {
	return LogEntry{Meta: from(at(sec), SourceLog), Node: "rabbit@a", Level: level, Text: text}
}

const (
	connA = "10.0.0.5:40001 -> 10.0.0.1:5672"
	connB = "10.0.0.5:40002 -> 10.0.0.1:5672"
)

func TestBaselineThenOpens(t *testing.T) {
	st := New(Options{Diagnoser: fakeKB{}})
	evs := script(st, snap(0, conn(connA, "svc", 1)))
	if n := len(ofType(evs, ConnOpened)); n != 0 {
		t.Fatalf("the first snapshot is a baseline, got %d opened events", n)
	}
	evs = script(st, snap(5, conn(connA, "svc", 2), conn(connB, "other", 1)))
	op := ofType(evs, ConnOpened)
	if len(op) != 1 || op[0].Conn != connB || op[0].Client != "other" || op[0].Peer != "10.0.0.5:40002" {
		t.Fatalf("opened = %+v", op)
	}
}

// The connections open when amqptop starts are told once each
// (connection.seen, with what is known of them) so that a script reading
// the stream can build the state; amqptop's own are opened, not seen; the
// history of what happened does not keep them; later ones are opened.
func TestSeenAtStart(t *testing.T) {
	st := New(Options{Diagnoser: fakeKB{}})
	own := conn("10.0.0.9:40009 -> 10.0.0.1:5672", "amqptop-probe@ops", 1)
	evs := script(st, snap(0, conn(connA, "svc", 1), own))
	seen := ofType(evs, ConnSeen)
	if len(seen) != 1 || seen[0].Conn != connA || seen[0].Client != "svc" || seen[0].User != "app" || seen[0].Vhost != "/" ||
		seen[0].Peer != "10.0.0.5:40001" || seen[0].Heartbeat != 60*time.Second || seen[0].Seq == 0 {
		t.Fatalf("seen = %+v", seen)
	}
	if op := ofType(evs, ConnOpened); len(op) != 1 || op[0].Client != "amqptop-probe@ops" {
		t.Errorf("opened = %+v, want amqptop's own only", op)
	}
	for i := 0; i < st.EventCount(); i++ {
		if e := st.EventAt(i); e != nil && e.Type == ConnSeen {
			t.Errorf("connection.seen kept in the history: %+v", e)
		}
	}
	evs = script(st, snap(5, conn(connA, "svc", 2), conn(connB, "other", 1)))
	if n := len(ofType(evs, ConnSeen)); n != 0 {
		t.Errorf("%d connection.seen after the first listing", n)
	}
	if op := ofType(evs, ConnOpened); len(op) != 1 || op[0].Conn != connB {
		t.Errorf("opened = %+v", op)
	}
	// The JSON form carries the type and the heartbeat, like an opening.
	b, err := json.Marshal(seen[0])
	if err != nil || !strings.Contains(string(b), `"type":"connection.seen"`) || !strings.Contains(string(b), `"heartbeat_s":60`) {
		t.Errorf("JSON %s (%v)", b, err)
	}
}

// A paged listing can skip a connection at a page boundary: one paged
// listing without it does not close it; the next one that lacks it does,
// dated at the first. An unpaged listing is read at once and decides
// alone.
func TestPagedListingNeedsTwoAbsences(t *testing.T) {
	st := New(Options{Diagnoser: fakeKB{}})
	paged := func(sec float64, conns ...Connection) MgmtSnapshot {
		x := snap(sec, conns...)
		x.ConnectionsPaged = true
		return x
	}
	a, b := conn(connA, "svc", 1), conn(connB, "other", 1)
	evs := script(st, paged(0, a, b), paged(5, a), paged(10, a, b), Tick{Meta: at(20)})
	if cl := ofType(evs, ConnClosed); len(cl) != 0 || st.Conn(connB).Closed {
		t.Fatalf("closed by one paged listing without it: %+v", cl)
	}
	if n := len(ofType(evs, ConnOpened)) + len(ofType(evs, ClientReconnected)); n != 0 {
		t.Errorf("%d opened or reconnected events for a connection that never went", n)
	}
	evs = script(st, append([]Observation{paged(25, a), paged(30, a)}, ticks(31, 40)...)...)
	cl := ofType(evs, ConnClosed)
	if len(cl) != 1 || cl[0].Conn != connB || !cl[0].Time.Equal(at(25).Time) {
		t.Fatalf("closed = %+v, want connB dated at the first listing without it", cl)
	}
	// Unpaged: one listing decides.
	evs = script(st, append([]Observation{snap(45)}, ticks(46, 55)...)...)
	if cl := ofType(evs, ConnClosed); len(cl) != 1 || cl[0].Conn != connA {
		t.Errorf("closed = %+v, want connA at once", cl)
	}
}

func TestVanishedWaitsForTheBrokersReason(t *testing.T) {
	st := New(Options{Diagnoser: fakeKB{}})
	script(st, snap(0, conn(connA, "svc", 1)))
	evs := script(st, snap(5), Tick{Meta: at(6)})
	if len(ofType(evs, ConnClosed)) != 0 {
		t.Fatal("a close without a reason must wait for the settle window")
	}
	if c := st.Conn(connA); c == nil || !c.Closed {
		t.Fatal("the table shows the connection closed at once")
	}
	evs = script(st, append([]Observation{logEntry(6.5, "error",
		"closing AMQP connection <0.9.0> ("+connA+" - svc):\nmissed heartbeats from client, timeout: 60s")}, ticks(7, 20)...)...)
	cl := ofType(evs, ConnClosed)
	if len(cl) != 1 {
		t.Fatalf("want exactly one connection.closed, got %d: %+v", len(cl), cl)
	}
	e := cl[0]
	if e.Cause == nil || e.Cause.ID != "heartbeat-timeout" || e.Pending || e.Client != "svc" || e.User != "app" ||
		e.Text != "missed heartbeats from client, timeout: 60s" || e.Update {
		t.Errorf("close = %+v", e)
	}
	if !e.Time.Equal(at(5).Time) {
		t.Errorf("close time %v: the earliest any source put on it", e.Time)
	}
	if len(e.Evidence) != 2 {
		t.Errorf("evidence from both sources: %q", e.Evidence)
	}
}

func TestLateReasonRevisesTheSameEvent(t *testing.T) {
	st := New(Options{Diagnoser: fakeKB{}, Settle: 2 * time.Second})
	script(st, snap(0, conn(connA, "svc", 1)))
	evs := script(st, append([]Observation{snap(5)}, ticks(6, 8)...)...)
	cl := ofType(evs, ConnClosed)
	if len(cl) != 1 || cl[0].Cause != nil || !cl[0].Pending || cl[0].Severity != SevWarn {
		t.Fatalf("settled without a reason: %+v", cl)
	}
	evs = script(st, logEntry(9, "error", "closing AMQP connection <0.9.0> ("+connA+"):\nmissed heartbeats from client, timeout: 60s"))
	up := ofType(evs, ConnClosed)
	if len(up) != 1 || !up[0].Update || up[0].ID != cl[0].ID || up[0].Cause.ID != "heartbeat-timeout" || up[0].Seq <= cl[0].Seq {
		t.Fatalf("revision = %+v", up)
	}
	if st.EventAt(0).ID != cl[0].ID || st.EventAt(0).Cause == nil {
		t.Error("the history holds the revised event in place")
	}
	n := 0
	for _, e := range st.Events() {
		if e.Type == ConnClosed {
			n++
		}
	}
	if n != 1 {
		t.Errorf("history holds %d closes for one connection", n)
	}
}

func TestProbeSocketErrorRefinedByTheLog(t *testing.T) {
	st := New(Options{Diagnoser: fakeKB{}})
	probeConn := "10.0.0.9:50000 -> 10.0.0.1:5672"
	evs := script(st,
		ProbeConnected{Meta: from(at(0), SourceProbe), Conn: probeConn, Client: "amqptop-probe@h", Node: "rabbit@a", Heartbeat: 10 * time.Second},
		ProbeClosed{Meta: from(at(30), SourceProbe), Conn: probeConn, Code: 501, Text: "read tcp 10.0.0.9:50000->10.0.0.1:5672: read: connection reset by peer",
			Error: `Exception (501) Reason: "read tcp 10.0.0.9:50000->10.0.0.1:5672: read: connection reset by peer"`},
	)
	if len(ofType(evs, ProbeUp)) != 1 || len(ofType(evs, ConnClosed)) != 0 {
		t.Fatalf("a client-side socket error waits for the broker's word: %+v", evs)
	}
	if st.Probe().Link != LinkDown {
		t.Error("probe link is down")
	}
	evs = script(st, append([]Observation{logEntry(30.4, "error", "closing AMQP connection <0.77.0> ("+probeConn+" - amqptop-probe@h):\nmissed heartbeats from client, timeout: 10s")}, ticks(31, 40)...)...)
	cl := ofType(evs, ConnClosed)
	if len(cl) != 1 || cl[0].Cause.ID != "heartbeat-timeout" || cl[0].Code != 501 || cl[0].Source != SourceProbe {
		t.Fatalf("close = %+v", cl)
	}
	if st.Probe().LastClose == nil || st.Probe().LastClose.Cause.ID != "heartbeat-timeout" {
		t.Error("the probe keeps its last close")
	}
	evs = script(st, ProbeConnected{Meta: from(at(33), SourceProbe), Conn: "10.0.0.9:50001 -> 10.0.0.1:5672", Client: "amqptop-probe@h", Node: "rabbit@a"})
	if up := ofType(evs, ProbeUp); len(up) != 1 || up[0].Downtime != 3*time.Second || st.Probe().Reconnects != 1 {
		t.Errorf("reconnect: %+v", up)
	}
}

func TestBrokerCloseFrameIsImmediateAndMarksTheNodeStopping(t *testing.T) {
	st := New(Options{Diagnoser: fakeKB{}})
	probeConn := "10.0.0.9:50000 -> 10.0.0.1:5672"
	script(st, snap(0, conn(connA, "svc", 1)),
		ProbeConnected{Meta: from(at(0), SourceProbe), Conn: probeConn, Client: "amqptop-probe@h", Node: "rabbit@a"})
	evs := script(st, ProbeClosed{Meta: from(at(10), SourceProbe), Conn: probeConn, Code: 320, ByServer: true,
		Text: "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'"})
	if cl := ofType(evs, ConnClosed); len(cl) != 1 || cl[0].Cause.ID != "broker-shutdown" || !cl[0].ByServer {
		t.Fatalf("close = %+v", evs)
	}
	// The node comes back; the app's connection is gone: it went with the node.
	restarted := snap(40)
	restarted.Nodes[0].Uptime = 12 * time.Second
	evs = script(st, append([]Observation{restarted}, ticks(41, 45)...)...)
	cl := ofType(evs, ConnClosed)
	if len(cl) != 1 || cl[0].Cause == nil || cl[0].Cause.ID != "broker-shutdown" || !cl[0].Time.Equal(at(10).Time) {
		t.Fatalf("vanished with its node: %+v", cl)
	}
	if len(ofType(evs, NodeRestarted)) != 1 {
		t.Error("node.restarted expected")
	}
}

func TestReconnectsAndFlapping(t *testing.T) {
	st := New(Options{Diagnoser: fakeKB{}})
	var evs []Event
	name := func(i int) string { return "10.0.0.5:4000" + string(rune('0'+i)) + " -> 10.0.0.1:5672" }
	created := func(sec float64, i int) BrokerEvent {
		return BrokerEvent{Meta: from(at(sec), SourceEvents), Key: "connection.created", Headers: map[string]any{
			"name": name(i), "pid": "<rabbit@a.1.10" + string(rune('0'+i)) + ".0>", "user": "app", "vhost": "/", "node": "rabbit@a",
			"user_provided_name": "worker", "timeout": int64(30), "peer_host": "{10,0,0,5}", "peer_port": int64(40000 + i)}}
	}
	gone := func(sec float64, i int) LogEntry {
		return logEntry(sec, "warning", "closing AMQP connection <0.10"+string(rune('0'+i))+".0> ("+name(i)+" - worker, vhost: '/', user: 'app'):\nconnection reset")
	}
	evs = script(st, snap(0), created(1, 0), gone(10, 0), created(12, 1), gone(20, 1), created(23, 2), gone(30, 2), created(34, 3), gone(40, 3), created(44, 4))
	rc := ofType(evs, ClientReconnected)
	if len(rc) != 4 {
		t.Fatalf("reconnects = %d: %+v", len(rc), rc)
	}
	if rc[0].Downtime != 2*time.Second || rc[0].Client != "worker" || rc[0].Conn != name(1) {
		t.Errorf("first reconnect = %+v", rc[0])
	}
	fl := ofType(evs, ClientFlapping)
	if len(fl) != 1 || fl[0].Cause.ID != "reconnect-flapping" || fl[0].Count != 3 || fl[0].Severity != SevError {
		t.Fatalf("flapping once per storm: %+v", fl)
	}
	// Back after more than 30 s is not a reconnect.
	evs = script(st, gone(50, 4), created(90, 5))
	if len(ofType(evs, ClientReconnected)) != 0 {
		t.Error("a client back after 40 s is a new connection, not a reconnect")
	}
	if len(ofType(evs, ConnOpened)) != 1 {
		t.Error("but it is opened")
	}
}

func TestHeartbeatRisk(t *testing.T) {
	st := New(Options{Diagnoser: fakeKB{}})
	c := conn(connA, "slow", 100)
	c.Heartbeat = 10 * time.Second
	off := conn(connB, "legacy", 5)
	off.Heartbeat = 0
	evs := script(st, snap(0, c, off), snap(5, c, off), snap(10, c, off))
	if len(ofType(evs, HeartbeatAtRisk)) != 0 {
		t.Fatal("10 s of silence with a 10 s heartbeat is not yet past it")
	}
	if d := ofType(evs, HeartbeatDisabled); len(d) != 1 || d[0].Conn != connB {
		t.Fatalf("heartbeat.disabled once: %+v", d)
	}
	evs = script(st, snap(15, c, off))
	r := ofType(evs, HeartbeatAtRisk)
	if len(r) != 1 || r[0].Silent != 15*time.Second || r[0].Heartbeat != 10*time.Second {
		t.Fatalf("at risk: %+v", r)
	}
	if got := st.Conn(connA).Silent(at(17).Time); got != 17*time.Second {
		t.Errorf("Silent = %v", got)
	}
	c.RecvBytes = 108
	evs = script(st, snap(20, c, off))
	if len(ofType(evs, HeartbeatOK)) != 1 || st.Conn(connA).AtRisk {
		t.Error("bytes again: heartbeat.ok")
	}
	// A blocked publisher is not read from: its silence is no risk.
	c.State = StateBlocked
	evs = script(st, snap(25, c, off), snap(40, c, off), snap(60, c, off))
	if len(ofType(evs, HeartbeatAtRisk)) != 0 {
		t.Error("blocked connections are not at heartbeat risk")
	}
	if s := ofType(evs, ConnStateChanged); len(s) != 1 || s[0].To != "blocked" || s[0].Cause.ID != "resource-alarm-blocked" {
		t.Errorf("state change: %+v", s)
	}
}

func TestAlarmsOncePerChangeWhicheverSourceFirst(t *testing.T) {
	st := New(Options{Diagnoser: fakeKB{}})
	node := func(sec float64, alarm bool) MgmtSnapshot {
		s := snap(sec)
		s.Nodes[0].MemAlarm = alarm
		return s
	}
	evs := script(st, node(0, false),
		logEntry(1, "warning", "memory resource limit alarm set on node rabbit@a.\n\n*** Publishers will be blocked until this alarm clears ***"),
		node(2, false), // stale: stats lag the log
		BrokerEvent{Meta: from(at(2.5), SourceEvents), Key: "alarm.set", Headers: map[string]any{"source": "memory", "node": "rabbit@a"}},
		node(5, true), node(10, true),
		BrokerEvent{Meta: from(at(20), SourceEvents), Key: "alarm.cleared", Headers: map[string]any{"source": "memory", "node": "rabbit@a"}},
		node(21, false), node(40, false))
	set, cleared := ofType(evs, AlarmSet), ofType(evs, AlarmCleared)
	if len(set) != 1 || set[0].Source != SourceLog || set[0].Alarm != "memory" || set[0].Cause.ID != "resource-alarm-blocked" {
		t.Errorf("alarm.set = %+v", set)
	}
	if len(cleared) != 1 || cleared[0].Source != SourceEvents {
		t.Errorf("alarm.cleared = %+v", cleared)
	}
	if st.Nodes()[0].MemAlarm {
		t.Error("the alarm is cleared")
	}
}

func TestAlarmsSurviveSnapshotsWithoutStats(t *testing.T) {
	st := New(Options{Diagnoser: fakeKB{}})
	nostats := func(sec float64) MgmtSnapshot {
		s := snap(sec)
		s.Nodes[0] = Node{Name: "rabbit@a", Running: true}
		s.Unavailable = []string{"nodes.disk_free_alarm", "nodes.mem_alarm", "nodes.mem_used"}
		return s
	}
	evs := script(st, nostats(0), BrokerEvent{Meta: from(at(1), SourceEvents), Key: "alarm.set",
		Headers: map[string]any{"source": "memory", "node": "rabbit@a"}}, nostats(30), nostats(60))
	if len(ofType(evs, AlarmCleared)) != 0 || !st.Nodes()[0].MemAlarm {
		t.Errorf("a snapshot without alarm fields cleared the alarm: %+v", evs)
	}
}

func TestEventExchangeConnections(t *testing.T) {
	st := New(Options{Diagnoser: fakeKB{}})
	h := map[string]any{"name": connA, "pid": "<rabbit@a.1700000000.1234.0>", "node": "rabbit@a", "user": "billing", "vhost": "prod",
		"timeout": int64(30), "peer_host": "{10,0,0,5}", "peer_port": int64(40001), "protocol": "{0,9,1}", "ssl": true,
		"client_properties": []any{`{<<"product">>,longstr,<<"RabbitMQ">>}`, `{<<"connection_name">>,longstr,<<"billing-api">>}`},
		"frame_max":         int64(131072), "channel_max": int64(2047), "connected_at": int64(1700000000000)}
	evs := script(st, snap(0), BrokerEvent{Meta: from(at(1), SourceEvents), Key: "connection.created", Headers: h})
	op := ofType(evs, ConnOpened)
	if len(op) != 1 {
		t.Fatalf("opened: %+v", evs)
	}
	c := st.Conn(connA)
	if c.Client != "billing-api" || c.User != "billing" || c.Vhost != "prod" || c.Heartbeat != 30*time.Second || !c.TLS ||
		c.Peer != "10.0.0.5:40001" || c.PID != "<0.1234.0>" || c.Protocol != "AMQP 0-9-1" || c.Product != "RabbitMQ" {
		t.Errorf("connection = %+v", c.Connection)
	}
	evs = script(st, append([]Observation{BrokerEvent{Meta: from(at(9), SourceEvents), Key: "connection.closed",
		Headers: map[string]any{"name": connA, "pid": "<rabbit@a.1700000000.1234.0>", "node": "rabbit@a"}}}, ticks(10, 12)...)...)
	cl := ofType(evs, ConnClosed)
	if len(cl) != 1 || cl[0].Cause != nil || !cl[0].Pending || cl[0].User != "billing" || cl[0].Vhost != "prod" {
		t.Fatalf("closed (no reason on the event exchange): %+v", cl)
	}
	// Forced close named only by pid, after the fact: it revises the close.
	evs = script(st, logEntry(12.5, "info", `Closing connection <0.1234.0> because "Closed via management plugin"`))
	if up := ofType(evs, ConnClosed); len(up) != 1 || !up[0].Update || up[0].Cause.ID != "management-force-close" {
		t.Errorf("revision by pid: %+v", up)
	}
}

func TestForcedCloseByUnknownPidJoinsTheNamedEntry(t *testing.T) {
	st := New(Options{Diagnoser: fakeKB{}})
	evs := script(st, snap(0),
		logEntry(1, "info", `Closing connection <0.55.0> because "Closed via management plugin"`),
		logEntry(1.01, "error", "Error on AMQP connection <0.55.0> ("+connA+", vhost: '/', user: 'crm', state: running), channel 0:\n operation none caused a connection exception connection_forced: \"Closed via management plugin\""),
	)
	evs = append(evs, script(st, ticks(2, 6)...)...)
	cl := ofType(evs, ConnClosed)
	if len(cl) != 1 || cl[0].Conn != connA || cl[0].User != "crm" || cl[0].Code != 320 || cl[0].Cause.ID != "management-force-close" {
		t.Fatalf("one close with its name: %+v", cl)
	}
	if st.Conn("pid <0.55.0>") != nil {
		t.Error("no placeholder connection is listed")
	}
}

func TestAuthFailure(t *testing.T) {
	st := New(Options{Diagnoser: fakeKB{}})
	reason := "user 'exporter' - invalid credentials"
	var chars []any
	for _, r := range reason {
		chars = append(chars, int64(r))
	}
	evs := script(st, snap(0), BrokerEvent{Meta: from(at(1), SourceEvents), Key: "user.authentication.failure",
		Headers: map[string]any{"name": "exporter", "error": chars, "connection_name": connA, "peer_host": "{10,0,0,5}", "peer_port": int64(40001)}},
		logEntry(1.01, "error", "Error on AMQP connection <0.66.0> ("+connA+", state: starting):\nPLAIN login refused: "+reason),
		logEntry(4, "info", "closing AMQP connection <0.66.0> ("+connA+")"))
	evs = append(evs, script(st, ticks(5, 10)...)...)
	cl := ofType(evs, ConnClosed)
	if len(cl) != 1 || cl[0].Cause.ID != "access-refused" || cl[0].Code != 403 || cl[0].User != "exporter" || cl[0].Peer != "10.0.0.5:40001" {
		t.Fatalf("one refused login: %+v", cl)
	}
	if cl[0].Subject() != "exporter@10.0.0.5" {
		t.Errorf("subject = %q", cl[0].Subject())
	}
}

// A channel error the log tells before the event exchange has said who
// the connection is (the two streams race) is published at once, then
// revised with the client's name when it comes: the same event, updated.
func TestChannelCloseNamedLater(t *testing.T) {
	st := New(Options{Diagnoser: fakeKB{}})
	script(st, snap(0))
	evs := script(st, logEntry(2, "error", "Channel error on connection <0.7.0> ("+connA+", vhost: '/', user: 'app'), channel 1:\noperation queue.declare caused a channel exception not_found: no queue 'x' in vhost '/'"))
	cl := ofType(evs, ChanClosed)
	if len(cl) != 1 || cl[0].Client != "" || cl[0].Cause == nil {
		t.Fatalf("channel.closed = %+v", cl)
	}
	evs = script(st, BrokerEvent{Meta: from(at(2.01), SourceEvents), Key: "connection.created", Headers: map[string]any{
		"name": connA, "pid": "<rabbit@a.1.7.0>", "user": "app", "vhost": "/", "node": "rabbit@a",
		"user_provided_name": "boot-not-found", "timeout": int64(60), "peer_host": "{10,0,0,5}", "peer_port": int64(40001)}})
	rev := ofType(evs, ChanClosed)
	if len(rev) != 1 || !rev[0].Update || rev[0].ID != cl[0].ID || rev[0].Client != "boot-not-found" || rev[0].Channel != 1 ||
		rev[0].Cause == nil || rev[0].Cause.ID != cl[0].Cause.ID {
		t.Fatalf("revision = %+v", rev)
	}
	if e := st.history.find(cl[0].ID); e == nil || e.Client != "boot-not-found" {
		t.Errorf("the history keeps %+v", e)
	}
	// Once named, never again.
	evs = script(st, snap(5, conn(connA, "boot-not-found", 1)))
	if n := len(ofType(evs, ChanClosed)); n != 0 {
		t.Errorf("%d more revisions", n)
	}
}

func TestChannelErrorKeepsTheConnection(t *testing.T) {
	st := New(Options{Diagnoser: fakeKB{}})
	script(st, snap(0, conn(connA, "svc", 1)))
	evs := script(st, logEntry(2, "error", "Channel error on connection <0.7.0> ("+connA+", vhost: '/', user: 'app'), channel 3:\noperation basic.consume caused a channel exception not_found: no queue 'x' in vhost '/'"))
	cl := ofType(evs, ChanClosed)
	if len(cl) != 1 || cl[0].Channel != 3 || cl[0].Code != 404 || cl[0].Cause.ID != "not-found" || cl[0].Client != "svc" {
		t.Fatalf("channel.closed = %+v", evs)
	}
	if st.Conn(connA).Closed {
		t.Error("a channel error leaves the connection open")
	}
}

// The API lists a connection only once its stats are in: one announced by
// the probe or the event exchange is not closed by a snapshot that lacks it.
func TestNotYetListedIsNotClosed(t *testing.T) {
	st := New(Options{Diagnoser: fakeKB{}})
	probeConn := "10.0.0.9:50000 -> 10.0.0.1:5672"
	evs := script(st, snap(0),
		ProbeConnected{Meta: from(at(1), SourceProbe), Conn: probeConn, Client: "amqptop-probe@h"},
		snap(1.001), snap(6), Tick{Meta: at(10)})
	if n := len(ofType(evs, ConnClosed)); n != 0 || st.Conn(probeConn).Closed {
		t.Fatalf("a connection the API has not listed yet was closed: %+v", evs)
	}
	evs = script(st, append([]Observation{snap(20)}, ticks(21, 25)...)...)
	if len(ofType(evs, ConnClosed)) != 1 {
		t.Error("never listed within the grace: it is gone")
	}
}

func TestFlushPublishesPendingCloses(t *testing.T) {
	st := New(Options{Diagnoser: fakeKB{}})
	script(st, snap(0, conn(connA, "svc", 1)), snap(5))
	if evs := st.Flush(); len(ofType(evs, ConnClosed)) != 1 {
		t.Fatalf("flush = %+v", evs)
	}
	if evs := st.Flush(); len(evs) != 0 {
		t.Error("a second flush has nothing left")
	}
}

func TestMemoryIsBounded(t *testing.T) {
	st := New(Options{Diagnoser: fakeKB{}, History: 100, MaxClosed: 50, ClosedTTL: time.Hour})
	script(st, snap(0))
	for i := 0; i < 400; i++ {
		name := "10.0.0.5:" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + " -> 10.0.0.1:5672"
		script(st, logEntry(float64(i), "info", "closing AMQP connection <0.1.0> ("+name+", vhost: '/', user: 'u')"))
	}
	if st.EventCount() != 100 {
		t.Errorf("history = %d, want 100", st.EventCount())
	}
	if st.ConnCount() > 50 {
		t.Errorf("closed connections kept = %d, want ≤ 50", st.ConnCount())
	}
	// Counts are counts: every close, not the rows kept.
	if n := st.ClosedCount(); n != 400 {
		t.Errorf("closed count %d, want every one of the 400", n)
	}
	st2 := New(Options{Diagnoser: fakeKB{}, ClosedTTL: time.Minute})
	script(st2, snap(0), logEntry(1, "info", "closing AMQP connection <0.1.0> ("+connA+", vhost: '/', user: 'u')"), Tick{Meta: at(200)})
	if st2.ConnCount() != 0 || len(st2.closes) != 0 || len(st2.pids) != 0 {
		t.Errorf("after the TTL nothing is left: conns %d closes %d pids %d", st2.ConnCount(), len(st2.closes), len(st2.pids))
	}
	if n := st2.ClosedCount(); n != 1 {
		t.Errorf("closed count %d after the TTL, want 1", n)
	}
}

func TestEventJSON(t *testing.T) {
	e := Event{Seq: 7, ID: 5, Update: true, Time: at(1.5).Time, Type: ConnClosed, Severity: SevError, Source: SourceLog,
		Node: "rabbit@a", Conn: connA, Client: "svc", User: "u", Vhost: "/", Peer: "10.0.0.5:40001", Code: 320,
		Text: "CONNECTION_FORCED - x", Cause: &CauseRef{ID: "management-force-close", Title: "Closed by an operator"},
		Heartbeat: 60 * time.Second, Diagnosis: &Diagnosis{Confidence: ConfHigh}}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ts", "type", "source", "node", "conn", "client", "user", "vhost", "peer", "channel", "code", "text", "cause"} {
		if _, ok := m[k]; !ok {
			t.Errorf("field %q missing from %s", k, b)
		}
	}
	if m["ts"] != "2026-11-23T10:00:01.5Z" || m["heartbeat_s"] != 60.0 || m["confidence"] != "high" || m["update"] != true {
		t.Errorf("json = %s", b)
	}
	var back Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Conn != e.Conn || back.Cause.ID != e.Cause.ID || !back.Time.Equal(e.Time) || back.Heartbeat != e.Heartbeat || back.Severity != SevError {
		t.Errorf("round trip = %+v", back)
	}
	plain, _ := json.Marshal(Event{Time: t0, Type: NodeUp})
	if !strings.Contains(string(plain), `"cause":null`) || strings.Contains(string(plain), "heartbeat_s") {
		t.Errorf("core fields always present, type-specific ones not: %s", plain)
	}
}

// A channel the event exchange announces is not closed because the next
// listing lacks it: the API lists a channel only once its stats are in
// (the same grace as a connection's). One still unlisted after the grace
// is gone; a listed one is gone once two listings in a row lack it.
func TestChannelNotYetListedIsNotClosed(t *testing.T) {
	st := New(Options{Diagnoser: fakeKB{}})
	withChans := func(sec float64, chans ...Channel) MgmtSnapshot {
		x := snap(sec, conn(connA, "svc", uint64(sec)))
		x.Channels, x.ChannelsOK = chans, true
		return x
	}
	ch1 := Channel{Conn: connA, Number: 1, Node: "rabbit@a", User: "app", Vhost: "/", State: "running"}
	script(st, withChans(0, ch1))
	created := BrokerEvent{Meta: from(at(1), SourceEvents), Key: "channel.created", Headers: map[string]any{
		"name": connA + " (2)", "number": int64(2), "user": "app", "vhost": "/", "node": "rabbit@a"}}
	evs := script(st, created)
	if op := ofType(evs, ChanOpened); len(op) != 1 || op[0].Channel != 2 {
		t.Fatalf("opened = %+v", op)
	}
	evs = script(st, withChans(5, ch1), withChans(10, ch1))
	if cl := ofType(evs, ChanClosed); len(cl) != 0 {
		t.Errorf("a channel not listed yet is closed: %+v", cl)
	}
	if len(st.ChannelsOf(connA)) != 2 {
		t.Errorf("channels %d, want 2", len(st.ChannelsOf(connA)))
	}
	// Listed, then missing from one listing (a page boundary can skip an
	// item): kept; missing from two in a row: closed.
	ch2 := Channel{Conn: connA, Number: 2, Node: "rabbit@a", User: "app", Vhost: "/", State: "running"}
	evs = script(st, withChans(12, ch1, ch2), withChans(17, ch1), withChans(19, ch1, ch2), withChans(21, ch1))
	if cl := ofType(evs, ChanClosed); len(cl) != 0 {
		t.Errorf("closed after one listing without it: %+v", cl)
	}
	if op := ofType(evs, ChanOpened); len(op) != 0 {
		t.Errorf("opened again: %+v", op)
	}
	evs = script(st, withChans(23, ch1))
	if cl := ofType(evs, ChanClosed); len(cl) != 1 || cl[0].Channel != 2 {
		t.Errorf("closed = %+v, want channel 2 after two listings without it", cl)
	}
	// Announced and never listed past the grace: gone.
	created3 := created
	created3.Meta = from(at(20), SourceEvents)
	created3.Headers = map[string]any{"name": connA + " (3)", "number": int64(3), "user": "app", "vhost": "/", "node": "rabbit@a"}
	evs = script(st, created3, withChans(25, ch1), withChans(44, ch1))
	if cl := ofType(evs, ChanClosed); len(cl) != 1 || cl[0].Channel != 3 {
		t.Errorf("closed = %+v, want channel 3 after the grace", cl)
	}
}

package model_test

// Replays of what a node's stop, crash and vhost deletion look like to
// amqptop, with the real knowledge base. The broker's texts are the ones a
// private RabbitMQ 3.10.8 node (and 4.0.5 where it differs) logged and the
// ones amqp091-go 1.16.0 and pika 1.2.0 printed for those faults on
// 2026-12-03 (rabbitmqctl delete_vhost, stop_app, kill -9 of the node).

import (
	"fmt"
	"github.com/amqptop/amqptop/model/wire"
	"strings"
	"testing"
	"time"

	"github.com/amqptop/amqptop/causes"
	"github.com/amqptop/amqptop/model"
)

var lt0 = time.Date(2026, 12, 3, 16, 0, 0, 0, time.UTC)

const node = "rabbit@mq-1"

func lat(sec float64) time.Time { return lt0.Add(time.Duration(sec * float64(time.Second))) }

func lmeta(sec float64, src model.Source) model.Meta { return model.Meta{Time: lat(sec), Source: src} }

type replay struct {
	t   *testing.T
	st  *model.State
	evs []model.Event
}

func newReplay(t *testing.T) *replay {
	return &replay{t: t, st: model.New(model.Options{Diagnoser: causes.Default()})}
}

func (r *replay) apply(obs ...model.Observation) {
	for _, o := range obs {
		r.evs = append(r.evs, r.st.Apply(o)...)
	}
}

// until applies ticks up to sec.
func (r *replay) until(sec float64) {
	from := r.st.Now().Sub(lt0).Seconds()
	for s := from + 0.5; s <= sec; s += 0.5 {
		r.apply(model.Tick{Meta: lmeta(s, model.SourceManagement)})
	}
}

// closeOf returns the last published version of a connection's close.
func (r *replay) closeOf(conn string) *model.Event {
	var last *model.Event
	for i := range r.evs {
		if e := &r.evs[i]; e.Type == model.ConnClosed && e.Conn == conn {
			last = e
		}
	}
	return last
}

func (r *replay) want(conn, cause string, conf model.Confidence, at time.Time) *model.Event {
	r.t.Helper()
	e := r.closeOf(conn)
	if e == nil {
		r.t.Fatalf("%s: no close; events:\n%s", conn, r.dump())
	}
	got := ""
	if e.Cause != nil {
		got = e.Cause.ID
	}
	if got != cause || e.Diagnosis == nil || e.Diagnosis.Confidence != conf {
		r.t.Errorf("%s: %s (%v), want %s (%v); matched %v\n%s", conn, got, confOf(e), cause, conf, matchedOf(e), r.dump())
	}
	if !at.IsZero() && !e.Time.Equal(at) {
		r.t.Errorf("%s: closed at %s, want %s", conn, e.Time.Format("15:04:05.000"), at.Format("15:04:05.000"))
	}
	return e
}

func confOf(e *model.Event) model.Confidence {
	if e.Diagnosis == nil {
		return model.ConfNone
	}
	return e.Diagnosis.Confidence
}

func matchedOf(e *model.Event) []string {
	if e.Diagnosis == nil {
		return nil
	}
	return e.Diagnosis.Matched
}

func (r *replay) dump() string {
	var b strings.Builder
	for _, e := range r.evs {
		id := ""
		if e.Cause != nil {
			id = e.Cause.ID
		}
		b.WriteString("  " + e.Time.Format("15:04:05.000") + " " + string(e.Type) + " " + e.Conn + " " + id + " " + e.Text + "\n")
	}
	return b.String()
}

func lconn(name, client, vhost string) model.Connection {
	_, peer, _ := wire.SplitConnName(name)
	return model.Connection{Name: name, Client: client, User: "guest", Vhost: vhost, Peer: peer, Node: node,
		State: model.StateRunning, Heartbeat: 60 * time.Second}
}

func lsnap(sec float64, uptime time.Duration, conns ...model.Connection) model.MgmtSnapshot {
	return model.MgmtSnapshot{Meta: lmeta(sec, model.SourceManagement), Connections: conns, ConnectionsOK: true,
		Nodes: []model.Node{{Name: node, Running: true, Uptime: uptime}}, NodesOK: true}
}

func llog(sec float64, level, text string) model.LogEntry {
	return model.LogEntry{Meta: lmeta(sec, model.SourceLog), Node: node, Level: level, Text: text}
}

func lstatus(sec float64, of model.Source, h model.Health, detail string) model.SourceStatus {
	return model.SourceStatus{Meta: lmeta(sec, of), Of: of, Health: h, Detail: detail}
}

const (
	probeConn = "127.0.0.1:36876 -> 127.0.0.1:36672"
	rootConn  = "127.0.0.1:44200 -> 127.0.0.1:36672"
	v1Conn    = "127.0.0.1:44210 -> 127.0.0.1:36672"
)

// everythingUp: a listing, the probe and the three other sources up.
func everythingUp(r *replay, uptime time.Duration, conns ...model.Connection) {
	r.apply(lstatus(0, model.SourceManagement, model.HealthUp, "RabbitMQ 3.10.8, 1 node"),
		lstatus(0, model.SourceEvents, model.HealthUp, "subscribed to amq.rabbitmq.event"),
		lstatus(0, model.SourceLog, model.HealthUp, "subscribed to amq.rabbitmq.log"),
		model.ProbeConnected{Meta: lmeta(0, model.SourceProbe), Conn: probeConn, Client: "amqptop-probe@vm", Node: node, Heartbeat: 10 * time.Second},
		lstatus(0, model.SourceProbe, model.HealthUp, "connected"),
		lsnap(1, uptime, conns...))
}

// Deleting a vhost closes that vhost's connections, with their own reason;
// a client-side drop on another vhost a few seconds later is its own story,
// not a shutdown.
func TestVhostStoppingIsNotTheNodeStopping(t *testing.T) {
	r := newReplay(t)
	everythingUp(r, time.Hour, lconn(rootConn, "holdroot", "/"), lconn(v1Conn, "holdv1", "v1"))
	r.apply(
		llog(10, "info", "Closing all connections in vhost 'v1' because it's being deleted"),
		llog(10.001, "info", "Closing all connections in vhost 'v1' on node '"+node+"' because the vhost is stopping"),
		llog(10.002, "error", "Error on AMQP connection <0.1014.0> (127.0.0.1:44210 -> 127.0.0.1:36672 - holdv1, vhost: 'v1', user: 'guest', state: running), channel 0:\n operation none caused a connection exception connection_forced: \"vhost 'v1' is deleted\""),
		llog(10.003, "info", "closing AMQP connection <0.1014.0> (127.0.0.1:44210 -> 127.0.0.1:36672 - holdv1, vhost: 'v1', user: 'guest')"),
		llog(10.004, "info", "Closing connection <0.1014.0> because \"vhost 'v1' is deleted\""),
		llog(10.005, "info", "Closing connection <0.1014.0> because \"vhost 'v1' is down\""),
		llog(15, "warning", "closing AMQP connection <0.1001.0> (127.0.0.1:44200 -> 127.0.0.1:36672 - holdroot, vhost: '/', user: 'guest'):\nclient unexpectedly closed TCP connection"),
	)
	r.until(20)
	r.want(v1Conn, "management-force-close", model.ConfHigh, lat(10.002))
	e := r.want(rootConn, "network-interruption", model.ConfLow, lat(15))
	if strings.Contains(strings.Join(e.Diagnosis.Matched, " "), "context") {
		t.Errorf("a drop on vhost '/' read in the light of the vhost stop: %v", e.Diagnosis.Matched)
	}
	for _, ev := range r.evs {
		if ev.Type == model.NodeDown || ev.Type == model.NodeRestarted {
			t.Errorf("a vhost deletion was taken for the node: %s", ev.Text)
		}
	}
}

// A node a minute old is not restarting: a client that drops then has
// its own cause.
func TestAYoungNodeIsNotARestart(t *testing.T) {
	r := newReplay(t)
	everythingUp(r, 40*time.Second, lconn(rootConn, "holdroot", "/"))
	r.apply(llog(20, "warning", "closing AMQP connection <0.1001.0> (127.0.0.1:44200 -> 127.0.0.1:36672 - holdroot, vhost: '/', user: 'guest'):\nclient unexpectedly closed TCP connection"))
	r.until(25)
	r.want(rootConn, "network-interruption", model.ConfLow, lat(20))
}

// stop_app as 3.10.8 logged it. A connection amqptop knew only from the
// event exchange (never listed) closes with the stop, at the stop; one
// that has its own reason in the log keeps it; the probe's 320 is the
// broker's word.
func TestStopClosesEveryConnectionOnTheNode(t *testing.T) {
	r := newReplay(t)
	everythingUp(r, time.Hour, lconn(rootConn, "holdroot", "/"))
	const pushed = "127.0.0.1:44300 -> 127.0.0.1:36672"
	const beat = "127.0.0.1:44400 -> 127.0.0.1:36672"
	r.apply(
		model.BrokerEvent{Meta: lmeta(5, model.SourceEvents), Key: "connection.created", Headers: map[string]any{
			"name": pushed, "pid": "<" + node + ".1.2200.0>", "node": node, "user": "guest", "vhost": "/", "user_provided_name": "short-lived"}},
		model.BrokerEvent{Meta: lmeta(5, model.SourceEvents), Key: "connection.created", Headers: map[string]any{
			"name": beat, "pid": "<" + node + ".1.2300.0>", "node": node, "user": "guest", "vhost": "/", "user_provided_name": "sleepy", "timeout": int64(2)}},
		llog(10, "info", "RabbitMQ is asked to stop..."),
		llog(10.001, "info", "Stopping RabbitMQ applications and their dependencies in the following order:\n    rabbitmq_management"),
		llog(10.2, "error", "closing AMQP connection <0.2300.0> (127.0.0.1:44400 -> 127.0.0.1:36672 - sleepy):\nmissed heartbeats from client, timeout: 2s"),
		model.ProbeClosed{Meta: lmeta(10.3, model.SourceProbe), Conn: probeConn, Code: 320, ByServer: true,
			Text:  "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'",
			Error: `Exception (320) Reason: "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'"`},
		lstatus(10.3, model.SourceLog, model.HealthDown, `Exception (320) Reason: "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'"`),
		lstatus(10.3, model.SourceEvents, model.HealthDown, `Exception (320) Reason: "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'"`),
	)
	r.until(15)
	r.want(pushed, "broker-shutdown", model.ConfMedium, lat(10))
	r.want(rootConn, "broker-shutdown", model.ConfMedium, lat(10))
	r.want(beat, "heartbeat-timeout", model.ConfHigh, lat(10.2))
	r.want(probeConn, "broker-shutdown", model.ConfHigh, lat(10.3))
	// start_app: the node is back with its old uptime (the Erlang VM kept
	// running); a client that then drops, a minute later, has its own cause.
	r.apply(lstatus(25, model.SourceLog, model.HealthUp, "subscribed to amq.rabbitmq.log"),
		llog(25.5, "info", "Server startup complete; 4 plugins started."),
		lsnap(26, time.Hour+26*time.Second),
		model.BrokerEvent{Meta: lmeta(30, model.SourceEvents), Key: "connection.created", Headers: map[string]any{
			"name": "127.0.0.1:44500 -> 127.0.0.1:36672", "pid": "<" + node + ".1.2500.0>", "node": node, "user": "guest", "vhost": "/", "user_provided_name": "after"}},
		llog(60, "warning", "closing AMQP connection <0.2500.0> (127.0.0.1:44500 -> 127.0.0.1:36672 - after, vhost: '/', user: 'guest'):\nclient unexpectedly closed TCP connection"))
	r.until(65)
	r.want("127.0.0.1:44500 -> 127.0.0.1:36672", "network-interruption", model.ConfLow, lat(60))
	if n := countType(r.evs, model.NodeDown); n != 1 {
		t.Errorf("%d node.down events for one stop:\n%s", n, r.dump())
	}
	if n := countType(r.evs, model.NodeUp); n != 1 {
		t.Errorf("%d node.up events:\n%s", n, r.dump())
	}
}

func countType(evs []model.Event, t model.EventType) int {
	n := 0
	for _, e := range evs {
		if e.Type == t {
			n++
		}
	}
	return n
}

// kill -9 of the node, as amqptop's own sources saw it on 3.10.8 (every
// socket reset within a millisecond, the management API refused a poll
// later), and a start 14 s later: the node crashed, and the connections
// on it were lost when it went, not when amqptop next polled.
func TestCrashIsNotARestart(t *testing.T) {
	r := newReplay(t)
	everythingUp(r, time.Hour, lconn(rootConn, "victim1", "/"))
	crash(r, 100)
	// Not known yet: a crash and a cut of amqptop's own path look alike.
	r.until(105)
	if e := r.closeOf(probeConn); e == nil || e.Cause == nil || e.Cause.ID != "node-down" || confOf(e) != model.ConfLow {
		t.Errorf("the probe's reset while the node is lost: %+v\n%s", e, r.dump())
	}
	r.apply(lstatus(130, model.SourceLog, model.HealthUp, "subscribed to amq.rabbitmq.log"),
		lstatus(130.5, model.SourceEvents, model.HealthUp, "subscribed to amq.rabbitmq.event"),
		lstatus(131, model.SourceManagement, model.HealthUp, "RabbitMQ 3.10.8, 1 node"),
		lsnap(131, 16*time.Second))
	r.until(135)
	r.want(rootConn, "node-down", model.ConfMedium, lat(100))
	r.want(probeConn, "node-down", model.ConfMedium, lat(100))
	found := false
	for _, e := range r.evs {
		if e.Type == model.NodeRestarted && strings.Contains(e.Text, "crashed") {
			found = true
		}
	}
	if !found {
		t.Errorf("no node.restarted saying it crashed:\n%s", r.dump())
	}
}

func crash(r *replay, sec float64) {
	reset := func(port int) string {
		return `Exception (501) Reason: "read tcp 127.0.0.1:` + itoa(port) + `->127.0.0.1:36672: read: connection reset by peer"`
	}
	r.apply(
		lstatus(sec, model.SourceLog, model.HealthDown, reset(36880)),
		lstatus(sec, model.SourceEvents, model.HealthDown, reset(36884)),
		model.ProbeClosed{Meta: lmeta(sec, model.SourceProbe), Conn: probeConn, Error: reset(36876)},
		lstatus(sec, model.SourceProbe, model.HealthDown, reset(36876)),
		lstatus(sec+1.4, model.SourceManagement, model.HealthDown, "GET /api/overview: connection refused by 127.0.0.1:46672"),
	)
}

func itoa(n int) string {
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

// The same cut, but the node answers with the uptime it had: amqptop's
// path was cut, the node and its connections were fine.
func TestACutOfAmqptopsPathIsNotACrash(t *testing.T) {
	r := newReplay(t)
	everythingUp(r, time.Hour, lconn(rootConn, "victim1", "/"))
	crash(r, 100)
	r.apply(lstatus(130, model.SourceLog, model.HealthUp, "subscribed to amq.rabbitmq.log"),
		lstatus(131, model.SourceManagement, model.HealthUp, "RabbitMQ 3.10.8, 1 node"),
		lsnap(131, time.Hour+131*time.Second, lconn(rootConn, "victim1", "/")))
	r.until(135)
	if e := r.closeOf(rootConn); e != nil {
		t.Errorf("a connection the node still lists was closed: %+v", e)
	}
	e := r.want(probeConn, "network-interruption", model.ConfLow, lat(100))
	_ = e
	if countType(r.evs, model.NodeRestarted) != 0 {
		t.Errorf("a cut taken for a restart:\n%s", r.dump())
	}
}

// BenchmarkMassDisconnect10k: 10,000 connections vanish from one listing
// and each close is diagnosed with the real knowledge base after the
// settle time (the cost of a mass disconnect, diagnosis included); each
// had two channels.
func BenchmarkMassDisconnect10k(b *testing.B) {
	conns := make([]model.Connection, 10000)
	for i := range conns {
		conns[i] = lconn(fmt.Sprintf("10.0.%d.%d:%d -> 10.0.0.1:5672", i/250, i%250, 40000+i), fmt.Sprintf("app-%d", i%40), "/")
	}
	var chans []model.Channel
	for _, c := range conns {
		for n := 1; n <= 2; n++ {
			chans = append(chans, model.Channel{Conn: c.Name, Number: n, Node: node, User: c.User, Vhost: c.Vhost, State: "running"})
		}
	}
	kb := causes.Default()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		st := model.New(model.Options{Diagnoser: kb, MaxClosed: 20000})
		full := lsnap(1, time.Hour, conns...)
		full.Channels, full.ChannelsOK = chans, true
		st.Apply(full)
		b.StartTimer()
		empty := lsnap(6, time.Hour+5*time.Second)
		empty.ChannelsOK = true
		st.Apply(empty)
		st.Apply(model.Tick{Meta: lmeta(9, model.SourceManagement)})
	}
}

// A TCP connect that never sent the AMQP header (a port check, a load
// balancer's probe: testbroker's own readiness check here) makes the
// event exchange emit connection.closed with no client properties, for a
// connection nothing ever saw open. It is not a client's close.
func TestAPortCheckIsNotAClose(t *testing.T) {
	r := newReplay(t)
	everythingUp(r, time.Hour)
	r.apply(model.BrokerEvent{Meta: lmeta(10, model.SourceEvents), Key: "connection.closed", Headers: map[string]any{
		"name": "127.0.0.1:45796 -> 127.0.0.1:41977", "pid": "<" + node + ".1.3000.0>", "node": node}})
	r.until(15)
	if e := r.closeOf("127.0.0.1:45796 -> 127.0.0.1:41977"); e != nil {
		t.Errorf("a port check reported as a close: %+v", e)
	}
}

// The management API lags a stop: right after "RabbitMQ is asked to
// stop..." it may still list the node as running. That is not the node
// back: its connections still close with the stop.
func TestALaggingListingDoesNotEndAStop(t *testing.T) {
	r := newReplay(t)
	everythingUp(r, time.Hour, lconn(rootConn, "victim", "/"))
	r.apply(llog(10, "info", "RabbitMQ is asked to stop..."),
		lsnap(10.05, time.Hour+10*time.Second, lconn(rootConn, "victim", "/")))
	r.until(14)
	r.want(rootConn, "broker-shutdown", model.ConfMedium, lat(10))
	if n := countType(r.evs, model.NodeUp); n != 0 {
		t.Errorf("a lagging listing ended the stop:\n%s", r.dump())
	}
}

// While every source is lost, what the state shows is stale, as of the
// last news; it is current again as soon as one answers.
func TestStaleWhileEverySourceIsLost(t *testing.T) {
	r := newReplay(t)
	everythingUp(r, time.Hour, lconn(rootConn, "victim1", "/"))
	if _, stale := r.st.Stale(); stale {
		t.Fatal("stale while every source is up")
	}
	crash(r, 100)
	since, stale := r.st.Stale()
	if !stale || !since.Equal(lat(101.4)) {
		t.Errorf("stale %v since %v, want since the management API was lost at %v", stale, since, lat(101.4))
	}
	r.apply(lstatus(130, model.SourceLog, model.HealthUp, "subscribed to amq.rabbitmq.log"))
	if _, stale := r.st.Stale(); stale {
		t.Error("still stale with the log stream back")
	}
}

package demo

import (
	"strings"
	"time"

	"github.com/amqptop/amqptop/model"
)

// scenarios is the catalogue, in tour order.
var scenarios = []Scenario{
	{Name: "heartbeat-timeout", Title: "a pika consumer blocks in its callback and misses heartbeats", span: 20 * time.Second,
		play: func(w *World) {
			// Alternate a 5 s pika consumer (closed before any warning) and a
			// 30 s kombu worker (silent long enough to be flagged at risk first).
			w.hbRuns++
			if w.hbRuns%2 == 1 {
				w.missHeartbeats("thumbnailer")
			} else {
				w.missHeartbeats("pdf-renderer")
			}
		}},
	{Name: "network-interruption", Title: "a client's TCP connection drops without a close", span: 15 * time.Second,
		play: func(w *World) { w.dropTCP("email-sender") }},
	{Name: "unexpected-frame", Title: "two threads publish on one channel", span: 15 * time.Second,
		play: func(w *World) { w.unexpectedFrame("report-generator") }},
	{Name: "channel-not-open", Title: "a client publishes on a channel it never opened", span: 15 * time.Second,
		play: func(w *World) { w.channelNotOpen("notification-hub") }},
	{Name: "access-refused", Title: "a new deployment starts with a stale password", span: 35 * time.Second,
		play: func(w *World) { w.refuseLogins("invoice-exporter", 4) }},
	{Name: "management-force-close", Title: "an operator closes a connection in the management UI", span: 15 * time.Second,
		play: func(w *World) { w.forceClose("legacy-crm") }},
	{Name: "memory-alarm", Title: "a node crosses its memory watermark; publishers are blocked, then released", span: 50 * time.Second,
		play: func(w *World) { w.memoryAlarm(40 * time.Second) }},
	{Name: "consumer-ack-timeout", Title: "a consumer sits on a delivery past consumer_timeout", span: 20 * time.Second,
		play: func(w *World) { w.ackTimeout("fraud-scorer") }},
	{Name: "reconnect-flapping", Title: "a deploy redeclares a queue with other arguments, crashes, restarts, again", span: 45 * time.Second,
		play: func(w *World) { w.flap("inventory-sync", 4) }},
	{Name: "broker-restart", Title: "a node restarts: every connection on it closed with 320, then reconnects", span: 70 * time.Second,
		play: func(w *World) { w.restartNode(0, 22*time.Second) }},
	{Name: "not-found", Title: "a consumer subscribes to a queue nobody declared", span: 15 * time.Second,
		play: func(w *World) { w.notFound("metrics-exporter") }},
}

// tour lists when each scenario starts within one loop of the tour.
var tour = []struct {
	name string
	at   time.Duration
}{
	{"heartbeat-timeout", 0}, {"network-interruption", 25 * time.Second}, {"unexpected-frame", 55 * time.Second},
	{"channel-not-open", 85 * time.Second}, {"access-refused", 115 * time.Second},
	{"management-force-close", 155 * time.Second}, {"memory-alarm", 185 * time.Second},
	{"consumer-ack-timeout", 240 * time.Second}, {"reconnect-flapping", 270 * time.Second},
	{"broker-restart", 320 * time.Second}, {"heartbeat-timeout", 400 * time.Second}, {"not-found", 470 * time.Second},
}

// TourLength is how long one loop of the tour takes in simulated time.
const TourLength = 10 * time.Minute

// Scenarios lists the scenarios the demo can play.
func Scenarios() []Scenario { return append([]Scenario(nil), scenarios...) }

// ScenarioNames lists the names, comma separated, "tour" first.
func ScenarioNames() string {
	names := []string{"tour"}
	for _, s := range scenarios {
		names = append(names, s.Name)
	}
	return strings.Join(names, ", ")
}

func scenarioByName(name string) *Scenario {
	for i := range scenarios {
		if scenarios[i].Name == name {
			return &scenarios[i]
		}
	}
	return nil
}

// schedule plans the chosen scenario(s), looping for ever.
func (w *World) schedule() {
	if w.opt.Scenario == "tour" {
		var loop func(base time.Time)
		loop = func(base time.Time) {
			for _, t := range tour {
				sc := scenarioByName(t.name)
				w.at(base.Add(t.at), func() { sc.play(w) })
			}
			w.at(base.Add(TourLength), func() { loop(w.now) })
		}
		loop(w.start)
		return
	}
	sc := scenarioByName(w.opt.Scenario)
	period := sc.span + 20*time.Second
	if period < time.Minute {
		period = time.Minute
	}
	w.every(2*time.Second, period, func() { sc.play(w) })
}

// missHeartbeats: the client stops sending anything; the broker closes
// the connection after one to two heartbeat timeouts; the client reconnects.
func (w *World) missHeartbeats(name string) {
	c := w.find(name)
	if c == nil {
		return
	}
	c.silent = true
	hb := c.app.heartbeat
	w.after(hb*16/10, func() {
		w.logf(c.node, "error", c.pid, "closing AMQP connection %s (%s):\nmissed heartbeats from client, timeout: %ds",
			c.pid, c.logName(), int(hb/time.Second))
		w.gone(c, 3*time.Second)
	})
}

// gone announces a closed connection on the event exchange, removes it,
// and has its application connect again after back.
func (w *World) gone(c *simConn, back time.Duration) {
	w.after(15*time.Millisecond, func() { w.closedEvent(c) })
	w.drop(c)
	if back > 0 {
		w.after(w.jitter(back, 0.3), func() { w.connect(c.app, c.node) })
	}
}

func (w *World) dropTCP(name string) {
	c := w.find(name)
	if c == nil {
		return
	}
	w.logf(c.node, "warning", c.pid, "closing AMQP connection %s (%s, vhost: '%s', user: '%s'):\nclient unexpectedly closed TCP connection",
		c.pid, c.logName(), c.app.vhost, c.app.user)
	w.gone(c, 4*time.Second)
}

func (w *World) hardError(c *simConn, channel int, op, constant, text string) {
	w.logf(c.node, "error", c.pid, "Error on AMQP connection %s (%s, vhost: '%s', user: '%s', state: running), channel %d:\n operation %s caused a connection exception %s: %q",
		c.pid, c.logName(), c.app.vhost, c.app.user, channel, op, constant, text)
}

func (w *World) unexpectedFrame(name string) {
	c := w.find(name)
	if c == nil {
		return
	}
	w.hardError(c, 1, "basic.publish", "unexpected_frame", "expected content header for class 60, got non content header frame instead")
	w.gone(c, 5*time.Second)
}

func (w *World) channelNotOpen(name string) {
	c := w.find(name)
	if c == nil {
		return
	}
	w.hardError(c, 2, "basic.publish", "channel_error", "expected 'channel.open'")
	w.gone(c, 3*time.Second)
}

// refuseLogins: a client with a stale password tries n times with backoff.
func (w *World) refuseLogins(name string, n int) {
	a := w.appNamed(name)
	node := w.nodes[len(w.nodes)-1]
	delay := time.Duration(0)
	for i := 0; i < n; i++ {
		w.after(delay, func() { w.refusedLogin(a, node) })
		delay += time.Duration(3<<i) * time.Second
	}
}

func (w *World) refusedLogin(a *app, n *simNode) {
	if !n.up {
		return
	}
	c := w.newConn(a, n, w.now)
	w.drop(c) // it never gets listed
	host, port, _ := strings.Cut(c.peer, ":")
	w.logf(n, "info", c.pid, "accepting AMQP connection %s (%s)", c.pid, c.name)
	reason := "user '" + a.user + "' - invalid credentials"
	w.after(8*time.Millisecond, func() {
		w.event(n, "user.authentication.failure", map[string]any{"name": a.user, "error": charlist(reason),
			"connection_name": c.name, "peer_host": "{" + strings.ReplaceAll(host, ".", ",") + "}", "peer_port": int64(atoi(port)),
			"auth_mechanism": "PLAIN", "protocol": "{0,9,1}", "connection_type": "network", "ssl": false})
		w.logf(n, "error", c.pid, "Error on AMQP connection %s (%s, state: starting):\nPLAIN login refused: %s", c.pid, c.name, reason)
	})
	w.after(3*time.Second, func() { w.logf(n, "info", c.pid, "closing AMQP connection %s (%s)", c.pid, c.name) })
}

func (w *World) forceClose(name string) {
	c := w.find(name)
	if c == nil {
		return
	}
	// As 3.10 logs it: the connection's error, the management process's
	// note, then the usual closing line.
	w.logf(c.node, "error", c.pid, "Error on AMQP connection %s (%s, vhost: '%s', user: '%s', state: running), channel 0:\n operation none caused a connection exception connection_forced: %q",
		c.pid, c.logName(), c.app.vhost, c.app.user, "Closed via management plugin")
	w.gone(c, 6*time.Second)
	w.logf(c.node, "info", "<0.1207.0>", "Closing connection %s because %q", c.pid, "Closed via management plugin")
	w.logf(c.node, "info", c.pid, "closing AMQP connection %s (%s, vhost: '%s', user: '%s')", c.pid, c.logName(), c.app.vhost, c.app.user)
}

// memoryAlarm raises a memory alarm on the probe's node for d: every
// publishing connection in the cluster is blocked, the probe too.
func (w *World) memoryAlarm(d time.Duration) {
	n := w.probe.node
	if !n.up {
		return
	}
	n.memUsed = n.memLimit + 212_371_456
	n.memAlarm, w.alarm = true, true
	pid := "<0.391.0>"
	w.logf(n, "info", pid, "vm_memory_high_watermark set. Memory used:%d allowed:%d", n.memUsed, n.memLimit)
	w.logf(n, "warning", pid, "memory resource limit alarm set on node %s.\n\n**********************************************************\n*** Publishers will be blocked until this alarm clears ***\n**********************************************************", n.name)
	w.event(n, "alarm.set", map[string]any{"source": "memory", "node": n.name})
	w.setPublishers(model.StateBlocking)
	w.after(300*time.Millisecond, func() {
		if w.probe.up {
			w.probe.blocked = true
			w.emit(model.ProbeBlocked{Meta: w.meta(model.SourceProbe), Active: true, Reason: "low on memory"})
		}
	})
	w.after(3*time.Second, func() { w.setPublishers(model.StateBlocked) })
	w.after(d, func() {
		n.memUsed = n.memLimit * 55 / 100
		n.memAlarm, w.alarm = false, false
		w.logf(n, "info", pid, "vm_memory_high_watermark clear. Memory used:%d allowed:%d", n.memUsed, n.memLimit)
		w.logf(n, "warning", pid, "memory resource limit alarm cleared on node %s", n.name)
		w.event(n, "alarm.cleared", map[string]any{"source": "memory", "node": n.name})
		w.setPublishers(model.StateRunning)
		if w.probe.blocked {
			w.probe.blocked = false
			w.emit(model.ProbeBlocked{Meta: w.meta(model.SourceProbe), Active: false})
		}
	})
}

func (w *World) setPublishers(s model.ConnState) {
	for _, c := range w.conns {
		for _, ch := range c.chans {
			if ch.publish > 0 {
				c.state = s
				break
			}
		}
	}
}

func (w *World) ackTimeout(name string) {
	c := w.find(name)
	if c == nil || len(c.chans) == 0 {
		return
	}
	ch := &c.chans[0]
	ch.unacked = ch.prefetch
	w.after(10*time.Second, func() {
		w.logf(c.node, "error", chanPID(c, 1), "Channel error on connection %s (%s, vhost: '%s', user: '%s'), channel 1:\noperation none caused a channel exception precondition_failed: delivery acknowledgement on channel 1 timed out. Timeout value used: 1800000 ms. This timeout value can be configured, see consumers doc guide to learn more",
			c.pid, c.name, c.app.vhost, c.app.user)
		w.event(c.node, "channel.closed", map[string]any{"pid": w.erlPID(c.node, chanPID(c, 1))})
		saved := *ch
		c.chans = c.chans[1:]
		w.after(8*time.Second, func() {
			saved.unacked = 0
			c.chans = append([]simChan{saved}, c.chans...)
			w.event(c.node, "channel.created", map[string]any{"name": c.name + " (1)", "number": int64(1), "user": c.app.user,
				"vhost": c.app.vhost, "pid": w.erlPID(c.node, chanPID(c, 1)), "connection": w.erlPID(c.node, c.pid)})
		})
	})
}

// flap: each new connection fails to redeclare a queue, the process
// crashes, and its supervisor starts it again.
func (w *World) flap(name string, times int) {
	c := w.find(name)
	if c == nil {
		return
	}
	var cycle func(c *simConn, left int)
	cycle = func(c *simConn, left int) {
		w.logf(c.node, "error", chanPID(c, 1), "Channel error on connection %s (%s, vhost: '%s', user: '%s'), channel 1:\noperation queue.declare caused a channel exception precondition_failed: inequivalent arg 'x-queue-type' for queue 'inventory.updates' in vhost '/': received the value 'quorum' of type 'longstr' but current is the value 'classic' of type 'longstr'",
			c.pid, c.name, c.app.vhost, c.app.user)
		w.after(600*time.Millisecond, func() {
			w.logf(c.node, "warning", c.pid, "closing AMQP connection %s (%s, vhost: '%s', user: '%s'):\nclient unexpectedly closed TCP connection",
				c.pid, c.logName(), c.app.vhost, c.app.user)
			w.after(15*time.Millisecond, func() { w.closedEvent(c) })
			w.drop(c)
			w.after(w.jitter(time.Duration(3+times-left)*time.Second, 0.2), func() {
				nc := w.connect(c.app, c.node)
				if left > 1 {
					w.after(1500*time.Millisecond, func() { cycle(nc, left-1) })
				}
			})
		})
	}
	cycle(c, times)
}

// restartNode stops node i for down and starts it again. The node's
// management API and its event and log exchanges go down with it; the
// probe (on node 0) gets the broker's 320 and reconnects with backoff.
func (w *World) restartNode(i int, down time.Duration) {
	n := w.nodes[i]
	if !n.up {
		return
	}
	if w.probe.node == n {
		w.probeClosed(320, "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'")
	}
	w.pushUp = false
	n.up = false
	var victims []*simConn
	for _, c := range w.conns {
		if c.node == n {
			victims = append(victims, c)
		}
	}
	for _, c := range victims {
		w.drop(c)
	}
	refused := "dial tcp " + n.addr + ":%d: connect: connection refused"
	w.after(40*time.Millisecond, func() {
		if w.mgmtAt == i {
			w.mgmtUp = false
			w.sourceStatus(model.SourceManagement, model.HealthDown, "GET /api/overview: "+strings.Replace(refused, "%d", "15672", 1))
		}
		w.sourceStatus(model.SourceEvents, model.HealthDown, "Exception (320) Reason: \"CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'\"")
		w.sourceStatus(model.SourceLog, model.HealthDown, "Exception (320) Reason: \"CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'\"")
	})
	w.after(down, func() {
		n.up, n.startedAt = true, w.now
		w.after(2*time.Second, func() {
			if !w.mgmtUp {
				w.mgmtUp = true
				w.sourceStatus(model.SourceManagement, model.HealthUp, "reconnected")
			}
			w.pushUp = true
			w.sourceStatus(model.SourceEvents, model.HealthUp, "reconnected")
			w.sourceStatus(model.SourceLog, model.HealthUp, "reconnected")
		})
		for _, c := range victims {
			c := c
			w.after(time.Duration(1500+w.rng.IntN(9000))*time.Millisecond, func() {
				if c.app != w.probe.app {
					w.connect(c.app, n)
				}
			})
		}
	})
}

func (w *World) sourceStatus(s model.Source, h model.Health, detail string) {
	w.emit(model.SourceStatus{Meta: w.meta(s), Of: s, Health: h, Detail: detail})
}

func (w *World) notFound(name string) {
	c := w.find(name)
	if c == nil || len(c.chans) == 0 {
		return
	}
	w.logf(c.node, "error", chanPID(c, 1), "Channel error on connection %s (%s, vhost: '%s', user: '%s'), channel 1:\noperation basic.consume caused a channel exception not_found: no queue 'metrics.rollup' in vhost '%s'",
		c.pid, c.name, c.app.vhost, c.app.user, c.app.vhost)
	w.event(c.node, "channel.closed", map[string]any{"pid": w.erlPID(c.node, chanPID(c, 1))})
	c.chans = c.chans[1:]
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			break
		}
		n = n*10 + int(r-'0')
	}
	return n
}

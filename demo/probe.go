package demo

import (
	"fmt"
	"math"
	"time"

	"github.com/amqptop/amqptop/model"
)

// probeSim is amqptop's own probe, as the demo plays it.
type probeSim struct {
	node    *simNode
	conn    *simConn
	app     *app
	up      bool
	blocked bool
	attempt int
}

const probeClient = "amqptop-probe@ops-bastion"

func (w *World) startProbe() {
	w.probe = probeSim{node: w.nodes[0], app: &app{name: probeClient, lib: "go", user: "amqptop", vhost: "/",
		heartbeat: 10 * time.Second, publish: 1, deliver: 1, size: 64, channels: 1, prefetch: 10, confirm: true, peerNet: "10.0.2"}}
	w.at(w.start, func() {
		for _, s := range []model.Source{model.SourceManagement, model.SourceEvents, model.SourceLog} {
			w.emit(model.SourceStatus{Meta: w.meta(s), Of: s, Health: model.HealthUp, Detail: "demo"})
		}
		w.probeConnect()
	})
	w.every(500*time.Millisecond, time.Second, w.probeSample)
	w.every(2500*time.Millisecond, 5*time.Second, w.probeHeartbeats)
}

// probeConnect opens the probe's connection, or fails and schedules the
// next attempt with capped exponential backoff and jitter.
func (w *World) probeConnect() {
	p := &w.probe
	if !p.node.up {
		p.attempt++
		delay := time.Duration(math.Min(30, math.Pow(2, float64(p.attempt-1)))) * time.Second
		delay = w.jitter(delay, 0.2)
		w.emit(model.ProbeReconnecting{Meta: w.meta(model.SourceProbe), Attempt: p.attempt, Delay: delay,
			Error: fmt.Sprintf("dial tcp %s:5672: connect: connection refused", p.node.addr)})
		w.after(delay, w.probeConnect)
		return
	}
	p.conn = w.connect(p.app, p.node)
	p.up = true
	w.emit(model.ProbeConnected{Meta: w.meta(model.SourceProbe), Conn: p.conn.name, Client: probeClient, User: "amqptop", Vhost: "/",
		Node: p.node.name, Heartbeat: 10 * time.Second, ChannelMax: 2047, FrameMax: 131072, Server: "RabbitMQ 3.13.7",
		Attempt: p.attempt})
	p.attempt = 0
}

// probeSample is one publish/consume round trip of the probe.
func (w *World) probeSample() {
	p := &w.probe
	if !p.up {
		return
	}
	if p.blocked {
		w.emit(model.ProbeLatency{Meta: w.meta(model.SourceProbe), Lost: true})
		return
	}
	rt := time.Duration(900+w.rng.IntN(700)) * time.Microsecond
	if w.rng.IntN(40) == 0 {
		rt += time.Duration(w.rng.IntN(12)) * time.Millisecond // an occasional GC or scheduling hiccup
	}
	confirm := rt*6/10 + time.Duration(w.rng.IntN(200))*time.Microsecond
	w.emit(model.ProbeLatency{Meta: w.meta(model.SourceProbe), RoundTrip: rt, Confirm: confirm})
}

// probeHeartbeats: amqp091-go sends heartbeat frames only when it has sent
// nothing else for an interval, and so does the broker; while the probe
// publishes every second neither side needs one. They flow while the probe
// is blocked and cannot publish.
func (w *World) probeHeartbeats() {
	p := &w.probe
	if !p.up || !p.blocked {
		return
	}
	w.emit(model.ProbeHeartbeat{Meta: w.meta(model.SourceProbe), Sent: true})
	w.after(40*time.Millisecond, func() {
		if p.up {
			w.emit(model.ProbeHeartbeat{Meta: w.meta(model.SourceProbe), Sent: false})
		}
	})
}

// probeLost closes the probe's connection with a close frame from the broker.
func (w *World) probeClosed(code int, text string) {
	p := &w.probe
	if !p.up {
		return
	}
	w.emit(model.ProbeClosed{Meta: w.meta(model.SourceProbe), Conn: p.conn.name, Code: code, Text: text, ByServer: true,
		Error: fmt.Sprintf("Exception (%d) Reason: %q", code, text)})
	w.drop(p.conn)
	p.up, p.blocked = false, false
	w.after(w.jitter(time.Second, 0.2), w.probeConnect)
}

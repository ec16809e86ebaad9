package demo

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/amqptop/amqptop/model"
)

// populate opens every instance of every app, spread over the nodes; they
// connected at various times before the demo began.
func (w *World) populate() {
	for _, a := range w.apps {
		for i := 0; i < a.instances; i++ {
			age := time.Duration(w.rng.IntN(72*3600)+600) * time.Second
			c := w.newConn(a, w.nodes[w.rng.IntN(len(w.nodes))], w.start.Add(-age))
			c.recv = uint64(float64(age/time.Second) * (a.publish*float64(a.size) + 40))
			c.send = uint64(float64(age/time.Second) * (a.deliver*float64(a.size) + 40))
			c.lastRecv, c.lastSend = c.recv, c.send
		}
	}
}

// newConn creates a connection of app on node (it is listed from now on).
func (w *World) newConn(a *app, n *simNode, at time.Time) *simConn {
	w.ports++
	host := fmt.Sprintf("%s.%d", a.peerNet, 20+w.rng.IntN(60))
	c := &simConn{app: a, node: n, connectedAt: at, state: model.StateRunning,
		peer: fmt.Sprintf("%s:%d", host, 32768+w.ports%28000)}
	c.name = c.peer + " -> " + n.addr + ":5672"
	n.nextPID += 1 + w.rng.IntN(40)
	c.pid = fmt.Sprintf("<0.%d.0>", n.nextPID)
	for i := 1; i <= a.channels; i++ {
		ch := simChan{num: i, prefetch: a.prefetch, confirm: a.confirm}
		if i == 1 {
			ch.publish = a.publish
			ch.deliver = a.deliver
			if a.deliver > 0 {
				ch.consumers = 1
			}
		}
		c.chans = append(c.chans, ch)
	}
	w.conns = append(w.conns, c)
	return c
}

// logName is the connection's name as the broker's log prints it.
func (c *simConn) logName() string {
	if c.app.name == "" {
		return c.name
	}
	return c.name + " - " + c.app.name
}

// connect opens a new connection of app now, announcing it on the event
// exchange and the log like the broker does.
func (w *World) connect(a *app, n *simNode) *simConn {
	c := w.newConn(a, n, w.now)
	w.logf(n, "info", c.pid, "accepting AMQP connection %s (%s)", c.pid, c.name)
	w.logf(n, "info", c.pid, "connection %s (%s): user '%s' authenticated and granted access to vhost '%s'", c.pid, c.logName(), a.user, a.vhost)
	w.event(n, "connection.created", w.createdHeaders(c))
	for _, ch := range c.chans {
		w.event(n, "channel.created", map[string]any{
			"name": fmt.Sprintf("%s (%d)", c.name, ch.num), "number": int64(ch.num), "user": a.user, "vhost": a.vhost,
			"pid": w.erlPID(n, chanPID(c, ch.num)), "connection": w.erlPID(n, c.pid)})
	}
	return c
}

func chanPID(c *simConn, n int) string {
	var a, b int
	fmt.Sscanf(c.pid, "<0.%d.%d>", &a, &b)
	return fmt.Sprintf("<0.%d.0>", a+n)
}

// drop removes a connection from the cluster (no texts: callers emit those).
func (w *World) drop(c *simConn) {
	for i, x := range w.conns {
		if x == c {
			w.conns = append(w.conns[:i], w.conns[i+1:]...)
			return
		}
	}
}

// closed announces a connection's disappearance on the event exchange.
func (w *World) closedEvent(c *simConn) {
	h := map[string]any{"name": c.name, "pid": w.erlPID(c.node, c.pid), "node": c.node.name,
		"client_properties": clientProps(c)}
	if c.app.name != "" {
		h["user_provided_name"] = c.app.name
	}
	w.event(c.node, "connection.closed", h)
}

// find returns the first open connection of the named app on an up node.
func (w *World) find(name string) *simConn {
	for _, c := range w.conns {
		if c.app.name == name && c.node.up {
			return c
		}
	}
	return nil
}

func (w *World) appNamed(name string) *app {
	for _, a := range w.apps {
		if a.find(name) {
			return a
		}
	}
	panic("demo: no app " + name)
}

// traffic moves the byte counters one second forward.
func (w *World) traffic() {
	for _, c := range w.conns {
		if !c.node.up {
			continue
		}
		var pub, del float64
		for _, ch := range c.chans {
			pub += ch.publish
			del += ch.deliver
		}
		if c.silent || (w.alarm && pub > 0) {
			// A silent client sends nothing; a blocked publisher is not read from.
			if w.alarm && pub > 0 && !c.silent {
				c.send += uint64(del * float64(c.app.size) * (0.8 + 0.4*w.rng.Float64()))
			}
			continue
		}
		c.recv += uint64(pub*float64(c.app.size)*(0.8+0.4*w.rng.Float64())) + uint64(del*40)
		c.send += uint64(del * float64(c.app.size) * (0.8 + 0.4*w.rng.Float64()))
		if pub == 0 && c.app.heartbeat > 0 {
			// Idle clients speak only in heartbeat frames: 8 bytes every half timeout.
			c.hbBytes += 8 / (c.app.heartbeat.Seconds() / 2)
			if c.hbBytes >= 8 {
				c.recv += 8
				c.hbBytes -= 8
			}
		}
	}
}

// snapshot emits what /api/overview, /api/nodes, /api/connections and
// /api/channels would answer now.
func (w *World) snapshot() {
	if !w.mgmtUp {
		return
	}
	dt := w.now.Sub(w.lastSnapshot).Seconds()
	if w.lastSnapshot.IsZero() || dt <= 0 {
		dt = 5
	}
	w.lastSnapshot = w.now
	s := model.MgmtSnapshot{Meta: w.meta(model.SourceManagement), NodesOK: true, ConnectionsOK: true, ChannelsOK: true}
	s.Connections = []model.Connection{}
	s.Channels = []model.Channel{}
	var pubTotal, delTotal float64
	for _, n := range w.nodes {
		used := n.memUsed + uint64(w.rng.IntN(50_000_000))
		s.Nodes = append(s.Nodes, model.Node{Name: n.name, Running: n.up, MemUsed: used, MemLimit: n.memLimit,
			MemAlarm: n.memAlarm, DiskFree: n.diskFree, DiskFreeLimit: n.diskLimit, FDUsed: 80 + len(w.conns)/len(w.nodes),
			FDTotal: 65536, Uptime: w.uptime(n)})
	}
	for _, c := range w.conns {
		if !c.node.up {
			continue
		}
		props := libs[c.app.lib]
		mc := model.Connection{Name: c.name, Client: c.app.name, User: c.app.user, Vhost: c.app.vhost, Peer: c.peer,
			Node: c.node.name, Protocol: "AMQP 0-9-1", State: c.state, Heartbeat: c.app.heartbeat, ChannelMax: 2047,
			FrameMax: 131072, ConnectedAt: c.connectedAt, RecvBytes: c.recv, SendBytes: c.send,
			RecvRate: float64(c.recv-c.lastRecv) / dt, SendRate: float64(c.send-c.lastSend) / dt, Channels: len(c.chans),
			Product: props.product, Version: props.version, Platform: props.platform,
			Capabilities: []string{"authentication_failure_close", "basic.nack", "connection.blocked", "consumer_cancel_notify", "publisher_confirms"}}
		c.lastRecv, c.lastSend = c.recv, c.send
		s.Connections = append(s.Connections, mc)
		for _, ch := range c.chans {
			pubTotal += ch.publish
			delTotal += ch.deliver
			state := "running"
			if ch.publish == 0 && ch.deliver == 0 {
				state = "idle"
			}
			s.Channels = append(s.Channels, model.Channel{Conn: c.name, Number: ch.num, Node: c.node.name, User: c.app.user,
				Vhost: c.app.vhost, State: state, Prefetch: ch.prefetch, Unacked: ch.unacked + w.unackedNoise(ch),
				Consumers: ch.consumers, Confirm: ch.confirm, PublishRate: ch.publish, DeliverRate: ch.deliver, AckRate: ch.deliver})
		}
	}
	s.Overview = model.Overview{ClusterName: "prod-eu-1", RabbitVersion: "3.13.7", ErlangVersion: "26.2.5.6",
		ManagementVersion: "3.13.7", Node: w.nodes[w.mgmtAt].name, Connections: len(s.Connections), Channels: len(s.Channels),
		Queues: 64, Consumers: w.consumers(), PublishRate: pubTotal, DeliverRate: delTotal}
	w.emit(s)
}

func (w *World) unackedNoise(ch simChan) int {
	if ch.consumers == 0 || ch.prefetch == 0 {
		return 0
	}
	return w.rng.IntN(ch.prefetch/4 + 1)
}

func (w *World) consumers() int {
	n := 0
	for _, c := range w.conns {
		for _, ch := range c.chans {
			n += ch.consumers
		}
	}
	return n
}

func (w *World) uptime(n *simNode) time.Duration {
	if !n.up {
		return 0
	}
	return w.now.Sub(n.startedAt)
}

// logf emits a broker log entry from node, if the log exchange is up.
// Multi-line entries are one entry, as the log exchange delivers them.
func (w *World) logf(n *simNode, level, pid, format string, args ...any) {
	if !w.pushUp || !n.up {
		return
	}
	w.emit(model.LogEntry{Meta: w.meta(model.SourceLog), Node: n.name, Level: level, PID: pid, Text: fmt.Sprintf(format, args...)})
}

// event emits an event-exchange message from node, if the plugin is reachable.
func (w *World) event(n *simNode, key string, h map[string]any) {
	if !w.pushUp || !n.up {
		return
	}
	h["timestamp_in_ms"] = w.now.UnixMilli()
	if _, ok := h["node"]; !ok {
		h["node"] = n.name
	}
	w.emit(model.BrokerEvent{Meta: w.meta(model.SourceEvents), Key: key, Headers: h})
}

// erlPID writes a local pid the way the event exchange does.
func (w *World) erlPID(n *simNode, local string) string {
	return "<" + n.name + "." + strconv.FormatInt(n.startedAt.Unix(), 10) + strings.TrimPrefix(strings.TrimSuffix(local, ">"), "<0") + ">"
}

func (w *World) createdHeaders(c *simConn) map[string]any {
	host, port, _ := strings.Cut(c.peer, ":")
	p, _ := strconv.Atoi(port)
	h := map[string]any{
		"name": c.name, "pid": w.erlPID(c.node, c.pid), "node": c.node.name, "user": c.app.user, "vhost": c.app.vhost,
		"peer_host": "{" + strings.ReplaceAll(host, ".", ",") + "}", "peer_port": int64(p),
		"host": "{" + strings.ReplaceAll(c.node.addr, ".", ",") + "}", "port": int64(5672),
		"protocol": "{0,9,1}", "auth_mechanism": "PLAIN", "ssl": false, "type": "network",
		"timeout": int64(c.app.heartbeat / time.Second), "frame_max": int64(131072), "channel_max": int64(2047),
		"connected_at": c.connectedAt.UnixMilli(), "client_properties": clientProps(c),
	}
	if c.app.name != "" {
		h["user_provided_name"] = c.app.name
	}
	return h
}

// clientProps encodes client_properties as the event exchange sends them in
// AMQP 0-9-1 mode: a list of Erlang term strings.
func clientProps(c *simConn) []any {
	p := libs[c.app.lib]
	out := []any{
		`{<<"capabilities">>,table,[{<<"authentication_failure_close">>,bool,true},{<<"basic.nack">>,bool,true},{<<"connection.blocked">>,bool,true},{<<"consumer_cancel_notify">>,bool,true},{<<"publisher_confirms">>,bool,true}]}`,
		`{<<"product">>,longstr,<<"` + p.product + `">>}`,
		`{<<"version">>,longstr,<<"` + p.version + `">>}`,
		`{<<"platform">>,longstr,<<"` + p.platform + `">>}`,
	}
	if c.app.name != "" {
		out = append(out, `{<<"connection_name">>,longstr,<<"`+c.app.name+`">>}`)
	}
	return out
}

// charlist encodes a string as an Erlang charlist (an array of integers),
// as 3.10 sends user.authentication.failure's error.
func charlist(s string) []any {
	out := make([]any, 0, len(s))
	for _, r := range s {
		out = append(out, int64(r))
	}
	return out
}

package model

import (
	"github.com/amqptop/amqptop/model/wire"
	"strconv"
	"strings"
	"time"
)

// applyBrokerEvent folds one event-exchange message into the state.
func (s *State) applyBrokerEvent(x BrokerEvent) {
	h := x.Headers
	switch x.Key {
	case "connection.created":
		c := connFromHeaders(h)
		if c.Name == "" {
			return
		}
		s.created[c.Name] = c
		if c.PID != "" {
			s.pids[c.PID] = c.Name
		}
		s.upsertConn(c, x.Source, x.Time)
	case "connection.closed":
		c := connFromHeaders(h)
		if c.Name == "" && c.PID != "" {
			c.Name = s.pids[c.PID]
		}
		if _, known := s.created[c.Name]; !known && s.conns[c.Name] == nil && s.baseline && noHandshake(h) {
			// Never opened as AMQP (no client properties, never created or
			// listed): a TCP connect with no handshake — a port check or a
			// load balancer's health probe, which the broker logs only at
			// debug level. Not a client's close.
			return
		}
		s.noteClose(closeNote{key: c.Name, conn: c, src: x.Source, at: x.Time, ev: Evidence{Vanished: true},
			line: x.Source.String() + ": connection.closed (the event exchange gives no reason)"})
	case "channel.created":
		s.channelCreated(x)
	case "channel.closed":
		pid := wire.NormPID(wire.HeaderString(h, "pid"))
		k, ok := s.chpids[pid]
		if !ok {
			return
		}
		delete(s.chpids, pid)
		s.noteClose(closeNote{key: closeKey(k.Conn, k.Number), conn: Connection{Name: k.Conn}, channel: k.Number,
			src: x.Source, at: x.Time, ev: Evidence{Vanished: true}, line: x.Source.String() + ": channel.closed"})
	case "user.authentication.failure":
		s.authFailure(x)
	case "alarm.set", "alarm.cleared":
		kind := wire.HeaderString(h, "source")
		if kind != "memory" && kind != "disk" {
			kind = strings.TrimSuffix(kind, "_alarm")
		}
		node := wire.HeaderString(h, "node")
		if node == "" {
			return
		}
		s.alarmChange(x.Time, x.Source, node, kind, x.Key == "alarm.set")
	}
}

// connFromHeaders reads a connection.created / connection.closed event.
func connFromHeaders(h map[string]any) Connection {
	props := wire.ParseClientProps(h["client_properties"])
	c := Connection{
		Name:     wire.HeaderString(h, "name"),
		PID:      wire.NormPID(wire.HeaderString(h, "pid")),
		Node:     wire.HeaderString(h, "node"),
		User:     wire.HeaderString(h, "user"),
		Vhost:    wire.HeaderString(h, "vhost"),
		Client:   wire.HeaderString(h, "user_provided_name"),
		Protocol: wire.HeaderString(h, "protocol"),
		TLS:      wire.HeaderBool(h, "ssl"),
		Product:  props.Product,
		Version:  props.Version,
		Platform: props.Platform,
		State:    StateRunning,
	}
	if c.Client == "" {
		c.Client = props.ConnectionName
	}
	c.Capabilities = props.Capabilities
	if host := wire.HeaderString(h, "peer_host"); host != "" {
		c.Peer = wire.JoinHostPort(wire.ErlIP(host), wire.HeaderInt(h, "peer_port"))
	} else if _, peer, _ := wire.SplitConnName(c.Name); peer != "" {
		c.Peer = peer
	}
	if _, ok := h["timeout"]; ok {
		c.Heartbeat = time.Duration(wire.HeaderInt(h, "timeout")) * time.Second
	}
	c.ChannelMax = int(wire.HeaderInt(h, "channel_max"))
	c.FrameMax = int(wire.HeaderInt(h, "frame_max"))
	c.ConnectedAt = wire.HeaderTime(h, "connected_at")
	if strings.HasPrefix(c.Protocol, "{") {
		c.Protocol = "AMQP " + strings.ReplaceAll(strings.Trim(c.Protocol, "{}"), ",", "-")
	}
	return c
}

func (s *State) channelCreated(x BrokerEvent) {
	h := x.Headers
	name := wire.HeaderString(h, "name") // "peer -> local (N)"
	num := int(wire.HeaderInt(h, "number"))
	if i := strings.LastIndex(name, " ("); i > 0 {
		if num == 0 {
			num, _ = strconv.Atoi(strings.TrimSuffix(name[i+2:], ")"))
		}
		name = name[:i]
	}
	conn, _, _ := wire.SplitConnName(name)
	if conn == "" || num == 0 {
		return
	}
	k := ChannelKey{conn, num}
	if pid := wire.NormPID(wire.HeaderString(h, "pid")); pid != "" {
		s.chpids[pid] = k
	}
	c := s.conns[conn]
	if c == nil || c.Closed || s.chans[k] != nil {
		return
	}
	s.addChan(k, &ChanView{Channel: Channel{Conn: conn, Number: num, Node: c.Node, User: c.User, Vhost: c.Vhost,
		State: "running"}, FirstSeen: x.Time})
	if !c.Own {
		e := s.connEvent(c, ChanOpened, x.Source, x.Time)
		e.Channel = num
		s.emit(e)
	}
}

// authFailure turns user.authentication.failure into the close of the
// refused connection.
func (s *State) authFailure(x BrokerEvent) {
	h := x.Headers
	user := wire.HeaderString(h, "name")
	reason := wire.HeaderString(h, "error")
	peer := ""
	if host := wire.HeaderString(h, "peer_host"); host != "" {
		peer = wire.JoinHostPort(wire.ErlIP(host), wire.HeaderInt(h, "peer_port"))
	}
	name := wire.HeaderString(h, "connection_name")
	if name == "" {
		name = peer + " (refused login)"
	}
	name, _, client := wire.SplitConnName(name)
	if reason == "" {
		reason = "authentication failed"
	}
	s.noteClose(closeNote{key: name, conn: Connection{Name: name, User: user, Peer: peer, Client: client},
		src: x.Source, at: x.Time, reason: true, why: "authentication failure: " + reason,
		ev: Evidence{Code: 403, Log: []string{"user.authentication.failure: " + reason}}})
}

// applyLog folds one broker log entry into the state.
func (s *State) applyLog(x LogEntry) {
	cl, ok := wire.ParseConnLog(x.Text)
	if !ok {
		s.logOnly(x)
		return
	}
	name := cl.Name
	if name == "" && cl.PID != "" {
		name = s.pids[cl.PID]
	}
	if cl.PID != "" && name != "" {
		s.pids[cl.PID] = name
		if c := s.conns[name]; c != nil && c.PID == "" {
			c.PID = cl.PID
		}
	}
	conn := Connection{Name: name, Client: cl.Client, User: cl.User, Vhost: cl.Vhost, Peer: cl.Peer, Node: x.Node, PID: cl.PID}
	note := closeNote{key: name, conn: conn, src: x.Source, at: x.Time, reason: true, why: oneLine(cl.Reason),
		ev: Evidence{Log: []string{x.Text}, Code: cl.Code, Text: cl.ReplyText}}
	switch cl.Kind {
	case wire.LogClosing, wire.LogConnError:
		if cl.Code == 320 && containsFold(cl.ReplyText, "reason 'shutdown'") {
			s.nodeStopping(x.Node, x.Time, x.Source, "the broker forced connection closure with reason 'shutdown'")
		}
		s.noteClose(s.rekey(note))
	case wire.LogChannelError:
		note.channel = cl.Channel
		note.key = closeKey(name, cl.Channel)
		s.noteClose(note)
	case wire.LogForced:
		if name == "" {
			// Not yet joined to a name: wait for the entry that names it.
			note.key = "pid:" + cl.PID
			note.conn.Name = "pid " + cl.PID
			note.reason = false
		}
		s.noteClose(s.rekey(note))
	case wire.LogVhostStopping:
		node := cl.Node
		if node == "" {
			node = x.Node
		}
		s.vhostStopping(node, cl.Vhost, x.Time, x.Text)
		s.logOnly(x)
	case wire.LogNodeStopping:
		s.nodeStopping(x.Node, x.Time, x.Source, oneLine(x.Text))
		s.logOnly(x)
	case wire.LogNodeStarted:
		s.nodeBack(x.Node, x.Time, x.Source, time.Time{})
	case wire.LogAlarmSet, wire.LogAlarmCleared:
		if cl.Node == "" {
			return // "cleared across the cluster": each node's own line says it
		}
		s.alarmChange(x.Time, x.Source, cl.Node, cl.Alarm, cl.Kind == wire.LogAlarmSet)
	case wire.LogAuthenticated:
		if name != "" && s.conns[name] == nil {
			conn.State = StateRunning
			s.upsertConn(conn, x.Source, x.Time)
		}
	}
}

// rekey moves a close first known only by pid to its connection name once
// a later entry names it.
func (s *State) rekey(n closeNote) closeNote {
	if n.conn.PID == "" || strings.HasPrefix(n.key, "pid:") {
		return n
	}
	old := "pid:" + n.conn.PID
	r := s.closes[old]
	if r == nil {
		return n
	}
	delete(s.closes, old)
	if _, taken := s.closes[n.key]; !taken && !r.emitted {
		r.key = n.key
		r.conn = s.knownConn(n.conn.Name)
		s.closes[n.key] = r
		s.markConnClosed(r, n)
	}
	return n
}

// logOnly shows a warning or error entry that is not about one connection.
func (s *State) logOnly(x LogEntry) {
	lvl := wire.NormLevel(x.Level)
	if lvl != "warning" && lvl != "error" && lvl != "critical" {
		return
	}
	sev := SevWarn
	if lvl != "warning" {
		sev = SevError
	}
	s.emit(Event{Time: x.Time, Type: BrokerLogged, Severity: sev, Source: x.Source, Node: x.Node,
		Level: lvl, Text: oneLine(x.Text)})
}

// noHandshake reports whether a connection event carries nothing a client
// sends in its handshake.
func noHandshake(h map[string]any) bool {
	p := wire.ParseClientProps(h["client_properties"])
	return p.ConnectionName == "" && p.Product == "" && p.Version == "" && p.Platform == "" && len(p.Capabilities) == 0
}

package model

import (
	"sort"
	"strings"
	"time"
)

// applySnapshot diffs one management poll against the state.
func (s *State) applySnapshot(x MgmtSnapshot) {
	if x.Overview != (Overview{}) {
		s.overview = x.Overview
	}
	if x.NodesOK {
		s.diffNodes(x)
	}
	if x.ConnectionsOK {
		s.diffConns(x)
	}
	if x.ChannelsOK {
		s.diffChannels(x)
	}
}

func (s *State) diffNodes(x MgmtSnapshot) {
	for _, n := range x.Nodes {
		nv := s.node(n.Name)
		old := nv.Node
		first := !nv.Seen
		prevSeen := nv.seenAt
		nv.Node, nv.Seen = n, true
		var booted time.Time
		if n.Running && n.Uptime > 0 {
			booted = x.Time.Add(-n.Uptime)
			nv.seenAt = x.Time
		}
		switch {
		case first:
		case old.Running && !n.Running:
			if o := nv.out; o == nil || !o.back.IsZero() {
				s.nodeLost(n.Name, x.Time, x.Source, "the management API lists it as not running")
			}
		case !old.Running && n.Running:
			s.nodeBack(n.Name, x.Time, x.Source, booted)
		case n.Running && old.Uptime > 0 && n.Uptime > 0 && n.Uptime < old.Uptime && (nv.out == nil || nv.out.from.Before(prevSeen)):
			s.unseenRestart(nv, prevSeen, x, booted)
		case nv.out != nil && !booted.IsZero() && (!nv.out.stop || booted.After(nv.out.from)):
			// The uptime says how a loss ended. A node that is stopping may
			// still be listed as running for a poll or two (the API lags
			// it): only a fresh boot, or being listed as not running first,
			// ends a stop.
			s.nodeBack(n.Name, x.Time, x.Source, booted)
		}
		// With statistics disabled the API leaves the alarms out: absent is
		// not "cleared".
		for _, a := range []struct {
			kind, col string
			on        bool
		}{{"memory", "nodes.mem_alarm", n.MemAlarm}, {"disk", "nodes.disk_free_alarm", n.DiskAlarm}} {
			if contains(x.Unavailable, a.col) {
				nv.setFlag(a.kind, nv.alarm(a.kind).on) // keep what another source said
				continue
			}
			s.alarmChange(x.Time, x.Source, n.Name, a.kind, a.on)
		}
	}
}

// unseenRestart handles a node whose uptime went down between two polls
// with no outage seen: it restarted after prev (the last poll that saw it
// running). When amqptop follows the broker's log and saw no shutdown, it
// crashed; otherwise nothing says how.
func (s *State) unseenRestart(nv *NodeView, prev time.Time, x MgmtSnapshot, booted time.Time) {
	from := prev
	if from.IsZero() || from.After(booted) {
		from = booted
	}
	sv := s.sources[SourceLog]
	followed := sv != nil && sv.Health == HealthUp
	nv.out = &outage{from: from, back: x.Time, crash: followed, unsure: !followed}
	nv.RestartedAt = x.Time
	how := "nothing said how (amqptop does not follow the broker's log)"
	if followed {
		how = "it logged no shutdown: it crashed or was killed"
		nv.DownAt = from
	}
	s.emit(Event{Time: x.Time, Type: NodeRestarted, Severity: SevWarn, Source: x.Source, Node: nv.Name,
		Text: "node " + nv.Name + " restarted " + nv.Uptime.Round(time.Second).String() + " ago, between two polls; " + how})
	s.closeAllOn(nv.Name, from, "the node restarted")
	s.reconsider(nv.Name, from)
}

// alarmGrace is how long a push source's word on an alarm outranks a
// management snapshot that says otherwise (its stats lag).
const alarmGrace = 15 * time.Second

// alarmChange emits alarm.set / alarm.cleared once per change, whichever
// source tells first, and keeps the node's alarm flags in step.
func (s *State) alarmChange(t time.Time, src Source, node, kind string, set bool) {
	nv := s.node(node)
	a := nv.alarm(kind)
	if a.on == set {
		nv.setFlag(kind, set)
		return
	}
	if src == SourceManagement && a.src != SourceManagement && !a.at.IsZero() && t.Sub(a.at) < alarmGrace {
		nv.setFlag(kind, a.on) // the snapshot is older than the push source's news
		return
	}
	*a = alarmMark{on: set, at: t, src: src}
	nv.setFlag(kind, set)
	e := Event{Time: t, Source: src, Node: node, Alarm: kind}
	if set {
		e.Type, e.Severity = AlarmSet, SevError
		e.Text = kind + " resource limit alarm set on node " + node + ": publishers are blocked"
		s.infer(&e, InferResourceAlarm, ConfHigh, "the "+kind+" alarm of node "+node)
	} else {
		e.Type, e.Severity = AlarmCleared, SevInfo
		e.Text = kind + " resource limit alarm cleared on node " + node
	}
	s.emit(e)
}

func (s *State) diffConns(x MgmtSnapshot) {
	seen := make(map[string]struct{}, len(x.Connections))
	for i := range x.Connections {
		seen[x.Connections[i].Name] = struct{}{}
	}
	// Closes first, so that a client back in the same snapshot is a reconnect.
	var gone []string
	for name, c := range s.conns {
		if _, ok := seen[name]; ok || c.Closed || c.FirstSeen.After(x.Time) {
			continue
		}
		if !c.Listed && x.Time.Sub(c.FirstSeen) < s.opt.ListGrace {
			// Announced by the probe, the event exchange or the log; the API
			// lists a connection only once its stats are in.
			continue
		}
		if c.Listed && c.missedAt.IsZero() && x.ConnectionsPaged {
			// A paged listing can skip an item at a page boundary: the
			// next complete listing decides (the event exchange and the
			// log tell a close at once).
			c.missedAt = x.Time
			continue
		}
		gone = append(gone, name)
	}
	sort.Strings(gone)
	for _, name := range gone {
		c := s.conns[name]
		at := x.Time
		if !c.missedAt.IsZero() {
			at = c.missedAt // the first listing that lacked it
		}
		if nv := s.nodes[s.nodeOf(c.Node)]; nv != nil && nv.out != nil && !nv.out.cutOff &&
			nv.out.from.After(c.LastSeen) && nv.out.from.Before(at) {
			at = nv.out.from // it went with its node: the close happened when the node went
		} else if s.stoppedAny.After(c.LastSeen) && s.stoppedAny.Before(at) {
			at = s.stoppedAny
		}
		s.noteClose(closeNote{key: name, conn: c.Connection, src: x.Source, at: at,
			ev: Evidence{Vanished: true}, line: x.Source.String() + ": no longer listed by /api/connections"})
	}
	conns := x.Connections
	order := make([]int, len(conns))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return conns[order[a]].Name < conns[order[b]].Name })
	for _, i := range order {
		s.snapConn(x, conns[i])
	}
	s.baseline = true
}

// snapConn folds one listed connection into the state.
func (s *State) snapConn(x MgmtSnapshot, n Connection) {
	c := s.conns[n.Name]
	if c != nil && c.Closed {
		return // closed by another source; the list is older than the close
	}
	if c == nil {
		c = s.upsertConn(n, x.Source, x.Time)
		c.PrevRecv, c.PrevSend = n.RecvRate, n.SendRate // no trend before a second listing
		c.LastRecvAt = x.Time
		c.LastSeen, c.Listed = x.Time, true
		s.checkHeartbeatSetting(c, x)
		return
	}
	if c.Probe && s.probe.Conn == n.Name && n.Node != "" {
		s.probe.Node = n.Node
	}
	prev := c.Connection
	keepPID := c.PID
	c.Connection = n
	mergeConn(&c.Connection, prev)
	if c.PID == "" {
		c.PID = keepPID
	}
	c.PrevRecv, c.PrevSend = prev.RecvRate, prev.SendRate
	c.LastSeen, c.Listed, c.missedAt = x.Time, true, time.Time{}
	s.named(c.Connection)
	if n.RecvBytes != prev.RecvBytes || c.LastRecvAt.IsZero() {
		c.LastRecvAt = x.Time
	}
	if !n.StatsMissing && n.State != prev.State && n.State != StateUnknown && prev.State != StateUnknown {
		s.stateChange(x, c, prev.State)
	}
	s.checkHeartbeatSetting(c, x)
	s.checkHeartbeatRisk(c, x)
}

func (s *State) stateChange(x MgmtSnapshot, c *ConnView, from ConnState) {
	e := s.connEvent(c, ConnStateChanged, x.Source, x.Time)
	e.From, e.To = from.String(), c.State.String()
	e.Text = from.String() + " → " + c.State.String()
	switch c.State {
	case StateBlocked, StateBlocking:
		e.Severity = SevWarn
		s.infer(&e, InferResourceAlarm, ConfHigh, "the broker lists the connection as "+c.State.String())
		if nv := s.nodes[c.Node]; nv != nil && len(nv.Alarms()) > 0 {
			e.Detail = "resource alarm on " + c.Node + ": " + joinWords(nv.Alarms())
		}
	case StateFlow:
		e.Detail = "the broker is throttling this publisher (flow control)"
	}
	s.emit(e)
}

// checkHeartbeatSetting flags a connection whose heartbeat is disabled.
func (s *State) checkHeartbeatSetting(c *ConnView, x MgmtSnapshot) {
	if c.flaggedHB || c.StatsMissing || c.Heartbeat != 0 || c.State == StateStarting || c.State == StateTuning {
		return
	}
	c.flaggedHB = true
	e := s.connEvent(c, HeartbeatDisabled, x.Source, x.Time)
	e.Severity = SevWarn
	e.Text = "heartbeat disabled (timeout 0): a dead peer is noticed only by TCP, which can take hours"
	s.emit(e)
}

// checkHeartbeatRisk emits heartbeat.at-risk when a connection has sent
// nothing for longer than its heartbeat, and heartbeat.ok when it speaks again.
func (s *State) checkHeartbeatRisk(c *ConnView, x MgmtSnapshot) {
	if c.Heartbeat <= 0 {
		return
	}
	if c.State == StateBlocked || c.State == StateBlocking {
		// The broker stops reading a blocked connection and pauses its
		// heartbeat monitor: silence is expected, not a risk.
		c.LastRecvAt = x.Time
		return
	}
	silent := x.Time.Sub(c.LastRecvAt)
	switch {
	case !c.AtRisk && silent > c.Heartbeat:
		c.AtRisk = true
		e := s.connEvent(c, HeartbeatAtRisk, x.Source, x.Time)
		e.Severity = SevWarn
		e.Silent = silent
		e.Text = "no bytes from the client for " + silent.Round(time.Second).String() +
			", longer than its heartbeat of " + c.Heartbeat.String() + ": the broker will close it"
		s.emit(e)
	case c.AtRisk && silent == 0:
		c.AtRisk = false
		e := s.connEvent(c, HeartbeatOK, x.Source, x.Time)
		e.Text = "the client is sending again"
		s.emit(e)
	}
}

// upsertConn adds a connection (emitting connection.opened once a
// baseline exists) or merges new details into a known one.
func (s *State) upsertConn(n Connection, src Source, t time.Time) *ConnView {
	if c := s.conns[n.Name]; c != nil && !c.Closed {
		prev := c.Connection
		c.Connection = n
		mergeConn(&c.Connection, prev)
		s.named(c.Connection)
		return c
	}
	if cr, ok := s.created[n.Name]; ok {
		mergeConn(&n, cr)
	}
	c := &ConnView{Connection: n, Source: src, FirstSeen: t, LastSeen: t, LastRecvAt: t}
	c.Own = s.isOwn(n.Client)
	s.conns[n.Name] = c
	s.named(n)
	if n.PID != "" {
		s.pids[n.PID] = n.Name
	}
	if s.baseline || src != SourceManagement || c.Own {
		e := s.connEvent(c, ConnOpened, src, t)
		e.Heartbeat = n.Heartbeat
		e.Text = describeClient(n)
		s.emit(e)
	} else {
		// Open before amqptop's first complete listing: not an opening,
		// but a script building the state from the stream needs it.
		e := s.connEvent(c, ConnSeen, src, t)
		e.Heartbeat = n.Heartbeat
		e.Text = describeClient(n)
		s.tell(e)
	}
	if !c.Own {
		s.noteReconnectOpen(c, t)
	}
	return c
}

func (s *State) isOwn(name string) bool {
	return name != "" && strings.HasPrefix(name, s.opt.OwnPrefix)
}

func describeClient(c Connection) string {
	out := c.Product
	if c.Version != "" {
		out += " " + c.Version
	}
	if c.Platform != "" {
		out += " (" + c.Platform + ")"
	}
	return out
}

// connEvent returns an event about a connection with its identity filled in.
func (s *State) connEvent(c *ConnView, t EventType, src Source, at time.Time) Event {
	return Event{Time: at, Type: t, Severity: SevInfo, Source: src, Node: c.Node, Conn: c.Name,
		Client: c.Client, User: c.User, Vhost: c.Vhost, Peer: c.Peer, Heartbeat: c.Heartbeat}
}

func (s *State) diffChannels(x MgmtSnapshot) {
	seen := make(map[ChannelKey]struct{}, len(x.Channels))
	for _, ch := range x.Channels {
		seen[ch.Key()] = struct{}{}
	}
	var gone []ChannelKey
	for k, ch := range s.chans {
		if _, ok := seen[k]; ok || ch.FirstSeen.After(x.Time) {
			continue
		}
		if !ch.Listed && x.Time.Sub(ch.FirstSeen) < s.opt.ListGrace {
			// Announced by the event exchange; the API lists a channel
			// only once its stats are in (as for connections).
			continue
		}
		if ch.missed++; ch.Listed && ch.missed < 2 {
			// A paged listing of a list that changes while it is read can
			// skip an item at a page boundary: a channel is gone once two
			// listings in a row lack it (its close through the event
			// exchange or the log is immediate).
			continue
		}
		gone = append(gone, k)
	}
	sort.Slice(gone, func(i, j int) bool {
		if gone[i].Conn != gone[j].Conn {
			return gone[i].Conn < gone[j].Conn
		}
		return gone[i].Number < gone[j].Number
	})
	for _, k := range gone {
		s.delChan(k)
		if c := s.conns[k.Conn]; c == nil || c.Closed {
			continue // went with its connection
		}
		if _, ok := s.closes[closeKey(k.Conn, k.Number)]; ok {
			continue // a source already told why
		}
		c := s.conns[k.Conn]
		e := s.connEvent(c, ChanClosed, x.Source, x.Time)
		e.Channel = k.Number
		s.emit(e)
	}
	for _, ch := range x.Channels {
		k := ch.Key()
		if cv := s.chans[k]; cv != nil {
			cv.Channel, cv.Listed, cv.missed = ch, true, 0
			continue
		}
		c := s.conns[k.Conn]
		if c == nil || c.Closed {
			continue
		}
		if _, ok := s.closes[closeKey(k.Conn, k.Number)]; ok {
			continue // closed since; the list is older
		}
		s.addChan(k, &ChanView{Channel: ch, FirstSeen: x.Time, Listed: true})
		if c.FirstSeen.Before(x.Time) && s.baseline && !c.Own {
			e := s.connEvent(c, ChanOpened, x.Source, x.Time)
			e.Channel = k.Number
			s.emit(e)
		}
	}
}

func joinWords(w []string) string {
	out := ""
	for i, s := range w {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}

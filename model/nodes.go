package model

import (
	"sort"
	"strings"
	"time"
)

// A node's life as amqptop sees it. Three kinds of outage are told apart,
// because the connections lost in each have a different cause:
//
//   - a stop: the node shuts down on purpose (rabbitmqctl stop_app or stop,
//     SIGTERM, an orchestrator). The broker says so: its log ("RabbitMQ is
//     asked to stop..."), the 320 "broker forced connection closure with
//     reason 'shutdown'" each client gets, the API listing it as not
//     running. Every connection on it closes with the stop (broker-shutdown).
//   - a crash: the node goes away without a word (kill -9, the OOM killer,
//     the host lost). Every source amqptop has on it is cut at once, and when
//     it answers again its uptime starts after the cut. The connections on
//     it are lost at the cut (node-down).
//   - a cut of amqptop's own path: every source is cut at once, but the node
//     answers again with the uptime it had. Nothing is concluded about the
//     connections from it.
//
// A vhost stopping (deleted, or restarted on its own) concerns that vhost's
// connections only, never the node.

// cutWindow is how close together the sources must be lost to count as
// cut at once. The management API is polled, so it learns last: a poll
// interval, a request timeout and a backoff.
const cutWindow = 20 * time.Second

// stopGrace is how long before a stop was known a close may have happened
// and still be part of it (the probe's 320 can arrive a moment before the
// node's own "asked to stop" line, or after it).
const stopGrace = 500 * time.Millisecond

// outage is one stop or loss of a node.
type outage struct {
	from   time.Time // when it began (the first sign)
	back   time.Time // when the node was seen answering again (zero: not yet)
	stop   bool      // the broker shut down on purpose (it said so)
	crash  bool      // it came back with an uptime that began after the loss
	cutOff bool      // it came back with its old uptime: amqptop's path was cut, not the node
	unsure bool      // it restarted unseen (its uptime went down) and nothing said how
}

// ongoing reports whether the outage has not ended by t.
func (o *outage) covers(t time.Time, tail time.Duration) bool {
	if o == nil || o.from.IsZero() || t.Before(o.from.Add(-stopGrace)) {
		return false
	}
	return o.back.IsZero() || !t.After(o.back.Add(tail))
}

// nodeOf returns the node a close or a source is about: the one named, or
// the node amqptop talks to when there is only one it could be.
func (s *State) nodeOf(name string) string {
	if name != "" {
		return name
	}
	if s.probe.Node != "" {
		return s.probe.Node
	}
	if len(s.nodes) == 1 {
		for n := range s.nodes {
			return n
		}
	}
	return ""
}

// nodeStopping notes that a node is shutting down on purpose at t, closes
// every connection on it as part of the stop, and reconsiders closes
// already published around t.
func (s *State) nodeStopping(node string, t time.Time, src Source, why string) {
	node = s.nodeOf(node)
	if node == "" {
		s.stoppedAny = t
		return
	}
	nv := s.node(node)
	if o := nv.out; o != nil && o.stop && o.back.IsZero() {
		if t.Before(o.from) {
			o.from = t
		}
		return
	}
	if o := nv.out; o != nil && !o.stop && o.back.IsZero() {
		// Lost first, the reason after (the log is delayed): it was a stop.
		o.stop = true
		if t.Before(o.from) {
			o.from = t
		}
	} else {
		nv.out = &outage{from: t, stop: true}
	}
	nv.StoppedAt = nv.out.from
	s.emit(Event{Time: t, Type: NodeDown, Severity: SevWarn, Source: src, Node: node,
		Text: "node " + node + " is shutting down" + optional(": ", why)})
	s.closeAllOn(node, nv.out.from, "the node shut down")
	s.reconsider(node, nv.out.from)
}

// nodeLost notes that every source on a node was cut at t without a word
// from the broker: a crash, a kill, or amqptop's path to it. Connections
// are not closed yet; the node's uptime, when it answers again, tells.
func (s *State) nodeLost(node string, t time.Time, src Source, detail string) {
	node = s.nodeOf(node)
	if node == "" {
		return
	}
	nv := s.node(node)
	if o := nv.out; o != nil && o.back.IsZero() {
		return // already stopping or lost
	}
	if o := nv.out; o != nil && o.stop && !t.After(o.back) {
		return // sources lost during a stop, reported late
	}
	nv.out = &outage{from: t}
	nv.DownAt = t
	s.emit(Event{Time: t, Type: NodeDown, Severity: SevError, Source: src, Node: node,
		Text: "lost node " + node + ": " + detail + " — no shutdown was logged: it crashed or was killed, or the network to it failed"})
	s.reconsider(node, t)
}

// nodeBack notes that a node answers again at t. bootedAt (zero when
// unknown) is when it started, from its uptime.
func (s *State) nodeBack(node string, t time.Time, src Source, bootedAt time.Time) {
	node = s.nodeOf(node)
	if node == "" {
		return
	}
	nv := s.node(node)
	o := nv.out
	if o == nil {
		return
	}
	if !o.back.IsZero() {
		if bootedAt.IsZero() || o.stop || o.crash || o.cutOff {
			return
		}
		// Back (a source reconnected), and now the uptime says how.
	} else {
		o.back = t
		nv.RestartedAt = t
	}
	switch {
	case o.stop && bootedAt.After(o.from):
		s.emit(Event{Time: t, Type: NodeRestarted, Severity: SevWarn, Source: src, Node: node, Downtime: t.Sub(o.from),
			Text: "node " + node + " restarted: it shut down at " + o.from.Format("15:04:05") + " and started again at " + bootedAt.Format("15:04:05")})
	case o.stop:
		s.emit(Event{Time: t, Type: NodeUp, Severity: SevInfo, Source: src, Node: node,
			Text: "node " + node + " is back after a shutdown of " + t.Sub(o.from).Round(time.Second).String(), Downtime: t.Sub(o.from)})
	case bootedAt.IsZero():
		// Wait for the uptime before saying what the loss was.
	case bootedAt.After(o.from.Add(-stopGrace)):
		o.crash = true
		s.emit(Event{Time: t, Type: NodeRestarted, Severity: SevError, Source: src, Node: node, Downtime: bootedAt.Sub(o.from),
			Text: "node " + node + " crashed: it went away at " + o.from.Format("15:04:05") + " without a shutdown and started again at " + bootedAt.Format("15:04:05")})
		s.closeAllOn(node, o.from, "the node went away")
		s.reconsider(node, o.from)
	default:
		o.cutOff = true
		nv.DownAt = time.Time{}
		s.emit(Event{Time: t, Type: NodeUp, Severity: SevWarn, Source: src, Node: node,
			Text: "node " + node + " answers again and never stopped (uptime " + t.Sub(bootedAt).Round(time.Second).String() + "): amqptop's path to it was cut for " + t.Sub(o.from).Round(time.Second).String()})
		s.reconsider(node, o.from)
	}
}

// closeAllOn closes every open connection on a node at t (a stop or a
// crash ends them all), unless a source reported it after t.
func (s *State) closeAllOn(node string, t time.Time, why string) {
	var names []string
	for name, c := range s.conns {
		if c.Closed || c.FirstSeen.After(t) || (c.Listed && c.LastSeen.After(t.Add(stopGrace))) {
			continue
		}
		if s.nodeOf(c.Node) != node {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c := s.conns[name]
		s.noteClose(closeNote{key: name, conn: c.Connection, src: c.Source, at: t, est: true,
			ev: Evidence{Vanished: true}, line: "amqptop: " + why + " with it"})
	}
}

// reconsider publishes again the closes on a node from t on, now that
// what happened to the node is known (a revision only when their
// diagnosis changes).
func (s *State) reconsider(node string, t time.Time) {
	var recs []*closeRec
	for _, r := range s.closes {
		if !r.emitted || r.at.Before(t.Add(-stopGrace)) || s.nodeOf(r.conn.Node) != node {
			continue
		}
		recs = append(recs, r)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].key < recs[j].key })
	for _, r := range recs {
		s.publishClose(r)
	}
}

// stopping reports whether a close at t on node is part of a stop of that
// node (it happened while the node shut down or was down).
func (s *State) stopping(node string, t time.Time) bool {
	if !s.stoppedAny.IsZero() && !t.Before(s.stoppedAny.Add(-stopGrace)) && t.Sub(s.stoppedAny) <= s.opt.RestartWindow {
		return true
	}
	nv := s.nodes[s.nodeOf(node)]
	if nv == nil || nv.out == nil || !nv.out.stop {
		return false
	}
	if nv.out.back.IsZero() && t.Sub(nv.out.from) > s.opt.RestartWindow {
		return false // a stop never seen to end: don't let it colour what comes much later
	}
	return nv.out.covers(t, 0)
}

// lostWith reports whether a close at t on node went with a node that
// crashed (confirmed), or that was lost and has not said how yet.
func (s *State) lostWith(node string, t time.Time) (crashed, lost bool) {
	nv := s.nodes[s.nodeOf(node)]
	if nv == nil || nv.out == nil || nv.out.stop || nv.out.cutOff || nv.out.unsure || !nv.out.covers(t, 0) {
		return false, false
	}
	return nv.out.crash, !nv.out.crash
}

// sourceLost tracks when each source was lost, to find a node all of
// whose sources were cut at once.
func (s *State) sourceLost(src Source, t time.Time, by Source, detail string) {
	if s.lost == nil {
		s.lost = map[Source]time.Time{}
	}
	if _, ok := s.lost[src]; !ok {
		s.lost[src] = t
	}
	if strings.Contains(detail, "reason 'shutdown'") {
		// The broker told this source it is shutting down (a 320).
		s.nodeStopping("", t, by, "the broker closed amqptop's "+src.String()+" connection with reason 'shutdown'")
		return
	}
	// Every source that has been up must be lost, within the window, and
	// there must be at least two of them (one source alone can't tell a
	// node from its own trouble).
	first, n := t, 0
	for sv := range s.everUp {
		lt, ok := s.lost[sv]
		if !ok || t.Sub(lt) > cutWindow {
			return
		}
		if lt.Before(first) {
			first = lt
		}
		n++
	}
	if n < 2 {
		return
	}
	var names []string
	for sv := range s.everUp {
		names = append(names, sv.String())
	}
	sort.Strings(names)
	s.nodeLost("", first, by, strings.Join(names, ", ")+" all cut at "+first.Format("15:04:05"))
}

// Stale reports whether what the state shows is out of date: every source
// that has answered is lost now. since is when the last of them was lost
// (the last news); the nodes and connections shown are as of then.
func (s *State) Stale() (since time.Time, stale bool) {
	if len(s.everUp) == 0 {
		return time.Time{}, false
	}
	for src := range s.everUp {
		t, lost := s.lost[src]
		if !lost {
			return time.Time{}, false
		}
		if t.After(since) {
			since = t
		}
	}
	return since, true
}

// sourceUp notes a source answering (again).
func (s *State) sourceUp(src Source, t time.Time, by Source) {
	if s.everUp == nil {
		s.everUp = map[Source]bool{}
	}
	s.everUp[src] = true
	delete(s.lost, src)
	if src != SourceManagement {
		// A stream or the probe back on the node amqptop talks to; the
		// management API says more (the uptime) with its next snapshot.
		s.nodeBack("", t, by, time.Time{})
	}
}

// vhostStopping notes that a node closed every connection of a vhost at t
// (the vhost was deleted, stopped or failed): the reason for those of its
// connections that vanish without one.
func (s *State) vhostStopping(node, vhost string, t time.Time, line string) {
	if s.vhostStops == nil {
		s.vhostStops = map[string]vhostStop{}
	}
	s.vhostStops[s.nodeOf(node)+"\x00"+vhost] = vhostStop{at: t, line: line}
}

type vhostStop struct {
	at   time.Time
	line string
}

// vhostLine returns the broker's line about the vhost of a connection
// stopping around t, if it did.
func (s *State) vhostLine(c Connection, t time.Time) string {
	v, ok := s.vhostStops[s.nodeOf(c.Node)+"\x00"+c.Vhost]
	if !ok || c.Vhost == "" || t.Before(v.at.Add(-stopGrace)) || t.Sub(v.at) > 10*time.Second {
		return ""
	}
	return v.line
}

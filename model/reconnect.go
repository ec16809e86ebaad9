package model

import (
	"strconv"
	"time"
)

// reconTrack follows one client across its connections: when it last
// closed, and when it came back.
type reconTrack struct {
	closedAt  time.Time // last close not yet followed by a reconnect
	closedCon string
	times     []time.Time // reconnects within the flap window
	last      time.Time
	flagged   bool // a client.flapping event is out for the current storm
}

// reconnectKey identifies "the same client" across connections: its
// client-provided name, else its user, peer host and client product.
func reconnectKey(c Connection) string {
	if c.Client != "" {
		return "client:" + c.Client
	}
	if c.User == "" && c.PeerHost() == "" {
		return ""
	}
	return "peer:" + c.User + "|" + c.PeerHost() + "|" + c.Product
}

func (s *State) noteReconnectClose(c Connection, at time.Time) {
	key := reconnectKey(c)
	if key == "" {
		return
	}
	t := s.recon[key]
	if t == nil {
		t = &reconTrack{}
		s.recon[key] = t
	}
	t.closedAt, t.closedCon = at, c.Name
	if at.After(t.last) {
		t.last = at
	}
}

// noteReconnectOpen emits client.reconnected when the client of a new
// connection closed another one shortly before, and client.flapping when
// that happens too often.
func (s *State) noteReconnectOpen(c *ConnView, seen time.Time) {
	key := reconnectKey(c.Connection)
	t := s.recon[key]
	if key == "" || t == nil || t.closedAt.IsZero() || t.closedCon == c.Name {
		return
	}
	open := c.ConnectedAt
	if open.IsZero() || open.After(seen) {
		open = seen
	}
	down := open.Sub(t.closedAt)
	if down > s.opt.ReconnectWindow {
		t.closedAt = time.Time{}
		return
	}
	if down < 0 {
		down = 0 // the close was seen late (a snapshot); the client was quicker
	}
	prev := t.closedCon
	t.closedAt, t.closedCon = time.Time{}, ""
	if seen.After(t.last) {
		t.last = seen
	}
	e := s.connEvent(c, ClientReconnected, c.Source, seen)
	e.Downtime = down
	e.Text = "back after " + down.Round(time.Millisecond).String() + " (was " + prev + ")"
	if pc := s.conns[prev]; pc != nil && pc.Close != nil && pc.Close.Cause != nil {
		e.Detail = "previous connection closed: " + pc.Close.Cause.ID
	}
	s.emit(e)

	kept := t.times[:0]
	for _, at := range t.times {
		if seen.Sub(at) <= s.opt.FlapWindow {
			kept = append(kept, at)
		}
	}
	t.times = append(kept, seen)
	if len(t.times) < s.opt.FlapCount {
		t.flagged = false
		return
	}
	if t.flagged {
		return
	}
	t.flagged = true
	f := s.connEvent(c, ClientFlapping, c.Source, seen)
	f.Severity = SevError
	f.Count, f.Window = len(t.times), s.opt.FlapWindow
	s.infer(&f, InferFlapping, ConfHigh, strconv.Itoa(len(t.times))+" reconnects within "+s.opt.FlapWindow.String())
	f.Text = strconv.Itoa(len(t.times)) + " reconnects within " + s.opt.FlapWindow.String()
	f.Detail = e.Detail
	s.emit(f)
}

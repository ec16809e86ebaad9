package monitor

import (
	"net"
	"sync/atomic"
	"time"
)

// frameTap wraps the probe's socket and watches the AMQP frames passing
// by, without changing them, to see heartbeat frames in each direction.
// It embeds the net.Conn so deadlines and addresses work as before.
type frameTap struct {
	net.Conn
	in, out  frameScanner
	onBeat   func(sent bool, at time.Time)
	lastIn   atomic.Int64 // unix nanos of the last byte read
	lastOut  atomic.Int64
	received atomic.Uint64 // heartbeat frames received
	sent     atomic.Uint64
}

func newFrameTap(c net.Conn, onBeat func(sent bool, at time.Time)) *frameTap {
	t := &frameTap{Conn: c, onBeat: onBeat}
	t.out.skip = 8 // the client starts with the protocol header "AMQP\x00\x00\x09\x01"
	return t
}

func (t *frameTap) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	if n > 0 {
		now := time.Now()
		t.lastIn.Store(now.UnixNano())
		for range t.in.scan(p[:n]) {
			t.received.Add(1)
			if t.onBeat != nil {
				t.onBeat(false, now)
			}
		}
	}
	return n, err
}

func (t *frameTap) Write(p []byte) (int, error) {
	n, err := t.Conn.Write(p)
	if n > 0 {
		now := time.Now()
		t.lastOut.Store(now.UnixNano())
		for range t.out.scan(p[:n]) {
			t.sent.Add(1)
			if t.onBeat != nil {
				t.onBeat(true, now)
			}
		}
	}
	return n, err
}

// frameScanner follows the AMQP 0-9-1 frame boundaries of one direction of
// a stream: a 7-byte header (type, channel, payload size), the payload and
// a frame-end octet. It counts heartbeat frames (type 8). It never buffers
// payloads.
type frameScanner struct {
	skip   int     // bytes to pass over (payload + frame end, or the protocol header)
	hdr    [7]byte // header being collected
	hdrLen int
}

const frameHeartbeat = 8

// scan consumes a chunk of the stream and returns how many heartbeat
// frames started in it (as a range-able count).
func (s *frameScanner) scan(p []byte) int {
	beats := 0
	for len(p) > 0 {
		if s.skip > 0 {
			n := min(s.skip, len(p))
			s.skip -= n
			p = p[n:]
			continue
		}
		n := copy(s.hdr[s.hdrLen:], p)
		s.hdrLen += n
		p = p[n:]
		if s.hdrLen < len(s.hdr) {
			return beats
		}
		size := int(s.hdr[3])<<24 | int(s.hdr[4])<<16 | int(s.hdr[5])<<8 | int(s.hdr[6])
		if s.hdr[0] == frameHeartbeat {
			beats++
		}
		s.skip = size + 1 // payload and the frame-end octet
		s.hdrLen = 0
	}
	return beats
}

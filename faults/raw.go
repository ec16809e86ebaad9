// Package faults holds deliberately misbehaving AMQP 0-9-1 clients for
// amqptop's end-to-end tests: a raw client that breaks the protocol on
// purpose (a method frame where a content header is due, a publish on a
// channel never opened, a socket dropped without a close), a client whose
// heartbeats never reach the broker, and a client that reconnects in a loop.
// Nothing here is used by amqptop itself.
package faults

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// Raw is a minimal AMQP 0-9-1 client speaking frames by hand.
type Raw struct {
	conn net.Conn
	r    *bufio.Reader
}

// Frame types and the frame-end octet.
const (
	frameMethod = 1
	frameHeader = 2
	frameEnd    = 0xCE
)

// Dial connects, logs in with PLAIN and opens vhost. name is the
// client-provided connection name ("" for none).
func Dial(addr, user, pass, vhost, name string) (*Raw, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	r := &Raw{conn: c, r: bufio.NewReader(c)}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := r.handshake(user, pass, vhost, name); err != nil {
		c.Close()
		return nil, err
	}
	_ = c.SetDeadline(time.Time{})
	return r, nil
}

// LocalAddr is the client's end of the socket ("peer" in the broker's name).
func (r *Raw) LocalAddr() string { return r.conn.LocalAddr().String() }

// Name is the broker's name for this connection.
func (r *Raw) Name() string {
	return r.conn.LocalAddr().String() + " -> " + r.conn.RemoteAddr().String()
}

func (r *Raw) handshake(user, pass, vhost, name string) error {
	if _, err := r.conn.Write([]byte("AMQP\x00\x00\x09\x01")); err != nil {
		return err
	}
	if _, err := r.expect(0, 10, 10); err != nil { // connection.start
		return err
	}
	var props bytes.Buffer
	if name != "" {
		writeTableString(&props, "connection_name", name)
	}
	writeTableString(&props, "product", "amqptop-faults")
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(props.Len()))
	b.Write(props.Bytes())
	writeShortStr(&b, "PLAIN")
	resp := "\x00" + user + "\x00" + pass
	binary.Write(&b, binary.BigEndian, uint32(len(resp)))
	b.WriteString(resp)
	writeShortStr(&b, "en_US")
	if err := r.method(0, 10, 11, b.Bytes()); err != nil {
		return err
	}
	tune, err := r.expect(0, 10, 30)
	if err != nil {
		return err
	}
	b.Reset()
	b.Write(tune[:6])                             // channel-max, frame-max as offered
	binary.Write(&b, binary.BigEndian, uint16(0)) // no heartbeat
	if err := r.method(0, 10, 31, b.Bytes()); err != nil {
		return err
	}
	b.Reset()
	writeShortStr(&b, vhost)
	writeShortStr(&b, "")
	b.WriteByte(0)
	if err := r.method(0, 10, 40, b.Bytes()); err != nil {
		return err
	}
	_, err = r.expect(0, 10, 41)
	return err
}

// OpenChannel opens channel ch.
func (r *Raw) OpenChannel(ch uint16) error {
	if err := r.method(ch, 20, 10, []byte{0}); err != nil {
		return err
	}
	_, err := r.expect(ch, 20, 11)
	return err
}

// publishMethod writes a basic.publish method frame to the default exchange.
func (r *Raw) publishMethod(ch uint16, key string) error {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint16(0))
	writeShortStr(&b, "")
	writeShortStr(&b, key)
	b.WriteByte(0)
	return r.method(ch, 60, 40, b.Bytes())
}

// PublishWithoutHeader sends basic.publish and then another method frame
// where the content header is due: the broker answers 505 UNEXPECTED_FRAME.
func (r *Raw) PublishWithoutHeader(ch uint16) error {
	if err := r.publishMethod(ch, "nowhere"); err != nil {
		return err
	}
	return r.publishMethod(ch, "nowhere")
}

// PublishOnUnopenedChannel sends basic.publish on a channel never opened:
// the broker answers 504 CHANNEL_ERROR "expected 'channel.open'".
func (r *Raw) PublishOnUnopenedChannel(ch uint16) error {
	if err := r.publishMethod(ch, "nowhere"); err != nil {
		return err
	}
	var hdr bytes.Buffer
	binary.Write(&hdr, binary.BigEndian, uint16(60))
	binary.Write(&hdr, binary.BigEndian, uint16(0))
	binary.Write(&hdr, binary.BigEndian, uint64(0))
	binary.Write(&hdr, binary.BigEndian, uint16(0))
	return r.frame(frameHeader, ch, hdr.Bytes())
}

// AwaitClose reads until the broker's connection.close and answers it.
func (r *Raw) AwaitClose(timeout time.Duration) (code int, text string, err error) {
	_ = r.conn.SetReadDeadline(time.Now().Add(timeout))
	for {
		typ, ch, payload, err := r.read()
		if err != nil {
			return 0, "", err
		}
		if typ != frameMethod || ch != 0 || len(payload) < 4 {
			continue
		}
		if binary.BigEndian.Uint16(payload[0:2]) == 10 && binary.BigEndian.Uint16(payload[2:4]) == 50 {
			args := payload[4:]
			code = int(binary.BigEndian.Uint16(args[0:2]))
			n := int(args[2])
			text = string(args[3 : 3+n])
			_ = r.method(0, 10, 51, nil)
			return code, text, nil
		}
	}
}

// Abort drops the socket without any close handshake.
func (r *Raw) Abort() error { return r.conn.Close() }

// Close closes the connection politely.
func (r *Raw) Close() error {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint16(200))
	writeShortStr(&b, "bye")
	binary.Write(&b, binary.BigEndian, uint32(0))
	_ = r.method(0, 10, 50, b.Bytes())
	_, _ = r.expect(0, 10, 51)
	return r.conn.Close()
}

func (r *Raw) method(ch, class, method uint16, args []byte) error {
	p := make([]byte, 4, 4+len(args))
	binary.BigEndian.PutUint16(p[0:], class)
	binary.BigEndian.PutUint16(p[2:], method)
	return r.frame(frameMethod, ch, append(p, args...))
}

func (r *Raw) frame(typ byte, ch uint16, payload []byte) error {
	f := make([]byte, 7, 8+len(payload))
	f[0] = typ
	binary.BigEndian.PutUint16(f[1:], ch)
	binary.BigEndian.PutUint32(f[3:], uint32(len(payload)))
	f = append(append(f, payload...), frameEnd)
	_, err := r.conn.Write(f)
	return err
}

func (r *Raw) read() (typ byte, ch uint16, payload []byte, err error) {
	var h [7]byte
	if _, err = io.ReadFull(r.r, h[:]); err != nil {
		return
	}
	size := binary.BigEndian.Uint32(h[3:])
	if size > 1<<20 {
		return 0, 0, nil, fmt.Errorf("frame of %d bytes", size)
	}
	payload = make([]byte, size+1)
	if _, err = io.ReadFull(r.r, payload); err != nil {
		return
	}
	if payload[size] != frameEnd {
		return 0, 0, nil, errors.New("bad frame end")
	}
	return h[0], binary.BigEndian.Uint16(h[1:]), payload[:size], nil
}

// expect reads the next method frame and checks it is class.method on ch.
func (r *Raw) expect(ch, class, method uint16) ([]byte, error) {
	for {
		typ, c, p, err := r.read()
		if err != nil {
			return nil, err
		}
		if typ != frameMethod || len(p) < 4 {
			continue
		}
		gc, gm := binary.BigEndian.Uint16(p[0:]), binary.BigEndian.Uint16(p[2:])
		if gc == 10 && gm == 50 && len(p) > 7 {
			return nil, fmt.Errorf("the broker closed the connection: %d %s", binary.BigEndian.Uint16(p[4:]), p[7:7+int(p[6])])
		}
		if c != ch || gc != class || gm != method {
			return nil, fmt.Errorf("expected %d.%d on channel %d, got %d.%d on %d", class, method, ch, gc, gm, c)
		}
		return p[4:], nil
	}
}

func writeShortStr(b *bytes.Buffer, s string) {
	b.WriteByte(byte(len(s)))
	b.WriteString(s)
}

func writeTableString(b *bytes.Buffer, k, v string) {
	writeShortStr(b, k)
	b.WriteByte('S')
	binary.Write(b, binary.BigEndian, uint32(len(v)))
	b.WriteString(v)
}

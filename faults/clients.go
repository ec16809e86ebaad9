package faults

import (
	"net"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// muteConn passes everything through until Mute is called; after that,
// writes are swallowed (reported as sent) so nothing reaches the broker —
// not even heartbeat frames.
type muteConn struct {
	net.Conn
	muted atomic.Bool
}

func (m *muteConn) Write(p []byte) (int, error) {
	if m.muted.Load() {
		return len(p), nil
	}
	return m.Conn.Write(p)
}

// Silent is a client whose heartbeats stop reaching the broker once Mute
// is called: the broker closes it for missed heartbeats, while the client
// itself sees only a reset socket.
type Silent struct {
	Conn   *amqp.Connection
	Closed chan *amqp.Error
	sock   *muteConn
}

// DialSilent connects with the given heartbeat and client-provided name.
func DialSilent(url, name string, heartbeat time.Duration) (*Silent, error) {
	s := &Silent{}
	cfg := amqp.Config{Heartbeat: heartbeat, Properties: amqp.Table{"connection_name": name},
		Dial: func(network, addr string) (net.Conn, error) {
			c, err := net.DialTimeout(network, addr, 5*time.Second)
			if err != nil {
				return nil, err
			}
			s.sock = &muteConn{Conn: c}
			return s.sock, nil
		}}
	conn, err := amqp.DialConfig(url, cfg)
	if err != nil {
		return nil, err
	}
	s.Conn = conn
	s.Closed = conn.NotifyClose(make(chan *amqp.Error, 1))
	return s, nil
}

// Mute stops everything the client writes from reaching the broker.
func (s *Silent) Mute() { s.sock.muted.Store(true) }

// Name is the broker's name for the connection.
func (s *Silent) Name() string {
	return s.Conn.LocalAddr().String() + " -> " + s.Conn.RemoteAddr().String()
}

// Flap connects as name, holds the connection for hold, drops the socket
// without a close, and does it again, times times, waiting gap between.
// It returns the broker's names of the connections it made.
func Flap(url, name string, times int, hold, gap time.Duration) ([]string, error) {
	var names []string
	for i := 0; i < times; i++ {
		var sock net.Conn
		cfg := amqp.Config{Properties: amqp.Table{"connection_name": name},
			Dial: func(network, addr string) (net.Conn, error) {
				c, err := net.DialTimeout(network, addr, 5*time.Second)
				sock = c
				return c, err
			}}
		conn, err := amqp.DialConfig(url, cfg)
		if err != nil {
			return names, err
		}
		names = append(names, conn.LocalAddr().String()+" -> "+conn.RemoteAddr().String())
		time.Sleep(hold)
		sock.Close() // no connection.close: the broker logs "client unexpectedly closed TCP connection"
		if i < times-1 {
			time.Sleep(gap)
		}
	}
	return names, nil
}

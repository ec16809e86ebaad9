package faults

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// LoadOptions shape a load: N real AMQP connections, each with its
// channels, one of which consumes a queue of its own while another
// publishes to it now and then: the light traffic of a fleet of services.
type LoadOptions struct {
	URL        string        // amqp://user:pass@host:port/vhost
	Conns      int           // connections to open
	Channels   int           // channels per connection (default 2)
	Name       string        // client-provided names are Name-0001... (default "load")
	Publish    time.Duration // each connection publishes one small message this often (0: default 5s; <0: never)
	Heartbeat  time.Duration // requested heartbeat (default 60s, a common client default)
	Concurrent int           // connections opened at once (default 50)
}

// Load is a load running against a broker: its connections stay open
// until Close (each closed with connection.close, as a client shutting
// down) or Kill (each socket reset, as a fleet of killed processes).
type Load struct {
	opt     LoadOptions
	mu      sync.Mutex
	conns   []*loadConn
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	publish atomic.Int64 // messages published
	errs    atomic.Int64 // publish errors
}

type loadConn struct {
	name string
	conn *amqp.Connection
	sock net.Conn // the TCP socket under it, for Kill
}

// StartLoad opens the connections and starts the traffic. It returns
// once every connection is open, or with the first error (the ones open
// so far are closed).
func StartLoad(ctx context.Context, o LoadOptions) (*Load, error) {
	if o.Conns <= 0 {
		return nil, errors.New("faults: a load needs at least one connection")
	}
	if o.Channels <= 0 {
		o.Channels = 2
	}
	if o.Name == "" {
		o.Name = "load"
	}
	if o.Publish == 0 {
		o.Publish = 5 * time.Second
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 60 * time.Second
	}
	if o.Concurrent <= 0 {
		o.Concurrent = 50
	}
	l := &Load{opt: o, conns: make([]*loadConn, o.Conns)}
	var runCtx context.Context
	runCtx, l.cancel = context.WithCancel(context.Background())
	sem := make(chan struct{}, o.Concurrent)
	var first error
	var once sync.Once
	var open sync.WaitGroup
	for i := range o.Conns {
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		open.Add(1)
		go func() {
			defer open.Done()
			defer func() { <-sem }()
			c, err := l.open(runCtx, i)
			if err != nil {
				once.Do(func() { first = err })
				return
			}
			l.mu.Lock()
			l.conns[i] = c
			l.mu.Unlock()
		}()
	}
	open.Wait()
	if first == nil {
		first = ctx.Err()
	}
	if first != nil {
		l.Close()
		return nil, first
	}
	return l, nil
}

// open opens connection i: its channels, a queue of its own consumed on
// the first, published to from the second.
func (l *Load) open(ctx context.Context, i int) (*loadConn, error) {
	o := l.opt
	lc := &loadConn{name: fmt.Sprintf("%s-%04d", o.Name, i)}
	cfg := amqp.Config{Heartbeat: o.Heartbeat, Properties: amqp.NewConnectionProperties(),
		Dial: func(network, addr string) (net.Conn, error) {
			c, err := net.DialTimeout(network, addr, 30*time.Second)
			if err == nil {
				lc.sock = c
				_ = c.SetDeadline(time.Now().Add(30 * time.Second))
			}
			return c, err
		}}
	cfg.Properties.SetClientConnectionName(lc.name)
	conn, err := amqp.DialConfig(o.URL, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", lc.name, err)
	}
	lc.conn = conn
	var chans []*amqp.Channel
	for range o.Channels {
		ch, err := conn.Channel()
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("%s: channel: %w", lc.name, err)
		}
		chans = append(chans, ch)
	}
	q, err := chans[0].QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("%s: queue: %w", lc.name, err)
	}
	_ = chans[0].Qos(10, 0, false)
	deliveries, err := chans[0].Consume(q.Name, lc.name, true, true, false, false, nil)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("%s: consume: %w", lc.name, err)
	}
	pub := chans[len(chans)-1]
	l.wg.Add(2)
	go func() { // drain
		defer l.wg.Done()
		for range deliveries {
		}
	}()
	go func() { // light traffic, spread over the interval
		defer l.wg.Done()
		if o.Publish < 0 {
			<-ctx.Done()
			return
		}
		offset := time.Duration(i) * o.Publish / time.Duration(max(o.Conns, 1))
		t := time.NewTimer(offset % o.Publish)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			err := pub.PublishWithContext(ctx, "", q.Name, false, false, amqp.Publishing{Body: []byte("tick")})
			if err != nil {
				l.errs.Add(1)
				if conn.IsClosed() {
					return
				}
			} else {
				l.publish.Add(1)
			}
			t.Reset(o.Publish)
		}
	}()
	return lc, nil
}

// Names are the client-provided names of the open connections.
func (l *Load) Names() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, c := range l.conns {
		if c != nil {
			out = append(out, c.name)
		}
	}
	return out
}

// Published is the number of messages published so far, and of publish errors.
func (l *Load) Published() (ok, failed int64) { return l.publish.Load(), l.errs.Load() }

// Close closes every connection cleanly (connection.close), as clients
// shutting down do.
func (l *Load) Close() { l.end(func(c *loadConn) { c.conn.Close() }) }

// Kill resets every connection's socket at once (SO_LINGER 0: the broker
// sees a reset, no close), as when a fleet of processes or their host dies.
func (l *Load) Kill() {
	l.mu.Lock()
	for _, c := range l.conns { // every socket first, as close together as can be
		if c == nil || c.sock == nil {
			continue
		}
		if tc, ok := c.sock.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.sock.Close()
	}
	l.mu.Unlock()
	l.end(func(c *loadConn) { c.conn.Close() }) // the library's side; its socket is gone
}

func (l *Load) end(f func(*loadConn)) {
	l.cancel()
	l.mu.Lock()
	conns := l.conns
	l.conns = nil
	l.mu.Unlock()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 100)
	for _, c := range conns {
		if c == nil {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(c)
		}()
	}
	wg.Wait()
	l.wg.Wait()
}

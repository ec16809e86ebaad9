package faults

import (
	"io"
	"net"
	"sync"
	"time"
)

// Proxy is a TCP proxy between a client and a broker that can cut, stall
// and slow the link, the way a network between amqptop and a broker
// fails: Cut holds every byte in both directions (nothing is refused or
// reset: the packets are dropped, as a firewall or a partition does;
// new connections are accepted and get nothing), Heal lets them through
// again (what TCP delivers once the path is back), Latency delays every
// chunk by a fixed time in each direction, Reset closes every connection.
type Proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	cond    *sync.Cond
	cut     bool
	latency time.Duration
	conns   map[net.Conn]bool
	closed  bool
	opened  int // connections accepted and forwarded
	wg      sync.WaitGroup
}

// NewProxy listens on 127.0.0.1 and forwards to target (host:port).
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.cond = sync.NewCond(&p.mu)
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Opened is the number of connections accepted and forwarded so far.
func (p *Proxy) Opened() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.opened
}

// Cut stops every byte, both ways, on every connection, old and new.
func (p *Proxy) Cut() { p.set(func() { p.cut = true }) }

// Heal ends a cut: held bytes go through.
func (p *Proxy) Heal() { p.set(func() { p.cut = false }) }

// Latency delays every chunk by d in each direction (0: none).
func (p *Proxy) Latency(d time.Duration) { p.set(func() { p.latency = d }) }

// Reset closes every connection through the proxy (new ones are accepted).
func (p *Proxy) Reset() {
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
}

// Close stops the proxy and closes every connection through it.
func (p *Proxy) Close() error {
	p.set(func() { p.closed = true })
	err := p.ln.Close()
	p.Reset()
	p.wg.Wait()
	return err
}

func (p *Proxy) set(f func()) {
	p.mu.Lock()
	f()
	p.mu.Unlock()
	p.cond.Broadcast()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.Close()
			up.Close()
			return
		}
		p.conns[c], p.conns[up] = true, true
		p.opened++
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

// chunk is bytes read, and when.
type chunk struct {
	b  []byte
	at time.Time
}

// pipe copies src to dst through the gate: a reader takes bytes off the
// socket as they come (into a bounded queue: when it is full, TCP pushes
// back), a writer delivers each once the latency has passed and while the
// link is not cut.
func (p *Proxy) pipe(src, dst net.Conn) {
	defer p.wg.Done()
	q := make(chan chunk, 256)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				q <- chunk{buf[:n], time.Now()}
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		p.mu.Lock()
		delete(p.conns, src)
		delete(p.conns, dst)
		p.mu.Unlock()
		src.Close()
		dst.Close()
		for range q { // let the reader end
		}
	}()
	for c := range q {
		p.mu.Lock()
		for {
			if p.closed {
				p.mu.Unlock()
				return
			}
			wait := time.Until(c.at.Add(p.latency))
			if !p.cut && wait <= 0 {
				break
			}
			if !p.cut {
				p.mu.Unlock()
				time.Sleep(wait)
				p.mu.Lock()
				continue
			}
			p.cond.Wait()
		}
		p.mu.Unlock()
		if _, err := dst.Write(c.b); err != nil {
			return
		}
	}
}

var _ io.Closer = (*Proxy)(nil)

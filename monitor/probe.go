package monitor

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/amqptop/amqptop/model"
	amqp "github.com/rabbitmq/amqp091-go"
)

// Probe is amqptop's own client: it publishes with publisher confirms to a
// server-named, exclusive, auto-delete queue and consumes it, measuring the
// round trip and the confirm latency; a frame tap on its socket sees the
// heartbeat frames; every close and every reconnect attempt is reported.
type Probe struct {
	Target    *Target
	Client    string        // client-provided name, e.g. amqptop-probe@host
	Heartbeat time.Duration // requested heartbeat (default 10s)
	Interval  time.Duration // publish interval (default 1s)
	TLS       *tls.Config   // for amqps (default: verify against the system roots); its first certificate is sent whenever the broker asks for one (see TLSFiles)
	MinDelay  time.Duration // first reconnect delay (default 1s)
	MaxDelay  time.Duration // reconnect delay cap (default 10s)

	Dropped atomic.Uint64 // heartbeat notices dropped because the loop was behind
}

func (p *Probe) defaults() {
	if p.Heartbeat <= 0 {
		p.Heartbeat = 10 * time.Second
	}
	if p.Interval <= 0 {
		p.Interval = time.Second
	}
	if p.MinDelay <= 0 {
		p.MinDelay = time.Second
	}
	if p.MaxDelay <= 0 {
		// A node that restarts answers within seconds; a refused TCP
		// connect costs it nothing.
		p.MaxDelay = 10 * time.Second
	}
	if p.Client == "" {
		p.Client = "amqptop-probe"
	}
}

// Run implements model.Feed. It connects, probes until the connection
// closes, and reconnects with capped exponential backoff and jitter until
// ctx is done; then it closes its connection cleanly (the queue goes with it).
func (p *Probe) Run(ctx context.Context, emit func(model.Observation)) error {
	p.defaults()
	status := statusReporter(model.SourceProbe, emit)
	reconnect(ctx, retryPolicy{min: p.MinDelay, max: p.MaxDelay, refused: refusedRetry},
		func(attempt int) (bool, error) { return p.session(ctx, emit, attempt, status) },
		func(attempt int, delay time.Duration, err error) time.Duration {
			msg := p.Target.Redact(err.Error())
			status(model.HealthDown, msg, connAdvice(err, msg, p.Target))
			emit(model.ProbeReconnecting{Meta: meta(model.SourceProbe), Attempt: attempt, Delay: delay, Error: msg})
			return delay
		})
	return nil
}

func meta(src model.Source) model.Meta { return model.Meta{Time: time.Now(), Source: src} }

// statusFunc reports a source's health, with what to do about it.
type statusFunc func(h model.Health, detail string, a advice)

// statusReporter returns a function that reports a source's health, only
// when it (or its detail or condition) changed.
func statusReporter(src model.Source, emit func(model.Observation)) statusFunc {
	var last string
	return func(h model.Health, detail string, a advice) {
		if key := h.String() + "\x00" + detail + "\x00" + a.cond; key != last {
			last = key
			emit(model.SourceStatus{Meta: meta(src), Of: src, Health: h, Detail: detail, Hint: a.hint, Condition: a.cond})
		}
	}
}

// amqpAdvice says what to check when an AMQP connection failed with msg.
func amqpAdvice(msg string, t *Target) advice {
	switch {
	case strings.Contains(msg, "username or password not allowed"), strings.Contains(msg, "ACCESS_REFUSED"):
		return advice{condCredentialsRefused, "the broker refused the user name or password: rabbitmqctl authenticate_user USER PASSWORD on the broker tells whether they work"}
	case strings.Contains(msg, "no access to this vhost"), strings.Contains(msg, "NOT_ALLOWED"):
		return advice{condVhostRefused, fmt.Sprintf("the user %q needs access to vhost %q: rabbitmqctl set_permissions -p %q %s '^amq\\.gen-.*' '^amq\\.gen-.*' '^amq\\.gen-.*'", t.User, t.Vhost, t.Vhost, t.User)}
	case strings.Contains(msg, "connection refused"):
		return advice{condConnectionRefused, "is the broker running and listening on " + t.AMQP.Host + "? (rabbitmq-diagnostics listeners)"}
	case strings.Contains(msg, "no such host"), strings.Contains(msg, "server misbehaving"):
		return advice{condDNSFailed, "the host name does not resolve from here"}
	case strings.Contains(msg, "x509: certificate signed by unknown authority"):
		return advice{condTLSUnknownAuthority, hintTLSUnknownAuthority}
	case strings.Contains(msg, "x509: certificate is valid for"), strings.Contains(msg, "x509: certificate is not valid for any names"):
		return advice{condTLSNameMismatch, hintTLSNameMismatch}
	case strings.Contains(msg, "tls: certificate required"):
		return advice{condTLSClientCertRequired, hintTLSClientCertReq}
	case strings.Contains(msg, "first record does not look like a TLS handshake"):
		return advice{condTLSOnPlainPort, hintTLSOnPlainPort}
	case strings.Contains(msg, "x509"), strings.Contains(msg, "tls:"):
		return advice{condTLSFailed, "TLS failed: the broker's certificate must be signed by a CA trusted here and name the host connected to; amqps listens on 5671"}
	}
	return advice{}
}

// beat is one heartbeat frame the tap saw.
type beat struct {
	sent bool
	at   time.Time
}

// sample is one probe message in flight.
type sample struct {
	sent      time.Time
	confirmed time.Duration
	delivered time.Duration
	haveConf  bool
	haveDeliv bool
}

// session runs one connection. connected reports whether it got as far as
// probing; err says why it ended.
func (p *Probe) session(ctx context.Context, emit func(model.Observation), attempt int, status statusFunc) (connected bool, err error) {
	beats := make(chan beat, 64)
	var tap *frameTap
	info := &dialInfo{}
	cfg := amqp.Config{
		Heartbeat:  p.Heartbeat,
		Properties: amqp.NewConnectionProperties(),
		Dial:       p.dialer(&tap, beats, info),
	}
	cfg.Properties.SetClientConnectionName(p.Client)
	cfg.Properties["product"] = "amqptop"
	conn, err := amqp.DialConfig(p.plainURL(), cfg)
	if err != nil {
		return false, explainDial(err, info)
	}
	defer conn.Close()

	closed := conn.NotifyClose(make(chan *amqp.Error, 1))
	blocked := conn.NotifyBlocked(make(chan amqp.Blocking, 4))
	pub, err := conn.Channel()
	if err != nil {
		return false, fmt.Errorf("opening the probe's publishing channel: %w", err)
	}
	sub, err := conn.Channel()
	if err != nil {
		return false, fmt.Errorf("opening the probe's consuming channel: %w", err)
	}
	pubClosed := pub.NotifyClose(make(chan *amqp.Error, 1))
	subClosed := sub.NotifyClose(make(chan *amqp.Error, 1))
	cancels := sub.NotifyCancel(make(chan string, 1))
	returns := pub.NotifyReturn(make(chan amqp.Return, 16))
	if err := pub.Confirm(false); err != nil {
		return false, fmt.Errorf("confirm mode: %w", err)
	}
	confirms := pub.NotifyPublish(make(chan amqp.Confirmation, 256))
	q, err := sub.QueueDeclare("", false, true, true, false, amqp.Table{"x-message-ttl": int32(60_000)})
	if err != nil {
		return false, fmt.Errorf("declaring the probe's queue: %w", err)
	}
	deliveries, err := sub.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		return false, fmt.Errorf("consuming the probe's queue: %w", err)
	}

	name := conn.LocalAddr().String() + " -> " + conn.RemoteAddr().String()
	server := fmt.Sprint(conn.Properties["product"], " ", conn.Properties["version"])
	emit(model.ProbeConnected{Meta: meta(model.SourceProbe), Conn: name, Client: p.Client, User: p.Target.User,
		Vhost: p.Target.Vhost, Heartbeat: conn.Config.Heartbeat, ChannelMax: int(conn.Config.ChannelMax),
		FrameMax: conn.Config.FrameSize, Server: strings.TrimSpace(server), Attempt: attempt})
	detail, adv := p.tlsStatus("connected as "+name, info)
	status(model.HealthUp, detail, adv)

	closeObs := func(ch int, e *amqp.Error) model.ProbeClosed {
		pc := model.ProbeClosed{Meta: meta(model.SourceProbe), Conn: name, Channel: ch}
		if e != nil {
			pc.Code, pc.Text, pc.ByServer, pc.Error = e.Code, p.Target.Redact(e.Reason), e.Server, p.Target.Redact(e.Error())
		}
		return pc
	}
	tick := time.NewTicker(p.Interval)
	defer tick.Stop()
	timeout := max(5*time.Second, 3*p.Interval)
	pending := map[uint64]*sample{}
	var seq uint64
	report := func(tag uint64, s *sample) {
		if s.haveConf && s.haveDeliv {
			emit(model.ProbeLatency{Meta: meta(model.SourceProbe), RoundTrip: s.delivered, Confirm: s.confirmed})
			delete(pending, tag)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case e := <-closed:
			emit(closeObs(0, e))
			if e == nil {
				return true, errors.New("connection closed")
			}
			return true, e
		case e := <-pubClosed:
			return true, p.channelGone(conn, closed, emit, closeObs, 1, e)
		case e := <-subClosed:
			return true, p.channelGone(conn, closed, emit, closeObs, 2, e)
		case tag := <-cancels:
			return true, fmt.Errorf("the broker cancelled the probe's consumer %s (its queue was deleted?)", tag)
		case b := <-blocked:
			emit(model.ProbeBlocked{Meta: meta(model.SourceProbe), Active: b.Active, Reason: b.Reason})
		case b := <-beats:
			emit(model.ProbeHeartbeat{Meta: model.Meta{Time: b.at, Source: model.SourceProbe}, Sent: b.sent})
		case c := <-confirms:
			if s := pending[c.DeliveryTag]; s != nil {
				s.confirmed, s.haveConf = time.Since(s.sent), true
				report(c.DeliveryTag, s)
			}
		case d, ok := <-deliveries:
			if !ok {
				return true, errors.New("the probe's consumer stopped")
			}
			if len(d.Body) == 8 {
				tag := binary.BigEndian.Uint64(d.Body)
				if s := pending[tag]; s != nil {
					s.delivered, s.haveDeliv = time.Since(s.sent), true
					report(tag, s)
				}
			}
		case r := <-returns:
			if len(r.Body) == 8 {
				delete(pending, binary.BigEndian.Uint64(r.Body))
			}
			emit(model.ProbeLatency{Meta: meta(model.SourceProbe), Lost: true})
		case now := <-tick.C:
			for tag, s := range pending {
				if now.Sub(s.sent) > timeout {
					delete(pending, tag)
					emit(model.ProbeLatency{Meta: meta(model.SourceProbe), Lost: true})
				}
			}
			seq++
			body := make([]byte, 8)
			binary.BigEndian.PutUint64(body, seq)
			pending[seq] = &sample{sent: time.Now()}
			pctx, cancel := context.WithTimeout(ctx, timeout)
			err := pub.PublishWithContext(pctx, "", q.Name, true, false, amqp.Publishing{Body: body, DeliveryMode: amqp.Transient})
			cancel()
			if err != nil {
				return true, fmt.Errorf("publishing: %w", err)
			}
		}
	}
}

// channelGone reports a channel closed by the broker, then ends the
// session (the reconnect opens fresh channels); a connection close that
// races with it is reported instead.
func (p *Probe) channelGone(conn *amqp.Connection, closed <-chan *amqp.Error, emit func(model.Observation),
	closeObs func(int, *amqp.Error) model.ProbeClosed, ch int, e *amqp.Error) error {
	select {
	case ce := <-closed:
		emit(closeObs(0, ce))
		if ce == nil {
			return errors.New("connection closed")
		}
		return ce
	case <-time.After(50 * time.Millisecond):
	}
	emit(closeObs(ch, e))
	if e == nil {
		return fmt.Errorf("channel %d closed", ch)
	}
	return e
}

// plainURL returns the URL amqp091-go dials: for amqps the TLS handshake
// happens in our dialer (so the tap counts frames above TLS), so the
// library is given amqp:// with the port made explicit.
func (p *Probe) plainURL() string {
	u := *p.Target.AMQP
	if u.Scheme == "amqps" {
		u.Scheme = "amqp"
		if u.Port() == "" {
			u.Host = net.JoinHostPort(u.Hostname(), "5671")
		}
	}
	if u.Path == "" {
		u.Path = "/" + url.PathEscape(p.Target.Vhost)
	}
	return u.String()
}

// usesTLS reports whether the probe's connections use TLS.
func (p *Probe) usesTLS() bool { return p.Target.AMQP.Scheme == "amqps" }

// verifyOff reports whether its TLS connections skip verifying the
// broker's certificate.
func (p *Probe) verifyOff() bool { return p.usesTLS() && p.TLS != nil && p.TLS.InsecureSkipVerify }

// tlsStatus completes an Up status's detail with the connection's TLS
// version, and says when the broker's certificate is not verified.
func (p *Probe) tlsStatus(detail string, info *dialInfo) (string, advice) {
	if !p.usesTLS() {
		return detail, advice{}
	}
	d := info.snapshot()
	detail += " over " + tlsVersion(d.version)
	if d.certSent {
		detail += " with a client certificate"
	}
	if p.verifyOff() {
		return detail + ", without verifying the broker's certificate", advice{condTLSVerifyOff, hintTLSVerifyOff}
	}
	return detail, advice{}
}

// dialer connects for amqp091-go: TCP, the TLS handshake for amqps (so
// the frame tap above it counts AMQP frames), noting in info what it saw
// for explainDial.
func (p *Probe) dialer(tap **frameTap, beats chan<- beat, info *dialInfo) func(network, addr string) (net.Conn, error) {
	return func(network, addr string) (net.Conn, error) {
		info.note(func(d *dialInfo) { d.addr, d.tls = addr, p.usesTLS() })
		c, err := net.DialTimeout(network, addr, 15*time.Second)
		if err != nil {
			return nil, err
		}
		if p.usesTLS() {
			tc := tls.Client(c, clientTLS(p.TLS, p.Target.AMQP.Hostname(), info))
			_ = tc.SetDeadline(time.Now().Add(15 * time.Second))
			if err := tc.Handshake(); err != nil {
				c.Close()
				return nil, err
			}
			_ = tc.SetDeadline(time.Time{})
			v := tc.ConnectionState().Version
			info.note(func(d *dialInfo) { d.handshook, d.version = true, v })
			c = tc
		}
		c = &headConn{Conn: c, d: info}
		// The handshake must finish within the connection timeout; the
		// library clears the deadline once it is open.
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		t := newFrameTap(c, func(sent bool, at time.Time) {
			select {
			case beats <- beat{sent: sent, at: at}:
			default:
				p.Dropped.Add(1)
			}
		})
		*tap = t
		return t, nil
	}
}

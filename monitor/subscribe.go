package monitor

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/amqptop/amqptop/model/wire"
	"math/big"
	"strings"
	"time"

	"github.com/amqptop/amqptop/model"
	amqp "github.com/rabbitmq/amqp091-go"
)

// StreamKind says which of the broker's push streams a Subscriber follows.
type StreamKind uint8

// The push streams.
const (
	EventStream StreamKind = iota // amq.rabbitmq.event (plugin rabbitmq_event_exchange)
	LogStream                     // amq.rabbitmq.log (log.exchange = true)
)

func (k StreamKind) exchange() string {
	if k == LogStream {
		return "amq.rabbitmq.log"
	}
	return "amq.rabbitmq.event"
}

func (k StreamKind) source() model.Source {
	if k == LogStream {
		return model.SourceLog
	}
	return model.SourceEvents
}

// missing is what to do when the stream's exchange does not exist.
func (k StreamKind) missing() advice {
	if k == LogStream {
		return advice{condLogExchangeMissing, "set log.exchange = true (and log.exchange.level = info) in rabbitmq.conf and restart the node"}
	}
	return advice{condEventExchangeMissing, "rabbitmq-plugins enable rabbitmq_event_exchange"}
}

// waiting is the condition while the exchange is expected to appear.
func (k StreamKind) waiting() advice {
	if k == LogStream {
		return advice{cond: condLogExchangeWaiting}
	}
	return advice{cond: condEventExchangeWaiting}
}

// Subscriber follows the event exchange or the log exchange with its own
// connection and a server-named, exclusive, auto-delete queue (capped with
// x-max-length, as the event exchange's docs advise), bound to every key.
//
// A node declares amq.rabbitmq.log a few seconds after it accepts
// connections (its log handler retries every few seconds), so a missing
// exchange right after a boot or a reconnect is not a missing setting: it
// is looked for again every WaitEvery for WaitFor, reported as "waiting",
// and only then as off with the hint to enable it (and looked for every
// 30 s after that).
type Subscriber struct {
	Target    *Target
	Kind      StreamKind
	Client    string      // client-provided name, e.g. amqptop-events@host
	Vhost     string      // the exchanges live in "/" by default
	TLS       *tls.Config // for amqps
	MaxDelay  time.Duration
	WaitFor   time.Duration // how long a missing exchange is expected to appear (default 3m)
	WaitEvery time.Duration // how often it is looked for meanwhile (default 3s)
}

// Run implements model.Feed.
func (s *Subscriber) Run(ctx context.Context, emit func(model.Observation)) error {
	if s.Vhost == "" {
		s.Vhost = "/"
	}
	if s.MaxDelay <= 0 {
		s.MaxDelay = 10 * time.Second
	}
	if s.WaitFor <= 0 {
		s.WaitFor = 3 * time.Minute
	}
	if s.WaitEvery <= 0 {
		s.WaitEvery = 3 * time.Second
	}
	src := s.Kind.source()
	status := statusReporter(src, emit)
	// Missing since: the exchange has been missing since then, as seen
	// from a connection that worked; reset whenever the connection is lost
	// (a reconnect may be to a node that just booted).
	var missingSince time.Time
	reconnect(ctx, retryPolicy{min: time.Second, max: s.MaxDelay, refused: refusedRetry},
		func(int) (bool, error) { return s.session(ctx, emit, status) },
		func(_ int, delay time.Duration, err error) time.Duration {
			var ae *amqp.Error
			if errors.As(err, &ae) && ae.Code == amqp.NotFound && strings.Contains(ae.Reason, s.Kind.exchange()) {
				now := time.Now()
				if missingSince.IsZero() {
					missingSince = now
				}
				if now.Sub(missingSince) < s.WaitFor {
					status(model.HealthDegraded, "waiting for "+s.Kind.exchange()+" (a node declares it a few seconds after it starts)", s.Kind.waiting())
					return s.WaitEvery
				}
				status(model.HealthOff, s.Kind.exchange()+" does not exist", s.Kind.missing())
				return max(delay, 30*time.Second) // it won't appear by itself soon
			}
			missingSince = time.Time{}
			msg := s.Target.Redact(err.Error())
			status(model.HealthDown, msg, connAdvice(err, msg, s.Target))
			return delay
		})
	return nil
}

func (s *Subscriber) session(ctx context.Context, emit func(model.Observation), status statusFunc) (bool, error) {
	p := &Probe{Target: s.Target, TLS: s.TLS}
	u := *s.Target
	u.Vhost = s.Vhost
	p.Target = &u
	info := &dialInfo{}
	cfg := amqp.Config{Heartbeat: 10 * time.Second, Properties: amqp.NewConnectionProperties(), Vhost: s.Vhost,
		Dial: p.dialer(new(*frameTap), nil, info)}
	cfg.Properties.SetClientConnectionName(s.Client)
	cfg.Properties["product"] = "amqptop"
	conn, err := amqp.DialConfig(p.plainURL(), cfg)
	if err != nil {
		return false, explainDial(err, info)
	}
	defer conn.Close()
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))
	conn.NotifyBlocked(make(chan amqp.Blocking, 4)) // registered so a blocked notice never stalls the library; nothing to do
	ch, err := conn.Channel()
	if err != nil {
		return false, err
	}
	q, err := ch.QueueDeclare("", false, true, true, false, amqp.Table{"x-max-length": int32(100_000)})
	if err != nil {
		return false, fmt.Errorf("declaring a queue for %s: %w", s.Kind.exchange(), err)
	}
	if err := ch.QueueBind(q.Name, "#", s.Kind.exchange(), false, nil); err != nil {
		return false, err
	}
	msgs, err := ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		return false, err
	}
	detail, adv := p.tlsStatus("subscribed to "+s.Kind.exchange(), info)
	status(model.HealthUp, detail, adv)
	for {
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case e := <-closed:
			if e == nil {
				return true, errors.New("connection closed")
			}
			return true, e
		case d, ok := <-msgs:
			if !ok {
				return true, errors.New("the broker cancelled the subscription")
			}
			if o := s.decode(d); o != nil {
				emit(o)
			}
		}
	}
}

// decode turns a delivery into an observation.
func (s *Subscriber) decode(d amqp.Delivery) model.Observation {
	src := s.Kind.source()
	h := plainTable(d.Headers)
	t := time.Now()
	if ms := wire.HeaderInt(h, "timestamp_in_ms"); ms > 0 {
		t = time.UnixMilli(ms)
	}
	if s.Kind == EventStream {
		return model.BrokerEvent{Meta: model.Meta{Time: t, Source: src}, Key: d.RoutingKey, Headers: h}
	}
	text := strings.TrimRight(string(d.Body), "\n")
	entry := model.LogEntry{Meta: model.Meta{Time: t, Source: src}, Node: wire.HeaderString(h, "node"), Level: wire.NormLevel(d.RoutingKey), Text: text}
	// The body may carry the formatted line(s) with their prefixes.
	lines := strings.Split(text, "\n")
	if l, ok := wire.ParseLogLine(lines[0]); ok {
		var body []string
		for _, line := range lines {
			if ll, ok := wire.ParseLogLine(line); ok {
				body = append(body, ll.Text)
			} else {
				body = append(body, line)
			}
		}
		entry.Text, entry.PID = strings.Join(body, "\n"), l.PID
		if !l.Time.IsZero() {
			entry.Time = l.Time
		}
	}
	if ms := wire.HeaderInt(h, "timestamp_in_ms"); ms == 0 && !d.Timestamp.IsZero() && entry.Time.Equal(t) {
		entry.Time = d.Timestamp
	}
	return entry
}

// plainTable converts an AMQP table into plain Go values: strings, int64,
// float64, bool, []any and map[string]any, so no library type leaves the
// package.
func plainTable(t amqp.Table) map[string]any {
	out := make(map[string]any, len(t))
	for k, v := range t {
		out[k] = plainValue(v)
	}
	return out
}

func plainValue(v any) any {
	switch x := v.(type) {
	case amqp.Table:
		return plainTable(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plainValue(e)
		}
		return out
	case []byte:
		return string(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case float32:
		return float64(x)
	case amqp.Decimal:
		r := new(big.Rat).SetFrac(big.NewInt(int64(x.Value)), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(x.Scale)), nil))
		return r.FloatString(int(x.Scale))
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	}
	return v
}

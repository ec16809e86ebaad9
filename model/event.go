package model

import (
	"fmt"
	"time"
)

// EventType names what happened. The string values are a contract (the
// JSON "type" field): add, never rename.
type EventType string

// Event types.
const (
	ConnOpened        EventType = "connection.opened"
	ConnSeen          EventType = "connection.seen" // already open when amqptop started (its first complete listing)
	ConnClosed        EventType = "connection.closed"
	ConnStateChanged  EventType = "connection.state"
	ChanOpened        EventType = "channel.opened"
	ChanClosed        EventType = "channel.closed"
	AlarmSet          EventType = "alarm.set"
	AlarmCleared      EventType = "alarm.cleared"
	HeartbeatAtRisk   EventType = "heartbeat.at-risk"
	HeartbeatOK       EventType = "heartbeat.ok"
	HeartbeatDisabled EventType = "heartbeat.disabled"
	ClientReconnected EventType = "client.reconnected"
	ClientFlapping    EventType = "client.flapping"
	NodeDown          EventType = "node.down"
	NodeUp            EventType = "node.up"
	NodeRestarted     EventType = "node.restarted"
	ProbeUp           EventType = "probe.connected"
	ProbeRetry        EventType = "probe.reconnecting"
	ProbeIsBlocked    EventType = "probe.blocked"
	ProbeIsUnblocked  EventType = "probe.unblocked"
	SourceChanged     EventType = "source.status"
	BrokerLogged      EventType = "broker.log"
)

// Severity orders events for filtering and colour.
type Severity uint8

// Severities.
const (
	SevInfo Severity = iota
	SevWarn
	SevError
)

var sevNames = [...]string{"info", "warn", "error"}

func (s Severity) String() string {
	if int(s) < len(sevNames) {
		return sevNames[s]
	}
	return fmt.Sprintf("severity(%d)", s)
}

// ParseSeverity reads "info", "warn" or "error".
func ParseSeverity(s string) (Severity, error) {
	for i, n := range sevNames {
		if n == s {
			return Severity(i), nil
		}
	}
	if s == "warning" {
		return SevWarn, nil
	}
	return SevInfo, fmt.Errorf("unknown severity %q (info, warn, error)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// CauseRef names a root cause on an event.
type CauseRef struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// Event is one thing amqptop derived from its observations. Fields that do
// not apply to a type are zero and left out of the JSON form.
type Event struct {
	Seq      uint64    // position in this run's stream, from 1
	ID       uint64    // stable identity: the Seq of its first emission; an update repeats it
	Update   bool      // this event revises an earlier one with the same ID
	Time     time.Time // when it happened (the observation's time)
	Type     EventType
	Severity Severity
	Source   Source

	Node    string
	Conn    string // the broker's connection name
	Client  string // client-provided name
	User    string
	Vhost   string
	Peer    string
	Channel int
	Code    int
	Text    string

	Cause     *CauseRef
	Diagnosis *Diagnosis // full diagnosis for closes (nil otherwise)

	// Type-specific fields.
	From, To  string        // connection.state: old and new state
	Alarm     string        // alarm.*: "memory" or "disk"
	Heartbeat time.Duration // heartbeat.*, connection.opened
	Silent    time.Duration // heartbeat.at-risk: time since bytes last came in
	Downtime  time.Duration // client.reconnected, probe.connected: time since the close
	Count     int           // client.flapping: reconnects in the window; probe.reconnecting: attempt
	Window    time.Duration // client.flapping: the window counted
	Delay     time.Duration // probe.reconnecting: wait before the next attempt
	Health    Health        // source.status
	Hint      string        // source.status: what to do
	Level     string        // broker.log: the entry's level
	Detail    string        // free text for humans (source.status reason, close summary)
	Evidence  []string      // what the diagnosis rests on, one line each
	ByServer  bool          // connection.closed: the broker closed it
	Pending   bool          // connection.closed: emitted at the settle deadline without the broker's reason
}

// Fault reports whether the event is a failure worth a person's attention.
func (e *Event) Fault() bool { return e.Severity >= SevWarn }

// Subject returns a short human name for the connection the event is about:
// the client-provided name, else the connection name.
func (e *Event) Subject() string {
	if e.Client != "" {
		return e.Client
	}
	if e.User != "" && e.Peer != "" {
		return e.User + "@" + hostOf(e.Peer)
	}
	if e.Conn != "" {
		return e.Conn
	}
	return e.Node
}

package model

import (
	"context"
	"time"
)

// Observation is one raw thing a source saw, with its own timestamp.
// The concrete types below are the complete set; State.Apply switches on them.
type Observation interface {
	// At is when the source saw it.
	At() time.Time
	// From is the source that produced it.
	From() Source
}

// Meta is embedded in every observation: when and from where.
type Meta struct {
	Time   time.Time `json:"ts"`
	Source Source    `json:"source"`
}

// At implements Observation.
func (m Meta) At() time.Time { return m.Time }

// From implements Observation.
func (m Meta) From() Source { return m.Source }

// MgmtSnapshot is one poll of the management API. A part that could not be
// fetched is marked not OK and is not diffed (a failed list is not a cluster
// with no connections).
type MgmtSnapshot struct {
	Meta
	Overview      Overview     `json:"overview"`
	Nodes         []Node       `json:"nodes,omitempty"`
	NodesOK       bool         `json:"nodes_ok"`
	Connections   []Connection `json:"connections,omitempty"`
	ConnectionsOK bool         `json:"connections_ok"`
	// ConnectionsPaged: the list came in more than one page, read one
	// after the other while it changed; an item can be skipped at a page
	// boundary, so one listing without a connection does not close it.
	ConnectionsPaged bool      `json:"connections_paged,omitempty"`
	Channels         []Channel `json:"channels,omitempty"`
	ChannelsOK       bool      `json:"channels_ok"`
	// Unavailable names columns the broker does not report (stats disabled).
	Unavailable []string `json:"unavailable,omitempty"`
}

// BrokerEvent is one message of the event exchange (amq.rabbitmq.event):
// its routing key and headers. Header values are strings, int64, float64,
// bool, []any or map[string]any, as the monitor decoded them from the AMQP
// table; Erlang terms inside strings are left as the broker sent them.
type BrokerEvent struct {
	Meta
	Key     string         `json:"key"`
	Headers map[string]any `json:"headers"`
}

// LogEntry is one entry of the broker's log: its message text without the
// line prefix (several lines joined by "\n" for a multi-line entry).
type LogEntry struct {
	Meta
	Node  string `json:"node,omitempty"`
	Level string `json:"level,omitempty"`
	PID   string `json:"pid,omitempty"` // the Erlang process that logged it, when the prefix gives it
	Text  string `json:"text"`
}

// ProbeConnected reports that the probe's connection and channels are open.
type ProbeConnected struct {
	Meta
	Conn       string        `json:"conn"` // the broker's name for it: "local -> remote"
	Client     string        `json:"client"`
	User       string        `json:"user,omitempty"`
	Vhost      string        `json:"vhost,omitempty"`
	Node       string        `json:"node,omitempty"`
	Heartbeat  time.Duration `json:"heartbeat"`
	ChannelMax int           `json:"channel_max,omitempty"`
	FrameMax   int           `json:"frame_max,omitempty"`
	Server     string        `json:"server,omitempty"` // product and version the broker announced
	Attempt    int           `json:"attempt,omitempty"`
}

// ProbeClosed reports the probe's connection (or one of its channels) closing.
type ProbeClosed struct {
	Meta
	Conn    string `json:"conn"`
	Channel int    `json:"channel,omitempty"` // 0 for the connection
	Code    int    `json:"code,omitempty"`
	Text    string `json:"text,omitempty"`
	// ByServer is true when the broker sent the close (a close frame),
	// false when the client library detected it (a socket error).
	ByServer bool `json:"by_server"`
	// Error is the close as the client library prints it.
	Error string `json:"error,omitempty"`
}

// ProbeBlocked reports connection.blocked (Active) or connection.unblocked.
type ProbeBlocked struct {
	Meta
	Active bool   `json:"active"`
	Reason string `json:"reason,omitempty"`
}

// ProbeLatency is one round trip of the probe: publish to delivery, and
// publish to confirm. Lost means the message did not come back in time.
type ProbeLatency struct {
	Meta
	RoundTrip time.Duration `json:"round_trip"`
	Confirm   time.Duration `json:"confirm"`
	Lost      bool          `json:"lost,omitempty"`
}

// ProbeHeartbeat is one heartbeat frame seen on the probe's socket.
type ProbeHeartbeat struct {
	Meta
	Sent bool `json:"sent"` // true: sent to the broker; false: received from it
}

// ProbeReconnecting reports a connection attempt that failed and the wait
// before the next one.
type ProbeReconnecting struct {
	Meta
	Attempt int           `json:"attempt"`
	Delay   time.Duration `json:"delay"`
	Error   string        `json:"error,omitempty"`
}

// SourceStatus reports a source's own health, with the reason and a hint
// (what the user can do) when it is not up. Of names the source it is
// about (the demo reports on its simulated sources).
type SourceStatus struct {
	Meta
	Of     Source `json:"of"`
	Health Health `json:"health"`
	Detail string `json:"detail,omitempty"`
	Hint   string `json:"hint,omitempty"`
	// Condition names what is wrong in a stable word the command line can
	// turn into advice naming its own flags (the sources don't know them):
	// e.g. "log-exchange-missing", "credentials-refused". Empty when Hint
	// says it all.
	Condition string `json:"condition,omitempty"`
}

// Tick moves time forward when nothing else arrives, so that deadlines
// (settling closes, heartbeat risk) pass in observation time.
type Tick struct{ Meta }

// Feed is anything that produces observations: the live monitor's sources,
// the demo, a replay. Run emits until ctx is done or the feed ends; emit
// must be called from one goroutine at a time per feed.
type Feed interface {
	Run(ctx context.Context, emit func(Observation)) error
}

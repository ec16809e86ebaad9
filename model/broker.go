package model

import (
	"fmt"
	"strings"
	"time"
)

// ConnState is a connection's state as the broker reports it, plus the
// states amqptop derives (closed).
type ConnState uint8

// Connection states, in the broker's words.
const (
	StateUnknown ConnState = iota
	StateStarting
	StateTuning
	StateOpening
	StateRunning
	StateFlow
	StateBlocking
	StateBlocked
	StateClosing
	StateClosed
)

var connStateNames = [...]string{"unknown", "starting", "tuning", "opening", "running", "flow", "blocking", "blocked", "closing", "closed"}

func (s ConnState) String() string {
	if int(s) < len(connStateNames) {
		return connStateNames[s]
	}
	return fmt.Sprintf("state(%d)", s)
}

// ParseConnState reads the broker's state word; unknown words give StateUnknown.
func ParseConnState(s string) ConnState {
	for i, n := range connStateNames {
		if n == s {
			return ConnState(i)
		}
	}
	return StateUnknown
}

// MarshalText implements encoding.TextMarshaler.
func (s ConnState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *ConnState) UnmarshalText(b []byte) error { *s = ParseConnState(string(b)); return nil }

// Held reports whether publishers on the connection are being held back.
func (s ConnState) Held() bool { return s == StateBlocked || s == StateBlocking || s == StateFlow }

// Node is one RabbitMQ node as the management API describes it.
type Node struct {
	Name          string        `json:"name"`
	Running       bool          `json:"running"`
	MemUsed       uint64        `json:"mem_used"`
	MemLimit      uint64        `json:"mem_limit"`
	MemAlarm      bool          `json:"mem_alarm"`
	DiskFree      uint64        `json:"disk_free"`
	DiskFreeLimit uint64        `json:"disk_free_limit"`
	DiskAlarm     bool          `json:"disk_free_alarm"`
	FDUsed        int           `json:"fd_used,omitempty"`
	FDTotal       int           `json:"fd_total,omitempty"`
	Uptime        time.Duration `json:"uptime"`
	Partitions    []string      `json:"partitions,omitempty"`
}

// Alarms lists the node's active resource alarms ("memory", "disk").
func (n Node) Alarms() []string {
	var a []string
	if n.MemAlarm {
		a = append(a, "memory")
	}
	if n.DiskAlarm {
		a = append(a, "disk")
	}
	return a
}

// Overview is the cluster-wide summary of /api/overview.
type Overview struct {
	ClusterName       string  `json:"cluster_name,omitempty"`
	RabbitVersion     string  `json:"rabbitmq_version,omitempty"`
	ErlangVersion     string  `json:"erlang_version,omitempty"`
	ManagementVersion string  `json:"management_version,omitempty"`
	Node              string  `json:"node,omitempty"`
	Connections       int     `json:"connections"`
	Channels          int     `json:"channels"`
	Queues            int     `json:"queues"`
	Consumers         int     `json:"consumers"`
	PublishRate       float64 `json:"publish_rate"`
	DeliverRate       float64 `json:"deliver_rate"`
}

// Connection is one AMQP connection as a source reports it.
type Connection struct {
	Name         string        `json:"name"`             // the broker's name: "peer host:port -> local host:port"
	Client       string        `json:"client,omitempty"` // client-provided name (connection_name)
	User         string        `json:"user,omitempty"`
	Vhost        string        `json:"vhost,omitempty"`
	Peer         string        `json:"peer,omitempty"` // host:port of the client
	Node         string        `json:"node,omitempty"`
	PID          string        `json:"pid,omitempty"` // Erlang pid, when a source gives it
	Protocol     string        `json:"protocol,omitempty"`
	State        ConnState     `json:"state"`
	Heartbeat    time.Duration `json:"heartbeat"` // negotiated; 0 = disabled
	ChannelMax   int           `json:"channel_max,omitempty"`
	FrameMax     int           `json:"frame_max,omitempty"`
	ConnectedAt  time.Time     `json:"connected_at,omitzero"`
	RecvBytes    uint64        `json:"recv_oct"`
	SendBytes    uint64        `json:"send_oct"`
	RecvRate     float64       `json:"recv_rate"` // bytes per second
	SendRate     float64       `json:"send_rate"`
	Channels     int           `json:"channels"`
	TLS          bool          `json:"tls,omitempty"`
	TLSProtocol  string        `json:"tls_protocol,omitempty"`
	Product      string        `json:"product,omitempty"` // client_properties.product
	Version      string        `json:"version,omitempty"`
	Platform     string        `json:"platform,omitempty"`
	Capabilities []string      `json:"capabilities,omitempty"`
	StatsMissing bool          `json:"stats_missing,omitempty"` // the broker does not report state and rates
}

// PeerHost returns the host part of the peer address.
func (c Connection) PeerHost() string { return hostOf(c.Peer) }

// Channel is one AMQP channel as the management API reports it.
type Channel struct {
	Conn           string  `json:"conn"` // the connection's broker name
	Number         int     `json:"number"`
	Node           string  `json:"node,omitempty"`
	User           string  `json:"user,omitempty"`
	Vhost          string  `json:"vhost,omitempty"`
	State          string  `json:"state,omitempty"` // running, flow, idle, starting, closing
	Prefetch       int     `json:"prefetch"`
	GlobalPrefetch int     `json:"global_prefetch,omitempty"`
	Unacked        int     `json:"unacked"`
	Unconfirmed    int     `json:"unconfirmed"`
	Consumers      int     `json:"consumers"`
	Confirm        bool    `json:"confirm"`
	Transactional  bool    `json:"transactional,omitempty"`
	PublishRate    float64 `json:"publish_rate"`
	DeliverRate    float64 `json:"deliver_rate"`
	AckRate        float64 `json:"ack_rate"`
}

// Key identifies a channel across snapshots.
func (c Channel) Key() ChannelKey { return ChannelKey{c.Conn, c.Number} }

// ChannelKey identifies a channel: its connection's name and its number.
type ChannelKey struct {
	Conn   string
	Number int
}

// hostOf returns the host of "host:port" (IPv6 in brackets or bare).
func hostOf(addr string) string {
	if addr == "" {
		return ""
	}
	if strings.HasPrefix(addr, "[") {
		if i := strings.Index(addr, "]"); i > 0 {
			return addr[1:i]
		}
	}
	if i := strings.LastIndexByte(addr, ':'); i >= 0 && strings.Count(addr, ":") == 1 {
		return addr[:i]
	}
	return addr
}

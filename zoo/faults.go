// Package zoo is the client zoo: for each real AMQP 0-9-1 client library a
// small program provokes faults against a private test RabbitMQ node
// (package testbroker) and records the exact text the library raises and
// what the broker logged. The records (zoo/testdata/rabbitmq-<version>.jsonl)
// are the ground truth amqptop's diagnosis is checked against.
//
// A client program is started with the fault and its parameters in its
// environment (see [Env]); when it is connected and waiting for the driver
// to act (force-close, stop_app, kill -9, a pause) it prints a line READY
// on stdout; it ends by printing one JSON line (see [clientResult]).
// See zoo/README.md for the protocol, the fault table and how to run it.
package zoo

import "time"

// Action is what the driver does to provoke a fault once the client is
// ready.
type Action string

// The driver's actions.
const (
	ActNone        Action = ""             // the client provokes the fault itself
	ActForceClose  Action = "force-close"  // DELETE /api/connections/NAME with X-Reason
	ActStopApp     Action = "stop-app"     // rabbitmqctl stop_app, then start_app
	ActKillNode    Action = "kill-node"    // kill -9 of the node, then restart
	ActPauseNode   Action = "pause-node"   // SIGSTOP of the node past the heartbeat, then SIGCONT
	ActPauseClient Action = "pause-client" // SIGSTOP of the client past the heartbeat, then SIGCONT
)

// Fault is one way of making a connection or channel fail.
type Fault struct {
	// ID is the fault's id (a contract: fixture files use it).
	ID string
	// Expect is the amqptop cause id the fault really is.
	Expect string
	// How says in a few words how the fault is provoked.
	How string
	// Action is what the driver does once the client printed READY.
	Action Action
	// Disruptive faults disturb every connection of the node (stop_app,
	// kill, pause): they run on a node of their own, all libraries at once.
	Disruptive bool
	// Timeout bounds one client run of this fault.
	Timeout time.Duration
}

// Timings of the heartbeat and timeout faults.
const (
	// Heartbeat is the heartbeat (seconds) a client asks for in the
	// heartbeat faults.
	Heartbeat = 2
	// PauseFor is how long the node or the client is paused in the
	// heartbeat faults: well past two heartbeat intervals, and long
	// enough to span a whole check interval of every library (pika checks
	// every heartbeat+5 s whether anything arrived since its last check,
	// so only a pause covering two of its checks is sure to be noticed).
	PauseFor = 16 * time.Second
	// MaxMessageSize is the node's max_message_size; message-too-large
	// publishes twice as much.
	MaxMessageSize = 1048576
	// ConsumerTimeoutMS is the node's consumer_timeout.
	ConsumerTimeoutMS = 5000
	// ChannelMax is the node's channel_max; channel-max opens more.
	ChannelMax = 8
	// UnknownTag is the delivery tag unknown-delivery-tag acks.
	UnknownTag = 999
	// InequivalentTTL is the x-message-ttl the client declares in
	// inequivalent-args (the driver declared the queue with 60000).
	InequivalentTTL = 1000
	// DeclaredTTL is the x-message-ttl the driver declares the
	// inequivalent-args queue with.
	DeclaredTTL = 60000
	// WaitFor is how long a client waits for an asynchronous error
	// (a forced close, a consumer timeout) before giving up.
	WaitFor = 45 * time.Second
)

// Faults is the fault table, in the order the faults run.
var Faults = []Fault{
	{ID: "wrong-password", Expect: "access-refused", How: "connect with a bad password"},
	{ID: "missing-vhost", Expect: "vhost-not-allowed", How: "connect to a vhost that does not exist"},
	{ID: "vhost-refused", Expect: "vhost-not-allowed", How: "connect to an existing vhost the user has no permissions on"},
	{ID: "refused-port", Expect: "connection-refused", How: "connect to a closed port on 127.0.0.1"},
	{ID: "perm-queue", Expect: "permission-denied", How: "declare a queue the user's configure permission does not cover"},
	{ID: "perm-exchange", Expect: "permission-denied", How: "publish to an existing exchange without write permission"},
	{ID: "perm-read", Expect: "permission-denied", How: "basic.get from a queue without read permission"},
	{ID: "perm-topic", Expect: "permission-denied", How: "publish to amq.topic with a routing key the topic permissions deny"},
	{ID: "passive-missing-queue", Expect: "not-found", How: "passive declare of a queue that does not exist"},
	{ID: "inequivalent-args", Expect: "queue-arg-mismatch", How: "declare an existing queue with a different x-message-ttl"},
	{ID: "exclusive-locked", Expect: "exclusive-queue-locked", How: "declare a queue another connection holds exclusively"},
	{ID: "force-close", Expect: "management-force-close", How: "the driver closes the connection via the management API with X-Reason", Action: ActForceClose},
	{ID: "heartbeat-broker", Expect: "heartbeat-timeout", How: "heartbeat 2 s; the driver SIGSTOPs the client for 16 s, then SIGCONTs it", Action: ActPauseClient},
	{ID: "message-too-large", Expect: "message-too-large", How: "publish a message twice the node's max_message_size"},
	{ID: "consumer-ack-timeout", Expect: "consumer-ack-timeout", How: "consume with manual ack and never ack (node consumer_timeout 5 s)"},
	{ID: "unknown-delivery-tag", Expect: "unknown-delivery-tag", How: "ack delivery tag 999 that the channel never delivered"},
	{ID: "channel-max", Expect: "channel-max-exceeded", How: "open more channels than the node's channel_max (8)"},
	{ID: "publish-closed-channel", Expect: "channel-not-open", How: "close a channel, then publish on it"},
	{ID: "heartbeat-client", Expect: "client-heartbeat-timeout", How: "heartbeat 2 s; the driver SIGSTOPs the node for 16 s, then SIGCONTs it", Action: ActPauseNode, Disruptive: true},
	{ID: "broker-stop", Expect: "broker-shutdown", How: "rabbitmqctl stop_app while connected, then start_app", Action: ActStopApp, Disruptive: true},
	{ID: "node-killed", Expect: "node-down", How: "kill -9 of the node while connected, then restart", Action: ActKillNode, Disruptive: true},
}

// FaultByID returns the fault with the given id.
func FaultByID(id string) (Fault, bool) {
	for _, f := range Faults {
		if f.ID == id {
			return f, true
		}
	}
	return Fault{}, false
}

// timeout returns the per-run bound of a fault's client run.
func (f Fault) timeout() time.Duration {
	if f.Timeout > 0 {
		return f.Timeout
	}
	// A client waits up to WaitFor for an asynchronous error (and reports
	// "no error" itself after that); the bound leaves it room to do so.
	if f.Action == ActPauseClient || f.Action == ActPauseNode {
		return PauseFor + WaitFor + 30*time.Second
	}
	return WaitFor + 30*time.Second
}

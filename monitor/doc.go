// Package monitor is the only code in amqptop that talks to a broker. Its
// sources turn what they see into model observations; library types
// (*amqp.Error, amqp.Blocking, amqp.Table, management JSON) never leave it.
//
// Sources, each a model.Feed that reconnects on its own and reports its
// health as model.SourceStatus observations:
//   - Probe: a publisher and a consumer on a private exclusive queue; round
//     trip and confirm latency, heartbeat frames seen on the wire, blocked
//     notices, every close with its code and text, every reconnect attempt.
//   - Poller (mgmt.go): the management API.
//   - Subscriber: the event exchange (amq.rabbitmq.event) or the log
//     exchange (amq.rabbitmq.log).
//   - LogFile (logtail.go): a node's log file.
//
// Delivery contract: every observation that changes what the user sees
// (connections, closes, blocked notices, alarms, statuses) is delivered;
// emit may block while the consumer catches up. Heartbeat frames seen by
// the probe's frame tap may be dropped when the probe's loop is behind, and
// are counted in Probe.Dropped. No source ever puts a password in an
// observation, a status or an error.
package monitor

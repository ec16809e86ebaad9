// Package model holds amqptop's domain: the broker objects it watches
// (nodes, connections, channels, its own probe), the observations its
// sources produce, the events derived from them, and the reducer that folds
// one into the other.
//
// The model is pure: it imports only the standard library, does no I/O and
// never reads the clock. Every observation carries its own timestamp and the
// reducer's notion of "now" is the latest timestamp it has seen, so the same
// observations always give the same events (the demo, the live monitor and
// a replay share this path).
//
// Contract of State.Apply:
//   - every close of a connection yields exactly one connection.closed event;
//     when better evidence (the broker's own reason) arrives after it was
//     emitted and changes the diagnosis, an event with the same ID and
//     Update=true follows;
//   - a close that carries the broker's reason (a log entry, a close frame
//     sent by the broker, an authentication failure) is emitted at once; a
//     close seen without a reason (a connection missing from a management
//     snapshot, an event-exchange connection.closed, a client-side socket
//     error) waits up to Options.Settle of observation time for the reason;
//   - memory is bounded: history, closed connections and caches are capped.
package model

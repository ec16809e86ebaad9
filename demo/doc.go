// Package demo simulates a RabbitMQ cluster with about forty client
// connections, a probe and a tour of failures, and emits the same raw
// observations the live monitor does: management snapshots, event-exchange
// messages with their Erlang-term headers, broker log entries in the
// broker's own words, and the probe's samples and closes. The diagnosis
// therefore runs exactly as it does against a real broker.
//
// A World is deterministic: the same Options (seed, scenario, start time)
// give the same observations in the same order. Feed paces a World against
// the wall clock at a chosen speed.
package demo

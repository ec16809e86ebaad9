// Package wire reads what RabbitMQ says on the wire and in its log, in
// the broker's own formats: the reply codes of AMQP 0-9-1 and their
// constants, the broker log's lines (3.7 to 4.x prefixes, multi-line
// entries) and what an entry says about a connection, the event
// exchange's headers and the Erlang terms inside them, the broker's
// connection names. Standard library only, no I/O; the model, the
// monitor and the knowledge base share it.
package wire

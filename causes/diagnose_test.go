package causes

import (
	"fmt"
	"github.com/amqptop/amqptop/model/wire"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/amqptop/amqptop/model"
)

// The texts below are in the exact formats of RabbitMQ 3.8–4.x (from
// rabbit_reader.erl, rabbit_channel.erl, rabbit_access_control.erl) and of
// the client libraries (amqp091-go types.go, pika exceptions.py, Java
// ShutdownSignalException, amqplib format.js, .NET ShutdownEventArgs,
// py-amqp exceptions, php-amqplib, Bunny), many of them captured output.
// Pids, addresses, users and queue names are realistic, not placeholders.

const (
	high   = model.ConfHigh
	medium = model.ConfMedium
	low    = model.ConfLow
	none   = model.ConfNone
)

// dcase is one diagnosis to check.
type dcase struct {
	name string
	ev   model.Evidence
	id   string // "" : not recognised
	conf model.Confidence
}

// brokerLog is evidence of broker log entries only (message text, no line
// prefix; the lines of a multi-line entry joined by "\n").
func brokerLog(entries ...string) model.Evidence { return model.Evidence{Log: entries} }

// frame is a close frame the broker sent.
func frame(scope string, code int, text string) model.Evidence {
	return model.Evidence{Scope: scope, Code: code, Text: text, ByServer: true}
}

// clientSaid is a close as a client library printed it.
func clientSaid(s string) model.Evidence { return model.Evidence{Client: s} }

// amqpClose is a close the broker sent: what every client library prints
// it from.
type amqpClose struct {
	scope         string // connection or channel
	code          int
	class, method int
	text          string
}

var methodNames = map[[2]int]string{
	{10, 11}: "Connection.start_ok", {10, 31}: "Connection.tune_ok", {10, 40}: "Connection.open",
	{20, 10}: "Channel.open", {40, 10}: "Exchange.declare",
	{50, 10}: "Queue.declare", {50, 20}: "Queue.bind", {50, 30}: "Queue.purge", {50, 40}: "Queue.delete",
	{60, 10}: "Basic.qos", {60, 20}: "Basic.consume", {60, 40}: "Basic.publish", {60, 70}: "Basic.get", {60, 80}: "Basic.ack",
}

var javaMethods = map[[2]int]string{{50, 10}: "QueueDeclare", {60, 20}: "BasicConsume", {40, 10}: "ExchangeDeclare"}

// pyRepr quotes s as Python's repr does: single quotes unless s contains a
// single quote and no double quote.
func pyRepr(s string) string {
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}

// camel turns NOT_FOUND into NotFound (py-amqp's and Bunny's class names).
func camel(constant string) string {
	var b strings.Builder
	for _, w := range strings.Split(strings.ToLower(constant), "_") {
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}

// printings renders a broker close the way each client library prints it,
// from each library's own format string.
func printings(c amqpClose, id string) []dcase {
	name := wire.ReplyCodes[c.code]
	dashed := strings.ReplaceAll(name, "_", "-")
	conn := c.scope == "connection"
	mname := methodNames[[2]int{c.class, c.method}]
	pyMethod := fmt.Sprintf("(%d, %d)", c.class, c.method)
	if mname != "" {
		pyMethod = mname
	}
	var out []dcase
	add := func(lib, s string) {
		out = append(out, dcase{name: lib, ev: clientSaid(s), id: id, conf: high})
	}
	// amqp091-go / streadway: fmt.Sprintf("Exception (%d) Reason: %q", e.Code, e.Reason)
	add("go", fmt.Sprintf("Exception (%d) Reason: %q", c.code, c.text))
	// pika 1.x: str() of ConnectionClosedByBroker / ChannelClosedByBroker is the args tuple.
	if conn {
		add("pika", fmt.Sprintf("pika.exceptions.ConnectionClosedByBroker: (%d, %s)", c.code, pyRepr(c.text)))
	} else {
		add("pika", fmt.Sprintf("pika.exceptions.ChannelClosedByBroker: (%d, %s)", c.code, pyRepr(c.text)))
	}
	// Java amqp-client: ShutdownSignalException.composeMessage + Method.toString().
	if conn {
		add("java", fmt.Sprintf("com.rabbitmq.client.ShutdownSignalException: connection error; protocol method: #method<connection.close>(reply-code=%d, reply-text=%s, class-id=%d, method-id=%d)", c.code, c.text, c.class, c.method))
	} else {
		add("java", fmt.Sprintf("java.io.IOException: com.rabbitmq.client.ShutdownSignalException: channel error; protocol method: #method<channel.close>(reply-code=%d, reply-text=%s, class-id=%d, method-id=%d)", c.code, c.text, c.class, c.method))
	}
	// Node amqplib: closeMessage = format('%d (%s) with message "%s"', code, constant_strs[code], text).
	switch {
	case conn && c.class == 10:
		add("node", fmt.Sprintf("Error: Handshake terminated by server: %d (%s) with message \"%s\"", c.code, dashed, c.text))
	case conn:
		add("node", fmt.Sprintf("Error: Connection closed: %d (%s) with message \"%s\"", c.code, dashed, c.text))
	case javaMethods[[2]int{c.class, c.method}] != "":
		add("node", fmt.Sprintf("Error: Operation failed: %s; %d (%s) with message \"%s\"", javaMethods[[2]int{c.class, c.method}], c.code, dashed, c.text))
	default:
		add("node", fmt.Sprintf("Error: Channel closed by server: %d (%s) with message \"%s\"", c.code, dashed, c.text))
	}
	// .NET RabbitMQ.Client 6/7: ShutdownEventArgs.ToString() inside OperationInterruptedException.
	add(".net", fmt.Sprintf("RabbitMQ.Client.Exceptions.OperationInterruptedException: The AMQP operation was interrupted: AMQP close-reason, initiated by Peer, code=%d, text='%s', classId=%d, methodId=%d", c.code, c.text, c.class, c.method))
	// .NET 5.x: double quotes and an empty cause.
	add(".net-5", fmt.Sprintf(`RabbitMQ.Client.Exceptions.OperationInterruptedException: The AMQP operation was interrupted: AMQP close-reason, initiated by Peer, code=%d, text="%s", classId=%d, methodId=%d, cause=`, c.code, c.text, c.class, c.method))
	// py-amqp / kombu: '{method}: ({reply_code}) {reply_text}'.
	add("py-amqp", fmt.Sprintf("amqp.exceptions.%s: %s: (%d) %s", camel(name), pyMethod, c.code, c.text))
	// php-amqplib 3.x: reply_text . sprintf('(%s, %s)', class, method) for a connection
	// close; the reply text alone for a channel close.
	if conn {
		add("php", fmt.Sprintf(`PhpAmqpLib\Exception\AMQPConnectionClosedException: %s(%d, %d)`, c.text, c.class, c.method))
	} else {
		add("php", fmt.Sprintf(`PhpAmqpLib\Exception\AMQPProtocolChannelException: %s`, c.text))
	}
	return out
}

// tests for one cause: the close frame, every library's printing, and more.
func withPrintings(c amqpClose, id string, more ...dcase) []dcase {
	out := []dcase{{name: "close frame", ev: frame(c.scope, c.code, c.text), id: id, conf: high}}
	out = append(out, printings(c, id)...)
	return append(out, more...)
}

const (
	heartbeatLog    = "closing AMQP connection <0.1234.0> (10.0.0.5:51234 -> 10.0.0.10:5672):\nmissed heartbeats from client, timeout: 60s"
	goReset         = `Exception (501) Reason: "read tcp 10.0.0.5:51234->10.0.0.10:5672: read: connection reset by peer"`
	goEOF           = `Exception (501) Reason: "EOF"`
	goRefused       = "dial tcp 127.0.0.1:5672: connect: connection refused"
	authFailLog     = "Error on AMQP connection <0.669.0> (100.96.3.221:55814 -> 100.96.2.100:5672, state: starting):\nPLAIN login refused: user 'roboshop' - invalid credentials"
	authClosingLog  = "closing AMQP connection <0.669.0> (100.96.3.221:55814 -> 100.96.2.100:5672)"
	loginRefused    = "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN. For details see the broker logfile."
	shutdownText    = "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'"
	managementText  = "CONNECTION_FORCED - Closed via management plugin"
	vhostLimitText  = "NOT_ALLOWED - access to vhost '/' refused for user 'guest': connection limit (3) is reached"
	ackTimeoutText  = "PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out. Timeout value used: 1800000 ms. This timeout value can be configured, see consumers doc guide to learn more"
	unexpectedText  = "UNEXPECTED_FRAME - expected content header for class 60, got non content header frame instead"
	writeRefusedTxt = "ACCESS_REFUSED - write access to exchange 'orders' in vhost '/shop' refused for user 'monitor'"
)

func diagnoseCases() map[string][]dcase {
	return map[string][]dcase{
		"heartbeat-timeout": {
			{"broker log 3.x", brokerLog("closing AMQP connection <0.27645.3> (10.0.4.18:54122 -> 10.0.1.7:5672):\nmissed heartbeats from client, timeout: 60s"), "heartbeat-timeout", high},
			{"broker log 4.x with duration", brokerLog("closing AMQP connection <0.2911.0> (10.0.4.18:54122 -> 10.0.1.7:5672, duration: '17M, 4s'):\nmissed heartbeats from client, timeout: 30s"), "heartbeat-timeout", high},
			{"go reset plus the broker's heartbeat log", model.Evidence{Client: goReset, Log: []string{heartbeatLog}}, "heartbeat-timeout", high},
			{"the client's own heartbeat error plus the broker's log", model.Evidence{Client: "pika.exceptions.AMQPHeartbeatTimeout: No activity or too many missed heartbeats in the last 60 seconds", Log: []string{heartbeatLog}}, "heartbeat-timeout", high},
		},
		"client-heartbeat-timeout": {
			{"go read deadline", clientSaid(`Exception (501) Reason: "read tcp 10.0.0.5:51234->10.0.0.10:5672: i/o timeout"`), "client-heartbeat-timeout", low},
			{"pika", clientSaid("pika.exceptions.AMQPHeartbeatTimeout: No activity or too many missed heartbeats in the last 60 seconds"), "client-heartbeat-timeout", low},
			{"java 5.x", clientSaid("com.rabbitmq.client.AlreadyClosedException: connection is already closed due to connection error; cause: com.rabbitmq.client.MissedHeartbeatException: Heartbeat missing with heartbeat = 60 seconds"), "client-heartbeat-timeout", low},
			{"java 3.x", clientSaid("com.rabbitmq.client.ShutdownSignalException: connection error; cause: com.rabbitmq.client.MissedHeartbeatException: Heartbeat missing with heartbeat == 60 seconds"), "client-heartbeat-timeout", low},
			{"node", clientSaid("Error: Heartbeat timeout"), "client-heartbeat-timeout", low},
			{".net", clientSaid(`RabbitMQ.Client.Exceptions.AlreadyClosedException: Already closed: The AMQP operation was interrupted: AMQP close-reason, initiated by Library, code=0, text="End of stream", classId=0, methodId=0, cause=System.IO.EndOfStreamException: Heartbeat missing with heartbeat == 5 seconds`), "client-heartbeat-timeout", low},
			{"py-amqp", clientSaid("amqp.exceptions.ConnectionForced: Too many heartbeats missed"), "client-heartbeat-timeout", low},
			{"php-amqplib", clientSaid(`PhpAmqpLib\Exception\AMQPHeartbeatMissedException: Missed server heartbeat`), "client-heartbeat-timeout", low},
		},
		"node-down": {
			{"vanished with a crashed node", model.Evidence{Vanished: true, NodeDown: true}, "node-down", medium},
			{"go EOF as the node died", model.Evidence{Client: goEOF, NodeDown: true}, "node-down", medium},
			{"go reset as the node died", model.Evidence{Client: goReset, NodeDown: true}, "node-down", medium},
			{"pika reset as the node died", model.Evidence{Client: "pika.exceptions.StreamLostError: Stream connection lost: ConnectionResetError(104, 'Connection reset by peer')", NodeDown: true}, "node-down", medium},
		},
		"unexpected-frame": withPrintings(amqpClose{"connection", 505, 60, 40, unexpectedText}, "unexpected-frame",
			dcase{"broker log 3.10+", brokerLog("Error on AMQP connection <0.1373.0> (10.0.0.5:51234 -> 10.0.0.10:5672 - order-publisher, vhost: '/', user: 'orders', state: running), channel 1:\n operation basic.publish caused a connection exception unexpected_frame: \"expected content header for class 60, got non content header frame instead\""), "unexpected-frame", high},
			dcase{"broker log 3.8", brokerLog("Error on AMQP connection <0.912.0> (10.0.0.5:51234 -> 10.0.0.10:5672, vhost: '/', user: 'orders', state: running), channel 1:\n operation basic.publish caused a connection exception unexpected_frame: \"expected content body, got non content body frame instead\""), "unexpected-frame", high},
			dcase{"bunny", clientSaid("Bunny::UnexpectedFrame: Connection-level error: " + unexpectedText), "unexpected-frame", high},
			dcase{"pika 0.x", clientSaid("pika.exceptions.ConnectionClosed: (505, 'UNEXPECTED_FRAME - expected content header for class 60, got non content header frame instead')"), "unexpected-frame", high},
			dcase{"go library error", clientSaid(`Exception (505) Reason: "unexpected frame received"`), "unexpected-frame", medium},
			dcase{"miscoded 405 (bunny-style)", clientSaid("connection closed by server (405) UNEXPECTED_FRAME"), "unexpected-frame", medium},
			dcase{"bare code", frame("connection", 505, ""), "unexpected-frame", high}, // the broker's code names one cause
		),
		"channel-not-open": withPrintings(amqpClose{"connection", 504, 60, 40, "CHANNEL_ERROR - expected 'channel.open'"}, "channel-not-open",
			dcase{"broker log", brokerLog("Error on AMQP connection <0.2210.0> (10.0.0.5:51234 -> 10.0.0.10:5672, vhost: '/', user: 'app', state: running), channel 2:\n operation basic.publish caused a connection exception channel_error: \"expected 'channel.open'\""), "channel-not-open", high},
			dcase{"second channel.open", frame("connection", 504, "CHANNEL_ERROR - second 'channel.open' seen"), "channel-not-open", high},
			dcase{"go ErrClosed", clientSaid(`Exception (504) Reason: "channel/connection is not open"`), "channel-not-open", low},
			dcase{"pika", clientSaid("pika.exceptions.ChannelWrongStateError: Channel is closed."), "channel-not-open", low},
			dcase{"java after a clean close", clientSaid("com.rabbitmq.client.AlreadyClosedException: channel is already closed due to clean channel shutdown; protocol method: #method<channel.close>(reply-code=200, reply-text=OK, class-id=0, method-id=0)"), "channel-not-open", low},
			dcase{"node", clientSaid("IllegalOperationError: Channel closed"), "channel-not-open", low},
		),
		"frame-error": withPrintings(amqpClose{"connection", 501, 0, 0, "FRAME_ERROR - type 3, all octets = <<>>: {frame_too_large,200000,131064}"}, "frame-error",
			dcase{"broker log", brokerLog("Error on AMQP connection <0.2310.0> (10.0.0.5:51234 -> 10.0.0.10:5672, vhost: '/', user: 'app', state: running), channel 0:\n operation none caused a connection exception frame_error: \"type 3, all octets = <<>>: {frame_too_large,200000,131064}\""), "frame-error", high},
			dcase{"fatal_frame_error 3 s later", brokerLog("closing AMQP connection <0.2310.0> (10.0.0.5:51234 -> 10.0.0.10:5672, vhost: '/', user: 'app'):\nfatal_frame_error"), "frame-error", high},
			dcase{"frame end marker", frame("connection", 501, "FRAME_ERROR - type 1, first 16 octets = <<0,60,0,40,0,0,0,0,0,0,0,0,0,0,0,0>>: {invalid_frame_end_marker,65}"), "frame-error", high},
			dcase{"go library error", clientSaid(`Exception (501) Reason: "frame could not be parsed"`), "frame-error", medium},
			dcase{"java protocol mismatch", clientSaid("com.rabbitmq.client.MalformedFrameException: AMQP protocol version mismatch; we are version 0-9-1, server sent signature 3,1,0,0"), "frame-error", medium},
		),
		"network-interruption": {
			{"broker log 3.12", brokerLog("closing AMQP connection <0.32602.3> (10.135.45.51:53066 -> 10.61.253.65:5671, vhost: '/iap', user: 'pronghorn'):\nclient unexpectedly closed TCP connection"), "network-interruption", low},
			{"broker log 4.x", brokerLog("closing AMQP connection <0.1711.0> (10.0.0.5:51234 -> 10.0.0.10:5672, vhost: '/', user: 'guest', duration: '4M, 36s'):\nclient unexpectedly closed TCP connection"), "network-interruption", low},
			{"broker log before open", brokerLog("closing AMQP connection <0.880.0> (10.0.0.5:51234 -> 10.0.0.10:5672):\nclient unexpectedly closed TCP connection"), "network-interruption", low},
			{"broker log 3.5", brokerLog("closing AMQP connection <0.880.0> (10.0.0.5:51234 -> 10.0.0.10:5672):\nconnection_closed_abruptly"), "network-interruption", low},
			{"broker send failed", brokerLog("closing AMQP connection <0.32602.3> (10.135.45.51:53066 -> 10.61.253.65:5671, vhost: '/iap', user: 'pronghorn'):\n{writer,send_failed,timeout}"), "network-interruption", medium},
			{"broker inet error", brokerLog("closing AMQP connection <0.4410.0> (10.0.0.5:51234 -> 10.0.0.10:5672, vhost: '/', user: 'app'):\n{inet_error,etimedout}"), "network-interruption", medium},
			{"broker socket error", brokerLog("Error on AMQP connection <0.21024.4027>: enotconn (socket is not connected)"), "network-interruption", medium},
			{"broker handshake timeout", brokerLog("closing AMQP connection <0.5101.0> (10.0.0.5:51234 -> 10.0.0.10:5672):\n{handshake_timeout,handshake}"), "network-interruption", low},
			{"go reset", clientSaid(goReset), "network-interruption", low},
			{"go EOF", clientSaid(goEOF), "network-interruption", low},
			{"go broken pipe", clientSaid(`Exception (501) Reason: "write tcp 10.0.0.5:51234->10.0.0.10:5672: write: broken pipe"`), "network-interruption", low},
			{"pika reset", clientSaid("pika.exceptions.StreamLostError: Stream connection lost: ConnectionResetError(104, 'Connection reset by peer')"), "network-interruption", low},
			{"pika EOF", clientSaid("pika.exceptions.StreamLostError: Transport indicated EOF"), "network-interruption", low},
			{"java reset", clientSaid("com.rabbitmq.client.ShutdownSignalException: connection error; cause: java.net.SocketException: Connection reset"), "network-interruption", low},
			{"java EOF", clientSaid("com.rabbitmq.client.ShutdownSignalException: connection error; cause: java.io.EOFException"), "network-interruption", low},
			{"node reset", clientSaid("Error: read ECONNRESET"), "network-interruption", low},
			{"node unexpected close", clientSaid("Error: Unexpected close"), "network-interruption", low},
			{".net windows", clientSaid("RabbitMQ.Client.Exceptions.AlreadyClosedException: Already closed: The AMQP operation was interrupted: AMQP close-reason, initiated by Library, code=541, text=\"Unexpected Exception\", classId=0, methodId=0, cause=System.IO.IOException: Unable to read data from the transport connection: An existing connection was forcibly closed by the remote host."), "network-interruption", low},
			{"py-amqp", clientSaid("ConnectionResetError: [Errno 104] Connection reset by peer"), "network-interruption", low},
			{"kombu", clientSaid("kombu.exceptions.OperationalError: [Errno 104] Connection reset by peer"), "network-interruption", low},
			{"py-amqp transport", clientSaid("OSError: Server unexpectedly closed connection"), "network-interruption", low},
			{"php-amqplib", clientSaid(`PhpAmqpLib\Exception\AMQPConnectionClosedException: Broken pipe or closed connection`), "network-interruption", low},
			{"bunny", clientSaid("Bunny::NetworkFailure: detected a network failure: Connection reset by peer"), "network-interruption", low},
			{"java driver log", clientSaid("An unexpected connection driver error occured (Exception message: Connection reset)"), "network-interruption", low},
			{"lapin", clientSaid(`NetworkError("network io error: Connection reset by peer (os error 104)")`), "network-interruption", low},
		},
		"access-refused": {
			{"broker log pair", brokerLog(authFailLog, authClosingLog), "access-refused", high},
			{"broker log alone", brokerLog(authFailLog), "access-refused", high},
			{"loopback guest", brokerLog("Error on AMQP connection <0.1120.0> (10.0.0.7:40022 -> 10.0.0.10:5672, state: starting):\nAMQPLAIN login refused: user 'guest' can only connect via localhost"), "access-refused", high},
			{"external without a cert", brokerLog("Error on AMQP connection <0.901.0> (10.0.0.7:40022 -> 10.0.0.10:5671, state: starting):\nEXTERNAL login refused: connection peer presented no TLS (x.509) certificate"), "access-refused", high},
			{"close frame", frame("connection", 403, loginRefused), "access-refused", high},
			{"go", clientSaid(`Exception (403) Reason: "username or password not allowed"`), "access-refused", medium},
			{"pika", clientSaid("pika.exceptions.ProbableAuthenticationError: ConnectionClosedByBroker: (403) '" + loginRefused + "'"), "access-refused", high},
			{"java", clientSaid("com.rabbitmq.client.AuthenticationFailureException: " + loginRefused), "access-refused", high},
			{"spring", clientSaid("org.springframework.amqp.AmqpAuthenticationException: com.rabbitmq.client.AuthenticationFailureException: " + loginRefused), "access-refused", high},
			{"node", clientSaid(`Error: Handshake terminated by server: 403 (ACCESS-REFUSED) with message "` + loginRefused + `"`), "access-refused", high},
			{".net", clientSaid("RabbitMQ.Client.Exceptions.BrokerUnreachableException: None of the specified endpoints were reachable\n ---> RabbitMQ.Client.Exceptions.AuthenticationFailureException: " + loginRefused), "access-refused", high},
			{"py-amqp", clientSaid("amqp.exceptions.AccessRefused: (0, 0): (403) ACCESS_REFUSED - Login was refused using authentication mechanism AMQPLAIN. For details see the broker logfile."), "access-refused", high},
			{"php-amqplib 3.x", clientSaid(`PhpAmqpLib\Exception\AMQPConnectionClosedException: ACCESS_REFUSED - Login was refused using authentication mechanism AMQPLAIN. For details see the broker logfile.(0, 0)`), "access-refused", high},
			{"bunny log", clientSaid("Authentication with RabbitMQ failed: 403 " + loginRefused), "access-refused", high},
			{"bunny exception", clientSaid("Bunny::AuthenticationFailureError: Authentication with RabbitMQ failed. Please check your connection settings. Username: guest, vhost: /, password length: 5"), "access-refused", medium},
			{"bunny 2.x exception", clientSaid("Bunny::PossibleAuthenticationFailureError: Authentication with RabbitMQ failed or RabbitMQ version used does not support AMQP 0-9-1. Username: orders, vhost: /, password length: 12. Please check your configuration."), "access-refused", medium},
			{"java without a close frame", clientSaid("com.rabbitmq.client.PossibleAuthenticationFailureException: Possibly caused by authentication failure"), "access-refused", medium},
		},
		"vhost-not-allowed": withPrintings(amqpClose{"connection", 530, 10, 40, "NOT_ALLOWED - access to vhost 'orders' refused for user 'guest'"}, "vhost-not-allowed",
			dcase{"broker log: no permission", brokerLog("Error on AMQP connection <0.1544.0> (10.0.0.5:51234 -> 10.0.0.10:5672, user: 'guest', state: opening):\naccess to vhost 'orders' refused for user 'guest'"), "vhost-not-allowed", high},
			dcase{"broker log: missing", brokerLog("Error on AMQP connection <0.1544.0> (10.0.0.5:51234 -> 10.0.0.10:5672, user: 'guest', state: opening):\nvhost my-rabbit not found"), "vhost-not-allowed", high},
			dcase{"close frame: missing", frame("connection", 530, "NOT_ALLOWED - vhost my-rabbit not found"), "vhost-not-allowed", high},
			dcase{"java: missing", clientSaid("java.io.IOException: com.rabbitmq.client.ShutdownSignalException: connection error; protocol method: #method<connection.close>(reply-code=530, reply-text=NOT_ALLOWED - vhost /prod not found, class-id=10, method-id=40)"), "vhost-not-allowed", high},
			dcase{"pika probable access denied", clientSaid(`pika.exceptions.ProbableAccessDeniedError: ConnectionClosedByBroker: (530) "NOT_ALLOWED - access to vhost 'orders' refused for user 'guest'"`), "vhost-not-allowed", high},
			dcase{".net wrapped", clientSaid("RabbitMQ.Client.Exceptions.BrokerUnreachableException: None of the specified endpoints were reachable\n ---> RabbitMQ.Client.Exceptions.OperationInterruptedException: The AMQP operation was interrupted: AMQP close-reason, initiated by Peer, code=530, text=\"NOT_ALLOWED - access to vhost '/admin' refused for user 'admin'\", classId=10, methodId=40, cause="), "vhost-not-allowed", high},
			dcase{"go masks it as 403", clientSaid(`Exception (403) Reason: "no access to this vhost"`), "vhost-not-allowed", medium},
		),
		"permission-denied": withPrintings(amqpClose{"channel", 403, 60, 40, writeRefusedTxt}, "permission-denied",
			dcase{"broker log", brokerLog("Channel error on connection <0.1021.0> (10.0.0.5:51234 -> 10.0.0.10:5672, vhost: '/shop', user: 'monitor'), channel 1:\noperation basic.publish caused a channel exception access_refused: write access to exchange 'orders' in vhost '/shop' refused for user 'monitor'"), "permission-denied", high},
			dcase{"configure a queue", frame("channel", 403, "ACCESS_REFUSED - configure access to queue 'jobs' in vhost '/' refused for user 'reader'"), "permission-denied", high},
			dcase{"read a queue", frame("channel", 403, "ACCESS_REFUSED - read access to queue 'audit' in vhost '/' refused for user 'billing'"), "permission-denied", high},
			dcase{"topic", frame("channel", 403, "ACCESS_REFUSED - write access to topic 'orders.eu.created' in exchange 'amq.topic' in vhost '/' refused for user 'iot'"), "permission-denied", high},
			dcase{"default exchange", frame("channel", 403, "ACCESS_REFUSED - operation not permitted on the default exchange"), "permission-denied", high},
			dcase{"reserved prefix", frame("channel", 403, "ACCESS_REFUSED - queue name 'amq.jobs' contains reserved prefix 'amq.*'"), "permission-denied", high},
		),
		"broker-shutdown": withPrintings(amqpClose{"connection", 320, 0, 0, shutdownText}, "broker-shutdown",
			dcase{"vhost stopping log", brokerLog("Closing all connections in vhost '/' on node 'rabbit@e9014dbbe5f5' because the vhost is stopping"), "broker-shutdown", low},
			dcase{"node stopping log", brokerLog("SIGTERM received - shutting down"), "broker-shutdown", high},
			dcase{"vhost down", frame("connection", 320, "CONNECTION_FORCED - vhost '/' is down"), "broker-shutdown", low},
			dcase{"pika traceback", clientSaid(`pika.exceptions.ConnectionClosedByBroker: (320, "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'")`), "broker-shutdown", high},
			dcase{"vanished during a restart", model.Evidence{Vanished: true, Restart: true}, "broker-shutdown", medium},
			dcase{"go EOF during a restart", model.Evidence{Client: goEOF, Restart: true}, "broker-shutdown", medium},
			dcase{"go reset during a restart", model.Evidence{Client: goReset, Restart: true}, "broker-shutdown", medium},
			dcase{"go refused during a restart", model.Evidence{Client: goRefused, Restart: true}, "broker-shutdown", medium},
			dcase{"pika during a restart", model.Evidence{Client: "pika.exceptions.StreamLostError: Stream connection lost: ConnectionResetError(104, 'Connection reset by peer')", Restart: true}, "broker-shutdown", medium},
			dcase{"node during a restart", model.Evidence{Client: "Error: read ECONNRESET", Restart: true}, "broker-shutdown", medium},
		),
		"management-force-close": withPrintings(amqpClose{"connection", 320, 0, 0, managementText}, "management-force-close",
			dcase{"broker log", brokerLog(`Closing connection <0.4242.0> because "Closed via management plugin"`), "management-force-close", high},
			dcase{"rabbitmqctl close_connection", brokerLog(`Closing connection <0.4242.0> because <<"rotating credentials">>`), "management-force-close", high},
			dcase{"user deleted", frame("connection", 320, "CONNECTION_FORCED - user 'billing' is deleted"), "management-force-close", high},
			dcase{"vhost deleted", frame("connection", 320, "CONNECTION_FORCED - vhost 'staging' is deleted"), "management-force-close", high},
			dcase{"vhost deleted log", brokerLog("Closing all connections in vhost 'staging' because it's being deleted"), "management-force-close", high},
			dcase{"user deleted log", brokerLog("Closing all connections from user 'billing' because it's being deleted"), "management-force-close", high},
			dcase{"spring", clientSaid("o.s.a.r.c.CachingConnectionFactory : Channel shutdown: connection error; protocol method: #method<connection.close>(reply-code=320, reply-text=CONNECTION_FORCED - Closed via management plugin, class-id=0, method-id=0)"), "management-force-close", high},
		),
		"connection-refused": {
			{"go", clientSaid(goRefused), "connection-refused", medium},
			{"go dns", clientSaid("dial tcp: lookup rabbitmq.internal on 10.96.0.10:53: no such host"), "connection-refused", medium},
			{"go no route", clientSaid("dial tcp 10.0.0.10:5672: connect: no route to host"), "connection-refused", medium},
			{"pika", clientSaid("pika.exceptions.AMQPConnectionError: (AMQPConnectionWorkflowFailed: 1 exceptions in all; last exception - AMQPConnectorSocketConnectError: ConnectionRefusedError(111, 'Connection refused'); first exception - None.)"), "connection-refused", medium},
			{"pika log", clientSaid("TCP Connection attempt failed: ConnectionRefusedError(111, 'Connection refused'); dest=(<AddressFamily.AF_INET: 2>, <SocketKind.SOCK_STREAM: 1>, 6, '', ('172.23.0.10', 5672))"), "connection-refused", medium},
			{"java", clientSaid("java.net.ConnectException: Connection refused (Connection refused)"), "connection-refused", medium},
			{"spring", clientSaid("org.springframework.amqp.AmqpConnectException: java.net.ConnectException: Connection refused"), "connection-refused", medium},
			{"node", clientSaid("Error: connect ECONNREFUSED 127.0.0.1:5672"), "connection-refused", medium},
			{"node dns", clientSaid("Error: getaddrinfo ENOTFOUND rabbit"), "connection-refused", medium},
			{".net", clientSaid("RabbitMQ.Client.Exceptions.BrokerUnreachableException: None of the specified endpoints were reachable"), "connection-refused", low},
			{"celery", clientSaid("consumer: Cannot connect to amqp://guest:**@127.0.0.1:5672//: [Errno 111] Connection refused.\nTrying again in 2.00 seconds... (1/100)"), "connection-refused", medium},
			{"php-amqplib", clientSaid(`PhpAmqpLib\Exception\AMQPIOException: stream_socket_client(): Unable to connect to tcp://localhost:5672 (Connection refused)`), "connection-refused", medium},
			{"bunny", clientSaid("Bunny::TCPConnectionFailedForAllHosts: Could not establish TCP connection to any of the configured hosts"), "connection-refused", low},
		},
		"resource-alarm-blocked": {
			{"memory alarm log", brokerLog("memory resource limit alarm set on node 'rabbit@rmq-0.rmq.prod.svc.cluster.local'.\n\n**********************************************************\n*** Publishers will be blocked until this alarm clears ***\n**********************************************************"), "resource-alarm-blocked", high},
			{"disk alarm log", brokerLog("disk resource limit alarm set on node rabbit@iZj6c4uljxtos9wjnwczp2Z.\n\n**********************************************************\n*** Publishers will be blocked until this alarm clears ***\n**********************************************************"), "resource-alarm-blocked", high},
			{"watermark log", brokerLog("vm_memory_high_watermark set. Memory used:7128316368 allowed:6640204185"), "resource-alarm-blocked", high},
			{"disk monitor log", brokerLog("Free disk space is insufficient. Free bytes: 36388864. Limit: 50000000"), "resource-alarm-blocked", high},
			{"connection.blocked reason", model.Evidence{Scope: "connection", Text: "low on memory", ByServer: true}, "resource-alarm-blocked", high},
			{"connection.blocked both", model.Evidence{Scope: "connection", Text: "low on memory & disk", ByServer: true}, "resource-alarm-blocked", high},
			{"pika", clientSaid("pika.exceptions.ConnectionBlockedTimeout"), "resource-alarm-blocked", medium},
			{"pika during an alarm", model.Evidence{Client: "pika.exceptions.ConnectionBlockedTimeout", Alarm: true}, "resource-alarm-blocked", medium},
			{"java confirm timeout during an alarm", model.Evidence{Client: "java.util.concurrent.TimeoutException: Timeout waiting for confirms", Alarm: true}, "resource-alarm-blocked", medium},
			{"go write timeout during an alarm", model.Evidence{Client: `Exception (501) Reason: "write tcp 10.0.0.5:51234->10.0.0.10:5672: i/o timeout"`, Alarm: true}, "resource-alarm-blocked", medium},
			{"kombu during an alarm", model.Evidence{Client: "kombu.exceptions.OperationalError: timed out", Alarm: true}, "resource-alarm-blocked", medium},
		},
		"consumer-ack-timeout": withPrintings(amqpClose{"channel", 406, 0, 0, ackTimeoutText}, "consumer-ack-timeout",
			dcase{"broker log", brokerLog("Channel error on connection <0.4668.0> (10.1.2.3:53342 -> 10.1.2.4:5672, vhost: '/', user: 'app'), channel 1:\noperation none caused a channel exception precondition_failed: delivery acknowledgement on channel 1 timed out. Timeout value used: 1800000 ms. This timeout value can be configured, see consumers doc guide to learn more"), "consumer-ack-timeout", high},
			dcase{"broker warning", brokerLog("Consumer 'amq.ctag-3Jq1n4o4wF0lGm1Ue8kX5A' on channel 1 and queue 'jobs' in vhost '/' has timed out waiting for a consumer acknowledgement of a delivery with delivery tag = 7. Timeout used: 1800000 ms. This timeout value can be configured, see consumers doc guide to learn more"), "consumer-ack-timeout", high},
			dcase{"php-amqp extension", clientSaid("AMQPQueueException: Server channel error: 406, message: PRECONDITION_FAILED - delivery acknowledgement on channel 1 timed out. Timeout value used: 1800000 ms. This timeout value can be configured, see consumers doc guide to learn more"), "consumer-ack-timeout", high},
			dcase{"during an alarm", model.Evidence{Scope: "channel", Code: 406, Text: ackTimeoutText, ByServer: true, Alarm: true}, "consumer-ack-timeout", high},
			dcase{"go during an alarm", model.Evidence{Client: fmt.Sprintf("Exception (406) Reason: %q", ackTimeoutText), Alarm: true}, "consumer-ack-timeout", high},
		),
		"unknown-delivery-tag": withPrintings(amqpClose{"channel", 406, 60, 80, "PRECONDITION_FAILED - unknown delivery tag 1"}, "unknown-delivery-tag",
			dcase{"broker log", brokerLog("Channel error on connection <0.1207.0> (10.0.0.5:51234 -> 10.0.0.10:5672, vhost: '/', user: 'worker'), channel 1:\noperation basic.ack caused a channel exception precondition_failed: unknown delivery tag 1"), "unknown-delivery-tag", high},
			dcase{"larger tag", frame("channel", 406, "PRECONDITION_FAILED - unknown delivery tag 48213"), "unknown-delivery-tag", high},
		),
		"queue-arg-mismatch": withPrintings(amqpClose{"channel", 406, 50, 10, "PRECONDITION_FAILED - inequivalent arg 'x-queue-type' for queue 'orders' in vhost '/': received the value 'quorum' of type 'longstr' but current is none"}, "queue-arg-mismatch",
			dcase{"broker log", brokerLog("Channel error on connection <0.589.0> (10.0.2.5:41960 -> 10.0.2.2:5672, vhost: '/', user: 'sm0ke'), channel 1:\noperation queue.declare caused a channel exception precondition_failed: inequivalent arg 'durable' for queue 'rabbitmq_queue' in vhost '/': received 'false' but current is 'true'"), "queue-arg-mismatch", high},
			dcase{"exchange durable", frame("channel", 406, "PRECONDITION_FAILED - inequivalent arg 'durable' for exchange 'exDirect' in vhost '/': received 'false' but current is 'true'"), "queue-arg-mismatch", high},
			dcase{"celery priority", clientSaid("amqp.exceptions.PreconditionFailed: Queue.declare: (406) PRECONDITION_FAILED - inequivalent arg 'x-max-priority' for queue 'celery' in vhost '/': received the value '10' of type 'signedint' but current is none"), "queue-arg-mismatch", high},
			dcase{"celery repr", clientSaid(`Unrecoverable error: PreconditionFailed(406, "PRECONDITION_FAILED - inequivalent arg 'durable' for queue 'counters-0' in vhost '/': received 'false' but current is 'true'")`), "queue-arg-mismatch", high},
			dcase{"dead-letter exchange", frame("channel", 406, "PRECONDITION_FAILED - inequivalent arg 'x-dead-letter-exchange' for queue 'report.jobs' in vhost '/': received none but current is the value '' of type 'longstr'"), "queue-arg-mismatch", high},
		),
		"not-found": withPrintings(amqpClose{"channel", 404, 60, 20, "NOT_FOUND - no queue 'jobs' in vhost '/'"}, "not-found",
			dcase{"broker log", brokerLog("Channel error on connection <0.1460.0> (10.0.0.5:51234 -> 10.0.0.10:5672, vhost: '/', user: 'app'), channel 1:\noperation queue.declare caused a channel exception not_found: no queue 'jobs' in vhost '/'"), "not-found", high},
			dcase{"home node down", brokerLog("Channel error on connection <0.1460.0> (10.0.0.5:51234 -> 10.0.0.10:5672, vhost: '/', user: 'app'), channel 1:\noperation basic.consume caused a channel exception not_found: home node 'rabbit@node2' of durable queue 'jobs' in vhost '/' is down or inaccessible"), "not-found", high},
			dcase{"exchange", frame("channel", 404, "NOT_FOUND - no exchange 'reply_a86d2fcb' in vhost '/'"), "not-found", high},
			dcase{"java captured", clientSaid("channel error; protocol method: #method<channel.close>(reply-code=404, reply-text=NOT_FOUND - no queue 'directQueue' in vhost '/', class-id=50, method-id=10)"), "not-found", high},
			dcase{"java use after the 404", clientSaid("com.rabbitmq.client.AlreadyClosedException: channel is already closed due to channel error; protocol method: #method<channel.close>(reply-code=404, reply-text=NOT_FOUND - no queue 'jobs' in vhost '/', class-id=60, method-id=20)"), "not-found", high},
			dcase{"erlang client", clientSaid(`{'EXIT',{{shutdown,{server_initiated_close,404,<<"NOT_FOUND - no queue 'q' in vhost '/'">>}},{gen_server,call,[<0.170.0>,{call,{'basic.consume',0,<<"q">>,<<>>,false,false,false,false,[]},none,<0.88.0>},60000]}}}`), "not-found", high},
			dcase{"bare code", frame("channel", 404, ""), "not-found", high}, // the broker's code names one cause
		),
		"exclusive-queue-locked": withPrintings(amqpClose{"channel", 405, 50, 10, "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'reply.worker-1' in vhost '/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration."}, "exclusive-queue-locked",
			dcase{"broker log", brokerLog("Channel error on connection <0.1893.0> (10.0.0.6:40110 -> 10.0.0.10:5672, vhost: '/', user: 'app'), channel 1:\noperation queue.declare caused a channel exception resource_locked: cannot obtain exclusive access to locked queue 'reply.worker-1' in vhost '/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration."), "exclusive-queue-locked", high},
			dcase{"java captured, older broker", clientSaid("channel error; protocol method: #method<channel.close>(reply-code=405, reply-text=RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'queue_name' in vhost '/', class-id=50, method-id=20)"), "exclusive-queue-locked", high},
			dcase{"bunny", clientSaid("Bunny::ResourceLocked: RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'reply.worker-1' in vhost '/'"), "exclusive-queue-locked", high},
			dcase{"bare code", frame("channel", 405, ""), "exclusive-queue-locked", high}, // the broker's code names one cause
		),
		"channel-max-exceeded": withPrintings(amqpClose{"connection", 530, 20, 10, "NOT_ALLOWED - number of channels opened (2047) has reached the negotiated channel_max (2047)"}, "channel-max-exceeded",
			dcase{"broker log", brokerLog("Error on AMQP connection <0.2002.0> (10.0.0.5:51234 -> 10.0.0.10:5672, vhost: '/', user: 'app', state: running), channel 2048:\n operation channel.open caused a connection exception not_allowed: \"number of channels opened (2047) has reached the negotiated channel_max (2047)\""), "channel-max-exceeded", high},
			dcase{"user limit", frame("connection", 530, "NOT_ALLOWED - number of channels opened for user 'app' has reached the maximum allowed user limit of 100"), "channel-max-exceeded", high},
			dcase{"user limit 3.8", frame("connection", 530, "NOT_ALLOWED - number of channels opened for user 'app' has reached the maximum allowed user limit of (100)"), "channel-max-exceeded", high},
			dcase{"tune refused", frame("connection", 530, "NOT_ALLOWED - negotiated channel_max = 0 (no limit) is higher than the maximum allowed value (2047)"), "channel-max-exceeded", high},
			dcase{"tune refused log", brokerLog("closing AMQP connection <0.2100.0> (10.0.0.5:51234 -> 10.0.0.10:5672):\nfailed to negotiate connection parameters: negotiated channel_max = 0 (no limit) is higher than the maximum allowed value (2047)"), "channel-max-exceeded", high},
			dcase{"go client side", clientSaid(`Exception (504) Reason: "channel id space exhausted"`), "channel-max-exceeded", medium},
			dcase{"node client side", clientSaid("Error: No channels left to allocate"), "channel-max-exceeded", medium},
		),
		"connection-limit-reached": withPrintings(amqpClose{"connection", 530, 10, 40, vhostLimitText}, "connection-limit-reached",
			dcase{"broker log: vhost limit", brokerLog("Error on AMQP connection <0.3120.0> (10.0.0.5:51234 -> 10.0.0.10:5672, user: 'guest', state: opening):\naccess to vhost '/' refused for user 'guest': connection limit (3) is reached"), "connection-limit-reached", high},
			dcase{"broker log: user limit", brokerLog("Error on AMQP connection <0.3121.0> (10.0.0.5:51240 -> 10.0.0.10:5672, user: 'reports', state: opening):\nconnection refused for user 'reports': user connection limit (10) is reached"), "connection-limit-reached", high},
			dcase{"broker log: node limit", brokerLog("Error on AMQP connection <0.3122.0> (10.0.0.5:51250 -> 10.0.0.10:5672, user: 'app', state: opening):\nconnection refused: node connection limit (5000) is reached"), "connection-limit-reached", high},
			dcase{"user limit", frame("connection", 530, "NOT_ALLOWED - connection refused for user 'reports': user connection limit (10) is reached"), "connection-limit-reached", high},
			dcase{"node limit", frame("connection", 530, "NOT_ALLOWED - connection refused: node connection limit (5000) is reached"), "connection-limit-reached", high},
			dcase{"pika captured", clientSaid(`pika.exceptions.ProbableAccessDeniedError: ConnectionClosedByBroker: (530) "` + vhostLimitText + `"`), "connection-limit-reached", high},
			dcase{"go 403 with the broker's log", model.Evidence{Client: `Exception (403) Reason: "no access to this vhost"`, Log: []string{"Error on AMQP connection <0.3120.0> (10.0.0.5:51234 -> 10.0.0.10:5672, user: 'guest', state: opening):\naccess to vhost '/' refused for user 'guest': connection limit (3) is reached"}}, "connection-limit-reached", high},
		),
		"message-too-large": withPrintings(amqpClose{"channel", 406, 60, 40, "PRECONDITION_FAILED - message size 20971520 is larger than configured max size 16777216"}, "message-too-large",
			dcase{"broker log", brokerLog("Channel error on connection <0.2215.0> (10.0.0.5:51234 -> 10.0.0.10:5672, vhost: '/', user: 'uploader'), channel 1:\noperation basic.publish caused a channel exception precondition_failed: message size 200000000 is larger than configured max size 134217728"), "message-too-large", high},
			dcase{"hard maximum", frame("channel", 406, "PRECONDITION_FAILED - message size 600000000 is larger than max size 536870912"), "message-too-large", high},
		),
		"client-closed": {
			{"broker log 3.x", brokerLog("closing AMQP connection <0.32640.3> (10.135.45.51:53084 -> 10.61.253.65:5671, vhost: '/iap', user: 'pronghorn')"), "client-closed", high},
			{"broker log 4.x", brokerLog("closing AMQP connection (10.0.0.5:51234 -> 10.0.0.10:5672, vhost: '/', user: 'guest', duration: '4M, 36s')"), "client-closed", high},
			{"broker log, short", brokerLog("closing AMQP connection <0.9.0> (a -> b, vhost: '/', user: 'u')"), "client-closed", high},
			{"broker log with a client name", brokerLog("closing AMQP connection <0.1113.0> (10.128.0.104:37148 -> 10.128.0.102:5672 - billing-worker-7f9c, vhost: '/', user: 'billing')"), "client-closed", high},
			{"go's close", model.Evidence{Code: 200, Text: "kthxbai"}, "client-closed", high},
			{"pika", clientSaid("pika.exceptions.ConnectionClosedByClient: (200, 'Normal shutdown')"), "client-closed", medium},
			{"java", clientSaid("com.rabbitmq.client.ShutdownSignalException: clean connection shutdown; protocol method: #method<connection.close>(reply-code=200, reply-text=OK, class-id=0, method-id=0)"), "client-closed", medium},
			{"node", clientSaid("Connection closed (by client)"), "client-closed", medium},
			{".net", clientSaid("AMQP close-reason, initiated by Application, code=200, text='Goodbye', classId=0, methodId=0"), "client-closed", medium},
			{"bare code", model.Evidence{Code: 200}, "client-closed", high}, // the broker's code names one cause
		},
		"internal-error": withPrintings(amqpClose{"connection", 541, 40, 10, "INTERNAL_ERROR - failed to declare exchange 'direct' in vhost '/' because the operation timed out"}, "internal-error",
			dcase{"broker log", brokerLog("Error on AMQP connection <0.1373.0> (127.0.0.1:55165 -> 127.0.0.1:5672 - perf-test-consumer-0, vhost: '/', user: 'guest', state: running), channel 1:\n operation exchange.declare caused a connection exception internal_error: \"failed to declare exchange 'direct' in vhost '/' because the operation timed out\""), "internal-error", high},
			dcase{"bare INTERNAL_ERROR", frame("connection", 541, "INTERNAL_ERROR"), "internal-error", high},
			dcase{"vhost down at open", frame("connection", 541, "INTERNAL_ERROR - access to vhost '/' refused for user 'guest': vhost '/' is down"), "internal-error", high},
			dcase{"vhost down at open, log", brokerLog("Error on AMQP connection <0.1544.0> (10.0.0.5:51234 -> 10.0.0.10:5672, user: 'guest', state: opening):\n{handshake_error,opening,{amqp_error,internal_error,\"access to vhost '/' refused for user 'guest': vhost '/' is down\",'connection.open'}}"), "internal-error", high},
			dcase{"delete timeout", frame("connection", 541, "INTERNAL_ERROR - failed to delete queue 'jobs' in vhost '/' due to a timeout"), "internal-error", high},
			dcase{"auth backend crash", brokerLog("Error on AMQP connection <0.669.0> (100.96.3.221:55814 -> 100.96.2.100:5672, state: starting):\nPLAIN login refused: User 'roboshop' authentication failed with internal error. Enable debug logs to see the real error."), "internal-error", high},
			dcase{"during an alarm", model.Evidence{Code: 541, Text: "INTERNAL_ERROR - failed to declare exchange 'direct' in vhost '/' because the operation timed out", ByServer: true, Alarm: true}, "internal-error", high},
			dcase{"bare code", frame("connection", 541, ""), "internal-error", high}, // the broker's code names one cause
		),
		"tls-error": {
			{"client does not trust the server", brokerLog("TLS server: In state certify received CLIENT ALERT: Fatal - Certificate Unknown"), "tls-error", high},

			{"unknown CA", brokerLog("TLS server: In state certify at ssl_handshake.erl:2111 generated SERVER ALERT: Fatal - Handshake Failure\n - {bad_cert,unknown_ca}"), "tls-error", high},
			{"TLS client on the plain port 3.x", brokerLog("closing AMQP connection <0.1720.0> (10.0.0.5:51234 -> 10.0.0.10:5672):\n{bad_header,<<22,3,1,0,192,1,0,0>>}"), "tls-error", high},

			{"go unknown authority", clientSaid("tls: failed to verify certificate: x509: certificate signed by unknown authority"), "tls-error", medium},
			{"go plain port", clientSaid("tls: first record does not look like a TLS handshake"), "tls-error", medium},
			{"pika", clientSaid("pika.exceptions.AMQPConnectionError: (AMQPConnectionWorkflowFailed: 1 exceptions in all; last exception - AMQPConnectorTransportSetupError: SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)'); first exception - None.)"), "tls-error", medium},
			{"java", clientSaid("javax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target"), "tls-error", medium},
			{"node expired", clientSaid("Error: certificate has expired"), "tls-error", medium},
			{"node self-signed", clientSaid("Error: self-signed certificate in certificate chain"), "tls-error", medium},
			{"node host name", clientSaid("Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: Host: rabbit. is not in the cert's altnames: DNS:broker.example.com"), "tls-error", medium},
			{".net", clientSaid("RabbitMQ.Client.Exceptions.BrokerUnreachableException: None of the specified endpoints were reachable\n ---> System.Security.Authentication.AuthenticationException: The remote certificate is invalid because of errors in the certificate chain: UntrustedRoot"), "tls-error", medium},
			{"py-amqp", clientSaid("ssl.SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)"), "tls-error", medium},
		},
		"command-invalid": withPrintings(amqpClose{"connection", 503, 10, 11, "COMMAND_INVALID - unknown authentication mechanism 'EXTERNAL'"}, "command-invalid",
			dcase{"broker log", brokerLog("closing AMQP connection <0.2021.0> (10.0.0.5:51234 -> 10.0.0.10:5672):\n{handshake_error,starting,{amqp_error,command_invalid,\"unknown authentication mechanism 'EXTERNAL'\",'connection.start_ok'}}"), "command-invalid", high},
			dcase{"invalid mechanism", frame("connection", 503, "COMMAND_INVALID - invalid authentication mechanism 'ANONYMOUS'"), "command-invalid", high},
			dcase{"go SASL", clientSaid(`Exception (403) Reason: "SASL could not negotiate a shared mechanism"`), "command-invalid", medium},
			dcase{"go library error", clientSaid(`Exception (503) Reason: "unexpected command received"`), "", none}, // the library's own code names no cause
		),
		"not-implemented": withPrintings(amqpClose{"connection", 540, 60, 40, "NOT_IMPLEMENTED - immediate=true"}, "not-implemented",
			dcase{"broker log", brokerLog("Error on AMQP connection <0.6864.0> (192.168.74.1:55026 -> 192.168.74.4:5672, vhost: '/myvhost', user: 'wkp', state: running), channel 1:\n operation basic.publish caused a connection exception not_implemented: \"immediate=true\""), "not-implemented", high},
			dcase{"prefetch size", frame("connection", 540, "NOT_IMPLEMENTED - prefetch_size!=0 (1)"), "not-implemented", high},
			dcase{"prefetch size log", brokerLog("Error on AMQP connection <0.7001.0> (10.0.0.5:51234 -> 10.0.0.10:5672, vhost: '/', user: 'app', state: running), channel 1:\n operation basic.qos caused a connection exception not_implemented: \"prefetch_size!=0 (1)\""), "not-implemented", high},
			dcase{"purging a stream", frame("connection", 540, "NOT_IMPLEMENTED - queue.purge not supported by stream queues queue 'events' in vhost '/'"), "not-implemented", high},
			dcase{"py-amqp qos", clientSaid("amqp.exceptions.NotImplemented: Basic.qos: (540) NOT_IMPLEMENTED - prefetch_size!=0 (1)"), "not-implemented", high},
		),
	}
}

func TestDiagnoseEveryCause(t *testing.T) {
	b := Default()
	cases := diagnoseCases()
	for _, c := range b.All() {
		if c.ID == "reconnect-flapping" {
			continue // inferred by the model; see TestReconnectFlapping
		}
		if len(cases[c.ID]) < 4 {
			t.Errorf("cause %s: %d cases, want at least 4", c.ID, len(cases[c.ID]))
		}
	}
	ids := make([]string, 0, len(cases))
	for id := range cases {
		if b.Lookup(id) == nil {
			t.Errorf("table has cases for %q, which is not in the knowledge base", id)
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		for _, tc := range cases[id] {
			t.Run(id+"/"+tc.name, func(t *testing.T) { checkDiagnosis(t, b, tc) })
		}
	}
}

func checkDiagnosis(t *testing.T, b *Base, tc dcase) model.Diagnosis {
	t.Helper()
	d := b.Diagnose(tc.ev)
	got := ""
	if d.Cause != nil {
		got = d.Cause.ID
	}
	if got != tc.id || d.Confidence != tc.conf {
		t.Errorf("Diagnose(%+v)\n  = %q (%s), want %q (%s)\n  matched: %q\n  notes: %q", tc.ev, got, d.Confidence, tc.id, tc.conf, d.Matched, d.Notes)
	}
	if (d.Cause == nil) != (d.Confidence == none) {
		t.Errorf("cause %q with confidence %s", got, d.Confidence)
	}
	if d.Cause != nil && len(d.Matched) == 0 {
		t.Errorf("diagnosed %q without saying what matched", got)
	}
	return d
}

// The must-have cases of the spec, with everything they assert.
func TestDiagnoseSpecCases(t *testing.T) {
	b := Default()

	t.Run("go reset is a network interruption", func(t *testing.T) {
		d := checkDiagnosis(t, b, dcase{ev: clientSaid(goReset), id: "network-interruption", conf: low})
		if d.Code != 501 || d.CodeName != "FRAME_ERROR" {
			t.Errorf("code %d %s, want 501 FRAME_ERROR", d.Code, d.CodeName)
		}
		if !anyContains(d.Notes, "amqp091-go reports a lost socket as 501") {
			t.Errorf("no note on Go's 501: %q", d.Notes)
		}
		// A reset alone is a candidate list, not a verdict: the broker closing
		// it for missed heartbeats and a crashed node look the same here.
		var ids []string
		for _, c := range d.Candidates {
			ids = append(ids, c.ID)
			if c.Check == "" {
				t.Errorf("candidate %s has no check", c.ID)
			}
		}
		if len(ids) < 3 || ids[0] != "network-interruption" || !slices.Contains(ids, "heartbeat-timeout") || !slices.Contains(ids, "node-down") {
			t.Errorf("candidates %v", ids)
		}
	})
	t.Run("the same with the broker's heartbeat log", func(t *testing.T) {
		d := checkDiagnosis(t, b, dcase{ev: model.Evidence{Client: goReset, Log: []string{heartbeatLog}}, id: "heartbeat-timeout", conf: high})
		if !anyContains(d.Matched, "missed heartbeats from client") {
			t.Errorf("matched %q, want the broker's words", d.Matched)
		}
	})
	for _, lib := range []string{"frame", "go", "pika", "java", "node"} {
		for _, x := range []struct{ text, id string }{{shutdownText, "broker-shutdown"}, {managementText, "management-force-close"}} {
			ev := frame("connection", 320, x.text)
			switch lib {
			case "go":
				ev = clientSaid(fmt.Sprintf("Exception (320) Reason: %q", x.text))
			case "pika":
				ev = clientSaid(fmt.Sprintf("pika.exceptions.ConnectionClosedByBroker: (320, %s)", pyRepr(x.text)))
			case "java":
				ev = clientSaid("com.rabbitmq.client.ShutdownSignalException: connection error; protocol method: #method<connection.close>(reply-code=320, reply-text=" + x.text + ", class-id=0, method-id=0)")
			case "node":
				ev = clientSaid(`Error: Connection closed: 320 (CONNECTION-FORCED) with message "` + x.text + `"`)
			}
			t.Run(x.id+"/"+lib, func(t *testing.T) {
				d := checkDiagnosis(t, b, dcase{ev: ev, id: x.id, conf: high})
				if d.Code != 320 || d.CodeName != "CONNECTION_FORCED" {
					t.Errorf("code %d %s, want 320 CONNECTION_FORCED", d.Code, d.CodeName)
				}
			})
		}
	}
	t.Run("miscoded 405 UNEXPECTED_FRAME", func(t *testing.T) {
		d := checkDiagnosis(t, b, dcase{ev: clientSaid("connection closed by server (405) UNEXPECTED_FRAME"), id: "unexpected-frame", conf: medium})
		if d.Code != 505 || d.CodeName != "UNEXPECTED_FRAME" {
			t.Errorf("code %d %s, want 505 UNEXPECTED_FRAME", d.Code, d.CodeName)
		}
		if !anyContains(d.Notes, "miscoded") || !anyContains(d.Notes, "505") || !anyContains(d.Notes, "RESOURCE_LOCKED") {
			t.Errorf("notes %q, want a miscoded note naming 505 and RESOURCE_LOCKED", d.Notes)
		}
	})
	// A forced close with a reason of its own: someone or something closed
	// it on purpose, the text does not say who. The zoo's management API
	// close with X-Reason "zoo force-close" reaches every client as just
	// "CONNECTION_FORCED - zoo force-close".
	for _, ev := range []model.Evidence{
		clientSaid(`Exception (320) Reason: "CONNECTION_FORCED - something nobody has seen before"`),
		clientSaid("CONNECTION_FORCED - credential expired"),
		frame("connection", 320, "CONNECTION_FORCED - rebalancing connections across the cluster"),
	} {
		t.Run("forced with its own reason: "+ev.Text+ev.Client, func(t *testing.T) {
			d := checkDiagnosis(t, b, dcase{ev: ev, id: "management-force-close", conf: low})
			if d.Code != 320 || d.CodeName != "CONNECTION_FORCED" || d.CodeMeaning == "" {
				t.Errorf("code %d %q %q, want the generic meaning of 320", d.Code, d.CodeName, d.CodeMeaning)
			}
			if ids := candidateIDs(d); len(ids) < 2 || ids[1] != "broker-shutdown" {
				t.Errorf("candidates %v", ids)
			}
		})
	}
	for _, prose := range []string{
		"the quick brown fox jumps over the lazy dog",
		"Something went wrong. Please try again later.",
		"panic: runtime error: invalid memory address or nil pointer dereference",
	} {
		t.Run("unknown: "+prose, func(t *testing.T) {
			d := checkDiagnosis(t, b, dcase{ev: clientSaid(prose), id: "", conf: none})
			if !anyContains(d.Notes, "not recognised") {
				t.Errorf("notes %q, want a not-recognised note", d.Notes)
			}
		})
	}
	t.Run("unknown close frame", func(t *testing.T) {
		d := checkDiagnosis(t, b, dcase{ev: frame("connection", 406, "PRECONDITION_FAILED - the moon is in the wrong phase"), id: "", conf: none})
		if d.CodeName != "PRECONDITION_FAILED" || !anyContains(d.Notes, "not recognised") || !anyContains(d.Notes, "code 406") {
			t.Errorf("code name %q, notes %q", d.CodeName, d.Notes)
		}
	})
	t.Run("nothing to go on", func(t *testing.T) {
		d := checkDiagnosis(t, b, dcase{ev: model.Evidence{}, id: "", conf: none})
		if !anyContains(d.Notes, "no close code or text") {
			t.Errorf("notes %q", d.Notes)
		}
		d = checkDiagnosis(t, b, dcase{ev: model.Evidence{Vanished: true}, id: "", conf: none})
		if !anyContains(d.Notes, "only seen to disappear") {
			t.Errorf("notes %q", d.Notes)
		}
	})
	t.Run(".net 541 initiated by Library is a lost socket", func(t *testing.T) {
		d := checkDiagnosis(t, b, dcase{ev: clientSaid("RabbitMQ.Client.Exceptions.AlreadyClosedException: Already closed: The AMQP operation was interrupted: AMQP close-reason, initiated by Library, code=541, text='Unexpected Exception', classId=0, methodId=0, exception=System.IO.IOException: Unable to read data from the transport connection: Connection reset by peer."), id: "network-interruption", conf: low})
		if !anyContains(d.Notes, "the broker sent no close frame") {
			t.Errorf("notes %q, want a note that .NET's 541 is not the broker's", d.Notes)
		}
	})
	t.Run("go 403 no access to this vhost says why", func(t *testing.T) {
		d := checkDiagnosis(t, b, dcase{ev: clientSaid(`Exception (403) Reason: "no access to this vhost"`), id: "vhost-not-allowed", conf: medium})
		if !anyContains(d.Notes, "530") {
			t.Errorf("notes %q, want a note that Go masks 530 as 403", d.Notes)
		}
	})
}

// Never a confident wrong match: texts that look alike must go to the
// right cause.
func TestDiagnoseLookAlikes(t *testing.T) {
	b := Default()
	for _, tc := range []dcase{
		{"403 permission is not a login refusal", frame("channel", 403, writeRefusedTxt), "permission-denied", high},
		{"403 permission via go is not a login refusal", clientSaid(fmt.Sprintf("Exception (403) Reason: %q", writeRefusedTxt)), "permission-denied", high},
		{"go vhost text is not a login refusal", clientSaid(`Exception (403) Reason: "no access to this vhost"`), "vhost-not-allowed", medium},
		{"vhost connection limit is not a vhost refusal", frame("connection", 530, vhostLimitText), "connection-limit-reached", high},
		{"user connection limit is not connection refused", frame("connection", 530, "NOT_ALLOWED - connection refused for user 'reports': user connection limit (10) is reached"), "connection-limit-reached", high},
		{"unknown delivery tag is not an argument mismatch", frame("channel", 406, "PRECONDITION_FAILED - unknown delivery tag 1"), "unknown-delivery-tag", high},
		{"message size is not an argument mismatch", frame("channel", 406, "PRECONDITION_FAILED - message size 20971520 is larger than configured max size 16777216"), "message-too-large", high},
		{"clean close log", brokerLog("closing AMQP connection <0.9.0> (a -> b, vhost: '/', user: 'u')"), "client-closed", high},
		{"auth failure pair is not a clean close", brokerLog(authFailLog, authClosingLog), "access-refused", high},
		{"auth failure pair, closing line first", brokerLog(authClosingLog, authFailLog), "access-refused", high},
		{"heartbeat log is not a clean close", brokerLog(heartbeatLog), "heartbeat-timeout", high},
		{"go EOF without a restart", clientSaid(goEOF), "network-interruption", low},
		{"go refused without a restart", clientSaid(goRefused), "connection-refused", medium},
		{"vanished without a restart", model.Evidence{Vanished: true}, "", none},
		{"management close during a restart", model.Evidence{Code: 320, Text: managementText, ByServer: true, Restart: true}, "management-force-close", high},
		{"vhost down at open is not a vhost refusal", frame("connection", 541, "INTERNAL_ERROR - access to vhost '/' refused for user 'guest': vhost '/' is down"), "internal-error", high},
		{"vhost down while running: stopped or deleted", frame("connection", 320, "CONNECTION_FORCED - vhost '/' is down"), "broker-shutdown", low},
		{"405 with its own text is an exclusive queue", clientSaid("channel error; protocol method: #method<channel.close>(reply-code=405, reply-text=RESOURCE_LOCKED - cannot obtain exclusive access to locked queue 'q' in vhost '/', class-id=50, method-id=10)"), "exclusive-queue-locked", high},
		{"errno 104 is not a reply code", clientSaid("pika.exceptions.StreamLostError: Stream connection lost: ConnectionResetError(104, 'Connection reset by peer')"), "network-interruption", low},
		{"java use after a clean close", clientSaid("com.rabbitmq.client.AlreadyClosedException: channel is already closed due to clean channel shutdown; protocol method: #method<channel.close>(reply-code=200, reply-text=OK, class-id=0, method-id=0)"), "channel-not-open", low},
		{"ack timeout during an alarm", model.Evidence{Scope: "channel", Code: 406, Text: ackTimeoutText, ByServer: true, Alarm: true}, "consumer-ack-timeout", high},
		{"heartbeat during an alarm", model.Evidence{Client: "pika.exceptions.AMQPHeartbeatTimeout: No activity or too many missed heartbeats in the last 60 seconds", Alarm: true}, "client-heartbeat-timeout", low},
		{"queue in use is no known cause", frame("channel", 406, "PRECONDITION_FAILED - queue 'jobs' in vhost '/' in use"), "", none},
		{"bad expiration is no known cause", clientSaid(`Exception (406) Reason: "PRECONDITION_FAILED - invalid expiration 'soon': {error,badarg}"`), "", none},
		{"reused consumer tag is not a vhost refusal", brokerLog("Error on AMQP connection <0.4410.0> (10.0.0.5:51234 -> 10.0.0.10:5672, vhost: '/', user: 'app', state: running), channel 1:\n operation basic.consume caused a connection exception not_allowed: \"attempt to reuse consumer tag 'ctag-1'\""), "", none},
		{"a timeout without an alarm is no known cause", clientSaid("java.util.concurrent.TimeoutException: Timeout waiting for confirms"), "", none},
		{"channel_max is not a connection limit", frame("connection", 530, "NOT_ALLOWED - number of channels opened (2047) has reached the negotiated channel_max (2047)"), "channel-max-exceeded", high},
	} {
		t.Run(tc.name, func(t *testing.T) { checkDiagnosis(t, b, tc) })
	}
	// errno codes printed like reply codes are not reply codes.
	d := b.Diagnose(clientSaid("pika.exceptions.StreamLostError: Stream connection lost: ConnectionResetError(104, 'Connection reset by peer')"))
	if d.Code != 0 {
		t.Errorf("errno 104 read as reply code %d", d.Code)
	}
}

func TestReconnectFlapping(t *testing.T) {
	c := Default().Lookup("reconnect-flapping")
	if c == nil {
		t.Fatal("no reconnect-flapping entry")
	}
	if c.Scope != "client" || c.Severity != model.SevError || len(c.Do) == 0 {
		t.Errorf("reconnect-flapping: %+v", c)
	}
	if Default().Lookup("no-such-cause") != nil {
		t.Error("Lookup of an unknown id returned a cause")
	}
}

func anyContains(l []string, s string) bool {
	for _, x := range l {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}

func candidateIDs(d model.Diagnosis) []string {
	var out []string
	for _, c := range d.Candidates {
		out = append(out, c.ID)
	}
	return out
}

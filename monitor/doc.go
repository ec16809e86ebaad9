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
// They all retry the same way (reconnect.go): a delay doubled per failed
// attempt up to a cap, with jitter, and an attempt that nothing accepted
// (connection refused) retried at least every 2 s.
//
// Delivery contract: every observation that changes what the user sees
// (connections, closes, blocked notices, alarms, statuses) is delivered;
// emit may block while the consumer catches up. Heartbeat frames seen by
// the probe's frame tap may be dropped when the probe's loop is behind, and
// are counted in Probe.Dropped. No source ever puts a password in an
// observation, a status or an error.
//
// # Conditions
//
// The package does not know how the user configured it: no hint, status or
// error names a command-line flag or an environment variable. A hint says
// what to check on the broker or the host; a status with a hint also names
// its condition in SourceStatus.Condition, a stable id the command line
// turns into advice naming its own flags. The ids are a contract (never
// renamed; Conditions lists them all):
//
// AMQP connections (Probe, Subscriber):
//   - credentials-refused: the broker refused the user name or password.
//   - vhost-refused: the user has no access to the vhost.
//   - amqp-connection-refused: nothing listens at the AMQP address.
//   - dns-failed: the host name does not resolve.
//   - tls-failed: the TLS handshake failed for a reason none of the
//     following names (an expired certificate, no TLS version or cipher
//     in common...).
//   - tls-unknown-authority: the broker's certificate is signed by a CA
//     not trusted here (x509: certificate signed by unknown authority).
//   - tls-name-mismatch: the broker's certificate does not name the host
//     connected to (or the server name to verify against).
//   - tls-client-cert-required: the broker requires a client certificate
//     and none was sent (with TLS 1.3 the broker says so only after the
//     handshake; see tls.go).
//   - tls-client-cert-rejected: the broker refused the client certificate
//     sent (signed by a CA it does not trust, expired...).
//   - tls-on-plain-port: amqps:// to a port that speaks plain AMQP.
//   - plain-on-tls-port: amqp:// to a port that speaks TLS.
//
// Every source that connects with TLS (Probe, Subscriber, Poller):
//   - tls-verify-off: the source is up, but the broker's certificate is
//     not verified (TLSFiles.InsecureSkipVerify): it comes with the Up
//     status (Health up, a Hint), so the command line can warn loudly.
//
// Subscriber:
//   - event-exchange-waiting, log-exchange-waiting: the exchange is missing
//     right after a connect; a booting node declares it within seconds
//     (Degraded, no hint).
//   - event-exchange-missing: amq.rabbitmq.event does not exist: the
//     rabbitmq_event_exchange plugin is off (Off).
//   - log-exchange-missing: amq.rabbitmq.log does not exist: log.exchange
//     is off in the node's configuration (Off). The node's log can be read
//     from its file instead (LogFile).
//
// LogFile:
//   - broker-log-missing: the file does not exist (yet).
//   - broker-log-unreadable: permission denied.
//   - broker-log-not-a-file: the path is not a regular file.
//
// Poller (the management API):
//   - mgmt-url-invalid: the management URL cannot work (Run returns).
//   - mgmt-not-found: 404 on /api/overview: the plugin is off, or the URL's
//     host, port or path prefix is wrong.
//   - mgmt-connection-refused: nothing listens at the management address.
//   - mgmt-dns-failed: its host name does not resolve.
//   - mgmt-tls-failed: the TLS handshake failed for a reason none of the
//     following names.
//   - mgmt-tls-unknown-authority: its certificate is signed by a CA not
//     trusted here.
//   - mgmt-tls-name-mismatch: its certificate does not name the host.
//   - mgmt-tls-client-cert-required: the API's TLS listener requires a
//     client certificate and none was sent.
//   - mgmt-tls-client-cert-rejected: it refused the client certificate.
//   - mgmt-port-not-tls: https:// to a port that speaks plain HTTP.
//   - mgmt-port-is-tls: http:// to a port that speaks TLS.
//   - mgmt-timeout: no answer within the request timeout.
//   - mgmt-dropped: the API (or a proxy) closed or reset the connection.
//   - mgmt-unauthorized: 401, the user name or password is wrong.
//   - mgmt-not-management-user: the user has neither the monitoring nor
//     the management tag (401 "Not management user", 403).
//   - mgmt-not-monitoring-user: the user has the management tag only: it
//     sees only its own connections (Degraded).
//   - mgmt-unavailable: 503, the node is starting, stopping or overloaded.
//   - mgmt-server-error: another 5xx.
//   - mgmt-reply-too-large: a reply above the size limit.
//   - mgmt-not-rabbitmq: the replies are not the API's (HTML, other JSON).
//   - mgmt-garbled-reply: a reply cut short or garbled.
//   - mgmt-list-changing: a list changes faster than it can be paged
//     through (Degraded).
//   - mgmt-slow: the API answers slowly; the poller polls less often
//     (Degraded).
//   - stats-disabled: the broker collects no statistics (Degraded).
//
// Errors of ParseTarget and Feeds are *TargetError: they name the input
// (FieldURL, FieldMgmtURL) and what is wrong with it. Feeds also checks
// Config.TLS (the files must exist and hold what they should); its errors
// about them are *TLSFileError, naming the input by FieldCAFile,
// FieldCertFile, FieldKeyFile or FieldServerName.
//
// # TLS
//
// amqps:// (the probe and the subscribers) and https:// (the management
// API) use Config.TLS: the broker's certificate is verified against its CA
// file (else the system's roots) for the URL's host (else
// TLSFiles.ServerName), and the client certificate is sent when the broker
// asks for one. The TLS handshake of AMQP connections happens in the
// package's own dialer, so the probe's frame tap counts frames above TLS.
// Neither key material nor a certificate's contents appear in a status; an
// Up status says which TLS version is used and whether a client
// certificate was sent.
package monitor

package monitor

import "slices"

// The conditions a source reports in model.SourceStatus.Condition (see
// the package comment for what each means). They are a contract: the
// command line keys its advice on them, so an id is never renamed, only
// added.
const (
	// AMQP: the probe and the subscribers.
	condCredentialsRefused = "credentials-refused"
	condVhostRefused       = "vhost-refused"
	condConnectionRefused  = "amqp-connection-refused"
	condDNSFailed          = "dns-failed"
	condTLSFailed          = "tls-failed"
	// TLS, told apart (tls-failed is what is left: an expired
	// certificate, no shared version or cipher...).
	condTLSUnknownAuthority   = "tls-unknown-authority"
	condTLSNameMismatch       = "tls-name-mismatch"
	condTLSClientCertRequired = "tls-client-cert-required"
	condTLSClientCertRejected = "tls-client-cert-rejected"
	condTLSOnPlainPort        = "tls-on-plain-port"
	condPlainOnTLSPort        = "plain-on-tls-port"
	// Every source that connects with TLS (with its Up status).
	condTLSVerifyOff = "tls-verify-off"

	// The subscribers.
	condEventExchangeWaiting = "event-exchange-waiting"
	condEventExchangeMissing = "event-exchange-missing"
	condLogExchangeWaiting   = "log-exchange-waiting"
	condLogExchangeMissing   = "log-exchange-missing"

	// The log file.
	condBrokerLogMissing    = "broker-log-missing"
	condBrokerLogUnreadable = "broker-log-unreadable"
	condBrokerLogNotAFile   = "broker-log-not-a-file"

	// The management API.
	condMgmtURLInvalid        = "mgmt-url-invalid"
	condMgmtNotFound          = "mgmt-not-found"
	condMgmtConnectionRefused = "mgmt-connection-refused"
	condMgmtDNSFailed         = "mgmt-dns-failed"
	condMgmtTLSFailed         = "mgmt-tls-failed"
	condMgmtTLSUnknownAuth    = "mgmt-tls-unknown-authority"
	condMgmtTLSNameMismatch   = "mgmt-tls-name-mismatch"
	condMgmtTLSClientCertReq  = "mgmt-tls-client-cert-required"
	condMgmtTLSClientCertBad  = "mgmt-tls-client-cert-rejected"
	condMgmtPortNotTLS        = "mgmt-port-not-tls"
	condMgmtPortIsTLS         = "mgmt-port-is-tls"
	condMgmtTimeout           = "mgmt-timeout"
	condMgmtDropped           = "mgmt-dropped"
	condMgmtUnauthorized      = "mgmt-unauthorized"
	condMgmtNotManagementUser = "mgmt-not-management-user"
	condMgmtNotMonitoringUser = "mgmt-not-monitoring-user"
	condMgmtUnavailable       = "mgmt-unavailable"
	condMgmtServerError       = "mgmt-server-error"
	condMgmtReplyTooLarge     = "mgmt-reply-too-large"
	condMgmtNotRabbitMQ       = "mgmt-not-rabbitmq"
	condMgmtGarbledReply      = "mgmt-garbled-reply"
	condMgmtListChanging      = "mgmt-list-changing"
	condMgmtSlow              = "mgmt-slow"
	condStatsDisabled         = "stats-disabled"
)

var conditions = []string{
	condCredentialsRefused, condVhostRefused, condConnectionRefused, condDNSFailed, condTLSFailed,
	condTLSUnknownAuthority, condTLSNameMismatch, condTLSClientCertRequired, condTLSClientCertRejected,
	condTLSOnPlainPort, condPlainOnTLSPort, condTLSVerifyOff,
	condEventExchangeWaiting, condEventExchangeMissing, condLogExchangeWaiting, condLogExchangeMissing,
	condBrokerLogMissing, condBrokerLogUnreadable, condBrokerLogNotAFile,
	condMgmtURLInvalid, condMgmtNotFound, condMgmtConnectionRefused, condMgmtDNSFailed, condMgmtTLSFailed,
	condMgmtTLSUnknownAuth, condMgmtTLSNameMismatch, condMgmtTLSClientCertReq, condMgmtTLSClientCertBad,
	condMgmtPortNotTLS, condMgmtPortIsTLS, condMgmtTimeout, condMgmtDropped, condMgmtUnauthorized,
	condMgmtNotManagementUser, condMgmtNotMonitoringUser, condMgmtUnavailable, condMgmtServerError,
	condMgmtReplyTooLarge, condMgmtNotRabbitMQ, condMgmtGarbledReply, condMgmtListChanging, condMgmtSlow,
	condStatsDisabled,
}

// Conditions returns every id a monitor source may put in
// model.SourceStatus.Condition, so that the command line can check that it
// has advice for each.
func Conditions() []string { return slices.Clone(conditions) }

// advice is what a status says to do: a hint for the user, naming no flag
// and no environment variable (what to check on the broker or the host),
// and the condition it stands for.
type advice struct {
	cond, hint string
}

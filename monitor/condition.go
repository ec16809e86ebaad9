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
	condEventExchangeWaiting, condEventExchangeMissing, condLogExchangeWaiting, condLogExchangeMissing,
	condBrokerLogMissing, condBrokerLogUnreadable, condBrokerLogNotAFile,
	condMgmtURLInvalid, condMgmtNotFound, condMgmtConnectionRefused, condMgmtDNSFailed, condMgmtTLSFailed,
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

package cli

import (
	"os"

	"github.com/amqptop/amqptop/model"
	"github.com/charmbracelet/x/term"
)

// advice is what the command line adds, naming its own flags and
// variables, to a source's hint for each condition the monitor reports
// (monitor.Conditions; the monitor knows no flag). An empty string: the
// monitor's hint says it all.
var advice = map[string]string{
	"credentials-refused":      "check the user and password in --url (AMQPTOP_URL), --password-file or AMQPTOP_PASSWORD",
	"vhost-refused":            "the vhost is the path of --url (%2F for /), or --vhost",
	"amqp-connection-refused":  "check the host and port of --url (AMQPTOP_URL)",
	"dns-failed":               "check the host name of --url (AMQPTOP_URL)",
	"tls-failed":               "check the scheme and port of --url: amqps:// speaks TLS (usually on 5671), amqp:// does not",
	"tls-unknown-authority":    "--ca-cert FILE (AMQPTOP_CA_CERT) trusts the CA that signed the broker's certificate",
	"tls-name-mismatch":        "--server-name NAME (AMQPTOP_SERVER_NAME) checks the certificate against one of its names",
	"tls-client-cert-required": "--client-cert FILE and --client-key FILE (AMQPTOP_CLIENT_CERT, AMQPTOP_CLIENT_KEY)",
	"tls-client-cert-rejected": "check --client-cert and --client-key: a certificate signed by a CA the broker trusts",
	"tls-on-plain-port":        "--url with amqp:// for this port, or amqps:// with the TLS port",
	"plain-on-tls-port":        "--url with amqps:// for this port (with --ca-cert if its CA is not a system root)",
	"tls-verify-off":           "drop --insecure-skip-verify (AMQPTOP_INSECURE_SKIP_VERIFY) and give --ca-cert instead",

	"event-exchange-waiting": "",
	"event-exchange-missing": "--no-events skips it",
	"log-exchange-waiting":   "",
	"log-exchange-missing":   "or run amqptop on the broker host with --broker-log PATH; --no-log-exchange skips it",

	"broker-log-missing":    "check --broker-log (RabbitMQ writes /var/log/rabbitmq/<node>.log by default)",
	"broker-log-unreadable": "check --broker-log and that amqptop's user may read it",
	"broker-log-not-a-file": "--broker-log takes the node's log file, e.g. /var/log/rabbitmq/rabbit@HOST.log",

	"mgmt-url-invalid":              "check --mgmt-url (AMQPTOP_MGMT_URL)",
	"mgmt-not-found":                "--mgmt-url takes the API's base URL, e.g. http://HOST:15672",
	"mgmt-connection-refused":       "check --mgmt-url (default: the AMQP host on 15672, 15671 for amqps)",
	"mgmt-dns-failed":               "check the host name of --mgmt-url",
	"mgmt-tls-failed":               "check the scheme and port of --mgmt-url: https:// for the TLS listener",
	"mgmt-tls-unknown-authority":    "--ca-cert FILE (AMQPTOP_CA_CERT) trusts the CA that signed the API's certificate",
	"mgmt-tls-name-mismatch":        "--server-name NAME (AMQPTOP_SERVER_NAME) checks the certificate against one of its names",
	"mgmt-tls-client-cert-required": "--client-cert FILE and --client-key FILE (AMQPTOP_CLIENT_CERT, AMQPTOP_CLIENT_KEY)",
	"mgmt-tls-client-cert-rejected": "check --client-cert and --client-key: a certificate signed by a CA the API trusts",
	"mgmt-port-not-tls":             "--mgmt-url with http:// (this port does not speak TLS)",
	"mgmt-port-is-tls":              "--mgmt-url with https:// (this port speaks TLS)",
	"mgmt-timeout":                  "--poll sets how often amqptop asks",
	"mgmt-dropped":                  "",
	"mgmt-unauthorized":             "the API uses the credentials of --mgmt-url, else those of --url",
	"mgmt-not-management-user":      "",
	"mgmt-not-monitoring-user":      "",
	"mgmt-unavailable":              "",
	"mgmt-server-error":             "",
	"mgmt-reply-too-large":          "",
	"mgmt-not-rabbitmq":             "check --mgmt-url",
	"mgmt-garbled-reply":            "check --mgmt-url",
	"mgmt-list-changing":            "",
	"mgmt-slow":                     "--poll sets the interval it starts from",
	"stats-disabled":                "",
}

// adviceLeads are the conditions whose advice, what to type, goes before
// the monitor's explanation: the header's trouble line is one line, and
// at any width the flag must be on it.
var adviceLeads = map[string]bool{
	"tls-unknown-authority": true, "tls-name-mismatch": true, "tls-client-cert-required": true, "tls-client-cert-rejected": true,
	"tls-on-plain-port": true, "plain-on-tls-port": true, "tls-verify-off": true,
	"mgmt-tls-unknown-authority": true, "mgmt-tls-name-mismatch": true, "mgmt-tls-client-cert-required": true, "mgmt-tls-client-cert-rejected": true,
}

// withAdvice adds the command line's advice to a source's status.
func withAdvice(o model.Observation) model.Observation {
	st, ok := o.(model.SourceStatus)
	if !ok || st.Condition == "" {
		return o
	}
	a := advice[st.Condition]
	switch {
	case a == "":
	case st.Hint == "":
		st.Hint = a
	case adviceLeads[st.Condition]:
		st.Hint = a + "; " + st.Hint
	default:
		st.Hint += "; " + a
	}
	return st
}

// red colours a line for stderr when it is a terminal that takes colour.
func (a *app) red(s string) string {
	f, ok := a.stderr.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || !term.IsTerminal(f.Fd()) {
		return s
	}
	return "\x1b[1;31m" + s + "\x1b[0m"
}

package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/amqptop/amqptop/demo"
	"github.com/spf13/pflag"
)

// A setting is one thing a user can set, in three ways: its flag, its
// AMQPTOP_* environment variable and its key in the config file (where a
// context may set it too, when ctx). Precedence: flag > environment >
// config file (the context's value over the file's own) > default. This
// table is the only place settings are declared: the commands pick theirs
// from it by name, --help lists them by group with their variable, and a
// test walks it to prove each way works.
type setting struct {
	key   string // config key, snake_case; the flag is the same with '-'
	group string // how --help groups it
	usage string
	def   string // default, as it would be typed
	ctx   bool   // a context may set it
	set   func(c *config, v string) error
	flag  string // the flag, when it is not key with '-' (empty: derived)
	env   string // the variable, when it is not AMQPTOP_KEY (empty: derived)
	bool  bool   // a flag that takes no value
}

// The groups, in the order --help shows them.
const (
	gConnection = "Connection"
	gSources    = "Sources"
	gDiagnosis  = "Diagnosis"
	gDemo       = "Demo"
	gOutput     = "Output"
	gDashboard  = "Dashboard"
	gConfig     = "Configuration"
)

var groupOrder = []string{gConnection, gSources, gDiagnosis, gDemo, gOutput, gDashboard, gConfig}

func (s *setting) flagName() string {
	if s.flag != "" {
		return s.flag
	}
	return strings.ReplaceAll(s.key, "_", "-")
}

func (s *setting) envName() string {
	if s.env != "" {
		return s.env
	}
	return "AMQPTOP_" + strings.ToUpper(s.key)
}

func str(p func(*config) *string) func(*config, string) error {
	return func(c *config, v string) error { *p(c) = v; return nil }
}

func boolean(p func(*config) *bool) func(*config, string) error {
	return func(c *config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		*p(c) = b
		return nil
	}
}

func duration(p func(*config) *time.Duration) func(*config, string) error {
	return func(c *config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration (e.g. 5s, 2m)", v)
		}
		*p(c) = d
		return nil
	}
}

func integer(p func(*config) *int) func(*config, string) error {
	return func(c *config, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		*p(c) = n
		return nil
	}
}

func list(p func(*config) *[]string) func(*config, string) error {
	return func(c *config, v string) error {
		*p(c) = nil
		for _, x := range strings.Split(v, ",") {
			if x = strings.TrimSpace(x); x != "" {
				*p(c) = append(*p(c), x)
			}
		}
		return nil
	}
}

// settings is every setting of every command.
var settings = []*setting{
	{key: "url", group: gConnection, ctx: true, def: "amqp://guest:guest@localhost:5672/",
		usage: "AMQP URL of the broker (amqps:// for TLS); a URL without a password takes it from --password-file or AMQPTOP_PASSWORD",
		set:   str(func(c *config) *string { return &c.url })},
	{key: "mgmt_url", group: gConnection, ctx: true,
		usage: "management API URL (default: the AMQP host on 15672, 15671 for amqps, with the same credentials)",
		set:   str(func(c *config) *string { return &c.mgmtURL })},
	{key: "vhost", group: gConnection, ctx: true,
		usage: "the vhost the probe uses (default: the URL's)",
		set:   str(func(c *config) *string { return &c.vhost })},
	{key: "password_file", group: gConnection, ctx: true,
		usage: "read the password from this file when the URL has none (AMQPTOP_PASSWORD gives it directly)",
		set:   str(func(c *config) *string { return &c.passwordFile })},
	{key: "ca_cert", group: gConnection, ctx: true,
		usage: "trust only the CA certificates in this PEM file for amqps:// and https:// (default: the system's roots)",
		set:   str(func(c *config) *string { return &c.caCert })},
	{key: "client_cert", group: gConnection, ctx: true,
		usage: "send this client certificate (PEM) to a broker that asks for one (ssl_options.verify = verify_peer)",
		set:   str(func(c *config) *string { return &c.clientCert })},
	{key: "client_key", group: gConnection, ctx: true,
		usage: "the client certificate's private key (PEM; default: in the --client-cert file)",
		set:   str(func(c *config) *string { return &c.clientKey })},
	{key: "server_name", group: gConnection, ctx: true,
		usage: "the name the broker's certificate must carry, when it is not the URL's host (e.g. connecting by IP)",
		set:   str(func(c *config) *string { return &c.serverName })},
	{key: "insecure_skip_verify", group: gConnection, ctx: true, def: "false", bool: true,
		usage: "do not verify the broker's certificate (tests only: anyone on the path can pose as the broker); warned in red",
		set:   boolean(func(c *config) *bool { return &c.insecureSkipVerify })},
	{key: "poll", group: gSources, ctx: true, def: "5s",
		usage: "management API poll interval (the broker refreshes its stats every 5s)",
		set:   duration(func(c *config) *time.Duration { return &c.poll })},
	{key: "no_probe", group: gSources, ctx: true, def: "false", bool: true,
		usage: "open no probe connection (publishes nothing)",
		set:   boolean(func(c *config) *bool { return &c.noProbe })},
	{key: "passive", group: gSources, ctx: true, def: "false", bool: true,
		usage: "the management API only: no probe, no event or log subscriber (amqptop opens no AMQP connection)",
		set:   boolean(func(c *config) *bool { return &c.passive })},
	{key: "probe_interval", group: gSources, ctx: true, def: "1s",
		usage: "how often the probe publishes",
		set:   duration(func(c *config) *time.Duration { return &c.probeInterval })},
	{key: "heartbeat", group: gSources, ctx: true, def: "10s",
		usage: "the probe's requested heartbeat",
		set:   duration(func(c *config) *time.Duration { return &c.heartbeat })},
	{key: "no_events", group: gSources, ctx: true, def: "false", bool: true,
		usage: "do not subscribe to the event exchange",
		set:   boolean(func(c *config) *bool { return &c.noEvents })},
	{key: "no_log_exchange", group: gSources, ctx: true, def: "false", bool: true,
		usage: "do not subscribe to the log exchange",
		set:   boolean(func(c *config) *bool { return &c.noLogExchange })},
	{key: "broker_log", group: gSources, ctx: true,
		usage: "tail this broker log file instead of the log exchange (amqptop on the broker host; follows rotation)",
		set:   str(func(c *config) *string { return &c.brokerLog })},
	{key: "rules", group: gDiagnosis, ctx: true,
		usage: "extra knowledge-base entries (YAML, the format of causes.yaml): add or override causes",
		set:   str(func(c *config) *string { return &c.rules })},
	{key: "settle", group: gDiagnosis, def: "2s",
		usage: "how long a close seen without a reason waits for the broker's reason",
		set:   duration(func(c *config) *time.Duration { return &c.settle })},
	{key: "history", group: gDiagnosis, def: "5000",
		usage: "events kept in memory",
		set:   integer(func(c *config) *int { return &c.history })},
	{key: "demo", group: gDemo, def: "false", bool: true,
		usage: "run on the built-in demo cluster (no broker needed)",
		set:   boolean(func(c *config) *bool { return &c.demo })},
	{key: "scenario", group: gDemo, def: "tour",
		usage: "demo scenario: " + demo.ScenarioNames(),
		set:   str(func(c *config) *string { return &c.scenario })},
	{key: "seed", group: gDemo, def: "1",
		usage: "demo random seed (the same seed gives the same run)",
		set: func(c *config, v string) error {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return fmt.Errorf("%q is not a whole number", v)
			}
			c.seed = n
			return nil
		}},
	{key: "speed", group: gDemo, def: "1",
		usage: "demo speed: 1 = real time, 10 = ten times faster, 0 = as fast as possible",
		set: func(c *config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return fmt.Errorf("%q is not a number", v)
			}
			c.speed = f
			return nil
		}},
	{key: "json", group: gOutput, def: "false", bool: true,
		usage: "print JSON Lines (one object per event; the schema is in the README)",
		set:   boolean(func(c *config) *bool { return &c.json })},
	{key: "for", group: gOutput, def: "0s",
		usage: "stop after this much wall-clock time (0: until interrupted)",
		set:   duration(func(c *config) *time.Duration { return &c.forDur })},
	{key: "fail_on", group: gOutput,
		usage: "exit with status 3 as soon as one of these cause ids appears (comma separated)",
		set:   list(func(c *config) *[]string { return &c.failOn })},
	{key: "together", group: gOutput, def: "false", bool: true,
		usage: "(explain) diagnose all the texts as evidence of one close",
		set:   boolean(func(c *config) *bool { return &c.together })},
	{key: "debug", group: gOutput, ctx: true,
		usage: "append every raw observation amqptop receives to this file as JSON Lines, passwords hidden (- for stderr, watch only)",
		set:   str(func(c *config) *string { return &c.debug })},
	{key: "theme", group: gDashboard,
		usage: "palette: dark, light, high-contrast, colorblind, none (default: from the terminal's background; NO_COLOR gives none)",
		set:   str(func(c *config) *string { return &c.theme })},
	{key: "context", group: gConfig,
		usage: "use this context of the config file (default: the file's `context:`)",
		set:   str(func(c *config) *string { return &c.context })},
	{key: "config", group: gConfig,
		usage: "the config file (default: $XDG_CONFIG_HOME/amqptop/config.yaml)",
		set:   str(func(c *config) *string { return &c.configFile })},
}

// settingByKey finds a setting.
func settingByKey(key string) *setting {
	for _, s := range settings {
		if s.key == key {
			return s
		}
	}
	return nil
}

// addSettings registers the named settings' flags on a command's flag set.
// The flag's default shown is the setting's; the value is applied later,
// with the environment and the config file, by resolve.
func addSettings(fs *pflag.FlagSet, keys ...string) []*setting {
	var out []*setting
	for _, k := range keys {
		s := settingByKey(k)
		if s == nil {
			panic("cli: no setting " + k)
		}
		if s.bool {
			fs.Bool(s.flagName(), s.def == "true", s.usage)
		} else {
			fs.String(s.flagName(), s.def, s.usage)
		}
		out = append(out, s)
	}
	return out
}

// The settings each kind of command reads.
var (
	connectionKeys = []string{"url", "mgmt_url", "vhost", "password_file", "ca_cert", "client_cert", "client_key", "server_name", "insecure_skip_verify"}
	sourceKeys     = []string{"poll", "no_probe", "passive", "probe_interval", "heartbeat", "no_events", "no_log_exchange", "broker_log", "debug"}
	diagnosisKeys  = []string{"rules", "settle", "history"}
	demoKeys       = []string{"demo", "scenario", "seed", "speed"}
	configKeys     = []string{"context", "config"}
)

func keys(groups ...[]string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

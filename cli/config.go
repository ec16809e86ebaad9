package cli

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/amqptop/amqptop/causes"
	"github.com/amqptop/amqptop/demo"
	"github.com/amqptop/amqptop/model"
	"github.com/spf13/pflag"
)

// config is everything a run needs, resolved from the settings table
// (flag > AMQPTOP_* environment > config file > default) and checked
// before anything starts.
type config struct {
	demo     bool
	scenario string
	seed     uint64
	speed    float64
	rules    string

	url, mgmtURL string
	vhost        string
	passwordFile string
	// TLS (amqps://, https://)
	caCert, clientCert, clientKey, serverName string
	insecureSkipVerify                        bool
	noProbe                                   bool
	passive                                   bool   // the management API only
	debug                                     string // the debug log's file ("-": stderr)
	noEvents                                  bool
	noLogExchange                             bool
	probeInterval                             time.Duration
	heartbeat                                 time.Duration
	poll                                      time.Duration
	brokerLog                                 string

	history int
	settle  time.Duration

	// watch, explain
	json     bool
	together bool
	forDur   time.Duration
	failOn   []string

	// dashboard
	theme string

	// where it came from
	context    string
	configFile string
	file       *configFile // the config file read, nil when there is none
	warnings   []string    // said on stderr before the command runs
}

// env reads AMQPTOP_* variables from an environment list.
type env map[string]string

func envFrom(list []string) env {
	e := env{}
	for _, kv := range list {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "AMQPTOP_") {
			e[k] = v
		}
	}
	return e
}

// resolve fills c from the settings a command reads: each from its flag
// when given, else its environment variable, else the config file (the
// chosen context's value over the file's own), else its default.
func resolve(c *config, fs *pflag.FlagSet, used []*setting, e env, home, xdg string) error {
	var errs []error
	// Every setting starts at its default, those the command does not read
	// too (so that check sees sane values for them).
	for _, s := range settings {
		if s.def != "" {
			_ = s.set(c, s.def)
		}
	}
	// The config file and the context are settings too, resolved first.
	for _, k := range configKeys {
		s := settingByKey(k)
		if f := fs.Lookup(s.flagName()); f != nil && f.Changed {
			_ = s.set(c, f.Value.String())
		} else if v, ok := e[s.envName()]; ok && v != "" {
			_ = s.set(c, v)
		}
	}
	file, path, err := loadConfigFile(c.configFile, home, xdg)
	if err != nil {
		return usageError{err}
	}
	c.file = file
	if file != nil {
		c.warnings = append(c.warnings, file.warnings...)
	}
	ctxName := c.context
	if ctxName == "" && file != nil {
		ctxName = file.current
	}
	var ctxValues map[string]string
	if ctxName != "" {
		if file == nil {
			return usageError{fmt.Errorf("--context %q: there is no config file (%s)", ctxName, path)}
		}
		cv, ok := file.contexts[ctxName]
		if !ok {
			return usageError{fmt.Errorf("--context %q: %s has no such context%s", ctxName, path, suggest(ctxName, file.contextNames()))}
		}
		ctxValues = cv
		c.context = ctxName
	}
	for _, s := range used {
		if s.group == gConfig {
			continue
		}
		v, from, ok := "", "", false
		if f := fs.Lookup(s.flagName()); f != nil && f.Changed {
			v, from, ok = f.Value.String(), "--"+s.flagName(), true
		} else if ev, set := e[s.envName()]; set && ev != "" {
			v, from, ok = ev, s.envName(), true
		} else if cv, set := ctxValues[s.key]; set {
			v, from, ok = cv, path+": context "+ctxName+": "+s.key, true
		} else if fv, set := fileValue(file, s.key); set {
			v, from, ok = fv, path+": "+s.key, true
		} else if s.def != "" {
			v, ok = s.def, true
		}
		if !ok {
			continue
		}
		if err := s.set(c, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", from, err))
		}
	}
	if len(errs) > 0 {
		return usageError{errors.Join(errs...)}
	}
	return nil
}

func fileValue(f *configFile, key string) (string, bool) {
	if f == nil {
		return "", false
	}
	v, ok := f.values[key]
	return v, ok
}

// check rejects values that cannot work.
func (c *config) check() error {
	if c.speed < 0 {
		return usageError{fmt.Errorf("--speed %v: must be 0 (as fast as possible) or more", c.speed)}
	}
	if c.history < 100 {
		return usageError{fmt.Errorf("--history %d: keep at least 100 events", c.history)}
	}
	if c.settle < 0 || c.settle > time.Minute {
		return usageError{fmt.Errorf("--settle %v: between 0 and 1m", c.settle)}
	}
	if c.poll < time.Second {
		return usageError{fmt.Errorf("--poll %v: at least 1s (the broker refreshes its stats every 5s)", c.poll)}
	}
	if c.probeInterval < 100*time.Millisecond {
		return usageError{fmt.Errorf("--probe-interval %v: at least 100ms", c.probeInterval)}
	}
	return nil
}

// credentials puts the vhost and the password into the URL: a URL without
// a password takes it from the password file, else from AMQPTOP_PASSWORD.
// A management URL naming a user without a password takes it the same way.
// amqptop never writes a password anywhere.
func (c *config) credentials(e env) error {
	if c.url == "" {
		return nil
	}
	u, err := url.Parse(c.url)
	if err != nil {
		return nil // the monitor reports a bad URL, without the password
	}
	changed := false
	if c.vhost != "" {
		u.Path, u.RawPath = "/"+c.vhost, "/"+url.PathEscape(c.vhost)
		changed = true
	}
	pw, found, err := c.password(e)
	if err != nil {
		return err
	}
	if _, has := u.User.Password(); !has && found {
		user := "guest"
		if u.User != nil {
			user = u.User.Username()
		}
		u.User = url.UserPassword(user, pw)
		changed = true
	}
	if changed {
		c.url = u.String()
	}
	if m, err := url.Parse(c.mgmtURL); err == nil && c.mgmtURL != "" && m.User != nil && found {
		if _, has := m.User.Password(); !has {
			m.User = url.UserPassword(m.User.Username(), pw)
			c.mgmtURL = m.String()
		}
	}
	return nil
}

// password is the password from the password file, else AMQPTOP_PASSWORD.
func (c *config) password(e env) (pw string, found bool, err error) {
	if c.passwordFile != "" {
		b, err := os.ReadFile(expandHome(c.passwordFile))
		if err != nil {
			return "", false, usageError{fmt.Errorf("--password-file: %w", err)}
		}
		if st, err := os.Stat(expandHome(c.passwordFile)); err == nil && st.Mode().Perm()&0o077 != 0 {
			c.warnings = append(c.warnings, fmt.Sprintf("warning: the password file %s can be read by others (mode %04o): chmod 600 %s", c.passwordFile, st.Mode().Perm(), c.passwordFile))
		}
		return strings.TrimRight(string(b), "\r\n"), true, nil
	}
	if pw := e["AMQPTOP_PASSWORD"]; pw != "" {
		return pw, true, nil
	}
	return "", false, nil
}

// insecureWarning is what is said, on stderr and in red in the
// dashboard's header, while the broker's certificate is not verified.
func (c *config) insecureWarning() string {
	if !c.insecureSkipVerify || c.demo {
		return ""
	}
	return "warning: --insecure-skip-verify: the broker's TLS certificate is NOT verified; anyone on the network path can pose as the broker and read the credentials"
}

// knowledgeBase loads the built-in causes plus the user's rules file.
func knowledgeBase(path string) (*causes.Base, error) {
	if path == "" {
		return causes.Default(), nil
	}
	kb, err := causes.LoadFile(expandHome(path))
	if err != nil {
		return nil, usageError{fmt.Errorf("--rules: %w", err)}
	}
	return kb, nil
}

// stateFor builds the reducer the way every command uses it.
func stateFor(c *config, kb *causes.Base) *model.State {
	return model.New(model.Options{Diagnoser: kb, History: c.history, Settle: c.settle})
}

// feeds picks the sources: the demo, or the live monitor.
func feeds(c *config) ([]model.Feed, error) {
	if c.demo {
		w, err := demo.New(demo.Options{Seed: c.seed, Scenario: c.scenario})
		if err != nil {
			return nil, usageError{fmt.Errorf("--scenario: %w", err)}
		}
		return c.withDebugLog([]model.Feed{&demo.Feed{World: w, Speed: c.speed}})
	}
	srcs, err := liveFeeds(c)
	if err != nil {
		return nil, err
	}
	return c.withDebugLog(srcs)
}

// withDebugLog makes the feeds write the debug log, when there is one.
func (c *config) withDebugLog(srcs []model.Feed) ([]model.Feed, error) {
	if c.debug == "" {
		return srcs, nil
	}
	d, err := openDebugLog(c, os.Stderr)
	if err != nil {
		return nil, err
	}
	d.note("start", "amqptop "+Version+"; watching "+c.targetForLog())
	return d.wrap(srcs), nil
}

// targetForLog names the watched broker without its password.
func (c *config) targetForLog() string {
	if c.demo {
		return fmt.Sprintf("the demo (scenario %s, seed %d)", c.scenario, c.seed)
	}
	if t, err := parseTarget(c); err == nil {
		return t
	}
	return "an unparsable URL"
}

func expandHome(p string) string {
	if strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return h + p[1:]
		}
	}
	return p
}

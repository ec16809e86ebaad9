package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/amqptop/amqptop/causes"
	"github.com/amqptop/amqptop/demo"
	"github.com/amqptop/amqptop/model"
)

// config is everything a run needs, checked before anything starts.
// Precedence: flags > AMQPTOP_* environment > defaults.
type config struct {
	demo     bool
	scenario string
	seed     uint64
	speed    float64
	rules    string

	url, mgmtURL  string
	noProbe       bool
	noEvents      bool
	noLogExchange bool
	probeInterval time.Duration
	heartbeat     time.Duration
	poll          time.Duration
	brokerLog     string

	history int
	settle  time.Duration

	// watch
	json   bool
	forDur time.Duration
	failOn []string

	// dashboard
	theme string
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

func (e env) str(k, def string) string {
	if v, ok := e[k]; ok && v != "" {
		return v
	}
	return def
}

// flagSet builds the flags shared by the dashboard and watch.
func flagSet(name string, c *config, e env, stderr io.Writer) (*flag.FlagSet, func() error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var errs []error
	num := func(k string, parse func(string) error) {
		if v, ok := e[k]; ok && v != "" {
			if err := parse(v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", k, v, err))
			}
		}
	}
	c.speed, c.seed, c.probeInterval, c.heartbeat, c.poll, c.history, c.settle = 1, 1, time.Second, 10*time.Second, 5*time.Second, 5000, 2*time.Second
	num("AMQPTOP_SPEED", func(v string) (err error) { c.speed, err = strconv.ParseFloat(v, 64); return })
	num("AMQPTOP_SEED", func(v string) (err error) { c.seed, err = strconv.ParseUint(v, 10, 64); return })
	num("AMQPTOP_POLL", func(v string) (err error) { c.poll, err = time.ParseDuration(v); return })

	fs.BoolVar(&c.demo, "demo", e.str("AMQPTOP_DEMO", "") == "1" || e.str("AMQPTOP_DEMO", "") == "true", "run on the built-in demo cluster (no broker needed)")
	fs.StringVar(&c.scenario, "scenario", e.str("AMQPTOP_SCENARIO", "tour"), "demo scenario: "+demo.ScenarioNames())
	fs.Uint64Var(&c.seed, "seed", c.seed, "demo random seed (same seed, same run)")
	fs.Float64Var(&c.speed, "speed", c.speed, "demo speed: 1 = real time, 10 = ten times faster, 0 = as fast as possible")
	fs.StringVar(&c.rules, "rules", e.str("AMQPTOP_RULES", ""), "extra knowledge-base entries (YAML, same format as causes.yaml): add or override causes")
	fs.StringVar(&c.url, "url", e.str("AMQPTOP_URL", "amqp://guest:guest@localhost:5672/"), "AMQP URL of the broker (env AMQPTOP_URL)")
	fs.StringVar(&c.mgmtURL, "mgmt-url", e.str("AMQPTOP_MGMT_URL", ""), "management API URL (default: the AMQP host on port 15672, same credentials; env AMQPTOP_MGMT_URL)")
	fs.BoolVar(&c.noProbe, "no-probe", false, "open no probe connection (publishes nothing)")
	fs.BoolVar(&c.noEvents, "no-events", false, "do not subscribe to the event exchange")
	fs.BoolVar(&c.noLogExchange, "no-log-exchange", false, "do not subscribe to the log exchange")
	fs.DurationVar(&c.probeInterval, "probe-interval", c.probeInterval, "how often the probe publishes")
	fs.DurationVar(&c.heartbeat, "heartbeat", c.heartbeat, "the probe's requested heartbeat")
	fs.DurationVar(&c.poll, "poll", c.poll, "management API poll interval (the broker refreshes its stats every 5s)")
	fs.StringVar(&c.brokerLog, "broker-log", e.str("AMQPTOP_BROKER_LOG", ""), "tail this broker log file (when amqptop runs on the broker host)")
	fs.IntVar(&c.history, "history", c.history, "events kept in memory")
	fs.DurationVar(&c.settle, "settle", c.settle, "how long a close without a reason waits for the broker's reason")
	return fs, func() error {
		if len(errs) > 0 {
			return usageError{errors.Join(errs...)}
		}
		return c.check()
	}
}

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

// parseFlags parses args and rejects stray positional arguments.
func parseFlags(fs *flag.FlagSet, args []string, finish func() error) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return &exitStatus{code: exitOK}
		}
		return &exitStatus{code: exitUsage} // the flag package already said why
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q (flags go before it? see --help)", fs.Arg(0))}
	}
	return finish()
}

// knowledgeBase loads the built-in causes plus the user's rules file.
func knowledgeBase(path string) (*causes.Base, error) {
	if path == "" {
		return causes.Default(), nil
	}
	kb, err := causes.LoadFile(path)
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
		return []model.Feed{&demo.Feed{World: w, Speed: c.speed}}, nil
	}
	return liveFeeds(c)
}

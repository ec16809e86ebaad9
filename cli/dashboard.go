package cli

import (
	"context"
	"fmt"
	"os"

	tea "charm.land/bubbletea/v2"
	"github.com/amqptop/amqptop/causes"
	"github.com/amqptop/amqptop/model"
	"github.com/amqptop/amqptop/themes"
	"github.com/amqptop/amqptop/ui"
)

// dashboard runs the full-screen dashboard.
func (a *app) dashboard(ctx context.Context, c *config) error {
	if _, ok := themes.Get(c.theme); c.theme != "" && !ok {
		return usageError{fmt.Errorf("--theme %q: one of %v", c.theme, themes.Names())}
	}
	if c.debug == "-" {
		return usageError{fmt.Errorf("--debug -: the dashboard owns the terminal; give a file")}
	}
	kb, err := knowledgeBase(c.rules)
	if err != nil {
		return err
	}
	srcs, err := feeds(c)
	if err != nil {
		return err
	}
	app, start := newDashboard(c, kb, srcs)
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithCancel(ctx)
	stopFeeds := start(ctx)
	defer func() { cancel(); stopFeeds() }()
	p := tea.NewProgram(app, tea.WithContext(ctx))
	if _, err := p.Run(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	return nil
}

// newDashboard wires the dashboard the way main runs it: the sources feed
// a channel the UI's bridge reads. start launches the sources and returns
// a function that waits for them to stop (after ctx is cancelled).
func newDashboard(c *config, kb *causes.Base, srcs []model.Feed) (*ui.Model, func(context.Context) func()) {
	ch := make(chan model.Observation, 4096)
	mode, target := "live", ""
	if c.demo {
		mode = "demo"
		target = fmt.Sprintf("demo cluster (scenario %s, seed %d, speed ×%g)", c.scenario, c.seed, c.speed)
	} else if t, err := parseTarget(c); err == nil {
		target = t
	}
	app := ui.New(ui.Options{State: stateFor(c, kb), Observations: ch, Mode: mode, Target: target, Theme: c.theme,
		NoColor: os.Getenv("NO_COLOR") != "", Warnings: warningsFor(c)})
	start := func(ctx context.Context) func() { return startFeeds(ctx, srcs, ch) }
	return app, start
}

// warningsFor is what the header keeps in red while the dashboard runs.
func warningsFor(c *config) []string {
	if w := c.insecureWarning(); w != "" {
		return []string{"TLS NOT VERIFIED (--insecure-skip-verify): the broker's certificate is not checked; anyone on the path can pose as the broker"}
	}
	return nil
}

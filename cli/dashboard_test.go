package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/amqptop/amqptop/faults"
	"github.com/amqptop/amqptop/testbroker"
	"github.com/amqptop/amqptop/ui"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"
)

// startDashboard runs the dashboard through the same wiring as main.
func startDashboard(t *testing.T, w, h int, args ...string) (*teatest.TestModel, *ui.Model) {
	t.Helper()
	return startDashboardIn(t, testEnviron(t), w, h, args...)
}

// startDashboardIn is startDashboard with the given environment.
func startDashboardIn(t *testing.T, environ []string, w, h int, args ...string) (*teatest.TestModel, *ui.Model) {
	t.Helper()
	c, _, code, errs := resolved(t, environ, args...)
	if c == nil {
		t.Fatalf("exit %d: %s", code, errs)
	}
	kb, err := knowledgeBase(c.rules)
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := feeds(c)
	if err != nil {
		t.Fatal(err)
	}
	app, start := newDashboard(c, kb, srcs)
	ctx, cancel := context.WithCancel(context.Background())
	stop := start(ctx)
	t.Cleanup(func() { cancel(); stop() })
	tm := teatest.NewTestModel(t, app, teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.ASCII)))
	return tm, app
}

func waitScreen(t *testing.T, tm *teatest.TestModel, what string, cond func(string) bool) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return cond(string(b)) },
		teatest.WithDuration(20*time.Second), teatest.WithCheckInterval(50*time.Millisecond))
}

// As a new user would: the demo, and within 10 simulated seconds a
// heartbeat-timeout close is shown on its connection with what to do.
func TestDashboardDemoShowsTheHeartbeatTimeout(t *testing.T) {
	tm, _ := startDashboard(t, 120, 40, "--demo", "--seed", "1", "--speed", "4", "--theme", "dark")
	waitScreen(t, tm, "the diagnosis", func(s string) bool {
		return strings.Contains(s, "heartbeat-timeout") && strings.Contains(s, "What to do") && strings.Contains(s, "thumbnailer")
	})
	// Filter to it, open its detail, come back, quit.
	tm.Type("/thumb")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})
	waitScreen(t, tm, "the detail", func(s string) bool { return strings.Contains(s, "Timeline") && strings.Contains(s, "media@media") })
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEscape})
	tm.Type("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
}

func TestDashboardCompactShowsAlarmsAndTheWorst(t *testing.T) {
	tm, app := startDashboard(t, 80, 24, "--demo", "--seed", "1", "--speed", "60", "--scenario", "memory-alarm")
	waitScreen(t, tm, "the alarm", func(s string) bool {
		return strings.Contains(s, "MEMORY ALARM") && strings.Contains(s, "blocked")
	})
	tm.Send(tea.WindowSizeMsg{Width: 200, Height: 60})
	waitScreen(t, tm, "the wide layout", func(s string) bool { return strings.Contains(s, "Events") && strings.Contains(s, "│") })
	tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	if app.Screen() != "main" {
		t.Errorf("screen %q", app.Screen())
	}
}

func TestDashboardFlags(t *testing.T) {
	code, _, errs := cli(t, "", "--demo", "--theme", "purple")
	if code != exitUsage || !strings.Contains(errs, "--theme") {
		t.Errorf("bad theme: %d %s", code, errs)
	}
}

// The same through the live monitor: a real fault on the private broker is
// shown on its connection with its cause and what to do.
func TestDashboardLiveShowsARealFault(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (-short)")
	}
	node := testbroker.Shared(t)
	tm, _ := startDashboard(t, 160, 45, "--url", node.AMQPURL(), "--mgmt-url", node.MgmtURL(), "--poll", "1s", "--theme", "dark")
	waitScreen(t, tm, "the probe up", func(s string) bool { return strings.Contains(s, "probe ● up") })
	s, err := faults.DialSilent(node.AMQPURL(), "dash-victim", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s.Mute()
	waitScreen(t, tm, "the diagnosis of the victim", func(s string) bool {
		return strings.Contains(s, "dash-victim") && strings.Contains(s, "heartbeat-timeout") && strings.Contains(s, "What to do")
	})
	tm.Type("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
}

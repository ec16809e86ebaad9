package monitor

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amqptop/amqptop/faults"
	"github.com/amqptop/amqptop/model"
	"github.com/amqptop/amqptop/testbroker"
)

// counter counts the observations of one kind a feed emits.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) emit(o model.Observation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	k := fmt.Sprintf("%T", o)
	if s, ok := o.(model.SourceStatus); ok {
		k += " " + s.Health.String()
	}
	c.n[k]++
}

func (c *counter) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}

// goroutinesSettle waits for the goroutine count to come back to at most
// want (a closed socket's goroutines end a moment later) and returns it.
func goroutinesSettle(want int) int {
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > want && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	return runtime.NumGoroutine()
}

// 100 reconnect cycles of each source that holds a connection (the
// probe, a subscriber, the management poller's HTTP connections): the
// link through a proxy is reset each time, the source reconnects, and the
// number of goroutines does not grow.
func TestNoGoroutineGrowthAcross100Reconnects(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (-short)")
	}
	node := testbroker.Shared(t)
	const cycles = 100
	for _, tc := range []struct {
		name string
		port int
		feed func(tg *Target) model.Feed
		up   string // the observation that says a cycle reconnected
	}{
		{"probe", node.AMQPPort, func(tg *Target) model.Feed {
			return &Probe{Target: tg, Client: "amqptop-probe@leak", Heartbeat: 5 * time.Second, Interval: 50 * time.Millisecond,
				MinDelay: 10 * time.Millisecond, MaxDelay: 20 * time.Millisecond}
		}, "model.ProbeConnected"},
		{"events", node.AMQPPort, func(tg *Target) model.Feed {
			return &Subscriber{Target: tg, Kind: EventStream, Client: "amqptop-events@leak", MaxDelay: 20 * time.Millisecond}
		}, "model.SourceStatus up"},
		{"management", node.MgmtPort, func(tg *Target) model.Feed {
			return NewPoller(MgmtConfig{URL: tg.Mgmt.String(), User: "guest", Password: "guest", Interval: 30 * time.Millisecond})
		}, "model.MgmtSnapshot"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy, err := faults.NewProxy(fmt.Sprintf("127.0.0.1:%d", tc.port))
			if err != nil {
				t.Fatal(err)
			}
			defer proxy.Close()
			tg, err := ParseTarget("amqp://guest:guest@"+proxy.Addr()+"/", "http://"+proxy.Addr())
			if err != nil {
				t.Fatal(err)
			}
			var c counter
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			before := runtime.NumGoroutine()
			go func() { done <- tc.feed(tg).Run(ctx, c.emit) }()
			waitCount := func(n int) {
				t.Helper()
				deadline := time.Now().Add(30 * time.Second)
				// A cycle is a new connection through the proxy and the
				// source up again over it.
				for c.get(tc.up) < n || proxy.Opened() < n {
					if time.Now().After(deadline) {
						t.Fatalf("%d of %d reconnects, %d connections (%v)", c.get(tc.up), n, proxy.Opened(), c.n)
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
			waitCount(1)
			time.Sleep(200 * time.Millisecond)
			running := runtime.NumGoroutine() // the count with one connection up
			for i := 1; i <= cycles; i++ {
				proxy.Reset()
				waitCount(i + 1)
			}
			time.Sleep(200 * time.Millisecond)
			// (A few come and go with a poll or a publish in flight; a
			// leak would leave one or more per cycle.)
			if n := goroutinesSettle(running + 5); n > running+5 {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("%d goroutines after %d reconnects, %d before them:\n%s", n, cycles, running, stacksOf(string(buf)))
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			if n := goroutinesSettle(before); n > before {
				t.Errorf("%d goroutines after the feed stopped, %d before it started", n, before)
			}
			t.Logf("%d cycles, %d connections: %v", cycles, proxy.Opened(), c.n)
		})
	}
}

// stacksOf gives the first line of each goroutine's top frames, for a
// failure message that says what grew.
func stacksOf(dump string) string {
	var b strings.Builder
	for _, g := range strings.Split(dump, "\n\n") {
		lines := strings.Split(g, "\n")
		if len(lines) > 1 {
			b.WriteString("  " + strings.TrimSpace(lines[1]) + "\n")
		}
	}
	return b.String()
}

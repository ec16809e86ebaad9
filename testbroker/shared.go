package testbroker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// sharedState is the shared node of one broker kind.
type sharedState struct {
	once sync.Once
	node *Node
	err  error
}

var (
	sharedMu    sync.Mutex
	sharedNodes = map[string]*sharedState{} // by normalised broker kind
)

// SharedOptions are the options [Shared] and [SharedFor] start their node
// with (SharedFor sets Broker). The statistics interval is 1 s so
// management rates and node stats (e.g. mem_alarm) show up quickly. Change
// it before the first call to Shared.
var SharedOptions = Options{Name: "amqptop-test", StatsIntervalMS: 1000}

// BrokersEnv is the environment variable that narrows [Brokers], e.g. "3"
// or "3,4".
const BrokersEnv = "AMQPTOP_TEST_BROKERS"

// Brokers returns the broker kinds tests should run against: "3" and "4"
// by default; the environment variable AMQPTOP_TEST_BROKERS (e.g. "3" or
// "3,4") narrows that list. Typical use:
//
//	for _, b := range testbroker.Brokers() {
//		t.Run("rabbitmq-"+b, func(t *testing.T) { n := testbroker.SharedFor(t, b); ... })
//	}
func Brokers() []string {
	v := strings.TrimSpace(os.Getenv(BrokersEnv))
	if v == "" {
		return []string{Broker3, Broker4}
	}
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// Shared returns one node per test binary, started on first use and meant
// to be stopped from TestMain via [StopShared] (or use [Main]). It is
// SharedFor(t, ""): the host's RabbitMQ. When the broker cannot be started
// (rabbitmq-server not installed, or the start fails) it calls t.Fatalf
// with the reason if the environment variable CI is "true", and t.Skipf
// with the reason otherwise.
func Shared(t testing.TB) *Node {
	t.Helper()
	return SharedFor(t, "")
}

// SharedFor is like [Shared] for a broker kind ("" or "3": the host's
// package, "4": RabbitMQ 4.x in the Debian 13 chroot): one node per kind
// per test binary, started on first use with [SharedOptions], stopped by
// [StopShared] (or [Main]).
func SharedFor(t testing.TB, broker string) *Node {
	t.Helper()
	kind, err := normBroker(broker)
	if err != nil {
		Unavailable(t, err)
		return nil
	}
	sharedMu.Lock()
	st := sharedNodes[kind]
	if st == nil {
		st = &sharedState{}
		sharedNodes[kind] = st
	}
	sharedMu.Unlock()
	st.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		o := SharedOptions
		o.Broker = kind
		n, err := Start(ctx, o)
		sharedMu.Lock()
		st.node, st.err = n, err
		sharedMu.Unlock()
	})
	sharedMu.Lock()
	n, err := st.node, st.err
	sharedMu.Unlock()
	if err == nil && n == nil {
		err = errors.New("testbroker: shared node already stopped by StopShared")
	}
	if err != nil {
		Unavailable(t, fmt.Errorf("cannot start the shared test broker (RabbitMQ %s): %w", kind, err))
	}
	return n
}

// Unavailable ends a test that needs a broker it could not get: with the
// environment variable CI set to "true" the test fails (a green run that
// skipped is not green), otherwise it is skipped with the reason.
func Unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("testbroker: %v", err)
	}
	t.Skipf("testbroker: %v (set CI=true to fail instead)", err)
}

// StopShared stops the nodes started by [Shared] and [SharedFor], if any
// (in parallel). Safe to call more than once and when Shared was never
// called.
func StopShared() {
	sharedMu.Lock()
	var nodes []*Node
	for _, st := range sharedNodes {
		if st.node != nil {
			nodes = append(nodes, st.node)
			st.node = nil
		}
	}
	sharedMu.Unlock()
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = n.Stop()
		}()
	}
	wg.Wait()
}

// Main is a helper for TestMain: it runs the tests, stops the shared nodes
// and exits with the tests' exit code.
//
//	func TestMain(m *testing.M) { testbroker.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}

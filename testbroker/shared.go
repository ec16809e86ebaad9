package testbroker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

var (
	sharedOnce sync.Once
	sharedMu   sync.Mutex
	sharedNode *Node
	sharedErr  error
)

// SharedOptions are the options [Shared] starts its node with. The
// statistics interval is 1 s so management rates and node stats (e.g.
// mem_alarm) show up quickly. Change it before the first call to Shared.
var SharedOptions = Options{Name: "amqptop-test", StatsIntervalMS: 1000}

// Shared returns one node per test binary, started on first use and meant
// to be stopped from TestMain via [StopShared] (or use [Main]). When the
// broker cannot be started (rabbitmq-server not installed, or the start
// fails) it calls t.Fatalf with the reason if the environment variable CI
// is "true", and t.Skipf with the reason otherwise.
func Shared(t testing.TB) *Node {
	t.Helper()
	sharedOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		n, err := Start(ctx, SharedOptions)
		sharedMu.Lock()
		sharedNode, sharedErr = n, err
		sharedMu.Unlock()
	})
	sharedMu.Lock()
	n, err := sharedNode, sharedErr
	sharedMu.Unlock()
	if err == nil && n == nil {
		err = errors.New("testbroker: shared node already stopped by StopShared")
	}
	if err != nil {
		Unavailable(t, fmt.Errorf("cannot start the shared test broker: %w", err))
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

// StopShared stops the node started by [Shared], if any. Safe to call more
// than once and when Shared was never called.
func StopShared() {
	sharedMu.Lock()
	n := sharedNode
	sharedNode = nil
	sharedMu.Unlock()
	if n != nil {
		_ = n.Stop()
	}
}

// Main is a helper for TestMain: it runs the tests, stops the shared node
// and exits with the tests' exit code.
//
//	func TestMain(m *testing.M) { testbroker.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	StopShared()
	os.Exit(code)
}

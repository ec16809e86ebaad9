package monitor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

func TestRetryPolicyDelay(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	other := errors.New("Exception (501) Reason: \"frame could not be parsed\"")
	type span struct{ lo, hi float64 } // seconds
	for _, c := range []struct {
		name   string
		policy retryPolicy
		err    error
		want   []span // per attempt, from 1
	}{
		{"±20 %", retryPolicy{min: time.Second, max: 10 * time.Second}, other,
			[]span{{0.8, 1.2}, {1.6, 2.4}, {3.2, 4.8}, {6.4, 9.6}, {8, 12}, {8, 12}}},
		{"below a hard cap", retryPolicy{min: 5 * time.Second, max: 60 * time.Second, below: true}, other,
			[]span{{4, 5}, {8, 10}, {16, 20}, {32, 40}, {48, 60}, {48, 60}}},
		{"refused", retryPolicy{min: time.Second, max: 10 * time.Second, refused: 2 * time.Second}, refused,
			[]span{{0.8, 1.2}, {1.6, 2}, {2, 2}, {2, 2}}},
		{"refused, wrapped and joined", retryPolicy{min: 5 * time.Second, max: 60 * time.Second, below: true, refused: 2 * time.Second},
			errors.Join(other, fmt.Errorf("GET /api/nodes: %w", refused)), []span{{2, 2}, {2, 2}}},
		{"refused, no cap asked for", retryPolicy{min: time.Second, max: 10 * time.Second}, refused,
			[]span{{0.8, 1.2}, {1.6, 2.4}, {3.2, 4.8}}},
		{"another error", retryPolicy{min: time.Second, max: 10 * time.Second, refused: 2 * time.Second}, other,
			[]span{{0.8, 1.2}, {1.6, 2.4}, {3.2, 4.8}}},
		{"no error", retryPolicy{min: time.Second, max: 10 * time.Second, refused: 2 * time.Second}, nil,
			[]span{{0.8, 1.2}, {1.6, 2.4}}},
	} {
		for i, w := range c.want {
			lo, hi := time.Duration(w.lo*float64(time.Second)), time.Duration(w.hi*float64(time.Second))
			for range 100 {
				if d := c.policy.delay(i+1, c.err); d < lo || d > hi {
					t.Fatalf("%s: delay(%d) = %v, want in [%v, %v]", c.name, i+1, d, lo, hi)
				}
			}
		}
	}
}

// The loop: attempts counted while sessions fail, reset by one that got
// through; ended is told the policy's delay and the session's error, and
// its delay is the one waited for.
func TestReconnectLoop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// fail, fail, ok (nil error: as planned), fail, ok (lost), fail: then stop.
	plan := []struct {
		ok  bool
		err error
	}{{false, errors.New("a")}, {false, errors.New("b")}, {true, nil}, {false, errors.New("c")}, {true, errors.New("lost")}, {false, errors.New("d")}}
	var sessions []int
	var calls []string
	policy := retryPolicy{min: time.Hour, max: 4 * time.Hour, below: true}
	done := make(chan struct{})
	go func() {
		defer close(done)
		reconnect(ctx, policy, func(attempt int) (bool, error) {
			sessions = append(sessions, attempt)
			p := plan[len(sessions)-1]
			if len(sessions) == len(plan) {
				cancel()
			}
			return p.ok, p.err
		}, func(attempt int, delay time.Duration, err error) time.Duration {
			calls = append(calls, fmt.Sprint(attempt, " ", err))
			if hi := min(time.Hour<<(attempt-1), 4*time.Hour); delay > hi || delay < hi*8/10 {
				t.Errorf("attempt %d: planned delay %v, want the policy's", attempt, delay)
			}
			return time.Millisecond // not the hours planned
		})
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("reconnect did not wait the delay ended returned, or did not stop")
	}
	// The first session is attempt 0; the one after a session that got
	// through is attempt 1 again.
	if fmt.Sprint(sessions) != "[0 1 2 1 2 1]" {
		t.Errorf("sessions told attempts %v, want [0 1 2 1 2 1]", sessions)
	}
	want := "[1 a 2 b 1 <nil> 2 c 1 lost]" // none after the session that saw ctx done
	if got := fmt.Sprint(calls); got != want {
		t.Errorf("ended called with %s, want %s", got, want)
	}
}

// reconnect returns while it waits, as soon as ctx is done.
func TestReconnectStopsWhileWaiting(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		reconnect(ctx, retryPolicy{min: time.Hour, max: time.Hour}, func(int) (bool, error) { return false, errors.New("x") },
			func(_ int, d time.Duration, _ error) time.Duration { cancel(); return d })
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("reconnect kept waiting after ctx was done")
	}
}

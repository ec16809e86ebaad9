package monitor

import (
	"context"
	"errors"
	"math/rand/v2"
	"syscall"
	"time"
)

// refusedRetry is how often an attempt that nothing accepted (connection
// refused) is retried at least, by every source: asking again costs the
// broker nothing, and a node that restarts accepts connections within
// seconds — the faults right after a boot are the ones an operator needs
// to see.
const refusedRetry = 2 * time.Second

// retryPolicy says how long a source waits after a failed attempt: min,
// doubled per consecutive failure up to max, with jitter.
type retryPolicy struct {
	min, max time.Duration
	// below makes the jitter only shorten the delay (by up to 20 %), so
	// that max is a hard cap; otherwise the delay is ±20 %.
	below bool
	// refused, when set, caps the delay after an attempt the peer refused
	// (errors.Is(err, syscall.ECONNREFUSED)).
	refused time.Duration
}

// delay is the wait after the attempt-th consecutive failure (attempt ≥ 1),
// which failed with err.
func (r retryPolicy) delay(attempt int, err error) time.Duration {
	d := r.min
	for i := 1; i < attempt && d < r.max; i++ {
		d *= 2
	}
	d = min(d, r.max)
	if r.below {
		if j := int64(d / 5); j > 0 {
			d -= time.Duration(rand.Int64N(j))
		}
	} else {
		d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	}
	if r.refused > 0 && errors.Is(err, syscall.ECONNREFUSED) {
		d = min(d, r.refused)
	}
	return d
}

// reconnect runs session until ctx is done, waiting between sessions as
// policy says. A session is one attempt: a connection kept until it is
// lost, or one poll. It reports whether it got through (which resets the
// backoff) and why it ended: nil when it ended as planned (a poll done).
// ended is told the attempt number (1 after a session that got through,
// counting up while they fail), the delay the policy plans (for the
// failure counted so far) and the session's error, and returns the delay
// to use: a source may wait longer for a cause that will not clear by
// itself, or keep its own pace after a session that went as planned.
func reconnect(ctx context.Context, policy retryPolicy, session func(attempt int) (bool, error),
	ended func(attempt int, delay time.Duration, err error) time.Duration) {
	attempt := 0
	for ctx.Err() == nil {
		ok, err := session(attempt)
		if ctx.Err() != nil {
			return
		}
		if ok {
			attempt = 0
		}
		attempt++
		if !sleep(ctx, ended(attempt, policy.delay(attempt, err), err)) {
			return
		}
	}
}

// sleep waits for d and reports false if ctx was done first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

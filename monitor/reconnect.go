package monitor

import (
	"context"
	"math/rand/v2"
	"time"
)

// reconnect runs session until ctx is done, waiting between sessions with
// capped exponential backoff and jitter. session reports whether it got
// connected (which resets the backoff) and why it ended; failed is told
// the attempt number, the planned delay and the error, and returns the
// delay to use (a source may wait longer for a cause that will not clear
// by itself).
func reconnect(ctx context.Context, lo, hi time.Duration, session func(attempt int) (bool, error),
	failed func(attempt int, delay time.Duration, err error) time.Duration) {
	attempt := 0
	for ctx.Err() == nil {
		connected, err := session(attempt)
		if ctx.Err() != nil {
			return
		}
		if connected {
			attempt = 0
		}
		attempt++
		delay := failed(attempt, backoff(attempt, lo, hi), err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// backoff is lo·2^(attempt-1), capped at hi, ±20 % jitter.
func backoff(attempt int, lo, hi time.Duration) time.Duration {
	d := lo
	for i := 1; i < attempt && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

package cli

import (
	"runtime"
	"testing"
	"time"

	"github.com/amqptop/amqptop/model"
)

// A long run at the demo's full speed (8 simulated hours of the tour,
// about 70,000 observations, through the same feeds and state as watch):
// once the event history is full, the heap stays where it is; when the
// run stops, every goroutine it started has ended.
func TestLongDemoRunHasBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("long (-short)")
	}
	goroutines := runtime.NumGoroutine()
	c := &config{demo: true, scenario: "tour", seed: 1, speed: 0, history: 5000, settle: 2 * time.Second}
	r := startState(t, c, false)
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var start time.Time
	r.waitState(t, "the demo started", 10*time.Second, func(st *model.State) bool {
		start = st.Now()
		return !start.IsZero()
	})
	var plateau uint64
	for h := 1; h <= 8; h++ {
		r.waitState(t, "simulated hour", 2*time.Minute, func(st *model.State) bool {
			return st.Now().Sub(start) >= time.Duration(h)*time.Hour
		})
		// Measured with the consumer held, once the feed has filled the
		// channel (4096 observations in flight): the same point each hour.
		r.mu.Lock()
		events, conns := r.st.EventCount(), r.st.ConnCount()
		time.Sleep(300 * time.Millisecond)
		hb := heap()
		r.mu.Unlock()
		t.Logf("hour %d: heap %d KiB, %d events kept, %d connections", h, hb>>10, events, conns)
		if events > c.history {
			t.Errorf("hour %d: %d events kept, history is %d", h, events, c.history)
		}
		switch {
		case h == 4: // the history (5000 events) fills in the fourth hour
			plateau = hb
		case h > 4 && hb > plateau+plateau/10+1<<20:
			t.Errorf("hour %d: heap %d KiB, it was %d KiB at hour 4: it grows", h, hb>>10, plateau>>10)
		}
	}
	r.cancel()
	<-r.done
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > goroutines {
		t.Errorf("%d goroutines after the run, %d before", n, goroutines)
	}
}

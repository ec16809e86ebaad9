package monitor

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/amqptop/amqptop/model"
	"github.com/amqptop/amqptop/testbroker"
)

// A node declares amq.rabbitmq.log seconds after it accepts connections:
// a subscriber that finds it missing says it is waiting and looks again
// every few seconds, and only after WaitFor says it does not exist, with
// the hint. (A node with log.exchange = false stands for the first
// seconds of a boot: the exchange is missing, everything else answers.)
func TestSubscriberWaitsForTheLogExchange(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (-short)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n, err := testbroker.Start(ctx, testbroker.Options{Name: "amqptop-nolog", ExtraConf: []string{"log.exchange = false"}})
	if err != nil {
		testbroker.Unavailable(t, err)
	}
	defer n.Stop()
	tg, err := ParseTarget(n.AMQPURL(), n.MgmtURL())
	if err != nil {
		t.Fatal(err)
	}
	var s sink
	sctx, stop := context.WithCancel(ctx)
	sub := &Subscriber{Target: tg, Kind: LogStream, Client: "amqptop-log@test", WaitFor: 3 * time.Second, WaitEvery: 300 * time.Millisecond}
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- sub.Run(sctx, s.emit) }()
	off := s.wait(t, "the log source off", 30*time.Second, func(o model.Observation) bool {
		st, ok := o.(model.SourceStatus)
		return ok && st.Health == model.HealthOff
	}).(model.SourceStatus)
	took := time.Since(start)
	stop()
	<-done
	if !strings.Contains(off.Detail, "amq.rabbitmq.log does not exist") || !strings.Contains(off.Hint, "log.exchange = true") ||
		off.Condition != "log-exchange-missing" {
		t.Errorf("off: %+v", off)
	}
	if took < 3*time.Second {
		t.Errorf("gave up after %v, before WaitFor", took)
	}
	// Meanwhile: "waiting", and a look every WaitEvery (the statuses are
	// reported on change only, so count the broker's channel errors).
	waiting := s.find(func(o model.Observation) bool {
		st, ok := o.(model.SourceStatus)
		return ok && st.Health == model.HealthDegraded && strings.Contains(st.Detail, "waiting for amq.rabbitmq.log") &&
			st.Condition == "log-exchange-waiting"
	})
	if waiting == nil {
		t.Fatalf("no waiting status before off: %+v", s.obs)
	}
	looks := countInFile(t, n.LogFile(), "no exchange 'amq.rabbitmq.log' in vhost '/'")
	if looks < 4 {
		t.Errorf("looked for the exchange %d times in %v (every 300 ms expected)", looks, took)
	}
}

// countInFile counts the lines of a file that contain s.
func countInFile(t *testing.T, path, s string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), s)
}

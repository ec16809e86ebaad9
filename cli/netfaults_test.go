package cli

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/amqptop/amqptop/faults"
	"github.com/amqptop/amqptop/model"
	"github.com/amqptop/amqptop/testbroker"
)

// The network between amqptop and the broker fails: a slow link, a stall
// shorter than the heartbeat bound, a cut longer than it. A small TCP
// proxy sits between them (faults.Proxy); the broker is the private node.
//
// The probe's bound after a cut: amqp091-go (v1.16.0, connection.go,
// heartbeater) extends the socket's read deadline by 3 × heartbeat/2 at
// every frame read, so with nothing arriving the read fails at most
// 1.5 × heartbeat after the cut; the probe then reports itself down.
func TestNetworkFaultsInAmqptopsPath(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (-short)")
	}
	t.Parallel() // mostly waiting on timeouts and heartbeats
	node := testbroker.Shared(t)
	amqpProxy, err := faults.NewProxy(fmt.Sprintf("127.0.0.1:%d", node.AMQPPort))
	if err != nil {
		t.Fatal(err)
	}
	defer amqpProxy.Close()
	mgmtProxy, err := faults.NewProxy(fmt.Sprintf("127.0.0.1:%d", node.MgmtPort))
	if err != nil {
		t.Fatal(err)
	}
	defer mgmtProxy.Close()
	// AMQPTOP_TEST_HEARTBEAT measures another heartbeat (make measure
	// runs it with amqptop's default, 10s).
	heartbeat := 2 * time.Second
	if d, err := time.ParseDuration(os.Getenv("AMQPTOP_TEST_HEARTBEAT")); err == nil && d > 0 {
		heartbeat = d
	}
	c := &config{url: "amqp://guest:guest@" + amqpProxy.Addr() + "/", mgmtURL: "http://" + mgmtProxy.Addr(),
		poll: time.Second, probeInterval: 250 * time.Millisecond, heartbeat: heartbeat, history: 10000, settle: 2 * time.Second}
	r := startState(t, c, true)
	allUp := func(st *model.State) bool {
		for _, src := range []model.Source{model.SourceProbe, model.SourceManagement, model.SourceEvents, model.SourceLog} {
			if !sourceIs(src, model.HealthUp, "")(st) {
				return false
			}
		}
		_, stale := st.Stale()
		return st.Probe().Link == model.LinkUp && !stale
	}
	r.waitState(t, "every source up", 60*time.Second, allUp)
	retries := func() int {
		r.mu.Lock()
		defer r.mu.Unlock()
		n := 0
		for _, e := range r.events {
			if e.Type == model.ProbeRetry {
				n++
			}
		}
		return n
	}

	// A slow link (150 ms each way): the probe measures it and stays up.
	t.Run("slow link", func(t *testing.T) {
		before := retries()
		amqpProxy.Latency(150 * time.Millisecond)
		mgmtProxy.Latency(150 * time.Millisecond)
		r.waitState(t, "a round trip of 300 ms or more", 20*time.Second, func(st *model.State) bool {
			return st.Probe().RoundTrip.Last() >= 300*time.Millisecond
		})
		time.Sleep(3 * time.Second)
		amqpProxy.Latency(0)
		mgmtProxy.Latency(0)
		r.mu.Lock()
		up := r.st.Probe().Link == model.LinkUp
		r.mu.Unlock()
		if !up || retries() != before {
			t.Errorf("a slow link took the probe down (up %v, %d reconnects)", up, retries()-before)
		}
		r.waitState(t, "fast again", 20*time.Second, func(st *model.State) bool {
			return st.Probe().RoundTrip.Last() < 150*time.Millisecond && allUp(st)
		})
	})

	// A stall well inside the bound: nothing reconnects.
	t.Run("stall", func(t *testing.T) {
		before := retries()
		amqpProxy.Cut()
		time.Sleep(heartbeat / 2)
		amqpProxy.Heal()
		time.Sleep(2 * heartbeat)
		r.mu.Lock()
		up := r.st.Probe().Link == model.LinkUp
		r.mu.Unlock()
		if !up || retries() != before {
			t.Errorf("a %v stall took the probe down (up %v, %d reconnects)", heartbeat/2, up, retries()-before)
		}
	})

	// A cut: the probe is down within its bound, then every source, and
	// what is shown is stale; once healed everything comes back by itself.
	t.Run("cut", func(t *testing.T) {
		amqpProxy.Cut()
		mgmtProxy.Cut()
		// Noticed: no longer up, whether it is down or already trying
		// again (under a second make test it can be reconnecting, its
		// dial through the cut held, by the time the state is sampled).
		took := r.waitState(t, "the probe no longer up after the cut", 30*time.Second, func(st *model.State) bool {
			return st.Probe().Link == model.LinkDown || st.Probe().Link == model.LinkConnecting
		})
		bound := heartbeat * 3 / 2
		t.Logf("the probe saw the cut after %v (heartbeat %v, bound %v)", took.Round(10*time.Millisecond), heartbeat, bound)
		// The bound, plus what a loaded machine adds (scheduling, the
		// state's 20 ms poll here).
		if took > bound+2*time.Second {
			t.Errorf("the probe took %v to see a cut; its bound is %v", took, bound)
		}
		// The subscribers (heartbeat 10 s) and the API (timeout 10 s)
		// follow; then all of it is stale. A poll half done when the cut
		// came (its first endpoints answered, the rest timed out) is
		// degraded, not down, and on a loaded machine a slow poll has
		// stretched the interval, up to its 60 s cap, before the next one
		// finds the API gone.
		r.waitState(t, "everything stale", 40*time.Second+bound+60*time.Second, func(st *model.State) bool {
			_, stale := st.Stale()
			return stale
		})
		amqpProxy.Heal()
		mgmtProxy.Heal()
		took = r.waitState(t, "recovery after the cut", 90*time.Second, allUp)
		t.Logf("every source back %v after the cut healed", took.Round(100*time.Millisecond))
	})
}

package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amqptop/amqptop/causes"
	"github.com/amqptop/amqptop/faults"
	"github.com/amqptop/amqptop/model"
	"github.com/amqptop/amqptop/testbroker"
	amqp "github.com/rabbitmq/amqp091-go"
)

// arrival is an event as the JSON sink printed it, with when it was read.
type arrival struct {
	model.Event
	at time.Time
}

// liveRun is `amqptop watch --json` running in-process against a broker.
type liveRun struct {
	mu     sync.Mutex
	events []arrival
	cancel context.CancelFunc
	done   chan error
}

func startWatch(t *testing.T, amqpURL, mgmtURL string, extra ...func(*config)) *liveRun {
	t.Helper()
	c := config{url: amqpURL, mgmtURL: mgmtURL, poll: time.Second, probeInterval: 500 * time.Millisecond,
		heartbeat: 5 * time.Second, history: 10000, settle: 2 * time.Second, json: true}
	for _, f := range extra {
		f(&c)
	}
	srcs, err := feeds(&c)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &liveRun{cancel: cancel, done: make(chan error, 1)}
	pr, pw := io.Pipe()
	go func() {
		err := watch(ctx, &c, stateFor(&c, causes.Default()), srcs, pw)
		pw.Close()
		r.done <- err
	}()
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var e model.Event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Errorf("not JSON: %v: %s", err, sc.Text())
				continue
			}
			r.mu.Lock()
			r.events = append(r.events, arrival{e, time.Now()})
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *liveRun) stop(t *testing.T) {
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("watch: %v", err)
		}
		r.done <- nil
	case <-time.After(10 * time.Second):
		t.Error("watch did not stop within 10 s of cancel")
	}
}

// waitFor returns the first event (from index from on) that matches.
func (r *liveRun) waitFor(t *testing.T, what string, timeout time.Duration, match func(e *arrival) bool) *arrival {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for i := range r.events {
			if match(&r.events[i]) {
				e := r.events[i]
				r.mu.Unlock()
				return &e
			}
		}
		r.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, e := range r.events {
		cause := ""
		if e.Cause != nil {
			cause = e.Cause.ID
		}
		fmt.Fprintf(&b, "\n  %s %s %s %q %s %s", e.Time.Format("15:04:05.000"), e.Type, e.Subject(), e.Conn, cause, e.Text)
	}
	t.Fatalf("no %s within %v; events:%s", what, timeout, b.String())
	return nil
}

func (r *liveRun) count(match func(e *arrival) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for i := range r.events {
		if match(&r.events[i]) {
			n++
		}
	}
	return n
}

func closeOf(conn, cause string) func(*arrival) bool {
	return func(e *arrival) bool {
		return (e.Type == model.ConnClosed || e.Type == model.ChanClosed) && e.Conn == conn && e.Cause != nil && e.Cause.ID == cause
	}
}

// promptly asserts the close reached the sink within 2 s of the broker
// logging it (its ts is the broker's own timestamp).
func promptly(t *testing.T, e *arrival) {
	t.Helper()
	if lag := e.at.Sub(e.Time); lag > 2*time.Second {
		t.Errorf("%s %s reported %v after the broker logged it", e.Type, e.Cause.ID, lag.Round(time.Millisecond))
	} else {
		t.Logf("%s → %s: %v after the broker", e.Conn, e.Cause.ID, lag.Round(time.Millisecond))
	}
}

func waitListed(t *testing.T, n *testbroker.Node, client string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		req, _ := http.NewRequest("GET", n.MgmtURL()+"/api/connections?columns=user_provided_name", nil)
		req.SetBasicAuth("guest", "guest")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), `"`+client+`"`) {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s never listed by the management API", client)
}

func mustDial(t *testing.T, url, name string) *amqp.Connection {
	t.Helper()
	c, err := amqp.DialConfig(url, amqp.Config{Properties: amqp.Table{"connection_name": name}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func connName(c *amqp.Connection) string {
	return c.LocalAddr().String() + " -> " + c.RemoteAddr().String()
}

// TestLiveFaults injects real faults into a private node and checks each
// close is reported with its cause on the right connection, promptly.
func TestLiveFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (-short)")
	}
	for _, kind := range testbroker.Brokers() {
		t.Run("rabbitmq-"+kind, func(t *testing.T) {
			t.Parallel()
			liveFaults(t, testbroker.SharedFor(t, kind))
		})
	}
}

func liveFaults(t *testing.T, node *testbroker.Node) {
	url := node.AMQPURL()
	r := startWatch(t, url, node.MgmtURL())
	r.waitFor(t, "probe.connected", 20*time.Second, func(e *arrival) bool { return e.Type == model.ProbeUp })
	for _, src := range []string{"events", "log"} {
		r.waitFor(t, src+" up", 20*time.Second, func(e *arrival) bool {
			return e.Type == model.SourceChanged && e.Health == model.HealthUp && strings.HasPrefix(e.Text, src)
		})
	}

	t.Run("heartbeat", func(t *testing.T) {
		s, err := faults.DialSilent(url, "hb-victim", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		name := s.Name()
		s.Mute()
		promptly(t, r.waitFor(t, "heartbeat-timeout", 15*time.Second, closeOf(name, "heartbeat-timeout")))
	})
	t.Run("management-close", func(t *testing.T) {
		c := mustDial(t, url, "to-be-closed")
		waitListed(t, node, "to-be-closed")
		req, _ := http.NewRequest("DELETE", node.MgmtURL()+"/api/connections/"+pathEscape(connName(c)), nil)
		req.SetBasicAuth("guest", "guest")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode/100 != 2 {
			t.Fatalf("DELETE: %v %v", resp, err)
		}
		e := r.waitFor(t, "management-force-close", 15*time.Second, closeOf(connName(c), "management-force-close"))
		if e.Code != 320 || e.Client != "to-be-closed" {
			t.Errorf("close = %+v", e.Event)
		}
		promptly(t, e)
	})
	t.Run("wrong-password", func(t *testing.T) {
		_, err := amqp.Dial(strings.Replace(url, "guest:guest", "guest:not-the-password", 1))
		if err == nil {
			t.Fatal("logged in with a wrong password")
		}
		e := r.waitFor(t, "access-refused", 15*time.Second, func(e *arrival) bool {
			return e.Type == model.ConnClosed && e.Cause != nil && e.Cause.ID == "access-refused" && e.User == "guest"
		})
		promptly(t, e)
		if r.count(func(x *arrival) bool { return x.Type == model.ConnClosed && x.Conn == e.Conn && !x.Update }) != 1 {
			t.Error("one connection.closed per refused login")
		}
	})
	t.Run("unknown-vhost", func(t *testing.T) {
		if _, err := amqp.Dial(url + "no-such-vhost"); err == nil {
			t.Fatal("opened a vhost that does not exist")
		}
		promptly(t, r.waitFor(t, "vhost-not-allowed", 15*time.Second, func(e *arrival) bool {
			return e.Type == model.ConnClosed && e.Cause != nil && e.Cause.ID == "vhost-not-allowed"
		}))
	})
	t.Run("channel-errors", func(t *testing.T) {
		c := mustDial(t, url, "channel-errors")
		defer c.Close()
		other := mustDial(t, url, "owner")
		defer other.Close()
		name := connName(c)
		ch, _ := c.Channel()
		ch.QueueDeclarePassive("no-such-queue", false, false, false, false, nil)
		ch, _ = c.Channel()
		ch.QueueDeclare("args-q", false, true, false, false, amqp.Table{"x-message-ttl": int32(1000)})
		ch.QueueDeclare("args-q", false, true, false, false, amqp.Table{"x-message-ttl": int32(2000)})
		ch, _ = c.Channel()
		closed := ch.NotifyClose(make(chan *amqp.Error, 1))
		ch.Ack(42, false)
		<-closed
		och, _ := other.Channel()
		och.QueueDeclare("owned-q", false, true, true, false, nil)
		ch, _ = c.Channel()
		ch.QueueDeclare("owned-q", false, true, true, false, nil)
		for ch, cause := range map[int]string{1: "not-found", 2: "queue-arg-mismatch", 3: "unknown-delivery-tag", 4: "exclusive-queue-locked"} {
			e := r.waitFor(t, cause, 15*time.Second, func(e *arrival) bool {
				return e.Type == model.ChanClosed && e.Conn == name && e.Channel == ch && e.Cause != nil && e.Cause.ID == cause
			})
			promptly(t, e)
			if e.Client != "channel-errors" {
				t.Errorf("the channel's connection is named: %+v", e.Event)
			}
		}
	})
	t.Run("unexpected-frame", func(t *testing.T) {
		raw, err := faults.Dial(amqpAddr(node), "guest", "guest", "/", "raw-505")
		if err != nil {
			t.Fatal(err)
		}
		raw.OpenChannel(1)
		raw.PublishWithoutHeader(1)
		if code, _, _ := raw.AwaitClose(5 * time.Second); code != 505 {
			t.Fatalf("the broker answered %d", code)
		}
		promptly(t, r.waitFor(t, "unexpected-frame", 15*time.Second, closeOf(raw.Name(), "unexpected-frame")))
	})
	t.Run("channel-not-open", func(t *testing.T) {
		raw, err := faults.Dial(amqpAddr(node), "guest", "guest", "/", "raw-504")
		if err != nil {
			t.Fatal(err)
		}
		raw.PublishOnUnopenedChannel(3)
		if code, _, _ := raw.AwaitClose(5 * time.Second); code != 504 {
			t.Fatalf("the broker answered %d", code)
		}
		promptly(t, r.waitFor(t, "channel-not-open", 15*time.Second, closeOf(raw.Name(), "channel-not-open")))
	})
	t.Run("abrupt-socket", func(t *testing.T) {
		raw, err := faults.Dial(amqpAddr(node), "guest", "guest", "/", "abrupt")
		if err != nil {
			t.Fatal(err)
		}
		name := raw.Name()
		raw.Abort()
		promptly(t, r.waitFor(t, "network-interruption", 15*time.Second, closeOf(name, "network-interruption")))
	})
	t.Run("flapping", func(t *testing.T) {
		names, err := faults.Flap(url, "flapper", 5, time.Second, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		r.waitFor(t, "reconnect-flapping", 15*time.Second, func(e *arrival) bool {
			return e.Type == model.ClientFlapping && e.Client == "flapper" && e.Cause != nil && e.Cause.ID == "reconnect-flapping"
		})
		for _, n := range names {
			r.waitFor(t, "close of "+n, 15*time.Second, closeOf(n, "network-interruption"))
		}
	})
	t.Run("memory-alarm", func(t *testing.T) {
		pub := mustDial(t, url, "publisher")
		defer pub.Close()
		pch, _ := pub.Channel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { // a publisher that keeps trying
			for ctx.Err() == nil {
				pch.PublishWithContext(ctx, "", "nowhere", false, false, amqp.Publishing{Body: []byte("x")})
				time.Sleep(200 * time.Millisecond)
			}
		}()
		waitListed(t, node, "publisher")
		if err := node.SetMemoryAlarm(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		defer node.SetMemoryAlarm(context.Background(), false)
		r.waitFor(t, "alarm.set", 15*time.Second, func(e *arrival) bool {
			return e.Type == model.AlarmSet && e.Alarm == "memory" && e.Node == node.Name && e.Cause.ID == "resource-alarm-blocked"
		})
		r.waitFor(t, "probe.blocked", 15*time.Second, func(e *arrival) bool {
			return e.Type == model.ProbeIsBlocked && e.Cause != nil && e.Cause.ID == "resource-alarm-blocked" && e.Text == "low on memory"
		})
		r.waitFor(t, "publisher blocked", 20*time.Second, func(e *arrival) bool {
			return e.Type == model.ConnStateChanged && e.Client == "publisher" && (e.To == "blocked" || e.To == "blocking") && e.Cause != nil
		})
		if err := node.SetMemoryAlarm(context.Background(), false); err != nil {
			t.Fatal(err)
		}
		r.waitFor(t, "alarm.cleared", 15*time.Second, func(e *arrival) bool { return e.Type == model.AlarmCleared && e.Node == node.Name })
		r.waitFor(t, "probe.unblocked", 15*time.Second, func(e *arrival) bool { return e.Type == model.ProbeIsUnblocked })
	})
	t.Run("broker-restart", func(t *testing.T) {
		stop := make(chan struct{})
		defer close(stop)
		go reconnector(url, "reconnector", stop)
		waitListed(t, node, "reconnector")
		time.Sleep(2 * time.Second) // a poll with it listed
		if err := node.StopApp(context.Background()); err != nil {
			t.Fatal(err)
		}
		// The probe's own connection, whichever source told its close first
		// (on a loaded machine the log's entry can beat the probe's 320).
		r.waitFor(t, "probe's broker-shutdown", 15*time.Second, func(e *arrival) bool {
			return e.Type == model.ConnClosed && strings.HasPrefix(e.Client, "amqptop-probe@") && e.Cause != nil && e.Cause.ID == "broker-shutdown" && e.Code == 320
		})
		r.waitFor(t, "probe.reconnecting", 15*time.Second, func(e *arrival) bool { return e.Type == model.ProbeRetry })
		time.Sleep(3 * time.Second)
		if err := node.StartApp(context.Background()); err != nil {
			t.Fatal(err)
		}
		up := r.waitFor(t, "probe back", 60*time.Second, func(e *arrival) bool { return e.Type == model.ProbeUp && e.Downtime > 3*time.Second })
		t.Logf("probe down for %v", up.Downtime)
		r.waitFor(t, "reconnector back", 30*time.Second, func(e *arrival) bool {
			return e.Type == model.ClientReconnected && e.Client == "reconnector" && e.Downtime > 0
		})
		r.waitFor(t, "reconnector's close", 30*time.Second, func(e *arrival) bool {
			return e.Type == model.ConnClosed && e.Client == "reconnector" && e.Cause != nil && e.Cause.ID == "broker-shutdown"
		})
	})
}

// reconnector keeps a connection open, reconnecting every 500 ms after a loss.
func reconnector(url, name string, stop chan struct{}) {
	for {
		c, err := amqp.DialConfig(url, amqp.Config{Properties: amqp.Table{"connection_name": name}})
		if err == nil {
			closed := c.NotifyClose(make(chan *amqp.Error, 1))
			select {
			case <-closed:
			case <-stop:
				c.Close()
				return
			}
		}
		select {
		case <-stop:
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func pathEscape(s string) string { return url.PathEscape(s) }

func amqpAddr(n *testbroker.Node) string { return fmt.Sprintf("127.0.0.1:%d", n.AMQPPort) }

// Started while the broker is down: the sources say so, with the reason,
// and recover on their own; stopping closes the probe cleanly.
func TestLiveStartsWithTheBrokerDown(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (-short)")
	}
	node := testbroker.Shared(t)
	if err := node.StopApp(context.Background()); err != nil {
		t.Fatal(err)
	}
	up := false
	defer func() {
		if !up {
			node.StartApp(context.Background())
		}
	}()
	r := startWatch(t, node.AMQPURL(), node.MgmtURL())
	for _, src := range []string{"probe", "management"} {
		e := r.waitFor(t, src+" down", 20*time.Second, func(e *arrival) bool {
			return e.Type == model.SourceChanged && e.Health == model.HealthDown && strings.HasPrefix(e.Text, src)
		})
		if !strings.Contains(e.Detail, "refused") || e.Hint == "" {
			t.Errorf("%s down without a reason or hint: %+v", src, e.Event)
		}
	}
	r.waitFor(t, "a reconnect attempt", 10*time.Second, func(e *arrival) bool { return e.Type == model.ProbeRetry && e.Cause != nil })
	if err := node.StartApp(context.Background()); err != nil {
		t.Fatal(err)
	}
	up = true
	for _, src := range []string{"probe", "management", "events", "log"} {
		r.waitFor(t, src+" up", 60*time.Second, func(e *arrival) bool {
			return e.Type == model.SourceChanged && e.Health == model.HealthUp && strings.HasPrefix(e.Text, src)
		})
	}
	probe := r.waitFor(t, "probe.connected", 10*time.Second, func(e *arrival) bool { return e.Type == model.ProbeUp })
	r.stop(t)
	// The probe closed cleanly: the broker logs a plain closing line and
	// no queue of the probe is left.
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(node.LogFile())
		line := "closing AMQP connection"
		if i := strings.LastIndex(string(b), probe.Conn+" - amqptop-probe@"); i >= 0 && strings.Contains(string(b[max(0, i-200):]), line) {
			rest := string(b[i:])
			if end := strings.IndexByte(rest, '\n'); end > 0 && strings.HasSuffix(strings.TrimSpace(rest[:end]), "user: 'guest')") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the broker never logged a clean close of the probe")
		}
		time.Sleep(200 * time.Millisecond)
	}
	req, _ := http.NewRequest("GET", node.MgmtURL()+"/api/queues?columns=name,exclusive", nil)
	req.SetBasicAuth("guest", "guest")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(b), `"exclusive":true`) {
		t.Errorf("an exclusive queue is left: %s", b)
	}
}

// Two nodes: connections on either node, per-node alarms, and a close on
// the other node diagnosed from that node's log.
func TestLiveCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (-short)")
	}
	for _, kind := range testbroker.Brokers() {
		t.Run("rabbitmq-"+kind, func(t *testing.T) {
			t.Parallel()
			liveCluster(t, kind)
		})
	}
}

func liveCluster(t *testing.T, kind string) {
	a, b, err := testbroker.Cluster(context.Background(), testbroker.Options{Broker: kind, Name: "amqptop-cluster", StatsIntervalMS: 1000})
	if err != nil {
		testbroker.Unavailable(t, err)
	}
	defer a.Stop()
	defer b.Stop()
	r := startWatch(t, a.AMQPURL(), a.MgmtURL())
	r.waitFor(t, "log up", 30*time.Second, func(e *arrival) bool {
		return e.Type == model.SourceChanged && e.Health == model.HealthUp && strings.HasPrefix(e.Text, "log")
	})
	onB := mustDial(t, b.AMQPURL(), "on-node-b")
	defer onB.Close()
	r.waitFor(t, "the connection on b", 20*time.Second, func(e *arrival) bool {
		return e.Type == model.ConnOpened && e.Client == "on-node-b" && e.Node == b.Name
	})
	s, err := faults.DialSilent(b.AMQPURL(), "silent-on-b", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	name := s.Name()
	s.Mute()
	e := r.waitFor(t, "heartbeat-timeout on b", 20*time.Second, closeOf(name, "heartbeat-timeout"))
	if e.Node != b.Name {
		t.Errorf("closed on %q, want %q", e.Node, b.Name)
	}
	promptly(t, e)
	if err := b.SetMemoryAlarm(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	defer b.SetMemoryAlarm(context.Background(), false)
	r.waitFor(t, "alarm on b", 20*time.Second, func(e *arrival) bool { return e.Type == model.AlarmSet && e.Node == b.Name })
	if r.count(func(e *arrival) bool { return e.Type == model.AlarmSet && e.Node == a.Name }) != 0 {
		t.Error("the alarm is b's, not a's")
	}
	// A memory alarm on any node blocks publishers cluster-wide: the probe on a too.
	r.waitFor(t, "probe blocked", 20*time.Second, func(e *arrival) bool { return e.Type == model.ProbeIsBlocked })
	if err := b.SetMemoryAlarm(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, "alarm cleared on b", 20*time.Second, func(e *arrival) bool { return e.Type == model.AlarmCleared && e.Node == b.Name })

	// The victims on the other node: b stops, then b is killed. What is
	// on a, the probe included, is untouched, and no close is confidently wrong.
	var v verdicts
	v.expect("silent-on-b", "heartbeat-timeout")
	bystander := mustDial(t, a.AMQPURL(), "bystander-on-a")
	defer bystander.Close()
	stopVictim := mustDial(t, b.AMQPURL(), "victim-b-stop")
	defer stopVictim.Close()
	v.expect("victim-b-stop", "broker-shutdown")
	v.expect("on-node-b", "broker-shutdown")
	waitListed(t, a, "victim-b-stop")
	if err := b.StopApp(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, "victim-b-stop closed", 30*time.Second, func(e *arrival) bool {
		return e.Type == model.ConnClosed && e.Client == "victim-b-stop" && e.Cause != nil
	})
	if err := b.StartApp(context.Background()); err != nil {
		t.Fatal(err)
	}
	killVictim := mustDial(t, b.AMQPURL(), "victim-b-kill")
	defer killVictim.Close()
	v.expect("victim-b-kill", "node-down")
	waitListed(t, a, "victim-b-kill")
	if err := b.Kill(); err != nil {
		t.Fatal(err)
	}
	// The API says b is gone at its next poll, which a loaded machine
	// may have stretched (up to the poller's 60 s cap).
	r.waitFor(t, "b lost", 90*time.Second, func(e *arrival) bool {
		return e.Type == model.NodeDown && e.Node == b.Name && strings.Contains(e.Text, "lost")
	})
	if err := b.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, "victim-b-kill closed", 60*time.Second, func(e *arrival) bool {
		return e.Type == model.ConnClosed && e.Client == "victim-b-kill" && e.Cause != nil
	})
	r.waitFor(t, "b crashed and restarted", 60*time.Second, func(e *arrival) bool {
		return e.Type == model.NodeRestarted && e.Node == b.Name && strings.Contains(e.Text, "crashed")
	})
	time.Sleep(3 * time.Second)
	r.stop(t)
	if n := r.count(func(e *arrival) bool {
		return e.Type == model.ConnClosed && (e.Client == "bystander-on-a" || strings.HasPrefix(e.Client, "amqptop-"))
	}); n != 0 {
		t.Errorf("%d closes on node a, which never stopped", n)
	}
	v.check(t, r)
}

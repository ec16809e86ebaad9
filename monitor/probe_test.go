package monitor

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amqptop/amqptop/model"
	"github.com/amqptop/amqptop/testbroker"
)

func TestFrameScanner(t *testing.T) {
	// A method frame (type 1, 4-byte payload), a heartbeat (type 8, empty
	// payload), a body frame, another heartbeat; fed in awkward pieces.
	stream := []byte{1, 0, 1, 0, 0, 0, 4, 'a', 'b', 'c', 'd', 0xCE,
		8, 0, 0, 0, 0, 0, 0, 0xCE,
		3, 0, 1, 0, 0, 0, 2, 'x', 'y', 0xCE,
		8, 0, 0, 0, 0, 0, 0, 0xCE}
	for _, step := range []int{1, 2, 3, 5, 7, 100} {
		var s frameScanner
		beats := 0
		for i := 0; i < len(stream); i += step {
			beats += s.scan(stream[i:min(i+step, len(stream))])
		}
		if beats != 2 {
			t.Errorf("chunks of %d: %d heartbeats, want 2", step, beats)
		}
	}
	var out frameScanner
	out.skip = 8
	if n := out.scan(append([]byte("AMQP\x00\x00\x09\x01"), 8, 0, 0, 0, 0, 0, 0, 0xCE)); n != 1 {
		t.Errorf("after the protocol header: %d", n)
	}
}

func TestRedaction(t *testing.T) {
	for _, c := range []struct{ in, user, pw, want string }{
		{"dial amqp://bob:s3cr3t-p4ss@h:5672/: refused", "bob", "s3cr3t-p4ss", "dial amqp://bob:xxxxx@h:5672/: refused"},
		{"password s3cr3t-p4ss rejected", "bob", "s3cr3t-p4ss", "password xxxxx rejected"},
		{"user 'guest' - invalid credentials", "guest", "guest", "user 'guest' - invalid credentials"},
		{"amqp://guest:guest@h/", "guest", "guest", "amqp://guest:xxxxx@h/"},
		{"p%40ss and p@ss", "u", "p@ss", "xxxxx and xxxxx"},
	} {
		if got := redact(c.in, c.user, c.pw); got != c.want {
			t.Errorf("redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	_, err := ParseTarget("amqp://bob:s3cr3t-p4ss@host:notaport/", "")
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("a bad URL's error must not quote the password: %v", err)
	}
	if _, err := ParseTarget("http://bob:s3cr3t-p4ss@host/", ""); err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("scheme error: %v", err)
	}
	tg, err := ParseTarget("amqps://bob:pw@mq.example:5671/prod", "")
	if err != nil || tg.Mgmt.String() != "https://mq.example:15671" || tg.Vhost != "prod" || tg.Redacted() != "amqps://bob:xxxxx@mq.example:5671/prod" {
		t.Errorf("target = %+v, %v", tg, err)
	}
	tg, _ = ParseTarget("amqp://bob:pw@mq/%2F", "http://ops:other@mq:15672/")
	if tg.MgmtUser != "ops" || tg.MgmtPassword != "other" || tg.Mgmt.User != nil || tg.Vhost != "/" {
		t.Errorf("management credentials: %+v", tg)
	}
}

type sink struct {
	mu  sync.Mutex
	obs []model.Observation
}

func (s *sink) emit(o model.Observation) { s.mu.Lock(); s.obs = append(s.obs, o); s.mu.Unlock() }

func (s *sink) find(f func(model.Observation) bool) model.Observation {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.obs {
		if f(o) {
			return o
		}
	}
	return nil
}

func (s *sink) wait(t *testing.T, what string, d time.Duration, f func(model.Observation) bool) model.Observation {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if o := s.find(f); o != nil {
			return o
		}
	}
	t.Fatalf("no %s within %v", what, d)
	return nil
}

// An idle probe (long publish interval) exchanges heartbeat frames with the
// broker, and the tap sees them in both directions; a busy one measures
// round trips and confirms.
func TestProbeAgainstABroker(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (-short)")
	}
	node := testbroker.Shared(t)
	tg, err := ParseTarget(node.AMQPURL(), node.MgmtURL())
	if err != nil {
		t.Fatal(err)
	}
	var s sink
	ctx, cancel := context.WithCancel(context.Background())
	p := &Probe{Target: tg, Client: "amqptop-probe@test", Heartbeat: 2 * time.Second, Interval: time.Hour}
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, s.emit) }()
	up := s.wait(t, "probe.connected", 10*time.Second, func(o model.Observation) bool { _, ok := o.(model.ProbeConnected); return ok }).(model.ProbeConnected)
	if up.Heartbeat != 2*time.Second || !strings.Contains(up.Server, "RabbitMQ") || !strings.Contains(up.Conn, " -> ") {
		t.Errorf("connected = %+v", up)
	}
	for _, sent := range []bool{true, false} {
		s.wait(t, "a heartbeat frame", 5*time.Second, func(o model.Observation) bool {
			hb, ok := o.(model.ProbeHeartbeat)
			return ok && hb.Sent == sent
		})
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	// The probe's queue went with its connection: nothing is left behind.
	time.Sleep(500 * time.Millisecond)
	var queues []struct{ Name string }
	if err := getJSON(node.MgmtURL()+"/api/queues", &queues); err != nil {
		t.Fatal(err)
	}
	for _, q := range queues {
		if strings.HasPrefix(q.Name, "amq.gen-") {
			t.Errorf("queue %s left behind", q.Name)
		}
	}

	busy := &Probe{Target: tg, Client: "amqptop-probe@busy", Interval: 100 * time.Millisecond}
	var s2 sink
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	go busy.Run(ctx2, s2.emit)
	lat := s2.wait(t, "a latency sample", 10*time.Second, func(o model.Observation) bool {
		l, ok := o.(model.ProbeLatency)
		return ok && !l.Lost
	}).(model.ProbeLatency)
	if lat.RoundTrip <= 0 || lat.Confirm <= 0 || lat.RoundTrip > 5*time.Second {
		t.Errorf("latency = %+v", lat)
	}
}

// A broker that is down: the probe reports each attempt with its delay and
// the error, and connects on its own once the broker is back.
func TestProbeReconnectsWithBackoff(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (-short)")
	}
	node := testbroker.Shared(t)
	tg, _ := ParseTarget(node.AMQPURL(), node.MgmtURL())
	if err := node.StopApp(context.Background()); err != nil {
		t.Fatal(err)
	}
	restarted := false
	defer func() {
		if !restarted {
			node.StartApp(context.Background())
		}
	}()
	var s sink
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &Probe{Target: tg, Client: "amqptop-probe@backoff", MinDelay: 200 * time.Millisecond, MaxDelay: time.Second}
	go p.Run(ctx, s.emit)
	third := s.wait(t, "a third attempt", 10*time.Second, func(o model.Observation) bool {
		r, ok := o.(model.ProbeReconnecting)
		return ok && r.Attempt == 3
	}).(model.ProbeReconnecting)
	if !strings.Contains(third.Error, "connection refused") || third.Delay < 500*time.Millisecond || third.Delay > 1200*time.Millisecond {
		t.Errorf("attempt 3 = %+v (delay 0.2·2² ±20 %%, capped at 1s)", third)
	}
	down := s.wait(t, "status down", time.Second, func(o model.Observation) bool {
		st, ok := o.(model.SourceStatus)
		return ok && st.Health == model.HealthDown
	}).(model.SourceStatus)
	if !strings.Contains(down.Hint, "listening") || down.Condition != "amqp-connection-refused" {
		t.Errorf("the hint says what to check: %+v", down)
	}
	if err := node.StartApp(context.Background()); err != nil {
		t.Fatal(err)
	}
	restarted = true
	s.wait(t, "probe.connected", 20*time.Second, func(o model.Observation) bool { _, ok := o.(model.ProbeConnected); return ok })
	b, _ := json.Marshal(s.obs)
	if strings.Contains(string(b), "guest:guest") {
		t.Error("credentials in an observation")
	}
}

func getJSON(url string, v any) error {
	return httpGetJSON(url, "guest", "guest", v)
}

func httpGetJSON(url, user, pass string, v any) error {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

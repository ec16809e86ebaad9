package demo_test

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/amqptop/amqptop/causes"
	"github.com/amqptop/amqptop/demo"
	"github.com/amqptop/amqptop/model"
)

// run plays a world for d of simulated time through the real pipeline.
func run(t *testing.T, o demo.Options, d time.Duration) ([]model.Observation, []model.Event) {
	t.Helper()
	w, err := demo.New(o)
	if err != nil {
		t.Fatal(err)
	}
	st := model.New(model.Options{Diagnoser: causes.Default()})
	var obs []model.Observation
	var evs []model.Event
	for {
		ob := w.Next()
		if ob.At().Sub(w.Start()) > d {
			break
		}
		obs = append(obs, ob)
		evs = append(evs, st.Apply(ob)...)
	}
	return obs, append(evs, st.Flush()...)
}

func TestSameSeedSameStream(t *testing.T) {
	a, ea := run(t, demo.Options{Seed: 42}, demo.TourLength)
	b, eb := run(t, demo.Options{Seed: 42}, demo.TourLength)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatal("the same seed gave different observations")
	}
	ka, _ := json.Marshal(ea)
	kb, _ := json.Marshal(eb)
	if string(ka) != string(kb) {
		t.Fatal("the same seed gave different events")
	}
	_, ec := run(t, demo.Options{Seed: 43}, demo.TourLength)
	kc, _ := json.Marshal(ec)
	if string(kc) == string(ka) {
		t.Error("another seed should give another run")
	}
	// Another start time shifts the stream, nothing else.
	start := time.Date(2030, 3, 1, 12, 0, 0, 0, time.UTC)
	d, _ := run(t, demo.Options{Seed: 42, Start: start}, demo.TourLength)
	if len(d) != len(a) {
		t.Fatalf("%d observations vs %d", len(d), len(a))
	}
	shift := start.Sub(a[0].At())
	for i := range a {
		if !d[i].At().Equal(a[i].At().Add(shift)) {
			t.Fatalf("observation %d at %v, want %v", i, d[i].At(), a[i].At().Add(shift))
		}
	}
}

// closes returns the cause of every close per client (or user@host), in order.
func closes(evs []model.Event) map[string][]string {
	out := map[string][]string{}
	for _, e := range evs {
		if e.Type != model.ConnClosed && e.Type != model.ChanClosed {
			continue
		}
		id := "none"
		if e.Cause != nil {
			id = e.Cause.ID
		}
		if e.Update {
			id = "update:" + id
		}
		out[e.Subject()] = append(out[e.Subject()], id)
	}
	return out
}

func causeSet(evs []model.Event) map[string]int {
	out := map[string]int{}
	for _, e := range evs {
		if e.Cause != nil {
			out[e.Cause.ID]++
		}
	}
	return out
}

func TestTourDiagnosesEveryScenario(t *testing.T) {
	_, evs := run(t, demo.Options{Seed: 1}, demo.TourLength)
	got := closes(evs)
	want := map[string][]string{
		"thumbnailer":      {"heartbeat-timeout"},
		"pdf-renderer":     {"heartbeat-timeout"},
		"report-generator": {"unexpected-frame"},
		"notification-hub": {"channel-not-open"},
		"fraud-scorer":     {"consumer-ack-timeout"},
		"metrics-exporter": {"not-found"},
		"inventory-sync": {"queue-arg-mismatch", "network-interruption", "queue-arg-mismatch", "network-interruption",
			"queue-arg-mismatch", "network-interruption", "queue-arg-mismatch", "network-interruption"},
		"amqptop-probe@ops-bastion": {"broker-shutdown"},
	}
	for who, w := range want {
		g := got[who]
		// Connections on the restarted node also close with broker-shutdown.
		g = withoutShutdown(g, who)
		if strings.Join(g, ",") != strings.Join(w, ",") {
			t.Errorf("%s closes: got %v, want %v", who, got[who], w)
		}
	}
	// email-sender: one network interruption (and the restart, if on that node).
	if !contains(got["email-sender"], "network-interruption") {
		t.Errorf("email-sender: %v", got["email-sender"])
	}
	if !contains(got["legacy-crm"], "management-force-close") {
		t.Errorf("legacy-crm: %v", got["legacy-crm"])
	}
	refused := 0
	for who, ids := range got {
		for _, id := range ids {
			if strings.HasPrefix(who, "billing-export@") && id == "access-refused" {
				refused++
			}
			if id == "none" || strings.HasPrefix(id, "update:") {
				t.Errorf("%s: a close without a cause or revised: %v", who, ids)
			}
		}
	}
	if refused != 4 {
		t.Errorf("refused logins = %d, want 4", refused)
	}
	cs := causeSet(evs)
	for _, id := range []string{"reconnect-flapping", "resource-alarm-blocked", "broker-shutdown"} {
		if cs[id] == 0 {
			t.Errorf("no event with cause %s", id)
		}
	}
	if cs["reconnect-flapping"] != 1 {
		t.Errorf("one flapping storm, got %d", cs["reconnect-flapping"])
	}
	// Every connection that closed got exactly one connection.closed.
	seen := map[string]int{}
	for _, e := range evs {
		if e.Type == model.ConnClosed && !e.Update {
			seen[e.Conn]++
		}
	}
	for c, n := range seen {
		if n != 1 {
			t.Errorf("%s: %d connection.closed events", c, n)
		}
	}
	// The first heartbeat-timeout close comes within 10 simulated seconds.
	for _, e := range evs {
		if e.Cause != nil && e.Cause.ID == "heartbeat-timeout" {
			if d := e.Time.Sub(evs[0].Time); d > 10*time.Second {
				t.Errorf("first heartbeat-timeout after %v", d)
			}
			break
		}
	}
	// The 30 s worker is flagged at risk before it is closed.
	var risk, closed time.Time
	for _, e := range evs {
		if e.Client == "pdf-renderer" && e.Type == model.HeartbeatAtRisk && risk.IsZero() {
			risk = e.Time
		}
		if e.Client == "pdf-renderer" && e.Type == model.ConnClosed {
			closed = e.Time
		}
	}
	if risk.IsZero() || !risk.Before(closed) {
		t.Errorf("pdf-renderer at risk %v, closed %v", risk, closed)
	}
}

func withoutShutdown(ids []string, who string) []string {
	if who == "amqptop-probe@ops-bastion" {
		return ids
	}
	var out []string
	for _, id := range ids {
		if id != "broker-shutdown" {
			out = append(out, id)
		}
	}
	return out
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func TestEachScenarioAlone(t *testing.T) {
	want := map[string]string{
		"heartbeat-timeout": "heartbeat-timeout", "network-interruption": "network-interruption",
		"unexpected-frame": "unexpected-frame", "channel-not-open": "channel-not-open", "access-refused": "access-refused",
		"management-force-close": "management-force-close", "memory-alarm": "resource-alarm-blocked",
		"consumer-ack-timeout": "consumer-ack-timeout", "reconnect-flapping": "reconnect-flapping",
		"broker-restart": "broker-shutdown", "not-found": "not-found",
	}
	for _, sc := range demo.Scenarios() {
		_, evs := run(t, demo.Options{Seed: 7, Scenario: sc.Name}, 2*time.Minute)
		cs := causeSet(evs)
		if cs[want[sc.Name]] == 0 {
			keys := make([]string, 0, len(cs))
			for k := range cs {
				keys = append(keys, fmt.Sprintf("%s×%d", k, cs[k]))
			}
			sort.Strings(keys)
			t.Errorf("scenario %s: no %s (causes seen: %v)", sc.Name, want[sc.Name], keys)
		}
	}
	if len(want) != len(demo.Scenarios()) {
		t.Errorf("%d scenarios, %d expectations", len(demo.Scenarios()), len(want))
	}
}

func TestUnknownScenario(t *testing.T) {
	if _, err := demo.New(demo.Options{Scenario: "meteor-strike"}); err == nil || !strings.Contains(err.Error(), "heartbeat-timeout") {
		t.Errorf("err = %v: should list the scenarios", err)
	}
}

func TestTheDemoLooksLikeACluster(t *testing.T) {
	obs, _ := run(t, demo.Options{Seed: 1}, 6*time.Second)
	var snap *model.MgmtSnapshot
	for _, o := range obs {
		if s, ok := o.(model.MgmtSnapshot); ok {
			snap = &s
		}
	}
	if snap == nil {
		t.Fatal("no snapshot")
	}
	if n := len(snap.Connections); n < 35 || n > 50 {
		t.Errorf("%d connections, want about 40", n)
	}
	if len(snap.Nodes) != 3 || len(snap.Channels) < len(snap.Connections) {
		t.Errorf("nodes %d channels %d", len(snap.Nodes), len(snap.Channels))
	}
	noName := 0
	for _, c := range snap.Connections {
		if c.Client == "" {
			noName++
		}
		if c.Product == "" || c.User == "" || c.Peer == "" || !strings.Contains(c.Name, " -> ") {
			t.Errorf("incomplete connection %+v", c)
		}
	}
	if noName == 0 {
		t.Error("some clients set no connection name")
	}
}

func BenchmarkDemoTour(b *testing.B) {
	for i := 0; i < b.N; i++ {
		w, _ := demo.New(demo.Options{Seed: 1})
		st := model.New(model.Options{Diagnoser: causes.Default()})
		for {
			o := w.Next()
			if o.At().Sub(w.Start()) > demo.TourLength {
				break
			}
			st.Apply(o)
		}
	}
}

package cli

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amqptop/amqptop/causes"
	"github.com/amqptop/amqptop/model"
)

// Faults in amqptop's own path: its sources fail in every way they can,
// and the run goes on, says which source is degraded and why, marks what
// it shows as stale, and recovers by itself.

// stateRun runs a config's feeds into a state the way watch and the
// dashboard do, for tests that look at the state itself.
type stateRun struct {
	mu     sync.Mutex
	st     *model.State
	events []model.Event
	cancel context.CancelFunc
	done   chan struct{}
}

// The events are kept for the test to read when keep is set.
func startState(t *testing.T, c *config, keep bool) *stateRun {
	t.Helper()
	srcs, err := feeds(c)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &stateRun{st: stateFor(c, causes.Default()), cancel: cancel, done: make(chan struct{})}
	ch := make(chan model.Observation, 4096)
	wait := startFeeds(ctx, srcs, ch)
	go func() {
		defer close(r.done)
		for o := range ch {
			r.mu.Lock()
			evs := r.st.Apply(o)
			if keep {
				r.events = append(r.events, evs...)
			}
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cancel()
		wait()
		<-r.done
	})
	return r
}

// source is the state's view of one source.
func (r *stateRun) source(src model.Source) model.SourceView {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.st.Sources() {
		if s.Source == src {
			return s
		}
	}
	return model.SourceView{}
}

// waitState waits until cond holds on the state; it fails the test with
// the sources' last word otherwise. It returns how long it waited.
func (r *stateRun) waitState(t *testing.T, what string, timeout time.Duration, cond func(*model.State) bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < timeout {
		r.mu.Lock()
		ok := cond(r.st)
		r.mu.Unlock()
		if ok {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, s := range r.st.Sources() {
		fmt.Fprintf(&b, "\n  %s %s %q (hint %q)", s.Source, s.Health, s.Detail, s.Hint)
	}
	t.Fatalf("no %s within %v; sources:%s", what, timeout, b.String())
	return 0
}

func sourceIs(src model.Source, h model.Health, detail string) func(*model.State) bool {
	return func(st *model.State) bool {
		for _, s := range st.Sources() {
			if s.Source == src {
				return s.Health == h && strings.Contains(s.Detail+" "+s.Hint, detail)
			}
		}
		return false
	}
}

// hostileMgmt serves the management API from a real node's answers
// (testdata/mgmt, captured from the private RabbitMQ 3.10.8 node with one
// pika 1.2.0 connection, "orders-api", open) until told to fail.
type hostileMgmt struct {
	srv   *httptest.Server
	fault atomic.Value // func(w, r) or nil
	files map[string][]byte
}

func newHostileMgmt(t *testing.T) *hostileMgmt {
	h := &hostileMgmt{files: map[string][]byte{}}
	for _, ep := range []string{"overview", "nodes", "connections", "channels"} {
		b, err := os.ReadFile(filepath.Join("testdata", "mgmt", ep+".json"))
		if err != nil {
			t.Fatal(err)
		}
		h.files["/api/"+ep] = b
	}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f, _ := h.fault.Load().(func(http.ResponseWriter, *http.Request)); f != nil {
			f(w, r)
			return
		}
		b, ok := h.files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hostileMgmt) fail(f func(http.ResponseWriter, *http.Request)) { h.fault.Store(f) }
func (h *hostileMgmt) heal() {
	h.fault.Store((func(http.ResponseWriter, *http.Request))(nil))
}

func status(code int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		w.Write([]byte(body))
	}
}

// A management API that fails every way in turn, in one run: each fault
// is named, the connection it listed is kept (shown stale, never closed),
// and the source comes back by itself after each.
func TestWatchSurvivesAHostileManagementAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("long (-short)")
	}
	t.Parallel() // mostly waiting on timeouts and heartbeats
	h := newHostileMgmt(t)
	c := &config{url: "amqp://guest:guest@127.0.0.1:1/", mgmtURL: h.srv.URL, passive: true, poll: time.Second,
		history: 10000, settle: 2 * time.Second}
	r := startState(t, c, true)
	const conn = "127.0.0.1:59092 -> 127.0.0.1:36672"
	listed := func(st *model.State) bool { return st.Conn(conn) != nil }
	r.waitState(t, "the management source up", 20*time.Second, func(st *model.State) bool {
		return sourceIs(model.SourceManagement, model.HealthUp, "")(st) && listed(st)
	})
	big := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"rabbitmq_version":"3.10.8","x":"`))
		chunk := bytes.Repeat([]byte("y"), 1<<20)
		for i := 0; i < 50; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		w.Write([]byte(`"}`))
	}
	midway := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "100000")
		w.Write(h.files[r.URL.Path][:40])
		if hj, ok := w.(http.Hijacker); ok {
			c, _, _ := hj.Hijack()
			c.Close()
		}
	}
	slow := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(15 * time.Second):
		case <-r.Context().Done():
		}
	}
	faults := []struct {
		name   string
		fault  func(http.ResponseWriter, *http.Request)
		health model.Health
		says   string // in the detail or the hint
	}{
		{"500", status(500, `{"error":"internal_error","reason":"boom"}`), model.HealthDown, "500 Internal Server Error"},
		{"401", status(401, `{"error":"not_authorised","reason":"Login failed"}`), model.HealthDown, "401"},
		{"404: the plugin is missing", status(404, `<html>Not Found</html>`), model.HealthDown, "404"},
		{"slow past the timeout", slow, model.HealthDown, "timeout after 10s"},
		{"truncated JSON", func(w http.ResponseWriter, r *http.Request) {
			w.Write(h.files[r.URL.Path][:len(h.files[r.URL.Path])/2])
		}, model.HealthDown, "JSON"},
		{"garbage", status(200, "\x00\x01garbage\xff{[}"), model.HealthDown, "JSON"},
		{"a 50 MB body", big, model.HealthDown, "larger than"},
		{"closed mid-response", midway, model.HealthDown, ""},
	}
	for _, f := range faults {
		h.fail(f.fault)
		r.waitState(t, f.name+" reported", 30*time.Second, func(st *model.State) bool {
			s := sourceIs(model.SourceManagement, f.health, f.says)(st)
			if !s {
				// a fault on some endpoints only degrades
				s = sourceIs(model.SourceManagement, model.HealthDegraded, f.says)(st)
			}
			return s
		})
		m := r.source(model.SourceManagement)
		t.Logf("%s: %s: %s", f.name, m.Health, m.Detail)
		r.mu.Lock()
		_, stale := r.st.Stale()
		kept := listed(r.st)
		r.mu.Unlock()
		if !stale || !kept {
			t.Errorf("%s: stale %v, the connection kept %v", f.name, stale, kept)
		}
		h.heal()
		r.waitState(t, "recovery after "+f.name, 45*time.Second, func(st *model.State) bool {
			_, stale := st.Stale()
			return sourceIs(model.SourceManagement, model.HealthUp, "")(st) && !stale && listed(st)
		})
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Type == model.ConnClosed {
			t.Errorf("a connection was closed by a fault of amqptop's own path: %s %s", e.Conn, e.Text)
		}
	}
}

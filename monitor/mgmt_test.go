package monitor

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amqptop/amqptop/model"
)

// Every test runs with this password and checks that it never shows.
const (
	mgmtTestUser = "amqptop-mon"
	mgmtTestPass = "s3cr3t-p4ss"
)

// fakeMgmt is a management API serving the fixtures of testdata/mgmt,
// paging lists as RabbitMQ does, with per-endpoint overrides.
type fakeMgmt struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	files     map[string]string              // endpoint -> fixture file
	override  map[string]http.HandlerFunc    // endpoint -> handler
	queries   map[string][]url.Values        // endpoint -> queries received
	times     map[string][]time.Time         // endpoint -> arrival times
	delay     time.Duration                  // before every answer
	transform map[string]func([]byte) []byte // endpoint -> body rewrite
	pageHook  func(endpoint string, page int, items []json.RawMessage) []json.RawMessage

	inflight, maxInflight atomic.Int32
}

func newFakeMgmt(t *testing.T, files map[string]string) *fakeMgmt {
	t.Helper()
	f := &fakeMgmt{t: t, files: files, override: map[string]http.HandlerFunc{},
		queries: map[string][]url.Values{}, times: map[string][]time.Time{}, transform: map[string]func([]byte) []byte{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func defaultFixtures() map[string]string {
	return map[string]string{
		"/api/overview":    "overview.json",
		"/api/nodes":       "nodes_cluster.json",
		"/api/connections": "connections_mixed.json",
		"/api/channels":    "channels.json",
	}
}

func (f *fakeMgmt) set(fn func(f *fakeMgmt)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeMgmt) requests(endpoint string) []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.queries[endpoint])
}

func (f *fakeMgmt) arrivals(endpoint string) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.times[endpoint])
}

func (f *fakeMgmt) serve(w http.ResponseWriter, r *http.Request) {
	n := f.inflight.Add(1)
	defer f.inflight.Add(-1)
	for {
		m := f.maxInflight.Load()
		if n <= m || f.maxInflight.CompareAndSwap(m, n) {
			break
		}
	}
	f.mu.Lock()
	ep := r.URL.Path
	f.queries[ep] = append(f.queries[ep], r.URL.Query())
	f.times[ep] = append(f.times[ep], time.Now())
	delay, h, file, tr, hook := f.delay, f.override[ep], f.files[ep], f.transform[ep], f.pageHook
	f.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	user, pass, ok := r.BasicAuth()
	if !ok || user != mgmtTestUser || pass != mgmtTestPass {
		w.Header().Set("WWW-Authenticate", `Basic realm="RabbitMQ Management"`)
		writeJSON(w, 401, `{"error":"not_authorized","reason":"Login failed"}`)
		return
	}
	if h != nil {
		h(w, r)
		return
	}
	if file == "" {
		writeJSON(w, 404, `{"error":"Object Not Found","reason":"Not Found"}`)
		return
	}
	body := readFixture(f.t, file)
	if ep == "/api/connections" || ep == "/api/channels" {
		var ok bool
		if body, ok = page(w, r, ep, body, hook); !ok {
			return
		}
	}
	if tr != nil {
		body = tr(body)
	}
	writeJSON(w, 200, string(body))
}

func writeJSON(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

var fixtureCache sync.Map

func readFixture(t testing.TB, name string) []byte {
	if b, ok := fixtureCache.Load(name); ok {
		return b.([]byte)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "mgmt", name))
	if err != nil {
		if t != nil {
			t.Errorf("fixture: %v", err)
		}
		return nil
	}
	fixtureCache.Store(name, b)
	return b
}

// page answers a list request as RabbitMQ does: the whole list as an
// array without page, else one page in an object.
func page(w http.ResponseWriter, r *http.Request, ep string, body []byte, hook func(string, int, []json.RawMessage) []json.RawMessage) ([]byte, bool) {
	var items []json.RawMessage
	if b := strings.TrimSpace(string(body)); strings.HasPrefix(b, "[") {
		_ = json.Unmarshal(body, &items)
	} else {
		var pg struct{ Items []json.RawMessage }
		if err := json.Unmarshal(body, &pg); err != nil {
			return body, true // a broken fixture on purpose
		}
		items = pg.Items
	}
	q := r.URL.Query()
	if q.Get("page") == "" {
		out, _ := json.Marshal(items)
		return out, true
	}
	n, err1 := strconv.Atoi(q.Get("page"))
	size, err2 := strconv.Atoi(q.Get("page_size"))
	if q.Get("page_size") == "" {
		size, err2 = 100, nil
	}
	if err1 != nil || err2 != nil || n < 1 || size < 1 || size > 500 {
		writeJSON(w, 400, fmt.Sprintf(`{"error":"invalid_pagination_parameters","reason":"Invalid pagination parameters: page number %s, page size %s"}`, q.Get("page"), q.Get("page_size")))
		return nil, false
	}
	if hook != nil {
		items = hook(ep, n, items)
	}
	total := len(items)
	pages := (total + size - 1) / size
	if n > 1 && n > pages {
		writeJSON(w, 400, fmt.Sprintf(`{"error":"page_out_of_range","reason":"Page out of range, page: %d page size: %d, len: %d"}`, n, size, total))
		return nil, false
	}
	lo, hi := min((n-1)*size, total), min(n*size, total)
	out, _ := json.Marshal(map[string]any{
		"total_count": total, "item_count": hi - lo, "filtered_count": total,
		"page": n, "page_size": size, "page_count": pages, "items": items[lo:hi],
	})
	return out, true
}

// recorder collects what a poller emits.
type recorder struct {
	mu  sync.Mutex
	obs []model.Observation
}

func (r *recorder) emit(o model.Observation) {
	r.mu.Lock()
	r.obs = append(r.obs, o)
	r.mu.Unlock()
}

func (r *recorder) all() []model.Observation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.obs)
}

func (r *recorder) statuses() []model.SourceStatus {
	var out []model.SourceStatus
	for _, o := range r.all() {
		if s, ok := o.(model.SourceStatus); ok {
			out = append(out, s)
		}
	}
	return out
}

func (r *recorder) snapshots() []model.MgmtSnapshot {
	var out []model.MgmtSnapshot
	for _, o := range r.all() {
		if s, ok := o.(model.MgmtSnapshot); ok {
			out = append(out, s)
		}
	}
	return out
}

// started is a running poller.
type started struct {
	*recorder
	p      *Poller
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned
	err    error         // what Run returned
}

func (s *started) stop(t *testing.T) {
	t.Helper()
	s.cancel()
	select {
	case <-s.done:
		if s.err != nil {
			t.Errorf("Run returned %v", s.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	checkNoPassword(t, s.all())
	checkConditions(t, s.all())
}

// checkConditions fails if a status has a hint without a condition, or a
// condition Conditions does not list.
func checkConditions(t *testing.T, obs []model.Observation) {
	t.Helper()
	for _, o := range obs {
		if st, ok := o.(model.SourceStatus); ok {
			if st.Hint != "" && st.Condition == "" || st.Condition != "" && !slices.Contains(Conditions(), st.Condition) {
				t.Errorf("status with hint %q and condition %q", st.Hint, st.Condition)
			}
		}
	}
}

// waitFor polls cond until it holds or the deadline passes.
func (s *started) waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; statuses: %+v; %d snapshots", what, s.statuses(), len(s.snapshots()))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (s *started) firstStatus(t *testing.T) model.SourceStatus {
	t.Helper()
	s.waitFor(t, "a status", 5*time.Second, func() bool { return len(s.statuses()) > 0 })
	return s.statuses()[0]
}

func (s *started) firstSnapshot(t *testing.T) model.MgmtSnapshot {
	t.Helper()
	s.waitFor(t, "a snapshot", 5*time.Second, func() bool { return len(s.snapshots()) > 0 })
	return s.snapshots()[0]
}

func testConfig(u string) MgmtConfig {
	return MgmtConfig{URL: u, User: mgmtTestUser, Password: mgmtTestPass,
		Interval: 20 * time.Millisecond, Timeout: 2 * time.Second}
}

func startPoller(t *testing.T, c MgmtConfig, tweak ...func(*Poller)) *started {
	t.Helper()
	p := NewPoller(c)
	for _, fn := range tweak {
		fn(p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &started{recorder: &recorder{}, p: p, cancel: cancel, done: make(chan struct{})}
	go func() {
		s.err = p.Run(ctx, s.emit)
		close(s.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	return s
}

// checkNoPassword fails if the password (or the Authorization header's
// value) appears in any observation.
func checkNoPassword(t *testing.T, obs []model.Observation) {
	t.Helper()
	auth := base64.StdEncoding.EncodeToString([]byte(mgmtTestUser + ":" + mgmtTestPass))
	for _, o := range obs {
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatalf("marshal %T: %v", o, err)
		}
		if s := string(b); strings.Contains(s, mgmtTestPass) || strings.Contains(s, auth) {
			t.Errorf("the password shows in an observation: %s", s)
		}
	}
}

func findConn(t *testing.T, s model.MgmtSnapshot, name string) model.Connection {
	t.Helper()
	for _, c := range s.Connections {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("connection %q not in the snapshot", name)
	return model.Connection{}
}

func findChan(t *testing.T, s model.MgmtSnapshot, conn string, n int) model.Channel {
	t.Helper()
	for _, c := range s.Channels {
		if c.Conn == conn && c.Number == n {
			return c
		}
	}
	t.Fatalf("channel %s (%d) not in the snapshot", conn, n)
	return model.Channel{}
}

func TestMgmtMapping(t *testing.T) {
	f := newFakeMgmt(t, defaultFixtures())
	s := startPoller(t, testConfig(f.srv.URL))
	st := s.firstStatus(t)
	snap := s.firstSnapshot(t)
	s.stop(t)

	if st.Health != model.HealthUp || st.Detail != "RabbitMQ 3.10.8, 3 nodes" || st.Of != model.SourceManagement || st.Source != model.SourceManagement ||
		st.Condition != "" || st.Hint != "" {
		t.Errorf("status = %+v, want up \"RabbitMQ 3.10.8, 3 nodes\" from and of management", st)
	}
	if snap.Source != model.SourceManagement || snap.Time.IsZero() {
		t.Errorf("snapshot meta = %+v", snap.Meta)
	}
	if !snap.NodesOK || !snap.ConnectionsOK || !snap.ChannelsOK || snap.Unavailable != nil {
		t.Errorf("ok flags %v %v %v, unavailable %v", snap.NodesOK, snap.ConnectionsOK, snap.ChannelsOK, snap.Unavailable)
	}

	wantOv := model.Overview{
		ClusterName: "amqptop-explore-dfcd2e@vm", RabbitVersion: "3.10.8", ErlangVersion: "25.2.3",
		ManagementVersion: "3.10.8", Node: "amqptop-explore-dfcd2e@localhost",
		Connections: 5, Channels: 9, Queues: 1, Consumers: 1, PublishRate: 196, DeliverRate: 196,
	}
	if snap.Overview != wantOv {
		t.Errorf("overview =\n%+v\nwant\n%+v", snap.Overview, wantOv)
	}

	wantNodes := []model.Node{
		{Name: "amqptop-explore-dfcd2e@localhost", Running: true, MemUsed: 138412032, MemLimit: 10110425497,
			DiskFree: 84583153664, DiskFreeLimit: 50000000, FDUsed: 45, FDTotal: 20000, Uptime: 288275 * time.Millisecond},
		{Name: "rabbit@b", Running: true, MemUsed: 9000000000, MemLimit: 10110425497, MemAlarm: true,
			DiskFree: 84583153664, DiskFreeLimit: 50000000, FDUsed: 70, FDTotal: 20000, Uptime: time.Hour,
			Partitions: []string{"rabbit@c"}},
		{Name: "rabbit@c"},
	}
	if !reflect.DeepEqual(snap.Nodes, wantNodes) {
		t.Errorf("nodes =\n%+v\nwant\n%+v", snap.Nodes, wantNodes)
	}

	if len(snap.Connections) != 7 {
		t.Fatalf("%d connections, want 7", len(snap.Connections))
	}
	billing := findConn(t, snap, "127.0.0.1:52766 -> 127.0.0.1:45017")
	wantBilling := model.Connection{
		Name: "127.0.0.1:52766 -> 127.0.0.1:45017", Client: "billing-api", User: "guest", Vhost: "/",
		Peer: "127.0.0.1:52766", Node: "amqptop-explore-dfcd2e@localhost", Protocol: "AMQP 0-9-1",
		State: model.StateRunning, Heartbeat: 10 * time.Second, ChannelMax: 2047, FrameMax: 131072,
		ConnectedAt: time.UnixMilli(1795455259422), RecvBytes: 266930, SendBytes: 74289,
		RecvRate: 10976, SendRate: 3242.4, Channels: 2,
		Product: "billing", Version: "2.4.1", Platform: "Go 1.26",
		Capabilities: []string{"basic.nack", "connection.blocked", "consumer_cancel_notify", "publisher_confirms"},
	}
	if !reflect.DeepEqual(billing, wantBilling) {
		t.Errorf("billing-api =\n%+v\nwant\n%+v", billing, wantBilling)
	}
	v6 := findConn(t, snap, "[::1]:50122 -> [::1]:5671")
	wantV6 := model.Connection{
		Name: "[::1]:50122 -> [::1]:5671", Client: "orders-java", User: "orders", Vhost: "shop",
		Peer: "[::1]:50122", Node: "rabbit@b", Protocol: "AMQP 0-9-1", State: model.StateBlocked,
		ChannelMax: 2047, FrameMax: 131072, ConnectedAt: time.UnixMilli(1795455100000),
		RecvBytes: 4096, SendBytes: 8192, RecvRate: 12.5, SendRate: 25, Channels: 3,
		TLS: true, TLSProtocol: "tlsv1.3", Product: "RabbitMQ", Version: "5.16.0", Platform: "Java",
		Capabilities: []string{"authentication_failure_close", "basic.nack", "connection.blocked",
			"consumer_cancel_notify", "exchange_exchange_bindings", "publisher_confirms"},
	}
	if !reflect.DeepEqual(v6, wantV6) {
		t.Errorf("IPv6/TLS connection =\n%+v\nwant\n%+v", v6, wantV6)
	}
	if v6.PeerHost() != "::1" {
		t.Errorf("PeerHost = %q", v6.PeerHost())
	}
	// A direct connection: peer_port "unknown" and client_properties [] do
	// not spoil the list.
	direct := findConn(t, snap, "<rabbit@b.1795452319.890.0>")
	if direct.Peer != "unknown" || direct.Client != "" || direct.Product != "" || direct.Channels != 1 ||
		direct.State != model.StateRunning || direct.User != "shovel" || direct.StatsMissing {
		t.Errorf("direct connection = %+v", direct)
	}

	if len(snap.Channels) != 9 {
		t.Fatalf("%d channels, want 9", len(snap.Channels))
	}
	const pub, work = "127.0.0.1:52766 -> 127.0.0.1:45017", "127.0.0.1:52780 -> 127.0.0.1:45017"
	want := []model.Channel{
		{Conn: pub, Number: 1, Node: "amqptop-explore-dfcd2e@localhost", User: "guest", Vhost: "/", State: "running",
			Unconfirmed: 12, Confirm: true, PublishRate: 196},
		{Conn: pub, Number: 2, Node: "amqptop-explore-dfcd2e@localhost", User: "guest", Vhost: "/", State: "running",
			Transactional: true},
		{Conn: work, Number: 1, Node: "amqptop-explore-dfcd2e@localhost", User: "guest", Vhost: "/", State: "running",
			Prefetch: 50, GlobalPrefetch: 200, Unacked: 37, Consumers: 1, DeliverRate: 196, AckRate: 195.6},
	}
	for _, w := range want {
		if got := findChan(t, snap, w.Conn, w.Number); got != w {
			t.Errorf("channel =\n%+v\nwant\n%+v", got, w)
		}
	}
	if got := findChan(t, snap, "127.0.0.1:48232 -> 127.0.0.1:45017", 2); got.Prefetch != 20 || !got.Confirm {
		t.Errorf("explore-0 channel 2 = %+v", got)
	}
}

// The snapshot goes through the model without surprises.
func TestMgmtSnapshotFeedsModel(t *testing.T) {
	f := newFakeMgmt(t, defaultFixtures())
	s := startPoller(t, testConfig(f.srv.URL))
	s.waitFor(t, "two snapshots", 5*time.Second, func() bool { return len(s.snapshots()) >= 2 })
	s.stop(t)
	st := model.New(model.Options{})
	for _, o := range s.all() {
		for _, e := range st.Apply(o) {
			if e.Type == model.ConnClosed {
				t.Errorf("a steady broker gave %v", e)
			}
		}
	}
}

func TestMgmtColumnsRequested(t *testing.T) {
	f := newFakeMgmt(t, defaultFixtures())
	s := startPoller(t, testConfig(f.srv.URL))
	s.firstSnapshot(t)
	s.stop(t)
	want := map[string]url.Values{
		"/api/overview": {"columns": {"cluster_name,rabbitmq_version,erlang_version,management_version,node,disable_stats," +
			"object_totals,message_stats.publish_details.rate,message_stats.deliver_get_details.rate"}},
		"/api/nodes": {"columns": {"name,running,mem_used,mem_limit,mem_alarm,disk_free,disk_free_limit,disk_free_alarm," +
			"fd_used,fd_total,uptime,partitions"}},
		"/api/connections": {
			"columns": {"name,user_provided_name,client_properties.connection_name,client_properties.product," +
				"client_properties.version,client_properties.platform,client_properties.capabilities,user,vhost," +
				"peer_host,peer_port,node,protocol,state,timeout,channel_max,frame_max,connected_at,recv_oct,send_oct," +
				"recv_oct_details.rate,send_oct_details.rate,channels,ssl,ssl_protocol"},
			"page": {"1"}, "page_size": {"500"}, "sort": {"name"},
		},
		"/api/channels": {
			"columns": {"connection_details.name,number,node,user,vhost,state,prefetch_count,global_prefetch_count," +
				"messages_unacknowledged,messages_unconfirmed,consumer_count,confirm,transactional," +
				"message_stats.publish_details.rate,message_stats.deliver_get_details.rate,message_stats.ack_details.rate"},
			"page": {"1"}, "page_size": {"500"}, "sort": {"connection_details.name"},
		},
	}
	for ep, w := range want {
		qs := f.requests(ep)
		if len(qs) == 0 {
			t.Errorf("%s never requested", ep)
			continue
		}
		if !reflect.DeepEqual(qs[0], w) {
			t.Errorf("%s query =\n%v\nwant\n%v", ep, qs[0], w)
		}
	}
	// Every column asked for is one the mapping reads (and the reverse):
	// the fixture answers were captured with exactly these columns.
	for ep, file := range map[string]string{"/api/connections": "connections.json", "/api/channels": "channels.json"} {
		var pg struct{ Items []map[string]json.RawMessage }
		if err := json.Unmarshal(readFixture(t, file), &pg); err != nil {
			t.Fatal(err)
		}
		cols := strings.Split(want[ep].Get("columns"), ",")
		tops := map[string]bool{}
		for _, c := range cols {
			top, _, _ := strings.Cut(c, ".")
			tops[top] = true
		}
		for _, it := range pg.Items {
			for k := range it {
				if !tops[k] {
					t.Errorf("%s: the captured reply has %q, not asked for", ep, k)
				}
			}
		}
	}
}

func TestMgmtPaging(t *testing.T) {
	f := newFakeMgmt(t, defaultFixtures())
	c := testConfig(f.srv.URL)
	c.PageSize = 2
	s := startPoller(t, c)
	snap := s.firstSnapshot(t)
	s.stop(t)
	if !snap.ConnectionsOK || len(snap.Connections) != 7 || !snap.ChannelsOK || len(snap.Channels) != 9 {
		t.Fatalf("paged snapshot: ok %v %d connections, ok %v %d channels", snap.ConnectionsOK, len(snap.Connections), snap.ChannelsOK, len(snap.Channels))
	}
	var pages []string
	for _, q := range f.requests("/api/connections")[:4] {
		pages = append(pages, q.Get("page")+"/"+q.Get("page_size"))
	}
	if want := []string{"1/2", "2/2", "3/2", "4/2"}; !slices.Equal(pages, want) {
		t.Errorf("connection pages requested %v, want %v", pages, want)
	}
	if n := len(f.requests("/api/channels")); n < 5 {
		t.Errorf("%d channel pages requested, want 5", n)
	}

	// The same set as one page.
	g := newFakeMgmt(t, defaultFixtures())
	s2 := startPoller(t, testConfig(g.srv.URL))
	one := s2.firstSnapshot(t)
	s2.stop(t)
	if !reflect.DeepEqual(one.Connections, snap.Connections) || !reflect.DeepEqual(one.Channels, snap.Channels) {
		t.Errorf("paging by 2 and by 500 disagree")
	}
	// The snapshot says whether its connection list came in pages (one
	// listing without a connection then does not close it).
	if !snap.ConnectionsPaged || one.ConnectionsPaged {
		t.Errorf("ConnectionsPaged %v by 2, %v by 500", snap.ConnectionsPaged, one.ConnectionsPaged)
	}
}

func TestMgmtPageSizeClamped(t *testing.T) {
	f := newFakeMgmt(t, defaultFixtures())
	c := testConfig(f.srv.URL)
	c.PageSize = 5000
	s := startPoller(t, c)
	snap := s.firstSnapshot(t)
	s.stop(t)
	if !snap.ConnectionsOK || f.requests("/api/connections")[0].Get("page_size") != "500" {
		t.Errorf("page size not clamped to 500: %v", f.requests("/api/connections")[0])
	}
}

// A list that changes while it is paged is read again; if it keeps
// changing it is not used (the model must not see skipped connections as
// closed), and that is reported after a few polls.
func TestMgmtPagingListChanges(t *testing.T) {
	t.Run("once", func(t *testing.T) {
		f := newFakeMgmt(t, defaultFixtures())
		var calls atomic.Int32
		f.pageHook = func(ep string, page int, items []json.RawMessage) []json.RawMessage {
			if ep == "/api/connections" && page == 2 && calls.Add(1) == 1 {
				return items[1:] // one closed between page 1 and page 2
			}
			return items
		}
		c := testConfig(f.srv.URL)
		c.PageSize = 3
		s := startPoller(t, c)
		snap := s.firstSnapshot(t)
		s.stop(t)
		if !snap.ConnectionsOK || len(snap.Connections) != 7 {
			t.Errorf("after one change: ok %v, %d connections; want the list read again", snap.ConnectionsOK, len(snap.Connections))
		}
	})
	t.Run("page out of range", func(t *testing.T) {
		f := newFakeMgmt(t, defaultFixtures())
		var calls atomic.Int32
		f.pageHook = func(ep string, page int, items []json.RawMessage) []json.RawMessage {
			if ep == "/api/connections" && page == 3 && calls.Add(1) == 1 {
				return items[:5] // shrank to 2 pages
			}
			return items
		}
		c := testConfig(f.srv.URL)
		c.PageSize = 3
		s := startPoller(t, c)
		snap := s.firstSnapshot(t)
		s.stop(t)
		if !snap.ConnectionsOK || len(snap.Connections) != 7 {
			t.Errorf("after page_out_of_range: ok %v, %d connections", snap.ConnectionsOK, len(snap.Connections))
		}
	})
	t.Run("always", func(t *testing.T) {
		f := newFakeMgmt(t, defaultFixtures())
		var calls atomic.Int32
		f.pageHook = func(ep string, page int, items []json.RawMessage) []json.RawMessage {
			if ep == "/api/connections" && page == 2 {
				return items[:len(items)-int(calls.Add(1)%2)-1]
			}
			return items
		}
		c := testConfig(f.srv.URL)
		c.PageSize = 3
		s := startPoller(t, c)
		s.waitFor(t, "a degraded status", 5*time.Second, func() bool {
			st := s.statuses()
			return len(st) > 0 && st[len(st)-1].Health == model.HealthDegraded
		})
		s.stop(t)
		snaps := s.snapshots()
		for _, sn := range snaps {
			if sn.ConnectionsOK || len(sn.Connections) != 0 {
				t.Fatalf("a list that kept changing was used: %d connections", len(sn.Connections))
			}
			if !sn.NodesOK || !sn.ChannelsOK {
				t.Fatalf("the other lists were dropped too")
			}
		}
		sts := s.statuses()
		if sts[0].Health != model.HealthUp {
			t.Errorf("first status %+v: the first polls with a changing list are not reported", sts[0])
		}
		last := sts[len(sts)-1]
		if !strings.Contains(last.Detail, "/api/connections changes faster than amqptop can page through it") || last.Condition != "mgmt-list-changing" {
			t.Errorf("status = %+v", last)
		}
		if len(snaps) < mgmtChangedReport {
			t.Errorf("reported after %d polls, want %d", len(snaps), mgmtChangedReport)
		}
	})
}

// A broker (or proxy) that ignores paging and sends the whole list with
// every column.
func TestMgmtUnpagedFullReply(t *testing.T) {
	f := newFakeMgmt(t, defaultFixtures())
	f.override["/api/connections"] = func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, string(readFixture(t, "full_connections.json")))
	}
	s := startPoller(t, testConfig(f.srv.URL))
	snap := s.firstSnapshot(t)
	s.stop(t)
	if !snap.ConnectionsOK || len(snap.Connections) != 5 {
		t.Fatalf("ok %v, %d connections", snap.ConnectionsOK, len(snap.Connections))
	}
	c := findConn(t, snap, "127.0.0.1:48238 -> 127.0.0.1:45017")
	if c.Client != "explore-1" || c.Heartbeat != 10*time.Second || c.Channels != 2 || c.State != model.StateRunning || c.Peer != "127.0.0.1:48238" {
		t.Errorf("from the full reply: %+v", c)
	}
}

// errorCase is one way for the API to fail.
type errorCase struct {
	name     string
	setup    func(t *testing.T, f *fakeMgmt, c *MgmtConfig)
	health   model.Health
	detail   string // exact, or a substring when partial is set
	partial  bool
	hint     string // substring
	cond     string // the status's Condition
	snapshot string // "" none expected; else which parts are OK, e.g. "NCh" (nodes, connections, channels) or "-" for none
	check    func(t *testing.T, f *fakeMgmt, s *started)
}

func serveStatus(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { writeJSON(w, code, body) }
}

func TestMgmtErrors(t *testing.T) {
	boom := `{"error":"internal_error","reason":"boom in <0.123.0>\nsecond line"}`
	cases := []errorCase{
		{
			name: "500 everywhere",
			cond: "mgmt-server-error",
			setup: func(t *testing.T, f *fakeMgmt, c *MgmtConfig) {
				for _, ep := range []string{"/api/overview", "/api/nodes", "/api/connections", "/api/channels"} {
					f.override[ep] = serveStatus(500, boom)
				}
			},
			health: model.HealthDown, detail: "GET /api/overview: 500 Internal Server Error: internal_error: boom in <pid>",
			hint: "the node's log says why",
		},
		{
			name: "500 on channels only",
			cond: "mgmt-server-error",
			setup: func(t *testing.T, f *fakeMgmt, c *MgmtConfig) {
				f.override["/api/channels"] = serveStatus(500, boom)
			},
			health: model.HealthDegraded, detail: "GET /api/channels: 500 Internal Server Error: internal_error: boom in <pid>",
			snapshot: "NC",
		},
		{
			// A connection whose name is a number: before, it was decoded
			// with an empty name, every live connection looked gone and
			// was closed as broker-shutdown. Now the list is refused and
			// the connections are not diffed.
			name: "a connection name of the wrong type refuses the list",
			cond: "mgmt-not-rabbitmq",
			setup: func(t *testing.T, f *fakeMgmt, c *MgmtConfig) {
				f.override["/api/connections"] = serveStatus(200, `[{"name": 12345, "user": "app", "vhost": "/"}]`)
			},
			health: model.HealthDegraded, detail: "unexpected JSON from /api/connections: item 0 is a connection without its name (a field of another type?); the list is not used",
			snapshot: "Nh",
		},
		{
			name: "a channel without its connection refuses the list",
			cond: "mgmt-not-rabbitmq",
			setup: func(t *testing.T, f *fakeMgmt, c *MgmtConfig) {
				f.override["/api/channels"] = serveStatus(200, `[{"connection_details": {"name": ["x"]}, "number": 1}]`)
			},
			health: model.HealthDegraded, detail: "unexpected JSON from /api/channels: item 0 is a channel without its name (a field of another type?); the list is not used",
			snapshot: "NC",
		},
		{
			name: "500 on overview alone keeps the rest",
			cond: "mgmt-server-error",
			setup: func(t *testing.T, f *fakeMgmt, c *MgmtConfig) {
				f.override["/api/overview"] = serveStatus(500, "<html><body>\n<h1>oops</h1>")
			},
			health: model.HealthDegraded, detail: "GET /api/overview: 500 Internal Server Error: <html><body>",
			snapshot: "NCh",
			check: func(t *testing.T, f *fakeMgmt, s *started) {
				if ov := s.snapshots()[0].Overview; ov != (model.Overview{}) {
					t.Errorf("overview from a failed request: %+v", ov)
				}
			},
		},
		{
			name: "503 body without newline, long",
			cond: "mgmt-unavailable",
			setup: func(t *testing.T, f *fakeMgmt, c *MgmtConfig) {
				for _, ep := range []string{"/api/overview", "/api/nodes", "/api/connections", "/api/channels"} {
					f.override[ep] = serveStatus(503, strings.Repeat("x", 10000))
				}
			},
			health: model.HealthDown, detail: "GET /api/overview: 503 Service Unavailable: " + strings.Repeat("x", 200) + "…",
			hint: "starting, stopping or overloaded",
		},
		{
			name: "401 wrong password",
			cond: "mgmt-unauthorized",
			setup: func(t *testing.T, f *fakeMgmt, c *MgmtConfig) {
				c.Password = mgmtTestPass + "-old" // still must not show
			},
			health: model.HealthDown, detail: "management API refused the credentials (401)",
			hint: "check the user and password; the user needs the 'monitoring' tag (rabbitmqctl set_user_tags USER monitoring)",
			check: func(t *testing.T, f *fakeMgmt, s *started) {
				if n := len(f.requests("/api/nodes")); n != 0 {
					t.Errorf("%d requests to /api/nodes after a 401 on /api/overview", n)
				}
			},
		},
		{
			name: "401 not a management user",
			cond: "mgmt-not-management-user",
			setup: func(t *testing.T, f *fakeMgmt, c *MgmtConfig) {
				for _, ep := range []string{"/api/overview", "/api/nodes", "/api/connections", "/api/channels"} {
					f.override[ep] = serveStatus(401, `{"error":"not_authorised","reason":"Not management user"}`)
				}
			},
			health: model.HealthDown,
			detail: `user "amqptop-mon" may not use the management API: it lacks the 'monitoring' (or 'management') tag (401 Not management user)`,
			hint:   "rabbitmqctl set_user_tags USER monitoring",
		},
		{
			name: "403",
			cond: "mgmt-not-management-user",
			setup: func(t *testing.T, f *fakeMgmt, c *MgmtConfig) {
				f.override["/api/overview"] = serveStatus(403, `{"error":"not_authorised","reason":"Access refused."}`)
			},
			health: model.HealthDown,
			detail: `management API refused user "amqptop-mon" (403): it lacks the 'monitoring' (or 'management') tag`,
			hint:   "check the user and password; the user needs the 'monitoring' tag (rabbitmqctl set_user_tags USER monitoring)",
		},
		{
			name: "management tag only",
			cond: "mgmt-not-monitoring-user",
			setup: func(t *testing.T, f *fakeMgmt, c *MgmtConfig) {
				f.override["/api/nodes"] = serveStatus(401, `{"error":"not_authorised","reason":"Not monitor user"}`)
			},
			health: model.HealthDegraded, partial: true,
			detail:   `user "amqptop-mon" lacks the 'monitoring' tag: /api/nodes refused it (401 Not monitor user) and the API lists only its own connections and channels`,
			hint:     "set_user_tags USER monitoring",
			snapshot: "-",
			check: func(t *testing.T, f *fakeMgmt, s *started) {
				if n := len(f.requests("/api/connections")) + len(f.requests("/api/channels")); n != 0 {
					t.Errorf("%d list requests by a user who sees only its own connections", n)
				}
				if s.snapshots()[0].Overview.RabbitVersion != "3.10.8" {
					t.Errorf("the overview is not in the snapshot")
				}
			},
		},
		{
			name: "404 on overview",
			cond: "mgmt-not-found",
			setup: func(t *testing.T, f *fakeMgmt, c *MgmtConfig) {
				f.override["/api/overview"] = serveStatus(404, `{"error":"Object Not Found","reason":"Not Found"}`)
			},
			health: model.HealthDown, detail: "the management plugin is not enabled (404 on /api/overview)",
			hint: "rabbitmq-plugins enable rabbitmq_management",
		},
		{
			name: "slow past the timeout",
			cond: "mgmt-timeout",
			setup: func(t *testing.T, f *fakeMgmt, c *MgmtConfig) {
				c.Timeout = 50 * time.Millisecond
				f.override["/api/connections"] = func(w http.ResponseWriter, r *http.Request) {
					select {
					case <-r.Context().Done():
					case <-time.After(2 * time.Second):
					}
				}
			},
			health: model.HealthDegraded, detail: "GET /api/connections: timeout after 50ms", partial: true,
			hint: "did not answer in time", snapshot: "Nh",
		},
		{
			name: "no answer at all",
			cond: "mgmt-timeout",
			setup: func(t *testing.T, f *fakeMgmt, c *MgmtConfig) {
				c.Timeout = 30 * time.Millisecond
				f.delay = time.Second
			},
			health: model.HealthDown, detail: "GET /api/overview: timeout after 30ms",
			hint: "did not answer in time",
			check: func(t *testing.T, f *fakeMgmt, s *started) {
				if n := len(f.requests("/api/connections")) + len(f.requests("/api/channels")); n != 0 {
					t.Errorf("%d list requests after two timeouts in a poll", n)
				}
			},
		},
		{
			name: "truncated JSON",
			cond: "mgmt-garbled-reply",
			setup: func(t *testing.T, f *fakeMgmt, c *MgmtConfig) {
				f.transform["/api/connections"] = func(b []byte) []byte { return b[:len(b)/2] }
			},
			health: model.HealthDegraded, detail: "invalid JSON from /api/connections: unexpected end of JSON input",
			hint: "cut short", snapshot: "Nh",
		},
		{
			name: "garbage JSON",
			cond: "mgmt-garbled-reply",
			setup: func(t *testing.T, f *fakeMgmt, c *MgmtConfig) {
				f.override["/api/channels"] = serveStatus(200, "garbage{")
			},
			health: model.HealthDegraded, detail: "invalid JSON from /api/channels: invalid character 'g' looking for beginning of value",
			snapshot: "NC",
		},
		{
			name: "HTML instead of JSON",
			cond: "mgmt-not-rabbitmq",
			setup: func(t *testing.T, f *fakeMgmt, c *MgmtConfig) {
				for _, ep := range []string{"/api/overview", "/api/nodes", "/api/connections", "/api/channels"} {
					f.override[ep] = func(w http.ResponseWriter, r *http.Request) {
						w.Header().Set("Content-Type", "text/html")
						_, _ = w.Write([]byte("<!DOCTYPE html><html>login</html>"))
					}
				}
			},
			health: model.HealthDown, detail: "invalid JSON from /api/overview: invalid character '<' looking for beginning of value",
			hint: "HTML",
		},
		{
			name: "JSON of the wrong shape",
			cond: "mgmt-not-rabbitmq",
			setup: func(t *testing.T, f *fakeMgmt, c *MgmtConfig) {
				f.override["/api/nodes"] = serveStatus(200, `{"nodes":[]}`)
				f.override["/api/connections"] = serveStatus(200, `{"total_count":1,"page_count":1}`)
			},
			health: model.HealthDegraded, partial: true,
			detail:   "unexpected JSON from /api/nodes: an object where a list was expected (also failed: /api/connections)",
			snapshot: "h",
		},
		{
			name: "connection closed mid-response",
			cond: "mgmt-dropped",
			setup: func(t *testing.T, f *fakeMgmt, c *MgmtConfig) {
				f.override["/api/connections"] = func(w http.ResponseWriter, r *http.Request) {
					conn, buf, err := w.(http.Hijacker).Hijack()
					if err != nil {
						t.Error(err)
						return
					}
					body := readFixture(t, "connections.json")
					fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
					buf.Write(body[:len(body)/3])
					buf.Flush()
					conn.Close()
				}
			},
			health: model.HealthDegraded, detail: "GET /api/connections: the server closed the connection mid-response (unexpected EOF)",
			snapshot: "Nh",
		},
		{
			name: "connection closed before answering",
			cond: "mgmt-dropped",
			setup: func(t *testing.T, f *fakeMgmt, c *MgmtConfig) {
				f.override["/api/channels"] = func(w http.ResponseWriter, r *http.Request) {
					conn, _, err := w.(http.Hijacker).Hijack()
					if err == nil {
						conn.Close()
					}
				}
			},
			health: model.HealthDegraded, detail: "GET /api/channels: the server closed the connection without answering",
			snapshot: "NC",
		},
		{
			name: "stats disabled on the node",
			cond: "stats-disabled",
			setup: func(t *testing.T, f *fakeMgmt, c *MgmtConfig) {
				f.files = map[string]string{
					"/api/overview": "nostats_overview.json", "/api/nodes": "nostats_nodes.json",
					"/api/connections": "nostats_connections.json",
				}
				f.override["/api/channels"] = serveStatus(400, string(readFixture(t, "nostats_channels.json")))
			},
			health: model.HealthDegraded, partial: true,
			detail:   "statistics are disabled on the broker",
			hint:     "disable_metrics_collector",
			snapshot: "NC",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeMgmt(t, defaultFixtures())
			c := testConfig(f.srv.URL)
			tc.setup(t, f, &c)
			s := startPoller(t, c)
			st := s.firstStatus(t)
			if st.Health == model.HealthDown {
				// Give it a chance to (wrongly) emit a snapshot.
				time.Sleep(3 * c.Interval)
			} else if tc.snapshot != "" {
				s.firstSnapshot(t)
			}
			s.stop(t)
			if st.Health != tc.health {
				t.Errorf("health %v, want %v (%+v)", st.Health, tc.health, st)
			}
			if tc.partial && !strings.Contains(st.Detail, tc.detail) || !tc.partial && st.Detail != tc.detail {
				t.Errorf("detail\n%q\nwant\n%q", st.Detail, tc.detail)
			}
			if !strings.Contains(st.Hint, tc.hint) {
				t.Errorf("hint %q, want it to contain %q", st.Hint, tc.hint)
			}
			if st.Condition != tc.cond {
				t.Errorf("condition %q, want %q", st.Condition, tc.cond)
			}
			snaps := s.snapshots()
			switch {
			case tc.snapshot == "" && len(snaps) > 0:
				t.Errorf("a snapshot while down: %+v", snaps[0])
			case tc.snapshot != "":
				if len(snaps) == 0 {
					t.Fatalf("no snapshot")
				}
				sn := snaps[0]
				got := ""
				if sn.NodesOK {
					got += "N"
				}
				if sn.ConnectionsOK {
					got += "C"
				}
				if sn.ChannelsOK {
					got += "h"
				}
				if got == "" {
					got = "-"
				}
				if got != tc.snapshot {
					t.Errorf("parts OK %q, want %q", got, tc.snapshot)
				}
			}
			if tc.check != nil {
				tc.check(t, f, s)
			}
		})
	}
}

func TestMgmtStatsDisabled(t *testing.T) {
	nostats := map[string]string{
		"/api/overview": "nostats_overview.json", "/api/nodes": "nostats_nodes.json",
		"/api/connections": "nostats_connections.json", "/api/channels": "nostats_channels.json",
	}
	wantUnavailable := []string{
		"channels", "connections.channels", "connections.client_properties", "connections.connected_at",
		"connections.peer_host", "connections.protocol", "connections.recv_oct", "connections.recv_oct_details.rate",
		"connections.send_oct", "connections.send_oct_details.rate", "connections.state", "connections.timeout",
		"nodes.disk_free", "nodes.disk_free_alarm", "nodes.fd_used", "nodes.mem_alarm", "nodes.mem_used", "nodes.uptime",
	}
	check := func(t *testing.T, s *started, snap model.MgmtSnapshot) {
		t.Helper()
		if !snap.ConnectionsOK || len(snap.Connections) != 2 || snap.ChannelsOK || !snap.NodesOK {
			t.Fatalf("ok %v/%v/%v, %d connections", snap.NodesOK, snap.ConnectionsOK, snap.ChannelsOK, len(snap.Connections))
		}
		for _, c := range snap.Connections {
			if !c.StatsMissing || c.State != model.StateUnknown || c.User != "guest" || c.Vhost != "/" || c.Node == "" {
				t.Errorf("connection without stats: %+v", c)
			}
		}
		if !slices.Equal(snap.Unavailable, wantUnavailable) {
			t.Errorf("unavailable =\n%q\nwant\n%q", snap.Unavailable, wantUnavailable)
		}
		st := s.statuses()[0]
		if st.Health != model.HealthDegraded || !strings.Contains(st.Detail, "statistics are disabled on the broker") {
			t.Errorf("status %+v", st)
		}
	}
	t.Run("overview says so", func(t *testing.T) {
		f := newFakeMgmt(t, nostats)
		f.override["/api/channels"] = serveStatus(400, string(readFixture(t, "nostats_channels.json")))
		s := startPoller(t, testConfig(f.srv.URL))
		snap := s.firstSnapshot(t)
		s.stop(t)
		check(t, s, snap)
		if n := len(f.requests("/api/channels")); n != 0 {
			t.Errorf("/api/channels requested %d times although the overview says stats are disabled", n)
		}
		if snap.Overview.Connections != 2 || snap.Overview.RabbitVersion != "3.10.8" {
			t.Errorf("overview %+v", snap.Overview)
		}
		if st := s.statuses()[0]; st.Condition != "stats-disabled" || !strings.Contains(st.Hint, "disable_metrics_collector") {
			t.Errorf("status %+v", st)
		}
	})
	t.Run("overview failed", func(t *testing.T) {
		f := newFakeMgmt(t, nostats)
		f.override["/api/overview"] = serveStatus(500, "{}")
		f.override["/api/channels"] = serveStatus(400, string(readFixture(t, "nostats_channels.json")))
		s := startPoller(t, testConfig(f.srv.URL))
		snap := s.firstSnapshot(t)
		s.stop(t)
		check(t, s, snap)
	})
	t.Run("no connections yet", func(t *testing.T) {
		f := newFakeMgmt(t, nostats)
		f.override["/api/connections"] = serveStatus(200, `{"total_count":0,"item_count":0,"filtered_count":0,"page":1,"page_size":500,"page_count":0,"items":[]}`)
		s := startPoller(t, testConfig(f.srv.URL))
		snap := s.firstSnapshot(t)
		s.stop(t)
		if !snap.ConnectionsOK || !slices.Contains(snap.Unavailable, "connections.state") || !slices.Contains(snap.Unavailable, "channels") {
			t.Errorf("ok %v, unavailable %q", snap.ConnectionsOK, snap.Unavailable)
		}
	})
	t.Run("rates only", func(t *testing.T) {
		// rates_mode = none: counters but no *_details.
		f := newFakeMgmt(t, defaultFixtures())
		f.transform["/api/connections"] = func(b []byte) []byte {
			var pg map[string]any
			_ = json.Unmarshal(b, &pg)
			for _, it := range pg["items"].([]any) {
				delete(it.(map[string]any), "recv_oct_details")
				delete(it.(map[string]any), "send_oct_details")
			}
			out, _ := json.Marshal(pg)
			return out
		}
		s := startPoller(t, testConfig(f.srv.URL))
		snap := s.firstSnapshot(t)
		s.stop(t)
		want := []string{"connections.recv_oct_details.rate", "connections.send_oct_details.rate"}
		if !slices.Equal(snap.Unavailable, want) {
			t.Errorf("unavailable %q, want %q", snap.Unavailable, want)
		}
		for _, c := range snap.Connections {
			if c.StatsMissing {
				t.Errorf("%s: stats missing although only the rates are", c.Name)
			}
		}
		if st := s.statuses()[0]; st.Health != model.HealthUp {
			t.Errorf("status %+v", st)
		}
	})
}

func TestMgmtConnectionRefused(t *testing.T) {
	addr := closedPort(t)
	c := testConfig("http://" + mgmtTestUser + ":" + mgmtTestPass + "@" + addr)
	c.User, c.Password = "", ""
	s := startPoller(t, c)
	st := s.firstStatus(t)
	s.stop(t)
	if st.Health != model.HealthDown || st.Detail != "GET /api/overview: connection refused by "+addr {
		t.Errorf("status %+v", st)
	}
	if !strings.Contains(st.Hint, "rabbitmq-plugins enable rabbitmq_management") || !strings.Contains(st.Hint, "port") {
		t.Errorf("hint %q", st.Hint)
	}
	if st.Condition != "mgmt-connection-refused" {
		t.Errorf("condition %q", st.Condition)
	}
}

// closedPort returns 127.0.0.1:port where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestMgmtCredentialsFromURL(t *testing.T) {
	f := newFakeMgmt(t, defaultFixtures())
	u, _ := url.Parse(f.srv.URL)
	u.User = url.UserPassword(mgmtTestUser, mgmtTestPass)
	s := startPoller(t, MgmtConfig{URL: u.String() + "/", Interval: 20 * time.Millisecond})
	st := s.firstStatus(t)
	s.stop(t)
	if st.Health != model.HealthUp {
		t.Errorf("status %+v", st)
	}
}

func TestMgmtBadURL(t *testing.T) {
	for _, u := range []string{"ftp://example.com", "http://" + mgmtTestUser + ":" + mgmtTestPass + "@[::1", "", "http://"} {
		p := NewPoller(MgmtConfig{URL: u, User: mgmtTestUser, Password: mgmtTestPass})
		rec := &recorder{}
		err := p.Run(context.Background(), rec.emit)
		if err == nil || strings.Contains(err.Error(), mgmtTestPass) {
			t.Errorf("%q: Run returned %v", u, err)
		}
		sts := rec.statuses()
		if len(sts) != 1 || sts[0].Health != model.HealthDown || sts[0].Detail != err.Error() || sts[0].Condition != "mgmt-url-invalid" {
			t.Errorf("%q: statuses %+v", u, sts)
		}
		checkNoPassword(t, rec.all())
	}
}

func TestMgmtRunTwice(t *testing.T) {
	f := newFakeMgmt(t, defaultFixtures())
	s := startPoller(t, testConfig(f.srv.URL))
	s.firstStatus(t)
	if err := s.p.Run(context.Background(), func(model.Observation) {}); err == nil {
		t.Error("a second Run on the same poller did not fail")
	}
	s.stop(t)
}

// The server is down, then comes back: Down, then Up, and snapshots resume.
func TestMgmtDownThenUp(t *testing.T) {
	addr := closedPort(t)
	c := testConfig("http://" + addr)
	c.Interval = 10 * time.Millisecond
	// Slowness is another test's: on a loaded machine a 10 ms interval
	// would be stretched and said so.
	s := startPoller(t, c, func(p *Poller) { p.pace.slowFloor = time.Hour })
	if st := s.firstStatus(t); st.Health != model.HealthDown {
		t.Fatalf("first status %+v, want down", st)
	}
	if n := len(s.snapshots()); n != 0 {
		t.Fatalf("%d snapshots while down", n)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	f := &fakeMgmt{t: t, files: defaultFixtures(), override: map[string]http.HandlerFunc{},
		queries: map[string][]url.Values{}, times: map[string][]time.Time{}, transform: map[string]func([]byte) []byte{}}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Listener.Close()
	f.srv.Listener = l
	f.srv.Start()
	defer f.srv.Close()
	s.waitFor(t, "up and two snapshots", 10*time.Second, func() bool { return len(s.snapshots()) >= 2 })
	s.stop(t)
	sts := s.statuses()
	if len(sts) != 2 || sts[0].Health != model.HealthDown || sts[1].Health != model.HealthUp || sts[1].Detail != "RabbitMQ 3.10.8, 3 nodes" {
		t.Errorf("statuses %+v, want down then up", sts)
	}
	// The Up status comes before the first snapshot after the outage.
	var order []string
	for _, o := range s.all() {
		order = append(order, fmt.Sprintf("%T", o))
	}
	if order[0] != "model.SourceStatus" || order[1] != "model.SourceStatus" || order[2] != "model.MgmtSnapshot" {
		t.Errorf("order %v", order)
	}
}

func TestMgmtNoOverlap(t *testing.T) {
	f := newFakeMgmt(t, defaultFixtures())
	f.delay = 3 * time.Millisecond
	c := testConfig(f.srv.URL)
	c.Interval = time.Millisecond
	c.PageSize = 2
	s := startPoller(t, c)
	s.waitFor(t, "5 snapshots", 10*time.Second, func() bool { return len(s.snapshots()) >= 5 })
	s.stop(t)
	if m := f.maxInflight.Load(); m != 1 {
		t.Errorf("%d requests in flight at once, want 1", m)
	}
}

func TestMgmtBackoff(t *testing.T) {
	f := newFakeMgmt(t, defaultFixtures())
	for _, ep := range []string{"/api/overview", "/api/nodes", "/api/connections", "/api/channels"} {
		f.override[ep] = serveStatus(500, `{"error":"internal_error","reason":"boom"}`)
	}
	c := testConfig(f.srv.URL)
	c.Interval = 10 * time.Millisecond
	s := startPoller(t, c, func(p *Poller) { p.pace.max = 80 * time.Millisecond })
	s.waitFor(t, "8 polls", 10*time.Second, func() bool { return len(f.arrivals("/api/overview")) >= 8 })
	s.stop(t)
	at := f.arrivals("/api/overview")
	var gaps []time.Duration
	for i := 1; i < len(at); i++ {
		gaps = append(gaps, at[i].Sub(at[i-1]))
	}
	t.Logf("gaps %v", gaps)
	// 10, 20, 40, 80, 80... ms, each minus up to 20% (a loaded machine
	// only makes them longer).
	for i, g := range gaps {
		if lo := min(10*time.Millisecond<<i, 80*time.Millisecond) * 8 / 10; g < lo {
			t.Errorf("gap %d is %v, want at least %v: %v", i, g, lo, gaps)
		}
	}
	capped := 0
	for _, g := range gaps[4:] {
		if g < 130*time.Millisecond { // uncapped, they would be 128ms, 256ms...
			capped++
		}
	}
	if capped < len(gaps[4:])/2+1 {
		t.Errorf("backoff not capped at 80ms: %v", gaps)
	}
	if sts := s.statuses(); len(sts) != 1 {
		t.Errorf("%d statuses for one steady failure, want 1: %+v", len(sts), sts)
	}
}

func TestMgmtBackoffValues(t *testing.T) {
	p := NewPoller(MgmtConfig{URL: "http://127.0.0.1:1"})
	prevHi := time.Duration(0)
	for n := 1; n <= 10; n++ {
		hi := min(5*time.Second<<(n-1), 60*time.Second)
		for range 50 {
			d := p.pace.retry().delay(n, nil)
			if d > hi || d < hi*8/10 {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, hi*8/10, hi)
			}
		}
		if hi < prevHi {
			t.Fatal("shrinks")
		}
		prevHi = hi
	}
}

func TestMgmtIntervalValues(t *testing.T) {
	p := NewPoller(MgmtConfig{URL: "http://127.0.0.1:1"})
	steps := []struct {
		cur, took, want time.Duration
	}{
		{5 * time.Second, 1 * time.Second, 5 * time.Second},
		{5 * time.Second, 7200 * time.Millisecond, 15 * time.Second},
		{15 * time.Second, 7200 * time.Millisecond, 15 * time.Second},
		{15 * time.Second, 40 * time.Second, 60 * time.Second},
		{60 * time.Second, time.Second, 30 * time.Second},
		{30 * time.Second, time.Second, 15 * time.Second},
		{15 * time.Second, time.Second, 8 * time.Second},
		{8 * time.Second, time.Second, 5 * time.Second},
	}
	for _, s := range steps {
		if got := p.pace.next(s.cur, s.took); got != s.want {
			t.Errorf("nextInterval(%v, %v) = %v, want %v", s.cur, s.took, got, s.want)
		}
	}
}

// What the status says at each step of a slow spell: slow while the
// polls take a good part of the stretched interval; once they are fast
// again and the interval shrinks back step by step, not "slow: poll took
// 6ms" but that they were; up once the interval is back.
func TestMgmtSlowStatus(t *testing.T) {
	p := NewPoller(MgmtConfig{URL: "http://127.0.0.1:1", Interval: 5 * time.Second})
	res := mgmtPoll{snap: &model.MgmtSnapshot{}, version: "4.0.5", nodes: 1}
	for _, tc := range []struct {
		cur, took time.Duration
		health    model.Health
		detail    string
	}{
		{15 * time.Second, 7200 * time.Millisecond, model.HealthDegraded, "slow: poll took 7.2s; polling every 15s"},
		{15 * time.Second, 6 * time.Millisecond, model.HealthDegraded, "polls were slow: polling every 15s until back to 5s (the last took 6ms)"},
		{5 * time.Second, 6 * time.Millisecond, model.HealthUp, "RabbitMQ 4.0.5, 1 node"},
	} {
		st := p.status(res, tc.cur, tc.took)
		if st.health != tc.health || st.detail != tc.detail || (tc.health == model.HealthDegraded) != (st.cond == condMgmtSlow) {
			t.Errorf("status(%v, %v) = %+v, want %v %q", tc.cur, tc.took, st, tc.health, tc.detail)
		}
	}
}

func TestMgmtSlowStretchesInterval(t *testing.T) {
	f := newFakeMgmt(t, defaultFixtures())
	// A poll of four requests of 80 ms each takes over half of a 200 ms
	// interval; once they answer at once, a poll takes far less than a
	// quarter of it even on a loaded machine.
	f.delay = 80 * time.Millisecond
	c := testConfig(f.srv.URL)
	c.Interval = 200 * time.Millisecond
	s := startPoller(t, c, func(p *Poller) { p.pace.slowFloor = 0 })
	s.waitFor(t, "a slow status", 10*time.Second, func() bool {
		for _, st := range s.statuses() {
			if st.Health == model.HealthDegraded {
				return true
			}
		}
		return false
	})
	var slow model.SourceStatus
	for _, st := range s.statuses() {
		if st.Health == model.HealthDegraded {
			slow = st
			break
		}
	}
	if !strings.HasPrefix(slow.Detail, "slow: poll took ") || !strings.Contains(slow.Detail, "; polling every ") || slow.Condition != "mgmt-slow" {
		t.Errorf("slow status %+v", slow)
	}
	// Polls are spaced by the stretched interval now.
	n0 := len(f.arrivals("/api/overview"))
	s.waitFor(t, "two more polls", 10*time.Second, func() bool { return len(f.arrivals("/api/overview")) >= n0+2 })
	at := f.arrivals("/api/overview")
	if gap := at[len(at)-1].Sub(at[len(at)-2]); gap < 500*time.Millisecond {
		t.Errorf("polls %v apart while slow; the interval did not stretch", gap)
	}
	// Fast again: back to Up.
	f.set(func(f *fakeMgmt) { f.delay = 0 })
	s.waitFor(t, "up again", 10*time.Second, func() bool {
		sts := s.statuses()
		return sts[len(sts)-1].Health == model.HealthUp
	})
	s.stop(t)
	sts := s.statuses()
	for _, st := range sts {
		t.Logf("%v: %s", st.Health, st.Detail)
	}
	if sts[0].Health != model.HealthUp && sts[0].Health != model.HealthDegraded {
		t.Errorf("first status %+v", sts[0])
	}
	for i := 1; i < len(sts); i++ {
		if sts[i] == sts[i-1] {
			t.Errorf("a status repeated: %+v", sts[i])
		}
	}
	if len(sts) > 8 {
		t.Errorf("%d statuses: spam? %+v", len(sts), sts)
	}
}

// Every error path, once more, looking for the password anywhere in what
// the poller emits (stop does it) and in the errors it builds.
func TestMgmtPasswordNeverShows(t *testing.T) {
	echo := func(w http.ResponseWriter, r *http.Request) {
		// A proxy that echoes the request in its error page.
		var b strings.Builder
		fmt.Fprintf(&b, "bad gateway for %s\n", r.URL)
		for k, v := range r.Header {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
		u, p, _ := r.BasicAuth()
		fmt.Fprintf(&b, "user %s password %s\n", u, p)
		writeJSON(w, 502, "echo "+strings.ReplaceAll(b.String(), "\n", " | "))
	}
	f := newFakeMgmt(t, defaultFixtures())
	f.override["/api/overview"] = echo
	f.override["/api/channels"] = echo
	s := startPoller(t, testConfig(f.srv.URL))
	st := s.firstStatus(t)
	s.stop(t) // checks the observations
	if !strings.Contains(st.Detail, "502 Bad Gateway: echo bad gateway") {
		t.Errorf("status %+v", st)
	}
	// The errors themselves.
	p := NewPoller(testConfig("http://" + mgmtTestUser + ":" + mgmtTestPass + "@" + closedPort(t)))
	if _, err := p.api.get(context.Background(), "/api/overview", nil, 1<<20); err == nil || strings.Contains(err.msg+err.hint, mgmtTestPass) {
		t.Errorf("error %v", err)
	}
}

func TestMgmtBodyLimit(t *testing.T) {
	f := newFakeMgmt(t, defaultFixtures())
	p := NewPoller(testConfig(f.srv.URL))
	_, err := p.api.get(context.Background(), "/api/nodes", nil, 100)
	if err == nil || err.msg != "GET /api/nodes: the reply is larger than 0 MiB" && !strings.Contains(err.msg, "larger than") {
		t.Errorf("err %v", err)
	}
	f.set(func(f *fakeMgmt) { f.override["/api/overview"] = serveStatus(500, strings.Repeat("y", 1<<20)) })
	_, err = p.api.get(context.Background(), "/api/overview", nil, 1<<20)
	if err == nil || len(err.msg) > 300 {
		t.Errorf("error body not bounded: %d bytes", len(err.msg))
	}
}

// TLS: a self-signed server and the client given by the caller.
func TestMgmtTLS(t *testing.T) {
	f := &fakeMgmt{t: t, files: defaultFixtures(), override: map[string]http.HandlerFunc{},
		queries: map[string][]url.Values{}, times: map[string][]time.Time{}, transform: map[string]func([]byte) []byte{}}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake errors are the point
	f.srv.StartTLS()
	defer f.srv.Close()

	// Not trusted: a clear error.
	s := startPoller(t, testConfig(f.srv.URL))
	st := s.firstStatus(t)
	s.stop(t)
	if st.Health != model.HealthDown || !strings.HasPrefix(st.Detail, "GET /api/overview: TLS: ") || !strings.Contains(st.Hint, "certificate") ||
		st.Condition != "mgmt-tls-unknown-authority" {
		t.Errorf("untrusted: %+v", st)
	}
	// Trusted through Client.
	c := testConfig(f.srv.URL)
	c.Client = f.srv.Client()
	s = startPoller(t, c)
	st = s.firstStatus(t)
	s.stop(t)
	if st.Health != model.HealthUp {
		t.Errorf("trusted: %+v", st)
	}
	// http:// to a TLS port.
	s = startPoller(t, testConfig(strings.Replace(f.srv.URL, "https://", "http://", 1)))
	st = s.firstStatus(t)
	s.stop(t)
	if st.Health != model.HealthDown || !strings.Contains(st.Detail, "does not answer plain HTTP") && !strings.Contains(st.Hint, "use https://") ||
		st.Condition != "mgmt-port-is-tls" {
		t.Errorf("http to TLS: %+v", st)
	}
	// https:// to a plain port.
	g := newFakeMgmt(t, defaultFixtures())
	s = startPoller(t, testConfig(strings.Replace(g.srv.URL, "http://", "https://", 1)))
	st = s.firstStatus(t)
	s.stop(t)
	if st.Health != model.HealthDown || !strings.Contains(st.Detail, "does not speak TLS") || st.Condition != "mgmt-port-not-tls" {
		t.Errorf("https to plain: %+v", st)
	}
}

// The path prefix of the URL (management.path_prefix) is kept.
func TestMgmtPathPrefix(t *testing.T) {
	f := newFakeMgmt(t, nil)
	mux := http.NewServeMux()
	mux.Handle("/rabbitmq/", http.StripPrefix("/rabbitmq", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.files = defaultFixtures()
		f.mu.Unlock()
		f.serve(w, r)
	})))
	f.srv.Config.Handler = mux
	s := startPoller(t, testConfig(f.srv.URL+"/rabbitmq/"))
	st := s.firstStatus(t)
	s.stop(t)
	if st.Health != model.HealthUp {
		t.Errorf("status %+v", st)
	}
}

func TestMgmtFirstLine(t *testing.T) {
	for in, want := range map[string]string{
		"":                               "",
		"\n\n  first \r\nsecond":         "first",
		"first\nsecond":                  "first",
		"crash in <0.1234.0> at <0.1.2>": "crash in <pid> at <pid>",
		"tab\there":                      "tabhere",
	} {
		if got := mgmtFirstLine([]byte(in)); got != want {
			t.Errorf("mgmtFirstLine(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("é", 150)
	if got := mgmtFirstLine([]byte(long)); !strings.HasSuffix(got, "…") || len(got) > mgmtErrLineLimit+len("…") {
		t.Errorf("long line: %d bytes", len(got))
	}
}

// A page of 500 connections as the poller asks for them, decoded into the
// poller's structs and mapped, against encoding/json into a generic value.
func benchPage(b *testing.B) []byte {
	var pg struct{ Items []json.RawMessage }
	if err := json.Unmarshal(readFixture(b, "connections_mixed.json"), &pg); err != nil {
		b.Fatal(err)
	}
	items := make([]json.RawMessage, 0, 500)
	for len(items) < 500 {
		items = append(items, pg.Items...)
	}
	out, _ := json.Marshal(map[string]any{"total_count": 500, "page": 1, "page_count": 1, "items": items[:500]})
	return out
}

func BenchmarkMgmtDecodeConnections(b *testing.B) {
	body := benchPage(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var pg mgmtPage[mgmtConn]
		if err := mgmtDecode("/api/connections", body, &pg, "items."); err != nil {
			b.Fatal(err)
		}
		out := make([]model.Connection, 0, len(*pg.Items))
		for i := range *pg.Items {
			out = append(out, (*pg.Items)[i].model())
		}
		benchConns = out
	}
}

// benchConns keeps the benchmark's result alive so the mapping is not optimised away.
var benchConns []model.Connection

func BenchmarkMgmtDecodeConnectionsGeneric(b *testing.B) {
	body := benchPage(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			b.Fatal(err)
		}
	}
}

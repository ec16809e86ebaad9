package monitor

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/amqptop/amqptop/model"
	"github.com/amqptop/amqptop/testbroker"
)

// Tests against the project's private RabbitMQ nodes (never the machine's
// shared broker): testbroker.Shared's node (statistics every second) and,
// for the default 5 s statistics interval, a node of their own.

func liveNode(t *testing.T) *testbroker.Node {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: needs a private RabbitMQ node")
	}
	return testbroker.Shared(t)
}

func randSuffix() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// zeroHeartbeatConn makes the broker's connection.tune propose no
// heartbeat. amqp091-go negotiates the smaller non-zero value of its own
// and the broker's, so this is the only way to get a connection that
// negotiates heartbeat 0 with it (as many clients in the wild do). It reads whole
// frames until the tune has gone by, then gets out of the way.
type zeroHeartbeatConn struct {
	net.Conn
	pending []byte
	done    bool
}

func (z *zeroHeartbeatConn) Read(p []byte) (int, error) {
	if len(z.pending) == 0 && z.done {
		return z.Conn.Read(p)
	}
	if len(z.pending) == 0 {
		hdr := make([]byte, 7)
		if _, err := io.ReadFull(z.Conn, hdr); err != nil {
			return 0, err
		}
		size := binary.BigEndian.Uint32(hdr[3:])
		if size > 1<<20 {
			return 0, fmt.Errorf("frame of %d bytes before connection.tune", size)
		}
		frame := make([]byte, 7+size+1)
		copy(frame, hdr)
		if _, err := io.ReadFull(z.Conn, frame[7:]); err != nil {
			return 0, err
		}
		// Method frame, connection.tune (10, 30): channel-max(2)
		// frame-max(4) heartbeat(2) after class and method.
		if frame[0] == 1 && size >= 12 && binary.BigEndian.Uint16(frame[7:]) == 10 && binary.BigEndian.Uint16(frame[9:]) == 30 {
			binary.BigEndian.PutUint16(frame[7+10:], 0)
			z.done = true
		}
		z.pending = frame
	}
	n := copy(p, z.pending)
	z.pending = z.pending[n:]
	return n, nil
}

type liveConn struct {
	name      string // client-provided
	heartbeat time.Duration
	conn      *amqp.Connection
	chans     []liveChan
}

type liveChan struct {
	prefetch int
	confirm  bool
}

// openLive opens a connection with the client-provided name and channels
// with the given prefetch and confirm mode. heartbeat 0 takes the broker's
// (60s), heartbeat < 0 negotiates none.
func openLive(t *testing.T, n *testbroker.Node, name string, heartbeat time.Duration, chans ...liveChan) *liveConn {
	t.Helper()
	cfg := amqp.Config{Properties: amqp.Table{"connection_name": name, "product": "amqptop-live-test", "version": "1.0"},
		// Below 1s amqp091-go takes the broker's proposal (0 would mean
		// its own default, 10s).
		Heartbeat: time.Nanosecond}
	if heartbeat < 0 {
		cfg.Dial = func(network, addr string) (net.Conn, error) {
			c, err := net.DialTimeout(network, addr, 10*time.Second)
			if err != nil {
				return nil, err
			}
			return &zeroHeartbeatConn{Conn: c}, nil
		}
	} else if heartbeat > 0 {
		cfg.Heartbeat = heartbeat
	}
	c, err := amqp.DialConfig(n.AMQPURL(), cfg)
	if err != nil {
		t.Fatalf("dial %s: %v", name, err)
	}
	t.Cleanup(func() { c.Close() })
	lc := &liveConn{name: name, heartbeat: c.Config.Heartbeat, conn: c, chans: chans}
	for _, spec := range chans {
		ch, err := c.Channel()
		if err != nil {
			t.Fatalf("%s: channel: %v", name, err)
		}
		if spec.prefetch > 0 {
			if err := ch.Qos(spec.prefetch, 0, false); err != nil {
				t.Fatalf("%s: qos: %v", name, err)
			}
		}
		if spec.confirm {
			if err := ch.Confirm(false); err != nil {
				t.Fatalf("%s: confirm: %v", name, err)
			}
		}
	}
	return lc
}

// brokerName is the broker's name for the connection.
func (l *liveConn) brokerName() string {
	return l.conn.LocalAddr().String() + " -> " + l.conn.RemoteAddr().String()
}

// liveSnapshot runs a poller until a snapshot shows every connection of
// want with all its channels, and returns it with the first status.
func liveSnapshot(t *testing.T, c MgmtConfig, within time.Duration, want ...*liveConn) (model.MgmtSnapshot, model.SourceStatus) {
	t.Helper()
	s := startPoller(t, c)
	var snap model.MgmtSnapshot
	complete := func(sn model.MgmtSnapshot) bool {
		if !sn.ConnectionsOK || !sn.ChannelsOK || !sn.NodesOK {
			return false
		}
		for _, w := range want {
			found := false
			for _, got := range sn.Connections {
				if got.Client == w.name {
					found = got.Channels == len(w.chans)
				}
			}
			nch := 0
			for _, ch := range sn.Channels {
				if ch.Conn == w.brokerName() {
					nch++
				}
			}
			if !found || nch != len(w.chans) {
				return false
			}
		}
		return true
	}
	s.waitFor(t, "a snapshot with every test connection and its channels", within, func() bool {
		for _, sn := range s.snapshots() {
			if complete(sn) {
				snap = sn
				return true
			}
		}
		return false
	})
	s.stop(t)
	return snap, s.statuses()[0]
}

func checkLive(t *testing.T, n *testbroker.Node, snap model.MgmtSnapshot, st model.SourceStatus, conns ...*liveConn) {
	t.Helper()
	if st.Health != model.HealthUp || !strings.HasPrefix(st.Detail, "RabbitMQ 3.") || !strings.HasSuffix(st.Detail, ", 1 node") {
		t.Errorf("status %+v", st)
	}
	if len(snap.Nodes) != 1 || snap.Nodes[0].Name != n.Name || !snap.Nodes[0].Running || snap.Nodes[0].MemLimit == 0 ||
		snap.Nodes[0].Uptime <= 0 || snap.Nodes[0].FDTotal == 0 || snap.Nodes[0].DiskFree == 0 {
		t.Errorf("nodes %+v", snap.Nodes)
	}
	if snap.Overview.Node != n.Name || snap.Overview.RabbitVersion == "" || snap.Overview.Connections < len(conns) {
		t.Errorf("overview %+v", snap.Overview)
	}
	if len(snap.Unavailable) != 0 {
		t.Errorf("unavailable %q", snap.Unavailable)
	}
	for _, lc := range conns {
		c := findConn(t, snap, lc.brokerName())
		want := model.Connection{
			Name: lc.brokerName(), Client: lc.name, User: "guest", Vhost: "/", Peer: lc.conn.LocalAddr().String(),
			Node: n.Name, Protocol: "AMQP 0-9-1", State: model.StateRunning, Heartbeat: lc.heartbeat,
			ChannelMax: int(lc.conn.Config.ChannelMax), FrameMax: lc.conn.Config.FrameSize, Channels: len(lc.chans),
			Product: "amqptop-live-test", Version: "1.0",
		}
		got := c
		got.ConnectedAt, got.RecvBytes, got.SendBytes, got.RecvRate, got.SendRate, got.Capabilities = time.Time{}, 0, 0, 0, 0, nil
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("connection %s =\n%+v\nwant\n%+v", lc.name, got, want)
		}
		if c.ConnectedAt.IsZero() || time.Since(c.ConnectedAt) > 5*time.Minute || c.RecvBytes == 0 || c.SendBytes == 0 {
			t.Errorf("connection %s: connected at %v, %d/%d bytes", lc.name, c.ConnectedAt, c.RecvBytes, c.SendBytes)
		}
		if !slices.Contains(c.Capabilities, "connection.blocked") || !slices.IsSorted(c.Capabilities) {
			t.Errorf("capabilities %q", c.Capabilities)
		}
		for i, spec := range lc.chans {
			ch := findChan(t, snap, lc.brokerName(), i+1)
			if ch.Prefetch != spec.prefetch || ch.Confirm != spec.confirm || ch.User != "guest" || ch.Vhost != "/" ||
				ch.Node != n.Name || ch.State != "running" || ch.Transactional {
				t.Errorf("%s channel %d = %+v, want prefetch %d confirm %v", lc.name, i+1, ch, spec.prefetch, spec.confirm)
			}
		}
	}
}

func openLiveSet(t *testing.T, n *testbroker.Node) []*liveConn {
	sfx := randSuffix()
	return []*liveConn{
		openLive(t, n, "live-api-"+sfx, 10*time.Second, liveChan{prefetch: 25, confirm: true}, liveChan{}),
		openLive(t, n, "live-worker-"+sfx, 0, liveChan{prefetch: 7}),
		openLive(t, n, "live-nohb-"+sfx, -1, liveChan{confirm: true}),
	}
}

func liveConfig(n *testbroker.Node) MgmtConfig {
	return MgmtConfig{URL: n.MgmtURL(), User: "guest", Password: "guest", Interval: 200 * time.Millisecond, Timeout: 10 * time.Second}
}

func TestMgmtLive(t *testing.T) {
	n := liveNode(t)
	conns := openLiveSet(t, n)
	if conns[0].heartbeat != 10*time.Second || conns[1].heartbeat != 60*time.Second || conns[2].heartbeat != 0 {
		t.Fatalf("negotiated heartbeats %v %v %v, want 10s 60s 0s", conns[0].heartbeat, conns[1].heartbeat, conns[2].heartbeat)
	}
	snap, st := liveSnapshot(t, liveConfig(n), 30*time.Second, conns...)
	checkLive(t, n, snap, st, conns...)

	// Paging by 2 gives the same set.
	c := liveConfig(n)
	c.PageSize = 2
	paged, _ := liveSnapshot(t, c, 30*time.Second, conns...)
	if len(paged.Connections) < 3 || len(paged.Channels) < 4 {
		t.Fatalf("paged: %d connections, %d channels", len(paged.Connections), len(paged.Channels))
	}
	ours := func(sn model.MgmtSnapshot) (names []string) {
		for _, c := range sn.Connections {
			names = append(names, c.Name)
		}
		for _, ch := range sn.Channels {
			names = append(names, fmt.Sprintf("%s (%d) prefetch %d confirm %v", ch.Conn, ch.Number, ch.Prefetch, ch.Confirm))
		}
		sort.Strings(names)
		return names
	}
	if a, b := ours(snap), ours(paged); !slices.Equal(a, b) {
		t.Errorf("paging by 2 gives\n%q\nby 500\n%q", b, a)
	}
	checkLive(t, n, paged, st, conns...)
}

// The machine's users see the broker the way the poller reports it.
func TestMgmtLiveCredentials(t *testing.T) {
	n := liveNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sfx := randSuffix()
	const pass = mgmtTestPass
	users := map[string]string{"amqptop-mgmtonly-" + sfx: "management", "amqptop-notag-" + sfx: ""}
	for u, tag := range users {
		if _, err := n.Ctl(ctx, "add_user", u, pass); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _, _ = n.Ctl(context.Background(), "delete_user", u) })
		if _, err := n.Ctl(ctx, "set_permissions", u, ".*", ".*", ".*"); err != nil {
			t.Fatal(err)
		}
		if tag != "" {
			if _, err := n.Ctl(ctx, "set_user_tags", u, tag); err != nil {
				t.Fatal(err)
			}
		}
	}
	run := func(user, password string) (model.SourceStatus, *started) {
		c := liveConfig(n)
		c.User, c.Password = user, password
		s := startPoller(t, c)
		st := s.firstStatus(t)
		time.Sleep(3 * c.Interval)
		s.stop(t)
		return st, s
	}
	if st, _ := run("guest", pass); st.Health != model.HealthDown || st.Detail != "management API refused the credentials (401)" ||
		st.Hint != "check the user and password; the user needs the 'monitoring' tag (rabbitmqctl set_user_tags USER monitoring)" ||
		st.Condition != "mgmt-unauthorized" {
		t.Errorf("wrong password: %+v", st)
	}
	if st, _ := run("amqptop-notag-"+sfx, pass); st.Health != model.HealthDown || !strings.Contains(st.Detail, "lacks the 'monitoring' (or 'management') tag (401 Not management user)") ||
		st.Condition != "mgmt-not-management-user" {
		t.Errorf("no tag: %+v", st)
	}
	st, s := run("amqptop-mgmtonly-"+sfx, pass)
	if st.Health != model.HealthDegraded || !strings.Contains(st.Detail, "lacks the 'monitoring' tag: /api/nodes refused it (401 Not monitor user)") ||
		st.Condition != "mgmt-not-monitoring-user" {
		t.Errorf("management tag only: %+v", st)
	}
	for _, sn := range s.snapshots() {
		if sn.ConnectionsOK || sn.ChannelsOK || sn.NodesOK {
			t.Errorf("lists used for a user that sees only its own connections")
		}
	}
}

// What the columns save, on 50 connections with 2 channels each.
func TestMgmtLiveColumnsBytes(t *testing.T) {
	n := liveNode(t)
	sfx := randSuffix()
	var conns []*liveConn
	for i := range 50 {
		conns = append(conns, openLive(t, n, fmt.Sprintf("bytes-%s-%02d", sfx, i), 0, liveChan{prefetch: 10}, liveChan{confirm: true}))
	}
	// Wait until the broker lists them with their channels.
	liveSnapshot(t, liveConfig(n), 30*time.Second, conns[0], conns[len(conns)-1])

	size := func(path string) (int, int) {
		req, _ := http.NewRequest(http.MethodGet, n.MgmtURL()+path, nil)
		req.SetBasicAuth("guest", "guest")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %v %s", path, err, resp.Status)
		}
		return len(b), strings.Count(string(b), `"name"`)
	}
	p := NewPoller(liveConfig(n))
	for _, l := range []struct{ endpoint, columns, sort string }{
		{"/api/connections", mgmtConnColumns, "name"},
		{"/api/channels", mgmtChanColumns, "connection_details.name"},
	} {
		full, items := size(l.endpoint)
		q := fmt.Sprintf("?columns=%s&page=1&page_size=500&sort=%s", l.columns, l.sort)
		trimmed, _ := size(l.endpoint + q)
		body, err := p.api.get(context.Background(), l.endpoint, map[string][]string{
			"columns": {l.columns}, "page": {"1"}, "page_size": {"500"}, "sort": {l.sort}}, mgmtListLimit)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s with %d items: %d bytes plain, %d bytes with columns (%d per item instead of %d, %.0f%% saved)",
			l.endpoint, items, full, len(body), len(body)/max(items, 1), full/max(items, 1), 100*(1-float64(trimmed)/float64(full)))
		if trimmed >= full {
			t.Errorf("%s: columns do not trim the reply (%d >= %d bytes)", l.endpoint, trimmed, full)
		}
	}
}

// At the broker's default statistics interval (5 s), which users run.
func TestMgmtLiveDefaultStatsInterval(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs a private RabbitMQ node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n, err := testbroker.Start(ctx, testbroker.Options{Name: "amqptop-mgmt", StatsIntervalMS: 0})
	if err != nil {
		testbroker.Unavailable(t, fmt.Errorf("cannot start a private node: %w", err))
	}
	t.Cleanup(func() { _ = n.Stop() })
	conns := openLiveSet(t, n)
	c := liveConfig(n)
	c.Interval = time.Second
	snap, st := liveSnapshot(t, c, 60*time.Second, conns...)
	checkLive(t, n, snap, st, conns...)
}

// management.disable_stats = true: the broker lists connections without
// their statistics and refuses the channel list.
func TestMgmtLiveStatsDisabled(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: needs a private RabbitMQ node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n, err := testbroker.Start(ctx, testbroker.Options{Name: "amqptop-nostats", StatsIntervalMS: 1000,
		ExtraConf: []string{"management.disable_stats = true"}})
	if err != nil {
		t.Skipf("cannot start a private node: %v", err)
	}
	t.Cleanup(func() { _ = n.Stop() })
	conns := openLiveSet(t, n)
	s := startPoller(t, liveConfig(n))
	s.waitFor(t, "a snapshot with the test connections", 30*time.Second, func() bool {
		for _, sn := range s.snapshots() {
			if len(sn.Connections) >= len(conns) {
				return true
			}
		}
		return false
	})
	s.stop(t)
	var snap model.MgmtSnapshot
	for _, sn := range s.snapshots() {
		if len(sn.Connections) >= len(conns) {
			snap = sn
			break
		}
	}
	if !snap.ConnectionsOK || snap.ChannelsOK || !snap.NodesOK {
		t.Errorf("ok %v/%v/%v", snap.NodesOK, snap.ConnectionsOK, snap.ChannelsOK)
	}
	for _, lc := range conns {
		c := findConn(t, snap, lc.brokerName())
		if !c.StatsMissing || c.State != model.StateUnknown || c.User != "guest" || c.Vhost != "/" || c.Node != n.Name || c.Channels != 0 {
			t.Errorf("connection %s = %+v", lc.name, c)
		}
	}
	for _, col := range []string{"channels", "connections.state", "connections.recv_oct", "connections.timeout", "connections.client_properties", "nodes.mem_used"} {
		if !slices.Contains(snap.Unavailable, col) {
			t.Errorf("unavailable %q lacks %q", snap.Unavailable, col)
		}
	}
	if st := s.statuses()[0]; st.Health != model.HealthDegraded || !strings.HasPrefix(st.Detail, "statistics are disabled on the broker") ||
		st.Condition != "stats-disabled" {
		t.Errorf("status %+v", st)
	}
	if n := len(s.snapshots()); n == 0 {
		t.Fatal("no snapshot")
	}
}

package monitor

import (
	"context"
	"errors"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/amqptop/amqptop/model"
)

// Tests of the poller's steps one by one: decode (bodies into the wire
// shapes), assemble (replies into a snapshot), the pace. The fake API's
// tests (mgmt_test.go) run them together.

func decodeFixtureList[T any](t *testing.T, endpoint, file string) []T {
	t.Helper()
	l, err := mgmtDecodeList[T](endpoint, readFixture(t, file))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return l.items
}

func TestMgmtDecodeList(t *testing.T) {
	pg, err := mgmtDecodeList[mgmtConn]("/api/connections", readFixture(t, "connections_mixed.json"))
	if err != nil || !pg.paged || len(pg.items) != 7 || pg.total != 7 || pg.pageCount != 1 {
		t.Fatalf("page: %+v, %v", pg, err)
	}
	// peer_port "unknown" and client_properties [] are left empty, not fatal.
	i := slices.IndexFunc(pg.items, func(c mgmtConn) bool { return c.Name == "<rabbit@b.1795452319.890.0>" })
	if i < 0 || pg.items[i].PeerPort != 0 || pg.items[i].model().Product != "" || pg.items[i].User != "shovel" {
		t.Errorf("direct connection %+v", pg.items[max(i, 0)])
	}
	whole, err := mgmtDecodeList[mgmtConn]("/api/connections", readFixture(t, "full_connections.json"))
	if err != nil || whole.paged || len(whole.items) != 5 {
		t.Errorf("an unpaged list: %+v, %v", whole, err)
	}
	for body, want := range map[string]string{
		`{"total_count":1,"page_count":1}`: "unexpected reply from /api/connections: a page without items",
		`{"items":{}}`:                     "unexpected JSON from /api/connections: an object where a list was expected (at items)",
		`garbage{`:                         "invalid JSON from /api/connections: invalid character 'g' looking for beginning of value",
	} {
		_, err := mgmtDecodeList[mgmtConn]("/api/connections", []byte(body))
		if err == nil || err.msg != want || err.kind != mgmtErrJSON || err.cond == "" || err.hint == "" {
			t.Errorf("%s: %+v, want %q", body, err, want)
		}
	}
}

func okPart[T any](v T) mgmtPart[T] { return mgmtPart[T]{v: v, ok: true} }

func errPart[T any](kind mgmtErrKind, msg string) mgmtPart[T] {
	return mgmtPart[T]{err: &mgmtError{kind: kind, msg: msg}}
}

func TestMgmtAssemble(t *testing.T) {
	var ov mgmtOverview
	if err := mgmtDecode("/api/overview", readFixture(t, "overview.json"), &ov, ""); err != nil {
		t.Fatal(err)
	}
	var nodes []mgmtNode
	if err := mgmtDecode("/api/nodes", readFixture(t, "nodes_cluster.json"), &nodes, ""); err != nil {
		t.Fatal(err)
	}
	conns := decodeFixtureList[mgmtConn](t, "/api/connections", "connections_mixed.json")
	chans := decodeFixtureList[mgmtChan](t, "/api/channels", "channels.json")
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := at.Add(time.Second)

	t.Run("everything", func(t *testing.T) {
		r := mgmtReplies{overview: okPart(ov), nodes: okPart(nodes), conns: okPart(conns), chans: okPart(chans), connsAt: at}
		res := assemble(&r, mgmtChurn{}, now)
		s := res.snap
		if res.down() || s == nil || !s.NodesOK || !s.ConnectionsOK || !s.ChannelsOK || s.Unavailable != nil ||
			len(s.Nodes) != 3 || len(s.Connections) != 7 || len(s.Channels) != 9 || s.Overview.RabbitVersion != "3.10.8" {
			t.Fatalf("%+v", res)
		}
		if !s.Time.Equal(at) || s.Source != model.SourceManagement {
			t.Errorf("meta %+v, want the time the connections were read", s.Meta)
		}
		if res.version != "3.10.8" || res.nodes != 3 || res.statsOff || res.err() != nil {
			t.Errorf("%+v", res)
		}
	})
	t.Run("statistics off", func(t *testing.T) {
		var off mgmtOverview
		if err := mgmtDecode("/api/overview", readFixture(t, "nostats_overview.json"), &off, ""); err != nil {
			t.Fatal(err)
		}
		bare := decodeFixtureList[mgmtConn](t, "/api/connections", "nostats_connections.json")
		// As fetch leaves them: the channels not asked for.
		r := mgmtReplies{overview: okPart(off), nodes: okPart(nodes), conns: okPart(bare), connsAt: at}
		res := assemble(&r, mgmtChurn{}, now)
		if !res.statsOff || res.snap == nil || res.snap.ChannelsOK || !slices.Contains(res.snap.Unavailable, "channels") ||
			!slices.Contains(res.snap.Unavailable, "connections.state") {
			t.Fatalf("%+v", res)
		}
		for _, c := range res.snap.Connections {
			if !c.StatsMissing {
				t.Errorf("%s: stats not missing", c.Name)
			}
		}
		// The same told by the channel list only, the overview failing.
		r = mgmtReplies{overview: errPart[mgmtOverview](mgmtErrStatus, "GET /api/overview: 500"), nodes: okPart(nodes),
			conns: okPart(conns), chans: errPart[[]mgmtChan](mgmtErrStatsDisabled, "GET /api/channels: 400"), connsAt: at}
		res = assemble(&r, mgmtChurn{}, now)
		if !res.statsOff || len(res.errs) != 1 || res.errs[0].msg != "GET /api/overview: 500" || !slices.Equal(res.snap.Unavailable, []string{"channels"}) {
			t.Errorf("%+v %q", res, res.snap.Unavailable)
		}
	})
	t.Run("not a monitoring user", func(t *testing.T) {
		r := mgmtReplies{overview: okPart(ov), nodes: errPart[[]mgmtNode](mgmtErrNotMonitor, "GET /api/nodes: 401 Not monitor user")}
		res := assemble(&r, mgmtChurn{}, now)
		if res.notMonitor == nil || res.errs != nil || res.snap == nil || res.snap.NodesOK || res.snap.ConnectionsOK ||
			res.snap.Unavailable != nil || !res.snap.Time.Equal(now) {
			t.Errorf("%+v", res)
		}
	})
	t.Run("aborted", func(t *testing.T) {
		r := mgmtReplies{overview: okPart(ov), nodes: okPart(nodes), conns: errPart[[]mgmtConn](mgmtErrTransport, "refused"), aborted: true}
		res := assemble(&r, mgmtChurn{}, now)
		if !res.down() || res.snap != nil || len(res.errs) != 1 || res.err() == nil || res.err().Error() != "refused" {
			t.Errorf("%+v", res)
		}
	})
	t.Run("nothing", func(t *testing.T) {
		r := mgmtReplies{overview: errPart[mgmtOverview](mgmtErrTimeout, "a"), nodes: errPart[[]mgmtNode](mgmtErrTimeout, "b")}
		res := assemble(&r, mgmtChurn{}, now)
		if !res.down() || res.snap != nil || res.err() == nil || res.err().Error() != "a\nb" {
			t.Errorf("%+v", res)
		}
	})
	t.Run("a list that keeps changing", func(t *testing.T) {
		churn := mgmtChurn{}
		changing := mgmtReplies{overview: okPart(ov), nodes: okPart(nodes),
			conns: errPart[[]mgmtConn](mgmtErrChanged, "/api/connections changed"), chans: okPart(chans), connsAt: at}
		for i := 1; i <= mgmtChangedReport+1; i++ {
			res := assemble(&changing, churn, now)
			if res.snap == nil || res.snap.ConnectionsOK || res.errs != nil {
				t.Fatalf("poll %d: %+v", i, res)
			}
			if reported := slices.Equal(res.changed, []string{"/api/connections"}); reported != (i >= mgmtChangedReport) {
				t.Errorf("poll %d: changed %q", i, res.changed)
			}
		}
		calm := mgmtReplies{overview: okPart(ov), nodes: okPart(nodes), conns: okPart(conns), chans: okPart(chans), connsAt: at}
		assemble(&calm, churn, now)
		if res := assemble(&changing, churn, now); res.changed != nil {
			t.Errorf("counted on after a calm poll: %q", res.changed)
		}
		// A poll that did not get to the list leaves the count alone.
		assemble(&mgmtReplies{overview: okPart(ov), nodes: okPart(nodes)}, churn, now)
		if churn["/api/connections"] != 1 {
			t.Errorf("churn %v", churn)
		}
	})
}

// The error a down poll ends with tells the retry policy that nothing
// listens, through the transport's error.
func TestMgmtRefusedRetriedSoon(t *testing.T) {
	p := NewPoller(testConfig("http://" + closedPort(t)))
	p.pace.interval = 10 * time.Second
	res := p.poll(context.Background())
	if !res.down() || !errors.Is(res.err(), syscall.ECONNREFUSED) {
		t.Fatalf("%+v: %v", res, res.err())
	}
	for n := 1; n < 5; n++ {
		if d := p.pace.retry().delay(n, res.err()); d > refusedRetry {
			t.Errorf("delay(%d) = %v after a refused connection", n, d)
		}
	}
	// An error that only quotes the words is no refusal.
	quoted := &mgmtError{kind: mgmtErrStatus, msg: "GET /api/overview: 502 Bad Gateway: connection refused"}
	if d := p.pace.retry().delay(3, quoted); d < 32*time.Second {
		t.Errorf("delay %v after a 502", d)
	}
}

func TestMgmtPaceWait(t *testing.T) {
	pc := mgmtPace{interval: 5 * time.Second, max: 60 * time.Second, slowFloor: mgmtSlowFloor}
	for _, c := range []struct{ cur, took, want time.Duration }{
		{5 * time.Second, 200 * time.Millisecond, 4800 * time.Millisecond}, // the rest of the interval
		{5 * time.Second, 4 * time.Second, 1250 * time.Millisecond},        // at least a quarter of it
		{15 * time.Second, 7 * time.Second, 8 * time.Second},
	} {
		if got := pc.wait(c.cur, c.took); got != c.want {
			t.Errorf("wait(%v, %v) = %v, want %v", c.cur, c.took, got, c.want)
		}
	}
	// A poll under the floor is never slow, however short the interval.
	fast := mgmtPace{interval: 100 * time.Millisecond, max: 60 * time.Second, slowFloor: mgmtSlowFloor}
	if got := fast.next(100*time.Millisecond, 400*time.Millisecond); got != 100*time.Millisecond {
		t.Errorf("a 400ms poll stretched the interval to %v", got)
	}
	if got := fast.next(100*time.Millisecond, 600*time.Millisecond); got != 2*time.Second {
		t.Errorf("a 600ms poll: interval %v, want 2s (1.2s rounded up)", got)
	}
}

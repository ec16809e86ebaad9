package monitor

// The management API poller.
//
// What the broker does (checked against RabbitMQ 3.10.8, see
// testdata/mgmt/ for captured replies):
//   - columns=a,b.c trims the reply of /api/overview, /api/nodes,
//     /api/connections and /api/channels. Nested columns work on
//     connections and channels (recv_oct_details.rate,
//     connection_details.name, message_stats.publish_details.rate), but
//     client_properties comes back whole whenever any client_properties.*
//     column is asked for, and /api/overview returns message_stats and
//     object_totals whole. Unknown columns are ignored.
//   - Paging happens only when page is sent; the reply is then an object
//     {total_count, item_count, filtered_count, page, page_size, page_count,
//     items}. page_size above 500 is refused (400
//     invalid_pagination_parameters), a page past the end is refused (400
//     page_out_of_range): the list shrank while we were paging.
//   - sort is applied after the columns are trimmed: sorting by a column
//     not asked for gives an arbitrary order.
//   - Statistics disabled (management_agent.disable_metrics_collector =
//     true, or disable_stats=true in the query): /api/overview says
//     "disable_stats": true and has no message_stats; /api/connections
//     lists only name, vhost, user and node (no state, client properties,
//     heartbeat, bytes, rates or channel count); /api/nodes lists only
//     name, running and type; /api/channels answers 400 "Stats in
//     management UI are disabled on this node".
//   - A wrong password is 401 {"error":"not_authorized","reason":"Login
//     failed"}; a user without the management (or monitoring) tag gets 401
//     "Not management user" everywhere; a user with only the management tag
//     gets 401 "Not monitor user" on /api/nodes and sees only its own
//     connections and channels in the lists (without an error).

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	rabbithole "github.com/michaelklishin/rabbit-hole/v2"

	"github.com/amqptop/amqptop/model"
)

// Defaults of MgmtConfig.
const (
	DefaultMgmtInterval = 5 * time.Second
	DefaultMgmtTimeout  = 10 * time.Second
	DefaultMgmtPageSize = 500 // the API's maximum
)

const (
	mgmtMaxBackoff     = 60 * time.Second       // failures and slow polls never wait longer (unless Interval is longer)
	mgmtSlowFloor      = 500 * time.Millisecond // a poll this fast is not slow, whatever the interval (a busy amqptop host is not a slow broker)
	mgmtRefusedBackoff = 2 * time.Second        // a refused connection is retried at least this often
	mgmtListLimit      = 256 << 20              // one reply (one page of a list)
	mgmtSmallLimit     = 16 << 20               // overview, nodes
	mgmtErrBodyLimit   = 4 << 10                // the body of an error reply
	mgmtErrLineLimit   = 200                    // characters of an error body quoted in a status
	mgmtMaxPages       = 100000                 // a broker that keeps saying "more pages"
	mgmtChangedReport  = 3                      // consecutive polls a list changed while paging before it is reported
)

// MgmtConfig configures the management poller.
type MgmtConfig struct {
	URL      string        // base URL, e.g. http://127.0.0.1:15672 (https allowed); no credentials in it (if it has some, they are used when User is empty, and dropped from the URL)
	User     string        // needs the 'monitoring' tag to see every connection
	Password string        // never printed, logged or put in an error/observation
	Interval time.Duration // default 5s
	Timeout  time.Duration // per request, default 10s
	PageSize int           // default 500 (the API's max)
	Client   *http.Client  // optional (tests, TLS); default: one with sane transport timeouts
}

// Poller polls the management API (/api/overview, /api/nodes,
// /api/connections, /api/channels) and emits one model.MgmtSnapshot per
// poll and a model.SourceStatus whenever its health or the reason for it
// changes. It asks only for the columns it maps, pages through the
// connection and channel lists, never overlaps two polls, backs off when
// the API fails and polls less often while the API is slow.
//
// MgmtSnapshot.Unavailable names what the broker does not report, as
// "<list>.<column>" (e.g. "connections.state", "connections.recv_oct",
// "nodes.mem_used") or a whole list ("channels"), typically because its
// statistics are disabled; the affected connections have StatsMissing set.
type Poller struct {
	cfg      MgmtConfig
	rh       *rabbithole.Client // the endpoint (no credentials in it) and the credentials
	hc       *http.Client
	hostport string // for messages: the host and port of the URL
	urlErr   error  // the configuration cannot work: Run reports it and returns

	running atomic.Bool

	maxBackoff time.Duration // the longest wait between polls (a test hook)
	slowFloor  time.Duration // a poll faster than this is never slow (a test hook)

	// State kept across polls by Run's goroutine.
	changed map[string]int // consecutive polls in which a list changed while paging
}

// NewPoller returns a poller for c, with defaults filled in. A URL that
// cannot work (bad syntax, not http/https) is reported by Run.
func NewPoller(c MgmtConfig) *Poller {
	if c.Interval <= 0 {
		c.Interval = DefaultMgmtInterval
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultMgmtTimeout
	}
	if c.PageSize <= 0 || c.PageSize > DefaultMgmtPageSize {
		c.PageSize = DefaultMgmtPageSize
	}
	p := &Poller{
		hc:         c.Client,
		maxBackoff: max(mgmtMaxBackoff, c.Interval),
		slowFloor:  mgmtSlowFloor,
		changed:    map[string]int{},
	}
	if p.hc == nil {
		p.hc = defaultMgmtClient()
	}
	base, user, pass, err := parseMgmtURL(c.URL)
	if err != nil {
		p.urlErr = err
	} else {
		if c.User == "" && user != "" {
			c.User, c.Password = user, pass
		}
		if u, _ := url.Parse(base); u != nil {
			p.hostport = u.Host
			if u.Port() == "" {
				p.hostport = net.JoinHostPort(u.Hostname(), map[string]string{"http": "80", "https": "443"}[u.Scheme])
			}
		}
		// rabbit-hole keeps the endpoint and the credentials; the requests
		// are ours (it cannot ask for columns or take a context).
		p.rh, err = rabbithole.NewClient(base, c.User, c.Password)
		if err != nil {
			p.urlErr = fmt.Errorf("management URL: %s", redact(err.Error(), c.User, c.Password))
		}
	}
	p.cfg = c
	return p
}

// parseMgmtURL checks the base URL and returns it without credentials
// (and without a trailing slash), with the credentials it carried.
func parseMgmtURL(raw string) (base, user, pass string, err error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", "", "", errors.New("no management URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", "", "", fmt.Errorf("invalid management URL: %s", redact(err.Error(), "", passwordIn(raw)))
	}
	if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
		u.User = nil
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", "", "", fmt.Errorf("management URL %s: the scheme must be http:// or https://", u.Redacted())
	}
	if u.Host == "" {
		return "", "", "", fmt.Errorf("management URL %s: no host", u.Redacted())
	}
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u.String(), user, pass, nil
}

func defaultMgmtClient() *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}}
}

func mgmtSleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Run implements model.Feed: it polls until ctx is done, emitting
// model.MgmtSnapshot and model.SourceStatus. It never returns an error for
// broker trouble: it reports it and keeps trying. It returns an error only
// for a configuration that cannot work (after reporting it as a status) or
// when called while already running.
func (p *Poller) Run(ctx context.Context, emit func(model.Observation)) error {
	if !p.running.CompareAndSwap(false, true) {
		return errors.New("monitor: Poller.Run is already running")
	}
	defer p.running.Store(false)
	if p.urlErr != nil {
		emit(model.SourceStatus{Meta: mgmtMeta(time.Now()), Of: model.SourceManagement, Health: model.HealthDown,
			Detail: p.urlErr.Error(), Hint: "give the management API's base URL, e.g. http://127.0.0.1:15672"})
		return p.urlErr
	}
	cur := p.cfg.Interval // the polling interval, stretched while the API is slow
	failures := 0
	var last *mgmtStatus
	for {
		start := time.Now()
		res := p.poll(ctx)
		if ctx.Err() != nil {
			return nil
		}
		took := time.Since(start)
		var wait time.Duration
		if res.down() {
			failures++
			wait = p.backoff(failures)
			if res.refused() {
				// Nothing listens: asking again costs the broker nothing, and
				// a node that restarts answers within seconds.
				wait = min(wait, mgmtRefusedBackoff)
			}
		} else {
			failures = 0
			cur = p.nextInterval(cur, took)
			wait = max(cur-took, cur/4)
		}
		st := p.status(res, cur, took)
		if last == nil || st.health != last.health || st.key != last.key {
			emit(model.SourceStatus{Meta: mgmtMeta(time.Now()), Of: model.SourceManagement,
				Health: st.health, Detail: st.detail, Hint: st.hint})
			last = &st
		}
		if res.snap != nil {
			emit(*res.snap)
		}
		if !mgmtSleep(ctx, wait) {
			return nil
		}
	}
}

func mgmtMeta(t time.Time) model.Meta { return model.Meta{Time: t, Source: model.SourceManagement} }

// backoff is the wait after the n-th consecutive failed poll: the interval
// doubled per failure, capped, minus up to 20% of jitter.
func (p *Poller) backoff(n int) time.Duration {
	d := p.cfg.Interval
	for i := 1; i < n && d < p.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.maxBackoff)
	if j := int64(d / 5); j > 0 {
		d -= time.Duration(rand.Int64N(j))
	}
	return d
}

// nextInterval stretches the interval when a poll took more than half of
// it (to twice the poll's duration) and shrinks it back, halving, when
// polls take less than a quarter of it.
func (p *Poller) nextInterval(cur, took time.Duration) time.Duration {
	base := p.cfg.Interval
	switch {
	case took > cur/2 && took >= p.slowFloor:
		cur = max(cur, min(mgmtRoundUp(2*took), p.maxBackoff))
	case took < cur/4 && cur > base:
		cur = max(base, mgmtRoundUp(cur/2))
	}
	return cur
}

// mgmtRoundUp rounds a duration up to the second (to the millisecond below 1s),
// so that the interval shown is a readable number.
func mgmtRoundUp(d time.Duration) time.Duration {
	unit := time.Millisecond
	if d >= time.Second {
		unit = time.Second
	}
	if r := d % unit; r != 0 {
		d += unit - r
	}
	return d
}

// mgmtDur prints a poll duration: 7.2s, 340ms.
func mgmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Microsecond).String()
}

// ---- One poll ----

// mgmtPoll is what one poll fetched and what went wrong.
type mgmtPoll struct {
	snap       *model.MgmtSnapshot // nil when nothing could be fetched
	aborted    bool                // a fatal error stopped the poll (refused, credentials, not an API)
	errs       []*mgmtError        // failures, in request order
	statsOff   bool                // the broker does not collect statistics
	notMonitor *mgmtError          // the user lacks the monitoring tag: lists are partial
	changed    []string            // lists reported as changing while paged, several polls in a row
	version    string
	nodes      int
}

func (r *mgmtPoll) down() bool { return r.aborted || r.snap == nil }

// refused reports whether the poll failed because nothing accepted the
// connection (the node or its management listener is down).
func (r *mgmtPoll) refused() bool {
	for _, e := range r.errs {
		if e.kind == mgmtErrTransport && strings.Contains(e.msg, "connection refused") {
			return true
		}
	}
	return false
}

// Columns asked for. See the file comment for what the broker does with them.
var (
	mgmtOverviewColumns = strings.Join([]string{
		"cluster_name", "rabbitmq_version", "erlang_version", "management_version", "node", "disable_stats",
		"object_totals", "message_stats.publish_details.rate", "message_stats.deliver_get_details.rate",
	}, ",")
	mgmtNodeColumns = strings.Join([]string{
		"name", "running", "mem_used", "mem_limit", "mem_alarm", "disk_free", "disk_free_limit", "disk_free_alarm",
		"fd_used", "fd_total", "uptime", "partitions",
	}, ",")
	mgmtConnColumns = strings.Join([]string{
		"name", "user_provided_name",
		"client_properties.connection_name", "client_properties.product", "client_properties.version",
		"client_properties.platform", "client_properties.capabilities",
		"user", "vhost", "peer_host", "peer_port", "node", "protocol", "state", "timeout", "channel_max", "frame_max",
		"connected_at", "recv_oct", "send_oct", "recv_oct_details.rate", "send_oct_details.rate", "channels",
		"ssl", "ssl_protocol",
	}, ",")
	mgmtChanColumns = strings.Join([]string{
		"connection_details.name", "number", "node", "user", "vhost", "state", "prefetch_count", "global_prefetch_count",
		"messages_unacknowledged", "messages_unconfirmed", "consumer_count", "confirm", "transactional",
		"message_stats.publish_details.rate", "message_stats.deliver_get_details.rate", "message_stats.ack_details.rate",
	}, ",")
)

// poll fetches the four endpoints one after the other.
func (p *Poller) poll(ctx context.Context) mgmtPoll {
	var res mgmtPoll
	snap := &model.MgmtSnapshot{}
	anyOK := false
	timeouts, skip := 0, false // after two timeouts the rest is not asked for: the API does not answer
	fail := func(e *mgmtError) {
		res.errs = append(res.errs, e)
		if e.fatal {
			res.aborted = true
		}
		if e.kind == mgmtErrTimeout {
			if timeouts++; timeouts >= 2 {
				skip = true
			}
		}
	}

	// /api/overview. Its failure alone does not stop the poll: on a
	// cluster with many queues it is the slowest endpoint.
	var ov mgmtOverview
	if err := p.getJSON(ctx, "/api/overview", url.Values{"columns": {mgmtOverviewColumns}}, mgmtSmallLimit, &ov, ""); err != nil {
		if ctx.Err() != nil {
			return res
		}
		if err.kind == mgmtErrNotFound {
			err.msg = "the management plugin is not enabled (404 on /api/overview)"
			err.hint = "rabbitmq-plugins enable rabbitmq_management; if it is enabled, check the URL (host, port, path prefix)"
			err.fatal = true
		}
		fail(err)
		if res.aborted {
			return res
		}
	} else {
		anyOK = true
		snap.Overview = ov.model()
		res.version = ov.RabbitVersion
		res.statsOff = ov.DisableStats
	}

	// /api/nodes (never skipped: at most one timeout before it). A user
	// with only the management tag is refused here and sees only its own
	// connections in the lists: those are then useless.
	var nodes []mgmtNode
	if err := p.getJSON(ctx, "/api/nodes", url.Values{"columns": {mgmtNodeColumns}}, mgmtSmallLimit, &nodes, ""); err != nil {
		if ctx.Err() != nil {
			return res
		}
		if err.kind == mgmtErrNotMonitor {
			res.notMonitor = err
		} else {
			fail(err)
			if res.aborted {
				return res
			}
		}
	} else {
		anyOK = true
		snap.Nodes, snap.NodesOK = make([]model.Node, 0, len(nodes)), true
		seen := map[string]int{}
		running := 0
		for i := range nodes {
			n := &nodes[i]
			if n.Name == "" {
				continue
			}
			snap.Nodes = append(snap.Nodes, n.model())
			if n.Running {
				running++
				n.present(seen)
			}
		}
		res.nodes = len(snap.Nodes)
		for _, col := range mgmtNodeStatColumns {
			if running > 0 && seen[col] == 0 {
				snap.Unavailable = append(snap.Unavailable, "nodes."+col)
			}
		}
	}

	if res.notMonitor == nil && !skip {
		// /api/connections
		conns, err := mgmtFetchList[mgmtConn](ctx, p, "/api/connections", mgmtConnColumns, "name",
			func(c *mgmtConn) string { return c.Name })
		snap.Time = time.Now()
		switch {
		case ctx.Err() != nil:
			return res
		case err != nil && err.kind == mgmtErrChanged:
			res.listChanged(p, "/api/connections", true)
		case err != nil:
			res.listChanged(p, "/api/connections", false)
			fail(err)
			if res.aborted {
				return res
			}
		default:
			res.listChanged(p, "/api/connections", false)
			anyOK = true
			snap.Connections, snap.ConnectionsOK = make([]model.Connection, 0, len(conns)), true
			seen := map[string]int{}
			for i := range conns {
				c := &conns[i]
				c.present(seen)
				snap.Connections = append(snap.Connections, c.model())
			}
			// A column no connection has is one the broker does not report
			// (with no connections, only the overview can tell).
			for _, col := range mgmtConnStatColumns {
				if len(conns) > 0 && seen[col] == 0 || len(conns) == 0 && res.statsOff {
					snap.Unavailable = append(snap.Unavailable, "connections."+col)
					if col == "state" {
						res.statsOff = true
					}
				}
			}
		}

		// /api/channels. With statistics off the broker refuses the list.
		switch {
		case res.statsOff:
			snap.Unavailable = append(snap.Unavailable, "channels")
		case skip:
		default:
			chans, err := mgmtFetchList[mgmtChan](ctx, p, "/api/channels", mgmtChanColumns, "connection_details.name",
				func(c *mgmtChan) string { return c.ConnectionDetails.Name + "\x00" + strconv.Itoa(c.Number) })
			switch {
			case ctx.Err() != nil:
				return res
			case err != nil && err.kind == mgmtErrStatsDisabled:
				res.statsOff = true
				snap.Unavailable = append(snap.Unavailable, "channels")
			case err != nil && err.kind == mgmtErrChanged:
				res.listChanged(p, "/api/channels", true)
			case err != nil:
				res.listChanged(p, "/api/channels", false)
				fail(err)
				if res.aborted {
					return res
				}
			default:
				res.listChanged(p, "/api/channels", false)
				anyOK = true
				snap.Channels, snap.ChannelsOK = make([]model.Channel, 0, len(chans)), true
				for i := range chans {
					snap.Channels = append(snap.Channels, chans[i].model())
				}
			}
		}
	}
	if res.statsOff {
		for i := range snap.Connections {
			if snap.Connections[i].State == model.StateUnknown {
				snap.Connections[i].StatsMissing = true
			}
		}
	}
	if !anyOK {
		return res
	}
	if snap.Time.IsZero() {
		snap.Time = time.Now()
	}
	snap.Meta.Source = model.SourceManagement
	sort.Strings(snap.Unavailable)
	res.snap = snap
	return res
}

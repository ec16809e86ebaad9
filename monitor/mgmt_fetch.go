package monitor

// The fetch step: the four requests of a poll, one after the other, and
// what is still worth asking for after each.

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Columns asked for. See mgmt.go's comment for what the broker does with them.
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

// The lists and how their items are told apart.
var (
	mgmtConnList = mgmtListSpec[mgmtConn]{endpoint: "/api/connections", columns: mgmtConnColumns, sort: "name",
		key: func(c *mgmtConn) string { return c.Name }}
	mgmtChanList = mgmtListSpec[mgmtChan]{endpoint: "/api/channels", columns: mgmtChanColumns, sort: "connection_details.name",
		key: func(c *mgmtChan) string { return c.ConnectionDetails.Name + "\x00" + strconv.Itoa(c.Number) }}
)

// mgmtPart is one endpoint's reply in a poll: decoded (ok), or the error
// that kept it out; neither when it was not asked for.
type mgmtPart[T any] struct {
	v   T
	ok  bool
	err *mgmtError
}

func mgmtResult[T any](v T, err *mgmtError) mgmtPart[T] {
	if err != nil {
		return mgmtPart[T]{err: err}
	}
	return mgmtPart[T]{v: v, ok: true}
}

// mgmtGet fetches one of the small endpoints (overview, nodes).
func mgmtGet[T any](ctx context.Context, a *mgmtAPI, endpoint, columns string) mgmtPart[T] {
	var v T
	if err := a.getJSON(ctx, endpoint, url.Values{"columns": {columns}}, mgmtSmallLimit, &v, ""); err != nil {
		return mgmtPart[T]{err: err}
	}
	if nodes, ok := any(v).([]mgmtNode); ok {
		if err := mgmtCheckItems(endpoint, nodes); err != nil {
			return mgmtPart[T]{err: err}
		}
	}
	return mgmtPart[T]{v: v, ok: true}
}

func (p *mgmtPart[T]) asked() bool { return p.ok || p.err != nil }

// is reports whether the endpoint failed with an error of kind k.
func (p *mgmtPart[T]) is(k mgmtErrKind) bool { return p.err != nil && p.err.kind == k }

// mgmtReplies is what one poll fetched, in the wire shapes.
type mgmtReplies struct {
	overview   mgmtPart[mgmtOverview]
	nodes      mgmtPart[[]mgmtNode]
	conns      mgmtPart[[]mgmtConn]
	chans      mgmtPart[[]mgmtChan]
	connsAt    time.Time // when the connection list was read (zero: it was not asked for)
	connsPaged bool      // it came in more than one page
	aborted    bool      // a fatal error stopped the poll: the rest would fail the same way
}

// statsOff reports whether the broker does not collect statistics, as far
// as the replies tell: the overview says so, no connection listed has a
// state, or /api/channels was refused for it.
func (r *mgmtReplies) statsOff() bool {
	if r.overview.ok && r.overview.v.DisableStats {
		return true
	}
	if r.conns.ok && len(r.conns.v) > 0 {
		withState := false
		for i := range r.conns.v {
			if r.conns.v[i].State != "" {
				withState = true
				break
			}
		}
		if !withState {
			return true
		}
	}
	return r.chans.is(mgmtErrStatsDisabled)
}

// fetch asks for the endpoints one after the other. It stops at a fatal
// error (refused, credentials, not an API), asks for no list when the
// user sees only its own connections (they would be useless), for no
// channels when the broker collects no statistics (it refuses them), and
// for nothing more after two timeouts (the API does not answer). It
// returns early, with what it has, when ctx is done.
func (a *mgmtAPI) fetch(ctx context.Context) mgmtReplies {
	var r mgmtReplies
	timeouts := 0
	// goOn counts a request's failure and reports whether to go on.
	goOn := func(e *mgmtError) bool {
		if e == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		if e.kind == mgmtErrTimeout {
			timeouts++
		}
		if e.fatal {
			r.aborted = true
		}
		return !r.aborted
	}

	// /api/overview. Its failure alone does not stop the poll: on a
	// cluster with many queues it is the slowest endpoint.
	r.overview = mgmtGet[mgmtOverview](ctx, a, "/api/overview", mgmtOverviewColumns)
	if e := r.overview.err; e != nil && e.kind == mgmtErrNotFound {
		e.msg = "the management plugin is not enabled (404 on /api/overview)"
		e.advise(condMgmtNotFound, "rabbitmq-plugins enable rabbitmq_management; if it is enabled, check the URL (host, port, path prefix)")
		e.fatal = true
	}
	if !goOn(r.overview.err) {
		return r
	}

	// /api/nodes (at most one timeout before it). A user with only the
	// management tag is refused here, and sees only its own connections in
	// the lists.
	r.nodes = mgmtGet[[]mgmtNode](ctx, a, "/api/nodes", mgmtNodeColumns)
	if !goOn(r.nodes.err) || r.nodes.is(mgmtErrNotMonitor) || timeouts >= 2 {
		return r
	}

	conns, paged, err := mgmtFetchList(ctx, a, mgmtConnList)
	r.conns, r.connsAt, r.connsPaged = mgmtResult(conns, err), time.Now(), paged
	if !goOn(err) || timeouts >= 2 || r.statsOff() {
		return r
	}

	chans, _, err := mgmtFetchList(ctx, a, mgmtChanList)
	r.chans = mgmtResult(chans, err)
	goOn(err)
	return r
}

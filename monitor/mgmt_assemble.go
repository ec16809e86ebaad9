package monitor

// The assemble step: the snapshot from the replies of one poll, the
// columns the broker does not report, and what went wrong (which
// mgmt_status.go turns into the poller's status).

import (
	"errors"
	"sort"
	"time"

	"github.com/amqptop/amqptop/model"
)

// mgmtPoll is the outcome of one poll.
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

// err says why the poll is down (its failures, joined), or nil.
func (r *mgmtPoll) err() error {
	if !r.down() {
		return nil
	}
	if len(r.errs) == 0 { // cannot happen: nothing fetched and no error
		return errors.New("no reply")
	}
	errs := make([]error, len(r.errs))
	for i, e := range r.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// mgmtChurn counts, per list, the polls in a row in which the list kept
// changing while it was paged through.
type mgmtChurn map[string]int

// saw records whether a list kept changing in this poll, and reports
// whether that is to be reported: after mgmtChangedReport polls in a row.
func (c mgmtChurn) saw(endpoint string, changed bool) bool {
	if !changed {
		delete(c, endpoint)
		return false
	}
	c[endpoint]++
	return c[endpoint] >= mgmtChangedReport
}

// assemble turns the replies of a poll into its outcome. The snapshot is
// dated when the connection list was read (else now); churn is updated for
// the lists that were asked for.
func assemble(r *mgmtReplies, churn mgmtChurn, now time.Time) mgmtPoll {
	res := mgmtPoll{aborted: r.aborted, statsOff: r.statsOff()}
	snap := &model.MgmtSnapshot{}
	anyOK := false
	fail := func(e *mgmtError) { res.errs = append(res.errs, e) }

	switch ov := &r.overview; {
	case ov.ok:
		anyOK = true
		snap.Overview = ov.v.model()
		res.version = ov.v.RabbitVersion
	case ov.err != nil:
		fail(ov.err)
	}

	switch nodes := &r.nodes; {
	case nodes.ok:
		anyOK = true
		snap.Nodes, snap.NodesOK = mgmtNodes(nodes.v, &snap.Unavailable), true
		res.nodes = len(snap.Nodes)
	case nodes.is(mgmtErrNotMonitor):
		res.notMonitor = nodes.err
	case nodes.err != nil:
		fail(nodes.err)
	}

	switch conns := &r.conns; {
	case conns.ok:
		anyOK = true
		snap.Connections, snap.ConnectionsOK = mgmtConns(conns.v, res.statsOff, &snap.Unavailable), true
		snap.ConnectionsPaged = r.connsPaged
	case conns.is(mgmtErrChanged):
	case conns.err != nil:
		fail(conns.err)
	}
	if r.conns.asked() && churn.saw(mgmtConnList.endpoint, r.conns.is(mgmtErrChanged)) {
		res.changed = append(res.changed, mgmtConnList.endpoint)
	}

	switch chans := &r.chans; {
	case chans.ok:
		anyOK = true
		snap.Channels, snap.ChannelsOK = make([]model.Channel, 0, len(chans.v)), true
		for i := range chans.v {
			snap.Channels = append(snap.Channels, chans.v[i].model())
		}
	case chans.is(mgmtErrChanged), chans.is(mgmtErrStatsDisabled):
	case chans.err != nil:
		fail(chans.err)
	}
	if r.chans.asked() && churn.saw(mgmtChanList.endpoint, r.chans.is(mgmtErrChanged)) {
		res.changed = append(res.changed, mgmtChanList.endpoint)
	}
	// Without statistics the broker refuses the channel list (or it was
	// not asked for).
	if res.statsOff && r.conns.asked() {
		snap.Unavailable = append(snap.Unavailable, "channels")
	}

	if res.aborted || !anyOK {
		return res
	}
	if res.statsOff {
		for i := range snap.Connections {
			if snap.Connections[i].State == model.StateUnknown {
				snap.Connections[i].StatsMissing = true
			}
		}
	}
	snap.Time = r.connsAt
	if snap.Time.IsZero() {
		snap.Time = now
	}
	snap.Meta.Source = model.SourceManagement
	sort.Strings(snap.Unavailable)
	res.snap = snap
	return res
}

// mgmtNodes maps the node list, and adds to unavailable the columns no
// running node has.
func mgmtNodes(nodes []mgmtNode, unavailable *[]string) []model.Node {
	out := make([]model.Node, 0, len(nodes))
	seen := map[string]int{}
	running := 0
	for i := range nodes {
		n := &nodes[i]
		if n.Name == "" {
			continue
		}
		out = append(out, n.model())
		if n.Running {
			running++
			n.present(seen)
		}
	}
	for _, col := range mgmtNodeStatColumns {
		if running > 0 && seen[col] == 0 {
			*unavailable = append(*unavailable, "nodes."+col)
		}
	}
	return out
}

// mgmtConns maps the connection list, and adds to unavailable the columns
// no connection has: those the broker does not report (with no
// connections, only the overview can tell: statsOff).
func mgmtConns(conns []mgmtConn, statsOff bool, unavailable *[]string) []model.Connection {
	out := make([]model.Connection, 0, len(conns))
	seen := map[string]int{}
	for i := range conns {
		c := &conns[i]
		c.present(seen)
		out = append(out, c.model())
	}
	for _, col := range mgmtConnStatColumns {
		if len(conns) > 0 && seen[col] == 0 || len(conns) == 0 && statsOff {
			*unavailable = append(*unavailable, "connections."+col)
		}
	}
	return out
}

package monitor

// The poller's own health: what it reports, and when.

import (
	"strconv"
	"strings"
	"time"

	"github.com/amqptop/amqptop/model"
)

type mgmtStatus struct {
	health       model.Health
	detail, hint string
	key          string // what identifies the status for "has it changed" (detail without the varying parts)
}

func (p *Poller) status(res mgmtPoll, cur, took time.Duration) mgmtStatus {
	if res.down() {
		if len(res.errs) == 0 { // cannot happen: nothing fetched and no error
			return mgmtStatus{health: model.HealthDown, detail: "no reply", key: "no reply"}
		}
		e := res.errs[0]
		return mgmtStatus{health: model.HealthDown, detail: e.msg, hint: e.hint, key: e.msg}
	}
	var details, keys, hints []string
	add := func(detail, key, hint string) {
		details, keys = append(details, detail), append(keys, key)
		if hint != "" {
			hints = append(hints, hint)
		}
	}
	if len(res.errs) > 0 {
		e := res.errs[0]
		d := e.msg
		if len(res.errs) > 1 {
			var also []string
			for _, o := range res.errs[1:] {
				also = append(also, o.endpoint)
			}
			d += " (also failed: " + strings.Join(also, ", ") + ")"
		}
		add(d, d, e.hint)
	}
	if e := res.notMonitor; e != nil {
		d := "user " + strconv.Quote(p.cfg.User) + " lacks the 'monitoring' tag: /api/nodes refused it (" + e.status + ") and the API lists only its own connections and channels"
		add(d, d, mgmtMonitoringHint)
	}
	if res.statsOff {
		d := "statistics are disabled on the broker: connection state, heartbeat, client names, bytes, rates and channels are not reported"
		add(d, d, "the broker runs with management_agent.disable_metrics_collector = true (or management.disable_stats = true); amqptop still sees connections come and go")
	}
	for _, ep := range res.changed {
		d := ep + " changes faster than amqptop can page through it: it is skipped in some polls"
		add(d, d, "raise the page size (up to 500) or poll less often")
	}
	if cur > p.cfg.Interval {
		add("slow: poll took "+mgmtDur(took)+"; polling every "+mgmtDur(cur), "slow:"+cur.String(),
			"the management API answers slowly (a busy node or many connections); amqptop polls less often until it is fast again")
	}
	if len(details) > 0 {
		h := ""
		if len(hints) > 0 {
			h = hints[0]
		}
		return mgmtStatus{health: model.HealthDegraded, detail: strings.Join(details, "; "), hint: h, key: strings.Join(keys, "; ")}
	}
	d := "management API answers"
	if res.version != "" {
		d = "RabbitMQ " + res.version
	}
	if res.nodes == 1 {
		d += ", 1 node"
	} else if res.nodes > 1 {
		d += ", " + strconv.Itoa(res.nodes) + " nodes"
	}
	return mgmtStatus{health: model.HealthUp, detail: d, key: d}
}

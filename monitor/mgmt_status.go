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
	cond         string // the condition of the hint
	key          string // what identifies the status for "has it changed" (detail without the varying parts)
}

// status says how the API is doing after the poll res, which took took,
// polling every cur.
func (p *Poller) status(res mgmtPoll, cur, took time.Duration) mgmtStatus {
	if res.down() {
		if len(res.errs) == 0 { // cannot happen: nothing fetched and no error
			return mgmtStatus{health: model.HealthDown, detail: "no reply", key: "no reply"}
		}
		e := res.errs[0]
		return mgmtStatus{health: model.HealthDown, detail: e.msg, hint: e.hint, cond: e.cond, key: e.msg}
	}
	var details, keys []string
	var advices []advice
	add := func(detail, key string, a advice) {
		details, keys = append(details, detail), append(keys, key)
		if a.hint != "" {
			advices = append(advices, a)
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
		add(d, d, advice{e.cond, e.hint})
	}
	if e := res.notMonitor; e != nil {
		d := "user " + strconv.Quote(p.cfg.User) + " lacks the 'monitoring' tag: /api/nodes refused it (" + e.status + ") and the API lists only its own connections and channels"
		add(d, d, advice{condMgmtNotMonitoringUser, mgmtMonitoringHint})
	}
	if res.statsOff {
		d := "statistics are disabled on the broker: connection state, heartbeat, client names, bytes, rates and channels are not reported"
		add(d, d, advice{condStatsDisabled, "the broker runs with management_agent.disable_metrics_collector = true (or management.disable_stats = true); amqptop still sees connections come and go"})
	}
	for _, ep := range res.changed {
		d := ep + " changes faster than amqptop can page through it: it is skipped in some polls"
		add(d, d, advice{condMgmtListChanging, "raise the page size (up to 500) or poll less often"})
	}
	switch {
	case cur > p.pace.interval && took >= cur/4:
		add("slow: poll took "+mgmtDur(took)+"; polling every "+mgmtDur(cur), "slow:"+cur.String(), advice{condMgmtSlow,
			"the management API answers slowly (a busy node or many connections); amqptop polls less often until it is fast again"})
	case cur > p.pace.interval:
		// Fast again: the interval shrinks back a step per poll.
		add("polls were slow: polling every "+mgmtDur(cur)+" until back to "+mgmtDur(p.pace.interval)+" (the last took "+mgmtDur(took)+")",
			"recovering:"+cur.String(), advice{condMgmtSlow,
				"the management API answered slowly (a busy node or many connections); it is fast again, and amqptop polls more often step by step"})
	}
	if len(details) > 0 {
		var a advice
		if len(advices) > 0 {
			a = advices[0]
		}
		return mgmtStatus{health: model.HealthDegraded, detail: strings.Join(details, "; "), hint: a.hint, cond: a.cond, key: strings.Join(keys, "; ")}
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
	if v := p.api.tlsVer; v != 0 {
		d += ", over " + tlsVersion(v)
		if p.api.verifyOff {
			d += " without verifying the broker's certificate"
			return mgmtStatus{health: model.HealthUp, detail: d, key: d, hint: hintTLSVerifyOff, cond: condTLSVerifyOff}
		}
	}
	return mgmtStatus{health: model.HealthUp, detail: d, key: d}
}

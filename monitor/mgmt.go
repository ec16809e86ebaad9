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
//
// How it is built: one poll is three steps, each in a file of its own.
//   - fetch (mgmt_fetch.go, with mgmt_http.go and mgmt_paging.go): the
//     requests, one after the other, with the per-request timeout, paging,
//     and errors that name the endpoint and say what to do; it decides what
//     is still worth asking for (nothing after a fatal error, no lists for
//     a user who sees only its own connections, no channels without
//     statistics, nothing more after two timeouts).
//   - decode (mgmt_json.go): each reply's JSON into the wire shapes.
//   - assemble (mgmt_assemble.go, mgmt_status.go): the model.MgmtSnapshot
//     from the wire shapes, the columns the broker does not report, and the
//     poller's status.
// Run (this file) repeats them with the sources' one reconnect loop
// (reconnect.go): mgmtPace says how long to wait after a poll, its retry
// policy how long after a failed one.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
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
	mgmtMaxBackoff    = 60 * time.Second       // failures and slow polls never wait longer (unless Interval is longer)
	mgmtSlowFloor     = 500 * time.Millisecond // a poll this fast is not slow, whatever the interval (a busy amqptop host is not a slow broker)
	mgmtListLimit     = 256 << 20              // one reply (one page of a list)
	mgmtSmallLimit    = 16 << 20               // overview, nodes
	mgmtErrBodyLimit  = 4 << 10                // the body of an error reply
	mgmtErrLineLimit  = 200                    // characters of an error body quoted in a status
	mgmtMaxPages      = 100000                 // a broker that keeps saying "more pages"
	mgmtChangedReport = 3                      // consecutive polls a list changed while paging before it is reported
)

// MgmtConfig configures the management poller.
type MgmtConfig struct {
	URL      string        // base URL, e.g. http://127.0.0.1:15672 (https allowed); no credentials in it (if it has some, they are used when User is empty, and dropped from the URL)
	User     string        // needs the 'monitoring' tag to see every connection
	Password string        // never printed, logged or put in an error/observation
	Interval time.Duration // default 5s
	Timeout  time.Duration // per request, default 10s
	PageSize int           // default 500 (the API's max)
	Client   *http.Client  // optional (tests); default: one with sane transport timeouts and TLS
	// TLS is for https:// (nil: verify against the system's roots); it is
	// not used with Client. See TLSFiles.
	TLS *tls.Config
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
	cfg    MgmtConfig
	api    *mgmtAPI // the fetch step: endpoint, credentials, HTTP
	pace   mgmtPace // when to poll (its fields are test hooks)
	urlErr error    // the configuration cannot work: Run reports it and returns

	running atomic.Bool

	// State kept across polls by Run's goroutine.
	churn mgmtChurn
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
		api:   &mgmtAPI{hc: c.Client, timeout: c.Timeout, pageSize: c.PageSize},
		pace:  mgmtPace{interval: c.Interval, max: max(mgmtMaxBackoff, c.Interval), slowFloor: mgmtSlowFloor},
		churn: mgmtChurn{},
	}
	p.api.tlsInfo = &dialInfo{tls: true}
	if p.api.hc == nil {
		p.api.hc = defaultMgmtClient(c.TLS, p.api.tlsInfo)
	}
	p.api.verifyOff = c.TLS != nil && c.TLS.InsecureSkipVerify && strings.HasPrefix(strings.ToLower(strings.TrimSpace(c.URL)), "https:")
	base, user, pass, err := parseMgmtURL(c.URL)
	if err != nil {
		p.urlErr = err
	} else {
		if c.User == "" && user != "" {
			c.User, c.Password = user, pass
		}
		if u, _ := url.Parse(base); u != nil {
			p.api.hostport = u.Host
			if u.Port() == "" {
				p.api.hostport = net.JoinHostPort(u.Hostname(), map[string]string{"http": "80", "https": "443"}[u.Scheme])
			}
		}
		// rabbit-hole keeps the endpoint and the credentials; the requests
		// are ours (it cannot ask for columns or take a context).
		p.api.rh, err = rabbithole.NewClient(base, c.User, c.Password)
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

// defaultMgmtClient returns the poller's HTTP client: TLS with cfg, the
// client certificate's requests noted in info (the poller makes one
// request at a time).
func defaultMgmtClient(cfg *tls.Config, info *dialInfo) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:       clientTLS(cfg, "", info),
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
	// The transport's idle keep-alive connections (and their reader and
	// writer goroutines) end with the run, not when the server drops them.
	defer p.api.hc.CloseIdleConnections()
	if p.urlErr != nil {
		emit(model.SourceStatus{Meta: mgmtMeta(time.Now()), Of: model.SourceManagement, Health: model.HealthDown,
			Detail: p.urlErr.Error(), Hint: "give the management API's base URL, e.g. http://127.0.0.1:15672",
			Condition: condMgmtURLInvalid})
		return p.urlErr
	}
	cur := p.pace.interval // the polling interval, stretched while the API is slow
	var took time.Duration // how long the last poll took
	var last *mgmtStatus   // the last status emitted
	// One poll per session: it emits its status (when it changed), then
	// its snapshot, and got through (resetting the backoff) unless it is
	// down: nothing fetched, or a fatal error.
	reconnect(ctx, p.pace.retry(),
		func(int) (bool, error) {
			start := time.Now()
			res := p.poll(ctx)
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			took = time.Since(start)
			if !res.down() {
				cur = p.pace.next(cur, took)
			}
			st := p.status(res, cur, took)
			if last == nil || st.health != last.health || st.key != last.key {
				emit(model.SourceStatus{Meta: mgmtMeta(time.Now()), Of: model.SourceManagement,
					Health: st.health, Detail: st.detail, Hint: st.hint, Condition: st.cond})
				last = &st
			}
			if res.snap != nil {
				emit(*res.snap)
			}
			return !res.down(), res.err()
		},
		func(_ int, delay time.Duration, err error) time.Duration {
			if err != nil {
				return delay // backed off, or retried soon when nothing listens
			}
			return p.pace.wait(cur, took)
		})
	return nil
}

// poll fetches, decodes and assembles one snapshot.
func (p *Poller) poll(ctx context.Context) mgmtPoll {
	r := p.api.fetch(ctx)
	return assemble(&r, p.churn, time.Now())
}

func mgmtMeta(t time.Time) model.Meta { return model.Meta{Time: t, Source: model.SourceManagement} }

// mgmtPace says when the poller polls: every interval, stretched while
// the API is slow, and after a failed poll as its retry policy says.
type mgmtPace struct {
	interval  time.Duration // the configured interval
	max       time.Duration // the longest wait between polls, stretched or backing off
	slowFloor time.Duration // a poll faster than this is never slow
}

// retry is the policy after failed polls: the interval doubled per
// failure, capped at max, minus up to 20% of jitter; a refused connection
// is retried at least every refusedRetry.
func (pc mgmtPace) retry() retryPolicy {
	return retryPolicy{min: pc.interval, max: pc.max, below: true, refused: refusedRetry}
}

// next is the interval after a poll that took took at the interval cur:
// stretched when the poll took more than half of it (to twice the poll's
// duration), shrunk back, halving, when polls take less than a quarter of
// it.
func (pc mgmtPace) next(cur, took time.Duration) time.Duration {
	switch {
	case took > cur/2 && took >= pc.slowFloor:
		cur = max(cur, min(mgmtRoundUp(2*took), pc.max))
	case took < cur/4 && cur > pc.interval:
		cur = max(pc.interval, mgmtRoundUp(cur/2))
	}
	return cur
}

// wait is the pause after a poll that took took, at the interval cur:
// the rest of the interval, and at least a quarter of it (polls never
// overlap, and a slow API gets time to breathe).
func (pc mgmtPace) wait(cur, took time.Duration) time.Duration { return max(cur-took, cur/4) }

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

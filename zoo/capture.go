package zoo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/amqptop/amqptop/testbroker"
)

// CaptureOptions configures [Capture].
type CaptureOptions struct {
	// Broker selects the RabbitMQ installation: "" or "3" (the host's
	// 3.10.8) or "4" (RabbitMQ 4.0.5, see testbroker.Options.Broker).
	Broker string
	// Libs limits the capture to these library ids; nil means all.
	Libs []string
	// Faults limits the capture to these fault ids; nil means all.
	Faults []string
	// Parallel is how many libraries run their (non-disruptive) faults at
	// the same time on the main node; 0 means 3.
	Parallel int
	// ZooDir is the zoo's source directory; "" means [DefaultZooDir].
	ZooDir string
	// Logf, if set, is told what the capture is doing.
	Logf func(format string, args ...any)
}

// Capture starts private nodes (one for the faults that leave the node
// alone, one for the disruptive ones: stop_app, kill -9, pause), prepares
// them, runs every selected client library against every selected fault
// and returns the records, sorted by library then fault, with the broker
// log entries of each fault's window.
//
// A library that is not installed makes Capture fail with an error
// wrapping [ErrClientUnavailable] before any node is started; a node that
// cannot start makes it fail with testbroker's error.
func Capture(ctx context.Context, opt CaptureOptions) ([]Record, error) {
	c := &capturer{opt: opt}
	if c.opt.ZooDir == "" {
		c.opt.ZooDir = DefaultZooDir()
	}
	if c.opt.Parallel <= 0 {
		c.opt.Parallel = 3
	}
	if c.opt.Logf == nil {
		c.opt.Logf = func(string, ...any) {}
	}
	if !brokerSupported(opt.Broker) {
		return nil, fmt.Errorf("zoo: broker %q is not supported by this testbroker package yet", opt.Broker)
	}
	if err := c.selectWork(); err != nil {
		return nil, err
	}
	buildDir, err := os.MkdirTemp("", "amqptop-zoo-build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(buildDir)
	if err := c.prepareLibs(ctx, buildDir); err != nil {
		return nil, err
	}
	ports, err := testbroker.FreePorts(1)
	if err != nil {
		return nil, err
	}
	c.closedPort = ports[0]

	var mainFaults, disFaults []Fault
	for _, f := range c.faults {
		if f.Disruptive {
			disFaults = append(disFaults, f)
		} else {
			mainFaults = append(mainFaults, f)
		}
	}
	var wg sync.WaitGroup
	var errMain, errDis error
	var recMain, recDis []Record
	if len(mainFaults) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recMain, errMain = c.runMain(ctx, mainFaults)
		}()
	}
	if len(disFaults) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recDis, errDis = c.runDisruptive(ctx, disFaults)
		}()
	}
	wg.Wait()
	recs := append(recMain, recDis...)
	SortRecords(recs)
	return recs, errors.Join(errMain, errDis)
}

type capturer struct {
	opt        CaptureOptions
	libs       []Library
	faults     []Fault
	argv       map[string][]string // library id -> client command line
	closedPort int
}

func (c *capturer) selectWork() error {
	if len(c.opt.Libs) == 0 {
		c.libs = Libraries
	} else {
		for _, id := range c.opt.Libs {
			l, ok := LibraryByID(strings.TrimSpace(id))
			if !ok {
				return fmt.Errorf("zoo: unknown library %q", id)
			}
			c.libs = append(c.libs, l)
		}
	}
	if len(c.opt.Faults) == 0 {
		c.faults = Faults
	} else {
		want := map[string]bool{}
		for _, id := range c.opt.Faults {
			if _, ok := FaultByID(strings.TrimSpace(id)); !ok {
				return fmt.Errorf("zoo: unknown fault %q", id)
			}
			want[strings.TrimSpace(id)] = true
		}
		for _, f := range Faults {
			if want[f.ID] {
				c.faults = append(c.faults, f)
			}
		}
	}
	return nil
}

func (c *capturer) prepareLibs(ctx context.Context, buildDir string) error {
	c.argv = map[string][]string{}
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, l := range c.libs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			argv, err := l.prepare(ctx, c.opt.ZooDir, buildDir)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if !errors.Is(err, ErrClientUnavailable) {
					err = fmt.Errorf("zoo: preparing %s: %w", l.ID, err)
				}
				errs = append(errs, err)
				return
			}
			c.argv[l.ID] = argv
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (c *capturer) startNode(ctx context.Context, role string) (*node, func(), error) {
	t0 := time.Now()
	n, err := startNode(ctx, c.opt.Broker, role, c.libs)
	if err != nil {
		return nil, nil, err
	}
	c.opt.Logf("zoo: %s node %s (RabbitMQ %s) up in %s", role, n.Name, n.version, time.Since(t0).Round(time.Millisecond))
	release, err := n.setup(ctx, c.libs)
	if err != nil {
		_ = n.Stop()
		return nil, nil, err
	}
	return n, func() { release(); _ = n.Stop() }, nil
}

// runMain runs the non-disruptive faults: each library runs its faults one
// after the other, up to Parallel libraries at a time.
func (c *capturer) runMain(ctx context.Context, faults []Fault) ([]Record, error) {
	n, stop, err := c.startNode(ctx, "main")
	if err != nil {
		return nil, err
	}
	defer stop()
	var mu sync.Mutex
	var windows []*window
	sem := make(chan struct{}, c.opt.Parallel)
	var wg sync.WaitGroup
	for _, l := range c.libs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var prev *window
			for _, f := range faults {
				if ctx.Err() != nil {
					return
				}
				w := c.runOne(ctx, n, l, f)
				if prev != nil && prev.end.After(w.start) {
					prev.end = w.start
				}
				prev = w
				mu.Lock()
				windows = append(windows, w)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return c.finish(n, windows)
}

// finish waits for the broker to write its log, attributes the entries
// to the windows and returns the records.
func (c *capturer) finish(n *node, windows []*window) ([]Record, error) {
	time.Sleep(2 * time.Second) // the broker's file logger writes with a delay
	entries, err := readLog(n.LogFile())
	if err != nil {
		return nil, fmt.Errorf("zoo: reading %s: %w", n.LogFile(), err)
	}
	assignLog(entries, windows)
	var recs []Record
	for _, w := range windows {
		recs = append(recs, *w.rec)
	}
	return recs, nil
}

// runOne runs lib's client for one non-disruptive fault and returns its
// window (with the record, log not yet assigned).
func (c *capturer) runOne(ctx context.Context, n *node, l Library, f Fault) *window {
	r := newRun(l.ID, f, envFor(n, l.ID, f, c.closedPort), c.argv[l.ID])
	_ = r.startRun(ctx, c.opt.ZooDir)
	select {
	case <-r.ready:
	case <-r.done:
	}
	var actErr error
	select {
	case <-r.done:
	default:
		if f.Action != ActNone {
			actErr = c.act(ctx, n, f, []*clientRun{r})
		}
	}
	<-r.done
	end := time.Now()
	rec := r.record(n.version)
	if actErr != nil {
		rec.Note = strings.TrimPrefix(rec.Note+"; zoo: driver action failed: "+actErr.Error(), "; ")
	}
	c.opt.Logf("zoo: %-11s %-22s %6s  %s", l.ID, f.ID, end.Sub(r.start).Round(100*time.Millisecond), summary(rec))
	return &window{rec: &rec, port: n.ports[l.ID], start: r.start, end: end.Add(3 * time.Second), nodeWide: f.Disruptive}
}

func summary(r Record) string {
	s := r.Text
	if r.Skipped != "" {
		s = "skipped: " + r.Skipped
	} else if s == "" {
		s = "(no text) " + r.Note
	}
	s = strings.ReplaceAll(s, "\n", " | ")
	if len(s) > 150 {
		s = s[:150] + "…"
	}
	return s
}

// act does the driver's part of a fault for the given (ready) runs.
func (c *capturer) act(ctx context.Context, n *node, f Fault, runs []*clientRun) error {
	switch f.Action {
	case ActForceClose:
		var errs []error
		for _, r := range runs {
			errs = append(errs, c.forceClose(ctx, n, n.ports[r.lib]))
		}
		return errors.Join(errs...)
	case ActPauseClient:
		var errs []error
		for _, r := range runs {
			errs = append(errs, r.signal(syscall.SIGSTOP))
		}
		sleepCtx(ctx, PauseFor)
		for _, r := range runs {
			_ = r.signal(syscall.SIGCONT)
		}
		return errors.Join(errs...)
	case ActPauseNode:
		if err := n.pause(); err != nil {
			return err
		}
		sleepCtx(ctx, PauseFor)
		return n.resume()
	case ActStopApp:
		if err := n.StopApp(ctx); err != nil {
			return err
		}
		waitRuns(runs, 20*time.Second)
		return n.StartApp(ctx)
	case ActKillNode:
		if err := n.Kill(); err != nil {
			return err
		}
		waitRuns(runs, 20*time.Second)
		return n.Restart(ctx)
	}
	return nil
}

// forceClose closes, through the management API, the connections to the
// given listener port (waiting up to 10 s for one to show up).
func (c *capturer) forceClose(ctx context.Context, n *node, port int) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		conns, err := n.connsOn(ctx, port)
		if err == nil && len(conns) > 0 {
			hdr := http.Header{"X-Reason": {forceCloseReason}}
			var errs []error
			for _, cn := range conns {
				errs = append(errs, n.mgmt(ctx, http.MethodDelete, "/api/connections/"+url.PathEscape(cn.Name), hdr, nil, nil))
			}
			return errors.Join(errs...)
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("no connection on port %d", port)
			}
			return err
		}
		sleepCtx(ctx, 250*time.Millisecond)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// waitRuns waits until all runs ended or d passed.
func waitRuns(runs []*clientRun, d time.Duration) {
	deadline := time.After(d)
	for _, r := range runs {
		select {
		case <-r.done:
		case <-deadline:
			return
		}
	}
}

// runDisruptive runs each disruptive fault once for all libraries at the
// same time: every client connects and prints READY, the driver acts
// once (stop_app, kill -9, pause) and collects every client's result.
func (c *capturer) runDisruptive(ctx context.Context, faults []Fault) ([]Record, error) {
	n, stop, err := c.startNode(ctx, "disruptive")
	if err != nil {
		return nil, err
	}
	defer stop()
	var windows []*window
	for _, f := range faults {
		if ctx.Err() != nil {
			break
		}
		var runs []*clientRun
		for _, l := range c.libs {
			r := newRun(l.ID, f, envFor(n, l.ID, f, c.closedPort), c.argv[l.ID])
			_ = r.startRun(ctx, c.opt.ZooDir)
			runs = append(runs, r)
		}
		readyBy := time.After(60 * time.Second)
		for _, r := range runs {
			select {
			case <-r.ready:
			case <-r.done:
			case <-readyBy:
			}
		}
		var live []*clientRun
		for _, r := range runs {
			select {
			case <-r.done:
			default:
				live = append(live, r)
			}
		}
		actStart := time.Now()
		actErr := c.act(ctx, n, f, live)
		c.opt.Logf("zoo: disruptive %s: acted on %d clients in %s (err %v)", f.ID, len(live), time.Since(actStart).Round(100*time.Millisecond), actErr)
		for _, r := range runs {
			<-r.done
		}
		end := time.Now()
		for _, r := range runs {
			rec := r.record(n.version)
			if actErr != nil {
				rec.Note = strings.TrimPrefix(rec.Note+"; zoo: driver action failed: "+actErr.Error(), "; ")
			}
			c.opt.Logf("zoo: %-11s %-22s %6s  %s", r.lib, f.ID, r.end.Sub(r.start).Round(100*time.Millisecond), summary(rec))
			windows = append(windows, &window{rec: &rec, port: n.ports[r.lib], start: r.start, end: end.Add(2 * time.Second), nodeWide: true})
		}
		// Let the node settle (connections closed, listeners back) before
		// the next fault.
		sleepCtx(ctx, 3*time.Second)
	}
	sort.SliceStable(windows, func(i, j int) bool { return windows[i].start.Before(windows[j].start) })
	return c.finish(n, windows)
}

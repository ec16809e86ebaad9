// Command scale measures what amqptop costs a broker, and how fast it
// shows it, at N live connections: it starts a private node (testbroker),
// opens N connections with the load generator (2 channels, a consumer and
// light traffic each), measures the broker's CPU alone, then with
// amqptop's sources running (management poller, probe, event and log
// subscribers, into the same state the dashboard uses), the broker time
// each management poll takes, how long until every connection is listed,
// and, after every socket is reset at once, how long until the last close
// is shown. make measure-scale runs it for several N; the README keeps the
// table with the machine it ran on.
//
//	scale -n 500,2000 -window 20s
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/amqptop/amqptop/causes"
	"github.com/amqptop/amqptop/faults"
	"github.com/amqptop/amqptop/model"
	"github.com/amqptop/amqptop/monitor"
	"github.com/amqptop/amqptop/testbroker"
)

func main() {
	ns := flag.String("n", "500", "connection counts, comma separated")
	window := flag.Duration("window", 20*time.Second, "how long each CPU figure is measured")
	flag.Parse()
	fmt.Printf("machine: %d cores, %s/%s, %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Println("| connections | broker CPU alone → with amqptop | broker time per poll (median, max) | all listed after start | mass kill: last close shown | amqptop heap |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, f := range strings.Split(*ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			fmt.Fprintln(os.Stderr, "scale: -n takes connection counts:", f)
			os.Exit(2)
		}
		row, err := measure(n, *window)
		if err != nil {
			fmt.Fprintln(os.Stderr, "scale:", err)
			os.Exit(1)
		}
		fmt.Println(row)
	}
}

// timedTransport adds up how long the management API took to answer.
type timedTransport struct {
	mu    sync.Mutex
	spent time.Duration
	base  http.RoundTripper
}

func (t *timedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.base.RoundTrip(r)
	t.mu.Lock()
	t.spent += time.Since(start)
	t.mu.Unlock()
	return resp, err
}

func (t *timedTransport) take() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.spent
	t.spent = 0
	return d
}

// cpuTicks is the process's user+system time in clock ticks (/proc/PID/stat).
func cpuTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return u + k, nil
}

// cpuShare is the share of one core the process used over d.
func cpuShare(pid int, d time.Duration) (float64, error) {
	a, err := cpuTicks(pid)
	if err != nil {
		return 0, err
	}
	time.Sleep(d)
	b, err := cpuTicks(pid)
	if err != nil {
		return 0, err
	}
	const hz = 100 // USER_HZ on Linux
	return float64(b-a) / hz / d.Seconds() * 100, nil
}

func measure(n int, window time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	node, err := testbroker.Start(ctx, testbroker.Options{Name: "amqptop-scale"})
	if err != nil {
		return "", err
	}
	defer node.Stop()
	load, err := faults.StartLoad(ctx, faults.LoadOptions{URL: node.AMQPURL(), Conns: n, Name: "scale"})
	if err != nil {
		return "", err
	}
	killed := false
	defer func() {
		if !killed {
			load.Close()
		}
	}()
	time.Sleep(10 * time.Second) // the broker's stats of the new connections come in
	alone, err := cpuShare(node.PID(), window)
	if err != nil {
		return "", err
	}

	// amqptop's sources into a state, as the dashboard runs them.
	tt := &timedTransport{base: http.DefaultTransport}
	feeds, _, err := monitor.Feeds(monitor.Config{URL: node.AMQPURL(), MgmtURL: node.MgmtURL(), Host: "scale"})
	if err != nil {
		return "", err
	}
	for i, f := range feeds {
		if _, ok := f.(*monitor.Poller); ok {
			feeds[i] = monitor.NewPoller(monitor.MgmtConfig{URL: node.MgmtURL(), User: "guest", Password: "guest",
				Client: &http.Client{Transport: tt}})
		}
	}
	st := model.New(model.Options{Diagnoser: causes.Default(), MaxClosed: n + 100})
	var mu sync.Mutex
	var polls []time.Duration
	listedAt := time.Duration(0)
	start := time.Now()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	obs := make(chan model.Observation, 4096)
	for _, f := range feeds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.Run(runCtx, func(o model.Observation) {
				select {
				case obs <- o:
				case <-runCtx.Done():
				}
			})
		}()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for o := range obs {
			mu.Lock()
			st.Apply(o)
			if _, ok := o.(model.MgmtSnapshot); ok {
				polls = append(polls, tt.take())
				if listedAt == 0 && loadListed(st) >= n {
					listedAt = time.Since(start)
				}
			}
			mu.Unlock()
		}
	}()
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	wg.Add(1)
	go func() { // the state's clock, as the live command runs it
		defer wg.Done()
		for {
			select {
			case <-runCtx.Done():
				return
			case t := <-ticker.C:
				select {
				case obs <- model.Tick{Meta: model.Meta{Time: t}}:
				case <-runCtx.Done():
					return
				}
			}
		}
	}()
	with, err := cpuShare(node.PID(), window)
	if err != nil {
		return "", err
	}
	for end := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		mu.Lock()
		ok := listedAt != 0
		mu.Unlock()
		if ok || time.Now().After(end) {
			break
		}
	}

	// Every socket reset at once: how long until the last close is shown.
	mu.Lock()
	before := st.ClosedCount()
	mu.Unlock()
	killAt := time.Now()
	load.Kill()
	killed = true
	var lastClose time.Duration
	for end := time.Now().Add(3 * time.Minute); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		mu.Lock()
		c := st.ClosedCount() - before
		mu.Unlock()
		if c >= n {
			lastClose = time.Since(killAt)
			break
		}
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	stop()
	wg.Wait()
	close(obs)
	<-done

	mu.Lock()
	defer mu.Unlock()
	sort.Slice(polls, func(i, j int) bool { return polls[i] < polls[j] })
	pollFig := "no poll"
	if len(polls) > 0 {
		pollFig = fmt.Sprintf("%v, %v (%d polls)", polls[len(polls)/2].Round(time.Millisecond), polls[len(polls)-1].Round(time.Millisecond), len(polls))
	}
	listed, closeFig := "not within 2 min", "not within 3 min"
	if listedAt > 0 {
		listed = listedAt.Round(100 * time.Millisecond).String()
	}
	if lastClose > 0 {
		closeFig = lastClose.Round(100 * time.Millisecond).String()
	}
	return fmt.Sprintf("| %d | %.0f %% → %.0f %% of a core | %s | %s | %s | %d MB |", n, alone, with, pollFig, listed, closeFig, ms.HeapAlloc>>20), nil
}

// loadListed counts the load's connections the state lists as open.
func loadListed(st *model.State) int {
	n := 0
	for _, c := range st.Conns() {
		if !c.Closed && c.Listed && strings.HasPrefix(c.Client, "scale-") {
			n++
		}
	}
	return n
}

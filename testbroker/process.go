package testbroker

// The node's OS process: launching it, waiting until it answers, stopping it.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// launchAndWait starts the OS process and waits until the node is ready.
func (n *Node) launchAndWait(ctx context.Context) error {
	if err := n.launch(); err != nil {
		return err
	}
	if err := n.waitReady(ctx, true); err != nil {
		return err
	}
	return nil
}

// stdoutFile is where rabbitmq-server's own stdout/stderr go (boot errors
// printed before logging is set up end up here).
func (n *Node) stdoutFile() string { return filepath.Join(n.Dir, "stdout.log") }

func (n *Node) launch() error {
	out, err := os.OpenFile(n.stdoutFile(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("testbroker: %w", err)
	}
	defer out.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return fmt.Errorf("testbroker: %w", err)
	}
	defer devnull.Close()
	_ = os.Remove(n.pidFile())

	sys := sysProcAttr()
	// For a chroot node the kernel does chroot(2) in the forked child just
	// before exec, so the process we fork (and that carries Pdeathsig)
	// becomes rabbitmq-server and, as every script on the way execs, the
	// beam.smp process itself.
	sys.Chroot = n.root
	attr := &os.ProcAttr{
		Dir:   n.inside(n.Dir),
		Env:   n.env,
		Files: []*os.File{devnull, out, out},
		Sys:   sys,
	}
	argv := []string{filepath.Join(n.sbin, "rabbitmq-server")}
	var proc *os.Process
	err = n.inChroot(func() error {
		var err error
		proc, err = startOnLauncher(argv, attr)
		return err
	})
	if err != nil {
		return fmt.Errorf("testbroker: starting %s: %w", argv[0], err)
	}
	done := make(chan struct{})
	n.mu.Lock()
	n.proc, n.done, n.paused = proc, done, false
	n.mu.Unlock()
	go func() {
		_, _ = proc.Wait()
		close(done)
	}()
	return nil
}

// The parent-death signal is delivered when the *thread* that forked the
// child exits, so children are forked from one goroutine locked to an OS
// thread that never exits.
var (
	launcherOnce sync.Once
	launcherCh   chan launchReq
)

type launchReq struct {
	argv  []string
	attr  *os.ProcAttr
	reply chan launchResp
}

type launchResp struct {
	p   *os.Process
	err error
}

func startOnLauncher(argv []string, attr *os.ProcAttr) (*os.Process, error) {
	launcherOnce.Do(func() {
		launcherCh = make(chan launchReq)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for r := range launcherCh {
				p, err := os.StartProcess(r.argv[0], r.argv, r.attr)
				r.reply <- launchResp{p, err}
			}
		}()
	})
	reply := make(chan launchResp, 1)
	launcherCh <- launchReq{argv, attr, reply}
	r := <-reply
	return r.p, r.err
}

func (n *Node) pidFile() string {
	short, _, _ := strings.Cut(n.Name, "@")
	return filepath.Join(n.Dir, short+".pid")
}

// exited reports whether the node's OS process has exited.
func (n *Node) exited() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.exitedLocked()
}

// exitedLocked is exited with n.mu held.
func (n *Node) exitedLocked() bool {
	if n.done == nil {
		return true
	}
	select {
	case <-n.done:
		return true
	default:
		return false
	}
}

// waitReady polls until AMQP and management answer (and, with ctl, until
// rabbitmqctl await_startup succeeds). On failure the error carries the
// log tail.
func (n *Node) waitReady(ctx context.Context, ctl bool) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var last error
	for {
		if n.exited() {
			return n.failure("node process exited during startup", nil)
		}
		last = n.ping(ctx)
		if last == nil {
			break
		}
		select {
		case <-ctx.Done():
			return n.failure("node did not become ready", fmt.Errorf("%v (last check: %v)", ctx.Err(), last))
		case <-time.After(250 * time.Millisecond):
		}
	}
	if ctl {
		if _, err := n.Ctl(ctx, "await_startup", "--timeout", "60"); err != nil {
			return n.failure("rabbitmqctl cannot reach the node", err)
		}
	}
	return nil
}

// ping checks that the AMQP port accepts TCP connections and that the
// management API answers /api/overview as this node.
func (n *Node) ping(ctx context.Context) error {
	d := net.Dialer{Timeout: 2 * time.Second}
	c, err := d.DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", n.AMQPPort))
	if err != nil {
		return err
	}
	c.Close()
	for _, port := range []int{n.TLSPort, n.MgmtTLSPort} {
		if port == 0 {
			continue
		}
		c, err := d.DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return fmt.Errorf("TLS listener: %w", err)
		}
		c.Close()
	}
	var ov struct {
		Node            string `json:"node"`
		RabbitMQVersion string `json:"rabbitmq_version"`
	}
	if err := n.getJSON(ctx, "/api/overview", &ov); err != nil {
		return err
	}
	if ov.Node != n.Name {
		return fmt.Errorf("management on port %d answers for node %q, want %q", n.MgmtPort, ov.Node, n.Name)
	}
	if ov.RabbitMQVersion != n.Version { // written once: it never changes for a node
		n.Version = ov.RabbitMQVersion
	}
	// amq.rabbitmq.log is declared by a helper that retries every 5 s, so
	// it can appear a few seconds after the listeners.
	for _, x := range n.exchanges {
		if err := n.getJSON(ctx, "/api/exchanges/%2F/"+x, nil); err != nil {
			return err
		}
	}
	return nil
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// getJSON GETs path from the management API as guest:guest and decodes
// the JSON answer into v.
func (n *Node) getJSON(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.MgmtURL()+path, nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth("guest", "guest")
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, bytes.TrimSpace(body))
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(body, v)
}

// failure builds an error carrying the tail of the node's logs.
func (n *Node) failure(msg string, err error) error {
	var b strings.Builder
	fmt.Fprintf(&b, "testbroker: node %s: %s", n.Name, msg)
	if err != nil {
		fmt.Fprintf(&b, ": %v", err)
	}
	// Boot errors printed before logging is set up (e.g. a bad config key)
	// only reach the node's stdout.
	if why := bootFailure(n.stdoutFile()); why != "" {
		fmt.Fprintf(&b, "\n--- boot failure reported in %s ---\n%s", n.stdoutFile(), why)
	}
	for _, f := range []string{n.stdoutFile(), n.LogFile()} {
		if t := tail(f, 30); t != "" {
			fmt.Fprintf(&b, "\n--- tail of %s ---\n%s", f, t)
		}
	}
	return errors.New(b.String())
}

// tail returns the last lines of a file ("" if unreadable or empty).
func tail(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(data) > 64<<10 {
		data = data[len(data)-64<<10:]
	}
	s := strings.TrimRight(string(data), "\n")
	parts := strings.Split(s, "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

// bootFailure returns the lines printed before the first "BOOT FAILED"
// (where RabbitMQ explains e.g. a bad config key), or "".
func bootFailure(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	i := bytes.Index(data, []byte("BOOT FAILED"))
	if i < 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data[:i]), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

// Stop stops the node (rabbitmqctl -n <node> stop, then SIGKILL of the OS
// process if it is still there after a timeout) and removes the temporary
// directory if Start created one. It is safe to call more than once.
func (n *Node) Stop() error {
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		return nil
	}
	n.stopped = true
	n.mu.Unlock()
	err := n.stopProcess()
	n.removeTemp()
	if n.root != "" {
		unmountProcIfIdle(n.root, n.Name)
	}
	return err
}

// stopProcess stops the node's OS process, leaving its files alone.
func (n *Node) stopProcess() error {
	n.mu.Lock()
	done := n.done
	n.mu.Unlock()
	var err error
	if done == nil {
		return nil // never launched
	}
	n.resume() // a paused node cannot answer rabbitmqctl stop
	if !n.exited() {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		_, err = n.Ctl(ctx, "stop")
		cancel()
		grace := 30 * time.Second
		if err != nil {
			grace = 2 * time.Second // rabbitmqctl could not reach it: do not wait long
		}
		select {
		case <-done:
		case <-time.After(grace):
			n.signal(syscall.SIGKILL)
			<-done
		}
		if err != nil && n.exited() {
			err = nil // it is gone, which is what we wanted
		}
	}
	return err
}

func (n *Node) removeTemp() {
	if n.tempDir != "" {
		_ = os.RemoveAll(n.tempDir)
	}
}

// readPid returns the pid RabbitMQ wrote to its pid file, or 0.
func (n *Node) readPid() int {
	b, err := os.ReadFile(n.pidFile())
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

func processAlive(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

// signal sends sig to our child and to the beam pid from the pid file
// (normally the same process).
func (n *Node) signal(sig syscall.Signal) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc != nil && !n.exitedLocked() {
		_ = n.signalLocked(sig)
	}
}

// signalLocked sends sig to our child (through os.Process, which cannot hit
// a reused pid) and, if different and alive, to the beam pid from the pid
// file. n.mu is held and n.proc is set.
func (n *Node) signalLocked(sig syscall.Signal) error {
	err := n.proc.Signal(sig)
	if pid := n.readPid(); pid > 0 && pid != n.proc.Pid && processAlive(pid) {
		_ = syscall.Kill(pid, sig)
	}
	return err
}

// pidsLocked returns our child's pid and, if different and alive, the beam
// pid from the pid file (with n.mu held and the child not yet reaped).
func (n *Node) pidsLocked() []int {
	pids := []int{n.proc.Pid}
	if pid := n.readPid(); pid > 0 && pid != n.proc.Pid && processAlive(pid) {
		pids = append(pids, pid)
	}
	return pids
}

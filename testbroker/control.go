package testbroker

// What a test does with a running node: its addresses, rabbitmqctl, faults, clusters.

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// AMQPURL returns amqp://guest:guest@127.0.0.1:PORT/.
func (n *Node) AMQPURL() string {
	return fmt.Sprintf("amqp://guest:guest@127.0.0.1:%d/", n.AMQPPort)
}

// MgmtURL returns the management API base URL, http://127.0.0.1:PORT.
func (n *Node) MgmtURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d", n.MgmtPort)
}

// LogFile returns the (host) path of the node's main log file,
// <LogDir>/<node name>.log, e.g. .../log/amqptop-test-1a2b3c@localhost.log.
// For Broker "4" it lies inside the chroot.
func (n *Node) LogFile() string {
	return filepath.Join(n.LogDir, n.Name+".log")
}

// CtlCommand returns the command line (as a string for humans) that runs
// rabbitmqctl against this node with the right HOME/cookie and env file.
// For Broker "4" it runs the chroot's rabbitmqctl through chroot(8) and
// env -i (as root).
func (n *Node) CtlCommand() string {
	dir := n.inside(n.Dir)
	if n.root != "" {
		return fmt.Sprintf("chroot %s /usr/bin/env -i PATH=%s LANG=C.UTF-8 HOME=%s RABBITMQ_CONF_ENV_FILE=%s ERL_EPMD_ADDRESS=127.0.0.1 %s -n %s",
			n.root, defaultPath, filepath.Join(dir, "home"), filepath.Join(dir, "rabbitmq-env.conf"),
			filepath.Join(n.sbin, "rabbitmqctl"), n.Name)
	}
	return fmt.Sprintf("HOME=%s RABBITMQ_CONF_ENV_FILE=%s %s -n %s",
		filepath.Join(dir, "home"), filepath.Join(dir, "rabbitmq-env.conf"),
		filepath.Join(n.sbin, "rabbitmqctl"), n.Name)
}

// Ctl runs rabbitmqctl -n <node> args... with the node's HOME (and so its
// cookie) and returns the combined output; on failure the error includes
// that output.
func (n *Node) Ctl(ctx context.Context, args ...string) (string, error) {
	return n.tool(ctx, "rabbitmqctl", args...)
}

func (n *Node) tool(ctx context.Context, tool string, args ...string) (string, error) {
	argv := append([]string{"-n", n.Name}, args...)
	cmd := exec.CommandContext(ctx, filepath.Join(n.sbin, tool), argv...)
	cmd.Env = n.env
	cmd.Dir = n.inside(n.Dir)
	// Its own process group, killed as a whole when ctx ends: 4.x's
	// rabbitmqctl script runs erl as a child instead of exec'ing it. For
	// Broker "4" the path and Dir are as seen inside the chroot.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Chroot: n.root}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := n.inChroot(cmd.Start)
	if err == nil {
		err = cmd.Wait()
	}
	out := buf.Bytes()
	if err != nil {
		return string(out), fmt.Errorf("testbroker: %s -n %s %s: %w\n%s",
			tool, n.Name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// StopApp runs rabbitmqctl stop_app: the Erlang node keeps running but the
// RabbitMQ application (AMQP, management) stops.
func (n *Node) StopApp(ctx context.Context) error {
	_, err := n.Ctl(ctx, "stop_app")
	return err
}

// StartApp runs rabbitmqctl start_app and waits until AMQP and management
// answer again.
func (n *Node) StartApp(ctx context.Context) error {
	if _, err := n.Ctl(ctx, "start_app"); err != nil {
		return err
	}
	return n.waitReady(ctx, false)
}

// SetMemoryAlarm raises (on) or clears (off) a memory alarm by setting the
// memory high watermark to 0.00001 or back to the node's configured value
// (vm_memory_high_watermark.relative from ExtraConf, else the broker's
// default: 0.4 for 3.x, 0.6 for 4.x), then waits until the management API
// reports mem_alarm accordingly for this node.
func (n *Node) SetMemoryAlarm(ctx context.Context, on bool) error {
	wm := n.watermark
	if on {
		wm = "0.00001"
	}
	if _, err := n.Ctl(ctx, "set_vm_memory_high_watermark", wm); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	path := "/api/nodes/" + url.PathEscape(n.Name)
	for {
		var nd struct {
			MemAlarm *bool `json:"mem_alarm"`
		}
		err := n.getJSON(ctx, path, &nd)
		if err == nil && nd.MemAlarm != nil && *nd.MemAlarm == on {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("testbroker: node %s: mem_alarm did not become %v: %v (last: %v)", n.Name, on, ctx.Err(), err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Kill sends SIGKILL to the node's OS process (for crash tests) and waits
// for it to exit. [Node.Restart] starts it again.
func (n *Node) Kill() error {
	n.mu.Lock()
	done := n.done
	n.mu.Unlock()
	if done == nil || n.exited() {
		return fmt.Errorf("testbroker: node %s is not running", n.Name)
	}
	n.signal(syscall.SIGKILL) // SIGKILL also ends a stopped (paused) process
	n.resume()
	select {
	case <-done:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("testbroker: node %s: process still there 30s after SIGKILL", n.Name)
	}
}

// Pause stops the node's beam.smp process with SIGSTOP (for "node frozen
// past the client's heartbeat" faults): its sockets stay open but nothing
// answers (AMQP, heartbeats, management, rabbitmqctl) until [Node.Resume].
// It returns once the kernel reports the process as stopped. Stop and
// Restart resume a paused node before stopping it; Kill kills it as it is.
// A paused node still dies with the test binary (SIGKILL ends a stopped
// process too).
func (n *Node) Pause() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil || n.exitedLocked() {
		return fmt.Errorf("testbroker: node %s is not running", n.Name)
	}
	if err := n.signalLocked(syscall.SIGSTOP); err != nil {
		return fmt.Errorf("testbroker: node %s: SIGSTOP: %w", n.Name, err)
	}
	n.paused = true
	for _, pid := range n.pidsLocked() {
		for i := 0; procState(pid) != 'T' && procState(pid) != 0; i++ {
			if i == 100 {
				return fmt.Errorf("testbroker: node %s: pid %d not stopped 1 s after SIGSTOP", n.Name, pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return nil
}

// Resume continues a node paused by [Node.Pause] (SIGCONT). Resuming a node
// that is not paused does nothing.
func (n *Node) Resume() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil || n.exitedLocked() {
		return fmt.Errorf("testbroker: node %s is not running", n.Name)
	}
	if err := n.signalLocked(syscall.SIGCONT); err != nil {
		return fmt.Errorf("testbroker: node %s: SIGCONT: %w", n.Name, err)
	}
	n.paused = false
	return nil
}

// resume sends SIGCONT if the node was paused (errors ignored).
func (n *Node) resume() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.paused {
		return
	}
	n.paused = false
	if n.proc != nil && !n.exitedLocked() {
		_ = n.signalLocked(syscall.SIGCONT)
	}
}

// Paused reports whether the node is paused by [Node.Pause].
func (n *Node) Paused() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.paused
}

// procState returns the state letter of /proc/<pid>/stat ('R', 'S', 'T'...)
// or 0 if it cannot be read (the process is gone, or not Linux).
func procState(pid int) byte {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0
	}
	return b[i+2]
}

// Restart starts the node again with the same name, ports, cookie and
// directories (stopping it first if it is still running) and waits until
// it answers, like [Start].
func (n *Node) Restart(ctx context.Context) error {
	n.mu.Lock()
	stopped := n.stopped
	n.mu.Unlock()
	if stopped {
		return fmt.Errorf("testbroker: node %s was stopped with Stop", n.Name)
	}
	if !n.exited() {
		if err := n.stopProcess(); err != nil { // resumes a paused node first
			return err
		}
	}
	if err := n.launch(); err != nil {
		return err
	}
	if err := n.waitReady(ctx, true); err != nil {
		n.signal(syscall.SIGKILL)
		return err
	}
	return nil
}

// Cluster starts two nodes (of o.Broker's kind, both "3" or both "4")
// sharing one Erlang cookie, booting them side by side, and joins b to a
// (stop_app, join_cluster, start_app). Both answer AMQP and management when
// it returns. On failure both nodes are stopped.
func Cluster(ctx context.Context, o Options) (a, b *Node, err error) {
	cookie := randomCookie()
	type started struct {
		n   *Node
		err error
	}
	bc := make(chan started, 1)
	go func() {
		n, err := start(ctx, o, cookie)
		bc <- started{n, err}
	}()
	a, err = start(ctx, o, cookie)
	bs := <-bc
	b = bs.n
	if err != nil || bs.err != nil {
		for _, n := range []*Node{a, b} {
			if n != nil {
				_ = n.Stop()
			}
		}
		if err == nil {
			err = bs.err
		}
		return nil, nil, err
	}
	fail := func(err error) (*Node, *Node, error) {
		_ = b.Stop()
		_ = a.Stop()
		return nil, nil, err
	}
	if err := b.StopApp(ctx); err != nil {
		return fail(err)
	}
	if _, err := b.Ctl(ctx, "join_cluster", a.Name); err != nil {
		return fail(err)
	}
	if err := b.StartApp(ctx); err != nil {
		return fail(err)
	}
	return a, b, nil
}

// PID is the node's beam.smp OS process id (0 when it is not running):
// what a measurement reads the broker's CPU time from (/proc/PID/stat).
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.proc == nil || n.exitedLocked() {
		return 0
	}
	return n.proc.Pid
}

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

// LogFile returns the path of the node's main log file,
// <LogDir>/<node name>.log, e.g. .../log/amqptop-test-1a2b3c@localhost.log.
func (n *Node) LogFile() string {
	return filepath.Join(n.LogDir, n.Name+".log")
}

// CtlCommand returns the command line (as a string for humans) that runs
// rabbitmqctl against this node with the right HOME/cookie and env file.
func (n *Node) CtlCommand() string {
	return fmt.Sprintf("HOME=%s RABBITMQ_CONF_ENV_FILE=%s %s -n %s",
		filepath.Join(n.Dir, "home"), filepath.Join(n.Dir, "rabbitmq-env.conf"),
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
	cmd.Dir = n.Dir
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
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
// memory high watermark to 0.00001 or back to 0.4, then waits until the
// management API reports mem_alarm accordingly for this node.
func (n *Node) SetMemoryAlarm(ctx context.Context, on bool) error {
	wm := "0.4"
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
	n.signal(syscall.SIGKILL)
	select {
	case <-done:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("testbroker: node %s: process still there 30s after SIGKILL", n.Name)
	}
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
		if err := n.stopProcess(); err != nil {
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

// Cluster starts two nodes sharing one Erlang cookie and joins b to a
// (stop_app, join_cluster, start_app). Both answer AMQP and management when
// it returns. On failure both nodes are stopped.
func Cluster(ctx context.Context, o Options) (a, b *Node, err error) {
	a, err = Start(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	cookie, err := os.ReadFile(filepath.Join(a.Dir, "home", ".erlang.cookie"))
	if err != nil {
		_ = a.Stop()
		return nil, nil, fmt.Errorf("testbroker: %w", err)
	}
	b, err = start(ctx, o, string(cookie))
	if err != nil {
		_ = a.Stop()
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

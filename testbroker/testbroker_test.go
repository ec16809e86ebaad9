package testbroker

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// systemCtl is the /usr/sbin wrapper used only for read-only checks of the
// machine's shared broker.
const systemCtl = "/usr/sbin/rabbitmqctl"

// sharedBrokerStatus returns the OS pid and alarms of the machine's shared
// broker rabbit@localhost (read-only "status" through the /usr/sbin
// wrapper), or ok=false if it is not installed or not running.
func sharedBrokerStatus() (pid, alarms string, ok bool) {
	if _, err := os.Stat(systemCtl); err != nil {
		return "", "", false
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, systemCtl, "-n", "rabbit@localhost", "status", "--formatter", "json").Output()
	if err != nil {
		return "", "", false
	}
	var st struct {
		PID    json.RawMessage `json:"pid"`
		Alarms json.RawMessage `json:"alarms"`
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return "", "", false
	}
	return string(st.PID), string(st.Alarms), true
}

// ourBeams lists beam.smp processes this test binary started (its
// children) that still run. Other test binaries of `go test ./...` run
// nodes of their own at the same time; those are not ours.
func ourBeams() []string {
	var found []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	me := strconv.Itoa(os.Getpid())
	for _, d := range dirs {
		cmdline, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte("beam")) {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join(d, "stat")); err != nil || parentOf(string(stat)) != me {
			continue
		}
		env, err := os.ReadFile(filepath.Join(d, "environ"))
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if bytes.HasPrefix(kv, []byte("RABBITMQ_NODENAME=amqptop-test")) {
				found = append(found, fmt.Sprintf("%s (%s)", filepath.Base(d), kv))
			}
		}
	}
	return found
}

func TestMain(m *testing.M) {
	pidBefore, alarmsBefore, sharedUp := sharedBrokerStatus()
	code := m.Run()
	StopShared()
	if sharedUp {
		pid, alarms, ok := sharedBrokerStatus()
		switch {
		case !ok:
			fmt.Fprintln(os.Stderr, "FAIL: the shared broker rabbit@localhost no longer answers rabbitmqctl status")
			code = 1
		case pid != pidBefore:
			fmt.Fprintf(os.Stderr, "FAIL: the shared broker rabbit@localhost changed OS pid: %s -> %s\n", pidBefore, pid)
			code = 1
		case alarms != alarmsBefore:
			fmt.Fprintf(os.Stderr, "FAIL: the shared broker's alarms changed: %q -> %q\n", alarmsBefore, alarms)
			code = 1
		default:
			fmt.Fprintf(os.Stderr, "ok: shared broker rabbit@localhost untouched (OS pid %s, alarms %q)\n", pid, alarms)
		}
	}
	// Our nodes die with SIGKILL as soon as their process is gone; give the
	// kernel a moment, then look for leftovers.
	var left []string
	for i := 0; i < 50; i++ {
		if left = ourBeams(); len(left) == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(left) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: stray beam.smp processes of ours: %v\n", left)
		code = 1
	}
	os.Exit(code)
}

// requireBroker skips the test when rabbitmq-server is not installed, or
// fails it when CI=true (like Shared).
func requireBroker(t *testing.T) {
	t.Helper()
	if _, err := SbinDir(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

func ctx(t *testing.T, d time.Duration) context.Context {
	c, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return c
}

func getJSON(t *testing.T, n *Node, path string, v any) {
	t.Helper()
	if err := n.getJSON(ctx(t, 30*time.Second), path, v); err != nil {
		t.Fatal(err)
	}
}

func TestSharedNode(t *testing.T) {
	n := Shared(t)
	t.Logf("node %s amqp=%s mgmt=%s dist=%d log=%s", n.Name, n.AMQPURL(), n.MgmtURL(), n.DistPort, n.LogFile())

	if !strings.HasPrefix(n.Name, "amqptop-test-") || !strings.HasSuffix(n.Name, "@localhost") {
		t.Errorf("node name %q", n.Name)
	}
	if want := fmt.Sprintf("amqp://guest:guest@127.0.0.1:%d/", n.AMQPPort); n.AMQPURL() != want {
		t.Errorf("AMQPURL = %q, want %q", n.AMQPURL(), want)
	}
	if n.AMQPPort == 5672 || n.DistPort == 25672 || n.MgmtPort == 15672 {
		t.Errorf("node uses a default port: %+v", n)
	}
	if st, err := os.Stat(n.LogFile()); err != nil || st.Size() == 0 {
		t.Errorf("log file %s: %v", n.LogFile(), err)
	}

	t.Run("AMQPHeader", func(t *testing.T) {
		// An unsupported protocol header makes the server answer with the
		// header it supports and close the connection.
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", n.AMQPPort), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte("AMQP\x00\x00\x08\x00")); err != nil {
			t.Fatal(err)
		}
		reply := make([]byte, 8)
		if _, err := io.ReadFull(c, reply); err != nil {
			t.Fatal(err)
		}
		if string(reply) != "AMQP\x00\x00\x09\x01" {
			t.Errorf("protocol header reply %q", reply)
		}

		// The right header gets connection.start (class 10, method 10) for 0-9.
		c2, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", n.AMQPPort), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c2.Close()
		_ = c2.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c2.Write([]byte("AMQP\x00\x00\x09\x01")); err != nil {
			t.Fatal(err)
		}
		hdr := make([]byte, 7+6)
		if _, err := io.ReadFull(c2, hdr); err != nil {
			t.Fatal(err)
		}
		if hdr[0] != 1 || binary.BigEndian.Uint16(hdr[1:3]) != 0 ||
			binary.BigEndian.Uint16(hdr[7:9]) != 10 || binary.BigEndian.Uint16(hdr[9:11]) != 10 ||
			hdr[11] != 0 || hdr[12] != 9 {
			t.Errorf("unexpected first frame % x", hdr)
		}
	})

	t.Run("Overview", func(t *testing.T) {
		var ov struct {
			Node            string `json:"node"`
			RabbitMQVersion string `json:"rabbitmq_version"`
		}
		getJSON(t, n, "/api/overview", &ov)
		if ov.Node != n.Name {
			t.Errorf("overview node %q, want %q", ov.Node, n.Name)
		}
		t.Logf("RabbitMQ %s", ov.RabbitMQVersion)
	})

	t.Run("Exchanges", func(t *testing.T) {
		for _, x := range []string{"amq.rabbitmq.event", "amq.rabbitmq.log"} {
			var e struct {
				Name string `json:"name"`
				Type string `json:"type"`
			}
			getJSON(t, n, "/api/exchanges/%2F/"+x, &e)
			if e.Name != x || e.Type != "topic" {
				t.Errorf("exchange %s: got %+v", x, e)
			}
		}
	})

	t.Run("Unauthenticated", func(t *testing.T) {
		resp, err := http.Get(n.MgmtURL() + "/api/overview")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("status %d without credentials", resp.StatusCode)
		}
	})

	t.Run("Ctl", func(t *testing.T) {
		out, err := n.Ctl(ctx(t, time.Minute), "-q", "list_vhosts")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "/") {
			t.Errorf("list_vhosts: %q", out)
		}
	})

	t.Run("MemoryAlarm", func(t *testing.T) {
		start := time.Now()
		if err := n.SetMemoryAlarm(ctx(t, 2*time.Minute), true); err != nil {
			t.Fatal(err)
		}
		t.Logf("alarm raised in %v", time.Since(start))
		var nd struct {
			MemAlarm bool `json:"mem_alarm"`
		}
		getJSON(t, n, "/api/nodes/"+n.Name, &nd)
		if !nd.MemAlarm {
			t.Error("mem_alarm false after raising the alarm")
		}
		start = time.Now()
		if err := n.SetMemoryAlarm(ctx(t, 2*time.Minute), false); err != nil {
			t.Fatal(err)
		}
		t.Logf("alarm cleared in %v", time.Since(start))
	})

	t.Run("StopStartApp", func(t *testing.T) {
		c := ctx(t, 2*time.Minute)
		if err := n.StopApp(c); err != nil {
			t.Fatal(err)
		}
		if conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", n.AMQPPort), time.Second); err == nil {
			conn.Close()
			t.Error("AMQP port still open after stop_app")
		}
		start := time.Now()
		if err := n.StartApp(c); err != nil {
			t.Fatal(err)
		}
		t.Logf("start_app took %v", time.Since(start))
		if err := n.ping(c); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("LogExchangeConfig", func(t *testing.T) {
		data, err := os.ReadFile(n.LogFile())
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"error:{invalid", "Error preparing configuration"} {
			if bytes.Contains(data, []byte(bad)) {
				t.Errorf("log contains %q", bad)
			}
		}
	})
}

func TestStartOptionsKillRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own node")
	}
	requireBroker(t)
	dir := t.TempDir()
	start := time.Now()
	n, err := Start(ctx(t, 3*time.Minute), Options{
		Name:            "amqptop-test-opts",
		StatsIntervalMS: 1000,
		ExtraConf:       []string{"heartbeat = 7", "log.file.level = debug"},
		Advanced:        `[{rabbit, [{channel_tick_interval, 1000}]}].`,
		Dir:             dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Start took %v", time.Since(start))
	defer func() {
		if err := n.Stop(); err != nil {
			t.Error(err)
		}
		if err := n.Stop(); err != nil {
			t.Errorf("second Stop: %v", err)
		}
		if _, err := os.Stat(n.Dir); err != nil {
			t.Errorf("Stop removed a caller-provided dir: %v", err)
		}
	}()
	if filepath.Dir(n.Dir) != dir {
		t.Errorf("node dir %s not under %s", n.Dir, dir)
	}
	out, err := n.Ctl(ctx(t, time.Minute), "eval",
		`{application:get_env(rabbit, heartbeat), application:get_env(rabbit, collect_statistics_interval), application:get_env(rabbit, channel_tick_interval)}.`)
	if err != nil {
		t.Fatal(err)
	}
	if want := "{{ok,7},{ok,1000},{ok,1000}}"; strings.TrimSpace(out) != want {
		t.Errorf("eval = %q, want %q", out, want)
	}

	if err := n.Kill(); err != nil {
		t.Fatal(err)
	}
	if conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", n.AMQPPort), time.Second); err == nil {
		conn.Close()
		t.Fatal("AMQP port open after Kill")
	}
	start = time.Now()
	if err := n.Restart(ctx(t, 3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	t.Logf("Restart after Kill took %v", time.Since(start))
	if err := n.ping(ctx(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if err := n.Restart(ctx(t, 3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	t.Logf("Restart of a running node took %v", time.Since(start))
}

func TestStartFailureHasLogTail(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own node")
	}
	requireBroker(t)
	_, err := Start(ctx(t, 2*time.Minute), Options{ExtraConf: []string{"no_such_setting_xyz = 1"}})
	if err == nil {
		t.Fatal("Start succeeded with an invalid config")
	}
	if !strings.Contains(err.Error(), "no_such_setting_xyz") {
		t.Errorf("error lacks the reason from the logs:\n%v", err)
	}
}

func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test takes ~40 s")
	}
	requireBroker(t)
	start := time.Now()
	a, b, err := Cluster(ctx(t, 5*time.Minute), Options{Name: "amqptop-test-cl", StatsIntervalMS: 1000})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Cluster took %v: %s + %s", time.Since(start), a.Name, b.Name)
	t.Cleanup(func() {
		if err := b.Stop(); err != nil {
			t.Error(err)
		}
		if err := a.Stop(); err != nil {
			t.Error(err)
		}
	})
	deadline := time.Now().Add(time.Minute)
	for {
		var nodes []struct {
			Name    string `json:"name"`
			Running bool   `json:"running"`
		}
		getJSON(t, a, "/api/nodes", &nodes)
		running := map[string]bool{}
		for _, nd := range nodes {
			running[nd.Name] = nd.Running
		}
		if len(nodes) == 2 && running[a.Name] && running[b.Name] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/api/nodes on %s: %+v", a.Name, nodes)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err := b.ping(ctx(t, time.Minute)); err != nil {
		t.Fatal(err)
	}
}

// parentOf reads the parent pid from /proc/<pid>/stat ("pid (comm) state ppid …").
func parentOf(stat string) string {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

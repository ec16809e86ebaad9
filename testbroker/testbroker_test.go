package testbroker

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
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
	// The 4.x chroot's /proc stays mounted only while someone else's
	// process (another test binary's node...) runs inside the chroot.
	if root, err := Rabbitmq4Chroot(); err == nil {
		root, _ = filepath.EvalSymlinks(root)
		if procMounted(root) {
			users, _ := chrootUsers(root, "")
			fmt.Fprintf(os.Stderr, "note: %s/proc still mounted (%d processes of others run in the chroot)\n", root, users)
		}
	}
	os.Exit(code)
}

// requireBroker skips the test when the broker kind is not installed (for
// "4": no chroot, or not root), or fails it when CI=true (like Shared).
func requireBroker(t *testing.T, broker string) {
	t.Helper()
	var err error
	if broker == Broker4 {
		_, err = Rabbitmq4Chroot()
	} else {
		_, err = SbinDir()
	}
	if err != nil {
		Unavailable(t, err)
	}
}

// forEachBroker runs f as a parallel subtest "rabbitmq-<kind>" for each of
// Brokers(), so the 3.x and 4.x nodes boot side by side.
func forEachBroker(t *testing.T, f func(t *testing.T, broker string)) {
	for _, b := range Brokers() {
		t.Run("rabbitmq-"+b, func(t *testing.T) {
			t.Parallel()
			f(t, b)
		})
	}
}

// installedVersion is the version in the name of the sbin directory a
// node of the given kind runs (.../rabbitmq_server-4.0.5/sbin -> 4.0.5).
func installedVersion(t *testing.T, n *Node) string {
	t.Helper()
	return strings.TrimPrefix(filepath.Base(filepath.Dir(n.sbin)), "rabbitmq_server-")
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

// mgmtAnswers reports whether GET /api/overview answers within d.
func mgmtAnswers(n *Node, d time.Duration) error {
	c, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return n.getJSON(c, "/api/overview", nil)
}

func TestSharedNode(t *testing.T) {
	forEachBroker(t, testSharedNode)
}

func testSharedNode(t *testing.T, broker string) {
	n := SharedFor(t, broker)
	t.Logf("node %s (RabbitMQ %s) amqp=%s mgmt=%s dist=%d log=%s", n.Name, n.Version, n.AMQPURL(), n.MgmtURL(), n.DistPort, n.LogFile())
	t.Logf("ctl: %s", n.CtlCommand())

	if !strings.HasPrefix(n.Name, "amqptop-test-") || !strings.HasSuffix(n.Name, "@localhost") {
		t.Errorf("node name %q", n.Name)
	}
	if n.Broker != broker {
		t.Errorf("Broker = %q, want %q", n.Broker, broker)
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
	if n2 := SharedFor(t, broker); n2 != n {
		t.Errorf("second SharedFor(%q) returned another node", broker)
	}
	if broker == Broker3 {
		if n3 := Shared(t); n3 != n {
			t.Error("Shared(t) and SharedFor(t, \"3\") differ")
		}
	}

	t.Run("Version", func(t *testing.T) {
		want := installedVersion(t, n)
		if n.Version != want || !strings.HasPrefix(n.Version, broker+".") {
			t.Errorf("Version = %q, want %q (RabbitMQ %s.x)", n.Version, want, broker)
		}
		if broker == Broker4 && n.Version != "4.0.5" {
			t.Logf("note: Debian 13's package is 4.0.5; this chroot has %s", n.Version)
		}
		var ov struct {
			Node            string `json:"node"`
			RabbitMQVersion string `json:"rabbitmq_version"`
		}
		getJSON(t, n, "/api/overview", &ov)
		if ov.Node != n.Name || ov.RabbitMQVersion != n.Version {
			t.Errorf("overview %+v, want node %q version %q", ov, n.Name, n.Version)
		}
		out, err := n.Ctl(ctx(t, time.Minute), "-q", "eval", "rabbit_misc:version().")
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Trim(strings.TrimSpace(out), `"`); got != n.Version {
			t.Errorf("rabbitmqctl eval rabbit_misc:version() = %q, want %q", got, n.Version)
		}
	})

	t.Run("Dirs", func(t *testing.T) {
		if broker == Broker4 {
			root, err := Rabbitmq4Chroot()
			if err != nil {
				t.Fatal(err)
			}
			root, _ = filepath.EvalSymlinks(root)
			if !strings.HasPrefix(n.Dir, filepath.Join(root, "tmp", tempPrefix)) {
				t.Errorf("node dir %s not under %s/tmp/%s*", n.Dir, root, tempPrefix)
			}
		} else if !strings.HasPrefix(n.Dir, filepath.Join(os.TempDir(), tempPrefix)) {
			t.Errorf("node dir %s not under %s", n.Dir, os.TempDir())
		}
		if !strings.HasPrefix(n.LogFile(), n.Dir+"/") {
			t.Errorf("log file %s not under %s", n.LogFile(), n.Dir)
		}
		st, err := os.Stat(filepath.Join(n.Dir, "home", ".erlang.cookie"))
		if err != nil || st.Mode().Perm() != 0o400 {
			t.Errorf("cookie: %v %v", st, err)
		}
	})

	t.Run("AMQPHeader", func(t *testing.T) {
		// An unsupported protocol header makes the server answer with the
		// header it prefers and close the connection: 3.10 offers AMQP
		// 0-9-1, 4.x offers AMQP 1.0 with SASL (protocol id 3), which its
		// core speaks natively.
		want := "AMQP\x00\x00\x09\x01"
		if broker == Broker4 {
			want = "AMQP\x03\x01\x00\x00"
		}
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
		if string(reply) != want {
			t.Errorf("protocol header reply %q, want %q", reply, want)
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

	t.Run("AMQPClientAndLog", func(t *testing.T) {
		conn, err := amqp.DialConfig(n.AMQPURL(), amqp.Config{
			Dial:       amqp.DefaultDial(5 * time.Second),
			Properties: amqp.Table{"connection_name": "testbroker-" + broker},
		})
		if err != nil {
			t.Fatal(err)
		}
		local := conn.LocalAddr().String()
		if v, _ := conn.Properties["version"].(string); v != n.Version {
			t.Errorf("server properties version %q, want %q", v, n.Version)
		}
		ch, err := conn.Channel()
		if err != nil {
			t.Fatal(err)
		}
		q, err := ch.QueueDeclare("", false, true, true, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := ch.PublishWithContext(ctx(t, 10*time.Second), "", q.Name, false, false,
			amqp.Publishing{Body: []byte("hello " + broker)}); err != nil {
			t.Fatal(err)
		}
		var msg amqp.Delivery
		var ok bool
		for i := 0; i < 50 && !ok; i++ {
			if msg, ok, err = ch.Get(q.Name, true); err != nil {
				t.Fatal(err)
			}
			if !ok {
				time.Sleep(100 * time.Millisecond)
			}
		}
		if !ok || string(msg.Body) != "hello "+broker {
			t.Errorf("basic.get: ok=%v body=%q", ok, msg.Body)
		}
		if err := conn.Close(); err != nil {
			t.Fatal(err)
		}
		// The broker logs the accepted and the closed connection, naming the
		// client's address.
		deadline := time.Now().Add(10 * time.Second)
		for {
			data, err := os.ReadFile(n.LogFile())
			if err != nil {
				t.Fatal(err)
			}
			var accepted, closed bool
			for _, l := range strings.Split(string(data), "\n") {
				if strings.Contains(l, local+" ->") {
					accepted = accepted || strings.Contains(l, "accepting AMQP connection")
					closed = closed || strings.Contains(l, "closing AMQP connection")
				}
			}
			if accepted && closed {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("log %s lacks accepting/closing lines for %s (accepted=%v closed=%v); tail:\n%s",
					n.LogFile(), local, accepted, closed, tail(n.LogFile(), 10))
			}
			time.Sleep(200 * time.Millisecond)
		}
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
			MemAlarm bool    `json:"mem_alarm"`
			MemLimit float64 `json:"mem_limit"`
		}
		getJSON(t, n, "/api/nodes/"+n.Name, &nd)
		if !nd.MemAlarm {
			t.Error("mem_alarm false after raising the alarm")
		}
		start = time.Now()
		if err := n.SetMemoryAlarm(ctx(t, 2*time.Minute), false); err != nil {
			t.Fatal(err)
		}
		t.Logf("alarm cleared in %v (watermark back to %s)", time.Since(start), n.watermark)
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

	t.Run("PauseResume", func(t *testing.T) {
		// A client with a 2 s heartbeat gives up on a node paused past
		// its heartbeat timeout. amqp091-go (1.16) arms its read deadline
		// (3 x heartbeat/2) only when it reads a frame after the
		// handshake, so a connection that has read nothing since
		// connection.open-ok never times out: open a channel first.
		conn, err := amqp.DialConfig(n.AMQPURL(), amqp.Config{Heartbeat: 2 * time.Second, Dial: amqp.DefaultDial(5 * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		closed := conn.NotifyClose(make(chan *amqp.Error, 1))
		if _, err := conn.Channel(); err != nil {
			t.Fatal(err)
		}
		if err := n.Pause(); err != nil {
			t.Fatal(err)
		}
		paused := time.Now()
		resumed := false
		defer func() {
			if !resumed {
				_ = n.Resume()
			}
		}()
		if !n.Paused() {
			t.Error("Paused() false after Pause")
		}
		if err := mgmtAnswers(n, 2*time.Second); err == nil {
			t.Error("management answered while the node was paused")
		}
		select {
		case e := <-closed:
			t.Logf("client closed the connection %v after Pause: %v", time.Since(paused).Round(100*time.Millisecond), e)
		case <-time.After(15 * time.Second):
			t.Error("connection with a 2 s heartbeat still open 15 s after Pause")
		}
		resumed = true
		if err := n.Resume(); err != nil {
			t.Fatal(err)
		}
		if err := mgmtAnswers(n, 10*time.Second); err != nil {
			t.Errorf("management after Resume: %v", err)
		}
		if err := n.ping(ctx(t, 30*time.Second)); err != nil {
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
	forEachBroker(t, testStartOptionsKillRestart)
}

func testStartOptionsKillRestart(t *testing.T, broker string) {
	requireBroker(t, broker)
	dir := t.TempDir()
	if broker == Broker4 {
		// A caller-provided Dir for a chroot node must lie inside the chroot.
		root, _ := Rabbitmq4Chroot()
		var err error
		if dir, err = os.MkdirTemp(filepath.Join(root, "tmp"), "amqptop-testdir-"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
	}
	start := time.Now()
	n, err := Start(ctx(t, 3*time.Minute), Options{
		Name:            "amqptop-test-opts",
		StatsIntervalMS: 1000,
		ExtraConf:       []string{"heartbeat = 7", "log.file.level = debug"},
		Advanced:        `[{rabbit, [{channel_tick_interval, 1000}]}].`,
		Dir:             dir,
		Broker:          broker,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Start of RabbitMQ %s took %v", n.Version, time.Since(start))
	defer func() {
		if err := n.Stop(); err != nil { // the node is paused here: Stop resumes it
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

	// Kill works on a paused node.
	if err := n.Pause(); err != nil {
		t.Fatal(err)
	}
	pid := n.proc.Pid
	if err := n.Kill(); err != nil {
		t.Fatal(err)
	}
	if processAlive(pid) && procState(pid) != 'Z' {
		t.Errorf("beam %d still there after Kill", pid)
	}
	if conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", n.AMQPPort), time.Second); err == nil {
		conn.Close()
		t.Fatal("AMQP port open after Kill")
	}
	if n.Paused() {
		t.Error("Paused() true after Kill")
	}
	start = time.Now()
	if err := n.Restart(ctx(t, 3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	t.Logf("Restart after Kill took %v", time.Since(start))
	if err := n.ping(ctx(t, time.Minute)); err != nil {
		t.Fatal(err)
	}

	// Restart (stop + start) works on a running, paused node. The code
	// path is the same for both kinds, so to keep the test time down it
	// runs on the faster-booting 4.x node when that is tested too.
	if broker == Broker4 || !slices.Contains(Brokers(), Broker4) {
		if err := n.Pause(); err != nil {
			t.Fatal(err)
		}
		start = time.Now()
		if err := n.Restart(ctx(t, 3*time.Minute)); err != nil {
			t.Fatal(err)
		}
		t.Logf("Restart of a running (paused) node took %v", time.Since(start))
		if n.Paused() {
			t.Error("Paused() true after Restart")
		}
	}
	if err := n.Pause(); err != nil { // the deferred Stop stops a paused node
		t.Fatal(err)
	}
}

func TestStartFailureHasLogTail(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own node")
	}
	forEachBroker(t, func(t *testing.T, broker string) {
		requireBroker(t, broker)
		_, err := Start(ctx(t, 2*time.Minute), Options{ExtraConf: []string{"no_such_setting_xyz = 1"}, Broker: broker})
		if err == nil {
			t.Fatal("Start succeeded with an invalid config")
		}
		if !strings.Contains(err.Error(), "no_such_setting_xyz") {
			t.Errorf("error lacks the reason from the logs:\n%v", err)
		}
	})
}

func TestBrokerErrors(t *testing.T) {
	_, err := Start(ctx(t, time.Minute), Options{Broker: "5"})
	if err == nil || !strings.Contains(err.Error(), `unknown Options.Broker "5"`) {
		t.Errorf("Broker 5: %v", err)
	}

	// A Dir outside the chroot is refused before anything starts.
	if root, err := Rabbitmq4Chroot(); err == nil {
		_, err = Start(ctx(t, time.Minute), Options{Broker: Broker4, Dir: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), "must lie inside the RabbitMQ 4 chroot "+root) {
			t.Errorf("Dir outside the chroot: %v", err)
		}
	}

	t.Setenv(Rabbitmq4ChrootEnv, "/nonexistent/amqptop-rabbitmq4")
	_, err = Start(ctx(t, time.Minute), Options{Broker: Broker4})
	if !errors.Is(err, ErrNotInstalled) || !errors.Is(err, ErrNoRabbitMQ4) || !strings.Contains(err.Error(), "scripts/rabbitmq4-setup") ||
		!strings.Contains(err.Error(), "/nonexistent/amqptop-rabbitmq4") {
		t.Errorf("missing chroot: %v", err)
	}
	t.Logf("missing chroot: %v", err)
}

func TestBrokers(t *testing.T) {
	for env, want := range map[string]string{"": "3,4", "3": "3", "4": "4", "3,4": "3,4", " 4 , 3,4": "4,3"} {
		t.Setenv(BrokersEnv, env)
		if got := strings.Join(Brokers(), ","); got != want {
			t.Errorf("%s=%q: Brokers() = %q, want %q", BrokersEnv, env, got, want)
		}
	}
}

func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test takes ~40 s")
	}
	forEachBroker(t, testCluster)
}

func testCluster(t *testing.T, broker string) {
	requireBroker(t, broker)
	start := time.Now()
	a, b, err := Cluster(ctx(t, 5*time.Minute), Options{Name: "amqptop-test-cl", StatsIntervalMS: 1000, Broker: broker})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Cluster of RabbitMQ %s took %v: %s + %s", a.Version, time.Since(start), a.Name, b.Name)
	t.Cleanup(func() {
		start := time.Now()
		errc := make(chan error, 1)
		go func() { errc <- b.Stop() }()
		if err := a.Stop(); err != nil {
			t.Error(err)
		}
		if err := <-errc; err != nil {
			t.Error(err)
		}
		t.Logf("stopping both took %v", time.Since(start))
	})
	if a.Broker != broker || b.Broker != broker || a.Version != b.Version {
		t.Errorf("nodes %s (%s %s) and %s (%s %s)", a.Name, a.Broker, a.Version, b.Name, b.Broker, b.Version)
	}
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

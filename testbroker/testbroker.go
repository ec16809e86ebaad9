// Package testbroker starts and stops private RabbitMQ nodes for the
// project's integration tests.
//
// Guarantees:
//
//   - A node started here never shares anything with another broker on the
//     machine (in particular the system node rabbit@localhost on port 5672):
//     it gets its own randomly suffixed Erlang node name, its own freshly
//     picked ports (AMQP, management, Erlang distribution), its own data, log
//     and config files under its own directory, its own HOME and a random
//     Erlang cookie of its own. /etc/rabbitmq/rabbitmq-env.conf,
//     /etc/rabbitmq/rabbitmq.conf, conf.d, advanced.config and
//     enabled_plugins are never read: every path is pointed at our own files.
//   - Everything listens on 127.0.0.1 only (AMQP, management and Erlang
//     distribution). The shared epmd on 127.0.0.1:4369 is used to register
//     our node names; that does not touch any other node.
//   - The real rabbitmq-server and rabbitmqctl scripts from the package's
//     sbin directory are run directly, as the calling user, never the
//     /usr/sbin wrappers that switch to the rabbitmq user and its cookie.
//     [Node.Ctl] always passes "-n <our node>" and runs with our HOME, so it
//     can only ever authenticate against our own node (any other node has a
//     different cookie).
//   - On Linux a node is killed by the kernel (SIGKILL via
//     PR_SET_PDEATHSIG) if the test binary dies without stopping it, so no
//     beam.smp process outlives the tests. [Node.Stop] stops it cleanly and
//     removes the temporary directory it created; temporary directories
//     left behind by test binaries that died are removed by the next Start.
//   - Start returns only when the node is fully usable: the AMQP port
//     accepts connections, GET /api/overview answers 200 for guest:guest as
//     this node, the amq.rabbitmq.event and amq.rabbitmq.log exchanges
//     exist and rabbitmqctl reaches the node.
//
// The rabbitmq-server installation is found by globbing
// /usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin (highest version wins); the
// environment variable AMQPTOP_RABBITMQ_SBIN overrides that directory.
//
// Each node's main log file is <Dir>/log/<node name>.log, for example
// /tmp/amqptop-testbroker-123/amqptop-test-1a2b3c/log/amqptop-test-1a2b3c@localhost.log
// (see [Node.LogFile]).
package testbroker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// SbinEnv is the environment variable that, when set, names the directory
// holding the real rabbitmq-server and rabbitmqctl scripts.
const SbinEnv = "AMQPTOP_RABBITMQ_SBIN"

// sbinGlob is where the Debian/Ubuntu rabbitmq-server package installs the
// real (non-wrapper) scripts.
const sbinGlob = "/usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin"

// ErrNotInstalled is returned (wrapped) when no rabbitmq-server
// installation can be found.
var ErrNotInstalled = errors.New("testbroker: rabbitmq-server is not installed")

// Options configures a node started by [Start] or [Cluster].
type Options struct {
	// Name is the node base name, e.g. "amqptop-test"; a random suffix is
	// added so two test binaries never collide. "" means "amqptop-test".
	Name string
	// StatsIntervalMS sets collect_statistics_interval in milliseconds;
	// 0 leaves the broker default (5000).
	StatsIntervalMS int
	// ExtraConf holds extra rabbitmq.conf lines (new-style "key = value"),
	// e.g. "heartbeat = 10" or "consumer_timeout = 60000". A key given here
	// replaces the package's default line for the same key.
	ExtraConf []string
	// Advanced is the contents of advanced.config (Erlang terms, e.g.
	// `[{rabbit, [{channel_tick_interval, 1000}]}].`); "" means none.
	Advanced string
	// Dir is the base directory; each node lives in Dir/<short node name>.
	// "" means a new temporary directory, removed by [Node.Stop].
	Dir string
}

// Node is a running (or stopped) private RabbitMQ node.
type Node struct {
	// Name is the full Erlang node name, e.g. amqptop-test-ab12cd@localhost.
	Name string
	// AMQPPort is the AMQP 0-9-1 listener port on 127.0.0.1.
	AMQPPort int
	// MgmtPort is the management HTTP API port on 127.0.0.1.
	MgmtPort int
	// DistPort is the Erlang distribution port on 127.0.0.1.
	DistPort int
	// Dir is the node's own directory (config, HOME, data, logs).
	Dir string
	// LogDir is the directory RabbitMQ writes its log files into.
	LogDir string

	sbin      string
	env       []string
	exchanges []string // exchanges that must exist before the node counts as ready
	tempDir   string   // removed on Stop when non-empty

	mu      sync.Mutex
	proc    *os.Process
	done    chan struct{} // closed when proc has exited
	stopped bool
}

// SbinDir returns the directory holding the real rabbitmq-server and
// rabbitmqctl scripts: $AMQPTOP_RABBITMQ_SBIN if set, otherwise the highest
// version matching /usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin. The error
// wraps [ErrNotInstalled] when nothing usable is found.
func SbinDir() (string, error) {
	check := func(dir string) error {
		for _, f := range []string{"rabbitmq-server", "rabbitmqctl"} {
			st, err := os.Stat(filepath.Join(dir, f))
			if err != nil {
				return fmt.Errorf("%w: %v", ErrNotInstalled, err)
			}
			if st.Mode()&0o111 == 0 {
				return fmt.Errorf("%w: %s is not executable", ErrNotInstalled, filepath.Join(dir, f))
			}
		}
		return nil
	}
	if d := os.Getenv(SbinEnv); d != "" {
		if err := check(d); err != nil {
			return "", fmt.Errorf("%s=%s: %w", SbinEnv, d, err)
		}
		return d, nil
	}
	matches, _ := filepath.Glob(sbinGlob)
	sort.Slice(matches, func(i, j int) bool { return versionLess(matches[i], matches[j]) })
	for i := len(matches) - 1; i >= 0; i-- {
		if check(matches[i]) == nil {
			return matches[i], nil
		}
	}
	return "", fmt.Errorf("%w (nothing usable matches %s; set %s)", ErrNotInstalled, sbinGlob, SbinEnv)
}

// versionLess orders .../rabbitmq_server-X.Y.Z/sbin paths by version.
func versionLess(a, b string) bool {
	va := strings.TrimPrefix(filepath.Base(filepath.Dir(a)), "rabbitmq_server-")
	vb := strings.TrimPrefix(filepath.Base(filepath.Dir(b)), "rabbitmq_server-")
	pa, pb := strings.Split(va, "."), strings.Split(vb, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, ea := strconv.Atoi(pa[i])
		nb, eb := strconv.Atoi(pb[i])
		if ea == nil && eb == nil {
			if na != nb {
				return na < nb
			}
			continue
		}
		if pa[i] != pb[i] {
			return pa[i] < pb[i]
		}
	}
	return len(pa) < len(pb)
}

// Start picks free ports, writes the node's config, starts the node in the
// background and waits until its AMQP port accepts connections, the
// management API answers GET /api/overview for guest:guest and rabbitmqctl
// can reach it. On failure it returns an error including the tail of the
// node's logs and stops whatever it started.
func Start(ctx context.Context, o Options) (*Node, error) {
	return start(ctx, o, "")
}

func start(ctx context.Context, o Options, cookie string) (*Node, error) {
	const attempts = 3 // a freshly picked port may be grabbed by someone else
	var err error
	for i := 0; i < attempts; i++ {
		var n *Node
		n, err = startOnce(ctx, o, cookie)
		if err == nil {
			return n, nil
		}
		if ctx.Err() != nil || !strings.Contains(err.Error(), "eaddrinuse") {
			break
		}
	}
	return nil, err
}

func startOnce(ctx context.Context, o Options, cookie string) (*Node, error) {
	sbin, err := SbinDir()
	if err != nil {
		return nil, err
	}
	base := o.Name
	if base == "" {
		base = "amqptop-test"
	}
	short := base + "-" + randomHex(3)
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	if cookie == "" {
		cookie = randomCookie()
	}
	n := &Node{
		Name:     short + "@localhost",
		AMQPPort: ports[0],
		MgmtPort: ports[1],
		DistPort: ports[2],
		sbin:     sbin,
	}
	parent := o.Dir
	if parent == "" {
		cleanStaleOnce.Do(cleanStale)
		parent, err = os.MkdirTemp("", tempPrefix)
		if err != nil {
			return nil, fmt.Errorf("testbroker: %w", err)
		}
		n.tempDir = parent
		owner := []byte(strconv.Itoa(os.Getpid()))
		if err := os.WriteFile(filepath.Join(parent, ownerFile), owner, 0o600); err != nil {
			n.removeTemp()
			return nil, fmt.Errorf("testbroker: %w", err)
		}
	} else if parent, err = filepath.Abs(parent); err != nil {
		return nil, fmt.Errorf("testbroker: %w", err)
	}
	n.Dir = filepath.Join(parent, short)
	n.LogDir = filepath.Join(n.Dir, "log")
	if err := n.writeFiles(o, cookie); err != nil {
		n.removeTemp()
		return nil, err
	}
	if err := n.launchAndWait(ctx); err != nil {
		_ = n.Stop()
		return nil, err
	}
	return n, nil
}

const (
	tempPrefix = "amqptop-testbroker-"
	ownerFile  = "owner.pid" // pid of the process that created a temp dir
)

var cleanStaleOnce sync.Once

// cleanStale removes temp dirs left behind by test processes that died
// without calling Stop (their nodes died with them, see the package doc).
func cleanStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), tempPrefix+"*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(d)
		}
	}
}

// writeFiles creates the node directory layout, config files and cookie.
func (n *Node) writeFiles(o Options, cookie string) error {
	home := filepath.Join(n.Dir, "home")
	for _, d := range []string{n.Dir, home, n.LogDir, filepath.Join(n.Dir, "mnesia")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("testbroker: %w", err)
		}
	}
	files := map[string]string{
		"rabbitmq-env.conf": "# intentionally empty: keeps /etc/rabbitmq/rabbitmq-env.conf out\n",
		"rabbitmq.conf":     n.config(o),
		"enabled_plugins":   "[rabbitmq_management,rabbitmq_event_exchange].\n",
	}
	if o.Advanced != "" {
		files["advanced.config"] = o.Advanced + "\n"
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(n.Dir, name), []byte(content), 0o600); err != nil {
			return fmt.Errorf("testbroker: %w", err)
		}
	}
	// Erlang refuses a cookie file readable by others.
	if err := os.WriteFile(filepath.Join(home, ".erlang.cookie"), []byte(cookie), 0o400); err != nil {
		return fmt.Errorf("testbroker: %w", err)
	}
	n.env = n.buildEnv()
	n.exchanges = []string{"amq.rabbitmq.event"}
	if v, ok := confValue(o.ExtraConf, "log.exchange"); !ok || v == "true" {
		n.exchanges = append(n.exchanges, "amq.rabbitmq.log")
	}
	return nil
}

// config renders rabbitmq.conf.
func (n *Node) config(o Options) string {
	type kv struct{ k, v string }
	defaults := []kv{
		{"listeners.tcp.1", fmt.Sprintf("127.0.0.1:%d", n.AMQPPort)},
		{"management.tcp.port", strconv.Itoa(n.MgmtPort)},
		{"management.tcp.ip", "127.0.0.1"},
		{"loopback_users", "none"},
		{"log.file.level", "info"},
		{"log.console", "false"},
		{"log.exchange", "true"},
		{"log.exchange.level", "info"},
	}
	if o.StatsIntervalMS > 0 {
		defaults = append(defaults, kv{"collect_statistics_interval", strconv.Itoa(o.StatsIntervalMS)})
	}
	overridden := func(k string) bool { _, ok := confValue(o.ExtraConf, k); return ok }
	var b strings.Builder
	b.WriteString("# generated by github.com/amqptop/amqptop/testbroker\n")
	for _, d := range defaults {
		if !overridden(d.k) {
			fmt.Fprintf(&b, "%s = %s\n", d.k, d.v)
		}
	}
	for _, l := range o.ExtraConf {
		b.WriteString(strings.TrimSpace(l) + "\n")
	}
	return b.String()
}

// confValue returns the value the last of lines gives key, if any.
func confValue(lines []string, key string) (string, bool) {
	var val string
	var found bool
	for _, l := range lines {
		k, v, ok := strings.Cut(l, "=")
		if ok && strings.TrimSpace(k) == key {
			val, found = strings.TrimSpace(v), true
		}
	}
	return val, found
}

// buildEnv returns the environment for rabbitmq-server and rabbitmqctl:
// a small whitelist of the caller's environment plus our own settings, so
// no RABBITMQ_*, ERL_* or unprefixed RabbitMQ variable (NODENAME, LOGS...)
// leaks in from the caller.
func (n *Node) buildEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "PATH", k == "LANG", k == "TMPDIR", k == "USER", k == "LOGNAME",
			strings.HasPrefix(k, "LC_"):
			env = append(env, kv)
		}
	}
	if os.Getenv("PATH") == "" {
		env = append(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	}
	short, _, _ := strings.Cut(n.Name, "@")
	advanced := filepath.Join(n.Dir, "advanced.config") // may not exist: fine
	env = append(env,
		"HOME="+filepath.Join(n.Dir, "home"),
		"RABBITMQ_CONF_ENV_FILE="+filepath.Join(n.Dir, "rabbitmq-env.conf"),
		"RABBITMQ_NODENAME="+n.Name,
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		"RABBITMQ_NODE_PORT="+strconv.Itoa(n.AMQPPort),
		"RABBITMQ_DIST_PORT="+strconv.Itoa(n.DistPort),
		"RABBITMQ_MNESIA_BASE="+filepath.Join(n.Dir, "mnesia"),
		"RABBITMQ_LOG_BASE="+n.LogDir,
		"RABBITMQ_CONFIG_FILE="+filepath.Join(n.Dir, "rabbitmq.conf"),
		"RABBITMQ_CONFIG_FILES="+filepath.Join(n.Dir, "conf.d", "*.conf"),
		"RABBITMQ_ADVANCED_CONFIG_FILE="+advanced,
		"RABBITMQ_ENABLED_PLUGINS_FILE="+filepath.Join(n.Dir, "enabled_plugins"),
		"RABBITMQ_PID_FILE="+filepath.Join(n.Dir, short+".pid"),
		"RABBITMQ_MOTD_FILE="+filepath.Join(n.Dir, "motd"),
		"ERL_EPMD_ADDRESS=127.0.0.1",
		"ERL_FLAGS=-kernel inet_dist_use_interface {127,0,0,1}",
		// rabbitmq-server execs erl directly (instead of running it in the
		// background and waiting) when $detached is set, so our child
		// process is the beam.smp process itself.
		"detached=true",
	)
	return env
}

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

	attr := &os.ProcAttr{
		Dir:   n.Dir,
		Env:   n.env,
		Files: []*os.File{devnull, out, out},
		Sys:   sysProcAttr(),
	}
	argv := []string{filepath.Join(n.sbin, "rabbitmq-server")}
	proc, err := startOnLauncher(argv, attr)
	if err != nil {
		return fmt.Errorf("testbroker: starting %s: %w", argv[0], err)
	}
	done := make(chan struct{})
	n.mu.Lock()
	n.proc, n.done = proc, done
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
	done := n.done
	n.mu.Unlock()
	if done == nil {
		return true
	}
	select {
	case <-done:
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
	var ov struct {
		Node string `json:"node"`
	}
	if err := n.getJSON(ctx, "/api/overview", &ov); err != nil {
		return err
	}
	if ov.Node != n.Name {
		return fmt.Errorf("management on port %d answers for node %q, want %q", n.MgmtPort, ov.Node, n.Name)
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
	p := n.proc
	n.mu.Unlock()
	if p != nil && !n.exited() {
		_ = p.Signal(sig)
		if pid := n.readPid(); pid > 0 && pid != p.Pid && processAlive(pid) {
			_ = syscall.Kill(pid, sig)
		}
	}
}

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

// freePorts returns k distinct free TCP ports on 127.0.0.1, avoiding the
// range rabbitmqctl uses for its own distribution listener (35672-35682).
func freePorts(k int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for tries := 0; len(ports) < k && tries < 100; tries++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("testbroker: picking a port: %w", err)
		}
		ls = append(ls, l)
		p := l.Addr().(*net.TCPAddr).Port
		if p >= 35672 && p <= 35682 {
			continue
		}
		ports = append(ports, p)
	}
	if len(ports) < k {
		return nil, errors.New("testbroker: could not pick free ports")
	}
	return ports, nil
}

func randomHex(nbytes int) string {
	b := make([]byte, nbytes)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomCookie() string {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}

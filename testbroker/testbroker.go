// Package testbroker starts and stops private RabbitMQ nodes for the
// project's integration tests, either from the host's own rabbitmq-server
// package (Options.Broker "" or "3": RabbitMQ 3.10.8 on Debian 12) or from
// Debian 13's rabbitmq-server package installed in a chroot (Options.Broker
// "4": RabbitMQ 4.0.5 on Erlang 27 at the time of writing). [Brokers] lists the kinds tests should
// cover; [SharedFor] gives one node per kind per test binary.
//
// Guarantees (both kinds unless noted):
//
//   - A node started here never shares anything with another broker on the
//     machine (in particular the system node rabbit@localhost on port 5672):
//     it gets its own randomly suffixed Erlang node name, its own freshly
//     picked ports (AMQP, management, Erlang distribution), its own data, log
//     and config files under its own directory, its own HOME and a random
//     Erlang cookie of its own. /etc/rabbitmq/rabbitmq-env.conf,
//     /etc/rabbitmq/rabbitmq.conf, conf.d, advanced.config and
//     enabled_plugins are never read (neither the host's nor the chroot's):
//     every path is pointed at our own files.
//   - Everything listens on 127.0.0.1 only (AMQP, management and Erlang
//     distribution). The shared epmd on 127.0.0.1:4369 is used to register
//     our node names (a chroot shares the host's network, so 4.x nodes
//     register there too); that does not touch any other node.
//   - The real rabbitmq-server and rabbitmqctl scripts from the package's
//     sbin directory are run directly, as the calling user, never the
//     /usr/sbin wrappers that switch to the rabbitmq user and its cookie.
//     [Node.Ctl] always passes "-n <our node>" and runs with our HOME, so it
//     can only ever authenticate against our own node (any other node has a
//     different cookie). For Broker "4" the node and rabbitmqctl are the
//     chroot's own (4.x) scripts, run with the chroot as their root
//     directory (the forked child calls chroot(2) itself just before exec,
//     via syscall.SysProcAttr.Chroot, so no chroot(8) or env(1) process
//     sits in between) and a clean environment that holds nothing of the
//     caller's.
//   - On Linux a node is killed by the kernel (SIGKILL via
//     PR_SET_PDEATHSIG) if the test binary dies without stopping it, so no
//     beam.smp process outlives the tests: rabbitmq-server, erl and erlexec
//     all exec, so the process we fork is the beam.smp process itself, for
//     both kinds. [Node.Stop] stops it cleanly (resuming it first if it was
//     paused with [Node.Pause]) and removes the temporary directory it
//     created; temporary directories left behind by test binaries that died
//     are removed by the next Start.
//   - Start returns only when the node is fully usable: the AMQP port
//     accepts connections, GET /api/overview answers 200 for guest:guest as
//     this node, the amq.rabbitmq.event and amq.rabbitmq.log exchanges
//     exist and rabbitmqctl reaches the node. [Node.Version] then holds the
//     RabbitMQ version the node reports.
//
// The host's rabbitmq-server installation is found by globbing
// /usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin (highest version wins); the
// environment variable AMQPTOP_RABBITMQ_SBIN overrides that directory.
//
// Broker "4" needs root (chroot(2), mount(2)) and the chroot made by the
// repository's scripts/rabbitmq4-setup: $AMQPTOP_RABBITMQ4_CHROOT, else
// $XDG_CACHE_HOME/amqptop-rabbitmq4, else ~/.cache/amqptop-rabbitmq4 (see
// [Rabbitmq4Chroot]). Without it (or without root) Start returns an error
// wrapping [ErrNoRabbitMQ4] and [ErrNotInstalled] that names the script.
// Each 4.x node's directory lives inside the chroot, by default
// $CHROOT/tmp/amqptop-testbroker-*/<node> (an Options.Dir must lie inside
// the chroot too); Node.Dir, Node.LogDir and [Node.LogFile] are host paths.
// The chroot's /proc is mounted when a 4.x node or rabbitmqctl starts and
// unmounted (best effort) when one of our nodes stops and no process of
// anyone's runs inside the chroot any more; a lock file in the chroot's
// /tmp keeps parallel test binaries from unmounting it under each other.
//
// With [Options.TLS] a node also listens for AMQP over TLS and for the
// management API over HTTPS, on two more fresh ports on 127.0.0.1
// ([Node.AMQPSURL], [Node.MgmtTLSURL]), requiring by default a client
// certificate signed by its own CA. Start makes the certificates with
// crypto/x509 (no openssl) in <Dir>/tls, inside the chroot for Broker "4",
// where the node reads them; [TLSFiles] lists them, with an unrelated CA
// for "unknown authority" tests, and [Node.ClientTLS] gives a client's
// tls.Config.
//
// Each node's main log file is <Dir>/log/<node name>.log, for example
// /tmp/amqptop-testbroker-123/amqptop-test-1a2b3c/log/amqptop-test-1a2b3c@localhost.log
// (see [Node.LogFile]).
package testbroker

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// SbinEnv is the environment variable that, when set, names the directory
// holding the real rabbitmq-server and rabbitmqctl scripts.
const SbinEnv = "AMQPTOP_RABBITMQ_SBIN"

// sbinGlob is where the Debian/Ubuntu rabbitmq-server package installs the
// real (non-wrapper) scripts.
const sbinGlob = "/usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin"

// Rabbitmq4ChrootEnv is the environment variable that, when set, names the
// chroot holding Debian 13's rabbitmq-server for Broker "4".
const Rabbitmq4ChrootEnv = "AMQPTOP_RABBITMQ4_CHROOT"

// ErrNotInstalled is returned (wrapped) when no rabbitmq-server
// installation can be found, or (for Broker "4") when the chroot is missing
// or the caller is not root.
var ErrNotInstalled = errors.New("testbroker: rabbitmq-server is not installed")

// ErrNoRabbitMQ4 is returned (wrapped) by Start for Broker "4" when the
// Debian 13 chroot is missing or incomplete or the caller is not root. Such
// errors also match [ErrNotInstalled] with errors.Is.
var ErrNoRabbitMQ4 = errors.New("testbroker: RabbitMQ 4 is not available")

// rmq4Error is an ErrNoRabbitMQ4 (and so ErrNotInstalled) with the reason.
type rmq4Error struct{ reason string }

func (e *rmq4Error) Error() string { return ErrNoRabbitMQ4.Error() + ": " + e.reason }

func (e *rmq4Error) Is(target error) bool {
	return target == ErrNoRabbitMQ4 || target == ErrNotInstalled
}

func noRabbitMQ4(format string, args ...any) error {
	return &rmq4Error{fmt.Sprintf(format, args...)}
}

// Broker kinds for [Options.Broker].
const (
	// Broker3 is the host's installed rabbitmq-server package (3.10.8 on
	// Debian 12). "" means the same.
	Broker3 = "3"
	// Broker4 is RabbitMQ 4.x from Debian 13's package in a chroot.
	Broker4 = "4"
)

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
	// "" means a new temporary directory, removed by [Node.Stop]. For
	// Broker "4" it must lie inside the chroot (see [Rabbitmq4Chroot]).
	Dir string
	// Broker picks the RabbitMQ installation: "" or "3" for the host's
	// package, "4" for RabbitMQ 4.x in the Debian 13 chroot.
	Broker string
	// TLS, when set, gives the node TLS listeners for AMQP and the
	// management API besides the plain ones, with certificates made at
	// Start (see [TLSOptions], [TLSFiles], [Node.AMQPSURL],
	// [Node.MgmtTLSURL]). ExtraConf may override any of their lines.
	TLS *TLSOptions
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
	// TLSPort is the AMQP-over-TLS listener port on 127.0.0.1 (0 without
	// Options.TLS).
	TLSPort int
	// MgmtTLSPort is the management API's HTTPS port on 127.0.0.1 (0
	// without Options.TLS).
	MgmtTLSPort int
	// TLSFiles are the PEM files of a TLS node (all "" without
	// Options.TLS): Node.CAFile, Node.ClientCertFile, Node.OtherCAFile...
	TLSFiles
	// Dir is the node's own directory (config, HOME, data, logs).
	Dir string
	// LogDir is the directory RabbitMQ writes its log files into.
	LogDir string
	// Broker is the kind of node: "3" (host package) or "4" (chroot).
	Broker string
	// Version is the RabbitMQ version the node reports (rabbitmq_version
	// of GET /api/overview), e.g. "3.10.8" or "4.0.5".
	Version string

	root      string // for Broker "4": the chroot (host path); "" otherwise
	sbin      string // as seen by the node: inside the chroot for Broker "4"
	env       []string
	exchanges []string // exchanges that must exist before the node counts as ready
	tempDir   string   // removed on Stop when non-empty
	watermark string   // vm_memory_high_watermark that clears a memory alarm

	mu      sync.Mutex
	proc    *os.Process
	done    chan struct{} // closed when proc has exited
	stopped bool
	paused  bool
}

// normBroker maps "" to "3" and rejects unknown kinds.
func normBroker(b string) (string, error) {
	switch strings.TrimSpace(b) {
	case "", Broker3:
		return Broker3, nil
	case Broker4:
		return Broker4, nil
	}
	return "", fmt.Errorf("testbroker: unknown Options.Broker %q (want \"3\" or \"4\")", b)
}

// Rabbitmq4Chroot returns the chroot holding Debian 13's rabbitmq-server
// for Broker "4": $AMQPTOP_RABBITMQ4_CHROOT if set, otherwise
// $XDG_CACHE_HOME/amqptop-rabbitmq4, otherwise ~/.cache/amqptop-rabbitmq4
// (the same place scripts/rabbitmq4-setup creates it). The error wraps
// [ErrNoRabbitMQ4] (and so [ErrNotInstalled]) when the chroot has no
// rabbitmq-server or the caller is not root (chroot(2) needs it).
func Rabbitmq4Chroot() (string, error) {
	dir := os.Getenv(Rabbitmq4ChrootEnv)
	if dir == "" {
		cache := os.Getenv("XDG_CACHE_HOME")
		if cache == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", noRabbitMQ4("cannot find its chroot: %v (set %s; create it with scripts/rabbitmq4-setup)", err, Rabbitmq4ChrootEnv)
			}
			cache = filepath.Join(home, ".cache")
		}
		dir = filepath.Join(cache, "amqptop-rabbitmq4")
	}
	if _, _, err := chrootSbin(dir); err != nil {
		return "", err
	}
	if os.Geteuid() != 0 {
		return "", noRabbitMQ4("it runs in the chroot %s (made by scripts/rabbitmq4-setup) and needs root for chroot(2) and mounting /proc: run the tests as root", dir)
	}
	return dir, nil
}

// chrootSbin returns the chroot's real path and its rabbitmq sbin directory
// as seen from inside the chroot (highest version wins).
func chrootSbin(dir string) (root, sbin string, err error) {
	setup := "create it with scripts/rabbitmq4-setup (as root)"
	if os.Getenv(Rabbitmq4ChrootEnv) != "" {
		setup = fmt.Sprintf("create it with %s=%s scripts/rabbitmq4-setup (as root)", Rabbitmq4ChrootEnv, dir)
	}
	if !filepath.IsAbs(dir) {
		return "", "", noRabbitMQ4("its chroot %q is not an absolute path (%s)", dir, Rabbitmq4ChrootEnv)
	}
	root, err = filepath.EvalSymlinks(dir)
	if err != nil {
		return "", "", noRabbitMQ4("no chroot at %s (%v): %s", dir, err, setup)
	}
	matches, _ := filepath.Glob(filepath.Join(root, sbinGlob))
	sort.Slice(matches, func(i, j int) bool { return versionLess(matches[i], matches[j]) })
	for i := len(matches) - 1; i >= 0; i-- {
		if checkSbin(matches[i]) == nil {
			return root, strings.TrimPrefix(matches[i], root), nil
		}
	}
	return "", "", noRabbitMQ4("the chroot %s has no rabbitmq-server (nothing matches %s inside it): %s",
		dir, sbinGlob, setup)
}

// checkSbin checks that dir holds executable rabbitmq-server and rabbitmqctl.
func checkSbin(dir string) error {
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

// inside returns the path p (a host path under the chroot) as the node
// sees it; for host nodes it returns p unchanged.
func (n *Node) inside(p string) string {
	if n.root == "" {
		return p
	}
	return "/" + strings.TrimLeft(strings.TrimPrefix(p, n.root), "/")
}

// SbinDir returns the directory holding the real rabbitmq-server and
// rabbitmqctl scripts: $AMQPTOP_RABBITMQ_SBIN if set, otherwise the highest
// version matching /usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin. The error
// wraps [ErrNotInstalled] when nothing usable is found.
func SbinDir() (string, error) {
	check := checkSbin
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
	kind, err := normBroker(o.Broker)
	if err != nil {
		return nil, err
	}
	var root, sbin string
	if kind == Broker4 {
		dir, err := Rabbitmq4Chroot()
		if err != nil {
			return nil, err
		}
		if root, sbin, err = chrootSbin(dir); err != nil {
			return nil, err
		}
	} else if sbin, err = SbinDir(); err != nil {
		return nil, err
	}
	base := o.Name
	if base == "" {
		base = "amqptop-test"
	}
	short := base + "-" + randomHex(3)
	nports := 3
	if o.TLS != nil {
		nports = 5
	}
	ports, err := FreePorts(nports)
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
		Broker:   kind,
		root:     root,
		sbin:     sbin,
	}
	if o.TLS != nil {
		n.TLSPort, n.MgmtTLSPort = ports[3], ports[4]
	}
	n.watermark = "0.4" // 3.10's default
	if kind == Broker4 {
		n.watermark = "0.6" // 4.0's default
	}
	if v, ok := confValue(o.ExtraConf, "vm_memory_high_watermark.relative"); ok {
		n.watermark = v
	}
	tmp := os.TempDir()
	if root != "" {
		tmp = filepath.Join(root, "tmp")
	}
	parent := o.Dir
	if parent == "" {
		cleanStale(tmp)
		parent, err = os.MkdirTemp(tmp, tempPrefix)
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
	} else if root != "" {
		if err := os.MkdirAll(parent, 0o700); err != nil {
			return nil, fmt.Errorf("testbroker: %w", err)
		}
		real, err := filepath.EvalSymlinks(parent)
		if err != nil {
			return nil, fmt.Errorf("testbroker: %w", err)
		}
		if rel, err := filepath.Rel(root, real); err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
			return nil, fmt.Errorf("testbroker: Options.Dir %s must lie inside the RabbitMQ 4 chroot %s (e.g. under %s)", o.Dir, root, filepath.Join(root, "tmp"))
		}
		parent = real
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

var (
	cleanStaleMu   sync.Mutex
	cleanStaleDone = map[string]bool{}
)

// cleanStale removes temp dirs under tmp left behind by test processes that
// died without calling Stop (their nodes died with them, see the package
// doc). It runs once per tmp directory per process.
func cleanStale(tmp string) {
	cleanStaleMu.Lock()
	defer cleanStaleMu.Unlock()
	if cleanStaleDone[tmp] {
		return
	}
	cleanStaleDone[tmp] = true
	dirs, _ := filepath.Glob(filepath.Join(tmp, tempPrefix+"*"))
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

// FreePorts returns k distinct free TCP ports on 127.0.0.1, for a node's
// listeners (and extra ones a test gives it, Options.ExtraConf). They lie
// below the kernel's ephemeral range (ip_local_port_range): a node killed
// and started again must find its ports free, and an ephemeral one may by
// then be any process's outgoing connection (seen: eaddrinuse on restart
// while a second test run was busy). Also avoided: the ports RabbitMQ
// uses by default (a shared broker's) and the range rabbitmqctl uses for
// its own distribution listener (35672-35682).
func FreePorts(k int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	lo, hi := 10000, ephemeralLow()
	var ports []int
	for tries := 0; len(ports) < k && tries < 1000; tries++ {
		p := lo + randomInt(hi-lo)
		if reservedPort(p) {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue // taken
		}
		ls = append(ls, l)
		ports = append(ports, p)
	}
	if len(ports) < k {
		return nil, errors.New("testbroker: could not pick free ports")
	}
	return ports, nil
}

// reservedPort: RabbitMQ's default ports (AMQP, TLS, management, the
// distribution port of node rabbit, stream, Prometheus, MQTT, STOMP) and
// rabbitmqctl's range.
func reservedPort(p int) bool {
	switch p {
	case 5671, 5672, 15671, 15672, 15674, 15675, 15692, 25672, 1883, 8883, 61613, 61614, 5551, 5552:
		return true
	}
	return p >= 35672 && p <= 35682
}

// ephemeralLow is the first port of the kernel's ephemeral range
// (32768 when it cannot be read).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 11000 {
				return n
			}
		}
	}
	return 32768
}

func randomInt(n int) int {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return int(binary.BigEndian.Uint64(b[:]) % uint64(n))
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

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
	"context"
	"crypto/rand"
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

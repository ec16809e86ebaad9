package zoo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Library is one client library of the zoo.
type Library struct {
	// ID is the zoo's id of the library (fixtures' "library" field and the
	// capture command's -libs flag).
	ID string
	// Package says which package this is, for humans.
	Package string
	// prepare checks that the library is installed, builds what needs
	// building into buildDir and returns the command line that runs the
	// client program.
	prepare func(ctx context.Context, zooDir, buildDir string) ([]string, error)
}

// ErrClientUnavailable is returned (wrapped) by [Capture] when a client
// library or its runtime is not installed.
var ErrClientUnavailable = errors.New("zoo: client library unavailable")

// Libraries is the list of client libraries, in fixture order.
var Libraries = []Library{
	{ID: "amqp-tools", Package: "librabbitmq-c command-line tools (amqp-tools)", prepare: prepareCLI},
	{ID: "bunny", Package: "Bunny (Ruby, ruby-bunny)", prepare: prepareRuby},
	{ID: "go", Package: "github.com/rabbitmq/amqp091-go", prepare: prepareGo},
	{ID: "java", Package: "RabbitMQ Java client (librabbitmq-client-java)", prepare: prepareJava},
	{ID: "kombu", Package: "kombu with its py-amqp transport (python3-kombu)", prepare: preparePython("kombu")},
	{ID: "node", Package: "amqplib (npm) on Node.js", prepare: prepareNode},
	{ID: "php-amqplib", Package: "php-amqplib (php-amqplib)", prepare: preparePHP},
	{ID: "pika", Package: "pika (python3-pika)", prepare: preparePython("pika")},
	{ID: "py-amqp", Package: "py-amqp (python3-amqp, module amqp)", prepare: preparePython("amqp")},
}

// LibraryByID returns the library with the given id.
func LibraryByID(id string) (Library, bool) {
	for _, l := range Libraries {
		if l.ID == id {
			return l, true
		}
	}
	return Library{}, false
}

// DefaultZooDir returns the zoo's source directory (where clients/ is),
// found from this file's location at build time.
func DefaultZooDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "zoo"
	}
	return filepath.Dir(file)
}

func unavailable(lib, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrClientUnavailable, lib, fmt.Sprintf(format, args...))
}

// runQuiet runs a command and returns its combined output.
func runQuiet(ctx context.Context, dir string, argv ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func buildGo(ctx context.Context, zooDir, buildDir, pkg, name string) ([]string, error) {
	bin := filepath.Join(buildDir, name)
	if _, err := runQuiet(ctx, filepath.Dir(zooDir), goTool(), "build", "-o", bin, "./zoo/clients/"+pkg); err != nil {
		return nil, err
	}
	return []string{bin}, nil
}

func prepareGo(ctx context.Context, zooDir, buildDir string) ([]string, error) {
	return buildGo(ctx, zooDir, buildDir, "go", "zoo-go")
}

func prepareCLI(ctx context.Context, zooDir, buildDir string) ([]string, error) {
	for _, t := range []string{"amqp-publish", "amqp-consume", "amqp-get", "amqp-declare-queue"} {
		if _, err := exec.LookPath(t); err != nil {
			return nil, unavailable("amqp-tools", "%s not found (apt-get install amqp-tools)", t)
		}
	}
	return buildGo(ctx, zooDir, buildDir, "cli", "zoo-cli")
}

// python returns a Python 3 interpreter that can import module: Debian's
// /usr/bin/python3 first (the python3-* packages live there; a pyenv or
// venv python3 earlier in PATH does not see them), then python3 on PATH.
func python(ctx context.Context, module string) (string, error) {
	var last error
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if _, err := runQuiet(ctx, "", p, "-c", "import "+module); err != nil {
			last = err
			continue
		}
		return p, nil
	}
	return "", last
}

func preparePython(module string) func(context.Context, string, string) ([]string, error) {
	lib := map[string]string{"amqp": "py-amqp"}[module]
	if lib == "" {
		lib = module
	}
	return func(ctx context.Context, zooDir, _ string) ([]string, error) {
		py, err := python(ctx, module)
		if err != nil {
			return nil, unavailable(lib, "no python3 can import %s: %v", module, err)
		}
		return []string{py, "-u", filepath.Join(zooDir, "clients", "python", "zoo.py"), lib}, nil
	}
}

func prepareRuby(ctx context.Context, zooDir, _ string) ([]string, error) {
	if _, err := runQuiet(ctx, "", "ruby", "-e", `require "bunny"`); err != nil {
		return nil, unavailable("bunny", "ruby cannot load bunny: %v", err)
	}
	return []string{"ruby", filepath.Join(zooDir, "clients", "ruby", "zoo.rb")}, nil
}

// PHPAutoload is where Debian's php-amqplib package puts its autoloader.
const PHPAutoload = "/usr/share/php/PhpAmqpLib/autoload.php"

func preparePHP(ctx context.Context, zooDir, _ string) ([]string, error) {
	if _, err := exec.LookPath("php"); err != nil {
		return nil, unavailable("php-amqplib", "php not found")
	}
	if !fileExists(PHPAutoload) {
		return nil, unavailable("php-amqplib", "%s not found (apt-get install php-amqplib)", PHPAutoload)
	}
	return []string{"php", filepath.Join(zooDir, "clients", "php", "zoo.php")}, nil
}

// Java jars from Debian's librabbitmq-client-java and libslf4j-java.
var javaJars = []string{"/usr/share/java/amqp-client.jar", "/usr/share/java/slf4j-api.jar"}

func prepareJava(ctx context.Context, zooDir, buildDir string) ([]string, error) {
	for _, j := range javaJars {
		if !fileExists(j) {
			return nil, unavailable("java", "%s not found", j)
		}
	}
	for _, t := range []string{"javac", "java"} {
		if _, err := exec.LookPath(t); err != nil {
			return nil, unavailable("java", "%s not found", t)
		}
	}
	out := filepath.Join(buildDir, "java")
	cp := strings.Join(javaJars, ":")
	if _, err := runQuiet(ctx, "", "javac", "-g", "-nowarn", "-cp", cp, "-d", out, filepath.Join(zooDir, "clients", "java", "Zoo.java")); err != nil {
		return nil, err
	}
	return []string{"java", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-cp", out + ":" + cp, "Zoo"}, nil
}

func prepareNode(ctx context.Context, zooDir, _ string) ([]string, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return nil, unavailable("node", "node not found")
	}
	dir := filepath.Join(zooDir, "clients", "node")
	if !fileExists(filepath.Join(dir, "node_modules", "amqplib", "package.json")) {
		if _, err := exec.LookPath("npm"); err != nil {
			return nil, unavailable("node", "amqplib is not installed in %s and npm is not found", dir)
		}
		if _, err := runQuiet(ctx, dir, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"); err != nil {
			return nil, unavailable("node", "npm ci: %v", err)
		}
	}
	return []string{"node", filepath.Join(dir, "zoo.js")}, nil
}

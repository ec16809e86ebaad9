package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/amqptop/amqptop/testbroker"
)

var binary string // built once for the tests that need a real process

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "amqptop-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "amqptop")
	if out, err := exec.Command("go", "build", "-o", binary, "github.com/amqptop/amqptop").CombinedOutput(); err != nil {
		panic("building amqptop: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	testbroker.StopShared()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testEnviron is the environment commands run with in tests: a HOME of
// their own, so no config file of the machine's user is read.
func testEnviron(t *testing.T, extra ...string) []string {
	t.Helper()
	return append([]string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}, extra...)
}

// cli runs the command line in-process.
func cli(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(args, strings.NewReader(stdin), &out, &errb, testEnviron(t))
	return code, out.String(), errb.String()
}

// resolved returns the config a command line resolves to, without
// running the command (nil and the exit code when it does not parse).
func resolved(t *testing.T, environ []string, args ...string) (*config, string, int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	a := newApp(strings.NewReader(""), &out, &errb, environ)
	var got *config
	var cmd string
	a.run = func(_ context.Context, name string, c *config, _ []string) error {
		got, cmd = c, name
		return nil
	}
	code := a.exec(args)
	return got, cmd, code, errb.String()
}

// The acceptance command, exactly: every scenario's closes with the
// right cause ids, one connection.closed per closed connection.
func TestWatchDemoJSONAcceptance(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 60 s of wall-clock time (-short)")
	}
	t.Parallel()
	code, out, errs := cli(t, "", "watch", "--demo", "--json", "--for", "60s", "--speed", "10")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	causes := map[string]int{}
	closes := map[string]int{}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", i+1, err, line)
		}
		for _, k := range []string{"ts", "type", "source", "node", "conn", "client", "user", "vhost", "peer", "channel", "code", "text", "cause"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("line %d lacks %q: %s", i+1, k, line)
			}
		}
		// The demo's observations are tagged as the live sources' would be.
		if _, err := time.Parse(time.RFC3339Nano, m["ts"].(string)); err != nil ||
			!slices.Contains([]any{"probe", "management", "events", "log"}, m["source"]) {
			t.Fatalf("line %d: ts %v source %v", i+1, m["ts"], m["source"])
		}
		if c, ok := m["cause"].(map[string]any); ok {
			causes[c["id"].(string)]++
		}
		if m["type"] == "connection.closed" && m["update"] == nil {
			closes[m["conn"].(string)]++
		}
	}
	for _, id := range []string{"heartbeat-timeout", "network-interruption", "unexpected-frame", "channel-not-open", "access-refused",
		"management-force-close", "resource-alarm-blocked", "consumer-ack-timeout", "queue-arg-mismatch", "reconnect-flapping",
		"broker-shutdown", "not-found"} {
		if causes[id] == 0 {
			t.Errorf("no event with cause %s in 10 simulated minutes", id)
		}
	}
	for conn, n := range closes {
		if n != 1 {
			t.Errorf("%s: %d connection.closed lines", conn, n)
		}
	}
	if len(closes) < 30 {
		t.Errorf("only %d closed connections", len(closes))
	}
}

func TestWatchFailOn(t *testing.T) {
	start := time.Now()
	code, out, errs := cli(t, "", "watch", "--demo", "--speed", "0", "--fail-on", "unexpected-frame, heartbeat-timeout", "--for", "30s")
	if code != exitFailOn {
		t.Fatalf("exit %d, want 3: %s", code, errs)
	}
	if !strings.Contains(errs, "fail-on: heartbeat-timeout on thumbnailer") {
		t.Errorf("stderr: %q", errs)
	}
	if !strings.Contains(out, "→ heartbeat-timeout") || time.Since(start) > 10*time.Second {
		t.Errorf("the failing event is printed, and it stops at once: %v\n%s", time.Since(start), out)
	}
}

func TestUsageErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "rules.yaml")
	os.WriteFile(bad, []byte("causes:\n  - id: mine\n    title: Mine\n    mtach:\n      - text: x\n"), 0o644)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"watch", "--demo", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"watch", "--demo", "--pol", "5s"}, "did you mean poll"},
		{[]string{"watch", "--demo", "--jsn"}, "did you mean json"},
		{[]string{"wacth", "--demo"}, "Did you mean this?\n\twatch"},
		{[]string{"explian", "x"}, "Did you mean this?\n\texplain"},
		{[]string{"explain", "--poll", "5s", "x"}, "Usage: amqptop explain [TEXT…] [flags]"},
		{[]string{"watch", "--demo", "--fail-on", "meteor"}, `unknown cause "meteor"`},
		{[]string{"watch", "--demo", "--scenario", "meteor"}, "unknown scenario"},
		{[]string{"watch", "--demo", "--speed", "-2"}, "--speed"},
		{[]string{"watch", "--demo", "extra"}, `unexpected argument "extra"`},
		{[]string{"watch", "--demo", "--rules", bad}, bad + ":4: unknown key \"mtach\""},
		{[]string{"watch", "--demo", "--rules", "/nonexistent/rules.yaml"}, "no such file"},
		{[]string{"explain", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	}
	for _, c := range cases {
		code, _, errs := cli(t, "", c.args...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q (want 2 and %q)", c.args, code, errs, c.want)
		}
	}
	var out, errb bytes.Buffer
	if code := Run([]string{"watch", "--demo"}, strings.NewReader(""), &out, &errb, testEnviron(t, "AMQPTOP_SPEED=fast")); code != exitUsage ||
		!strings.Contains(errb.String(), "AMQPTOP_SPEED") {
		t.Errorf("a bad environment variable is a usage error: %d %s", code, errb.String())
	}
}

func TestWatchStopsCleanlyOnSIGTERM(t *testing.T) {
	cmd := exec.Command(binary, "watch", "--demo", "--speed", "20")
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		t.Fatal("did not stop on SIGTERM")
	}
	s := out.String()
	if !strings.Contains(s, "probe.connected") || !strings.Contains(s, "heartbeat-timeout") || !strings.HasSuffix(s, "\n") {
		t.Errorf("output flushed up to the signal:\n%s", s)
	}
}

func TestExplain(t *testing.T) {
	code, out, _ := cli(t, "", "explain", `Exception (501) Reason: "read tcp 10.0.0.5:51234->10.0.0.10:5672: read: connection reset by peer"`,
		"connection closed by server (405) UNEXPECTED_FRAME")
	if code != 0 || !strings.Contains(out, "network-interruption") || !strings.Contains(out, "unexpected-frame") ||
		!strings.Contains(out, "miscoded") || !strings.Contains(out, "won't help") {
		t.Errorf("explain args: %d\n%s", code, out)
	}
	// stdin: a 3.9+ two-line entry is one text; a client line is another.
	in := "2026-11-23 10:00:00.123456+00:00 [error] <0.5.0> closing AMQP connection <0.5.0> (10.0.0.5:51234 -> 10.0.0.10:5672):\n" +
		"2026-11-23 10:00:00.123456+00:00 [error] <0.5.0> missed heartbeats from client, timeout: 60s\n" +
		"\n" + `pika.exceptions.ConnectionClosedByBroker: (320, "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'")` + "\n"
	code, out, _ = cli(t, in, "explain", "--json")
	var got []explainJSON
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var j explainJSON
		if err := json.Unmarshal(sc.Bytes(), &j); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		got = append(got, j)
	}
	if code != 0 || len(got) != 2 || got[0].Cause == nil || got[0].Cause.ID != "heartbeat-timeout" || got[0].Confidence != "high" ||
		got[1].Cause == nil || got[1].Cause.ID != "broker-shutdown" || len(got[0].Cause.Do) == 0 {
		t.Fatalf("explain stdin: %d %+v", code, got)
	}
	// --together: the client's view and the broker's word about one close.
	code, out, _ = cli(t, "", "explain", "--together",
		`Exception (501) Reason: "read tcp 10.0.0.5:51234->10.0.0.10:5672: read: connection reset by peer"`,
		"closing AMQP connection <0.5.0> (10.0.0.5:51234 -> 10.0.0.10:5672):\nmissed heartbeats from client, timeout: 60s")
	if code != 0 || !strings.Contains(out, "heartbeat-timeout") || strings.Count(out, "▸") != 2 || strings.Count(out, "cause ") != 1 {
		t.Errorf("together:\n%s", out)
	}
	// A bare line of the broker's log, without its prefix.
	// The broker's words, but they leave the client's reason open: a
	// candidate list with the check for each, not a verdict.
	_, out, _ = cli(t, "", "explain", "client unexpectedly closed TCP connection")
	if !strings.Contains(out, "likely network-interruption") || !strings.Contains(out, "confidence: low") ||
		!strings.Contains(out, "candidates  1. network-interruption") || !strings.Contains(out, "client-heartbeat-timeout") ||
		!strings.Contains(out, "check:") {
		t.Errorf("bare log line:\n%s", out)
	}
	// A pasted credential is never echoed, in text or JSON.
	for _, args := range [][]string{{"explain"}, {"explain", "--json"}} {
		_, out, _ = cli(t, "", append(args, "dial amqp://billing:s3cr3t-pw@mq-1:5672/%2F: connection refused", "password=hunter2 retrying")...)
		if strings.Contains(out, "s3cr3t-pw") || strings.Contains(out, "hunter2") || !strings.Contains(out, "billing:xxxxx@mq-1") {
			t.Errorf("%v echoed a credential:\n%s", args, out)
		}
	}
	// Honest about what it does not know.
	_, out, _ = cli(t, "", "explain", `Exception (406) Reason: "PRECONDITION_FAILED - the moon is in the wrong phase"`)
	if !strings.Contains(out, "not recognised") || !strings.Contains(out, "406 PRECONDITION_FAILED") || !strings.Contains(out, "means") {
		t.Errorf("unknown text:\n%s", out)
	}
}

func TestExplainBadInput(t *testing.T) {
	if code, _, errs := cli(t, "", "explain"); code != exitNoInput || !strings.Contains(errs, "nothing to diagnose") {
		t.Errorf("no input: %d %q", code, errs)
	}
	garbage := string([]byte{0, 1, 2, 0xff, 0xfe, '\n', 0x1b, '[', '2', 'J', '\n'}) + strings.Repeat("x", 1<<20) + "\n"
	code, out, errs := cli(t, garbage, "explain")
	if code != 0 || strings.Count(out, "▸") != 3 || strings.Count(out, "cause       not recognised") != 3 || strings.Contains(out, "\x1b[2J") {
		t.Errorf("garbage: exit %d, %q, out has %d bytes", code, errs, len(out))
	}
	code, _, errs = cli(t, strings.Repeat("y", 5<<20), "explain")
	if code != exitError || !strings.Contains(errs, "longer than 4 MiB") {
		t.Errorf("a 5 MiB line: %d %q", code, errs)
	}
}

func TestCausesAndRules(t *testing.T) {
	_, out, _ := cli(t, "", "causes")
	for _, id := range []string{"unexpected-frame", "channel-not-open", "frame-error", "network-interruption", "heartbeat-timeout",
		"access-refused", "vhost-not-allowed", "permission-denied", "broker-shutdown", "management-force-close", "connection-refused",
		"resource-alarm-blocked", "consumer-ack-timeout", "unknown-delivery-tag", "queue-arg-mismatch", "not-found",
		"exclusive-queue-locked", "channel-max-exceeded", "connection-limit-reached", "message-too-large", "client-closed",
		"internal-error", "tls-error", "command-invalid", "not-implemented", "reconnect-flapping"} {
		if !strings.Contains(out, id+" ") {
			t.Errorf("causes lacks %s", id)
		}
	}
	rules := filepath.Join(t.TempDir(), "rules.yaml")
	os.WriteFile(rules, []byte(`causes:
  - id: billing-quota
    title: Billing's own quota guard
    happened: billing-api closes its connection when its quota is spent.
    do: [Raise the quota in billing's config.]
    docs: [https://wiki.example/billing-quota]
    match:
      - client: 'QuotaExceeded'
`), 0o644)
	_, out, _ = cli(t, "", "explain", "--rules", rules, "billing.QuotaExceeded: closing AMQP connection")
	if !strings.Contains(out, "billing-quota") {
		t.Errorf("a user's rule:\n%s", out)
	}
	code, out, _ := cli(t, "", "causes", "--json")
	var all []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &all) != nil || len(all) < 26 {
		t.Errorf("causes --json: %d, %d entries", code, len(all))
	}
}

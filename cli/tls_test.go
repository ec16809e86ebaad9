package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/amqptop/amqptop/model"
	"github.com/amqptop/amqptop/testbroker"
)

// tlsTestNode starts a private TLS node of the default broker version
// (verify_peer, fail_if_no_peer_cert, management over TLS too; its CA and
// certificates made by testbroker with crypto/x509). The monitor's own
// TLS test runs both broker versions; this one is about the command line.
func tlsTestNode(t *testing.T) *testbroker.Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	n, err := testbroker.Start(ctx, testbroker.Options{Name: "amqptop-cli-tls", StatsIntervalMS: 1000, TLS: &testbroker.TLSOptions{}})
	if err != nil {
		testbroker.Unavailable(t, fmt.Errorf("cannot start a TLS node: %w", err))
	}
	t.Cleanup(func() { n.Stop() })
	return n
}

// TLS from the command line, against a private node that requires a
// client certificate: the flags (and their AMQPTOP_* variables) reach
// every source; mutual TLS works end to end; each way of getting it wrong
// says what to do, naming the flag; --insecure-skip-verify works and is
// warned about in red, on stderr and in the dashboard's header; a TLS
// file that cannot work is a usage error naming its flag.
func TestTLSFromTheCommandLine(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (-short)")
	}
	t.Parallel() // mostly waiting on timeouts and heartbeats
	n := tlsTestNode(t)
	// The password is not in the URL (the README's advice).
	amqps := fmt.Sprintf("amqps://guest@127.0.0.1:%d/", n.TLSPort)
	mgmts := fmt.Sprintf("https://guest@127.0.0.1:%d", n.MgmtTLSPort)
	base := []string{"--url", amqps, "--mgmt-url", mgmts, "--poll", "1s", "--heartbeat", "5s"}
	client := []string{"--client-cert", n.ClientCertFile, "--client-key", n.ClientKeyFile}
	all := []model.Source{model.SourceProbe, model.SourceEvents, model.SourceLog, model.SourceManagement}

	// run resolves a command line as amqptop does and runs its sources
	// into a state.
	run := func(t *testing.T, environ []string, args ...string) *stateRun {
		t.Helper()
		c, _, code, errs := resolved(t, append(testEnviron(t, "AMQPTOP_PASSWORD=guest"), environ...), append(append([]string{"watch"}, base...), args...)...)
		if c == nil {
			t.Fatalf("exit %d: %s", code, errs)
		}
		return startState(t, c, false)
	}
	up := func(t *testing.T, r *stateRun, srcs ...model.Source) {
		t.Helper()
		r.waitState(t, "every source up", 40*time.Second, func(*model.State) bool {
			for _, s := range srcs {
				if sourceIn(r.st, s).Health != model.HealthUp {
					return false
				}
			}
			return true
		})
	}
	// down waits for src to be down with a hint that names each of flags.
	down := func(t *testing.T, r *stateRun, src model.Source, flags ...string) model.SourceView {
		t.Helper()
		r.waitState(t, src.String()+" down naming "+strings.Join(flags, ", "), 40*time.Second, func(*model.State) bool {
			v := sourceIn(r.st, src)
			if v.Health != model.HealthDown {
				return false
			}
			for _, f := range flags {
				if !strings.Contains(v.Hint, f) {
					return false
				}
			}
			return true
		})
		return r.source(src)
	}

	t.Run("mutual TLS by flags", func(t *testing.T) {
		r := run(t, nil, append([]string{"--ca-cert", n.CAFile}, client...)...)
		up(t, r, all...)
		for _, s := range []model.Source{model.SourceProbe, model.SourceEvents} {
			if v := r.source(s); !strings.Contains(v.Detail, "over TLS 1.3 with a client certificate") || v.Hint != "" {
				t.Errorf("%s: %q (hint %q)", s, v.Detail, v.Hint)
			}
		}
		if v := r.source(model.SourceManagement); !strings.Contains(v.Detail, "over TLS 1.3") {
			t.Errorf("management: %q", v.Detail)
		}
		r.waitState(t, "the probe's round trips", 20*time.Second, func(st *model.State) bool { return st.Probe().Samples > 0 })
	})

	t.Run("mutual TLS by variables", func(t *testing.T) {
		r := run(t, []string{"AMQPTOP_CA_CERT=" + n.CAFile, "AMQPTOP_CLIENT_CERT=" + n.ClientCertFile, "AMQPTOP_CLIENT_KEY=" + n.ClientKeyFile})
		up(t, r, all...)
	})

	t.Run("no client certificate", func(t *testing.T) {
		r := run(t, nil, "--ca-cert", n.CAFile)
		for _, s := range all {
			v := down(t, r, s, "--client-cert", "--client-key")
			if !strings.Contains(v.Detail, "client certificate") {
				t.Errorf("%s: %q", s, v.Detail)
			}
		}
	})

	t.Run("unknown CA", func(t *testing.T) {
		r := run(t, nil, append([]string{"--ca-cert", n.OtherCAFile}, client...)...)
		for _, s := range all {
			v := down(t, r, s, "--ca-cert")
			if !strings.Contains(v.Detail, "unknown authority") {
				t.Errorf("%s: %q", s, v.Detail)
			}
		}
	})

	t.Run("system roots when no CA is given", func(t *testing.T) {
		r := run(t, nil, client...)
		down(t, r, model.SourceProbe, "--ca-cert")
		down(t, r, model.SourceManagement, "--ca-cert")
	})

	t.Run("wrong server name", func(t *testing.T) {
		r := run(t, nil, append([]string{"--ca-cert", n.CAFile, "--server-name", "wrong.example"}, client...)...)
		for _, s := range all {
			v := down(t, r, s, "--server-name")
			if !strings.Contains(v.Detail, "wrong.example") {
				t.Errorf("%s: %q", s, v.Detail)
			}
		}
	})

	t.Run("a server name the certificate carries", func(t *testing.T) {
		// The node's certificate names localhost and 127.0.0.1 and listens
		// on 127.0.0.1 only: connected by address, verified by name (the
		// wrong name above shows the flag is what is checked).
		r := run(t, nil, append([]string{"--ca-cert", n.CAFile, "--server-name", "localhost"}, client...)...)
		up(t, r, all...)
	})

	t.Run("insecure skip verify", func(t *testing.T) {
		r := run(t, nil, append([]string{"--insecure-skip-verify"}, client...)...)
		up(t, r, all...)
		for _, s := range all {
			if v := r.source(s); !strings.Contains(v.Detail, "without verifying the broker's certificate") || !strings.Contains(v.Hint, "--insecure-skip-verify") {
				t.Errorf("%s: %q (hint %q)", s, v.Detail, v.Hint)
			}
		}
		// watch says it on stderr before anything else.
		var out, errb bytes.Buffer
		code := Run(append(append([]string{"watch", "--for", "1s", "--insecure-skip-verify"}, base...), client...),
			strings.NewReader(""), &out, &errb, testEnviron(t, "AMQPTOP_PASSWORD=guest"))
		if code != 0 || !strings.HasPrefix(errb.String(), "amqptop: warning: --insecure-skip-verify: the broker's TLS certificate is NOT verified") {
			t.Errorf("watch: exit %d, stderr %q", code, errb.String())
		}
		// The dashboard keeps it in its header, above everything else
		// but the first lines.
		tm, _ := startDashboardIn(t, testEnviron(t, "AMQPTOP_PASSWORD=guest"), 80, 24,
			append(append([]string{"--insecure-skip-verify", "--theme", "dark"}, base...), client...)...)
		waitScreen(t, tm, "the TLS warning in the header", func(s string) bool {
			return strings.Contains(s, "TLS NOT VERIFIED (--insecure-skip-verify)")
		})
	})

	t.Run("TLS files that cannot work", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"--ca-cert", "/nonexistent/ca.pem"}, "--ca-cert /nonexistent/ca.pem: no such file"},
			{[]string{"--ca-cert", n.ClientKeyFile}, "--ca-cert " + n.ClientKeyFile + ": it holds a private key, not a CA certificate"},
			{[]string{"--client-cert", n.ClientCertFile, "--client-key", n.OtherClientKeyFile}, "--client-key " + n.OtherClientKeyFile + ": tls: private key does not match public key"},
			{[]string{"--client-key", n.ClientKeyFile}, "--client-cert: a client key needs its certificate"},
			{[]string{"--server-name", "https://mq.example.com"}, "--server-name https://mq.example.com: a host name is wanted"},
		} {
			var out, errb bytes.Buffer
			code := Run(append(append([]string{"watch", "--for", "1s"}, base...), tc.args...), strings.NewReader(""), &out, &errb, testEnviron(t))
			if code != exitUsage || !strings.Contains(errb.String(), tc.want) {
				t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, code, errb.String(), tc.want)
			}
			if strings.Contains(errb.String(), "PRIVATE KEY") {
				t.Errorf("%v: key material on stderr: %q", tc.args, errb.String())
			}
		}
	})
}

// sourceIn is a state's view of one source.
func sourceIn(st *model.State, src model.Source) model.SourceView {
	for _, s := range st.Sources() {
		if s.Source == src {
			return s
		}
	}
	return model.SourceView{}
}

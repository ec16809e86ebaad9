package monitor

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amqptop/amqptop/model"
	"github.com/amqptop/amqptop/testbroker"
	amqp "github.com/rabbitmq/amqp091-go"
)

// writeTestCert writes a self-signed certificate and its key (PEM) valid
// until notAfter, and returns their paths.
func writeTestCert(t *testing.T, dir, name string, notAfter time.Time) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: notAfter.Add(-48 * time.Hour), NotAfter: notAfter, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// The TLS settings are checked when the feeds are built, with errors that
// name the input and say what is wrong, never quoting key material.
func TestTLSFilesErrors(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeTestCert(t, dir, "client", time.Now().Add(24*time.Hour))
	other, otherKey := writeTestCert(t, dir, "other", time.Now().Add(24*time.Hour))
	old, oldKey := writeTestCert(t, dir, "old", time.Now().Add(-time.Hour))
	keyPEM, _ := os.ReadFile(key)
	combined := filepath.Join(dir, "combined.pem")
	certPEM, _ := os.ReadFile(cert)
	if err := os.WriteFile(combined, append(certPEM, keyPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.pem")
	_ = os.WriteFile(garbage, []byte("not a certificate\n"), 0o600)
	unreadable := filepath.Join(dir, "unreadable.pem")
	_ = os.WriteFile(unreadable, certPEM, 0o000)
	missing := filepath.Join(dir, "missing.pem")

	for _, c := range []struct {
		name  string
		files TLSFiles
		field string
		err   string
	}{
		{"missing CA", TLSFiles{CAFile: missing}, FieldCAFile, "CA file " + missing + ": no such file"},
		{"CA is a key", TLSFiles{CAFile: key}, FieldCAFile, "it holds a private key, not a CA certificate"},
		{"CA is garbage", TLSFiles{CAFile: garbage}, FieldCAFile, "no PEM certificate (BEGIN CERTIFICATE) in it"},
		{"missing cert", TLSFiles{CertFile: missing, KeyFile: key}, FieldCertFile, "client certificate file " + missing + ": no such file"},
		{"cert is a key", TLSFiles{CertFile: key, KeyFile: key}, FieldCertFile, "it holds a private key, not a certificate"},
		{"no key", TLSFiles{CertFile: cert}, FieldKeyFile, "client key file: no client key is given and the certificate file holds none"},
		{"key without cert", TLSFiles{KeyFile: key}, FieldCertFile, "a client key needs its certificate, and none is given"},
		{"missing key", TLSFiles{CertFile: cert, KeyFile: missing}, FieldKeyFile, "client key file " + missing + ": no such file"},
		{"key is a cert", TLSFiles{CertFile: cert, KeyFile: cert}, FieldKeyFile, "no PEM private key in it"},
		{"wrong key", TLSFiles{CertFile: cert, KeyFile: otherKey}, FieldKeyFile, "tls: private key does not match public key"},
		{"expired", TLSFiles{CertFile: old, KeyFile: oldKey}, FieldCertFile, "the certificate expired on "},
		{"server name URL", TLSFiles{ServerName: "https://rabbit.example"}, FieldServerName, "a host name is wanted (e.g. rabbit.example.com), not a URL"},
		{"server name port", TLSFiles{ServerName: "rabbit.example:5671"}, FieldServerName, "a host name is wanted, without a port"},
	} {
		_, _, err := Feeds(Config{URL: "amqps://bob:s3cr3t-p4ss@rabbit.example/", TLS: c.files})
		var fe *TLSFileError
		if !errors.As(err, &fe) {
			t.Errorf("%s: %v (%T), want a *TLSFileError", c.name, err, err)
			continue
		}
		if fe.Field != c.field || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: field %q, %q; want field %q and %q", c.name, fe.Field, err, c.field, c.err)
		}
		if msg := err.Error(); strings.Contains(msg, "s3cr3t") || strings.Contains(msg, "PRIVATE") || strings.Contains(msg, "--") {
			t.Errorf("%s: %q", c.name, msg)
		}
	}
	if os.Geteuid() != 0 { // root reads anything
		if _, err := (TLSFiles{CAFile: unreadable}).Config(); err == nil || !strings.HasSuffix(err.Error(), "permission denied") {
			t.Errorf("unreadable: %v", err)
		}
	}

	// What works: a CA file (only its CAs are trusted), a certificate with
	// its key in another file or in the same one, a server name.
	cfg, err := TLSFiles{CAFile: other, CertFile: combined, ServerName: " rabbit.internal "}.Config()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.RootCAs == nil || len(cfg.Certificates) != 1 || cfg.ServerName != "rabbit.internal" || cfg.InsecureSkipVerify {
		t.Errorf("config %+v", cfg)
	}
	if _, err := (TLSFiles{CertFile: cert, KeyFile: key, ServerName: "::1"}).Config(); err != nil {
		t.Error(err)
	}
	feeds, tg, err := Feeds(Config{URL: "amqps://u:p@h/", TLS: TLSFiles{InsecureSkipVerify: true}, NoEvents: true, NoLogExchange: true})
	if err != nil || !tg.VerifyOff() || len(feeds) != 2 {
		t.Errorf("skip-verify: %v %v", tg, err)
	}
	if p := feeds[0].(*Probe); p.TLS == nil || !p.TLS.InsecureSkipVerify || p.TLS.RootCAs != nil {
		t.Errorf("probe TLS %+v", p.TLS)
	}
	if _, tg, _ := Feeds(Config{URL: "amqp://u:p@h/", MgmtURL: "http://h:15672", TLS: TLSFiles{InsecureSkipVerify: true}}); tg.VerifyOff() {
		t.Error("verify off without TLS")
	}
	if _, tg, _ := Feeds(Config{URL: "amqps://u:p@h/"}); tg.VerifyOff() {
		t.Error("verify off by default")
	}
	// The command line renders them as its flags.
	_, err = (TLSFiles{CAFile: missing}).Config()
	var fe *TLSFileError
	if errors.As(err, &fe); "--"+fe.Field+" "+fe.Path+": "+fe.Err.Error() != "--ca-file "+missing+": no such file" {
		t.Errorf("%v", err)
	}
}

// explainDial tells the TLS failures apart from the error and what the
// dialer saw; other errors pass through.
func TestExplainDial(t *testing.T) {
	hello := tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}
	copy(hello.RecordHeader[:], "AMQP\x00")
	for _, c := range []struct {
		name string
		err  error
		info *dialInfo
		cond string
		msg  string
	}{
		{"unknown CA", errors.New("tls: failed to verify certificate: x509: certificate signed by unknown authority"),
			&dialInfo{tls: true}, condTLSUnknownAuthority, ""},
		{"name", errors.New("tls: failed to verify certificate: x509: certificate is valid for localhost, not wrong.example"),
			&dialInfo{tls: true}, condTLSNameMismatch, ""},
		{"AMQP answers TLS", hello, &dialInfo{tls: true, addr: "h:5672"}, condTLSOnPlainPort,
			"the server at h:5672 does not speak TLS: it answered the TLS handshake with an AMQP protocol header: tls: first record"},
		{"TLS answers AMQP", errors.New(`Exception (501) Reason: "Exception (501) Reason: \"frame size exceeds negotiated frame_max\""`),
			&dialInfo{addr: "h:5671", head: []byte("\x15\x03\x01\x00\x02\x02\x0a")}, condPlainOnTLSPort,
			"the server at h:5671 speaks TLS: it answered the AMQP protocol header with a TLS alert: Exception (501)"},
		{"1.3 certificate required", errors.New(`Exception (501) Reason: "remote error: tls: certificate required"`),
			&dialInfo{tls: true, handshook: true, certAsked: true}, condTLSClientCertRequired, "the broker requires a client certificate: "},
		{"1.3 certificate required, raced", errors.New(`Exception (504) Reason: "channel/connection is not open"`),
			&dialInfo{tls: true, handshook: true, certAsked: true}, condTLSClientCertRequired, "the broker asked for a client certificate and none was given: "},
		{"1.2 certificate required", errors.New("remote error: tls: handshake failure"),
			&dialInfo{tls: true, certAsked: true}, condTLSClientCertRequired, ""},
		{"certificate refused", errors.New(`Exception (501) Reason: "remote error: tls: unknown certificate authority"`),
			&dialInfo{tls: true, handshook: true, certAsked: true, certSent: true}, condTLSClientCertRejected, "the broker refused the client certificate: "},
		{"certificate refused, raced", errors.New(`Exception (504) Reason: "channel/connection is not open"`),
			&dialInfo{tls: true, handshook: true, certAsked: true, certSent: true}, condTLSClientCertRejected, ""},
		{"1.2 no common version", errors.New("remote error: tls: protocol version not supported"), &dialInfo{tls: true}, "", ""},
		{"credentials after TLS", errors.New(`Exception (403) Reason: "username or password not allowed"`),
			&dialInfo{tls: true, handshook: true, certAsked: true, head: []byte("\x01\x00\x00")}, "", ""},
		{"EOF on plain", io.EOF, &dialInfo{addr: "h:5672"}, "", ""},
	} {
		err := explainDial(c.err, c.info)
		var de *dialError
		switch {
		case c.cond == "":
			if err != c.err {
				t.Errorf("%s: %v, want it unchanged", c.name, err)
			}
		case !errors.As(err, &de) || de.adv.cond != c.cond || de.adv.hint == "":
			t.Errorf("%s: %v, want condition %s", c.name, err, c.cond)
		case !strings.HasPrefix(err.Error(), c.msg) || !strings.HasSuffix(err.Error(), c.err.Error()) || !errors.Is(err, c.err):
			t.Errorf("%s: %q, want %q… ending in the original error", c.name, err, c.msg)
		}
	}
	if explainDial(nil, &dialInfo{}) != nil || explainDial(io.EOF, nil) != io.EOF {
		t.Error("nil cases")
	}
}

// tlsNode starts a private TLS node of one kind (verify_peer,
// fail_if_no_peer_cert), stopped when the test ends.
func tlsNode(t *testing.T, broker string) *testbroker.Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	start := time.Now()
	n, err := testbroker.Start(ctx, testbroker.Options{Name: "amqptop-tls", Broker: broker,
		StatsIntervalMS: 1000, TLS: &testbroker.TLSOptions{}})
	if err != nil {
		testbroker.Unavailable(t, fmt.Errorf("cannot start a TLS node (RabbitMQ %s): %w", broker, err))
	}
	t.Cleanup(func() { n.Stop() })
	t.Logf("TLS node RabbitMQ %s up in %v", n.Version, time.Since(start).Round(100*time.Millisecond))
	return n
}

// logSince returns what the node logged after offset, waiting up to d for
// a line containing want.
func logSince(t *testing.T, n *testbroker.Node, offset int64, want string, d time.Duration) string {
	t.Helper()
	var got string
	for end := time.Now().Add(d); ; time.Sleep(50 * time.Millisecond) {
		b, err := os.ReadFile(n.LogFile())
		if err != nil {
			t.Fatal(err)
		}
		got = string(b[min(offset, int64(len(b))):])
		if strings.Contains(got, want) || time.Now().After(end) {
			break
		}
	}
	if !strings.Contains(got, want) {
		t.Errorf("the node's log has no %q after the failure; it logged:\n%s", want, got)
	}
	return got
}

func logSize(t *testing.T, n *testbroker.Node) int64 {
	st, err := os.Stat(n.LogFile())
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// runUntil runs a feed until a status of its own matches ok (or d
// passes), then stops it and returns that status.
func runUntil(t *testing.T, f model.Feed, d time.Duration, ok func(model.SourceStatus) bool) (model.SourceStatus, *sink) {
	t.Helper()
	var s sink
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx, s.emit) }()
	defer func() {
		cancel()
		<-done
	}()
	var last model.SourceStatus
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if o := s.find(func(o model.Observation) bool { st, is := o.(model.SourceStatus); return is && ok(st) }); o != nil {
			return o.(model.SourceStatus), &s
		}
		if o := s.find(func(o model.Observation) bool { _, is := o.(model.SourceStatus); return is }); o != nil {
			last = o.(model.SourceStatus)
		}
	}
	t.Fatalf("no matching status within %v; first status: %+v", d, last)
	return model.SourceStatus{}, &s
}

func down(st model.SourceStatus) bool { return st.Health == model.HealthDown }

// TLS against private TLS nodes (RabbitMQ 3.10.8 and 4.0.5, which require a
// client certificate signed by their CA): mutual TLS works end to end for
// every source, and each way of getting TLS wrong is reported with its
// condition, on the client side, while the node logs its side of it.
func TestTLSLive(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (-short)")
	}
	for _, b := range testbroker.Brokers() {
		t.Run("rabbitmq-"+b, func(t *testing.T) {
			t.Parallel()
			testTLSLive(t, b)
		})
	}
}

func testTLSLive(t *testing.T, broker string) {
	n := tlsNode(t, broker)
	good := TLSFiles{CAFile: n.CAFile, CertFile: n.ClientCertFile, KeyFile: n.ClientKeyFile}
	tlsVersion := "TLS 1.3"

	t.Run("mutual", func(t *testing.T) {
		feeds, tg, err := Feeds(Config{URL: n.AMQPSURL(), MgmtURL: n.MgmtTLSURL(), TLS: good, Host: "tls-test",
			ProbeInterval: 100 * time.Millisecond, Heartbeat: 5 * time.Second, Poll: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if tg.VerifyOff() {
			t.Error("VerifyOff")
		}
		var s sink
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for _, f := range feeds {
			wg.Add(1)
			go func() { defer wg.Done(); f.Run(ctx, s.emit) }()
		}
		defer func() { cancel(); wg.Wait() }()
		up := func(src model.Source, detail string) {
			st := s.wait(t, src.String()+" up", 20*time.Second, func(o model.Observation) bool {
				st, ok := o.(model.SourceStatus)
				return ok && st.Of == src && st.Health == model.HealthUp
			}).(model.SourceStatus)
			if !strings.Contains(st.Detail, detail) || st.Condition != "" || st.Hint != "" {
				t.Errorf("%s: %+v, want %q in the detail", src, st, detail)
			}
		}
		up(model.SourceProbe, "over "+tlsVersion+" with a client certificate")
		up(model.SourceEvents, "subscribed to amq.rabbitmq.event over "+tlsVersion+" with a client certificate")
		up(model.SourceLog, "subscribed to amq.rabbitmq.log over "+tlsVersion)
		up(model.SourceManagement, "RabbitMQ "+n.Version+", 1 node, over "+tlsVersion)
		lat := s.wait(t, "a round trip", 10*time.Second, func(o model.Observation) bool {
			l, ok := o.(model.ProbeLatency)
			return ok && !l.Lost && l.RoundTrip > 0
		}).(model.ProbeLatency)
		if lat.RoundTrip > 5*time.Second || lat.Confirm <= 0 {
			t.Errorf("latency %+v", lat)
		}
		// The management API lists the probe's connection as TLS.
		s.wait(t, "the probe's TLS connection in a snapshot", 15*time.Second, func(o model.Observation) bool {
			snap, ok := o.(model.MgmtSnapshot)
			if !ok {
				return false
			}
			for _, c := range snap.Connections {
				if c.Client == "amqptop-probe@tls-test" && c.TLS && strings.HasPrefix(strings.ToLower(c.TLSProtocol), "tlsv1.3") {
					return true
				}
			}
			return false
		})
		// The log subscriber sees the broker's own lines over TLS (a new
		// connection makes the node log one).
		if c, err := amqp.Dial(n.AMQPURL()); err != nil {
			t.Error(err)
		} else {
			c.Close()
		}
		s.wait(t, "a log entry", 15*time.Second, func(o model.Observation) bool {
			e, ok := o.(model.LogEntry)
			return ok && strings.Contains(e.Text, "accepting AMQP connection")
		})
	})

	// Each failure: the probe's and the poller's statuses, and the line
	// the node logs (3.10.8 and 4.0.5 alike, up to the Erlang module and
	// line they name). brokerLog is "" where the node logs nothing.
	for _, c := range []struct {
		name       string
		url, mgmt  string
		files      TLSFiles
		maxVersion uint16
		cond       string // the probe's
		detail     string // in the probe's detail
		mgmtCond   string
		mgmtDetail string
		brokerLog  string
	}{
		{name: "no client certificate", files: TLSFiles{CAFile: n.CAFile},
			cond: condTLSClientCertRequired, detail: "client certificate",
			mgmtCond: condMgmtTLSClientCertReq, mgmtDetail: "client certificate",
			brokerLog: "generated SERVER ALERT: Fatal - Certificate required"},
		{name: "no client certificate, TLS 1.2", files: TLSFiles{CAFile: n.CAFile}, maxVersion: tls.VersionTLS12,
			cond: condTLSClientCertRequired, detail: "the broker asked for a client certificate and none was given: remote error: tls: handshake failure",
			mgmtCond: condMgmtTLSClientCertReq, mgmtDetail: "remote error: tls: handshake failure",
			brokerLog: "generated SERVER ALERT: Fatal - Handshake Failure"},
		{name: "untrusted client certificate", files: TLSFiles{CAFile: n.CAFile, CertFile: n.OtherClientCertFile, KeyFile: n.OtherClientKeyFile},
			cond: condTLSClientCertRejected, detail: "the broker ",
			mgmtCond: condMgmtTLSClientCertBad, mgmtDetail: "the API refused the client certificate",
			brokerLog: "generated SERVER ALERT: Fatal - Unknown CA"},
		{name: "unknown CA", files: TLSFiles{CAFile: n.OtherCAFile, CertFile: n.ClientCertFile, KeyFile: n.ClientKeyFile},
			cond: condTLSUnknownAuthority, detail: "tls: failed to verify certificate: x509: certificate signed by unknown authority",
			mgmtCond: condMgmtTLSUnknownAuth, mgmtDetail: "x509: certificate signed by unknown authority",
			brokerLog: "received CLIENT ALERT: Fatal - Bad Certificate"},
		{name: "system roots", files: TLSFiles{CertFile: n.ClientCertFile, KeyFile: n.ClientKeyFile},
			cond: condTLSUnknownAuthority, detail: "x509: certificate signed by unknown authority",
			mgmtCond: condMgmtTLSUnknownAuth, mgmtDetail: "x509: certificate signed by unknown authority",
			brokerLog: "received CLIENT ALERT: Fatal - Bad Certificate"},
		{name: "wrong server name", files: TLSFiles{CAFile: n.CAFile, CertFile: n.ClientCertFile, KeyFile: n.ClientKeyFile, ServerName: "wrong.example"},
			cond: condTLSNameMismatch, detail: "x509: certificate is valid for localhost, not wrong.example",
			mgmtCond: condMgmtTLSNameMismatch, mgmtDetail: "x509: certificate is valid for localhost, not wrong.example",
			brokerLog: "received CLIENT ALERT: Fatal - Bad Certificate"},
		{name: "TLS to the plain port", url: strings.Replace(n.AMQPURL(), "amqp://", "amqps://", 1),
			mgmt: strings.Replace(n.MgmtURL(), "http://", "https://", 1), files: good,
			cond: condTLSOnPlainPort, detail: fmt.Sprintf("the server at 127.0.0.1:%d does not speak TLS: it answered the TLS handshake with an AMQP protocol header: tls: first record does not look like a TLS handshake", n.AMQPPort),
			mgmtCond: condMgmtPortNotTLS, mgmtDetail: "does not speak TLS",
			brokerLog: "{bad_header,<<22,3,1,"},
		{name: "plain to the TLS port", url: strings.Replace(n.AMQPSURL(), "amqps://", "amqp://", 1),
			mgmt: strings.Replace(n.MgmtTLSURL(), "https://", "http://", 1), files: good,
			cond: condPlainOnTLSPort, detail: fmt.Sprintf("the server at 127.0.0.1:%d speaks TLS: it answered the AMQP protocol header with a TLS alert: ", n.TLSPort),
			mgmtCond: condMgmtPortIsTLS, mgmtDetail: "does not answer plain HTTP",
			brokerLog: "generated SERVER ALERT: Fatal - Unexpected Message"},
	} {
		t.Run(strings.ReplaceAll(c.name, " ", "-"), func(t *testing.T) {
			url, mgmt := c.url, c.mgmt
			if url == "" {
				url, mgmt = n.AMQPSURL(), n.MgmtTLSURL()
			}
			tg, err := ParseTarget(url, mgmt)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := c.files.Config()
			if err != nil {
				t.Fatal(err)
			}
			cfg.MaxVersion = c.maxVersion
			off := logSize(t, n)
			st, _ := runUntil(t, &Probe{Target: tg, Client: "amqptop-probe@tls-test", TLS: cfg, MinDelay: time.Hour}, 15*time.Second, down)
			if st.Condition != c.cond || !strings.Contains(st.Detail, c.detail) || st.Hint == "" || strings.Contains(st.Detail, "guest:guest") {
				t.Errorf("probe: %+v\nwant condition %s and %q in the detail", st, c.cond, c.detail)
			}
			t.Logf("probe: %s", st.Detail)
			if c.brokerLog != "" {
				for _, l := range strings.Split(strings.TrimSpace(logSince(t, n, off, c.brokerLog, 5*time.Second)), "\n") {
					t.Logf("broker: %s", l)
				}
			}
			mst, _ := runUntil(t, NewPoller(MgmtConfig{URL: tg.Mgmt.String(), User: "guest", Password: "guest", TLS: cfg,
				Interval: time.Hour, Timeout: 5 * time.Second}), 15*time.Second, down)
			if mst.Condition != c.mgmtCond || !strings.Contains(mst.Detail, c.mgmtDetail) || mst.Hint == "" {
				t.Errorf("management: %+v\nwant condition %s and %q in the detail", mst, c.mgmtCond, c.mgmtDetail)
			}
			t.Logf("management: %s", mst.Detail)
		})
	}

	// The subscribers explain the same way (they share the dialer).
	t.Run("subscriber-without-client-certificate", func(t *testing.T) {
		tg, _ := ParseTarget(n.AMQPSURL(), "")
		cfg, err := TLSFiles{CAFile: n.CAFile}.Config()
		if err != nil {
			t.Fatal(err)
		}
		st, _ := runUntil(t, &Subscriber{Target: tg, Kind: EventStream, Client: "amqptop-events@tls-test", TLS: cfg}, 15*time.Second, down)
		if st.Of != model.SourceEvents || st.Condition != condTLSClientCertRequired {
			t.Errorf("events: %+v", st)
		}
	})

	// Verification off: everything connects, and says so with its Up status.
	t.Run("verify-off", func(t *testing.T) {
		feeds, tg, err := Feeds(Config{URL: n.AMQPSURL(), MgmtURL: n.MgmtTLSURL(), Host: "tls-test", NoLogExchange: true,
			TLS: TLSFiles{CertFile: n.ClientCertFile, KeyFile: n.ClientKeyFile, InsecureSkipVerify: true}, Poll: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if !tg.VerifyOff() {
			t.Error("VerifyOff() false")
		}
		for _, f := range feeds {
			st, s := runUntil(t, f, 20*time.Second, func(st model.SourceStatus) bool { return st.Health != model.HealthDown })
			if st.Health != model.HealthUp || st.Condition != condTLSVerifyOff || !strings.Contains(st.Hint, "not verified") ||
				!strings.Contains(st.Detail, "without verifying the broker's certificate") {
				t.Errorf("%s: %+v", st.Of, st)
			}
			if b, _ := json.Marshal(s.obs); strings.Contains(string(b), "guest:guest") || strings.Contains(string(b), "PRIVATE KEY") {
				t.Errorf("%s: a secret in an observation", st.Of)
			}
		}
	})
}

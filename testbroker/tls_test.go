package testbroker

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// A TLS node answers amqps and https for a Go client presenting the
// client certificate, keeps its plain listeners, and refuses a client
// without a certificate.
func TestTLSNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts its own node")
	}
	forEachBroker(t, func(t *testing.T, broker string) {
		requireBroker(t, broker)
		start := time.Now()
		n, err := Start(ctx(t, 3*time.Minute), Options{Name: "amqptop-tls", Broker: broker, TLS: &TLSOptions{}})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Stop()
		t.Logf("TLS node RabbitMQ %s started in %v (amqps %d, https %d)", n.Version, time.Since(start), n.TLSPort, n.MgmtTLSPort)
		if n.TLSPort == 0 || n.MgmtTLSPort == 0 || n.TLSPort == n.AMQPPort || n.MgmtTLSPort == n.MgmtPort {
			t.Fatalf("ports: %+v", n)
		}
		for _, f := range []string{n.CAFile, n.ServerCertFile, n.ServerKeyFile, n.ClientCertFile, n.ClientKeyFile,
			n.OtherCAFile, n.OtherClientCertFile, n.OtherClientKeyFile} {
			if !strings.HasPrefix(f, n.Dir+"/") {
				t.Errorf("%s is not in the node's dir %s", f, n.Dir)
			}
			if _, err := os.Stat(f); err != nil {
				t.Error(err)
			}
		}
		if broker == Broker4 {
			root, _ := Rabbitmq4Chroot()
			root, _ = filepath.EvalSymlinks(root)
			if !strings.HasPrefix(n.CAFile, root+"/") {
				t.Errorf("the CA file %s is not inside the chroot %s", n.CAFile, root)
			}
		}
		conf, err := os.ReadFile(filepath.Join(n.Dir, "rabbitmq.conf"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"listeners.ssl.default = 127.0.0.1:", "ssl_options.verify = verify_peer",
			"ssl_options.fail_if_no_peer_cert = true", "management.ssl.port = ", "management.tcp.port = ",
			"ssl_options.cacertfile = " + n.inside(n.CAFile)} {
			if !strings.Contains(string(conf), want) {
				t.Errorf("rabbitmq.conf lacks %q:\n%s", want, conf)
			}
		}

		cfg, err := n.ClientTLS()
		if err != nil {
			t.Fatal(err)
		}
		// amqps, with the client certificate.
		c, err := amqp.DialTLS(n.AMQPSURL(), cfg)
		if err != nil {
			t.Fatalf("amqps: %v", err)
		}
		st := c.ConnectionState()
		if st.Version != tls.VersionTLS13 || len(st.PeerCertificates) == 0 || st.PeerCertificates[0].Subject.CommonName != "localhost" {
			t.Errorf("amqps: TLS %x, peer %v", st.Version, st.PeerCertificates)
		}
		c.Close()
		// The plain listener still answers.
		c, err = amqp.Dial(n.AMQPURL())
		if err != nil {
			t.Fatalf("amqp: %v", err)
		}
		c.Close()

		// https, with the client certificate.
		get := func(cfg *tls.Config) (*http.Response, error) {
			hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
			defer hc.CloseIdleConnections()
			req, _ := http.NewRequestWithContext(ctx(t, time.Minute), http.MethodGet, n.MgmtTLSURL()+"/api/overview", nil)
			req.SetBasicAuth("guest", "guest")
			resp, err := hc.Do(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			return resp, err
		}
		resp, err := get(cfg)
		if err != nil {
			t.Fatalf("https: %v", err)
		}
		if resp.StatusCode != 200 || resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 {
			t.Errorf("https: %s, TLS %+v", resp.Status, resp.TLS)
		}
		// The plain management listener still answers (Start checks it too).
		var ov struct {
			Listeners []struct {
				Protocol string `json:"protocol"`
				Port     int    `json:"port"`
			} `json:"listeners"`
		}
		if err := n.getJSON(ctx(t, time.Minute), "/api/overview", &ov); err != nil {
			t.Fatal(err)
		}
		protos := map[string]int{}
		for _, l := range ov.Listeners {
			protos[l.Protocol] = l.Port
		}
		if protos["amqp/ssl"] != n.TLSPort || protos["https"] != n.MgmtTLSPort || protos["amqp"] != n.AMQPPort || protos["http"] != n.MgmtPort {
			b, _ := json.Marshal(ov)
			t.Errorf("listeners: %s", b)
		}

		// Without a client certificate both listeners refuse (TLS 1.3:
		// after the handshake).
		noCert := &tls.Config{RootCAs: cfg.RootCAs}
		if _, err := get(noCert); err == nil || !strings.Contains(err.Error(), "certificate required") {
			t.Errorf("https without a client certificate: %v", err)
		}
		if c, err := amqp.DialTLS(n.AMQPSURL(), noCert); err == nil {
			c.Close()
			t.Error("amqps without a client certificate worked")
		}
		// The other CA signed nothing of this node's.
		other := x509.NewCertPool()
		b, _ := os.ReadFile(n.OtherCAFile)
		other.AppendCertsFromPEM(b)
		if _, err := get(&tls.Config{RootCAs: other, Certificates: cfg.Certificates}); err == nil || !strings.Contains(err.Error(), "unknown authority") {
			t.Errorf("https with the other CA: %v", err)
		}
	})
}

// The TLS lines of rabbitmq.conf, with the knobs.
func TestTLSConfigLines(t *testing.T) {
	n := &Node{TLSPort: 5671, MgmtTLSPort: 15671, root: "/chroot",
		TLSFiles: TLSFiles{CAFile: "/chroot/tmp/x/tls/ca.pem", ServerCertFile: "/chroot/tmp/x/tls/server.pem", ServerKeyFile: "/chroot/tmp/x/tls/server-key.pem"}}
	got := strings.Join(n.tlsConfig(&TLSOptions{VerifyNone: true, Versions: []string{"tlsv1.2"}}), "\n")
	for _, want := range []string{"listeners.ssl.default = 127.0.0.1:5671", "ssl_options.cacertfile = /tmp/x/tls/ca.pem",
		"ssl_options.verify = verify_none", "ssl_options.fail_if_no_peer_cert = false", "management.ssl.port = 15671",
		"management.ssl.ip = 127.0.0.1", "management.ssl.keyfile = /tmp/x/tls/server-key.pem", "management.ssl.verify = verify_none",
		"ssl_options.versions.1 = tlsv1.2", "management.ssl.versions.1 = tlsv1.2"} {
		if !strings.Contains(got, want+"\n") && !strings.HasSuffix(got, want) {
			t.Errorf("no %q in\n%s", want, got)
		}
	}
	// ExtraConf overrides a TLS line.
	n.AMQPPort, n.MgmtPort = 5672, 15672
	conf := n.config(Options{TLS: &TLSOptions{}, ExtraConf: []string{"ssl_options.verify = verify_none"}})
	if strings.Count(conf, "ssl_options.verify =") != 1 || !strings.Contains(conf, "ssl_options.verify = verify_none") {
		t.Errorf("override:\n%s", conf)
	}
	if (&Node{}).AMQPSURL() != "" || (&Node{}).MgmtTLSURL() != "" {
		t.Error("URLs of a node without TLS")
	}
	if _, err := (&Node{}).ClientTLS(); err == nil {
		t.Error("ClientTLS of a node without TLS")
	}
}

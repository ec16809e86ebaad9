package testbroker

// TLS nodes: certificates made at Start with crypto/x509, the node's TLS
// listeners (AMQP and the management API), and what a test needs to
// connect to them.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// TLSOptions gives a node TLS listeners besides its plain ones: AMQP
// (listeners.ssl.default = 127.0.0.1:[Node.TLSPort]) and the management
// API (management.ssl.port = [Node.MgmtTLSPort] on 127.0.0.1), both with
// the certificates Start makes (see [Node.CAFile]). The plain AMQP and
// management listeners stay: RabbitMQ 3.10 and 4.0 run
// management.tcp.* and management.ssl.* side by side, and Start checks the
// node's readiness on the plain ones.
type TLSOptions struct {
	// VerifyNone makes the node ask no client certificate
	// (ssl_options.verify = verify_none, fail_if_no_peer_cert = false,
	// the same for management.ssl). By default both listeners require one
	// signed by the node's CA (verify = verify_peer, fail_if_no_peer_cert =
	// true).
	VerifyNone bool
	// Versions restricts the TLS versions both listeners accept, e.g.
	// []string{"tlsv1.2"} (ssl_options.versions.N, management.ssl.versions.N);
	// nil leaves the broker's defaults (TLS 1.3 and 1.2 on 3.10.8/OTP 25
	// and 4.0.5/OTP 27).
	Versions []string
}

// The certificate files of a TLS node, in Node.Dir/tls.
const (
	tlsDirName      = "tls"
	caFileName      = "ca.pem"
	caKeyFileName   = "ca-key.pem"
	serverCertName  = "server.pem"
	serverKeyName   = "server-key.pem"
	clientCertName  = "client.pem"
	clientKeyName   = "client-key.pem"
	otherCAName     = "other-ca.pem"
	otherClientName = "other-client.pem"
	otherClientKey  = "other-client-key.pem"
)

// The common names of a TLS node's client certificates.
const (
	ClientCN      = "amqptop-test-client"  // of TLSFiles.ClientCertFile
	OtherClientCN = "amqptop-other-client" // of TLSFiles.OtherClientCertFile
)

// TLSFiles are the PEM files Start writes for a TLS node (host paths, in
// Node.Dir/tls; for Broker "4" inside the chroot, where the node reads
// them). All keys are ECDSA P-256 (SEC 1 "EC PRIVATE KEY"); the
// certificates are valid from an hour before Start for 30 days.
type TLSFiles struct {
	// CAFile is the node's certificate authority: it signed the server's
	// certificate and ClientCertFile, and it is the node's
	// ssl_options.cacertfile (what it trusts client certificates from).
	CAFile string
	// ServerCertFile and ServerKeyFile are the node's own certificate,
	// for the DNS name "localhost" and the IP address 127.0.0.1.
	ServerCertFile, ServerKeyFile string
	// ClientCertFile and ClientKeyFile are a client certificate signed by
	// CAFile (CN amqptop-test-client).
	ClientCertFile, ClientKeyFile string
	// OtherCAFile is an unrelated CA, for "unknown authority" tests: it
	// signed neither the server's certificate nor ClientCertFile.
	OtherCAFile string
	// OtherClientCertFile and OtherClientKeyFile are a client certificate
	// signed by OtherCAFile (CN amqptop-other-client): one the node does
	// not trust.
	OtherClientCertFile, OtherClientKeyFile string
}

// AMQPSURL returns amqps://guest:guest@127.0.0.1:TLSPORT/ ("" when the
// node has no TLS listener).
func (n *Node) AMQPSURL() string {
	if n.TLSPort == 0 {
		return ""
	}
	return fmt.Sprintf("amqps://guest:guest@127.0.0.1:%d/", n.TLSPort)
}

// MgmtTLSURL returns the management API's https base URL,
// https://127.0.0.1:PORT ("" when the node has no TLS listener).
func (n *Node) MgmtTLSURL() string {
	if n.MgmtTLSPort == 0 {
		return ""
	}
	return fmt.Sprintf("https://127.0.0.1:%d", n.MgmtTLSPort)
}

// ClientTLS returns a tls.Config that trusts the node's CA and presents
// its client certificate (ClientCertFile): what a client needs for the
// node's TLS listeners. It fails for a node without TLS.
func (n *Node) ClientTLS() (*tls.Config, error) {
	if n.CAFile == "" {
		return nil, fmt.Errorf("testbroker: node %s has no TLS listener (Options.TLS)", n.Name)
	}
	pem, err := os.ReadFile(n.CAFile)
	if err != nil {
		return nil, fmt.Errorf("testbroker: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("testbroker: no certificate in %s", n.CAFile)
	}
	cert, err := tls.LoadX509KeyPair(n.ClientCertFile, n.ClientKeyFile)
	if err != nil {
		return nil, fmt.Errorf("testbroker: %w", err)
	}
	return &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert}}, nil
}

// tlsConfig returns the rabbitmq.conf lines of a TLS node (paths as the
// node sees them).
func (n *Node) tlsConfig(o *TLSOptions) []string {
	in := func(p string) string { return n.inside(p) }
	verify, fail := "verify_peer", "true"
	if o.VerifyNone {
		verify, fail = "verify_none", "false"
	}
	lines := []string{
		fmt.Sprintf("listeners.ssl.default = 127.0.0.1:%d", n.TLSPort),
		"ssl_options.cacertfile = " + in(n.CAFile),
		"ssl_options.certfile = " + in(n.ServerCertFile),
		"ssl_options.keyfile = " + in(n.ServerKeyFile),
		"ssl_options.verify = " + verify,
		"ssl_options.fail_if_no_peer_cert = " + fail,
		"management.ssl.port = " + strconv.Itoa(n.MgmtTLSPort),
		"management.ssl.ip = 127.0.0.1",
		"management.ssl.cacertfile = " + in(n.CAFile),
		"management.ssl.certfile = " + in(n.ServerCertFile),
		"management.ssl.keyfile = " + in(n.ServerKeyFile),
		"management.ssl.verify = " + verify,
		"management.ssl.fail_if_no_peer_cert = " + fail,
	}
	for i, v := range o.Versions {
		lines = append(lines,
			fmt.Sprintf("ssl_options.versions.%d = %s", i+1, v),
			fmt.Sprintf("management.ssl.versions.%d = %s", i+1, v))
	}
	return lines
}

// writeTLS makes the certificates of a TLS node in Dir/tls and sets the
// Node's file names.
func (n *Node) writeTLS() error {
	dir := filepath.Join(n.Dir, tlsDirName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("testbroker: %w", err)
	}
	f := func(name string) string { return filepath.Join(dir, name) }
	n.TLSFiles = TLSFiles{
		CAFile:              f(caFileName),
		ServerCertFile:      f(serverCertName),
		ServerKeyFile:       f(serverKeyName),
		ClientCertFile:      f(clientCertName),
		ClientKeyFile:       f(clientKeyName),
		OtherCAFile:         f(otherCAName),
		OtherClientCertFile: f(otherClientName),
		OtherClientKeyFile:  f(otherClientKey),
	}
	ca, err := newCA("amqptop-testbroker CA " + n.Name)
	if err != nil {
		return err
	}
	other, err := newCA("amqptop-testbroker unrelated CA")
	if err != nil {
		return err
	}
	server, err := ca.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "localhost"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	if err != nil {
		return err
	}
	client, err := ca.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: ClientCN},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return err
	}
	otherClient, err := other.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: OtherClientCN},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		return err
	}
	for _, w := range []struct {
		path string
		kp   *keyPair
		key  bool
	}{
		{f(caFileName), ca, false}, {f(caKeyFileName), ca, true},
		{n.ServerCertFile, server, false}, {n.ServerKeyFile, server, true},
		{n.ClientCertFile, client, false}, {n.ClientKeyFile, client, true},
		{n.OtherCAFile, other, false},
		{n.OtherClientCertFile, otherClient, false}, {n.OtherClientKeyFile, otherClient, true},
	} {
		if err := w.kp.write(w.path, w.key); err != nil {
			return err
		}
	}
	return nil
}

// keyPair is a certificate and its key.
type keyPair struct {
	cert *x509.Certificate
	der  []byte
	key  *ecdsa.PrivateKey
}

func newCA(cn string) (*keyPair, error) {
	return selfSign(&x509.Certificate{
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"amqptop tests"}},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	})
}

func certTimes(tmpl *x509.Certificate) error {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return fmt.Errorf("testbroker: %w", err)
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(30 * 24 * time.Hour)
	return nil
}

func selfSign(tmpl *x509.Certificate) (*keyPair, error) { return sign(tmpl, nil) }

// issue signs a leaf certificate with the CA kp.
func (kp *keyPair) issue(tmpl *x509.Certificate) (*keyPair, error) {
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.BasicConstraintsValid = true
	return sign(tmpl, kp)
}

// sign makes a new key and its certificate from tmpl, signed by ca (nil:
// by itself).
func sign(tmpl *x509.Certificate, ca *keyPair) (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("testbroker: %w", err)
	}
	if err := certTimes(tmpl); err != nil {
		return nil, err
	}
	parent, signer := tmpl, any(key)
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return nil, fmt.Errorf("testbroker: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("testbroker: %w", err)
	}
	return &keyPair{cert: cert, der: der, key: key}, nil
}

// write writes the certificate (or, with key, the private key) as PEM.
func (kp *keyPair) write(path string, key bool) error {
	block := &pem.Block{Type: "CERTIFICATE", Bytes: kp.der}
	if key {
		b, err := x509.MarshalECPrivateKey(kp.key)
		if err != nil {
			return fmt.Errorf("testbroker: %w", err)
		}
		block = &pem.Block{Type: "EC PRIVATE KEY", Bytes: b}
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return fmt.Errorf("testbroker: %w", err)
	}
	return nil
}

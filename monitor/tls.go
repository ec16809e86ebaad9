package monitor

// TLS for amqps:// and https://: the settings (checked by Feeds), the
// client side of the handshake, and what a failed one means.
//
// What RabbitMQ 3.10.8 (OTP 25) and 4.0.5 (OTP 27) do, seen against the
// private nodes of testbroker (see causes/testdata/SOURCES.md, "TLS"):
//   - Both offer TLS 1.3 and 1.2 by default. With TLS 1.3 the client's
//     handshake completes before the broker has checked the client's
//     certificate: a missing or untrusted one is reported by an alert on
//     the first read after it ("remote error: tls: certificate required",
//     "remote error: tls: unknown certificate authority"), which amqp091-go
//     turns into `Exception (501) Reason: "remote error: tls: …"`, or, when
//     the alert races with its writes, into `Exception (504) Reason:
//     "channel/connection is not open"`. With TLS 1.2 the handshake itself
//     fails ("remote error: tls: handshake failure" for a missing one). So
//     the dialer notes whether the broker asked for a certificate, whether
//     one was sent and whether any AMQP byte arrived, and explainDial tells
//     the cases apart from that rather than from the text alone.
//   - A plain AMQP port answers a ClientHello with an AMQP protocol header
//     (the record header Go reports starts with "AMQP" on both) and closes,
//     logging {bad_header,<<22,3,1,...>>}: Go says "tls: first record does
//     not look like a TLS handshake" (a tls.RecordHeaderError).
//   - A TLS port answers the plain protocol header with a TLS alert record
//     ("\x15\x03\x01\x00\x02\x02\x0a"), which amqp091-go reads as a frame
//     too large: `Exception (501) Reason: "Exception (501) Reason: \"frame
//     size exceeds negotiated frame_max\""`; the dialer sees the alert's
//     first bytes.
//   - Go's client sends no certificate when none of its certificates is
//     signed by a CA the broker lists in its CertificateRequest; ours always
//     sends the one configured, so that the broker says why it refuses it
//     (unknown_ca) instead of "certificate required".

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// TLSFiles are the TLS settings of the amqps:// and https:// connections
// (the probe, the subscribers and the management API alike). The zero
// value verifies the broker's certificate against the system's roots for
// the URL's host and sends no client certificate.
type TLSFiles struct {
	// CAFile is a PEM file of the CA certificates that sign the broker's
	// certificate; when set, only those are trusted (not the system's).
	CAFile string
	// CertFile and KeyFile are the client certificate and its private key
	// (PEM), for a broker that requires one (ssl_options.verify =
	// verify_peer, fail_if_no_peer_cert = true) or logs in with it
	// (EXTERNAL). KeyFile "" means the key is in CertFile.
	CertFile, KeyFile string
	// ServerName is the name the broker's certificate must carry, when it
	// is not the host of the URL (e.g. connecting to an IP address); it
	// applies to the AMQP and the management connections.
	ServerName string
	// InsecureSkipVerify accepts any certificate the broker shows. Every
	// source that connects with TLS then says so in its status (condition
	// tls-verify-off), and Target.VerifyOff reports it.
	InsecureSkipVerify bool
}

// set reports whether any setting is given.
func (f TLSFiles) set() bool { return f != TLSFiles{} }

// The inputs a TLSFileError names.
const (
	FieldCAFile     = "ca-file"     // TLSFiles.CAFile
	FieldCertFile   = "cert-file"   // TLSFiles.CertFile
	FieldKeyFile    = "key-file"    // TLSFiles.KeyFile
	FieldServerName = "server-name" // TLSFiles.ServerName
)

// TLSFileError is a TLS setting that cannot work, as returned by Feeds (and
// TLSFiles.Config). It names the input by Field (FieldCAFile...), not by
// how the user gave it, and the file's path (or the server name) as given.
// It never contains key material.
type TLSFileError struct {
	Field string // FieldCAFile, FieldCertFile, FieldKeyFile or FieldServerName
	Path  string // the file (or the server name) as given
	Err   error  // what is wrong with it
}

func (e *TLSFileError) Error() string {
	what := map[string]string{FieldCAFile: "CA file", FieldCertFile: "client certificate file",
		FieldKeyFile: "client key file", FieldServerName: "TLS server name"}[e.Field]
	if what == "" {
		what = "TLS setting"
	}
	if e.Path != "" {
		what += " " + e.Path
	}
	return what + ": " + e.Err.Error()
}

func (e *TLSFileError) Unwrap() error { return e.Err }

// Config reads and checks the files and returns the TLS configuration they
// make (RootCAs nil: the system's roots). Its errors are *TLSFileError.
func (f TLSFiles) Config() (*tls.Config, error) {
	cfg := &tls.Config{InsecureSkipVerify: f.InsecureSkipVerify}
	if name := strings.TrimSpace(f.ServerName); name != "" {
		if err := checkServerName(name); err != nil {
			return nil, &TLSFileError{Field: FieldServerName, Path: f.ServerName, Err: err}
		}
		cfg.ServerName = name
	}
	if f.CAFile != "" {
		pool, err := loadCAs(f.CAFile)
		if err != nil {
			return nil, &TLSFileError{Field: FieldCAFile, Path: f.CAFile, Err: err}
		}
		cfg.RootCAs = pool
	}
	switch {
	case f.CertFile != "":
		cert, err := loadClientCert(f.CertFile, f.KeyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	case f.KeyFile != "":
		return nil, &TLSFileError{Field: FieldCertFile, Err: errors.New("a client key needs its certificate, and none is given")}
	}
	return cfg, nil
}

func checkServerName(name string) error {
	if net.ParseIP(name) != nil {
		return nil
	}
	if strings.Contains(name, "://") || strings.ContainsAny(name, "/ \t@") {
		return errors.New("a host name is wanted (e.g. rabbit.example.com), not a URL")
	}
	if strings.Contains(name, ":") {
		return errors.New("a host name is wanted, without a port")
	}
	return nil
}

// readPEMFile reads a file, with the error said without the path (the
// TLSFileError names it).
func readPEMFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, errors.New("no such file")
		case errors.Is(err, fs.ErrPermission):
			return nil, errors.New("permission denied")
		case errors.As(err, &pe):
			return nil, pe.Err
		}
		return nil, err
	}
	return b, nil
}

func loadCAs(path string) (*x509.CertPool, error) {
	b, err := readPEMFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	n := 0
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d: %v", n+1, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		if hasPrivateKey(b) {
			return nil, errors.New("it holds a private key, not a CA certificate")
		}
		return nil, errors.New("no PEM certificate (BEGIN CERTIFICATE) in it")
	}
	return pool, nil
}

func hasPrivateKey(b []byte) bool {
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return false
		}
		if strings.HasSuffix(block.Type, "PRIVATE KEY") {
			return true
		}
	}
}

func loadClientCert(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := readPEMFile(certFile)
	if err != nil {
		return tls.Certificate{}, &TLSFileError{Field: FieldCertFile, Path: certFile, Err: err}
	}
	if !bytes.Contains(certPEM, []byte("CERTIFICATE-----")) {
		why := errors.New("no PEM certificate (BEGIN CERTIFICATE) in it")
		if hasPrivateKey(certPEM) {
			why = errors.New("it holds a private key, not a certificate")
		}
		return tls.Certificate{}, &TLSFileError{Field: FieldCertFile, Path: certFile, Err: why}
	}
	keyPEM, keyField, keyPath := certPEM, FieldCertFile, certFile
	if keyFile != "" {
		if keyPEM, err = readPEMFile(keyFile); err != nil {
			return tls.Certificate{}, &TLSFileError{Field: FieldKeyFile, Path: keyFile, Err: err}
		}
		keyField, keyPath = FieldKeyFile, keyFile
	}
	if !hasPrivateKey(keyPEM) {
		why := errors.New("no PEM private key in it")
		if keyFile == "" {
			why = errors.New("no client key is given and the certificate file holds none")
			keyField, keyPath = FieldKeyFile, ""
		}
		return tls.Certificate{}, &TLSFileError{Field: keyField, Path: keyPath, Err: why}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// crypto/tls's texts name no key material ("tls: private key does
		// not match public key", "tls: failed to parse private key").
		return tls.Certificate{}, &TLSFileError{Field: keyField, Path: keyPath, Err: err}
	}
	if leaf := cert.Leaf; leaf != nil && time.Now().After(leaf.NotAfter) {
		return tls.Certificate{}, &TLSFileError{Field: FieldCertFile, Path: certFile,
			Err: fmt.Errorf("the certificate expired on %s", leaf.NotAfter.UTC().Format(time.DateOnly))}
	}
	return cert, nil
}

// tlsVersion names a TLS version for a status: "TLS 1.3".
func tlsVersion(v uint16) string { return tls.VersionName(v) }

// dialInfo is what the dialer saw of one connection attempt, to tell TLS
// failures apart (see explainDial). Its methods are safe for concurrent
// use (the library's reader goroutine reads through the connection).
type dialInfo struct {
	mu        sync.Mutex
	addr      string // host:port dialled
	tls       bool   // the connection was to use TLS
	handshook bool   // the client's side of the handshake completed
	version   uint16 // the TLS version negotiated
	certAsked bool   // the broker asked for a client certificate
	certSent  bool   // and one was sent
	head      []byte // the first bytes the server sent (up to 8), above TLS if any
}

func (d *dialInfo) note(f func(d *dialInfo)) {
	d.mu.Lock()
	f(d)
	d.mu.Unlock()
}

func (d *dialInfo) snapshot() dialInfo {
	d.mu.Lock()
	defer d.mu.Unlock()
	return dialInfo{addr: d.addr, tls: d.tls, handshook: d.handshook, version: d.version,
		certAsked: d.certAsked, certSent: d.certSent, head: bytes.Clone(d.head)}
}

// clientTLS returns the configuration for one handshake: cfg's, with the
// client certificate sent through a hook that notes in d whether the
// broker asked for one. The configured certificate is always sent when
// asked for (Go's own choice sends none whose CA the broker does not list,
// and the broker then says "certificate required" instead of why it
// refuses the certificate).
func clientTLS(cfg *tls.Config, serverName string, d *dialInfo) *tls.Config {
	c := cfg.Clone()
	if c == nil {
		c = &tls.Config{}
	}
	if c.ServerName == "" {
		c.ServerName = serverName
	}
	certs, hook := c.Certificates, c.GetClientCertificate
	c.Certificates = nil
	c.GetClientCertificate = func(cri *tls.CertificateRequestInfo) (*tls.Certificate, error) {
		var cert *tls.Certificate
		var err error
		switch {
		case hook != nil:
			cert, err = hook(cri)
		case len(certs) > 0:
			cert = &certs[0]
		}
		if cert == nil {
			cert = &tls.Certificate{} // none: the broker decides
		}
		d.note(func(d *dialInfo) { d.certAsked, d.certSent = true, len(cert.Certificate) > 0 })
		return cert, err
	}
	return c
}

// headConn notes the first bytes the server sends in a dialInfo.
type headConn struct {
	net.Conn
	d    *dialInfo
	done bool // only touched by the reading goroutine
}

func (h *headConn) Read(p []byte) (int, error) {
	n, err := h.Conn.Read(p)
	if n > 0 && !h.done {
		h.d.note(func(d *dialInfo) {
			d.head = append(d.head, p[:min(n, 8-len(d.head))]...)
			h.done = len(d.head) >= 8
		})
	}
	return n, err
}

// dialError is a failed connection attempt explained: a message that
// keeps the original error's text (the knowledge base matches on it) and
// the advice it calls for.
type dialError struct {
	msg string
	adv advice
	err error
}

func (e *dialError) Error() string { return e.msg }
func (e *dialError) Unwrap() error { return e.err }

// Hints for TLS conditions (naming no flag).
const (
	hintTLSUnknownAuthority = "the broker's certificate is signed by a CA that is not trusted here: trust the CA certificate that signed it (a PEM file), or check that this is the broker meant"
	hintTLSNameMismatch     = "the broker's certificate does not name the host connected to (the error says which names it has): connect by one of those names, or verify the certificate against the name it carries"
	hintTLSClientCertReq    = "the broker requires a client certificate (ssl_options.verify = verify_peer with fail_if_no_peer_cert = true) and none was sent: give a certificate and its key, signed by a CA in the broker's ssl_options.cacertfile"
	hintTLSClientCertBad    = "the broker refused the client certificate: it must be signed by a CA in the broker's ssl_options.cacertfile, be valid now and allow client authentication; the broker's log names the alert"
	hintMgmtClientCertReq   = "the management API's TLS listener requires a client certificate (management.ssl.verify = verify_peer with management.ssl.fail_if_no_peer_cert = true) and none was sent: give a certificate and its key, signed by a CA in management.ssl.cacertfile"
	hintMgmtClientCertBad   = "the management API refused the client certificate: it must be signed by a CA in the broker's management.ssl.cacertfile, be valid now and allow client authentication; the broker's log names the alert"
	hintTLSOnPlainPort      = "this port speaks plain AMQP, not TLS: use amqp:// for it, or the broker's TLS port (5671 by default; rabbitmq-diagnostics listeners shows which port speaks what)"
	hintPlainOnTLSPort      = "this port speaks TLS: use amqps:// for it, or the broker's plain AMQP port (5672 by default; rabbitmq-diagnostics listeners shows which port speaks what)"
	hintTLSVerifyOff        = "the broker's certificate is not verified: anyone on the network path can pose as the broker and read the credentials; use this only for tests"
)

// Remote TLS alerts (Go's texts, crypto/tls alert.go) that say the broker
// refused the client certificate it was sent.
var certRefusedAlerts = []string{
	"tls: unknown certificate authority", "tls: bad certificate", "tls: unsupported certificate",
	"tls: revoked certificate", "tls: expired certificate", "tls: unknown certificate", "tls: access denied",
}

// explainDial explains a failed AMQP connection attempt from its error
// and what the dialer saw (nil when the dialer never ran). Errors it
// cannot tell more about are returned as they are.
func explainDial(err error, info *dialInfo) error {
	if err == nil || info == nil {
		return err
	}
	d := info.snapshot()
	text := err.Error()
	wrap := func(cond, hint, what string) error {
		msg := text
		if what != "" {
			msg = what + ": " + text
		}
		return &dialError{msg: msg, adv: advice{cond, hint}, err: err}
	}
	var (
		uaErr  x509.UnknownAuthorityError
		hostEr x509.HostnameError
		recErr tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &uaErr) || strings.Contains(text, "x509: certificate signed by unknown authority"):
		return wrap(condTLSUnknownAuthority, hintTLSUnknownAuthority, "")
	case errors.As(err, &hostEr) || strings.Contains(text, "x509: certificate is valid for") || strings.Contains(text, "x509: certificate is not valid for any names"):
		return wrap(condTLSNameMismatch, hintTLSNameMismatch, "")
	case d.tls && (errors.As(err, &recErr) || strings.Contains(text, "first record does not look like a TLS handshake")):
		what := "something that is not TLS"
		if bytes.HasPrefix(recErr.RecordHeader[:], []byte("AMQP")) {
			what = "an AMQP protocol header"
		}
		return wrap(condTLSOnPlainPort, hintTLSOnPlainPort, "the server at "+d.addr+" does not speak TLS: it answered the TLS handshake with "+what)
	case !d.tls && len(d.head) >= 3 && (d.head[0] == 0x15 || d.head[0] == 0x16) && d.head[1] == 0x03:
		return wrap(condPlainOnTLSPort, hintPlainOnTLSPort, "the server at "+d.addr+" speaks TLS: it answered the AMQP protocol header with a TLS alert")
	case !d.tls:
		return err
	case strings.Contains(text, "tls: certificate required"):
		return wrap(condTLSClientCertRequired, hintTLSClientCertReq, "the broker requires a client certificate")
	case d.certAsked && !d.certSent && (strings.Contains(text, "tls: handshake failure") || d.handshook && len(d.head) == 0):
		// TLS 1.2: the handshake fails; TLS 1.3: the connection ends
		// before the first AMQP byte, however amqp091-go words it.
		return wrap(condTLSClientCertRequired, hintTLSClientCertReq, "the broker asked for a client certificate and none was given")
	case d.certAsked && d.certSent && containsAny(text, certRefusedAlerts):
		return wrap(condTLSClientCertRejected, hintTLSClientCertBad, "the broker refused the client certificate")
	case d.certAsked && d.certSent && d.handshook && len(d.head) == 0:
		return wrap(condTLSClientCertRejected, hintTLSClientCertBad, "the broker closed the connection right after checking the client certificate")
	}
	return err
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// connAdvice says what to do about a failed AMQP connection: the advice of
// an explained error, else what its message suggests.
func connAdvice(err error, msg string, t *Target) advice {
	var de *dialError
	if errors.As(err, &de) {
		return de.adv
	}
	return amqpAdvice(msg, t)
}

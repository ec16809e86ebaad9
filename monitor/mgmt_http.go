package monitor

// The fetch step's HTTP: one GET with a timeout, and errors that name the
// endpoint and say what to do (naming no flag), never quoting a password.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	rabbithole "github.com/michaelklishin/rabbit-hole/v2"
)

type mgmtErrKind uint8

const (
	mgmtErrTransport     mgmtErrKind = iota // no HTTP answer (refused, reset, TLS, DNS)
	mgmtErrTimeout                          // no complete answer within Timeout
	mgmtErrAuth                             // 401, 403
	mgmtErrNotMonitor                       // 401 "Not monitor user" on /api/nodes
	mgmtErrNotFound                         // 404
	mgmtErrStatus                           // another non-200 status
	mgmtErrStatsDisabled                    // 400 "Stats in management UI are disabled"
	mgmtErrPageRange                        // 400 page_out_of_range
	mgmtErrJSON                             // a body that is not the JSON expected
	mgmtErrChanged                          // a list that kept changing while paged
)

// mgmtError is a failed request, described for the user: msg names the
// endpoint and never contains the password or the URL's credentials.
type mgmtError struct {
	endpoint string
	kind     mgmtErrKind
	status   string // "401 Unauthorized"
	msg      string
	hint     string // what to check, naming no flag
	cond     string // the condition the hint stands for (see Conditions)
	fatal    bool   // the other endpoints will fail the same way: stop the poll
	cause    error  // the transport's error, for errors.Is (never printed)
}

func (e *mgmtError) Error() string { return e.msg }
func (e *mgmtError) Unwrap() error { return e.cause }

// advise sets what to do about the error.
func (e *mgmtError) advise(cond, hint string) { e.cond, e.hint = cond, hint }

// mgmtAPI is the fetch step's HTTP: the endpoint and the credentials, one
// GET at a time with a timeout, and errors that say what went wrong.
type mgmtAPI struct {
	rh       *rabbithole.Client // the endpoint (no credentials in it) and the credentials
	hc       *http.Client
	timeout  time.Duration // per request
	pageSize int
	hostport string // for messages: the host and port of the URL

	tlsInfo   *dialInfo // what the TLS handshakes saw of the client certificate (reset per request)
	verifyOff bool      // https without verifying the broker's certificate
	tlsVer    uint16    // the TLS version of the last reply (0: plain HTTP); Run's goroutine only
}

const (
	mgmtMonitoringHint = "check the user and password; the user needs the 'monitoring' tag (rabbitmqctl set_user_tags USER monitoring)"
	mgmtDroppedHint    = "the management API or a proxy in between dropped the connection"
	mgmtNotAPIHint     = "the URL does not seem to point at a RabbitMQ management API"
)

// getJSON GETs an endpoint and decodes its JSON reply into v.
func (a *mgmtAPI) getJSON(ctx context.Context, endpoint string, q url.Values, limit int64, v any, tolerate string) *mgmtError {
	body, err := a.get(ctx, endpoint, q, limit)
	if err != nil {
		return err
	}
	return mgmtDecode(endpoint, body, v, tolerate)
}

// get performs one GET with the per-request timeout and returns the body
// of a 200 reply.
func (a *mgmtAPI) get(ctx context.Context, endpoint string, q url.Values, limit int64) ([]byte, *mgmtError) {
	rctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	u := a.rh.Endpoint + endpoint
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, a.clean(&mgmtError{endpoint: endpoint, kind: mgmtErrTransport, fatal: true,
			msg: "GET " + endpoint + ": " + mgmtUnwrapURLError(err).Error()})
	}
	req.SetBasicAuth(a.rh.Username, a.rh.Password)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "amqptop")
	if a.tlsInfo != nil {
		a.tlsInfo.note(func(d *dialInfo) { d.certAsked, d.certSent = false, false })
	}
	resp, err := a.hc.Do(req)
	if err != nil {
		return nil, a.clean(a.transportError(rctx, endpoint, err, false))
	}
	defer resp.Body.Close()
	a.tlsVer = 0
	if resp.TLS != nil {
		a.tlsVer = resp.TLS.Version
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, mgmtErrBodyLimit))
		return nil, a.clean(a.statusError(endpoint, resp, body))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, a.clean(a.transportError(rctx, endpoint, err, true))
	}
	if int64(len(body)) > limit {
		return nil, a.clean(&mgmtError{endpoint: endpoint, kind: mgmtErrStatus,
			msg:  fmt.Sprintf("GET %s: the reply is larger than %d MiB", endpoint, limit>>20),
			hint: "lower the page size", cond: condMgmtReplyTooLarge})
	}
	return body, nil
}

// clean removes the password (and the Authorization header's value) from
// texts that might quote them (an error body echoing the request).
func (a *mgmtAPI) clean(e *mgmtError) *mgmtError {
	user, pass := a.rh.Username, a.rh.Password
	if pass != "" {
		auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
		e.msg = strings.ReplaceAll(redact(e.msg, user, pass), auth, "xxxxx")
		e.hint = redact(e.hint, user, pass)
	}
	return e
}

func mgmtUnwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// transportError describes a request that got no (complete) answer.
func (a *mgmtAPI) transportError(rctx context.Context, endpoint string, err error, inBody bool) *mgmtError {
	e := &mgmtError{endpoint: endpoint, kind: mgmtErrTransport, cause: err}
	prefix := "GET " + endpoint + ": "
	var (
		dnsErr  *net.DNSError
		certErr *tls.CertificateVerificationError
		uaErr   x509.UnknownAuthorityError
		hostErr x509.HostnameError
		invErr  x509.CertificateInvalidError
		recErr  tls.RecordHeaderError
		netErr  net.Error
		opErr   *net.OpError
	)
	inner := mgmtUnwrapURLError(err)
	var tlsSaw dialInfo
	if a.tlsInfo != nil {
		tlsSaw = a.tlsInfo.snapshot()
	}
	text := inner.Error()
	switch {
	case errors.Is(err, context.DeadlineExceeded) || rctx.Err() != nil || errors.As(err, &netErr) && netErr.Timeout():
		e.kind = mgmtErrTimeout
		e.msg = prefix + "timeout after " + a.timeout.String()
		e.advise(condMgmtTimeout, "the management API did not answer in time: the node may be overloaded, or a firewall drops the packets")
	case errors.Is(err, syscall.ECONNREFUSED):
		e.fatal = true
		e.msg = prefix + "connection refused by " + a.hostport
		e.advise(condMgmtConnectionRefused, "the management plugin may be off (rabbitmq-plugins enable rabbitmq_management) or the port wrong (15672, 15671 with TLS)")
	case errors.As(err, &dnsErr):
		e.fatal = true
		e.msg = prefix + "cannot resolve " + dnsErr.Name + ": " + dnsErr.Err
		e.advise(condMgmtDNSFailed, "check the host name in the management URL")
	case errors.As(err, &uaErr):
		e.fatal = true
		e.msg = prefix + "TLS: " + text
		e.advise(condMgmtTLSUnknownAuth, hintTLSUnknownAuthority)
	case errors.As(err, &hostErr):
		e.fatal = true
		e.msg = prefix + "TLS: " + text
		e.advise(condMgmtTLSNameMismatch, hintTLSNameMismatch)
	case errors.As(err, &certErr) || errors.As(err, &invErr):
		e.fatal = true
		e.msg = prefix + "TLS: " + text
		e.advise(condMgmtTLSFailed, "the broker's certificate is not trusted here (or names another host)")
	case strings.Contains(text, "tls: certificate required"),
		tlsSaw.certAsked && !tlsSaw.certSent && (strings.Contains(text, "tls: handshake failure") || mgmtDropped(err)):
		// TLS 1.3 says it after the handshake, TLS 1.2 fails the handshake
		// (see tls.go).
		e.fatal = true
		e.msg = prefix + "TLS: the API requires a client certificate and none was given: " + text
		e.advise(condMgmtTLSClientCertReq, hintMgmtClientCertReq)
	case tlsSaw.certAsked && tlsSaw.certSent && containsAny(text, certRefusedAlerts):
		e.fatal = true
		e.msg = prefix + "TLS: the API refused the client certificate: " + text
		e.advise(condMgmtTLSClientCertBad, hintMgmtClientCertBad)
	case strings.HasPrefix(text, "remote error: tls: "):
		e.fatal = true
		e.msg = prefix + "TLS: " + text
		e.advise(condMgmtTLSFailed, "the TLS handshake failed: the broker's log says why (its TLS alerts are logged at notice level)")
	case errors.As(err, &recErr) || strings.Contains(inner.Error(), "server gave HTTP response to HTTPS client"):
		e.fatal = true
		e.msg = prefix + "the server does not speak TLS at " + a.hostport
		e.advise(condMgmtPortNotTLS, "use http:// for this port, or the management TLS port (15671)")
	case strings.Contains(inner.Error(), "malformed HTTP response"):
		e.fatal = true
		e.msg = prefix + "the server at " + a.hostport + " does not answer plain HTTP"
		e.advise(condMgmtPortIsTLS, "use https:// for a TLS port, or check the port (15672 is the management API's)")
	case inBody && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)):
		e.msg = prefix + "the server closed the connection mid-response (unexpected EOF)"
		e.advise(condMgmtDropped, mgmtDroppedHint)
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		e.msg = prefix + "the server closed the connection without answering"
		e.advise(condMgmtDropped, mgmtDroppedHint)
	case errors.Is(err, syscall.ECONNRESET):
		e.msg = prefix + "connection reset by the server"
		e.advise(condMgmtDropped, mgmtDroppedHint)
	case errors.As(err, &opErr):
		// Without the addresses: the local port changes with every attempt.
		e.msg = prefix + opErr.Op + ": " + opErr.Err.Error()
	default:
		e.msg = prefix + inner.Error()
	}
	if inBody && e.kind == mgmtErrTransport && !strings.Contains(e.msg, "mid-response") {
		e.msg = strings.Replace(e.msg, prefix, prefix+"reading the reply: ", 1)
	}
	return e
}

var mgmtErlangPid = regexp.MustCompile(`<\d+\.\d+\.\d+>`)

// statusError describes a non-200 reply.
func (a *mgmtAPI) statusError(endpoint string, resp *http.Response, body []byte) *mgmtError {
	e := &mgmtError{endpoint: endpoint, kind: mgmtErrStatus, status: resp.Status}
	if e.status == "" {
		e.status = strconv.Itoa(resp.StatusCode)
	}
	var er rabbithole.ErrorResponse
	reason, isJSON := "", json.Unmarshal(body, &er) == nil && (er.Message != "" || er.Reason != "")
	if isJSON {
		reason = er.Reason
	}
	line := mgmtFirstLine(body)
	if isJSON {
		line = er.Message
		if er.Reason != "" && er.Reason != er.Message {
			line += ": " + er.Reason
		}
		line = mgmtFirstLine([]byte(line))
	}
	prefix := "GET " + endpoint + ": "
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized && endpoint == "/api/nodes" && strings.Contains(reason, "Not monitor user"):
		e.kind = mgmtErrNotMonitor
		e.advise(condMgmtNotMonitoringUser, mgmtMonitoringHint)
		e.status = strconv.Itoa(code) + " " + reason
		e.msg = prefix + e.status
	case code == http.StatusUnauthorized && strings.Contains(reason, "Not management user"):
		e.kind, e.fatal = mgmtErrAuth, true
		e.advise(condMgmtNotManagementUser, mgmtMonitoringHint)
		e.msg = "user " + strconv.Quote(a.rh.Username) + " may not use the management API: it lacks the 'monitoring' (or 'management') tag (401 " + reason + ")"
	case code == http.StatusUnauthorized:
		e.kind, e.fatal = mgmtErrAuth, true
		e.advise(condMgmtUnauthorized, mgmtMonitoringHint)
		e.msg = "management API refused the credentials (401)"
	case code == http.StatusForbidden:
		e.kind, e.fatal = mgmtErrAuth, true
		e.advise(condMgmtNotManagementUser, mgmtMonitoringHint)
		e.msg = "management API refused user " + strconv.Quote(a.rh.Username) + " (403): it lacks the 'monitoring' (or 'management') tag"
		if endpoint == "/api/nodes" && strings.Contains(reason, "monitor") {
			e.kind, e.fatal = mgmtErrNotMonitor, false
			e.status = "403 " + reason
			e.advise(condMgmtNotMonitoringUser, mgmtMonitoringHint)
		}
	case code == http.StatusNotFound:
		e.kind = mgmtErrNotFound
		e.msg = prefix + e.status
	case code == http.StatusBadRequest && strings.Contains(reason, "Stats in management UI are disabled"):
		e.kind = mgmtErrStatsDisabled
		e.msg = prefix + e.status + ": " + line
	case code == http.StatusBadRequest && er.Message == "page_out_of_range":
		e.kind = mgmtErrPageRange
		e.msg = prefix + e.status + ": " + line
	default:
		e.msg = prefix + e.status
		if line != "" {
			e.msg += ": " + line
		}
		switch {
		case strings.Contains(line, "HTTP request to an HTTPS server"):
			e.advise(condMgmtPortIsTLS, "use https:// for this port")
		case code == http.StatusServiceUnavailable:
			e.advise(condMgmtUnavailable, "the node may be starting, stopping or overloaded")
		case code >= 500:
			e.advise(condMgmtServerError, "the management API failed on the broker; the node's log says why")
		}
	}
	return e
}

// mgmtDropped reports an error that ended a request without an answer.
func mgmtDropped(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// mgmtFirstLine returns the first non-empty line of an error body, bounded,
// with Erlang pids (which change with every request) masked.
func mgmtFirstLine(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	s = mgmtErlangPid.ReplaceAllString(s, "<pid>")
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > mgmtErrLineLimit {
		cut := mgmtErrLineLimit
		for cut > 0 && !mgmtUTF8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func mgmtUTF8Start(b byte) bool { return b&0xC0 != 0x80 }

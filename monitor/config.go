package monitor

import (
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/amqptop/amqptop/model"
)

// Config is what the live monitor needs, checked by Feeds.
type Config struct {
	URL           string // amqp:// or amqps:// with credentials
	MgmtURL       string // http(s)://host:port; "" = the AMQP host on 15672 (15671 for amqps), same credentials
	NoProbe       bool
	NoEvents      bool
	NoLogExchange bool
	ProbeInterval time.Duration
	Heartbeat     time.Duration
	Poll          time.Duration
	BrokerLog     string // tail this file instead of subscribing to the log exchange
	Host          string // this machine's name, for client-provided names ("" = os.Hostname)
	// TLS is for amqps:// and https:// (see TLSFiles); Feeds reads and
	// checks its files whenever any of it is set, even when neither URL
	// uses TLS (then nothing uses them).
	TLS TLSFiles
}

// Target is a parsed, checked broker address.
type Target struct {
	AMQP     *url.URL // with credentials
	Mgmt     *url.URL // without credentials
	User     string
	Password string
	Vhost    string
	// MgmtUser and MgmtPassword are those in the management URL when it
	// has any, else the AMQP ones.
	MgmtUser, MgmtPassword string

	verifyOff bool // set by Feeds: see VerifyOff
}

// VerifyOff reports whether the target was built by Feeds with
// TLSFiles.InsecureSkipVerify for a URL that uses TLS (amqps:// or
// https://): the broker's certificate is then not verified. The sources
// that connect with TLS also say so with their Up status (condition
// tls-verify-off).
func (t *Target) VerifyOff() bool { return t.verifyOff }

// Redacted returns the AMQP URL without its password.
func (t *Target) Redacted() string { return t.AMQP.Redacted() }

// Redact removes the password from a text that may quote it.
func (t *Target) Redact(s string) string {
	return redact(redact(s, t.User, t.Password), t.MgmtUser, t.MgmtPassword)
}

// The inputs a TargetError names.
const (
	FieldURL     = "url"      // Config.URL, the AMQP URL
	FieldMgmtURL = "mgmt-url" // Config.MgmtURL, the management API's URL
)

// TargetError is a broker address that cannot work, as returned by
// ParseTarget and Feeds. It names the input by Field (FieldURL or
// FieldMgmtURL), not by how the user gave it, so that the command line can
// say "--url amqp://h: no host". Neither URL nor Err ever contains a
// password.
type TargetError struct {
	Field string // FieldURL or FieldMgmtURL
	URL   string // the address without its password; "" when it does not parse
	Err   error  // what is wrong with it
}

func (e *TargetError) Error() string {
	what := "AMQP URL"
	if e.Field == FieldMgmtURL {
		what = "management URL"
	}
	if e.URL != "" {
		what += " " + e.URL
	}
	return what + ": " + e.Err.Error()
}

func (e *TargetError) Unwrap() error { return e.Err }

// ParseTarget checks the URLs and derives the management URL. Its errors
// are *TargetError.
func ParseTarget(amqpURL, mgmtURL string) (*Target, error) {
	u, err := url.Parse(amqpURL)
	if err != nil {
		return nil, &TargetError{Field: FieldURL, Err: errors.New(redact(err.Error(), "", passwordIn(amqpURL)))}
	}
	if u.Scheme != "amqp" && u.Scheme != "amqps" {
		return nil, &TargetError{Field: FieldURL, URL: u.Redacted(), Err: errors.New("the scheme must be amqp:// or amqps://")}
	}
	if u.Hostname() == "" {
		return nil, &TargetError{Field: FieldURL, URL: u.Redacted(), Err: errors.New("no host")}
	}
	t := &Target{AMQP: u, User: "guest", Password: "guest", Vhost: "/"}
	if u.User != nil {
		t.User = u.User.Username()
		t.Password, _ = u.User.Password()
	}
	if p := strings.TrimPrefix(u.Path, "/"); u.Path != "" && p != "" {
		if v, err := url.PathUnescape(p); err == nil {
			t.Vhost = v
		}
	}
	if mgmtURL == "" {
		scheme, port := "http", "15672"
		if u.Scheme == "amqps" {
			scheme, port = "https", "15671"
		}
		mgmtURL = scheme + "://" + net.JoinHostPort(u.Hostname(), port)
	}
	m, err := url.Parse(mgmtURL)
	if err != nil {
		return nil, &TargetError{Field: FieldMgmtURL, Err: errors.New(redact(err.Error(), "", passwordIn(mgmtURL)))}
	}
	if m.Scheme != "http" && m.Scheme != "https" {
		return nil, &TargetError{Field: FieldMgmtURL, URL: m.Redacted(), Err: errors.New("the scheme must be http:// or https://")}
	}
	t.MgmtUser, t.MgmtPassword = t.User, t.Password
	if m.User != nil {
		// Credentials in the management URL are for the management API only.
		t.MgmtUser = m.User.Username()
		t.MgmtPassword, _ = m.User.Password()
		m.User = nil
	}
	m.Path = strings.TrimSuffix(m.Path, "/")
	t.Mgmt = m
	return t, nil
}

func passwordIn(raw string) string {
	if i := strings.Index(raw, "://"); i >= 0 {
		rest := raw[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
				return pw
			}
		}
	}
	return ""
}

// redact hides a password in a text. A password equal to the user name is
// hidden only where it follows "user:" (hiding it everywhere would mangle
// every mention of the user).
func redact(s, user, password string) string {
	if password == "" {
		return s
	}
	if user != "" {
		s = strings.ReplaceAll(s, user+":"+password+"@", user+":xxxxx@")
		s = strings.ReplaceAll(s, url.UserPassword(user, password).String()+"@", user+":xxxxx@")
	}
	if password != user && len(password) >= 3 {
		s = strings.ReplaceAll(s, password, "xxxxx")
		if esc := url.QueryEscape(password); esc != password {
			s = strings.ReplaceAll(s, esc, "xxxxx")
		}
	}
	return s
}

func (c *Config) host() string {
	if c.Host != "" {
		return c.Host
	}
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "unknown"
	}
	return h
}

// Feeds builds the live sources from the configuration. Its errors are
// those of ParseTarget (*TargetError), then those of the TLS settings
// (*TLSFileError).
func Feeds(c Config) ([]model.Feed, *Target, error) {
	t, err := ParseTarget(c.URL, c.MgmtURL)
	if err != nil {
		return nil, nil, err
	}
	var tc *tls.Config
	if c.TLS.set() {
		if tc, err = c.TLS.Config(); err != nil {
			return nil, nil, err
		}
	}
	t.verifyOff = c.TLS.InsecureSkipVerify && (t.AMQP.Scheme == "amqps" || t.Mgmt.Scheme == "https")
	host := c.host()
	var feeds []model.Feed
	if !c.NoProbe {
		feeds = append(feeds, &Probe{Target: t, Client: "amqptop-probe@" + host, Heartbeat: c.Heartbeat, Interval: c.ProbeInterval, TLS: tc})
	}
	feeds = append(feeds, NewPoller(MgmtConfig{URL: t.Mgmt.String(), User: t.MgmtUser, Password: t.MgmtPassword, Interval: c.Poll, TLS: tc}))
	if !c.NoEvents {
		feeds = append(feeds, &Subscriber{Target: t, Kind: EventStream, Client: "amqptop-events@" + host, TLS: tc})
	}
	switch {
	case c.BrokerLog != "":
		feeds = append(feeds, &LogFile{Path: c.BrokerLog})
	case !c.NoLogExchange:
		feeds = append(feeds, &Subscriber{Target: t, Kind: LogStream, Client: "amqptop-log@" + host, TLS: tc})
	}
	return feeds, t, nil
}

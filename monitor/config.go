package monitor

import (
	"fmt"
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
}

// Target is a parsed, checked broker address.
type Target struct {
	AMQP     *url.URL // with credentials
	Mgmt     *url.URL // without credentials
	User     string
	Password string
	Vhost    string
	// MgmtUser and MgmtPassword are those of --mgmt-url when it has any,
	// else the AMQP ones.
	MgmtUser, MgmtPassword string
}

// Redacted returns the AMQP URL without its password.
func (t *Target) Redacted() string { return t.AMQP.Redacted() }

// Redact removes the password from a text that may quote it.
func (t *Target) Redact(s string) string {
	return redact(redact(s, t.User, t.Password), t.MgmtUser, t.MgmtPassword)
}

// ParseTarget checks the URLs and derives the management URL.
func ParseTarget(amqpURL, mgmtURL string) (*Target, error) {
	u, err := url.Parse(amqpURL)
	if err != nil {
		return nil, fmt.Errorf("--url: %v", redact(err.Error(), "", passwordIn(amqpURL)))
	}
	if u.Scheme != "amqp" && u.Scheme != "amqps" {
		return nil, fmt.Errorf("--url %s: the scheme must be amqp:// or amqps://", u.Redacted())
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("--url %s: no host", u.Redacted())
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
		return nil, fmt.Errorf("--mgmt-url: %v", redact(err.Error(), "", passwordIn(mgmtURL)))
	}
	if m.Scheme != "http" && m.Scheme != "https" {
		return nil, fmt.Errorf("--mgmt-url %s: the scheme must be http:// or https://", m.Redacted())
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

// Feeds builds the live sources from the configuration.
func Feeds(c Config) ([]model.Feed, *Target, error) {
	t, err := ParseTarget(c.URL, c.MgmtURL)
	if err != nil {
		return nil, nil, err
	}
	host := c.host()
	var feeds []model.Feed
	if !c.NoProbe {
		feeds = append(feeds, &Probe{Target: t, Client: "amqptop-probe@" + host, Heartbeat: c.Heartbeat, Interval: c.ProbeInterval})
	}
	feeds = append(feeds, NewPoller(MgmtConfig{URL: t.Mgmt.String(), User: t.MgmtUser, Password: t.MgmtPassword, Interval: c.Poll}))
	if !c.NoEvents {
		feeds = append(feeds, &Subscriber{Target: t, Kind: EventStream, Client: "amqptop-events@" + host})
	}
	switch {
	case c.BrokerLog != "":
		feeds = append(feeds, &LogFile{Path: c.BrokerLog})
	case !c.NoLogExchange:
		feeds = append(feeds, &Subscriber{Target: t, Kind: LogStream, Client: "amqptop-log@" + host})
	}
	return feeds, t, nil
}

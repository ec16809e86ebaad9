package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/amqptop/amqptop/model"
	"github.com/amqptop/amqptop/model/inert"
)

// The debug log (--debug FILE) is every raw observation the sources
// emit, one JSON object per line, before the reducer sees it: what
// amqptop saw, for a bug report or for telling amqptop's fault from the
// broker's. It goes through the same sanitiser as every other sink and
// the run's passwords are replaced with xxxxx.
type debugLog struct {
	mu     sync.Mutex
	w      io.Writer
	close  func() error
	redact func(string) string
	open   int // feeds still running; the last one closes the file
}

// openDebugLog opens the debug log: "-" is stderr (watch only: the
// dashboard owns the terminal), anything else a file appended to, made
// readable by its owner only. A FIFO or a device is refused (opening a
// FIFO for writing blocks until someone reads it).
func openDebugLog(c *config, stderr io.Writer) (*debugLog, error) {
	d := &debugLog{redact: c.redactor(), close: func() error { return nil }}
	if c.debug == "-" {
		d.w = stderr
		return d, nil
	}
	path := expandHome(c.debug)
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return nil, usageError{fmt.Errorf("--debug %s: not a regular file", c.debug)}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, usageError{fmt.Errorf("--debug: %w", err)}
	}
	d.w, d.close = f, f.Close
	return d, nil
}

type debugLine struct {
	Logged time.Time       `json:"logged"`
	Kind   string          `json:"kind"`
	Obs    json.RawMessage `json:"obs,omitempty"`
	Note   string          `json:"note,omitempty"`
}

// note writes a line that is not an observation (the start, an error).
func (d *debugLog) note(kind, text string) {
	d.write(debugLine{Logged: time.Now(), Kind: kind, Note: text})
}

func (d *debugLog) observe(o model.Observation) {
	b, err := json.Marshal(o)
	if err != nil {
		d.note("unencodable", fmt.Sprintf("%T: %v", o, err))
		return
	}
	d.write(debugLine{Logged: time.Now(), Kind: strings.TrimPrefix(fmt.Sprintf("%T", o), "model."), Obs: b})
}

func (d *debugLog) write(l debugLine) {
	b, err := json.Marshal(l)
	if err != nil {
		return
	}
	line := d.redact(string(inert.JSON(b)))
	d.mu.Lock()
	defer d.mu.Unlock()
	io.WriteString(d.w, line+"\n")
}

// wrap makes every feed log what it emits; the file is closed once the
// last of them has stopped.
func (d *debugLog) wrap(srcs []model.Feed) []model.Feed {
	out := make([]model.Feed, len(srcs))
	d.open = len(srcs)
	for i, f := range srcs {
		out[i] = debugFeed{f, d}
	}
	if len(srcs) == 0 {
		d.close()
	}
	return out
}

type debugFeed struct {
	model.Feed
	log *debugLog
}

func (f debugFeed) Run(ctx context.Context, emit func(model.Observation)) error {
	defer func() {
		f.log.mu.Lock()
		f.log.open--
		last := f.log.open == 0
		f.log.mu.Unlock()
		if last {
			f.log.close()
		}
	}()
	err := f.Feed.Run(ctx, func(o model.Observation) {
		if _, tick := o.(model.Tick); !tick {
			f.log.observe(o)
		}
		emit(o)
	})
	if err != nil {
		f.log.note("feed-stopped", fmt.Sprintf("%T: %v", f.Feed, err))
	}
	return err
}

// redactor hides this run's passwords (its URLs', which by now hold the
// password file's or AMQPTOP_PASSWORD's) and any other credential in a
// text amqptop writes.
func (c *config) redactor() func(string) string {
	secrets := c.secrets()
	return func(s string) string {
		s = inert.Redact(s)
		for _, pw := range secrets {
			s = strings.ReplaceAll(s, pw, inert.Redacted)
		}
		return s
	}
}

// secrets are the passwords this config knows, each also as it appears
// escaped in a URL or a JSON string.
func (c *config) secrets() []string {
	var out []string
	add := func(pw string) {
		if pw == "" || pw == inert.Redacted {
			return
		}
		out = append(out, pw, url.QueryEscape(pw), url.PathEscape(pw))
		if b, err := json.Marshal(pw); err == nil {
			out = append(out, strings.Trim(string(b), `"`))
		}
	}
	for _, raw := range []string{c.url, c.mgmtURL} {
		if u, err := url.Parse(raw); err == nil {
			pw, _ := u.User.Password()
			add(pw)
		}
	}
	if c.passwordFile != "" {
		if b, err := os.ReadFile(expandHome(c.passwordFile)); err == nil {
			add(strings.TrimRight(string(b), "\r\n"))
		}
	}
	return out
}

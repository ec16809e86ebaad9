package wire

import (
	"regexp"
	"strings"
	"time"
)

// LogLine is one line of a broker log file, split into its prefix and text.
type LogLine struct {
	Time   time.Time
	Level  string // normalised: debug, info, notice, warning, error, critical
	PID    string
	Text   string
	Prefix string // the raw prefix ("" for a continuation line without one)
	Old    bool   // part of an old-style "=ERROR REPORT====" block
	Modern bool   // 3.9+ format (timestamp with a zone): every line of an entry repeats the prefix
}

var (
	// 3.9+: 2026-11-23 10:00:00.123456+00:00 [error] <0.1234.0> text
	// 3.7/3.8: 2026-11-23 10:00:00.123 [error] <0.1234.0> text
	reLinePrefix = regexp.MustCompile(`^(\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) \[([a-z]+)\] (<[\d.]+> )?`)
	// =ERROR REPORT==== 23-Nov-2026::10:00:00 ===  (also INFO REPORT, WARNING REPORT)
	reOldHeader = regexp.MustCompile(`^=([A-Z]+) REPORT==== (\d{1,2}-[A-Za-z]{3}-\d{4}::\d\d:\d\d:\d\d(?:\.\d+)?) ===\s*$`)
)

var levelNames = map[string]string{
	"debug": "debug", "debu": "debug",
	"info":   "info",
	"notice": "notice", "noti": "notice",
	"warning": "warning", "warn": "warning",
	"error": "error", "erro": "error",
	"critical": "critical", "crit": "critical",
	"alert": "critical", "emergency": "critical", "emer": "critical",
}

// NormLevel maps the broker's level words (including early 3.9's
// four-letter ones) to debug, info, notice, warning, error or critical.
func NormLevel(s string) string {
	if l, ok := levelNames[strings.ToLower(s)]; ok {
		return l
	}
	return strings.ToLower(s)
}

// ParseLogLine splits one line of a broker log. ok is false when the line
// has no recognised prefix (a continuation line of 3.7/3.8, or not a log
// line at all).
func ParseLogLine(line string) (l LogLine, ok bool) {
	line = strings.TrimRight(line, "\r\n")
	if m := reLinePrefix.FindStringSubmatch(line); m != nil {
		l.Prefix = m[0]
		l.Modern = strings.ContainsAny(m[1][10:], "Z+-")
		l.Time = parseLogTime(m[1])
		l.Level = NormLevel(m[2])
		l.PID = strings.TrimSpace(m[3])
		l.Text = line[len(m[0]):]
		return l, true
	}
	if m := reOldHeader.FindStringSubmatch(line); m != nil {
		l.Prefix = m[0]
		l.Old = true
		l.Level = NormLevel(m[1])
		if t, err := time.Parse("2-Jan-2006::15:04:05", strings.SplitN(m[2], ".", 2)[0]); err == nil {
			l.Time = t
		}
		return l, true
	}
	return LogLine{Text: line}, false
}

func parseLogTime(s string) time.Time {
	for _, layout := range []string{
		"2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02T15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05.999999999Z0700",
		"2006-01-02 15:04:05.999999999",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// LogGrouper joins the lines of a broker log into entries: in 3.9+ every
// line of a multi-line entry repeats the prefix; in 3.7/3.8 continuation
// lines have none; old "=ERROR REPORT====" blocks run until a blank line.
// A line without a prefix after a 3.9+ entry is an entry of its own.
// Feed it lines in order; call Flush when the input pauses or ends.
type LogGrouper struct {
	cur     *LogLine
	lines   []string
	inBlock bool
}

// Add feeds one line and returns the entries it completed (zero, one or two).
func (g *LogGrouper) Add(line string) []LogLine {
	line = strings.TrimRight(line, "\r\n")
	l, ok := ParseLogLine(line)
	blank := strings.TrimSpace(line) == ""
	switch {
	case ok && l.Old:
		done := g.Flush()
		g.cur, g.lines, g.inBlock = &l, nil, true
		return done
	case ok:
		if g.cur != nil && !g.cur.Old && g.cur.Prefix == l.Prefix {
			g.lines = append(g.lines, l.Text)
			return nil
		}
		done := g.Flush()
		g.cur, g.lines = &l, []string{l.Text}
		return done
	case g.inBlock && blank:
		return g.Flush()
	case g.cur != nil && !g.cur.Modern:
		g.lines = append(g.lines, line) // 3.7/3.8 and old blocks: bare lines continue the entry
		return nil
	case blank:
		return g.Flush()
	default:
		return append(g.Flush(), LogLine{Text: line})
	}
}

// Flush returns the entry in progress, if any.
func (g *LogGrouper) Flush() []LogLine {
	if g.cur == nil {
		return nil
	}
	e := *g.cur
	e.Text = strings.TrimSpace(strings.Join(g.lines, "\n"))
	g.cur, g.lines, g.inBlock = nil, nil, false
	return []LogLine{e}
}

// Pending reports whether an entry is in progress.
func (g *LogGrouper) Pending() bool { return g.cur != nil }

// CloseKind classifies what a log entry says about a connection.
type CloseKind uint8

// Kinds of log entries about connections.
const (
	LogNone          CloseKind = iota
	LogClosing                 // closing AMQP connection …[: reason]
	LogConnError               // Error on AMQP connection …: connection exception or refusal
	LogChannelError            // Channel error on connection …, channel N: channel exception
	LogForced                  // Closing connection <pid> because "…"
	LogVhostStopping           // Closing all connections in vhost '…' on node '…' because the vhost is stopping
	LogAlarmSet                // memory/disk resource limit alarm set on node …
	LogAlarmCleared            // … alarm cleared on node …
	LogAccepted                // accepting AMQP connection …
	LogAuthenticated           // connection … authenticated and granted access to vhost …
	LogNodeStopping            // RabbitMQ is asked to stop... / SIGTERM received - shutting down
	LogNodeStarted             // Server startup complete; N plugins started.
)

// ConnLog is what a broker log entry says about one connection.
type ConnLog struct {
	Kind      CloseKind
	PID       string
	Name      string // bare broker connection name ("peer -> local")
	Peer      string
	Client    string // client-provided name, when the entry appends it
	Vhost     string
	User      string
	State     string // the connection's state when it failed (starting, opening, running)
	Channel   int
	Reason    string // the reason text (second line(s), or the "because" text)
	Operation string // e.g. basic.publish
	Constant  string // e.g. unexpected_frame
	Code      int    // reply code of Constant
	ReplyText string // what the client was sent, e.g. `UNEXPECTED_FRAME - expected content header …`
	Node      string // vhost stopping / alarms
	Alarm     string // memory or disk
}

var (
	reClosing = regexp.MustCompile(`(?s)^[Cc]losing AMQP connection (?:(<[\d.]+>) )?\(([^\n]*)\)(:?)\s*(.*)$`)
	reConnErr = regexp.MustCompile(`(?s)^Error on AMQP connection (?:(<[\d.]+>) )?\(([^\n]*)\)(?:, channel (\d+))?:\s*(.*)$`)
	reChanErr = regexp.MustCompile(`(?s)^Channel error on connection (?:(<[\d.]+>) )?\(([^\n]*)\), channel (\d+):\s*(.*)$`)
	reForced  = regexp.MustCompile(`(?s)^Closing connection (<[\d.]+>) because (.*)$`)
	reVhost   = regexp.MustCompile(`^Closing all connections in vhost '([^']*)' on node '([^']*)' because (.*)$`)
	reAlarm   = regexp.MustCompile(`(?i)^(memory|disk) resource limit alarm (set|cleared) on node '?([^'\s]+?)'?\.?$`)
	reAlarmCl = regexp.MustCompile(`(?i)^(memory|disk) resource limit alarm cleared (across the cluster|for dead node)`)
	reAlarm2  = regexp.MustCompile(`(?i)^(memory|disk) resource limit alarm (set|cleared) (?:for|on) node '?([^'\s]+?)'?\.?\s`)
	reAccept  = regexp.MustCompile(`^accepting AMQP connection (?:(<[\d.]+>) )?\(([^\n]*)\)$`)
	reAuthOK  = regexp.MustCompile(`^connection (?:(<[\d.]+>) )?\(([^\n]*)\): user '([^']*)' authenticated and granted access to vhost '([^']*)'`)
	reExcept  = regexp.MustCompile(`(?s)operation (\S+) caused a (?:connection|channel) exception (\w+): ?(.*)$`)
	reDetail  = regexp.MustCompile(`(vhost|user|state|duration): '?([^',]*)'?`)
	// Seen on 3.10.8 and 4.0.5 (rabbitmqctl stop_app, private test nodes):
	// "RabbitMQ is asked to stop..." then "Stopping RabbitMQ applications
	// and their dependencies in the following order:"; and at the end of a
	// boot "Server startup complete; 4 plugins started.".
	reNodeStop  = regexp.MustCompile(`^(?:RabbitMQ is asked to stop|SIGTERM received - shutting down)`)
	reNodeStart = regexp.MustCompile(`^Server startup complete;`)
)

// ParseConnLog reads what a log entry's message text says about a
// connection. ok is false when the entry is not about a connection.
func ParseConnLog(text string) (c ConnLog, ok bool) {
	text = strings.TrimSpace(text)
	if m := reClosing.FindStringSubmatch(text); m != nil {
		c.Kind, c.PID = LogClosing, m[1]
		c.setDetails(m[2])
		if m[3] == ":" {
			c.Reason = strings.TrimSpace(m[4])
		}
		c.parseException()
		return c, true
	}
	if m := reConnErr.FindStringSubmatch(text); m != nil {
		c.Kind, c.PID = LogConnError, m[1]
		c.setDetails(m[2])
		c.Channel = atoi(m[3])
		c.Reason = strings.TrimSpace(m[4])
		c.parseException()
		return c, true
	}
	if m := reChanErr.FindStringSubmatch(text); m != nil {
		c.Kind, c.PID = LogChannelError, m[1]
		c.setDetails(m[2])
		c.Channel = atoi(m[3])
		c.Reason = strings.TrimSpace(m[4])
		c.parseException()
		return c, true
	}
	if m := reForced.FindStringSubmatch(text); m != nil {
		c.Kind, c.PID = LogForced, m[1]
		c.Reason = strings.Trim(strings.TrimSpace(m[2]), `"`)
		c.Code, c.Constant = 320, "connection_forced"
		c.ReplyText = "CONNECTION_FORCED - " + c.Reason
		return c, true
	}
	if m := reVhost.FindStringSubmatch(text); m != nil {
		return ConnLog{Kind: LogVhostStopping, Vhost: m[1], Node: m[2], Reason: m[3]}, true
	}
	first := strings.SplitN(text, "\n", 2)[0]
	if m := reAlarm.FindStringSubmatch(first); m != nil {
		return alarmLog(m), true
	}
	if m := reAlarm2.FindStringSubmatch(first); m != nil {
		return alarmLog(m), true
	}
	if m := reAlarmCl.FindStringSubmatch(first); m != nil {
		return ConnLog{Kind: LogAlarmCleared, Alarm: strings.ToLower(m[1])}, true // cluster-wide summary: no node
	}
	if reNodeStop.MatchString(first) {
		return ConnLog{Kind: LogNodeStopping, Reason: first}, true
	}
	if reNodeStart.MatchString(first) {
		return ConnLog{Kind: LogNodeStarted}, true
	}
	if m := reAccept.FindStringSubmatch(text); m != nil {
		c.Kind, c.PID = LogAccepted, m[1]
		c.setDetails(m[2])
		return c, true
	}
	if m := reAuthOK.FindStringSubmatch(text); m != nil {
		c.Kind, c.PID = LogAuthenticated, m[1]
		c.setDetails(m[2])
		c.User, c.Vhost = m[3], m[4]
		return c, true
	}
	return ConnLog{}, false
}

func alarmLog(m []string) ConnLog {
	k := LogAlarmSet
	if strings.EqualFold(m[2], "cleared") {
		k = LogAlarmCleared
	}
	return ConnLog{Kind: k, Alarm: strings.ToLower(m[1]), Node: m[3]}
}

// setDetails reads "name[, vhost: 'v'][, user: 'u'][, state: s]".
// The connection name never contains ", <key>: ", so the first such key
// ends it.
func (c *ConnLog) setDetails(s string) {
	end := len(s)
	for _, key := range []string{", vhost: ", ", user: ", ", state: ", ", duration: "} {
		if j := strings.Index(s, key); j >= 0 && j < end {
			end = j
		}
	}
	for _, m := range reDetail.FindAllStringSubmatch(s[end:], -1) {
		switch m[1] {
		case "vhost":
			c.Vhost = m[2]
		case "user":
			c.User = m[2]
		case "state":
			c.State = m[2]
		}
	}
	c.Name, c.Peer, c.Client = SplitConnName(s[:end])
}

// parseException reads "operation X caused a … exception const: \"text\"".
func (c *ConnLog) parseException() {
	m := reExcept.FindStringSubmatch(c.Reason)
	if m == nil {
		return
	}
	c.Operation, c.Constant = m[1], m[2]
	txt := strings.TrimSpace(m[3])
	if len(txt) >= 2 && txt[0] == '"' && txt[len(txt)-1] == '"' {
		txt = txt[1 : len(txt)-1]
	}
	txt = strings.ReplaceAll(txt, `\"`, `"`)
	if code, ok := CodeOf(c.Constant); ok {
		c.Code = code
		c.ReplyText = strings.ToUpper(c.Constant) + " - " + txt
	}
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return n
		}
		n = n*10 + int(r-'0')
	}
	return n
}

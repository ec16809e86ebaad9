package causes

import (
	"github.com/amqptop/amqptop/model/wire"
	"regexp"
	"strconv"
	"strings"
)

// printed is what a client library's error text says of a close: the
// protocol facts it carries, whatever words the library wrapped them in.
type printed struct {
	code     int    // the code printed with it
	constant string // the reply-code constant named in it, canonical (UNEXPECTED_FRAME)
	reply    string // the reply text ("UNEXPECTED_FRAME - …"), when it has one
	method   string // the method that failed, when the library prints it
	library  string // which format it was recognised as
}

// clientFormat is one way client libraries print a close. Named groups:
// code, text (or text2), and the failed method as class+method ids or as
// mname. Each format names its source (library, version, file).
type clientFormat struct {
	lib  string
	re   *regexp.Regexp
	hint string // a lower-case literal every match contains ("" : always try)
	pre  func(string) bool
}

var clientFormats = []clientFormat{
	// amqp091-go v1.16.0 types.go (*Error).Error: fmt.Sprintf("Exception (%d) Reason: %q", e.Code, e.Reason)
	{"go", regexp.MustCompile(`Exception \((?P<code>\d{3})\) Reason: "(?P<text>(?:[^"\\]|\\.)*)"`), "exception (", nil},
	// Java amqp-client AMQImpl.Connection.Close / Channel.Close toString:
	// #method<channel.close>(reply-code=404, reply-text=NOT_FOUND - …, class-id=50, method-id=10)
	{"java", regexp.MustCompile(`reply-code=(?P<code>\d{3}), reply-text=(?P<text>.*?)(?:, class-id=(?P<class>\d+), method-id=(?P<method>\d+)|\)\s*$|$)`), "reply-code=", nil},
	// .NET RabbitMQ.Client ShutdownEventArgs.ToString: code=404, text='NOT_FOUND - …', classId=50, methodId=10
	{"dotnet", regexp.MustCompile(`code=(?P<code>\d{3}), text=['"]?(?P<text>.*?)['"]?(?:, classId=(?P<class>\d+), methodId=(?P<method>\d+)|, cause=|$)`), "code=", nil},
	// Node amqplib lib/format.js closeMessage: '%d (%s) with message "%s"', after
	// "Connection closed: ", "Channel closed by server: ", "Handshake terminated by server: "
	// or "Operation failed: QueueDeclare; "
	{"node", regexp.MustCompile(`(?:Operation failed: (?P<mname>\w+); |: )(?P<code>\d{3}) \([A-Z][A-Z-]+\) with message "(?P<text>(?:[^"\\]|\\.)*)"`), "with message", nil},
	// py-amqp / kombu amqp/exceptions.py AMQPError.__str__: '{0.method}: ({0.reply_code}) {0.reply_text}',
	// the method as "Queue.declare" or as "(50, 10)"
	{"py-amqp", regexp.MustCompile(`(?:\((?P<class>\d+), (?P<method>\d+)\)|(?P<mname>[A-Z][a-z]+\.[a-z_]+)): \((?P<code>\d{3})\) (?P<text>.*)$`), ": (", hasParenCode},
	// pika 1.x exceptions.py: str() of ConnectionClosedByBroker / ChannelClosedByBroker is
	// the args tuple: (320, 'CONNECTION_FORCED - …')
	{"pika", regexp.MustCompile(`\((?P<code>\d{3}), (?:'(?P<text>(?:[^'\\]|\\.)*)'|"(?P<text2>(?:[^"\\]|\\.)*)")\)`), "", hasAny(", '", `, "`)},
	// pika repr, and inside ProbableAuthenticationError / ProbableAccessDeniedError:
	// ConnectionClosedByBroker: (403) 'ACCESS_REFUSED - …'
	{"pika", regexp.MustCompile(`\((?P<code>\d{3})\) (?:'(?P<text>(?:[^'\\]|\\.)*)'|"(?P<text2>(?:[^"\\]|\\.)*)")`), "", hasAny(") '", `) "`)},
	// "connection closed by server (405) UNEXPECTED_FRAME": the seed page's
	// (miscoded) example; no library checked prints this shape (SOURCES.md)
	{"generic", regexp.MustCompile(`\((?P<code>\d{3})\)\s+(?P<text>[A-Z][A-Z_-]{4,}.*)$`), "", hasParenCode},
	// "320: CONNECTION_FORCED - …", "404 NOT_FOUND - …": pasted by hand;
	// librabbitmq-c's tools print "server channel error 406, message: …"
	{"bare", regexp.MustCompile(`(?:^|\s)(?P<code>\d{3}):?\s+(?P<text>[A-Z][A-Z_]{4,}\b.*)$`), "", hasCodeWord},
}

var reParenCode = regexp.MustCompile(`\((\d{3})\)`)

// Cheap tests that a format can match at all, run before its regexp.
func hasAny(subs ...string) func(string) bool {
	return func(s string) bool {
		for _, sub := range subs {
			if strings.Contains(s, sub) {
				return true
			}
		}
		return false
	}
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// hasParenCode: "(ddd)" somewhere.
func hasParenCode(s string) bool {
	for i := strings.IndexByte(s, '('); i >= 0 && i+4 < len(s); {
		if isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) && s[i+4] == ')' {
			return true
		}
		j := strings.IndexByte(s[i+1:], '(')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

// hasCodeWord: three digits, an optional ':', a space, a capital letter.
func hasCodeWord(s string) bool {
	for i := 0; i+4 < len(s); i++ {
		if isDigit(s[i]) && isDigit(s[i+1]) && isDigit(s[i+2]) {
			j := i + 3
			if s[j] == ':' {
				j++
			}
			if j+1 < len(s) && (s[j] == ' ' || s[j] == '\t') && s[j+1] >= 'A' && s[j+1] <= 'Z' {
				return true
			}
			i += 2
		}
	}
	return false
}

// readGo reads amqp091-go's format by hand (it is the most frequent:
// the probe's own library): Exception (%d) Reason: %q.
func readGo(s string) (printed, bool) {
	i := strings.Index(s, "Exception (")
	if i < 0 || len(s) < i+len(`Exception (000) Reason: ""`) {
		return printed{}, false
	}
	rest := s[i+len("Exception ("):]
	if !isDigit(rest[0]) || !isDigit(rest[1]) || !isDigit(rest[2]) || !strings.HasPrefix(rest[3:], `) Reason: "`) {
		return printed{}, false
	}
	code := int(rest[0]-'0')*100 + int(rest[1]-'0')*10 + int(rest[2]-'0')
	if wire.ReplyCodes[code] == "" {
		return printed{}, false
	}
	q := rest[3+len(`) Reason: `):]
	end := -1
	for j := 1; j < len(q); j++ {
		if q[j] == '\\' {
			j++
			continue
		}
		if q[j] == '"' {
			end = j
			break
		}
	}
	if end < 0 {
		return printed{}, false
	}
	reply := q[1:end]
	if strings.IndexByte(reply, '\\') >= 0 {
		if u, err := strconv.Unquote(q[:end+1]); err == nil {
			reply = u
		}
	}
	return printed{library: "go", code: code, reply: strings.TrimSpace(reply)}, true
}

// readJava reads the Java client's format by hand: AMQImpl's
// #method<channel.close>(reply-code=404, reply-text=NOT_FOUND - …, class-id=50, method-id=10).
func readJava(s string) (printed, bool) {
	i := strings.Index(s, "reply-code=")
	if i < 0 {
		return printed{}, false
	}
	rest := s[i+len("reply-code="):]
	if len(rest) < 3+len(", reply-text=") || !isDigit(rest[0]) || !isDigit(rest[1]) || !isDigit(rest[2]) || !strings.HasPrefix(rest[3:], ", reply-text=") {
		return printed{}, false
	}
	code := int(rest[0]-'0')*100 + int(rest[1]-'0')*10 + int(rest[2]-'0')
	if wire.ReplyCodes[code] == "" {
		return printed{}, false
	}
	text := rest[3+len(", reply-text="):]
	p := printed{library: "java", code: code}
	if j := strings.Index(text, ", class-id="); j >= 0 {
		ids := text[j+len(", class-id="):]
		text = text[:j]
		if k := strings.Index(ids, ", method-id="); k >= 0 {
			m := ids[k+len(", method-id="):]
			e := 0
			for e < len(m) && isDigit(m[e]) {
				e++
			}
			p.method = methodOf(ids[:k], m[:e])
		}
	} else if j := strings.IndexAny(text, "\n"); j >= 0 {
		text = text[:j]
	}
	text = strings.TrimSpace(text)
	text = strings.TrimSuffix(text, ")")
	p.reply = strings.TrimSpace(text)
	return p, true
}

// readPrinted recognises a close in the formats client libraries print.
func (b *Base) readPrinted(t *text) printed {
	var p printed
	s := t.s
	if g, ok := readGo(s); ok {
		p = g
	} else if j, ok := readJava(s); ok {
		p = j
	}
	for _, f := range clientFormats {
		if p.library != "" {
			break
		}
		if f.hint != "" && !strings.Contains(t.lower, f.hint) || f.pre != nil && !f.pre(s) {
			continue
		}
		m := f.re.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		group := func(name string) string {
			if i := f.re.SubexpIndex(name); i >= 0 && i < len(m) {
				return m[i]
			}
			return ""
		}
		code, _ := strconv.Atoi(group("code"))
		if wire.ReplyCodes[code] == "" {
			// Not a reply code: an errno in the same shape, as in pika's
			// "ConnectionResetError(104, 'Connection reset by peer')".
			continue
		}
		p.library, p.code = f.lib, code
		p.reply = group("text")
		if p.reply == "" {
			p.reply = group("text2")
		}
		p.reply = strings.ReplaceAll(strings.TrimSpace(p.reply), `\"`, `"`)
		p.method = methodOf(group("class"), group("method"))
		if mn := group("mname"); mn != "" {
			p.method = methodByName[strings.ToLower(mn)]
		}
		break
	}
	if p.library == "" {
		// The broker's reply text quoted whole, without a code: Bunny's
		// "Connection-level error: UNEXPECTED_FRAME - …", php-amqplib's
		// "ACCESS_REFUSED - …(0, 0)", the Erlang client's <<"NOT_FOUND - …">>.
		if r := embeddedReply(s); r != "" {
			p.library, p.reply = "verbatim", r
		}
	}
	if p.library == "" && strings.Contains(s, "(") {
		// Last resort: a known reply code in parentheses, "… (320)".
		for _, m := range reParenCode.FindAllStringSubmatch(s, -1) {
			if c, _ := strconv.Atoi(m[1]); wire.ReplyCodes[c] != "" {
				p.code = c
				break
			}
		}
	}
	p.constant = firstConstant(p.reply)
	if p.constant == "" {
		p.constant = firstConstant(s)
	}
	return p
}

// rePHPSuffix is the "(class, method)" php-amqplib 3.x appends to a
// connection's reply text.
var rePHPSuffix = regexp.MustCompile(`\(\d+, \d+\)$`)

// embeddedReply finds a broker reply text ("NAME - explanation") quoted
// inside a client's error, and returns it without what the client wrapped
// around it.
func embeddedReply(s string) string {
	start := -1
	for off := 0; off < len(s); {
		i := strings.Index(s[off:], " - ")
		if i < 0 {
			return ""
		}
		i += off
		j := i
		for j > 0 && (s[j-1] >= 'A' && s[j-1] <= 'Z' || s[j-1] == '_') {
			j--
		}
		if name := s[j:i]; len(name) >= 5 && wire.ReplyCodes[codeOf(name)] == name && (j == 0 || !isWordByte(s[j-1])) {
			start = j
			break
		}
		off = i + 3
	}
	if start < 0 {
		return ""
	}
	r := s[start:]
	if i := strings.IndexByte(r, '\n'); i >= 0 {
		r = r[:i]
	}
	// Quoted: up to the closing quote.
	if start > 0 && (s[start-1] == '"' || s[start-1] == '\'') {
		q := s[start-1]
		for i := 0; i < len(r); i++ {
			if r[i] == '\\' {
				i++
				continue
			}
			if r[i] == q {
				r = r[:i]
				break
			}
		}
	}
	return strings.TrimSpace(rePHPSuffix.ReplaceAllString(strings.TrimSpace(r), ""))
}

func codeOf(name string) int {
	c, _ := wire.CodeOf(name)
	return c
}

func isWordByte(b byte) bool {
	return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '_'
}

package causes

import (
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/amqptop/amqptop/model"
)

// printed is what a client library's error text says of a close.
type printed struct {
	code     int    // the code printed with it
	constant string // the reply-code constant named in it, canonical (UNEXPECTED_FRAME)
	reply    string // the reply text ("UNEXPECTED_FRAME - …"), when it has one
	library  string // which format it was recognised as
}

var clientFormats = []struct {
	lib string
	re  *regexp.Regexp // group 1: code, group 2: reply text
}{
	// amqp091-go / streadway: Exception (320) Reason: "CONNECTION_FORCED - …"
	{"go", regexp.MustCompile(`Exception \((\d{3})\) Reason: "((?:[^"\\]|\\.)*)"`)},
	// Java: reply-code=320, reply-text=CONNECTION_FORCED - …, class-id=0, method-id=0)
	{"java", regexp.MustCompile(`reply-code=(\d{3}), reply-text=(.*?)(?:, class-id=|\)\s*$|$)`)},
	// .NET: code=320, text='CONNECTION_FORCED - …', classId=0, methodId=0
	{"dotnet", regexp.MustCompile(`code=(\d{3}), text=['"]?(.*?)['"]?(?:, classId=|, cause=|$)`)},
	// Node amqplib: closeMessage, after "Connection closed: ", "Channel closed by
	// server: ", "Handshake terminated by server: " or "Operation failed: QueueDeclare; ":
	// 320 (CONNECTION-FORCED) with message "CONNECTION_FORCED - …"
	{"node", regexp.MustCompile(`(?:: |; )(\d{3}) \([A-Z][A-Z-]+\) with message "((?:[^"\\]|\\.)*)"`)},
	// py-amqp / kombu: (0, 0): (320) CONNECTION_FORCED - …
	{"py-amqp", regexp.MustCompile(`\(\d+, \d+\): \((\d{3})\) (.*)$`)},
	// pika: ConnectionClosedByBroker: (320, 'CONNECTION_FORCED - …')
	{"pika", regexp.MustCompile(`\((\d{3}), (?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\)`)},
	// pika repr, and inside ProbableAuthenticationError / ProbableAccessDeniedError:
	// ConnectionClosedByBroker: (403) 'ACCESS_REFUSED - …'
	{"pika", regexp.MustCompile(`\((\d{3})\) (?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")`)},
	// Bunny and others: "connection closed by server (405) UNEXPECTED_FRAME"
	{"generic", regexp.MustCompile(`\((\d{3})\)\s+([A-Z][A-Z_-]{4,}.*)$`)},
	// php-amqplib, Elixir and bare: "320: CONNECTION_FORCED - …", "404 NOT_FOUND - …"
	{"bare", regexp.MustCompile(`(?:^|\s)(\d{3}):?\s+([A-Z][A-Z_]{4,}\b.*)$`)},
}

var reParenCode = regexp.MustCompile(`\((\d{3})\)`)

var reConstant = func() *regexp.Regexp {
	var names []string
	for _, n := range model.ReplyCodes {
		names = append(names, n, strings.ReplaceAll(n, "_", "-"), strings.ToLower(n))
	}
	return regexp.MustCompile(`\b(` + strings.Join(names, "|") + `)\b`)
}()

// readPrinted recognises a close in the formats client libraries print.
func readPrinted(s string) printed {
	var p printed
	s = strings.TrimSpace(s)
	for _, f := range clientFormats {
		m := f.re.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		code, _ := strconv.Atoi(m[1])
		if model.ReplyCodes[code] == "" {
			// Not a reply code: an errno in the same shape, as in pika's
			// "ConnectionResetError(104, 'Connection reset by peer')".
			continue
		}
		p.library = f.lib
		p.code = code
		p.reply = m[2]
		if len(m) > 3 && p.reply == "" {
			p.reply = m[3]
		}
		p.reply = strings.ReplaceAll(strings.TrimSpace(p.reply), `\"`, `"`)
		break
	}
	if p.library == "" {
		// The broker's reply text quoted whole, without a code: Bunny's
		// "Connection-level error: UNEXPECTED_FRAME - …", php-amqplib's
		// "ACCESS_REFUSED - …(0, 0)", Java's AuthenticationFailureException,
		// the Erlang client's <<"NOT_FOUND - …">>.
		if r := embeddedReply(s); r != "" {
			p.library, p.reply = "verbatim", r
		}
	}
	if p.library == "" {
		// Last resort: a known reply code in parentheses, "… (320)".
		for _, m := range reParenCode.FindAllStringSubmatch(s, -1) {
			if c, _ := strconv.Atoi(m[1]); model.ReplyCodes[c] != "" {
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

var reEmbedded = func() *regexp.Regexp {
	var names []string
	for _, n := range model.ReplyCodes {
		names = append(names, n)
	}
	sort.Strings(names)
	return regexp.MustCompile(`(?:^|[^A-Za-z0-9_])((?:` + strings.Join(names, "|") + `) - .*)$`)
}()

// rePHPSuffix is the "(class, method)" php-amqplib 3.x appends to a
// connection's reply text.
var rePHPSuffix = regexp.MustCompile(`\(\d+, \d+\)$`)

// embeddedReply finds a broker reply text ("NAME - explanation") quoted
// inside a client's error, and returns it without what the client wrapped
// around it.
func embeddedReply(s string) string {
	loc := reEmbedded.FindStringSubmatchIndex(s)
	if loc == nil {
		return ""
	}
	r := s[loc[2]:loc[3]]
	if i := strings.IndexByte(r, '\n'); i >= 0 {
		r = r[:i]
	}
	// Quoted: up to the closing quote.
	if loc[2] > 0 && (s[loc[2]-1] == '"' || s[loc[2]-1] == '\'') {
		q := s[loc[2]-1]
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

// firstConstant returns the first reply-code constant named in s, in its
// canonical spelling.
func firstConstant(s string) string {
	m := reConstant.FindString(s)
	if m == "" {
		return ""
	}
	return strings.ToUpper(strings.ReplaceAll(m, "-", "_"))
}

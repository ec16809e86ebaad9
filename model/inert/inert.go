// Package inert makes text that came from the network — client names, user
// names, vhosts, reply texts, broker log lines, pasted errors — safe to
// print: on a terminal it can move no cursor, retitle no window, write no
// clipboard (OSC 52), clear no screen, reorder no text (bidi overrides),
// hide nothing (zero-width characters), and forge no line (a newline in a
// name); and it carries no credential. Every sink that prints such text
// (the dashboard, watch's text and JSON, explain) goes through it.
// Standard library only.
package inert

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Line makes s safe to show on one line: control characters (escape
// sequences included), newlines and tabs are shown as \xNN, \n, \t;
// characters that reorder or hide text as <U+XXXX>; invalid UTF-8 as
// U+FFFD. A safe text comes back unchanged.
func Line(s string) string { return clean(s, false) }

// Text is Line for a text of several lines: its line breaks are kept.
func Text(s string) string { return clean(s, true) }

// Show is what a sink prints of a text from the network: its credentials
// redacted, then made safe for one line.
func Show(s string) string { return Line(Redact(s)) }

func clean(s string, keepNewlines bool) string {
	if isPlain(s, keepNewlines) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		switch {
		case r == '\n' && keepNewlines:
			b.WriteByte('\n')
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&b, `\u%04x`, r)
		case hidden(r):
			fmt.Fprintf(&b, "<U+%04X>", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isPlain reports whether s needs nothing done: valid UTF-8, printable.
func isPlain(s string, keepNewlines bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && !(keepNewlines && c == '\n') || c == 0x7f || c >= 0x80 {
			return !hasUnsafeRune(s, keepNewlines)
		}
	}
	return true
}

func hasUnsafeRune(s string, keepNewlines bool) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if r < 0x20 && !(keepNewlines && r == '\n') || r == 0x7f || r >= 0x80 && r < 0xa0 || hidden(r) {
			return true
		}
	}
	return false
}

// hidden reports whether r reorders or hides text: the bidirectional
// embeddings, overrides, isolates and marks, the zero-width characters,
// the line and paragraph separators, the byte order mark.
func hidden(r rune) bool {
	switch {
	case r == 0x061c, r == 0x180e, r == 0xfeff, r == 0x2028, r == 0x2029:
		return true
	case r >= 0x200b && r <= 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2060 && r <= 0x2064, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// JSON makes encoded JSON safe on a terminal without changing what it
// decodes to: the C1 controls and the characters that reorder or hide
// text, which encoding/json leaves as they are, become \uXXXX escapes
// (it escapes the C0 controls itself).
func JSON(b []byte) []byte {
	if !hasHidden(b) {
		return b
	}
	var out []byte
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if jsonUnsafe(r) {
			out = fmt.Appendf(out, `\u%04x`, r)
		} else {
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out
}

func jsonUnsafe(r rune) bool { return r >= 0x80 && r < 0xa0 || hidden(r) }

func hasHidden(b []byte) bool {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if jsonUnsafe(r) {
			return true
		}
		i += n
	}
	return false
}

// The credentials a text can carry: the password of a URL's user info
// (amqp://user:secret@host, https://…), and key=value or key: value pairs
// whose key names a secret (password=…, "pass": "…", Authorization: …).
var (
	reURLSecret = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@"'<>]*:)([^\s@/"'<>]+)@`)
	reKVSecret  = regexp.MustCompile(`(?i)\b((?:password|passwd|pass|pwd|secret|token|api[_-]?key|authorization)["']?\s*[=:]\s*["']?)(?:Basic\s+|Bearer\s+)?([^\s"'&,;}]+)`)
)

// Redacted is what a redacted secret is replaced with.
const Redacted = "xxxxx"

// Redact replaces the credentials a text carries with xxxxx: URL
// passwords and password=/token=-style values. It leaves everything else
// as it was, so a pasted error stays recognisable.
func Redact(s string) string {
	if !strings.Contains(s, "@") && !strings.ContainsAny(s, "=:") {
		return s
	}
	s = reURLSecret.ReplaceAllString(s, "${1}"+Redacted+"@")
	return reKVSecret.ReplaceAllStringFunc(s, func(m string) string {
		sub := reKVSecret.FindStringSubmatch(m)
		if sub == nil || sub[2] == Redacted {
			return m
		}
		return m[:len(m)-len(sub[2])] + Redacted
	})
}

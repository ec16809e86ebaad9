package model

import (
	"regexp"
	"strings"
)

// The credentials a pasted or logged text can carry: the password of a
// URL's user info (amqp://user:secret@host, https://…), and key=value or
// key: value pairs whose key names a secret (password=…, "pass": "…").
var (
	reURLSecret = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@"'<>]*:)([^\s@/"'<>]+)@`)
	reKVSecret  = regexp.MustCompile(`(?i)\b((?:password|passwd|pass|pwd|secret|token|api[_-]?key|authorization)["']?\s*[=:]\s*["']?)(?:Basic\s+|Bearer\s+)?([^\s"'&,;}]+)`)
)

// Redacted is what a redacted secret is replaced with.
const Redacted = "xxxxx"

// RedactCredentials replaces the credentials a text carries with xxxxx:
// URL passwords and password=/token=-style values. It leaves everything
// else as it was, so a pasted error stays recognisable.
func RedactCredentials(s string) string {
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

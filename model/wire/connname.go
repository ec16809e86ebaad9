package wire

import "strings"

// SplitConnName splits the broker's connection name "peer -> local" and
// strips a trailing " - client-provided name" (log lines add it).
// It returns the bare name (as the management API spells it), the peer and
// the client-provided name if one was appended.
func SplitConnName(s string) (name, peer, client string) {
	s = strings.TrimSpace(s)
	i := strings.Index(s, " -> ")
	if i < 0 {
		return s, "", ""
	}
	peer = s[:i]
	rest := s[i+4:]
	if j := strings.Index(rest, " - "); j >= 0 {
		client = rest[j+3:]
		rest = rest[:j]
	}
	return peer + " -> " + rest, peer, client
}

package wire

import "strings"

// ReplyCodes maps AMQP 0-9-1 reply codes to their constant names.
var ReplyCodes = map[int]string{
	200: "REPLY_SUCCESS",
	311: "CONTENT_TOO_LARGE",
	312: "NO_ROUTE",
	313: "NO_CONSUMERS",
	320: "CONNECTION_FORCED",
	402: "INVALID_PATH",
	403: "ACCESS_REFUSED",
	404: "NOT_FOUND",
	405: "RESOURCE_LOCKED",
	406: "PRECONDITION_FAILED",
	501: "FRAME_ERROR",
	502: "SYNTAX_ERROR",
	503: "COMMAND_INVALID",
	504: "CHANNEL_ERROR",
	505: "UNEXPECTED_FRAME",
	506: "RESOURCE_ERROR",
	530: "NOT_ALLOWED",
	540: "NOT_IMPLEMENTED",
	541: "INTERNAL_ERROR",
}

var codeByName = func() map[string]int {
	m := make(map[string]int, len(ReplyCodes))
	for c, n := range ReplyCodes {
		m[n] = c
	}
	return m
}()

// CodeOf returns the reply code of a constant name in any of the spellings
// brokers and clients use (CONNECTION_FORCED, connection_forced,
// CONNECTION-FORCED, ConnectionForced), and whether it is one.
func CodeOf(name string) (int, bool) {
	n := strings.ToUpper(strings.NewReplacer("-", "_", " ", "_").Replace(name))
	if c, ok := codeByName[n]; ok {
		return c, true
	}
	// CamelCase (py-amqp, Java exception class names): insert underscores.
	var b strings.Builder
	for i, r := range name {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	c, ok := codeByName[strings.ToUpper(b.String())]
	return c, ok
}

// HardError reports whether a reply code closes the whole connection
// (true) rather than one channel.
func HardError(code int) bool {
	switch code {
	case 320, 402, 501, 502, 503, 504, 505, 530, 540, 541:
		return true
	}
	return false
}

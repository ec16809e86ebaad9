package wire

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Helpers for the event exchange's headers. In AMQP 0-9-1 mode nested
// values arrive as strings in Erlang term syntax (client_properties is an
// array of strings like {<<"connection_name">>,longstr,<<"billing-api">>},
// host is {127,0,0,1}, pid is <node@host.1.2.3>); an error reason may come as
// an Erlang charlist (an array of integers).

// HeaderString returns a header as text, decoding charlists and binaries.
func HeaderString(h map[string]any, key string) string {
	v, ok := h[key]
	if !ok || v == nil {
		return ""
	}
	return termString(v)
}

func termString(v any) string {
	switch x := v.(type) {
	case string:
		return unbin(x)
	case []byte:
		return string(x)
	case []any:
		if s, ok := DecodeCharlist(x); ok {
			return s
		}
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = termString(e)
		}
		return strings.Join(parts, ",")
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

// HeaderInt returns a numeric header, 0 when absent or not a number.
func HeaderInt(h map[string]any, key string) int64 {
	switch x := h[key].(type) {
	case int64:
		return x
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return int64(x)
	case float64:
		return int64(x)
	case float32:
		return int64(x)
	case string:
		n, _ := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n
	}
	return 0
}

// HeaderBool returns a boolean header ("true" strings count).
func HeaderBool(h map[string]any, key string) bool {
	switch x := h[key].(type) {
	case bool:
		return x
	case string:
		return x == "true"
	}
	return false
}

// HeaderTime reads timestamp_in_ms (or another millisecond header).
func HeaderTime(h map[string]any, key string) time.Time {
	ms := HeaderInt(h, key)
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// DecodeCharlist turns an Erlang charlist (a list of code points) into a
// string. ok is false when the list holds anything but small integers.
func DecodeCharlist(list []any) (string, bool) {
	if len(list) == 0 {
		return "", false
	}
	var b strings.Builder
	for _, e := range list {
		var n int64
		switch x := e.(type) {
		case int64:
			n = x
		case int:
			n = int64(x)
		case int32:
			n = int64(x)
		case int16:
			n = int64(x)
		case int8:
			n = int64(x)
		case uint8:
			n = int64(x)
		case float64:
			n = int64(x)
		default:
			return "", false
		}
		if n < 0 || n > 0x10FFFF {
			return "", false
		}
		b.WriteRune(rune(n))
	}
	return b.String(), true
}

// unbin strips Erlang binary syntax: <<"text">> → text.
func unbin(s string) string {
	if strings.HasPrefix(s, `<<"`) && strings.HasSuffix(s, `">>`) && len(s) >= 6 {
		return s[3 : len(s)-3]
	}
	return s
}

var reTuple4 = regexp.MustCompile(`^\{(\d+),(\d+),(\d+),(\d+)\}$`)
var reTuple8 = regexp.MustCompile(`^\{(\d+),(\d+),(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\}$`)

// ErlIP turns an Erlang address tuple ({127,0,0,1} or an 8-tuple) into its
// usual text; other strings are returned as they are.
func ErlIP(s string) string {
	s = strings.TrimSpace(unbin(s))
	if m := reTuple4.FindStringSubmatch(s); m != nil {
		return m[1] + "." + m[2] + "." + m[3] + "." + m[4]
	}
	if m := reTuple8.FindStringSubmatch(s); m != nil {
		parts := make([]string, 8)
		for i := range parts {
			n, _ := strconv.Atoi(m[i+1])
			parts[i] = strconv.FormatInt(int64(n), 16)
		}
		if ip4 := v4Mapped(parts); ip4 != "" {
			return ip4
		}
		return strings.Join(parts, ":")
	}
	return s
}

func v4Mapped(p []string) string {
	if p[0] == "0" && p[1] == "0" && p[2] == "0" && p[3] == "0" && p[4] == "0" && p[5] == "ffff" {
		a, _ := strconv.ParseInt(p[6], 16, 32)
		b, _ := strconv.ParseInt(p[7], 16, 32)
		return fmt.Sprintf("%d.%d.%d.%d", a>>8, a&255, b>>8, b&255)
	}
	return ""
}

// JoinHostPort formats host and port, bracketing IPv6 hosts.
func JoinHostPort(host string, port int64) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.FormatInt(port, 10)
	}
	return host + ":" + strconv.FormatInt(port, 10)
}

var reProp = regexp.MustCompile(`^\{<<"([^"]*)">>,(\w+),(.*)\}$`)
var reCap = regexp.MustCompile(`\{<<"([^"]*)">>,bool,true\}`)
var reBin = regexp.MustCompile(`<<"((?:[^"\\]|\\.)*)">>`)

// ClientProps is what amqptop reads from client_properties.
type ClientProps struct {
	ConnectionName string
	Product        string
	Version        string
	Platform       string
	Capabilities   []string
}

// ParseClientProps reads client_properties as the event exchange sends it:
// either a list of Erlang term strings or an already decoded table.
func ParseClientProps(v any) ClientProps {
	var p ClientProps
	set := func(k, val string) {
		switch k {
		case "connection_name":
			p.ConnectionName = val
		case "product":
			p.Product = val
		case "version":
			p.Version = val
		case "platform":
			p.Platform = val
		}
	}
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if k == "capabilities" {
				if caps, ok := val.(map[string]any); ok {
					for c, on := range caps {
						if b, _ := on.(bool); b {
							p.Capabilities = append(p.Capabilities, c)
						}
					}
				}
				continue
			}
			set(k, termString(val))
		}
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				continue
			}
			m := reProp.FindStringSubmatch(strings.TrimSpace(s))
			if m == nil {
				continue
			}
			if m[1] == "capabilities" {
				for _, cm := range reCap.FindAllStringSubmatch(m[3], -1) {
					p.Capabilities = append(p.Capabilities, cm[1])
				}
				continue
			}
			if bm := reBin.FindStringSubmatch(m[3]); bm != nil {
				set(m[1], bm[1])
			}
		}
	}
	sort.Strings(p.Capabilities)
	return p
}

var rePID = regexp.MustCompile(`^<[^.<>]+(?:\.[^.<>]+)*?\.\d+\.(\d+)\.(\d+)>$`)

// NormPID turns a pid as the event exchange prints it
// (<rabbit@host.1700000000.1234.0>) into the node-local form the log uses
// (<0.1234.0>); other strings are returned unchanged.
func NormPID(s string) string {
	s = strings.TrimSpace(unbin(s))
	if strings.HasPrefix(s, "<0.") {
		return s
	}
	if m := rePID.FindStringSubmatch(s); m != nil {
		return "<0." + m[1] + "." + m[2] + ">"
	}
	return s
}

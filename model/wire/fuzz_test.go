package wire

import (
	"net"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Fuzz targets for the broker log parser and the Erlang-term reader.
// `go test` runs their seeds (below and testdata/fuzz/); `make fuzz` fuzzes
// each for a minute.

// fuzzLogTexts are message texts of real broker log entries (the zoo's
// captures against RabbitMQ 3.10.8 and 4.0.5, zoo/testdata/*.jsonl, and the
// texts of brokerlog_test.go), one of each shape.
var fuzzLogTexts = []string{
	"RabbitMQ is asked to stop...",
	"SIGTERM received - shutting down",
	"Server startup complete; 4 plugins started.",
	"Stopping RabbitMQ applications and their dependencies in the following order:",
	"stopped TCP listener on 127.0.0.1:38095",
	"Error on AMQP connection <0.1626.0> (127.0.0.1:46910 -> 127.0.0.1:38095, vhost: '/', user: 'guest', state: running), channel 0:\n operation none caused a connection exception connection_forced: \"broker forced connection closure with reason 'shutdown'\"",
	"Closing all connections in vhost 'zoo-vhost-refused' on node 'zoo-disruptive-d23cf6@localhost' because the vhost is stopping",
	"Channel error on connection <0.4308.0> (127.0.0.1:40852 -> 127.0.0.1:32991, vhost: '/', user: 'guest'), channel 1:\noperation none caused a channel exception precondition_failed: delivery acknowledgement on channel 1 timed out. Timeout value used: 5000 ms. This timeout value can be configured, see consumers doc guide to learn more",
	"closing AMQP connection <0.4308.0> (127.0.0.1:40852 -> 127.0.0.1:32991, vhost: '/', user: 'guest'):\nclient unexpectedly closed TCP connection",
	"Channel error on connection <0.3445.0> (127.0.0.1:33870 -> 127.0.0.1:32991, vhost: '/', user: 'guest'), channel 1:\noperation queue.declare caused a channel exception resource_locked: cannot obtain exclusive access to locked queue 'zoo-q-exclusive-locked' in vhost '/'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.",
	`Closing connection <0.3462.0> because "zoo force-close"`,
	"closing AMQP connection <0.3982.0> (127.0.0.1:59842 -> 127.0.0.1:32991):\nmissed heartbeats from client, timeout: 2s",
	"Channel error on connection <0.3430.0> (127.0.0.1:33862 -> 127.0.0.1:32991, vhost: '/', user: 'guest'), channel 1:\noperation queue.declare caused a channel exception precondition_failed: inequivalent arg 'x-message-ttl' for queue 'zoo-q-inequivalent-args' in vhost '/': received none but current is the value '60000' of type 'long'",
	"Error on AMQP connection <0.3343.0> (127.0.0.1:33802 -> 127.0.0.1:32991, user: 'guest', state: opening):\nvhost zoo-missing-vhost not found",
	"Channel error on connection <0.3400.0> (127.0.0.1:33858 -> 127.0.0.1:32991, vhost: '/', user: 'zoo-user-perm-topic'), channel 1:\noperation basic.publish caused a channel exception access_refused: access to topic 'zoo.denied.key' in exchange 'amq.topic' in vhost '/' refused for user 'zoo-user-perm-topic'",
	"Error on AMQP connection <0.3338.0> (127.0.0.1:33790 -> 127.0.0.1:32991, state: starting):\nPLAIN login refused: user 'zoo-user-wrong-password' - invalid credentials",
	"Channel error on connection <0.4200.0> (127.0.0.1:41694 -> 127.0.0.1:39725, vhost: '/', user: 'guest'), channel 1:\noperation basic.ack caused a channel exception precondition_failed: unknown delivery tag 999",
	"closing AMQP connection <0.3924.0> (127.0.0.1:38468 -> 127.0.0.1:39725 - zoo-bunny-force-close, vhost: '/', user: 'guest')",
	"closing AMQP connection (127.0.0.1:38708 -> 127.0.0.1:35505 - zoo-bunny-wrong-password, duration: '35ms')",
	"closing AMQP connection <0.2026.0> (127.0.0.1:53672 -> 127.0.0.1:43439, duration: '8s'):\nmissed heartbeats from client, timeout: 2s",
	"closing AMQP connection <0.1.0> ([::1]:53535 -> [::1]:5672, vhost: '/', user: 'guest')",
	"Error on AMQP connection <0.1373.0> (127.0.0.1:55165 -> 127.0.0.1:5672 - perf-test, vhost: '/', user: 'guest', state: running), channel 1:\n operation basic.publish caused a connection exception unexpected_frame: \"expected content header for class 60, got non content header frame instead\"",
	"memory resource limit alarm set on node rabbit@mq-1.\n\n**********************************************************\n*** Publishers will be blocked until this alarm clears ***",
	"disk resource limit alarm cleared on node 'rabbit@rmq-0.rmq.ns.svc.cluster.local'",
	"memory resource limit alarm cleared across the cluster",
	"accepting AMQP connection <0.1087.0> (10.0.0.1:1 -> 10.0.0.2:5672)",
	"connection <0.1113.0> (10.128.0.104:37148 -> 10.128.0.102:5672): user 'guest' authenticated and granted access to vhost '/'",
	"Slogan: eheap_alloc: Cannot allocate 1 byte",
	`Exception (501) Reason: "EOF"`,
}

// fuzzLogPrefixes are the line prefixes of the broker versions: 3.9+ (with a
// zone, Z or an offset, early 3.9's four-letter levels), 3.7/3.8 (no zone),
// and one that looks like a prefix but is not a valid time.
var fuzzLogPrefixes = []string{
	"2026-11-23 10:00:00.123456+00:00 [error] <0.1234.0> ",
	"2021-10-05 12:00:01.777402+02:00 [erro] <0.9.0> ",
	"2024-01-01 10:00:00.000000Z [warning] <0.1.0> ",
	"2024-01-01T10:00:00.000000-05:00 [noti] <0.1.0> ",
	"2024-01-01 10:00:00.000000+0200 [info] ",
	"2019-11-22 16:00:21.054 [info] <0.1087.0> ",
	"2026-13-45 99:99:99 [bogus] <0.1.0> ",
}

func FuzzParseLogLine(f *testing.F) {
	for i, t := range fuzzLogTexts {
		p := fuzzLogPrefixes[i%len(fuzzLogPrefixes)]
		f.Add(p + strings.SplitN(t, "\n", 2)[0])
	}
	f.Add("=ERROR REPORT==== 23-Nov-2016::10:00:00 ===")
	f.Add("=INFO REPORT==== 1-Jan-2017::00:00:00.123 ===\r\n")
	f.Add("=WARNING REPORT==== 31-Feb-2017::25:61:00 ===")
	f.Add("missed heartbeats from client, timeout: 60s")
	f.Add("")
	f.Fuzz(func(t *testing.T, line string) {
		l, ok := ParseLogLine(line)
		trimmed := strings.TrimRight(line, "\r\n")
		if again, ok2 := ParseLogLine(trimmed + "\r\n"); ok2 != ok || !reflect.DeepEqual(again, l) {
			t.Fatalf("a line's CRLF changes its parse: %+v / %+v", l, again)
		}
		if !ok {
			if (l != LogLine{Text: trimmed}) {
				t.Fatalf("an unrecognised line is returned as it is, got %+v", l)
			}
			return
		}
		if l.Prefix == "" || !strings.HasPrefix(trimmed, l.Prefix) {
			t.Fatalf("prefix %q is not the start of %q", l.Prefix, trimmed)
		}
		if l.Old {
			if l.Text != "" || l.Modern || l.PID != "" {
				t.Fatalf("an old report header has no text, pid or zone: %+v", l)
			}
		} else if l.Prefix+l.Text != trimmed {
			t.Fatalf("prefix %q + text %q is not the line %q", l.Prefix, l.Text, trimmed)
		}
		if NormLevel(l.Level) != l.Level || l.Level == "" {
			t.Fatalf("level %q is not normalised", l.Level)
		}
		if l.PID != "" && !(strings.HasPrefix(l.PID, "<") && strings.HasSuffix(l.PID, ">")) {
			t.Fatalf("pid %q", l.PID)
		}
		if utf8.ValidString(line) && !utf8.ValidString(l.Text) {
			t.Fatalf("invalid UTF-8 text %q from a valid line", l.Text)
		}
	})
}

func FuzzLogGrouper(f *testing.F) {
	// Whole logs: a 3.9+ multi-line entry, 3.8 continuation lines, an old
	// report block, bare lines after a 3.9 entry, CRLF line ends.
	var modern, old38 strings.Builder
	for i, t := range fuzzLogTexts {
		p := fuzzLogPrefixes[i%3]
		for _, line := range strings.Split(t, "\n") {
			modern.WriteString(p + line + "\n")
		}
		old38.WriteString(fuzzLogPrefixes[5] + t + "\n")
	}
	f.Add(modern.String())
	f.Add(old38.String())
	f.Add("=ERROR REPORT==== 23-Nov-2016::10:00:00 ===\nclosing AMQP connection <0.9.0> (a:1 -> b:2):\n{handshake_timeout,frame_header}\n\nnext\n")
	f.Add("2026-11-23 10:00:00.123456+00:00 [error] <0.5.0> closing AMQP connection <0.5.0> (a:1 -> b:2):\r\n" +
		"2026-11-23 10:00:00.123456+00:00 [error] <0.5.0> missed heartbeats from client, timeout: 60s\r\n" +
		"2026-11-23 10:00:01.000001+00:00 [info] <0.6.0> accepting AMQP connection <0.6.0> (c:1 -> b:2)\r\n" +
		"Exception (501) Reason: \"EOF\"\r\n")
	f.Add("2019-11-22 16:00:21.054 [warning] <0.7.0> closing AMQP connection <0.7.0> (a:1 -> b:2, vhost: '/', user: 'u'):\n" +
		"client unexpectedly closed TCP connection\n   \n" +
		"=WARNING REPORT==== 1-Jan-2017::00:00:00 ===\n2019-11-22 16:00:22.054 [info] <0.8.0> z")
	f.Fuzz(func(t *testing.T, log string) {
		lines := strings.Split(log, "\n")
		var g LogGrouper
		var es []LogLine
		for _, line := range lines {
			es = append(es, g.Add(line)...)
		}
		es = append(es, g.Flush()...)
		if g.Pending() || g.Flush() != nil {
			t.Fatal("an entry is still pending after Flush")
		}
		// Every non-blank line's text is in an entry, in order: the texts
		// of the entries, joined, hold the lines' texts one after the other.
		var all strings.Builder
		for _, e := range es {
			all.WriteString(e.Text)
			all.WriteByte(0)
		}
		joined, at, nonBlank := all.String(), 0, 0
		for _, line := range lines {
			line = strings.TrimRight(line, "\r\n")
			if strings.TrimSpace(line) == "" {
				continue
			}
			nonBlank++
			l, _ := ParseLogLine(line)
			if l.Old {
				continue // the header of an old report block is its prefix only
			}
			txt := strings.TrimSpace(l.Text)
			i := strings.Index(joined[at:], txt)
			if i < 0 {
				t.Fatalf("line %q (text %q) is in no entry (or out of order): %+v", line, txt, es)
			}
			at += i + len(txt)
		}
		if len(es) > nonBlank {
			t.Fatalf("%d entries from %d non-blank lines", len(es), nonBlank)
		}
		valid := utf8.ValidString(log)
		for _, e := range es {
			if e.Prefix == "" && strings.TrimSpace(e.Text) == "" {
				t.Fatalf("an empty entry without a prefix: %+v", e)
			}
			if e.Prefix != "" && NormLevel(e.Level) != e.Level {
				t.Fatalf("entry level %q", e.Level)
			}
			if valid && !(utf8.ValidString(e.Text) && utf8.ValidString(e.Prefix) && utf8.ValidString(e.PID)) {
				t.Fatalf("invalid UTF-8 from a valid log: %+v", e)
			}
		}
	})
}

var fuzzPIDRe = regexp.MustCompile(`^<[\d.]+>$`)

// knownConnNameNewline: the name in a closing/error entry is whatever is
// between its first parentheses, line breaks included
// (brokerlog.go: reClosing/reConnErr/reChanErr are (?s) and `\((.*?)\)`
// spans lines). Set to false when fixed.
const knownConnNameNewline = false

func FuzzParseConnLog(f *testing.F) {
	for _, t := range fuzzLogTexts {
		f.Add(t)
	}
	f.Add("closing AMQP connection <0.5.0> (a\nb -> c):\nreason")
	f.Add("")
	f.Fuzz(func(t *testing.T, text string) {
		c, ok := ParseConnLog(text)
		if again, ok2 := ParseConnLog(text); ok2 != ok || again != c {
			t.Fatalf("not deterministic: %+v / %+v", c, again)
		}
		if !ok {
			if c != (ConnLog{}) {
				t.Fatalf("not about a connection, yet %+v", c)
			}
			return
		}
		if c.Kind < LogClosing || c.Kind > LogNodeStarted {
			t.Fatalf("unknown kind %d", c.Kind)
		}
		if c.PID != "" && !fuzzPIDRe.MatchString(c.PID) {
			t.Fatalf("pid %q", c.PID)
		}
		if c.Channel < 0 {
			t.Fatalf("channel %d", c.Channel)
		}
		if (c.Code != 0) != (c.ReplyText != "") {
			t.Fatalf("code %d with reply text %q", c.Code, c.ReplyText)
		}
		if _, known := ReplyCodes[c.Code]; c.Code != 0 && !known {
			t.Fatalf("code %d is no reply code", c.Code)
		}
		if c.Peer != "" && !strings.HasPrefix(c.Name, c.Peer+" -> ") {
			t.Fatalf("name %q does not start with its peer %q", c.Name, c.Peer)
		}
		if (c.Kind == LogAlarmSet || c.Kind == LogAlarmCleared) && c.Alarm != "memory" && c.Alarm != "disk" {
			t.Fatalf("alarm %q", c.Alarm)
		}
		if utf8.ValidString(text) {
			for _, s := range []string{c.Name, c.Peer, c.Client, c.Vhost, c.User, c.State, c.Reason, c.ReplyText, c.Node} {
				if !utf8.ValidString(s) {
					t.Fatalf("invalid UTF-8 %q from valid text", s)
				}
			}
		}
		if strings.Contains(c.Name, "\n") {
			if knownConnNameNewline {
				t.Skip("known issue: a connection name spans lines (knownConnNameNewline)")
			}
			t.Fatalf("connection name %q contains a newline", c.Name)
		}
	})
}

// fuzzPart makes a fuzzed string usable as one part of a connection name
// (peer, local address): no dashes or arrows, no commas or parentheses,
// no line breaks, not blank at either end.
func fuzzPart(s, dflt string) string {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '-', '>', ',', '(', ')', '\n', '\r':
			return '_'
		}
		return r
	}, s)
	if s = strings.TrimSpace(s); s == "" {
		return dflt
	}
	return s
}

// knownClientParen: a client-provided name with a ')' (e.g. "billing (prod)")
// ends the connection details early: the client name is cut, the vhost and
// user are lost, and so is the reason after the ':' (brokerlog.go: reClosing
// and its siblings take `\((.*?)\)`, the first ')'). Set to false when fixed.
const knownClientParen = false

// FuzzConnLogRoundTrip builds the entries the broker writes from fuzzed
// parts and checks that ParseConnLog gives the parts back.
func FuzzConnLogRoundTrip(f *testing.F) {
	f.Add("127.0.0.1:40852", "127.0.0.1:5672", "billing-api", "/", "guest", "missed heartbeats from client, timeout: 60s", uint8(0))
	f.Add("[::1]:53535", "[::1]:5672", "", "/iap", "pronghorn", "client unexpectedly closed TCP connection", uint8(1))
	f.Add("10.0.0.5:51234", "10.0.0.10:5672", "zoo-go-force-close", "zoo-vhost", "zoo-user", "operation none caused a connection exception connection_forced: \"zoo force-close\"", uint8(2))
	f.Add("10.0.2.5:41960", "10.0.2.2:5672", "my app - v2", "/", "sm0ke", "operation queue.declare caused a channel exception not_found: no queue 'q' in vhost '/'", uint8(3))
	f.Add("10.0.2.5:41960", "10.0.2.2:5672", "billing (prod)", "/", "guest", "missed heartbeats from client, timeout: 60s", uint8(0))
	f.Fuzz(func(t *testing.T, peer, local, client, vhost, user, reason string, kind uint8) {
		peer, local = fuzzPart(peer, "10.0.0.1:1"), fuzzPart(local, "10.0.0.2:5672")
		client = strings.TrimSpace(strings.NewReplacer("\n", " ", "\r", " ").Replace(client))
		// The broker's own quoting: no quote or comma in vhost and user;
		// the documented limit: no ", <key>: " in the name.
		clean := func(s string) string {
			return strings.Map(func(r rune) rune {
				if r == '\'' || r == ',' || r == '\n' || r == '\r' || r == ')' || r == '(' {
					return '_'
				}
				return r
			}, s)
		}
		vhost, user = clean(vhost), clean(user)
		for _, k := range []string{", vhost: ", ", user: ", ", state: ", ", duration: "} {
			if strings.Contains(client, k) {
				return
			}
		}
		reason = strings.TrimSpace(reason)
		name := peer + " -> " + local
		details := name
		if client != "" {
			details += " - " + client
		}
		details += ", vhost: '" + vhost + "', user: '" + user + "'"
		var text string
		want := ConnLog{PID: "<0.1234.0>", Name: name, Peer: peer, Client: client, Vhost: vhost, User: user}
		switch kind % 4 {
		case 0:
			want.Kind = LogClosing
			text = "closing AMQP connection <0.1234.0> (" + details + ")"
			if reason != "" {
				text += ":\n" + reason
			}
		case 1:
			want.Kind, want.Channel = LogConnError, int(kind>>2)
			text = "Error on AMQP connection <0.1234.0> (" + details + ", state: running), channel " + strconv.Itoa(want.Channel) + ":\n" + reason
			want.State = "running"
		case 2:
			want.Kind, want.Channel = LogChannelError, int(kind>>2)+1
			text = "Channel error on connection <0.1234.0> (" + details + "), channel " + strconv.Itoa(want.Channel) + ":\n" + reason
		case 3:
			want.Kind = LogAccepted
			want.Vhost, want.User, want.Client = "", "", ""
			text = "accepting AMQP connection <0.1234.0> (" + peer + " -> " + local + ")"
		}
		got, ok := ParseConnLog(text)
		if !ok {
			t.Fatalf("ParseConnLog(%q) is not about a connection", text)
		}
		if strings.ContainsAny(client, "()") && got.Client != client && knownClientParen {
			t.Skip("known issue: a client name with parentheses (knownClientParen)")
		}
		if want.Kind != LogAccepted {
			want.Reason = reason
		}
		got.Operation, got.Constant, got.Code, got.ReplyText = "", "", 0, "" // parseException has checks of its own
		if got != want {
			t.Fatalf("ParseConnLog(%q)\n got %+v\nwant %+v", text, got, want)
		}
	})
}

// fuzzNested builds a nested header value from fuzzed parts: shape picks,
// level by level, a list, a charlist, a binary or a plain value.
func fuzzNested(s string, n int64, shape uint8, depth int) any {
	if depth <= 0 {
		return s
	}
	switch shape % 6 {
	case 0:
		return []any{s, fuzzNested(s, n, shape/6, depth-1), n}
	case 1:
		list := make([]any, 0, len(s))
		for _, r := range s {
			list = append(list, int64(r))
		}
		return list
	case 2:
		return []byte(s)
	case 3:
		return map[string]any{s: fuzzNested(s, n, shape/6, depth-1)}
	case 4:
		return []any{int64(n), uint8(n), float64(n), int32(n)}
	}
	return `<<"` + s + `">>`
}

func FuzzErlTerms(f *testing.F) {
	f.Add(`{<<"connection_name">>,longstr,<<"billing-api">>}`, `{<<"capabilities">>,table,[{<<"publisher_confirms">>,bool,true},{<<"basic.nack">>,bool,true},{<<"exchange_exchange_bindings">>,bool,false}]}`, `{<<"product">>,longstr,<<"RabbitMQ">>}`, int64(1700000000123), 1.5, uint8(0))
	f.Add("{127,0,0,1}", "<rabbit@mq-1.1700000000.1234.0>", "[::1]:5555 -> [::1]:5672 - my app - v2", int64(117), 0.0, uint8(1))
	f.Add("{0,0,0,0,0,65535,2570,1}", "<0.5.0>", "10.0.4.18:54122 -> 10.0.1.7:5672 - billing-api", int64(-1), -3.7, uint8(7))
	f.Add(`<<"user">>`, "<rabbit@a.b.c.1700000000.99.7>", "db.local", int64(0x10FFFF), 1e300, uint8(200))
	f.Add(" 42 ", "\x00\xff", "é -> ü - ß", int64(55296), 0.0, uint8(35))
	f.Fuzz(func(t *testing.T, a, b, c string, n int64, fl float64, shape uint8) {
		// client_properties: a list of term strings, or a decoded table.
		caps := map[string]any{}
		caps[b], caps[c], caps[a] = true, false, "true"
		var wantCaps []string
		for k, on := range caps {
			if on == true {
				wantCaps = append(wantCaps, k)
			}
		}
		sort.Strings(wantCaps)
		for _, v := range []any{
			[]any{a, b, c},
			[]any{a, n, nil, []any{b}, map[string]any{"x": c}},
			map[string]any{"connection_name": a, "product": fuzzNested(b, n, shape, 3), "version": []any{n},
				"platform": nil, "capabilities": caps},
			map[string]any{"capabilities": []any{a}},
			a, n, nil,
		} {
			p := ParseClientProps(v)
			if !sort.StringsAreSorted(p.Capabilities) {
				t.Fatalf("capabilities not sorted: %q", p.Capabilities)
			}
			if l, ok := v.([]any); ok && len(l) == 3 {
				for _, s := range append([]string{p.ConnectionName, p.Product, p.Version, p.Platform}, p.Capabilities...) {
					if !strings.Contains(a, s) && !strings.Contains(b, s) && !strings.Contains(c, s) {
						t.Fatalf("%q is in no property string", s)
					}
				}
			}
			if m, ok := v.(map[string]any); ok && m["connection_name"] != nil {
				if p.ConnectionName != termString(a) {
					t.Fatalf("connection name %q, want %q", p.ConnectionName, termString(a))
				}
				if !reflect.DeepEqual(p.Capabilities, wantCaps) {
					t.Fatalf("capabilities %q, want %q", p.Capabilities, wantCaps)
				}
			}
		}

		// Headers of every type the client library hands over.
		h := map[string]any{
			"s": a, "bin": `<<"` + a + `">>`, "bytes": []byte(b), "nested": fuzzNested(c, n, shape, 4),
			"i64": n, "f64": fl, "u64": uint64(n), "u8": uint8(n), "i8": int8(n), "f32": float32(fl),
			"nil": nil, "bool": shape&1 == 1, "map": map[string]any{a: b},
		}
		for k := range h {
			_ = HeaderString(h, k)
			ms := HeaderInt(h, k)
			tm := HeaderTime(h, k)
			if (ms > 0) != !tm.IsZero() || ms > 0 && tm.UnixMilli() != ms || !tm.IsZero() && tm.Location() != time.UTC {
				t.Fatalf("HeaderTime %v for %d", tm, ms)
			}
			_ = HeaderBool(h, k)
		}
		if HeaderString(h, "absent") != "" || HeaderInt(h, "absent") != 0 || !HeaderTime(h, "absent").IsZero() {
			t.Fatal("an absent header is not empty")
		}
		if got := HeaderString(h, "bin"); got != a {
			t.Fatalf("binary %q read as %q", h["bin"], got)
		}
		if got := HeaderString(h, "bytes"); got != b {
			t.Fatalf("bytes read as %q", got)
		}
		if HeaderInt(h, "i64") != n {
			t.Fatal("int64 header")
		}
		if want, err := strconv.ParseInt(strings.TrimSpace(a), 10, 64); err == nil && HeaderInt(h, "s") != want {
			t.Fatalf("numeric string %q read as %d", a, HeaderInt(h, "s"))
		}
		if HeaderBool(h, "s") != (a == "true") {
			t.Fatal("string bool header")
		}

		// Charlists: a string's code points come back as the string.
		list := make([]any, 0, len(a))
		for _, r := range a {
			list = append(list, int64(r))
		}
		if s, ok := DecodeCharlist(list); ok != (a != "") || ok && s != string([]rune(a)) {
			t.Fatalf("charlist of %q = %q, %v", a, s, ok)
		}
		if s, ok := DecodeCharlist([]any{n, fl, int32(n), uint8(n)}); ok && !utf8.ValidString(s) {
			t.Fatalf("charlist gives invalid UTF-8 %q", s)
		}
		if HeaderString(map[string]any{"l": list}, "l") != string([]rune(a)) {
			t.Fatalf("charlist header of %q", a)
		}

		// Addresses: 4- and 8-tuples built from the bytes of a.
		_ = ErlIP(a)
		_ = ErlIP(b)
		raw := []byte(a + b + c + "0123456789abcdef")
		v4 := net.IP(raw[:4])
		tup4 := "{" + strconv.Itoa(int(raw[0])) + "," + strconv.Itoa(int(raw[1])) + "," + strconv.Itoa(int(raw[2])) + "," + strconv.Itoa(int(raw[3])) + "}"
		if got := ErlIP(tup4); got != v4.String() {
			t.Fatalf("ErlIP(%q) = %q, want %q", tup4, got, v4)
		}
		if got := ErlIP(`<<"` + tup4 + `">>`); got != v4.String() {
			t.Fatalf("ErlIP of a binary %q = %q", tup4, got)
		}
		v6 := net.IP(append([]byte(nil), raw[:16]...))
		if shape&2 != 0 { // a v4-mapped address
			v6 = net.IPv4(raw[0], raw[1], raw[2], raw[3])
		}
		words := make([]string, 8)
		for i := range words {
			words[i] = strconv.Itoa(int(v6[2*i])<<8 | int(v6[2*i+1]))
		}
		tup8 := "{" + strings.Join(words, ",") + "}"
		if got := ErlIP(tup8); !net.ParseIP(got).Equal(v6) {
			t.Fatalf("ErlIP(%q) = %q, want %s", tup8, got, v6)
		}

		// Pids: the event exchange's <node.creation.id.serial> → <0.id.serial>.
		_ = NormPID(a)
		node := "rabbit@" + strings.Map(func(r rune) rune {
			if r == '.' || r == '<' || r == '>' {
				return -1
			}
			return r
		}, b)
		if shape&4 != 0 {
			node += ".example.com"
		}
		id, serial := strconv.FormatUint(uint64(n)>>32, 10), strconv.FormatUint(uint64(n)&0xffff, 10)
		pid := "<" + node + ".1700000000." + id + "." + serial + ">"
		if got, want := NormPID(pid), "<0."+id+"."+serial+">"; got != want {
			t.Fatalf("NormPID(%q) = %q, want %q", pid, got, want)
		}
		if got := NormPID("<0." + id + "." + serial + ">"); got != "<0."+id+"."+serial+">" {
			t.Fatalf("a local pid changed: %q", got)
		}

		// Connection names: "peer -> local - client" splits into its parts.
		name, peer, client := SplitConnName(a)
		if peer != "" && !strings.HasPrefix(name, peer+" -> ") {
			t.Fatalf("SplitConnName(%q) = %q, %q, %q", a, name, peer, client)
		}
		if peer == "" && (client != "" || name != strings.TrimSpace(a)) {
			t.Fatalf("SplitConnName(%q) without an arrow = %q, %q, %q", a, name, peer, client)
		}
		p0, l0, c0 := fuzzPart(a, "10.0.0.1:1"), fuzzPart(b, "10.0.0.2:5672"), strings.TrimSpace(c)
		full := p0 + " -> " + l0
		if c0 != "" {
			full += " - " + c0
		}
		if n2, p2, c2 := SplitConnName(full); n2 != p0+" -> "+l0 || p2 != p0 || c2 != c0 {
			t.Fatalf("SplitConnName(%q) = %q, %q, %q", full, n2, p2, c2)
		}
	})
}

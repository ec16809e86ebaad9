package inert

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRedact(t *testing.T) {
	cases := []struct{ in, want string }{
		{"dial amqp://bob:s3cret@mq:5672/ failed", "dial amqp://bob:xxxxx@mq:5672/ failed"},
		{"amqps://monitor:p%40ss@mq-1.prod:5671/%2F", "amqps://monitor:xxxxx@mq-1.prod:5671/%2F"},
		{"GET https://admin:hunter2@mq:15671/api/overview: 401", "GET https://admin:xxxxx@mq:15671/api/overview: 401"},
		{"connecting with password=hunter2 user=bob", "connecting with password=xxxxx user=bob"},
		{`{"user": "bob", "password": "hunter2"}`, `{"user": "bob", "password": "xxxxx"}`},
		{"Authorization: Basic Ym9iOnMzY3JldA==", "Authorization: Basic xxxxx"},
		{"amqp://guest@localhost:5672/ has no password", "amqp://guest@localhost:5672/ has no password"},
		{"closing AMQP connection <0.5.0> (10.0.0.5:51234 -> 10.0.0.10:5672, vhost: '/', user: 'app')", "closing AMQP connection <0.5.0> (10.0.0.5:51234 -> 10.0.0.10:5672, vhost: '/', user: 'app')"},
		{`Exception (403) Reason: "username or password not allowed"`, `Exception (403) Reason: "username or password not allowed"`},
	}
	for _, c := range cases {
		if got := Redact(c.in); got != c.want {
			t.Errorf("Redact(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

// Hostile names: what a client can put in its connection name, its user
// name or a reply text, and what each sink gets to print.
var hostile = []struct{ in, line string }{
	{"billing-api", "billing-api"},
	{"\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},                                         // OSC: retitle the window
	{"\x1b]52;c;aGVsbG8=\x07", `\x1b]52;c;aGVsbG8=\x07`},                             // OSC 52: write the clipboard
	{"\x1b[2J\x1b[H", `\x1b[2J\x1b[H`},                                               // clear the screen
	{"ok\n2026-12-03 10:00:00 ERROR forged", `ok\n2026-12-03 10:00:00 ERROR forged`}, // forge a log line
	{"abc\u202edcba", "abc<U+202E>dcba"},                                             // bidi override
	{"zero\u200bwidth\ufeff", "zero<U+200B>width<U+FEFF>"},                           // hidden characters
	{"bad\xff\xfeutf8", "bad\uFFFDutf8"},                                             // invalid UTF-8
	{"c1\u009bcsi", `c1\u009bcsi`},                                                   // a C1 CSI
	{"tab\there", `tab\there`},
	{"naïve café ✓", "naïve café ✓"}, // ordinary non-ASCII stays
}

func TestLine(t *testing.T) {
	for _, c := range hostile {
		got := Line(c.in)
		if got != c.line {
			t.Errorf("Line(%q) = %q, want %q", c.in, got, c.line)
		}
		if strings.ContainsAny(got, "\x1b\x07\n\r\u202e\u200b\ufeff\u009b") || !utf8.ValidString(got) {
			t.Errorf("Line(%q) = %q is not inert", c.in, got)
		}
	}
	if got := Text("one\ntwo\x1b[2J"); got != "one\ntwo\\x1b[2J" {
		t.Errorf("Text keeps line breaks only: %q", got)
	}
	if got := Show("amqp://bob:s3cret@h/\x1b[2J"); got != `amqp://bob:xxxxx@h/\x1b[2J` {
		t.Errorf("Show: %q", got)
	}
}

func TestJSON(t *testing.T) {
	for _, c := range hostile {
		b, _ := json.Marshal(map[string]string{"client": c.in})
		safe := JSON(b)
		var back map[string]string
		if err := json.Unmarshal(safe, &back); err != nil {
			t.Fatalf("%q: %v", safe, err)
		}
		var raw map[string]string
		json.Unmarshal(b, &raw)
		if want := raw["client"]; back["client"] != want {
			t.Errorf("%q decodes to %q, want %q", safe, back["client"], raw["client"])
		}
		if strings.ContainsAny(string(safe), "\x1b\x07\n\u202e\u200b\ufeff\u009b") {
			t.Errorf("JSON %q is not inert on a terminal", safe)
		}
	}
}

package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/amqptop/amqptop/model"
)

// What a hostile client can put in the fields amqptop prints: OSC and CSI
// sequences (retitle the window, write the clipboard, clear the screen), a
// newline that forges a log line, bidi overrides and zero-width characters,
// invalid UTF-8, a credential.
var hostileStrings = []string{
	"\x1b]0;pwned\x07", "\x1b]52;c;aGVsbG8=\x07", "\x1b[2J\x1b[H", "ok\n10:00:00.000 ERROR connection.closed forged",
	"abc\u202edcba", "zero\u200bwidth\ufeff", "bad\xff\xfeutf8", "c1\u009bcsi", "amqp://bob:s3cr3t-pw@mq:5672/",
}

// raw reports what of a sink's output a terminal would act on.
func raw(s string) []string {
	var bad []string
	for _, r := range []string{"\x1b", "\x07", "\u202e", "\u200b", "\ufeff", "\u009b", "\r", "s3cr3t-pw"} {
		if strings.Contains(s, r) {
			bad = append(bad, strings.ToValidUTF8(r, "?"))
		}
	}
	return bad
}

func hostileEvent(h string) *model.Event {
	return &model.Event{Time: time.Now(), Type: model.ConnClosed, Conn: h + " -> 10.0.0.1:5672", Client: h, User: h, Vhost: h,
		Peer: h, Node: h, Text: h, Cause: &model.CauseRef{ID: "network-interruption", Title: h}}
}

// Every field of every sink goes through the one sanitiser: watch's text
// lines (one line per event, always), watch's JSON Lines (inert on a
// terminal and decoding to the same value), explain's text and JSON.
func TestHostileStringsThroughEverySink(t *testing.T) {
	for _, h := range hostileStrings {
		var b bytes.Buffer
		if err := textSink(&b, hostileEvent(h)); err != nil {
			t.Fatal(err)
		}
		if bad := raw(b.String()); len(bad) > 0 || strings.Count(b.String(), "\n") != 1 {
			t.Errorf("watch text for %q: %q (raw %q)", h, b.String(), bad)
		}
		b.Reset()
		if err := jsonSink(&b, hostileEvent(h)); err != nil {
			t.Fatal(err)
		}
		if bad := raw(strings.ReplaceAll(b.String(), "s3cr3t-pw", "")); len(bad) > 0 || strings.Count(b.String(), "\n") != 1 {
			t.Errorf("watch JSON for %q: %q (raw %q)", h, b.String(), bad)
		}
		var back model.Event
		if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.Client != strings.ToValidUTF8(back.Client, "") {
			t.Errorf("watch JSON for %q does not decode: %v", h, err)
		}
		for _, args := range [][]string{{"explain", h}, {"explain", "--json", h}} {
			_, out, _ := cli(t, "", args...)
			if bad := raw(out); len(bad) > 0 {
				t.Errorf("%v: %q (raw %q)", args, out, bad)
			}
		}
	}
}

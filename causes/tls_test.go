package causes_test

import (
	"strings"
	"testing"

	"github.com/amqptop/amqptop/causes"
	"github.com/amqptop/amqptop/model"
	"github.com/amqptop/amqptop/model/wire"
)

// tlsCase is one text seen in a real TLS failure against a private
// RabbitMQ node (testdata/tls.jsonl; see testdata/SOURCES.md, "TLS").
type tlsCase struct {
	Broker string   `json:"broker"` // the RabbitMQ version
	TLS    string   `json:"tls"`    // the TLS version negotiated or offered
	Case   string   `json:"case"`
	Side   string   `json:"side"`   // client: the error a client printed; broker: the node's log entry
	Client string   `json:"client"` // which client printed it
	Level  string   `json:"level"`  // of the broker's entry
	Text   string   `json:"text"`   // the error, or the log entry's text
	Lines  []string `json:"lines"`  // the broker's log lines of the entry, as written
	Cause  string   `json:"cause"`
	// Ambiguous: a text that alone cannot say TLS (a reset, a closed
	// socket, amqp091-go's 504 for a connection that is gone): the
	// broker's TLS 1.3 alert raced with the client's first writes. It
	// must not be diagnosed as another cause at medium or high
	// confidence; amqptop's own dialer tells these apart (monitor).
	Ambiguous bool `json:"ambiguous"`
}

func readTLSCases(t *testing.T) []tlsCase {
	t.Helper()
	return readJSONL[tlsCase](t, "testdata/tls.jsonl")
}

// Every text seen in the TLS runs, the client's error alone or the
// broker's log entry alone, is diagnosed as tls-error (at low confidence
// with tls-error among the candidates where the text leaves it open), and
// a text that cannot tell (Ambiguous) is never confidently another cause.
func TestTLSTexts(t *testing.T) {
	b := causes.Default()
	cases := readTLSCases(t)
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.Broker+"/"+c.Side] = true
		var ev model.Evidence
		switch c.Side {
		case "client":
			ev.Client = c.Text
		case "broker":
			// The log lines as written, grouped into the entry the log
			// file source (and the knowledge base) sees.
			var g wire.LogGrouper
			var entries []wire.LogLine
			for _, l := range c.Lines {
				entries = append(entries, g.Add(l)...)
			}
			entries = append(entries, g.Flush()...)
			if len(entries) != 1 || entries[0].Text != c.Text || entries[0].Level != c.Level {
				t.Errorf("%s %s: the lines make %+v, want one %s entry %q", c.Broker, c.Case, entries, c.Level, c.Text)
			}
			ev.Log = []string{c.Text}
		default:
			t.Errorf("%s %s: side %q", c.Broker, c.Case, c.Side)
			continue
		}
		d := b.Diagnose(ev)
		got := "nothing"
		if d.Cause != nil {
			got = d.Cause.ID
		}
		if !c.Ambiguous {
			checkTLSVariant(t, c, d)
		}
		if c.Side == "broker" && len(c.Lines) > 1 && strings.Contains(c.Lines[0], " ALERT: ") {
			// The entry's first line alone (pasted without the rest): still
			// tls-error, with a note that says what the rest would tell.
			l, _ := wire.ParseLogLine(c.Lines[0])
			fd := b.Diagnose(model.Evidence{Log: []string{l.Text}})
			if !fd.Fits(c.Cause) || len(fd.Notes) == 0 {
				t.Errorf("%s TLS %s %s, the first line alone %q: %+v", c.Broker, c.TLS, c.Case, l.Text, fd)
			}
		}
		if !d.Fits(c.Cause) && !(c.Ambiguous && d.Confidence <= model.ConfLow) {
			t.Errorf("%s TLS %s %s (%s %s): %s (%s), want %s\n  %q", c.Broker, c.TLS, c.Case, c.Side, c.Client, got, d.Confidence, c.Cause, c.Text)
		} else if testing.Verbose() {
			t.Logf("%s TLS %s %s (%s): %s (%s)", c.Broker, c.TLS, c.Case, c.Side, got, d.Confidence)
		}
	}
	for _, k := range []string{"3.10.8/client", "3.10.8/broker", "4.0.5/client", "4.0.5/broker"} {
		if !seen[k] {
			t.Errorf("no %s text", k)
		}
	}
}

// tlsVariants are the notes (their first words) a real text of each fault
// may lead with: the variant of tls-error it tells. A case lists more
// than one where the runs showed it more than one way (Go sends no
// certificate whose CA the broker does not list, so an untrusted one
// reads as none; the broker logs the same alert for an unknown CA and a
// wrong name).
var tlsVariants = map[string][]string{
	"no-client-certificate":        {"The broker requires a client certificate", "With TLS 1.2"},
	"untrusted-client-certificate": {"The broker refused the client's certificate", "The broker requires a client certificate", "With TLS 1.2"},
	"unknown-ca":                   {"The client does not trust the broker's certificate", "The client refused the broker's certificate"},
	"wrong-server-name":            {"The broker's certificate does not name the host", "The client refused the broker's certificate"},
	"tls-on-plain-port":            {"A TLS client on a plain port"},
	"plain-on-tls-port":            {"A plain client on a TLS port", "amqp091-go reads a TLS port's alert", "The broker's TLS port got a first record"},
}

// checkTLSVariant: the diagnosis of a real TLS text says which variant it
// is, first among its notes.
func checkTLSVariant(t *testing.T, c tlsCase, d model.Diagnosis) {
	t.Helper()
	want, ok := tlsVariants[c.Case]
	if !ok {
		t.Errorf("%s: no variant listed for this case", c.Case)
		return
	}
	if len(d.Notes) > 0 {
		for _, w := range want {
			if strings.HasPrefix(d.Notes[0], w) {
				return
			}
		}
	}
	t.Errorf("%s TLS %s %s (%s %s): notes %q, want one starting with one of %q\n  %q", c.Broker, c.TLS, c.Case, c.Side, c.Client, d.Notes, want, c.Text)
}

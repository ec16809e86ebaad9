package causes_test

import (
	"bufio"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/amqptop/amqptop/causes"
	"github.com/amqptop/amqptop/model"
)

// brokerFormat is one of the broker's own format strings, read from
// rabbitmq-server's source (3.8 to 4.1; see testdata/SOURCES.md), with an
// example rendered from it and the cause it means.
type brokerFormat struct {
	ID       string `json:"id"`
	Module   string `json:"module"`
	Versions string `json:"versions"`
	Format   string `json:"format"`
	Kind     string `json:"kind"` // log: a log entry; reply: what the client is sent
	Level    string `json:"level"`
	Code     int    `json:"code"`
	Example  string `json:"example"`
	Cause    string `json:"cause"` // a cause id, "none" (not about a close), "new:<id>" (no entry yet)
	Source   string `json:"source"`
}

func readFormats(t *testing.T) []brokerFormat {
	t.Helper()
	return readJSONL[brokerFormat](t, "testdata/broker_formats.jsonl")
}

// readJSONL reads a testdata file of one JSON object per line (blank
// lines skipped).
func readJSONL[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s: %v: %s", path, err, sc.Text())
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

// informational are lines the broker logs that close nothing: an alarm
// clearing says publishers may go on, not why something broke.
var reVerbatim = regexp.MustCompile(`^[A-Z_]{5,} - `)

var informational = map[string]bool{"al-resource-cleared": true, "al-resource-cleared-cluster": true, "al-resource-cleared-dead": true}

// Every format string the broker's source uses for a close, rendered as
// the broker prints it (its log, or the reply text a client receives),
// is diagnosed as the cause it means — or, where the wording leaves the
// reason open, with that cause among the candidates — and never
// confidently as another.
func TestBrokerFormats(t *testing.T) {
	b := causes.Default()
	formats := readFormats(t)
	checked := 0
	for _, f := range formats {
		if f.Cause == "none" || strings.HasPrefix(f.Cause, "new:") || f.Example == "" {
			continue
		}
		if b.Lookup(f.Cause) == nil {
			t.Errorf("%s: cause %q is not in the knowledge base", f.ID, f.Cause)
			continue
		}
		if informational[f.ID] {
			continue
		}
		var ev model.Evidence
		switch {
		case f.Kind == "log", f.Kind == "reply" && f.Code != 0 && !reVerbatim.MatchString(f.Example):
			// A reason the broker puts in its log entry ("PLAIN login
			// refused: …") rather than in the client's reply text.
			ev = model.Evidence{Log: []string{f.Example}}
		case f.Kind == "reply":
			ev = model.Evidence{Code: f.Code, Text: f.Example, ByServer: true}
		default:
			t.Errorf("%s: kind %q", f.ID, f.Kind)
			continue
		}
		checked++
		d := b.Diagnose(ev)
		if !d.Fits(f.Cause) {
			got := "nothing"
			if d.Cause != nil {
				got = d.Cause.ID
			}
			t.Errorf("%s (%s, %s): %s (%s), want %s\n  %s: %q", f.ID, f.Module, f.Versions, got, d.Confidence, f.Cause, f.Kind, f.Example)
		}
	}
	if checked < 100 {
		t.Errorf("only %d formats checked", checked)
	}
}

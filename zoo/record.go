package zoo

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Record is one line of a fixture file: what one client library raised
// for one fault against one broker version, and what the broker logged.
//
// The JSON field names are a contract: other code parses the fixtures.
type Record struct {
	// Library is the zoo's id of the client (see [Libraries]), e.g. "pika".
	Library string `json:"library"`
	// Version is the client library's version as the library reports it.
	Version string `json:"version"`
	// Broker is the RabbitMQ version of the node, e.g. "3.10.8".
	Broker string `json:"broker"`
	// Fault is the fault id (see [Faults]).
	Fault string `json:"fault"`
	// Expect is the amqptop cause id the fault really is.
	Expect string `json:"expect"`
	// Raised is the class (type) of what the library raised or returned,
	// e.g. "pika.exceptions.ProbableAuthenticationError" or "*amqp091.Error".
	Raised string `json:"raised"`
	// Text is what an application's log shows for it (see the README for
	// each language's rule). Multi-line texts use "\n".
	Text string `json:"text"`
	// Repr is the Python repr of the exception, recorded where str() is
	// empty or drops the reason.
	Repr string `json:"repr,omitempty"`
	// Code is a machine-readable code the error carries besides its text
	// (Node's err.code, a Go *amqp091.Error's Code, a CLI tool's exit
	// status), when there is one.
	Code string `json:"code,omitempty"`
	// ClientLog holds what the library itself logged (warning and above)
	// while the fault happened, where the library has a logger.
	ClientLog []string `json:"client_log,omitempty"`
	// Log holds the broker's log entries about the fault, message text
	// without the line prefix, multi-line entries joined with "\n".
	Log []string `json:"log"`
	// LogLevels is parallel to Log: each entry's level.
	LogLevels []string `json:"log_levels"`
	// Note says what is special about this record (a recovery, a swallowed
	// error, a client-side check that pre-empted the broker).
	Note string `json:"note"`
	// Skipped, when non-empty, says why the fault could not be provoked
	// with this library; Raised and Text are then empty.
	Skipped string `json:"skipped"`
}

// FixtureName returns the fixture file name for a broker version,
// e.g. "rabbitmq-3.10.8.jsonl".
func FixtureName(brokerVersion string) string {
	return "rabbitmq-" + brokerVersion + ".jsonl"
}

// SortRecords orders records by library, then fault.
func SortRecords(rs []Record) {
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].Library != rs[j].Library {
			return rs[i].Library < rs[j].Library
		}
		return rs[i].Fault < rs[j].Fault
	})
}

// ReadFixtures reads a fixture file (one JSON record per line; blank lines
// are ignored).
func ReadFixtures(path string) ([]Record, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rs []Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var r Record
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		rs = append(rs, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rs, nil
}

// WriteFixtures writes records (sorted by library, then fault) to path,
// one JSON object a line.
func WriteFixtures(path string, rs []Record) error {
	rs = append([]Record(nil), rs...)
	SortRecords(rs)
	var b bytes.Buffer
	for _, r := range rs {
		if r.Log == nil {
			r.Log = []string{}
		}
		if r.LogLevels == nil {
			r.LogLevels = []string{}
		}
		line, err := marshalRecord(r)
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// marshalRecord encodes a record without HTML escaping (texts keep their
// <, > and & as the client printed them).
func marshalRecord(r Record) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// Problems returns what is structurally wrong with a record: missing ids,
// an empty text with neither a skip reason nor a note saying what the
// library did instead (swallowed the error, recovered), a failed zoo run
// (timeout, no result), a text that is the zoo's own protocol or a usage
// error rather than a client's message.
func (r Record) Problems() []string {
	var p []string
	if r.Library == "" || r.Fault == "" || r.Broker == "" {
		p = append(p, "missing library, fault or broker")
	}
	if r.Skipped != "" {
		if r.Text != "" {
			p = append(p, "skipped but has a text")
		}
		return p
	}
	if strings.HasPrefix(r.Note, "zoo: ") || strings.Contains(r.Note, "; zoo: ") {
		p = append(p, "the zoo's run failed: "+r.Note)
	}
	switch {
	case strings.TrimSpace(r.Text) == "" && r.Note == "":
		p = append(p, "empty text and neither a note nor a skip reason")
	case strings.TrimSpace(r.Text) != "" && r.Raised == "":
		p = append(p, "a text but no raised class")
	}
	if r.Version == "" {
		p = append(p, "empty version")
	}
	for _, bad := range []string{"READY", "Traceback (most recent call last)", "usage:", "Usage:", "SyntaxError", "NameError", "TypeError: ", "undefined method", "ReferenceError", "zoo client:"} {
		if strings.Contains(r.Text, bad) {
			p = append(p, fmt.Sprintf("text contains %q: a bug in the zoo, not a client text", bad))
		}
	}
	if len(r.Log) != len(r.LogLevels) {
		p = append(p, "log and log_levels differ in length")
	}
	return p
}

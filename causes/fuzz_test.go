package causes

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/amqptop/amqptop/model"
)

// BenchmarkDiagnose diagnoses a realistic mix: every case of the table
// (broker logs, close frames, each client library's printing, context).
func BenchmarkDiagnose(b *testing.B) {
	base := Default()
	var evs []model.Evidence
	for _, cs := range diagnoseCases() {
		for _, c := range cs {
			evs = append(evs, c.ev)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		base.Diagnose(evs[i%len(evs)])
	}
}

// fuzzEvidence builds Evidence from fuzzed fields: log entries are
// separated by NUL; flags set Alarm, Restart, ByServer, Vanished and the
// scope.
func fuzzEvidence(code int, text, log, client string, flags uint8) model.Evidence {
	ev := model.Evidence{Code: code, Text: text, Client: client,
		Alarm: flags&1 != 0, Restart: flags&2 != 0, ByServer: flags&4 != 0, Vanished: flags&8 != 0}
	if log != "" {
		ev.Log = strings.Split(log, "\x00")
	}
	switch flags >> 4 & 3 {
	case 1:
		ev.Scope = "connection"
	case 2:
		ev.Scope = "channel"
	}
	return ev
}

func FuzzDiagnose(f *testing.F) {
	base := Default()
	f.Add(320, "CONNECTION_FORCED - Closed via management plugin", "", "", uint8(4))
	f.Add(0, "", heartbeatLog, goReset, uint8(0))
	f.Add(0, "", "", "connection closed by server (405) UNEXPECTED_FRAME", uint8(0))
	f.Add(0, "", authFailLog+"\x00"+authClosingLog, "", uint8(0))
	f.Add(0, "", "", "", uint8(10))
	f.Add(0, "", "", "pika.exceptions.ProbableAccessDeniedError: ConnectionClosedByBroker: (530) \""+vhostLimitText+"\"", uint8(1))
	f.Fuzz(func(t *testing.T, code int, text, log, client string, flags uint8) {
		ev := fuzzEvidence(code, text, log, client, flags)
		d := base.Diagnose(ev)
		if (d.Cause == nil) != (d.Confidence == model.ConfNone) {
			t.Fatalf("cause %v with confidence %s", d.Cause.Ref(), d.Confidence)
		}
		if d.Confidence > model.ConfHigh {
			t.Fatalf("confidence %d", d.Confidence)
		}
		if d.Cause != nil && len(d.Matched) == 0 {
			t.Fatalf("cause %s without what matched", d.Cause.ID)
		}
		if d.Cause == nil && !anyContains(d.Notes, "not recognised") {
			t.Fatalf("not recognised without saying so: %q", d.Notes)
		}
		if d.Cause != nil && base.Lookup(d.Cause.ID) == nil {
			t.Fatalf("cause %s is not in the base", d.Cause.ID)
		}
		if utf8.ValidString(text) && utf8.ValidString(log) && utf8.ValidString(client) {
			for _, s := range append(append([]string{}, d.Matched...), d.Notes...) {
				if !utf8.ValidString(s) {
					t.Fatalf("invalid UTF-8 from valid input: %q", s)
				}
			}
		}
		if again := base.Diagnose(ev); !reflect.DeepEqual(again, d) {
			t.Fatalf("not deterministic:\n%+v\n%+v", d, again)
		}
	})
}

func FuzzRules(f *testing.F) {
	base := Default()
	f.Add(builtin)
	f.Add([]byte(overrideRules))
	f.Add([]byte(""))
	f.Add([]byte("causes:\n  - id: x\n    title: X\n    mtach:\n      - text: a\n"))
	f.Add([]byte("causes:\n  - id: x\n    title: X\n    match:\n      - text: foo\n       client: bar\n"))
	f.Add([]byte("causes:\n  - id: x\n    title: X\n    match:\n      - code: [403, 530]\n        context: [restart]\n        not: '(?i)shutdown'\n"))
	f.Add([]byte("codes:\n  320: {name: CONNECTION_FORCED, meaning: x}\ncauses: []\n"))
	f.Add([]byte("causes:\n- &a {id: x, title: X, match: [{text: a}]}\n- *a\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := base.With("fuzz.yaml", data)
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("error %v (%T) is not a *LineError", err, err)
			}
			if _, ok := err.(*LineError); !ok {
				t.Fatalf("error %T wraps a *LineError instead of being one", err)
			}
			if le.File != "fuzz.yaml" || le.Line < 0 || le.Msg == "" {
				t.Fatalf("bad LineError %+v", le)
			}
			return
		}
		if b == nil {
			t.Fatal("nil base without an error")
		}
		for _, c := range b.All() {
			if b.Lookup(c.ID) == nil {
				t.Fatalf("entry %s cannot be looked up", c.ID)
			}
		}
		d := b.Diagnose(model.Evidence{Code: 320, Text: managementText, Client: goReset, Log: []string{heartbeatLog}})
		if (d.Cause == nil) != (d.Confidence == model.ConfNone) {
			t.Fatalf("cause %v with confidence %s", d.Cause.Ref(), d.Confidence)
		}
	})
}

// A huge text (a stack trace, or hostile input) is matched on its head
// only; BenchmarkDiagnoseHuge shows it costs about what a normal close does.
func TestHugeEvidenceIsClipped(t *testing.T) {
	huge := `Exception (320) Reason: "CONNECTION_FORCED - Closed via management plugin"` + strings.Repeat(" at frame", 200_000)
	d := Default().Diagnose(model.Evidence{Client: huge, Log: []string{huge}, Text: huge})
	if d.Cause == nil || d.Cause.ID != "management-force-close" {
		t.Errorf("the head of a huge text still counts: %+v", d)
	}
	if got := clip(strings.Repeat("é", maxEvidence)); len(got) > maxEvidence || !utf8.ValidString(got) {
		t.Errorf("clip cuts to at most %d bytes of valid UTF-8: %d bytes", maxEvidence, len(got))
	}
}

func BenchmarkDiagnoseHuge(b *testing.B) {
	kb := Default()
	huge := `Exception (320) Reason: "CONNECTION_FORCED - Closed via management plugin"` + strings.Repeat(" at frame", 200_000)
	for i := 0; i < b.N; i++ {
		kb.Diagnose(model.Evidence{Client: huge})
	}
}

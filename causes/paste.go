package causes

import (
	"github.com/amqptop/amqptop/model/wire"
	"strings"

	"github.com/amqptop/amqptop/model"
	"github.com/amqptop/amqptop/model/inert"
)

// Explained is the diagnosis of pasted texts (`amqptop explain`): the
// texts as given, with credentials redacted, what each was read as, and
// the one diagnosis the live monitor would make of the same evidence.
type Explained struct {
	Inputs    []string        // the texts, credentials redacted
	Origin    string          // how they were read: "broker log", "reply text", "client", joined by " + "
	Evidence  model.Evidence  // what they said, sorted by where it comes from
	Diagnosis model.Diagnosis // the knowledge base's answer
}

// Explain diagnoses texts a person pasted: client errors, close texts or
// broker log entries (message text, or whole lines with their prefixes).
// Several texts are evidence of one close. It is the same matcher the
// live monitor uses; only the sorting of a bare text into the broker's
// words, a reply text or a client's error is explain's own.
func (b *Base) Explain(texts []string) Explained {
	it := Explained{}
	var origins []string
	for _, t := range texts {
		t = inert.Redact(t)
		it.Inputs = append(it.Inputs, t)
		ev, origin := evidenceOf(t)
		origins = append(origins, origin)
		it.Evidence.Log = append(it.Evidence.Log, ev.Log...)
		if it.Evidence.Client == "" {
			it.Evidence.Client = ev.Client
		}
		if it.Evidence.Text == "" {
			it.Evidence.Code, it.Evidence.Text, it.Evidence.ByServer = ev.Code, ev.Text, ev.ByServer
		}
	}
	it.Origin = strings.Join(origins, " + ")
	it.Diagnosis = b.Diagnose(it.Evidence)
	if !it.Diagnosis.Recognised() && it.Evidence.Client != "" && len(it.Evidence.Log) == 0 {
		// An unlabelled text may be a line of the broker's log without its
		// prefix: try it as the broker's words, but don't claim certainty.
		alt := it.Evidence
		alt.Log = []string{alt.Client}
		if d := b.Diagnose(alt); d.Recognised() {
			if d.Confidence > model.ConfMedium {
				d.Confidence = model.ConfMedium
			}
			d.Notes = append(d.Notes, "read as a line of the broker's log (it was not recognised as a client's error)")
			it.Diagnosis, it.Origin = d, "broker log?"
		}
	}
	return it
}

// evidenceOf sorts a pasted text into the broker's words, a reply text or
// a client's error.
func evidenceOf(s string) (model.Evidence, string) {
	s = strings.TrimSpace(s)
	if _, ok := wire.ParseLogLine(strings.SplitN(s, "\n", 2)[0]); ok {
		var lines []string
		for _, line := range strings.Split(s, "\n") {
			if ll, ok := wire.ParseLogLine(line); ok {
				lines = append(lines, ll.Text)
			} else {
				lines = append(lines, line)
			}
		}
		return model.Evidence{Log: []string{strings.Join(lines, "\n")}}, "broker log"
	}
	if _, ok := wire.ParseConnLog(s); ok {
		return model.Evidence{Log: []string{s}}, "broker log"
	}
	if verbatimReply(strings.SplitN(s, "\n", 2)[0]) {
		code, _ := wire.CodeOf(s[:strings.Index(s, " - ")])
		return model.Evidence{Code: code, Text: s, ByServer: true}, "reply text"
	}
	return model.Evidence{Client: s}, "client"
}

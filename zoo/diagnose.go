package zoo

import (
	"fmt"
	"sort"
	"strings"

	"github.com/amqptop/amqptop/causes"
	"github.com/amqptop/amqptop/model"
)

// Diagnosis is what amqptop makes of a record: of the library's text
// alone (as `amqptop explain` sees a pasted error), and of the text with
// what the broker logged (as the live monitor sees the close).
type Diagnosis struct {
	Alone, WithLog model.Diagnosis
}

// Diagnose runs a record through the knowledge base.
func Diagnose(kb *causes.Base, r Record) Diagnosis {
	var d Diagnosis
	if r.Text != "" {
		d.Alone = kb.Explain([]string{r.Text}).Diagnosis
		d.WithLog = kb.Diagnose(model.Evidence{Client: r.Text, Log: r.Log})
	} else if len(r.Log) > 0 {
		d.WithLog = kb.Diagnose(model.Evidence{Log: r.Log})
	}
	return d
}

// Misfits lists what is wrong with amqptop's diagnoses of records: a
// text whose diagnosis does not fit the fault (see model.Diagnosis.Fits),
// alone or with the broker's log. Records without a text are skipped.
func Misfits(kb *causes.Base, recs []Record) []string {
	var out []string
	for _, r := range recs {
		if r.Skipped != "" || r.Text == "" {
			continue
		}
		d := Diagnose(kb, r)
		name := r.Broker + "/" + r.Library + "/" + r.Fault
		if !d.Alone.Fits(r.Expect) {
			out = append(out, fmt.Sprintf("%s: the text alone gives %s, want %s: %q", name, describe(d.Alone), r.Expect, r.Text))
		}
		if len(r.Log) > 0 && !d.WithLog.Fits(r.Expect) {
			out = append(out, fmt.Sprintf("%s: with the broker's log it gives %s, want %s: %q %q", name, describe(d.WithLog), r.Expect, r.Text, r.Log))
		}
	}
	return out
}

func describe(d model.Diagnosis) string {
	if d.Cause == nil {
		return "nothing"
	}
	s := d.Cause.ID + " (" + d.Confidence.String() + ")"
	if len(d.Candidates) > 1 {
		var ids []string
		for _, c := range d.Candidates[1:] {
			ids = append(ids, c.ID)
		}
		s += " or " + strings.Join(ids, ", ")
	}
	return s
}

// CauseMatrix renders, for the README, the cause amqptop names from each
// library's text alone: one row per fault, one column per library, a cell
// per broker version when they differ. ✓ the cause, at high or medium
// confidence; ~ low confidence with the cause among the candidates (the
// text alone cannot tell, and the check for each candidate says how);
// ✗ anything else.
func CauseMatrix(kb *causes.Base, recs []Record) string {
	cell := map[string][]string{} // fault/library → one mark per broker
	libs := map[string]bool{}
	var brokers []string
	seenB := map[string]bool{}
	for _, r := range recs {
		if !seenB[r.Broker] {
			seenB[r.Broker] = true
			brokers = append(brokers, r.Broker)
		}
	}
	sort.Strings(brokers)
	for _, r := range recs {
		libs[r.Library] = true
		k := r.Fault + "/" + r.Library
		if cell[k] == nil {
			cell[k] = make([]string, len(brokers))
		}
		cell[k][sort.SearchStrings(brokers, r.Broker)] = mark(kb, r)
	}
	ls := make([]string, 0, len(libs))
	for l := range libs {
		ls = append(ls, l)
	}
	sort.Strings(ls)
	var b strings.Builder
	fmt.Fprintf(&b, "RabbitMQ %s; where the versions differ a cell shows both.\n\n", strings.Join(brokers, " / "))
	b.WriteString("| fault → cause |")
	for _, l := range ls {
		b.WriteString(" " + l + " |")
	}
	b.WriteString("\n|---|")
	for range ls {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, f := range Faults {
		fmt.Fprintf(&b, "| %s → `%s` |", f.ID, f.Expect)
		for _, l := range ls {
			ms := cell[f.ID+"/"+l]
			s := "·"
			if len(ms) > 0 {
				s = ms[0]
				for _, m := range ms[1:] {
					if m != ms[0] {
						s = strings.Join(ms, " / ")
						break
					}
				}
			}
			b.WriteString(" " + s + " |")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// mark is one cell of the cause matrix.
func mark(kb *causes.Base, r Record) string {
	switch {
	case r.Skipped != "":
		return "·"
	case r.Text == "":
		return "—"
	}
	d := Diagnose(kb, r).Alone
	switch {
	case d.Cause != nil && d.Cause.ID == r.Expect && d.Confidence >= model.ConfMedium:
		return "✓"
	case d.Fits(r.Expect):
		return "~"
	}
	return "✗ " + describe(d)
}

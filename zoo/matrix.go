package zoo

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Matrix renders fixture records as Markdown for the README: one table
// per fault, one row per library, one column per broker version, each
// cell the captured text shortened to its first line and width
// characters ("same" where a later broker's text equals the first's, "—"
// where there is no record). It is generated, never typed: the texts are
// the captured ones.
func Matrix(recs []Record, width int) string {
	brokers := map[string]bool{}
	cell := map[string]Record{} // fault/library/broker
	libs := map[string]bool{}
	for _, r := range recs {
		brokers[r.Broker] = true
		libs[r.Library] = true
		cell[r.Fault+"/"+r.Library+"/"+r.Broker] = r
	}
	bs := make([]string, 0, len(brokers))
	for b := range brokers {
		bs = append(bs, b)
	}
	sort.Strings(bs)
	ls := make([]string, 0, len(libs))
	for l := range libs {
		ls = append(ls, l)
	}
	sort.Strings(ls)
	var b strings.Builder
	for _, f := range Faults {
		fmt.Fprintf(&b, "#### %s → `%s`\n\n%s.\n\n| library |", f.ID, f.Expect, f.How)
		for _, br := range bs {
			fmt.Fprintf(&b, " RabbitMQ %s |", br)
		}
		b.WriteString("\n|---|")
		for range bs {
			b.WriteString("---|")
		}
		b.WriteString("\n")
		for _, l := range ls {
			fmt.Fprintf(&b, "| %s |", l)
			var first string
			for i, br := range bs {
				r, ok := cell[f.ID+"/"+l+"/"+br]
				s := "—"
				if ok {
					s = shortText(r, width)
				}
				if i > 0 && ok && variable(s) == variable(first) {
					s = "same"
				}
				if i == 0 {
					first = s
				}
				fmt.Fprintf(&b, " %s |", s)
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// shortText is a record's text for a table cell: the skip reason or note
// when there is no text, otherwise the text's lines joined with " ⏎ ",
// cut to width runes, in backquotes.
func shortText(r Record, width int) string {
	var s string
	switch {
	case r.Skipped != "":
		return "*skipped: " + esc(cut(r.Skipped, width)) + "*"
	case r.Text == "":
		return "*nothing raised: " + esc(cut(r.Note, width)) + "*"
	default:
		s = strings.Join(strings.Fields(strings.ReplaceAll(r.Text, "\n", " ⏎ ")), " ")
	}
	return "`" + strings.ReplaceAll(strings.ReplaceAll(cut(s, width), "`", "'"), "|", "\\|") + "`"
}

func cut(s string, width int) string {
	rs := []rune(s)
	if width > 0 && len(rs) > width {
		return string(rs[:width-1]) + "…"
	}
	return s
}

func esc(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

// reVariable matches the parts of a text that change from run to run:
// port numbers, process ids, server-named queues, object addresses.
var reVariable = regexp.MustCompile(`:\d{2,5}\b|<\d+\.\d+\.\d+>|amq\.gen-[\w-]+|0x[0-9a-f]+|\b\d{4,5}\b`)

// variable blanks out what changes between runs, to compare texts.
func variable(s string) string { return reVariable.ReplaceAllString(s, "#") }

// FaultTable renders the fault table as Markdown rows (id, how, expect).
func FaultTable() string {
	var b strings.Builder
	b.WriteString("| fault | how | expect | driver action | node |\n|---|---|---|---|---|\n")
	for _, f := range Faults {
		act, node := string(f.Action), "main"
		if act == "" {
			act = "— (the client provokes it)"
		}
		if f.Disruptive {
			node = "disruptive (all libraries at once)"
		}
		fmt.Fprintf(&b, "| `%s` | %s | `%s` | %s | %s |\n", f.ID, f.How, f.Expect, act, node)
	}
	return b.String()
}

// ReplaceSection replaces the text between the lines "<!-- BEGIN name -->"
// and "<!-- END name -->" of doc with body. ok is false when the markers
// are missing.
func ReplaceSection(doc, name, body string) (string, bool) {
	begin, end := "<!-- BEGIN "+name+" -->\n", "<!-- END "+name+" -->"
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i < 0 || j < i {
		return doc, false
	}
	return doc[:i+len(begin)] + body + doc[j:], true
}

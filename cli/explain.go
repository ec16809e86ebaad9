package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"github.com/amqptop/amqptop/model/wire"
	"io"
	"strings"

	"github.com/amqptop/amqptop/causes"
	"github.com/amqptop/amqptop/model"
	"github.com/amqptop/amqptop/model/inert"
)

// explain diagnoses the texts given as arguments, or read from stdin.
func (a *app) explain(c *config, texts []string) error {
	kb, err := knowledgeBase(c.rules)
	if err != nil {
		return err
	}
	if len(texts) == 0 {
		if texts, err = readTexts(a.stdin); err != nil {
			return err
		}
	}
	var items []explained
	if c.together && len(texts) > 0 {
		items = []explained{diagnoseTexts(kb, texts)}
	} else {
		for _, t := range texts {
			items = append(items, diagnoseTexts(kb, []string{t}))
		}
	}
	if len(items) == 0 {
		return &exitStatus{code: exitNoInput, msg: "explain: nothing to diagnose (pass texts as arguments or on stdin)"}
	}
	out := bufio.NewWriter(a.stdout)
	defer out.Flush()
	for i, it := range items {
		if c.json {
			b, _ := json.Marshal(it.jsonForm())
			b = inert.JSON(b)
			fmt.Fprintf(out, "%s\n", b)
			continue
		}
		if i > 0 {
			out.WriteString("\n")
		}
		it.write(out, 80)
	}
	return nil
}

// readTexts splits stdin into texts: one per line, a broker log entry's
// lines kept together, blank lines ignored.
func readTexts(r io.Reader) ([]string, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var g wire.LogGrouper
	var out []string
	add := func(ls []wire.LogLine) {
		for _, l := range ls {
			if t := strings.TrimSpace(l.Prefix + l.Text); t != "" {
				out = append(out, strings.TrimSpace(joinPrefixed(l)))
			}
		}
	}
	for sc.Scan() {
		add(g.Add(sc.Text()))
	}
	add(g.Flush())
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading stdin: %w (lines longer than 4 MiB are not supported)", err)
	}
	return out, nil
}

// joinPrefixed gives back an entry as one text: its prefix, then its lines.
func joinPrefixed(l wire.LogLine) string {
	if l.Prefix == "" {
		return l.Text
	}
	return l.Prefix + l.Text
}

// explained is one diagnosis with the texts it was made from.
type explained struct {
	inputs []string
	ev     model.Evidence
	d      model.Diagnosis
	origin string
}

func diagnoseTexts(kb *causes.Base, texts []string) explained {
	x := kb.Explain(texts)
	return explained{inputs: x.Inputs, ev: x.Evidence, d: x.Diagnosis, origin: x.Origin}
}

type explainJSON struct {
	Input       []string          `json:"input"`
	Origin      string            `json:"origin"`
	Cause       *model.Cause      `json:"cause"`
	Confidence  string            `json:"confidence"`
	Candidates  []model.Candidate `json:"candidates,omitempty"`
	Code        int               `json:"code,omitempty"`
	CodeName    string            `json:"code_name,omitempty"`
	CodeMeaning string            `json:"code_meaning,omitempty"`
	Method      string            `json:"method,omitempty"`
	Matched     []string          `json:"matched,omitempty"`
	Notes       []string          `json:"notes,omitempty"`
	Evidence    model.Evidence    `json:"evidence"`
}

func (it explained) jsonForm() explainJSON {
	return explainJSON{Input: it.inputs, Origin: it.origin, Cause: it.d.Cause, Confidence: it.d.Confidence.String(),
		Candidates: it.d.Candidates, Code: it.d.Code, CodeName: it.d.CodeName, CodeMeaning: it.d.CodeMeaning,
		Method: it.d.Method, Matched: it.d.Matched, Notes: it.d.Notes, Evidence: it.ev}
}

// write prints a diagnosis for people, wrapped at width.
func (it explained) write(w io.Writer, width int) {
	for _, in := range it.inputs {
		for i, line := range strings.Split(inert.Text(in), "\n") {
			mark := "▸ "
			if i > 0 {
				mark = "  "
			}
			fmt.Fprintln(w, mark+line)
		}
	}
	d := it.d
	field := func(name, text string) {
		writeWrapped(w, fmt.Sprintf("  %-12s", name), text, width)
	}
	switch {
	case d.Cause == nil:
		field("cause", "not recognised")
	case d.Likely():
		field("cause", fmt.Sprintf("likely %s — %s  [confidence: %s]", d.Cause.ID, d.Cause.Title, d.Confidence))
	default:
		field("cause", fmt.Sprintf("%s — %s  [confidence: %s]", d.Cause.ID, d.Cause.Title, d.Confidence))
	}
	if len(d.Candidates) > 1 {
		field("", "The text alone cannot tell these apart; each check tells:")
		for i, c := range d.Candidates {
			field(pick(i == 0, "candidates", ""), fmt.Sprintf("%d. %s — %s", i+1, c.ID, c.Title))
			if c.Check != "" {
				field("", "   check: "+c.Check)
			}
		}
	}
	if d.Code != 0 {
		field("code", strings.TrimSpace(fmt.Sprintf("%d %s", d.Code, d.CodeName)))
		if d.Method != "" {
			field("method", d.Method)
		}
		if d.Cause == nil && d.CodeMeaning != "" {
			field("means", d.CodeMeaning)
		}
	}
	field("read as", it.origin)
	for _, m := range d.Matched {
		field("matched", m)
	}
	for _, n := range d.Notes {
		field("note", n)
	}
	if c := d.Cause; c != nil {
		field("happened", c.Happened)
		for i, x := range c.Why {
			field(pick(i == 0, "likely", ""), "• "+x)
		}
		for i, x := range c.Do {
			field(pick(i == 0, "do", ""), fmt.Sprintf("%d. %s", i+1, x))
		}
		for i, x := range c.DeadEnds {
			field(pick(i == 0, "won't help", ""), "✗ "+x.Action+": "+x.Why)
		}
		for i, x := range c.Docs {
			field(pick(i == 0, "docs", ""), x)
		}
	}
}

func pick(first bool, a, b string) string {
	if first {
		return a
	}
	return b
}

// writeWrapped writes text after a label, wrapping at width with a
// hanging indent.
func writeWrapped(w io.Writer, label, text string, width int) {
	indent := strings.Repeat(" ", len([]rune(label)))
	avail := width - len([]rune(label))
	if avail < 20 {
		avail = 20
	}
	line := ""
	first := true
	flush := func() {
		if first {
			fmt.Fprintln(w, label+line)
			first = false
		} else {
			fmt.Fprintln(w, indent+line)
		}
		line = ""
	}
	for _, word := range strings.Fields(inert.Line(text)) {
		if line != "" && len([]rune(line))+1+len([]rune(word)) > avail {
			flush()
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	flush()
}

// causes lists the knowledge base.
func (a *app) causes(c *config) error {
	kb, err := knowledgeBase(c.rules)
	if err != nil {
		return err
	}
	if c.json {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(kb.All())
	}
	for _, cs := range kb.All() {
		fmt.Fprintf(a.stdout, "%-24s %-10s %-6s %s\n", cs.ID, cs.Scope, cs.Severity, cs.Title)
	}
	return nil
}

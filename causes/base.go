package causes

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"github.com/amqptop/amqptop/model/wire"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/amqptop/amqptop/model"
	"go.yaml.in/yaml/v3"
)

//go:embed causes.yaml
var builtin []byte

// Base is a loaded knowledge base. It is immutable once built and safe for
// concurrent use.
type Base struct {
	entries []*entry
	byID    map[string]*entry
	codes   map[int]CodeInfo
	lits    literals // the prefilter literals of every pattern
}

// CodeInfo is the generic meaning of a reply code.
type CodeInfo struct {
	Name    string `yaml:"name"`
	Meaning string `yaml:"meaning"`
}

type entry struct {
	cause model.Cause
	rules []rule
	line  int
	file  string
}

// rule is one way of recognising a cause: every field set must match.
type rule struct {
	log, text, client, any *pattern
	not                    *pattern
	method                 *pattern // on the failed method, e.g. queue.declare
	codes                  []int
	context                []string
	scope                  string
	conf                   model.Confidence // the most this rule can claim (0: what its signals give)
	fallback               bool             // counts only when no other rule matched (a clean close)
	candidates             []string         // other causes a match leaves open (ids)
	note                   string           // what this rule's match says more precisely than the cause (its variant)
	line                   int
}

// The file format (see causes.yaml).
type fileDoc struct {
	Codes  map[int]CodeInfo `yaml:"codes"`
	Causes []fileCause      `yaml:"causes"`
}

type fileCause struct {
	ID       string          `yaml:"id"`
	Title    string          `yaml:"title"`
	Scope    string          `yaml:"scope"`
	Severity string          `yaml:"severity"`
	Happened string          `yaml:"happened"`
	Why      []string        `yaml:"why"`
	Do       []string        `yaml:"do"`
	DeadEnds []model.DeadEnd `yaml:"dead_ends"`
	Docs     []string        `yaml:"docs"`
	Check    string          `yaml:"check"`
	Match    []fileRule      `yaml:"match"`
}

type fileRule struct {
	Log        string   `yaml:"log"`
	Text       string   `yaml:"text"`
	Client     string   `yaml:"client"`
	Any        string   `yaml:"any"`
	Not        string   `yaml:"not"`
	Code       codeList `yaml:"code"`
	Method     string   `yaml:"method"`
	Context    []string `yaml:"context"`
	Scope      string   `yaml:"scope"`
	Confidence string   `yaml:"confidence"`
	Candidates []string `yaml:"candidates"`
	Fallback   bool     `yaml:"fallback"`
	Note       string   `yaml:"note"`
}

// codeList accepts `code: 320` or `code: [403, 530]`.
type codeList []int

func (c *codeList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		v, err := strconv.Atoi(n.Value)
		if err != nil {
			return &LineError{Line: n.Line, Msg: fmt.Sprintf("code %q is not a number", n.Value)}
		}
		*c = codeList{v}
		return nil
	}
	var l []int
	if err := n.Decode(&l); err != nil {
		return err
	}
	*c = l
	return nil
}

var validContext = map[string]bool{"alarm": true, "restart": true, "node-down": true, "node-lost": true, "vanished": true, "by-server": true, "by-client": true}

// Default returns the built-in knowledge base.
func Default() *Base {
	b, err := parse("causes.yaml", builtin, nil)
	if err != nil {
		panic("causes: built-in knowledge base: " + err.Error())
	}
	return b
}

// LoadFile returns the built-in base with the entries of a rules file added
// (new ids, tried first) or overriding (same id). Errors name the file and line.
func LoadFile(path string) (*Base, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading rules: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("reading rules: %s is not a regular file", path)
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading rules: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxRulesFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading rules: %w", err)
	}
	if len(data) > maxRulesFile {
		return nil, fmt.Errorf("reading rules: %s is larger than %d MiB; a rules file is a few entries", path, maxRulesFile>>20)
	}
	return Default().With(path, data)
}

// maxRulesFile bounds what a rules file may hold (the built-in knowledge
// base is under 100 KiB).
const maxRulesFile = 4 << 20

// With returns a copy of b with the entries of data (a rules file's
// contents, named name in errors) added or overriding.
func (b *Base) With(name string, data []byte) (*Base, error) {
	return parse(name, data, b)
}

// LineError is a problem in a rules file, with where it is.
type LineError struct {
	File string
	Line int
	Msg  string
}

func (e *LineError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

var reYAMLLine = regexp.MustCompile(`^yaml: (?:unmarshal errors:\n\s*)?line (\d+): (.*)`)

func parse(name string, data []byte, base *Base) (*Base, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if m := reYAMLLine.FindStringSubmatch(err.Error()); m != nil {
			n, _ := strconv.Atoi(m[1])
			return nil, &LineError{name, syntaxLine(data, n, m[2]), m[2]}
		}
		if errors.Is(err, io.EOF) {
			return nil, &LineError{name, 0, "empty file: expected `causes:` (and optionally `codes:`)"}
		}
		return nil, &LineError{name, 0, strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var doc fileDoc
	if err := root.Decode(&doc); err != nil {
		var le *LineError
		if errors.As(err, &le) {
			return nil, &LineError{name, le.Line, le.Msg}
		}
		if m := reYAMLLine.FindStringSubmatch(err.Error()); m != nil {
			n, _ := strconv.Atoi(m[1])
			return nil, &LineError{name, n, m[2]}
		}
		return nil, &LineError{name, 0, strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if err := checkKeys(name, &root); err != nil {
		return nil, err
	}
	lines := causeLines(&root)
	out := &Base{byID: map[string]*entry{}, codes: map[int]CodeInfo{}}
	var fresh []*entry
	if base != nil {
		out.lits = base.lits.clone()
		for k, v := range base.codes {
			out.codes[k] = v
		}
		out.entries = append(out.entries, base.entries...)
		for id, e := range base.byID {
			out.byID[id] = e
		}
	}
	for k, v := range doc.Codes {
		out.codes[k] = v
	}
	seen := map[string]int{}
	for i, fc := range doc.Causes {
		ln := 0
		if i < len(lines) {
			ln = lines[i]
		}
		e, err := buildEntry(&out.lits, name, ln, fc, &root, i)
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[e.cause.ID]; dup {
			return nil, &LineError{name, ln, fmt.Sprintf("cause %q is defined twice (first at line %d)", e.cause.ID, prev)}
		}
		seen[e.cause.ID] = ln
		if old, ok := out.byID[e.cause.ID]; ok {
			for j, x := range out.entries {
				if x == old {
					out.entries[j] = e
				}
			}
		} else {
			fresh = append(fresh, e)
		}
		out.byID[e.cause.ID] = e
	}
	if base != nil {
		out.entries = append(fresh, out.entries...) // a user's new entries are tried first
	} else {
		out.entries = fresh
	}
	for _, e := range out.entries {
		for _, r := range e.rules {
			for _, id := range r.candidates {
				if out.byID[id] == nil {
					return nil, &LineError{e.file, r.line, fmt.Sprintf("cause %q: candidate %q is not a cause id", e.cause.ID, id)}
				}
			}
		}
	}
	return out, nil
}

// syntaxLine finds the line of a YAML syntax error. The parser reports the
// line where the enclosing block began ("line 1: did not find expected
// key" for a bad indent on line 7), so find the shortest prefix of the
// file, from that line on, that fails with the same message.
func syntaxLine(data []byte, reported int, msg string) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if reported < 1 || len(lines) > 2000 {
		return reported
	}
	for k := reported; k <= len(lines); k++ {
		var n yaml.Node
		err := yaml.Unmarshal(bytes.Join(lines[:k], nil), &n)
		if err == nil {
			continue
		}
		if m := reYAMLLine.FindStringSubmatch(err.Error()); m != nil && m[2] == msg {
			return k
		}
	}
	return reported
}

// checkKeys rejects unknown keys, which are nearly always typos.
func checkKeys(name string, root *yaml.Node) error {
	known := map[string]map[string]bool{
		"top":   {"codes": true, "causes": true},
		"code":  {"name": true, "meaning": true},
		"cause": {"id": true, "title": true, "scope": true, "severity": true, "happened": true, "why": true, "do": true, "dead_ends": true, "docs": true, "check": true, "match": true},
		"rule":  {"log": true, "text": true, "client": true, "any": true, "not": true, "code": true, "method": true, "context": true, "scope": true, "confidence": true, "candidates": true, "fallback": true, "note": true},
	}
	check := func(n *yaml.Node, kind string) error {
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if !known[kind][k.Value] {
				keys := make([]string, 0, len(known[kind]))
				for x := range known[kind] {
					keys = append(keys, x)
				}
				sort.Strings(keys)
				return &LineError{name, k.Line, fmt.Sprintf("unknown key %q (expected one of: %s)", k.Value, strings.Join(keys, ", "))}
			}
		}
		return nil
	}
	if len(root.Content) == 0 {
		return nil
	}
	top := root.Content[0]
	if top.Kind != yaml.MappingNode {
		return &LineError{name, top.Line, "expected a mapping with `causes:` at the top"}
	}
	if err := check(top, "top"); err != nil {
		return err
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "codes" {
			for j := 1; j < len(top.Content[i+1].Content); j += 2 {
				if err := check(top.Content[i+1].Content[j], "code"); err != nil {
					return err
				}
			}
		}
		if top.Content[i].Value != "causes" {
			continue
		}
		for _, c := range top.Content[i+1].Content {
			if err := check(c, "cause"); err != nil {
				return err
			}
			for j := 0; j+1 < len(c.Content); j += 2 {
				if c.Content[j].Value == "match" {
					for _, r := range c.Content[j+1].Content {
						if err := check(r, "rule"); err != nil {
							return err
						}
					}
				}
			}
		}
	}
	return nil
}

// causeLines returns the line of each entry of `causes:`.
func causeLines(root *yaml.Node) []int {
	if len(root.Content) == 0 {
		return nil
	}
	top := root.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "causes" {
			var out []int
			for _, c := range top.Content[i+1].Content {
				out = append(out, c.Line)
			}
			return out
		}
	}
	return nil
}

// ruleLines returns the line of each rule of the i-th cause.
func ruleLines(root *yaml.Node, i int) []int {
	top := root.Content[0]
	for k := 0; k+1 < len(top.Content); k += 2 {
		if top.Content[k].Value != "causes" || i >= len(top.Content[k+1].Content) {
			continue
		}
		c := top.Content[k+1].Content[i]
		for j := 0; j+1 < len(c.Content); j += 2 {
			if c.Content[j].Value == "match" {
				var out []int
				for _, r := range c.Content[j+1].Content {
					out = append(out, r.Line)
				}
				return out
			}
		}
	}
	return nil
}

var reID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

func buildEntry(lits *literals, file string, line int, fc fileCause, root *yaml.Node, idx int) (*entry, error) {
	fail := func(ln int, f string, a ...any) error { return &LineError{file, ln, fmt.Sprintf(f, a...)} }
	if fc.ID == "" {
		return nil, fail(line, "cause without an id")
	}
	if !reID.MatchString(fc.ID) {
		return nil, fail(line, "cause id %q: use lower-case words joined by '-'", fc.ID)
	}
	if fc.Title == "" {
		return nil, fail(line, "cause %q has no title", fc.ID)
	}
	switch fc.Scope {
	case "connection", "channel", "client":
	case "":
		fc.Scope = "connection"
	default:
		return nil, fail(line, "cause %q: scope %q (connection, channel or client)", fc.ID, fc.Scope)
	}
	sev := model.SevError
	if fc.Severity != "" {
		s, err := model.ParseSeverity(fc.Severity)
		if err != nil {
			return nil, fail(line, "cause %q: %v", fc.ID, err)
		}
		sev = s
	}
	e := &entry{line: line, file: file, cause: model.Cause{ID: fc.ID, Title: fc.Title, Scope: fc.Scope,
		Severity: sev, Happened: strings.TrimSpace(fc.Happened), Why: trimAll(fc.Why), Do: trimAll(fc.Do),
		DeadEnds: fc.DeadEnds, Docs: fc.Docs, Check: strings.TrimSpace(fc.Check)}}
	rl := ruleLines(root, idx)
	for i, fr := range fc.Match {
		ln := line
		if i < len(rl) {
			ln = rl[i]
		}
		r := rule{codes: fr.Code, context: fr.Context, scope: fr.Scope, candidates: fr.Candidates, fallback: fr.Fallback, note: strings.TrimSpace(fr.Note), line: ln}
		switch fr.Confidence {
		case "", "high":
		case "low":
			r.conf = model.ConfLow
		case "medium":
			r.conf = model.ConfMedium
		default:
			return nil, fail(ln, "cause %q: confidence %q (low, medium or high)", fc.ID, fr.Confidence)
		}
		for _, p := range []struct {
			src string
			dst **pattern
		}{{fr.Log, &r.log}, {fr.Text, &r.text}, {fr.Client, &r.client}, {fr.Any, &r.any}, {fr.Not, &r.not}, {fr.Method, &r.method}} {
			if p.src == "" {
				continue
			}
			pat, err := lits.compilePattern(p.src)
			if err != nil {
				return nil, fail(ln, "cause %q: pattern %q does not compile: %v", fc.ID, p.src, err)
			}
			*p.dst = pat
		}
		for _, c := range fr.Context {
			if !validContext[c] {
				return nil, fail(ln, "cause %q: unknown context %q (alarm, restart, node-down, node-lost, vanished, by-server, by-client)", fc.ID, c)
			}
		}
		if r.log == nil && r.text == nil && r.client == nil && r.any == nil && r.method == nil && len(r.codes) == 0 && len(r.context) == 0 {
			return nil, fail(ln, "cause %q: a match rule needs at least one of log, text, client, any, code, context", fc.ID)
		}
		e.rules = append(e.rules, r)
	}
	return e, nil
}

func trimAll(s []string) []string {
	out := make([]string, 0, len(s))
	for _, x := range s {
		out = append(out, strings.TrimSpace(x))
	}
	return out
}

// inferred names, once, the cause of each situation the model recognises
// itself (model.Inference): the model never spells a cause id.
var inferred = map[model.Inference]string{
	model.InferResourceAlarm: "resource-alarm-blocked",
	model.InferFlapping:      "reconnect-flapping",
}

// Infer implements model.Inferrer.
func (b *Base) Infer(k model.Inference) *model.Cause { return b.Lookup(inferred[k]) }

// Lookup returns a cause by id, nil when there is none.
func (b *Base) Lookup(id string) *model.Cause {
	if e := b.byID[id]; e != nil {
		c := e.cause
		return &c
	}
	return nil
}

// All returns every cause in matching order.
func (b *Base) All() []model.Cause {
	out := make([]model.Cause, len(b.entries))
	for i, e := range b.entries {
		out[i] = e.cause
	}
	return out
}

// Code returns the generic meaning of a reply code.
func (b *Base) Code(code int) (CodeInfo, bool) {
	c, ok := b.codes[code]
	if !ok && wire.ReplyCodes[code] != "" {
		c = CodeInfo{Name: wire.ReplyCodes[code]}
		ok = true
	}
	return c, ok
}

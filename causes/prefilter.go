package causes

import (
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// A pattern is a compiled regexp split into its top-level alternatives,
// each with a literal prefilter: when an alternative can match a text, the
// lower-cased text contains at least one of its literals. Most patterns of
// the knowledge base fail on most texts, and a substring test is two
// orders of magnitude cheaper than running a regexp, so a diagnosis runs
// only the few alternatives whose literals are there, and the many that
// are plain literals ("this|that|(the )?other") need no regexp at all.
type pattern struct {
	re   *regexp.Regexp // the whole pattern
	alts []alt
}

// alt is one top-level alternative of a pattern.
type alt struct {
	re   *regexp.Regexp
	need []int // indexes into the base's literal table; nil: no prefilter (always run)
	// exact, when set, is the whole language of the alternative, found
	// with a substring search instead of the regexp.
	exact []exactLit
}

// exactLit is one string of an alternative's finite language.
type exactLit struct {
	s    string // lower-cased when fold
	fold bool   // case-insensitive
}

// literals interns the lower-cased literals of every pattern of a base,
// so that each is looked for at most once per text.
type literals struct {
	list  []string
	grams [][2]uint16 // per literal: the hashes of its first and last n-gram
	index map[string]int
}

func (l *literals) clone() literals {
	c := literals{list: append([]string(nil), l.list...), grams: append([][2]uint16(nil), l.grams...),
		index: make(map[string]int, len(l.index))}
	for k, v := range l.index {
		c.index[k] = v
	}
	return c
}

func (l *literals) intern(s string) int {
	if i, ok := l.index[s]; ok {
		return i
	}
	if l.index == nil {
		l.index = map[string]int{}
	}
	l.list = append(l.list, s)
	l.grams = append(l.grams, litGrams(s))
	l.index[s] = len(l.list) - 1
	return len(l.list) - 1
}

// compilePattern compiles src and derives the prefilter of each of its
// top-level alternatives.
func (l *literals) compilePattern(src string) (*pattern, error) {
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, err
	}
	p := &pattern{re: re}
	for _, a := range splitTop(src) {
		are, err := regexp.Compile(a)
		if err != nil {
			p.alts = nil // not split after all
			break
		}
		p.alts = append(p.alts, l.compileAlt(are, a))
	}
	if p.alts == nil {
		p.alts = []alt{l.compileAlt(re, src)}
	}
	return p, nil
}

func (l *literals) compileAlt(re *regexp.Regexp, src string) alt {
	a := alt{re: re}
	tree, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return a // compiled already, so this does not happen; run it unfiltered
	}
	tree = tree.Simplify()
	if req, ok := required(tree); ok {
		for _, s := range req {
			a.need = append(a.need, l.intern(s))
		}
	}
	if lang, ok := language(tree, maxLanguage); ok && len(lang) > 0 {
		a.exact = lang
	}
	return a
}

// splitTop splits a regexp's source at its top-level '|', giving each
// part the leading flag group ("(?i)") when there is one. It returns the
// source alone when it cannot split safely (a flag group elsewhere).
func splitTop(src string) []string {
	flags := ""
	body := src
	if strings.HasPrefix(src, "(?") {
		if end := strings.IndexByte(src, ')'); end > 0 && !strings.ContainsAny(src[2:end], ":") {
			flags, body = src[:end+1], src[end+1:]
		}
	}
	if strings.Contains(body, "(?") && !strings.Contains(body, "(?:") {
		return []string{src}
	}
	var parts []string
	depth, class, start := 0, false, 0
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '\\':
			i++
		case class:
			if c == ']' {
				class = false
			}
		case c == '[':
			class = true
			if i+1 < len(body) && body[i+1] == ']' {
				i++ // "[]...]": a literal ']' first
			}
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == '|' && depth == 0:
			parts = append(parts, flags+body[start:i])
			start = i + 1
		}
	}
	return append(parts, flags+body[start:])
}

// maxLanguage bounds the finite languages expanded into literals.
const maxLanguage = 64

// language returns every string re matches when that is a small finite
// set of ASCII literals (no classes beyond single letters in two cases,
// no anchors, no unbounded repetition); ok is false otherwise.
func language(re *syntax.Regexp, limit int) ([]exactLit, bool) {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return []exactLit{{}}, true
	case syntax.OpLiteral:
		s := string(re.Rune)
		if !isASCII(s) {
			return nil, false
		}
		fold := re.Flags&syntax.FoldCase != 0
		if fold {
			s = strings.ToLower(s)
		}
		return []exactLit{{s, fold}}, true
	case syntax.OpCharClass:
		// [Cc]: one letter in both cases.
		if len(re.Rune) == 4 && re.Rune[0] == re.Rune[1] && re.Rune[2] == re.Rune[3] &&
			re.Rune[0] < utf8.RuneSelf && re.Rune[2] < utf8.RuneSelf &&
			strings.ToLower(string(re.Rune[0])) == strings.ToLower(string(re.Rune[2])) && re.Rune[0] != re.Rune[2] {
			return []exactLit{{strings.ToLower(string(re.Rune[0])), true}}, true
		}
		// A few punctuation characters or digits, e.g. [- ] or [_-].
		var out []exactLit
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if r >= utf8.RuneSelf || hasLetter(string(r)) || len(out) >= 4 {
					return nil, false
				}
				out = append(out, exactLit{string(r), false})
			}
		}
		return out, len(out) > 0
	case syntax.OpCapture:
		return language(re.Sub[0], limit)
	case syntax.OpQuest:
		sub, ok := language(re.Sub[0], limit-1)
		if !ok {
			return nil, false
		}
		return append([]exactLit{{}}, sub...), true
	case syntax.OpAlternate:
		var out []exactLit
		for _, sub := range re.Sub {
			l, ok := language(sub, limit-len(out))
			if !ok {
				return nil, false
			}
			out = append(out, l...)
			if len(out) > limit {
				return nil, false
			}
		}
		return out, true
	case syntax.OpConcat:
		out := []exactLit{{}}
		for _, sub := range re.Sub {
			l, ok := language(sub, limit)
			if !ok || len(out)*len(l) > limit {
				return nil, false
			}
			next := make([]exactLit, 0, len(out)*len(l))
			for _, a := range out {
				for _, b := range l {
					j, ok := joinLit(a, b)
					if !ok {
						return nil, false
					}
					next = append(next, j)
				}
			}
			out = next
		}
		return out, true
	}
	return nil, false
}

// joinLit concatenates two literals; ok is false when one part is
// case-insensitive and the other is not (no substring search is exact
// for that).
func joinLit(a, b exactLit) (exactLit, bool) {
	switch {
	case a.s == "":
		return b, true
	case b.s == "":
		return a, true
	case a.fold == b.fold:
		return exactLit{a.s + b.s, a.fold}, true
	case !hasLetter(a.s):
		return exactLit{a.s + b.s, b.fold}, true
	case !hasLetter(b.s):
		return exactLit{a.s + b.s, a.fold}, true
	}
	return exactLit{}, false
}

func hasLetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c >= 'a' && c <= 'z' {
			return true
		}
	}
	return false
}

// minLiteral is the shortest literal worth filtering on: shorter ones are
// in nearly every text and only cost time.
const minLiteral = 2

// required returns a set of lower-case literals, one of which every text
// the regexp matches contains; ok is false when there is no such set (the
// regexp can match without any literal, or one is too short to help).
func required(re *syntax.Regexp) (set []string, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		s := string(re.Rune)
		if !isASCII(s) || len(s) < minLiteral {
			return nil, false // non-ASCII case folding is not byte-for-byte
		}
		return []string{strings.ToLower(s)}, true
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
		return nil, false
	case syntax.OpConcat:
		// Adjacent literals join into a longer one; of all the parts, the
		// set whose shortest literal is longest filters best.
		var best []string
		bestLen := 0
		consider := func(set []string) {
			if m := shortest(set); m > bestLen {
				best, bestLen = set, m
			}
		}
		var run strings.Builder
		flush := func() {
			if s := run.String(); isASCII(s) && len(s) >= minLiteral {
				consider([]string{strings.ToLower(s)})
			}
			run.Reset()
		}
		for _, sub := range re.Sub {
			if sub.Op == syntax.OpLiteral {
				run.WriteString(string(sub.Rune))
				continue
			}
			flush()
			if set, ok := required(sub); ok {
				consider(set)
			}
		}
		flush()
		return best, best != nil
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			set, ok := required(sub)
			if !ok {
				return nil, false
			}
			out = append(out, set...)
		}
		return out, true
	}
	return nil, false
}

func shortest(set []string) int {
	m := -1
	for _, s := range set {
		if m < 0 || len(s) < m {
			m = len(s)
		}
	}
	return m
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// text is one piece of evidence prepared for matching: the text, its
// lower-cased form, a hashed set of its n-grams, and which literals it has
// been checked for.
type text struct {
	s       string
	lower   string
	grams   [gramWords]uint64 // bit h: some n-gram of lower hashes to h
	checked []uint64          // bit i: literal i was looked for
	found   []uint64          // bit i: and it is there
}

// The n-gram set: 2-grams and 3-grams hashed into 8192 bits. A literal
// can be in the text only when its first and last n-grams are; that
// answers most lookups with two bit tests instead of a substring search.
const (
	gramBits  = 8192
	gramWords = gramBits / 64
)

func gram2(a, b byte) uint16 { return uint16((uint32(a)*31+uint32(b))*2654435761>>19) % gramBits }
func gram3(a, b, c byte) uint16 {
	return uint16(((uint32(a)*31+uint32(b))*31+uint32(c))*2246822519>>19) % gramBits
}

// litGrams returns the hashes a literal needs: its first and last
// 3-grams, or its 2-gram when it is that short.
func litGrams(s string) [2]uint16 {
	n := len(s)
	switch {
	case n >= 3:
		return [2]uint16{gram3(s[0], s[1], s[2]), gram3(s[n-3], s[n-2], s[n-1])}
	case n == 2:
		g := gram2(s[0], s[1])
		return [2]uint16{g, g}
	}
	return [2]uint16{}
}

func newText(s string, n int) *text {
	w := (n + 63) / 64
	t := &text{s: s, lower: strings.ToLower(s), checked: make([]uint64, w), found: make([]uint64, w)}
	l := t.lower
	for i := 0; i+1 < len(l); i++ {
		g := gram2(l[i], l[i+1])
		t.grams[g/64] |= 1 << (g % 64)
		if i+2 < len(l) {
			g = gram3(l[i], l[i+1], l[i+2])
			t.grams[g/64] |= 1 << (g % 64)
		}
	}
	return t
}

func (t *text) has(lits *literals, i int) bool {
	w, b := i/64, uint64(1)<<(i%64)
	if t.checked[w]&b == 0 {
		t.checked[w] |= b
		lit := lits.list[i]
		g := lits.grams[i]
		if len(lit) < 2 || t.grams[g[0]/64]&(1<<(g[0]%64)) != 0 && t.grams[g[1]/64]&(1<<(g[1]%64)) != 0 {
			if strings.Contains(t.lower, lit) {
				t.found[w] |= b
			}
		}
	}
	return t.found[w]&b != 0
}

// find runs p on t: what matched (all of the text for an empty match), and
// whether it did. An empty text never matches. Of the alternatives that
// match, the leftmost wins, and the first at the same place, as in the
// regexp as a whole.
func (p *pattern) find(lits *literals, t *text) (string, bool) {
	if t == nil || t.s == "" {
		return "", false
	}
	at, end := -1, -1
	for i := range p.alts {
		a := &p.alts[i]
		if a.need != nil {
			hit := false
			for _, j := range a.need {
				if t.has(lits, j) {
					hit = true
					break
				}
			}
			if !hit {
				continue
			}
		}
		var s, e int
		if a.exact != nil && len(t.lower) == len(t.s) {
			s, e = a.findExact(t)
		} else if loc := a.re.FindStringIndex(t.s); loc != nil {
			s, e = loc[0], loc[1]
		} else {
			s = -1
		}
		if s >= 0 && (at < 0 || s < at) {
			at, end = s, e
			if at == 0 {
				break
			}
		}
	}
	if at < 0 {
		return "", false
	}
	if at == end {
		return t.s, true
	}
	return t.s[at:end], true
}

// findExact finds the leftmost string of the pattern's language in t
// (the first alternative wins at the same place, as in the regexp).
func (a *alt) findExact(t *text) (start, end int) {
	at, n := -1, 0
	for _, l := range a.exact {
		if l.s == "" {
			return 0, 0 // the empty string matches at once
		}
		hay := t.s
		if l.fold {
			hay = t.lower
		}
		limit := len(hay)
		if at >= 0 {
			limit = min(len(hay), at+len(l.s)) // only an earlier start can win
		}
		if i := strings.Index(hay[:limit], l.s); i >= 0 && (at < 0 || i < at) {
			at, n = i, len(l.s)
		}
	}
	if at < 0 {
		return -1, -1
	}
	return at, at + n
}

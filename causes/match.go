package causes

import (
	"fmt"
	"github.com/amqptop/amqptop/model/wire"
	"strings"
	"unicode/utf8"

	"github.com/amqptop/amqptop/model"
)

// Weights of the signals a rule can match on. The broker's own words
// outrank a reply text, which outranks a client's wording, which outranks
// a bare code; the failed method and context add to what they qualify.
const (
	wLog     = 8
	wText    = 6
	wClient  = 4
	wCode    = 2
	wMethod  = 2
	wContext = 3
)

// maxCandidates bounds the causes a low-confidence diagnosis lists of
// those that merely matched too; maxDeclared, with those its rule names.
const (
	maxCandidates = 4
	maxDeclared   = 8
)

// Diagnose implements model.Diagnoser. It reads the evidence for its
// protocol facts (code, constant, the broker's reply text, the method),
// scores every rule of every entry against them and the texts, and takes
// the best. Its confidence says what the match stands on: high for a code,
// constant or broker format that names one cause, medium for a wording
// that points to one cause without them, low for a vague text or context
// alone — then with the candidates and how to tell them apart.
func (b *Base) Diagnose(ev model.Evidence) model.Diagnosis {
	r := b.read(ev)
	type scored struct {
		e     *entry
		rule  *rule
		score int
		conf  model.Confidence
		why   []string
	}
	// The most confident match wins, then the highest score, then the
	// entry that comes first: a broker line that leaves the reason open
	// (low) gives way to a client's words that name it (medium). Fallback
	// rules (a clean close) count only when nothing else matched: a client
	// that closes its connection after its own error closed it cleanly,
	// and the error is the story.
	var best, fallback scored
	var runnersUp []*entry // other causes that matched, in matching order
	better := func(a scored, score int, conf model.Confidence) bool {
		return a.e == nil || conf > a.conf || conf == a.conf && score > a.score
	}
	for _, e := range b.entries {
		matched := false
		for i := range e.rules {
			ru := &e.rules[i]
			score, conf, why := r.match(b, ru)
			if score == 0 {
				continue
			}
			matched = true
			target := &best
			if ru.fallback {
				target = &fallback
			}
			if better(*target, score, conf) {
				*target = scored{e, ru, score, conf, why}
			}
		}
		if matched {
			runnersUp = append(runnersUp, e)
		}
	}
	if best.e == nil {
		best = fallback
	}
	d := model.Diagnosis{Code: r.code, Method: r.method, Notes: r.notes}
	if ci, ok := b.Code(r.code); ok {
		d.CodeName, d.CodeMeaning = ci.Name, ci.Meaning
	}
	if best.e == nil {
		d.Notes = append(d.Notes, b.unrecognised(r))
		return d
	}
	c := best.e.cause
	d.Cause, d.Confidence, d.Matched = &c, best.conf, best.why
	if best.rule.note != "" {
		d.Notes = append([]string{best.rule.note}, d.Notes...)
	}
	if d.Confidence == model.ConfLow {
		d.Candidates = b.candidates(best.e, best.rule, runnersUp)
	}
	return d
}

// candidates lists the causes a low-confidence match leaves open: the
// chosen one, the rule's own list, then the other entries that matched.
func (b *Base) candidates(chosen *entry, r *rule, matched []*entry) []model.Candidate {
	var out []model.Candidate
	seen := map[string]bool{}
	add := func(e *entry) {
		if e == nil || seen[e.cause.ID] || len(out) >= maxCandidates {
			return
		}
		seen[e.cause.ID] = true
		out = append(out, model.Candidate{ID: e.cause.ID, Title: e.cause.Title, Check: e.cause.Check})
	}
	add(chosen)
	for _, id := range r.candidates {
		if e := b.byID[id]; e != nil && !seen[id] && len(out) < maxDeclared {
			seen[id] = true
			out = append(out, model.Candidate{ID: id, Title: e.cause.Title, Check: e.cause.Check})
		}
	}
	for _, e := range matched {
		add(e)
	}
	if len(out) < 2 {
		return nil // nothing else is open: the low confidence speaks for itself
	}
	return out
}

func (b *Base) unrecognised(r *reading) string {
	ev := r.ev
	switch {
	case ev.Empty() && ev.Vanished && ev.LogFollowed:
		return "not recognised: the connection was only seen to disappear, and the broker logged no reason for it (its log was being followed)"
	case ev.Empty() && ev.Vanished:
		return "not recognised: the connection was only seen to disappear; the broker's reason is in its log — enable the log exchange (log.exchange = true) or pass --broker-log"
	case ev.Empty():
		return "not recognised: there is no close code or text to go on"
	case r.code != 0:
		return fmt.Sprintf("not recognised: no entry of the knowledge base matches this text; what code %d means in general is all that can be said", r.code)
	}
	return "not recognised: no entry of the knowledge base matches this text"
}

// match scores one rule: 0 when any of its conditions fails. The cheap
// conditions (scope, code, context) are checked before any pattern, the
// `not` pattern only once the rest matched, and each pattern is tried only
// on texts that hold one of its literals.
func (r *reading) match(b *Base, ru *rule) (int, model.Confidence, []string) {
	score := 0
	conf := model.ConfNone
	var why []string
	signal := func(c model.Confidence) {
		if c > conf {
			conf = c
		}
	}
	if ru.scope != "" && r.ev.Scope != "" && ru.scope != r.ev.Scope {
		return 0, 0, nil
	}
	if len(ru.codes) > 0 && !containsInt(ru.codes, r.code) {
		return 0, 0, nil
	}
	if len(ru.codes) > 0 && !r.codeBroker && ru.log == nil && ru.text == nil && ru.client == nil && ru.any == nil {
		// A bare code is a protocol fact only when the broker sent it; a
		// library's own code for its own error (amqp091-go's 504 for a
		// closed channel, .NET's 541 for a lost socket) names no cause.
		return 0, 0, nil
	}
	for _, c := range ru.context {
		if !r.context(c) {
			return 0, 0, nil
		}
	}
	if ru.method != nil {
		if r.method == "" || !ru.method.re.MatchString(r.method) {
			return 0, 0, nil
		}
		score += wMethod
		why = append(why, "method "+r.method)
	}
	if len(ru.codes) > 0 {
		score += wCode
		why = append(why, fmt.Sprintf("code %d %s", r.code, wire.ReplyCodes[r.code]))
		if r.codeBroker {
			signal(model.ConfHigh)
		} else {
			signal(model.ConfMedium)
		}
	}
	for _, c := range ru.context {
		score += wContext
		why = append(why, "context: "+contextWords[c])
	}
	replyConf := model.ConfMedium
	if r.replyBroker {
		replyConf = model.ConfHigh
	}
	lits := &b.lits
	if ru.log != nil {
		m, ok := firstMatch(lits, ru.log, r.logs)
		if !ok {
			return 0, 0, nil
		}
		score += wLog
		signal(model.ConfHigh)
		why = append(why, "broker: "+quote(m))
	}
	if ru.text != nil {
		m, ok := ru.text.find(lits, r.reply)
		if !ok {
			return 0, 0, nil
		}
		score += wText
		signal(replyConf)
		why = append(why, "reply text: "+quote(m))
	}
	if ru.client != nil {
		m, ok := ru.client.find(lits, r.client)
		if !ok {
			return 0, 0, nil
		}
		score += wClient
		signal(model.ConfMedium)
		why = append(why, "client: "+quote(m))
	}
	if ru.any != nil {
		if m, ok := firstMatch(lits, ru.any, r.logs); ok {
			score += wLog
			signal(model.ConfHigh)
			why = append(why, "broker: "+quote(m))
		} else if m, ok := ru.any.find(lits, r.reply); ok {
			score += wText
			signal(replyConf)
			why = append(why, "reply text: "+quote(m))
		} else if m, ok := ru.any.find(lits, r.client); ok {
			score += wClient
			signal(model.ConfMedium)
			why = append(why, "client: "+quote(m))
		} else {
			return 0, 0, nil
		}
	}
	if ru.not != nil && r.anyMatches(lits, ru.not) {
		return 0, 0, nil
	}
	switch {
	case conf == model.ConfNone: // context alone: what the rule says, low by default
		conf = model.ConfLow
		if ru.conf != 0 {
			conf = ru.conf
		}
	case ru.conf != 0 && ru.conf < conf:
		conf = ru.conf
	}
	return score, conf, why
}

var contextWords = map[string]string{
	"alarm":     "a resource alarm was in force",
	"restart":   "the node was stopping or restarting",
	"node-down": "the node went away without a shutdown (crash or kill)",
	"node-lost": "every source lost the node at once, and it has not answered since",
	"vanished":  "only seen to disappear",
	"by-server": "the broker sent the close",
	"by-client": "the client library detected it",
}

func (r *reading) context(c string) bool {
	switch c {
	case "alarm":
		return r.ev.Alarm
	case "restart":
		return r.ev.Restart
	case "node-down":
		return r.ev.NodeDown
	case "node-lost":
		return r.ev.NodeLost
	case "vanished":
		return r.ev.Vanished
	case "by-server":
		return r.ev.ByServer
	case "by-client":
		return !r.ev.ByServer && r.client != nil
	}
	return false
}

func (r *reading) anyMatches(lits *literals, p *pattern) bool {
	if _, ok := firstMatch(lits, p, r.logs); ok {
		return true
	}
	if _, ok := p.find(lits, r.reply); ok {
		return true
	}
	_, ok := p.find(lits, r.client)
	return ok
}

func firstMatch(lits *literals, p *pattern, texts []*text) (string, bool) {
	for _, t := range texts {
		if m, ok := p.find(lits, t); ok {
			return m, true
		}
	}
	return "", false
}

func quote(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		cut := 157
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut-- // don't split a character
		}
		s = s[:cut] + "…"
	}
	return `"` + s + `"`
}

func containsInt(l []int, v int) bool {
	for _, x := range l {
		if x == v {
			return true
		}
	}
	return false
}

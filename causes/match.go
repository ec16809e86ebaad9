package causes

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/amqptop/amqptop/model"
)

// Weights of the signals a rule can match on. The broker's own words
// outrank a reply text, which outranks a client's wording, which outranks
// a bare code; context adds to what it qualifies.
const (
	wLog     = 8
	wText    = 6
	wClient  = 4
	wCode    = 2
	wContext = 3
)

var reVerbatim = regexp.MustCompile(`^[A-Z_]{5,} - `)

// facts is the evidence laid out for matching.
type facts struct {
	ev          model.Evidence
	logs        []string
	reply       string // reply text
	replyBroker bool   // the reply text is the broker's (close frame or log), not a client's rewording
	client      string
	code        int
	constant    string
	notes       []string
}

// maxEvidence bounds each text matched. The broker caps reply texts at 255
// bytes and a close's log entry is a few lines; a longer text is a stack
// trace or hostile input, and its head is where the close is named.
const maxEvidence = 16 << 10

func clip(s string) string {
	if len(s) <= maxEvidence {
		return s
	}
	return strings.ToValidUTF8(s[:maxEvidence], "")
}

func (b *Base) facts(ev model.Evidence) facts {
	logs := ev.Log
	for i, l := range logs {
		if len(l) > maxEvidence {
			logs = append([]string(nil), ev.Log...)
			logs[i] = clip(l)
		}
	}
	f := facts{ev: ev, logs: logs, reply: strings.TrimSpace(clip(ev.Text)), client: strings.TrimSpace(clip(ev.Client)), code: ev.Code}
	f.replyBroker = f.reply != "" && (ev.ByServer || len(ev.Log) > 0 || ev.Client == "")
	var pr printed
	if f.client != "" {
		pr = readPrinted(f.client)
		if f.reply == "" && pr.reply != "" {
			f.reply = pr.reply
			// "NAME - text" is the broker's close text verbatim, whoever printed it.
			f.replyBroker = reVerbatim.MatchString(pr.reply)
		}
		if f.code == 0 {
			f.code = pr.code
		}
	}
	// The broker's log names the exception: that code is the broker's.
	for _, l := range f.logs {
		if cl, ok := model.ParseConnLog(l); ok && cl.Code != 0 {
			f.code, f.constant = cl.Code, strings.ToUpper(cl.Constant)
			if f.reply == "" {
				f.reply, f.replyBroker = cl.ReplyText, true
			}
			break
		}
	}
	if f.constant == "" {
		f.constant = firstConstant(f.reply)
		if f.constant == "" {
			f.constant = pr.constant
		}
	}
	if f.constant != "" {
		cc, _ := model.CodeOf(f.constant)
		if f.code != 0 && cc != 0 && f.code != cc {
			name := model.ReplyCodes[f.code]
			if name == "" {
				name = "no AMQP reply code"
			}
			f.notes = append(f.notes, fmt.Sprintf("miscoded: the text names %s, which is code %d; the %d printed with it is %s. Diagnosed by the name.",
				f.constant, cc, f.code, name))
		}
		if cc != 0 {
			f.code = cc
		}
	}
	if pr.library == "go" && f.code == 501 && f.constant == "" {
		f.notes = append(f.notes, "amqp091-go reports a lost socket as 501 FRAME_ERROR; the broker sent no close frame.")
	}
	if pr.library == "dotnet" && f.code == 541 && f.constant == "" && strings.Contains(f.client, "initiated by Library") {
		f.notes = append(f.notes, "RabbitMQ.Client reports a lost socket as 541 \"Unexpected Exception\" initiated by Library; the broker sent no close frame.")
	}
	if pr.library == "go" && f.code == 403 && pr.reply == "no access to this vhost" {
		f.notes = append(f.notes, "amqp091-go reports every refusal at connection.open as 403 \"no access to this vhost\"; the broker sent 530 NOT_ALLOWED with the real reason (a missing vhost, no permission, a connection limit), which is in its log.")
	}
	return f
}

// Diagnose implements model.Diagnoser.
func (b *Base) Diagnose(ev model.Evidence) model.Diagnosis {
	f := b.facts(ev)
	var best *entry
	var bestScore int
	var bestConf model.Confidence
	var bestWhy []string
	for _, e := range b.entries {
		for i := range e.rules {
			score, conf, why := f.match(&e.rules[i])
			if score > bestScore {
				best, bestScore, bestConf, bestWhy = e, score, conf, why
			}
		}
	}
	d := model.Diagnosis{Code: f.code, Notes: f.notes}
	if ci, ok := b.Code(f.code); ok {
		d.CodeName, d.CodeMeaning = ci.Name, ci.Meaning
	}
	if best == nil {
		d.Notes = append(d.Notes, b.unrecognised(f))
		return d
	}
	c := best.cause
	d.Cause, d.Confidence, d.Matched = &c, bestConf, bestWhy
	return d
}

func (b *Base) unrecognised(f facts) string {
	switch {
	case f.ev.Empty() && f.ev.Vanished:
		return "not recognised: the connection was only seen to disappear; the broker's reason is in its log — enable the log exchange (log.exchange = true) or pass --broker-log"
	case f.ev.Empty():
		return "not recognised: there is no close code or text to go on"
	case f.code != 0:
		return fmt.Sprintf("not recognised: no entry of the knowledge base matches this text; what code %d means in general is all that can be said", f.code)
	}
	return "not recognised: no entry of the knowledge base matches this text"
}

// match scores one rule: 0 when any of its conditions fails. The cheap
// conditions (scope, code, context) are checked before any pattern, the
// `not` pattern only once the rest matched, and each pattern runs once per
// text (scoring is unchanged; this only saves regexp work).
func (f *facts) match(r *rule) (int, model.Confidence, []string) {
	score := 0
	conf := model.ConfLow
	var why []string
	raise := func(c model.Confidence) {
		if c > conf {
			conf = c
		}
	}
	if r.scope != "" && f.ev.Scope != "" && r.scope != f.ev.Scope {
		return 0, 0, nil
	}
	if len(r.codes) > 0 && !containsInt(r.codes, f.code) {
		return 0, 0, nil
	}
	for _, c := range r.context {
		if !f.context(c) {
			return 0, 0, nil
		}
	}
	if len(r.codes) > 0 {
		score += wCode
		why = append(why, fmt.Sprintf("code %d %s", f.code, model.ReplyCodes[f.code]))
	}
	for _, c := range r.context {
		score += wContext
		why = append(why, "context: "+contextWords[c])
	}
	replyConf := model.ConfMedium
	if f.replyBroker {
		replyConf = model.ConfHigh
	}
	if r.log != nil {
		m, ok := firstMatch(r.log, f.logs)
		if !ok {
			return 0, 0, nil
		}
		score += wLog
		raise(model.ConfHigh)
		why = append(why, "broker: "+quote(m))
	}
	if r.text != nil {
		m, ok := find(r.text, f.reply)
		if !ok {
			return 0, 0, nil
		}
		score += wText
		raise(replyConf)
		why = append(why, "reply text: "+quote(m))
	}
	if r.client != nil {
		m, ok := find(r.client, f.client)
		if !ok {
			return 0, 0, nil
		}
		score += wClient
		raise(model.ConfMedium)
		why = append(why, "client: "+quote(m))
	}
	if r.any != nil {
		if m, ok := firstMatch(r.any, f.logs); ok {
			score += wLog
			raise(model.ConfHigh)
			why = append(why, "broker: "+quote(m))
		} else if m, ok := find(r.any, f.reply); ok {
			score += wText
			raise(replyConf)
			why = append(why, "reply text: "+quote(m))
		} else if m, ok := find(r.any, f.client); ok {
			score += wClient
			raise(model.ConfMedium)
			why = append(why, "client: "+quote(m))
		} else {
			return 0, 0, nil
		}
	}
	if r.not != nil && f.anyMatches(r.not) {
		return 0, 0, nil
	}
	return score, conf, why
}

var contextWords = map[string]string{
	"alarm":     "a resource alarm was in force",
	"restart":   "the node was stopping or restarting",
	"vanished":  "only seen to disappear",
	"by-server": "the broker sent the close",
	"by-client": "the client library detected it",
}

func (f *facts) context(c string) bool {
	switch c {
	case "alarm":
		return f.ev.Alarm
	case "restart":
		return f.ev.Restart
	case "vanished":
		return f.ev.Vanished
	case "by-server":
		return f.ev.ByServer
	case "by-client":
		return !f.ev.ByServer && f.client != ""
	}
	return false
}

func (f *facts) anyMatches(re *regexp.Regexp) bool {
	if _, ok := firstMatch(re, f.logs); ok {
		return true
	}
	if _, ok := find(re, f.reply); ok {
		return true
	}
	_, ok := find(re, f.client)
	return ok
}

// find runs re on s once: what matched (all of s for an empty match), and
// whether it did. An empty s never matches.
func find(re *regexp.Regexp, s string) (string, bool) {
	if s == "" {
		return "", false
	}
	loc := re.FindStringIndex(s)
	if loc == nil {
		return "", false
	}
	if loc[0] == loc[1] {
		return s, true
	}
	return s[loc[0]:loc[1]], true
}

func firstMatch(re *regexp.Regexp, texts []string) (string, bool) {
	for _, t := range texts {
		if m, ok := find(re, t); ok {
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

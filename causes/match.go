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

func (b *Base) facts(ev model.Evidence) facts {
	f := facts{ev: ev, logs: ev.Log, reply: strings.TrimSpace(ev.Text), client: strings.TrimSpace(ev.Client), code: ev.Code}
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

// match scores one rule: 0 when any of its conditions fails.
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
	if r.not != nil && f.anyMatches(r.not) {
		return 0, 0, nil
	}
	if len(r.codes) > 0 {
		if !containsInt(r.codes, f.code) {
			return 0, 0, nil
		}
		score += wCode
		why = append(why, fmt.Sprintf("code %d %s", f.code, model.ReplyCodes[f.code]))
	}
	for _, c := range r.context {
		if !f.context(c) {
			return 0, 0, nil
		}
		score += wContext
		why = append(why, "context: "+contextWords[c])
	}
	if r.log != nil {
		m := firstMatch(r.log, f.logs)
		if m == "" {
			return 0, 0, nil
		}
		score += wLog
		raise(model.ConfHigh)
		why = append(why, "broker: "+quote(m))
	}
	if r.text != nil {
		m := r.text.FindString(f.reply)
		if f.reply == "" || (m == "" && !r.text.MatchString(f.reply)) {
			return 0, 0, nil
		}
		score += wText
		if f.replyBroker {
			raise(model.ConfHigh)
		} else {
			raise(model.ConfMedium)
		}
		why = append(why, "reply text: "+quote(orWhole(m, f.reply)))
	}
	if r.client != nil {
		m := r.client.FindString(f.client)
		if f.client == "" || (m == "" && !r.client.MatchString(f.client)) {
			return 0, 0, nil
		}
		score += wClient
		raise(model.ConfMedium)
		why = append(why, "client: "+quote(orWhole(m, f.client)))
	}
	if r.any != nil {
		switch {
		case firstMatch(r.any, f.logs) != "":
			score += wLog
			raise(model.ConfHigh)
			why = append(why, "broker: "+quote(firstMatch(r.any, f.logs)))
		case f.reply != "" && r.any.MatchString(f.reply):
			score += wText
			if f.replyBroker {
				raise(model.ConfHigh)
			} else {
				raise(model.ConfMedium)
			}
			why = append(why, "reply text: "+quote(orWhole(r.any.FindString(f.reply), f.reply)))
		case f.client != "" && r.any.MatchString(f.client):
			score += wClient
			raise(model.ConfMedium)
			why = append(why, "client: "+quote(orWhole(r.any.FindString(f.client), f.client)))
		default:
			return 0, 0, nil
		}
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
	return firstMatch(re, f.logs) != "" || (f.reply != "" && re.MatchString(f.reply)) || (f.client != "" && re.MatchString(f.client))
}

func firstMatch(re *regexp.Regexp, texts []string) string {
	for _, t := range texts {
		if loc := re.FindStringIndex(t); loc != nil {
			if loc[0] == loc[1] {
				return t
			}
			return t[loc[0]:loc[1]]
		}
	}
	return ""
}

func orWhole(m, whole string) string {
	if m == "" {
		return whole
	}
	return m
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

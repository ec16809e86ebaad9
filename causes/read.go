package causes

import (
	"fmt"
	"github.com/amqptop/amqptop/model/wire"
	"strconv"
	"strings"

	"github.com/amqptop/amqptop/model"
)

// reading is the evidence of one close read for the protocol first: the
// reply code and its constant, the broker's reply text, the method that
// failed, and where each came from; then the texts themselves, prepared
// for the knowledge base's patterns.
type reading struct {
	ev          model.Evidence
	logs        []*text
	reply       *text  // the reply text ("NOT_FOUND - no queue 'q' in vhost '/'")
	replyBroker bool   // the reply text is the broker's (close frame, log, or quoted verbatim), not a client's rewording
	client      *text  // the close as a client library printed it
	code        int    // the reply code the diagnosis trusts
	codeBroker  bool   // the broker sent that code (a close frame or its log), not a client library's own
	constant    string // the reply-code constant named, canonical (NOT_FOUND)
	method      string // the method that failed, e.g. queue.declare
	library     string // the client format recognised
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

func (b *Base) read(ev model.Evidence) *reading {
	n := len(b.lits.list)
	r := &reading{ev: ev, code: ev.Code}
	for _, l := range ev.Log {
		r.logs = append(r.logs, newText(clip(l), n))
	}
	reply := strings.TrimSpace(clip(ev.Text))
	client := strings.TrimSpace(clip(ev.Client))
	r.replyBroker = reply != "" && (ev.ByServer || len(ev.Log) > 0 || client == "")
	r.codeBroker = ev.Code != 0 && (ev.ByServer || client == "")
	var pr printed
	if client != "" {
		r.client = newText(client, n)
		pr = b.readPrinted(r.client)
		r.library = pr.library
		if reply == "" && pr.reply != "" {
			reply = pr.reply
			// "NAME - text" is the broker's close text verbatim, whoever printed it.
			r.replyBroker = verbatimReply(pr.reply)
		}
		if r.code == 0 {
			r.code = pr.code
			r.codeBroker = r.replyBroker && pr.code != 0
		}
		r.method = pr.method
	}
	// The broker's log names the exception and the operation: that code is the broker's.
	for _, l := range r.logs {
		if cl, ok := wire.ParseConnLog(l.s); ok && cl.Code != 0 {
			r.code, r.constant, r.codeBroker = cl.Code, strings.ToUpper(cl.Constant), true
			if cl.Operation != "" && cl.Operation != "none" {
				r.method = cl.Operation
			}
			if reply == "" {
				reply, r.replyBroker = cl.ReplyText, true
			}
			break
		}
	}
	if reply != "" {
		r.reply = newText(reply, n)
	}
	if r.constant == "" {
		r.constant = firstConstant(reply)
		if r.constant == "" {
			r.constant = pr.constant
		}
	}
	if r.constant != "" {
		cc, _ := wire.CodeOf(r.constant)
		if r.code != 0 && cc != 0 && r.code != cc {
			name := wire.ReplyCodes[r.code]
			if name == "" {
				name = "no AMQP reply code"
			}
			r.notes = append(r.notes, fmt.Sprintf("miscoded: the text names %s, which is code %d; the %d printed with it is %s. Diagnosed by the name.",
				r.constant, cc, r.code, name))
		}
		if cc != 0 {
			r.code = cc
		}
	}
	if pr.library == "go" && r.code == 501 && r.constant == "" {
		r.notes = append(r.notes, "amqp091-go reports a lost socket as 501 FRAME_ERROR; the broker sent no close frame.")
	}
	if pr.library == "dotnet" && r.code == 541 && r.constant == "" && strings.Contains(client, "initiated by Library") {
		r.notes = append(r.notes, "RabbitMQ.Client reports a lost socket as 541 \"Unexpected Exception\" initiated by Library; the broker sent no close frame.")
	}
	if pr.library == "go" && r.code == 403 && pr.reply == "no access to this vhost" {
		r.notes = append(r.notes, "amqp091-go before 1.16 reports every refusal at connection.open as 403 \"no access to this vhost\"; the broker sent 530 NOT_ALLOWED with the real reason (a missing vhost, no permission, a connection limit), which is in its log.")
	}
	return r
}

// verbatimReply reports whether s is a reply text as the broker writes it:
// a reply-code constant, " - ", the explanation.
func verbatimReply(s string) bool {
	i := strings.Index(s, " - ")
	if i < 5 {
		return false
	}
	_, ok := wire.CodeOf(s[:i])
	return ok && strings.ToUpper(s[:i]) == s[:i]
}

// amqpMethods maps AMQP 0-9-1 (class, method) ids to their names, as the
// broker logs them ("operation queue.declare caused …"). The ids are the
// protocol's (amqp0-9-1.xml; rabbitmq/amqp091-go v1.16.0 spec091.go).
var amqpMethods = map[[2]int]string{
	{10, 10}: "connection.start", {10, 11}: "connection.start_ok", {10, 20}: "connection.secure",
	{10, 21}: "connection.secure_ok", {10, 30}: "connection.tune", {10, 31}: "connection.tune_ok",
	{10, 40}: "connection.open", {10, 41}: "connection.open_ok", {10, 50}: "connection.close",
	{10, 51}: "connection.close_ok", {10, 60}: "connection.blocked", {10, 61}: "connection.unblocked",
	{10, 70}: "connection.update_secret", {10, 71}: "connection.update_secret_ok",
	{20, 10}: "channel.open", {20, 11}: "channel.open_ok", {20, 20}: "channel.flow", {20, 21}: "channel.flow_ok",
	{20, 40}: "channel.close", {20, 41}: "channel.close_ok",
	{40, 10}: "exchange.declare", {40, 11}: "exchange.declare_ok", {40, 20}: "exchange.delete",
	{40, 21}: "exchange.delete_ok", {40, 30}: "exchange.bind", {40, 31}: "exchange.bind_ok",
	{40, 40}: "exchange.unbind", {40, 51}: "exchange.unbind_ok",
	{50, 10}: "queue.declare", {50, 11}: "queue.declare_ok", {50, 20}: "queue.bind", {50, 21}: "queue.bind_ok",
	{50, 30}: "queue.purge", {50, 31}: "queue.purge_ok", {50, 40}: "queue.delete", {50, 41}: "queue.delete_ok",
	{50, 50}: "queue.unbind", {50, 51}: "queue.unbind_ok",
	{60, 10}: "basic.qos", {60, 11}: "basic.qos_ok", {60, 20}: "basic.consume", {60, 21}: "basic.consume_ok",
	{60, 30}: "basic.cancel", {60, 31}: "basic.cancel_ok", {60, 40}: "basic.publish", {60, 50}: "basic.return",
	{60, 60}: "basic.deliver", {60, 70}: "basic.get", {60, 71}: "basic.get_ok", {60, 72}: "basic.get_empty",
	{60, 80}: "basic.ack", {60, 90}: "basic.reject", {60, 100}: "basic.recover_async", {60, 110}: "basic.recover",
	{60, 111}: "basic.recover_ok", {60, 120}: "basic.nack",
	{85, 10}: "confirm.select", {85, 11}: "confirm.select_ok",
	{90, 10}: "tx.select", {90, 11}: "tx.select_ok", {90, 20}: "tx.commit", {90, 21}: "tx.commit_ok",
	{90, 30}: "tx.rollback", {90, 31}: "tx.rollback_ok",
}

// methodByName maps the names client libraries print ("Queue.declare",
// "QueueDeclare", "queue.declare") to the broker's spelling.
var methodByName = func() map[string]string {
	m := map[string]string{}
	for _, name := range amqpMethods {
		cls, meth, _ := strings.Cut(name, ".")
		m[name] = name
		m[strings.ReplaceAll(name, "_", "-")] = name
		camel := strings.ToUpper(cls[:1]) + cls[1:]
		for _, w := range strings.Split(meth, "_") {
			camel += strings.ToUpper(w[:1]) + w[1:]
		}
		m[strings.ToLower(camel)] = name
	}
	return m
}()

// methodOf returns the broker's name of a method a client printed by ids
// or by name; "" when it names none (0, 0 is a connection-level close).
func methodOf(class, method string) string {
	c, err1 := strconv.Atoi(class)
	m, err2 := strconv.Atoi(method)
	if err1 == nil && err2 == nil {
		return amqpMethods[[2]int{c, m}]
	}
	return ""
}

// constantNames maps every spelling of a reply-code constant a client
// prints (NOT_FOUND, NOT-FOUND, not_found) to the canonical one.
var constantNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range wire.ReplyCodes {
		m[n] = n
		m[strings.ReplaceAll(n, "_", "-")] = n
		m[strings.ToLower(n)] = n
	}
	return m
}()

// firstConstant returns the first reply-code constant named in s, in its
// canonical spelling: a word made of letters, '_' and '-' that is one of
// the constants' spellings.
func firstConstant(s string) string {
	start := -1
	for i := 0; i <= len(s); i++ {
		word := i < len(s) && (s[i] >= 'A' && s[i] <= 'Z' || s[i] >= 'a' && s[i] <= 'z' || s[i] == '_' || s[i] == '-')
		if word {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-start >= 5 {
			if c, ok := constantNames[s[start:i]]; ok && !midWord(s, start, i) {
				return c
			}
		}
		start = -1
	}
	return ""
}

// midWord reports whether s[i:j] is glued to a digit on either side
// (ACCESS_REFUSED2 is not the constant).
func midWord(s string, i, j int) bool {
	isDigit := func(b byte) bool { return b >= '0' && b <= '9' }
	return i > 0 && isDigit(s[i-1]) || j < len(s) && isDigit(s[j])
}

package causes

import (
	"reflect"
	"strings"
	"testing"

	"github.com/amqptop/amqptop/model"
)

// fuzzSecretChars are the characters a URL password cannot hold in the
// texts Explain redacts (they end the user info), and 'x', which the
// redaction writes: a secret without them cannot reappear by accident.
const fuzzSecretChars = " \t\n\f\r@/\"'<>xX"

// FuzzExplain pastes one to three fuzzed texts, one of them carrying an
// AMQP/HTTP URL with a fuzzed password, into Base.Explain (what `amqptop
// explain` runs).
func FuzzExplain(f *testing.F) {
	base := Default()
	f.Add(goReset, heartbeatLog, "", "guest", "SECRETVALUE", "rabbit.prod", uint8(1))
	f.Add("2026-11-23 10:00:00.123456+00:00 [error] <0.5.0> closing AMQP connection <0.5.0> (10.0.0.5:51234 -> 10.0.0.10:5672):\n"+
		"2026-11-23 10:00:00.123456+00:00 [error] <0.5.0> missed heartbeats from client, timeout: 60s", goEOF, "", "u", "SECRETVALUE", "h", uint8(5))
	f.Add(goRefused+" (url", "", "", "app", "s3cr3t-p4ss", "127.0.0.1:5672", uint8(0))
	f.Add(authFailLog, authClosingLog, loginRefused, "roboshop", "hunter2", "mq", uint8(10))
	f.Add(managementText, "", "", "", "p:a:s:s", "h", uint8(0))
	f.Add("pika.exceptions.ProbableAccessDeniedError: ConnectionClosedByBroker: (530) \""+vhostLimitText+"\"", "password=abc", "", "u", "SECRETVALUE", "h", uint8(2))
	f.Add(ackTimeoutText, unexpectedText, writeRefusedTxt, "u", "SECRETVALUE", "h", uint8(6))
	f.Add("connection reset by peer", "", "", "u", "SECRETVALUE", "h", uint8(0))
	f.Add("Exception in thread \"main\" java.net.ConnectException: Connection refused (Connection refused)", "", "", "u", "SECRETVALUE", "h", uint8(0))
	f.Fuzz(func(t *testing.T, a, b, c, user, secret, host string, where uint8) {
		texts := []string{a, b, c}[:1+int(where%3)]
		// The URL: user and secret as a URL's user info can hold them.
		user = strings.Map(func(r rune) rune {
			if strings.ContainsRune(fuzzSecretChars+":", r) {
				return -1
			}
			return r
		}, user)
		secret = strings.Map(func(r rune) rune {
			if strings.ContainsRune(fuzzSecretChars, r) {
				return -1
			}
			return r
		}, secret)
		scheme := []string{"amqp", "amqps", "http", "https"}[where>>2&3]
		i := int(where>>4) % len(texts)
		other := append([]string(nil), texts...) // the same with another password
		if secret != "" {
			texts[i] += " " + scheme + "://" + user + ":" + secret + "@" + host + "/"
			other[i] += " " + scheme + "://" + user + ":" + "Zz9" + "@" + host + "/"
		}

		x := base.Explain(texts)
		d := x.Diagnosis
		if len(x.Inputs) != len(texts) {
			t.Fatalf("%d inputs echoed for %d texts", len(x.Inputs), len(texts))
		}
		if (d.Cause == nil) != (d.Confidence == model.ConfNone) {
			t.Fatalf("cause %v with confidence %s", d.Cause.Ref(), d.Confidence)
		}
		if d.Confidence > model.ConfHigh {
			t.Fatalf("confidence %d", d.Confidence)
		}
		if d.Cause != nil && base.Lookup(d.Cause.ID) == nil {
			t.Fatalf("cause %s is not in the base", d.Cause.ID)
		}
		if len(d.Candidates) > 0 {
			if d.Confidence != model.ConfLow {
				t.Fatalf("candidates %v with confidence %s", d.Candidates, d.Confidence)
			}
			if d.Candidates[0].ID != d.Cause.ID {
				t.Fatalf("candidates %v do not start with the cause %s", d.Candidates, d.Cause.ID)
			}
		}
		if x.Origin == "" {
			t.Fatal("no origin")
		}
		if again := base.Explain(texts); !reflect.DeepEqual(again, x) {
			t.Fatalf("not deterministic:\n%+v\n%+v", x, again)
		}

		// The password is in no echoed input or evidence (when it is in
		// the texts only as the URL's password)...
		if secret == "" {
			return
		}
		if strings.Count(strings.Join(texts, "\x00"), secret) == 1 {
			shown := append(append([]string{x.Evidence.Text, x.Evidence.Client}, x.Evidence.Log...), x.Inputs...)
			for _, s := range shown {
				if strings.Contains(s, secret) {
					t.Fatalf("the URL password %q shows in %q", secret, s)
				}
			}
		}
		// ... and nothing Explain says depends on it: another password
		// gives the same explanation, word for word.
		if y := base.Explain(other); !reflect.DeepEqual(y, x) {
			t.Fatalf("the explanation depends on the URL password %q:\n%+v\n%+v", secret, x, y)
		}
	})
}

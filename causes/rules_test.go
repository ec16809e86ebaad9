package causes

import (
	"errors"
	"github.com/amqptop/amqptop/model/wire"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/amqptop/amqptop/model"
)

const overrideRules = `# A site's own rules.
causes:
  # Overrides the built-in entry: same id, new text and rules.
  - id: heartbeat-timeout
    title: Missed heartbeats (our proxy)
    severity: warn
    happened: The HAProxy in front of the cluster dropped the connection.
    do:
      - Check the HAProxy timeout client setting.
    match:
      - client: 'haproxy idle timeout'

  # New: tried before the built-in entries.
  - id: proxy-reset
    title: Reset by the site proxy
    scope: connection
    severity: warn
    happened: The proxy reset the connection.
    do: [Look at the proxy's log.]
    docs: [https://www.rabbitmq.com/docs/networking]
    match:
      - any: '(?i)connection reset by peer'

codes:
  320: {name: CONNECTION_FORCED, meaning: "Forced close (see the ops runbook)."}
`

func TestRulesOverride(t *testing.T) {
	def := Default()
	b, err := def.With("site.yaml", []byte(overrideRules))
	if err != nil {
		t.Fatal(err)
	}
	c := b.Lookup("heartbeat-timeout")
	if c == nil || c.Title != "Missed heartbeats (our proxy)" || c.Severity != model.SevWarn || c.Scope != "connection" {
		t.Fatalf("override not applied: %+v", c)
	}
	// The override keeps its place in the matching order.
	if got, want := len(b.All()), len(def.All())+1; got != want {
		t.Errorf("%d entries, want %d", got, want)
	}
	if b.All()[0].ID != "proxy-reset" {
		t.Errorf("first entry %q, want the new proxy-reset", b.All()[0].ID)
	}
	// The new rules replace the old ones.
	d := b.Diagnose(model.Evidence{Client: "haproxy idle timeout"})
	if d.Cause == nil || d.Cause.ID != "heartbeat-timeout" || d.Confidence != model.ConfMedium {
		t.Errorf("override rule: %+v", d)
	}
	d = b.Diagnose(model.Evidence{Log: []string{"closing AMQP connection <0.1.0> (10.0.0.5:5000 -> 10.0.0.1:5672):\nmissed heartbeats from client, timeout: 60s"}})
	if d.Cause != nil && d.Cause.ID == "heartbeat-timeout" {
		t.Errorf("a rule of the replaced entry still matches: %s", d.Cause.ID)
	}
	// A new entry is tried first: it wins the tie with network-interruption.
	d = b.Diagnose(model.Evidence{Client: goReset})
	if d.Cause == nil || d.Cause.ID != "proxy-reset" {
		t.Errorf("Go reset diagnosed %v, want the new entry tried first", d.Cause.Ref())
	}
	// Codes are overridden too, the others kept.
	if ci, _ := b.Code(320); ci.Meaning != "Forced close (see the ops runbook)." {
		t.Errorf("code 320: %+v", ci)
	}
	if ci, _ := b.Code(404); ci.Meaning == "" {
		t.Error("code 404 lost its meaning")
	}
	// The base it was built from is unchanged.
	if def.Lookup("heartbeat-timeout").Title != "Missed heartbeats" || def.Lookup("proxy-reset") != nil {
		t.Error("With changed the base")
	}
	if d := def.Diagnose(model.Evidence{Client: goReset}); d.Cause == nil || d.Cause.ID != "network-interruption" {
		t.Errorf("base diagnoses the Go reset as %v", d.Cause.Ref())
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(good, []byte(overrideRules), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := LoadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if b.Lookup("proxy-reset") == nil {
		t.Error("LoadFile did not add the new entry")
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("causes:\n  - id: x\n    title: X\n    mtach:\n      - text: a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadFile(bad)
	var le *LineError
	if !errors.As(err, &le) || le.File != bad || le.Line != 4 {
		t.Fatalf("LoadFile(bad) = %v, want %s:4", err, bad)
	}
	if !strings.HasPrefix(err.Error(), bad+":4: ") {
		t.Errorf("error %q does not start with file:line", err)
	}
	if _, err := LoadFile(filepath.Join(dir, "missing.yaml")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadFile(missing) = %v", err)
	}
}

func TestRulesErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		file string
		line int
		msg  string // a regexp the message must match
	}{
		{"yaml syntax: bad indent", `causes:
  - id: my-cause
    title: Mine
    match:
      - text: foo
       client: bar
`, 6, `expected`},
		{"yaml syntax: stray item", `causes:
  - id: my-cause
    title: Mine
    match:
      - text: foo
    client: bar
    - b
`, 7, `did not find expected key`},
		{"yaml syntax: unterminated quote", `causes:
  - id: my-cause
    title: Mine
    match:
      - text: 'foo
`, 5, `end of stream`},
		{"yaml syntax: tab", "causes:\n\t- id: x\n", 2, `cannot start any token`},
		{"unknown cause key", `causes:
  - id: my-cause
    title: Mine
    mtach:
      - text: foo
`, 4, `unknown key "mtach" \(expected one of: .*match`},
		{"unknown rule key", `causes:
  - id: my-cause
    title: Mine
    match:
      - text: foo
      - clinet: bar
`, 6, `unknown key "clinet"`},
		{"unknown top key", `cause:
  - id: my-cause
`, 1, `unknown key "cause"`},
		{"unknown code key", `codes:
  320: {name: CONNECTION_FORCED, meanin: "x"}
`, 2, `unknown key "meanin"`},
		{"bad regexp", `causes:
  - id: my-cause
    title: Mine
    match:
      - log: 'fine'
      - text: 'unclosed (group'
`, 6, `pattern "unclosed \(group" does not compile`},
		{"bad regexp in not", `causes:
  - id: my-cause
    title: Mine
    match:
      - text: ok
        not: '[z-a]'
`, 5, `does not compile`},
		{"unknown context", `causes:
  - id: my-cause
    title: Mine
    match:
      - context: [restart, rebooting]
`, 5, `unknown context "rebooting"`},
		{"duplicate id", `causes:
  - id: my-cause
    title: Mine
  - id: other
    title: Other
  - id: my-cause
    title: Mine again
`, 6, `"my-cause" is defined twice \(first at line 2\)`},
		{"rule with no fields", `causes:
  - id: my-cause
    title: Mine
    match:
      - text: foo
      - scope: channel
`, 6, `needs at least one of`},
		{"rule with only not", `causes:
  - id: my-cause
    title: Mine
    match:
      - not: foo
`, 5, `needs at least one of`},
		{"bad scope", `causes:
  - id: my-cause
    title: Mine
    scope: queue
`, 2, `scope "queue"`},
		{"bad severity", `causes:
  - id: my-cause
    title: Mine
    severity: fatal
`, 2, `unknown severity "fatal"`},
		{"no id", `causes:
  - title: Mine
`, 2, `without an id`},
		{"bad id", `causes:
  - id: My Cause
    title: Mine
`, 2, `lower-case`},
		{"no title", `causes:
  - id: my-cause
`, 2, `no title`},
		{"code not a number", `causes:
  - id: my-cause
    title: Mine
    match:
      - code: abc
`, 5, `code "abc" is not a number`},
		{"code list not numbers", `causes:
  - id: my-cause
    title: Mine
    match:
      - code: [403, abc]
`, 5, `cannot unmarshal`},
		{"causes not a list", "causes: 5\n", 1, `cannot unmarshal`},
		{"not a mapping", "~\n", 1, `expected a mapping`},
		{"empty file", "", 0, `empty file`},
		{"only comments", "# nothing here yet\n\n", 0, `empty file`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Default().With("site.yaml", []byte(tc.file))
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("error %v (%T), want a *LineError", err, err)
			}
			if le.File != "site.yaml" || le.Line != tc.line {
				t.Errorf("%v: at %s:%d, want line %d", err, le.File, le.Line, tc.line)
			}
			if !regexp.MustCompile(tc.msg).MatchString(le.Msg) {
				t.Errorf("message %q does not match %q", le.Msg, tc.msg)
			}
		})
	}
}

func TestBuiltinEntries(t *testing.T) {
	b := Default() // panics when a pattern does not compile
	ids := map[string]bool{}
	for _, c := range b.All() {
		if ids[c.ID] {
			t.Errorf("%s: duplicate id", c.ID)
		}
		ids[c.ID] = true
		if c.Title == "" || c.Happened == "" {
			t.Errorf("%s: no title or happened", c.ID)
		}
		if len(c.Do) == 0 {
			t.Errorf("%s: nothing to do", c.ID)
		}
		for _, x := range append(append([]string{}, c.Do...), c.Why...) {
			if strings.TrimSpace(x) == "" {
				t.Errorf("%s: empty why or do", c.ID)
			}
		}
		for _, de := range c.DeadEnds {
			if de.Action == "" || de.Why == "" {
				t.Errorf("%s: dead end %+v incomplete", c.ID, de)
			}
		}
		if len(c.Docs) == 0 {
			t.Errorf("%s: no docs", c.ID)
		}
		for _, u := range c.Docs {
			if !strings.HasPrefix(u, "https://www.rabbitmq.com/") {
				t.Errorf("%s: doc %q is not on https://www.rabbitmq.com/", c.ID, u)
			}
		}
		if c.Severity > model.SevError {
			t.Errorf("%s: severity %v", c.ID, c.Severity)
		}
		switch c.Scope {
		case "connection", "channel", "client":
		default:
			t.Errorf("%s: scope %q", c.ID, c.Scope)
		}
	}
	// Cause ids are a contract users script against: the 26 the project
	// started with are all still there (new ones are added, none renamed).
	for _, id := range strings.Fields(`heartbeat-timeout unexpected-frame channel-not-open frame-error
		consumer-ack-timeout unknown-delivery-tag queue-arg-mismatch message-too-large exclusive-queue-locked
		not-found permission-denied connection-limit-reached vhost-not-allowed access-refused
		channel-max-exceeded command-invalid not-implemented internal-error tls-error management-force-close
		broker-shutdown resource-alarm-blocked connection-refused network-interruption reconnect-flapping client-closed`) {
		if b.Lookup(id) == nil {
			t.Errorf("cause %q is gone", id)
		}
	}
	for code, name := range wire.ReplyCodes {
		if code < 200 || code > 541 {
			continue
		}
		ci, ok := b.codes[code]
		if !ok || ci.Meaning == "" {
			t.Errorf("code %d %s has no meaning in codes:", code, name)
		}
		if ok && ci.Name != name {
			t.Errorf("code %d named %q, want %q", code, ci.Name, name)
		}
	}
	for code := range b.codes {
		if wire.ReplyCodes[code] == "" {
			t.Errorf("codes: has %d, which is not a reply code", code)
		}
	}
	// Every entry has a rule that can match, except the model's own.
	for _, e := range b.entries {
		if len(e.rules) == 0 {
			t.Errorf("%s: no match rules", e.cause.ID)
		}
	}
}

// Every situation the model infers has its cause in the knowledge base,
// whole (what to do included), and a rules file that replaces the entry
// is what the model then gives.
func TestInferredCauses(t *testing.T) {
	b := Default()
	for _, k := range model.Inferences {
		c := b.Infer(k)
		if c == nil || len(c.Do) == 0 {
			t.Errorf("inference %d: %+v", k, c)
		}
	}
	var _ model.Inferrer = b
	site, err := b.With("site.yaml", []byte("causes:\n  - id: reconnect-flapping\n    title: Flapping (ours)\n    do: [Page the owner.]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c := site.Infer(model.InferFlapping); c == nil || c.Title != "Flapping (ours)" {
		t.Errorf("override: %+v", c)
	}
}

// A rules file that is a device, a FIFO or huge is refused with a clear
// error, never read without end.
func TestRulesFileLimits(t *testing.T) {
	if _, err := LoadFile("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("/dev/zero: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, []byte("causes:\n"+strings.Repeat("# padding\n", 500000)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFile(big); err == nil || !strings.Contains(err.Error(), "larger than 4 MiB") {
		t.Errorf("a 5 MB file: %v", err)
	}
}

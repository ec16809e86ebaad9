package cli

import (
	"strings"
	"testing"

	"github.com/amqptop/amqptop/model"
	"github.com/amqptop/amqptop/monitor"
)

// The command line has advice (or says it has none to add) for every
// condition the monitor reports, and names only flags that exist.
func TestAdviceForEveryCondition(t *testing.T) {
	flags := map[string]bool{}
	for _, s := range settings {
		flags["--"+s.flagName()] = true
	}
	for _, c := range monitor.Conditions() {
		a, ok := advice[c]
		if !ok {
			t.Errorf("no advice for condition %q", c)
		}
		for _, w := range strings.Fields(a) {
			w = strings.Trim(w, ",;:()")
			if strings.HasPrefix(w, "--") && !flags[w] {
				t.Errorf("%s: advice names %s, which is no flag", c, w)
			}
		}
	}
	known := map[string]bool{}
	for _, c := range monitor.Conditions() {
		known[c] = true
	}
	for c := range advice {
		if !known[c] {
			t.Errorf("advice for %q, which the monitor never reports", c)
		}
	}
	st := withAdvice(model.SourceStatus{Condition: "log-exchange-missing", Hint: "set log.exchange = true in rabbitmq.conf"}).(model.SourceStatus)
	if st.Hint != "set log.exchange = true in rabbitmq.conf; or run amqptop on the broker host with --broker-log PATH; --no-log-exchange skips it" {
		t.Errorf("hint %q", st.Hint)
	}
	// What to type leads where the header's one line must show it.
	st = withAdvice(model.SourceStatus{Condition: "tls-client-cert-required", Hint: "the broker requires a client certificate"}).(model.SourceStatus)
	if !strings.HasPrefix(st.Hint, "--client-cert FILE and --client-key FILE") || !strings.HasSuffix(st.Hint, "; the broker requires a client certificate") {
		t.Errorf("hint %q", st.Hint)
	}
	for c := range adviceLeads {
		if advice[c] == "" {
			t.Errorf("%s leads with no advice", c)
		}
	}
}

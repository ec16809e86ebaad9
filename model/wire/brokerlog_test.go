package wire

import (
	"strings"
	"testing"
)

func TestParseLogLine(t *testing.T) {
	cases := []struct {
		line, level, pid, text string
		modern, ok             bool
	}{
		{"2026-11-23 10:00:00.123456+00:00 [error] <0.1234.0> closing AMQP connection <0.1234.0> (a -> b):", "error", "<0.1234.0>", "closing AMQP connection <0.1234.0> (a -> b):", true, true},
		{"2021-10-05 12:00:01.777402+02:00 [erro] <0.9.0> x", "error", "<0.9.0>", "x", true, true},
		{"2021-10-05 12:00:01.777402+02:00 [noti] <0.9.0> x", "notice", "<0.9.0>", "x", true, true},
		{"2019-11-22 16:00:21.054 [info] <0.1087.0> accepting AMQP connection <0.1087.0> (10.0.0.1:1 -> 10.0.0.2:5672)", "info", "<0.1087.0>", "accepting AMQP connection <0.1087.0> (10.0.0.1:1 -> 10.0.0.2:5672)", false, true},
		{"2024-01-01 10:00:00.000000Z [warning] <0.1.0> y", "warning", "<0.1.0>", "y", true, true},
		{"missed heartbeats from client, timeout: 60s", "", "", "missed heartbeats from client, timeout: 60s", false, false},
	}
	for _, c := range cases {
		l, ok := ParseLogLine(c.line)
		if ok != c.ok || l.Level != c.level || l.PID != c.pid || l.Text != c.text || l.Modern != c.modern {
			t.Errorf("ParseLogLine(%q) = %+v, %v", c.line, l, ok)
		}
	}
	l, ok := ParseLogLine("=ERROR REPORT==== 23-Nov-2016::10:00:00 ===")
	if !ok || !l.Old || l.Level != "error" || l.Time.Year() != 2016 {
		t.Errorf("old header: %+v %v", l, ok)
	}
}

func group(lines ...string) []LogLine {
	var g LogGrouper
	var out []LogLine
	for _, l := range lines {
		out = append(out, g.Add(l)...)
	}
	return append(out, g.Flush()...)
}

func TestLogGrouper(t *testing.T) {
	// 3.9+: every line of an entry repeats the prefix.
	es := group(
		"2026-11-23 10:00:00.123456+00:00 [error] <0.5.0> closing AMQP connection <0.5.0> (a:1 -> b:2):",
		"2026-11-23 10:00:00.123456+00:00 [error] <0.5.0> missed heartbeats from client, timeout: 60s",
		"2026-11-23 10:00:01.000001+00:00 [info] <0.6.0> accepting AMQP connection <0.6.0> (c:1 -> b:2)",
		`Exception (501) Reason: "EOF"`,
	)
	if len(es) != 3 {
		t.Fatalf("got %d entries: %+v", len(es), es)
	}
	if es[0].Text != "closing AMQP connection <0.5.0> (a:1 -> b:2):\nmissed heartbeats from client, timeout: 60s" {
		t.Errorf("entry 0 = %q", es[0].Text)
	}
	if es[2].Text != `Exception (501) Reason: "EOF"` || es[2].Prefix != "" {
		t.Errorf("a bare line after a 3.9 entry is its own entry: %+v", es[2])
	}
	// 3.7/3.8: bare continuation lines.
	es = group(
		"2019-11-22 16:00:21.054 [warning] <0.7.0> closing AMQP connection <0.7.0> (a:1 -> b:2, vhost: '/', user: 'u'):",
		"client unexpectedly closed TCP connection",
		"2019-11-22 16:00:22.054 [info] <0.8.0> z",
	)
	if len(es) != 2 || !strings.HasSuffix(es[0].Text, "\nclient unexpectedly closed TCP connection") {
		t.Errorf("3.8 grouping: %+v", es)
	}
	// Old report blocks end at a blank line.
	es = group("=ERROR REPORT==== 23-Nov-2016::10:00:00 ===", "closing AMQP connection <0.9.0> (a:1 -> b:2):", "{handshake_timeout,frame_header}", "", "next")
	if len(es) != 2 || es[0].Level != "error" || !strings.Contains(es[0].Text, "handshake_timeout") || es[1].Text != "next" {
		t.Errorf("old block: %+v", es)
	}
}

func TestParseConnLog(t *testing.T) {
	cases := []struct {
		text string
		want ConnLog
	}{
		{"closing AMQP connection <0.27645.3> (10.0.4.18:54122 -> 10.0.1.7:5672 - billing-api):\nmissed heartbeats from client, timeout: 60s",
			ConnLog{Kind: LogClosing, PID: "<0.27645.3>", Name: "10.0.4.18:54122 -> 10.0.1.7:5672", Peer: "10.0.4.18:54122", Client: "billing-api", Reason: "missed heartbeats from client, timeout: 60s"}},
		{"closing AMQP connection <0.32602.3> (10.135.45.51:53066 -> 10.61.253.65:5671, vhost: '/iap', user: 'pronghorn'):\nclient unexpectedly closed TCP connection",
			ConnLog{Kind: LogClosing, PID: "<0.32602.3>", Name: "10.135.45.51:53066 -> 10.61.253.65:5671", Peer: "10.135.45.51:53066", Vhost: "/iap", User: "pronghorn", Reason: "client unexpectedly closed TCP connection"}},
		{"closing AMQP connection <0.1.0> ([::1]:53535 -> [::1]:5672, vhost: '/', user: 'guest')",
			ConnLog{Kind: LogClosing, PID: "<0.1.0>", Name: "[::1]:53535 -> [::1]:5672", Peer: "[::1]:53535", Vhost: "/", User: "guest"}},
		{"closing AMQP connection (10.0.0.5:51234 -> 10.0.0.10:5672, vhost: '/', user: 'guest', duration: '4M, 36s')",
			ConnLog{Kind: LogClosing, Name: "10.0.0.5:51234 -> 10.0.0.10:5672", Peer: "10.0.0.5:51234", Vhost: "/", User: "guest"}},
		{"Error on AMQP connection <0.1373.0> (127.0.0.1:55165 -> 127.0.0.1:5672 - perf-test, vhost: '/', user: 'guest', state: running), channel 1:\n operation basic.publish caused a connection exception unexpected_frame: \"expected content header for class 60, got non content header frame instead\"",
			ConnLog{Kind: LogConnError, PID: "<0.1373.0>", Name: "127.0.0.1:55165 -> 127.0.0.1:5672", Peer: "127.0.0.1:55165", Client: "perf-test", Vhost: "/", User: "guest", State: "running", Channel: 1,
				Reason: "operation basic.publish caused a connection exception unexpected_frame: \"expected content header for class 60, got non content header frame instead\"", Operation: "basic.publish", Constant: "unexpected_frame", Code: 505,
				ReplyText: "UNEXPECTED_FRAME - expected content header for class 60, got non content header frame instead"}},
		{"Error on AMQP connection <0.669.0> (100.96.3.221:55814 -> 100.96.2.100:5672, state: starting):\nPLAIN login refused: user 'roboshop' - invalid credentials",
			ConnLog{Kind: LogConnError, PID: "<0.669.0>", Name: "100.96.3.221:55814 -> 100.96.2.100:5672", Peer: "100.96.3.221:55814", State: "starting", Reason: "PLAIN login refused: user 'roboshop' - invalid credentials"}},
		{"Channel error on connection <0.589.0> (10.0.2.5:41960 -> 10.0.2.2:5672, vhost: '/', user: 'sm0ke'), channel 1:\noperation queue.declare caused a channel exception not_found: no queue 'q' in vhost '/'",
			ConnLog{Kind: LogChannelError, PID: "<0.589.0>", Name: "10.0.2.5:41960 -> 10.0.2.2:5672", Peer: "10.0.2.5:41960", Vhost: "/", User: "sm0ke", Channel: 1,
				Reason: "operation queue.declare caused a channel exception not_found: no queue 'q' in vhost '/'", Operation: "queue.declare", Constant: "not_found", Code: 404, ReplyText: "NOT_FOUND - no queue 'q' in vhost '/'"}},
		{`Closing connection <0.4242.0> because "Closed via management plugin"`,
			ConnLog{Kind: LogForced, PID: "<0.4242.0>", Reason: "Closed via management plugin", Constant: "connection_forced", Code: 320, ReplyText: "CONNECTION_FORCED - Closed via management plugin"}},
		{"Closing all connections in vhost '/' on node 'rabbit@e9014dbbe5f5' because the vhost is stopping",
			ConnLog{Kind: LogVhostStopping, Vhost: "/", Node: "rabbit@e9014dbbe5f5", Reason: "the vhost is stopping"}},
		{"memory resource limit alarm set on node rabbit@mq-1.\n\n**********************************************************\n*** Publishers will be blocked until this alarm clears ***",
			ConnLog{Kind: LogAlarmSet, Alarm: "memory", Node: "rabbit@mq-1"}},
		{"disk resource limit alarm cleared on node 'rabbit@rmq-0.rmq.ns.svc.cluster.local'",
			ConnLog{Kind: LogAlarmCleared, Alarm: "disk", Node: "rabbit@rmq-0.rmq.ns.svc.cluster.local"}},
		{"memory resource limit alarm cleared across the cluster", ConnLog{Kind: LogAlarmCleared, Alarm: "memory"}},
		{"memory resource limit alarm set on node 'amqptop-dev@localhost'.\n\n*** Publishers will be blocked until this alarm clears ***",
			ConnLog{Kind: LogAlarmSet, Alarm: "memory", Node: "amqptop-dev@localhost"}},
		{"connection <0.1113.0> (10.128.0.104:37148 -> 10.128.0.102:5672): user 'guest' authenticated and granted access to vhost '/'",
			ConnLog{Kind: LogAuthenticated, PID: "<0.1113.0>", Name: "10.128.0.104:37148 -> 10.128.0.102:5672", Peer: "10.128.0.104:37148", User: "guest", Vhost: "/"}},
	}
	for _, c := range cases {
		got, ok := ParseConnLog(c.text)
		if !ok || got != c.want {
			t.Errorf("ParseConnLog(%q)\n got %+v\nwant %+v", c.text, got, c.want)
		}
	}
	// Seen on 3.10.8 and 4.0.5 at the end of a boot and at stop_app.
	if got, ok := ParseConnLog("Server startup complete; 4 plugins started."); !ok || got.Kind != LogNodeStarted {
		t.Errorf("a startup line: %+v", got)
	}
	if got, ok := ParseConnLog("RabbitMQ is asked to stop..."); !ok || got.Kind != LogNodeStopping {
		t.Errorf("a stop line: %+v", got)
	}
}

func TestCodeOf(t *testing.T) {
	for in, want := range map[string]int{"UNEXPECTED_FRAME": 505, "unexpected_frame": 505, "CONNECTION-FORCED": 320, "ResourceLocked": 405, "precondition_failed": 406} {
		if got, ok := CodeOf(in); !ok || got != want {
			t.Errorf("CodeOf(%q) = %d, %v", in, got, ok)
		}
	}
	if _, ok := CodeOf("HEARTBEAT"); ok {
		t.Error("HEARTBEAT is no reply code")
	}
}

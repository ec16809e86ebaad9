package zoo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/amqptop/amqptop/causes"
	"github.com/amqptop/amqptop/testbroker"
)

// liveLibs are the libraries TestZooLive captures: the quick ones CI has.
var liveLibs = []string{"go", "pika", "node"}

// TestZooLive runs the capture for a few libraries against private nodes
// and checks what it produced structurally: one record per library and
// fault, none empty without a reason, none that is the zoo's own output.
func TestZooLive(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the zoo starts two RabbitMQ nodes and runs ~60 client programs")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	recs, err := Capture(ctx, CaptureOptions{Libs: liveLibs, Logf: t.Logf})
	if err != nil {
		if errors.Is(err, ErrClientUnavailable) || errors.Is(err, testbroker.ErrNotInstalled) {
			testbroker.Unavailable(t, err)
		}
		t.Fatalf("Capture: %v", err)
	}
	checkComplete(t, recs, liveLibs)
	// What the libraries say today is still diagnosed right: a library
	// that changes its words shows up here.
	for _, m := range Misfits(causes.Default(), recs) {
		t.Error(m)
	}
	// The records survive the fixture format.
	path := filepath.Join(t.TempDir(), FixtureName(recs[0].Broker))
	if err := WriteFixtures(path, recs); err != nil {
		t.Fatal(err)
	}
	back, err := ReadFixtures(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(recs) {
		t.Fatalf("read back %d records, wrote %d", len(back), len(recs))
	}
}

// checkComplete checks that recs holds exactly one well-formed record per
// library in libs and fault, all for one broker version.
func checkComplete(t *testing.T, recs []Record, libs []string) {
	t.Helper()
	seen := map[string]int{}
	for _, r := range recs {
		seen[r.Library+"/"+r.Fault]++
		if r.Broker != recs[0].Broker {
			t.Errorf("%s/%s: broker %q, others %q", r.Library, r.Fault, r.Broker, recs[0].Broker)
		}
		if f, ok := FaultByID(r.Fault); !ok || f.Expect != r.Expect {
			t.Errorf("%s/%s: unknown fault or wrong expect %q", r.Library, r.Fault, r.Expect)
		}
		for _, p := range r.Problems() {
			t.Errorf("%s/%s: %s", r.Library, r.Fault, p)
		}
	}
	for _, l := range libs {
		for _, f := range Faults {
			if n := seen[l+"/"+f.ID]; n != 1 {
				t.Errorf("%s/%s: %d records, want 1", l, f.ID, n)
			}
		}
	}
	if len(recs) != len(libs)*len(Faults) {
		t.Errorf("%d records, want %d", len(recs), len(libs)*len(Faults))
	}
}

// TestFixtures checks the committed fixture files: complete, sorted,
// well-formed.
func TestFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "rabbitmq-*.jsonl"))
	if len(files) == 0 {
		t.Skip("no fixture files in testdata")
	}
	var all []string
	for _, l := range Libraries {
		all = append(all, l.ID)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			recs, err := ReadFixtures(f)
			if err != nil {
				t.Fatal(err)
			}
			checkComplete(t, recs, all)
			want := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "rabbitmq-"), ".jsonl")
			if recs[0].Broker != want {
				t.Errorf("broker %q in a file named for %q", recs[0].Broker, want)
			}
			sorted := append([]Record(nil), recs...)
			SortRecords(sorted)
			for i := range recs {
				if recs[i].Library != sorted[i].Library || recs[i].Fault != sorted[i].Fault {
					t.Fatalf("record %d (%s/%s) out of order", i, recs[i].Library, recs[i].Fault)
				}
			}
		})
	}
}

func TestFaultTable(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Faults {
		if f.ID == "" || f.Expect == "" || f.How == "" {
			t.Errorf("incomplete fault %+v", f)
		}
		if seen[f.ID] {
			t.Errorf("duplicate fault %s", f.ID)
		}
		seen[f.ID] = true
		if f.Disruptive != (f.Action == ActStopApp || f.Action == ActKillNode || f.Action == ActPauseNode) {
			t.Errorf("%s: disruptive is %v for action %q", f.ID, f.Disruptive, f.Action)
		}
	}
	// Disruptive faults run last, on their own node.
	for i := 1; i < len(Faults); i++ {
		if Faults[i-1].Disruptive && !Faults[i].Disruptive {
			t.Errorf("%s (not disruptive) follows a disruptive fault", Faults[i].ID)
		}
	}
}

func TestFixtureRoundTrip(t *testing.T) {
	recs := []Record{
		{Library: "pika", Version: "1", Broker: "3.10.8", Fault: "wrong-password", Expect: "access-refused", Raised: "X", Text: "a <b> & \"c\"\nd"},
		{Library: "go", Version: "1", Broker: "3.10.8", Fault: "channel-max", Expect: "channel-max-exceeded", Raised: "Y", Text: "t",
			Log: []string{"closing AMQP connection <0.1.0> (a -> b):\nclient unexpectedly closed TCP connection"}, LogLevels: []string{"warning"}},
	}
	path := filepath.Join(t.TempDir(), "f.jsonl")
	if err := WriteFixtures(path, recs); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), `a <b> & \"c\"\nd`) {
		t.Errorf("texts must keep <, > and & unescaped: %s", data)
	}
	back, err := ReadFixtures(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || back[0].Library != "go" || back[1].Text != recs[0].Text || back[0].Log[0] != recs[1].Log[0] {
		t.Errorf("round trip: %+v", back)
	}
	if back[1].Log == nil || back[1].LogLevels == nil {
		t.Errorf("empty log must be written as [] (got nil)")
	}
}

func TestProblems(t *testing.T) {
	ok := Record{Library: "go", Version: "1", Broker: "3", Fault: "x", Raised: "E", Text: "boom"}
	if p := ok.Problems(); len(p) != 0 {
		t.Errorf("good record: %v", p)
	}
	for name, r := range map[string]Record{
		"empty":       {Library: "go", Version: "1", Broker: "3", Fault: "x"},
		"ready":       {Library: "go", Version: "1", Broker: "3", Fault: "x", Raised: "E", Text: "READY"},
		"usage":       {Library: "go", Version: "1", Broker: "3", Fault: "x", Raised: "E", Text: "Traceback (most recent call last):\n  ..."},
		"zoo failure": {Library: "go", Version: "1", Broker: "3", Fault: "x", Note: "zoo: timed out after 1m"},
	} {
		if len(r.Problems()) == 0 {
			t.Errorf("%s: no problem found in %+v", name, r)
		}
	}
	swallowed := Record{Library: "bunny", Version: "1", Broker: "3", Fault: "x", Note: "Bunny raised nothing; the channel is closed"}
	if p := swallowed.Problems(); len(p) != 0 {
		t.Errorf("a swallowed error with a note is a valid record: %v", p)
	}
}

// TestAssignLog checks the attribution of broker log entries to windows:
// by listener port, by connection process for entries naming only it,
// by acceptance time for entries written after the client ended, and
// node-wide entries only to disruptive windows.
func sortByTime(es []logEntry) {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Time.Before(es[j].Time) })
}

func TestAssignLog(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	a1 := &window{rec: &Record{Fault: "a1"}, port: 1001, start: at(0), end: at(100)}
	a2 := &window{rec: &Record{Fault: "a2"}, port: 1001, start: at(100), end: at(400)}
	b := &window{rec: &Record{Fault: "b"}, port: 1002, start: at(0), end: at(400)}
	d := &window{rec: &Record{Fault: "d"}, port: 1003, start: at(500), end: at(900), nodeWide: true}
	entries := []logEntry{
		{Time: at(10), Level: "info", Text: "accepting AMQP connection <0.10.0> (127.0.0.1:5000 -> 127.0.0.1:1001)"},
		{Time: at(20), Level: "info", Text: "accepting AMQP connection <0.20.0> (127.0.0.1:5001 -> 127.0.0.1:1002)"},
		{Time: at(30), Level: "error", Text: "Channel error on connection <0.20.0> (127.0.0.1:5001 -> 127.0.0.1:1002, vhost: '/', user: 'guest'), channel 1:\noperation queue.declare caused a channel exception not_found: x"},
		// written after a1's client ended, while a2 runs: still a1's
		{Time: at(150), Level: "warning", Text: "closing AMQP connection <0.10.0> (127.0.0.1:5000 -> 127.0.0.1:1001, vhost: '/', user: 'guest'):\nclient unexpectedly closed TCP connection"},
		{Time: at(160), Level: "info", PID: "<0.99.0>", Text: `Closing connection <0.20.0> because "zoo force-close"`},
		{Time: at(200), Level: "info", Text: "accepting AMQP connection <0.30.0> (127.0.0.1:5002 -> 127.0.0.1:1001)"},
		{Time: at(210), Level: "info", Text: "connection <0.30.0> (127.0.0.1:5002 -> 127.0.0.1:1001): user 'guest' authenticated and granted access to vhost '/'"},
		{Time: at(300), Level: "info", Text: "RabbitMQ is asked to stop..."}, // not in a disruptive window
		{Time: at(600), Level: "info", Text: "RabbitMQ is asked to stop..."},
		{Time: at(610), Level: "info", Text: "stopped TCP listener on 127.0.0.1:1001"},
		{Time: at(620), Level: "info", Text: "stopped TCP listener on 127.0.0.1:1003"},
		{Time: at(630), Level: "info", Text: "Statistics database started."},
		// 4.0 style: no process id in the setup and closing lines; the
		// closing line of b2's connection comes during b3's window.
		{Time: at(410), Level: "info", Text: "accepting AMQP connection 127.0.0.1:6000 -> 127.0.0.1:1002"},
		{Time: at(411), Level: "info", Text: "connection 127.0.0.1:6000 -> 127.0.0.1:1002 has a client-provided name: zoo-x"},
		{Time: at(412), Level: "info", Text: "connection 127.0.0.1:6000 -> 127.0.0.1:1002 - zoo-x: user 'guest' authenticated and granted access to vhost '/'"},
		{Time: at(420), Level: "error", Text: "Channel error on connection <0.40.0> (127.0.0.1:6000 -> 127.0.0.1:1002, vhost: '/', user: 'guest'), channel 1:\noperation basic.get caused a channel exception not_found: y"},
		{Time: at(460), Level: "info", Text: "accepting AMQP connection 127.0.0.1:6001 -> 127.0.0.1:1002"},
		{Time: at(470), Level: "warning", Text: "closing AMQP connection (127.0.0.1:6000 -> 127.0.0.1:1002 - zoo-x, vhost: '/', user: 'guest', duration: '60ms'):\nclient unexpectedly closed TCP connection"},
	}
	b2 := &window{rec: &Record{Fault: "b2"}, port: 1002, start: at(400), end: at(450)}
	b3 := &window{rec: &Record{Fault: "b3"}, port: 1002, start: at(450), end: at(600)}
	sortByTime(entries)
	assignLog(entries, []*window{a1, a2, b, d, b2, b3})
	check := func(w *window, want ...string) {
		t.Helper()
		if len(w.rec.Log) != len(want) || len(w.rec.LogLevels) != len(want) {
			t.Errorf("%s: log %q, want %d entries starting %q", w.rec.Fault, w.rec.Log, len(want), want)
			return
		}
		for i, p := range want {
			if !strings.HasPrefix(w.rec.Log[i], p) {
				t.Errorf("%s: entry %d = %q, want prefix %q", w.rec.Fault, i, w.rec.Log[i], p)
			}
		}
	}
	check(a1, "closing AMQP connection <0.10.0>")
	check(a2) // its connection's setup lines are noise
	check(b, "Channel error on connection <0.20.0>", "Closing connection <0.20.0>")
	check(d, "RabbitMQ is asked to stop", "stopped TCP listener on 127.0.0.1:1003")
	check(b2, "Channel error on connection <0.40.0>", "closing AMQP connection (127.0.0.1:6000")
	check(b3)
}

func TestMatrixAndSections(t *testing.T) {
	recs := []Record{
		{Library: "go", Broker: "3.10.8", Fault: "refused-port", Text: "dial tcp 127.0.0.1:41581: connect: connection refused"},
		{Library: "go", Broker: "4.0.5", Fault: "refused-port", Text: "dial tcp 127.0.0.1:39999: connect: connection refused"},
		{Library: "go", Broker: "3.10.8", Fault: "perm-queue", Text: "a | b"},
		{Library: "go", Broker: "4.0.5", Fault: "perm-queue", Text: "c"},
		{Library: "cli", Broker: "3.10.8", Fault: "channel-max", Skipped: "one channel"},
	}
	m := Matrix(recs, 40)
	for _, want := range []string{
		"| go | `dial tcp 127.0.0.1:41581: connect: conn…` | same |",
		"| go | `a \\| b` | `c` |",
		"| cli | *skipped: one channel* | — |",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("matrix lacks %q:\n%s", want, m)
		}
	}
	doc := "a\n<!-- BEGIN X -->\nold\n<!-- END X -->\nb\n"
	got, ok := ReplaceSection(doc, "X", "new\n")
	if !ok || got != "a\n<!-- BEGIN X -->\nnew\n<!-- END X -->\nb\n" {
		t.Errorf("ReplaceSection = %q, %v", got, ok)
	}
	if _, ok := ReplaceSection(doc, "Y", ""); ok {
		t.Error("ReplaceSection found a missing section")
	}
	if !strings.Contains(FaultTable(), "| `node-killed` |") {
		t.Error("fault table lacks node-killed")
	}
}

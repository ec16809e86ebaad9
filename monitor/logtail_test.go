package monitor

import (
	"context"
	"fmt"
	"github.com/amqptop/amqptop/model/wire"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/amqptop/amqptop/model"
)

// The tailer polls every 10 ms in these tests, so its quiet period is the
// 200 ms floor and a partial line is given up on after 1 s.
const logTestPoll = 10 * time.Millisecond

// logRecorder collects what a LogFile emits.
type logRecorder struct {
	mu  sync.Mutex
	obs []model.Observation
}

func (r *logRecorder) emit(o model.Observation) {
	r.mu.Lock()
	r.obs = append(r.obs, o)
	r.mu.Unlock()
}

func (r *logRecorder) entries() []model.LogEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	var es []model.LogEntry
	for _, o := range r.obs {
		if e, ok := o.(model.LogEntry); ok {
			es = append(es, e)
		}
	}
	return es
}

func (r *logRecorder) statuses() []model.SourceStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ss []model.SourceStatus
	for _, o := range r.obs {
		if s, ok := o.(model.SourceStatus); ok {
			ss = append(ss, s)
		}
	}
	return ss
}

// waitEntries waits until at least n entries were emitted and returns them.
func (r *logRecorder) waitEntries(t *testing.T, n int) []model.LogEntry {
	t.Helper()
	var es []model.LogEntry
	logWaitFor(t, fmt.Sprintf("%d entries", n), func() bool { es = r.entries(); return len(es) >= n })
	return es
}

// waitStatus waits for a status of health h whose detail contains detail.
func (r *logRecorder) waitStatus(t *testing.T, h model.Health, detail string) model.SourceStatus {
	t.Helper()
	var got model.SourceStatus
	logWaitFor(t, fmt.Sprintf("status %v %q", h, detail), func() bool {
		for _, s := range r.statuses() {
			if s.Health == h && strings.Contains(s.Detail, detail) {
				got = s
				return true
			}
		}
		return false
	})
	return got
}

func logWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// startLog runs lf until the test ends, then checks that Run returns nil
// promptly after cancellation.
func startLog(t *testing.T, lf *LogFile) *logRecorder {
	t.Helper()
	if lf.Poll == 0 {
		lf.Poll = logTestPoll
	}
	r := &logRecorder{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- lf.Run(ctx, r.emit) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v, want nil", err)
			}
		case <-time.After(time.Second):
			t.Errorf("Run did not return after cancellation")
		}
	})
	return r
}

// log310 formats a RabbitMQ 3.9+ entry: every line repeats the prefix.
func log310(sec int, level, pid string, lines ...string) string {
	prefix := fmt.Sprintf("2026-11-23 10:00:%02d.123456+00:00 [%s] %s ", sec, level, pid)
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(prefix + l + "\n")
	}
	return b.String()
}

// log38 formats a RabbitMQ 3.7/3.8 entry: continuation lines are bare.
func log38(sec int, level, pid string, lines ...string) string {
	return fmt.Sprintf("2019-11-22 16:00:%02d.054 [%s] %s ", sec, level, pid) + strings.Join(lines, "\n") + "\n"
}

var (
	logHeartbeatLines = []string{
		"closing AMQP connection <0.1234.0> (10.0.0.5:51234 -> 10.0.0.10:5672 - billing-api):",
		"missed heartbeats from client, timeout: 60s",
	}
	logHeartbeatText = strings.Join(logHeartbeatLines, "\n")
	logAcceptText    = "accepting AMQP connection <0.1240.0> (10.0.0.6:40000 -> 10.0.0.10:5672)"
	logAuthText      = "connection <0.1240.0> (10.0.0.6:40000 -> 10.0.0.10:5672): user 'orders' authenticated and granted access to vhost '/'"
	logChanErrLines  = []string{
		"Channel error on connection <0.1240.0> (10.0.0.6:40000 -> 10.0.0.10:5672, vhost: '/', user: 'orders'), channel 1:",
		"operation queue.declare caused a channel exception not_found: no queue 'invoices' in vhost '/'",
	}
)

func appendLog(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// logWriter opens path the way the broker does: appending, kept open.
func logWriter(t *testing.T, path string) *os.File {
	t.Helper()
	w, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func logWrite(t *testing.T, w *os.File, s string) {
	t.Helper()
	if _, err := w.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func logTexts(es []model.LogEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Text
	}
	return out
}

func wantLogTexts(t *testing.T, es []model.LogEntry, want ...string) {
	t.Helper()
	got := logTexts(es)
	if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
		t.Errorf("entries:\n got  %q\n want %q", got, want)
	}
}

func TestLogFileAppendWhileRunning(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rabbit@broker-1.log")
	appendLog(t, path, log310(0, "info", "<0.1.0>", "old entry, written before amqptop started"))
	r := startLog(t, &LogFile{Path: path})
	r.waitStatus(t, model.HealthUp, "tailing "+path)

	appendLog(t, path, log310(1, "info", "<0.1240.0>", logAcceptText))
	appendLog(t, path, log310(2, "info", "<0.1240.0>", logAuthText))
	appendLog(t, path, log310(3, "error", "<0.1240.0>", logChanErrLines...))
	es := r.waitEntries(t, 3)
	wantLogTexts(t, es, logAcceptText, logAuthText, strings.Join(logChanErrLines, "\n"))

	e := es[2]
	if e.Level != "error" || e.PID != "<0.1240.0>" || e.Node != "rabbit@broker-1" || e.Source != model.SourceLog {
		t.Errorf("entry fields: %+v", e)
	}
	if want := time.Date(2026, 11, 23, 10, 0, 3, 123456000, time.UTC); !e.Time.Equal(want) {
		t.Errorf("entry time %v, want the entry's own %v", e.Time, want)
	}
	if c, ok := wire.ParseConnLog(e.Text); !ok || c.Kind != wire.LogChannelError || c.Channel != 1 || c.Constant != "not_found" {
		t.Errorf("the model cannot read the entry: %+v %v", c, ok)
	}
	if ss := r.statuses(); len(ss) != 1 || ss[0].Of != model.SourceLog {
		t.Errorf("statuses: %+v", ss)
	}
}

func TestLogFileMultiLineEntry(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rabbit@broker-1.log")
	appendLog(t, path, "")
	r := startLog(t, &LogFile{Path: path})
	r.waitStatus(t, model.HealthUp, "")

	// One write holding a two-line 3.10 entry and the start of the next.
	appendLog(t, path, log310(0, "error", "<0.1234.0>", logHeartbeatLines...)+log310(1, "info", "<0.1240.0>", logAcceptText))
	es := r.waitEntries(t, 2)
	wantLogTexts(t, es, logHeartbeatText, logAcceptText)
	c, ok := wire.ParseConnLog(es[0].Text)
	if !ok || c.Kind != wire.LogClosing || c.Client != "billing-api" || c.Reason != "missed heartbeats from client, timeout: 60s" {
		t.Errorf("heartbeat close as the model reads it: %+v %v", c, ok)
	}
}

func TestLogFile38Continuation(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rabbit@old.log")
	r := startLog(t, &LogFile{Path: path, FromStart: true})
	closeLines := []string{
		"closing AMQP connection <0.7.0> (10.0.0.7:5000 -> 10.0.0.10:5672, vhost: '/', user: 'shop'):",
		"client unexpectedly closed TCP connection",
	}
	appendLog(t, path, log38(21, "warning", "<0.7.0>", closeLines...)+log38(22, "info", "<0.8.0>", logAcceptText))
	es := r.waitEntries(t, 2)
	wantLogTexts(t, es, strings.Join(closeLines, "\n"), logAcceptText)
	if es[0].Level != "warning" || es[0].PID != "<0.7.0>" {
		t.Errorf("3.8 entry: %+v", es[0])
	}
	// 3.8 writes local time without a zone; amqptop runs on the same host.
	if want := time.Date(2019, 11, 22, 16, 0, 21, 54e6, time.Local); !es[0].Time.Equal(want) {
		t.Errorf("3.8 time %v, want %v", es[0].Time, want)
	}
}

func TestLogFileSplitWrite(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rabbit@broker-1.log")
	w := logWriter(t, path)
	r := startLog(t, &LogFile{Path: path})
	r.waitStatus(t, model.HealthUp, "")

	entry := log310(0, "error", "<0.1234.0>", logHeartbeatLines...)
	cut := strings.Index(entry, "heartbeats")
	logWrite(t, w, entry[:cut])
	// Longer than the quiet period, shorter than the wait for a newline.
	time.Sleep(400 * time.Millisecond)
	if es := r.entries(); len(es) != 0 {
		t.Fatalf("half an entry was emitted: %q", logTexts(es))
	}
	logWrite(t, w, entry[cut:])
	r.waitEntries(t, 1)
	time.Sleep(50 * time.Millisecond) // nothing more follows
	wantLogTexts(t, r.entries(), logHeartbeatText)
}

func TestLogFileQuietFlush(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rabbit@broker-1.log")
	w := logWriter(t, path)
	r := startLog(t, &LogFile{Path: path})
	r.waitStatus(t, model.HealthUp, "")

	// The last entry has no successor: it is emitted after the quiet period.
	start := time.Now()
	logWrite(t, w, log310(0, "error", "<0.1234.0>", logHeartbeatLines...))
	es := r.waitEntries(t, 1)
	took := time.Since(start)
	wantLogTexts(t, es, logHeartbeatText)
	if took < 190*time.Millisecond || took > time.Second {
		t.Errorf("last entry emitted after %v, want the quiet period (200 ms)", took)
	}
}

func TestLogFilePartialLineFlushedWhenWriterStops(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rabbit@broker-1.log")
	w := logWriter(t, path)
	r := startLog(t, &LogFile{Path: path})
	r.waitStatus(t, model.HealthUp, "")

	start := time.Now()
	logWrite(t, w, "2026-11-23 10:00:00.123456+00:00 [error] <0.99.0> Slogan: eheap_alloc: Cannot allocate 1 byte") // no newline: the node died
	es := r.waitEntries(t, 1)
	if took := time.Since(start); took < time.Second {
		t.Errorf("partial line emitted after %v, want it held ~1 s for its newline", took)
	}
	wantLogTexts(t, es, "Slogan: eheap_alloc: Cannot allocate 1 byte")
}

func TestLogFileLogrotateRename(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rabbit@broker-1.log")
	w := logWriter(t, path)
	r := startLog(t, &LogFile{Path: path})
	r.waitStatus(t, model.HealthUp, "")

	logWrite(t, w, log310(1, "info", "<0.1.0>", "a1"))
	logWrite(t, w, log310(2, "error", "<0.2.0>", "a2", "a2 second line"))
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	// The broker notices the rotation late: one more entry lands in the
	// old file after logrotate created the new one.
	nw := logWriter(t, path)
	time.Sleep(30 * time.Millisecond)
	logWrite(t, w, log310(3, "info", "<0.3.0>", "a3"))
	logWrite(t, nw, log310(4, "info", "<0.4.0>", "b1"))
	logWrite(t, nw, log310(5, "warning", "<0.5.0>", "b2", "b2 second line"))

	r.waitEntries(t, 5)
	time.Sleep(50 * time.Millisecond) // nothing more follows
	wantLogTexts(t, r.entries(), "a1", "a2\na2 second line", "a3", "b1", "b2\nb2 second line")
	for _, s := range r.statuses() {
		if s.Health != model.HealthUp {
			t.Errorf("rotation reported %+v", s)
		}
	}
}

func TestLogFileCopyTruncate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rabbit@broker-1.log")
	w := logWriter(t, path)
	r := startLog(t, &LogFile{Path: path})
	r.waitStatus(t, model.HealthUp, "")

	logWrite(t, w, log310(1, "info", "<0.1.0>", "a1 "+strings.Repeat("x", 100)))
	logWrite(t, w, log310(2, "info", "<0.2.0>", "a2 "+strings.Repeat("x", 100)))
	r.waitEntries(t, 2)

	// logrotate copytruncate: copy, then truncate in place; the broker
	// keeps appending through its open descriptor.
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".1", old, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	logWrite(t, w, log310(3, "info", "<0.3.0>", "b1"))
	r.waitEntries(t, 3)

	// Truncated again and regrown past the old offset before a poll can
	// see the file shorter: the bytes before the offset have changed.
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	logWrite(t, w, log310(4, "info", "<0.4.0>", "c1 "+strings.Repeat("y", 300))+log310(5, "info", "<0.5.0>", "c2"))
	r.waitEntries(t, 5)
	time.Sleep(50 * time.Millisecond)
	wantLogTexts(t, r.entries(), "a1 "+strings.Repeat("x", 100), "a2 "+strings.Repeat("x", 100), "b1", "c1 "+strings.Repeat("y", 300), "c2")
}

func TestLogFileMissingThenCreated(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rabbit@broker-1.log")
	r := startLog(t, &LogFile{Path: path})
	s := r.waitStatus(t, model.HealthDown, "")
	if want := "waiting for " + path + ": no such file"; s.Detail != want || s.Of != model.SourceLog || s.Condition != "broker-log-missing" {
		t.Errorf("status %+v, want detail %q, condition broker-log-missing", s, want)
	}
	time.Sleep(5 * logTestPoll)
	if n := len(r.statuses()); n != 1 {
		t.Errorf("%d statuses while waiting, want the Down once: %+v", n, r.statuses())
	}
	// The file the broker creates is new: it is read from its start.
	appendLog(t, path, log310(0, "info", "<0.1.0>", "Starting RabbitMQ 3.10.8 on Erlang 24.3"))
	r.waitStatus(t, model.HealthUp, "tailing "+path)
	wantLogTexts(t, r.waitEntries(t, 1), "Starting RabbitMQ 3.10.8 on Erlang 24.3")
}

func TestLogFileDeletedAndRecreated(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rabbit@broker-1.log")
	appendLog(t, path, "")
	r := startLog(t, &LogFile{Path: path})
	r.waitStatus(t, model.HealthUp, "")
	appendLog(t, path, log310(1, "info", "<0.1.0>", "before"))
	r.waitEntries(t, 1)

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	r.waitStatus(t, model.HealthDown, "waiting for "+path)
	appendLog(t, path, log310(2, "info", "<0.2.0>", "after"))
	logWaitFor(t, "Up again", func() bool { return len(r.statuses()) == 3 })
	wantLogTexts(t, r.waitEntries(t, 2), "before", "after")
	var hs []model.Health
	for _, s := range r.statuses() {
		hs = append(hs, s.Health)
	}
	if fmt.Sprint(hs) != "[up down up]" {
		t.Errorf("statuses %v, want [up down up]", hs)
	}
}

func TestLogFilePermissionDenied(t *testing.T) {
	// Root reads any file whatever its mode, so there is nothing to test
	// as root; TestLogFilePermissionDeniedReported covers the reporting.
	if os.Geteuid() == 0 {
		t.Skip("running as root: a mode-000 file is readable anyway")
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rabbit@broker-1.log")
	appendLog(t, path, log310(0, "info", "<0.1.0>", "old"))
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	r := startLog(t, &LogFile{Path: path})
	s := r.waitStatus(t, model.HealthDown, "permission denied")
	if !strings.Contains(s.Detail, path) || !strings.Contains(s.Hint, "rabbitmq group") || s.Condition != "broker-log-unreadable" {
		t.Errorf("status %+v", s)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	r.waitStatus(t, model.HealthUp, "tailing")
	appendLog(t, path, log310(1, "info", "<0.2.0>", "new"))
	wantLogTexts(t, r.waitEntries(t, 1), "new")
}

// TestLogFilePermissionDeniedReported fakes the open error, so that the
// status and its hint are tested when the tests run as root too.
func TestLogFilePermissionDeniedReported(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rabbit@broker-1.log")
	appendLog(t, path, log310(0, "info", "<0.1.0>", "old"))
	var denied atomic.Bool
	denied.Store(true)
	lf := &LogFile{Path: path, open: func(name string) (*os.File, error) {
		if denied.Load() {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
		}
		return os.Open(name)
	}}
	r := startLog(t, lf)
	s := r.waitStatus(t, model.HealthDown, "")
	if s.Detail != "cannot read "+path+": permission denied" || s.Hint != logReadHint || s.Condition != "broker-log-unreadable" {
		t.Errorf("status %+v", s)
	}
	time.Sleep(5 * logTestPoll)
	if n := len(r.statuses()); n != 1 {
		t.Errorf("%d statuses, want the Down once", n)
	}
	denied.Store(false)
	r.waitStatus(t, model.HealthUp, "tailing "+path)
	appendLog(t, path, log310(1, "info", "<0.2.0>", "new"))
	wantLogTexts(t, r.waitEntries(t, 1), "new") // still only new entries: the file existed at start
}

func TestLogFileLongLine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rabbit@broker-1.log")
	appendLog(t, path, "")
	r := startLog(t, &LogFile{Path: path})
	r.waitStatus(t, model.HealthUp, "")

	long := log310(0, "error", "<0.5.0>", "crash report "+strings.Repeat("z", 3<<20))
	appendLog(t, path, long+log310(1, "info", "<0.6.0>", logAcceptText))
	es := r.waitEntries(t, 2)
	wantLogTexts(t, es[1:], logAcceptText)
	e := es[0]
	dropped := len(long) - 1 - maxLogLine // without the newline
	marker := fmt.Sprintf(" … [amqptop: line cut at %d bytes, %d more dropped]", maxLogLine, dropped)
	if !strings.HasPrefix(e.Text, "crash report zzz") || !strings.HasSuffix(e.Text, marker) {
		t.Errorf("cut line ends %q, want the marker %q", e.Text[max(0, len(e.Text)-80):], marker)
	}
	if len(e.Text) > maxLogLine+len(marker) || e.Level != "error" || e.PID != "<0.5.0>" {
		t.Errorf("cut line: %d bytes, level %q, pid %q", len(e.Text), e.Level, e.PID)
	}
}

func TestLogFileMalformedLines(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rabbit@broker-1.log")
	r := startLog(t, &LogFile{Path: path, FromStart: true})
	appendLog(t, path, log310(0, "info", "<0.1.0>", "first")+
		"not a log line at all\n"+
		"\x00\x00bin\xff\xfeary\r\n"+
		"\n"+
		"2026-13-45 99:99:99 [bogus] <x> odd prefix\n"+
		log310(1, "info", "<0.2.0>", "last"))
	es := r.waitEntries(t, 5)
	time.Sleep(50 * time.Millisecond)
	wantLogTexts(t, r.entries(), "first", "not a log line at all", "bin\uFFFDary", "<x> odd prefix", "last")
	if es[1].Level != "" || es[1].Time.IsZero() {
		t.Errorf("a bare line gets no level and the time it was read: %+v", es[1])
	}
}

func TestLogFileFromStart(t *testing.T) {
	t.Parallel()
	existing := log310(0, "info", "<0.1.0>", "e1") + log310(1, "error", "<0.1234.0>", logHeartbeatLines...)
	t.Run("from start", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "rabbit@broker-1.log")
		appendLog(t, path, existing)
		r := startLog(t, &LogFile{Path: path, FromStart: true})
		r.waitEntries(t, 2)
		appendLog(t, path, log310(2, "info", "<0.3.0>", "e3"))
		wantLogTexts(t, r.waitEntries(t, 3), "e1", logHeartbeatText, "e3")
	})
	t.Run("default: at the end", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "rabbit@broker-1.log")
		appendLog(t, path, existing)
		r := startLog(t, &LogFile{Path: path})
		r.waitStatus(t, model.HealthUp, "")
		appendLog(t, path, log310(2, "info", "<0.3.0>", "e3"))
		r.waitEntries(t, 1)
		time.Sleep(50 * time.Millisecond)
		wantLogTexts(t, r.entries(), "e3")
	})
	t.Run("default: the end is mid-line", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "rabbit@broker-1.log")
		appendLog(t, path, existing+"2026-11-23 10:00:01.500000+00:00 [info] <0.2.0> half of a")
		r := startLog(t, &LogFile{Path: path})
		r.waitStatus(t, model.HealthUp, "")
		appendLog(t, path, " line\n"+log310(2, "info", "<0.3.0>", "e3"))
		r.waitEntries(t, 1)
		time.Sleep(50 * time.Millisecond)
		wantLogTexts(t, r.entries(), "e3")
	})
}

func TestLogFileNode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []struct{ file, node, want string }{
		{"rabbit@broker-1.log", "", "rabbit@broker-1"},
		{"rabbit@broker-1.log", "rabbit@other", "rabbit@other"},
		{"rabbit.log", "", ""},
	} {
		path := filepath.Join(dir, c.file)
		appendLog(t, path, log310(0, "info", "<0.1.0>", "hello"))
		r := &logRecorder{}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- (&LogFile{Path: path, Node: c.node, Poll: logTestPoll, FromStart: true}).Run(ctx, r.emit)
		}()
		es := r.waitEntries(t, 1)
		cancel()
		<-done
		if es[0].Node != c.want {
			t.Errorf("%s (Node %q): entry node %q, want %q", c.file, c.node, es[0].Node, c.want)
		}
	}
	for in, want := range map[string]string{
		"/var/log/rabbitmq/rabbit@db-2.log":         "rabbit@db-2",
		"/var/log/rabbitmq/rabbit@db-2_upgrade.log": "rabbit@db-2",
		"/var/log/rabbitmq/rabbit@db-2.log.1":       "",
		"/var/log/rabbitmq/log/crash.log":           "",
		"@.log":                                     "",
	} {
		if got := LogNodeFromPath(in); got != want {
			t.Errorf("LogNodeFromPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLogFileCancel(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "rabbit@broker-1.log")
	appendLog(t, path, "")
	r := &logRecorder{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// A long poll: cancellation must not wait for the next one.
	go func() { done <- (&LogFile{Path: path, Poll: time.Hour}).Run(ctx, r.emit) }()
	r.waitStatus(t, model.HealthUp, "")
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
		if took := time.Since(start); took > 100*time.Millisecond {
			t.Errorf("Run took %v to return", took)
		}
	case <-time.After(time.Second):
		t.Fatal("Run did not return after cancellation")
	}
	if err := (&LogFile{}).Run(context.Background(), r.emit); err == nil {
		t.Error("Run without a path: want an error")
	}
}

// A FIFO named as the broker log is refused at once: os.Open on it would
// block until a writer appears, and with it --for and SIGTERM.
func TestLogFileFIFOIsRefused(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "rabbit.log")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	lf := &LogFile{Path: fifo, Node: "rabbit@h"}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var mu sync.Mutex
	var got []model.SourceStatus
	done := make(chan struct{})
	go func() {
		lf.Run(ctx, func(o model.Observation) {
			if st, ok := o.(model.SourceStatus); ok {
				mu.Lock()
				got = append(got, st)
				mu.Unlock()
				if st.Condition == condBrokerLogNotAFile {
					cancel()
				}
			}
		})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the tailer blocked on a FIFO and ignored its context")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) == 0 || got[len(got)-1].Condition != condBrokerLogNotAFile || !strings.Contains(got[len(got)-1].Detail, "not a regular file") {
		t.Errorf("statuses: %+v", got)
	}
}

package monitor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/amqptop/amqptop/model/wire"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/amqptop/amqptop/model"
)

// Limits and timings of LogFile.
const (
	defaultLogPoll = 250 * time.Millisecond
	minLogQuiet    = 200 * time.Millisecond // floor of the quiet period
	minLogStall    = time.Second            // floor of the wait for a line's missing newline
	maxLogLine     = 1 << 20                // bytes kept of one line; the rest is dropped with a marker
	maxLogEntry    = 4 << 20                // bytes kept of one multi-line entry before it is cut
	logReadChunk   = 64 << 10
	logSigLen      = 64 // bytes remembered before the read offset, to notice a file rewritten in place
)

const logReadHint = "run amqptop as a user that can read the log, e.g. in the rabbitmq group"

// LogFile tails a RabbitMQ node's log file. It is a model.Feed.
//
// What it emits:
//   - one model.LogEntry per complete log entry, in file order, with
//     Meta.Time the entry's own timestamp (timestamps without a zone, as
//     3.7/3.8 and the old "=ERROR REPORT====" blocks write them, are read in
//     the local zone: amqptop runs on the broker's host), or the time it was
//     read when the line has none. Multi-line entries are joined with
//     wire.LogGrouper. An entry is complete when the next one starts, or
//     when no byte arrived for the quiet period (2×Poll, at least 200 ms).
//   - a model.SourceStatus (Of: model.SourceLog) whenever its health,
//     detail or hint changes: Up "tailing PATH" once reading, Down while the
//     file is missing, unreadable or not a regular file.
//
// Decisions:
//   - It starts at the end of the file (only new entries) unless FromStart.
//     A file that did not exist at start is read from its beginning when it
//     appears, as is every file that replaces it.
//   - A line without its newline yet waits for it: RabbitMQ writes whole
//     lines, so a partial line means the writer is mid-write. When no byte
//     arrived for 4× the quiet period (at least 1 s), the writer is taken to
//     have stopped mid-line (a crash, a full disk) and the partial line is
//     delivered as it is, so the last words of a dying node are not held
//     back. Bytes arriving after that start a new line.
//   - Rotation: every poll compares the file at Path with the open one.
//     When Path is a different file (logrotate's rename + create) or gone,
//     the old file is read on until it has been quiet for the quiet period
//     (a writer that reopens its log lazily still finishes there first),
//     then it is closed and the new file is read from its beginning, so
//     nothing is lost and order is kept. When the file shrinks below the
//     read offset (copytruncate), or the bytes just before the offset
//     changed (truncated and regrown past the offset between two polls),
//     it is read again from 0. NUL bytes (the hole a non-appending writer
//     leaves after a truncation) are dropped.
//   - Memory is bounded: the file is read in 64 KiB chunks, a line longer
//     than 1 MiB is cut with a marker saying how much was dropped, and an
//     entry growing past 4 MiB is delivered cut, its further lines following
//     as entries of their own.
//   - Lines that are not log lines are passed through as entries (no level,
//     no pid); invalid UTF-8 is replaced.
//   - Run returns nil when ctx is done; an entry still being assembled then
//     is dropped. It returns an error only when Path is empty.
type LogFile struct {
	Path string
	// Node is the node name put on entries. Empty: taken from a file name
	// of the form "<node>.log" with an "@" in it (rabbit@host.log), or left
	// empty.
	Node string
	// Poll is how often the file is checked when idle (default 250 ms).
	Poll time.Duration
	// FromStart reads the existing file from its beginning (tests,
	// replays); by default only entries written after start are read.
	FromStart bool

	open func(name string) (*os.File, error) // os.Open; replaced by tests
}

// Run implements model.Feed.
func (f *LogFile) Run(ctx context.Context, emit func(model.Observation)) error {
	if f.Path == "" {
		return errors.New("broker log: no file given")
	}
	t := newLogTailer(f, emit)
	defer t.closeFile()
	tick := time.NewTicker(t.poll)
	defer tick.Stop()
	for {
		t.step(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// LogNodeFromPath returns the node name in a log file's name
// ("/var/log/rabbitmq/rabbit@host.log" → "rabbit@host"), or "".
func LogNodeFromPath(path string) string {
	base := filepath.Base(path)
	name, ok := strings.CutSuffix(base, ".log")
	if !ok {
		return ""
	}
	name = strings.TrimSuffix(name, "_upgrade") // rabbit@host_upgrade.log
	if i := strings.IndexByte(name, '@'); i <= 0 || i == len(name)-1 {
		return ""
	}
	return name
}

// logTailer is the state of one Run.
type logTailer struct {
	path, node         string
	poll, quiet, stall time.Duration
	atEnd              bool // start the next opened file at its end
	open               func(string) (*os.File, error)
	emit               func(model.Observation)

	file     *os.File
	info     os.FileInfo // identity of file
	off      int64       // read offset in file
	sig      []byte      // the bytes just before off
	lastData time.Time   // when bytes last arrived (or the file was opened)
	moved    time.Time   // when Path was first seen not to be file; zero while it is

	line    []byte // the line being read, without its newline, at most maxLogLine
	cut     int64  // bytes of that line dropped
	skip    bool   // drop bytes up to the next newline (started mid-line)
	grp     wire.LogGrouper
	pending int // bytes in the grouper's entry in progress

	buf     []byte
	scratch [logSigLen]byte

	health model.Health
	detail string
	advice advice
}

func newLogTailer(f *LogFile, emit func(model.Observation)) *logTailer {
	t := &logTailer{
		path:  f.Path,
		node:  f.Node,
		poll:  f.Poll,
		atEnd: !f.FromStart,
		open:  f.open,
		emit:  emit,
		buf:   make([]byte, logReadChunk),
	}
	if t.node == "" {
		t.node = LogNodeFromPath(f.Path)
	}
	if t.poll <= 0 {
		t.poll = defaultLogPoll
	}
	t.quiet = max(2*t.poll, minLogQuiet)
	t.stall = max(4*t.quiet, minLogStall)
	if t.open == nil {
		t.open = openLog
	}
	return t
}

// openLog opens a log file for reading without ever blocking: a FIFO or a
// device named by mistake would block os.Open until a writer appears (and
// ignore --for and SIGTERM), so it is opened non-blocking, and a path that
// is not a regular file is refused by the caller.
func openLog(name string) (*os.File, error) {
	if fi, err := os.Stat(name); err == nil && !fi.Mode().IsRegular() {
		fh, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		return fh, err // Stat on it says it is not a regular file
	}
	return os.Open(name)
}

// step does one poll: open the file if needed, notice rotation and
// truncation, read what is new, and flush what has gone quiet.
func (t *logTailer) step(ctx context.Context) {
	for range 2 { // a second round reads the file that replaced a rotated one
		if t.file == nil && !t.openFile() {
			return
		}
		if !t.readFile(ctx) || ctx.Err() != nil {
			return
		}
		now := time.Now()
		idle := now.Sub(t.lastData)
		if !t.pathMoved() {
			t.moved = time.Time{}
			t.flushIdle(idle)
			return
		}
		if t.moved.IsZero() {
			t.moved = now
		}
		if idle < t.quiet || now.Sub(t.moved) < t.quiet {
			t.flushIdle(idle)
			return // the old file may still be written to: read it on
		}
		t.finish()
		t.closeFile()
	}
}

// openFile opens Path and reports whether it is now open.
func (t *logTailer) openFile() bool {
	fh, err := t.open(t.path)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			t.atEnd = false // whatever appears there is new
			t.setStatus(model.HealthDown, "waiting for "+t.path+": no such file", advice{condBrokerLogMissing,
				"amqptop reads the log once it exists; check the path (RabbitMQ writes /var/log/rabbitmq/<node>.log by default)"})
		case errors.Is(err, fs.ErrPermission):
			t.setStatus(model.HealthDown, "cannot read "+t.path+": permission denied", advice{condBrokerLogUnreadable, logReadHint})
		default:
			t.setStatus(model.HealthDown, "opening broker log: "+err.Error(), advice{})
		}
		return false
	}
	fi, err := fh.Stat()
	if err != nil {
		fh.Close()
		t.setStatus(model.HealthDown, "opening broker log: "+err.Error(), advice{})
		return false
	}
	if !fi.Mode().IsRegular() {
		fh.Close()
		t.setStatus(model.HealthDown, t.path+" is not a regular file", advice{condBrokerLogNotAFile,
			"the log to tail is the node's log file, e.g. /var/log/rabbitmq/rabbit@HOST.log"})
		return false
	}
	t.file, t.info = fh, fi
	t.off, t.sig, t.moved, t.skip = 0, t.sig[:0], time.Time{}, false
	if t.atEnd && fi.Size() > 0 {
		t.off = fi.Size()
		n := min(t.off, logSigLen)
		if m, _ := fh.ReadAt(t.scratch[:n], t.off-n); int64(m) == n {
			t.sig = append(t.sig, t.scratch[:n]...)
			t.skip = t.scratch[n-1] != '\n' // a line is being written: start after it
		}
	}
	t.atEnd = false
	t.lastData = time.Now()
	t.setStatus(model.HealthUp, "tailing "+t.path, advice{})
	return true
}

func (t *logTailer) closeFile() {
	if t.file != nil {
		t.file.Close()
		t.file, t.info = nil, nil
	}
}

// pathMoved reports whether Path no longer names the open file.
func (t *logTailer) pathMoved() bool {
	st, err := os.Stat(t.path)
	if err != nil {
		return errors.Is(err, fs.ErrNotExist) // other errors: keep reading what is open
	}
	return !os.SameFile(st, t.info)
}

// readFile reads what is new in the open file. It reports false when
// reading failed (the status says why; the next poll retries).
func (t *logTailer) readFile(ctx context.Context) bool {
	fi, err := t.file.Stat()
	if err != nil {
		t.setStatus(model.HealthDown, "reading broker log: "+err.Error(), advice{})
		return false
	}
	if size := fi.Size(); size < t.off || (size > t.off && !t.sigMatches()) {
		// copytruncate (or rewritten in place): what we had is gone.
		t.finish()
		t.off, t.sig = 0, t.sig[:0]
	}
	for ctx.Err() == nil {
		n, err := t.file.ReadAt(t.buf, t.off)
		if n > 0 {
			t.off += int64(n)
			t.remember(t.buf[:n])
			t.lastData = time.Now()
			t.consume(t.buf[:n])
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.setStatus(model.HealthDown, "reading broker log: "+err.Error(), advice{})
			return false
		}
	}
	t.setStatus(model.HealthUp, "tailing "+t.path, advice{})
	return true
}

// remember keeps the last bytes read, ending at off.
func (t *logTailer) remember(b []byte) {
	if len(b) >= logSigLen {
		t.sig = append(t.sig[:0], b[len(b)-logSigLen:]...)
		return
	}
	t.sig = append(t.sig, b...)
	if extra := len(t.sig) - logSigLen; extra > 0 {
		copy(t.sig, t.sig[extra:])
		t.sig = t.sig[:logSigLen]
	}
}

// sigMatches reports whether the bytes before off are still those read.
func (t *logTailer) sigMatches() bool {
	n := len(t.sig)
	if n == 0 {
		return true
	}
	m, _ := t.file.ReadAt(t.scratch[:n], t.off-int64(n))
	return m == n && bytes.Equal(t.scratch[:n], t.sig)
}

// consume splits bytes into lines.
func (t *logTailer) consume(b []byte) {
	if bytes.IndexByte(b, 0) >= 0 {
		b = bytes.ReplaceAll(b, []byte{0}, nil)
	}
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		seg := b
		if i >= 0 {
			seg, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if t.skip {
			t.skip = i < 0
			continue
		}
		if room := maxLogLine - len(t.line); len(seg) > room {
			t.cut += int64(len(seg) - room)
			seg = seg[:room]
		}
		t.line = append(t.line, seg...)
		if i >= 0 {
			t.endLine()
		}
	}
}

// endLine hands the line read so far to the grouper.
func (t *logTailer) endLine() {
	s := string(t.line)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if t.cut > 0 {
		s += fmt.Sprintf(" … [amqptop: line cut at %d bytes, %d more dropped]", maxLogLine, t.cut)
	}
	if cap(t.line) > logReadChunk {
		t.line = nil // don't keep a megabyte for every short line after
	} else {
		t.line = t.line[:0]
	}
	t.cut = 0

	done := t.grp.Add(s)
	for _, e := range done {
		t.emitEntry(e)
	}
	switch {
	case !t.grp.Pending():
		t.pending = 0
	case len(done) > 0:
		t.pending = len(s)
	default:
		t.pending += len(s)
	}
	if t.pending > maxLogEntry {
		for _, e := range t.grp.Flush() {
			e.Text += fmt.Sprintf("\n… [amqptop: entry cut at %d bytes; its further lines follow as entries of their own]", maxLogEntry)
			t.emitEntry(e)
		}
		t.pending = 0
	}
}

// flushIdle completes what has waited long enough for more bytes.
func (t *logTailer) flushIdle(idle time.Duration) {
	if idle < t.quiet {
		return
	}
	if len(t.line) > 0 || t.cut > 0 || t.skip {
		if idle < t.stall {
			return // the writer may be mid-line
		}
		t.skip = false
		if len(t.line) > 0 || t.cut > 0 {
			t.endLine()
		}
	}
	t.flushGroup()
}

// finish completes everything read from a file that will not grow anymore.
func (t *logTailer) finish() {
	if len(t.line) > 0 || t.cut > 0 {
		t.endLine()
	}
	t.skip = false
	t.flushGroup()
}

func (t *logTailer) flushGroup() {
	for _, e := range t.grp.Flush() {
		t.emitEntry(e)
	}
	t.pending = 0
}

func (t *logTailer) emitEntry(e wire.LogLine) {
	if strings.TrimSpace(e.Text) == "" {
		return
	}
	ts := e.Time
	switch {
	case ts.IsZero():
		ts = time.Now()
	case !e.Modern:
		// No zone in the line: the node's local time, which is ours.
		ts = time.Date(ts.Year(), ts.Month(), ts.Day(), ts.Hour(), ts.Minute(), ts.Second(), ts.Nanosecond(), time.Local)
	}
	t.emit(model.LogEntry{
		Meta:  model.Meta{Time: ts, Source: model.SourceLog},
		Node:  t.node,
		Level: e.Level,
		PID:   e.PID,
		Text:  e.Text,
	})
}

// setStatus emits a SourceStatus when the health, detail or advice changed.
func (t *logTailer) setStatus(h model.Health, detail string, a advice) {
	if h == t.health && detail == t.detail && a == t.advice {
		return
	}
	t.health, t.detail, t.advice = h, detail, a
	t.emit(model.SourceStatus{
		Meta:      model.Meta{Time: time.Now(), Source: model.SourceLog},
		Of:        model.SourceLog,
		Health:    h,
		Detail:    detail,
		Hint:      a.hint,
		Condition: a.cond,
	})
}

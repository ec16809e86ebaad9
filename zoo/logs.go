package zoo

import (
	"bufio"
	"github.com/amqptop/amqptop/model/wire"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// logEntry is one (possibly multi-line) broker log entry.
type logEntry struct {
	Time  time.Time
	Level string
	PID   string // the logging process, from the line prefix
	Text  string
}

// readLog reads and groups the entries of a broker log file.
func readLog(path string) ([]logEntry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []logEntry
	var g wire.LogGrouper
	add := func(ls []wire.LogLine) {
		for _, l := range ls {
			out = append(out, logEntry{Time: l.Time, Level: l.Level, PID: l.PID, Text: l.Text})
		}
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		add(g.Add(sc.Text()))
	}
	add(g.Flush())
	return out, sc.Err()
}

// window is the stretch of broker log that belongs to one record: the
// entries about connections to the record's library listener port while
// its client ran, plus, for a disruptive fault, the node-wide entries
// about the stop.
type window struct {
	rec        *Record
	port       int
	start, end time.Time
	nodeWide   bool
}

var (
	reToPort  = regexp.MustCompile(`-> 127\.0\.0\.1:(\d+)`)
	rePeer    = regexp.MustCompile(`(\d+\.\d+\.\d+\.\d+:\d+ -> 127\.0\.0\.1:\d+)`)
	rePid     = regexp.MustCompile(`<\d+\.\d+\.\d+>`)
	reAccept  = regexp.MustCompile(`^accepting AMQP connection`)
	reStopped = regexp.MustCompile(`^stopped TCP listener on 127\.0\.0\.1:(\d+)`)
	// Entries about a connection that only say it is being set up.
	// 3.10 names the connection "<pid> (peer -> local)", 4.0 "peer -> local".
	reSetupNoise = regexp.MustCompile(`^(accepting AMQP connection|[Cc]onnection .* has a client-provided name|connection .*: user '[^']*' authenticated and granted access to vhost)`)
	// Node-wide entries kept for disruptive faults.
	reNodeWide = regexp.MustCompile(`^(RabbitMQ is asked to stop|Closing all connections in vhost|Successfully stopped RabbitMQ|Stopping RabbitMQ applications and their dependencies)`)
)

// assignLog adds to each window's record the entries that belong to it.
// Entries are attributed to a connection by the listener port they name
// ("-> 127.0.0.1:PORT") or, for entries naming only the connection's
// process (<0.123.0>), through the "accepting AMQP connection" entry of
// that process; a connection belongs to the window its acceptance fell in,
// so entries written after the client ended still land in its record.
func assignLog(entries []logEntry, ws []*window) {
	// Windows of one port follow each other (a library runs its faults
	// one after the other), so an entry belongs to the latest window of
	// its port that started before it, as long as that window has not
	// ended. A window starts when its client is launched, so nothing the
	// client does can be logged before; the slack past the end covers
	// entries written as the driver moves on.
	const slack = 50 * time.Millisecond
	in := func(w *window, t time.Time) bool {
		return !t.Before(w.start) && !t.After(w.end.Add(slack))
	}
	byPort := func(port int, t time.Time) *window {
		var best *window
		for _, w := range ws {
			if w.port == port && in(w, t) && (best == nil || w.start.After(best.start)) {
				best = w
			}
		}
		return best
	}
	// A connection is known by its peer address ("127.0.0.1:5000 ->
	// 127.0.0.1:PORT", in every entry about it; 4.0 drops the process id
	// from some) and, for 3.10 entries naming only the process, by its pid.
	// It belongs to the window its first entry fell in.
	owner := map[string]*window{} // peer or pid -> window (reset when the node restarts)
	for _, e := range entries {
		if strings.HasPrefix(e.Text, "Starting RabbitMQ ") || strings.Contains(e.Text, "\nStarting RabbitMQ ") {
			owner = map[string]*window{}
		}
		text := strings.TrimSpace(e.Text)
		var w *window
		if m := reToPort.FindStringSubmatch(text); m != nil {
			port, _ := strconv.Atoi(m[1])
			peer := rePeer.FindString(text)
			pid := rePid.FindString(text)
			if reAccept.MatchString(text) {
				delete(owner, peer)
			}
			if ow, ok := owner[peer]; ok && peer != "" {
				w = ow
			} else if ow, ok := owner[pid]; ok && pid != "" && ow.port == port {
				w = ow
			} else if w = byPort(port, e.Time); w != nil && peer != "" {
				owner[peer] = w
			}
			if w != nil && pid != "" {
				owner[pid] = w
			}
		} else {
			for _, pid := range append(rePid.FindAllString(text, -1), e.PID) {
				if ow, ok := owner[pid]; ok {
					w = ow
					break
				}
			}
		}
		if w != nil {
			if !reSetupNoise.MatchString(text) {
				w.add(e)
			}
			continue
		}
		// Node-wide entries go to every disruptive window they fall in.
		if m := reStopped.FindStringSubmatch(text); m != nil {
			port, _ := strconv.Atoi(m[1])
			for _, w := range ws {
				if w.nodeWide && w.port == port && in(w, e.Time) {
					w.add(e)
				}
			}
			continue
		}
		if reNodeWide.MatchString(text) {
			for _, w := range ws {
				if w.nodeWide && in(w, e.Time) {
					w.add(e)
				}
			}
		}
	}
}

func (w *window) add(e logEntry) {
	text := strings.TrimSpace(e.Text)
	if strings.HasPrefix(text, "Stopping RabbitMQ applications and their dependencies") {
		text = strings.SplitN(text, "\n", 2)[0] // the list of applications is noise
	}
	w.rec.Log = append(w.rec.Log, text)
	w.rec.LogLevels = append(w.rec.LogLevels, e.Level)
}

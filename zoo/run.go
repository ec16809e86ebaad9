package zoo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// clientResult is the JSON line a client program prints last.
type clientResult struct {
	Version   string   `json:"version"`
	Raised    string   `json:"raised"`
	Text      string   `json:"text"`
	Repr      string   `json:"repr"`
	Code      string   `json:"code"`
	Note      string   `json:"note"`
	Skipped   string   `json:"skipped"`
	ClientLog []string `json:"client_log"`
}

// clientRun is one client process running one fault.
type clientRun struct {
	lib   string
	fault Fault
	env   Env
	argv  []string

	cmd    *exec.Cmd
	ready  chan struct{} // closed when the client printed READY (or ended)
	done   chan struct{} // closed when the process ended and output was read
	res    *clientResult
	stderr bytes.Buffer
	other  []string // stdout lines that are neither READY nor the result
	err    error    // the run failed (start error, timeout, no result)

	start, end time.Time
	readyOnce  sync.Once
	mu         sync.Mutex // guards res, err and stderr
}

func newRun(lib string, f Fault, env Env, argv []string) *clientRun {
	return &clientRun{lib: lib, fault: f, env: env, argv: argv,
		ready: make(chan struct{}), done: make(chan struct{})}
}

// startRun starts the client in its own process group. The run is killed
// when ctx ends or the fault's timeout passes.
func (r *clientRun) startRun(ctx context.Context, dir string) error {
	r.cmd = exec.Command(r.argv[0], r.argv[1:]...)
	r.cmd.Dir = dir
	r.cmd.Env = append(os.Environ(), r.env.environ()...)
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	r.cmd.Stderr = &lockedWriter{mu: &r.mu, w: &r.stderr}
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	r.start = time.Now()
	if err := r.cmd.Start(); err != nil {
		r.err = err
		r.readyOnce.Do(func() { close(r.ready) })
		close(r.done)
		return err
	}
	timer := time.AfterFunc(r.fault.timeout(), func() { r.kill(fmt.Errorf("timed out after %s", r.fault.timeout())) })
	stop := context.AfterFunc(ctx, func() { r.kill(ctx.Err()) })
	go func() {
		defer close(r.done)
		defer stop()
		defer timer.Stop()
		r.read(out)
		werr := r.cmd.Wait()
		r.end = time.Now()
		r.readyOnce.Do(func() { close(r.ready) })
		r.mu.Lock()
		if r.res == nil && r.err == nil {
			r.err = fmt.Errorf("client printed no result (%v)", werr)
		}
		r.mu.Unlock()
	}()
	return nil
}

func (r *clientRun) kill(why error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil && r.res == nil {
		r.err = why
	}
	if p := r.cmd.Process; p != nil {
		_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
		_ = syscall.Kill(-p.Pid, syscall.SIGCONT)
	}
}

// signal sends sig to the client's whole process group.
func (r *clientRun) signal(sig syscall.Signal) error {
	if r.cmd == nil || r.cmd.Process == nil {
		return fmt.Errorf("zoo: %s/%s not started", r.lib, r.fault.ID)
	}
	return syscall.Kill(-r.cmd.Process.Pid, sig)
}

func (r *clientRun) read(out io.Reader) {
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "READY":
			r.readyOnce.Do(func() { close(r.ready) })
		case strings.HasPrefix(line, "{") && !r.hasResult():
			var res clientResult
			if err := json.Unmarshal([]byte(line), &res); err != nil {
				r.other = append(r.other, line)
				continue
			}
			r.mu.Lock()
			r.res = &res
			r.mu.Unlock()
		default:
			r.other = append(r.other, line)
		}
	}
}

func (r *clientRun) hasResult() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.res != nil
}

// record turns the run into a fixture record (without the broker log).
// Call it after the run is done.
func (r *clientRun) record(broker string) Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := Record{Library: r.lib, Broker: broker, Fault: r.fault.ID, Expect: r.fault.Expect}
	if r.res != nil {
		rec.Version = r.res.Version
		rec.Raised = r.res.Raised
		rec.Text = strings.TrimRight(r.res.Text, "\n")
		rec.Repr = r.res.Repr
		rec.Code = r.res.Code
		rec.Note = r.res.Note
		rec.Skipped = r.res.Skipped
		rec.ClientLog = r.res.ClientLog
	}
	if r.err != nil {
		msg := "zoo: " + r.err.Error()
		if s := strings.TrimSpace(r.stderr.String()); s != "" {
			msg += "; stderr: " + tailLines(s, 15)
		}
		if len(r.other) > 0 {
			msg += "; stdout: " + tailLines(strings.Join(r.other, "\n"), 10)
		}
		if rec.Note != "" {
			rec.Note += "; "
		}
		rec.Note += msg
	}
	return rec
}

func tailLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w.Len() > 1<<20 {
		return len(p), nil
	}
	return l.w.Write(p)
}

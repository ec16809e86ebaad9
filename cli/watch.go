package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/amqptop/amqptop/model"
	"github.com/amqptop/amqptop/model/inert"
)

// watch runs the headless watcher until --for passes, a --fail-on cause
// appears, SIGINT/SIGTERM, or every feed ends.
func (a *app) watch(ctx context.Context, c *config) error {
	kb, err := knowledgeBase(c.rules)
	if err != nil {
		return err
	}
	for _, id := range c.failOn {
		if kb.Lookup(id) == nil {
			return usageError{fmt.Errorf("--fail-on: unknown cause %q (amqptop causes lists them)", id)}
		}
	}
	srcs, err := feeds(c)
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if c.forDur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.forDur)
		defer cancel()
	}
	return watch(ctx, c, stateFor(c, kb), srcs, a.stdout)
}

// watch runs the feeds into the state and prints every event until ctx
// ends or a --fail-on cause appears.
func watch(ctx context.Context, c *config, st *model.State, srcs []model.Feed, stdout io.Writer) error {
	obs := make(chan model.Observation, 4096)
	ctx, cancel := context.WithCancel(ctx)
	wait := startFeeds(ctx, srcs, obs)
	defer wait() // after cancel: the feeds stop, then we return
	defer cancel()
	out := bufio.NewWriterSize(stdout, 64<<10)
	defer out.Flush()
	sink := textSink
	if c.json {
		sink = jsonSink
	}
	fail := map[string]bool{}
	for _, id := range c.failOn {
		fail[id] = true
	}
	write := func(evs []model.Event) error {
		for i := range evs {
			e := &evs[i]
			if err := sink(out, e); err != nil {
				return err
			}
			if e.Cause != nil && fail[e.Cause.ID] {
				out.Flush()
				return &exitStatus{code: exitFailOn, msg: fmt.Sprintf("fail-on: %s on %s at %s", e.Cause.ID, e.Subject(), e.Time.Format(time.RFC3339))}
			}
		}
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return write(st.Flush())
		case o, ok := <-obs:
			if !ok { // every feed ended (a finite source)
				return write(st.Flush())
			}
			if err := write(st.Apply(o)); err != nil {
				return err
			}
			if len(obs) == 0 {
				if err := out.Flush(); err != nil {
					return fmt.Errorf("writing events: %w", err)
				}
			}
		}
	}
}

func jsonSink(w io.Writer, e *model.Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	b = append(inert.JSON(b), '\n')
	_, err = w.Write(b)
	return err
}

// textSink writes one human line per event:
// time severity type subject (user@vhost peer node) text → cause.
func textSink(w io.Writer, e *model.Event) error {
	var b strings.Builder
	b.WriteString(e.Time.Local().Format("15:04:05.000"))
	fmt.Fprintf(&b, " %-5s %-20s", strings.ToUpper(e.Severity.String()), e.Type)
	if e.Update {
		b.WriteString(" (update)")
	}
	// Every field a client, a broker or a log chose goes through inert:
	// a name can retitle no window and forge no line.
	if s := e.Subject(); s != "" {
		b.WriteString(" " + inert.Show(s))
	}
	var where []string
	if e.Vhost != "" {
		where = append(where, inert.Show(e.User+"@"+e.Vhost))
	}
	if e.Peer != "" && e.Client != "" {
		where = append(where, inert.Show(e.Peer))
	}
	if e.Node != "" && e.Node != e.Subject() {
		where = append(where, inert.Show(e.Node))
	}
	if e.Channel != 0 {
		where = append(where, fmt.Sprintf("ch %d", e.Channel))
	}
	if len(where) > 0 {
		b.WriteString(" (" + strings.Join(where, " ") + ")")
	}
	text := e.Text
	if e.Code != 0 && !strings.Contains(text, fmt.Sprint(e.Code)) {
		text = strings.TrimSpace(fmt.Sprintf("%d %s", e.Code, text))
	}
	if text == "" && e.Type == model.ConnClosed {
		text = "(no reason seen)"
	}
	switch {
	case text != "" && e.Subject() == "":
		b.WriteString(" " + inert.Show(text))
	case text != "":
		b.WriteString(": " + inert.Show(text))
	}
	if e.Downtime > 0 {
		fmt.Fprintf(&b, " [down %s]", e.Downtime.Round(time.Millisecond))
	}
	if e.Cause != nil {
		fmt.Fprintf(&b, " → %s (%s)", inert.Show(e.Cause.ID), inert.Show(e.Cause.Title))
	}
	if e.Type == model.SourceChanged && e.Hint != "" {
		b.WriteString(" — " + inert.Show(e.Hint)) // what to do, as the dashboard's header says it
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

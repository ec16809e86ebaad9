// Command go is the zoo's client for github.com/rabbitmq/amqp091-go: it
// provokes the fault named by $ZOO_FAULT (see zoo/README.md for the
// protocol) and prints what an application would log, err.Error().
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

type result struct {
	Version string `json:"version"`
	Raised  string `json:"raised"`
	Text    string `json:"text"`
	Code    string `json:"code,omitempty"`
	Note    string `json:"note,omitempty"`
	Skipped string `json:"skipped,omitempty"`
}

func env(k string) string { return os.Getenv(k) }

func envInt(k string) int {
	n, _ := strconv.Atoi(os.Getenv(k))
	return n
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/rabbitmq/amqp091-go" {
				if d.Replace != nil {
					return d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return "unknown"
}

var notes []string

func note(format string, args ...any) { notes = append(notes, fmt.Sprintf(format, args...)) }

func emit(err error) {
	r := result{Version: version()}
	if err != nil {
		r.Raised = fmt.Sprintf("%T", err)
		r.Text = err.Error()
		var ae *amqp.Error
		if errors.As(err, &ae) {
			r.Code = strconv.Itoa(ae.Code)
		}
	}
	if s, ok := err.(skipError); ok {
		r = result{Version: version(), Skipped: string(s)}
	}
	r.Note = strings.Join(notes, "; ")
	b, _ := json.Marshal(r)
	fmt.Println(string(b))
}

type skipError string

func (s skipError) Error() string { return string(s) }

func ready() { fmt.Println("READY") }

func wait() time.Duration {
	if w := envInt("ZOO_WAIT"); w > 0 {
		return time.Duration(w) * time.Second
	}
	return 45 * time.Second
}

func dial() (*amqp.Connection, error) {
	hb := 10 * time.Second // amqp.Dial's default
	if h := envInt("ZOO_HEARTBEAT"); h > 0 {
		hb = time.Duration(h) * time.Second
	}
	return amqp.DialConfig(env("ZOO_URL"), amqp.Config{
		Heartbeat:  hb,
		Locale:     "en_US",
		Properties: amqp.Table{"connection_name": env("ZOO_CONN_NAME")},
	})
}

// awaitClose waits for the close notification an application would log.
func awaitClose(c chan *amqp.Error, what string) error {
	select {
	case e, ok := <-c:
		if !ok || e == nil {
			note("%s NotifyClose channel closed without an error", what)
			return nil
		}
		return e
	case <-time.After(wait()):
		note("no close of the %s within %s", what, wait())
		return nil
	}
}

func publish(ch *amqp.Channel, exchange, key string, body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return ch.PublishWithContext(ctx, exchange, key, false, false, amqp.Publishing{Body: body})
}

// publishAndWait publishes (Publish returns before the broker answers)
// and returns the channel's close reason, as NotifyClose delivers it.
func publishAndWait(ch *amqp.Channel, exchange, key string, body []byte) error {
	closed := ch.NotifyClose(make(chan *amqp.Error, 1))
	if err := publish(ch, exchange, key, body); err != nil {
		return err
	}
	note("Publish returned nil; the error arrives on Channel.NotifyClose")
	err := awaitClose(closed, "channel")
	if err != nil {
		if again := publish(ch, exchange, key, []byte("again")); again != nil {
			note("a second Publish returned %q", again.Error())
		}
	}
	return err
}

func run(fault string) error {
	switch fault {
	case "wrong-password", "missing-vhost", "vhost-refused", "refused-port":
		c, err := dial()
		if err == nil {
			c.Close()
			note("connected without an error")
		}
		return err
	}
	conn, err := dial()
	if err != nil {
		note("could not connect")
		return err
	}
	defer conn.Close()
	connClosed := conn.NotifyClose(make(chan *amqp.Error, 1))
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	q := env("ZOO_QUEUE")
	switch fault {
	case "perm-queue", "exclusive-locked":
		_, err = ch.QueueDeclare(q, false, false, false, false, nil)
		return err
	case "inequivalent-args":
		_, err = ch.QueueDeclare(q, false, false, false, false, amqp.Table{"x-message-ttl": int32(envInt("ZOO_TTL"))})
		return err
	case "passive-missing-queue":
		_, err = ch.QueueDeclarePassive(q, false, false, false, false, nil)
		return err
	case "perm-read":
		_, _, err = ch.Get(q, false)
		return err
	case "perm-exchange", "perm-topic":
		return publishAndWait(ch, env("ZOO_EXCHANGE"), env("ZOO_ROUTING_KEY"), []byte("zoo"))
	case "message-too-large":
		return publishAndWait(ch, "", env("ZOO_ROUTING_KEY"), make([]byte, envInt("ZOO_MSG_SIZE")))
	case "unknown-delivery-tag":
		closed := ch.NotifyClose(make(chan *amqp.Error, 1))
		if err := ch.Ack(uint64(envInt("ZOO_TAG")), false); err != nil {
			return err
		}
		note("Ack returned nil; the error arrives on Channel.NotifyClose")
		return awaitClose(closed, "channel")
	case "consumer-ack-timeout":
		closed := ch.NotifyClose(make(chan *amqp.Error, 1))
		msgs, err := ch.Consume(q, "", false, false, false, false, nil)
		if err != nil {
			return err
		}
		select {
		case <-msgs:
		case <-time.After(10 * time.Second):
			note("no delivery within 10 s")
		}
		return awaitClose(closed, "channel")
	case "channel-max":
		n := envInt("ZOO_CHANNELS")
		for i := 2; i <= n; i++ {
			if _, err := conn.Channel(); err != nil {
				note("opening channel %d of %d failed", i, n)
				return err
			}
		}
		note("opened %d channels without an error", n)
		select {
		case e := <-connClosed:
			return e
		case <-time.After(2 * time.Second):
		}
		return nil
	case "publish-closed-channel":
		if err := ch.Close(); err != nil {
			return err
		}
		return publish(ch, "", env("ZOO_ROUTING_KEY"), []byte("zoo"))
	case "force-close", "broker-stop", "node-killed", "heartbeat-client", "heartbeat-broker":
		ready()
		return awaitClose(connClosed, "connection")
	}
	return skipError("unknown fault " + fault)
}

func main() {
	emit(run(env("ZOO_FAULT")))
}

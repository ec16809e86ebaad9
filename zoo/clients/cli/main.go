// Command cli is the zoo's client for the librabbitmq-c command-line tools
// (amqp-tools: amqp-get, amqp-publish, amqp-consume, amqp-declare-queue):
// it runs the tool that provokes $ZOO_FAULT (see zoo/README.md for the
// protocol) and reports the tool's stderr as printed.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
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

// version is librabbitmq-c's upstream version from dpkg (the tools print
// none of their own).
func version() string {
	out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", "amqp-tools").Output()
	if err != nil || len(out) == 0 {
		return "unknown"
	}
	v := string(out)
	if i := strings.LastIndex(v, "-"); i > 0 {
		v = v[:i]
	}
	return v
}

func wait() time.Duration {
	if w := envInt("ZOO_WAIT"); w > 0 {
		return time.Duration(w) * time.Second
	}
	return 45 * time.Second
}

func connArgs() []string {
	a := []string{"--url=" + env("ZOO_URL")}
	if h := env("ZOO_HEARTBEAT"); h != "" {
		a = append(a, "--heartbeat="+h)
	}
	return a
}

// tool runs one amqp-tools command and turns its stderr and exit status
// into a result.
func tool(stdin []byte, waitReady bool, name string, args ...string) result {
	r := result{Version: version(), Raised: name}
	ctx, cancel := context.WithTimeout(context.Background(), wait())
	defer cancel()
	cmd := exec.CommandContext(ctx, name, append(connArgs(), args...)...)
	var stderr, stdout bytes.Buffer
	cmd.Stderr, cmd.Stdout = &stderr, &stdout
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	if err := cmd.Start(); err != nil {
		return result{Version: r.Version, Raised: "exec", Text: err.Error()}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	if waitReady {
		select {
		case err = <-done:
			r.Note = "the tool ended before it was connected"
		case <-connected(ctx):
			fmt.Println("READY")
			err = <-done
		}
	} else {
		err = <-done
	}
	r.Text = strings.TrimSpace(stderr.String())
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		r.Note = strings.TrimSpace(r.Note + fmt.Sprintf(" the tool was still running after %s (killed)", wait()))
	case errors.As(err, &ee):
		r.Code = strconv.Itoa(ee.ExitCode())
	case err == nil:
		r.Code = "0"
		if r.Text == "" {
			r.Note = strings.TrimSpace(r.Note + " the tool exited 0 and printed nothing on stderr")
		}
	}
	if r.Text == "" {
		r.Raised = ""
	}
	return r
}

// connected is closed once the management API lists a running connection
// to our listener port.
func connected(ctx context.Context) <-chan struct{} {
	c := make(chan struct{})
	go func() {
		port := envInt("ZOO_PORT")
		for ctx.Err() == nil {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, env("ZOO_MGMT")+"/api/connections?columns=port,state", nil)
			req.SetBasicAuth("guest", "guest")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				var conns []struct {
					Port  int    `json:"port"`
					State string `json:"state"`
				}
				_ = json.NewDecoder(resp.Body).Decode(&conns)
				resp.Body.Close()
				for _, cn := range conns {
					if cn.Port == port && cn.State == "running" {
						time.Sleep(300 * time.Millisecond) // let it start consuming
						close(c)
						return
					}
				}
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	return c
}

func run(fault string) result {
	q, x, k := env("ZOO_QUEUE"), env("ZOO_EXCHANGE"), env("ZOO_ROUTING_KEY")
	switch fault {
	case "wrong-password", "missing-vhost", "vhost-refused", "refused-port":
		return tool(nil, false, "amqp-get", "--queue=zoo-q-"+fault)
	case "perm-queue", "exclusive-locked":
		return tool(nil, false, "amqp-declare-queue", "--queue="+q)
	case "inequivalent-args":
		r := tool(nil, false, "amqp-declare-queue", "--queue="+q)
		r.Note = strings.TrimSpace("amqp-declare-queue cannot pass queue arguments: it declares with none. " + r.Note)
		return r
	case "perm-exchange", "perm-topic":
		return tool(nil, false, "amqp-publish", "--exchange="+x, "--routing-key="+k, "--body=zoo")
	case "perm-read":
		return tool(nil, false, "amqp-get", "--queue="+q)
	case "passive-missing-queue":
		r := tool(nil, false, "amqp-get", "--queue="+q)
		r.Note = strings.TrimSpace("amqp-declare-queue has no passive mode: basic.get on the missing queue instead. " + r.Note)
		return r
	case "message-too-large":
		return tool(make([]byte, envInt("ZOO_MSG_SIZE")), false, "amqp-publish", "--routing-key="+k)
	case "consumer-ack-timeout":
		r := tool(nil, false, "amqp-consume", "--queue="+q, "--count=1", "sleep", "15")
		r.Note = strings.TrimSpace("amqp-consume acks after its command (sleep 15) exits; the consumer timeout is 5 s. " + r.Note)
		return r
	case "force-close", "broker-stop", "node-killed", "heartbeat-client", "heartbeat-broker":
		return tool(nil, true, "amqp-consume", "cat")
	case "unknown-delivery-tag":
		return result{Version: version(), Skipped: "the tools ack only what they consumed (amqp-consume acks each delivery it got); no tool acks an arbitrary tag"}
	case "channel-max":
		return result{Version: version(), Skipped: "each tool opens exactly one channel"}
	case "publish-closed-channel":
		return result{Version: version(), Skipped: "each tool opens one channel and closes it only when done; no tool publishes after a close"}
	}
	return result{Version: version(), Skipped: "unknown fault " + fault}
}

func main() {
	b, _ := json.Marshal(run(env("ZOO_FAULT")))
	fmt.Println(string(b))
}

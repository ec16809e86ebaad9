package zoo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/amqptop/amqptop/testbroker"
)

// node is a private test node plus what the zoo adds to it: one extra AMQP
// listener per client library (so every broker log line names, through
// its "-> 127.0.0.1:PORT" part, the library it is about, even when the
// libraries run at the same time) and the broker's version.
type node struct {
	*testbroker.Node
	role    string         // "main" or "disruptive"
	version string         // e.g. "3.10.8"
	ports   map[string]int // library id -> its listener port
}

// nodeOptions returns the testbroker options of a zoo node. The main node
// carries every setting a non-disruptive fault needs (none of them
// disturbs the other faults); the disruptive node has only the listeners.
func nodeOptions(broker, role string, ports map[string]int) testbroker.Options {
	o := testbroker.Options{Name: "zoo-" + role}
	setBroker(&o, broker)
	i := 0
	for _, lib := range Libraries {
		if p, ok := ports[lib.ID]; ok {
			i++
			o.ExtraConf = append(o.ExtraConf, fmt.Sprintf("listeners.tcp.zoo%d = 127.0.0.1:%d", i, p))
		}
	}
	if role == "main" {
		o.ExtraConf = append(o.ExtraConf,
			"max_message_size = "+strconv.Itoa(MaxMessageSize),
			"consumer_timeout = "+strconv.Itoa(ConsumerTimeoutMS),
			"channel_max = "+strconv.Itoa(ChannelMax),
		)
		// 3.10 checks consumer timeouts on the channel tick (default
		// 60 s); lower it so a 5 s consumer_timeout fires within ~6 s.
		o.Advanced = `[{rabbit, [{channel_tick_interval, 1000}]}].`
	}
	return o
}

// startNode starts a zoo node with one listener per library in libs.
func startNode(ctx context.Context, broker, role string, libs []Library) (*node, error) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		var ports []int
		ports, err = testbroker.FreePorts(len(libs))
		if err != nil {
			return nil, err
		}
		pm := map[string]int{}
		for i, l := range libs {
			pm[l.ID] = ports[i]
		}
		var tn *testbroker.Node
		tn, err = testbroker.Start(ctx, nodeOptions(broker, role, pm))
		if err != nil {
			if ctx.Err() == nil && strings.Contains(err.Error(), "eaddrinuse") {
				continue
			}
			return nil, err
		}
		n := &node{Node: tn, role: role, ports: pm, version: tn.Version}
		if n.version == "" {
			if n.version, err = n.brokerVersion(ctx); err != nil {
				_ = tn.Stop()
				return nil, err
			}
		}
		return n, nil
	}
	return nil, err
}

// brokerVersion asks the management API for the node's RabbitMQ version.
func (n *node) brokerVersion(ctx context.Context) (string, error) {
	var ov struct {
		Version string `json:"rabbitmq_version"`
	}
	if err := n.mgmt(ctx, http.MethodGet, "/api/overview", nil, nil, &ov); err != nil {
		return "", err
	}
	if ov.Version == "" {
		return "", errors.New("zoo: /api/overview has no rabbitmq_version")
	}
	return ov.Version, nil
}

// url returns the AMQP URL of lib's listener for user:pass and vhost.
func (n *node) url(lib, user, pass, vhost string) string {
	return fmt.Sprintf("amqp://%s:%s@127.0.0.1:%d/%s", user, pass, n.ports[lib], escapeVhost(vhost))
}

func escapeVhost(v string) string {
	return strings.ReplaceAll(v, "/", "%2F")
}

// pause stops the node's OS process (SIGSTOP) so it neither reads nor
// sends anything; resume continues it.
func (n *node) pause() error { return n.Pause() }

func (n *node) resume() error { return n.Resume() }

var mgmtClient = &http.Client{Timeout: 20 * time.Second}

// mgmt calls the node's management API as guest:guest. body (if not nil)
// is sent as JSON; the answer is decoded into out (if not nil).
func (n *node) mgmt(ctx context.Context, method, path string, hdr http.Header, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, n.MgmtURL()+path, rd)
	if err != nil {
		return err
	}
	req.SetBasicAuth("guest", "guest")
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := mgmtClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("zoo: %s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(data)))
	}
	if out != nil && len(data) > 0 {
		return json.Unmarshal(data, out)
	}
	return nil
}

// mgmtConn is a connection as /api/connections lists it.
type mgmtConn struct {
	Name  string `json:"name"`
	Port  int    `json:"port"`
	State string `json:"state"`
	User  string `json:"user"`
}

// connsOn lists the node's AMQP connections to the given listener port.
func (n *node) connsOn(ctx context.Context, port int) ([]mgmtConn, error) {
	var all []mgmtConn
	if err := n.mgmt(ctx, http.MethodGet, "/api/connections?columns=name,port,state,user", nil, nil, &all); err != nil {
		return nil, err
	}
	var out []mgmtConn
	for _, c := range all {
		if c.Port == port {
			out = append(out, c)
		}
	}
	return out, nil
}

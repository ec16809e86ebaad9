package zoo

import (
	"sort"
	"strconv"
)

// Env is what a client program is told, as ZOO_* environment variables
// (ZOO_FAULT, ZOO_URL, ...: the field's tag). Empty fields are not set.
type Env struct {
	Library   string `env:"ZOO_LIBRARY"`
	Fault     string `env:"ZOO_FAULT"`
	URL       string `env:"ZOO_URL"` // amqp://user:pass@127.0.0.1:port/vhost (vhost "/" as %2F)
	Host      string `env:"ZOO_HOST"`
	Port      int    `env:"ZOO_PORT"`
	User      string `env:"ZOO_USER"`
	Pass      string `env:"ZOO_PASS"`
	Vhost     string `env:"ZOO_VHOST"`
	ConnName  string `env:"ZOO_CONN_NAME"`   // the client-provided connection name
	Queue     string `env:"ZOO_QUEUE"`       // the queue the fault is about
	Exchange  string `env:"ZOO_EXCHANGE"`    // the exchange to publish to ("" = default)
	Key       string `env:"ZOO_ROUTING_KEY"` // the routing key to publish with
	Heartbeat int    `env:"ZOO_HEARTBEAT"`   // seconds; 0 = library default
	MsgSize   int    `env:"ZOO_MSG_SIZE"`    // body size to publish
	Channels  int    `env:"ZOO_CHANNELS"`    // how many channels to open (channel-max)
	TTL       int    `env:"ZOO_TTL"`         // x-message-ttl to declare with (inequivalent-args)
	Tag       int    `env:"ZOO_TAG"`         // delivery tag to ack (unknown-delivery-tag)
	Wait      int    `env:"ZOO_WAIT"`        // seconds to wait for an asynchronous error
	Mgmt      string `env:"ZOO_MGMT"`        // management API base URL (guest:guest)
}

// environ returns the variables to add to the client's environment.
func (e Env) environ() []string {
	m := map[string]string{
		"ZOO_LIBRARY": e.Library, "ZOO_FAULT": e.Fault, "ZOO_URL": e.URL, "ZOO_HOST": e.Host,
		"ZOO_USER": e.User, "ZOO_PASS": e.Pass, "ZOO_VHOST": e.Vhost, "ZOO_CONN_NAME": e.ConnName,
		"ZOO_QUEUE": e.Queue, "ZOO_EXCHANGE": e.Exchange, "ZOO_ROUTING_KEY": e.Key, "ZOO_MGMT": e.Mgmt,
	}
	for k, v := range map[string]int{"ZOO_PORT": e.Port, "ZOO_HEARTBEAT": e.Heartbeat, "ZOO_MSG_SIZE": e.MsgSize,
		"ZOO_CHANNELS": e.Channels, "ZOO_TTL": e.TTL, "ZOO_TAG": e.Tag, "ZOO_WAIT": e.Wait} {
		if v != 0 {
			m[k] = strconv.Itoa(v)
		}
	}
	var out []string
	for k, v := range m {
		if v != "" {
			out = append(out, k+"="+v)
		}
	}
	sort.Strings(out)
	return out
}

// envFor returns what lib's client is told for fault f on node n.
func envFor(n *node, lib string, f Fault, closedPort int) Env {
	e := Env{
		Library: lib, Fault: f.ID, Host: "127.0.0.1", Port: n.ports[lib],
		User: "guest", Pass: "guest", Vhost: "/",
		ConnName: "zoo-" + lib + "-" + f.ID,
		Wait:     int(WaitFor.Seconds()),
		Mgmt:     n.MgmtURL(),
	}
	switch f.ID {
	case "wrong-password":
		e.User, e.Pass = userOf(f.ID), wrongPassword
	case "missing-vhost":
		e.Vhost = missingVhost
	case "vhost-refused":
		e.User, e.Pass, e.Vhost = userOf(f.ID), userPassword, refusedVhost
	case "refused-port":
		e.Port = closedPort
	case "perm-queue", "perm-read":
		e.User, e.Pass, e.Queue = userOf(f.ID), userPassword, queueOf(f.ID)
	case "perm-exchange":
		e.User, e.Pass, e.Exchange, e.Key = userOf(f.ID), userPassword, permExchange, "zoo.key"
	case "perm-topic":
		e.User, e.Pass, e.Exchange, e.Key = userOf(f.ID), userPassword, "amq.topic", topicDeniedKey
	case "passive-missing-queue", "exclusive-locked":
		e.Queue = queueOf(f.ID)
	case "inequivalent-args":
		e.Queue, e.TTL = queueOf(f.ID), InequivalentTTL
	case "consumer-ack-timeout":
		e.Queue = queueOf(f.ID) + "-" + lib
	case "message-too-large":
		e.Key, e.MsgSize = queueOf(f.ID), 2*MaxMessageSize
	case "unknown-delivery-tag":
		e.Tag = UnknownTag
	case "channel-max":
		e.Channels = ChannelMax + 2
	case "publish-closed-channel":
		e.Key = queueOf(f.ID)
	case "heartbeat-broker", "heartbeat-client":
		e.Heartbeat = Heartbeat
	}
	e.URL = "amqp://" + e.User + ":" + e.Pass + "@127.0.0.1:" + strconv.Itoa(e.Port) + "/" + escapeVhost(e.Vhost)
	return e
}

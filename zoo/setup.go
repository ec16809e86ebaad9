package zoo

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Names the driver chooses (deterministic, so texts are comparable across
// runs).
const (
	userPassword     = "zoo-secret"
	wrongPassword    = "zoo-wrong-password"
	missingVhost     = "zoo-missing-vhost"
	refusedVhost     = "zoo-vhost-refused"
	permExchange     = "zoo-x-perm-exchange"
	topicAllowed     = `^zoo\.allowed\..*`
	topicDeniedKey   = "zoo.denied.key"
	forceCloseReason = "zoo force-close"
)

func userOf(fault string) string  { return "zoo-user-" + fault }
func queueOf(fault string) string { return "zoo-q-" + fault }

// perUserPerms are the permissions on "/" of the users the permission
// faults connect as.
var perUserPerms = map[string][3]string{ // configure, write, read
	"perm-queue":    {"^zoo-allowed-.*", ".*", ".*"},
	"perm-exchange": {".*", "^$", ".*"},
	"perm-read":     {".*", ".*", "^$"},
	"perm-topic":    {".*", ".*", ".*"},
}

// setup prepares a node for the faults: users, vhosts, permissions,
// queues, and the connection that holds the exclusive queue. The returned
// function closes that connection.
func (n *node) setup(ctx context.Context, libs []Library) (func(), error) {
	put := func(path string, body any) error {
		return n.mgmt(ctx, http.MethodPut, path, nil, body, nil)
	}
	users := []string{userOf("wrong-password"), userOf("vhost-refused")}
	for f := range perUserPerms {
		users = append(users, userOf(f))
	}
	for _, u := range users {
		if err := put("/api/users/"+url.PathEscape(u), map[string]string{"password": userPassword, "tags": ""}); err != nil {
			return nil, err
		}
	}
	if err := put("/api/vhosts/"+url.PathEscape(refusedVhost), map[string]any{}); err != nil {
		return nil, err
	}
	// wrong-password's user may use "/" (so only the password is wrong);
	// vhost-refused's user has permissions on "/" but none on its vhost.
	for _, u := range []string{userOf("wrong-password"), userOf("vhost-refused")} {
		if err := put("/api/permissions/%2F/"+url.PathEscape(u), map[string]string{"configure": ".*", "write": ".*", "read": ".*"}); err != nil {
			return nil, err
		}
	}
	for f, p := range perUserPerms {
		if err := put("/api/permissions/%2F/"+url.PathEscape(userOf(f)), map[string]string{"configure": p[0], "write": p[1], "read": p[2]}); err != nil {
			return nil, err
		}
	}
	if err := put("/api/topic-permissions/%2F/"+url.PathEscape(userOf("perm-topic")),
		map[string]string{"exchange": "amq.topic", "write": topicAllowed, "read": ".*"}); err != nil {
		return nil, err
	}
	if err := put("/api/exchanges/%2F/"+permExchange, map[string]any{"type": "direct", "durable": false}); err != nil {
		return nil, err
	}
	queues := map[string]map[string]any{
		queueOf("perm-read"):         {"durable": false, "auto_delete": false},
		queueOf("inequivalent-args"): {"durable": false, "auto_delete": false, "arguments": map[string]any{"x-message-ttl": DeclaredTTL}},
	}
	for _, l := range libs {
		queues[queueOf("consumer-ack-timeout")+"-"+l.ID] = map[string]any{"durable": false, "auto_delete": false}
	}
	for q, body := range queues {
		if err := put("/api/queues/%2F/"+url.PathEscape(q), body); err != nil {
			return nil, err
		}
	}
	for _, l := range libs {
		q := queueOf("consumer-ack-timeout") + "-" + l.ID
		msg := map[string]any{"properties": map[string]any{}, "routing_key": q, "payload": "zoo message for " + l.ID, "payload_encoding": "string"}
		if err := n.mgmt(ctx, http.MethodPost, "/api/exchanges/%2F/amq.default/publish", nil, msg, nil); err != nil {
			return nil, err
		}
	}
	return n.holdExclusive(ctx)
}

// holdExclusive opens a connection (on the node's own AMQP port, not a
// library's) that declares zoo-q-exclusive-locked exclusively and keeps
// it.
func (n *node) holdExclusive(ctx context.Context) (func(), error) {
	cfg := amqp.Config{Properties: amqp.Table{"connection_name": "zoo-driver-exclusive-holder"}, Dial: amqp.DefaultDial(10 * time.Second)}
	var conn *amqp.Connection
	var err error
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err = amqp.DialConfig("amqp://guest:guest@127.0.0.1:"+strconv.Itoa(n.AMQPPort)+"/", cfg)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("zoo: exclusive holder: %w", err)
	}
	ch, err := conn.Channel()
	if err == nil {
		_, err = ch.QueueDeclare(queueOf("exclusive-locked"), false, false, true, false, nil)
	}
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("zoo: exclusive holder: %w", err)
	}
	return func() { conn.Close() }, nil
}

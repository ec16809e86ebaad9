package demo

import "time"

// app is one simulated client application.
type app struct {
	name      string // client-provided name ("" for a client that sets none)
	lib       string // go, java, pika, kombu, node, dotnet, php
	user      string
	vhost     string
	heartbeat time.Duration
	instances int
	publish   float64 // messages per second per instance
	deliver   float64
	size      int // average message size in bytes
	channels  int
	prefetch  int
	confirm   bool
	peerNet   string // first three octets of its hosts
}

var libs = map[string]struct{ product, version, platform string }{
	"go":     {"AMQP 0.9.1 Client", "1.10.0", "golang"},
	"java":   {"RabbitMQ", "5.21.0", "Java"},
	"pika":   {"Pika Python Client Library", "1.3.2", "Python 3.11.9"},
	"kombu":  {"py-amqp", "5.2.0", "Python 3.12.4"},
	"node":   {"amqplib", "0.10.4", "Node.JS v20.15.1"},
	"dotnet": {"RabbitMQ", "6.8.1", ".NET"},
	"php":    {"AMQPLib", "3.7.0", "PHP"},
}

// The cast. Names and numbers are invented but typical of a mid-size shop.
func defaultApps() []*app {
	return []*app{
		{name: "billing-api", lib: "java", user: "billing", vhost: "/", heartbeat: 60 * time.Second, instances: 3, publish: 40, deliver: 0, size: 900, channels: 2, confirm: true, peerNet: "10.0.3"},
		{name: "order-worker", lib: "go", user: "orders", vhost: "/", heartbeat: 10 * time.Second, instances: 4, publish: 5, deliver: 30, size: 1200, channels: 1, prefetch: 50, peerNet: "10.0.4"},
		{name: "email-sender", lib: "pika", user: "notify", vhost: "/", heartbeat: 60 * time.Second, instances: 2, deliver: 6, size: 3000, channels: 1, prefetch: 10, peerNet: "10.0.5"},
		{name: "thumbnailer", lib: "pika", user: "media", vhost: "media", heartbeat: 5 * time.Second, instances: 2, deliver: 2, size: 400, channels: 1, prefetch: 1, peerNet: "10.0.6"},
		{name: "pdf-renderer", lib: "kombu", user: "media", vhost: "media", heartbeat: 30 * time.Second, instances: 1, deliver: 1, size: 800, channels: 1, prefetch: 4, peerNet: "10.0.6"},
		{name: "report-generator", lib: "pika", user: "reports", vhost: "/", heartbeat: 60 * time.Second, instances: 1, publish: 12, size: 5000, channels: 1, peerNet: "10.0.7"},
		{name: "notification-hub", lib: "node", user: "notify", vhost: "/", heartbeat: 60 * time.Second, instances: 2, publish: 8, deliver: 8, size: 600, channels: 2, prefetch: 20, confirm: true, peerNet: "10.0.5"},
		{name: "inventory-sync", lib: "node", user: "inventory", vhost: "/", heartbeat: 60 * time.Second, instances: 1, publish: 3, deliver: 3, size: 700, channels: 1, prefetch: 10, peerNet: "10.0.8"},
		{name: "payments-gateway", lib: "dotnet", user: "payments", vhost: "payments", heartbeat: 60 * time.Second, instances: 3, publish: 15, deliver: 15, size: 1100, channels: 2, prefetch: 25, confirm: true, peerNet: "10.0.9"},
		{name: "fraud-scorer", lib: "kombu", user: "payments", vhost: "payments", heartbeat: 60 * time.Second, instances: 2, deliver: 12, size: 1100, channels: 1, prefetch: 100, peerNet: "10.0.9"},
		{name: "search-indexer", lib: "java", user: "search", vhost: "/", heartbeat: 60 * time.Second, instances: 3, deliver: 25, size: 2000, channels: 1, prefetch: 250, peerNet: "10.0.10"},
		{name: "audit-logger", lib: "go", user: "audit", vhost: "/", heartbeat: 30 * time.Second, instances: 2, deliver: 50, size: 300, channels: 1, prefetch: 500, peerNet: "10.0.11"},
		{name: "ledger-writer", lib: "go", user: "payments", vhost: "payments", heartbeat: 10 * time.Second, instances: 2, publish: 10, deliver: 10, size: 500, channels: 2, prefetch: 10, confirm: true, peerNet: "10.0.9"},
		{name: "legacy-crm", lib: "php", user: "crm", vhost: "/", heartbeat: 0, instances: 2, publish: 1, size: 1500, channels: 1, peerNet: "10.0.12"},
		{name: "", lib: "pika", user: "etl", vhost: "/", heartbeat: 60 * time.Second, instances: 2, publish: 20, size: 4000, channels: 1, peerNet: "10.0.13"},
		{name: "metrics-exporter", lib: "go", user: "monitoring", vhost: "/", heartbeat: 60 * time.Second, instances: 1, deliver: 1, size: 200, channels: 1, prefetch: 10, peerNet: "10.0.14"},
		{name: "webhook-relay", lib: "node", user: "notify", vhost: "/", heartbeat: 60 * time.Second, instances: 2, publish: 4, deliver: 4, size: 900, channels: 1, prefetch: 5, peerNet: "10.0.5"},
		{name: "invoice-exporter", lib: "java", user: "billing-export", vhost: "/", heartbeat: 60 * time.Second, instances: 0, publish: 2, size: 2500, channels: 1, peerNet: "10.0.3"},
	}
}

func (a *app) find(name string) bool { return a.name == name }

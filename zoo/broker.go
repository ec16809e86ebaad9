package zoo

import "github.com/amqptop/amqptop/testbroker"

// setBroker selects the RabbitMQ installation of a node: "" or "3" is the
// host's 3.10.8, "4" is RabbitMQ 4.0.5 from the Debian 13 chroot (see
// testbroker.Options.Broker).
func setBroker(o *testbroker.Options, broker string) {
	o.Broker = broker
}

// brokerSupported reports whether the testbroker package knows the given
// broker kind.
func brokerSupported(broker string) bool {
	return broker == "" || broker == testbroker.Broker3 || broker == testbroker.Broker4
}

// Command amqptop watches RabbitMQ connections live and says why they break.
//
// The command line is package cli: one file per command, one table of
// settings.
package main

import (
	"os"

	"github.com/amqptop/amqptop/cli"
)

var version = "0.1.0-dev"

func main() {
	cli.Version = version
	os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ()))
}

package main

import (
	"errors"
	"io"
)

func runDashboard(args, environ []string, stdout, stderr io.Writer) error {
	return errors.New("the dashboard is not built yet: use amqptop watch --demo")
}

// Command amqptop watches RabbitMQ connections live and says why they break.
//
// This file is the composition root: it parses the command line, builds the
// configuration, picks the sources (the live monitor or the demo), and runs
// the dashboard or one of the headless commands.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit codes (documented in the README).
const (
	exitOK      = 0
	exitError   = 1 // a runtime failure
	exitUsage   = 2 // bad flags or arguments
	exitFailOn  = 3 // watch --fail-on: a listed cause appeared
	exitNoInput = 4 // explain: nothing to diagnose
)

var version = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches a command line; it returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "", "dashboard":
		err = runDashboard(args, os.Environ(), stdout, stderr)
	case "watch":
		err = runWatch(args, os.Environ(), stdout, stderr)
	case "explain":
		err = runExplain(args, stdin, stdout, stderr)
	case "causes":
		err = runCauses(args, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "amqptop", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "amqptop: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
	return exitCode(err, stderr)
}

// usageError marks an error in what the user typed (exit 2).
type usageError struct{ error }

// exitStatus carries an exit code chosen by a command.
type exitStatus struct {
	code int
	msg  string
}

func (e *exitStatus) Error() string { return e.msg }

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var st *exitStatus
	if errors.As(err, &st) {
		if st.msg != "" {
			fmt.Fprintln(stderr, "amqptop:", st.msg)
		}
		return st.code
	}
	fmt.Fprintln(stderr, "amqptop:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitError
}

const usage = `amqptop — watch RabbitMQ connections live and say why they break

Usage:
  amqptop [flags]                 the live dashboard (--demo: the built-in demo, no broker needed)
  amqptop watch [flags]           headless: one line (or JSON object) per event
  amqptop explain [--json] [TEXT…]
                                  diagnose pasted errors or broker log entries (arguments, or stdin)
  amqptop causes [--json]         list the root-cause knowledge base
  amqptop version

Run 'amqptop watch --help' for the flags. Exit codes: 0 ok, 1 error, 2 usage,
3 a --fail-on cause appeared, 4 explain found nothing to diagnose.
`

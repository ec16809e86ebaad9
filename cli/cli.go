// Package cli is amqptop's command line: one file per command (the
// dashboard, watch, explain, causes, contexts, version), each with its own
// flags picked from one table of settings (settings.go) that maps every
// setting to its flag, its AMQPTOP_* variable and its key in the config
// file (configfile.go, with named contexts). It turns what the user typed
// into a checked config, picks the sources and runs the command; it is
// the only place that knows flag names (the monitor reports conditions,
// hints.go words the advice).
//
// It uses github.com/spf13/cobra for the subcommands: per-command flag
// sets and help, "did you mean" for a mistyped command, the shape of help
// kubectl, gh and k9s users know.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/amqptop/amqptop/model/inert"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit codes (documented in the README).
const (
	exitOK      = 0
	exitError   = 1 // a runtime failure
	exitUsage   = 2 // bad flags or arguments
	exitFailOn  = 3 // watch --fail-on: a listed cause appeared
	exitNoInput = 4 // explain: nothing to diagnose
)

// Version is amqptop's version, set by main.
var Version = "0.1.0-dev"

// usageError marks an error in what the user typed (exit 2).
type usageError struct{ error }

// exitStatus carries an exit code chosen by a command.
type exitStatus struct {
	code int
	msg  string
}

func (e *exitStatus) Error() string { return e.msg }

// app is one run of the command line.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	env            env
	home, xdg      string
	// run is what a command does once its config is resolved; tests
	// replace it to see the config without running anything.
	run      func(ctx context.Context, cmd string, c *config, args []string) error
	resolved []*config // the configs resolved in this run (for redaction)
}

// Run runs a command line and returns its exit code. environ is the
// process environment (os.Environ()).
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	a := newApp(stdin, stdout, stderr, environ)
	return a.exec(args)
}

// redact hides credentials in a text this run did not write itself (a
// panic's message and stack): every password of the configs resolved in
// this run, and AMQPTOP_PASSWORD.
func (a *app) redact(s string) string {
	s = inert.Redact(s)
	all := a.resolved
	if pw := a.env["AMQPTOP_PASSWORD"]; pw != "" {
		all = append(all, &config{url: (&url.URL{Scheme: "amqp", Host: "h", User: url.UserPassword("u", pw)}).String()})
	}
	for _, c := range all {
		for _, pw := range c.secrets() {
			s = strings.ReplaceAll(s, pw, inert.Redacted)
		}
	}
	return s
}

func newApp(stdin io.Reader, stdout, stderr io.Writer, environ []string) *app {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, env: envFrom(environ)}
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "HOME":
			a.home = v
		case "XDG_CONFIG_HOME":
			a.xdg = v
		}
	}
	a.run = a.runCommand
	return a
}

func (a *app) exec(args []string) (code int) {
	defer func() {
		// A bug must not leak a password: the panic's message and stack
		// are redacted before they are printed.
		if r := recover(); r != nil {
			fmt.Fprintln(a.stderr, "amqptop: internal error (a bug; please report it):", a.redact(fmt.Sprint(r)))
			fmt.Fprintln(a.stderr, a.redact(string(debug.Stack())))
			code = exitError
		}
	}()
	root := a.commands()
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	err := root.Execute()
	return a.exitCode(err)
}

func (a *app) exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var st *exitStatus
	if errors.As(err, &st) {
		if st.msg != "" {
			fmt.Fprintln(a.stderr, "amqptop:", st.msg)
		}
		return st.code
	}
	fmt.Fprintln(a.stderr, "amqptop:", err)
	var ue usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitError
}

// runCommand runs a resolved command.
func (a *app) runCommand(ctx context.Context, cmd string, c *config, args []string) error {
	switch cmd {
	case "dashboard":
		return a.dashboard(ctx, c)
	case "watch":
		return a.watch(ctx, c)
	case "explain":
		return a.explain(c, args)
	case "causes":
		return a.causes(c)
	case "contexts":
		return a.contexts(c)
	}
	return fmt.Errorf("no command %q", cmd)
}

// command builds one subcommand: its settings' flags, its help, and a
// RunE that resolves the settings and runs it.
func (a *app) command(name, use, short, long string, settingKeys []string, args cobra.PositionalArgs) *cobra.Command {
	cmd := &cobra.Command{Use: use, Short: short, Long: long, Args: args, SilenceUsage: true, SilenceErrors: true}
	used := addSettings(cmd.Flags(), settingKeys...)
	cmd.Flags().SortFlags = false
	cmd.SetUsageFunc(func(c *cobra.Command) error { a.usage(c, used); return nil })
	cmd.SetHelpFunc(func(c *cobra.Command, _ []string) { a.usage(c, used) })
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%s: %v%s\n%s", c.CommandPath(), err, flagSuggestion(c, err), shortUsage(c))}
	})
	cmd.RunE = func(cc *cobra.Command, rest []string) error {
		c := &config{}
		if err := resolve(c, cc.Flags(), used, a.env, a.home, a.xdg); err != nil {
			return err
		}
		if err := c.check(); err != nil {
			return err
		}
		a.resolved = append(a.resolved, c)
		if err := c.credentials(a.env); err != nil {
			return err
		}
		for _, w := range c.warnings {
			fmt.Fprintln(a.stderr, "amqptop:", w)
		}
		if w := c.insecureWarning(); w != "" {
			fmt.Fprintln(a.stderr, a.red("amqptop: "+w))
		}
		return a.run(cc.Context(), name, c, rest)
	}
	return cmd
}

func (a *app) commands() *cobra.Command {
	dash := keys(connectionKeys, sourceKeys, diagnosisKeys, demoKeys, []string{"theme"}, configKeys)
	root := a.command("dashboard", "amqptop", "watch RabbitMQ connections live and say why they break",
		"The live dashboard; --demo runs it on the built-in demo cluster (no broker needed).\nPress ? in the dashboard for the keys.",
		dash, noArgs)
	root.Version = Version
	root.SetVersionTemplate("amqptop {{.Version}}\n")
	root.SuggestionsMinimumDistance = 2
	root.CompletionOptions.DisableDefaultCmd = true

	dashboard := a.command("dashboard", "dashboard", "the live dashboard (the same as amqptop alone)", root.Long, dash, noArgs)
	dashboard.Hidden = true

	watch := a.command("watch", "watch", "headless: one line, or one JSON object (--json), per event",
		"Prints one line per event (--json: one JSON object per line; the schema is in the README)\n"+
			"until --for passes, a --fail-on cause appears, or SIGINT/SIGTERM (then it flushes and exits 0).\n\n"+
			"Exit codes: 0 ok, 1 error, 2 usage, 3 a --fail-on cause appeared.",
		keys(connectionKeys, sourceKeys, diagnosisKeys, demoKeys, []string{"json", "for", "fail_on"}, configKeys), noArgs)

	explain := a.command("explain", "explain [TEXT…]", "diagnose pasted errors or broker log entries (arguments, or stdin)",
		"Diagnoses pasted client errors, close texts or broker log entries. Each argument is one\n"+
			"text; with no arguments, stdin is read one text per line, and a broker log entry spanning\n"+
			"several lines is kept together. --together treats all the texts as evidence of one close\n"+
			"(for example a client's error and the broker's log entry about the same connection).\n"+
			"Credentials in what is pasted are shown as xxxxx.\n\n"+
			"Exit codes: 0 ok, 2 usage, 4 nothing to diagnose.",
		[]string{"json", "together", "rules", "context", "config"}, cobra.ArbitraryArgs)

	causes := a.command("causes", "causes", "list the root-cause knowledge base",
		"Lists the knowledge base's causes (--json: the whole base, as JSON).",
		[]string{"json", "rules", "context", "config"}, noArgs)

	contexts := a.command("contexts", "contexts", "list the config file's contexts",
		"Lists the contexts of the config file ($XDG_CONFIG_HOME/amqptop/config.yaml or --config),\n"+
			"the one in use marked *, with their URLs (passwords never shown).",
		configKeys, noArgs)

	version := &cobra.Command{Use: "version", Short: "print amqptop's version", Args: noArgs,
		RunE: func(*cobra.Command, []string) error { fmt.Fprintln(a.stdout, "amqptop", Version); return nil }}

	root.AddCommand(dashboard, watch, explain, causes, contexts, version)
	return root
}

// noArgs rejects positional arguments with the command's own usage.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.HasSubCommands() {
		// "amqptop wacth": an unknown command, with cobra's suggestions.
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
		}
		return usageError{fmt.Errorf("%s\n%s", msg, shortUsage(cmd))}
	}
	return usageError{fmt.Errorf("%s: unexpected argument %q\n%s", cmd.CommandPath(), args[0], shortUsage(cmd))}
}

// shortUsage is one command's usage line, for errors.
func shortUsage(cmd *cobra.Command) string {
	return "Usage: " + cmd.UseLine() + "\nRun '" + cmd.CommandPath() + " --help' for its flags."
}

// usage prints a command's help: what it does, its flags by group, each
// with its environment variable and config key.
func (a *app) usage(cmd *cobra.Command, used []*setting) {
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "Usage: %s\n\n", cmd.UseLine())
	if cmd.Long != "" {
		fmt.Fprintf(w, "%s\n\n", cmd.Long)
	} else if cmd.Short != "" {
		fmt.Fprintf(w, "%s\n\n", cmd.Short)
	}
	if cmd.HasAvailableSubCommands() {
		fmt.Fprintln(w, "Commands:")
		for _, sc := range cmd.Commands() {
			if sc.IsAvailableCommand() {
				fmt.Fprintf(w, "  %-10s %s\n", sc.Name(), sc.Short)
			}
		}
		fmt.Fprintln(w)
	}
	byGroup := map[string][]*setting{}
	for _, s := range used {
		byGroup[s.group] = append(byGroup[s.group], s)
	}
	for _, g := range groupOrder {
		ss := byGroup[g]
		if len(ss) == 0 {
			continue
		}
		fmt.Fprintf(w, "%s:\n", g)
		for _, s := range ss {
			name := "--" + s.flagName()
			if !s.bool {
				name += " " + valueWord(s)
			}
			fmt.Fprintf(w, "  %-26s %s\n", name, s.usage)
			where := "env " + s.envName()
			if s.group != gConfig {
				where += ", config " + s.key
				if s.ctx {
					where += " (also in a context)"
				}
			}
			if s.def != "" && s.def != "false" && s.def != "0s" {
				where += "; default " + s.def
			}
			fmt.Fprintf(w, "  %-26s %s\n", "", "("+where+")")
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "Precedence: flag > environment > config file (a context over the file) > default.")
	if cmd.Parent() == nil {
		fmt.Fprintln(w, "Exit codes: 0 ok, 1 error, 2 usage, 3 a --fail-on cause appeared, 4 explain found nothing to diagnose.")
	}
}

func valueWord(s *setting) string {
	switch {
	case strings.HasSuffix(s.key, "url"):
		return "URL"
	case strings.HasSuffix(s.key, "file"), s.key == "rules", s.key == "broker_log", s.key == "config",
		s.key == "ca_cert", s.key == "client_cert", s.key == "client_key", s.key == "debug":
		return "PATH"
	case s.key == "server_name":
		return "NAME"
	case s.def != "" && strings.HasSuffix(s.def, "s") && s.def[0] >= '0' && s.def[0] <= '9':
		return "DURATION"
	case s.key == "fail_on":
		return "IDS"
	}
	return strings.ToUpper(strings.ReplaceAll(s.key, "_", "-"))
}

// flagSuggestion finds "did you mean" for an unknown flag.
func flagSuggestion(cmd *cobra.Command, err error) string {
	msg := err.Error()
	i := strings.Index(msg, "unknown flag: --")
	if i < 0 {
		return ""
	}
	bad := strings.Fields(msg[i+len("unknown flag: --"):])
	if len(bad) == 0 {
		return ""
	}
	var names []string
	cmd.Flags().VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	return suggest(bad[0], names)
}

// suggest returns "; did you mean X?" for the candidates closest to s.
func suggest(s string, candidates []string) string {
	type c struct {
		name string
		d    int
	}
	var best []c
	for _, x := range candidates {
		d := levenshtein(strings.ToLower(s), strings.ToLower(x))
		if d <= 2 || strings.HasPrefix(x, s) && len(s) >= 3 {
			best = append(best, c{x, d})
		}
	}
	if len(best) == 0 {
		return ""
	}
	sort.Slice(best, func(i, j int) bool {
		return best[i].d < best[j].d || best[i].d == best[j].d && best[i].name < best[j].name
	})
	names := []string{}
	for _, b := range best {
		if len(names) == 3 || b.d > best[0].d {
			break // only the closest
		}
		names = append(names, b.name)
	}
	return "; did you mean " + strings.Join(names, " or ") + "?"
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

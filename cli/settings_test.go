package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// settingValues gives, for each kind of setting, two distinct values a
// user could type and how to read the setting back from a config.
func settingValues(t *testing.T, s *setting) (a, b string) {
	t.Helper()
	switch {
	case s.bool:
		return "true", "false"
	case s.def != "" && strings.HasSuffix(s.def, "s") && s.def[0] >= '0' && s.def[0] <= '9':
		return "7s", "11s"
	case s.key == "history":
		return "700", "1100"
	case s.key == "seed":
		return "7", "11"
	case s.key == "speed":
		return "7", "11"
	case s.key == "scenario":
		return "memory-alarm", "not-found"
	case s.key == "fail_on":
		return "unexpected-frame", "not-found,access-refused"
	case s.key == "url":
		return "amqp://u:p@one:5672/", "amqp://u:p@two:5672/"
	case s.key == "mgmt_url":
		return "http://one:15672", "http://two:15672"
	case s.key == "theme":
		return "light", "none"
	case s.key == "password_file":
		dir := t.TempDir()
		for _, n := range []string{"one", "two"} {
			os.WriteFile(filepath.Join(dir, n), []byte("pw-"+n+"\n"), 0o600)
		}
		return filepath.Join(dir, "one"), filepath.Join(dir, "two")
	}
	return "one-" + s.key, "two-" + s.key
}

// readBack finds the config field a setting fills, by applying the value
// to a fresh config and comparing.
func readBack(t *testing.T, s *setting, c *config) any {
	t.Helper()
	probe := &config{}
	rv, rc := reflect.ValueOf(probe).Elem(), reflect.ValueOf(c).Elem()
	a, _ := settingValues(t, s)
	if err := s.set(probe, a); err != nil {
		t.Fatalf("%s: %v", s.key, err)
	}
	for i := 0; i < rv.NumField(); i++ {
		if !rv.Field(i).IsZero() {
			return fmt.Sprintf("%v", rc.Field(i))
		}
	}
	t.Fatalf("%s: sets no field", s.key)
	return nil
}

func want(t *testing.T, s *setting, v string) any {
	t.Helper()
	c := &config{}
	if err := s.set(c, v); err != nil {
		t.Fatal(err)
	}
	return readBack(t, s, c)
}

// commandFor is a command that reads the setting.
func commandFor(s *setting) []string {
	for _, k := range keys(connectionKeys, sourceKeys, diagnosisKeys, demoKeys, []string{"theme"}) {
		if k == s.key {
			return nil // the dashboard
		}
	}
	switch s.key {
	case "json", "for", "fail_on":
		return []string{"watch"}
	case "together":
		return []string{"explain", "x"}
	}
	return []string{"contexts"}
}

// Every setting works three ways — its flag, its AMQPTOP_* variable, its
// key in the config file (and in a context, where it may be set there) —
// and the flag wins over the variable, the variable over the file, the
// context over the file's own value, and all of them over the default.
func TestSettingsTable(t *testing.T) {
	for _, s := range settings {
		if s.group == gConfig {
			continue // tested on their own below
		}
		t.Run(s.key, func(t *testing.T) {
			a, b := settingValues(t, s)
			base := commandFor(s)
			flagArg := func(v string) []string {
				if s.bool {
					return []string{"--" + s.flagName() + "=" + v}
				}
				return []string{"--" + s.flagName(), v}
			}
			home := t.TempDir()
			environ := func(extra ...string) []string {
				return append([]string{"HOME=" + home, "XDG_CONFIG_HOME=" + filepath.Join(home, "xdg")}, extra...)
			}
			writeConfig := func(body string) {
				p := filepath.Join(home, "xdg", "amqptop", "config.yaml")
				os.MkdirAll(filepath.Dir(p), 0o700)
				if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			get := func(environ []string, args ...string) any {
				t.Helper()
				c, _, code, errs := resolved(t, environ, append(append([]string{}, base...), args...)...)
				if c == nil {
					t.Fatalf("%v: exit %d: %s", args, code, errs)
				}
				return readBack(t, s, c)
			}
			// The default.
			def := get(environ())
			if s.def != "" && !reflect.DeepEqual(def, want(t, s, s.def)) {
				t.Errorf("default %v, want %v", def, s.def)
			}
			// Each way alone.
			if got := get(environ(), flagArg(a)...); !reflect.DeepEqual(got, want(t, s, a)) {
				t.Errorf("flag: %v, want %v", got, a)
			}
			if got := get(environ(s.envName() + "=" + a)); !reflect.DeepEqual(got, want(t, s, a)) {
				t.Errorf("%s: %v, want %v", s.envName(), got, a)
			}
			writeConfig(fmt.Sprintf("%s: %q\n", s.key, a))
			if got := get(environ()); !reflect.DeepEqual(got, want(t, s, a)) {
				t.Errorf("config file: %v, want %v", got, a)
			}
			// Precedence: flag > env > file.
			if got := get(environ(s.envName()+"="+b), flagArg(a)...); !reflect.DeepEqual(got, want(t, s, a)) {
				t.Errorf("flag over env: %v, want %v", got, a)
			}
			writeConfig(fmt.Sprintf("%s: %q\n", s.key, b))
			if got := get(environ(s.envName() + "=" + a)); !reflect.DeepEqual(got, want(t, s, a)) {
				t.Errorf("env over file: %v, want %v", got, a)
			}
			if got := get(environ(), flagArg(a)...); !reflect.DeepEqual(got, want(t, s, a)) {
				t.Errorf("flag over file: %v, want %v", got, a)
			}
			// A context over the file's own value; --context and
			// AMQPTOP_CONTEXT choose it.
			if s.ctx {
				writeConfig(fmt.Sprintf("%s: %q\ncontext: prod\ncontexts:\n  prod:\n    %s: %q\n  other: {}\n", s.key, b, s.key, a))
				if got := get(environ()); !reflect.DeepEqual(got, want(t, s, a)) {
					t.Errorf("the file's context: %v, want %v", got, a)
				}
				if got := get(environ(), "--context", "other"); !reflect.DeepEqual(got, want(t, s, b)) {
					t.Errorf("--context other: %v, want the file's own %v", got, b)
				}
				if got := get(environ("AMQPTOP_CONTEXT=other")); !reflect.DeepEqual(got, want(t, s, b)) {
					t.Errorf("AMQPTOP_CONTEXT=other: %v, want the file's own %v", got, b)
				}
				if got := get(environ(s.envName()+"="+b), "--context", "prod"); !reflect.DeepEqual(got, want(t, s, b)) {
					t.Errorf("env over the context: %v, want %v", got, b)
				}
			} else {
				writeConfig(fmt.Sprintf("contexts:\n  prod:\n    %s: %q\n", s.key, a))
				if _, _, code, errs := resolved(t, environ(), base...); code != exitUsage || !strings.Contains(errs, "is not a context setting") {
					t.Errorf("%s in a context: exit %d %q", s.key, code, errs)
				}
			}
		})
	}
}

// The config file itself: --config and AMQPTOP_CONFIG name it; a named
// file that is missing, a key that is no setting and a context that does
// not exist are usage errors that say where; a file readable by others
// gets a warning.
func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "amqptop.yaml")
	os.WriteFile(file, []byte("poll: 9s\ncontexts:\n  prod:\n    url: amqp://monitor@mq-1:5672/\n"), 0o600)
	env := []string{"HOME=" + dir}
	for _, args := range [][]string{{"--config", file}, nil} {
		environ := env
		if args == nil {
			environ = append(environ, "AMQPTOP_CONFIG="+file)
		}
		c, _, code, errs := resolved(t, environ, append([]string{"watch"}, args...)...)
		if c == nil || c.poll != 9*time.Second {
			t.Errorf("%v: %d %s", args, code, errs)
		}
	}
	for _, tc := range []struct {
		body, args, want string
	}{
		{"", "--config " + filepath.Join(dir, "missing.yaml"), "no such file"},
		{"pol: 5s\n", "", "amqptop.yaml:1: unknown key \"pol\"; did you mean poll?"},
		{"contexts:\n  prod:\n    theme: dark\n", "", "\"theme\" is not a context setting"},
		{"contexts:\n  prod: {}\n", "--context prd", "has no such context; did you mean prod?"},
		{"context: nope\ncontexts:\n  prod: {}\n", "", "\"nope\" is not one of the contexts"},
		{"poll: [1, 2]\n", "", "amqptop.yaml:1: poll: expected a value"},
		{"poll: soon\n", "", "poll: \"soon\" is not a duration"},
	} {
		os.WriteFile(file, []byte(tc.body), 0o600)
		args := append([]string{"watch", "--config", file}, strings.Fields(tc.args)...)
		if _, _, code, errs := resolved(t, env, args...); code != exitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("%q %s: exit %d %q, want %q", tc.body, tc.args, code, errs, tc.want)
		}
	}
	os.WriteFile(file, []byte("poll: 9s\ncontexts:\n  prod:\n    url: amqp://monitor:s3cret@mq:5672/\n"), 0o644)
	os.Chmod(file, 0o644)
	var out, errb strings.Builder
	a := newApp(strings.NewReader(""), &out, &errb, append(env, "AMQPTOP_CONFIG="+file))
	a.run = func(_ context.Context, _ string, _ *config, _ []string) error { return nil }
	if code := a.exec([]string{"watch"}); code != 0 || !strings.Contains(errb.String(), "can be read by others (mode 0644)") ||
		!strings.Contains(errb.String(), "context prod: url holds a password") || strings.Contains(errb.String(), "s3cret") {
		t.Errorf("world-readable config: %d %q", code, errb.String())
	}
}

// A password comes from the URL, a password file, or AMQPTOP_PASSWORD —
// never from amqptop's own files — and is put into the URL the monitor uses.
func TestPasswordSources(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("s3cr3t-from-file\n"), 0o600)
	env := []string{"HOME=" + dir}
	cases := []struct {
		environ []string
		args    []string
		want    string
	}{
		{nil, []string{"--url", "amqp://monitor@mq:5672/"}, "amqp://monitor@mq:5672/"},
		{nil, []string{"--url", "amqp://monitor@mq:5672/", "--password-file", pw}, "amqp://monitor:s3cr3t-from-file@mq:5672/"},
		{[]string{"AMQPTOP_PASSWORD=s3cr3t-env"}, []string{"--url", "amqp://monitor@mq:5672/"}, "amqp://monitor:s3cr3t-env@mq:5672/"},
		{[]string{"AMQPTOP_PASSWORD=s3cr3t-env"}, []string{"--url", "amqp://monitor:in-url@mq:5672/"}, "amqp://monitor:in-url@mq:5672/"},
		{nil, []string{"--url", "amqp://monitor:p@mq:5672/", "--vhost", "/prod"}, "amqp://monitor:p@mq:5672/%2Fprod"},
	}
	for _, tc := range cases {
		c, _, code, errs := resolved(t, append(env, tc.environ...), append([]string{"watch"}, tc.args...)...)
		if c == nil || c.url != tc.want {
			got := ""
			if c != nil {
				got = c.url
			}
			t.Errorf("%v %v: %q (exit %d %s), want %q", tc.environ, tc.args, got, code, errs, tc.want)
		}
	} // A management URL naming its own user takes the password the same way.
	c, _, _, _ := resolved(t, append(env, "AMQPTOP_PASSWORD=s3cr3t-env"), "watch", "--url", "amqp://monitor@mq:5672/", "--mgmt-url", "https://mon@mq:15671/")
	if c == nil || c.mgmtURL != "https://mon:s3cr3t-env@mq:15671/" {
		t.Errorf("management URL: %+v", c)
	}
}

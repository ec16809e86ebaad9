package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amqptop/amqptop/testbroker"
	"github.com/charmbracelet/x/exp/teatest/v2"
	amqp "github.com/rabbitmq/amqp091-go"
)

// A password given any of the four ways never appears in anything amqptop
// writes: a panic's message and stack, usage and connection errors, watch's
// text and JSON, the debug log, and the dashboard's frames. (amqptop has
// no recordings or reports yet; when it does, they join this test.)

// way is one way of giving the password, for the user it names.
type way struct {
	name, user, password string
	environ              []string // beyond the test's HOME and PATH
	args                 func(amqpURL, mgmtURL string) []string
}

func passwordWays(t *testing.T) []way {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	os.WriteFile(file, []byte("Pw-from-FILE-r8y\n"), 0o600)
	ctxFile := filepath.Join(dir, "ctx-pw")
	os.WriteFile(ctxFile, []byte("Pw-from-CTX-t1w\n"), 0o600)
	noPw := func(u, user string) string {
		p, _ := url.Parse(u)
		p.User = url.User(user)
		return p.String()
	}
	cfg := filepath.Join(dir, "config.yaml")
	return []way{
		{name: "url", user: "sec-url", password: "Pw-in-URL:q7x!k", args: func(a, m string) []string {
			p, _ := url.Parse(a)
			p.User = url.UserPassword("sec-url", "Pw-in-URL:q7x!k")
			return []string{"--url", p.String(), "--mgmt-url", m}
		}},
		{name: "file", user: "sec-file", password: "Pw-from-FILE-r8y", args: func(a, m string) []string {
			return []string{"--url", noPw(a, "sec-file"), "--mgmt-url", m, "--password-file", file}
		}},
		{name: "env", user: "sec-env", password: "Pw-from-ENV-s9z", environ: []string{"AMQPTOP_PASSWORD=Pw-from-ENV-s9z"},
			args: func(a, m string) []string { return []string{"--url", noPw(a, "sec-env"), "--mgmt-url", m} }},
		{name: "context", user: "sec-ctx", password: "Pw-from-CTX-t1w", args: func(a, m string) []string {
			os.WriteFile(cfg, []byte(fmt.Sprintf("contexts:\n  prod:\n    url: %s\n    mgmt_url: %s\n    password_file: %s\n", noPw(a, "sec-ctx"), m, ctxFile)), 0o600)
			return []string{"--config", cfg, "--context", "prod"}
		}},
	}
}

// leaks fails the test when out holds the password in any of its spellings.
func leaks(t *testing.T, what, password, out string) {
	t.Helper()
	for _, s := range []string{password, url.QueryEscape(password), url.PathEscape(password), base64.StdEncoding.EncodeToString([]byte(password))} {
		if strings.Contains(out, s) {
			i := strings.Index(out, s)
			t.Errorf("%s shows the password %q: …%s…", what, s, out[max(0, i-80):min(len(out), i+len(s)+20)])
		}
	}
}

func runIn(environ []string, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Run(args, strings.NewReader(""), &out, &errb, environ)
	return code, out.String(), errb.String()
}

// A bug's panic is printed with its stack, the password hidden, whichever
// way it was given.
func TestPanicDoesNotShowThePassword(t *testing.T) {
	for _, w := range passwordWays(t) {
		t.Run(w.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			a := newApp(strings.NewReader(""), &out, &errb, append(testEnviron(t), w.environ...))
			a.run = func(_ context.Context, _ string, c *config, _ []string) error {
				panic(fmt.Sprintf("cannot use %s (from %q)", c.url, w.password))
			}
			code := a.exec(append([]string{"watch"}, w.args("amqp://127.0.0.1:1/", "http://127.0.0.1:1")...))
			if code != exitError || !strings.Contains(errb.String(), "internal error") || !strings.Contains(errb.String(), "goroutine") ||
				!strings.Contains(errb.String(), "xxxxx") {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			leaks(t, "the panic", w.password, errb.String())
		})
	}
}

// Errors about the target, about a management API that echoes the
// credentials it was sent, and about an AMQP port that refuses.
func TestErrorsDoNotShowThePassword(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		code := http.StatusInternalServerError
		if strings.HasSuffix(r.URL.Path, "/overview") {
			code = http.StatusUnauthorized
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"error":"bad","reason":"user %s with password %s; header %s"}`, user, pass, r.Header.Get("Authorization"))
	}))
	defer echo.Close()
	for _, w := range passwordWays(t) {
		t.Run(w.name, func(t *testing.T) {
			environ := append(testEnviron(t), w.environ...)
			args := append([]string{"watch", "--for", "3s", "--debug", "-"}, w.args("amqp://127.0.0.1:1/", echo.URL)...)
			code, out, errs := runIn(environ, args...)
			if code != 0 || !strings.Contains(out+errs, "management") {
				t.Errorf("exit %d: %s %s", code, out, errs)
			}
			leaks(t, "watch against a failing broker", w.password, out+errs)
			// A URL that does not parse, and one of the wrong scheme.
			for _, bad := range []string{"amqp://%s:%s@mq:port/", "http://%s:%s@mq/"} {
				u := fmt.Sprintf(bad, w.user, url.PathEscape(w.password))
				code, out, errs := runIn(environ, "watch", "--for", "1s", "--url", u)
				if code != exitUsage {
					t.Errorf("%s: exit %d %s", u, code, errs)
				}
				leaks(t, "the usage error", w.password, out+errs)
			}
		})
	}
}

// Against the private node, with a user per way: watch's text and JSON,
// the debug log and the dashboard, while connections come and go.
func TestLiveOutputDoesNotShowThePassword(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (-short)")
	}
	node := testbroker.Shared(t)
	for _, w := range passwordWays(t) {
		addUser(t, node, w.user, w.password, "monitoring", map[string]permissions{"/": {".*", ".*", ".*"}})
	}
	for _, w := range passwordWays(t) {
		t.Run(w.name, func(t *testing.T) {
			t.Parallel()
			environ := append(testEnviron(t), w.environ...)
			base := append([]string{"--poll", "1s", "--probe-interval", "300ms"}, w.args(node.AMQPURL(), node.MgmtURL())...)
			debug := filepath.Join(t.TempDir(), "debug.jsonl")
			type result struct {
				code     int
				out, err string
			}
			text, asJSON := make(chan result, 1), make(chan result, 1)
			go func() {
				c, o, e := runIn(environ, append([]string{"watch", "--for", "6s", "--debug", debug}, base...)...)
				text <- result{c, o, e}
			}()
			go func() {
				c, o, e := runIn(environ, append([]string{"watch", "--json", "--for", "6s"}, base...)...)
				asJSON <- result{c, o, e}
			}()
			tm, _ := startDashboardIn(t, environ, 160, 45, append(base, "--theme", "dark")...)
			// Connections come and go with the same user and password,
			// one of them refused (a wrong password) and one closed by
			// the broker.
			time.Sleep(2 * time.Second)
			good, _ := url.Parse(node.AMQPURL())
			good.User = url.UserPassword(w.user, w.password)
			for i := 0; i < 3; i++ {
				if conn, err := amqp.DialConfig(good.String(), amqp.Config{Properties: amqp.Table{"connection_name": "sec-" + w.name}}); err == nil {
					time.Sleep(300 * time.Millisecond)
					conn.Close()
				} else {
					t.Errorf("%s: %v", w.user, err)
				}
			}
			bad := *good
			bad.User = url.UserPassword(w.user, w.password+"-wrong")
			if _, err := amqp.Dial(bad.String()); err == nil {
				t.Errorf("a wrong password was let in")
			}
			waitScreen(t, tm, "the connections", func(s string) bool { return strings.Contains(s, "probe ● up") && strings.Contains(s, "sec-"+w.name) })
			tm.Type("q")
			tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
			frames := tm.FinalOutput(t)
			var all bytes.Buffer
			all.ReadFrom(frames)
			leaks(t, "the dashboard", w.password, all.String())
			for what, ch := range map[string]chan result{"watch": text, "watch --json": asJSON} {
				r := <-ch
				if r.code != 0 || !strings.Contains(r.out, "sec-"+w.name) {
					t.Errorf("%s: exit %d, no connection of ours in %q %s", what, r.code, r.out, r.err)
				}
				leaks(t, what, w.password, r.out+r.err)
			}
			b, err := os.ReadFile(debug)
			if err != nil || !bytes.Contains(b, []byte(`"kind":"MgmtSnapshot"`)) || !bytes.Contains(b, []byte("sec-"+w.name)) {
				t.Errorf("debug log: %v %d bytes", err, len(b))
			}
			leaks(t, "the debug log", w.password, string(b))
		})
	}
}

// permissions are a user's configure, write and read patterns on vhost /.
type permissions struct{ configure, write, read string }

// addUser creates (or updates) a user on the node through its management
// API (rabbitmqctl takes seconds a call), with tags and permissions per
// vhost (a vhost that does not exist is created).
func addUser(t *testing.T, node *testbroker.Node, user, password, tags string, perms map[string]permissions) {
	t.Helper()
	put := func(path string, body any) {
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPut, strings.TrimSuffix(node.MgmtURL(), "/")+path, bytes.NewReader(b))
		req.SetBasicAuth("guest", "guest")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("PUT %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("PUT %s: %s", path, resp.Status)
		}
	}
	put("/api/users/"+url.PathEscape(user), map[string]string{"password": password, "tags": tags})
	for vhost, p := range perms {
		if vhost != "/" {
			put("/api/vhosts/"+url.PathEscape(vhost), map[string]string{})
		}
		put("/api/permissions/"+url.PathEscape(vhost)+"/"+url.PathEscape(user), map[string]string{"configure": p.configure, "write": p.write, "read": p.read})
	}
}

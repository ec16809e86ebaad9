package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/amqptop/amqptop/model"
	"github.com/amqptop/amqptop/testbroker"
)

// The README's least permissions, exactly as it prints them: a user with
// the monitoring tag; in the watched vhost configure/write/read limited
// to server-named queues (and write to the default exchange, for the
// probe); in / what the event and log subscribers need. A vhost of its
// own, so the two lines stay two lines.
var readmePermissions = map[string]permissions{
	"lp-app": {`^amq\.gen-.*`, `^(amq\.gen-.*|amq\.default)$`, `^amq\.gen-.*`},
	"/":      {`^amq\.gen-.*`, `^amq\.gen-.*`, `^(amq\.gen-.*|amq\.rabbitmq\.(event|log))$`},
}

// readmeMergedPermissions is the README's line for watching vhost / itself.
var readmeMergedPermissions = map[string]permissions{
	"/": {`^amq\.gen-.*`, `^(amq\.gen-.*|amq\.default)$`, `^(amq\.gen-.*|amq\.rabbitmq\.(event|log))$`},
}

// footprint is what amqptop has on the broker: its connections, the
// queues they own, those queues' bindings, and which connections publish.
type footprint struct {
	connections, queues, bindings, publishers []string
}

func (f footprint) String() string {
	return fmt.Sprintf("%d connections %v, %d queues, %d bindings %v, publishing: %v",
		len(f.connections), f.connections, len(f.queues), len(f.bindings), f.bindings, f.publishers)
}

// Each mode with exactly the README's permissions, on both broker
// versions: every source it runs comes up, none reports a permission
// problem, and what amqptop creates on the broker is what the README's
// footprint table says.
func TestLeastPrivilegeFootprint(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (-short)")
	}
	modes := []struct {
		name    string
		vhost   string
		perms   map[string]permissions
		set     func(*config)
		sources []string
		// the footprint: connections (by their client-provided name),
		// queues, bindings (exchange → queue), connections that publish
		conns, queues int
		bindings      []string
		publishers    []string
	}{
		{"default", "lp-app", readmePermissions, func(*config) {}, []string{"probe", "events", "log", "management"},
			3, 3, []string{"amq.rabbitmq.event #", "amq.rabbitmq.log #"}, []string{"amqptop-probe"}},
		{"default-vhost-/", "", readmeMergedPermissions, func(*config) {}, []string{"probe", "events", "log", "management"},
			3, 3, []string{"amq.rabbitmq.event #", "amq.rabbitmq.log #"}, []string{"amqptop-probe"}},
		{"no-probe", "lp-app", readmePermissions, func(c *config) { c.noProbe = true }, []string{"events", "log", "management"},
			2, 2, []string{"amq.rabbitmq.event #", "amq.rabbitmq.log #"}, nil},
		{"passive", "lp-app", readmePermissions, func(c *config) { c.passive = true }, []string{"management"},
			0, 0, nil, nil},
	}
	for _, kind := range testbroker.Brokers() {
		t.Run("rabbitmq-"+kind, func(t *testing.T) {
			t.Parallel()
			node := testbroker.SharedFor(t, kind)
			for _, m := range modes {
				t.Run(m.name, func(t *testing.T) {
					t.Parallel()
					user := "amqptop-lp-" + strings.ReplaceAll(m.name, "/", "")
					addUser(t, node, user, "lp-secret", "monitoring", m.perms)
					u, _ := url.Parse(node.AMQPURL())
					u.User = url.UserPassword(user, "lp-secret")
					mg, _ := url.Parse(node.MgmtURL())
					mg.User = url.UserPassword(user, "lp-secret")
					r := startWatch(t, u.String(), mg.String(), m.set, func(c *config) { c.vhost = m.vhost; c.credentials(nil) })
					for _, src := range m.sources {
						r.waitFor(t, src+" up", 30*time.Second, func(e *arrival) bool {
							return e.Type == model.SourceChanged && strings.HasPrefix(e.Text, src+" up")
						})
					}
					want := footprint{queues: make([]string, m.queues), bindings: m.bindings, publishers: m.publishers}
					var got footprint
					deadline := time.Now().Add(30 * time.Second)
					for {
						got = footprintOf(t, node, user)
						if len(got.connections) == m.conns && len(got.queues) == m.queues &&
							strings.Join(got.bindings, ",") == strings.Join(want.bindings, ",") &&
							strings.Join(got.publishers, ",") == strings.Join(want.publishers, ",") || time.Now().After(deadline) {
							break
						}
						time.Sleep(500 * time.Millisecond)
					}
					if len(got.connections) != m.conns || len(got.queues) != m.queues ||
						strings.Join(got.bindings, ",") != strings.Join(want.bindings, ",") ||
						strings.Join(got.publishers, ",") != strings.Join(want.publishers, ",") {
						t.Errorf("footprint: %v\nwant %d connections, %d queues, bindings %v, publishing %v", got, m.conns, m.queues, want.bindings, want.publishers)
					}
					// A few more probe rounds: nothing goes down, nothing is refused.
					time.Sleep(3 * time.Second)
					// (A slow poll on a loaded machine degrades the
					// management source; that is not a permission problem.)
					// (Words, not substrings: a peer port such as 40112 holds "401".)
					if n := r.count(func(e *arrival) bool {
						return e.Type == model.SourceChanged && (e.Severity == model.SevError || permissionWords.MatchString(e.Text))
					}); n != 0 {
						r.mu.Lock()
						for _, e := range r.events {
							if e.Type == model.SourceChanged {
								t.Logf("%s", e.Text)
							}
						}
						r.mu.Unlock()
						t.Errorf("%d source problems with the README's permissions", n)
					}
					// Still the same footprint (a late connection, a publish
					// the stats had not shown yet).
					if again := footprintOf(t, node, user); again.String() != got.String() {
						t.Errorf("footprint changed: %v, then %v", got, again)
					}
				})
			}
		})
	}
}

// footprintOf asks the broker (as its administrator) what the user's
// amqptop connections hold.
func footprintOf(t *testing.T, node *testbroker.Node, user string) footprint {
	t.Helper()
	var conns []struct {
		Name  string `json:"name"`
		User  string `json:"user"`
		Props struct {
			Product string `json:"product"`
			Name    string `json:"connection_name"`
		} `json:"client_properties"`
	}
	type queue struct {
		Name, Vhost string
		Exclusive   bool
		Owner       json.RawMessage `json:"owner_pid_details"` // [] until the stats arrive
	}
	var queues []queue
	var bindings []struct {
		Source, Vhost, Destination string
		Type                       string `json:"destination_type"`
		Key                        string `json:"routing_key"`
	}
	var channels []struct {
		Conn struct {
			Name string `json:"name"`
		} `json:"connection_details"`
		Stats struct {
			Publish int `json:"publish"`
		} `json:"message_stats"`
	}
	for path, v := range map[string]any{"/api/connections": &conns, "/api/queues": &queues, "/api/bindings": &bindings, "/api/channels": &channels} {
		mgmtGet(t, node, path, v)
	}
	var f footprint
	ours := map[string]string{} // broker connection name → client-provided name
	for _, c := range conns {
		if c.User == user {
			if c.Props.Product != "amqptop" {
				t.Errorf("a connection of %s that is not amqptop's: %+v", user, c)
			}
			ours[c.Name] = c.Props.Name
			f.connections = append(f.connections, c.Props.Name)
		}
	}
	queueOf := map[string]bool{}
	for _, q := range queues {
		if !q.Exclusive {
			continue
		}
		// The listing leaves the owner out; a queue's own page has it.
		if mgmtGet(t, node, "/api/queues/"+url.PathEscape(q.Vhost)+"/"+url.PathEscape(q.Name), &q) != nil {
			continue // gone since the listing
		}
		var owner struct {
			Name string `json:"name"`
		}
		json.Unmarshal(q.Owner, &owner)
		if _, ok := ours[owner.Name]; ok {
			queueOf[q.Vhost+"/"+q.Name] = true
			f.queues = append(f.queues, q.Name)
		}
	}
	for _, b := range bindings {
		if b.Type == "queue" && b.Source != "" && queueOf[b.Vhost+"/"+b.Destination] {
			f.bindings = append(f.bindings, b.Source+" "+b.Key)
		}
	}
	for _, ch := range channels {
		if name, ok := ours[ch.Conn.Name]; ok && ch.Stats.Publish > 0 {
			f.publishers = append(f.publishers, clientRole(name))
		}
	}
	for _, s := range [][]string{f.connections, f.bindings, f.publishers} {
		sort.Strings(s)
	}
	return f
}

// clientRole is the role in amqptop's client-provided names
// ("amqptop-probe@host" → "amqptop-probe").
func clientRole(name string) string {
	role, _, _ := strings.Cut(name, "@")
	return role
}

// mgmtGet decodes a management API answer into v; a 404 is returned (the
// thing went away), any other failure ends the test.
func mgmtGet(t *testing.T, node *testbroker.Node, path string, v any) error {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, strings.TrimSuffix(node.MgmtURL(), "/")+path, nil)
	req.SetBasicAuth("guest", "guest")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return nil
}

// permissionWords are what a source says when a permission is missing.
var permissionWords = regexp.MustCompile(`(?i)\b(access|access_refused|refused|permission|not authori[sz]ed|40[13])\b`)

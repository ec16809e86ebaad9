package faults

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/amqptop/amqptop/testbroker"
)

func TestMain(m *testing.M) { testbroker.Main(m) }

// loadConns lists the load's connections as the broker sees them: name,
// channels, and the state the API reports.
func loadConns(t *testing.T, n *testbroker.Node, prefix string) map[string]int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, n.MgmtURL()+"/api/connections?columns=client_properties.connection_name,channels", nil)
	req.SetBasicAuth("guest", "guest")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []struct {
		Props    map[string]any `json:"client_properties"`
		Channels int            `json:"channels"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, c := range list {
		if name, _ := c.Props["connection_name"].(string); strings.HasPrefix(name, prefix) {
			out[name] = c.Channels
		}
	}
	return out
}

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("no %s within %v", what, d)
		}
	}
}

// The load generator against a private node: its connections are real
// (listed by the broker with their channels), carry traffic, and end
// cleanly (Close: the broker logs a clean close) or all at once (Kill:
// the broker sees resets, "client unexpectedly closed TCP connection").
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (-short)")
	}
	n := testbroker.Shared(t)
	for _, end := range []string{"close", "kill"} {
		t.Run(end, func(t *testing.T) {
			prefix := "load-" + end
			logAt := fileSize(t, n.LogFile())
			l, err := StartLoad(context.Background(), LoadOptions{URL: n.AMQPURL(), Conns: 20, Name: prefix, Publish: 100 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(l.Names()); got != 20 {
				t.Fatalf("%d connections open, want 20", got)
			}
			waitFor(t, "20 connections with 2 channels each listed", 30*time.Second, func() bool {
				cs := loadConns(t, n, prefix)
				for _, ch := range cs {
					if ch != 2 {
						return false
					}
				}
				return len(cs) == 20
			})
			waitFor(t, "traffic", 10*time.Second, func() bool { ok, _ := l.Published(); return ok >= 20 })
			if end == "kill" {
				l.Kill()
			} else {
				l.Close()
			}
			waitFor(t, "every connection gone", 30*time.Second, func() bool { return len(loadConns(t, n, prefix)) == 0 })
			want := "client unexpectedly closed TCP connection"
			waitFor(t, "the broker's word on each", 15*time.Second, func() bool {
				b, _ := os.ReadFile(n.LogFile())
				logged := string(b[min(logAt, int64(len(b))):])
				count := 0
				for _, line := range strings.Split(logged, "\n") {
					if strings.Contains(line, "closing AMQP connection") && strings.Contains(line, " - "+prefix+"-") {
						count++
					}
				}
				if end == "kill" {
					return strings.Count(logged, want) >= 20 && count >= 20
				}
				return count >= 20 && !strings.Contains(logged, want)
			})
		})
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

package model

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRedactCredentials(t *testing.T) {
	cases := []struct{ in, want string }{
		{"dial amqp://bob:s3cret@mq:5672/ failed", "dial amqp://bob:xxxxx@mq:5672/ failed"},
		{"amqps://monitor:p%40ss@mq-1.prod:5671/%2F", "amqps://monitor:xxxxx@mq-1.prod:5671/%2F"},
		{"GET https://admin:hunter2@mq:15671/api/overview: 401", "GET https://admin:xxxxx@mq:15671/api/overview: 401"},
		{"connecting with password=hunter2 user=bob", "connecting with password=xxxxx user=bob"},
		{`{"user": "bob", "password": "hunter2"}`, `{"user": "bob", "password": "xxxxx"}`},
		{"Authorization: Basic Ym9iOnMzY3JldA==", "Authorization: Basic xxxxx"},
		{"amqp://guest@localhost:5672/ has no password", "amqp://guest@localhost:5672/ has no password"},
		{"closing AMQP connection <0.5.0> (10.0.0.5:51234 -> 10.0.0.10:5672, vhost: '/', user: 'app')", "closing AMQP connection <0.5.0> (10.0.0.5:51234 -> 10.0.0.10:5672, vhost: '/', user: 'app')"},
		{`Exception (403) Reason: "username or password not allowed"`, `Exception (403) Reason: "username or password not allowed"`},
	}
	for _, c := range cases {
		if got := RedactCredentials(c.in); got != c.want {
			t.Errorf("RedactCredentials(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

// A low-confidence close carries its candidates in the JSON Lines, each
// with its check, and they survive a round trip.
func TestEventJSONCandidates(t *testing.T) {
	e := Event{ID: 7, Seq: 7, Type: ConnClosed, Conn: "a -> b", Cause: &CauseRef{ID: "network-interruption", Title: "t"},
		Diagnosis: &Diagnosis{Confidence: ConfLow, Method: "basic.publish", Candidates: []Candidate{
			{ID: "network-interruption", Title: "t", Check: "the broker logged nothing else"},
			{ID: "heartbeat-timeout", Title: "h", Check: "the broker's log says missed heartbeats"}}}}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"candidates":[{"id":"network-interruption"`) || !strings.Contains(string(b), `"check":"the broker's log says missed heartbeats"`) ||
		!strings.Contains(string(b), `"method":"basic.publish"`) {
		t.Fatalf("json: %s", b)
	}
	var back Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Diagnosis == nil || len(back.Diagnosis.Candidates) != 2 || back.Diagnosis.Candidates[1].ID != "heartbeat-timeout" || back.Diagnosis.Method != "basic.publish" {
		t.Errorf("back: %+v", back.Diagnosis)
	}
}

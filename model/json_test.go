package model

import (
	"encoding/json"
	"strings"
	"testing"
)

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

package model

import (
	"encoding/json"
	"time"
)

// eventJSON is the JSON Lines form of an Event: the contract documented in
// the README. Core fields are always present; type-specific ones only when set.
type eventJSON struct {
	TS       string    `json:"ts"`
	Seq      uint64    `json:"seq"`
	ID       uint64    `json:"id"`
	Update   bool      `json:"update,omitempty"`
	Type     EventType `json:"type"`
	Severity Severity  `json:"severity"`
	Source   Source    `json:"source"`
	Node     string    `json:"node"`
	Conn     string    `json:"conn"`
	Client   string    `json:"client"`
	User     string    `json:"user"`
	Vhost    string    `json:"vhost"`
	Peer     string    `json:"peer"`
	Channel  int       `json:"channel"`
	Code     int       `json:"code"`
	Text     string    `json:"text"`
	Cause    *CauseRef `json:"cause"`

	Confidence string      `json:"confidence,omitempty"`
	Candidates []Candidate `json:"candidates,omitempty"`
	Method     string      `json:"method,omitempty"`
	Notes      []string    `json:"notes,omitempty"`
	Evidence   []string    `json:"evidence,omitempty"`
	Detail     string      `json:"detail,omitempty"`
	ByServer   bool        `json:"by_server,omitempty"`
	Pending    bool        `json:"pending,omitempty"`
	From       string      `json:"from,omitempty"`
	To         string      `json:"to,omitempty"`
	Alarm      string      `json:"alarm,omitempty"`
	Heartbeat  *float64    `json:"heartbeat_s,omitempty"`
	Silent     *float64    `json:"silent_s,omitempty"`
	Downtime   *float64    `json:"downtime_s,omitempty"`
	Count      int         `json:"count,omitempty"`
	Window     *float64    `json:"window_s,omitempty"`
	Delay      *float64    `json:"delay_s,omitempty"`
	Health     string      `json:"health,omitempty"`
	Hint       string      `json:"hint,omitempty"`
	Level      string      `json:"level,omitempty"`
}

func secs(d time.Duration, keep bool) *float64 {
	if d == 0 && !keep {
		return nil
	}
	v := d.Seconds()
	return &v
}

// MarshalJSON writes the event in the documented JSON Lines form.
func (e Event) MarshalJSON() ([]byte, error) {
	j := eventJSON{
		TS: e.Time.UTC().Format(time.RFC3339Nano), Seq: e.Seq, ID: e.ID, Update: e.Update, Type: e.Type,
		Severity: e.Severity, Source: e.Source, Node: e.Node, Conn: e.Conn, Client: e.Client, User: e.User,
		Vhost: e.Vhost, Peer: e.Peer, Channel: e.Channel, Code: e.Code, Text: e.Text, Cause: e.Cause,
		Evidence: e.Evidence, Detail: e.Detail, ByServer: e.ByServer, Pending: e.Pending,
		From: e.From, To: e.To, Alarm: e.Alarm, Count: e.Count, Hint: e.Hint, Level: e.Level,
		Silent: secs(e.Silent, false), Window: secs(e.Window, false), Delay: secs(e.Delay, false),
	}
	if e.Diagnosis != nil {
		j.Confidence = e.Diagnosis.Confidence.String()
		j.Candidates = e.Diagnosis.Candidates
		j.Method = e.Diagnosis.Method
		j.Notes = e.Diagnosis.Notes
	}
	switch e.Type {
	case ConnOpened, ConnSeen, ConnClosed, HeartbeatAtRisk, HeartbeatDisabled, ProbeUp:
		j.Heartbeat = secs(e.Heartbeat, true)
	}
	switch e.Type {
	case ClientReconnected, ProbeUp:
		j.Downtime = secs(e.Downtime, e.Type == ClientReconnected)
	}
	if e.Type == SourceChanged {
		j.Health = e.Health.String()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads the JSON Lines form back (the diagnosis is reduced
// to its confidence and notes).
func (e *Event) UnmarshalJSON(b []byte) error {
	var j eventJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339Nano, j.TS)
	if err != nil {
		return err
	}
	dur := func(p *float64) time.Duration {
		if p == nil {
			return 0
		}
		return time.Duration(*p * float64(time.Second))
	}
	*e = Event{Seq: j.Seq, ID: j.ID, Update: j.Update, Time: t, Type: j.Type, Severity: j.Severity,
		Source: j.Source, Node: j.Node, Conn: j.Conn, Client: j.Client, User: j.User, Vhost: j.Vhost,
		Peer: j.Peer, Channel: j.Channel, Code: j.Code, Text: j.Text, Cause: j.Cause, Evidence: j.Evidence,
		Detail: j.Detail, ByServer: j.ByServer, Pending: j.Pending, From: j.From, To: j.To, Alarm: j.Alarm,
		Count: j.Count, Hint: j.Hint, Level: j.Level, Heartbeat: dur(j.Heartbeat), Silent: dur(j.Silent),
		Downtime: dur(j.Downtime), Window: dur(j.Window), Delay: dur(j.Delay)}
	if j.Health != "" {
		_ = e.Health.UnmarshalText([]byte(j.Health))
	}
	if j.Confidence != "" || len(j.Notes) > 0 {
		d := &Diagnosis{Notes: j.Notes, Candidates: j.Candidates, Method: j.Method}
		_ = d.Confidence.UnmarshalText([]byte(j.Confidence))
		e.Diagnosis = d
	}
	return nil
}

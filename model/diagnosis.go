package model

import "fmt"

// Evidence is everything known about one close, from every source, handed
// to the Diagnoser.
type Evidence struct {
	Scope  string   `json:"scope,omitempty"`  // "connection" or "channel"
	Code   int      `json:"code,omitempty"`   // reply code, when known
	Text   string   `json:"text,omitempty"`   // reply text (e.g. "CONNECTION_FORCED - Closed via management plugin")
	Log    []string `json:"log,omitempty"`    // the broker's log entries about this close (message text)
	Client string   `json:"client,omitempty"` // the close as a client library printed it
	// Context at the time of the close.
	Alarm    bool `json:"alarm,omitempty"`     // a resource alarm was in force on the connection's node
	Restart  bool `json:"restart,omitempty"`   // the connection's node was stopping or restarting
	ByServer bool `json:"by_server,omitempty"` // the broker sent the close frame
	Vanished bool `json:"vanished,omitempty"`  // only seen as gone (API snapshot or event exchange), no reason
	// NodeDown: the connection's node went away without a shutdown of its
	// own (every source lost it at once, or it came back with a fresh
	// uptime and no stop was logged): a crash, a kill, the OOM killer.
	NodeDown bool `json:"node_down,omitempty"`
	// NodeLost: every source lost the connection's node at once and it has
	// not answered since, so a crash and a cut of amqptop's own path are
	// both still open.
	NodeLost bool `json:"node_lost,omitempty"`
	// LogFollowed: the broker's log was being followed when the close
	// happened, so a close without a log entry is one the broker did not
	// log (not one amqptop could not see).
	LogFollowed bool `json:"log_followed,omitempty"`
}

// Empty reports whether there is nothing to diagnose.
func (e Evidence) Empty() bool {
	return e.Code == 0 && e.Text == "" && len(e.Log) == 0 && e.Client == ""
}

// Confidence says how sure a diagnosis is.
type Confidence uint8

// Confidence levels.
const (
	ConfNone   Confidence = iota // not recognised
	ConfLow                      // a vague text (a reset, an EOF, a timeout) or context only: see the candidates
	ConfMedium                   // the wording points to one cause, but no code, constant or broker format says so
	ConfHigh                     // a code, constant or broker format that names one cause
)

var confNames = [...]string{"none", "low", "medium", "high"}

func (c Confidence) String() string {
	if int(c) < len(confNames) {
		return confNames[c]
	}
	return fmt.Sprintf("confidence(%d)", c)
}

// MarshalText implements encoding.TextMarshaler.
func (c Confidence) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *Confidence) UnmarshalText(b []byte) error {
	for i, n := range confNames {
		if n == string(b) {
			*c = Confidence(i)
			return nil
		}
	}
	return fmt.Errorf("unknown confidence %q", b)
}

// DeadEnd is something people try that does not help, and why.
type DeadEnd struct {
	Action string `json:"action"`
	Why    string `json:"why"`
}

// Cause is one entry of the root-cause knowledge base.
type Cause struct {
	ID       string    `json:"id"`
	Title    string    `json:"title"`
	Scope    string    `json:"scope"`    // connection, channel or client
	Severity Severity  `json:"severity"` // how an event with this cause is shown
	Happened string    `json:"happened"` // what happened, in one or two sentences
	Why      []string  `json:"why"`      // likely causes
	Do       []string  `json:"do"`       // what to do, in order
	DeadEnds []DeadEnd `json:"dead_ends,omitempty"`
	Docs     []string  `json:"docs,omitempty"`
	// Check is the one check that confirms this cause against the others a
	// vague text leaves open ("the broker's log at that time says …").
	Check string `json:"check,omitempty"`
}

// Ref returns the cause's id and title.
func (c *Cause) Ref() *CauseRef {
	if c == nil {
		return nil
	}
	return &CauseRef{ID: c.ID, Title: c.Title}
}

// Diagnosis is the knowledge base's answer for one close.
type Diagnosis struct {
	Cause       *Cause     `json:"cause"` // nil: not recognised
	Confidence  Confidence `json:"confidence"`
	Code        int        `json:"code,omitempty"`         // the reply code the diagnosis trusts
	CodeName    string     `json:"code_name,omitempty"`    // e.g. CONNECTION_FORCED
	CodeMeaning string     `json:"code_meaning,omitempty"` // the generic meaning of that code
	Method      string     `json:"method,omitempty"`       // the AMQP method that failed, e.g. queue.declare
	Matched     []string   `json:"matched,omitempty"`      // which evidence matched, e.g. `broker log: "missed heartbeats from client"`
	Notes       []string   `json:"notes,omitempty"`        // e.g. a miscoded constant
	// Candidates are the causes the evidence leaves open, most likely
	// first (Cause is the first), each with the check that tells it from
	// the others. Set when the confidence is low.
	Candidates []Candidate `json:"candidates,omitempty"`
}

// Fits reports whether the diagnosis fits what really happened (cause
// id): it names that cause, or it is of low confidence with that cause
// among its candidates. A diagnosis that names another cause at medium or
// high confidence is confidently wrong.
func (d *Diagnosis) Fits(id string) bool {
	if d == nil {
		return false
	}
	if d.Cause != nil && d.Cause.ID == id {
		return true
	}
	if d.Confidence != ConfLow {
		return false
	}
	for _, c := range d.Candidates {
		if c.ID == id {
			return true
		}
	}
	return false
}

// Candidate is one cause a vague text leaves open, and how to tell.
type Candidate struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Check string `json:"check,omitempty"`
}

// Likely reports whether the diagnosis is a likely cause rather than a
// certain one (medium or low confidence): the dashboard says "likely".
func (d *Diagnosis) Likely() bool {
	return d != nil && d.Cause != nil && d.Confidence < ConfHigh
}

// Recognised reports whether a cause was found.
func (d *Diagnosis) Recognised() bool { return d != nil && d.Cause != nil }

// Diagnoser matches the evidence of a close to a root cause.
type Diagnoser interface {
	Diagnose(Evidence) Diagnosis
}

// Inference is a situation the model recognises itself, with no close
// text to diagnose. The knowledge base names its cause (the model never
// spells a cause id).
type Inference uint8

// The situations the model infers.
const (
	InferResourceAlarm Inference = iota + 1 // a resource alarm is in force, or a connection is blocked by one
	InferFlapping                           // a client reconnects in a loop
)

// Inferences lists every situation the model infers.
var Inferences = []Inference{InferResourceAlarm, InferFlapping}

// Inferrer is a Diagnoser that also names the cause of each situation the
// model infers itself.
type Inferrer interface {
	Infer(Inference) *Cause
}

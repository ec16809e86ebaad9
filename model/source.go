package model

import "fmt"

// Source names where an observation came from.
type Source uint8

// Sources. Their String values are a contract (the JSON "source" field).
const (
	SourceUnknown Source = iota
	SourceProbe
	SourceManagement
	SourceEvents
	SourceLog
	SourceDemo // no observation carries it any more (the demo tags each as the live source would); kept so "demo" still reads
)

var sourceNames = [...]string{"unknown", "probe", "management", "events", "log", "demo"}

func (s Source) String() string {
	if int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return fmt.Sprintf("source(%d)", s)
}

// ParseSource is the inverse of Source.String.
func ParseSource(s string) (Source, error) {
	for i, n := range sourceNames {
		if n == s {
			return Source(i), nil
		}
	}
	return SourceUnknown, fmt.Errorf("unknown source %q", s)
}

// MarshalText implements encoding.TextMarshaler.
func (s Source) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Source) UnmarshalText(b []byte) error {
	v, err := ParseSource(string(b))
	*s = v
	return err
}

// Health is the state of one source as it reports it.
type Health uint8

// Health values.
const (
	HealthUnknown Health = iota
	HealthUp
	HealthDegraded
	HealthDown
	HealthOff // disabled by the user (e.g. --no-probe)
)

var healthNames = [...]string{"unknown", "up", "degraded", "down", "off"}

func (h Health) String() string {
	if int(h) < len(healthNames) {
		return healthNames[h]
	}
	return fmt.Sprintf("health(%d)", h)
}

// MarshalText implements encoding.TextMarshaler.
func (h Health) MarshalText() ([]byte, error) { return []byte(h.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *Health) UnmarshalText(b []byte) error {
	for i, n := range healthNames {
		if n == string(b) {
			*h = Health(i)
			return nil
		}
	}
	return fmt.Errorf("unknown health %q", b)
}

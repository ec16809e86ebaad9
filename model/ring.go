package model

// ring is a bounded history of events, oldest dropped first.
type ring struct {
	cap   int
	buf   []Event
	start int // index of the oldest event when full
}

func (r *ring) len() int { return len(r.buf) }

func (r *ring) push(e Event) {
	if len(r.buf) < r.cap {
		r.buf = append(r.buf, e)
		return
	}
	r.buf[r.start] = e
	r.start = (r.start + 1) % r.cap
}

// at returns the i-th oldest event.
func (r *ring) at(i int) *Event { return &r.buf[(r.start+i)%len(r.buf)] }

func (r *ring) last() *Event { return r.at(len(r.buf) - 1) }

// newest returns the i-th newest event, nil when out of range.
func (r *ring) newest(i int) *Event {
	if i < 0 || i >= len(r.buf) {
		return nil
	}
	return r.at(len(r.buf) - 1 - i)
}

func (r *ring) all() []Event {
	out := make([]Event, len(r.buf))
	for i := range r.buf {
		out[i] = *r.at(i)
	}
	return out
}

// find returns the event with this ID, searching from the newest.
func (r *ring) find(id uint64) *Event {
	for i := len(r.buf) - 1; i >= 0; i-- {
		if e := r.at(i); e.ID == id {
			return e
		}
	}
	return nil
}

// replace overwrites the event with e's ID; if it has aged out, e is pushed.
func (r *ring) replace(e Event) {
	if old := r.find(e.ID); old != nil {
		*old = e
		return
	}
	r.push(e)
}

package ui

import (
	"sort"
	"strings"
	"time"

	"github.com/amqptop/amqptop/model"
)

// column is a sortable column of the connections table.
type column int

const (
	colWorst column = iota // faults first: the default
	colClient
	colUser
	colPeer
	colNode
	colState
	colHeartbeat
	colSilent
	colChannels
	colIn
	colOut
	colAge
	colCause
	numColumns
)

var colNames = [...]string{"worst", "client", "user", "peer", "node", "state", "heartbeat", "silent", "channels", "in", "out", "age", "cause"}

func (c column) String() string { return colNames[c] }

// rank orders connections by how much they need a look: 0 is worst.
func rank(c *model.ConnView) int {
	switch {
	case c.Closed && c.Close != nil && c.Close.Severity == model.SevError:
		return 0
	case c.State == model.StateBlocked:
		return 1
	case c.AtRisk:
		return 2
	case c.Closed && (c.Close == nil || c.Close.Severity == model.SevWarn):
		return 3
	case c.State == model.StateBlocking || c.State == model.StateFlow:
		return 4
	case c.Closed:
		return 6
	}
	return 5
}

func causeOf(c *model.ConnView) string {
	if c.Close != nil && c.Close.Cause != nil {
		return c.Close.Cause.ID
	}
	return ""
}

// rowSet is the connections table's rows, sorted and filtered. The table
// rebuilds it only when the data, the sort or the filter changed.
type rowSet struct {
	rows   []*model.ConnView
	col    column
	desc   bool
	filter string
	open   int // open connections among all (not only the filtered)
	closed int
}

// rebuild filters and sorts every connection known as of now.
func (r *rowSet) rebuild(all []*model.ConnView, now time.Time) {
	terms := strings.Fields(strings.ToLower(r.filter))
	r.rows = r.rows[:0]
	r.open, r.closed = 0, 0
	for _, c := range all {
		if c.Closed {
			r.closed++
		} else {
			r.open++
		}
		if len(terms) == 0 || matches(c, terms) {
			r.rows = append(r.rows, c)
		}
	}
	less := lessFor(r.col, now)
	sort.SliceStable(r.rows, func(i, j int) bool {
		a, b := r.rows[i], r.rows[j]
		if r.desc {
			a, b = b, a
		}
		if less(a, b) {
			return true
		}
		if less(b, a) {
			return false
		}
		return r.rows[i].Name < r.rows[j].Name
	})
}

func matches(c *model.ConnView, terms []string) bool {
	hay := strings.ToLower(strings.Join([]string{c.Client, c.User, c.Vhost, c.Peer, c.Name, c.Node,
		stateWord(c), causeOf(c), c.Product}, " "))
	for _, t := range terms {
		if !strings.Contains(hay, t) {
			return false
		}
	}
	return true
}

func stateWord(c *model.ConnView) string {
	switch {
	case c.Closed:
		return "closed"
	case c.AtRisk:
		return c.State.String() + " at-risk"
	}
	return c.State.String()
}

func displayName(c *model.ConnView) string {
	if c.Client != "" {
		return c.Client
	}
	if c.User != "" && c.Peer != "" {
		return c.User + "@" + c.PeerHost()
	}
	return c.Name
}

func lessFor(col column, now time.Time) func(a, b *model.ConnView) bool {
	str := func(f func(*model.ConnView) string) func(a, b *model.ConnView) bool {
		return func(a, b *model.ConnView) bool { return f(a) < f(b) }
	}
	switch col {
	case colClient:
		return str(displayName)
	case colUser:
		return str(func(c *model.ConnView) string { return c.User + "@" + c.Vhost })
	case colPeer:
		return str(func(c *model.ConnView) string { return c.Peer })
	case colNode:
		return str(func(c *model.ConnView) string { return c.Node })
	case colState:
		return str(stateWord)
	case colCause:
		return func(a, b *model.ConnView) bool {
			ca, cb := causeOf(a), causeOf(b)
			if (ca == "") != (cb == "") {
				return ca != ""
			}
			return ca < cb
		}
	case colHeartbeat:
		return func(a, b *model.ConnView) bool { return a.Heartbeat < b.Heartbeat }
	case colSilent:
		return func(a, b *model.ConnView) bool { return a.Silent(now) > b.Silent(now) }
	case colChannels:
		return func(a, b *model.ConnView) bool { return a.Channels > b.Channels }
	case colIn:
		return func(a, b *model.ConnView) bool { return a.RecvRate > b.RecvRate }
	case colOut:
		return func(a, b *model.ConnView) bool { return a.SendRate > b.SendRate }
	case colAge:
		return func(a, b *model.ConnView) bool { return connectedAt(a).Before(connectedAt(b)) }
	}
	return func(a, b *model.ConnView) bool {
		ra, rb := rank(a), rank(b)
		if ra != rb {
			return ra < rb
		}
		if a.Closed && b.Closed {
			return a.ClosedAt.After(b.ClosedAt) // newest close first
		}
		return displayName(a) < displayName(b)
	}
}

func connectedAt(c *model.ConnView) time.Time {
	if !c.ConnectedAt.IsZero() {
		return c.ConnectedAt
	}
	return c.FirstSeen
}

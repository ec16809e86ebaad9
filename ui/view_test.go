package ui

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/amqptop/amqptop/model"
)

// snapshot writes down everything reachable from v, one line per leaf:
// unexported fields, pointees (each once; a pointer seen again is written
// as a back reference), slices, maps in key order. Functions and channels
// are written as their address. Two snapshots are equal when nothing
// reachable changed. Only values are written (the walk's order gives
// them their place); diff names the path of the first difference.
func snapshot(v any) string {
	s := snapper{seen: map[visit]int{}, want: -1}
	s.walk(reflect.ValueOf(v))
	return string(s.b)
}

type visit struct {
	p uintptr
	t reflect.Type
}

type snapper struct {
	b     []byte
	seen  map[visit]int
	n     int      // leaves written
	path  []string // the way to the current value
	want  int      // the leaf whose path is wanted (-1: none)
	found string
}

func (s *snapper) push(seg func() string) {
	if s.want >= 0 {
		s.path = append(s.path, seg())
	}
}

func (s *snapper) pop() {
	if s.want >= 0 {
		s.path = s.path[:len(s.path)-1]
	}
}

func (s *snapper) leaf(b []byte) {
	if s.n == s.want {
		s.found = "m" + strings.Join(s.path, "")
	}
	s.n++
	s.b = append(append(s.b, b...), '\n')
}

func (s *snapper) walk(v reflect.Value) {
	var buf [64]byte
	b := buf[:0]
	switch v.Kind() {
	case reflect.Invalid:
		s.leaf(append(b, "invalid"...))
	case reflect.Pointer:
		if v.IsNil() {
			s.leaf(append(b, "nil"...))
			return
		}
		k := visit{v.Pointer(), v.Type()}
		if id, ok := s.seen[k]; ok {
			s.leaf(strconv.AppendInt(append(b, "&#"...), int64(id), 10))
			return
		}
		s.seen[k] = len(s.seen)
		s.leaf(strconv.AppendInt(append(b, '#'), int64(s.seen[k]), 10))
		s.push(func() string { return "*" })
		s.walk(v.Elem())
		s.pop()
	case reflect.Interface:
		if v.IsNil() {
			s.leaf(append(b, "nil"...))
			return
		}
		s.leaf(append(b, v.Elem().Type().String()...))
		s.push(func() string { return ".(" + v.Elem().Type().String() + ")" })
		s.walk(v.Elem())
		s.pop()
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < v.NumField(); i++ {
			s.push(func() string { return "." + t.Field(i).Name })
			s.walk(v.Field(i))
			s.pop()
		}
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			s.leaf(append(b, "nil"...))
			return
		}
		s.leaf(strconv.AppendInt(append(b, "len "...), int64(v.Len()), 10))
		for i := 0; i < v.Len(); i++ {
			s.push(func() string { return "[" + strconv.Itoa(i) + "]" })
			s.walk(v.Index(i))
			s.pop()
		}
	case reflect.Map:
		if v.IsNil() {
			s.leaf(append(b, "nil"...))
			return
		}
		type kv struct {
			key string
			val reflect.Value
		}
		var kvs []kv
		it := v.MapRange()
		for it.Next() {
			ks := snapper{seen: map[visit]int{}, want: -1}
			ks.walk(it.Key())
			kvs = append(kvs, kv{strings.ReplaceAll(string(ks.b), "\n", ";"), it.Value()})
		}
		sort.Slice(kvs, func(i, j int) bool { return kvs[i].key < kvs[j].key })
		s.leaf(strconv.AppendInt(append(b, "map len "...), int64(v.Len()), 10))
		for _, e := range kvs {
			s.leaf(append(b[:0], e.key...))
			s.push(func() string { return "[" + e.key + "]" })
			s.walk(e.val)
			s.pop()
		}
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		if v.IsNil() {
			s.leaf(append(b, "nil"...))
			return
		}
		s.leaf(strconv.AppendUint(append(b, v.Kind().String()...), uint64(v.Pointer()), 16))
	case reflect.Bool:
		s.leaf(strconv.AppendBool(b, v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		s.leaf(strconv.AppendInt(b, v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		s.leaf(strconv.AppendUint(b, v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		s.leaf(strconv.AppendFloat(b, v.Float(), 'g', -1, 64))
	case reflect.Complex64, reflect.Complex128:
		s.leaf(fmt.Append(b, v.Complex()))
	case reflect.String:
		if str := v.String(); strings.IndexByte(str, '\n') < 0 {
			s.leaf(append(append(b, '"'), str...)) // one line as it is: faster than quoting
		} else {
			s.leaf(strconv.AppendQuote(b, str))
		}
	default:
		s.leaf(append(b, "?"+v.Kind().String()...))
	}
}

// diff says where two snapshots of v first differ: the path (found by
// walking v, as it is now, to that leaf) and the values.
func diff(v any, before, after string) string {
	bl, al := strings.Split(before, "\n"), strings.Split(after, "\n")
	i := 0
	for i < len(bl) && i < len(al) && bl[i] == al[i] {
		i++
	}
	s := snapper{seen: map[visit]int{}, want: i}
	s.walk(reflect.ValueOf(v))
	at := func(l []string) string {
		if i < len(l) {
			return l[i]
		}
		return "(end)"
	}
	return fmt.Sprintf("%s: %s before, %s after", s.found, at(bl), at(al))
}

// panes lists every pane, hidden or shown, with its View.
func panes(m *Model) []struct {
	name string
	pane any
	view func() string
} {
	return []struct {
		name string
		pane any
		view func() string
	}{
		{"header", &m.header, m.header.View},
		{"connections", &m.conns, m.conns.View},
		{"events", &m.events, m.events.View},
		{"diagnosis", &m.diag, m.diag.View},
		{"detail", &m.detail, m.detail.View},
		{"help", &m.helpPane, m.helpPane.View},
	}
}

// scenarios are the states the no-mutation test draws, as key presses
// from the demo tour six minutes in.
var scenarios = []struct {
	name string
	keys []string
}{
	{"main", nil},
	{"scrolled table", []string{"down", "down", "down", "down", "down", "down", "down", "down", "down", "down", "down", "down", "down", "down", "down", "down", "down", "down", "down", "down", "down", "down", "down", "down"}},
	{"events focused", []string{"tab", "down", "down"}},
	{"diagnosis focused", []string{"tab", "tab", "down", "down", "down"}},
	{"detail", []string{"enter", "down", "down"}},
	{"events screen", []string{"e", "down", "down", "down", "f"}},
	{"diagnosis screen", []string{"d", "down", "down", "down", "down"}},
	{"help", []string{"?"}},
	{"filter open", []string{"/", "b", "i", "l"}},
	{"filter kept", []string{"/", "x", "y", "z", "enter"}},
	{"sorted", []string{"s", "s", "S"}},
	{"paused", []string{"p"}},
	{"theme", []string{"t"}},
}

// View only reads: drawing every pane twice, and the whole screen twice,
// leaves the model exactly as it was (everything reachable from it, the
// state included), and draws the same frames both times.
func TestViewOnlyReads(t *testing.T) {
	for _, sc := range scenarios {
		sizes := [][2]int{{80, 24}, {120, 40}, {200, 60}}
		if sc.name == "main" {
			sizes = append(sizes, [2]int{10, 3}) // too small: the panes are still built
		}
		for _, sz := range sizes {
			t.Run(fmt.Sprintf("%s/%dx%d", sc.name, sz[0], sz[1]), func(t *testing.T) {
				m := played(t, 6*time.Minute, sz[0], sz[1])
				press(m, sc.keys...)
				if sc.name == "paused" {
					m.Update(obsMsg{model.Tick{Meta: model.Meta{Time: m.st.Now().Add(time.Second), Source: model.SourceDemo}}})
				}
				before := snapshot(m)
				for _, p := range panes(m) {
					// A pane reaches only what its own fields point at:
					// snapshotting it is enough to see what its View wrote.
					pb := snapshot(p.pane)
					a, b := p.view(), p.view()
					if a != b {
						t.Errorf("%s: two draws differ", p.name)
					}
					if pa := snapshot(p.pane); pa != pb {
						t.Fatalf("%s.View changed the pane:\n%s", p.name, diff(p.pane, pb, pa))
					}
				}
				v1, v2 := m.View(), m.View()
				if !reflect.DeepEqual(v1, v2) {
					t.Errorf("two frames differ:\n%s\n---\n%s", v1.Content, v2.Content)
				}
				if after := snapshot(m); after != before {
					t.Fatalf("View changed the model:\n%s", diff(m, before, after))
				}
			})
		}
	}
}

// The snapshot sees a change anywhere in the model: a pane's field, a
// field of the state behind a pointer, a map entry.
func TestSnapshotSeesChanges(t *testing.T) {
	m := played(t, 6*time.Minute, 120, 40)
	for name, change := range map[string]func(*Model){
		"a pane's scroll":       func(m *Model) { m.conns.top++ },
		"a flag no frame shows": func(m *Model) { m.conns.moved = !m.conns.moved },
		"a cached line":         func(m *Model) { m.events.lines[1] += " " },
		"the state":             func(m *Model) { m.st.Conns()[0].Client += "!" },
		"the header's probe":    func(m *Model) { m.header.d.probe.Lost++ },
	} {
		before := snapshot(m)
		change(m)
		if snapshot(m) == before {
			t.Errorf("%s: the snapshot did not change", name)
		}
	}
}

// Every pane's View has a value receiver: it cannot assign to the pane's
// fields (the method is in the value type's method set only then).
func TestPaneViewsHaveValueReceivers(t *testing.T) {
	for _, p := range []any{headerPane{}, connsPane{}, eventsPane{}, diagPane{}, detailPane{}, helpPane{}} {
		for _, name := range []string{"View", "Lines"} {
			if _, ok := reflect.TypeOf(p).MethodByName(name); !ok {
				t.Errorf("%T.%s has a pointer receiver", p, name)
			}
		}
	}
}

// A message the dashboard does not handle leaves it as it was.
func TestUnhandledMessagesChangeNothing(t *testing.T) {
	m := played(t, 6*time.Minute, 120, 40)
	before := snapshot(m)
	m.Update(tea.FocusMsg{})
	if after := snapshot(m); after != before {
		t.Fatalf("an unhandled message changed the model:\n%s", diff(m, before, after))
	}
}

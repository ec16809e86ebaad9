package ui

import (
	"charm.land/bubbles/v2/key"
)

// keyMap is every binding, with its help. Bindings that don't apply in the
// current pane are disabled, so help hides them.
type keyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	Enter, Back, Tab                        key.Binding
	Filter, Sort, Reverse, Pause            key.Binding
	Events, Diagnosis, Level, Theme         key.Binding
	Help, Quit, ForceQuit                   key.Binding
}

func defaultKeys() keyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return keyMap{
		Up:        b([]string{"up", "k"}, "↑/k", "up"),
		Down:      b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:    b([]string{"pgup", "ctrl+u"}, "pgup", "page up"),
		PageDown:  b([]string{"pgdown", "ctrl+d"}, "pgdn", "page down"),
		Top:       b([]string{"home", "g"}, "g", "top"),
		Bottom:    b([]string{"end", "G"}, "G", "bottom"),
		Enter:     b([]string{"enter"}, "enter", "details"),
		Back:      b([]string{"esc"}, "esc", "back"),
		Tab:       b([]string{"tab", "shift+tab"}, "tab", "next pane"),
		Filter:    b([]string{"/"}, "/", "filter"),
		Sort:      b([]string{"s"}, "s", "sort column"),
		Reverse:   b([]string{"S"}, "S", "reverse sort"),
		Pause:     b([]string{"p"}, "p", "pause view"),
		Events:    b([]string{"e"}, "e", "events"),
		Diagnosis: b([]string{"d"}, "d", "diagnosis"),
		Level:     b([]string{"f"}, "f", "severity filter"),
		Theme:     b([]string{"t"}, "t", "theme"),
		Help:      b([]string{"?"}, "?", "help"),
		Quit:      b([]string{"q"}, "q", "quit"),
		ForceQuit: b([]string{"ctrl+c"}, "ctrl+c", "quit"),
	}
}

// ShortHelp is the footer line.
func (k keyMap) ShortHelp() []key.Binding {
	return []key.Binding{k.Tab, k.Enter, k.Filter, k.Sort, k.Events, k.Diagnosis, k.Pause, k.Help, k.Quit}
}

// FullHelp is the `?` screen, by group.
func (k keyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Enter, k.Back, k.Tab, k.Filter, k.Sort, k.Reverse},
		{k.Events, k.Diagnosis, k.Level, k.Pause, k.Theme},
		{k.Help, k.Quit, k.ForceQuit},
	}
}

// all lists every binding (for the key-clash test and the README table).
func (k keyMap) all() []key.Binding {
	var out []key.Binding
	for _, g := range k.FullHelp() {
		out = append(out, g...)
	}
	return out
}

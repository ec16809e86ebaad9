// Package themes holds amqptop's palettes. A palette names meanings, not
// colours: the UI asks for "warn" or "subtle", never for "yellow", so every
// theme — dark, light, high contrast, colour-blind safe, none — reads the
// same way. State is never told by colour alone: the UI pairs each colour
// with a glyph or a word.
package themes

import (
	"image/color"
	"sort"

	"charm.land/lipgloss/v2"
)

// Palette is a set of colours by meaning.
type Palette struct {
	Name        string
	Dark        bool        // made for a dark background
	Text        color.Color // body text
	Subtle      color.Color // secondary text: labels, units
	Muted       color.Color // closed connections, old events
	Border      color.Color
	FocusBorder color.Color // the border of the pane with focus
	Accent      color.Color // titles, the selected row's marker
	SelectedBg  color.Color // the selected row's background
	OK          color.Color
	Warn        color.Color
	Error       color.Color
	Info        color.Color
	Series      []color.Color // sparklines and charts
}

var palettes = map[string]Palette{
	"dark": {
		Name: "dark", Dark: true,
		Text: lipgloss.Color("#D8DEE9"), Subtle: lipgloss.Color("#8A93A6"), Muted: lipgloss.Color("#5B6270"),
		Border: lipgloss.Color("#3B4252"), FocusBorder: lipgloss.Color("#88C0D0"), Accent: lipgloss.Color("#88C0D0"),
		SelectedBg: lipgloss.Color("#2E3440"),
		OK:         lipgloss.Color("#A3BE8C"), Warn: lipgloss.Color("#EBCB8B"), Error: lipgloss.Color("#BF616A"), Info: lipgloss.Color("#81A1C1"),
		Series: []color.Color{lipgloss.Color("#88C0D0"), lipgloss.Color("#B48EAD"), lipgloss.Color("#A3BE8C")},
	},
	"light": {
		Name: "light",
		Text: lipgloss.Color("#24292F"), Subtle: lipgloss.Color("#57606A"), Muted: lipgloss.Color("#8C959F"),
		Border: lipgloss.Color("#D0D7DE"), FocusBorder: lipgloss.Color("#0969DA"), Accent: lipgloss.Color("#0969DA"),
		SelectedBg: lipgloss.Color("#DDF4FF"),
		OK:         lipgloss.Color("#1A7F37"), Warn: lipgloss.Color("#9A6700"), Error: lipgloss.Color("#CF222E"), Info: lipgloss.Color("#0550AE"),
		Series: []color.Color{lipgloss.Color("#0969DA"), lipgloss.Color("#8250DF"), lipgloss.Color("#1A7F37")},
	},
	"high-contrast": {
		Name: "high-contrast", Dark: true,
		Text: lipgloss.Color("#FFFFFF"), Subtle: lipgloss.Color("#D0D0D0"), Muted: lipgloss.Color("#A0A0A0"),
		Border: lipgloss.Color("#FFFFFF"), FocusBorder: lipgloss.Color("#FFFF00"), Accent: lipgloss.Color("#00FFFF"),
		SelectedBg: lipgloss.Color("#0000AA"),
		OK:         lipgloss.Color("#00FF00"), Warn: lipgloss.Color("#FFFF00"), Error: lipgloss.Color("#FF5555"), Info: lipgloss.Color("#00FFFF"),
		Series: []color.Color{lipgloss.Color("#00FFFF"), lipgloss.Color("#FF00FF"), lipgloss.Color("#FFFF00")},
	},
	// Okabe–Ito: distinguishable with every common colour-vision deficiency.
	"colorblind": {
		Name: "colorblind", Dark: true,
		Text: lipgloss.Color("#E8E8E8"), Subtle: lipgloss.Color("#A0A0A0"), Muted: lipgloss.Color("#6E6E6E"),
		Border: lipgloss.Color("#4A4A4A"), FocusBorder: lipgloss.Color("#56B4E9"), Accent: lipgloss.Color("#56B4E9"),
		SelectedBg: lipgloss.Color("#303030"),
		OK:         lipgloss.Color("#009E73"), Warn: lipgloss.Color("#E69F00"), Error: lipgloss.Color("#D55E00"), Info: lipgloss.Color("#0072B2"),
		Series: []color.Color{lipgloss.Color("#56B4E9"), lipgloss.Color("#CC79A7"), lipgloss.Color("#F0E442")},
	},
	// No colour at all (NO_COLOR, or --theme none): glyphs and words carry everything.
	"none": {
		Name: "none", Dark: true,
		Text: lipgloss.NoColor{}, Subtle: lipgloss.NoColor{}, Muted: lipgloss.NoColor{}, Border: lipgloss.NoColor{},
		FocusBorder: lipgloss.NoColor{}, Accent: lipgloss.NoColor{}, SelectedBg: lipgloss.NoColor{},
		OK: lipgloss.NoColor{}, Warn: lipgloss.NoColor{}, Error: lipgloss.NoColor{}, Info: lipgloss.NoColor{},
		Series: []color.Color{lipgloss.NoColor{}},
	},
}

// Get returns a palette by name.
func Get(name string) (Palette, bool) {
	p, ok := palettes[name]
	return p, ok
}

// Names lists the palettes, in the order `t` cycles through them.
func Names() []string {
	order := map[string]int{"dark": 0, "light": 1, "high-contrast": 2, "colorblind": 3, "none": 4}
	out := make([]string, 0, len(palettes))
	for n := range palettes {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return order[out[i]] < order[out[j]] })
	return out
}

// ForBackground returns the default palette for a dark or light terminal.
func ForBackground(dark bool) Palette {
	if dark {
		return palettes["dark"]
	}
	return palettes["light"]
}

// Next returns the palette after name in the cycle.
func Next(name string) Palette {
	names := Names()
	for i, n := range names {
		if n == name {
			return palettes[names[(i+1)%len(names)]]
		}
	}
	return palettes["dark"]
}

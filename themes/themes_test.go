package themes

import "testing"

func TestPalettesAreComplete(t *testing.T) {
	for _, n := range Names() {
		p, ok := Get(n)
		if !ok || p.Name != n {
			t.Fatalf("%s: %+v", n, p)
		}
		for what, c := range map[string]any{"text": p.Text, "subtle": p.Subtle, "muted": p.Muted, "border": p.Border,
			"focus": p.FocusBorder, "accent": p.Accent, "selected": p.SelectedBg, "ok": p.OK, "warn": p.Warn, "error": p.Error, "info": p.Info} {
			if c == nil {
				t.Errorf("%s lacks %s", n, what)
			}
		}
		if len(p.Series) == 0 {
			t.Errorf("%s has no series colours", n)
		}
	}
	if len(Names()) < 4 {
		t.Error("at least dark, light, high-contrast and colour-blind palettes")
	}
	seen := map[string]bool{}
	p := Get2("dark")
	for i := 0; i < len(Names()); i++ {
		seen[p.Name] = true
		p = Next(p.Name)
	}
	if len(seen) != len(Names()) || p.Name != "dark" {
		t.Errorf("t cycles through every palette and back: %v", seen)
	}
	if ForBackground(true).Name != "dark" || ForBackground(false).Name != "light" {
		t.Error("background picks dark or light")
	}
}

func Get2(n string) Palette { p, _ := Get(n); return p }

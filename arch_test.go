package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirection enforces the architecture: model imports only the
// standard library; ui never imports the I/O packages (monitor, demo).
func TestImportDirection(t *testing.T) {
	mod := goList(t, "-m")[0]
	for _, dep := range goList(t, "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./model/...") {
		if dep != "" && !strings.HasPrefix(dep, mod+"/model") {
			t.Errorf("model depends on %s: it may import only the standard library", dep)
		}
	}
	rules := map[string][]string{
		"./ui/...":      {mod + "/monitor", mod + "/demo", mod + "/testbroker"},
		"./causes/...":  {mod + "/monitor", mod + "/demo", mod + "/ui"},
		"./demo/...":    {mod + "/monitor", mod + "/ui"},
		"./monitor/...": {mod + "/demo", mod + "/ui"},
		"./themes/...":  {mod + "/monitor", mod + "/demo", mod + "/model"},
	}
	for pkg, banned := range rules {
		for _, dep := range goList(t, "-deps", pkg) {
			for _, b := range banned {
				if dep == b || strings.HasPrefix(dep, b+"/") {
					t.Errorf("%s imports %s", pkg, dep)
				}
			}
		}
	}
}

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		if strings.Contains(string(out)+err.Error(), "matched no packages") {
			return nil
		}
		if ee, ok := err.(*exec.ExitError); ok && strings.Contains(string(ee.Stderr), "matched no packages") {
			return nil
		}
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

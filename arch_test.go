package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amqptop/amqptop/causes"
)

// TestImportDirection enforces the architecture: model imports only the
// standard library; ui never imports the I/O packages (monitor, demo);
// nothing imports the command line (cli), which imports everything; the
// root package holds only main.go.
func TestImportDirection(t *testing.T) {
	mod := goList(t, "-m")[0]
	for _, dep := range goList(t, "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "./model/...") {
		if dep != "" && !strings.HasPrefix(dep, mod+"/model") {
			t.Errorf("model depends on %s: it may import only the standard library", dep)
		}
	}
	rules := map[string][]string{
		"./ui/...":      {mod + "/monitor", mod + "/demo", mod + "/testbroker", mod + "/cli"},
		"./causes/...":  {mod + "/monitor", mod + "/demo", mod + "/ui", mod + "/cli"},
		"./demo/...":    {mod + "/monitor", mod + "/ui", mod + "/cli"},
		"./monitor/...": {mod + "/demo", mod + "/ui", mod + "/cli"},
		"./themes/...":  {mod + "/monitor", mod + "/demo", mod + "/model", mod + "/cli"},
		"./zoo/...":     {mod + "/monitor", mod + "/demo", mod + "/ui", mod + "/cli"},
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

func TestRootHoldsOnlyMain(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f != "main.go" && !strings.HasSuffix(f, "_test.go") {
			t.Errorf("%s: the root package holds only main.go; commands live in cli/", f)
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

// No cause id is spelled outside the knowledge base: the model names the
// situations it infers (model.Inference) and causes maps them to ids;
// everything else gets a cause from a diagnosis. (The demo's scenario
// names and the client zoo's fault table use the same words on purpose.)
func TestCauseIDsOnlyInCauses(t *testing.T) {
	var ids []string
	for _, c := range causes.Default().All() {
		ids = append(ids, c.ID)
	}
	for _, dir := range []string{"model", "monitor", "ui", "cli", "themes"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				if strings.Contains(string(b), `"`+id+`"`) {
					t.Errorf("%s spells the cause id %q", f, id)
				}
			}
		}
	}
}

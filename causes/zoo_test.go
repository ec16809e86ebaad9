package causes_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/amqptop/amqptop/causes"
	"github.com/amqptop/amqptop/model"
)

// zooRecord is one line of the client zoo's fixtures (zoo/testdata): what
// a real client library raised for a real fault against a private node,
// and what the broker logged (see zoo/README.md).
type zooRecord struct {
	Library string   `json:"library"`
	Version string   `json:"version"`
	Broker  string   `json:"broker"`
	Fault   string   `json:"fault"`
	Expect  string   `json:"expect"`
	Raised  string   `json:"raised"`
	Text    string   `json:"text"`
	Repr    string   `json:"repr"`
	Log     []string `json:"log"`
	Skipped string   `json:"skipped"`
}

func readZoo(t *testing.T) []zooRecord {
	t.Helper()
	files, _ := filepath.Glob("../zoo/testdata/rabbitmq-*.jsonl")
	if len(files) == 0 {
		t.Fatal("no zoo fixtures in ../zoo/testdata (make zoo writes them)")
	}
	var out []zooRecord
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 16<<20)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			var r zooRecord
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out = append(out, r)
		}
		fh.Close()
	}
	return out
}

// verdict says whether a diagnosis is right for a fault: the cause itself,
// or, where the text alone cannot tell (low confidence), the right cause
// among the candidates. A wrong cause at medium or high is the one thing
// never allowed.
func verdict(d model.Diagnosis, want string) (ok bool, why string) {
	got := ""
	if d.Cause != nil {
		got = d.Cause.ID
	}
	switch {
	case got == want:
		return true, ""
	case d.Confidence >= model.ConfMedium:
		return false, "confidently wrong"
	case d.Confidence == model.ConfLow && slices.ContainsFunc(d.Candidates, func(c model.Candidate) bool { return c.ID == want }):
		return true, ""
	case got == "":
		return false, "not recognised"
	}
	return false, "wrong, and the right cause is not among the candidates"
}

// Every text a real client printed for a real fault is diagnosed right, on
// its own (as `explain` sees a pasted error) and together with what the
// broker logged about it (as the live monitor sees it).
func TestZooFixtures(t *testing.T) {
	b := causes.Default()
	recs := readZoo(t)
	n := 0
	for _, r := range recs {
		if r.Skipped != "" || r.Text == "" {
			continue
		}
		n++
		name := r.Broker + "/" + r.Library + "/" + r.Fault
		alone := b.Explain([]string{r.Text}).Diagnosis
		if ok, why := verdict(alone, r.Expect); !ok {
			t.Errorf("%s: the client's text alone: %s — got %s (%s) %v, want %s\n  text: %q", name, why, idOf(alone), alone.Confidence, zooCandidates(alone), r.Expect, r.Text)
		}
		if len(r.Log) == 0 {
			continue
		}
		ev := model.Evidence{Client: r.Text, Log: r.Log}
		with := b.Diagnose(ev)
		if ok, why := verdict(with, r.Expect); !ok {
			t.Errorf("%s: with the broker's log: %s — got %s (%s) %v, want %s\n  text: %q\n  log: %q", name, why, idOf(with), with.Confidence, zooCandidates(with), r.Expect, r.Text, r.Log)
		}
	}
	if n < 100 {
		t.Errorf("only %d zoo texts", n)
	}
}

func idOf(d model.Diagnosis) string {
	if d.Cause == nil {
		return "none"
	}
	return d.Cause.ID
}

func zooCandidates(d model.Diagnosis) []string {
	var out []string
	for _, c := range d.Candidates {
		out = append(out, c.ID)
	}
	return out
}

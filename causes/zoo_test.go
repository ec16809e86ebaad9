package causes_test

import (
	"path/filepath"
	"testing"

	"github.com/amqptop/amqptop/causes"
	"github.com/amqptop/amqptop/zoo"
)

// Every text a real client library printed for a real fault (the client
// zoo's fixtures, zoo/testdata: library, version, fault, the broker's log)
// is diagnosed right — the cause itself, or, where the text alone cannot
// tell, low confidence with the right cause among the candidates — on its
// own (as `explain` sees a pasted error) and together with what the broker
// logged (as the live monitor sees the close). A wrong cause at medium or
// high confidence is the one thing never allowed.
func TestZooFixtures(t *testing.T) {
	files, _ := filepath.Glob("../zoo/testdata/rabbitmq-*.jsonl")
	if len(files) == 0 {
		t.Fatal("no zoo fixtures in ../zoo/testdata (make zoo writes them)")
	}
	kb := causes.Default()
	texts := 0
	for _, f := range files {
		recs, err := zoo.ReadFixtures(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Skipped == "" && r.Text != "" {
				texts++
			}
		}
		for _, m := range zoo.Misfits(kb, recs) {
			t.Error(m)
		}
	}
	if texts < 300 {
		t.Errorf("only %d zoo texts", texts)
	}
}

// Command capture runs the client zoo against a private RabbitMQ node and
// writes the fixture file zoo/testdata/rabbitmq-<version>.jsonl.
//
//	go run ./zoo/cmd/capture -broker 3 -out zoo/testdata
//	go run ./zoo/cmd/capture -broker 4 -out zoo/testdata -libs pika,go,node
//
// With -libs or -faults, the records of the other libraries (or faults)
// already in the fixture file are kept. With -matrix it prints the
// README's fault × library matrix of the fixture files instead, and with
// -readme zoo/README.md it rewrites the README's generated sections.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/amqptop/amqptop/causes"
	"github.com/amqptop/amqptop/zoo"
)

func main() {
	broker := flag.String("broker", "3", `RabbitMQ to capture against: "3" (the host's 3.10.8) or "4" (4.0.5)`)
	out := flag.String("out", "zoo/testdata", "directory to write rabbitmq-<version>.jsonl into")
	libs := flag.String("libs", "", "comma-separated library ids (default all: "+libIDs()+")")
	faults := flag.String("faults", "", "comma-separated fault ids (default all)")
	parallel := flag.Int("parallel", 3, "libraries running at the same time on the main node")
	timeout := flag.Duration("timeout", 30*time.Minute, "bound for the whole capture")
	quiet := flag.Bool("q", false, "do not print progress")
	matrix := flag.Bool("matrix", false, "print the README's fault × library matrix of the fixture files in -out and exit")
	readme := flag.String("readme", "", "rewrite the generated sections (fault table, matrix) of this README from the fixture files in -out and exit")
	flag.Parse()

	if *matrix {
		fmt.Print(zoo.Matrix(readAll(*out), 170))
		return
	}
	if *readme != "" {
		writeReadme(*readme, readAll(*out))
		return
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, *timeout)
	defer cancelT()

	opt := zoo.CaptureOptions{Broker: *broker, Libs: split(*libs), Faults: split(*faults), Parallel: *parallel}
	if !*quiet {
		opt.Logf = log.Printf
	}
	t0 := time.Now()
	recs, err := zoo.Capture(ctx, opt)
	if err != nil {
		// A node that did not start or could not be prepared: the records
		// are incomplete, do not let them replace a complete file.
		log.Fatalf("capture: %v (nothing written)", err)
	}
	if len(recs) == 0 {
		log.Fatal("capture: no records")
	}
	version := recs[0].Broker
	path := filepath.Join(*out, zoo.FixtureName(version))
	if len(opt.Libs) > 0 || len(opt.Faults) > 0 {
		if old, rerr := zoo.ReadFixtures(path); rerr == nil {
			recs = merge(old, recs)
		}
	}
	if werr := zoo.WriteFixtures(path, recs); werr != nil {
		log.Fatalf("capture: %v", werr)
	}
	bad := 0
	for _, r := range recs {
		if p := r.Problems(); len(p) > 0 {
			bad++
			log.Printf("capture: %s/%s: %s", r.Library, r.Fault, strings.Join(p, "; "))
		}
	}
	fmt.Printf("wrote %d records to %s in %s (%d with problems)\n", len(recs), path, time.Since(t0).Round(time.Second), bad)
	if bad > 0 {
		os.Exit(1)
	}
}

// readAll reads every fixture file in dir.
func readAll(dir string) []zoo.Record {
	files, _ := filepath.Glob(filepath.Join(dir, "rabbitmq-*.jsonl"))
	var all []zoo.Record
	for _, f := range files {
		recs, err := zoo.ReadFixtures(f)
		if err != nil {
			log.Fatalf("capture: %v", err)
		}
		all = append(all, recs...)
	}
	if len(all) == 0 {
		log.Fatalf("capture: no fixture files in %s", dir)
	}
	return all
}

// writeReadme replaces the generated sections of the README at path.
func writeReadme(path string, recs []zoo.Record) {
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatalf("capture: %v", err)
	}
	doc := string(b)
	sections := map[string]string{"FAULTS": zoo.FaultTable(), "MATRIX": zoo.Matrix(recs, 170), "CAUSES": zoo.CauseMatrix(causes.Default(), recs)}
	if filepath.Base(path) == "README.md" && !strings.Contains(doc, "<!-- BEGIN FAULTS -->") {
		sections = map[string]string{"CAUSES": sections["CAUSES"]} // the project's README: the cause matrix only
	}
	for name, body := range sections {
		var ok bool
		if doc, ok = zoo.ReplaceSection(doc, name, body); !ok {
			log.Fatalf("capture: %s has no <!-- BEGIN %s --> ... <!-- END %s --> section", path, name, name)
		}
	}
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		log.Fatalf("capture: %v", err)
	}
}

// merge replaces the (library, fault) records of old that fresh has.
func merge(old, fresh []zoo.Record) []zoo.Record {
	key := func(r zoo.Record) string { return r.Library + "\x00" + r.Fault }
	have := map[string]bool{}
	for _, r := range fresh {
		have[key(r)] = true
	}
	out := append([]zoo.Record(nil), fresh...)
	for _, r := range old {
		if !have[key(r)] {
			out = append(out, r)
		}
	}
	zoo.SortRecords(out)
	return out
}

func split(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func libIDs() string {
	var ids []string
	for _, l := range zoo.Libraries {
		ids = append(ids, l.ID)
	}
	return strings.Join(ids, ",")
}

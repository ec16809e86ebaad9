// Command loadgen opens N real AMQP connections against a broker (the
// project's private node: scripts/testbroker start), each with its
// channels, a consumer and light traffic, holds them, then closes them
// cleanly or kills them (every socket reset at once). It is how amqptop
// is measured at scale (make loadgen, make measure).
//
//	loadgen -url amqp://guest:guest@127.0.0.1:36672/ -n 5000 -for 5m
//	loadgen -n 2000 -for 1m -end kill
//
// SIGINT or SIGTERM ends the hold early, the same way -end says.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/amqptop/amqptop/faults"
)

func main() {
	url := flag.String("url", "amqp://guest:guest@127.0.0.1:36672/", "the broker (default: scripts/testbroker's private node)")
	n := flag.Int("n", 500, "connections")
	chans := flag.Int("channels", 2, "channels per connection")
	name := flag.String("name", "load", "client-provided names are NAME-0001...")
	publish := flag.Duration("publish", 5*time.Second, "each connection publishes one small message this often (-1s: never)")
	hold := flag.Duration("for", 0, "hold the connections this long (0: until SIGINT/SIGTERM)")
	end := flag.String("end", "close", "how they end: close (connection.close) or kill (every socket reset at once)")
	flag.Parse()
	if *end != "close" && *end != "kill" {
		fmt.Fprintln(os.Stderr, "loadgen: -end is close or kill")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	l, err := faults.StartLoad(ctx, faults.LoadOptions{URL: *url, Conns: *n, Channels: *chans, Name: *name, Publish: *publish})
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	fmt.Printf("loadgen: %d connections with %d channels each open in %v\n", *n, *chans, time.Since(start).Round(time.Millisecond))
	if *hold > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(*hold):
		}
	} else {
		<-ctx.Done()
	}
	ok, failed := l.Published()
	start = time.Now()
	if *end == "kill" {
		l.Kill()
	} else {
		l.Close()
	}
	fmt.Printf("loadgen: %d published (%d failed); %s in %v\n", ok, failed, map[string]string{"close": "closed", "kill": "killed"}[*end],
		time.Since(start).Round(time.Millisecond))
}

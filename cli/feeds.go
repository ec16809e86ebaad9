package cli

import (
	"context"
	"sync"

	"github.com/amqptop/amqptop/model"
)

// startFeeds runs every feed into ch until ctx is done. ch is closed once
// all of them have stopped; the returned function waits for that.
// Sending blocks while the consumer is behind (the feeds' delivery
// contract) but never past ctx.
func startFeeds(ctx context.Context, srcs []model.Feed, ch chan<- model.Observation) (wait func()) {
	var wg sync.WaitGroup
	for _, f := range srcs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = f.Run(ctx, func(o model.Observation) {
				select {
				case ch <- withAdvice(o):
				case <-ctx.Done():
				}
			})
		}()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(ch)
		close(done)
	}()
	return func() { <-done }
}

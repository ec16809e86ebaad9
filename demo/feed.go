package demo

import (
	"context"
	"time"

	"github.com/amqptop/amqptop/model"
)

// Feed plays a World against the wall clock. Speed 1 is real time, 10 is
// ten simulated seconds per second; 0 plays as fast as the consumer takes.
type Feed struct {
	World *World
	Speed float64
}

// Run implements model.Feed. It returns nil when ctx is done.
func (f *Feed) Run(ctx context.Context, emit func(model.Observation)) error {
	wall := time.Now()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for ctx.Err() == nil {
		o := f.World.Next()
		if f.Speed > 0 {
			due := wall.Add(time.Duration(float64(o.At().Sub(f.World.Start())) / f.Speed))
			if d := time.Until(due); d > 0 {
				timer.Reset(d)
				select {
				case <-ctx.Done():
					return nil
				case <-timer.C:
				}
			}
		}
		emit(o)
	}
	return nil
}

package main

import (
	"errors"

	"github.com/amqptop/amqptop/model"
)

// liveFeeds builds the live monitor's sources.
func liveFeeds(c *config) ([]model.Feed, error) {
	return nil, errors.New("the live monitor is not built yet: run with --demo")
}

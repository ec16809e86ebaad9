package monitor

import (
	"testing"

	"github.com/amqptop/amqptop/testbroker"
)

// TestMain stops the private broker the integration tests share.
func TestMain(m *testing.M) { testbroker.Main(m) }

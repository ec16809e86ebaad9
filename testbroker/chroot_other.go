//go:build unix && !linux

package testbroker

import "errors"

// inChroot: Broker "4" (a Debian chroot) needs Linux.
func (n *Node) inChroot(start func() error) error {
	if n.root == "" {
		return start()
	}
	return errors.New("testbroker: Broker \"4\" (a Debian chroot) needs Linux")
}

func unmountProcIfIdle(root, node string) {}

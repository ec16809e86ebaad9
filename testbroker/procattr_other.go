//go:build unix && !linux

package testbroker

import "syscall"

// sysProcAttr puts the node in its own process group. Outside Linux there
// is no parent-death signal, so a node may outlive a crashed test binary.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

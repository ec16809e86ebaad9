package testbroker

import "syscall"

// sysProcAttr puts the node in its own process group (so a terminal's
// Ctrl-C does not reach it) and has the kernel SIGKILL it when the process
// that started it dies, so no node outlives a crashed test binary.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

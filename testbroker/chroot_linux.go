package testbroker

// The Debian 13 chroot of Broker "4": its /proc mount, shared with other
// test binaries running nodes in the same chroot at the same time.

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// procLockName is the lock file (inside the chroot's /tmp) that serialises
// "mount /proc if needed, then start a process in the chroot" against
// "unmount /proc if no process runs in the chroot" across test binaries.
const procLockName = ".amqptop-testbroker-proc.lock"

const procSuperMagic = 0x9fa0 // statfs f_type of procfs

// lockChroot takes the chroot's lock file (flock, exclusive) and returns
// the function that releases it.
func lockChroot(root string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(root, "tmp", procLockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("testbroker: chroot lock: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("testbroker: chroot lock: %w", err)
	}
	return func() { f.Close() }, nil // closing the file releases the lock
}

// procMounted reports whether root/proc is a mounted procfs.
func procMounted(root string) bool {
	var st syscall.Statfs_t
	return syscall.Statfs(filepath.Join(root, "proc"), &st) == nil && st.Type == procSuperMagic
}

// inChroot runs start (which starts a process inside the node's chroot)
// with the chroot's /proc mounted and the chroot lock held, so no other
// test binary unmounts /proc between the mount and the start. For a host
// node it just runs start.
func (n *Node) inChroot(start func() error) error {
	if n.root == "" {
		return start()
	}
	unlock, err := lockChroot(n.root)
	if err != nil {
		return err
	}
	defer unlock()
	if !procMounted(n.root) {
		if err := syscall.Mount("proc", filepath.Join(n.root, "proc"), "proc", 0, ""); err != nil {
			return fmt.Errorf("testbroker: mounting %s/proc: %w", n.root, err)
		}
	}
	return start()
}

// chrootUsers lists the processes (ours or anyone's) whose root directory
// is root, and says whether all of them belong to node (helpers such as
// erl_child_setup inherit the node's RABBITMQ_NODENAME).
func chrootUsers(root, node string) (n int, onlyNode bool) {
	onlyNode = true
	mark := []byte("\x00RABBITMQ_NODENAME=" + node + "\x00")
	links, _ := filepath.Glob("/proc/[0-9]*/root")
	for _, l := range links {
		if t, err := os.Readlink(l); err != nil || t != root {
			continue
		}
		n++
		env, err := os.ReadFile(filepath.Join(filepath.Dir(l), "environ"))
		if err != nil || !bytes.Contains(append([]byte{0}, env...), mark) {
			onlyNode = false
		}
	}
	return n, onlyNode
}

// unmountProcIfIdle unmounts root/proc when no process runs inside the
// chroot any more (best effort: another test binary's node, or anyone
// else's process in the chroot, keeps it mounted). It waits up to 2 s for
// helper processes of node, which just stopped, to go away.
func unmountProcIfIdle(root, node string) {
	unlock, err := lockChroot(root)
	if err != nil {
		return
	}
	defer unlock()
	if !procMounted(root) {
		return
	}
	for i := 0; ; i++ {
		users, onlyNode := chrootUsers(root, node)
		if users == 0 {
			break
		}
		if !onlyNode || i == 20 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Unmount(filepath.Join(root, "proc"), 0)
}

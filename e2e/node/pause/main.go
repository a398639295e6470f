// Command pause is the process of every pod sandbox on the e2e/cluster node (containerd's sandbox_image):
// it holds the pod's namespaces, reaps the zombies it inherits as PID 1, and exits on SIGINT or SIGTERM.
// No registry is reachable on the test machines, so the image is built locally (e2e/bin/build-node).
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		reap()
	}
}

// reap collects every exited child without blocking (one SIGCHLD may stand for several exits).
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}

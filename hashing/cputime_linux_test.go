//go:build linux

package hashing

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time the calling OS thread has used (the caller
// locks itself to its thread), so a benchmark can report throughput per
// core-second even on a loaded machine.
func threadCPU() time.Duration {
	const rusageThread = 1 // RUSAGE_THREAD
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

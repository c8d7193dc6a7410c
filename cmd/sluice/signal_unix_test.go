package main

import "syscall"

// interrupt asks a child process to shut down cleanly (Redis flushes its
// append-only file).
var interrupt = syscall.SIGTERM

//go:build !cgo

// svc without cgo (the static service of tests/container): no C handler to count
// signal 40, prctl through a raw system call.
package main

import "syscall"

func rtInstall()   {}
func rtGot() int64 { return 0 }
func noDump()      { syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_DUMPABLE, 0, 0) }

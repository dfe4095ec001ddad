package main

// cgo makes the program dynamically linked, so that LD_PRELOAD reaches it.

// static int answer(void) { return 42; }
import "C"

func cgoCheck() int { return int(C.answer()) }

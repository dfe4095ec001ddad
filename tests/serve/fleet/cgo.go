package main

// static int answer(void) { return 42; }
import "C"

func cgoCheck() int { return int(C.answer()) }

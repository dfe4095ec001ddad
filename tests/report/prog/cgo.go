package main

// static int twice(int x) { return 2 * x; }
import "C"

func cgoCheck() int { return int(C.twice(21)) }

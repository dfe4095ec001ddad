// The program the page test draws: `prog DIR` calls main.call, hooked, in two bursts that
// the test starts by creating DIR/go1 and DIR/go2: FAST calls of ~20us, then SLOW calls
// of ~30ms, each with a token string argument (which the page must not show without
// golat serve --args). It times each call itself and writes DIR/tally1 and DIR/tally2:
// "fast slow", the calls below and above 3ms by its own clock, which brackets golat's.
// DIR/ready once main.call is hooked and called once (before any watch: not counted).
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

const (
	fast = 200
	slow = 20
)

var sink int

//go:noinline
func call(token string, d time.Duration) int {
	if d > time.Millisecond {
		time.Sleep(d)
		return len(token)
	}
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		sink++
	}
	return len(token)
}

func wait(path string) {
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func burst(n int, d time.Duration, tally string) {
	var below, above int
	for i := 0; i < n; i++ {
		t := time.Now()
		sink += call("secret-token-42", d)
		if time.Since(t) < 3*time.Millisecond {
			below++
		} else {
			above++
		}
	}
	if err := os.WriteFile(tally, []byte(fmt.Sprintf("%d %d\n", below, above)), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func main() {
	dir := os.Args[1]
	sink += call("warm-up", time.Microsecond)
	if err := os.WriteFile(filepath.Join(dir, "ready"), nil, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	wait(filepath.Join(dir, "go1"))
	burst(fast, 20*time.Microsecond, filepath.Join(dir, "tally1"))
	wait(filepath.Join(dir, "go2"))
	burst(slow, 30*time.Millisecond, filepath.Join(dir, "tally2"))
	for cgoCheck() == 42 {
		time.Sleep(time.Hour)
	}
}

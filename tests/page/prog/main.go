// The program the page test draws: `prog DIR` calls main.call, hooked, in two bursts that
// the test starts by creating DIR/go1 and DIR/go2: FAST calls of ~20us, then SLOW calls
// of ~30ms, each with a token string argument (which the page must not show without
// golat serve --args). It times each call itself and writes DIR/tally1 and DIR/tally2:
// "fast slow", the calls below and above 3ms by its own clock, and each call's duration
// in ns, one a line (a call it times includes golat's time of it).
// DIR/ready once main.call is hooked and called once (before any heat map).
package main

import (
	"fmt"
	"math"
	"math/rand"
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
	durs := ""
	for i := 0; i < n; i++ {
		t := time.Now()
		sink += call("secret-token-42", d)
		took := time.Since(t)
		durs += fmt.Sprintf("%d\n", took.Nanoseconds())
		if took < 3*time.Millisecond {
			below++
		} else {
			above++
		}
	}
	// Whole or not there: the test reads it as soon as it exists.
	err := os.WriteFile(tally+".tmp", []byte(fmt.Sprintf("%d %d\n%s", below, above, durs)), 0o644)
	if err == nil {
		err = os.Rename(tally+".tmp", tally)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// demo: what doc/page.png shows (tests/page/screenshot.sh): four goroutines calling
// main.call with log-normal latencies around 1ms, slower for 15 s of every 40.
func demo() {
	for g := 0; g < 4; g++ {
		go func(g int) {
			r := rand.New(rand.NewSource(int64(g)))
			for {
				median := 800 * time.Microsecond
				if time.Now().Unix()%40 >= 25 {
					median *= 5
				}
				d := time.Duration(float64(median) * math.Exp(0.7*r.NormFloat64()))
				sink += call(fmt.Sprintf("user-%d", r.Intn(1000)), d)
			}
		}(g)
	}
}

func main() {
	dir := os.Args[1]
	if len(os.Args) > 2 && os.Args[2] == "demo" {
		demo()
	}
	sink += call("warm-up", time.Microsecond) // before any heat map: in the report's histogram alone
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

// The program of the fleet test (fleet.sh): `fleet SEED N WARM GO DONE` calls main.spin
// twice, with no work and for 200 ms (so that its series, and every classic bucket
// between, exist before the measured calls), creates the file WARM, waits for the file GO, then makes N calls of main.spin from 4 goroutines,
// each lasting a time drawn log-uniformly from 10us to 100ms (busy below 1 ms, asleep
// above), creates DONE and sleeps until it is killed. Built with cgo (cgo.go) so that
// it is dynamically linked and LD_PRELOAD reaches it.
package main

import (
	"fmt"
	"math"
	"math/rand"
	"os"
	"strconv"
	"sync"
	"time"
)

var sink int

//go:noinline
func spin(d time.Duration) int {
	if d >= time.Millisecond {
		time.Sleep(d)
		return 1
	}
	n := 0
	for start := time.Now(); time.Since(start) < d; n++ {
	}
	return n
}

func main() {
	if len(os.Args) != 6 {
		fmt.Fprintln(os.Stderr, "usage: fleet SEED N WARM GO DONE")
		os.Exit(2)
	}
	seed, _ := strconv.ParseInt(os.Args[1], 10, 64)
	n, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleet: N:", err)
		os.Exit(2)
	}
	sink += spin(0) + spin(200 * time.Millisecond)
	if err := os.WriteFile(os.Args[3], nil, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for {
		if _, err := os.Stat(os.Args[4]); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			r := rand.New(rand.NewSource(seed*16 + int64(g)))
			s := 0
			for i := g; i < n; i += 4 {
				us := math.Pow(10, 1+4*r.Float64()) // 10us .. 100ms
				s += spin(time.Duration(us * 1000))
			}
			mu.Lock()
			sink += s
			mu.Unlock()
		}(g)
	}
	wg.Wait()
	if err := os.WriteFile(os.Args[5], []byte(fmt.Sprint(sink)), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for cgoCheck() == 42 {
		time.Sleep(time.Hour)
	}
}

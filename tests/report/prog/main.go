// The program the report tests run under golat: `env` prints what golat run set and
// exits 3 (the exit status must come through exec unchanged); `serve D [STOP]` calls
// main.work every millisecond for D or until the file STOP exists, then returns from
// main.main; `top READY` makes three functions that golat top must order differently by
// each key (main.steady: most total time; main.tail: highest p99; main.many: most
// calls), creates READY and sleeps until killed. Built with cgo
// (cgo.go) it is dynamically linked; with CGO_ENABLED=0, static.
package main

import (
	"fmt"
	"os"
	"time"
)

//go:noinline
func work(d time.Duration) time.Duration {
	t := time.Now()
	for time.Since(t) < d {
	}
	return time.Since(t)
}

//go:noinline
func many(i int) int { return i + 1 }

// 97 quick calls and 3 of 30 ms: p99 30 ms, total 90 ms.
//
//go:noinline
func tail(i int) {
	if i%33 == 32 {
		time.Sleep(30 * time.Millisecond)
	}
}

// 20 calls of 10 ms: p99 10 ms, total 200 ms.
//
//go:noinline
func steady() { time.Sleep(10 * time.Millisecond) }

func topMode(ready string) {
	s := 0
	for i := 0; i < 20000; i++ {
		s += many(i)
	}
	for i := 0; i < 99; i++ {
		tail(i)
	}
	for i := 0; i < 20; i++ {
		steady()
	}
	if err := os.WriteFile(ready, []byte(fmt.Sprint(s)), 0o644); err != nil {
		panic(err)
	}
	for cgoCheck() != 0 {
		time.Sleep(time.Hour)
	}
}

func main() {
	if len(os.Args) > 2 && os.Args[1] == "top" {
		topMode(os.Args[2])
	}
	if len(os.Args) > 1 && os.Args[1] == "env" {
		for _, k := range []string{"LD_PRELOAD", "GOLAT_FUNCS", "GOLAT_OUTPUT", "GOLAT_SAMPLE", "GOLAT_INTERVAL"} {
			fmt.Printf("%s=%s\n", k, os.Getenv(k))
		}
		os.Exit(3)
	}
	d, stop := time.Second, ""
	if len(os.Args) > 2 && os.Args[1] == "serve" {
		d, _ = time.ParseDuration(os.Args[2])
	}
	if len(os.Args) > 3 {
		stop = os.Args[3]
	}
	var total time.Duration
	for i, end := 0, time.Now().Add(d); time.Now().Before(end); i++ {
		total += work(100 * time.Microsecond)
		time.Sleep(time.Millisecond)
		if stop != "" && i%64 == 0 {
			if _, err := os.Stat(stop); err == nil {
				break
			}
		}
	}
	fmt.Println("worked", total > 0, cgoCheck())
}

// Many threads calling many functions: -threads goroutines, each locked to an OS thread of
// its own (runtime.LockOSThread, never undone, so no two of them share a thread), wait until
// all of them exist, then call each of the first -funcs functions of funcs_gen.go (written
// by tests/scale/genfuncs.py) -rounds times, counting the calls themselves. With -waves W,
// that happens W times, each time with new workers on new threads (the last wave's have
// returned, and their threads ended).
//
// While every worker of the last wave still holds its thread (all done, none returned), the
// program writes what it measures of itself to -measure: VmRSS, the threads the process
// has, the distinct thread ids the last wave ran on and, when GOLAT_STATS names the live
// stats file, the bytes that file has allocated (st_blocks * 512). Then it releases the
// workers and prints, on stdout, {"calls": {fn: n}, "threads": T, "checksum": C} and on
// stderr one line: both are the same with or without golat. It exits with -exit.
// Built with cgo for LD_PRELOAD (cgo.go), and with CGO_ENABLED=0 for golat run.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// vmRSS is this process's VmRSS in KiB (-1 if unreadable).
func vmRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				return n
			}
		}
	}
	return -1
}

// statsAlloc is the bytes allocated to the file GOLAT_STATS names (%p: this pid), -1 if
// it is not set or not there.
func statsAlloc() (string, int64) {
	p := os.Getenv("GOLAT_STATS")
	if p == "" {
		return "", -1
	}
	p = strings.ReplaceAll(p, "%p", strconv.Itoa(os.Getpid()))
	var st syscall.Stat_t
	if syscall.Stat(p, &st) != nil {
		return p, -1
	}
	return p, st.Blocks * 512
}

func main() {
	nf := flag.Int("funcs", len(funcs), "functions called (the first N of funcs)")
	threads := flag.Int("threads", 64, "worker goroutines, each locked to its own OS thread")
	rounds := flag.Int("rounds", 10, "calls of each function per worker")
	waves := flag.Int("waves", 1, "times the workers are started afresh (new threads), one wave after another")
	code := flag.Int("exit", 0, "exit status")
	measure := flag.String("measure", "", "where to write what the program measured of itself (JSON)")
	flag.Parse()
	if *nf < 1 || *nf > len(funcs) || *threads < 1 || *rounds < 1 || *waves < 1 {
		fmt.Fprintf(os.Stderr, "many: -funcs must be 1..%d, -threads, -rounds and -waves >= 1\n", len(funcs))
		os.Exit(2)
	}
	T, N, R, W := *threads, *nf, *rounds, *waves

	counts := make([][]int64, T)
	sums := make([]uint64, T)
	tids := make([]int, T)
	var release chan struct{}
	for wave := 0; wave < W; wave++ {
		if release != nil {
			close(release) // the last wave's workers return: their threads end
		}
		var started, done sync.WaitGroup
		begin := make(chan struct{})
		release = make(chan struct{})
		started.Add(T)
		done.Add(T)
		for w := 0; w < T; w++ {
			go func(w int, release chan struct{}) {
				runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
				tids[w] = syscall.Gettid()
				started.Done()
				<-begin // every worker holds a thread of its own before any calls
				c := counts[w]
				if c == nil {
					c = make([]int64, N)
				}
				x := sums[w] + uint64(w)*0x100000001b3 + 1
				for r := 0; r < R; r++ {
					for i := 0; i < N; i++ {
						x = funcs[i](x + uint64(r))
						c[i]++
					}
				}
				counts[w], sums[w] = c, x
				done.Done()
				<-release
			}(w, release)
		}
		started.Wait()
		close(begin)
		done.Wait()
	}

	if *measure != "" {
		distinct := map[int]bool{}
		for _, t := range tids {
			distinct[t] = true
		}
		tasks, _ := os.ReadDir("/proc/self/task")
		path, alloc := statsAlloc()
		m := map[string]interface{}{
			"rss_kb":           vmRSS(),
			"threads_now":      len(tasks),
			"distinct_threads": len(distinct),
			"stats_path":       path,
			"stats_alloc":      alloc,
		}
		b, _ := json.Marshal(m)
		if err := os.WriteFile(*measure, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "many:", err)
			os.Exit(2)
		}
	}
	close(release)

	calls := map[string]int64{}
	var sum uint64
	for w := 0; w < T; w++ {
		for i, n := range counts[w] {
			calls[fmt.Sprintf("main.f%04d", i)] += n
		}
		sum += sums[w]
	}
	json.NewEncoder(os.Stdout).Encode(map[string]interface{}{
		"calls": calls, "threads": T, "checksum": strconv.FormatUint(sum, 16),
	})
	fmt.Fprintf(os.Stderr, "many: %d waves of %d threads x %d functions x %d rounds done\n", W, T, N, R)
	os.Exit(*code)
}

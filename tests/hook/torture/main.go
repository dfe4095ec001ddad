// Attach and detach under load: workers hammer six functions (a frameless leaf, a
// small function with a frame, a recursive one, one that blocks, a dense switch, one
// whose return window is a 2-byte hop into padding) while the main goroutine hooks and
// unhooks them thousands of times through golat_attach/golat_detach (found with dlsym;
// run with golat LD_PRELOADed and GOLAT_FUNCS unset). Two workers call them back to
// back, so that Go's asynchronous preemption often parks them at a pc inside a hooked
// function; a CPU profile (SIGPROF) runs throughout the churn. Then, hooked for good, a
// final phase must be counted exactly.
//
// The rules checked (include/golat.h, lib/record/recorder.h):
//   - no crash, no hang, every attach/detach returns a count or a documented error;
//   - churn: a call is counted whole or not at all, so at every pause (no call in
//     flight) golat.calls <= ours and entries - calls - abandoned >= 0;
//   - final phase, attached before it starts and never detached: golat.calls grows by
//     exactly the number of calls the workers made, and entries by at least as much.
//
// Env: TORTURE_CYCLES (default 2000), TORTURE_SECONDS (bound on the churn, default 15),
// TORTURE_FILL (work between calls, default 200), TORTURE_PROF_HZ (CPU profile rate
// during the churn, default 500).
package main

/*
#cgo LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct tor_counts { uint64_t entries, calls, abandoned; };

static void *tor_sym(const char *name) { return dlsym(RTLD_DEFAULT, name); }

// golat_attach or golat_detach, and on failure golat_error() copied into err: the
// message is the calling thread's, and a goroutine may be on another thread by its
// next cgo call.
static int tor_change(int attach, const char *specs, char *err, size_t n)
{
	int (*f)(const char *) =
		(int (*)(const char *))tor_sym(attach ? "golat_attach" : "golat_detach");
	const char *(*why)(void) = (const char *(*)(void))tor_sym("golat_error");
	if (!f || !why) {
		snprintf(err, n, "golat is not loaded");
		return -ENOSYS;
	}
	int rc = f(specs);
	if (rc < 0)
		snprintf(err, n, "%s", why());
	return rc;
}

static int tor_counts(const char *name, struct tor_counts *out)
{
	int (*f)(const char *, struct tor_counts *) =
		(int (*)(const char *, struct tor_counts *))tor_sym("golat_counts");
	return f ? f(name, out) : -ENOSYS;
}
*/
import "C"

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

const workers = 8

// The hooked functions, in the order of the counters.
const (
	fLeaf = iota
	fFrame
	fRec
	fBlock
	fSwitch
	fIndex
	nfuncs
)

var (
	refused = map[string]bool{}
	want    int
)

var names = [nfuncs]string{"main.tLeaf", "main.tFrame", "main.tRec", "main.tBlock", "main.tSwitch", "main.tIndex"}

const specs = "main.tLeaf,main.tFrame,main.tRec,main.tBlock,main.tSwitch,main.tIndex"

//go:noinline
func tLeaf(x int) int { return x + 1 }

// tFrame is small, has a frame and is called in a tight loop: much of its time is
// spent in its epilogue, where Go may preempt it asynchronously.
//
//go:noinline
func tFrame(x int) int {
	var a [4]int
	a[x&3] = x
	return a[0] + a[1] + a[2]*3 + a[3]
}

//go:noinline
func tRec(n int) int {
	if n < 2 {
		return n
	}
	return tRec(n-1) + tRec(n-2)
}

var pingpong = make(chan int, 4)

//go:noinline
func tBlock(x int) int {
	if x%8 == 0 {
		time.Sleep(time.Microsecond)
	}
	pingpong <- x
	runtime.Gosched()
	return <-pingpong
}

var table = []int{2, 7, 1, 8, 2, 8, 1, 8}

// tIndex has a frame and a bounds check: from Go 1.21 its return window (`pop rbp;
// ret` after a load that may fault) is 2 bytes, a hop into the padding.
//
//go:noinline
func tIndex(i int) int { return table[i] }

// tSwitch is a dense switch: a jump table (newer compilers: a table of results) and
// up to eleven returns.
//
//go:noinline
func tSwitch(x int) int {
	switch x & 15 {
	case 0:
		return 3
	case 1:
		return 14
	case 2:
		return 15
	case 3:
		return 92
	case 4:
		return 65
	case 5:
		return 35
	case 6:
		return 89
	case 7:
		return 79
	case 8:
		return 32
	case 9:
		return 38
	}
	return x
}

// Each worker counts in its own cache lines; for tRec, every call of the tree.
type counters struct {
	n [nfuncs]int64
	_ [8]int64
}

var (
	ours    [workers]counters
	pause   int32 // 1: workers stop between calls
	stopped int32 // workers standing at the pause
	resume  = make(chan struct{})
	quit    int32
	resMu   sync.Mutex
)

func recCalls(n int) int64 { // calls tRec(n) makes, itself included
	if n < 2 {
		return 1
	}
	return 1 + recCalls(n-1) + recCalls(n-2)
}

var recN = [8]int64{}

func worker(id int, wg *sync.WaitGroup) {
	defer wg.Done()
	c := &ours[id]
	s := 0
	f := fill
	if id < spinners {
		f = 0
	}
	for i := 0; ; i++ {
		if atomic.LoadInt32(&pause) == 1 {
			resMu.Lock()
			ch := resume
			resMu.Unlock()
			atomic.AddInt32(&stopped, 1)
			<-ch
			atomic.AddInt32(&stopped, -1)
		}
		if atomic.LoadInt32(&quit) == 1 {
			break
		}
		// tBlock first: a tBlock call left in flight by the last detach of the churn
		// is then at the depth and of the function of the first call after the pause.
		if id >= spinners {
			s += tBlock(i)
			atomic.AddInt64(&c.n[fBlock], 1)
		}
		for k := 0; k < 64; k++ {
			s += tLeaf(k)
			s += tFrame(k + i)
			s += tSwitch(k)
			s += tIndex(k & 7)
			s = filler(s, f)
		}
		atomic.AddInt64(&c.n[fLeaf], 64)
		atomic.AddInt64(&c.n[fFrame], 64)
		atomic.AddInt64(&c.n[fSwitch], 64)
		atomic.AddInt64(&c.n[fIndex], 64)
		n := 2 + i%6
		s += tRec(n)
		atomic.AddInt64(&c.n[fRec], recN[n])
	}
	_ = s
}

// filler is work outside the hooked functions (inlined into worker): the more of it,
// the less often a stop of the world finds a thread inside a patch window.
func filler(s, n int) int {
	for j := 0; j < n; j++ {
		s = s*31 + j
	}
	return s
}

var fill = 200

// The first spinners workers call the hooked functions back to back, without filler:
// when Go preempts them asynchronously (SIGURG), the pc it saves is often inside a
// hooked function, so an attach then meets goroutines parked at pcs a stop of the
// world does not see.
const spinners = 2

// stopWorkers waits until every worker stands between two calls.
func stopWorkers() {
	resMu.Lock()
	resume = make(chan struct{})
	resMu.Unlock()
	atomic.StoreInt32(&pause, 1)
	for atomic.LoadInt32(&stopped) != workers {
		time.Sleep(100 * time.Microsecond)
	}
}

// startWorkers lets them go, and waits until none is left standing at the pause (so
// that the next stopWorkers cannot count one that is about to leave).
func startWorkers() {
	atomic.StoreInt32(&pause, 0)
	resMu.Lock()
	close(resume)
	resMu.Unlock()
	for atomic.LoadInt32(&stopped) != 0 {
		time.Sleep(50 * time.Microsecond)
	}
}

type snapshot struct {
	ours   [nfuncs]int64
	golat  [nfuncs]C.struct_tor_counts
	hooked [nfuncs]bool
}

func snap() snapshot {
	var s snapshot
	for w := range ours {
		for k := range names {
			s.ours[k] += atomic.LoadInt64(&ours[w].n[k])
		}
	}
	for k, name := range names {
		cs := C.CString(name)
		s.hooked[k] = C.tor_counts(cs, &s.golat[k]) == 0
		C.free(unsafe.Pointer(cs))
	}
	return s
}

var failed bool

func fail(format string, a ...interface{}) {
	fmt.Printf("FAIL: "+format+"\n", a...)
	failed = true
}

// checkChurn: counted whole or not at all.
func checkChurn(s snapshot, when string) {
	for k, name := range names {
		g := s.golat[k]
		if !s.hooked[k] {
			continue
		}
		if int64(g.calls) > s.ours[k] {
			fail("%s: %s: golat counted %d completed calls, the workers made %d", when, name, g.calls, s.ours[k])
		}
		if g.entries < g.calls+g.abandoned {
			fail("%s: %s: entries %d < calls %d + abandoned %d", when, name, g.entries, g.calls, g.abandoned)
		}
	}
}

// change attaches (or detaches) specs: golat's return value, and its reason on failure.
func change(attach bool, specs string) (int, string) {
	cs := C.CString(specs)
	defer C.free(unsafe.Pointer(cs))
	var err [512]C.char
	a := C.int(0)
	if attach {
		a = 1
	}
	rc := int(C.tor_change(a, cs, &err[0], C.size_t(len(err))))
	if rc >= 0 {
		return rc, ""
	}
	return rc, C.GoString(&err[0])
}

// churnError tallies a failed attach or detach: while the workers run, the world may
// fail to stop (-EBUSY, -ETIMEDOUT: "nothing was changed"); any other error is a bug.
func churnError(what string, rc int, msg string, errs map[string]int) {
	key := fmt.Sprintf("%s %d: %s", what, rc, msg)
	if rc != -C.EBUSY && rc != -C.ETIMEDOUT && errs[key] == 0 {
		fail("golat_%s returned %d: %s", what, rc, msg)
	}
	errs[key]++
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func main() {
	runtime.GOMAXPROCS(4)
	for n := range recN {
		recN[n] = recCalls(n)
	}
	if n, _ := change(true, "main.nosuchfunction"); n == -C.ENOSYS {
		fmt.Println("FAIL: golat_attach not found: run with LD_PRELOAD=libgolat.so")
		os.Exit(1)
	}
	cycles := envInt("TORTURE_CYCLES", 2000)
	// Functions golat refuses in this build (golat list says which, and why: on some
	// toolchains tIndex's return needs a hop into padding, which golat no longer
	// makes). They run under the churn all the same, unhooked.
	for _, name := range strings.Split(os.Getenv("TORTURE_REFUSED"), ",") {
		if name != "" {
			refused[name] = true
		}
	}
	want = nfuncs - len(refused)
	fill = envInt("TORTURE_FILL", fill)
	limit := time.Duration(envInt("TORTURE_SECONDS", 15)) * time.Second

	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go worker(w, &wg)
	}

	// Churn.
	start := time.Now()
	done, errs := 0, map[string]int{}
	// A CPU profile runs through the churn: SIGPROF lands anywhere, trampolines and
	// patched code included, and the runtime unwinds from there.
	runtime.SetCPUProfileRate(envInt("TORTURE_PROF_HZ", 500))
	pprof.StartCPUProfile(io.Discard) // keeps the rate above (and says so on stderr)
	var tAttach, tDetach, maxAttach time.Duration
	for done < cycles && time.Since(start) < limit {
		t0 := time.Now()
		n, msg := change(true, specs)
		d := time.Since(t0)
		tAttach += d
		if d > maxAttach {
			maxAttach = d
		}
		attached := n >= 0
		if n < 0 {
			churnError("attach", n, msg, errs)
		} else if n != want {
			fail("cycle %d: golat_attach hooked %d functions, want %d", done, n, want)
		}
		if done%3 == 0 {
			time.Sleep(time.Duration(done%7) * 50 * time.Microsecond)
		}
		t0 = time.Now()
		n, msg = change(false, specs)
		tDetach += time.Since(t0)
		if n < 0 {
			churnError("detach", n, msg, errs)
		} else if attached && n != want {
			fail("cycle %d: golat_detach unhooked %d functions, want %d", done, n, want)
		}
		done++
		if done%250 == 0 {
			stopWorkers()
			checkChurn(snap(), fmt.Sprintf("after %d cycles", done))
			startWorkers()
		}
	}
	pprof.StopCPUProfile()
	churn := time.Since(start)
	fmt.Printf("churn: %d attach/detach cycles in %.1fs (attach %v on average, at most %v; detach %v)\n",
		done, churn.Seconds(), tAttach/time.Duration(done+1), maxAttach, tDetach/time.Duration(done+1))
	shown := 0
	for e, n := range errs {
		if shown++; shown <= 10 {
			fmt.Printf("churn: %d× %s\n", n, e)
		}
	}

	// Final phase: hooked before any call of it starts, never detached.
	stopWorkers()
	before := snap()
	checkChurn(before, "end of churn")
	n, msg := change(true, specs)
	for try := 0; try < 10 && (n == -C.EBUSY || n == -C.ETIMEDOUT); try++ {
		time.Sleep(10 * time.Millisecond) // the world may be slow to stop on a busy machine
		n, msg = change(true, specs)
	}
	if n < 0 {
		fail("final attach: %s", msg)
	}
	startWorkers()
	time.Sleep(time.Second)
	stopWorkers()
	after := snap()
	checkChurn(after, "final phase")
	var total int64
	for k, name := range names {
		ours := after.ours[k] - before.ours[k]
		total += after.ours[k]
		if !after.hooked[k] {
			if !refused[name] {
				fail("%s was never hooked", name)
			}
			continue
		}
		calls := int64(after.golat[k].calls) - int64(before.golat[k].calls)
		entries := int64(after.golat[k].entries) - int64(before.golat[k].entries)
		fmt.Printf("final %s: ours=%d golat.calls=%d entries=%d (churn: ours=%d golat.calls=%d entries=%d abandoned=%d)\n",
			name, ours, calls, entries, before.ours[k], before.golat[k].calls, before.golat[k].entries,
			before.golat[k].abandoned)
		if calls != ours {
			fail("final phase: %s: golat counted %d completed calls, the workers made %d", name, calls, ours)
		}
		// No call was in flight when the phase began, so each call it counts was
		// entered in it: an entry taken for that of a call left in flight by a
		// detach during the churn would pair two calls (and time them as one).
		if entries < calls {
			fail("final phase: %s: %d calls completed but only %d entered", name, calls, entries)
		}
	}
	atomic.StoreInt32(&quit, 1)
	startWorkers()
	wg.Wait()
	fmt.Printf("total calls: %d\n", total)
	if failed {
		os.Exit(1)
	}
	fmt.Println("torture: ok")
}

// stwprog proves that stopping the world (golat's stw, preloaded with stw_preload.so)
// goes unnoticed by a running Go program: GOMAXPROCS=4, goroutines busy, sleeping,
// allocating, talking over channels and pipes, and threads inside cgo calls (sleeping
// in nanosleep, blocked in read), while the world is stopped and resumed 1000 times
// and then a Go function of this program is patched and unpatched 1000 times
// (STWTEST_CYCLES changes the 1000s).
//
// It checks: the stop handler installed by the preload constructor is still there
// after the runtime started (Go leaves signal 34 alone: runtime/sigtab_linux_generic.go,
// _SigSetStack); with STWTEST_LATE=1, installing it while the runtime runs works too;
// every stop succeeds; every goroutine keeps making progress; no I/O error and no EINTR
// reaches Go or the blocked read; calls to the patched function return only 1 or 2.
// Exit status 0 and a "PASS" line, or 1 with the reason.
package main

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

static void *sym(const char *name) { return dlsym(RTLD_DEFAULT, name); }

static int ctor_result(char *r, int n) {
	int (*f)(char *, int) = sym("stwtest_ctor_result");
	return f ? f(r, n) : -1000;
}
static int init_late(char *r, int n) {
	int (*f)(char *, int) = sym("stwtest_init");
	return f ? f(r, n) : -1000;
}
static int installed(void) {
	int (*f)(void) = sym("stwtest_installed");
	return f ? f() : -1000;
}
static int stops(int n, long long *out, char *r, int rn) {
	int (*f)(int, long long *, char *, int) = sym("stwtest_stops");
	return f ? f(n, out, r, rn) : -1000;
}
static int patch_cycles(uint64_t addr, const uint8_t *b, int len, int n, long long *out,
			char *r, int rn) {
	int (*f)(uint64_t, const uint8_t *, int, int, long long *, char *, int) =
		sym("stwtest_patch_cycles");
	return f ? f(addr, b, len, n, out, r, rn) : -1000;
}

// A thread sleeping inside a cgo call: nanosleep is never restarted after a handler
// (signal(7)), so it goes on with the time left, as any C code must.
static int c_sleep_us(int us) {
	struct timespec ts = { 0, us * 1000L };
	while (nanosleep(&ts, &ts) != 0)
		if (errno != EINTR)
			return errno;
	return 0;
}

// A thread blocked in read inside a cgo call: SA_RESTART must hide the signal.
static int c_read(int fd) {
	char c;
	ssize_t got = read(fd, &c, 1);
	return got == 1 ? 0 : got < 0 ? errno : -1;
}
*/
import "C"

import (
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

//go:noinline
func val() int { return 1 }

//go:noinline
func val2() int { return 2 }

type progress struct {
	name string
	n    atomic.Uint64
}

var (
	quit     atomic.Bool
	failures atomic.Uint64
	seen     [3]atomic.Uint64
	workers  []*progress
	wg       sync.WaitGroup
)

func fail(format string, args ...any) {
	failures.Add(1)
	fmt.Printf("FAIL: "+format+"\n", args...)
}

func spawn(name string, body func(p *progress)) {
	p := &progress{name: name}
	workers = append(workers, p)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !quit.Load() {
			body(p)
			p.n.Add(1)
		}
	}()
}

func cbuf() (*C.char, func() string) {
	b := make([]byte, 256)
	p := (*C.char)(unsafe.Pointer(&b[0]))
	return p, func() string { return C.GoString(p) }
}

func startWorkloads() (stopFeed func()) {
	for i := 0; i < 4; i++ {
		spawn(fmt.Sprintf("busy%d", i), func(p *progress) {
			for k := 0; k < 1000; k++ {
				v := val()
				if v != 1 && v != 2 {
					fail("val() returned %d", v)
					return
				}
				seen[v].Add(1)
			}
		})
	}
	for i := 0; i < 6; i++ {
		d := time.Duration(20+i*30) * time.Microsecond
		spawn(fmt.Sprintf("sleep%d", i), func(p *progress) { time.Sleep(d) })
	}
	for i := 0; i < 2; i++ {
		spawn(fmt.Sprintf("cgo-sleep%d", i), func(p *progress) {
			if e := C.c_sleep_us(200); e != 0 {
				fail("nanosleep in cgo: errno %d", int(e))
			}
		})
	}
	var feeds []int
	for i := 0; i < 2; i++ {
		var fds [2]int
		if err := syscall.Pipe(fds[:]); err != nil {
			fail("pipe: %v", err)
			continue
		}
		feeds = append(feeds, fds[1])
		rfd := fds[0]
		spawn(fmt.Sprintf("cgo-read%d", i), func(p *progress) {
			if e := C.c_read(C.int(rfd)); e != 0 {
				fail("read in cgo: errno %d (EINTR is %d)", int(e), int(syscall.EINTR))
			}
		})
	}
	var garbage [][]byte
	spawn("alloc", func(p *progress) {
		garbage = append(garbage, make([]byte, 64<<10))
		if len(garbage) > 64 {
			garbage = nil
		}
	})
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
	}()
	spawn("chan", func(p *progress) {
		ping <- 1
		if <-pong != 2 {
			fail("channel")
		}
	})
	r, w, err := os.Pipe()
	if err != nil {
		fail("os.Pipe: %v", err)
	} else {
		spawn("os-pipe", func(p *progress) {
			if _, err := w.Write([]byte{7}); err != nil {
				fail("pipe write: %v", err)
			}
			var b [1]byte
			if _, err := r.Read(b[:]); err != nil || b[0] != 7 {
				fail("pipe read: %v", err)
			}
		})
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				for _, fd := range feeds { // let the readers finish
					syscall.Write(fd, []byte{1, 1, 1, 1})
				}
				return
			case <-time.After(200 * time.Microsecond):
				for _, fd := range feeds {
					syscall.Write(fd, []byte{1})
				}
			}
		}
	}()
	return func() { close(done) }
}

func snapshot() []uint64 {
	s := make([]uint64, len(workers))
	for i, p := range workers {
		s[i] = p.n.Load()
	}
	return s
}

func checkProgress(phase string, before []uint64) {
	for i, p := range workers {
		if p.n.Load() <= before[i] {
			fail("%s: goroutine %s made no progress", phase, p.name)
		}
	}
}

func install() {
	r, str := cbuf()
	late := os.Getenv("STWTEST_LATE") == "1"
	if got := C.ctor_result(r, 256); got == -1000 {
		fail("stw_preload.so is not preloaded")
		os.Exit(1)
	} else if !late && got != 0 {
		fail("stw_init in the constructor: %d %s", int(got), str())
	}
	if late {
		if e := C.init_late(r, 256); e != 0 {
			fail("stw_init with the runtime running: %d %s", int(e), str())
		}
	}
	if C.installed() != 1 {
		fail("the signal 34 handler is not ours after the Go runtime started")
	}
}

func runStops(n int) {
	r, str := cbuf()
	var out [5]C.longlong
	before := snapshot()
	t0 := time.Now()
	if e := C.stops(C.int(n), &out[0], r, 256); e != 0 {
		fail("stop: %d %s", int(e), str())
		return
	}
	el := time.Since(t0)
	time.Sleep(20 * time.Millisecond)
	checkProgress("stops", before)
	fmt.Printf("stwprog: %d stops in %v (%.0f/s): latency median %.1f us, p99 %.1f us, "+
		"max %.1f us; %d..%d threads frozen\n", n, el.Round(time.Millisecond),
		float64(n)/el.Seconds(), float64(out[0])/1e3, float64(out[1])/1e3,
		float64(out[2])/1e3, int(out[3]), int(out[4]))
}

// runPatches writes `jmp val2` over val's `mov eax,1` (5 bytes: the same instruction
// boundaries, so a goroutine preempted asynchronously inside val resumes at a valid
// instruction) and back.
func runPatches(n int) {
	addr := reflect.ValueOf(val).Pointer()
	code := (*[6]byte)(unsafe.Pointer(addr))
	if *code != [6]byte{0xb8, 1, 0, 0, 0, 0xc3} {
		fail("val() does not compile to mov eax,1; ret: % x", code[:])
		return
	}
	rel := int64(reflect.ValueOf(val2).Pointer()) - int64(addr+5)
	jmp := []byte{0xe9, byte(rel), byte(rel >> 8), byte(rel >> 16), byte(rel >> 24)}
	r, str := cbuf()
	var out [3]C.longlong
	before := snapshot()
	seen1, seen2 := seen[1].Load(), seen[2].Load()
	t0 := time.Now()
	e := C.patch_cycles(C.uint64_t(addr), (*C.uint8_t)(unsafe.Pointer(&jmp[0])), 5, C.int(n),
		&out[0], r, 256)
	if e != 0 {
		fail("patch: %d %s", int(e), str())
		return
	}
	el := time.Since(t0)
	time.Sleep(20 * time.Millisecond)
	checkProgress("patches", before)
	if *code != [6]byte{0xb8, 1, 0, 0, 0, 0xc3} {
		fail("val() not restored: % x", code[:])
	}
	d1, d2 := seen[1].Load()-seen1, seen[2].Load()-seen2
	if d2 == 0 {
		fail("no call saw the patched val()")
	}
	fmt.Printf("stwprog: %d patch+unpatch cycles of val() in %v: %d retries; world stopped "+
		"median %.1f us, p99 %.1f us; calls meanwhile returned 1: %d, 2: %d\n", n,
		el.Round(time.Millisecond), int(out[0]), float64(out[1])/1e3, float64(out[2])/1e3, d1, d2)
}

func main() {
	runtime.GOMAXPROCS(4)
	install()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	gc0 := ms.NumGC
	stopFeed := startWorkloads()
	time.Sleep(50 * time.Millisecond)
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("STWTEST_CYCLES")); err == nil && v > 0 {
		n = v
	}
	runStops(n)
	runPatches(n)
	quit.Store(true)
	stopFeed()
	wg.Wait()
	runtime.ReadMemStats(&ms)
	if ms.NumGC == gc0 {
		fail("no GC ran")
	}
	late := os.Getenv("STWTEST_LATE") == "1"
	if failures.Load() != 0 {
		fmt.Printf("FAIL: stwprog %s (late=%v): %d failures\n", runtime.Version(), late, failures.Load())
		os.Exit(1)
	}
	fmt.Printf("PASS: stwprog %s (handler installed %s), %d GCs\n", runtime.Version(),
		map[bool]string{false: "by the preload constructor", true: "while the runtime ran"}[late],
		ms.NumGC-gc0)
}

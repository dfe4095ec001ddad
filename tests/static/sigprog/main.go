// sigprog: a static Go program whose signals golat must own once it hooks it
// (tests/static/signals.sh). Started with a directory; it says "started", waits for
// DIR/go (golat attached), then:
//   - faults: load(nil) in every other call, a nil dereference inside main.load's first
//     instruction (relocated into golat's trampoline), recovered as a panic whose stack
//     names main.load (with the trampoline's PC, Go would take the fault for a call
//     to non-code from load's caller: runtime/signal_unix.go, shouldPushSigpanic);
//   - preempt: GOMAXPROCS 1 and two goroutines that never yield calling main.spin: both
//     advance only if Go's SIGURG preemption works;
//   - profile: a CPU profile (SIGPROF) of a loop calling main.tiny, to DIR/cpu.prof;
//   - printable: strconv.IsPrint over 0x20000 runes (golat's SIGTRAP, where a return of
//     it goes through an int3);
//   - notify: signal.Ignore(SIGURG) then signal.Notify for SIGURG and SIGUSR1, after
//     the attach: Go installs handlers again (raw rt_sigaction), and preemption must
//     still work. A preemption signal that reaches a thread while SIGURG is ignored is
//     lost, and Go then never preempts that thread again (runtime.preemptM sends none
//     while m.signalPending is set; only a SIGURG handled clears it), hooked or not: so
//     after Notify the program sends each of its threads a SIGURG of its own, through
//     golat's handler to Go's;
//
// printing the handlers' whereabouts (in the binary, in golat's agent) as the kernel
// has them, and each function's exact call count; "done", then on DIR/stop the
// handlers again and exit 0.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

//go:noinline
func load(p *int) int { return *p }

//go:noinline
func spin(x int) int { return x*7 + 3 }

//go:noinline
func tiny(x int) int { return x ^ (x >> 3) }

var sink int

// where says in which mapping the kernel's handler for sig lies.
func where(sig syscall.Signal) string {
	var act [4]uint64
	if _, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), 0, uintptr(unsafe.Pointer(&act[0])), 8, 0, 0); e != 0 {
		return "error"
	}
	h := act[0]
	if h < 2 {
		return "default"
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return "error"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		r := strings.SplitN(fields[0], "-", 2)
		lo, _ := strconv.ParseUint(r[0], 16, 64)
		hi, _ := strconv.ParseUint(r[1], 16, 64)
		if h >= lo && h < hi {
			if len(fields) >= 6 && strings.Contains(fields[5], "golat-agent") {
				return "agent"
			}
			exe, _ := os.Executable()
			if len(fields) >= 6 && fields[5] == exe {
				return "binary"
			}
			return "other"
		}
	}
	return "unmapped"
}

func handlers(when string) {
	fmt.Printf("handlers %s: SIGSEGV %s SIGURG %s SIGPROF %s SIGTRAP %s\n", when,
		where(syscall.SIGSEGV), where(syscall.SIGURG), where(syscall.SIGPROF), where(syscall.SIGTRAP))
}

func waitFile(p string) {
	for {
		if _, err := os.Stat(p); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// inLoad says whether the panicking goroutine's stack names main.load: Go found the
// fault's PC there (golat's handler gave it the original instruction, not the
// trampoline's copy).
func inLoad() bool {
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(1, pcs)])
	for {
		f, more := frames.Next()
		if f.Function == "main.load" {
			return true
		}
		if !more {
			return false
		}
	}
}

func faults(n int) (loads, recovered, named int) {
	x := 1
	for i := 0; i < n; i++ {
		var p *int
		if i%2 == 1 {
			p = &x
		}
		func() {
			defer func() {
				if recover() != nil {
					recovered++
					if inLoad() {
						named++
					}
				}
			}()
			loads++
			sink += load(p)
		}()
	}
	return
}

// preempt: two goroutines that never yield, on one P, until both have advanced (at
// most 20 s): only Go's asynchronous preemption (SIGURG) lets the second, and this
// one, run while the first spins. Their calls of main.spin, and the time it took.
func preempt() (a, b int64, took time.Duration) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	var stop int32
	var na, nb int64
	done := make(chan bool, 2)
	run := func(n *int64) {
		s := 0
		for atomic.LoadInt32(&stop) == 0 {
			s += spin(s)
			atomic.AddInt64(n, 1)
		}
		sink += s
		done <- true
	}
	t0 := time.Now()
	go run(&na)
	go run(&nb)
	for time.Since(t0) < 20*time.Second && (atomic.LoadInt64(&na) == 0 || atomic.LoadInt64(&nb) == 0) {
		time.Sleep(5 * time.Millisecond) // this goroutine, too, runs again only by preempting them
	}
	took = time.Since(t0)
	atomic.StoreInt32(&stop, 1)
	<-done
	<-done
	return na, nb, took
}

func profile(path string, d time.Duration) (n int64) {
	f, err := os.Create(path)
	if err != nil {
		panic(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		panic(err)
	}
	s := 0
	for end := time.Now().Add(d); time.Now().Before(end); {
		for i := 0; i < 1000; i++ {
			s += tiny(s + i)
			n++
		}
	}
	sink += s
	pprof.StopCPUProfile()
	f.Close()
	return
}

// printable: the runes below 0x20000 that strconv.IsPrint takes (hooked: in go1.27, one
// of its returns goes through golat's int3).
func printable() (n int) {
	for r := rune(0); r < 0x20000; r++ {
		if strconv.IsPrint(r) {
			n++
		}
	}
	return
}

// rearm sends SIGURG to every thread of the program: a thread whose preemption signal
// was lost while SIGURG was ignored takes preemption requests again once Go's handler
// has seen one (runtime.doSigPreempt clears m.signalPending).
func rearm() {
	ts, err := os.ReadDir("/proc/self/task")
	if err != nil {
		panic(err)
	}
	for _, t := range ts {
		if tid, err := strconv.Atoi(t.Name()); err == nil {
			syscall.Tgkill(os.Getpid(), tid, syscall.SIGURG)
		}
	}
}

func main() {
	if os.Args[1] == "-printable" { // the answer unhooked
		fmt.Println(printable())
		return
	}
	dir := os.Args[1]
	fmt.Println("started")
	waitFile(dir + "/go")
	handlers("hooked")
	loads, rec, named := faults(2000)
	fmt.Printf("faults %d recovered %d in main.load %d\n", loads, rec, named)
	a, b, took := preempt()
	fmt.Printf("preempt %d %d in %d ms\n", a, b, took.Milliseconds())
	tinies := profile(dir+"/cpu.prof", time.Second)
	fmt.Printf("printable %d\n", printable())
	signal.Ignore(syscall.SIGURG)
	// Two channels: every SIGURG (Go's preemption requests, rearm's) is notified too,
	// and os/signal drops a signal whose channel is full: SIGUSR1 must not queue
	// behind them.
	urg, usr1 := make(chan os.Signal, 1), make(chan os.Signal, 1)
	signal.Notify(urg, syscall.SIGURG)
	signal.Notify(usr1, syscall.SIGUSR1)
	handlers("notified")
	rearm()
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	<-usr1
	a2, b2, took2 := preempt()
	fmt.Printf("preempt after notify %d %d in %d ms\n", a2, b2, took2.Milliseconds())
	fmt.Printf("counts load %d spin %d tiny %d\n", loads-rec, a+b+a2+b2, tinies)
	fmt.Println("done")
	waitFile(dir + "/stop")
	handlers("detached")
}

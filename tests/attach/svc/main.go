// svc: the service golat attach is tried on — net/http on 127.0.0.1 with a port of
// the kernel's choosing (printed on stdout), cgo-linked so that LD_PRELOAD works
// (rt_cgo.go). Built with CGO_ENABLED=0 (rt_nocgo.go) it is the static service of the
// container tests: the same paths, the same names to hook, no /rt counts.
//
//	GET /count  the requests served so far (not counting /count and /quit)
//	GET /quit   shuts the server down; main returns and the process exits 0
//	GET /rt     how many signal 40 (a real-time signal: the kernel queues each one,
//	            nothing coalesces) a C handler has counted: golat attach must lose none
//	GET /*      a little work (main.work), then "ok"
//
// SVC_NODUMP=1 makes it non-dumpable (prctl PR_SET_DUMPABLE 0): only CAP_SYS_PTRACE
// may then ptrace it, as for a program that changed its credentials.
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

type svc struct {
	served int64
	quit   chan struct{}
}

func (s *svc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/count":
		fmt.Fprintf(w, "%d\n", atomic.LoadInt64(&s.served))
	case "/rt":
		fmt.Fprintf(w, "%d\n", rtGot())
	case "/quit":
		fmt.Fprintln(w, "bye")
		close(s.quit)
	default:
		fmt.Fprintf(w, "ok %s\n", work(len(r.URL.Path)))
		atomic.AddInt64(&s.served, 1)
	}
}

//go:noinline
func work(n int) string {
	b := make([]byte, 0, 32)
	for i := 0; i < 200; i++ {
		b = strconv.AppendInt(b[:0], int64(n*31+i), 10)
	}
	return string(b)
}

func main() {
	rtInstall()
	if os.Getenv("SVC_NODUMP") == "1" {
		noDump()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	s := &svc{quit: make(chan struct{})}
	srv := &http.Server{Handler: s}
	fmt.Println(ln.Addr().String())
	go srv.Serve(ln)
	<-s.quit
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "shutdown:", err)
		os.Exit(1)
	}
}

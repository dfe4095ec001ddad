// ssvc: tests/attach/svc without cgo, for a statically linked service in a scratch
// image (CGO_ENABLED=0): the same address on stdout, the same paths (/count, /quit,
// anything else does main.work), the same names to hook (main.(*svc).ServeHTTP,
// main.work), so that tests/attach/load and the same specs drive both.
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

// The golat demo service: a small cgo-linked HTTP service whose handlers have
// different latency profiles, so that a latency report has something to say.
//
//	GET  /items/{id}   read from an in-memory store under a lock (fast)
//	PUT  /items/{id}   write to the store, checksum computed in C (cgo)
//	GET  /search?q=    scan and JSON-encode matches (CPU-bound, grows with the store)
//	GET  /report       call a slow "backend" (sleeps 2-20 ms)
//
// Flags: -addr (default 127.0.0.1:8088), -for (exit after this long; 0 = run until
// killed), -seed (items preloaded).
package main

/*
#include <stdint.h>
#include <stddef.h>

// FNV-1a over the payload: the C side of a write.
static uint64_t checksum(const char *p, size_t n) {
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) { h ^= (unsigned char)p[i]; h *= 1099511628211ull; }
	return h;
}
*/
import "C"

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
	"unsafe"
)

type item struct {
	ID       string    `json:"id"`
	Body     string    `json:"body"`
	Checksum uint64    `json:"checksum"`
	Updated  time.Time `json:"updated"`
}

type store struct {
	mu    sync.RWMutex
	items map[string]item
}

func (s *store) get(id string) (item, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	it, ok := s.items[id]
	return it, ok
}

func (s *store) put(it item) {
	s.mu.Lock()
	s.items[it.ID] = it
	s.mu.Unlock()
}

func (s *store) search(q string) []item {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []item
	for _, it := range s.items {
		if strings.Contains(it.Body, q) {
			out = append(out, it)
		}
	}
	return out
}

// checksum is kept out of line so that its cgo call is a function of its own.
//
//go:noinline
func checksum(b []byte) uint64 {
	if len(b) == 0 {
		return 0
	}
	return uint64(C.checksum((*C.char)(unsafe.Pointer(&b[0])), C.size_t(len(b))))
}

type server struct{ db *store }

func (sv *server) handleItem(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/items/")
	switch r.Method {
	case http.MethodGet:
		it, ok := sv.db.get(id)
		if !ok {
			http.NotFound(w, r)
			return
		}
		writeJSON(w, it)
	case http.MethodPut:
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		it := item{ID: id, Body: string(body), Checksum: checksum(body), Updated: time.Now()}
		sv.db.put(it)
		writeJSON(w, it)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (sv *server) handleSearch(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, sv.db.search(r.URL.Query().Get("q")))
}

// slowBackend stands for a call to another service.
func slowBackend() time.Duration {
	d := time.Duration(2+rand.Intn(19)) * time.Millisecond
	time.Sleep(d)
	return d
}

func (sv *server) handleReport(w http.ResponseWriter, r *http.Request) {
	d := slowBackend()
	writeJSON(w, map[string]any{"backend_ms": d.Milliseconds(), "items": len(sv.db.items)})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		log.Printf("encode: %v", err)
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8088", "listen address")
	runFor := flag.Duration("for", 0, "exit after this long (0: run until killed)")
	seed := flag.Int("seed", 2000, "items preloaded into the store")
	flag.Parse()

	sv := &server{db: &store{items: make(map[string]item)}}
	for i := 0; i < *seed; i++ {
		body := []byte(fmt.Sprintf("item %d colour %s", i, []string{"red", "green", "blue"}[i%3]))
		sv.db.put(item{ID: fmt.Sprint(i), Body: string(body), Checksum: checksum(body), Updated: time.Now()})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/items/", sv.handleItem)
	mux.HandleFunc("/search", sv.handleSearch)
	mux.HandleFunc("/report", sv.handleReport)
	srv := &http.Server{Addr: *addr, Handler: mux}
	if *runFor > 0 {
		time.AfterFunc(*runFor, func() { os.Exit(0) })
	}
	log.Printf("demo service on %s", *addr)
	log.Fatal(srv.ListenAndServe())
}

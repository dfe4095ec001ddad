// A cgo program that exercises what patched windows must survive: stack growth
// through morestack (re-entry at the entry window), nil dereferences in leaf
// getters recovered as panics, panics unwinding through many frames, goroutines,
// channels, the GC, jump-table switches, and the standard library's http, json,
// fmt, regexp, sort and strconv. Its output is deterministic: selfpatch.sh runs it
// with every function patched and compares.
package main

// #include <stdlib.h>
import "C"

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
)

type point struct{ X, Y int }

//go:noinline
func (p *point) getY() int { return p.Y }

//go:noinline
func (p *point) isOrigin() bool { return p.X == 0 && p.Y == 0 }

// deep grows the goroutine stack many times: every growth jumps back to the
// entry through runtime.morestack.
//
//go:noinline
func deep(n int) int {
	var buf [200]byte
	buf[n%200] = byte(n)
	if n == 0 {
		return 0
	}
	return deep(n-1) + int(buf[n%200]&1)
}

// nilGet recovers the nil dereference of a frameless getter.
func nilGet() (s string) {
	defer func() { s = fmt.Sprint("recovered: ", recover()) }()
	var p *point
	return strconv.Itoa(p.getY())
}

//go:noinline
func kind(v int) string {
	switch v {
	case 0:
		return "zero"
	case 1:
		return "one"
	case 2:
		return "two"
	case 3:
		return "three"
	case 4:
		return "four"
	case 5:
		return "five"
	case 6:
		return "six"
	case 7:
		return "seven"
	case 8:
		return "eight"
	case 9:
		return "nine"
	}
	return "many"
}

var errDeep = errors.New("deep error")

//go:noinline
func unwind(n int) int {
	if n == 0 {
		panic(errDeep)
	}
	defer func() {}()
	return unwind(n-1) + 1
}

func catch() (err error) {
	defer func() { err = recover().(error) }()
	unwind(50)
	return nil
}

type payload struct {
	Name  string            `json:"name"`
	Items []int             `json:"items"`
	Tags  map[string]string `json:"tags"`
}

func main() {
	C.free(C.malloc(16))
	fmt.Println("deep:", deep(20000))
	fmt.Println(nilGet())
	fmt.Println("origin:", (&point{}).isOrigin(), (&point{1, 2}).getY())
	for i := 0; i < 12; i++ {
		fmt.Print(kind(i), " ")
	}
	fmt.Println()
	fmt.Println("unwind:", catch())

	var wg sync.WaitGroup
	var mu sync.Mutex
	sums := make([]int, 0, 8)
	ch := make(chan int)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			s := deep(1000 + g)
			for v := range ch {
				s += v
			}
			mu.Lock()
			sums = append(sums, s)
			mu.Unlock()
		}(g)
	}
	for i := 0; i < 1000; i++ {
		ch <- i
		if i%100 == 0 {
			runtime.GC()
		}
	}
	close(ch)
	wg.Wait()
	total := 0
	for _, s := range sums {
		total += s
	}
	fmt.Println("goroutines:", len(sums), total)

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p payload
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		sort.Ints(p.Items)
		p.Name = strings.ToUpper(p.Name)
		json.NewEncoder(w).Encode(p)
	}))
	defer srv.Close()
	for i := 0; i < 20; i++ {
		body := fmt.Sprintf(`{"name":"req%d","items":[%d,3,1,2],"tags":{"k":"v%d"}}`, i, 10-i, i)
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader(body))
		if err != nil {
			panic(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if i%5 == 0 {
			fmt.Print(string(b))
		}
	}
	re := regexp.MustCompile(`(\w+)@(\w+)\.com`)
	fmt.Println(re.FindAllStringSubmatch("a@b.com, c@d.com x@y.org", -1))
	f, _ := strconv.ParseFloat("3.25e2", 64)
	fmt.Println(strconv.FormatFloat(f, 'g', -1, 64), strconv.Quote("héllo\n"))
}

// The demo's load driver: a fixed number of workers send a mix of requests to the
// demo service for a fixed time, then print what they sent and how it went.
package main

import (
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8088", "service base URL")
	dur := flag.Duration("for", 10*time.Second, "how long to send load")
	workers := flag.Int("c", 8, "concurrent workers")
	flag.Parse()

	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *workers}}
	var sent, failed atomic.Int64
	deadline := time.Now().Add(*dur)
	var wg sync.WaitGroup
	for w := 0; w < *workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(w)))
			for time.Now().Before(deadline) {
				if err := one(client, *base, rng); err != nil {
					failed.Add(1)
				}
				sent.Add(1)
			}
		}(w)
	}
	wg.Wait()
	fmt.Printf("load: %d requests in %v from %d workers, %d failed\n", sent.Load(), *dur, *workers, failed.Load())
	if failed.Load() > sent.Load()/10 {
		os.Exit(1)
	}
}

// one sends a request drawn from the mix: mostly reads, some writes, searches, reports.
func one(c *http.Client, base string, rng *rand.Rand) error {
	var req *http.Request
	switch n := rng.Intn(100); {
	case n < 60:
		req, _ = http.NewRequest(http.MethodGet, fmt.Sprintf("%s/items/%d", base, rng.Intn(2000)), nil)
	case n < 85:
		body := strings.NewReader(fmt.Sprintf("item %d colour %s", rng.Intn(1e6), []string{"red", "teal"}[n%2]))
		req, _ = http.NewRequest(http.MethodPut, fmt.Sprintf("%s/items/%d", base, rng.Intn(4000)), body)
	case n < 95:
		req, _ = http.NewRequest(http.MethodGet, base+"/search?q=teal", nil)
	default:
		req, _ = http.NewRequest(http.MethodGet, base+"/report", nil)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode >= 500 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return err
}

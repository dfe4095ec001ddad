// load: keeps a server busy while golat attaches and detaches — C goroutines each
// sending GET URL, one after another with a pause of P ms, until the file STOP
// exists. Prints "sent N failed M" and exits 1 when any request failed.
//
//	load URL C P STOP
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	url, stop := os.Args[1], os.Args[4]
	conc, _ := strconv.Atoi(os.Args[2])
	pause, _ := strconv.Atoi(os.Args[3])
	client := &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	var sent, failed int64
	var done int32
	var first sync.Once
	go func() {
		for {
			if _, err := os.Stat(stop); err == nil {
				atomic.StoreInt32(&done, 1)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	var wg sync.WaitGroup
	for i := 0; i < conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for atomic.LoadInt32(&done) == 0 {
				atomic.AddInt64(&sent, 1)
				resp, err := client.Get(url)
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					atomic.AddInt64(&failed, 1)
					first.Do(func() { fmt.Fprintln(os.Stderr, "first failure:", err) })
				}
				time.Sleep(time.Duration(pause) * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	fmt.Printf("sent %d failed %d\n", sent, failed)
	if failed != 0 {
		os.Exit(1)
	}
}

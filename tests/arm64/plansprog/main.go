// A pure Go program of ordinary Go for the arm64 hook-site coverage (plans.sh): net/http,
// encoding/json, fmt, regexp, compress/gzip and crypto/sha256 bring in the standard
// library's usual mix of functions, assembly among them. Built with CGO_ENABLED=0
// GOARCH=arm64, never run here.
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
)

type item struct {
	Path  string
	Count int
}

// handler answers with the request's path as JSON.
func handler(w http.ResponseWriter, r *http.Request) {
	json.NewEncoder(w).Encode(item{r.URL.Path, len(r.Header)})
}

func main() {
	rec := httptest.NewRecorder()
	handler(rec, httptest.NewRequest("GET", "/items/7", nil))
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(rec.Body.Bytes())
	zw.Close()
	id := regexp.MustCompile(`/items/(\d+)`).FindStringSubmatch(rec.Body.String())
	fmt.Println(id, zipped.Len(), sha256.Sum256(rec.Body.Bytes()))
	go http.ListenAndServe("127.0.0.1:0", http.HandlerFunc(handler))
}

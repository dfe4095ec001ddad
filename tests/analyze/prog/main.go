// A cgo program of ordinary Go, for the analyzer's coverage: net/http, fmt and
// encoding/json bring in the standard library's usual mix of functions.
package main

// #include <stdlib.h>
import "C"

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
)

type reply struct {
	A int
	B string
}

func main() {
	C.free(C.malloc(1))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(reply{1, r.URL.Path})
	}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/x")
	if err != nil {
		panic(err)
	}
	b, _ := io.ReadAll(resp.Body)
	fmt.Print(string(b))
}

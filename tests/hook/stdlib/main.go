// A program that uses fmt, strconv, sort and encoding/json broadly and serves and
// fetches ~200 HTTP requests over 127.0.0.1, printing only deterministic results, so
// that hooking whole standard packages (stdlib.sh) can be checked to change nothing.
package main

import "C" // a cgo program: dynamically linked, so LD_PRELOAD reaches it

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ---- fmt ----------------------------------------------------------------------

type point struct {
	X, Y int
	Tag  string
}

func (p point) String() string { return fmt.Sprintf("(%d,%d)%s", p.X, p.Y, p.Tag) }

type hexer uint32

func (h hexer) Format(f fmt.State, verb rune) {
	w, ok := f.Width()
	if !ok {
		w = 8
	}
	fmt.Fprintf(f, "%0*x/%c", w, uint32(h), verb)
}

var errBase = errors.New("base failure")

// Verbs fmt must complain about (a variable, so that vet lets it be).
var badVerbs = "%!|%d|%s|%p\n"

func fmts() {
	var b bytes.Buffer
	p := point{3, -4, "a"}
	fmt.Fprintf(&b, "%v|%+v|%#v|%s|%q|%T\n", p, struct{ A int }{1}, []int{1, 2}, p, "quote\"me", p)
	fmt.Fprintf(&b, "%d|%5d|%-5d|%05d|%x|%X|%o|%b|%c|%U\n", 42, 42, 42, -42, 255, 255, 8, 5, 'é', 'é')
	fmt.Fprintf(&b, "%f|%.2f|%8.3f|%e|%E|%g|%G|%.3g\n", 3.14159, 2.0/3, -1.5, 123456.789, 1e-7, 1e21, 2.5e-10, 1234.5678)
	fmt.Fprintf(&b, "%t|%v|%s|%v|%x\n", true, nil, []string{"x", "y"}, map[string]int{"b": 2, "a": 1}, "hi")
	fmt.Fprintf(&b, "%v|%6v|%-6v|%v\n", hexer(0xbeef), hexer(1), hexer(2), []interface{}{1, "s", 2.5, nil, p})
	fmt.Fprintf(&b, badVerbs, "extra", "wrong", nil)
	err := fmt.Errorf("wrapped %d: %w", 7, errBase)
	fmt.Fprintln(&b, err, errors.Is(err, errBase), errors.Unwrap(err) == errBase)
	var x, y int
	var s string
	n, serr := fmt.Sscanf("12 34 word", "%d %d %s", &x, &y, &s)
	fmt.Fprintln(&b, n, serr, x+y, s)
	n, serr = fmt.Sscan("5 6.5 true", &x, new(float64), new(bool))
	fmt.Fprintln(&b, n, serr, x)
	fmt.Fprint(&b, "a", 1, 2, "b", 3.5, "\n")
	out := b.String()
	fmt.Printf("fmt: %d bytes crc %08x\n%s", len(out), crc32.ChecksumIEEE([]byte(out)), out)
}

// ---- strconv --------------------------------------------------------------------

func strconvs() {
	var parts []string
	for _, v := range []int64{0, 1, -1, 42, -9999, 1 << 40, -1 << 63} {
		for _, base := range []int{2, 8, 10, 16, 36} {
			s := strconv.FormatInt(v, base)
			back, err := strconv.ParseInt(s, base, 64)
			if err != nil || back != v {
				parts = append(parts, "BAD:"+s)
			}
			parts = append(parts, s)
		}
	}
	for _, f := range []float64{0, 1, -2.5, 3.141592653589793, 1e-9, 6.02214076e23, 1.0 / 3} {
		for _, fm := range []byte{'e', 'f', 'g'} {
			for _, prec := range []int{-1, 0, 3} {
				s := strconv.FormatFloat(f, fm, prec, 64)
				parts = append(parts, s)
				if _, err := strconv.ParseFloat(s, 64); err != nil {
					parts = append(parts, "BAD:"+s)
				}
			}
		}
	}
	for _, s := range []string{"123", "-0", "99999999999999999999", "0x1f", "abc", "", "1_000"} {
		i, err := strconv.Atoi(s)
		parts = append(parts, fmt.Sprint(i, err))
		j, err := strconv.ParseInt(s, 0, 64)
		parts = append(parts, fmt.Sprint(j, err))
	}
	for _, s := range []string{"hello", "tab\there", "ünïcode", "\x00\xff", `back\slash"`} {
		q := strconv.Quote(s)
		u, err := strconv.Unquote(q)
		parts = append(parts, q, strconv.QuoteToASCII(s), fmt.Sprint(u == s, err))
	}
	for _, s := range []string{"true", "F", "1", "yes"} {
		bv, err := strconv.ParseBool(s)
		parts = append(parts, fmt.Sprint(bv, err))
	}
	buf := strconv.AppendInt(nil, -12345, 10)
	buf = strconv.AppendQuoteRune(buf, '☺')
	buf = strconv.AppendFloat(buf, 1.5, 'g', -1, 32)
	buf = strconv.AppendBool(buf, false)
	parts = append(parts, string(buf), strconv.Itoa(len(parts)))
	u, err := strconv.ParseUint("18446744073709551615", 10, 64)
	parts = append(parts, strconv.FormatUint(u, 16), fmt.Sprint(err))
	all := strings.Join(parts, " ")
	fmt.Printf("strconv: %d items crc %08x\n%s\n", len(parts), crc32.ChecksumIEEE([]byte(all)), all)
}

// ---- sort -----------------------------------------------------------------------

type byLen []string

func (b byLen) Len() int           { return len(b) }
func (b byLen) Less(i, j int) bool { return len(b[i]) < len(b[j]) }
func (b byLen) Swap(i, j int)      { b[i], b[j] = b[j], b[i] }

func sorts() {
	rng := uint32(12345)
	next := func() int { rng = rng*1103515245 + 12345; return int(rng>>8) % 1000 }
	ints := make([]int, 500)
	for i := range ints {
		ints[i] = next()
	}
	sort.Ints(ints)
	strs := []string{"pear", "fig", "banana", "kiwi", "apple", "date", "cherry", "plum", "lime", "grape"}
	sorted := append([]string(nil), strs...)
	sort.Strings(sorted)
	stable := append([]string(nil), strs...)
	sort.Stable(byLen(stable))
	rev := append([]int(nil), ints[:20]...)
	sort.Sort(sort.Reverse(sort.IntSlice(rev)))
	type kv struct {
		k string
		v int
	}
	kvs := make([]kv, 200)
	for i := range kvs {
		kvs[i] = kv{strconv.Itoa(next() % 17), i}
	}
	sort.SliceStable(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
	fl := []float64{2.5, -1, 3.25, 0, 1e9, -7.5}
	sort.Float64s(fl)
	sort.Slice(fl, func(i, j int) bool { return fl[i] > fl[j] })
	idx := sort.SearchInts(ints, 500)
	found := sort.Search(len(sorted), func(i int) bool { return sorted[i] >= "kiwi" })
	sum := 0
	for i, kv := range kvs {
		sum += (i + 1) * kv.v
	}
	fmt.Printf("sort: %v %v %d %v %v %v %d %d %d %v %v\n", ints[:8], ints[len(ints)-4:], idx,
		sorted, stable, rev[:5], found, sum, len(kvs), fl, sort.IntsAreSorted(ints))
}

// ---- encoding/json ------------------------------------------------------------------

type Address struct {
	Street string `json:"street"`
	City   string `json:"city,omitempty"`
}

type Base struct {
	ID      int       `json:"id"`
	Created time.Time `json:"created"`
}

type Money int64 // cents, as "12.34"

func (m Money) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf(`"%d.%02d"`, m/100, m%100)), nil
}

func (m *Money) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	parts := strings.SplitN(s, ".", 2)
	whole, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return err
	}
	var cents int64
	if len(parts) == 2 {
		if cents, err = strconv.ParseInt(parts[1], 10, 64); err != nil {
			return err
		}
	}
	*m = Money(whole*100 + cents)
	return nil
}

type Person struct {
	Base
	Name     string            `json:"name"`
	Age      int               `json:"age,omitempty"`
	Emails   []string          `json:"emails"`
	Addr     *Address          `json:"addr,omitempty"`
	Tags     map[string]int    `json:"tags"`
	Balance  Money             `json:"balance"`
	Extra    json.RawMessage   `json:"extra,omitempty"`
	Score    float64           `json:"score,string"`
	Private  string            `json:"-"`
	Note     interface{}       `json:"note"`
	Attrs    map[string]string `json:"attrs,omitempty"`
	Children []Person          `json:"children,omitempty"`
}

func jsons() {
	when := time.Date(2024, 2, 29, 12, 30, 0, 0, time.UTC)
	p := Person{
		Base: Base{ID: 7, Created: when}, Name: "Ada <Lovelace> & co", Age: 36,
		Emails: []string{"ada@example.com"}, Addr: &Address{Street: "1 Loop St"},
		Tags: map[string]int{"z": 26, "a": 1, "m": 13}, Balance: 123456,
		Extra: json.RawMessage(`{"raw":[1,2,3]}`), Score: 9.75, Private: "hidden",
		Note:     map[string]interface{}{"k": []interface{}{1.5, "two", nil, true}},
		Children: []Person{{Name: "kid", Emails: nil, Tags: nil, Balance: 5}},
	}
	var out strings.Builder
	b, err := json.Marshal(p)
	fmt.Fprintf(&out, "marshal %v %s\n", err, b)
	ind, _ := json.MarshalIndent(map[string]interface{}{"b": []int{1, 2}, "a": "x"}, ">", "  ")
	fmt.Fprintf(&out, "indent %s\n", ind)
	var q Person
	err = json.Unmarshal(b, &q)
	fmt.Fprintf(&out, "unmarshal %v %s %d %v %v %s %v %v\n", err, q.Name, q.Balance, q.Created.Equal(when),
		q.Tags, q.Extra, q.Score, q.Note)
	var any interface{}
	err = json.Unmarshal([]byte(`{"n":1e3,"s":"\u00e9\n","a":[{},[],null,false],"big":12345678901234567890}`), &any)
	fmt.Fprintf(&out, "any %v %v\n", err, any)
	dec := json.NewDecoder(strings.NewReader(`{"a":[1,"x",{"b":null}],"c":2.5} [3] "tail"`))
	dec.UseNumber()
	var toks []string
	for {
		t, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			toks = append(toks, "ERR:"+err.Error())
			break
		}
		toks = append(toks, fmt.Sprintf("%T:%v", t, t))
	}
	fmt.Fprintf(&out, "tokens %s\n", strings.Join(toks, " "))
	for _, bad := range []string{`{"name": 5}`, `{"age": "x"}`, `{"balance": "1.x"}`, `{`, `[1,2,]`, `{"emails":{}}`} {
		var v Person
		err := json.Unmarshal([]byte(bad), &v)
		fmt.Fprintf(&out, "bad %q: %v\n", bad, err)
	}
	var enc bytes.Buffer
	e := json.NewEncoder(&enc)
	e.SetEscapeHTML(false)
	e.SetIndent("", " ")
	e.Encode(map[string]string{"html": "<b>&</b>"})
	fmt.Fprintf(&out, "encoder %s", enc.String())
	var compact bytes.Buffer
	json.Compact(&compact, []byte("{ \"a\" : [ 1 , 2 ] }"))
	var indented bytes.Buffer
	json.Indent(&indented, compact.Bytes(), "", "\t")
	fmt.Fprintf(&out, "compact %s %s valid %v %v\n", compact.String(), strconv.Quote(indented.String()),
		json.Valid(compact.Bytes()), json.Valid([]byte("{")))
	var nums []json.Number
	d2 := json.NewDecoder(strings.NewReader(`[1, 2.50, -3e2]`))
	d2.UseNumber()
	d2.Decode(&nums)
	f, _ := nums[1].Float64()
	i, ierr := nums[2].Int64()
	fmt.Fprintf(&out, "numbers %v %v %v %v\n", nums, f, i, ierr != nil)
	s := out.String()
	fmt.Printf("json: %d bytes crc %08x\n%s", len(s), crc32.ChecksumIEEE([]byte(s)), s)
}

// ---- net/http ---------------------------------------------------------------------

type echoReq struct {
	ID    int      `json:"id"`
	Words []string `json:"words"`
}

type echoResp struct {
	ID     int    `json:"id"`
	Joined string `json:"joined"`
	Len    int    `json:"len"`
}

func server() (*http.Server, string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		var req echoReq
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		j := strings.Join(req.Words, "-")
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(echoResp{req.ID, j, len(j)})
	})
	mux.HandleFunc("/sum", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil {
			http.Error(w, "bad n", http.StatusBadRequest)
			return
		}
		s := 0
		for i := 1; i <= n; i++ {
			s += i
		}
		fmt.Fprintf(w, "%d", s)
	})
	mux.HandleFunc("/status/", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/status/"))
		w.Header().Set("X-Code", strconv.Itoa(code))
		w.WriteHeader(code)
		io.WriteString(w, http.StatusText(code))
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(2 * time.Millisecond)
		w.Write(bytes.Repeat([]byte("z"), 64<<10)) // several writes' worth
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return srv, "http://" + ln.Addr().String()
}

type tally struct {
	mu     sync.Mutex
	codes  map[int]int
	bodies uint32 // xor of the bodies' crcs: order does not matter
	sum    int
	errs   int
}

func (t *tally) add(code int, body []byte, n int) {
	t.mu.Lock()
	t.codes[code]++
	t.bodies ^= crc32.ChecksumIEEE(body)
	t.sum += n
	t.mu.Unlock()
}

func clientRun(c *http.Client, base string, w int, t *tally) {
	for i := 0; i < 50; i++ {
		k := w*50 + i
		var resp *http.Response
		var err error
		switch k % 5 {
		case 0:
			body, _ := json.Marshal(echoReq{k, []string{"w" + strconv.Itoa(w), "i" + strconv.Itoa(i), "x"}})
			resp, err = c.Post(base+"/echo", "application/json", bytes.NewReader(body))
		case 1:
			resp, err = c.Get(base + "/sum?n=" + strconv.Itoa(k))
		case 2:
			resp, err = c.Get(base + "/status/" + []string{"200", "201", "404", "418", "503"}[k%25/5])
		case 3:
			resp, err = c.Get(base + "/slow")
		case 4:
			req, _ := http.NewRequest(http.MethodPut, base+"/echo", strings.NewReader("{}"))
			req.Header.Set("X-Worker", strconv.Itoa(w))
			resp, err = c.Do(req)
		}
		if err != nil {
			t.mu.Lock()
			t.errs++
			t.mu.Unlock()
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		n := 0
		if k%5 == 0 {
			var er echoResp
			if json.Unmarshal(b, &er) == nil {
				n = er.Len + er.ID
			}
		} else if k%5 == 1 {
			n, _ = strconv.Atoi(string(b))
		}
		t.add(resp.StatusCode, b, n)
	}
}

func https() {
	srv, base := server()
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	t := &tally{codes: map[int]int{}}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) { defer wg.Done(); clientRun(c, base, w, t) }(w)
	}
	wg.Wait()
	c.CloseIdleConnections()
	serr := srv.Close()
	var codes []string
	total := 0
	for code, n := range t.codes {
		codes = append(codes, fmt.Sprintf("%d×%d", code, n))
		total += n
	}
	sort.Strings(codes)
	fmt.Printf("http: %d requests, %d errors, codes %s, sum %d, bodies %08x, close %v\n",
		total, t.errs, strings.Join(codes, " "), t.sum, t.bodies, serr)
}

func main() {
	fmts()
	strconvs()
	sorts()
	jsons()
	https()
}

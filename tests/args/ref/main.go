// argsref: what Go's own debug/dwarf says of the parameters of every function of a
// binary, for tests/args to compare lib/reader/dwarf_args.c's walk with:
//
//	argsref EXE
//
// prints, per DW_TAG_subprogram with a low_pc, sorted by it,
// "0xENTRY NAME: [-> ]PARAM TYPE ..." with the parameters right under it, through
// DW_AT_abstract_origin, the dictionary (.dict) left out, a generic function's local
// .paramN typedef named by its shape, as args_test --names prints them.
package main

import (
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"os"
	"sort"
	"strings"
)

type fn struct {
	entry uint64
	line  string
}

func main() {
	f, err := elf.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	d, err := f.DWARF()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var fns []fn
	seen := map[uint64]bool{}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if e == nil {
			break
		}
		if e.Tag != dwarf.TagSubprogram {
			continue
		}
		low, ok := e.Val(dwarf.AttrLowpc).(uint64)
		if !ok || !e.Children || seen[low] {
			if e.Children {
				r.SkipChildren()
			}
			continue
		}
		seen[low] = true
		fns = append(fns, fn{low, describe(d, r, e)})
	}
	sort.Slice(fns, func(i, j int) bool { return fns[i].entry < fns[j].entry })
	for _, f := range fns {
		fmt.Printf("%#x %s\n", f.entry, f.line)
	}
}

// origin returns the entry e's DW_AT_abstract_origin names, or e.
func origin(d *dwarf.Data, e *dwarf.Entry) *dwarf.Entry {
	off, ok := e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset)
	if !ok {
		return e
	}
	r := d.Reader()
	r.Seek(off)
	o, err := r.Next()
	if err != nil || o == nil {
		return e
	}
	return o
}

func attr(e, o *dwarf.Entry, a dwarf.Attr) interface{} {
	if v := e.Val(a); v != nil {
		return v
	}
	return o.Val(a)
}

// typeName is the DW_AT_name of the type DIE at off; for a .paramN typedef, its target's.
func typeName(d *dwarf.Data, off dwarf.Offset) string {
	for hop := 0; hop < 4; hop++ {
		r := d.Reader()
		r.Seek(off)
		t, err := r.Next()
		if err != nil || t == nil {
			return "?"
		}
		name, _ := t.Val(dwarf.AttrName).(string)
		next, ok := t.Val(dwarf.AttrType).(dwarf.Offset)
		if !strings.HasPrefix(name, ".param") || !ok {
			return name
		}
		off = next
	}
	return "?"
}

func describe(d *dwarf.Data, r *dwarf.Reader, e *dwarf.Entry) string {
	name, _ := attr(e, origin(d, e), dwarf.AttrName).(string)
	var b strings.Builder
	b.WriteString(name + ":")
	depth := 1
	for depth > 0 {
		c, err := r.Next()
		if err != nil || c == nil {
			break
		}
		if c.Tag == 0 {
			depth--
			continue
		}
		if depth == 1 && c.Tag == dwarf.TagFormalParameter {
			o := origin(d, c)
			pname, _ := attr(c, o, dwarf.AttrName).(string)
			typ, _ := attr(c, o, dwarf.AttrType).(dwarf.Offset)
			result, _ := attr(c, o, dwarf.AttrVarParam).(bool)
			if pname != ".dict" {
				arrow := ""
				if result {
					arrow = "-> "
				}
				fmt.Fprintf(&b, " %s%s %s", arrow, pname, typeName(d, typ))
			}
		}
		if c.Children {
			depth++
		}
	}
	return b.String()
}

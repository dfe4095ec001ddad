// dwarfref prints, with Go's own debug/elf and debug/dwarf, the offsets that golat's
// lib/dwarf.c must find: the reference for tests/dwarf/run.sh.
//
// Usage: dwarfref BINARY TYPE MEMBER [TYPE MEMBER...]
// Prints "TYPE MEMBER OFFSET" per pair (MEMBER may be a dotted path through nested
// structs), or "TYPE MEMBER ENOENT" when there is no such type or member. A first
// line "# dwarf-versions N..." lists the unit versions, read from the unit headers.
package main

import (
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"sort"
	"strings"
)

func main() {
	if len(os.Args) < 4 || len(os.Args)%2 != 0 {
		fmt.Fprintln(os.Stderr, "usage: dwarfref BINARY TYPE MEMBER [TYPE MEMBER...]")
		os.Exit(2)
	}
	f, err := elf.Open(os.Args[1])
	check(err)
	d, err := f.DWARF()
	check(err)
	fmt.Println("# dwarf-versions", versions(f))
	for i := 2; i+1 < len(os.Args); i += 2 {
		typ, member := os.Args[i], os.Args[i+1]
		if off, ok := lookup(d, typ, member); ok {
			fmt.Println(typ, member, off)
		} else {
			fmt.Println(typ, member, "ENOENT")
		}
	}
}

// lookup finds the first defining struct named typ, then walks the dotted member
// path through nested structs (typedefs and qualifiers followed, pointers not).
func lookup(d *dwarf.Data, typ, member string) (int64, bool) {
	r := d.Reader()
	for {
		e, err := r.Next()
		check(err)
		if e == nil {
			return 0, false
		}
		if e.Tag != dwarf.TagStructType || e.Val(dwarf.AttrName) != typ || e.Val(dwarf.AttrDeclaration) == true {
			continue
		}
		t, err := d.Type(e.Offset)
		check(err)
		var off int64
		for _, name := range strings.Split(member, ".") {
			st, ok := underlying(t).(*dwarf.StructType)
			if !ok {
				return 0, false
			}
			var field *dwarf.StructField
			for _, fl := range st.Field {
				if fl.Name == name {
					field = fl
					break
				}
			}
			if field == nil {
				return 0, false
			}
			off += field.ByteOffset
			t = field.Type
		}
		return off, true
	}
}

func underlying(t dwarf.Type) dwarf.Type {
	for {
		switch u := t.(type) {
		case *dwarf.TypedefType:
			t = u.Type
		case *dwarf.QualType:
			t = u.Type
		default:
			return t
		}
	}
}

// versions lists the distinct DWARF versions of the units in .debug_info.
func versions(f *elf.File) string {
	s := f.Section(".debug_info")
	if s == nil {
		return "none"
	}
	b, err := s.Data() // decompressed
	check(err)
	seen := map[uint16]bool{}
	for len(b) >= 6 {
		n, hdr := uint64(binary.LittleEndian.Uint32(b)), 4
		if n == 0xffffffff {
			n, hdr = binary.LittleEndian.Uint64(b[4:]), 12
		}
		if uint64(len(b)) < uint64(hdr)+n || n < 2 {
			break
		}
		seen[binary.LittleEndian.Uint16(b[hdr:])] = true
		b = b[uint64(hdr)+n:]
	}
	var vs []string
	for v := range seen {
		vs = append(vs, fmt.Sprint(v))
	}
	sort.Strings(vs)
	return strings.Join(vs, " ")
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "dwarfref:", err)
		os.Exit(2)
	}
}

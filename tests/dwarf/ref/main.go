// dwarfref prints, with Go's own debug/elf and debug/dwarf, the offsets that golat's
// lib/reader/dwarf.c must find: the reference for tests/dwarf/run.sh.
//
// Usage: dwarfref BINARY TYPE MEMBER [TYPE MEMBER...]
// Prints "TYPE MEMBER OFFSET" per pair (MEMBER may be a dotted path through nested
// structs), or "TYPE MEMBER ENOENT" when there is no such type or member. A first
// line "# dwarf N (units: N...)" gives the version of the unit that defines
// runtime.g and of all units (a cgo binary also holds the C compiler's).
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
	g, _ := structOffset(d, "runtime.g")
	fmt.Println("# dwarf", versions(f, g))
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
	at, ok := structOffset(d, typ)
	if !ok {
		return 0, false
	}
	t, err := d.Type(at)
	check(err)
	{
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

// structOffset is the .debug_info offset of the first defining struct named typ.
func structOffset(d *dwarf.Data, typ string) (dwarf.Offset, bool) {
	r := d.Reader()
	for {
		e, err := r.Next()
		check(err)
		if e == nil {
			return 0, false
		}
		if e.Tag == dwarf.TagStructType && e.Val(dwarf.AttrName) == typ && e.Val(dwarf.AttrDeclaration) != true {
			return e.Offset, true
		}
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

// versions reads the unit headers of .debug_info: the version of the unit holding
// offset at, then the distinct versions of all units.
func versions(f *elf.File, at dwarf.Offset) string {
	b, err := f.Section(".debug_info").Data() // decompressed
	check(err)
	seen, atVersion := map[uint16]bool{}, "none"
	for pos := uint64(0); pos+6 <= uint64(len(b)); {
		n, hdr := uint64(binary.LittleEndian.Uint32(b[pos:])), uint64(4)
		if n == 0xffffffff {
			n, hdr = binary.LittleEndian.Uint64(b[pos+4:]), 12
		}
		if uint64(len(b))-pos < hdr+n || n < 2 {
			break
		}
		v := binary.LittleEndian.Uint16(b[pos+hdr:])
		seen[v] = true
		if uint64(at) >= pos && uint64(at) < pos+hdr+n {
			atVersion = fmt.Sprint(v)
		}
		pos += hdr + n
	}
	var vs []string
	for v := range seen {
		vs = append(vs, fmt.Sprint(v))
	}
	sort.Strings(vs)
	return atVersion + " (units: " + strings.Join(vs, " ") + ")"
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "dwarfref:", err)
		os.Exit(2)
	}
}

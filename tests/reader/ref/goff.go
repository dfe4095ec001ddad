package main

import (
	"debug/dwarf"
	"debug/elf"
	"errors"
	"fmt"
)

// gOffsets reads the offsets of runtime.g's fields that golat's recorder uses from the
// DWARF type of runtime.g (stack.lo, stack.hi, stackguard0, m, goid).
func gOffsets(f *elf.File) (*jsonGoff, error) {
	d, err := f.DWARF()
	if err != nil {
		return nil, fmt.Errorf("DWARF: %w", err)
	}
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("DWARF: %w", err)
		}
		if e == nil {
			return nil, errors.New("DWARF has no runtime.g")
		}
		if e.Tag != dwarf.TagStructType || e.Val(dwarf.AttrName) != "runtime.g" {
			if e.Tag != dwarf.TagCompileUnit {
				r.SkipChildren()
			}
			continue
		}
		t, err := d.Type(e.Offset)
		if err != nil {
			return nil, err
		}
		return gFields(t)
	}
}

func gFields(t dwarf.Type) (*jsonGoff, error) {
	st, ok := unTypedef(t).(*dwarf.StructType)
	if !ok {
		return nil, fmt.Errorf("runtime.g is a %T", t)
	}
	field := func(st *dwarf.StructType, name string) (*dwarf.StructField, error) {
		for _, f := range st.Field {
			if f.Name == name {
				return f, nil
			}
		}
		return nil, fmt.Errorf("%s has no field %s", st.StructName, name)
	}
	out := &jsonGoff{Source: "dwarf"}
	stack, err := field(st, "stack")
	if err != nil {
		return nil, err
	}
	sst, ok := unTypedef(stack.Type).(*dwarf.StructType)
	if !ok {
		return nil, fmt.Errorf("g.stack is a %T", stack.Type)
	}
	for _, x := range []struct {
		st   *dwarf.StructType
		name string
		base int64
		dst  *uint64
	}{
		{sst, "lo", stack.ByteOffset, &out.StackLo},
		{sst, "hi", stack.ByteOffset, &out.StackHi},
		{st, "stackguard0", 0, &out.Stackguard0},
		{st, "m", 0, &out.M},
		{st, "goid", 0, &out.Goid},
	} {
		f, err := field(x.st, x.name)
		if err != nil {
			return nil, err
		}
		*x.dst = uint64(x.base + f.ByteOffset)
	}
	return out, nil
}

// unTypedef strips typedefs: Go's DWARF describes named types (runtime.stack) as a
// typedef of the struct.
func unTypedef(t dwarf.Type) dwarf.Type {
	for {
		td, ok := t.(*dwarf.TypedefType)
		if !ok {
			return t
		}
		t = td.Type
	}
}

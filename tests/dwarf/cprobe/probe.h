/* golat_probe: a C struct whose layout the compiler fixes (offsetof, in dwarf_test)
 * and whose DWARF golat reads (in probe.c built with each DWARF variant): a nested
 * anonymous struct, a union, a typedef'd struct behind qualifiers, a pointer and a
 * bit-field, so that every path dwarf_member_offset follows or refuses is there. */
#ifndef GOLAT_TEST_DWARF_PROBE_H
#define GOLAT_TEST_DWARF_PROBE_H

typedef struct golat_probe_stack {
	unsigned long lo, hi;
} golat_probe_stack_t;

struct golat_probe {
	char a;
	long long b;
	struct {
		int x;
		int y;
	} in;
	union {
		short v;
		double w;
	} u;
	const volatile golat_probe_stack_t td;
	struct golat_probe_stack *ptr;
	unsigned bits : 3;
	char last[3];
};

#endif

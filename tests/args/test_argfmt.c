/* args_format: dwarf_arg_format on hand-made parameters, the cases a real program seldom
 * shows: junk above a narrow value, a string the read callback cannot read, an absurd
 * length, bytes that need escaping at the 64-byte cut, a buffer too small, float parts,
 * and the values that are not in registers. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dwarf_args.h"

static int fails;

static bool read_mem(void *arg, uint64_t addr, void *buf, size_t len)
{
	const char *text = arg;
	if (addr < 0x1000 || addr - 0x1000 + len > strlen(text))
		return false;
	memcpy(buf, text + (addr - 0x1000), len);
	return true;
}

static void expect(const struct dwarf_param *p, const uint64_t regs[DWARF_INT_REGS], void *mem,
		   size_t size, const char *want)
{
	char buf[512];
	int n = dwarf_arg_format(p, regs, mem ? read_mem : NULL, mem, buf, size);
	if (n < 0 || strcmp(buf, want) != 0 || (size_t)n != strlen(buf)) {
		printf("FAIL: %s: got \"%s\" (%d), want \"%s\"\n", p->name, buf, n, want);
		fails++;
	}
}

#define PART(r, k, s) { .reg = (r), .kind = (k), .size = (s) }

int main(void)
{
	static const struct dwarf_part i8[] = { PART(0, DWARF_KIND_INT, 1) },
		u16[] = { PART(1, DWARF_KIND_UINT, 2) }, b[] = { PART(2, DWARF_KIND_BOOL, 1) },
		ptr[] = { PART(3, DWARF_KIND_POINTER, 8) },
		str[] = { PART(4, DWARF_KIND_POINTER, 8), PART(5, DWARF_KIND_INT, 8) },
		mixed[] = { PART(0, DWARF_KIND_INT, 4), PART(DWARF_REG_X0 + 2, DWARF_KIND_FLOAT, 8) },
		iface[] = { PART(6, DWARF_KIND_POINTER, 8), PART(7, DWARF_KIND_POINTER, 8) };
	uint64_t regs[DWARF_INT_REGS] = { 0xdeadbeef000000ffull, 0x1234ffff, 0xff00, 0, 0x1000, 5,
					  0, 0x42 };
	char *text = "a\"b\\c\n\x7f" "0123456789012345678901234567890123456789012345678901234567\xc3\xa9z";

#define P(n, k, parts) (struct dwarf_param){ .name = n, .type = "", .kind = k, \
	.where = DWARF_WHERE_REGS, .nparts = sizeof(parts) / sizeof(*parts), .part = parts }
	expect(&P("int8 with junk above", DWARF_KIND_INT, i8), regs, NULL, 512, "-1");
	expect(&P("uint16", DWARF_KIND_UINT, u16), regs, NULL, 512, "65535");
	expect(&P("bool: low byte 0", DWARF_KIND_BOOL, b), regs, NULL, 512, "false");
	expect(&P("nil pointer", DWARF_KIND_POINTER, ptr), regs, NULL, 512, "nil");
	expect(&P("string", DWARF_KIND_STRING, str), regs, text, 512, "\"a\\\"b\\\\c\"");
	expect(&P("string, no reader", DWARF_KIND_STRING, str), regs, NULL, 512, "(0x1000 len=5)");
	regs[5] = strlen(text);
	expect(&P("string cut at 64", DWARF_KIND_STRING, str), regs, text, 512,
	       "\"a\\\"b\\\\c\\n\\x7f012345678901234567890123456789012345678901234567890123456\"...");
	expect(&P("string, small buffer", DWARF_KIND_STRING, str), regs, text, 8, "\"a\\\"b\\\\");
	regs[5] = 1ull << 60;
	expect(&P("absurd length", DWARF_KIND_STRING, str), regs, text, 512,
	       "(0x1000 len=1152921504606846976)");
	expect(&P("struct with a float", DWARF_KIND_STRUCT, mixed), regs, NULL, 512, "{255, <x2>}");
	expect(&P("interface", DWARF_KIND_IFACE, iface), regs, NULL, 512, "nil");
	regs[6] = 0x10;
	expect(&P("interface", DWARF_KIND_IFACE, iface), regs, NULL, 512, "(0x10, 0x42)");
	struct dwarf_param stack = { .name = "stack", .where = DWARF_WHERE_STACK },
			   none = { .name = "none", .where = DWARF_WHERE_NONE },
			   unknown = { .name = "unknown", .where = DWARF_WHERE_UNKNOWN };
	expect(&stack, regs, NULL, 512, "<stack>");
	expect(&none, regs, NULL, 512, "{}");
	expect(&unknown, regs, NULL, 512, "?");
	char buf[4];
	if (dwarf_arg_format(&stack, regs, NULL, NULL, buf, 0) != -EINVAL) {
		printf("FAIL: a zero-sized buffer is not -EINVAL\n");
		fails++;
	}
	printf("args_format: %s\n", fails ? "FAIL" : "ok");
	return fails != 0;
}

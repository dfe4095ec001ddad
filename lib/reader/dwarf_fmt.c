/* dwarf_fmt: a parameter's value, from the registers golat captured, as text (see
 * dwarf_arg_format in dwarf_args.h).
 *
 * A register holding a value narrower than 8 bytes has junk above it: Go's ABI leaves
 * the upper bits unspecified (cmd/compile/abi-internal.md, "the upper bits of a
 * register holding a smaller value are undefined"), so every value is cut to its size
 * first. A string's bytes come through the caller's read callback, bounded and quoted
 * the way Go's strconv.Quote does, so that no byte of the traced program reaches a
 * terminal or a JSON report raw. */
#include "dwarf_args.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

struct dwarf_out {
	char *p;
	size_t size, len; /* len: what would have been written, may exceed size - 1 */
};

static void dwarf_put(struct dwarf_out *o, const char *fmt, ...)
{
	va_list ap;
	size_t room = o->len < o->size ? o->size - o->len : 0;

	va_start(ap, fmt);
	int n = vsnprintf(room ? o->p + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

/* One register-sized part, cut to its size. */
static void dwarf_put_part(struct dwarf_out *o, const struct dwarf_part *pt,
			   const uint64_t regs[DWARF_INT_REGS])
{
	if (pt->reg >= DWARF_INT_REGS) {
		dwarf_put(o, "<%s>", dwarf_reg_names[pt->reg < DWARF_NREGS ? pt->reg : DWARF_REG_X0]);
		return;
	}
	unsigned bits = pt->size && pt->size < 8 ? 8u * pt->size : 64;
	uint64_t v = regs[pt->reg] & (bits == 64 ? ~0ull : (1ull << bits) - 1);
	switch (pt->kind) {
	case DWARF_KIND_INT:
		if (bits < 64 && (v >> (bits - 1)) & 1)
			v |= ~0ull << bits; /* sign-extend */
		dwarf_put(o, "%" PRId64, (int64_t)v);
		break;
	case DWARF_KIND_UINT:
		dwarf_put(o, "%" PRIu64, v);
		break;
	case DWARF_KIND_BOOL:
		dwarf_put(o, (v & 0xff) ? "true" : "false");
		break;
	case DWARF_KIND_POINTER:
		dwarf_put(o, v ? "0x%" PRIx64 : "nil", v);
		break;
	default:
		dwarf_put(o, "0x%" PRIx64, v);
	}
}

/* Up to DWARF_ARG_TEXT_MAX bytes at ptr, Go-quoted; "..." when there were more. */
static void dwarf_put_text(struct dwarf_out *o, uint64_t ptr, uint64_t len, dwarf_read_fn read,
			   void *arg)
{
	unsigned char buf[DWARF_ARG_TEXT_MAX];
	size_t n = len < sizeof(buf) ? (size_t)len : sizeof(buf);

	if (len > (1ull << 48)) { /* no such string: a register that is not one */
		dwarf_put(o, "(0x%" PRIx64 " len=%" PRIu64 ")", ptr, len);
		return;
	}
	if (n && (!read || !read(arg, ptr, buf, n))) {
		dwarf_put(o, "(0x%" PRIx64 " len=%" PRIu64 ")", ptr, len);
		return;
	}
	dwarf_put(o, "\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = buf[i];
		if (ch == '"' || ch == '\\')
			dwarf_put(o, "\\%c", ch);
		else if (ch == '\n')
			dwarf_put(o, "\\n");
		else if (ch == '\t')
			dwarf_put(o, "\\t");
		else if (ch < 0x20 || ch >= 0x7f) /* UTF-8 too: a cut may split a rune */
			dwarf_put(o, "\\x%02x", ch);
		else
			dwarf_put(o, "%c", ch);
	}
	dwarf_put(o, len > n ? "\"..." : "\"");
}

static void dwarf_put_regs(struct dwarf_out *o, const struct dwarf_param *p,
			   const uint64_t regs[DWARF_INT_REGS], dwarf_read_fn read, void *arg)
{
	const struct dwarf_part *pt = p->part;
	bool ints = true;

	for (uint8_t i = 0; i < p->nparts; i++)
		ints = ints && pt[i].reg < DWARF_INT_REGS;
	if (p->kind == DWARF_KIND_STRING && p->nparts == 2 && ints) {
		dwarf_put_text(o, regs[pt[0].reg], regs[pt[1].reg], read, arg);
	} else if (p->kind == DWARF_KIND_SLICE && p->nparts == 3 && ints) {
		dwarf_put(o, "0x%" PRIx64 " len=%" PRIu64 " cap=%" PRIu64, regs[pt[0].reg],
			  regs[pt[1].reg], regs[pt[2].reg]);
	} else if (p->kind == DWARF_KIND_IFACE && p->nparts == 2 && ints && !regs[pt[0].reg]) {
		dwarf_put(o, "nil");
	} else if (p->nparts == 1 && p->kind != DWARF_KIND_STRUCT && p->kind != DWARF_KIND_ARRAY) {
		dwarf_put_part(o, &pt[0], regs);
	} else {
		dwarf_put(o, p->kind == DWARF_KIND_IFACE ? "(" : "{");
		for (uint8_t i = 0; i < p->nparts; i++) {
			dwarf_put(o, i ? ", " : "");
			dwarf_put_part(o, &pt[i], regs);
		}
		dwarf_put(o, p->kind == DWARF_KIND_IFACE ? ")" : "}");
	}
}

int dwarf_arg_format(const struct dwarf_param *p, const uint64_t regs[DWARF_INT_REGS],
		     dwarf_read_fn read, void *arg, char *buf, size_t size)
{
	struct dwarf_out o = { buf, size, 0 };

	if (!p || !regs || !buf || !size || (p->nparts && !p->part))
		return -EINVAL;
	buf[0] = 0;
	switch (p->where) {
	case DWARF_WHERE_REGS:
		dwarf_put_regs(&o, p, regs, read, arg);
		break;
	case DWARF_WHERE_STACK:
		dwarf_put(&o, "<stack>");
		break;
	case DWARF_WHERE_NONE:
		dwarf_put(&o, "{}");
		break;
	default:
		dwarf_put(&o, "?");
	}
	return (int)(o.len < size ? o.len : size - 1);
}

int dwarf_param_where(const struct dwarf_param *p, char *buf, size_t size)
{
	struct dwarf_out o = { buf, size, 0 };

	if (!p || !buf || !size)
		return -EINVAL;
	buf[0] = 0;
	if (p->where == DWARF_WHERE_REGS && p->part) {
		for (uint8_t i = 0; i < p->nparts; i++)
			dwarf_put(&o, "%s%s", i ? "," : "",
				  dwarf_reg_names[p->part[i].reg < DWARF_NREGS ? p->part[i].reg : DWARF_REG_X0]);
	} else {
		dwarf_put(&o, "%s", p->where == DWARF_WHERE_STACK ? "stack"
				    : p->where == DWARF_WHERE_NONE ? "none" : "unknown");
	}
	return (int)(o.len < size ? o.len : size - 1);
}

const char *dwarf_kind_name(enum dwarf_kind kind)
{
	static const char *const names[] = {
		[DWARF_KIND_OTHER] = "other", [DWARF_KIND_INT] = "int", [DWARF_KIND_UINT] = "uint",
		[DWARF_KIND_BOOL] = "bool", [DWARF_KIND_FLOAT] = "float",
		[DWARF_KIND_POINTER] = "pointer", [DWARF_KIND_STRING] = "string",
		[DWARF_KIND_SLICE] = "slice", [DWARF_KIND_IFACE] = "interface",
		[DWARF_KIND_STRUCT] = "struct", [DWARF_KIND_ARRAY] = "array",
	};
	return (unsigned)kind < sizeof(names) / sizeof(*names) ? names[kind] : "other";
}

const char *dwarf_check_name(enum dwarf_sig_check check)
{
	static const char *const names[] = {
		[DWARF_SIG_UNCHECKED] = "unchecked", [DWARF_SIG_OK] = "ok",
		[DWARF_SIG_ABI0] = "abi0", [DWARF_SIG_INCOMPLETE] = "incomplete",
	};
	return (unsigned)check < sizeof(names) / sizeof(*names) ? names[check] : "unchecked";
}

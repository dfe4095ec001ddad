/* tramp_emit, x86-64: the trampolines a hooked function's jumps lead to, as tramp.h
 * draws them (lea r12,[rip+desc]; jmp [rip+common] around the window's relocated
 * instructions; jmp rel32 back; ret), written by window.c into code memory. */
#include "tramp.h"

#include <stddef.h>
#include <string.h>

#define STUB_LEN TRAMP_STUB_LEN /* lea r12,[rip+desc] (7) + jmp [rip+common] (6) */

size_t tramp_size(size_t reloc_len, int whole)
{
	return reloc_len + 2 * STUB_LEN + 5 + 1 + 7 + 2 * sizeof(struct tramp_desc) + 8 + (whole ? STUB_LEN : 0);
}

static void put32(uint8_t *p, int32_t v) { memcpy(p, &v, 4); }

/* lea r12,[rip+desc]; jmp [rip+ptr] at buf (running at `at`). */
static void emit_stub(uint8_t *buf, uint64_t at, uint64_t desc, uint64_t ptr)
{
	buf[0] = 0x4c, buf[1] = 0x8d, buf[2] = 0x25;
	put32(buf + 3, (int32_t)(desc - (at + 7)));
	buf[7] = 0xff, buf[8] = 0x25;
	put32(buf + 9, (int32_t)(ptr - (at + 13)));
}

static size_t align8(size_t x) { return (x + 7) & ~(size_t)7; }

static void put_desc(uint8_t *buf, uint64_t resume, uint32_t fn, uint32_t kind)
{
	struct tramp_desc d = { resume, fn, kind };
	memcpy(buf, &d, sizeof(d));
}

/* Where trampolines jump: this process's stubs, unless tramp_set_stubs named the
 * agent's in the process golat hooks from outside. */
static uint64_t stub_fast, stub_resume;

void tramp_set_stubs(uint64_t fast, uint64_t resume)
{
	stub_fast = fast;
	stub_resume = resume;
}

static void put_addr(uint8_t *buf, uint64_t p)
{
	memcpy(buf, &p, 8);
}

static void put_common(uint8_t *buf)
{
	put_addr(buf, stub_fast ? stub_fast : (uint64_t)(uintptr_t)golat_rec_fast);
}

size_t tramp_entry_code_offset(void) { return STUB_LEN; }
size_t tramp_exit_code_offset(void) { return 0; }

static size_t emit_entry(uint8_t *buf, uint64_t at, const uint8_t *code, size_t len, uint64_t back,
			 uint32_t fn, uint32_t kind)
{
	size_t o = STUB_LEN;
	memcpy(buf + o, code, len);
	o += len;
	buf[o] = 0xe9; /* jmp back past the window: code memory is within rel32 reach */
	put32(buf + o + 1, (int32_t)(back - (at + o + 5)));
	o = align8(o + 5);
	size_t desc = o, ptr = o + sizeof(struct tramp_desc);
	put_desc(buf + desc, at + STUB_LEN, fn, kind);
	put_common(buf + ptr);
	emit_stub(buf, at, at + desc, at + ptr);
	return ptr + 8;
}

size_t tramp_emit_entry(uint8_t *buf, uint64_t at, const uint8_t *code, size_t len, uint64_t back,
			uint32_t fn)
{
	return emit_entry(buf, at, code, len, back, fn, TRAMP_ENTRY);
}

size_t tramp_emit_procexit(uint8_t *buf, uint64_t at, const uint8_t *code, size_t len, uint64_t back,
			   uint32_t which)
{
	return emit_entry(buf, at, code, len, back, which, TRAMP_PROCEXIT);
}

static size_t emit_exit(uint8_t *buf, uint64_t at, const uint8_t *code, size_t len, uint32_t fn)
{
	memcpy(buf, code, len);
	size_t ret = len + STUB_LEN;
	buf[ret] = 0xc3;
	size_t desc = align8(ret + 1), ptr = desc + sizeof(struct tramp_desc);
	put_desc(buf + desc, at + ret, fn, TRAMP_EXIT);
	put_common(buf + ptr);
	emit_stub(buf + len, at + len, at + desc, at + ptr);
	return ptr + 8;
}

size_t tramp_emit_exit(uint8_t *buf, uint64_t at, const uint8_t *code, size_t len, uint32_t fn)
{
	return emit_exit(buf, at, code, len, fn);
}

size_t tramp_emit_resume(uint8_t *buf, uint64_t at, const uint8_t *code, size_t len)
{
	(void)at; /* everything in it is relative to itself */
	memcpy(buf, code, len);
	size_t ptr = align8(len + 6);
	buf[len] = 0xff, buf[len + 1] = 0x25; /* jmp [rip+ptr]: no register, no flag */
	put32(buf + len + 2, (int32_t)(ptr - (len + 6)));
	put_addr(buf + ptr, stub_resume ? stub_resume : (uint64_t)(uintptr_t)golat_tramp_resume);
	return ptr + 8;
}

size_t tramp_emit_whole(uint8_t *buf, uint64_t at, const uint8_t *code, size_t len, uint32_t fn)
{
	memcpy(buf + STUB_LEN, code, len);
	size_t exit_stub = STUB_LEN + len, ret = exit_stub + STUB_LEN;
	buf[ret] = 0xc3;
	size_t d1 = align8(ret + 1), d2 = d1 + sizeof(struct tramp_desc), ptr = d2 + sizeof(struct tramp_desc);
	put_desc(buf + d1, at + STUB_LEN, fn, TRAMP_ENTRY);
	put_desc(buf + d2, at + ret, fn, TRAMP_EXIT);
	put_common(buf + ptr);
	emit_stub(buf, at, at + d1, at + ptr);
	emit_stub(buf + exit_stub, at + exit_stub, at + d2, at + ptr);
	return ptr + 8;
}

/* tramp: emitting trampolines and mapping the stub's per-thread stacks. See tramp.h. */
#include "tramp.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

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

_Static_assert(offsetof(struct tramp_resume_tab, shift) == 0 &&
	       offsetof(struct tramp_resume_tab, mask) == 8 &&
	       offsetof(struct tramp_resume_tab, slot) == 16, "tramp.S reads these offsets");

#define RESUME_MIN_BITS 12 /* 4096 slots (64 KiB) to begin with */

static size_t resume_used;

/* The slot of pc in t: the same hash and probe order as golat_tramp_resume. */
static uint64_t *resume_slot(struct tramp_resume_tab *t, uint64_t pc)
{
	uint64_t i = (pc * TRAMP_RESUME_MUL) >> t->shift;
	while (t->slot[i][0] != pc && t->slot[i][0] != 0)
		i = (i + 1) & t->mask;
	return t->slot[i];
}

/* Replaces the table by one of 2^bits slots holding the same entries. The entries are
 * copied before the new table is published (a release store: a reader that loads the
 * pointer sees them), and the old table is never unmapped: a thread may have loaded
 * its address just before and still be probing it, at any later time. The tables left
 * behind add up to less than the current one. */
static int resume_grow(unsigned bits)
{
	struct tramp_resume_tab *old = golat_resume_tab, *t;
	size_t slots = (size_t)1 << bits;
	void *p = mmap(NULL, sizeof(*t) + slots * sizeof(t->slot[0]), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	t = p;
	t->shift = 64 - bits;
	t->mask = slots - 1;
	for (uint64_t i = 0; old && i <= old->mask; i++) {
		if (old->slot[i][0] == 0)
			continue;
		uint64_t *e = resume_slot(t, old->slot[i][0]);
		e[0] = old->slot[i][0];
		e[1] = old->slot[i][1];
	}
	__atomic_store_n(&golat_resume_tab, t, __ATOMIC_RELEASE);
	return 0;
}

uint64_t tramp_resume_find(uint64_t pc)
{
	struct tramp_resume_tab *t = golat_resume_tab;
	const uint64_t *e = t && pc ? resume_slot(t, pc) : NULL;
	return e && e[0] == pc ? e[1] : 0;
}

int tramp_resume_add(uint64_t pc, uint64_t to)
{
	struct tramp_resume_tab *t = golat_resume_tab;
	if (t && resume_slot(t, pc)[0] == pc)
		return 0; /* the mapping of a pc never changes */
	/* At most half full: probes stay short, and an empty slot always ends one. */
	if (!t || resume_used + 1 > (t->mask + 1) / 2) {
		int rc = resume_grow(t ? 65 - (unsigned)t->shift : RESUME_MIN_BITS);
		if (rc)
			return rc;
		t = golat_resume_tab;
	}
	uint64_t *e = resume_slot(t, pc);
	e[1] = to;
	__atomic_store_n(&e[0], pc, __ATOMIC_RELEASE); /* the key last: readers take no lock */
	resume_used++;
	return 0;
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

/* static_mem: the target's memory as the static route uses it — code memory mapped
 * in its gaps (codemem's remote callbacks), patches written through /proc/PID/mem
 * while every thread is stopped, and the resume table handed to the agent.
 *
 * Writing through /proc/PID/mem ignores page protections (the kernel writes a
 * private copy of a read-execute page for the tracer, FOLL_FORCE): the text and the
 * trampolines are never made writable in the target. No thread runs while the bytes
 * change, and each goes back to user space through the kernel (an iret), which
 * serializes its instruction stream: nothing stale is fetched afterwards. */
#define _GNU_SOURCE
#include "static_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "tramp.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static int remote_map(void *ctx, uint64_t at, size_t size)
{
	struct static_ctx *s = ctx;
	uint64_t got, ret;
	int rc = static_sys(s, SYS_mmap, at, size, PROT_READ | PROT_EXEC,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, (uint64_t)-1, 0, &got);
	if (rc)
		return rc;
	if (got != at) { /* a kernel before 4.17 took the flag as a hint */
		static_sys(s, SYS_munmap, got, size, 0, 0, 0, 0, &ret);
		return -EEXIST;
	}
	return 0;
}

static int remote_write(void *ctx, uint64_t at, const void *buf, size_t len)
{
	struct static_ctx *s = ctx;
	return inject_mem_write(&s->t, at, buf, len);
}

void static_codemem(struct static_ctx *s)
{
	s->remote = (struct codemem_remote){ .pid = s->t.pid, .map = remote_map, .write = remote_write, .ctx = s };
}

int static_alloc(struct static_ctx *s, uint64_t len, uint64_t *at)
{
	return static_sys(s, SYS_mmap, 0, (len + 4095) & ~4095ull, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0, at);
}

pid_t static_thread_in(const struct static_world *w, uint64_t addr, uint64_t len, bool strict)
{
	for (size_t i = 0; i < w->n; i++) {
		uint64_t pc = ARCH_REGS_PC(w->t[i].regs);
		if (pc >= addr + (strict ? 1 : 0) && pc < addr + len)
			return w->t[i].tid;
	}
	return 0;
}

#define TPAGE 4096ull

int static_text_load(struct static_ctx *s)
{
	uint64_t len = s->t.text_hi - s->t.text_lo;
	s->text = malloc(len);
	s->dirty = calloc(len / TPAGE + 2, 1);
	if (!s->text || !s->dirty)
		return -ENOMEM;
	for (uint64_t o = 0; o < len;) {
		size_t k = len - o < (1u << 20) ? len - o : (1u << 20);
		int rc = inject_mem_read(&s->t, s->t.text_lo + o, s->text + o, k);
		if (rc) {
			snprintf(s->err, s->errn, "cannot read pid %d's text: %s", (int)s->t.pid, strerror(-rc));
			return rc;
		}
		o += k;
	}
	return 0;
}

static bool in_text(const struct static_ctx *s, uint64_t addr, size_t len)
{
	return s->text && addr >= s->t.text_lo && addr + len <= s->t.text_hi && addr + len >= addr;
}

int static_text_read(struct static_ctx *s, uint64_t addr, void *buf, size_t len)
{
	if (!in_text(s, addr, len))
		return inject_mem_read(&s->t, addr, buf, len);
	memcpy(buf, s->text + (addr - s->t.text_lo), len);
	return 0;
}

int static_text_put(struct static_ctx *s, uint64_t addr, const void *bytes, size_t len, void *saved)
{
	if (!in_text(s, addr, len)) {
		int rc = saved ? inject_mem_read(&s->t, addr, saved, len) : 0;
		return rc ? rc : inject_mem_write(&s->t, addr, bytes, len);
	}
	uint64_t o = addr - s->t.text_lo;
	if (saved)
		memcpy(saved, s->text + o, len);
	memcpy(s->text + o, bytes, len);
	for (uint64_t p = o / TPAGE; p <= (o + len - 1) / TPAGE; p++)
		s->dirty[p] = 1;
	return 0;
}

int static_text_flush(struct static_ctx *s)
{
	/* The thread golat runs calls on goes home by its frame if golat dies: a move out of a
	 * window goes into the frame before the text changes under the old place. */
	int src = s->call_on ? inject_call_sync(&s->call) : 0;
	if (src) {
		snprintf(s->err, s->errn, "cannot write thread %d's way home: %s", (int)s->call.tid, strerror(-src));
		return src;
	}
	uint64_t len = s->text ? s->t.text_hi - s->t.text_lo : 0, npages = (len + TPAGE - 1) / TPAGE;
	for (uint64_t p = 0; p < npages;) {
		if (!s->dirty[p]) {
			p++;
			continue;
		}
		uint64_t q = p;
		while (q < npages && s->dirty[q])
			s->dirty[q++] = 0;
		uint64_t lo = p * TPAGE, hi = q * TPAGE < len ? q * TPAGE : len;
		int rc = inject_mem_write(&s->t, s->t.text_lo + lo, s->text + lo, hi - lo);
		if (rc) {
			snprintf(s->err, s->errn, "cannot write pid %d's text at 0x%llx: %s", (int)s->t.pid,
				 (unsigned long long)(s->t.text_lo + lo), strerror(-rc));
			return rc;
		}
		p = q;
	}
	return 0;
}

int static_write(struct static_ctx *s, struct patch_write *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = static_text_put(s, w[i].addr, w[i].bytes, w[i].len, w[i].saved);
		if (rc) {
			snprintf(s->err, s->errn, "cannot write pid %d's text at 0x%llx: %s", (int)s->t.pid,
				 (unsigned long long)w[i].addr, strerror(-rc));
			return rc;
		}
	}
	return static_text_flush(s);
}

/* The table layout is tramp.h's struct tramp_resume_tab: shift, mask, then slots. */
int static_resume_pull(struct static_ctx *s, uint64_t tab_ptr)
{
	uint64_t tab = 0, hdr[2];
	int rc = inject_mem_read(&s->t, tab_ptr, &tab, 8);
	if (rc == 0 && tab)
		rc = inject_mem_read(&s->t, tab, hdr, sizeof(hdr));
	if (rc || !tab)
		return rc;
	size_t slots = hdr[1] + 1;
	if (hdr[0] >= 64 || slots == 0 || slots > (1u << 28) || (slots & (slots - 1))) {
		snprintf(s->err, s->errn, "pid %d: golat's resume table at 0x%llx is not one", (int)s->t.pid,
			 (unsigned long long)tab);
		return -EIO;
	}
	uint64_t(*v)[2] = malloc(slots * 16);
	if (!v)
		return -ENOMEM;
	rc = inject_mem_read(&s->t, tab + 16, v, slots * 16);
	for (size_t i = 0; rc == 0 && i < slots; i++)
		if (v[i][0])
			rc = tramp_resume_add(v[i][0], v[i][1]);
	free(v);
	return rc;
}

int static_resume_publish(struct static_ctx *s, uint64_t tab_ptr)
{
	const struct tramp_resume_tab *t = golat_resume_tab;
	if (!t)
		return 0;
	uint64_t len = 16 + (t->mask + 1) * 16, at;
	int rc = static_alloc(s, len, &at);
	if (rc == 0)
		rc = inject_mem_write(&s->t, at, t, len);
	/* Every thread is stopped: the pointer changes between two of their steps. The
	 * old table stays mapped, as in this process (tramp.h). */
	if (rc == 0)
		rc = inject_mem_write(&s->t, tab_ptr, &at, 8);
	if (rc && !s->err[0])
		snprintf(s->err, s->errn, "cannot hand the resume table to pid %d: %s", (int)s->t.pid, strerror(-rc));
	return rc;
}

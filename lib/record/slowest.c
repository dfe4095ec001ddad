/* slowest: records of each function's slowest calls. See slowest.h. */
#include "slowest.h"

#include "recorder.h"
#include "spin.h"
#include "sys.h"

#define LOCKS 64

/* Read by recfast.S: the bar of each function id (0 until slowest_init). */
uint64_t *golat_rec_slowmin __attribute__((visibility("hidden")));
/* slowest_text_word's, by function id: the argument registers of a string whose text
 * is kept, 0 = none. */
static uint16_t *text_regs;
static int locks[LOCKS];
static long self_pid;

int slowest_init(void)
{
	if (golat_rec_slowmin)
		return 0;
	long p = sys_mmap(0, (uint64_t)REC_MAX_FNS * (sizeof(uint64_t) + sizeof(uint16_t)),
			  SYS_PROT_READ | SYS_PROT_WRITE, SYS_MAP_PRIVATE | SYS_MAP_ANONYMOUS, -1, 0);
	if (sys_failed(p))
		return (int)p;
	text_regs = (uint16_t *)((uint64_t *)p + REC_MAX_FNS);
	self_pid = sys_getpid();
	__atomic_store_n(&golat_rec_slowmin, (uint64_t *)p, __ATOMIC_RELEASE);
	return 0;
}

void slowest_set_text(uint32_t fn, uint16_t word)
{
	if (text_regs && fn < REC_MAX_FNS)
		__atomic_store_n(&text_regs[fn], word, __ATOMIC_RELAXED);
}

uint16_t *slowest_text_table(void)
{
	return text_regs;
}

/* The first bytes of the string an argument names, read with process_vm_readv: a
 * pointer that is not one (DWARF that lies, a register reused) fails with EFAULT
 * instead of faulting. */
static void copy_text(struct stats_slow *r, uint32_t fn, const uint64_t *args)
{
	uint16_t t = __atomic_load_n(&text_regs[fn], __ATOMIC_RELAXED);
	r->text_reg = 0;
	r->text_len = 0;
	if (!t)
		return;
	uint64_t ptr = args[t >> 8 & 0x7f], len = args[t & 0xff];
	if (len > STATS_SLOW_TEXT)
		len = STATS_SLOW_TEXT;
	struct sys_iovec local = { r->text, len }, remote = { (void *)ptr, len };
	if (len && sys_process_vm_readv(self_pid, &local, 1, &remote, 1) != (long)len)
		return;
	r->text_len = (uint8_t)len;
	r->text_reg = (uint8_t)(1 + (t >> 8 & 0x7f));
}

/* The record a call of `cycles` replaces (empty or the shortest), and the shortest of
 * the others (the new bar once all are taken). */
static struct stats_slow *victim(struct stats_slow *r, uint32_t n, uint64_t *bar)
{
	struct stats_slow *v = &r[0];
	for (uint32_t i = 1; i < n; i++)
		if (r[i].cycles < v->cycles)
			v = &r[i];
	uint64_t min = UINT64_MAX;
	for (uint32_t i = 0; i < n; i++)
		if (&r[i] != v && r[i].cycles < min)
			min = r[i].cycles;
	*bar = min;
	return v;
}

void slowest_offer(struct statsfile *sf, uint32_t fn, const struct gframe *f, uint64_t goid,
		   uint32_t site, uint64_t cycles, const uint64_t *results)
{
	if (!golat_rec_slowmin)
		return;
	uint32_t n = sf->h->slowest;
	struct stats_slow *r = n ? statsfile_slow(sf, fn) : NULL;
	if (!r) {
		golat_rec_slowmin[fn] = UINT64_MAX; /* none kept: no more candidates */
		return;
	}
	int *l = &locks[fn % LOCKS];
	spin_lock(l);
	uint64_t bar;
	struct stats_slow *v = victim(r, n, &bar);
	if (cycles > v->cycles) {
		__atomic_store_n(&v->seq, v->seq + 1, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_RELEASE);
		v->site = site;
		v->cycles = cycles;
		v->tsc = f->tsc;
		v->goid = goid;
		for (int i = 0; i < STATS_ARGS; i++) {
			v->args[i] = f->args[i];
			v->results[i] = results[i];
		}
		copy_text(v, fn, f->args);
		__atomic_store_n(&v->seq, v->seq + 1, __ATOMIC_RELEASE);
		/* Every record taken: the bar is the shortest of them. */
		if (bar && (cycles < bar ? cycles : bar) > golat_rec_slowmin[fn])
			__atomic_store_n(&golat_rec_slowmin[fn], cycles < bar ? cycles : bar, __ATOMIC_RELAXED);
	}
	spin_unlock(l);
}

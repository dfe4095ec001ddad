/* agent_records: golat-agent.so, loaded into this process, records hooked calls made
 * on a thread whose FS is laid out as in a static Go program (lib/agent/agent.h): FS
 * base = &tls[1] of an m, g at fs:-8, fs:0 zero until the thread's first recorded
 * call. Proves, without a Go program: the agent's block creation (golat_tramp_common's
 * bootstrap path makes the block with its stack and stores it at fs:0), the fast and
 * slow paths on it, and golat_agent_init's mapping of a stats file the command made
 * (here made by libgolat's own writer, statsfile_create), read back by the one reader.
 * And that the recorder finds the vDSO's clock_gettime by itself (vdso.h).
 *
 * Then two more threads, made with clone as Go makes its own (no libc thread): the
 * goroutine moves to the first, whose first recorded call is the return of a call
 * entered on the main thread 2 ms before (timed, not 0: the block it makes then has no
 * exit time from the fast path); it records more calls and exits; the next thread's
 * first call takes over its block (recstack.c: the kernel cleared the block's word
 * at the exit), and every call of both is in the stats file.
 *
 * The calls are made with glibc's FS swapped out (arch_prctl) and signals blocked, and
 * nothing between the swap and its undoing calls libc: the agent calls none. Built
 * without stack protector (it reads fs:0x28). */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <dlfcn.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "statsfile.h"
#include "statsread.h"
#include "sys.h"
#include "tramp.h"
#include "vdso.h"

#define CALLS 1000
#define MORE 100 /* calls on each cloned thread */
#define GOID_OFF 0x98

/* hook_call(desc, stub): what a trampoline does, for one record: R12 = desc, jump to
 * the stub, which comes back to desc->resume (set here) with every register but R12,
 * R13 and flags as it was. */
void hook_call(struct tramp_desc *d, uint64_t stub);
__asm__(".text\n"
	".globl hook_call\n"
	"hook_call:\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %rbx\n"
	"	movq %rdi, %r12\n"
	"	leaq 1f(%rip), %rax\n"
	"	movq %rax, (%rdi)\n"
	"	jmp *%rsi\n"
	"1:	popq %rbx\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	ret\n");

/* hook_call_on(desc, stub, sp): hook_call on the stack at sp, a goroutine's: the same sp
 * on any thread is the same depth in that goroutine's stack (recorder.c). */
void hook_call_on(struct tramp_desc *d, uint64_t stub, void *sp);
__asm__(".text\n"
	".globl hook_call_on\n"
	"hook_call_on:\n"
	"	pushq %rbp\n"
	"	movq %rsp, %rbp\n"
	"	movq %rdx, %rsp\n"
	"	call hook_call\n"
	"	movq %rbp, %rsp\n"
	"	popq %rbp\n"
	"	ret\n");

static uint64_t m_tls[8] __attribute__((aligned(64))); /* runtime.m.tls; FS base = &m_tls[1] */
static uint64_t g[64];                                 /* runtime.g: stack.hi at +8, goid */
/* A second goroutine, which moves between threads, and its stack. */
static uint64_t g2[64];
static char g2_stack[65536] __attribute__((aligned(16)));
#define G2_SP (g2_stack + sizeof(g2_stack) - 4096)

static uint64_t rec_fast;
static struct tramp_desc entry = { 0, 0, TRAMP_ENTRY }, exit_ = { 0, 0, TRAMP_EXIT };
static struct tramp_desc moved_exit = { 0, 1, TRAMP_EXIT }; /* main.moved */

/* A thread as Go makes one (clone, no libc of its own, signals blocked as its parent's
 * were), on FS = &tls[1] of its own m: first the return of the moved call when asked,
 * then MORE calls of main.leaf. */
struct worker {
	uint64_t tls[8] __attribute__((aligned(64)));
	int moved;
	char stack[65536] __attribute__((aligned(16)));
};

static int worker_run(void *arg)
{
	struct worker *w = arg;
	sys_call3(158 /* arch_prctl */, ARCH_SET_FS, (long)&w->tls[1], 0);
	if (w->moved)
		hook_call_on(&moved_exit, rec_fast, G2_SP);
	for (int i = 0; i < MORE; i++) {
		hook_call_on(&entry, rec_fast, G2_SP);
		hook_call_on(&exit_, rec_fast, G2_SP);
	}
	return 0; /* glibc's clone makes the exit system call itself, without TLS */
}

/* Runs w on a new thread, goroutine g2 on it, and waits until the thread is gone. 0,
 * or -1. */
static int worker(struct worker *w)
{
	w->tls[0] = (uint64_t)(uintptr_t)g2;
	int tid = clone(worker_run, w->stack + sizeof(w->stack),
			CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_SYSVSEM | CLONE_THREAD, w);
	if (tid < 0)
		return -1;
	char task[64];
	snprintf(task, sizeof(task), "/proc/self/task/%d", tid);
	for (int i = 0; i < 5000 && access(task, F_OK) == 0; i++)
		usleep(1000);
	return access(task, F_OK) == 0 ? -1 : 0;
}

static int fail(const char *what)
{
	fprintf(stderr, "FAIL: %s\n", what);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return fail("usage: records golat-agent.so");
	vdso_clock_fn clk = vdso_clock_gettime();
	struct sys_timespec vts;
	struct timespec lts;
	if (!clk || clk(SYS_CLOCK_MONOTONIC, &vts) != 0 || clock_gettime(CLOCK_MONOTONIC, &lts) != 0 ||
	    lts.tv_sec - vts.sec > 1 || lts.tv_sec < vts.sec)
		return fail("the vDSO's clock_gettime, found without libc, does not agree with libc's");
	char path[] = "/tmp/golat-agent-records-XXXXXX";
	int tfd = mkstemp(path);
	if (tfd < 0)
		return fail("mkstemp");
	close(tfd);
	unlink(path);
	struct statsfile sf;
	char warn[512];
	if (statsfile_create(&sf, path, NULL, warn, sizeof(warn)) != 0 || warn[0])
		return fail(warn[0] ? warn : "statsfile_create");
	if (statsfile_set_fn(&sf, 0, "main.leaf", 0x401000, true) != 0 ||
	    statsfile_set_fn(&sf, 1, "main.moved", 0x402000, true) != 0)
		return fail("statsfile_set_fn");

	void *so = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!so)
		return fail(dlerror());
	int (*init)(struct agent_config *) = (int (*)(struct agent_config *))dlsym(so, "golat_agent_init");
	if (!init)
		return fail("no golat_agent_init");
	static struct agent_config cfg = { .abi = AGENT_ABI, .sample = 1, .g_tls = -8, .stack_hi = 8,
					   .goid = GOID_OFF, .pcbase = 0 };
	snprintf(cfg.stats_path, sizeof(cfg.stats_path), "%s", path);
	if (init(&cfg) != 0) {
		fprintf(stderr, "FAIL: golat_agent_init: %d %s\n", cfg.err, cfg.reason);
		return 1;
	}
	if (!cfg.rec_fast || !cfg.gens || cfg.text_lo >= cfg.text_hi || cfg.rec_fast < cfg.text_lo ||
	    cfg.rec_fast >= cfg.text_hi)
		return fail("golat_agent_init's out fields");
	if (init(&cfg) != 0)
		return fail("a second golat_agent_init");
	rec_fast = cfg.rec_fast;

	/* A goroutine: its stack's top well above ours, goid 1. */
	uint64_t here = (uint64_t)(uintptr_t)__builtin_frame_address(0);
	g[1] = here + 65536;
	g[GOID_OFF / 8] = 1;
	m_tls[0] = (uint64_t)(uintptr_t)g;
	struct tramp_desc moved_entry = { 0, 1, TRAMP_ENTRY };
	g2[1] = (uint64_t)(uintptr_t)(g2_stack + sizeof(g2_stack));
	g2[GOID_OFF / 8] = 2;

	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	uint64_t libc_fs;
	if (syscall(SYS_arch_prctl, ARCH_GET_FS, &libc_fs) != 0)
		return fail("ARCH_GET_FS");
	/* From here to the restore: no libc. */
	sys_call3(158 /* arch_prctl */, ARCH_SET_FS, (long)&m_tls[1], 0);
	for (int i = 0; i < CALLS; i++) {
		hook_call(&entry, cfg.rec_fast);
		hook_call(&exit_, cfg.rec_fast);
	}
	m_tls[0] = (uint64_t)(uintptr_t)g2; /* g2 runs here, then moves */
	hook_call_on(&moved_entry, cfg.rec_fast, G2_SP);
	m_tls[0] = (uint64_t)(uintptr_t)g;
	sys_call3(158, ARCH_SET_FS, (long)libc_fs, 0);
	usleep(2000);
	/* g2 goes on on other threads, signals still blocked (inherited). */
	static struct worker w1 = { .moved = 1 }, w2;
	if (worker(&w1) != 0 || worker(&w2) != 0)
		return fail("a cloned thread did not end");
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (!w1.tls[1] || w2.tls[1] != w1.tls[1])
		return fail("the second cloned thread did not take over the block of the first, which ended");

	const struct tramp_thread *b = (const struct tramp_thread *)(uintptr_t)m_tls[1];
	if (!b)
		return fail("no block at fs:0 after the first recorded call");
	if (b->stack_top != (uint64_t)(uintptr_t)b || b->busy || b->tid != (uint32_t)getpid())
		return fail("the block at fs:0: stack_top, busy or tid");

	struct stats_view v;
	struct stats_snapshot s;
	char err[256];
	if (stats_open(&v, path, err, sizeof(err)) != 0)
		return fail(err);
	if (stats_snapshot(&v, &s) != 0 || s.nfns != 2)
		return fail("stats_snapshot");
	const struct stats_func *f = &s.fns[0], *mv = &s.fns[1];
	printf("entries %llu calls %llu timed %llu threads %u lost %llu\n", (unsigned long long)f->entries,
	       (unsigned long long)f->calls, (unsigned long long)f->timed, s.nthreads, (unsigned long long)s.lost);
	int rc = 0;
	uint64_t want = CALLS + 2 * MORE;
	if (f->entries != want || f->calls != want || f->timed != want || s.nthreads != 3 || s.lost)
		rc = fail("the stats file does not hold every call, timed, from three threads");
	double moved_ms = s.tsc_hz > 0 ? mv->sum / s.tsc_hz * 1e3 : 0;
	printf("main.moved: %llu call, timed %llu, %.3f ms\n", (unsigned long long)mv->calls,
	       (unsigned long long)mv->timed, moved_ms);
	if (mv->calls != 1 || mv->timed != 1 || moved_ms < 2 || moved_ms > 5000)
		rc = fail("main.moved, returned as a new thread's first recorded call, is not timed >= 2 ms");
	stats_snapshot_free(&s);
	stats_close(&v);
	unlink(path);
	if (!rc)
		printf("ok: %d calls recorded by golat-agent.so on an m.tls-style FS, %d on two threads that "
		       "ended, the second in the first's block\n", CALLS, 2 * MORE);
	return rc;
}

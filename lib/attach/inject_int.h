/* inject_int: what the files of lib/attach share (see inject.h for the parts). */
#ifndef GOLAT_INJECT_INT_H
#define GOLAT_INJECT_INT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "arch.h" /* arch_regs */
#include "inject.h" /* inject_die_point */

/* The target process as /proc shows it. */
struct inj_target {
	pid_t pid;
	int memfd;                 /* /proc/PID/mem, read-write */
	uint64_t text_lo, text_hi; /* the executable's executable mapping: its Go code */
	char libc[4096];           /* the mapped file that has dlopen: libc.so.6 */
	uint64_t libc_base;        /* its load bias */
	uint64_t dlopen, dlerror;  /* in the target; dlerror 0: none (glibc < 2.34) */
	bool old_dlopen;           /* dlopen is __libc_dlopen_mode (glibc < 2.34) */
	char musl[256];            /* musl's libc when that is the program's C library */
	uint64_t sys_pc;           /* `syscall; ret` (0f 05 c3) in the text: golat's system calls */
	uint64_t sigret_pc;        /* Go's `mov $15, %rax; syscall`: rt_sigreturn, the way home */
	uint64_t retv_pc;          /* `mov %rax, K(%rsp); ret` in the text: a function's result kept */
	unsigned retv_k;           /* its K */
	bool has_lib;              /* libgolat.so is mapped already */
};

/* inject_proc.c */
int inject_maps(struct inj_target *t, const char *lib, char *err, size_t n);
int inject_text_scan(struct inj_target *t, char *err, size_t n);
int inject_mem_read(const struct inj_target *t, uint64_t addr, void *buf, size_t len);
int inject_mem_write(const struct inj_target *t, uint64_t addr, const void *buf, size_t len);
/* Whether addr lies in a mapping of golat's library in pid (inject_is_golat). */
bool inject_addr_golat(pid_t pid, uint64_t addr);

/* inject_sym.c */
int inject_find_dlopen(struct inj_target *t, char *err, size_t n);
/* The libraries lib needs (DT_NEEDED) that the target's root has in none of the
 * loader's default directories, into out (", " between them; "" when none): what
 * dlopen will miss there. */
void inject_missing_libs(const struct inj_target *t, const char *lib, char *out, size_t n);

/* inject_world.c: every thread of the process stopped, each one only until golat has
 * seen where it is; the one best placed to call dlopen is kept. */
enum inj_stop { INJ_RUNNING, INJ_HELD, INJ_GONE };
struct inj_thread {
	pid_t tid;
	enum inj_stop stop;
	uint64_t asked_ns;            /* when PTRACE_INTERRUPT was sent */
	uint64_t seen_ns;             /* when golat saw it stop */
	arch_regs regs; /* INJ_HELD: as the stop found them */
};
struct inj_world {
	pid_t pid;
	const struct inj_target *target;
	struct inj_thread *t;
	size_t n, cap;
	struct inj_thread best;  /* the thread kept (tid 0: none yet) */
	int best_score;
	unsigned stopped;        /* threads that stopped and were let go */
	uint64_t max_ns;         /* the longest any of them stayed stopped once golat saw it stop */
	unsigned passed;         /* signals passed on while stopping */
	bool group_stop;         /* the process was stopped (SIGSTOP) meanwhile */
};
/* Seizes and interrupts every thread of /proc/PID/task (and those they create
 * meanwhile: PTRACE_O_TRACECLONE), lets each go as soon as it has stopped and been
 * looked at, and keeps the one best placed to call dlopen: stopped with its PC in the
 * Go text (so it holds no libc lock), with a glibc thread block, best in a futex wait.
 * 0 with w->best.tid set (0: no thread fits), or -errno with err set. */
int inject_world_pick(struct inj_world *w, char *err, size_t n);
/* Lets go every thread still held or pending, the one kept too unless it is keep. */
void inject_world_release(struct inj_world *w, pid_t keep);
void inject_world_free(struct inj_world *w);
/* Waits up to ms for a ptrace event of tid (-1: any tracee). The tid, 0 on timeout, or
 * -errno. */
pid_t inject_wait(pid_t tid, int *status, int ms);
uint64_t inject_now_ns(void);
/* Whether the kernel already attached tid of pid to this process (a clone whose event
 * has not been read yet; golat run's own child). */
bool inject_traced_by_us(pid_t pid, pid_t tid);

/* inject_call.c: one stopped thread, run by golat. */
#define INJ_XSTATE_MAX 16384
#define INJ_QUEUE 16
struct inj_call {
	const struct inj_target *t;
	pid_t tid;
	arch_regs regs;   /* as found */
	arch_regs home;   /* regs, an interrupted system call set to run again: restored */
	arch_regs framed; /* the regs the frame home holds (regs may be moved meanwhile) */
	uint64_t park_sp;               /* the frame home on the thread's stack (inject_frame.c) */
	bool away;                      /* the thread's registers or mask are golat's */
	uint8_t xstate[INJ_XSTATE_MAX]; /* x87/SSE/AVX state, as found */
	size_t xlen;
	uint64_t mask;                  /* the blocked signals, as found */
	siginfo_t queue[INJ_QUEUE];     /* signals that came meanwhile, passed on at the end */
	size_t nq;
	unsigned passed;
	bool group_stop;
	bool dead;                      /* the process exited meanwhile */
};
int inject_call_begin(struct inj_call *c, const struct inj_target *t, const struct inj_thread *th,
		      char *err, size_t n);
int inject_syscall(struct inj_call *c, long nr, const uint64_t a[6], uint64_t *ret, char *err, size_t n);
int inject_fn(struct inj_call *c, uint64_t fn, uint64_t a0, uint64_t a1, uint64_t stack_top,
	      int timeout_ms, uint64_t *ret, char *err, size_t n);
/* inject_frame.c: the frame rt_sigreturn takes the thread home with. */
size_t inject_frame_size(const struct inj_call *c);
/* The ucontext of home (and its XSAVE area above it) at uc. 0 or -errno. */
int inject_frame_write(const struct inj_call *c, const arch_regs *home, uint64_t uc);
/* The frame home below the thread's SP (c->park_sp). 0, or -EAGAIN when its stack has no room. */
int inject_frame_home(struct inj_call *c, char *err, size_t n);

/* After a change of c->regs (a thread moved out of a window): the frame home says so
 * too, before golat writes the text that makes the old place wrong. 0 or -errno. */
int inject_call_sync(struct inj_call *c);
/* Puts everything back and sends again what came (to be delivered once the thread
 * runs), leaving the thread stopped. 0 or -errno. */
int inject_call_restore(struct inj_call *c, char *err, size_t n);
/* inject_call_restore, then detaches. 0 or -errno. */
int inject_call_end(struct inj_call *c, char *err, size_t n);

#endif

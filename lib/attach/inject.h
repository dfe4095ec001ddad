/* inject: gets libgolat.so into a running Go program that was started without it,
 * through ptrace (golat attach's second route; the first is the control socket of a
 * program started with the library, control_client.h). The program's own dynamic
 * loader loads it: one of its threads is made to call its libc's dlopen, on a stack
 * golat maps for the call, with its signals blocked meanwhile; then every register,
 * the signal mask and the extended (x87/SSE/AVX) state go back exactly as they were,
 * and ptrace lets go. The library's constructor starts the control socket as for a
 * preloaded one (lib/golat.c), and golat attach goes on through the socket.
 *
 * The library does not come from the target's file system, which may be another one
 * (a container's mount namespace) and read-only: the held thread makes a memfd
 * (memfd_create, MFD_CLOEXEC so that a fork+exec of another thread meanwhile does not
 * carry it into a child), golat writes the library's bytes into it through
 * /proc/PID/fd/N (a new open file description of the same memfd; ptrace access allows
 * it) and seals it, the thread dlopens /proc/self/fd/N and closes N; the mapping keeps
 * the memfd alive. /proc/PID/maps then names it "/memfd:libgolat.so (deleted)"
 * (inject_is_golat). One route for every target, in golat's namespaces or not.
 *
 * Needs a dynamically linked (cgo) program with glibc (dlopen in libc.so.6 since 2.34,
 * __libc_dlopen_mode before), a kernel that lets this user ptrace it, and a seccomp
 * profile that allows mmap, memfd_create and close. Files:
 *   inject.c        the sequence, the lock, what the user reads when it cannot be done
 *   inject_proc.c   the target seen from /proc: its maps, its memory, its text
 *   inject_sym.c    dlopen and dlerror in the target's libc (lib/reader/elfimg)
 *   inject_world.c  stopping every thread (PTRACE_SEIZE, PTRACE_INTERRUPT), each only
 *                   until it is looked at, and keeping the one that will call dlopen
 *   inject_call.c   one thread: saving its state, system calls and function calls
 *                   run on it, signals that arrive meanwhile, restoring it */
#ifndef GOLAT_INJECT_H
#define GOLAT_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct inject_result {
	bool already;       /* libgolat.so was loaded already: nothing was done */
	unsigned nthreads;    /* threads stopped, one at a time */
	uint64_t stop_max_ns; /* the longest any of them but the chosen one stayed stopped,
			       * from golat's waitpid seeing the stop to its PTRACE_DETACH (a
			       * thread may have stopped a little before golat got a CPU) */
	uint64_t looked_ns;   /* from the first PTRACE_SEIZE to the last of them let go */
	int tid;              /* the thread that called dlopen */
	uint64_t held_ns;     /* that thread stopped, dlopen and the library's constructor included */
	unsigned passed;    /* signals that arrived at a stopped thread and were passed on */
	int handler;        /* 1: golat's SIGSEGV handler is in front of Go's (checked in the
			     * target after dlopen), 0: it is not, -1: not checked */
};

/* Loads lib (an absolute path) into process pid. 0 with *r filled, or a negative errno
 * with one sentence for the user in err (no "golat: " prefix):
 *   -ESRCH    pid is gone, or it exited during the injection
 *   -EPERM    the kernel refuses ptrace (the sentence names the setting and the other
 *             way in: LD_PRELOAD or golat run), or /proc/PID/mem cannot be opened, or
 *             the target refused a system call golat needs (the sentence names it:
 *             its seccomp filter, as a rule)
 *   -EBUSY    another golat is attaching to pid now (the lock), or pid is traced already
 *   -ENOEXEC  no glibc with dlopen or __libc_dlopen_mode in pid (musl: said so)
 *   -EAGAIN   no thread could be stopped in Go code (try again)
 *   -EIO      dlopen failed in the target (its dlerror is in the sentence)
 * The process is left as it was in every case but success, where the library is
 * loaded and its control socket starting. */
int inject_golat(pid_t pid, const char *lib, struct inject_result *r, char *err, size_t n);

/* The name of the memfd the library is loaded from: /proc/PID/maps shows
 * "/memfd:" INJECT_MEMFD_NAME " (deleted)". */
#define INJECT_MEMFD_NAME "libgolat.so"

/* Whether path, a mapped file's path as /proc/PID/maps shows it, is golat's library:
 * a file named libgolat.so, or the memfd inject_golat loads it from; either one
 * " (deleted)". */
bool inject_is_golat(const char *path);
/* Whether process pid has golat's library mapped (inject_is_golat). */
bool inject_has_golat(pid_t pid);

/* The sentence for a process the kernel will not let golat ptrace (or open its
 * /proc/PID/mem): which setting refuses it, and the other way in. -EPERM, or -EBUSY
 * when another tracer holds it. */
int inject_refused(pid_t pid, const char *lib, char *err, size_t n);
/* The same for a static program (lib/attach/static.h), whose other way in is golat run. */
int inject_refused_static(pid_t pid, char *err, size_t n);

/* The lock that keeps two golats from working on pid through ptrace at once
 * (/dev/shm/golat-<pid>.attach, else $TMPDIR or /tmp): its descriptor, or -EBUSY (another
 * golat holds it) or -errno, with err set. inject_golat and the static route take it. */
int inject_lock(pid_t pid, char *err, size_t n);
void inject_unlock(pid_t pid, int fd);

/* GOLAT_TEST_DIE_AT=N: golat kills itself (SIGKILL) at the N-th step of an injection
 * that changes the target (and of golat run's start: between its fork and its seizing
 * the child), to prove each step safe against golat's death. GOLAT_TEST_STEPS=FILE:
 * the number of steps taken, written there at exit. */
void inject_die_point(void);

#endif

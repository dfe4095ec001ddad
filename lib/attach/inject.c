/* inject: the sequence that loads libgolat.so into a program started without it (see
 * inject.h), the lock that keeps two golats from doing it at once, and the sentences
 * the user reads when the kernel or the program will not have it. */
#define _GNU_SOURCE
#include "inject.h"
#include "inject_int.h"
#include "proc.h"
#include "target.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CALL_STACK (256u << 10) /* dlopen and the library's constructor run here */
#define DLOPEN_MS 20000         /* the constructor reads the program's function table */

static int read_int(const char *path, int dflt)
{
	FILE *f = fopen(path, "re");
	int v = dflt;
	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = dflt;
		fclose(f);
	}
	return v;
}

/* A number of /proc/PID/status, by its scanf format ("TracerPid: %d"), or dflt. */
static int status_int(pid_t pid, const char *fmt, int dflt)
{
	char path[64], line[128];
	int v = dflt;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, fmt, &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

/* TracerPid of pid: another debugger holds it. */
static int tracer_of(pid_t pid)
{
	return status_int(pid, "TracerPid: %d", 0);
}

/* The sentence for pid, way the other way in. */
static int refused(pid_t pid, const char *way, char *err, size_t n)
{
	int scope = read_int("/proc/sys/kernel/yama/ptrace_scope", -1), tracer = tracer_of(pid);
	if (tracer > 0 && tracer != getpid()) {
		snprintf(err, n, "pid %d is being traced by pid %d (a debugger, or another golat "
			 "attaching): golat can attach when it lets go%s", (int)pid, tracer, way);
		return -EBUSY;
	}
	if (scope == 3)
		snprintf(err, n, "the kernel refuses ptrace to pid %d: kernel.yama.ptrace_scope is 3 (no "
			 "ptrace at all, until a reboot)%s", (int)pid, way);
	else if (scope >= 1)
		snprintf(err, n, "the kernel refuses ptrace to pid %d: kernel.yama.ptrace_scope is %d (%s); "
			 "sysctl kernel.yama.ptrace_scope=0 or CAP_SYS_PTRACE would allow it%s", (int)pid, scope,
			 scope == 1 ? "only a parent may trace its children" : "only CAP_SYS_PTRACE may trace",
			 way);
	else
		snprintf(err, n, "the kernel refuses ptrace to pid %d (EPERM): it is not dumpable "
			 "(prctl PR_SET_DUMPABLE 0, or it changed its credentials), or it has capabilities "
			 "golat's user lacks; CAP_SYS_PTRACE would allow it%s", (int)pid, way);
	return -EPERM;
}

int inject_refused(pid_t pid, const char *lib, char *err, size_t n)
{
	char way[600], e[256];
	struct target t;
	if (target_open(&t, pid, e, sizeof(e)) == 0 && t.other_mnt)
		/* In a container the node's path means nothing: the file must be mounted. */
		snprintf(way, sizeof(way), "; the other way in: mount libgolat.so into its container and "
			 "start it with LD_PRELOAD naming it there (GOLAT_FUNCS may stay unset), and golat "
			 "attach reaches it through its control socket");
	else
		snprintf(way, sizeof(way), "; the other way in: start it with LD_PRELOAD=%s (GOLAT_FUNCS may "
			 "stay unset) or with golat run, and golat attach reaches it through its control socket",
			 lib ? lib : "/path/to/libgolat.so");
	return refused(pid, way, err, n);
}

int inject_refused_static(pid_t pid, char *err, size_t n)
{
	return refused(pid, "; the other way in for a statically linked program: start it with golat run",
		       err, n);
}

/* /dev/shm/golat-<pid>.attach (else $TMPDIR or /tmp): held while golat injects. */
int inject_lock(pid_t pid, char *err, size_t n)
{
	const char *tmp = getenv("TMPDIR");
	const char *dirs[] = { "/dev/shm", tmp && *tmp ? tmp : "/tmp" };
	char path[4200];
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/golat-%d.attach", dirs[i], (int)pid);
		int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		close(fd);
		snprintf(err, n, "another golat is attaching to pid %d now (it holds the lock %s): try "
			 "again when it is done", (int)pid, path);
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	}
	snprintf(err, n, "cannot make a lock file for pid %d in /dev/shm or %s", (int)pid, dirs[1]);
	return -EACCES;
}

void inject_unlock(pid_t pid, int fd)
{
	const char *tmp = getenv("TMPDIR");
	char path[4200];
	snprintf(path, sizeof(path), "/dev/shm/golat-%d.attach", (int)pid);
	unlink(path);
	snprintf(path, sizeof(path), "%s/golat-%d.attach", tmp && *tmp ? tmp : "/tmp", (int)pid);
	unlink(path);
	close(fd);
}

static int inj_open(struct inj_target *t, pid_t pid, const char *lib, char *err, size_t n)
{
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->memfd = -1;
	int rc = inject_maps(t, lib, err, n);
	if (rc || t->has_lib)
		return rc;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	if ((t->memfd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return snprintf(err, n, "pid %d exited", (int)pid), -ESRCH;
		return inject_refused(pid, lib, err, n);
	}
	if ((rc = inject_text_scan(t, err, n)) == 0)
		rc = inject_find_dlopen(t, err, n);
	return rc;
}

/* dlerror's sentence, read from the target; without dlerror, what golat can tell. */
static void dl_reason(struct inj_call *c, const char *lib, uint64_t stack_top, char *out, size_t n)
{
	uint64_t msg = 0;
	char e[256], missing[256];
	if (!c->t->dlerror) {
		inject_missing_libs(c->t, lib, missing, sizeof(missing));
		if (*missing)
			snprintf(out, n, "it needs %s, which pid %d's file system lacks (glibc before 2.34 gives "
				 "no reason: __libc_dlopen_mode keeps it to itself)", missing, (int)c->t->pid);
		else
			snprintf(out, n, "no reason given (glibc before 2.34 keeps __libc_dlopen_mode's to itself; "
				 "a libgolat.so that needs a newer glibc than pid %d's cannot load there)",
				 (int)c->t->pid);
		return;
	}
	snprintf(out, n, "no reason given");
	if (inject_fn(c, c->t->dlerror, 0, 0, stack_top, 2000, &msg, e, sizeof(e)) != 0 || !msg)
		return;
	size_t len = n > 400 ? 400 : n - 1;
	memset(out, 0, n);
	for (size_t i = 0; i < len; i += 8)
		if (inject_mem_read(c->t, msg + i, out + i, len - i < 8 ? len - i : 8) != 0 || memchr(out + i, 0, 8))
			break;
	out[n - 1] = 0;
}

/* After dlopen: does the kernel hold golat's handler for SIGSEGV in the target? It
 * should: the constructor's sigown_init put it in front of the one Go installed. */
static int handler_check(struct inj_call *c, uint64_t buf)
{
	uint64_t a[6] = { SIGSEGV, 0, buf, 8, 0, 0 }, rv, handler = 0;
	char e[256];
	if (inject_syscall(c, SYS_rt_sigaction, a, &rv, e, sizeof(e)) != 0 || rv != 0 ||
	    inject_mem_read(c->t, buf, &handler, 8) != 0)
		return -1;
	return inject_addr_golat(c->t->pid, handler);
}

/* Seccomp: in /proc/PID/status, 2 when a filter is on (0 none, 1 strict, -1 unknown). */
static int seccomp_mode(pid_t pid)
{
	return status_int(pid, "Seccomp: %d", -1);
}

/* ret, the result of system call name run on the held thread: 0, or a sentence that
 * names the call when the target refused it. Under a seccomp filter a forbidden call
 * returns -EPERM (Docker's and podman's SCMP_ACT_ERRNO) or -ENOSYS. */
static int call_result(struct inj_call *c, const char *name, uint64_t ret, char *err, size_t n)
{
	if (ret < (uint64_t)-4095)
		return 0;
	int e = (int)-(int64_t)ret, pid = (int)c->t->pid;
	if ((e == EPERM || e == ENOSYS || e == EACCES) && seccomp_mode(pid) == 2) {
		snprintf(err, n, "pid %d refused %s (%s): its seccomp filter forbids it (Seccomp: 2 in "
			 "/proc/%d/status; a container's seccomp profile, --security-opt seccomp=... or a "
			 "pod's seccompProfile); golat needs mmap, memfd_create and close there; the "
			 "program was left as it was", pid, name, strerrorname_np(e), pid);
		return -EPERM;
	}
	snprintf(err, n, "pid %d refused %s (%s: %s); the program was left as it was", pid, name,
		 strerrorname_np(e), strerror(e));
	return e == EPERM || e == EACCES ? -EPERM : -e;
}

/* A system call golat needs, run on the held thread: 0 with its result in *ret. */
static int need(struct inj_call *c, long nr, const char *name, const uint64_t a[6], uint64_t *ret,
		char *err, size_t n)
{
	int rc = inject_syscall(c, nr, a, ret, err, n);
	return rc ? rc : call_result(c, name, *ret, err, n);
}

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3: executable even where vm.memfd_noexec is 1 */
#endif

/* memfd_create(INJECT_MEMFD_NAME) in the target, name written at buf: its fd. */
static int memfd_make(struct inj_call *c, uint64_t buf, uint64_t *fd, char *err, size_t n)
{
	int rc = inject_mem_write(c->t, buf, INJECT_MEMFD_NAME, sizeof(INJECT_MEMFD_NAME));
	if (rc)
		return snprintf(err, n, "writing to pid %d: %s", (int)c->t->pid, strerror(-rc)), rc;
	uint64_t a[6] = { buf, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC, 0, 0, 0, 0 };
	rc = inject_syscall(c, SYS_memfd_create, a, fd, err, n);
	if (rc == 0 && *fd == (uint64_t)-EINVAL) { /* a kernel before 6.3: no MFD_EXEC, none needed */
		a[1] &= ~(uint64_t)MFD_EXEC;
		rc = inject_syscall(c, SYS_memfd_create, a, fd, err, n);
	}
	if (rc == 0 && *fd == (uint64_t)-EACCES && seccomp_mode(c->t->pid) != 2) {
		snprintf(err, n, "pid %d refused memfd_create with MFD_EXEC (EACCES): vm.memfd_noexec is 2 "
			 "in its PID namespace (no executable memfd); the program was left as it was",
			 (int)c->t->pid);
		return -EPERM;
	}
	return rc ? rc : call_result(c, "memfd_create", *fd, err, n);
}

/* The library's bytes, written into the target's memfd fd through /proc/PID/fd/fd
 * (its own open file description: the target's offset is not moved), then sealed:
 * nobody changes the code between golat's write and dlopen's mmap. */
static int memfd_fill(pid_t pid, int fd, const char *lib, char *err, size_t n)
{
	char path[64], buf[65536];
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	int in = open(lib, O_RDONLY | O_CLOEXEC), out = -1, rc = 0;
	if (in < 0)
		rc = -errno, snprintf(err, n, "cannot read %s: %s", lib, strerror(errno));
	else if ((out = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		rc = -errno, snprintf(err, n, "cannot open pid %d's memfd (%s): %s", (int)pid, path, strerror(errno));
	for (ssize_t k; rc == 0 && (k = read(in, buf, sizeof(buf))) != 0;) {
		if (k < 0 && errno != EINTR)
			rc = -errno;
		for (ssize_t o = 0, w; rc == 0 && o < k; o += w)
			if ((w = write(out, buf + o, (size_t)(k - o))) < 0)
				rc = errno == EINTR ? 0 : -errno, w = 0;
		if (rc)
			snprintf(err, n, "copying %s into pid %d's memfd: %s", lib, (int)pid, strerror(-rc));
	}
	if (rc == 0) /* hardening only: a kernel that cannot seal still loads it */
		(void)fcntl(out, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

/* dlopen("/proc/self/fd/FD", RTLD_NOW) on the held thread, the path written at buf. */
static int dlopen_fd(struct inj_call *c, const char *lib, int fd, uint64_t buf, uint64_t top,
		     char *err, size_t n)
{
	char path[64];
	uint64_t handle = 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int rc = inject_mem_write(c->t, buf, path, strlen(path) + 1);
	if (rc)
		return snprintf(err, n, "writing to pid %d: %s", (int)c->t->pid, strerror(-rc)), rc;
	/* __libc_dlopen_mode is _dl_open as dlopen calls it, and dlopen adds __RTLD_DLOPEN
	 * (dlfcn/dlopen.c): the object counts as opened by dlopen, as with dlopen. */
	uint64_t mode = RTLD_NOW | (c->t->old_dlopen ? 0x80000000u : 0);
	rc = inject_fn(c, c->t->dlopen, buf, mode, top, DLOPEN_MS, &handle, err, n);
	if (rc == 0 && !handle) {
		char why[512];
		dl_reason(c, lib, top, why, sizeof(why));
		snprintf(err, n, "dlopen of %s (as %s, a memfd) failed in pid %d: %s", lib, path,
			 (int)c->t->pid, why);
		rc = -EIO;
	}
	return rc;
}

/* On the chosen thread: a stack, the memfd with the library, dlopen, the check; the
 * memfd's descriptor closed and the stack unmapped, whatever happened. */
static int load(struct inj_call *c, const char *lib, struct inject_result *r, char *err, size_t n)
{
	uint64_t a[6] = { 0, CALL_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0 };
	uint64_t base, fd = (uint64_t)-1;
	int rc = need(c, SYS_mmap, "mmap", a, &base, err, n);
	if (rc)
		return rc;
	uint64_t top = base + CALL_STACK;
	rc = memfd_make(c, base, &fd, err, n);
	if (rc == 0)
		rc = memfd_fill(c->t->pid, (int)fd, lib, err, n);
	if (rc == 0)
		rc = dlopen_fd(c, lib, (int)fd, base, top, err, n);
	if (rc == 0)
		r->handler = handler_check(c, base + 4096);
	if (c->dead || rc == -ETIMEDOUT)
		return rc; /* -ETIMEDOUT: a call may still use the stack: leave it mapped */
	char e[256];
	uint64_t rv, cl[6] = { fd, 0, 0, 0, 0, 0 }, m[6] = { base, CALL_STACK, 0, 0, 0, 0 };
	if (fd < (uint64_t)-4095)
		inject_syscall(c, SYS_close, cl, &rv, e, sizeof(e));
	inject_syscall(c, SYS_munmap, m, &rv, e, sizeof(e));
	return rc;
}

/* Every thread looked at, one kept, the library loaded on it, the thread put back.
 * *untouched: it failed before golat changed anything in the target. */
static int inject_stopped(struct inj_target *t, const char *lib, struct inject_result *r, char *err,
			  size_t n, bool *untouched)
{
	struct inj_world w = { .pid = t->pid, .target = t };
	struct inj_call *c = calloc(1, sizeof(*c));
	uint64_t t0 = inject_now_ns();
	int rc = c ? inject_world_pick(&w, err, n) : -ENOMEM;
	if (rc == -EPERM)
		rc = inject_refused(t->pid, lib, err, n);
	if (rc == 0 && !w.best.tid && w.group_stop) {
		snprintf(err, n, "pid %d is stopped (SIGSTOP or SIGTSTP): golat attaches once it runs "
			 "again (kill -CONT %d)", (int)t->pid, (int)t->pid);
		rc = -EAGAIN;
	} else if (rc == 0 && !w.best.tid) {
		snprintf(err, n, "none of pid %d's %zu threads was stopped in Go code (all in C, or "
			 "exiting): try again", (int)t->pid, w.n);
		rc = -EAGAIN;
	}
	if (rc == 0)
		rc = inject_call_begin(c, t, &w.best, err, n);
	*untouched = rc != 0 && !w.group_stop;
	inject_world_release(&w, rc == 0 ? w.best.tid : 0);
	r->nthreads = (unsigned)w.n;
	r->tid = w.best.tid;
	r->stop_max_ns = w.max_ns;
	r->looked_ns = inject_now_ns() - t0;
	r->passed = w.passed;
	if (rc == 0) {
		rc = load(c, lib, r, err, n);
		char e2[256];
		int rc2 = inject_call_end(c, e2, sizeof(e2));
		if (rc == 0 && rc2) {
			snprintf(err, n, "%s", e2);
			rc = rc2;
		}
		if (c->dead && rc == 0) {
			snprintf(err, n, "pid %d exited during the injection", (int)t->pid);
			rc = -ESRCH;
		}
		r->held_ns = inject_now_ns() - w.best.asked_ns;
		r->passed += c->passed;
	}
	inject_world_free(&w);
	free(c);
	return rc;
}

int inject_golat(pid_t pid, const char *lib, struct inject_result *r, char *err, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->handler = -1;
	if (!lib || access(lib, R_OK) != 0) {
		snprintf(err, n, "golat cannot read %s to load it into pid %d: %s", lib ? lib : "libgolat.so",
			 (int)pid, lib ? strerror(errno) : "no path");
		return -EINVAL;
	}
	int lock = inject_lock(pid, err, n);
	if (lock < 0)
		return lock;
	/* Ctrl-C waits until the thread is back, so that golat says what it did (a golat
	 * killed half way leaves the program running: inject_call.c, "Tracer's death"). */
	sigset_t hold, prev;
	sigemptyset(&hold);
	sigaddset(&hold, SIGINT);
	sigaddset(&hold, SIGTERM);
	sigaddset(&hold, SIGHUP);
	sigaddset(&hold, SIGQUIT);
	sigprocmask(SIG_BLOCK, &hold, &prev);
	struct inj_target t;
	int rc = inj_open(&t, pid, lib, err, n);
	if (rc == 0 && t.has_lib)
		r->already = true; /* another golat loaded it just now */
	else if (rc == 0) {
		/* Refused before anything changed (no thread stopped in Go code, or the one kept
		 * on a stack without room for its way home: inject_frame.c): threads move on, so
		 * look at them again, a few times. */
		bool untouched = false;
		for (int k = 0; k < 5; k++) {
			rc = inject_stopped(&t, lib, r, err, n, &untouched);
			if (rc != -EAGAIN || !untouched || proc_gone((int)pid))
				break;
		}
	}
	if (t.memfd >= 0)
		close(t.memfd);
	if (rc && proc_gone((int)pid)) {
		snprintf(err, n, "pid %d exited during the injection", (int)pid);
		rc = -ESRCH;
	}
	inject_unlock(pid, lock);
	sigprocmask(SIG_SETMASK, &prev, NULL);
	return rc;
}

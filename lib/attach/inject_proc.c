/* inject_proc: the target process as /proc shows it to golat before and during the
 * injection: which mapping is its Go text and which its libc (/proc/PID/maps), its
 * memory (/proc/PID/mem: a tracer's writes there ignore page protections, and need no
 * PTRACE_POKEDATA word by word), and two instructions golat borrows from its text. */
#define _GNU_SOURCE
#include "inject.h"
#include "inject_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int inject_mem_read(const struct inj_target *t, uint64_t addr, void *buf, size_t len)
{
	ssize_t k = pread(t->memfd, buf, len, (off_t)addr);
	return k == (ssize_t)len ? 0 : k < 0 ? -errno : -EIO;
}

int inject_mem_write(const struct inj_target *t, uint64_t addr, const void *buf, size_t len)
{
	ssize_t k = pwrite(t->memfd, buf, len, (off_t)addr);
	int rc = k == (ssize_t)len ? 0 : k < 0 ? -errno : -EIO;
	inject_die_point(); /* one write is whole or absent: a kill between two, tested */
	return rc;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);
	return a >= b && strcmp(s + a - b, tail) == 0;
}

struct maps_line {
	uint64_t lo, hi, off;
	char perms[8], path[4096];
};

static bool parse_line(const char *line, struct maps_line *m)
{
	int pos = 0;
	m->path[0] = 0;
	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %*s%n", &m->lo, &m->hi, m->perms,
		   &m->off, &pos) != 4)
		return false;
	const char *p = line + pos;
	while (*p == ' ')
		p++;
	snprintf(m->path, sizeof(m->path), "%s", p);
	m->path[strcspn(m->path, "\n")] = 0;
	return true;
}

/* A mapped file's path, " (deleted)" taken off: a memfd's always has it, a file
 * replaced on disk (a rebuilt libgolat.so) gets it. */
static void undeleted(const char *path, char *out, size_t n)
{
	snprintf(out, n, "%s", path);
	size_t k = strlen(out), d = strlen(" (deleted)");
	if (k > d && strcmp(out + k - d, " (deleted)") == 0)
		out[k - d] = 0;
}

bool inject_is_golat(const char *path)
{
	char p[4096];
	undeleted(path, p, sizeof(p));
	return ends_with(p, "/libgolat.so") || strcmp(p, "/memfd:" INJECT_MEMFD_NAME) == 0;
}

/* Whether pid maps golat's library: anywhere (any), or at addr. */
static bool maps_golat(pid_t pid, bool any, uint64_t addr)
{
	char path[64], line[4200];
	struct maps_line m;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	bool in = false;
	while (f && !in && fgets(line, sizeof(line), f))
		in = parse_line(line, &m) && (any || (addr >= m.lo && addr < m.hi)) && inject_is_golat(m.path);
	if (f)
		fclose(f);
	return in;
}

bool inject_has_golat(pid_t pid)
{
	return maps_golat(pid, true, 0);
}

/* musl's loader, which is its libc too: /lib/ld-musl-x86_64.so.1 (Alpine also names
 * it libc.musl-x86_64.so.1). */
static bool is_musl(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	/* Alpine maps /lib/ld-musl-x86_64.so.1; Debian's musl, /usr/lib/x86_64-linux-musl/libc.so
	 * (the interpreter's link resolved). glibc's is libc.so.6, never plain libc.so. */
	return strncmp(base, "ld-musl-", 8) == 0 || strncmp(base, "libc.musl-", 10) == 0 ||
	       strcmp(base, "libc.so") == 0 || strstr(path, "-musl/") != NULL;
}

/* A libc that can have dlopen: libc.so.6, or libc-2.NN.so of older layouts. */
static bool is_libc(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	return strcmp(base, "libc.so.6") == 0 || (strncmp(base, "libc-", 5) == 0 && ends_with(base, ".so"));
}

int inject_maps(struct inj_target *t, const char *lib, char *err, size_t n)
{
	char path[64], exe[4096];
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)t->pid);
	ssize_t k = readlink(path, exe, sizeof(exe) - 1);
	exe[k > 0 ? k : 0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)t->pid);
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, n, "cannot read %s: %s", path, strerror(errno));
		return errno == ENOENT ? -ESRCH : -EPERM;
	}
	const char *libbase = lib && strrchr(lib, '/') ? strrchr(lib, '/') : "/libgolat.so";
	char line[4200];
	struct maps_line m;
	t->text_lo = t->text_hi = t->libc_base = 0;
	t->libc[0] = t->musl[0] = 0;
	t->has_lib = false;
	while (fgets(line, sizeof(line), f)) {
		if (!parse_line(line, &m))
			continue;
		if (ends_with(m.path, libbase) || inject_is_golat(m.path))
			t->has_lib = true;
		if (is_musl(m.path) && !t->musl[0])
			snprintf(t->musl, sizeof(t->musl), "%.*s", (int)sizeof(t->musl) - 1, m.path);
		if (*exe && strcmp(m.path, exe) == 0 && m.perms[2] == 'x' && !t->text_lo) {
			t->text_lo = m.lo;
			t->text_hi = m.hi;
		}
		if (is_libc(m.path) && m.off == 0 && !t->libc[0]) {
			snprintf(t->libc, sizeof(t->libc), "%s", m.path);
			t->libc_base = m.lo;
		}
	}
	fclose(f);
	if (!t->text_lo) {
		snprintf(err, n, "pid %d: no executable mapping of its program (%s) in its maps", (int)t->pid, exe);
		return -ENOEXEC;
	}
	if (!t->libc[0] && t->musl[0]) {
		snprintf(err, n, "pid %d uses musl libc (%s): golat's library needs glibc; build the program "
			 "on a glibc base image, or with CGO_ENABLED=0 (golat attaches to a statically linked Go "
			 "program from outside)", (int)t->pid, t->musl);
		return -ENOEXEC;
	}
	if (!t->libc[0]) {
		snprintf(err, n, "pid %d has no C library mapped (a Go program built without cgo): there "
			 "is no dynamic loader to load libgolat.so; start it with golat run", (int)t->pid);
		return -ENOEXEC;
	}
	return 0;
}

bool inject_addr_golat(pid_t pid, uint64_t addr)
{
	return maps_golat(pid, false, addr);
}

/* Three sequences the injection borrows from the Go text, never writes (inject_frame.c
 * says why): `syscall; ret` (runtime.osyield's end), where golat runs a system call of
 * its choosing; Go's `mov $15, %rax; syscall` (rt_sigreturn), the way home; and `mov
 * %rax, K(%rsp); ret` with K one of 8, 16, 24, 40 (a word of the frame whose value does
 * not matter to rt_sigreturn: inject_frame.c), where a function golat calls returns and leaves its result. Found at any
 * byte: decoded from there, they are what they are. Their bytes: arch.h, arch_seq_*. */
int inject_text_scan(struct inj_target *t, char *err, size_t n)
{
	enum { CHUNK = 1 << 16, OVER = 16 };
	const uint8_t *sysret = arch_seq_syscall_ret, *sigret = arch_seq_go_sigreturn;
	_Static_assert(ARCH_SEQ_GO_SIGRETURN_LEN >= ARCH_SEQ_SYSCALL_RET_LEN &&
		       ARCH_SEQ_GO_SIGRETURN_LEN >= ARCH_SEQ_RETV_LEN, "the longest bounds the scan");
	uint8_t *buf = malloc(CHUNK + OVER);
	if (!buf)
		return -ENOMEM;
	t->sys_pc = t->sigret_pc = t->retv_pc = 0;
	for (uint64_t at = t->text_lo; at < t->text_hi && (!t->sys_pc || !t->sigret_pc || !t->retv_pc); at += CHUNK) {
		size_t len = t->text_hi - at < CHUNK + OVER ? t->text_hi - at : CHUNK + OVER;
		int rc = inject_mem_read(t, at, buf, len);
		if (rc) {
			free(buf);
			snprintf(err, n, "cannot read pid %d's text through /proc/%d/mem: %s", (int)t->pid,
				 (int)t->pid, strerror(-rc));
			return rc == -ESRCH || rc == -EIO ? -ESRCH : -EPERM;
		}
		for (size_t i = 0; i + ARCH_SEQ_GO_SIGRETURN_LEN <= len; i++) {
			if (!t->sys_pc && memcmp(buf + i, sysret, ARCH_SEQ_SYSCALL_RET_LEN) == 0)
				t->sys_pc = at + i;
			if (!t->sigret_pc && memcmp(buf + i, sigret, ARCH_SEQ_GO_SIGRETURN_LEN) == 0)
				t->sigret_pc = at + i;
			if (!t->retv_pc && arch_seq_retv(buf + i, &t->retv_k))
				t->retv_pc = at + i;
		}
	}
	free(buf);
	const char *none = !t->sys_pc ? "`syscall; ret`" : !t->sigret_pc ? "Go's rt_sigreturn" :
			   !t->retv_pc ? "`mov %rax, K(%rsp); ret`" : NULL;
	if (none) {
		snprintf(err, n, "pid %d: its text has no %s to borrow", (int)t->pid, none);
		return -ENOEXEC;
	}
	return 0;
}

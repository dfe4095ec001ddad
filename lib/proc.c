/* proc: the readers of /proc (see proc.h for which may run while the world is
 * stopped). The raw ones come first and are built on stw_sys.h alone: no libc call,
 * no errno, no memory but the caller's and the stack; keep it so, stw calls them
 * with threads frozen. The libc ones follow. */
#define _GNU_SOURCE
#include "proc.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "stw_sys.h"

/* ---- raw: safe while the world is stopped ----------------------------------------- */

static int proc_open(const char *path, int flags)
{
	return (int)STW_SYS(SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, 0, 0, 0);
}

static void proc_close(int fd) { STW_SYS(SYS_close, fd, 0, 0, 0, 0, 0); }

/* Reads a stat file (/proc/PID/stat, /proc/self/task/TID/stat) into buf, n bytes with
 * the NUL, and finds in *comm_end the ')' that ends comm, field 2: the last one, for
 * comm may hold spaces and parentheses (NULL when there is none). Returns the bytes
 * read, <= 0 when none. */
static long proc_stat(const char *path, char *buf, size_t n, const char **comm_end)
{
	*comm_end = NULL;
	int fd = proc_open(path, O_RDONLY);
	if (fd < 0)
		return fd;
	long got = STW_SYS(SYS_read, fd, buf, n - 1, 0, 0, 0);
	proc_close(fd);
	if (got <= 0)
		return got;
	buf[got] = 0;
	for (long i = 0; i < got; i++)
		if (buf[i] == ')')
			*comm_end = buf + i;
	return got;
}

char proc_task_state(int tid)
{
	char path[48] = "/proc/self/task/", buf[512], digits[12];
	int nd = 0, len = 16;
	for (int t = tid; t > 0 && nd < 11; t /= 10)
		digits[nd++] = (char)('0' + t % 10);
	while (nd > 0)
		path[len++] = digits[--nd];
	for (const char *t = "/stat"; *t; t++)
		path[len++] = *t;
	path[len] = 0;
	const char *p;
	if (proc_stat(path, buf, sizeof buf, &p) <= 0)
		return 0;
	return p && p[1] == ' ' ? p[2] : '?';
}

static int proc_parse_tid(const char *s)
{
	long v = 0;
	if (*s == 0)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > INT_MAX / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return (int)v;
}

int proc_tasks_open(struct proc_tasks *t, char *buf, size_t cap)
{
	*t = (struct proc_tasks){ .buf = buf, .cap = cap };
	t->fd = proc_open("/proc/self/task", O_RDONLY | O_DIRECTORY);
	return t->fd < 0 ? t->fd : 0;
}

int proc_tasks_rewind(struct proc_tasks *t)
{
	t->nb = t->off = 0;
	long e = STW_SYS(SYS_lseek, t->fd, 0, SEEK_SET, 0, 0, 0);
	return e < 0 ? (int)e : 0;
}

int proc_tasks_next(struct proc_tasks *t)
{
	for (;;) {
		while (t->off < t->nb) {
			/* struct linux_dirent64: ino 8, off 8, reclen 2, type 1, name */
			const char *d = t->buf + t->off;
			t->off += (unsigned char)d[16] | (unsigned char)d[17] << 8; /* d_reclen */
			int tid = proc_parse_tid(d + 19);
			if (tid > 0)
				return tid;
		}
		long nb = STW_SYS(SYS_getdents64, t->fd, t->buf, t->cap, 0, 0, 0);
		if (nb <= 0)
			return (int)nb; /* the end, or -errno */
		t->nb = nb;
		t->off = 0;
	}
}

void proc_tasks_close(struct proc_tasks *t)
{
	proc_close(t->fd);
	t->fd = -1;
}

/* ---- libc: not while the world is stopped ----------------------------------------- */

int proc_task_status(int tid, struct proc_task_status *st)
{
	char path[64], buf[2048];
	*st = (struct proc_task_status){ .name = "?", .state = '?' };
	snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t got = read(fd, buf, sizeof buf - 1);
	int err = got < 0 ? -errno : got == 0 ? -ENODATA : 0;
	close(fd);
	if (err)
		return err;
	buf[got] = 0;
	const char *p;
	if ((p = strstr(buf, "Name:\t")))
		sscanf(p + 6, "%31[^\n]", st->name);
	if ((p = strstr(buf, "State:\t")))
		st->state = p[7];
	if ((p = strstr(buf, "SigBlk:\t")))
		st->sigblk = strtoull(p + 8, NULL, 16);
	return 0;
}

uint64_t proc_start_time(int pid)
{
	char path[64], buf[1024];
	const char *s;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (proc_stat(path, buf, sizeof buf, &s) <= 0)
		return 0;
	for (int field = 2; s && field < 22; field++)
		s = strchr(s + 1, ' ');
	return s ? strtoull(s + 1, NULL, 10) : 0;
}

bool proc_gone(int pid)
{
	char path[64], buf[1024];
	const char *s;
	if (kill(pid, 0) != 0 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (proc_stat(path, buf, sizeof buf, &s) <= 0 || !s)
		return kill(pid, 0) != 0 && errno == ESRCH;
	if (s[1] == ' ' && (s[2] == 'Z' || s[2] == 'X'))
		return true;
	/* Exiting but not yet a zombie: the kernel has dropped its memory, and with it the
	 * executable's link (a kernel thread never has one: PF_KTHREAD, field 9). */
	const char *f = s + 1;
	for (int field = 3; f && field < 9; field++)
		f = strchr(f + 1, ' ');
	char exe[64], target[8];
	snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
	return f && !(strtoull(f + 1, NULL, 10) & 0x00200000u) && readlink(exe, target, sizeof(target)) < 0 &&
	       errno == ENOENT;
}

/* ---- /proc/self/maps -------------------------------------------------------------- */

static const char *proc_hex(const char *p, uint64_t *v)
{
	uint64_t x = 0;
	int digits = 0;
	for (;; p++, digits++) {
		int c = *p, d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			break;
		x = x << 4 | (uint64_t)d;
	}
	*v = x;
	return digits ? p : NULL;
}

/* "lo-hi rwxp …": false for a line that does not start that way. */
static bool proc_maps_line(const char *p, struct proc_vma *v)
{
	if (!(p = proc_hex(p, &v->lo)) || *p++ != '-' || !(p = proc_hex(p, &v->hi)) ||
	    *p++ != ' ' || strlen(p) < 4)
		return false;
	v->prot = (p[0] == 'r' ? PROT_READ : 0) | (p[1] == 'w' ? PROT_WRITE : 0) |
		  (p[2] == 'x' ? PROT_EXEC : 0);
	return v->lo < v->hi;
}

/* The whole file in one malloc'd, NUL-terminated buffer. */
static int proc_slurp(const char *path, char **out, char *reason, size_t rn)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(reason, rn, "cannot open %s: %s", path, strerror(e));
		return -e;
	}
	size_t cap = 16384, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (buf && len + 1 == cap) {
			char *bigger = realloc(buf, cap * 2);
			if (!bigger)
				free(buf);
			buf = bigger;
			cap *= 2;
		}
		if (!buf) {
			close(fd);
			snprintf(reason, rn, "out of memory reading %s", path);
			return -ENOMEM;
		}
		ssize_t got = read(fd, buf + len, cap - 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int e = errno;
			close(fd);
			free(buf);
			snprintf(reason, rn, "cannot read %s: %s", path, strerror(e));
			return -e;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	close(fd);
	buf[len] = 0;
	*out = buf;
	return 0;
}

/* One reading of /proc/PID/maps (pid 0: self), parsed. */
static int maps_once(int pid, struct proc_vma **vmas, size_t *n, char *reason, size_t rn)
{
	char *text = NULL, path[64] = "/proc/self/maps";
	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	int err = proc_slurp(path, &text, reason, rn);
	if (err)
		return err;
	size_t lines = 1;
	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	struct proc_vma *v = malloc(lines * sizeof *v);
	if (!v) {
		free(text);
		snprintf(reason, rn, "out of memory reading %s", path);
		return -ENOMEM;
	}
	size_t k = 0;
	for (char *line = text; *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (proc_maps_line(line, &v[k]))
			k++;
		line = nl ? nl + 1 : line + strlen(line);
	}
	free(text);
	*vmas = v;
	*n = k;
	return 0;
}

static bool maps_sorted(const struct proc_vma *v, size_t k)
{
	for (size_t i = 1; i < k; i++)
		if (v[i].lo < v[i - 1].hi)
			return false;
	return true;
}

int proc_maps(struct proc_vma **vmas, size_t *n, char *reason, size_t rn)
{
	return proc_maps_of(0, vmas, n, reason, rn);
}

int proc_maps_of(int pid, struct proc_vma **vmas, size_t *n, char *reason, size_t rn)
{
	/* The kernel lists mappings in address order, but a file read in several
	 * chunks while other threads map memory (the Go heap grows at 0xc000000000)
	 * can come out torn: entries twice, or out of order. Read again until one
	 * reading is consistent; a binary search depends on it. */
	for (int attempt = 0; attempt < 20; attempt++) {
		int err = maps_once(pid, vmas, n, reason, rn);
		if (err || maps_sorted(*vmas, *n))
			return err;
		free(*vmas);
		*vmas = NULL;
		struct timespec ts = { 0, 200000 };
		nanosleep(&ts, NULL);
	}
	snprintf(reason, rn, "/proc/%s/maps kept changing while it was read", pid ? "PID" : "self");
	return -EAGAIN;
}

const struct proc_vma *proc_vma_find(const struct proc_vma *vmas, size_t n, uint64_t addr)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (addr < vmas[mid].lo)
			hi = mid;
		else if (addr >= vmas[mid].hi)
			lo = mid + 1;
		else
			return &vmas[mid];
	}
	return NULL;
}

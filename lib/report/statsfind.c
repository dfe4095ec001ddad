/* statsfind: the stats files of the processes in other mount namespaces (containers),
 * for the scans that name no pid (`golat serve`, `golat report` and `top` without an
 * argument). See stats_find_other in statsread.h.
 *
 * A container's /dev/shm is its own tmpfs: golat's glob of /dev/shm never sees it. Each
 * mount namespace but golat's is looked into once, through /proc/PID/root of one of
 * its processes (lib/target.h: target_scan), and each directory once whatever the
 * number of namespaces that share it (the containers of a pod, a systemd service with
 * PrivateTmp that still has the host's /dev/shm). A file there is named, and its
 * header says, by the pid the writer sees itself as: the writer is the process of a
 * namespace sharing that directory whose innermost NSpid is that pid and whose start
 * time is the header's (a pid of another container, or a reused one, is not it). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grow.h"
#include "proc.h"
#include "statsread.h"
#include "target.h"

#define NDIRS 2
static const char *const DIRS[NDIRS] = { "/dev/shm", "/tmp" };

/* A directory, by what stat says of it. */
struct dir {
	dev_t dev;
	ino_t ino;
	bool ok; /* could be looked into */
};

/* A mount namespace of the scan: its processes procs[lo, hi), and its directories. */
struct ns {
	size_t lo, hi;
	struct dir dir[NDIRS];
	pid_t via[NDIRS]; /* the process its directory was seen through */
};

struct find {
	const struct target_proc *procs; /* target_scan's, by namespace */
	struct ns *ns;
	size_t nns;
	struct dir *seen; /* directories listed already: golat's own first */
	size_t nseen, seencap;
	struct stats_found *out;
	size_t n, cap;
};

static bool same(const struct dir *a, const struct dir *b)
{
	return a->ok && b->ok && a->dev == b->dev && a->ino == b->ino;
}

/* Whether d is new, then marked as seen: true, false, or -ENOMEM. */
static int first_time(struct find *f, const struct dir *d)
{
	for (size_t i = 0; i < f->nseen; i++)
		if (same(&f->seen[i], d))
			return 0;
	if (array_grow(&f->seen, f->nseen, &f->seencap, sizeof(*f->seen), 8))
		return -ENOMEM;
	f->seen[f->nseen++] = *d;
	return 1;
}

static struct dir dir_of(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return (struct dir){ .ok = false };
	return (struct dir){ st.st_dev, st.st_ino, true };
}

/* golat's own /dev/shm and $TMPDIR: the caller's glob reads them. */
static int own_dirs(struct find *f)
{
	const char *tmp = getenv("TMPDIR");
	const char *mine[] = { "/dev/shm", tmp && *tmp ? tmp : "/tmp" };
	for (size_t i = 0; i < 2; i++) {
		struct dir d = dir_of(mine[i]);
		if (d.ok && first_time(f, &d) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The header's pid and start time of the file at path: false when it is not a
 * regular file with a stats header (nothing followed through a final link). */
static bool read_header(const char *path, uint32_t *pid, uint64_t *start)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW);
	if (fd < 0)
		return false;
	struct stats_header h;
	struct stat st;
	bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		  pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
		  memcmp(h.magic, STATS_MAGIC, sizeof(h.magic)) == 0;
	close(fd);
	if (ok) {
		*pid = h.pid;
		*start = h.start_time;
	}
	return ok;
}

/* The writer of a header of nspid and start time: a process of a namespace whose
 * directory k is d. 0 when none is (it exited), with *uid its uid. */
static pid_t writer(const struct find *f, size_t k, const struct dir *d, uint32_t nspid, uint64_t start,
		    uid_t *uid)
{
	for (size_t i = 0; i < f->nns; i++) {
		if (!same(&f->ns[i].dir[k], d))
			continue;
		for (size_t j = f->ns[i].lo; j < f->ns[i].hi; j++) {
			pid_t pid = f->procs[j].pid;
			struct target t;
			if (target_peek(&t, pid) != 0 || (uint32_t)t.nspid != nspid)
				continue;
			if (start && proc_start_time((int)pid) != start)
				continue; /* another container's pid of the same number, or a reused one */
			*uid = t.uid;
			return pid;
		}
	}
	return 0;
}

/* Adds the golat-*.stats of directory k of namespace ns (d, reachable from here as
 * `here`). 0 or -ENOMEM. */
static int list_dir(struct find *f, size_t k, const struct dir *d, const char *here)
{
	DIR *dp = opendir(here);
	if (!dp)
		return 0;
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(dp)) != NULL) {
		size_t len = strlen(e->d_name);
		if (strncmp(e->d_name, "golat-", 6) != 0 || len < 12 || strcmp(e->d_name + len - 6, ".stats") != 0)
			continue;
		struct stats_found s = { .pid = 0 };
		int w = snprintf(s.path, sizeof(s.path), "%s/%s", here, e->d_name);
		uint64_t start = 0;
		if (w < 0 || (size_t)w >= sizeof(s.path) || !read_header(s.path, &s.nspid, &start))
			continue; /* not a stats file: nothing of it to show */
		s.pid = writer(f, k, d, s.nspid, start, &s.uid);
		if ((rc = array_grow(&f->out, f->n, &f->cap, sizeof(*f->out), 8)) == 0)
			f->out[f->n++] = s;
	}
	closedir(dp);
	return rc;
}

/* Each namespace's directories, through the first of its processes that lets us in
 * (another may have exited meanwhile): two stats per namespace. */
static int group(struct find *f, const struct target_proc *procs, size_t nprocs)
{
	size_t cap = 0;
	for (size_t lo = 0, hi; lo < nprocs; lo = hi) {
		for (hi = lo + 1; hi < nprocs && procs[hi].mnt_dev == procs[lo].mnt_dev &&
				  procs[hi].mnt_ino == procs[lo].mnt_ino;
		     hi++)
			;
		if (array_grow(&f->ns, f->nns, &cap, sizeof(*f->ns), 16))
			return -ENOMEM;
		struct ns *ns = &f->ns[f->nns++];
		*ns = (struct ns){ .lo = lo, .hi = hi };
		for (size_t k = 0; k < NDIRS; k++)
			for (size_t i = lo; i < hi && !ns->dir[k].ok; i++) {
				char here[96];
				if (target_root_path(procs[i].pid, DIRS[k], here, sizeof(here)) != 0)
					continue;
				ns->dir[k] = dir_of(here);
				ns->via[k] = procs[i].pid;
			}
	}
	return 0;
}

/* Lists each directory once: where namespaces share one (a pod's containers share
 * /dev/shm), the first lists it, and the writers are looked for in all of them. */
static int list_all(struct find *f)
{
	for (size_t i = 0; i < f->nns; i++)
		for (size_t k = 0; k < NDIRS; k++) {
			const struct dir *d = &f->ns[i].dir[k];
			int rc = d->ok ? first_time(f, d) : 0;
			if (rc == 1) {
				char here[96];
				rc = target_root_path(f->ns[i].via[k], DIRS[k], here, sizeof(here));
				if (rc == 0)
					rc = list_dir(f, k, d, here);
			}
			if (rc < 0)
				return rc;
		}
	return 0;
}

static int by_pid(const void *a, const void *b)
{
	const struct stats_found *x = a, *y = b;
	/* The exited (pid 0) last; then by path, for a stable order. */
	if ((x->pid == 0) != (y->pid == 0))
		return x->pid == 0 ? 1 : -1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return strcmp(x->path, y->path);
}

int stats_find_other(struct stats_found **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct target_proc *procs;
	size_t nprocs;
	if (target_scan(&procs, &nprocs) != 0)
		return 0; /* no /proc to read: only golat's own directories */
	struct find f = { .procs = procs };
	int rc = own_dirs(&f);
	if (rc == 0)
		rc = group(&f, procs, nprocs);
	if (rc == 0)
		rc = list_all(&f);
	free(procs);
	free(f.ns);
	free(f.seen);
	if (rc) {
		free(f.out);
		return rc;
	}
	if (f.n)
		qsort(f.out, f.n, sizeof(*f.out), by_pid);
	*out = f.out;
	*n = f.n;
	return 0;
}

int stats_open_found(struct stats_view *v, const struct stats_found *f, unsigned flags, char *err,
		     size_t errlen)
{
	int rc = stats_open_owner(v, f->path, flags, f->pid ? f->uid : geteuid(), err, errlen);
	if (rc == 0)
		v->pid_here = f->pid ? (uint32_t)f->pid : STATS_PID_GONE;
	return rc;
}

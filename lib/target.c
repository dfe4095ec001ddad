/* target: reaching a process across namespaces. See target.h. */
#define _GNU_SOURCE
#include "target.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "grow.h"
#include "paths.h"
#include "proc.h"

/* Reads /proc/PID/what into buf (NUL-terminated, at most n - 1 bytes); its length, or
 * a negative errno. */
static ssize_t read_proc(pid_t pid, const char *what, char *buf, size_t n)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t k = 0;
	ssize_t got;
	while (k + 1 < n && (got = read(fd, buf + k, n - 1 - k)) > 0)
		k += (size_t)got;
	close(fd);
	buf[k] = 0;
	return (ssize_t)k;
}

/* Whether pid's namespace of kind (mnt, pid) is another than golat's: 1, 0, or a
 * negative errno when the target's cannot be read. */
static int other_ns(pid_t pid, const char *kind)
{
	char a[64], path[64];
	struct stat sa, sb;
	snprintf(a, sizeof(a), "/proc/self/ns/%s", kind);
	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, kind);
	if (stat(a, &sa) != 0)
		return 0; /* a kernel without namespaces: everything is ours */
	if (stat(path, &sb) != 0)
		return -errno;
	return sa.st_dev != sb.st_dev || sa.st_ino != sb.st_ino;
}

bool target_getenv(pid_t pid, const char *name, char *out, size_t n)
{
	/* Not a __thread buffer: libgolat.so's TLS is initial-exec, and 64 KB of it would
	 * make dlopen into a running program fail ("cannot allocate memory in static TLS
	 * block"), which is how golat attach loads it. */
	enum { ENV_MAX = 65536 };
	char *env = malloc(ENV_MAX);
	size_t len = strlen(name);
	ssize_t k = env ? read_proc(pid, "environ", env, ENV_MAX) : -ENOMEM;
	bool found = false;
	for (char *s = env; !found && k > 0 && s < env + k; s += strlen(s) + 1)
		if (strncmp(s, name, len) == 0 && s[len] == '=') {
			snprintf(out, n, "%s", s + len + 1);
			found = true;
		}
	free(env);
	return found;
}

void target_container_id(const char *cgroup, char *out, size_t n)
{
	*out = 0;
	/* The last run of exactly 64 hex digits: podman's libpod-ID, Docker's docker-ID.scope
	 * or /docker/ID, containerd's cri-containerd-ID.scope, CRI-O's crio-ID.scope. */
	for (const char *p = cgroup; *p; p++) {
		if (!isxdigit((unsigned char)*p) || (p > cgroup && isxdigit((unsigned char)p[-1])))
			continue;
		size_t k = 0;
		while (isxdigit((unsigned char)p[k]))
			k++;
		if (k == 64)
			snprintf(out, n, "%.64s", p);
	}
}

/* The Kubernetes pod and namespace, where the process's environment or its service
 * account says them: POD_NAME/POD_NAMESPACE (the downward API's usual names), else
 * HOSTNAME in a pod (the kubelet sets it to the pod's name) and the namespace file of
 * its service account token. */
static void kubernetes(struct target *t)
{
	char v[8];
	if (!target_getenv(t->pid, "POD_NAME", t->pod, sizeof(t->pod)) &&
	    target_getenv(t->pid, "KUBERNETES_SERVICE_HOST", v, sizeof(v)))
		target_getenv(t->pid, "HOSTNAME", t->pod, sizeof(t->pod));
	if (target_getenv(t->pid, "POD_NAMESPACE", t->k8s_ns, sizeof(t->k8s_ns)) || !t->pod[0])
		return;
	char path[128];
	if (target_path(t, "/var/run/secrets/kubernetes.io/serviceaccount/namespace", path, sizeof(path)) != 0)
		return;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t k = read(fd, t->k8s_ns, sizeof(t->k8s_ns) - 1);
	close(fd);
	t->k8s_ns[k > 0 ? k : 0] = 0;
	t->k8s_ns[strcspn(t->k8s_ns, "\n")] = 0;
}

/* NSpid's last number and the effective uid and gid, from /proc/PID/status. */
static int status(struct target *t)
{
	char buf[8192];
	ssize_t k = read_proc(t->pid, "status", buf, sizeof(buf));
	if (k < 0)
		return (int)k;
	t->nspid = t->pid;
	for (char *line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		unsigned ruid, euid, rgid, egid;
		if (strncmp(line, "NSpid:", 6) == 0) {
			char *p = line + 6, *end;
			for (long v = strtol(p, &end, 10); end != p; v = strtol(p, &end, 10)) {
				t->nspid = (pid_t)v;
				p = end;
			}
		} else if (sscanf(line, "Uid: %u %u", &ruid, &euid) == 2) {
			t->uid = euid;
		} else if (sscanf(line, "Gid: %u %u", &rgid, &egid) == 2) {
			t->gid = egid;
		}
	}
	return 0;
}

int target_open(struct target *t, pid_t pid, char *err, size_t n)
{
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->nspid = pid;
	if (pid <= 0 || proc_gone((int)pid))
		return snprintf(err, n, "no process %d", (int)pid), -ESRCH;
	if (status(t) != 0)
		return snprintf(err, n, "no process %d", (int)pid), -ESRCH;
	int mnt = other_ns(pid, "mnt"), pidns = other_ns(pid, "pid");
	if (mnt < 0 || pidns < 0) {
		if (proc_gone((int)pid))
			return snprintf(err, n, "no process %d", (int)pid), -ESRCH;
		snprintf(err, n, "cannot see pid %d's namespaces (/proc/%d/ns: %s): it belongs to uid %u, "
			 "golat runs as uid %u; run golat as that user, or as root", (int)pid, (int)pid,
			 strerror(mnt < 0 ? -mnt : -pidns), (unsigned)t->uid, (unsigned)geteuid());
		return -EACCES;
	}
	t->other_mnt = mnt == 1;
	t->other_pidns = pidns == 1;
	if (t->other_mnt)
		snprintf(t->root, sizeof(t->root), "/proc/%d/root", (int)pid);
	if (!target_getenv(pid, "TMPDIR", t->tmpdir, sizeof(t->tmpdir)) || !t->tmpdir[0])
		snprintf(t->tmpdir, sizeof(t->tmpdir), "/tmp");
	char cg[4096];
	if (read_proc(pid, "cgroup", cg, sizeof(cg)) > 0)
		target_container_id(cg, t->container, sizeof(t->container));
	kubernetes(t);
	return 0;
}

int target_peek(struct target *t, pid_t pid)
{
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->nspid = pid;
	return pid > 0 && status(t) == 0 ? 0 : -ESRCH;
}

static int by_mnt(const void *a, const void *b)
{
	const struct target_proc *x = a, *y = b;
	if (x->mnt_dev != y->mnt_dev)
		return x->mnt_dev < y->mnt_dev ? -1 : 1;
	if (x->mnt_ino != y->mnt_ino)
		return x->mnt_ino < y->mnt_ino ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* The inode of the mount namespace a link of /proc/PID/ns names ("mnt:[4026531841]"):
 * a readlink, six times cheaper than a stat of it (which makes the kernel find the
 * namespace's nsfs inode), and checked for access by the kernel the same way. 0 when
 * it cannot be read. */
static ino_t mnt_ino(const char *path)
{
	char buf[64];
	ssize_t k = readlink(path, buf, sizeof(buf) - 1);
	if (k <= 5 || strncmp(buf, "mnt:[", 5) != 0)
		return 0;
	buf[k] = 0;
	return (ino_t)strtoull(buf + 5, NULL, 10);
}

int target_scan(struct target_proc **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct stat self;
	ino_t own = mnt_ino("/proc/self/ns/mnt");
	if (stat("/proc/self/ns/mnt", &self) != 0 || !own)
		return 0; /* no namespaces here: every process is in golat's */
	DIR *d = opendir("/proc");
	if (!d)
		return -errno;
	size_t cap = 0;
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		char *end, path[64];
		long pid = strtol(e->d_name, &end, 10);
		if (e->d_name[0] < '1' || e->d_name[0] > '9' || *end || pid > 0x3fffffff)
			continue;
		/* Refused (another user's, not dumpable) or gone: nothing to say, left out.
		 * A kernel thread shares init's namespace. Every namespace is on the one
		 * nsfs: the inode names it. */
		snprintf(path, sizeof(path), "/proc/%ld/ns/mnt", pid);
		ino_t ino = mnt_ino(path);
		if (!ino || ino == own)
			continue;
		if ((rc = array_grow(out, *n, &cap, sizeof(**out), 64)) == 0)
			(*out)[(*n)++] = (struct target_proc){ (pid_t)pid, self.st_dev, ino };
	}
	closedir(d);
	if (rc) {
		free(*out);
		*out = NULL;
		*n = 0;
		return rc;
	}
	if (*n)
		qsort(*out, *n, sizeof(**out), by_mnt);
	return 0;
}

int target_path(const struct target *t, const char *path, char *out, size_t n)
{
	int k = snprintf(out, n, "%s%s", t->root, path);
	return k < 0 || (size_t)k >= n ? -ENAMETOOLONG : 0;
}

int target_root_path(pid_t pid, const char *path, char *out, size_t n)
{
	int k = snprintf(out, n, "/proc/%d/root%s", (int)pid, path);
	return k < 0 || (size_t)k >= n ? -ENAMETOOLONG : 0;
}

int target_cwd_path(const struct target *t, const char *rel, char *out, size_t n)
{
	int k = snprintf(out, n, "/proc/%d/cwd/%s", (int)t->pid, rel);
	return k < 0 || (size_t)k >= n ? -ENAMETOOLONG : 0;
}

pid_t target_path_pid(const char *path)
{
	char *end;
	long pid = strncmp(path, "/proc/", 6) == 0 ? strtol(path + 6, &end, 10) : 0;
	if (pid <= 0 || pid > 0x3fffffff || (strncmp(end, "/root/", 6) != 0 && strncmp(end, "/cwd/", 5) != 0))
		return 0;
	return (pid_t)pid;
}

int target_stats(const struct target *t, int dir, char *inside, char *here, size_t n)
{
	char in[4096];
	int k = snprintf(in, sizeof(in), "%s/golat-%d.stats", dir == 0 ? "/dev/shm" : t->tmpdir, (int)t->nspid);
	if (k < 0 || (size_t)k >= sizeof(in) || (size_t)k >= n)
		return -ENAMETOOLONG;
	if (inside)
		memcpy(inside, in, (size_t)k + 1);
	return target_path(t, in, here, n);
}

int target_open_dir(const struct target *t, const char *dir)
{
	if (!t->root[0]) {
		int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	int root = open(t->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return -errno;
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
	long fd = syscall(SYS_openat2, root, dir, &how, sizeof(how));
	int e = errno;
	if (fd < 0 && (e == ENOSYS || e == EPERM)) {
		/* Before Linux 5.6, or a seccomp profile older than openat2 (EPERM: an
		 * O_PATH open is otherwise refused with EACCES): the last component at
		 * least is no link. */
		fd = openat(root, dir[0] == '/' ? dir + 1 : dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		e = errno;
	}
	close(root);
	return fd < 0 ? -e : (int)fd;
}

int target_socket(const struct target *t, int dir, char *here, size_t n)
{
	char in[256];
	if (paths_control_socket(in, sizeof(in), (int)t->nspid, dir, t->tmpdir) != 0)
		return -ENAMETOOLONG;
	char out[512];
	if (target_path(t, in, out, sizeof(out)) != 0 || strlen(out) >= sizeof(((struct sockaddr_un *)0)->sun_path) ||
	    strlen(out) >= n)
		return -ENAMETOOLONG;
	memcpy(here, out, strlen(out) + 1);
	return 0;
}

const char *target_where(const struct target *t, char *buf, size_t n)
{
	if (t->container[0])
		snprintf(buf, n, " (in container %.12s)", t->container);
	else if (t->other_mnt || t->other_pidns)
		snprintf(buf, n, " (in other namespaces, pid %d there)", (int)t->nspid);
	else
		snprintf(buf, n, "%s", "");
	return buf;
}

/* target: how golat reaches a process named by a PID, wherever it runs (STYLE.md:
 * namespaces are a property of a target, not of a verb). Every verb that takes a PID
 * (attach, detach, report, top, serve) goes through here.
 *
 * A process in a container differs from one beside golat in three ways that matter:
 *  - its own mount namespace: the paths it knows (its /dev/shm, its TMPDIR, the files
 *    golat asks it to open) are not golat's. From here they are under /proc/PID/root,
 *    which the kernel resolves in the target's root (ptrace-level access needed).
 *  - its own PID namespace: it knows itself by another number, the last of NSpid in
 *    /proc/PID/status. Its stats file and control socket are named by that number.
 *  - its own user namespace (rootless containers): its uids as the kernel shows them
 *    here (/proc/PID/status Uid) are the ones permission checks use.
 * A target in golat's own namespaces has root "" and nspid == pid: every path is
 * used as it is, as before containers.
 *
 * Who golat runs as changes nothing here: from the host (pid is the host's), from a
 * debug container sharing the PID namespace (pid 1 is the service, root is its
 * /proc/1/root), or inside the service's own container (same namespaces). */
#ifndef GOLAT_TARGET_H
#define GOLAT_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct target {
	pid_t pid;          /* as golat sees it */
	pid_t nspid;        /* as the process sees itself (innermost NSpid) */
	bool other_mnt;     /* its mount namespace is not golat's */
	bool other_pidns;   /* its PID namespace is not golat's (nspid may still equal pid) */
	char root[32];      /* "/proc/PID/root" when other_mnt, else "" */
	uid_t uid;          /* its effective uid, as golat's user namespace sees it */
	gid_t gid;          /* its effective gid, likewise */
	char tmpdir[256];   /* its $TMPDIR as it sees it, "/tmp" when unset */
	char container[72]; /* the container id its cgroup names (64 hex digits), "" when none */
	char pod[128];      /* Kubernetes pod name, where its environment says it ("" else) */
	char k8s_ns[128];   /* Kubernetes namespace, likewise */
};

/* Fills *t for pid. 0, or a negative errno with one sentence in err (no "golat: "):
 *   -ESRCH  no such process (or only its zombie)
 *   -EACCES its namespaces cannot be read by this user (another user's process, or
 *           not dumpable): the sentence says so
 * A namespace that cannot be compared (no /proc/PID/ns) counts as golat's own. */
int target_open(struct target *t, pid_t pid, char *err, size_t n);

/* path, an absolute path as the target sees it, made reachable from here: itself, or
 * under t->root. 0, or -ENAMETOOLONG. */
int target_path(const struct target *t, const char *path, char *out, size_t n);

/* path, as process pid sees it, reached through its root from here
 * ("/proc/PID/root" + path), whatever namespace it is in: for scans that know only a
 * pid (target_scan). 0, or -ENAMETOOLONG. */
int target_root_path(pid_t pid, const char *path, char *out, size_t n);

/* A path relative to the target's working directory, reachable from here
 * (/proc/PID/cwd/rel: the kernel resolves it in its mount namespace). 0, or
 * -ENAMETOOLONG. */
int target_cwd_path(const struct target *t, const char *rel, char *out, size_t n);

/* The pid whose root or working directory path goes through ("/proc/PID/root/..."
 * or "/proc/PID/cwd/..."), or 0 when it names none. */
pid_t target_path_pid(const char *path);

/* The target's default stats file (dir 0: /dev/shm, 1: its TMPDIR), as the target names
 * it (inside, may be NULL) and as golat reaches it (here). 0 or -ENAMETOOLONG. */
int target_stats(const struct target *t, int dir, char *inside, char *here, size_t n);

/* The directory dir (an absolute path as the target sees it) opened O_PATH from here,
 * every symbolic link in it resolved inside the target's root (openat2's
 * RESOLVE_IN_ROOT: a container's link to "/etc" stays in the container), for a file
 * golat makes there with openat. Its fd, or a negative errno. */
int target_open_dir(const struct target *t, const char *dir);

/* The target's control socket (dir 0: /dev/shm, 1: its TMPDIR), reachable from here.
 * 0, or -ENAMETOOLONG (a socket path has room for 107 bytes). */
int target_socket(const struct target *t, int dir, char *here, size_t n);

/* The value of variable name in the target's environment (as it started), or false. */
bool target_getenv(pid_t pid, const char *name, char *out, size_t n);

/* The container id in cgroup file contents (podman, Docker, containerd, CRI-O:
 * "libpod-<64 hex>", "docker-<64 hex>.scope", "/docker/<64 hex>", "cri-containerd-<id>"
 * ...): the last 64-hex-digit word of the last line that has one. "" when none. */
void target_container_id(const char *cgroup, char *out, size_t n);

/* Only what a scan of many processes needs, cheaply: t->pid, nspid, uid and gid, from
 * /proc/PID/status alone (the rest of *t zero: no namespace, environment or cgroup
 * read). 0, or -ESRCH when there is no such process. */
int target_peek(struct target *t, pid_t pid);

/* A process of target_scan: its mount namespace, as a stat of /proc/PID/ns/mnt names it. */
struct target_proc {
	pid_t pid;
	dev_t mnt_dev;
	ino_t mnt_ino;
};

/* Every process in a mount namespace other than golat's that this user may look
 * into, sorted by namespace, then pid, into *out (malloc'ed; *n of them): where the
 * scans of `golat serve` and of `report`/`top` without a pid find the stats files of
 * containers. A process whose namespace this user may not read (another user's, or
 * not dumpable: the kernel refuses /proc/PID/ns and /proc/PID/root alike), a kernel
 * thread and one that exits meanwhile are left out, silently. One readlink per
 * process: 500 cost about 4 ms on a loaded machine. 0, or a negative errno (/proc
 * unreadable, -ENOMEM). */
int target_scan(struct target_proc **out, size_t *n);

/* "" or " (in container 1a2b3c4d5e6f)": for sentences the user reads. */
const char *target_where(const struct target *t, char *buf, size_t n);

#endif

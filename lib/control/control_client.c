/* control_client: the golat command's side of the control protocol. See
 * control_client.h; the protocol is control.h's. */
#define _GNU_SOURCE /* strerrorname_np */
#include "control_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "gobin.h"
#include "grow.h"
#include "inject.h"
#include "proc.h"
#include "target.h"

/* "1234 (name)", the name from /proc/<pid>/comm. */
static const char *who(pid_t pid, char *buf, size_t n)
{
	char path[64], comm[64] = "";
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	FILE *f = fopen(path, "re");
	if (f && fgets(comm, sizeof(comm), f))
		comm[strcspn(comm, "\n")] = 0;
	if (f)
		fclose(f);
	snprintf(buf, n, *comm ? "pid %d (%s)" : "pid %d", (int)pid, comm);
	return buf;
}

static bool gone(pid_t pid)
{
	return proc_gone((int)pid);
}

static int fail(char *err, size_t n, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t n, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return rc;
}

/* Reads until buf holds a whole line; its length (LF excluded), or a negative errno. */
static ssize_t read_line(struct ctl_conn *c, size_t from)
{
	for (;;) {
		char *nl = c->nbuf > from ? memchr(c->buf + from, '\n', c->nbuf - from) : NULL;
		if (nl)
			return nl - (c->buf + from);
		if (array_grow(&c->buf, c->nbuf, &c->cap, 1, 65536))
			return -ENOMEM;
		ssize_t k = recv(c->fd, c->buf + c->nbuf, c->cap - c->nbuf, 0);
		if (k < 0 && errno == EINTR)
			continue; /* a reply is read whole, Ctrl-C or not */
		if (k <= 0)
			return k == 0 ? -ECONNRESET : -errno;
		c->nbuf += (size_t)k;
	}
}

/* Takes the first len + 1 bytes out of the buffer. */
static void consume(struct ctl_conn *c, size_t len)
{
	memmove(c->buf, c->buf + len, c->nbuf - len);
	c->nbuf -= len;
}

static int errno_named(const char *name)
{
	for (int e = 1; e < 256; e++) {
		const char *s = strerrorname_np(e);
		if (s && strcmp(s, name) == 0)
			return -e;
	}
	return -EIO;
}

/* Connects to path; on success reads the greeting. */
static int try_socket(struct ctl_conn *c, const char *path, char *err, size_t n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.107s", path); /* target_socket: it fits */
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return fail(err, n, -errno, "socket: %s", strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		close(c->fd);
		c->fd = -1;
		return -e;
	}
	snprintf(c->path, sizeof(c->path), "%.127s", path);
	ssize_t len = read_line(c, 0);
	char w[64];
	if (len < 0)
		return fail(err, n, -ECONNRESET, "%s closed the connection at once (it exited?)",
			    who(c->pid, w, sizeof(w)));
	c->buf[len] = 0;
	int rc = 0;
	if (strncmp(c->buf, "error\t", 6) == 0) {
		const char *why = strchr(c->buf + 6, '\t');
		rc = fail(err, n, -EPERM, "%s refused the connection: %s", who(c->pid, w, sizeof(w)),
			  why ? why + 1 : c->buf + 6);
	} else if (strncmp(c->buf, "golat\t", 6) != 0 || !strstr(c->buf, "\tcontrol=1")) {
		rc = fail(err, n, -EPROTO, "%s: %s does not speak golat's control protocol 1 ('%.60s')",
			  who(c->pid, w, sizeof(w)), path, c->buf);
	}
	consume(c, (size_t)len + 1);
	return rc;
}

/* Why pid has no control socket we can use: one sentence. */
static int diagnose(struct ctl_conn *c, const char *lib, const char *stale, const char *paths,
		    char *err, size_t n)
{
	pid_t pid = c->pid;
	char w[64];
	struct stat st;
	who(pid, w, sizeof(w));
	if (gone(pid))
		return fail(err, n, -ESRCH, "no process %d (it exited?)", (int)pid);
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/%d", (int)pid);
	if (stat(proc, &st) == 0 && geteuid() != 0 && st.st_uid != geteuid()) {
		struct passwd *pw = getpwuid(st.st_uid);
		return fail(err, n, -EPERM, "%s belongs to %s (uid %d): golat attaches only to processes "
			    "of its own user, or as root", w, pw ? pw->pw_name : "another user",
			    (int)st.st_uid);
	}
	char exe[64], why[512];
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	struct gobin gb;
	int rc = gobin_open(&gb, exe, why, sizeof(why));
	if (rc && gone(pid))
		return fail(err, n, -ESRCH, "no process %d (it exited)", (int)pid);
	if (rc == -EACCES)
		return fail(err, n, -EACCES, "%s: cannot read its executable: %s", w, strerror(EACCES));
	if (rc) {
		const char *r = strstr(why, "not a Go binary: ");
		return fail(err, n, -ENOEXEC, "%s is not a Go program (%s)", w, r ? r + 17 : why);
	}
	bool nolibc = gb.nolibc;
	gobin_close(&gb);
	/* Is libgolat.so mapped? /proc/<pid>/maps names every mapped file (and the memfd
	 * golat attach loads it from: inject.h). */
	bool loaded = inject_has_golat(pid);
	if (!loaded && nolibc)
		return fail(err, n, -EOPNOTSUPP, "%s is a Go program without libc (statically linked, or built without cgo): it has no "
			    "libgolat.so to talk to (golat attach and golat detach work on it through "
			    "ptrace, golat run from its start)", w);
	if (!loaded)
		return fail(err, n, -ENOENT, "%s was not started with libgolat.so and has not loaded it "
			    "since (golat attach loads it through ptrace; or start it with LD_PRELOAD=%s, "
			    "GOLAT_FUNCS may stay unset, or with golat run)", w,
			    lib ? lib : "/path/to/libgolat.so");
	if (*stale)
		return fail(err, n, -ECONNREFUSED, "%s has libgolat.so loaded, but its control socket %s "
			    "refuses connections", w, stale);
	return fail(err, n, -ENOTCONN, "%s has libgolat.so loaded but no control socket (%s): it "
		    "could not make one (run it with GOLAT_LOG=debug to see why), or its golat is "
		    "older than this command", w, paths);
}

static int open_conn(struct ctl_conn *c, pid_t pid, const char *lib, char *err, size_t n)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->pid = pid;
	if (pid <= 0 || gone(pid))
		return fail(err, n, -ESRCH, "no process %d", (int)pid);
	/* Its namespaces unreadable (another user's, or not dumpable): only its own could
	 * be, so it is looked for as a process beside golat, and diagnose says why not. */
	char why[256], path[2][128], stale[128] = "", paths[300] = "";
	if (target_open(&c->target, pid, why, sizeof(why)) == -ESRCH)
		return fail(err, n, -ESRCH, "no process %d", (int)pid);
	for (int d = 0; d < 2; d++) {
		if (target_socket(&c->target, d, path[d], sizeof(path[d])) != 0 ||
		    (d == 1 && strcmp(path[0], path[1]) == 0))
			continue;
		snprintf(paths + strlen(paths), sizeof(paths) - strlen(paths), "%s%s", d ? ", " : "",
			 path[d]);
		struct stat st;
		if (lstat(path[d], &st) != 0 || !S_ISSOCK(st.st_mode))
			continue;
		int rc = try_socket(c, path[d], err, n);
		if (rc == 0 || (rc != -ECONNREFUSED && rc != -EACCES && rc != -ENOENT))
			return rc;
		if (rc == -EACCES && geteuid() != st.st_uid) {
			char w[64];
			struct passwd *pw = getpwuid(st.st_uid);
			return fail(err, n, -EPERM, "%s belongs to %s (uid %d): golat attaches only to "
				    "processes of its own user, or as root", who(pid, w, sizeof(w)),
				    pw ? pw->pw_name : "another user", (int)st.st_uid);
		}
		if (rc == -ECONNREFUSED)
			snprintf(stale, sizeof(stale), "%.127s", path[d]);
	}
	return diagnose(c, lib, stale, paths, err, n);
}

int ctl_open(struct ctl_conn *c, pid_t pid, const char *lib, char *err, size_t n)
{
	int rc = open_conn(c, pid, lib, err, n);
	if (rc)
		ctl_close(c); /* a refused greeting leaves its buffer behind */
	return rc;
}

int ctl_call(struct ctl_conn *c, const char *req, struct ctl_reply *r, char *err, size_t n)
{
	memset(r, 0, sizeof(*r));
	size_t len = strlen(req);
	char *line = malloc(len + 1);
	if (!line)
		return fail(err, n, -ENOMEM, "out of memory");
	memcpy(line, req, len);
	line[len] = '\n';
	size_t off = 0;
	while (off < len + 1) {
		ssize_t k = send(c->fd, line + off, len + 1 - off, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			free(line);
			return fail(err, n, -ECONNRESET, "the connection closed (the process exited?)");
		}
		off += (size_t)k;
	}
	free(line);
	/* Lines until the final one (ok or error). */
	size_t at = 0;
	ssize_t k;
	for (;;) {
		if ((k = read_line(c, at)) < 0)
			return fail(err, n, (int)k, "the connection closed before the reply ended (the "
				    "process exited?)");
		const char *l = c->buf + at;
		bool final = (k >= 2 && strncmp(l, "ok", 2) == 0 && (k == 2 || l[2] == '\t')) ||
			     (k >= 6 && strncmp(l, "error\t", 6) == 0);
		at += (size_t)k + 1;
		if (final)
			break;
	}
	if (!(r->text = malloc(at + 1)))
		return fail(err, n, -ENOMEM, "out of memory");
	memcpy(r->text, c->buf, at);
	r->text[at] = 0;
	consume(c, at);
	size_t nlines = 0;
	for (size_t i = 0; i < at; i++)
		nlines += r->text[i] == '\n';
	r->recs = calloc(nlines ? nlines : 1, sizeof(*r->recs));
	if (!r->recs)
		return fail(err, n, -ENOMEM, "out of memory");
	char *s = r->text;
	for (size_t i = 0; i < nlines; i++) {
		char *nl = strchr(s, '\n');
		*nl = 0;
		if (i + 1 == nlines) {
			r->last = s;
			break;
		}
		struct ctl_rec *rec = &r->recs[r->nrecs++];
		rec->kind = s;
		for (char *t = strchr(s, '\t'); t && rec->nf < 4; t = strchr(t + 1, '\t')) {
			*t = 0;
			rec->f[rec->nf++] = t + 1;
		}
		s = nl + 1;
	}
	r->ok = strncmp(r->last, "ok", 2) == 0;
	if (!r->ok) {
		char *name = r->last + 6, *why = strchr(name, '\t');
		if (why)
			*why++ = 0;
		r->err = errno_named(name);
		snprintf(r->why, sizeof(r->why), "%s", why ? why : name);
	}
	return 0;
}

uint64_t ctl_key(const struct ctl_reply *r, const char *key, uint64_t dflt)
{
	size_t k = strlen(key);
	for (const char *p = r->last ? strchr(r->last, '\t') : NULL; p; p = strchr(p + 1, '\t'))
		if (strncmp(p + 1, key, k) == 0 && p[1 + k] == '=')
			return strtoull(p + 2 + k, NULL, 10);
	return dflt;
}

void ctl_reply_free(struct ctl_reply *r)
{
	free(r->recs);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

void ctl_close(struct ctl_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

int ctl_wait_closed(struct ctl_conn *c, int ms)
{
	struct pollfd p = { c->fd, POLLIN, 0 };
	int k = poll(&p, 1, ms);
	if (k < 0)
		return errno == EINTR ? -EINTR : -errno;
	return k > 0;
}

/* control: the control socket's file, its thread and its connections. The requests
 * themselves are answered in control_req.c. See control.h. */
#define _GNU_SOURCE
#include "control.h"
#include "control_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "golat.h"
#include "log.h"
#include "paths.h"
#include "stw.h"

struct control C;

static int sun_of(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

/* What is at path may be replaced: nothing, or our own socket that nobody answers
 * (its process is gone: a pid is reused, the file stays). 0 when the path is free
 * now, else a negative errno with why. */
static int clear_stale(const char *path, char *why, size_t n)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : (snprintf(why, n, "%s: %s", path, strerror(errno)), -errno);
	if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid()) {
		snprintf(why, n, "%s exists and is not a socket of ours: left alone", path);
		return -EEXIST;
	}
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || sun_of(&sa, path) != 0) {
		if (fd >= 0)
			close(fd);
		snprintf(why, n, "%s: cannot check it", path);
		return -EEXIST;
	}
	int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)), e = errno;
	close(fd);
	if (rc == 0 || e != ECONNREFUSED) {
		snprintf(why, n, "%s is in use (is golat loaded twice?)", path);
		return -EADDRINUSE;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		snprintf(why, n, "cannot remove the stale %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Makes the listening socket at path: bound in a fresh 0700 directory beside it, set
 * to 0600 there, then linked into place (link never replaces nor follows). */
static int make_socket(const char *path, char *why, size_t n)
{
	char dir[128], tmp[160];
	const char *slash = strrchr(path, '/');
	int k = snprintf(dir, sizeof(dir), "%.*s/.golat-%d.XXXXXX", (int)(slash - path), path,
			 (int)getpid());
	struct sockaddr_un sa;
	if (k < 0 || (size_t)k >= sizeof(dir) || !mkdtemp(dir)) {
		int e = k < 0 || (size_t)k >= sizeof(dir) ? ENAMETOOLONG : errno;
		snprintf(why, n, "cannot make a directory beside %s: %s", path, strerror(e));
		return -e;
	}
	snprintf(tmp, sizeof(tmp), "%s/s", dir);
	errno = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), rc = 0;
	struct stat st;
	if (fd < 0 || sun_of(&sa, tmp) != 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    chmod(tmp, 0600) != 0 || listen(fd, 16) != 0 || lstat(tmp, &st) != 0) {
		rc = -(errno ? errno : ENAMETOOLONG);
		snprintf(why, n, "cannot make a socket in %s: %s", dir, strerror(-rc));
	} else if ((rc = clear_stale(path, why, n)) == 0 && link(tmp, path) != 0) {
		rc = -errno;
		snprintf(why, n, "cannot put the socket at %s: %s", path, strerror(errno));
	}
	unlink(tmp);
	rmdir(dir);
	if (rc) {
		if (fd >= 0)
			close(fd);
		return rc;
	}
	C.dev = st.st_dev;
	C.ino = st.st_ino;
	snprintf(C.path, sizeof(C.path), "%s", path);
	return fd;
}

/* Sends all of buf, waiting at most 5 s for room each time: a client that stops
 * reading loses its connection, it does not stall the server. */
int control_send(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t k = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k > 0) {
			buf += k;
			len -= (size_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		struct pollfd p = { fd, POLLOUT, 0 };
		if (k < 0 && errno == EAGAIN && poll(&p, 1, 5000) == 1 && !(p.revents & (POLLERR | POLLHUP)))
			continue;
		return -EPIPE;
	}
	return 0;
}

/* The uid the kernel shows for one our user namespace does not map
 * (/proc/sys/kernel/overflowuid; 65534 unless changed). */
static uid_t overflow_uid(void)
{
	char buf[32] = "";
	int fd = open("/proc/sys/kernel/overflowuid", O_RDONLY | O_CLOEXEC);
	ssize_t k = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	return k > 0 ? (uid_t)strtoul(buf, NULL, 10) : 65534;
}

/* Whether the peer may control us: our uid, or root. Or golat as root of the host
 * reaching us in a container with a user namespace of its own (podman --uidmap,
 * rootless, Kubernetes user namespaces) through /proc/PID/root: our namespace does not
 * map its uid (the kernel shows overflowuid) and our PID namespace does not see it
 * (pid 0). Such a peer got through our socket's 0600, whose owner is our uid (mapped,
 * so not its): only CAP_DAC_OVERRIDE over us lets it, root of a namespace above ours. */
static bool peer_allowed(const struct ucred *cr)
{
	if (cr->uid == geteuid() || cr->uid == 0)
		return true;
	return cr->pid == 0 && cr->uid == overflow_uid();
}

/* Accepts one connection: its peer must be our uid or root (peer_allowed). */
static void accept_one(void)
{
	int fd = accept4(C.lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	struct ucred cr;
	socklen_t len = sizeof(cr);
	char line[256];
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 || !peer_allowed(&cr)) {
		bool got = len == sizeof(cr);
		snprintf(line, sizeof(line), "error\tEPERM\tuid %d may not control pid %d (uid %d): only its "
			 "user or root\n", got ? (int)cr.uid : -1, (int)getpid(), (int)geteuid());
		control_send(fd, line, strlen(line));
		close(fd);
		log_info("control: refused a connection from pid %d, uid %d", got ? (int)cr.pid : -1,
			 got ? (int)cr.uid : -1);
		return;
	}
	struct control_conn *c = NULL;
	for (size_t i = 0; !c && i < CONTROL_MAX_CONNS; i++)
		c = C.conns[i].fd < 0 ? &C.conns[i] : NULL;
	if (!c) {
		snprintf(line, sizeof(line), "error\tEBUSY\t%d connections are open already\n",
			 CONTROL_MAX_CONNS);
		control_send(fd, line, strlen(line));
		close(fd);
		return;
	}
	*c = (struct control_conn){ .fd = fd, .pid = cr.pid, .uid = cr.uid };
	snprintf(line, sizeof(line), "golat\tcontrol=%d\tpid=%d\tlib=%s\n", CONTROL_PROTOCOL,
		 (int)getpid(), golat_version());
	if (control_send(fd, line, strlen(line)) != 0)
		control_close(c);
}

void control_close(struct control_conn *c)
{
	if (c->nwin || c->nkept)
		control_end_window(c, false);
	close(c->fd);
	free(c->in);
	free(c->win);
	free(c->kept);
	*c = (struct control_conn){ .fd = -1 };
}

/* Reads what c sent and answers every whole line; closes c at its end. */
static void read_conn(struct control_conn *c)
{
	if (!c->in && !(c->in = malloc(CONTROL_MAX_LINE + 1))) {
		control_close(c);
		return;
	}
	ssize_t k = recv(c->fd, c->in + c->nin, CONTROL_MAX_LINE - c->nin, 0);
	if (k < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (k <= 0) {
		control_close(c);
		return;
	}
	c->nin += (size_t)k;
	char *nl;
	while (c->fd >= 0 && (nl = memchr(c->in, '\n', c->nin)) != NULL) {
		*nl = 0;
		size_t used = (size_t)(nl - c->in) + 1;
		control_request(c, c->in);
		if (c->fd < 0)
			return;
		memmove(c->in, c->in + used, c->nin - used);
		c->nin -= used;
	}
	if (c->nin == CONTROL_MAX_LINE) {
		static const char e[] = "error\tE2BIG\ta request is one line of at most 65536 bytes\n";
		control_send(c->fd, e, sizeof(e) - 1);
		control_close(c);
	}
}

/* A program that exits with nothing hooked has no exit hook of golat's to remove its
 * socket (hook_idle took it out, so that the code is as before): its file stays, and
 * nobody answers it. The next program of this user that starts golat's control removes
 * such sockets of the same directory, once, off the program's path (on this thread):
 * a socket of ours, named like ours, that refuses connections. */
static void sweep_stale(void)
{
	char dir[128];
	const char *slash = strrchr(C.path, '/');
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - C.path), C.path);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		int pid, end = 0;
		char path[256], why[512];
		if (sscanf(e->d_name, "golat-%d.sock%n", &pid, &end) != 1 || e->d_name[end] ||
		    pid == (int)getpid())
			continue;
		snprintf(path, sizeof(path), "%s/%.100s", dir, e->d_name);
		if (clear_stale(path, why, sizeof(why)) == 0)
			log_debug("control: removed the stale socket %s", path);
	}
	closedir(d);
}

static void *serve(void *arg)
{
	(void)arg;
	sweep_stale();
	struct pollfd p[1 + CONTROL_MAX_CONNS];
	for (;;) {
		size_t np = 0;
		p[np++] = (struct pollfd){ C.lfd, POLLIN, 0 };
		for (size_t i = 0; i < CONTROL_MAX_CONNS; i++)
			if (C.conns[i].fd >= 0)
				p[np++] = (struct pollfd){ C.conns[i].fd, POLLIN, 0 };
		if (poll(p, np, -1) < 0)
			continue; /* EINTR: a stop of the world passed through */
		for (size_t j = 1; j < np; j++) {
			if (!p[j].revents)
				continue;
			for (size_t i = 0; i < CONTROL_MAX_CONNS; i++)
				if (C.conns[i].fd == p[j].fd)
					read_conn(&C.conns[i]);
		}
		if (p[0].revents & POLLIN)
			accept_one();
	}
	return NULL;
}

int control_start(const struct control_ops *ops, char *why, size_t n)
{
	C.ops = *ops;
	for (size_t i = 0; i < CONTROL_MAX_CONNS; i++)
		C.conns[i].fd = -1;
	char path[2][128], first[256] = "";
	int fd = -ENOENT;
	for (int d = 0; d < 2 && fd < 0; d++) {
		if (paths_control_socket(path[d], sizeof(path[d]), (int)getpid(), d, getenv("TMPDIR"))) {
			snprintf(why, n, "$TMPDIR is too long for a socket's path");
			fd = -ENAMETOOLONG;
		} else if (d == 1 && strcmp(path[0], path[1]) == 0) {
			break; /* TMPDIR=/dev/shm: tried already */
		} else {
			fd = make_socket(path[d], why, n);
		}
		if (d == 0 && fd < 0)
			snprintf(first, sizeof(first), "%s", why);
	}
	if (fd < 0) {
		if (*first && strcmp(first, why) != 0) {
			char second[256];
			snprintf(second, sizeof(second), "%s", why);
			snprintf(why, n, "%s; %s", first, second);
		}
		return fd;
	}
	C.lfd = fd;
	/* Signals are the program's business: only the stop-the-world signal, which
	 * every thread must take, reaches this thread (the mask is inherited). */
	sigset_t all, old;
	sigfillset(&all);
	sigdelset(&all, STW_SIGNAL);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&t, &a, serve, NULL);
	pthread_attr_destroy(&a);
	if (rc == 0) /* what ps, top and stw's reasons ("thread 1234 (name) ...") show */
		if (GOLAT_BOUND(pthread_setname_np)) /* weak: glibc_compat.h */
			pthread_setname_np(t, "golat-control");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		control_exit();
		close(fd);
		C.path[0] = 0;
		snprintf(why, n, "cannot start a thread: %s", strerror(rc));
		return -rc;
	}
	return 0;
}

const char *control_path(void)
{
	return C.path;
}

void control_exit(void)
{
	struct stat st;
	if (C.path[0] && lstat(C.path, &st) == 0 && st.st_dev == C.dev && st.st_ino == C.ino)
		unlink(C.path);
}

/* control_client: the golat command's side of the control protocol (control.h) —
 * finding a process's control socket, saying in one sentence why there is none, and
 * exchanging requests and replies. Used by `golat attach` and `golat detach`; for a
 * program started without golat, golat attach first gets the library loaded through
 * ptrace (lib/attach/inject.h) and then uses this unchanged. */
#ifndef GOLAT_CONTROL_CLIENT_H
#define GOLAT_CONTROL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "target.h"

struct ctl_conn {
	int fd;
	pid_t pid;            /* as the user gave it (golat's PID namespace) */
	struct target target; /* how it is reached: its root, the pid it sees (target.h) */
	char path[128];       /* the socket, as reached from here */
	char *buf;      /* bytes received and not yet taken */
	size_t nbuf, cap;
};

/* One record line of a reply, split at its TABs: kind, then the fields. */
struct ctl_rec {
	const char *kind;
	const char *f[4];
	size_t nf;
};

struct ctl_reply {
	bool ok;
	int err;            /* !ok: the server's error as a negative errno (-EIO if unknown) */
	char why[1024];     /* !ok: its sentence */
	struct ctl_rec *recs;
	size_t nrecs;
	char *last;         /* the final line (ok ...) */
	char *text;         /* every line, split in place */
};

/* Connects to process pid's control socket and reads the greeting. pid is golat's
 * view of it: a process in a container is reached through target.h (its socket is
 * /proc/PID/root/dev/shm/golat-<the pid it sees>.sock), and every sentence names pid.
 * lib, when not NULL, is the libgolat.so the sentence tells to preload. 0, or a
 * negative errno with a sentence for the user in err:
 *   -ESRCH        no process pid
 *   -EPERM        another user's process, or it refused us
 *   -EACCES       its executable cannot be read (not dumpable, or ptrace restricted)
 *   -ENOEXEC      not a Go program
 *   -EOPNOTSUPP   a statically linked Go program without libgolat.so
 *   -ENOENT       a dynamically linked Go program without libgolat.so (started without
 *                 golat): lib/attach/inject.h can load it
 *   -ENOTCONN     libgolat.so is loaded but serves no control socket
 *   -ECONNREFUSED the socket is there but nobody answers
 *   other         what connect or read said */
int ctl_open(struct ctl_conn *c, pid_t pid, const char *lib, char *err, size_t n);
/* Sends one request line (without its LF) and reads its reply. 0 when a reply came
 * (ok or error: see r->ok), or a negative errno when the connection failed
 * (-ECONNRESET: it closed, as when the process exits). */
int ctl_call(struct ctl_conn *c, const char *req, struct ctl_reply *r, char *err, size_t n);
/* The value of key in the final line (ok TAB key=value...), or dflt. */
uint64_t ctl_key(const struct ctl_reply *r, const char *key, uint64_t dflt);
void ctl_reply_free(struct ctl_reply *r);
void ctl_close(struct ctl_conn *c);

/* Waits at most ms milliseconds (-1: no limit) for the connection to close (the
 * server never speaks unasked: anything readable is its end). 1 when it closed,
 * 0 on timeout, -EINTR when a signal came. */
int ctl_wait_closed(struct ctl_conn *c, int ms);

#endif

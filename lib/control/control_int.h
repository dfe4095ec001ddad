/* control_int: what control.c (the socket, the thread, the connections) and
 * control_req.c (the requests) share. Everything here runs on the control thread. */
#ifndef GOLAT_CONTROL_INT_H
#define GOLAT_CONTROL_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "control.h"

/* A function a window hooked: where it is in the program, and its stats id. */
struct control_fn {
	uint32_t func; /* index in hook_binary()->funcs */
	uint32_t id;
};

struct control_conn {
	int fd;         /* -1: a free slot */
	pid_t pid;      /* the peer, from SO_PEERCRED */
	uid_t uid;
	char *in;       /* CONTROL_MAX_LINE + 1 bytes, allocated on first read */
	size_t nin;
	struct control_fn *win;  /* functions its windows hooked */
	size_t nwin, capwin;
	struct control_fn *kept; /* of those, the ones a plain attach adopted since: they stay */
	size_t nkept, capkept;
};

extern struct control {
	struct control_ops ops;
	int lfd;
	char path[256];
	dev_t dev;      /* the socket file we made: removed only if still this one */
	ino_t ino;
	struct control_conn conns[CONTROL_MAX_CONNS];
} C;

/* Answers one request line (without its LF) on c; may close c. */
void control_request(struct control_conn *c, char *line);
/* Unhooks what c's windows hooked; answers on c when reply, else logs (a closing
 * connection). */
void control_end_window(struct control_conn *c, bool reply);
void control_close(struct control_conn *c);
/* Sends all of buf (waiting at most 5 s for room at a time); 0 or -EPIPE. */
int control_send(int fd, const char *buf, size_t len);

#endif

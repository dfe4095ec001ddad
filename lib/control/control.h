/* control: the control socket — how `golat attach` and `golat detach` reach a Go
 * program that runs with libgolat.so loaded, and the protocol they speak.
 *
 * The library serves it in every Go program it is loaded into, GOLAT_FUNCS set or
 * not (goprobe decides, cheaply; a program that is not Go gets no thread, no socket).
 * Until a client asks for something it costs one thread asleep in poll(2) and one
 * socket: nothing is read, hooked or printed. Whatever gets golat into a process —
 * LD_PRELOAD, or a dlopen forced through ptrace (lib/attach/inject.h) — runs the constructor, which
 * starts this; a client then talks to it the same way.
 *
 * The socket. A Unix stream socket at /dev/shm/golat-<pid>.sock, else
 * $TMPDIR/golat-<pid>.sock (or /tmp; paths_control_socket), as the stats file. It is
 * bound inside a fresh directory of mode 0700 (mkdtemp), set to mode 0600 there, and
 * hard-linked into place: link(2) never replaces nor follows what is at the final
 * path, and nobody else can reach the socket while it is being made. What is already
 * at the path is replaced only when it is our own stale socket (a socket, of our uid,
 * that refuses connections: its process is gone); anything else makes the library
 * give up the socket, not the program. It is removed when the program reaches Go's
 * exit path while golat's exit hook is in (something hooked, or GOLAT_FUNCS set); a
 * program that exits with nothing hooked leaves it behind, as a socket no one answers,
 * and the next process with that pid replaces it.
 *
 * Who may talk. Each connection's peer credentials (SO_PEERCRED) are checked at
 * accept: the same uid as this process (effective), or root. Others get one `error`
 * line and are closed; the file's mode already keeps them out unless it was changed.
 *
 * The protocol. Text lines, fields separated by one TAB, ended by LF; names and
 * reasons never hold a TAB or LF (they are replaced by spaces). On accepting, the
 * server greets:
 *   golat TAB control=1 TAB pid=PID TAB lib=VERSION
 * (or `error TAB EPERM TAB why`, then closes). Then each request gets zero or more
 * record lines and one final line, `ok TAB key=value...` or `error TAB ENAME TAB why`
 * (ENAME an errno name: EINVAL, ENOTSUP, EBUSY, ETIMEDOUT, ...). Requests:
 *
 *   attach TAB SPECS [TAB sample=N] [TAB window]
 *       Hooks what SPECS select (GOLAT_FUNCS syntax), with the world stopped, as
 *       golat_attach. sample=N: time 1 call in N; golat has one rate per process, set
 *       by GOLAT_SAMPLE or by the first attach that hooks something: another N is
 *       refused then (EINVAL). window: what this request newly hooks belongs to the
 *       connection and is unhooked by `end`, or when the connection closes, however it
 *       closes (the client killed, say): nothing is left behind by a lost client.
 *       Records: hooked/already (below), skipped, unmatched, stats.
 *   detach [TAB SPECS]
 *       Unhooks what SPECS select (none or empty: everything). Records: unhooked.
 *   end
 *       Unhooks what this connection's windows hooked. Records: unhooked, and kept
 *       for a function another client's plain attach selected meanwhile: it stays.
 *   status
 *       Records: stats. Final line: hooked=N (functions hooked now), windows=N.
 *
 * Records:
 *   hooked TAB ID TAB ENTRY TAB NAME     newly hooked by this request
 *   already TAB ID TAB ENTRY TAB NAME    selected, and hooked before this request
 *   unhooked TAB ID TAB ENTRY TAB NAME   newly unhooked by this request
 *   kept TAB ID TAB ENTRY TAB NAME       (end) adopted by a plain attach: still hooked
 *   skipped TAB SPEC TAB NAME TAB REASON a selected function golat cannot hook
 *   unmatched TAB SPEC                   a spec that selects nothing
 *   stats TAB PATH                       the live stats file ("" when in memory only)
 * ID is the function's id in the stats file (struct stats_fn), ENTRY its link-time
 * entry as `golat list` shows it (0x...).
 *
 * Keys of `ok` (all requests give those that apply): hooked, already, unhooked,
 * skipped, unmatched, selected; stops (stops of the world made) and stopped_ns (how
 * long they held it, together); threads (frozen); elapsed_ns (the whole request);
 * at_ns (CLOCK_MONOTONIC when the change was complete); sample; patches (golat's own
 * patches still in the text: 0 means the code is byte for byte as before golat).
 *
 * One thread of golat's own serves every connection, one request at a time; it blocks
 * every signal but the stop-the-world one (stw.h), which it must take like any thread. */
#ifndef GOLAT_CONTROL_H
#define GOLAT_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "hook.h"

#define CONTROL_PROTOCOL 1
#define CONTROL_MAX_CONNS 32    /* connections open at once */
#define CONTROL_MAX_LINE 65536  /* bytes of one request */

/* What the server calls to change the hooks: golat.c's, shared with golat_attach and
 * golat_detach. Both fill r (hook_result_free'd by the server) and return 0 or a
 * negative errno with why. */
struct control_ops {
	/* Starts the engine on first use (1 call in sample timed; 0: GOLAT_SAMPLE). */
	int (*attach)(const char *specs, uint32_t sample, struct hook_result *r, char *why, size_t n);
	/* Unhooks what specs select, or (specs NULL) the functions funcs. */
	int (*detach)(const char *specs, const uint32_t *funcs, size_t nfuncs, struct hook_result *r,
		      char *why, size_t n);
};

/* Creates the socket and starts the thread. 0, or a negative errno with why (no
 * socket could be made anywhere, no thread): the program runs on without it. */
int control_start(const struct control_ops *ops, char *why, size_t n);

/* The socket's path ("" when there is none). */
const char *control_path(void);

/* Removes the socket file if it is still ours. Called on the exit path, on a thread
 * of the program with a small stack: system calls only (lstat, unlink). */
void control_exit(void);

#endif

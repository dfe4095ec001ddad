/* proc: what golat reads in /proc about this process, its threads and other processes:
 * the thread list and a thread's state (for stw), a thread's status (why it did not
 * stop), the memory map /proc/self/maps (for codemem and patch), and a process's start
 * time (for the stats files).
 *
 * Two kinds of reader, and each declaration says which:
 *  - raw: inline system calls only (stw_sys.h): no libc, no errno, no malloc, no lock.
 *    Safe while the world is stopped, when a frozen thread may hold any libc lock.
 *  - libc: open, read, stdio, malloc. Never while the world is stopped.
 * Nothing here is async-signal-safe except the raw readers. */
#ifndef GOLAT_PROC_H
#define GOLAT_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- threads of this process (/proc/self/task) -------------------------------- */

/* A listing of /proc/self/task through a buffer of the caller's: the readers keep
 * no state of their own, so the caller decides where the buffer lives (stw: a static
 * one, used under its lock) and how many listings may run at once. */
struct proc_tasks {
	int fd;
	char *buf;   /* linux_dirent64 records; 8-byte aligned */
	size_t cap;
	long nb, off; /* bytes in buf, next record */
};

/* raw. Opens the listing, reading through buf (cap bytes, 8-byte aligned). 0 or -errno. */
int proc_tasks_open(struct proc_tasks *t, char *buf, size_t cap);

/* raw. Starts the listing over from its first thread: the kernel lists the threads
 * there are now. 0 or -errno. */
int proc_tasks_rewind(struct proc_tasks *t);

/* raw. The next thread id (> 0), 0 when the listing is done, or -errno. Entries that
 * are not thread ids ("." and "..") are skipped. The caller's own thread is listed. */
int proc_tasks_next(struct proc_tasks *t);

/* raw. */
void proc_tasks_close(struct proc_tasks *t);

/* raw. The state letter of thread tid of this process, from /proc/self/task/TID/stat
 * (R, S, D, T, t, Z, X…): 0 when the thread is gone (or the file unreadable), '?'
 * when the file does not parse. */
char proc_task_state(int tid);

/* What /proc/self/task/TID/status says about a thread. */
struct proc_task_status {
	char name[32];   /* Name: "?" when unknown */
	char state;      /* State: its letter, '?' when unknown */
	uint64_t sigblk; /* SigBlk: bit N-1 set when signal N is blocked; 0 when unknown */
};

/* libc. Fills *st, with the defaults above for what cannot be read. Returns 0 when
 * the file was read, else a negative errno (-ENODATA: it was empty). */
int proc_task_status(int tid, struct proc_task_status *st);

/* ---- the memory map (/proc/self/maps) ------------------------------------------ */

/* One line of /proc/self/maps: [lo, hi) with PROT_* bits. */
struct proc_vma {
	uint64_t lo, hi;
	int prot;
};

/* libc. Reads /proc/self/maps into *vmas (malloc'd, sorted by address, caller frees)
 * and sets *n. codemem finds its gaps there, patch each page's exact protection.
 * Returns 0 or a negative errno with a reason (-EPROTO: the lines were not sorted). */
int proc_maps(struct proc_vma **vmas, size_t *n, char *reason, size_t rn);
/* libc. The same for process pid (0: this one): golat hooking a static program. */
int proc_maps_of(int pid, struct proc_vma **vmas, size_t *n, char *reason, size_t rn);

/* The mapping containing addr in a sorted vma list, or NULL. */
const struct proc_vma *proc_vma_find(const struct proc_vma *vmas, size_t n, uint64_t addr);

/* ---- processes ------------------------------------------------------------------ */

/* libc. When pid started, in clock ticks since boot (/proc/<pid>/stat, field 22), or
 * 0. With the pid it names a process across pid reuse. */
uint64_t proc_start_time(int pid);

/* libc. Whether process pid has exited: no such process, only its zombie is left
 * (it died and its parent has not reaped it yet), or it is on its way there (no
 * executable any more, and not a kernel thread). */
bool proc_gone(int pid);

#endif

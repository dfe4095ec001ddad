/* control_req: the requests of the control protocol (control.h) — attach, detach,
 * end, status — answered on the control thread through the ops golat.c gave. */
#define _GNU_SOURCE /* strerrorname_np */
#include "control_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grow.h"
#include "log.h"
#include "statsfile.h"

/* A reply being built; on running out of memory it says so instead. */
struct reply {
	char *p;
	size_t n, cap;
	bool oom;
};

static void put(struct reply *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct reply *r, const char *fmt, ...)
{
	for (int i = 0; i < 2 && !r->oom; i++) {
		va_list ap;
		va_start(ap, fmt);
		int k = vsnprintf(r->p ? r->p + r->n : NULL, r->p ? r->cap - r->n : 0, fmt, ap);
		va_end(ap);
		if (k < 0) {
			r->oom = true;
		} else if (r->p && (size_t)k < r->cap - r->n) {
			r->n += (size_t)k;
			return;
		} else {
			size_t cap = (r->cap ? r->cap : 4096) + (size_t)k + 1;
			char *p = realloc(r->p, cap * 2);
			r->oom = !p;
			r->p = p ? p : r->p;
			r->cap = p ? cap * 2 : r->cap;
		}
	}
}

/* Sends the reply (or, out of memory, an error) and frees it. */
static void send_reply(struct control_conn *c, struct reply *r)
{
	static const char oom[] = "error\tENOMEM\tout of memory for the reply\n";
	if (r->oom)
		control_send(c->fd, oom, sizeof(oom) - 1);
	else if (control_send(c->fd, r->p, r->n) != 0)
		control_close(c);
	free(r->p);
	*r = (struct reply){ 0 };
}

static void send_error(struct control_conn *c, int rc, const char *why)
{
	struct reply r = { 0 };
	const char *name = strerrorname_np(-rc);
	put(&r, "error\t%s\t%s\n", name ? name : "EIO", why);
	send_reply(c, &r);
}

/* A field of a record: a TAB or a line end inside would break the framing. */
static const char *field(const char *s, char *buf, size_t n)
{
	snprintf(buf, n, "%s", s);
	for (char *p = buf; *p; p++)
		if (*p == '\t' || *p == '\n' || *p == '\r')
			*p = ' ';
	return buf;
}

static void put_fn(struct reply *r, const char *kind, uint32_t func, uint32_t id)
{
	const struct gobin_func *f = &hook_binary()->funcs[func];
	char name[512];
	put(r, "%s\t%u\t%#llx\t%s\n", kind, id, (unsigned long long)f->entry,
	    field(f->name, name, sizeof(name)));
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void put_stats(struct reply *r)
{
	const struct statsfile *sf = hook_stats();
	char path[4200];
	put(r, "stats\t%s\n", field(sf ? sf->path : "", path, sizeof(path)));
}

/* The final line's keys that every change has. */
static void put_ok(struct reply *r, const struct hook_result *h, bool attach)
{
	const struct statsfile *sf = hook_stats();
	put(r, "ok\t%s=%zu\t%s=%zu\tskipped=%zu\tunmatched=%zu\tselected=%zu\tstops=%u\t"
	    "stopped_ns=%llu\tthreads=%zu\telapsed_ns=%llu\tat_ns=%llu\tsample=%u\tpatches=%d\n",
	    attach ? "hooked" : "unhooked", h->hooked, "already", h->already,
	    h->nskips - h->nunmatched, h->nunmatched, h->selected, h->stops,
	    (unsigned long long)h->stopped_ns, h->threads, (unsigned long long)h->elapsed_ns,
	    (unsigned long long)mono_ns(), sf ? sf->h->sample : 0, hook_own_patches());
}

static bool push(struct control_fn **v, size_t *n, size_t *cap, struct control_fn x)
{
	if (array_grow(v, *n, cap, sizeof(**v), 64))
		return false;
	(*v)[(*n)++] = x;
	return true;
}

/* Takes the functions marked in `in` out of every connection's windows; with
 * adopt, they move to its kept list (a plain attach wants them to stay), else they
 * are simply gone from it (a detach unhooked them). */
static void leave_windows(const uint8_t *in, bool adopt)
{
	for (size_t i = 0; i < CONTROL_MAX_CONNS; i++) {
		struct control_conn *c = &C.conns[i];
		if (c->fd < 0)
			continue;
		size_t k = 0;
		for (size_t j = 0; j < c->nwin; j++) {
			if (!in[c->win[j].func])
				c->win[k++] = c->win[j];
			else if (adopt) /* out of memory: it stays in the window */
				if (!push(&c->kept, &c->nkept, &c->capkept, c->win[j]))
					c->win[k++] = c->win[j];
		}
		c->nwin = k;
		if (adopt)
			continue;
		k = 0;
		for (size_t j = 0; j < c->nkept; j++)
			if (!in[c->kept[j].func])
				c->kept[k++] = c->kept[j];
		c->nkept = k;
	}
}

/* leave_windows for the functions of h with changed == which. */
static void leave_windows_of(const struct hook_result *h, bool which, bool adopt)
{
	if (!h->nfns) /* also before the engine started: no binary read yet */
		return;
	uint8_t *in = calloc(hook_binary()->nfuncs ? hook_binary()->nfuncs : 1, 1);
	if (!in)
		return;
	bool any = false;
	for (size_t i = 0; i < h->nfns; i++)
		if (h->fns[i].changed == which)
			in[h->fns[i].func] = 1, any = true;
	if (any)
		leave_windows(in, adopt);
	free(in);
}

static void put_skips(struct reply *r, const struct hook_result *h)
{
	char a[512], b[512], c[512];
	for (size_t i = 0; i < h->nskips; i++) {
		const struct hook_skip *k = &h->skips[i];
		if (k->unmatched)
			put(r, "unmatched\t%s\n", field(k->spec, a, sizeof(a)));
		else
			put(r, "skipped\t%s\t%s\t%s\n", field(k->spec, a, sizeof(a)),
			    field(k->name, b, sizeof(b)), field(k->reason, c, sizeof(c)));
	}
}

static void req_attach(struct control_conn *c, char **f, size_t nf)
{
	uint32_t sample = 0;
	bool window = false;
	const char *bad = nf < 2 || !*f[1] ? "attach needs specs" : NULL;
	for (size_t i = 2; !bad && i < nf; i++) {
		char *end;
		unsigned long v = strncmp(f[i], "sample=", 7) == 0 ? strtoul(f[i] + 7, &end, 10) : 0;
		if (strcmp(f[i], "window") == 0)
			window = true;
		else if (strncmp(f[i], "sample=", 7) != 0)
			bad = "attach: unknown option (sample=N, window)";
		else if (!f[i][7] || *end || v < 1 || v > 0x7fffffff)
			bad = "sample=N wants N from 1 to 2147483647";
		else
			sample = (uint32_t)v;
	}
	if (bad) {
		send_error(c, -EINVAL, bad);
		return;
	}
	struct hook_result h;
	char why[512];
	int rc = C.ops.attach(f[1], sample, &h, why, sizeof(why));
	if (rc) {
		log_info("control: attach '%s' from pid %d failed: %s", f[1], (int)c->pid, why);
		send_error(c, rc, why);
		hook_result_free(&h);
		return;
	}
	struct reply r = { 0 };
	for (size_t i = 0; i < h.nfns; i++) {
		put_fn(&r, h.fns[i].changed ? "hooked" : "already", h.fns[i].func, h.fns[i].id);
		struct control_fn w = { h.fns[i].func, h.fns[i].id };
		if (window && h.fns[i].changed && !push(&c->win, &c->nwin, &c->capwin, w))
			r.oom = true; /* the reply says so; what is in stays in the window */
	}
	if (!window)
		leave_windows_of(&h, false, true);
	put_skips(&r, &h);
	put_stats(&r);
	put_ok(&r, &h, true);
	log_info("control: pid %d attached %s: hooked %zu of %zu selected functions (%zu were already), "
		 "skipped %zu; the world stopped %u times, %.0f us in all", (int)c->pid,
		 window ? "a window" : "for good", h.hooked, h.selected, h.already, h.nskips,
		 h.stops, h.stopped_ns / 1e3);
	hook_result_free(&h);
	send_reply(c, &r);
}

static void req_detach(struct control_conn *c, char **f, size_t nf)
{
	const char *specs = nf > 1 && *f[1] ? f[1] : "*";
	struct hook_result h;
	char why[512];
	int rc = C.ops.detach(specs, NULL, 0, &h, why, sizeof(why));
	if (rc) {
		send_error(c, rc, why);
		hook_result_free(&h);
		return;
	}
	struct reply r = { 0 };
	for (size_t i = 0; i < h.nfns; i++)
		if (h.fns[i].changed)
			put_fn(&r, "unhooked", h.fns[i].func, h.fns[i].id);
	leave_windows_of(&h, true, false);
	put_skips(&r, &h);
	put_stats(&r);
	put_ok(&r, &h, false);
	log_info("control: pid %d detached '%s': unhooked %zu functions; golat's own patches left: %d",
		 (int)c->pid, specs, h.hooked, hook_own_patches());
	hook_result_free(&h);
	send_reply(c, &r);
}

void control_end_window(struct control_conn *c, bool reply)
{
	struct hook_result h;
	char why[512];
	uint32_t *funcs = malloc((c->nwin ? c->nwin : 1) * sizeof(*funcs));
	int rc = funcs ? 0 : -ENOMEM;
	for (size_t i = 0; funcs && i < c->nwin; i++)
		funcs[i] = c->win[i].func;
	if (rc == 0)
		rc = C.ops.detach(NULL, funcs, c->nwin, &h, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "out of memory"), memset(&h, 0, sizeof(h));
	free(funcs);
	if (rc == 0)
		leave_windows_of(&h, true, false); /* c's window too: it is over */
	if (!reply && rc)
		log_info("control: the window of pid %d could not be closed: %s; its %zu functions stay "
			 "hooked (golat detach takes them out)", (int)c->pid, why, c->nwin);
	else if (!reply)
		log_info("control: pid %d went away: unhooked the %zu functions of its window", (int)c->pid,
			 h.hooked);
	struct reply r = { 0 };
	if (reply && rc == 0) {
		for (size_t i = 0; i < h.nfns; i++)
			if (h.fns[i].changed)
				put_fn(&r, "unhooked", h.fns[i].func, h.fns[i].id);
		for (size_t i = 0; i < c->nkept; i++)
			put_fn(&r, "kept", c->kept[i].func, c->kept[i].id);
		put_stats(&r);
		put_ok(&r, &h, false);
	}
	if (reply && rc == 0)
		log_info("control: pid %d closed its window: unhooked %zu functions; golat's own patches "
			 "left: %d", (int)c->pid, h.hooked, hook_own_patches());
	if (rc == 0) /* before sending: a failed send closes c */
		c->nwin = c->nkept = 0;
	hook_result_free(&h);
	if (reply && rc)
		send_error(c, rc, why);
	else if (reply)
		send_reply(c, &r);
}

static void req_status(struct control_conn *c)
{
	struct reply r = { 0 };
	const struct statsfile *sf = hook_stats();
	size_t windows = 0;
	for (size_t i = 0; i < CONTROL_MAX_CONNS; i++)
		windows += C.conns[i].fd >= 0 && C.conns[i].nwin > 0;
	put_stats(&r);
	put(&r, "ok\tengine=%d\thooked=%zu\twindows=%zu\tsample=%u\tpatches=%d\n", sf != NULL,
	    sf ? hook_active() : 0, windows, sf ? sf->h->sample : 0, hook_own_patches());
	send_reply(c, &r);
}

void control_request(struct control_conn *c, char *line)
{
	char *f[16];
	size_t nf = 0;
	size_t len = strlen(line);
	if (len && line[len - 1] == '\r')
		line[len - 1] = 0;
	for (char *p = line; nf < 16;) {
		f[nf++] = p;
		char *tab = strchr(p, '\t');
		if (!tab)
			break;
		*tab = 0;
		p = tab + 1;
	}
	if (strcmp(f[0], "attach") == 0)
		req_attach(c, f, nf);
	else if (strcmp(f[0], "detach") == 0)
		req_detach(c, f, nf);
	else if (strcmp(f[0], "end") == 0 && (c->nwin || c->nkept))
		control_end_window(c, true);
	else if (strcmp(f[0], "end") == 0) {
		struct hook_result h = { 0 };
		struct reply r = { 0 };
		put_stats(&r);
		put_ok(&r, &h, false);
		send_reply(c, &r);
	} else if (strcmp(f[0], "status") == 0)
		req_status(c);
	else
		send_error(c, -EINVAL, "unknown request (attach, detach, end, status)");
}

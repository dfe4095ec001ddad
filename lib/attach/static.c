/* static: what an attach and a detach of a static Go program share — the target's
 * memory and text, the thread system calls run on, the stats file the agent writes —
 * and the detach itself (static.h). The attach is static_attach.c. */
#define _GNU_SOURCE
#include "static_int.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "analyze.h"
#include "gobin.h"
#include "log.h"
#include "recorder.h"
#include "spec.h"
#include "statsfile.h"
#include "tramp.h"
#include "window.h"

uint64_t static_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* s->t for w->pid and its binary gb (read): its memory and text. */
int static_open_target(struct static_ctx *s, const struct static_world *w, const struct gobin *gb, bool text)
{
	char mem[64];
	s->t.pid = w->pid;
	s->w = w;
	snprintf(mem, sizeof(mem), "/proc/%d/mem", (int)w->pid);
	if ((s->t.memfd = open(mem, O_RDWR | O_CLOEXEC)) < 0) {
		int rc = -errno;
		snprintf(s->err, s->errn, "cannot open %s: %s", mem, strerror(-rc));
		return rc == -ENOENT ? -ESRCH : -EIO;
	}
	s->t.text_lo = gb->funcs[0].entry + gb->bias;
	s->t.text_hi = gb->funcs[gb->nfuncs - 1].end + gb->bias;
	return text ? static_text_load(s) : 0;
}

/* Takes the first thread of the world for system calls, and maps the scratch area. */
int static_begin_calls(struct static_ctx *s)
{
	int rc = inject_text_scan(&s->t, s->err, s->errn);
	if (rc)
		return rc;
	/* The first thread whose stack has room for its way home (inject_frame.c): one on a
	 * goroutine's or a signal's short stack is refused before anything is written, and
	 * keeps the options of the others. */
	rc = -ESRCH;
	for (size_t i = 0; i < s->w->n && (rc == -ESRCH || rc == -EAGAIN); i++) {
		if (s->w->t[i].tid <= 0)
			continue;
		struct inj_thread th = { .tid = s->w->t[i].tid, .stop = INJ_HELD, .regs = s->w->t[i].regs };
		if ((rc = inject_call_begin(&s->call, &s->t, &th, s->err, s->errn)) == -EAGAIN)
			ptrace(PTRACE_SETOPTIONS, th.tid, 0, PTRACE_O_TRACECLONE);
	}
	if (rc)
		return rc;
	s->call_on = true;
	if ((rc = static_alloc(s, SCRATCH_SIZE, &s->scratch)) && !s->err[0])
		snprintf(s->err, s->errn, "cannot map golat's scratch memory in pid %d: %s", (int)s->t.pid,
			 strerror(-rc));
	return rc;
}

void static_end(struct static_ctx *s)
{
	char err[256];
	uint64_t ret;
	if (s->scratch)
		static_sys(s, SYS_munmap, s->scratch, SCRATCH_SIZE, 0, 0, 0, 0, &ret);
	if (s->call_on)
		inject_call_restore(&s->call, err, sizeof(err));
	if (s->t.memfd >= 0)
		close(s->t.memfd);
	free(s->text);
	free(s->dirty);
}

bool static_stats_of(const struct target *t, char *here, char *inside, size_t n)
{
	char path[64], line[4352], reach[4352];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)t->pid);
	FILE *f = fopen(path, "re");
	bool found = false;
	while (f && !found && fgets(line, sizeof(line), f)) {
		char perms[8] = "";
		int pos = 0;
		if (sscanf(line, "%*x-%*x %7s %*s %*s %*s %n", perms, &pos) < 1 || pos == 0 || perms[3] != 's')
			continue;
		/* The name is the process's: reached through its root. */
		char *name = line + pos;
		name[strcspn(name, "\n")] = 0;
		struct stats_header h;
		int fd = name[0] == '/' && target_path(t, name, reach, sizeof(reach)) == 0
				 ? open(reach, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
				 : -1;
		if (fd < 0)
			continue;
		/* Its header names the pid the process sees itself as (statsfile_create_for). */
		found = pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) && memcmp(h.magic, STATS_MAGIC, 8) == 0 &&
			h.pid == (uint32_t)t->nspid;
		close(fd);
		if (found) {
			snprintf(here, n, "%s", reach);
			if (inside)
				snprintf(inside, n, "%s", name);
		}
	}
	if (f)
		fclose(f);
	return found;
}

/* Whether the target's bytes of [addr, addr + len) are the file's. */
bool static_text_is_file(struct static_ctx *s, const struct gobin *gb, const struct gobin_func *f, uint64_t addr,
			 size_t len)
{
	uint8_t mem[64];
	const uint8_t *file = gobin_code(gb, f);
	if (!file || len > sizeof(mem) || static_text_read(s, addr + gb->bias, mem, len) != 0)
		return false;
	return memcmp(mem, file + (addr - f->entry), len) == 0;
}

/* prep's plan of f, or NULL. */
static const struct analyze_plan *prep_plan(const struct static_prep *prep, const struct gobin_func *f)
{
	for (size_t i = 0; prep && i < prep->nfns; i++)
		if (&prep->gb.funcs[prep->fns[i].func] == f)
			return &prep->fns[i].plan;
	return NULL;
}

/* The byte ranges that the writes of plan p cover (window.c, window_build): each
 * window's, its hop's, each steered branch's and its hop's. A malloc'd array of
 * {addr, len} pairs (link-time) in *out; their number, or -ENOMEM. */
static long plan_ranges(const struct analyze_plan *p, uint64_t (**out)[2])
{
	uint64_t(*v)[2] = malloc((2 * (1 + p->nsites) + 2 * p->nredirs + 1) * sizeof(*v));
	size_t k = 0;
	if (!(*out = v))
		return -ENOMEM;
	for (size_t i = 0; i < 1 + p->nsites; i++) {
		const struct analyze_window *aw = i == 0 ? &p->entry : &p->sites[i - 1];
		if (aw->len) {
			v[k][0] = aw->addr, v[k++][1] = aw->len;
			if (aw->hop && !aw->twin) /* a twin's bytes are its own window's */
				v[k][0] = aw->hop_addr, v[k++][1] = 5;
		}
	}
	for (size_t i = 0; i < p->nredirs; i++) {
		const struct analyze_redirect *d = &p->redirs[i];
		v[k][0] = d->from, v[k++][1] = d->from_len;
		if (d->hop_addr && !d->shared)
			v[k][0] = d->hop_addr, v[k++][1] = 5;
	}
	return (long)k;
}

/* Whether addr is a hop of plan p, in the padding: a thread there would run the
 * padding's int3s once it is the file's again. */
static bool is_hop(const struct analyze_plan *p, uint64_t addr)
{
	for (size_t i = 0; i < 1 + p->nsites; i++) {
		const struct analyze_window *w = i == 0 ? &p->entry : &p->sites[i - 1];
		if (w->hop && !w->twin && w->hop_addr == addr)
			return true;
	}
	for (size_t i = 0; i < p->nredirs; i++)
		if (p->redirs[i].hop_addr == addr)
			return true;
	return false;
}

/* [addr, addr + len) (link-time) back to the file's bytes where they differ. */
static int restore_range(struct static_ctx *s, const struct gobin *gb, uint64_t addr, uint64_t len)
{
	const struct gobin_func *f = gobin_func_at(gb, addr);
	if (!f || addr + len > f->end || static_text_is_file(s, gb, f, addr, len))
		return 0;
	return static_text_put(s, addr + gb->bias, gobin_code(gb, f) + (addr - f->entry), len, NULL);
}

int static_detach(const struct static_world *w, const char *specs, const struct static_prep *prep,
		  struct static_result *r, char *err, size_t n)
{
	memset(r, 0, sizeof(*r));
	*err = 0;
	struct static_ctx s = { .t.memfd = -1, .err = err, .errn = n };
	struct gobin own = { 0 };
	struct target tg;
	const struct gobin *gb = prep ? &prep->gb : &own;
	struct statsfile sf = { .fd = -1 };
	struct spec_set ss = { 0 };
	char path[4096], warn[512];
	int rc = w->n ? prep ? 0 : static_read_binary(w->pid, &own, err, n) : -ESRCH;
	if (rc == 0)
		rc = static_open_target(&s, w, gb, true);
	if (rc == 0 && prep && prep->stats[0]) {
		snprintf(path, sizeof(path), "%s", prep->stats);
	} else if (rc == 0 && (rc = static_target(w->pid, &tg, err, n)) == 0 &&
		   !static_stats_of(&tg, path, NULL, sizeof(path))) {
		snprintf(err, n, "pid %d has no golat agent writing a stats file", (int)w->pid);
		rc = -ENOENT;
	}
	if (rc == 0 && (rc = statsfile_reopen(&sf, path, warn, sizeof(warn))) != 0)
		snprintf(err, n, "%s", warn);
	if (rc == 0) {
		snprintf(r->stats_path, sizeof(r->stats_path), "%s", path);
		if (!prep && specs && spec_add_list(&ss, specs) != 0) {
			snprintf(err, n, "bad specs '%s'", specs);
			rc = -EINVAL;
		}
		if (!prep)
			spec_resolve(&ss, gb);
	}
	struct stats_fn *fns = rc == 0 ? (struct stats_fn *)((char *)sf.h + sf.h->fn_off) : NULL;
	size_t left = 0, nout = 0, outcap = 0;
	uint32_t *out = NULL; /* the functions whose bytes go back */
	for (uint32_t id = 0; rc == 0 && id < sf.h->nfns; id++) {
		if (!fns[id].hooked)
			continue;
		const struct gobin_func *f = gobin_func_at(gb, fns[id].entry);
		/* With prep, its functions are the ones specs selected (planned there). */
		if (!f || f->entry != fns[id].entry || (prep ? !prep_plan(prep, f) : specs && !spec_match(&ss, f->name))) {
			left++;
			continue;
		}
		r->selected++;
		struct analyze_plan mine;
		const struct analyze_plan *pl = prep_plan(prep, f);
		char why[256];
		if (!pl && window_plan(gb, f, window_rt_sigaction(gb) != NULL, &mine, why, sizeof(why)) != 0) {
			static_skip(r, specs ? specs : "*", f->name, why, 0);
			left++;
			continue;
		}
		const struct analyze_plan plan = pl ? *pl : mine;
		/* Its original bytes, from the file, wherever they differ: its windows, their
		 * hops in the padding, its steered branches. */
		uint64_t(*rg)[2];
		long nrg = plan_ranges(&plan, &rg);
		pid_t tid = 0;
		if (nrg < 0)
			rc = (int)nrg;
		for (long i = 0; !tid && i < nrg; i++) /* a hop: not even on its first byte */
			tid = static_thread_in(w, rg[i][0] + gb->bias, rg[i][1], !is_hop(&plan, rg[i][0]));
		for (long i = 0; !tid && rc == 0 && i < nrg; i++)
			rc = restore_range(&s, gb, rg[i][0], rg[i][1]);
		if (nrg >= 0)
			free(rg);
		if (!pl)
			analyze_plan_free(&mine);
		if (tid) {
			snprintf(why, sizeof(why), "%s: thread %d was stopped inside it; detach again", f->name, (int)tid);
			static_skip(r, specs ? specs : "*", f->name, why, 0);
			left++;
			continue;
		}
		if (rc == 0) {
			/* Unmarked once its bytes are back in the text (below): a golat killed
			 * before that leaves it marked, for the next detach to take out. */
			if (nout == outcap) {
				uint32_t *grown = realloc(out, (outcap = outcap ? 2 * outcap : 64) * sizeof(*out));
				if (!grown) {
					rc = -ENOMEM;
					break;
				}
				out = grown;
			}
			out[nout++] = id;
			r->hooked++;
		}
	}
	/* Nothing hooked any more: asyncPreempt's end back too, so that the text is the
	 * file's again. A goroutine parked inside a window now resumes in the original. */
	const struct gobin_func *ap = rc == 0 && left == 0 ? gobin_func_named(gb, "runtime.asyncPreempt") : NULL;
	struct analyze_window aw;
	if (ap && window_async_preempt(gb, ap, &aw) && !static_text_is_file(&s, gb, ap, aw.addr, aw.len) &&
	    !static_thread_in(w, aw.addr + gb->bias, aw.len, true))
		rc = static_text_put(&s, aw.addr + gb->bias, gobin_code(gb, ap) + (aw.addr - ap->entry), aw.len, NULL);
	uint64_t t0 = static_now_ns();
	if (rc == 0)
		rc = static_text_flush(&s);
	for (size_t i = 0; rc == 0 && i < nout; i++)
		statsfile_set_fn(&sf, out[i], "", 0, false);
	free(out);
	/* And the signals Go's again (static_sig.c). */
	char sigwhy[256];
	if (rc == 0 && left == 0 && (rc = static_sig_give_back(&s, gb, sigwhy, sizeof(sigwhy))) == 0 && sigwhy[0])
		log_msg(LOG_INFO, "pid %d: %s", (int)w->pid, sigwhy);
	r->stopped_ns = static_now_ns() - t0;
	/* A (TSC, ns) pair for readers that cannot tell whether the writer runs (one in
	 * another PID namespace): with the file's first, the rate its cycles convert at. */
	if (rc == 0)
		statsfile_pair(&sf);
	if (rc == -EIO || rc == -EFAULT)
		snprintf(err, n, "cannot write pid %d's text: %s", (int)w->pid, strerror(-rc));
	spec_free(&ss);
	if (sf.h)
		statsfile_close(&sf);
	gobin_close(&own);
	static_end(&s);
	return rc;
}

int static_ended(const char *stats_path, int code)
{
	struct statsfile sf;
	char warn[512];
	int rc = statsfile_reopen(&sf, stats_path, warn, sizeof(warn));
	if (rc)
		return rc;
	/* The agent could not: Go's exit path was not hooked, and kill -9 leaves no
	 * time. One machine, one TSC: this process's pair is the program's. */
	sf.h->exit_code = (uint64_t)(int64_t)code;
	__atomic_fetch_or(&sf.h->flags, STATS_F_EXITED, __ATOMIC_RELEASE);
	statsfile_pair(&sf);
	statsfile_close(&sf);
	return 0;
}

void static_result_free(struct static_result *r)
{
	free(r->skips);
	r->skips = NULL;
	r->nskips = r->skips_cap = 0;
}

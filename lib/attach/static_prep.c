/* static_prep: the part of a static attach that needs no thread held — the binary
 * read (with the process's load bias) and every selected function planned. Capstone
 * decodes each function whole, the most of an attach's time (tens of ms for a few
 * hundred functions, seconds for tens of thousands): done first, while the program
 * runs, it is not time its threads spend stopped. A plan depends on the file alone. */
#define _GNU_SOURCE
#include "static_int.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grow.h"
#include "hookargs.h"
#include "hookskip.h"
#include "spec.h"
#include "statsfile.h"
#include "window.h"

int static_skip(struct static_result *r, const char *spec, const char *name, const char *why, int unmatched)
{
	return hook_skip_add(&r->skips, &r->nskips, &r->skips_cap, &r->nunmatched, spec, name, why, unmatched);
}

/* The load bias of pid's executable: AT_ENTRY minus the file's entry point. */
static int target_bias(pid_t pid, const struct gobin *gb, uint64_t *bias)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	uint64_t v[2], entry = 0;
	while (read(fd, v, sizeof(v)) == (ssize_t)sizeof(v) && v[0] != AT_NULL)
		if (v[0] == AT_ENTRY)
			entry = v[1];
	close(fd);
	if (!entry)
		return -ENOENT;
	*bias = entry - gb->elf.eh.e_entry;
	return gb->pie || *bias == 0 ? 0 : -EINVAL;
}

int static_read_binary(pid_t pid, struct gobin *gb, char *err, size_t n)
{
	char exe[64];
	snprintf(exe, sizeof(exe), "/proc/%d/exe", (int)pid);
	int rc = gobin_open(gb, exe, err, n);
	if (rc)
		return rc == -ENOENT || rc == -ESRCH ? -ESRCH : -ENOEXEC;
	if (!gb->nolibc) {
		snprintf(err, n, "pid %d is linked with libraries: golat loads libgolat.so into it instead", (int)pid);
		return -ENOEXEC;
	}
	if (!gb->has_g_tls || !gb->goff.goid) {
		snprintf(err, n, "cannot tell where this Go version (%s) keeps the goroutine",
			 gb->go_version[0] ? gb->go_version : "unknown");
		return -ENOEXEC;
	}
	if ((rc = target_bias(pid, gb, &gb->bias))) {
		snprintf(err, n, "cannot find where pid %d's executable is loaded", (int)pid);
		return rc == -ENOENT || rc == -EINVAL ? -ENOEXEC : -ESRCH;
	}
	return 0;
}

int static_target(pid_t pid, struct target *t, char *err, size_t n)
{
	int rc = target_open(t, pid, err, n);
	return rc == -EACCES ? -EPERM : rc ? -ESRCH : 0;
}

/* Room for one more function in p: its slot (not yet counted), or NULL. */
static struct static_prep_fn *next_fn(struct static_prep *p)
{
	if (array_grow(&p->fns, p->nfns, &p->cap, sizeof(*p->fns), 64))
		return NULL;
	memset(&p->fns[p->nfns], 0, sizeof(p->fns[p->nfns]));
	return &p->fns[p->nfns];
}

/* Which string argument each planned function's slowest calls keep the text of: the
 * binary's DWARF, read once for all of them (none in a stripped binary). */
static void keep_text(struct static_prep *p)
{
	uint64_t *entries = malloc((p->nfns + 1) * sizeof(*entries));
	uint32_t *frames = malloc((p->nfns + 1) * sizeof(*frames));
	uint16_t *words = malloc((p->nfns + 1) * sizeof(*words));
	for (size_t i = 0; entries && frames && words && i < p->nfns; i++) {
		entries[i] = p->gb.funcs[p->fns[i].func].entry;
		frames[i] = p->gb.funcs[p->fns[i].func].args;
	}
	if (entries && frames && words && hookargs_text(&p->gb, entries, frames, p->nfns, words))
		for (size_t i = 0; i < p->nfns; i++)
			p->fns[i].text = words[i];
	free(entries);
	free(frames);
	free(words);
}

int static_prepare(pid_t pid, const char *specs, struct static_prep **out, char *err, size_t n)
{
	struct static_prep *p = calloc(1, sizeof(*p));
	*out = NULL;
	*err = 0;
	if (!p)
		return -ENOMEM;
	p->pid = pid;
	int rc = static_target(pid, &p->tg, err, n);
	if (rc == 0)
		rc = static_read_binary(pid, &p->gb, err, n);
	struct spec_set ss = { 0 };
	if (rc == 0 && spec_add_list(&ss, specs) != 0) {
		snprintf(err, n, "bad specs '%s'", specs);
		rc = -EINVAL;
	}
	if (rc == 0) {
		spec_resolve(&ss, &p->gb);
		for (size_t k = 0; k < ss.n; k++)
			if (ss.v[k].matches == 0 && !ss.v[k].negative)
				static_skip(&p->pre, ss.v[k].text, ss.v[k].text, "matches no function", 1);
	}
	p->owned = rc == 0 && window_rt_sigaction(&p->gb);
	for (size_t i = 0; rc == 0 && i < p->gb.nfuncs; i++) {
		const struct gobin_func *f = &p->gb.funcs[i];
		if (!spec_match(&ss, f->name))
			continue;
		p->pre.selected++;
		struct static_prep_fn *pf = next_fn(p);
		if (!pf) {
			rc = -ENOMEM;
			break;
		}
		char why[256];
		const char *spec = spec_which(&ss, f->name);
		if (window_plan(&p->gb, f, p->owned, &pf->plan, why, sizeof(why)) != 0) {
			static_skip(&p->pre, spec, f->name, why, 0);
			continue;
		}
		pf->func = (uint32_t)i;
		pf->spec = strdup(spec ? spec : "");
		p->nfns++;
	}
	spec_free(&ss);
	if (rc == 0 && p->gb.has_dwarf)
		keep_text(p);
	if (rc) {
		static_prep_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

int static_prepare_detach(pid_t pid, const char *specs, struct static_prep **out, char *err, size_t n)
{
	struct static_prep *p = calloc(1, sizeof(*p));
	struct statsfile sf = { .fd = -1 };
	struct spec_set ss = { 0 };
	char path[4096], warn[512];
	*out = NULL;
	*err = 0;
	if (!p)
		return -ENOMEM;
	p->pid = pid;
	int rc = static_target(pid, &p->tg, err, n);
	if (rc == 0)
		rc = static_read_binary(pid, &p->gb, err, n);
	if (rc == 0 && !static_stats_of(&p->tg, path, NULL, sizeof(path))) {
		snprintf(err, n, "pid %d has no golat agent writing a stats file", (int)pid);
		rc = -ENOENT;
	} else if (rc == 0 && statsfile_reopen(&sf, path, warn, sizeof(warn)) != 0) {
		snprintf(err, n, "%s", warn);
		rc = -EIO;
	} else if (rc == 0) {
		snprintf(p->stats, sizeof(p->stats), "%s", path);
	}
	if (rc == 0 && specs && spec_add_list(&ss, specs) != 0) {
		snprintf(err, n, "bad specs '%s'", specs);
		rc = -EINVAL;
	}
	if (rc == 0)
		spec_resolve(&ss, &p->gb);
	p->owned = rc == 0 && window_rt_sigaction(&p->gb);
	const struct stats_fn *fns = rc == 0 ? (const struct stats_fn *)((const char *)sf.h + sf.h->fn_off) : NULL;
	for (uint32_t id = 0; rc == 0 && id < sf.h->nfns; id++) {
		const struct gobin_func *f = fns[id].hooked ? gobin_func_at(&p->gb, fns[id].entry) : NULL;
		if (!f || f->entry != fns[id].entry || (specs && !spec_match(&ss, f->name)))
			continue;
		char why[256];
		struct static_prep_fn *pf = next_fn(p);
		if (!pf) {
			rc = -ENOMEM;
			break;
		}
		if (window_plan(&p->gb, f, p->owned, &pf->plan, why, sizeof(why)) != 0)
			continue; /* static_detach says why, with the threads held */
		pf->func = (uint32_t)(f - p->gb.funcs);
		pf->spec = strdup(specs ? specs : "*");
		p->nfns++;
	}
	spec_free(&ss);
	if (sf.h)
		statsfile_close(&sf);
	if (rc) {
		static_prep_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void static_prep_free(struct static_prep *p)
{
	if (!p)
		return;
	static_stage_free(p->stage);
	for (size_t i = 0; i < p->nfns; i++) {
		analyze_plan_free(&p->fns[i].plan);
		free(p->fns[i].spec);
	}
	free(p->fns);
	static_result_free(&p->pre);
	gobin_close(&p->gb);
	free(p);
}

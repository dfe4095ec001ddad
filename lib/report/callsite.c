/* callsite: call sites to function names. See callsite.h. */
#include "callsite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One walk over the DWARF for every function that may have slowest calls. */
static void read_args(struct callsite *c, const struct stats_snapshot *s)
{
	if (!c->gb || !c->gb->has_dwarf || !s->slowest)
		return;
	uint64_t *entries = malloc((s->nfns ? s->nfns : 1) * sizeof(*entries));
	uint32_t *frames = malloc((s->nfns ? s->nfns : 1) * sizeof(*frames));
	size_t n = 0;
	for (uint32_t id = 0; entries && frames && id < s->nfns; id++) {
		const struct gobin_func *f = s->fns[id].timed ? gobin_func_at(c->gb, s->fns[id].entry) : NULL;
		if (f && f->entry == s->fns[id].entry) {
			entries[n] = f->entry;
			frames[n++] = f->args;
		}
	}
	if (n && dwarf_args_index(&c->gb->elf, entries, frames, n, &c->args) != 0)
		c->args = NULL;
	free(entries);
	free(frames);
}

static void find_binary(struct callsite *c, const struct stats_snapshot *s, const struct gobin *given)
{
	if (given) {
		c->gb = given->text == s->text_base ? given : NULL;
		return;
	}
	if (!s->nsites && !s->slowest)
		return;
	char path[64], err[256];
	snprintf(path, sizeof(path), "/proc/%u/exe", s->pid);
	const char *from = s->alive ? path : s->exe;
	if (!*from || gobin_open(&c->own, from, err, sizeof(err)) != 0)
		return;
	c->opened = true;
	if (c->own.text == s->text_base)
		c->gb = &c->own;
}

void callsite_open(struct callsite *c, const struct stats_snapshot *s, const struct gobin *given)
{
	memset(c, 0, sizeof(*c));
	c->text_base = s->text_base;
	find_binary(c, s, given);
	read_args(c, s);
}

const struct dwarf_func_sig *callsite_sig(const struct callsite *c, uint64_t entry)
{
	const struct dwarf_func_sig *sig;
	/* Only one whose frame agrees with the compiler's (dwarf_args.h, check). */
	return c->args && dwarf_func_args(c->args, entry, &sig) == 0 && sig->check == DWARF_SIG_OK ? sig : NULL;
}

void callsite_close(struct callsite *c)
{
	if (c->args)
		dwarf_args_free(c->args);
	if (c->opened)
		gobin_close(&c->own);
	memset(c, 0, sizeof(*c));
}

uint64_t callsite_name(const struct callsite *c, uint32_t site, char *buf, size_t n)
{
	if (site == STATS_CALLER_NOSITE) {
		snprintf(buf, n, "?");
		return 0;
	}
	/* A return address follows its call: the call itself is the byte before. */
	uint64_t pc = c->text_base + site;
	const struct gobin_func *f = c->gb && pc ? gobin_func_at(c->gb, pc - 1) : NULL;
	if (!f || !f->name) {
		snprintf(buf, n, "0x%llx", (unsigned long long)pc);
		return 0;
	}
	snprintf(buf, n, "%s", f->name);
	return f->entry;
}

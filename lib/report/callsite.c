/* callsite: call sites to function names. See callsite.h. */
#include "callsite.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void callsite_open(struct callsite *c, const struct stats_snapshot *s, const struct gobin *given)
{
	memset(c, 0, sizeof(*c));
	c->text_base = s->text_base;
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

void callsite_close(struct callsite *c)
{
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

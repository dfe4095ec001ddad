/* spec: matching function names against user specs. See spec.h. */
#include "spec.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

int spec_add(struct spec_set *s, const char *text)
{
	bool neg = text[0] == '!';
	if (neg)
		text++;
	if (!*text)
		return -EINVAL;
	struct spec *v = realloc(s->v, (s->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	s->v = v;
	char *copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	s->v[s->n++] = (struct spec){ .text = copy, .negative = neg };
	s->npos += !neg;
	return 0;
}

int spec_add_list(struct spec_set *s, const char *list)
{
	char buf[4096];
	size_t len = 0;
	int depth = 0, rc = 0;
	for (const char *p = list;; p++) {
		if (*p == '[' || *p == '(')
			depth++;
		else if ((*p == ']' || *p == ')') && depth > 0)
			depth--;
		if (*p && !(*p == ',' && depth == 0)) {
			if (len + 1 >= sizeof(buf))
				return -E2BIG;
			buf[len++] = *p;
			continue;
		}
		buf[len] = 0;
		/* Blank items (a trailing comma, spaces around commas) are skipped. */
		char *t = buf + strspn(buf, " \t");
		for (size_t e = strlen(t); e && (t[e - 1] == ' ' || t[e - 1] == '\t');)
			t[--e] = 0;
		if (*t && (rc = spec_add(s, t)) != 0)
			return rc;
		len = 0;
		depth = 0;
		if (!*p)
			return 0;
	}
}

static bool one_matches(const struct spec *sp, const char *name)
{
	if (sp->exact)
		return strcmp(sp->text, name) == 0;
	return fnmatch(sp->text, name, 0) == 0;
}

void spec_resolve(struct spec_set *s, const struct gobin *gb)
{
	for (size_t k = 0; k < s->n; k++) {
		s->v[k].exact = gobin_func_named(gb, s->v[k].text) != NULL;
		s->v[k].matches = 0;
	}
	for (size_t i = 0; i < gb->nfuncs; i++)
		for (size_t k = 0; k < s->n; k++)
			s->v[k].matches += one_matches(&s->v[k], gb->funcs[i].name);
}

bool spec_match(const struct spec_set *s, const char *name)
{
	bool in = s->npos == 0;
	for (size_t k = 0; k < s->n && !in; k++)
		in = !s->v[k].negative && one_matches(&s->v[k], name);
	for (size_t k = 0; k < s->n && in; k++)
		in = !(s->v[k].negative && one_matches(&s->v[k], name));
	return in;
}

const char *spec_which(const struct spec_set *s, const char *name)
{
	for (size_t k = 0; k < s->n; k++)
		if (!s->v[k].negative && one_matches(&s->v[k], name))
			return s->v[k].text;
	return NULL;
}

void spec_free(struct spec_set *s)
{
	for (size_t k = 0; k < s->n; k++)
		free(s->v[k].text);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

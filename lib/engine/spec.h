/* spec: which functions a user asked for (GOLAT_FUNCS, `golat list EXE SPEC…`).
 *
 * A spec is an exact Go symbol name or a glob (`*`, `?`, `[...]`); `!spec` removes its
 * matches. A spec that equals some function's name is taken as exact, so names that
 * contain glob characters (`net/http.(*conn).serve`, `main.Map[...]`) mean themselves.
 * With no positive spec, every function matches (less the exclusions). */
#ifndef GOLAT_SPEC_H
#define GOLAT_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "gobin.h"

struct spec {
	char *text; /* without the leading '!' */
	bool negative;
	bool exact;     /* set by spec_resolve: some function has this exact name */
	size_t matches; /* set by spec_resolve: functions it selects (or removes) */
};

struct spec_set {
	struct spec *v;
	size_t n;
	size_t npos;
};

/* Adds one spec; returns 0 or -ENOMEM, -EINVAL for an empty spec. */
int spec_add(struct spec_set *s, const char *text);
/* Adds a comma-separated list; commas inside [...] or (...) belong to the name
 * (generic instantiations such as main.Map[go.shape.int,go.shape.string]). */
int spec_add_list(struct spec_set *s, const char *list);
/* Marks exact specs and counts each spec's matches among gb's functions. */
void spec_resolve(struct spec_set *s, const struct gobin *gb);
/* Whether name is selected: matches a positive spec (or there is none) and no
 * negative one. Call after spec_resolve. */
bool spec_match(const struct spec_set *s, const char *name);
/* The first positive spec that matches name (its text), or NULL. */
const char *spec_which(const struct spec_set *s, const char *name);
void spec_free(struct spec_set *s);

#endif

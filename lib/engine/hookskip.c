/* hookskip: the one-line summary of why functions were skipped, for the line that
 * says what was hooked: the library's at start (lib/golat.c) and golat run's for a
 * static program (tools/run_static.c), so that both read the same. */
#include "hookskip.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

int hook_skip_add(struct hook_skip **skips, size_t *n, size_t *cap, size_t *nunmatched, const char *spec,
		  const char *name, const char *reason, int unmatched)
{
	if (array_grow(skips, *n, cap, sizeof(**skips), 64))
		return -ENOMEM;
	struct hook_skip *k = &(*skips)[(*n)++];
	snprintf(k->name, sizeof(k->name), "%s", name);
	snprintf(k->spec, sizeof(k->spec), "%s", spec ? spec : "");
	snprintf(k->reason, sizeof(k->reason), "%s", reason);
	k->unmatched = unmatched;
	*nunmatched += unmatched != 0;
	return 0;
}

/* Skip reasons are grouped by this many bytes of their text after the function's
 * name, with hexadecimal numbers (offsets) taken as equal: enough to tell the kinds
 * apart, and one kind stays one group whatever detail follows. */
#define REASON_KEY 24
#define REASON_SHOWN 60 /* bytes of a reason on the info line */

struct reason_key {
	char text[REASON_SHOWN + 1]; /* "return at +0x… has no 5-byte window (…" */
	size_t first;                /* index of its skip: equal reasons sort in skip order */
};

/* The reason of s without "name: " (found by the name: a generic's name may hold
 * ": " itself), each 0x number written 0x…, cut to fit out. */
static void reason_text(const struct hook_skip *s, char *out, size_t n)
{
	static const char more[] = "0x…";
	const char *w = s->reason, *colon;
	size_t len = strlen(s->name), o = 0;
	if (strncmp(w, s->name, len) == 0 && strncmp(w + len, ": ", 2) == 0)
		w += len + 2;
	else if ((colon = strstr(w, ": ")) != NULL)
		w = colon + 2;
	while (*w) {
		bool hex = w[0] == '0' && w[1] == 'x' && isxdigit((unsigned char)w[2]);
		size_t take = hex ? sizeof(more) - 1 : 1;
		if (o + take >= n)
			break;
		memcpy(out + o, hex ? more : w, take);
		o += take;
		for (w += hex ? 2 : 1; hex && isxdigit((unsigned char)*w); w++)
			;
	}
	out[o] = 0;
}

static int reason_cmp(const void *a, const void *b)
{
	const struct reason_key *x = a, *y = b;
	int c = strncmp(x->text, y->text, REASON_KEY);
	return c ? c : (x->first > y->first) - (x->first < y->first);
}

/* What the reasons keys[i..j) share, cut back to a whole word: what the info line
 * shows of a group whose members go on differently. A reason that struct hook_skip
 * cut short agrees with whatever follows it. Returns the length; *text the reason. */
static size_t reason_shared(const struct reason_key *keys, size_t i, size_t j, const char **text)
{
	size_t r = i;
	for (size_t m = i + 1; m < j; m++)
		r = strlen(keys[m].text) > strlen(keys[r].text) ? m : r;
	const char *t = keys[r].text;
	size_t len = strlen(t), cut;
	for (size_t m = i; m < j; m++) {
		size_t p = 0;
		while (p < len && keys[m].text[p] == t[p])
			p++;
		len = keys[m].text[p] ? p : len;
	}
	*text = t;
	if (t[len] == 0)
		return len;
	for (cut = len; cut > 0 && t[cut - 1] != ' ';)
		cut--;
	while (cut > 0 && (t[cut - 1] == ' ' || t[cut - 1] == '('))
		cut--;
	return cut ? cut : len;
}

/* The most common skip reasons, for the one info line. Sorting groups equal reasons:
 * n log n, where counting each against all the others was quadratic (minutes with
 * the 100,000 skips of GOLAT_FUNCS='*' on a large program). Ties go to the reason
 * seen first. */
void hook_skips_top(const struct hook_skip *skips, size_t nskips, char *top, size_t n)
{
	top[0] = 0;
	struct reason_key *keys = malloc((nskips ? nskips : 1) * sizeof(*keys));
	if (!keys)
		return;
	size_t nk = 0;
	for (size_t i = 0; i < nskips; i++) {
		if (skips[i].unmatched)
			continue;
		reason_text(&skips[i], keys[nk].text, sizeof(keys[nk].text));
		keys[nk++].first = i;
	}
	qsort(keys, nk, sizeof(*keys), reason_cmp);
	struct { size_t count, first, i, j; } best[3] = { 0 };
	for (size_t i = 0, j; i < nk; i = j) {
		for (j = i + 1; j < nk && strncmp(keys[i].text, keys[j].text, REASON_KEY) == 0; j++)
			;
		size_t c = j - i, first = keys[i].first;
		for (size_t k = 0; k < 3; k++) {
			if (c < best[k].count || (c == best[k].count && first > best[k].first))
				continue;
			memmove(&best[k + 1], &best[k], (2 - k) * sizeof(best[0]));
			best[k].count = c, best[k].first = first, best[k].i = i, best[k].j = j;
			break;
		}
	}
	for (size_t k = 0; k < 3 && best[k].count; k++) {
		const char *t;
		size_t len = reason_shared(keys, best[k].i, best[k].j, &t);
		snprintf(top + strlen(top), n - strlen(top), "%s%zu× %.*s%s", k ? "; " : "",
			 best[k].count, (int)len, t, t[len] ? " …" : "");
	}
	free(keys);
}

/* Spec matching: exact names that contain glob characters mean themselves, globs
 * cross package paths, `!` excludes, and comma lists keep generic instantiations whole. */
#include <stdio.h>
#include <string.h>

#include "spec.h"

static const char *const NAMES[] = {
	"main.main", "main.handle", "main.(*srv).serve", "main.(*srv).stop", "main.Map[...]",
	"main.Map[go.shape.int,go.shape.string]", "net/http.(*conn).serve", "net/http.(*Server).Serve",
	"main.xonn", "net/http.(*xconn).serve",
};
#define NNAMES (sizeof(NAMES) / sizeof(*NAMES))

static int failures;

/* Selects with list and compares with the expected names, '|'-separated. */
static void expect(const char *list, const char *want, size_t unmatched)
{
	struct gobin gb = { 0 };
	struct gobin_func fs[NNAMES];
	for (size_t i = 0; i < NNAMES; i++)
		fs[i] = (struct gobin_func){ .entry = i * 16, .end = i * 16 + 16, .name = NAMES[i] };
	gb.funcs = fs;
	gb.nfuncs = NNAMES;
	struct spec_set s = { 0 };
	if (spec_add_list(&s, list) != 0) {
		printf("FAIL: cannot parse '%s'\n", list);
		failures++;
		return;
	}
	spec_resolve(&s, &gb);
	char got[1024] = "";
	for (size_t i = 0; i < NNAMES; i++)
		if (spec_match(&s, NAMES[i]))
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", *got ? "|" : "", NAMES[i]);
	size_t none = 0;
	for (size_t k = 0; k < s.n; k++)
		none += s.v[k].matches == 0;
	if (strcmp(got, want) != 0 || none != unmatched) {
		printf("FAIL: '%s'\n  got  %s (%zu unmatched)\n  want %s (%zu unmatched)\n", list, got, none, want, unmatched);
		failures++;
	} else {
		printf("ok: %s\n", list);
	}
	spec_free(&s);
}

int main(void)
{
	expect("main.main", "main.main", 0);
	expect("net/http.(*conn).serve", "net/http.(*conn).serve", 0);
	expect("main.Map[...]", "main.Map[...]", 0);
	expect("main.Map[go.shape.int,go.shape.string], main.main",
	       "main.main|main.Map[go.shape.int,go.shape.string]", 0);
	expect("main.(*srv).*", "main.(*srv).serve|main.(*srv).stop", 0);
	expect("net/http.*", "net/http.(*conn).serve|net/http.(*Server).Serve|net/http.(*xconn).serve", 0);
	expect("*.serve", "main.(*srv).serve|net/http.(*conn).serve|net/http.(*xconn).serve", 0);
	expect("main.*,!main.Map*,!main.(*srv).stop",
	       "main.main|main.handle|main.(*srv).serve|main.xonn", 0);
	expect("!net/http.*,!main.*", "", 0);
	expect("main.h?ndle,main.nosuch,,", "main.handle", 1);
	expect("main.[hm]a*", "main.main|main.handle", 0);
	printf("%s\n", failures ? "FAILED" : "all spec tests passed");
	return failures != 0;
}

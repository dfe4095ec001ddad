/* golat.c: the shared object's entry points — the constructor that LD_PRELOAD runs
 * before the Go runtime starts, and the public API of include/golat.h. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "gobin.h"
#include "golat.h"
#include "log.h"
#include "spec.h"

/* Reads GOLAT_FUNCS against the program's own function table and says what it
 * selects. A program that is not Go (a shell the service execs) stays silent. */
static void select_functions(const char *funcs)
{
	struct gobin gb;
	char err[256];
	int rc = gobin_open_self(&gb, err, sizeof(err));
	if (rc == -ENOEXEC)
		return; /* not Go: inert, by contract */
	if (rc) {
		log_info("cannot read this program's function table: %s", err);
		return;
	}
	struct spec_set specs = { 0 };
	if ((rc = spec_add_list(&specs, funcs)) != 0) {
		log_info("GOLAT_FUNCS: %s", rc == -E2BIG ? "a spec is too long" : "out of memory");
		goto out;
	}
	spec_resolve(&specs, &gb);
	for (size_t k = 0; k < specs.n; k++)
		if (specs.v[k].matches == 0)
			log_info("GOLAT_FUNCS: %s'%s' matches no function", specs.v[k].negative ? "!" : "",
				 specs.v[k].text);
	size_t n = 0;
	for (size_t i = 0; i < gb.nfuncs; i++) {
		const struct gobin_func *f = &gb.funcs[i];
		if (!spec_match(&specs, f->name))
			continue;
		n++;
		log_debug("selected %s at 0x%llx-0x%llx", f->name,
			  (unsigned long long)(f->entry + gb.bias), (unsigned long long)(f->end + gb.bias));
	}
	log_info("pid %d (%s): %zu of %zu functions selected by GOLAT_FUNCS; this build reads "
		 "them but does not hook them yet", (int)getpid(),
		 gb.go_version[0] ? gb.go_version : "unknown Go version", n, gb.nfuncs);
	log_debug("pclntab at 0x%llx (%s), text 0x%llx, load bias 0x%llx, g at fs:%lld (%s), "
		  "goid at g+0x%x (%s)", (unsigned long long)gb.pclntab, gb.pclntab_source,
		  (unsigned long long)gb.text, (unsigned long long)gb.bias, (long long)gb.g_tls,
		  gb.has_g_tls ? gb.g_tls_source : "not found", gb.goff.goid, gb.goff.source);
out:
	spec_free(&specs);
	gobin_close(&gb);
}

__attribute__((constructor)) static void golat_init(void)
{
	const char *funcs = getenv("GOLAT_FUNCS");
	if (!funcs)
		return;
	const char *lv = getenv("GOLAT_LOG");
	if (lv) {
		int l = log_parse_level(lv);
		if (l < 0)
			log_info("GOLAT_LOG=%s is not quiet, info or debug; using info", lv);
		else
			log_level = (enum log_level)l;
	}
	select_functions(funcs);
}

/* golat.c: the shared object's entry points — the constructor that LD_PRELOAD runs
 * before the Go runtime starts, and the public API of include/golat.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "golat.h"
#include "hook.h"
#include "log.h"

#define GOLAT_API __attribute__((visibility("default")))

static __thread char last_error[512];

static int fail(int rc, const char *reason)
{
	snprintf(last_error, sizeof(last_error), "%s", reason);
	return rc;
}

/* Logs what an attach did: one info line, and every skip at debug level. The info
 * line names the three most common skip reasons. */
static void log_result(const struct hook_result *r)
{
	for (size_t i = 0; i < r->nskips; i++) {
		if (r->skips[i].unmatched)
			log_info("GOLAT_FUNCS: '%s' matches no function", r->skips[i].name);
		else
			log_debug("skipped %s: %s", r->skips[i].name, r->skips[i].reason);
	}
	char top[256] = "";
	const char *seen[3] = { 0 };
	for (size_t k = 0; k < 3; k++) {
		size_t best = 0;
		const char *why = NULL;
		for (size_t i = 0; i < r->nskips; i++) {
			if (r->skips[i].unmatched)
				continue;
			const char *w = strstr(r->skips[i].reason, ": ");
			w = w ? w + 2 : r->skips[i].reason;
			int dup = 0;
			for (size_t j = 0; j < k; j++)
				dup |= seen[j] && strncmp(seen[j], w, 24) == 0;
			size_t c = 0;
			for (size_t j = 0; !dup && j < r->nskips; j++) {
				if (r->skips[j].unmatched)
					continue;
				const char *x = strstr(r->skips[j].reason, ": ");
				c += strncmp(x ? x + 2 : r->skips[j].reason, w, 24) == 0;
			}
			if (c > best)
				best = c, why = w;
		}
		if (!why)
			break;
		seen[k] = why;
		snprintf(top + strlen(top), sizeof(top) - strlen(top), "%s%zu× %.60s", k ? "; " : "", best, why);
	}
	const struct gobin *gb = hook_binary();
	log_info("pid %d (%s): hooked %zu of %zu selected functions, skipped %zu%s%s%s", (int)getpid(),
		 gb && gb->go_version[0] ? gb->go_version : "unknown Go version", r->hooked + r->already,
		 r->selected, r->nskips - r->nunmatched, *top ? " (" : "", top, *top ? ")" : "");
}

GOLAT_API int golat_attach(const char *specs)
{
	char why[512];
	int rc = hook_init(why, sizeof(why));
	if (rc)
		return fail(rc, why);
	struct hook_result r;
	rc = hook_attach(specs, &r, why, sizeof(why));
	if (rc == 0)
		rc = (int)r.hooked;
	else
		fail(rc, why);
	hook_result_free(&r);
	return rc;
}

GOLAT_API int golat_detach(const char *specs)
{
	char why[512];
	struct hook_result r;
	int rc = hook_detach(specs, &r, why, sizeof(why));
	if (rc == 0)
		rc = (int)r.hooked;
	else
		fail(rc, why);
	hook_result_free(&r);
	return rc;
}

GOLAT_API int golat_counts(const char *name, struct golat_counts *out)
{
	struct rec_counts c;
	int rc = hook_counts(name, &c);
	if (rc)
		return fail(rc, "function was never hooked");
	*out = (struct golat_counts){ c.entries, c.calls, c.abandoned };
	return 0;
}

GOLAT_API const char *golat_error(void)
{
	return last_error;
}

/* GOLAT_FUNCS at load time: the Go runtime has not started, so this is the only
 * thread and nothing needs freezing. A program that is not Go stays silent. */
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
	char why[512] = "";
	int rc = hook_init(why, sizeof(why));
	if (rc == -ENOEXEC)
		return; /* not Go: inert, by contract */
	if (rc) {
		log_info("not hooking anything: %s", why);
		return;
	}
	struct hook_result r;
	if ((rc = hook_attach(funcs, &r, why, sizeof(why))) != 0)
		log_info("not hooking anything: %s (%s)", why, strerror(-rc));
	else
		log_result(&r);
	hook_result_free(&r);
}

/* golat detach: unhooks functions of a running Go program through its control
 * socket (lib/control/control.h): what SPECS select, by default everything golat hooked. When
 * nothing stays hooked in a program where only golat attach hooked, the library takes
 * its own patches out too, and the program's code is byte for byte what it was. A
 * statically linked program is unhooked from outside (attach_static.c). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "control_client.h"

static const char DETACH_USAGE[] = "usage: golat detach PID [-f SPECS]\n";

int cmd_detach(int argc, char **argv)
{
	const char *pid = NULL, *specs = "";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(DETACH_USAGE, stdout);
			return 0;
		}
		if (strcmp(argv[i], "-f") == 0 && i + 1 < argc && *argv[i + 1]) {
			specs = argv[++i];
		} else if (argv[i][0] != '-' && !pid) {
			pid = argv[i];
		} else {
			fputs(DETACH_USAGE, stderr);
			return 2;
		}
	}
	if (!pid) {
		fputs(DETACH_USAGE, stderr);
		return 2;
	}
	pid_t spid = cli_static_target(pid);
	if (spid)
		return cli_detach_static(spid, specs);
	struct ctl_conn c;
	if (cli_ctl_open(pid, &c, false))
		return 1;
	char req[8192], err[512];
	snprintf(req, sizeof(req), "detach\t%s", specs);
	struct ctl_reply r;
	int rc = 0;
	if (ctl_call(&c, req, &r, err, sizeof(err)) != 0)
		rc = cli_fail("pid %d: %s", (int)c.pid, err);
	else if (!r.ok)
		rc = cli_fail("pid %d: %s", (int)c.pid, r.why);
	if (rc == 0) {
		cli_say_skips(&r);
		unsigned long long n = ctl_key(&r, "unhooked", 0), left = ctl_key(&r, "patches", 0);
		fprintf(stderr, "golat: pid %d: unhooked %llu function%s; the world stopped %.0f us; %s\n",
			(int)c.pid, n, n == 1 ? "" : "s", ctl_key(&r, "stopped_ns", 0) / 1e3,
			left ? "golat's own hooks stay in (other functions are hooked, or GOLAT_FUNCS "
			       "or GOLAT_OUTPUT asked for a final report)"
			     : "its code is as it was before golat");
	}
	ctl_reply_free(&r);
	ctl_close(&c);
	return rc;
}

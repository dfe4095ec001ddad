/* golat run: executes a command with libgolat.so preloaded and the GOLAT_* variables
 * set, after checking with the binary reader that the loader will honour LD_PRELOAD
 * (a dynamically linked Go program). exec keeps the pid, so the command's exit status
 * is golat's and its stats file is golat-<that pid>.stats. A statically linked Go
 * program goes to run_static.c instead: hooked from outside, as golat's child. */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "gobin.h"

static const char RUN_USAGE[] =
	"usage: golat run [-f SPECS] [-o OUTPUT] [-s N] [-i SECONDS] -- CMD [ARGS]\n";

/* A regular file we may open with mode; errno says why not (0: not a regular file). */
static bool is_file(const char *path, int mode)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return false;
	errno = 0;
	return S_ISREG(st.st_mode) && access(path, mode) == 0;
}

/* Where libgolat.so lies relative to this binary once installed: tools/CMakeLists.txt
 * computes it from the install layout (../lib/x86_64-linux-gnu/golat/libgolat.so under
 * /usr on Debian). */
#ifndef GOLAT_LIB_FROM_BINDIR
#define GOLAT_LIB_FROM_BINDIR "../lib/golat/libgolat.so"
#endif

/* Says why (unless quiet) and returns 1. */
#define SAY(...) (quiet ? 1 : cli_fail(__VA_ARGS__))

/* name (a file of golat's own library directory) through $env, else relative to this
 * binary: the installed directory, then as built. */
static int find_beside(const char *name, const char *env_name, char out[PATH_MAX], bool quiet)
{
	const char *env = getenv(env_name);
	if (env && *env) {
		if (!is_file(env, R_OK))
			return SAY("%s=%s: %s", env_name, env, errno ? strerror(errno) : "not a file");
		return realpath(env, out) ? 0 : SAY("%s=%s: %s", env_name, env, strerror(errno));
	}
	char self[PATH_MAX], installed[PATH_MAX];
	ssize_t k = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (k <= 0)
		return SAY("cannot find %s: /proc/self/exe: %s; set %s", name, strerror(errno), env_name);
	self[k] = 0;
	const char *dir = dirname(self);
	snprintf(installed, sizeof(installed), "%s", GOLAT_LIB_FROM_BINDIR);
	const char *rel[] = { dirname(installed), ".", "../lib", "../lib/golat" };
	char tried[4 * 96] = "";
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		if (i && strcmp(rel[i], rel[0]) == 0)
			continue; /* tried already, as the installed path */
		char cand[2 * PATH_MAX];
		snprintf(cand, sizeof(cand), "%s/%s/%s", dir, rel[i], name);
		if (is_file(cand, R_OK) && realpath(cand, out))
			return 0;
		snprintf(tried + strlen(tried), sizeof(tried) - strlen(tried), "%s%s/%s", i ? ", " : "",
			 rel[i], name);
	}
	return SAY("cannot find %s from %s (tried %s); set %s", name, dir, tried, env_name);
}

int cli_find_lib(char out[PATH_MAX], bool quiet)
{
	return find_beside("libgolat.so", "GOLAT_LIB", out, quiet);
}

int cli_find_agent(char out[PATH_MAX], bool quiet)
{
	return find_beside("golat-agent.so", "GOLAT_AGENT", out, quiet);
}

/* cmd as execvp would find it: a path when it has a '/', else the first executable
 * file of that name in $PATH. */
static int resolve(const char *cmd, char *out, size_t n)
{
	if (strchr(cmd, '/')) {
		if (!is_file(cmd, X_OK))
			return cli_fail("%s: %s", cmd, errno ? strerror(errno) : "not a regular file");
		snprintf(out, n, "%s", cmd);
		return 0;
	}
	const char *path = getenv("PATH");
	char *dirs = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	int rc = 1;
	for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d && rc; d = strtok_r(NULL, ":", &save)) {
		int k = snprintf(out, n, "%s/%s", *d ? d : ".", cmd);
		if (k > 0 && (size_t)k < n && is_file(out, X_OK))
			rc = 0;
	}
	free(dirs);
	return rc ? cli_fail("%s: command not found", cmd) : 0;
}

/* Refuses what golat cannot work on (not Go, not readable); *is_static: statically
 * linked, where the loader ignores LD_PRELOAD and golat hooks from outside. */
static int check_binary(const char *path, bool *is_static)
{
	struct gobin gb;
	char err[512];
	int rc = gobin_open(&gb, path, err, sizeof(err));
	if (rc) {
		/* gobin's reason starts with the path: say it once. */
		size_t k = strlen(path);
		const char *why = strncmp(err, path, k) == 0 && err[k] == ':' ? err + k + 2 : err;
		if (strncmp(why, "not a Go binary: ", 17) == 0)
			why += 17;
		if (rc == -ENOENT || rc == -EACCES || rc == -EISDIR)
			return cli_fail("%s: %s", path, why);
		return cli_fail("%s is not a Go program: %s", path, why);
	}
	*is_static = gb.nolibc;
	/* An arm64 program (run here by qemu-user through binfmt_misc, say) would get this
	 * x86-64 libgolat.so preloaded, or the x86-64 agent: refuse by name. */
	if (gb.arch != GOBIN_ARCH_AMD64) {
		const char *arch = gobin_arch_name(gb.arch);
		gobin_close(&gb);
		return cli_fail("%s is a linux/%s program: this golat hooks linux/amd64 programs "
				"(`golat list` and `golat info` read %s binaries)", path, arch, arch);
	}
	/* musl's loader cannot load libgolat.so (a glibc library), and dies of it before
	 * the program starts: refuse here rather than let LD_PRELOAD kill it. */
	bool musl = false;
	for (size_t i = 0; i < gb.elf.phnum && !musl; i++) {
		const Elf64_Phdr *p = &gb.elf.ph[i];
		if (p->p_type == PT_INTERP && p->p_offset < gb.elf.size && p->p_filesz <= gb.elf.size - p->p_offset)
			musl = memmem(gb.elf.data + p->p_offset, p->p_filesz, "musl", 4) != NULL;
	}
	gobin_close(&gb);
	if (musl)
		return cli_fail("%s is linked with musl libc: libgolat.so needs glibc (build it on a glibc base "
				"image, or with CGO_ENABLED=0: golat run hooks a static Go program from outside)",
				path);
	return 0;
}

static bool valid_number(const char *s, bool integer)
{
	char *end;
	if (integer) {
		long v = strtol(s, &end, 10);
		return *s && !*end && v >= 1 && v <= 0x7fffffff;
	}
	double v = strtod(s, &end);
	return *s && !*end && v >= 0 && v < 1e9;
}

static int parse(int argc, char **argv, struct cli_run_opts *o)
{
	memset(o, 0, sizeof(*o));
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		const char **dst = strcmp(argv[i], "-f") == 0	? &o->funcs
				   : strcmp(argv[i], "-o") == 0 ? &o->output
				   : strcmp(argv[i], "-s") == 0 ? &o->sample
				   : strcmp(argv[i], "-i") == 0 ? &o->interval
								: NULL;
		if (!dst || i + 1 >= argc)
			return -1;
		*dst = argv[++i];
	}
	if ((o->sample && !valid_number(o->sample, true)) ||
	    (o->interval && !valid_number(o->interval, false)))
		return -1;
	o->cmd = i;
	return i < argc ? 0 : -1;
}

/* The options as the GOLAT_* variables the library reads (and golat run, for a static
 * program): children of CMD inherit them, as SPEC.md says. */
static int set_golat_env(const struct cli_run_opts *o)
{
	const char *names[] = { "GOLAT_FUNCS", "GOLAT_OUTPUT", "GOLAT_SAMPLE", "GOLAT_INTERVAL" };
	const char *vals[] = { o->funcs, o->output, o->sample, o->interval };
	int rc = 0;
	for (int i = 0; i < 4 && rc == 0; i++)
		if (vals[i])
			rc = setenv(names[i], vals[i], 1);
	return rc ? cli_fail("cannot set the environment: %s", strerror(errno)) : 0;
}

static int set_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	char *pre = NULL;
	if (asprintf(&pre, "%s%s%s", lib, old && *old ? ":" : "", old && *old ? old : "") < 0)
		return cli_fail("out of memory");
	int rc = setenv("LD_PRELOAD", pre, 1);
	free(pre);
	return rc ? cli_fail("cannot set the environment: %s", strerror(errno)) : 0;
}

int cmd_run(int argc, char **argv)
{
	struct cli_run_opts o;
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(RUN_USAGE, stdout);
		return 0;
	}
	if (parse(argc, argv, &o) != 0) {
		fputs(RUN_USAGE, stderr);
		return 2;
	}
	char lib[PATH_MAX], exe[PATH_MAX];
	bool is_static = false;
	if (resolve(argv[o.cmd], exe, sizeof(exe)) || check_binary(exe, &is_static) || set_golat_env(&o))
		return 1;
	if (is_static)
		return cli_run_static(exe, argv + o.cmd);
	if (cli_find_lib(lib, false) || set_preload(lib))
		return 1;
	execv(exe, argv + o.cmd);
	return cli_fail("cannot run %s: %s", exe, strerror(errno));
}

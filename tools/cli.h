/* The golat command: one file per subcommand, dispatched from main.c. Each returns the
 * process exit status: 0 success, 1 failure (one "golat: " line on stderr), 2 usage. */
#ifndef GOLAT_CLI_H
#define GOLAT_CLI_H

#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

int cmd_list(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* The directories of --dir (serve, report): where golat-*.stats files are looked for
 * instead of /dev/shm and $TMPDIR, for a service whose GOLAT_STATS names another
 * directory, and for tests that must not see the other programs of the machine. */
#define CLI_DIRS_MAX 16
struct cli_dirs {
	const char *path[CLI_DIRS_MAX];
	dev_t dev[CLI_DIRS_MAX]; /* set by cli_dirs_check */
	ino_t ino[CLI_DIRS_MAX];
	size_t n;
};
/* Appends one --dir as given: false when there are already CLI_DIRS_MAX (a usage error). */
bool cli_dirs_add(struct cli_dirs *d, const char *dir);
/* Checks that each is a directory, and keeps one of those that name the same one (their
 * files would otherwise count twice): 0, or 1 after saying "golat: --dir DIR: why". */
int cli_dirs_check(struct cli_dirs *d);

/* The golat-*.stats files in d's directories, or (d NULL or empty) in /dev/shm and
 * $TMPDIR (or /tmp), each path once, sorted within each directory: g's count
 * (globfree it). */
int cli_find_stats_files(glob_t *g, const struct cli_dirs *d);

/* Opens the stats file that report and top name by arg: a pid, a path, or (NULL) the
 * only golat-*.stats file cli_find_stats_files(dirs) finds. Returns 0, or 1 after
 * saying why. */
struct stats_view;
int cli_open_stats(const char *arg, const struct cli_dirs *dirs, struct stats_view *v);

/* libgolat.so (run.c): $GOLAT_LIB, else relative to this binary as installed, else as
 * built (build/tools/golat and build/lib/libgolat.so), made absolute into out. 0, or
 * 1 after saying why (nothing said when quiet). */
int cli_find_lib(char out[4096], bool quiet);
/* golat-agent.so (lib/agent/agent.h), the same way: $GOLAT_AGENT, else beside
 * libgolat.so as installed or as built. */
int cli_find_agent(char out[4096], bool quiet);

/* golat run's options (run.c); NULL: not given. */
struct cli_run_opts {
	const char *funcs, *output, *sample, *interval;
	int cmd; /* index of CMD in argv */
};
/* golat run for a statically linked Go program (run_static.c), the options already in
 * the GOLAT_* environment: hooked from outside through ptrace at runtime.main, then
 * left to run as golat's child; the final report when it ends. exe is CMD resolved,
 * argv CMD and its arguments. Returns the program's exit status (128 + the signal that
 * killed it), or 1 after saying why it could not be started. */
int cli_run_static(const char *exe, char **argv);

/* Writes the report of v (s: a snapshot the caller took; NULL: one taken now) where
 * output says, as GOLAT_OUTPUT: NULL, "" or "-" is text on dflt, a path ending .json
 * JSON, .prom Prometheus, else text (report.c). 0, or -errno. */
struct stats_snapshot;
struct report_skip;
int cli_report_to(const char *output, FILE *dflt, const struct stats_view *v, const struct stats_snapshot *s,
		  const struct report_skip *skips, size_t nskips);

/* Connects to the control socket of the process pidarg names (attach.c): 0, or 1
 * after saying why in one line. With load, a dynamically linked Go program started
 * without golat first gets libgolat.so loaded through ptrace (lib/attach/inject.h). */
struct ctl_conn;
int cli_ctl_open(const char *pidarg, struct ctl_conn *c, bool load);
/* golat attach and detach for a statically linked Go program (attach_static.c),
 * through ptrace with every thread held: no library there to talk to. */
/* The pid pidarg names when it runs a statically linked Go program, else 0. */
pid_t cli_static_target(const char *pidarg);
int cli_attach_static(pid_t pid, const char *specs, unsigned sample, double seconds, const char *output);
int cli_detach_static(pid_t pid, const char *specs);

/* Says on stderr what a change's reply lists: skipped functions and unmatched specs. */
struct ctl_reply;
void cli_say_skips(const struct ctl_reply *r);

/* CLOCK_MONOTONIC in ns. */
uint64_t cli_mono_ns(void);
/* The signal (SIGINT, SIGTERM) that asked a long-running verb to stop, 0 before one
 * came: cli_catch_stop installs the handler, without SA_RESTART, so that the verb's
 * wait (poll, nanosleep) returns and it ends through its own clean-up. */
extern volatile sig_atomic_t cli_stop_signal;
void cli_catch_stop(void);

/* Prints "golat: <message>" on stderr; returns 1. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

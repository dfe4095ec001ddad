/* The golat command: one file per subcommand, dispatched from main.c. Each returns the
 * process exit status: 0 success, 1 failure (one "golat: " line on stderr), 2 usage. */
#ifndef GOLAT_CLI_H
#define GOLAT_CLI_H

#include <stdbool.h>

int cmd_list(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);

/* Opens the stats file that report and top name by arg: a pid, a path, or (NULL) the
 * only golat-*.stats in /dev/shm and $TMPDIR. Returns 0, or 1 after saying why. */
struct stats_view;
int cli_open_stats(const char *arg, struct stats_view *v);

/* libgolat.so (run.c): $GOLAT_LIB, else relative to this binary as installed, else as
 * built (build/tools/golat and build/lib/libgolat.so), made absolute into out. 0, or
 * 1 after saying why (nothing said when quiet). */
int cli_find_lib(char out[4096], bool quiet);

/* Connects to the control socket of the process pidarg names (attach.c): 0, or 1
 * after saying why in one line. With load, a dynamically linked Go program started
 * without golat first gets libgolat.so loaded through ptrace (lib/attach/inject.h). */
struct ctl_conn;
int cli_ctl_open(const char *pidarg, struct ctl_conn *c, bool load);
/* Says on stderr what a change's reply lists: skipped functions and unmatched specs. */
struct ctl_reply;
void cli_say_skips(const struct ctl_reply *r);

/* Prints "golat: <message>" on stderr; returns 1. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

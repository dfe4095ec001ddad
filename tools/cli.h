/* The golat command: one file per subcommand, dispatched from main.c. Each returns the
 * process exit status: 0 success, 1 failure (one "golat: " line on stderr), 2 usage. */
#ifndef GOLAT_CLI_H
#define GOLAT_CLI_H

int cmd_list(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_top(int argc, char **argv);

/* Opens the stats file that report and top name by arg: a pid, a path, or (NULL) the
 * only golat-*.stats in /dev/shm and $TMPDIR. Returns 0, or 1 after saying why. */
struct stats_view;
int cli_open_stats(const char *arg, struct stats_view *v);

/* Prints "golat: <message>" on stderr; returns 1. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

/* The golat command: one file per subcommand, dispatched from main.c. Each returns the
 * process exit status: 0 success, 1 failure (one "golat: " line on stderr), 2 usage. */
#ifndef GOLAT_CLI_H
#define GOLAT_CLI_H

int cmd_list(int argc, char **argv);
int cmd_info(int argc, char **argv);

/* Prints "golat: <message>" on stderr; returns 1. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

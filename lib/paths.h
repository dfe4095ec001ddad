/* paths: where golat's files are, shared by the writer (the library) and the readers
 * (the final report, the CLI), so that both sides agree by construction. */
#ifndef GOLAT_PATHS_H
#define GOLAT_PATHS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Expands %p in pattern to pid (and %% to %), as GOLAT_OUTPUT and GOLAT_STATS do:
 * children inherit the variables, and each must write its own file. False if the
 * result does not fit in n bytes. */
bool paths_expand(char *out, size_t n, const char *pattern, int pid);

/* The default stats file of pid: dir_index 0 is /dev/shm, 1 is $TMPDIR (or /tmp). The
 * writer uses the second when it cannot write the first, which a reader cannot tell:
 * it tries both. 0, or -ENAMETOOLONG. */
int paths_default_stats(char *out, size_t n, int pid, int dir_index);

/* The control socket of pid (control.h), found like its stats file: dir_index 0 is
 * /dev/shm/golat-<pid>.sock, 1 is <tmpdir>/golat-<pid>.sock, where tmpdir is the
 * process's $TMPDIR (NULL or "": /tmp). 0, or -ENAMETOOLONG: a Unix socket's path has
 * room for 107 bytes (sockaddr_un), not PATH_MAX. */
int paths_control_socket(char *out, size_t n, int pid, int dir_index, const char *tmpdir);

#endif

/* paths: golat's file names. See paths.h. */
#include "paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

bool paths_expand(char *out, size_t n, const char *pattern, int pid)
{
	size_t k = 0;
	for (const char *p = pattern; *p; p++) {
		char piece[16] = { *p, 0 };
		if (p[0] == '%' && (p[1] == 'p' || p[1] == '%')) {
			if (p[1] == 'p')
				snprintf(piece, sizeof(piece), "%d", pid);
			p++;
		}
		size_t len = strlen(piece);
		if (k + len + 1 > n)
			return false;
		memcpy(out + k, piece, len);
		k += len;
	}
	if (k + 1 > n)
		return false;
	out[k] = 0;
	return true;
}

int paths_default_stats(char *out, size_t n, int pid, int dir_index)
{
	const char *dir = "/dev/shm";
	if (dir_index != 0) {
		dir = getenv("TMPDIR");
		if (!dir || !*dir)
			dir = "/tmp";
	}
	int k = snprintf(out, n, "%s/golat-%d.stats", dir, pid);
	return k < 0 || (size_t)k >= n ? -ENAMETOOLONG : 0;
}

int paths_control_socket(char *out, size_t n, int pid, int dir_index, const char *tmpdir)
{
	const char *dir = dir_index == 0 ? "/dev/shm" : tmpdir && *tmpdir ? tmpdir : "/tmp";
	char path[256];
	int k = snprintf(path, sizeof(path), "%s/golat-%d.sock", dir, pid);
	if (k < 0 || (size_t)k >= sizeof(path) || (size_t)k >= n ||
	    (size_t)k >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;
	memcpy(out, path, (size_t)k + 1);
	return 0;
}

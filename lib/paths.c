/* paths: golat's file names. See paths.h. */
#include "paths.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

uint64_t paths_start_time(int pid)
{
	char p[64], buf[1024];
	snprintf(p, sizeof(p), "/proc/%d/stat", pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t got = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (got <= 0)
		return 0;
	buf[got] = 0;
	/* comm (field 2) may hold spaces and parentheses: count from the last ')'. */
	char *s = strrchr(buf, ')');
	for (int field = 2; s && field < 22; field++)
		s = strchr(s + 1, ' ');
	return s ? strtoull(s + 1, NULL, 10) : 0;
}

/* log: "golat: " lines on stderr. See log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum log_level log_level = LOG_INFO;

int log_parse_level(const char *s)
{
	static const char *const names[] = { "quiet", "info", "debug" };
	for (int i = 0; i < 3; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level > log_level)
		return;
	char line[1024] = "golat: ";
	size_t n = strlen(line);
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (w < 0)
		return;
	n += (size_t)w < sizeof(line) - n - 1 ? (size_t)w : sizeof(line) - n - 2;
	line[n++] = '\n';
	for (size_t off = 0; off < n;) {
		ssize_t k = write(STDERR_FILENO, line + off, n - off);
		if (k <= 0)
			return;
		off += (size_t)k;
	}
}

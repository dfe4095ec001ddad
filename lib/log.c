/* log: "golat: " lines on stderr. See log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum log_level log_level = LOG_INFO;

static struct {
	int on;
	int n;
	size_t len[8];
	char line[8][1024];
} held;

static void put(const char *line, size_t n)
{
	for (size_t off = 0; off < n;) {
		ssize_t k = write(STDERR_FILENO, line + off, n - off);
		if (k <= 0)
			return;
		off += (size_t)k;
	}
}

void log_hold(void)
{
	held.on = 1;
	held.n = 0;
}

void log_release(int emit)
{
	for (int i = 0; emit && i < held.n; i++)
		put(held.line[i], held.len[i]);
	held.on = 0;
	held.n = 0;
}

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
	if (!held.on) {
		put(line, n);
	} else if (held.n < 8) {
		memcpy(held.line[held.n], line, n);
		held.len[held.n++] = n;
	}
}

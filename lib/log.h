/* log: golat's only voice on stderr. Every line starts "golat: "; GOLAT_LOG sets the
 * level (quiet, info, debug). Lines are formatted on the stack and written with one
 * write(2): no stdio lock, so a line can be logged from the constructor and from
 * threads of a host that is itself writing to stderr. */
#ifndef GOLAT_LOG_H
#define GOLAT_LOG_H

enum log_level { LOG_QUIET = 0, LOG_INFO = 1, LOG_DEBUG = 2 };

extern enum log_level log_level;

/* Parses GOLAT_LOG's value; returns -1 when it is none of the names. */
int log_parse_level(const char *s);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Holds lines back (up to 8) until log_release: the constructor reads GOLAT_* before
 * it knows whether the program is Go, and a program that is not Go must hear nothing.
 * log_release(1) writes them, log_release(0) drops them. */
void log_hold(void);
void log_release(int emit);

#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif

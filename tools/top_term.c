/* golat top's terminal: the raw mode its keys need, restored on every way out — a
 * return, exit(), SIGINT, SIGTERM, SIGHUP — and around a stop (SIGTSTP, Ctrl-Z: the
 * shell gets its terminal back as it was, and `fg` makes it raw again); and the keys,
 * read without waiting. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "top.h"

static struct termios saved;      /* the terminal as it was: restored on the way out */
static volatile sig_atomic_t raw; /* saved holds something to restore */
volatile sig_atomic_t top_redraw; /* SIGCONT or SIGWINCH: draw again now */

/* Only async-signal-safe calls: the signal handlers come here too. */
static void restore(void)
{
	if (!raw)
		return;
	static const char show[] = "\033[?25h"; /* the cursor, hidden while drawing */
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	if (write(STDOUT_FILENO, show, sizeof(show) - 1) < 0) {
		/* nothing more to do on the way out */
	}
}

static void enter_raw(void)
{
	struct termios t = saved;
	/* Keys one at a time and unechoed; ISIG stays, so that Ctrl-C and Ctrl-Z are
	 * signals, and OPOST, so that "\n" still returns the carriage. */
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
	static const char hide[] = "\033[?25l";
	if (write(STDOUT_FILENO, hide, sizeof(hide) - 1) < 0) {
		/* a terminal that takes no output shows no cursor either */
	}
}

static void on_tstp(int sig)
{
	int e = errno;
	restore();
	/* Stop as the default action would, then come back raw. */
	signal(sig, SIG_DFL);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
	raise(sig);
	/* continued */
	struct sigaction sa = { .sa_handler = on_tstp };
	sigaction(SIGTSTP, &sa, NULL);
	if (raw)
		enter_raw();
	top_redraw = 1;
	errno = e;
}

static void on_redraw(int sig)
{
	(void)sig;
	top_redraw = 1;
}

int top_term_raw(void)
{
	if (tcgetattr(STDIN_FILENO, &saved) != 0)
		return -1;
	raw = 1;
	atexit(restore);
	cli_catch_stop();
	struct sigaction stop = { 0 };
	sigaction(SIGINT, NULL, &stop);
	sigaction(SIGHUP, &stop, NULL); /* the terminal went away: the same clean end */
	struct sigaction sa = { .sa_handler = on_tstp };
	sigaction(SIGTSTP, &sa, NULL);
	sa.sa_handler = on_redraw;
	sigaction(SIGWINCH, &sa, NULL);
	enter_raw();
	return 0;
}

void top_term_restore(void)
{
	restore();
	raw = 0;
	signal(SIGTSTP, SIG_DFL);
}

/* ---- keys ---- */

/* Length of the escape sequence at s (ESC [ ... final, ESC O x), 1 for a lone ESC. */
static size_t escape_len(const unsigned char *s, size_t n)
{
	if (n < 2 || (s[1] != '[' && s[1] != 'O'))
		return 1;
	if (s[1] == 'O')
		return n < 3 ? n : 3;
	size_t i = 2;
	while (i < n && !(s[i] >= 0x40 && s[i] <= 0x7e))
		i++;
	return i < n ? i + 1 : n;
}

int top_term_keys(int timeout_ms, int *keys, int max)
{
	struct pollfd p = { STDIN_FILENO, POLLIN, 0 };
	int k = poll(&p, 1, timeout_ms);
	if (k <= 0)
		return 0; /* a timeout, or a signal: the caller looks at its flags */
	unsigned char buf[64];
	ssize_t got = read(STDIN_FILENO, buf, sizeof(buf));
	if (got == 0 && (p.revents & (POLLHUP | POLLERR)))
		return -1; /* the terminal is gone */
	int n = 0;
	for (size_t i = 0; got > 0 && i < (size_t)got && n < max;) {
		if (buf[i] == 27) {
			size_t l = escape_len(buf + i, (size_t)got - i);
			if (l == 1)
				keys[n++] = TOP_KEY_ESC; /* arrows and the like are ignored */
			i += l;
		} else {
			keys[n++] = buf[i++];
		}
	}
	return n;
}

/* golat top: between the table (top.c) and its terminal (top_term.c). */
#ifndef GOLAT_TOP_H
#define GOLAT_TOP_H

#include <signal.h>

#define TOP_KEY_ESC 27

/* Set by SIGCONT (after a stop) and SIGWINCH: the table must be drawn again. */
extern volatile sig_atomic_t top_redraw;

/* Puts the terminal on stdin in raw mode (keys unechoed, one at a time) and arranges
 * for it to be restored at exit, on SIGINT, SIGTERM and SIGHUP (which set
 * cli_stop_signal) and around SIGTSTP. 0, or -1 when stdin is not a terminal. */
int top_term_raw(void);
/* The terminal as it was. */
void top_term_restore(void);
/* Waits up to timeout_ms for keys and stores up to max of them (bytes, or
 * TOP_KEY_ESC for a lone Escape; other escape sequences dropped). Returns how many,
 * 0 on a timeout or a signal, -1 when the terminal is gone. */
int top_term_keys(int timeout_ms, int *keys, int max);

#endif

//go:build cgo

// The C half of svc: a real-time signal counter (GET /rt) and prctl, with cgo.
package main

// Importing C makes the binary dynamically linked, as LD_PRELOAD needs.

/*
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static atomic_long rt_count;

static void on_rt(int sig)
{
	(void)sig;
	atomic_fetch_add(&rt_count, 1);
}

// SA_ONSTACK: Go requires it of any handler that may run on its threads.
static int rt_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_rt;
	sa.sa_flags = SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	return sigaction(40, &sa, NULL);
}

static long rt_got(void) { return atomic_load(&rt_count); }
static int no_dump(void) { return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }
*/
import "C"

func rtInstall()   { C.rt_install() }
func rtGot() int64 { return int64(C.rt_got()) }
func noDump()      { C.no_dump() }

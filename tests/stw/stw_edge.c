/* The edges of stop-the-world, each in its own case:
 *   chain      a handler of signal 34 installed before stw_init still gets the
 *              signals that are not stop requests (sigqueue from the process);
 *   replaced   when someone replaces our handler, stw_stop refuses (-EBUSY) rather
 *              than send signals to a handler that would not hold the threads, and
 *              an explicit stw_init takes it back, chaining the newcomer;
 *   blocked    a thread that blocks signal 34 makes the stop fail within the timeout
 *              with a reason naming it, the others are released and run on, and the
 *              stale request it receives once it unblocks is ignored;
 *   deadlock   stw_stop from a signal handler that interrupted this thread's own
 *              stop returns -EDEADLK;
 *   stoppers   three threads stopping the world at once, with workers running:
 *              serialized, each sees everyone else frozen, no hang;
 *   churn      threads created and exiting all the time: stops keep succeeding;
 *   zombie     the main thread called pthread_exit (a zombie listed in
 *              /proc/self/task that never answers): stops succeed, and fast. */
#include "stw_test.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stw.h"

static _Atomic bool quit;
static _Atomic uint64_t spins;

static void *busy(void *arg)
{
	(void)arg;
	while (!atomic_load(&quit))
		atomic_fetch_add(&spins, 1);
	return NULL;
}

/* ---- chain ---- */
static _Atomic int chained;
static void user_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (sig == STW_SIGNAL && si->si_value.sival_int == 77)
		atomic_fetch_add(&chained, 1);
}

static void case_chain_install(void)
{
	struct sigaction sa = { .sa_sigaction = user_handler, .sa_flags = SA_SIGINFO | SA_ONSTACK };
	sigaction(STW_SIGNAL, &sa, NULL);
	char reason[256];
	REQUIRE(stw_init(reason, sizeof reason) == 0, "stw_init: %s", reason);
	CHECK(stw_installed(), "not installed");
	union sigval v = { .sival_int = 77 };
	REQUIRE(sigqueue(getpid(), STW_SIGNAL, v) == 0, "sigqueue");
	REQUIRE(pthread_sigqueue(pthread_self(), STW_SIGNAL, v) == 0, "pthread_sigqueue");
	CHECK(atomic_load(&chained) == 2, "the earlier handler got %d of 2 signals",
	      atomic_load(&chained));
}

/* ---- replaced ---- */
static _Atomic int newcomer_calls;
static void newcomer(int sig)
{
	(void)sig;
	atomic_fetch_add(&newcomer_calls, 1);
}

static void case_replaced(void)
{
	char reason[256];
	struct sigaction sa = { .sa_handler = newcomer, .sa_flags = SA_ONSTACK };
	sigaction(STW_SIGNAL, &sa, NULL);
	struct stw s = { 0 };
	int err = stw_stop(&s, reason, sizeof reason);
	CHECK(err == -EBUSY && strstr(reason, "replaced"), "replaced: %d %s", err, reason);
	REQUIRE(stw_init(reason, sizeof reason) == 0, "reinstall: %s", reason);
	REQUIRE(stw_stop(&s, reason, sizeof reason) == 0, "after reinstall: %s", reason);
	stw_resume(&s);
	raise(STW_SIGNAL);
	CHECK(atomic_load(&newcomer_calls) == 1, "newcomer not chained (%d)",
	      atomic_load(&newcomer_calls));
}

/* ---- blocked ---- */
static _Atomic int blocked_phase;
static void *blocker(void *arg)
{
	(void)arg;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, STW_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	atomic_store(&blocked_phase, 1);
	while (atomic_load(&blocked_phase) == 1)
		usleep(1000);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL); /* the stale request arrives here */
	atomic_store(&blocked_phase, 3);
	return NULL;
}

static void case_blocked(void)
{
	char reason[256];
	pthread_t th;
	pthread_create(&th, NULL, blocker, NULL);
	while (atomic_load(&blocked_phase) != 1)
		usleep(100);
	struct stw s = { .timeout_ms = 50 };
	uint64_t t0 = test_now_ns();
	int err = stw_stop(&s, reason, sizeof reason);
	uint64_t took = test_now_ns() - t0;
	CHECK(err == -ETIMEDOUT && strstr(reason, "blocks signal 34") && strstr(reason, "50 ms"),
	      "blocked: %d %s", err, reason);
	CHECK(took < 1000000000u, "giving up took %llu ms", (unsigned long long)took / 1000000);
	printf("stw_edge: blocked: refused after %.1f ms: %s\n", took / 1e6, reason);
	uint64_t before = atomic_load(&spins);
	usleep(20000);
	CHECK(atomic_load(&spins) > before, "the busy thread was not released");
	atomic_store(&blocked_phase, 2);
	pthread_join(th, NULL); /* the stale request must not freeze it */
	CHECK(atomic_load(&blocked_phase) == 3, "blocker did not finish");
	s.timeout_ms = 0;
	REQUIRE(stw_stop(&s, reason, sizeof reason) == 0, "after blocked: %s", reason);
	stw_resume(&s);
}

/* ---- deadlock ---- */
static int nested_err;
static void usr1(int sig)
{
	(void)sig;
	char reason[128];
	struct stw s = { 0 };
	nested_err = stw_stop(&s, reason, sizeof reason);
	if (nested_err == 0)
		stw_resume(&s);
}

static void case_deadlock(void)
{
	char reason[256];
	signal(SIGUSR1, usr1);
	struct stw s = { 0 };
	REQUIRE(stw_stop(&s, reason, sizeof reason) == 0, "%s", reason);
	raise(SIGUSR1);
	stw_resume(&s);
	CHECK(nested_err == -EDEADLK, "nested stop returned %d", nested_err);
}

/* ---- stoppers ---- */
static int nworkers_for_stoppers;
static _Atomic uint64_t stopper_bad;
static void *stopper(void *arg)
{
	int rounds = (int)(intptr_t)arg;
	char reason[256];
	for (int i = 0; i < rounds; i++) {
		struct stw s = { .timeout_ms = 2000 };
		if (stw_stop(&s, reason, sizeof reason) != 0) {
			fprintf(stderr, "stopper: %s\n", reason);
			atomic_fetch_add(&stopper_bad, 1);
			continue;
		}
		/* everyone else: the workers, main, and the other stoppers not done yet */
		size_t n = stw_count(&s), min = (size_t)nworkers_for_stoppers + 1;
		if (n < min || n > min + 2)
			atomic_fetch_add(&stopper_bad, 1);
		stw_resume(&s);
	}
	return NULL;
}

static void case_stoppers(void)
{
	pthread_t w[4], st[3];
	nworkers_for_stoppers = 4;
	for (int i = 0; i < 4; i++)
		pthread_create(&w[i], NULL, busy, NULL);
	for (int i = 0; i < 3; i++)
		pthread_create(&st[i], NULL, stopper, (void *)(intptr_t)300);
	for (int i = 0; i < 3; i++)
		pthread_join(st[i], NULL);
	atomic_store(&quit, true);
	for (int i = 0; i < 4; i++)
		pthread_join(w[i], NULL);
	atomic_store(&quit, false);
	CHECK(atomic_load(&stopper_bad) == 0, "%llu stops of concurrent stoppers went wrong",
	      (unsigned long long)atomic_load(&stopper_bad));
}

/* ---- churn ---- */
static void *short_lived(void *arg)
{
	(void)arg;
	return NULL;
}

static void *spawner(void *arg)
{
	(void)arg;
	while (!atomic_load(&quit)) {
		pthread_t th;
		if (pthread_create(&th, NULL, short_lived, NULL) == 0)
			pthread_join(th, NULL);
	}
	return NULL;
}

static void case_churn(int stops)
{
	char reason[256];
	pthread_t sp[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&sp[i], NULL, spawner, NULL);
	uint64_t *lat = calloc((size_t)stops, sizeof *lat);
	for (int i = 0; i < stops; i++) {
		struct stw s = { .timeout_ms = 2000 };
		uint64_t t0 = test_now_ns();
		int err = stw_stop(&s, reason, sizeof reason);
		lat[i] = test_now_ns() - t0;
		CHECK(err == 0, "churn stop %d: %s", i, reason);
		if (err == 0)
			stw_resume(&s);
	}
	atomic_store(&quit, true);
	for (int i = 0; i < 2; i++)
		pthread_join(sp[i], NULL);
	atomic_store(&quit, false);
	printf("stw_edge: churn: %d stops while 2 threads create and join threads: median %.1f us, "
	       "p99 %.1f us\n", stops, test_percentile(lat, (size_t)stops, 50) / 1e3,
	       test_percentile(lat, (size_t)stops, 99) / 1e3);
	free(lat);
}

/* ---- zombie (in a child: the main thread goes away) ---- */
static void *zombie_worker(void *arg)
{
	(void)arg;
	char reason[256];
	pthread_t b;
	/* The main thread is still inside pthread_exit when this thread starts: until it is
	 * a zombie it is a live thread, and stw stops it (count 2). Wait for the state, not
	 * for a time: /proc/self/task/PID/stat says Z once it has gone. */
	char path[64], st[512];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)getpid());
	for (uint64_t w0 = test_now_ns();;) {
		FILE *f = fopen(path, "r");
		const char *p = NULL;
		if (f) {
			size_t n = fread(st, 1, sizeof st - 1, f);
			st[n] = 0;
			fclose(f);
			p = strrchr(st, ')');
		}
		if (!p || (p[1] == ' ' && p[2] == 'Z'))
			break; /* gone from the list altogether, or a zombie */
		if (test_now_ns() - w0 > 20000000000ull) {
			fprintf(stderr, "zombie: main thread not a zombie after 20 s: %s\n", st);
			exit(1);
		}
		sched_yield();
	}
	pthread_create(&b, NULL, busy, NULL);
	uint64_t t0 = test_now_ns();
	int bad = 0;
	for (int i = 0; i < 200; i++) {
		struct stw s = { .timeout_ms = 2000 };
		if (stw_stop(&s, reason, sizeof reason) != 0 || stw_count(&s) != 1) {
			fprintf(stderr, "zombie: %s (count %zu)\n", reason, stw_count(&s));
			bad++;
		}
		stw_resume(&s);
	}
	double ms = (test_now_ns() - t0) / 1e6;
	printf("stw_edge: zombie main thread: 200 stops in %.1f ms\n", ms);
	exit(bad || ms > 4000 ? 1 : 0); /* 200 timeouts would take 400 s */
}

static void case_zombie(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t th;
		pthread_create(&th, NULL, zombie_worker, NULL);
		pthread_exit(NULL);
	}
	int status;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "zombie case failed: status %d",
	      status);
}

int main(void)
{
	case_zombie(); /* first: fork before any thread exists */
	case_chain_install();
	case_replaced();
	pthread_t b;
	pthread_create(&b, NULL, busy, NULL);
	case_blocked();
	case_deadlock();
	atomic_store(&quit, true);
	pthread_join(b, NULL);
	atomic_store(&quit, false);
	case_stoppers();
	case_churn(2000);
	return test_exit("stw_edge");
}

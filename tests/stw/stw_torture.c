/* Proves that stw_stop freezes every other thread, every time, and that stw_resume
 * lets all of them go on unharmed: busy threads, threads sleeping in nanosleep,
 * threads blocked in read on a pipe, threads waiting on a condition variable, while
 * the main thread stops and resumes the world thousands of times.
 *   - while stopped, no thread's counter moves (checked twice, 20 µs apart);
 *   - stw_count equals the number of workers, every frozen pc and sp is set;
 *   - every worker keeps making progress, each second (no lost wakeups);
 *   - read and pthread_cond_wait never see EINTR (SA_RESTART); nanosleep does, as
 *     signal(7) says it must, and the count is reported.
 * Usage: stw_torture [stops] [busy] [sleepers] [readers] [waiters]
 * Prints stop latency (median, p99, max) and stops per second. */
#include "stw_test.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "stw.h"

enum kind { BUSY, SLEEPER, READER, WAITER };

struct worker {
	pthread_t th;
	enum kind kind;
	int pipe[2];
	_Atomic uint64_t count;
	_Atomic uint64_t eintr;
	_Atomic uint64_t errors;
};

static _Atomic bool quit;
static pthread_mutex_t cond_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static uint64_t cond_seq;

static void worker_sleep(struct worker *w)
{
	struct timespec ts = { 0, 50000 };
	while (nanosleep(&ts, &ts) != 0) {
		if (errno != EINTR)
			atomic_fetch_add(&w->errors, 1);
		atomic_fetch_add(&w->eintr, 1);
	}
}

static void worker_read(struct worker *w)
{
	char c;
	ssize_t got = read(w->pipe[0], &c, 1);
	if (got != 1) {
		if (got < 0 && errno == EINTR)
			atomic_fetch_add(&w->eintr, 1);
		atomic_fetch_add(&w->errors, 1);
	}
}

static void worker_wait(struct worker *w)
{
	pthread_mutex_lock(&cond_mu);
	uint64_t seen = cond_seq;
	while (cond_seq == seen && !atomic_load(&quit)) {
		int e = pthread_cond_wait(&cond, &cond_mu);
		if (e)
			atomic_fetch_add(&w->errors, 1);
	}
	pthread_mutex_unlock(&cond_mu);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	while (!atomic_load_explicit(&quit, memory_order_relaxed)) {
		switch (w->kind) {
		case BUSY:
			break;
		case SLEEPER:
			worker_sleep(w);
			break;
		case READER:
			worker_read(w);
			break;
		case WAITER:
			worker_wait(w);
			break;
		}
		atomic_fetch_add_explicit(&w->count, 1, memory_order_relaxed);
	}
	return NULL;
}

static void poke(struct worker *ws, int n)
{
	for (int i = 0; i < n; i++)
		if (ws[i].kind == READER && write(ws[i].pipe[1], "x", 1) != 1)
			abort();
	pthread_mutex_lock(&cond_mu);
	cond_seq++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&cond_mu);
}

/* One stop: checks that nothing moves while the world is stopped. */
static void one_stop(struct worker *ws, int n, uint64_t *snap, uint64_t *lat, int i)
{
	char reason[256];
	/* 2 s, not the default 200 ms: this machine may be shared and loaded, and this
	 * test is about freezing, not about giving up (stw_edge tests that). */
	struct stw s = { .timeout_ms = 2000 };
	uint64_t t0 = test_now_ns();
	int err = stw_stop(&s, reason, sizeof reason);
	lat[i] = test_now_ns() - t0;
	REQUIRE(err == 0, "stop %d: %d %s", i, err, reason);
	CHECK(stw_count(&s) == (size_t)n, "stop %d froze %zu threads, want %d", i, stw_count(&s), n);
	for (int k = 0; k < n; k++)
		snap[k] = atomic_load(&ws[k].count);
	uint64_t until = test_now_ns() + 20000;
	while (test_now_ns() < until)
		;
	for (int k = 0; k < n; k++)
		CHECK(atomic_load(&ws[k].count) == snap[k], "stop %d: worker %d moved while frozen", i, k);
	for (size_t k = 0; k < stw_count(&s); k++) {
		uint64_t pc = 0, sp = 0;
		CHECK(stw_pc(&s, k, &pc, &sp) && pc && sp, "stop %d: thread %zu has no pc/sp", i, k);
	}
	stw_resume(&s);
}

int main(int argc, char **argv)
{
	int stops = argc > 1 ? atoi(argv[1]) : 5000;
	int nk[4] = { argc > 2 ? atoi(argv[2]) : 4, argc > 3 ? atoi(argv[3]) : 4,
		      argc > 4 ? atoi(argv[4]) : 4, argc > 5 ? atoi(argv[5]) : 2 };
	int n = nk[0] + nk[1] + nk[2] + nk[3];
	char reason[256];
	REQUIRE(stw_init(reason, sizeof reason) == 0, "stw_init: %s", reason);

	struct worker *ws = calloc((size_t)n, sizeof *ws);
	for (int i = 0, k = 0; k < 4; k++) {
		for (int j = 0; j < nk[k]; j++, i++) {
			ws[i].kind = (enum kind)k;
			REQUIRE(pipe(ws[i].pipe) == 0, "pipe");
			REQUIRE(pthread_create(&ws[i].th, NULL, worker_main, &ws[i]) == 0, "thread");
		}
	}
	uint64_t *snap = calloc((size_t)n, sizeof *snap), *before = calloc((size_t)n, sizeof *before);
	uint64_t *lat = calloc((size_t)stops, sizeof *lat);
	uint64_t t0 = test_now_ns(), last = 0;
	for (int i = 0; i < stops; i++) {
		/* Progress: every worker moved in each second of stops (a lost wakeup would
		 * leave one frozen or asleep for good). */
		if (i == 0 || test_now_ns() - last > 1000000000u) {
			for (int k = 0; k < n; k++) {
				CHECK(i == 0 || atomic_load(&ws[k].count) > before[k],
				      "worker %d (kind %d) made no progress in a second", k, ws[k].kind);
				before[k] = atomic_load(&ws[k].count);
			}
			last = test_now_ns();
		}
		one_stop(ws, n, snap, lat, i);
		if (i % 10 == 0)
			poke(ws, n);
	}
	double secs = (double)(test_now_ns() - t0) / 1e9;

	atomic_store(&quit, true);
	poke(ws, n);
	uint64_t eintr_sleep = 0;
	for (int i = 0; i < n; i++) {
		pthread_join(ws[i].th, NULL);
		CHECK(atomic_load(&ws[i].errors) == 0, "worker %d (kind %d): %llu errors", i, ws[i].kind,
		      (unsigned long long)atomic_load(&ws[i].errors));
		if (ws[i].kind == SLEEPER)
			eintr_sleep += atomic_load(&ws[i].eintr);
		else
			CHECK(atomic_load(&ws[i].eintr) == 0, "worker %d (kind %d) saw EINTR", i, ws[i].kind);
	}
	uint64_t med = test_percentile(lat, (size_t)stops, 50), p99 = test_percentile(lat, (size_t)stops, 99);
	printf("stw_torture: %d threads (%d busy, %d nanosleep, %d read, %d condwait), %d stops in "
	       "%.2f s: %.0f stops/s; stop latency median %.1f us, p99 %.1f us, max %.1f us; "
	       "nanosleep EINTR %llu (expected: never restarted, signal(7))\n",
	       n, nk[0], nk[1], nk[2], nk[3], stops, secs, stops / secs, med / 1e3, p99 / 1e3,
	       lat[stops - 1] / 1e3, (unsigned long long)eintr_sleep);
	free(ws);
	free(snap);
	free(before);
	free(lat);
	return test_exit("stw_torture");
}

/* golat serve: an HTTP/1.1 endpoint whose GET /metrics is the Prometheus exposition of
 * every live golat stats file of this user, containers' included, read afresh at each
 * request (serve_scrape.c): the protobuf with native histograms to a scraper whose Accept
 * header asks for it, else the text; /metrics?pid=N is process N's alone, and /targets
 * lists the processes for Prometheus's HTTP service discovery (doc/serve.md). One thread, plain sockets and poll(2): a scrape takes milliseconds,
 * and Prometheus asks every few seconds.
 *
 * A slow or hostile client costs bounded resources and never blocks the others: at
 * most SERVE_CONNS connections (a new one evicts the oldest that is still sending its
 * request), a request head of at most SERVE_REQ_MAX bytes (else 431), REQUEST_MS to
 * send it and RESPONSE_MS to take the answer, every socket non-blocking, SIGPIPE
 * ignored. Each answer closes its connection (`Connection: close`): Prometheus opens
 * a new one per scrape at no measurable cost, and no idle connection holds a slot. */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "report.h"
#include "report_pb.h"
#include "serve.h"
#include "serve_page.h"

#define SERVE_CONNS 64
#define SERVE_REQ_MAX 8192
#define REQUEST_MS 10000
#define RESPONSE_MS 30000
#define DRAIN_MS 2000
#define DRAIN_MAX (1 << 20)
#define DEFAULT_LISTEN "127.0.0.1:9464"

static const char SERVE_USAGE[] =
	"usage: golat serve [--listen ADDR] [--dir DIR]... [--label NAME=VALUE]... [--args]   (ADDR: :PORT, HOST:PORT or [IPV6]:PORT; "
	"default " DEFAULT_LISTEN ")\n";

struct conn {
	int fd;               /* -1: a free slot */
	char req[SERVE_REQ_MAX + 1]; /* the request head so far, NUL-terminated */
	size_t len;
	char *out;            /* the answer being sent; NULL while the request comes in */
	size_t outlen, outoff;
	bool draining;        /* answered: reading what the client still sends, until it closes */
	size_t drained;
	int64_t deadline;     /* monotonic ms: closed then, whatever it is doing */
	uint64_t seq;         /* accept order, for eviction */
};

struct server {
	int lfd;
	struct cli_dirs dirs; /* --dir: where the stats files are (none: /dev/shm and $TMPDIR) */
	struct serve_conf conf; /* what lasts between scrapes: serve.h */
	struct page_server *page; /* the page at / and its /api (serve_page.c) */
	int64_t accept_pause; /* monotonic ms until which accept waits (out of descriptors) */
	uint64_t seq;
	struct conn conns[SERVE_CONNS];
};

static int64_t now_ms(void)
{
	return (int64_t)(cli_mono_ns() / 1000000);
}

/* ---- the listening socket ---- */

/* Splits ADDR into host ("" for every address) and port; false when it is not one of
 * the three forms. */
static bool split_addr(const char *addr, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon, *h = addr;
	size_t hl;
	if (addr[0] == '[') {
		const char *end = strchr(addr, ']');
		if (!end || end[1] != ':' || end == addr + 1)
			return false;
		h = addr + 1;
		hl = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(addr, ':');
		/* A second colon outside brackets: an IPv6 address that needs them. */
		if (!colon || memchr(addr, ':', (size_t)(colon - addr)))
			return false;
		hl = (size_t)(colon - addr);
	}
	const char *p = colon + 1;
	size_t pl = strlen(p);
	if (hl >= hostlen || pl == 0 || pl >= portlen || pl > 5 || strspn(p, "0123456789") != pl ||
	    atol(p) > 65535)
		return false;
	memcpy(host, h, hl);
	host[hl] = 0;
	memcpy(port, p, pl + 1);
	return true;
}

/* A listening socket on ai, or -errno. */
static int listen_ai(const struct addrinfo *ai, bool dual)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -errno;
	int one = 1, zero = 0;
	/* SO_REUSEADDR lets a restarted server bind while old connections sit in
	 * TIME_WAIT; on Linux it does not let two servers share a port. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (dual)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* The socket ADDR names, listening; or -1 after saying why. ":PORT" is every address:
 * IPv6 and IPv4 on one socket, or IPv4 alone where the kernel has no IPv6. */
static int listen_on(const char *addr)
{
	char host[256], port[8];
	if (!split_addr(addr, host, sizeof(host), port, sizeof(port))) {
		cli_fail("bad listen address '%s': expected :PORT, HOST:PORT or [IPV6]:PORT "
			 "(a port from 0 to 65535)", addr);
		return -1;
	}
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	const char *node = host[0] ? host : "::";
	hints.ai_family = host[0] ? AF_UNSPEC : AF_INET6;
	int g = getaddrinfo(node, port, &hints, &res);
	if (g != 0 && !host[0]) { /* no IPv6 here */
		hints.ai_family = AF_INET;
		g = getaddrinfo("0.0.0.0", port, &hints, &res);
	}
	if (g != 0) {
		cli_fail("cannot listen on %s: %s", addr, g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
		return -1;
	}
	int fd = -EADDRNOTAVAIL;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
		fd = listen_ai(ai, !host[0] && ai->ai_family == AF_INET6);
	freeaddrinfo(res);
	if (fd < 0) {
		cli_fail("cannot listen on %s: %s", addr, strerror(-fd));
		return -1;
	}
	return fd;
}

/* "golat: serving http://127.0.0.1:9464/metrics": the address as bound, with the
 * port the kernel chose for port 0 (the tests' way to a free port). */
static void say_bound(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	bool v6 = false, loopback = false;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)&ss;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		port = ntohs(a->sin6_port);
		v6 = true;
		loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) ||
			   (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) && a->sin6_addr.s6_addr[12] == 127);
	} else if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)&ss;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
		loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	fprintf(stderr, "golat: serving http://%s%s%s:%u/metrics\n", v6 ? "[" : "", host, v6 ? "]" : "",
		port);
	if (!loopback)
		fprintf(stderr, "golat: serving to the network, not this host alone: whoever reaches port %u "
			"reads the function names, counts and slowest calls' goroutines and callers "
			"(argument values stay out of the metrics)\n", port);
}

/* ---- connections ---- */

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->draining = false;
	c->drained = 0;
}

/* Sets c's answer: status line, headers, and body unless head_only. */
static void conn_answer(struct conn *c, const char *status, const char *headers, const char *type,
			const char *body, size_t blen, bool head_only)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (f) {
		fprintf(f, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			"Connection: close\r\n%s\r\n", status, type, blen, headers);
		if (!head_only)
			fwrite(body, 1, blen, f);
	}
	if (!f || fclose(f) != 0 || !out) {
		free(out);
		conn_close(c); /* out of memory: the client sees the connection close */
		return;
	}
	c->out = out;
	c->outlen = len;
	c->outoff = 0;
	c->deadline = now_ms() + RESPONSE_MS;
}

static void conn_text(struct conn *c, const char *status, const char *headers, const char *text,
		      bool head_only)
{
	conn_answer(c, status, headers, "text/plain; charset=utf-8", text, strlen(text), head_only);
}

/* host:port as the client reached this server: the targets /targets gives. */
static void self_addr(int fd, char *buf, size_t n)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "localhost";
	unsigned port = 0;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)&ss;
		if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr))
			inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], host, sizeof(host));
		else
			inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		port = ntohs(a->sin6_port);
		snprintf(buf, n, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
		return;
	}
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)&ss;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
	}
	snprintf(buf, n, "%s:%u", host, port);
}

static void answer_metrics(struct conn *c, struct server *sv, bool head_only, enum serve_format fmt,
			   uint32_t pid)
{
	static const char *const type[] = { [SERVE_TEXT] = "text/plain; version=0.0.4; charset=utf-8",
					     [SERVE_PROTOBUF] = REPORT_PB_TYPE,
					     [SERVE_TARGETS] = "application/json" };
	char *body, self[INET6_ADDRSTRLEN + 16];
	size_t len;
	struct serve_counts st;
	self_addr(c->fd, self, sizeof(self));
	int rc = serve_scrape(&body, &len, &st, &sv->conf, fmt, pid, self);
	if (rc == -ESRCH) {
		char t[96];
		snprintf(t, sizeof(t), "golat: no live golat process %u here\n", pid);
		conn_text(c, "404 Not Found", "", t, head_only);
		return;
	}
	if (rc != 0) {
		conn_text(c, "500 Internal Server Error", "", "golat: out of memory\n", head_only);
		return;
	}
	conn_answer(c, "200 OK", "", type[fmt], body, len, head_only);
	free(body);
}

/* Answers the request head in c->req: "METHOD TARGET HTTP/1.x", of the headers Accept
 * alone read (serve_http.c). */
static void conn_request(struct conn *c, struct server *sv)
{
	char method[16], target[SERVE_REQ_MAX + 1], version[16];
	char fmt[64];
	snprintf(fmt, sizeof(fmt), "%%15[A-Z] %%%d[^ \r\n] %%15[^ \r\n]", SERVE_REQ_MAX);
	if (sscanf(c->req, fmt, method, target, version) != 3 || strncmp(version, "HTTP/", 5) != 0) {
		conn_text(c, "400 Bad Request", "", "golat: bad request\n", false);
		return;
	}
	if (strcmp(version, "HTTP/1.0") != 0 && strcmp(version, "HTTP/1.1") != 0) {
		conn_text(c, "505 HTTP Version Not Supported", "", "golat: HTTP/1.0 or 1.1\n", false);
		return;
	}
	bool head = strcmp(method, "HEAD") == 0;
	char *pbody;
	size_t plen;
	const char *pstatus, *ptype;
	if ((head || strcmp(method, "GET") == 0) && page_server_route(sv->page, target, &pstatus, &ptype, &pbody, &plen)) {
		if (pbody)
			conn_answer(c, pstatus, "Cache-Control: no-store\r\n", ptype, pbody, plen, head);
		else
			conn_text(c, "500 Internal Server Error", "", "golat: out of memory\n", head);
		free(pbody);
		return;
	}
	uint32_t pid;
	int query = serve_query_pid(target, &pid);
	target[strcspn(target, "?#")] = 0;
	bool metrics = strcmp(target, "/metrics") == 0, targets = strcmp(target, "/targets") == 0;
	if (!metrics && !targets)
		conn_text(c, "404 Not Found", "",
			  "golat: not found; the metrics are at /metrics, the targets at /targets\n", head);
	else if (!head && strcmp(method, "GET") != 0)
		conn_text(c, "405 Method Not Allowed", "Allow: GET, HEAD\r\n", "golat: GET or HEAD\n", false);
	else if (query < 0)
		conn_text(c, "400 Bad Request", "", "golat: pid=N wants a process id\n", head);
	else
		answer_metrics(c, sv, head,
			       targets ? SERVE_TARGETS : serve_wants_protobuf(c->req) ? SERVE_PROTOBUF : SERVE_TEXT,
			       pid);
}

static void conn_write(struct conn *c);

static void conn_read(struct conn *c, struct server *sv)
{
	ssize_t k = recv(c->fd, c->req + c->len, SERVE_REQ_MAX - c->len, 0);
	if (k < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (k <= 0) {
		conn_close(c); /* gone before asking anything whole */
		return;
	}
	c->len += (size_t)k;
	c->req[c->len] = 0;
	if (memchr(c->req, 0, c->len))
		conn_text(c, "400 Bad Request", "", "golat: bad request\n", false);
	else if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n"))
		conn_request(c, sv);
	else if (c->len == SERVE_REQ_MAX)
		conn_text(c, "431 Request Header Fields Too Large", "", "golat: request too large\n", false);
	if (c->fd >= 0 && c->out)
		conn_write(c); /* usually whole at once */
}

/* The answer is sent: half-close, and read what the client still sends until it
 * closes (a "lingering close"). Closing at once with unread bytes makes the kernel send
 * a reset, which can destroy the answer before the client reads it: a 431 to a client
 * still sending its oversized request would never arrive. */
static void conn_drain(struct conn *c)
{
	char buf[4096];
	if (!c->draining) {
		shutdown(c->fd, SHUT_WR);
		free(c->out);
		c->out = NULL;
		c->draining = true;
		c->deadline = now_ms() + DRAIN_MS;
	}
	for (;;) {
		ssize_t k = recv(c->fd, buf, sizeof(buf), 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			return;
		if (k <= 0 || (c->drained += (size_t)k) > DRAIN_MAX)
			break;
	}
	conn_close(c);
}

static void conn_write(struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t k = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EAGAIN)
			return;
		if (k <= 0) {
			conn_close(c); /* the client went away */
			return;
		}
		c->outoff += (size_t)k;
	}
	conn_drain(c);
}

/* A free slot, or the one of the oldest client still sending its request, closed. */
static struct conn *conn_slot(struct server *sv)
{
	struct conn *oldest = NULL;
	for (int i = 0; i < SERVE_CONNS; i++) {
		struct conn *c = &sv->conns[i];
		if (c->fd < 0)
			return c;
		if (!c->out && (!oldest || c->seq < oldest->seq))
			oldest = c;
	}
	if (oldest)
		conn_close(oldest);
	return oldest;
}

static void accept_all(struct server *sv)
{
	for (;;) {
		int fd = accept4(sv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				sv->accept_pause = now_ms() + 100; /* let the others finish first */
			return;
		}
		struct conn *c = conn_slot(sv);
		if (!c) { /* every slot is sending an answer: this one waits for none */
			close(fd);
			continue;
		}
		*c = (struct conn){ .fd = fd, .deadline = now_ms() + REQUEST_MS, .seq = ++sv->seq };
	}
}

/* ---- the loop ---- */

/* One poll round: returns 0, or -errno when poll itself fails. */
static int serve_round(struct server *sv)
{
	struct pollfd p[SERVE_CONNS + 1];
	struct conn *who[SERVE_CONNS + 1];
	int n = 0;
	int64_t now = now_ms(), next = page_server_tick(sv->page, now);
	if (now >= sv->accept_pause)
		p[n++] = (struct pollfd){ sv->lfd, POLLIN, 0 };
	else
		next = sv->accept_pause;
	for (int i = 0; i < SERVE_CONNS; i++) {
		struct conn *c = &sv->conns[i];
		if (c->fd < 0)
			continue;
		who[n] = c;
		p[n++] = (struct pollfd){ c->fd, c->out ? POLLOUT : POLLIN, 0 };
		next = c->deadline < next ? c->deadline : next;
	}
	int k = poll(p, (nfds_t)n, next > now ? (int)(next - now) : 0);
	if (k < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		if (!p[i].revents)
			continue;
		if (p[i].fd == sv->lfd)
			accept_all(sv);
		else if (who[i]->fd == p[i].fd && who[i]->draining)
			conn_drain(who[i]);
		else if (who[i]->fd == p[i].fd && who[i]->out)
			conn_write(who[i]);
		else if (who[i]->fd == p[i].fd)
			conn_read(who[i], sv);
	}
	now = now_ms();
	for (int i = 0; i < SERVE_CONNS; i++)
		if (sv->conns[i].fd >= 0 && now >= sv->conns[i].deadline)
			conn_close(&sv->conns[i]); /* too slow to ask, or to take the answer */
	return 0;
}

/* --label NAME=VALUE into c: 0, or -1 after saying why. */
static int add_label(struct serve_conf *c, char *arg)
{
	char err[160], *eq = strchr(arg, '=');
	if (!eq) {
		cli_fail("--label %s: expected NAME=VALUE", arg);
		return -1;
	}
	*eq = 0;
	if (!serve_label_ok(arg, err, sizeof(err))) {
		cli_fail("--label: %s", err);
		return -1;
	}
	for (size_t i = 0; i < c->nextra; i++)
		if (strcmp(c->extra[i].name, arg) == 0) {
			cli_fail("--label %s given twice", arg);
			return -1;
		}
	if (c->nextra == SERVE_LABELS_MAX) {
		cli_fail("--label: at most %d", SERVE_LABELS_MAX);
		return -1;
	}
	c->extra[c->nextra++] = (struct report_label){ arg, eq + 1 };
	return 0;
}

static int parse(int argc, char **argv, const char **listen, struct cli_dirs *dirs, bool *args,
		 struct serve_conf *conf)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--label") == 0 && i + 1 < argc) {
			if (add_label(conf, argv[++i]))
				return 1;
			continue;
		}
		if (strncmp(argv[i], "--label=", 8) == 0) {
			if (add_label(conf, argv[i] + 8))
				return 1;
			continue;
		}
		if (strcmp(argv[i], "--args") == 0)
			*args = true; /* the page shows argument values */
		else if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
			*listen = argv[++i];
		else if (strncmp(argv[i], "--listen=", 9) == 0)
			*listen = argv[i] + 9;
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			if (!cli_dirs_add(dirs, argv[++i]))
				return -1;
		} else if (strncmp(argv[i], "--dir=", 6) == 0) {
			if (!cli_dirs_add(dirs, argv[i] + 6))
				return -1;
		} else
			return -1;
	}
	return 0;
}

int cmd_serve(int argc, char **argv)
{
	const char *listen_addr = DEFAULT_LISTEN;
	struct cli_dirs dirs = { .n = 0 };
	bool args = false;
	struct serve_conf conf = { .nextra = 0 };
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(SERVE_USAGE, stdout);
		return 0;
	}
	int bad = parse(argc, argv, &listen_addr, &dirs, &args, &conf);
	if (bad > 0)
		return 1; /* a bad --label, said */
	if (bad) {
		fputs(SERVE_USAGE, stderr);
		return 2;
	}
	/* Before listening: a --dir that is not there is a mistake to say now, not a
	 * server that finds nothing forever. */
	if (cli_dirs_check(&dirs))
		return 1;
	struct server *sv = calloc(1, sizeof(*sv));
	if (!sv)
		return cli_fail("out of memory");
	sv->dirs = dirs;
	if (!(sv->page = page_server_new(&sv->dirs, args))) {
		free(sv);
		return cli_fail("out of memory");
	}
	for (int i = 0; i < SERVE_CONNS; i++)
		sv->conns[i].fd = -1;
	sv->conf = conf;
	sv->conf.dirs = &sv->dirs;
	sv->conf.bounds = (struct report_prom_bounds){ REPORT_POW2, 0 };
	if ((sv->lfd = listen_on(listen_addr)) < 0) {
		page_server_free(sv->page);
		free(sv);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	cli_catch_stop();
	say_bound(sv->lfd);
	int rc = 0;
	while (!cli_stop_signal && rc == 0)
		rc = serve_round(sv);
	for (int i = 0; i < SERVE_CONNS; i++)
		conn_close(&sv->conns[i]);
	close(sv->lfd);
	free(sv->conf.rates);
	page_server_free(sv->page);
	free(sv);
	return rc ? cli_fail("poll: %s", strerror(-rc)) : 0;
}

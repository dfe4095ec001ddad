/* golat serve, the parts of a request head beyond its first line: which format the
 * Accept header asks for, and the pid a /metrics?pid=N asks about. Untrusted bytes from
 * the network: read within the head (NUL-terminated, at most SERVE_REQ_MAX bytes), each
 * byte a bounded number of times, nothing copied; tests/fuzz feeds it. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serve.h"

#define PB_TYPE "application/vnd.google.protobuf"
#define PB_PROTO "io.prometheus.client.MetricFamily"

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* [p, e) with the spaces around it taken off, and whether it is s (case-insensitive). */
static bool token_is(const char *p, const char *e, const char *s)
{
	while (p < e && is_space(*p))
		p++;
	while (e > p && is_space(e[-1]))
		e--;
	if (e > p + 1 && *p == '"' && e[-1] == '"') { /* a quoted parameter value */
		p++;
		e--;
	}
	size_t n = strlen(s);
	return (size_t)(e - p) == n && strncasecmp(p, s, n) == 0;
}

/* q of one media range, 0..1 (1 when absent; 0 when not a number). */
static double qvalue(const char *p, const char *e)
{
	while (p < e && is_space(*p))
		p++;
	double q = 0, scale = 1;
	if (p < e && (*p == '0' || *p == '1'))
		q = *p++ - '0';
	else
		return 0;
	if (p < e && *p == '.')
		for (p++; p < e && *p >= '0' && *p <= '9' && scale > 1e-3; p++)
			q += (*p - '0') * (scale /= 10);
	return q > 1 ? 1 : q;
}

/* One media range [p, e): whether it names the protobuf (*pb) or the text (else), and its q;
 * -1 for a type golat does not speak. */
static double media_range(const char *p, const char *e, bool *pb)
{
	const char *semi = memchr(p, ';', (size_t)(e - p));
	const char *te = semi ? semi : e;
	bool text = token_is(p, te, "text/plain") || token_is(p, te, "text/*") || token_is(p, te, "*/*");
	*pb = token_is(p, te, PB_TYPE);
	if (!text && !*pb)
		return -1;
	bool proto = false, delimited = false;
	double q = 1;
	while (semi) {
		const char *ps = semi + 1, *next = memchr(ps, ';', (size_t)(e - ps));
		const char *pe = next ? next : e, *eq = memchr(ps, '=', (size_t)(pe - ps));
		if (eq && token_is(ps, eq, "q"))
			q = qvalue(eq + 1, pe);
		else if (eq && token_is(ps, eq, "proto"))
			proto = token_is(eq + 1, pe, PB_PROTO);
		else if (eq && token_is(ps, eq, "encoding"))
			delimited = token_is(eq + 1, pe, "delimited");
		semi = next;
	}
	if (*pb && !(proto && delimited))
		return -1; /* another message, or another framing: not golat's */
	return q;
}

/* The value of every Accept header of a request head, each list walked. */
bool serve_wants_protobuf(const char *req)
{
	double qpb = 0, qtext = 0;
	bool any = false;
	for (const char *line = strchr(req, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
		const char *h = line + 1, *end = h + strcspn(h, "\r\n");
		if (end - h < 7 || strncasecmp(h, "accept:", 7) != 0)
			continue;
		any = true;
		for (const char *p = h + 7; p < end;) {
			const char *comma = memchr(p, ',', (size_t)(end - p)), *e = comma ? comma : end;
			bool pb;
			double q = media_range(p, e, &pb);
			if (q >= 0 && pb)
				qpb = q > qpb ? q : qpb;
			else if (q >= 0)
				qtext = q > qtext ? q : qtext;
			p = comma ? comma + 1 : end;
		}
	}
	return any && qpb > 0 && qpb >= qtext;
}

int serve_query_pid(const char *target, uint32_t *pid)
{
	*pid = 0;
	const char *q = strchr(target, '?');
	if (!q)
		return 0;
	int found = 0;
	for (const char *p = q + 1; *p && *p != '#';) {
		size_t n = strcspn(p, "&#");
		if (n > 4 && strncmp(p, "pid=", 4) == 0) {
			if (strspn(p + 4, "0123456789") != n - 4 || n - 4 > 10)
				return -1;
			unsigned long v = strtoul(p + 4, NULL, 10);
			if (v == 0 || v > 0x3fffffff)
				return -1;
			*pid = (uint32_t)v;
			found = 1;
		} else if (n >= 3 && strncmp(p, "pid", 3) == 0 && (n == 3 || p[3] == '=')) {
			return -1; /* pid without a value */
		}
		p += n;
		if (*p == '&')
			p++;
	}
	return found;
}

/* pbwire: protocol buffer wire encoding. See pbwire.h. */
#include <stdlib.h>
#include <string.h>

#include "pbwire.h"

void pbw_free(struct pbw *w)
{
	free(w->p);
	*w = (struct pbw){ 0 };
}

void pbw_reset(struct pbw *w)
{
	w->len = 0;
	w->oom = false;
}

void pbw_bytes(struct pbw *w, const void *p, size_t n)
{
	if (w->oom)
		return;
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		while (cap < w->len + n)
			cap *= 2;
		uint8_t *q = realloc(w->p, cap);
		if (!q) {
			w->oom = true;
			return;
		}
		w->p = q;
		w->cap = cap;
	}
	if (n)
		memcpy(w->p + w->len, p, n);
	w->len += n;
}

void pbw_varint(struct pbw *w, uint64_t v)
{
	uint8_t b[10];
	size_t n = 0;
	do {
		b[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			b[n] |= 0x80;
		n++;
	} while (v);
	pbw_bytes(w, b, n);
}

static void tag(struct pbw *w, unsigned f, unsigned wire)
{
	pbw_varint(w, (uint64_t)f << 3 | wire);
}

void pbw_uint(struct pbw *w, unsigned f, uint64_t v)
{
	tag(w, f, 0);
	pbw_varint(w, v);
}

void pbw_sint(struct pbw *w, unsigned f, int64_t v)
{
	tag(w, f, 0);
	pbw_varint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void pbw_double(struct pbw *w, unsigned f, double v)
{
	uint64_t b;
	uint8_t le[8];
	memcpy(&b, &v, sizeof(b));
	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(b >> (8 * i));
	tag(w, f, 1);
	pbw_bytes(w, le, 8);
}

void pbw_str(struct pbw *w, unsigned f, const char *s, size_t n)
{
	tag(w, f, 2);
	pbw_varint(w, n);
	pbw_bytes(w, s, n);
}

void pbw_msg(struct pbw *w, unsigned f, const struct pbw *m)
{
	if (m->oom)
		w->oom = true;
	pbw_str(w, f, (const char *)m->p, m->len);
}

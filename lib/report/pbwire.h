/* pbwire: the few protocol buffer wire encodings golat writes (varints, doubles,
 * strings, nested messages), into a growing buffer, for the Prometheus protobuf
 * exposition (report_prom.c). Hand-written rather than generated: the golat command
 * goes into containers with libc.so.6 as its only dependency (tools/, build-selfc), and
 * golat only writes these messages, never parses them. A nested message is written
 * into a buffer of its own, then appended with its length. */
#ifndef GOLAT_PBWIRE_H
#define GOLAT_PBWIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pbw {
	uint8_t *p;
	size_t len, cap;
	bool oom; /* a write failed for memory: the buffer is incomplete */
};

void pbw_free(struct pbw *w);
void pbw_reset(struct pbw *w); /* empty, keeping the memory */
void pbw_bytes(struct pbw *w, const void *p, size_t n);
void pbw_varint(struct pbw *w, uint64_t v);
/* Field f as a varint (wire type 0), a zigzag varint (sint32/sint64), a double (1), a
 * string or bytes (2), a nested message (2, m's bytes). */
void pbw_uint(struct pbw *w, unsigned f, uint64_t v);
void pbw_sint(struct pbw *w, unsigned f, int64_t v);
void pbw_double(struct pbw *w, unsigned f, double v);
void pbw_str(struct pbw *w, unsigned f, const char *s, size_t n);
void pbw_msg(struct pbw *w, unsigned f, const struct pbw *m);

#endif

/* json: the few helpers golat's JSON writers share (golat list/info, reports). */
#ifndef GOLAT_JSON_H
#define GOLAT_JSON_H

#include <stddef.h>
#include <stdio.h>

/* Writes s as a JSON string literal, quotes included; bytes that are not valid
 * UTF-8 are written as \u00XX so the output always parses. */
void json_string(FILE *f, const char *s);
/* The same for len bytes, NULs included (\u0000). */
void json_string_n(FILE *f, const char *s, size_t len);
/* Length of the valid UTF-8 sequence at p (2-4 bytes for a lead byte >= 0x80), or 0
 * when it is not one (overlong forms, surrogates and values past U+10FFFF are not).
 * Reads up to 4 bytes, stopping at the first that does not fit (a NUL does not). */
int json_utf8_len(const unsigned char *p);

#endif

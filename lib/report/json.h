/* json: the few helpers golat's JSON writers share (golat list/info, reports). */
#ifndef GOLAT_JSON_H
#define GOLAT_JSON_H

#include <stdio.h>

/* Writes s as a JSON string literal, quotes included; bytes that are not valid
 * UTF-8 are written as \u00XX so the output always parses. */
void json_string(FILE *f, const char *s);
/* Length of the valid UTF-8 sequence at p (2-4 bytes for a lead byte >= 0x80), or 0
 * when it is not one. */
int json_utf8_len(const unsigned char *p);

#endif

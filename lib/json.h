/* json: the few helpers golat's JSON writers share (golat list/info, reports). */
#ifndef GOLAT_JSON_H
#define GOLAT_JSON_H

#include <stdio.h>

/* Writes s as a JSON string literal, quotes included; bytes that are not valid
 * UTF-8 are written as \u00XX so the output always parses. */
void json_string(FILE *f, const char *s);

#endif

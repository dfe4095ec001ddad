/* json: string escaping for golat's JSON output. */
#include "json.h"

#include <stdint.h>
#include <string.h>

int json_utf8_len(const unsigned char *p)
{
	/* The second byte's range for each lead byte (RFC 3629, section 4): no overlong
	 * forms, no surrogates, nothing past U+10FFFF; the later ones are 80..BF. */
	unsigned char lo = 0x80, hi = 0xbf;
	int n;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, lo = p[0] == 0xe0 ? 0xa0 : 0x80, hi = p[0] == 0xed ? 0x9f : 0xbf;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, lo = p[0] == 0xf0 ? 0x90 : 0x80, hi = p[0] == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (int i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

void json_string_n(FILE *f, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	fputc('"', f);
	while (p < end) {
		int n = *p >= 0x80 && end - p >= 4 ? json_utf8_len(p) : 0;
		if (*p >= 0x80 && end - p < 4) { /* a sequence cut by the end is checked on a copy */
			unsigned char tail[4] = { 0 };
			for (long i = 0; i < end - p; i++)
				tail[i] = p[i];
			n = json_utf8_len(tail);
			n = n <= end - p ? n : 0;
		}
		if (*p == '"' || *p == '\\') {
			fputc('\\', f);
			fputc(*p++, f);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p++);
		} else if (*p < 0x80) {
			fputc(*p++, f);
		} else if (n == 0) {
			fprintf(f, "\\u%04x", *p++);
		} else {
			for (; n > 0; n--)
				fputc(*p++, f);
		}
	}
	fputc('"', f);
}

void json_string(FILE *f, const char *s)
{
	json_string_n(f, s, strlen(s));
}

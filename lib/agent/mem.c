/* mem: memcpy, memset and memmove for golat-agent.so, which has no libc: gcc may emit
 * calls to them for struct copies and zeroing (-ffreestanding does not stop that:
 * gcc's manual, "Options Controlling C Dialect", -ffreestanding). Byte loops, built
 * like the recorder (-mgeneral-regs-only, -fno-tree-loop-distribute-patterns, so that
 * they do not become calls to themselves); the agent copies little. */
#include <stddef.h>
#include <stdint.h>

void *memcpy(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;
	if (d < s) {
		while (n--)
			*d++ = *s++;
	} else {
		while (n--)
			d[n] = s[n];
	}
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	uint8_t *d = dst;
	while (n--)
		*d++ = (uint8_t)c;
	return dst;
}

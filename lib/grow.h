/* grow: the lists golat builds as it goes (threads held, skipped functions, plans,
 * translation records) grow by doubling, so that a list of n costs O(n) copies. */
#ifndef GOLAT_GROW_H
#define GOLAT_GROW_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Room for element n of the array *vp points to (any T *), which has room for *cap
 * elements of size bytes: when n == *cap it doubles (first: the first room). 0, or
 * -ENOMEM with the array and *cap as they were. The pointer is read and written with
 * memcpy, as a T * and not through a void **. */
static inline int array_grow(void *vp, size_t n, size_t *cap, size_t size, size_t first)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? 2 * *cap : first;
	void *old, *v;
	memcpy(&old, vp, sizeof(old));
	if (!(v = realloc(old, c * size)))
		return -ENOMEM;
	memcpy(vp, &v, sizeof(v));
	*cap = c;
	return 0;
}

#endif

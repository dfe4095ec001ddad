/* dwarf_test: drives lib/dwarf.c on real binaries.
 *
 *   dwarf_test FILE TYPE MEMBER...   prints "TYPE MEMBER OFFSET" (decimal) per pair,
 *                                    or "TYPE MEMBER ERRNAME"; the lookup time of the
 *                                    first pair goes to stderr
 *   dwarf_test --cprobe FILE         FILE is tests/dwarf/cprobe built with DWARF: its
 *                                    struct golat_probe offsets match offsetof here,
 *                                    and runtime.g is -ENOENT
 *   dwarf_test --enoent FILE         runtime.g goid is -ENOENT (stripped Go, C without -g)
 *   dwarf_test --damage FILE TYPE MEMBER
 *                                    truncated and corrupted copies of .debug_info and
 *                                    .debug_abbrev give an error or the right offset,
 *                                    never a crash (run it under ASan)
 * Exit status 0 when every check held. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "cprobe/probe.h"
#include "dwarf.h"

static const char *errname(int err)
{
	switch (err) {
	case -ENOENT: return "ENOENT";
	case -EINVAL: return "EINVAL";
	case -ENOMEM: return "ENOMEM";
	case -EOPNOTSUPP: return "EOPNOTSUPP";
	default: return "unexpected-error";
	}
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static uint8_t *read_file(const char *path, size_t *size)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(path);
		exit(2);
	}
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	*size = (size_t)st.st_size;
	return map;
}

static void open_image(struct elf_image *im, const uint8_t *data, size_t size)
{
	char err[256];
	if (elf_open(im, data, size, err, sizeof(err)) != 0) {
		fprintf(stderr, "elf_open: %s\n", err);
		exit(2);
	}
}

static int lookup(int argc, char **argv)
{
	struct elf_image im;
	size_t size;
	uint8_t *data = read_file(argv[1], &size);
	open_image(&im, data, size);
	for (int i = 2; i + 1 < argc; i += 2) {
		uint64_t off;
		double t0 = now_ms();
		int err = dwarf_member_offset(&im, argv[i], argv[i + 1], &off);
		if (i == 2)
			fprintf(stderr, "dwarf_member_offset(%s, %s): %.1f ms\n", argv[i], argv[i + 1],
				now_ms() - t0);
		if (err)
			printf("%s %s %s\n", argv[i], argv[i + 1], errname(err));
		else
			printf("%s %s %llu\n", argv[i], argv[i + 1], (unsigned long long)off);
	}
	elf_close(&im);
	return 0;
}

static int expect(const struct elf_image *im, const char *type, const char *member, int want_err,
		  uint64_t want_off)
{
	uint64_t off = UINT64_MAX;
	int err = dwarf_member_offset(im, type, member, &off);
	if (err == want_err && (err || off == want_off))
		return 0;
	printf("FAIL: %s %s: got %s %llu, want %s %llu\n", type, member, err ? errname(err) : "0",
	       (unsigned long long)off, want_err ? errname(want_err) : "0",
	       (unsigned long long)want_off);
	return 1;
}

/* The C compiler's own layout is the reference for the C probe: DWARF 2 to 5,
 * 32- and 64-bit DWARF, compressed or not, must all describe it the same. */
static int cprobe(const char *path)
{
	struct elf_image im;
	size_t size;
	uint8_t *data = read_file(path, &size);
	int fails = 0;

	open_image(&im, data, size);
	if (!dwarf_present(&im)) {
		printf("FAIL: %s: no DWARF\n", path);
		return 1;
	}
	fails += expect(&im, "golat_probe", "a", 0, offsetof(struct golat_probe, a));
	fails += expect(&im, "golat_probe", "b", 0, offsetof(struct golat_probe, b));
	fails += expect(&im, "golat_probe", "in", 0, offsetof(struct golat_probe, in));
	fails += expect(&im, "golat_probe", "in.y", 0, offsetof(struct golat_probe, in.y));
	fails += expect(&im, "golat_probe", "u.w", 0, offsetof(struct golat_probe, u.w));
	fails += expect(&im, "golat_probe", "td.hi", 0, offsetof(struct golat_probe, td.hi));
	fails += expect(&im, "golat_probe", "last", 0, offsetof(struct golat_probe, last));
	fails += expect(&im, "golat_probe", "nosuch", -ENOENT, 0);
	fails += expect(&im, "golat_probe", "b.x", -ENOENT, 0); /* b is no struct */
	fails += expect(&im, "golat_probe", "ptr.hi", -ENOENT, 0); /* pointers are not followed */
	fails += expect(&im, "runtime.g", "goid", -ENOENT, 0);
	printf("%s: %s\n", path, fails ? "FAIL" : "ok");
	elf_close(&im);
	return fails != 0;
}

static int enoent(const char *path)
{
	struct elf_image im;
	size_t size;
	uint8_t *data = read_file(path, &size);

	open_image(&im, data, size);
	int fails = expect(&im, "runtime.g", "goid", -ENOENT, 0);
	printf("%s: dwarf_present %d, %s\n", path, dwarf_present(&im), fails ? "FAIL" : "ok");
	elf_close(&im);
	return fails;
}

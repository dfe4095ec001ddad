/* dwarf_test: drives lib/reader/dwarf.c on real binaries.
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

static double now_ms(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
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
		double t0 = now_ms(CLOCK_MONOTONIC), c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
		int err = dwarf_member_offset(&im, argv[i], argv[i + 1], &off);
		if (i == 2)
			fprintf(stderr, "dwarf_member_offset(%s, %s): %.1f ms, %.1f ms CPU\n", argv[i],
				argv[i + 1], now_ms(CLOCK_MONOTONIC) - t0,
				now_ms(CLOCK_PROCESS_CPUTIME_ID) - c0);
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

/* The debug sections a lookup reads, uncompressed and appended to a copy of the
 * file, with their section headers pointed there: damage can then hit the DWARF
 * itself rather than a zlib stream (which would only ever fail to inflate). */
static const char *const debug_sections[] = { ".debug_info", ".debug_abbrev", ".debug_str",
					      ".debug_line_str", ".debug_str_offsets" };
#define NSECT (sizeof(debug_sections) / sizeof(*debug_sections))

static uint8_t *inflated(const struct elf_image *im, const Elf64_Shdr *sh, size_t *len)
{
	size_t raw;
	const uint8_t *p = elf_section_data(im, sh, &raw);
	if (!(sh->sh_flags & SHF_COMPRESSED)) {
		*len = raw;
		return memcpy(malloc(raw ? raw : 1), p, raw);
	}
	Elf64_Chdr ch;
	memcpy(&ch, p, sizeof(ch));
	uLongf out = ch.ch_size;
	uint8_t *buf = malloc(out ? out : 1);
	if (ch.ch_type != ELFCOMPRESS_ZLIB ||
	    uncompress(buf, &out, p + sizeof(ch), raw - sizeof(ch)) != Z_OK || out != ch.ch_size) {
		fprintf(stderr, "cannot inflate a section\n");
		exit(2);
	}
	*len = out;
	return buf;
}

/* Rebuilds the file with every debug section uncompressed and appended; returns
 * the copy, and each section's header index (or -1: absent, or only .zdebug_). */
static uint8_t *flatten(const uint8_t *data, size_t size, size_t *outsize, long idx[NSECT])
{
	struct elf_image im;
	uint8_t *sec[NSECT] = { 0 };
	size_t len[NSECT] = { 0 }, total = 0;

	open_image(&im, data, size);
	for (size_t i = 0; i < NSECT; i++) {
		const Elf64_Shdr *sh = elf_section(&im, debug_sections[i]);
		idx[i] = sh ? sh - im.sh : -1;
		if (sh) {
			sec[i] = inflated(&im, sh, &len[i]);
			total += len[i] + 8;
		}
	}
	uint8_t *buf = malloc(size + total + 8);
	memcpy(buf, data, size);
	*outsize = size;
	for (size_t i = 0; i < NSECT; i++) {
		if (idx[i] < 0)
			continue;
		size_t at = (*outsize + 7) & ~(size_t)7;
		memcpy(buf + at, sec[i], len[i]);
		Elf64_Shdr sh = im.sh[idx[i]];
		sh.sh_offset = at;
		sh.sh_size = len[i];
		sh.sh_flags &= ~(uint64_t)SHF_COMPRESSED;
		memcpy(buf + im.eh.e_shoff + (size_t)idx[i] * sizeof(sh), &sh, sizeof(sh));
		*outsize = at + len[i];
		free(sec[i]);
	}
	elf_close(&im);
	return buf;
}

/* One lookup on a damaged image: any documented error, or (when exact) the
 * undamaged answer. A crash or hang is the failure this exists to catch. */
static int damaged_lookup(const struct elf_image *im, const char *type, const char *member,
			  bool exact, uint64_t want)
{
	uint64_t off = 0;
	int err = dwarf_member_offset(im, type, member, &off);
	if (err == -ENOENT || err == -EINVAL || err == -ENOMEM || (err == 0 && (!exact || off == want)))
		return 0;
	printf("FAIL: damaged %s %s: %s %llu (want an error or %llu)\n", type, member,
	       err ? errname(err) : "0", (unsigned long long)off, (unsigned long long)want);
	return 1;
}

/* The original compressed section, cut short: the zlib stream ends early. Cuts
 * inside the zlib header fail at once; later ones fail when the walk reaches the
 * cut, or read right if what they need comes before it (.debug_info is inflated
 * only as far as the walk goes, and the adler32 trailer is not checked). */
static int damage_compressed(struct elf_image *im, const char *type, const char *member,
			     uint64_t want)
{
	const Elf64_Shdr *info = elf_section(im, ".debug_info");
	int fails = 0;

	if (!info || !(info->sh_flags & SHF_COMPRESSED))
		return 0;
	Elf64_Shdr *sh = &im->sh[info - im->sh];
	uint64_t full = sh->sh_size;
	const uint64_t cuts[] = { 0, 8, sizeof(Elf64_Chdr), sizeof(Elf64_Chdr) + 1 };
	for (size_t i = 0; i < sizeof(cuts) / sizeof(*cuts); i++) {
		sh->sh_size = cuts[i];
		fails += expect(im, type, member, -EINVAL, 0);
	}
	for (uint64_t n = sizeof(Elf64_Chdr) + 2; n < full; n += n < full - 64 ? full / 64 : 1) {
		sh->sh_size = n;
		fails += damaged_lookup(im, type, member, true, want);
	}
	sh->sh_size = full;
	return fails;
}

/* Every cut up to 256 bytes, then 200 cuts across the section; then 200 copies with
 * one to four bytes overwritten (half of them in the first 64 KiB, where the unit
 * headers and the first DIEs are). */
static int damage_section(struct elf_image *im, uint8_t *buf, long idx, const char *type,
			  const char *member, uint64_t want)
{
	Elf64_Shdr *sh = &im->sh[idx];
	uint64_t full = sh->sh_size;
	int fails = 0;

	for (uint64_t n = 0; n < full; n = n < 256 ? n + 1 : n + full / 200 + 1) {
		sh->sh_size = n;
		fails += damaged_lookup(im, type, member, true, want);
	}
	sh->sh_size = full;
	uint8_t *p = buf + sh->sh_offset;
	srand(1);
	for (int k = 0; k < 200 && full; k++) {
		size_t pos[4], range = k % 2 && full > 65536 ? 65536 : full;
		uint8_t old[4];
		int nb = 1 + rand() % 4;
		for (int j = 0; j < nb; j++) {
			pos[j] = ((size_t)rand() << 16 ^ (size_t)rand()) % range;
			old[j] = p[pos[j]];
			p[pos[j]] = (uint8_t)rand();
		}
		fails += damaged_lookup(im, type, member, false, 0);
		for (int j = nb - 1; j >= 0; j--)
			p[pos[j]] = old[j];
	}
	return fails;
}

static int damage(const char *path, const char *type, const char *member)
{
	struct elf_image im;
	size_t size, fsize;
	long idx[NSECT];
	uint64_t want;
	int fails = 0;
	uint8_t *data = read_file(path, &size);

	open_image(&im, data, size);
	if (dwarf_member_offset(&im, type, member, &want) != 0) {
		printf("FAIL: %s: no offset for %s %s to start from\n", path, type, member);
		return 1;
	}
	fails += damage_compressed(&im, type, member, want);
	elf_close(&im);

	uint8_t *buf = flatten(data, size, &fsize, idx);
	open_image(&im, buf, fsize);
	fails += expect(&im, type, member, 0, want); /* uncompressed reads the same */
	for (size_t i = 0; i < NSECT; i++) {
		if (idx[i] < 0)
			continue;
		double t0 = now_ms(CLOCK_MONOTONIC);
		int f = damage_section(&im, buf, idx[i], type, member, want);
		printf("%s: damaged %s: %s (%.0f ms)\n", path, debug_sections[i], f ? "FAIL" : "ok",
		       now_ms(CLOCK_MONOTONIC) - t0);
		fails += f;
	}
	elf_close(&im);
	free(buf);
	return fails != 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--cprobe") == 0)
		return cprobe(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--enoent") == 0)
		return enoent(argv[2]);
	if (argc == 5 && strcmp(argv[1], "--damage") == 0)
		return damage(argv[2], argv[3], argv[4]);
	if (argc >= 4 && argc % 2 == 0 && argv[1][0] != '-')
		return lookup(argc, argv);
	fprintf(stderr, "usage: dwarf_test FILE TYPE MEMBER... | --cprobe FILE | --enoent FILE |"
			" --damage FILE TYPE MEMBER\n");
	return 2;
}

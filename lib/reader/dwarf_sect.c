/* dwarf_sect: the DWARF sections of one lookup (see dwarf_int.h).
 *
 * Owns finding .debug_<name> (or the older .zdebug_<name>) in the ELF image and
 * inflating it when the linker compressed it: SHF_COMPRESSED zlib sections, or
 * .zdebug_* "ZLIB" sections; zstd is refused. Every section is inflated whole at
 * open, except .debug_info, whose zlib stream stays open and is inflated only as far
 * as the walk reads (dwarf_info_at). The zlib budget (DWARF_MAX_INFLATE, the
 * compression ratio check) lives here; the rest of the reader sees plain bytes. */
#include "dwarf_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* All sections of one lookup may inflate to this much together: Go's largest
 * binaries carry a few hundred MB of DWARF. */
#define DWARF_MAX_INFLATE (1ull << 30)
/* zlib cannot expand data more than ~1032:1; a header claiming more is lying, and
 * believing it would let a few fuzzed bytes allocate a gigabyte. */
#define DWARF_ZLIB_MAX_RATIO 1032
/* A compressed .debug_info is inflated at least this much further at a time. */
#define DWARF_INFLATE_STEP (1u << 20)

/* Inflates into s until its first upto bytes are there (or the stream fails). */
static bool dwarf_zrun(z_stream *zs, const struct dwarf_sec *s, uint64_t upto)
{
	int ret = Z_OK;

	while (zs->total_out < upto && ret == Z_OK) {
		uint64_t left = s->len - zs->total_out, step = upto - zs->total_out;
		if (step < DWARF_INFLATE_STEP)
			step = DWARF_INFLATE_STEP;
		zs->next_out = (Bytef *)s->owned + zs->total_out;
		zs->avail_out = (uInt)(step < left ? step : left);
		ret = inflate(zs, Z_NO_FLUSH);
	}
	return zs->total_out >= upto;
}

/* A reader on .debug_info [from, to), inflating it that far first if needed:
 * runtime.g lies 9% to 52% of the way into the Go binaries measured (it follows
 * the link order of packages), so a lookup seldom needs all of it. */
struct dwarf_rd dwarf_info_at(struct dwarf_ctx *c, uint64_t from, uint64_t to)
{
	if (c->zinfo_open && to <= c->info.len && !dwarf_zrun(&c->zinfo, &c->info, to))
		return (struct dwarf_rd){ .bad = true };
	return dwarf_rd_at(&c->info, from, to);
}

/* Starts inflating the zlib stream src into a new buffer of size bytes, held by
 * s. The stream's adler32 trailer is never checked (a raw inflate after the
 * 2-byte header): a lookup may stop early, and a damaged stream that still
 * inflates is just more untrusted DWARF, which the walk copes with. */
static int dwarf_zstart(struct dwarf_ctx *c, z_stream *zs, const uint8_t *src, size_t srclen,
			uint64_t size, struct dwarf_sec *s)
{
	if (size > c->inflate_left)
		return -ENOMEM;
	/* RFC 1950: deflate (CM 8), window <= 32 KiB, no preset dictionary. */
	if (srclen < 2 || (src[0] & 0x8f) != 8 || (src[0] << 8 | src[1]) % 31 || (src[1] & 0x20) ||
	    size / DWARF_ZLIB_MAX_RATIO > srclen)
		return -EINVAL;
	uint8_t *buf = malloc(size ? size : 1);
	*zs = (z_stream){ 0 };
	if (!buf || inflateInit2(zs, -15) != Z_OK) {
		free(buf);
		return -ENOMEM;
	}
	zs->next_in = (Bytef *)src + 2; /* zlib's API is not const-correct; it does not write */
	zs->avail_in = srclen - 2 > UINT32_MAX ? UINT32_MAX : (uInt)(srclen - 2);
	c->inflate_left -= size;
	*s = (struct dwarf_sec){ buf, size, buf };
	return 0;
}

/* Inflates a compressed section: all of it now, except .debug_info (see
 * dwarf_info_at), whose stream stays open in c->zinfo. */
static int dwarf_inflate(struct dwarf_ctx *c, const uint8_t *src, size_t srclen, uint64_t size,
			 struct dwarf_sec *s)
{
	z_stream zs;
	bool info = s == &c->info;
	int err = dwarf_zstart(c, info ? &c->zinfo : &zs, src, srclen, size, s);

	if (err)
		return err;
	if (info) {
		c->zinfo_open = true;
		return 0;
	}
	bool ok = dwarf_zrun(&zs, s, size);
	inflateEnd(&zs);
	return ok ? 0 : -EINVAL;
}

/* Loads .debug_<name>, inflating it if it is SHF_COMPRESSED (an Elf64_Chdr, then
 * the zlib stream: what Go's linker and GNU ld --compress-debug-sections write),
 * or else .zdebug_<name> ("ZLIB", a big-endian 64-bit size, the stream). */
static int dwarf_sec_load(struct dwarf_ctx *c, const struct elf_image *im, const char *name,
			  struct dwarf_sec *s)
{
	char sname[32];
	size_t len = 0;

	snprintf(sname, sizeof(sname), ".debug_%s", name);
	const Elf64_Shdr *sh = elf_section(im, sname);
	const uint8_t *p = elf_section_data(im, sh, &len);
	if (p && !(sh->sh_flags & SHF_COMPRESSED)) {
		*s = (struct dwarf_sec){ p, len, NULL };
		return 0;
	}
	if (p && len < sizeof(Elf64_Chdr))
		return -EINVAL;
	if (p && elf_u32(p) != ELFCOMPRESS_ZLIB)
		return -EOPNOTSUPP;
	if (p)
		return dwarf_inflate(c, p + sizeof(Elf64_Chdr), len - sizeof(Elf64_Chdr),
				     elf_u64(p + offsetof(Elf64_Chdr, ch_size)), s);
	snprintf(sname, sizeof(sname), ".zdebug_%s", name);
	if (!(p = elf_section_data(im, elf_section(im, sname), &len)))
		return -ENOENT;
	if (len < 12 || memcmp(p, "ZLIB", 4) != 0)
		return -EINVAL;
	return dwarf_inflate(c, p + 12, len - 12, __builtin_bswap64(elf_u64(p + 4)), s);
}

/* Loads the sections a lookup reads: without .debug_info there is no DWARF,
 * without .debug_abbrev it cannot be read, the string sections are optional. */
int dwarf_ctx_open(struct dwarf_ctx *c, const struct elf_image *im)
{
	static const char *const names[] = { "info", "abbrev", "str", "line_str", "str_offsets",
					      "addr" };
	_Static_assert(sizeof(names) / sizeof(*names) == sizeof(c->sec) / sizeof(*c->sec),
		       "one name per section");

	c->inflate_left = DWARF_MAX_INFLATE;
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		int err = dwarf_sec_load(c, im, names[i], &c->sec[i]);
		if (err && (err != -ENOENT || i < 2))
			return err == -ENOENT && i == 1 ? -EINVAL : err;
	}
	/* Each table is parsed once in a sane file; allow plenty of re-parsing. */
	c->abbrev_left = 64 * (uint64_t)c->abbrev.len + (1u << 20);
	return 0;
}

void dwarf_ctx_close(struct dwarf_ctx *c)
{
	if (c->zinfo_open)
		inflateEnd(&c->zinfo);
	for (size_t i = 0; i < sizeof(c->sec) / sizeof(*c->sec); i++)
		free(c->sec[i].owned);
	free(c->ab.a);
	free(c->ab.at);
	free(c->units);
}

bool dwarf_present(const struct elf_image *im)
{
	size_t len;

	return elf_section_data(im, elf_section(im, ".debug_info"), &len) ||
	       elf_section_data(im, elf_section(im, ".zdebug_info"), &len);
}

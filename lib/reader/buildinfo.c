#define _GNU_SOURCE
/* buildinfo: the Go version a binary was built with, and its main package and module,
 * from .go.buildinfo.
 *
 * The blob starts "\xff Go buildinf:", then pointer size and flags bytes. Since Go 1.18
 * (flags & 2) the version follows inline at +32 as a varint-prefixed string; before, +16
 * holds a pointer to a Go string header {ptr, len}. See debug/buildinfo/buildinfo.go and
 * cmd/link/internal/ld/data.go (buildinfo). Without a section header (sstrip), the blob
 * is found by scanning writable segments at 16-byte alignment, as debug/buildinfo does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gobin.h"

static const char MAGIC[14] = "\xff Go buildinf:";

static void set_version(struct gobin *gb, const uint8_t *s, uint64_t len)
{
	if (len == 0 || len >= sizeof(gb->go_version) || memcmp(s, "go", 2) != 0)
		return;
	memcpy(gb->go_version, s, len);
	gb->go_version[len] = 0;
	int major = 0, minor = 0;
	if (sscanf(gb->go_version, "go%d.%d", &major, &minor) == 2 && major == 1)
		gb->go_minor = minor;
}

/* Copies the tab- or newline-ended field at s (of at most end - s bytes) into out. */
static void copy_field(char *out, size_t size, const uint8_t *s, const uint8_t *end)
{
	size_t n = 0;
	while (s + n < end && s[n] != '\t' && s[n] != '\n')
		n++;
	if (n >= size)
		return; /* longer than any real path: left out rather than cut */
	memcpy(out, s, n);
	out[n] = 0;
}

/* The module information string (runtime/debug.BuildInfo as text, between two 16-byte
 * sentinels: debug/buildinfo, readRawBuildInfo): its "path" and "mod" lines. */
static void set_modinfo(struct gobin *gb, const uint8_t *s, uint64_t len)
{
	if (len < 33 || s[len - 17] != '\n')
		return;
	const uint8_t *end = s + len - 16;
	for (const uint8_t *l = s + 16; l < end;) {
		const uint8_t *nl = memchr(l, '\n', (size_t)(end - l));
		if ((size_t)(end - l) > 5 && memcmp(l, "path\t", 5) == 0)
			copy_field(gb->main_path, sizeof(gb->main_path), l + 5, end);
		if ((size_t)(end - l) > 4 && memcmp(l, "mod\t", 4) == 0) {
			copy_field(gb->main_module, sizeof(gb->main_module), l + 4, end);
			const uint8_t *tab = memchr(l + 4, '\t', (size_t)((nl ? nl : end) - (l + 4)));
			if (tab)
				copy_field(gb->main_version, sizeof(gb->main_version), tab + 1, end);
		}
		l = nl ? nl + 1 : end;
	}
}

/* p points at the magic, with avail readable bytes; addr is its link-time address. */
static bool parse_blob(struct gobin *gb, const uint8_t *p, size_t avail, uint64_t addr)
{
	if (avail < 32 || memcmp(p, MAGIC, sizeof(MAGIC)) != 0 || p[14] != 8)
		return false;
	if (p[15] & 2) {
		uint64_t len;
		size_t used;
		if (!gobin_uvarint(p + 32, avail - 32, &len, &used) || len > avail - 32 - used)
			return false;
		set_version(gb, p + 32 + used, len);
		size_t at = 32 + used + len, mused;
		uint64_t mlen;
		if (gb->go_version[0] && gobin_uvarint(p + at, avail - at, &mlen, &mused) &&
		    mlen <= avail - at - mused)
			set_modinfo(gb, p + at + mused, mlen);
		return gb->go_version[0] != 0;
	}
	uint64_t hdr, str, len; /* Go 1.16-1.17: pointer to a string header */
	if (!elf_read_ptr(&gb->elf, addr + 16, &hdr) || !elf_read_ptr(&gb->elf, hdr, &str) ||
	    !elf_read_ptr(&gb->elf, hdr + 8, &len) || len >= sizeof(gb->go_version))
		return false;
	const uint8_t *s = elf_at(&gb->elf, str, len, NULL);
	if (s)
		set_version(gb, s, len);
	if (gb->go_version[0] && elf_read_ptr(&gb->elf, addr + 24, &hdr) && elf_read_ptr(&gb->elf, hdr, &str) &&
	    elf_read_ptr(&gb->elf, hdr + 8, &len) && len < (1u << 20) && (s = elf_at(&gb->elf, str, len, NULL)))
		set_modinfo(gb, s, len);
	return gb->go_version[0] != 0;
}

void buildinfo_read(struct gobin *gb)
{
	size_t len = 0;
	const Elf64_Shdr *sh = elf_section(&gb->elf, ".go.buildinfo");
	const uint8_t *d = elf_section_data(&gb->elf, sh, &len);
	if (d && parse_blob(gb, d, len, sh->sh_addr))
		return;
	for (size_t i = 0; i < gb->elf.phnum; i++) {
		const Elf64_Phdr *p = &gb->elf.ph[i];
		if (p->p_type != PT_LOAD || !(p->p_flags & PF_W))
			continue;
		d = elf_at(&gb->elf, p->p_vaddr, 0, &len);
		for (size_t off = 0; d && off + 32 <= len; off += 16) {
			const uint8_t *m = memmem(d + off, len - off, MAGIC, sizeof(MAGIC));
			if (!m)
				break;
			off = (size_t)(m - d) & ~(size_t)15;
			if ((size_t)(m - d) == off &&
			    parse_blob(gb, m, len - off, p->p_vaddr + off))
				return;
		}
	}
}

#define _GNU_SOURCE
/* buildinfo: the Go version a binary was built with, from .go.buildinfo.
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
		return gb->go_version[0] != 0;
	}
	uint64_t hdr, str, len; /* Go 1.16-1.17: pointer to a string header */
	if (!elf_read_ptr(&gb->elf, addr + 16, &hdr) || !elf_read_ptr(&gb->elf, hdr, &str) ||
	    !elf_read_ptr(&gb->elf, hdr + 8, &len) || len >= sizeof(gb->go_version))
		return false;
	const uint8_t *s = elf_at(&gb->elf, str, len, NULL);
	if (s)
		set_version(gb, s, len);
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

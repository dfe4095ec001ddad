/* pclntab: find the Go function table of a binary and read every function from it.
 *
 * Layouts (runtime/symtab.go pcHeader and runtime2.go _func of each version):
 *   magic 0xfffffffa  Go 1.16-1.17: header words nfunc, nfiles, funcname, cu, filetab,
 *                     pctab, pcln offsets; functab of {entry uintptr, funcoff uintptr}.
 *   magic 0xfffffff0  Go 1.18-1.19: nfunc, nfiles, textStart, funcname, cu, filetab,
 *                     pctab, pcln; functab of {entryoff u32, funcoff u32}, PC = text+off.
 *   magic 0xfffffff1  Go 1.20+: as 1.18, _func gains startLine. Go 1.26 stopped filling
 *                     textStart (it needed a relocation): the text start is the `text`
 *                     field of runtime.firstmoduledata, which we find by its first field,
 *                     a pointer to this header.
 * Stripped and externally linked PIE binaries have no .gopclntab section (the table is
 * merged into .data.rel.ro), so the fallback scans the loaded segments for a header
 * that validates completely. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gobin.h"

#define MAGIC_116 0xfffffffau
#define MAGIC_118 0xfffffff0u
#define MAGIC_120 0xfffffff1u

/* runtime.moduledata: pcHeader, then six slices (24 bytes each): funcnametab, cutab,
 * filetab, pctab, pclntable, ftab; findfunctab, minpc, maxpc, text. The same from
 * Go 1.16 to 1.27. */
#define MD_FUNCNAMETAB 8
#define MD_FTAB 128
#define MD_TEXT 176

struct hdr {
	uint32_t magic;
	uint8_t quantum;
	const uint8_t *p; /* header bytes; avail bytes are readable from p */
	size_t avail;
	uint64_t addr;
	uint64_t nfunc, funcname, pcln, text_field; /* text_field: header offset, 0 if none */
	uint64_t cu, filetab, pctab; /* source positions (gobin_pc_line) */
	size_t fsz; /* size of one functab field: 4, or 8 before 1.18 */
};

static bool hdr_parse(struct hdr *h, const struct gobin *gb, uint64_t addr)
{
	memset(h, 0, sizeof(*h));
	h->addr = addr;
	h->p = elf_at(&gb->elf, addr, 0, &h->avail);
	if (!h->p || h->avail < 72)
		return false;
	h->magic = elf_u32(h->p);
	/* Bytes 6 and 7: the PC quantum (1 on amd64, 4 on arm64: pcvalue deltas count in
	 * it) and the pointer size. debug/gosym accepts the quanta Go has: 1, 2 and 4. */
	h->quantum = h->p[6];
	if (h->p[4] || h->p[5] || (h->quantum != 1 && h->quantum != 2 && h->quantum != 4) ||
	    h->p[7] != 8)
		return false;
	const uint8_t *w = h->p + 8; /* header words */
	switch (h->magic) {
	case MAGIC_116:
		h->funcname = elf_u64(w + 16);
		h->cu = elf_u64(w + 24);
		h->filetab = elf_u64(w + 32);
		h->pctab = elf_u64(w + 40);
		h->pcln = elf_u64(w + 48);
		h->fsz = 8;
		break;
	case MAGIC_118:
	case MAGIC_120:
		h->text_field = 24;
		h->funcname = elf_u64(w + 24);
		h->cu = elf_u64(w + 32);
		h->filetab = elf_u64(w + 40);
		h->pctab = elf_u64(w + 48);
		h->pcln = elf_u64(w + 56);
		h->fsz = 4;
		break;
	default:
		return false;
	}
	h->nfunc = elf_u64(w);
	if (h->nfunc == 0 || h->funcname >= h->avail || h->pcln >= h->avail)
		return false;
	/* functab: nfunc pairs and one end PC, inside the table. */
	uint64_t ftab_len = (h->nfunc * 2 + 1) * h->fsz;
	return h->nfunc < h->avail / 8 && ftab_len <= h->avail - h->pcln;
}

/* Does md look like a moduledata describing header h? */
static bool md_matches(const struct gobin *gb, const struct hdr *h, uint64_t md)
{
	uint64_t v;
	return elf_read_ptr(&gb->elf, md, &v) && v == h->addr &&
	       elf_read_ptr(&gb->elf, md + MD_FUNCNAMETAB, &v) && v == h->addr + h->funcname &&
	       elf_read_ptr(&gb->elf, md + MD_FTAB, &v) && v == h->addr + h->pcln;
}

struct md_search {
	const struct gobin *gb;
	const struct hdr *h;
	uint64_t md;
};

static bool md_try(uint64_t slot, void *arg)
{
	struct md_search *s = arg;
	if (!md_matches(s->gb, s->h, slot))
		return false;
	s->md = slot;
	return true;
}

/* Finds runtime.firstmoduledata: by symbol, by a PIE relocation pointing at the
 * header, or by scanning the writable segments for a pointer to it. */
static uint64_t find_moduledata(const struct gobin *gb, const struct hdr *h)
{
	struct md_search s = { gb, h, 0 };
	uint64_t v;
	if (elf_symbol(&gb->elf, "runtime.firstmoduledata", &v, NULL) && md_matches(gb, h, v))
		return v;
	elf_find_reloc_to(&gb->elf, h->addr, md_try, &s);
	if (s.md)
		return s.md;
	for (size_t i = 0; i < gb->elf.phnum; i++) {
		const Elf64_Phdr *p = &gb->elf.ph[i];
		if (p->p_type != PT_LOAD || !(p->p_flags & PF_W))
			continue;
		size_t avail;
		const uint8_t *d = elf_at(&gb->elf, p->p_vaddr, 0, &avail);
		for (size_t off = 0; d && off + MD_TEXT + 8 <= avail; off += 8)
			if (elf_u64(d + off) == h->addr && md_try(p->p_vaddr + off, &s))
				return s.md;
	}
	return 0;
}

/* The text start that functab offsets are relative to (Go 1.18+). */
static bool find_text(struct gobin *gb, const struct hdr *h)
{
	uint64_t md = find_moduledata(gb, h), v;
	if (md && elf_read_ptr(&gb->elf, md + MD_TEXT, &v) && v) {
		gb->text = v;
		return true;
	}
	/* 1.18-1.24 also keep it in the header (relocated in a PIE). */
	if (elf_read_ptr(&gb->elf, h->addr + h->text_field, &v) && v) {
		gb->text = v;
		return true;
	}
	return false;
}

static uint64_t ftab_field(const struct gobin *gb, const struct hdr *h, uint64_t i)
{
	const uint8_t *f = h->p + h->pcln + i * h->fsz;
	if (h->fsz == 4)
		return elf_u32(f);
	uint64_t v; /* absolute and relocated in a 1.16/1.17 PIE */
	if (!elf_read_ptr(&gb->elf, h->addr + h->pcln + i * 8, &v))
		v = elf_u64(f);
	return v;
}

/* Reads one function record; false if it points outside the table. */
static bool read_func(struct gobin *gb, const struct hdr *h, uint64_t i, struct gobin_func *fn)
{
	uint64_t funcoff = ftab_field(gb, h, 2 * i + 1);
	uint64_t rec = h->pcln + funcoff;
	/* _func: nameoff at +8 (1.16: entry is a uintptr) or +4, args right after it;
	 * funcID/flag at +40/41, or +36/37 in 1.18-1.19 which have no startLine. */
	size_t name_at = h->fsz == 8 ? 8 : 4, id_at = h->magic == MAGIC_118 ? 36 : 40;
	if (funcoff >= h->avail || rec > h->avail - 44)
		return false;
	int32_t nameoff = (int32_t)elf_u32(h->p + rec + name_at);
	uint64_t name = h->funcname + (uint64_t)(int64_t)nameoff;
	if (nameoff < 0 || name >= h->avail || !memchr(h->p + name, 0, h->avail - name))
		return false;
	fn->name = (const char *)h->p + name;
	fn->args = elf_u32(h->p + rec + name_at + 4);
	fn->funcid = h->p[rec + id_at];
	fn->flag = h->p[rec + id_at + 1]; /* 0 in 1.16, where it is padding */
	return true;
}

static int read_funcs(struct gobin *gb, const struct hdr *h, char *err, size_t errlen)
{
	uint64_t base = h->fsz == 4 ? gb->text : 0;
	struct gobin_func *fs = calloc(h->nfunc, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	for (uint64_t i = 0; i < h->nfunc; i++) {
		fs[i].entry = base + ftab_field(gb, h, 2 * i);
		fs[i].end = base + ftab_field(gb, h, 2 * i + 2);
		if (fs[i].end < fs[i].entry || !read_func(gb, h, i, &fs[i])) {
			snprintf(err, errlen, "corrupt pclntab: function %llu of %llu is malformed",
				 (unsigned long long)i, (unsigned long long)h->nfunc);
			free(fs);
			return -EINVAL;
		}
	}
	gb->funcs = fs;
	gb->nfuncs = h->nfunc;
	return 0;
}

static int use_header(struct gobin *gb, const struct hdr *h, const char *source, char *err,
		      size_t errlen)
{
	if (h->fsz == 4 && !find_text(gb, h)) {
		snprintf(err, errlen, "corrupt Go binary: pclntab found but not the text start");
		return -EINVAL;
	}
	int rc = read_funcs(gb, h, err, errlen);
	if (rc == 0) {
		gb->pcln_magic = h->magic;
		gb->pc_quantum = h->quantum;
		gb->pclntab = h->addr;
		gb->pclntab_source = source;
	}
	return rc;
}

/* Scans every loaded segment for a header that parses and whose functions read. */
static int scan_segments(struct gobin *gb, char *err, size_t errlen)
{
	int rc = -ENOEXEC;
	for (size_t i = 0; i < gb->elf.phnum; i++) {
		const Elf64_Phdr *p = &gb->elf.ph[i];
		if (p->p_type != PT_LOAD || (p->p_flags & PF_X))
			continue;
		size_t avail;
		const uint8_t *d = elf_at(&gb->elf, p->p_vaddr, 0, &avail);
		for (size_t off = 0; d && off + 8 <= avail; off += 8) {
			uint32_t m = elf_u32(d + off);
			if ((m != MAGIC_116 && m != MAGIC_118 && m != MAGIC_120) || d[off + 7] != 8)
				continue;
			struct hdr h;
			if (!hdr_parse(&h, gb, p->p_vaddr + off))
				continue;
			if ((rc = use_header(gb, &h, "scan", err, errlen)) == 0 || rc == -ENOMEM)
				return rc;
		}
	}
	if (rc == -ENOEXEC)
		snprintf(err, errlen, "not a Go binary: no pclntab found");
	return rc;
}

int pclntab_read(struct gobin *gb, char *err, size_t errlen)
{
	struct hdr h;
	uint64_t addr;
	const Elf64_Shdr *sh = elf_section(&gb->elf, ".gopclntab");
	if (sh && sh->sh_addr) {
		if (!hdr_parse(&h, gb, sh->sh_addr)) {
			snprintf(err, errlen, "corrupt Go binary: .gopclntab has no valid header");
			return -EINVAL;
		}
		return use_header(gb, &h, ".gopclntab", err, errlen);
	}
	if (elf_symbol(&gb->elf, "runtime.pclntab", &addr, NULL) && hdr_parse(&h, gb, addr))
		return use_header(gb, &h, "runtime.pclntab", err, errlen);
	return scan_segments(gb, err, errlen);
}

/* The value at pc of the pcvalue table at off in pctab, for the function at entry
 * (runtime/symtab.go, pcvalue and step): pairs of varints, a zigzag value delta then a
 * PC delta in quanta; a zero value delta after the first pair ends the table. */
static bool pcvalue(const struct hdr *h, uint32_t off, uint64_t entry, uint64_t pc, int32_t *val)
{
	uint64_t at = h->pctab + off, cur = entry, d;
	uint32_t v = (uint32_t)-1;
	size_t used;

	if (off == 0 || h->pctab >= h->avail)
		return false;
	while (at < h->avail && gobin_uvarint(h->p + at, h->avail - at, &d, &used)) {
		uint32_t uv = (uint32_t)d;
		if (uv == 0 && cur != entry)
			return false;
		at += used;
		if (at >= h->avail || !gobin_uvarint(h->p + at, h->avail - at, &d, &used))
			return false;
		at += used;
		v += -(uv & 1) ^ (uv >> 1);
		cur += (uint64_t)((uint32_t)d * h->quantum);
		if (pc < cur) {
			*val = (int32_t)v;
			return true;
		}
	}
	return false;
}

int gobin_pc_line(const struct gobin *gb, uint64_t pc, const char **file, int32_t *line)
{
	const struct gobin_func *f = gobin_func_at(gb, pc);
	struct hdr h;
	int32_t fileno, ln;

	if (!f)
		return -ENOENT;
	if (!hdr_parse(&h, gb, gb->pclntab) || h.cu >= h.avail || h.filetab >= h.avail)
		return -EINVAL;
	/* _func (runtime/runtime2.go): after nameoff come args, deferreturn, pcsp, then
	 * pcfile, pcln, npcdata and cuOffset, 4 bytes each. */
	uint64_t funcoff = ftab_field(gb, &h, 2 * (uint64_t)(f - gb->funcs) + 1), rec = h.pcln + funcoff;
	size_t name_at = h.fsz == 8 ? 8 : 4;
	if (funcoff >= h.avail || rec > h.avail - 44)
		return -EINVAL;
	const uint8_t *r = h.p + rec + name_at;
	if (!pcvalue(&h, elf_u32(r + 16), f->entry, pc, &fileno) ||
	    !pcvalue(&h, elf_u32(r + 20), f->entry, pc, &ln) || fileno < 0)
		return -ENOENT;
	/* cutab: per compilation unit, a filetab offset for each of its file numbers. */
	uint64_t slot = h.cu + ((uint64_t)elf_u32(r + 28) + (uint64_t)fileno) * 4;
	if (slot > h.avail - 4)
		return -EINVAL;
	uint32_t name = elf_u32(h.p + slot);
	if (name == UINT32_MAX)
		return -ENOENT;
	if (name >= h.avail - h.filetab || !memchr(h.p + h.filetab + name, 0, h.avail - h.filetab - name))
		return -EINVAL;
	*file = (const char *)h.p + h.filetab + name;
	*line = ln;
	return 0;
}

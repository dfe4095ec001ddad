/* Reader unit tests on synthetic images: one per pclntab layout golat reads (Go 1.16,
 * 1.18, 1.20 and 1.26+ without textStart), as executable and as PIE whose pointers
 * exist only as R_X86_64_RELATIVE relocations, located by section and by scanning,
 * with buildinfo in both its forms. The toolchains installed here cover 1.19+; this
 * covers every layout byte by byte, including the ones no installed toolchain emits. */
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gobin.h"

enum layout { GO116, GO118, GO120, GO126 };
static const char *const LAYOUT_NAME[] = { "go1.16", "go1.18", "go1.20", "go1.26" };
static const uint32_t MAGIC[] = { 0xfffffffa, 0xfffffff0, 0xfffffff1, 0xfffffff1 };

#define TEXT 0x401000ull
#define DATA 0x600000ull
#define TEXT_OFF 0x1000
#define DATA_OFF 0x2000
#define IMG_SIZE 0x4000
#define PCLN 0x100 /* pclntab header offset within data */
#define MD 0x800   /* moduledata offset within data */
#define BI 0xa00   /* buildinfo offset within data */

static const char *const NAMES[] = { "main.a", "main.(*T).b", "main.Map[...]" };
static const uint64_t ENTRY[] = { 0x0, 0x40, 0x60 }, END = 0xa0;

static uint8_t img[IMG_SIZE];
static Elf64_Rela relas[16];
static size_t nrela;

static void put64(size_t off, uint64_t v) { memcpy(img + off, &v, 8); }
static void put32(size_t off, uint32_t v) { memcpy(img + off, &v, 4); }

/* A pointer slot: in a PIE only the relocation holds the value. */
static void put_ptr(size_t off, uint64_t v, bool pie)
{
	if (!pie) {
		put64(off, v);
		return;
	}
	relas[nrela++] = (Elf64_Rela){ DATA + off - DATA_OFF, ELF64_R_INFO(0, R_X86_64_RELATIVE), (int64_t)v };
}

static void build_pclntab(enum layout l, bool pie)
{
	size_t h = DATA_OFF + PCLN, names = 0x100, ftab = 0x200, funcs = 0x300;
	size_t nf = 3, fsz = l == GO116 ? 8 : 4;
	put32(h, MAGIC[l]);
	img[h + 6] = 1;
	img[h + 7] = 8;
	put64(h + 8, nf);
	int w = 24; /* funcnameOffset: after nfunc, nfiles */
	if (l == GO118 || l == GO120)
		put_ptr(h + 24, TEXT, pie);
	if (l != GO116)
		w = 32; /* 1.26 keeps the word, unused */
	put64(h + w, names);          /* funcnameOffset */
	put64(h + w + 32, ftab);      /* pclnOffset (after cu, filetab, pctab) */
	size_t noff = 0;
	for (size_t i = 0; i < nf; i++) {
		size_t rec = funcs + i * 64 - ftab; /* funcoff: relative to the pcln table */
		if (fsz == 8) {
			put_ptr(h + ftab + i * 16, TEXT + ENTRY[i], pie);
			put64(h + ftab + i * 16 + 8, rec);
			put32(h + ftab + rec + 8, (uint32_t)noff);
			img[h + ftab + rec + 40] = (uint8_t)i; /* funcID */
		} else {
			put32(h + ftab + i * 8, (uint32_t)ENTRY[i]);
			put32(h + ftab + i * 8 + 4, (uint32_t)rec);
			put32(h + ftab + rec + 4, (uint32_t)noff);
			img[h + ftab + rec + (l == GO118 ? 37 : 41)] = i == 2 ? GOBIN_FLAG_ASM : 0;
		}
		strcpy((char *)img + h + names + noff, NAMES[i]);
		noff += strlen(NAMES[i]) + 1;
	}
	if (fsz == 8)
		put_ptr(h + ftab + nf * 16, TEXT + END, pie);
	else
		put32(h + ftab + nf * 8, (uint32_t)END);
	/* runtime.firstmoduledata: pcHeader, funcnametab.ptr, ..., ftab.ptr, ..., text */
	size_t md = DATA_OFF + MD;
	put_ptr(md, DATA + PCLN, pie);
	put_ptr(md + 8, DATA + PCLN + names, pie);
	put_ptr(md + 128, DATA + PCLN + ftab, pie);
	put_ptr(md + 176, TEXT, pie);
}

static void build_buildinfo(enum layout l, bool pie)
{
	size_t b = DATA_OFF + BI;
	memcpy(img + b, "\xff Go buildinf:", 14);
	img[b + 14] = 8;
	const char *v = LAYOUT_NAME[l];
	if (l == GO116) { /* pointer to a string header */
		put_ptr(b + 16, DATA + BI + 0x40, pie);
		put_ptr(b + 0x40, DATA + BI + 0x60, pie);
		put64(b + 0x48, strlen(v));
		strcpy((char *)img + b + 0x60, v);
	} else {
		img[b + 15] = 2;
		img[b + 32] = (uint8_t)strlen(v);
		memcpy(img + b + 33, v, strlen(v));
	}
}

/* Section headers: null, .gopclntab (optional), .rela.dyn, .shstrtab. */
static void build_sections(bool with_pclntab_section)
{
	size_t sh = 0x3000, str = 0x3400, rel = 0x3600;
	const char strtab[] = "\0.gopclntab\0.rela.dyn\0.shstrtab";
	memcpy(img + str, strtab, sizeof(strtab));
	memcpy(img + rel, relas, nrela * sizeof(Elf64_Rela));
	Elf64_Shdr s[4] = { { 0 } };
	s[1] = (Elf64_Shdr){ .sh_name = 1, .sh_type = SHT_PROGBITS, .sh_addr = DATA + PCLN,
			     .sh_offset = DATA_OFF + PCLN, .sh_size = 0x600 };
	if (!with_pclntab_section)
		s[1].sh_name = 11; /* the empty string at the end of ".gopclntab" */
	s[2] = (Elf64_Shdr){ .sh_name = 12, .sh_type = SHT_RELA, .sh_offset = rel,
			     .sh_size = nrela * sizeof(Elf64_Rela), .sh_entsize = sizeof(Elf64_Rela) };
	s[3] = (Elf64_Shdr){ .sh_name = 22, .sh_type = SHT_STRTAB, .sh_offset = str, .sh_size = sizeof(strtab) };
	memcpy(img + sh, s, sizeof(s));
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	eh->e_shoff = sh;
	eh->e_shnum = 4;
	eh->e_shentsize = sizeof(Elf64_Shdr);
	eh->e_shstrndx = 3;
}

static void build(enum layout l, bool pie, bool section)
{
	memset(img, 0, sizeof(img));
	nrela = 0;
	Elf64_Ehdr eh = { .e_type = pie ? ET_DYN : ET_EXEC, .e_machine = EM_X86_64,
			  .e_version = EV_CURRENT, .e_entry = TEXT, .e_phoff = sizeof(Elf64_Ehdr),
			  .e_ehsize = sizeof(Elf64_Ehdr), .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 2 };
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	memcpy(img, &eh, sizeof(eh));
	Elf64_Phdr ph[2] = {
		{ PT_LOAD, PF_R | PF_X, TEXT_OFF, TEXT, TEXT, 0x1000, 0x1000, 0x1000 },
		{ PT_LOAD, PF_R | PF_W, DATA_OFF, DATA, DATA, 0x1000, 0x1000, 0x1000 },
	};
	memcpy(img + sizeof(eh), ph, sizeof(ph));
	memset(img + TEXT_OFF, 0xcc, 0x1000);
	build_pclntab(l, pie);
	build_buildinfo(l, pie);
	build_sections(section);
}

static int failures;
#define CHECK(cond, ...)                                                   \
	do {                                                                   \
		if (!(cond)) {                                                     \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);                    \
			printf(__VA_ARGS__);                                           \
			putchar('\n');                                                 \
			failures++;                                                    \
		}                                                                  \
	} while (0)

static void check_layout(enum layout l, bool pie, bool section)
{
	build(l, pie, section);
	struct gobin gb;
	char err[256] = "";
	const char *what = LAYOUT_NAME[l];
	int rc = gobin_open_mem(&gb, img, sizeof(img), err, sizeof(err));
	CHECK(rc == 0, "%s pie=%d section=%d: open failed: %s", what, pie, section, err);
	if (rc)
		return;
	CHECK(gb.pcln_magic == MAGIC[l], "%s: magic %#x", what, gb.pcln_magic);
	CHECK(gb.nfuncs == 3, "%s: %zu functions", what, gb.nfuncs);
	CHECK(strcmp(gb.pclntab_source, section ? ".gopclntab" : "scan") == 0, "%s: found by %s",
	      what, gb.pclntab_source);
	for (size_t i = 0; i < gb.nfuncs && i < 3; i++) {
		const struct gobin_func *f = &gb.funcs[i];
		uint64_t end = i + 1 < 3 ? TEXT + ENTRY[i + 1] : TEXT + END;
		CHECK(strcmp(f->name, NAMES[i]) == 0, "%s: name %s", what, f->name);
		CHECK(f->entry == TEXT + ENTRY[i] && f->end == end, "%s %s: [%#lx,%#lx)", what,
		      f->name, (unsigned long)f->entry, (unsigned long)f->end);
	}
	if (l != GO116)
		CHECK(gb.funcs[2].flag == GOBIN_FLAG_ASM && gb.funcs[0].flag == 0, "%s: flags", what);
	CHECK(strcmp(gb.go_version, what) == 0, "%s: version '%s'", what, gb.go_version);
	CHECK(gobin_func_at(&gb, TEXT + 0x45) == &gb.funcs[1], "%s: func_at", what);
	CHECK(gobin_func_at(&gb, TEXT + END) == NULL, "%s: func_at past the end", what);
	CHECK(gobin_func_named(&gb, "main.Map[...]") == &gb.funcs[2], "%s: func_named", what);
	CHECK(gb.pie == pie, "%s: pie", what);
	gobin_close(&gb);
	printf("ok: %s %s, pclntab by %s\n", what, pie ? "PIE" : "exe", section ? "section" : "scan");
}

/* Corruption the reader must refuse with a reason, not read through. */
static void check_corrupt(void)
{
	struct gobin gb;
	char err[256];
	build(GO120, false, true);
	put64(DATA_OFF + PCLN + 8, 1ull << 40); /* nfunc beyond the table */
	CHECK(gobin_open_mem(&gb, img, sizeof(img), err, sizeof(err)) != 0, "huge nfunc accepted");
	build(GO120, false, true);
	put32(DATA_OFF + PCLN + 0x200 + 4, 0x7ffffff0); /* funcoff outside */
	CHECK(gobin_open_mem(&gb, img, sizeof(img), err, sizeof(err)) != 0, "bad funcoff accepted");
	build(GO120, false, false);
	memset(img + DATA_OFF + PCLN + 0x100, 'x', 0x100); /* names lose their NUL */
	memset(img + DATA_OFF + PCLN + 0x200, 'x', 0x400);
	CHECK(gobin_open_mem(&gb, img, sizeof(img), err, sizeof(err)) != 0, "unterminated names accepted");
	build(GO126, true, true);
	nrela = 0; /* 1.26 PIE without its relocations: no text start to be had */
	build_sections(true);
	memset(img + 0x3600, 0, 0x200);
	int rc = gobin_open_mem(&gb, img, sizeof(img), err, sizeof(err));
	CHECK(rc != 0 && strstr(err, "text start"), "1.26 without moduledata: rc=%d %s", rc, err);
	for (size_t cut = 0; cut < IMG_SIZE; cut += 61) { /* every truncation: no crash */
		build(GO120, true, false);
		if (gobin_open_mem(&gb, img, cut, err, sizeof(err)) == 0)
			gobin_close(&gb);
	}
	printf("ok: corrupt and truncated images\n");
}

int main(void)
{
	for (int l = GO116; l <= GO126; l++)
		for (int pie = 0; pie < 2; pie++)
			for (int section = 0; section < 2; section++)
				check_layout((enum layout)l, pie, section);
	check_corrupt();
	printf("%s\n", failures ? "FAILED" : "all reader unit tests passed");
	return failures != 0;
}

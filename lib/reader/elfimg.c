/* elfimg: bounds-checked reading of a 64-bit x86-64 or arm64 ELF image in memory. See elfimg.h. */
#include "elfimg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* [off, off+len) lies inside a buffer of size bytes, without overflow. */
static bool in_bounds(size_t size, uint64_t off, uint64_t len)
{
	return off <= size && len <= size - off;
}

static int fail(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return -ENOEXEC;
}

static int cmp_reloc(const void *a, const void *b)
{
	const struct elf_reloc *x = a, *y = b;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Collects the RELATIVE entries (R_X86_64_RELATIVE, R_AARCH64_RELATIVE: the same
 * meaning, slot = bias + addend) of every SHT_RELA section: in a PIE they hold the
 * pointers the loader fills in (pclntab's moduledata, jump tables). */
static void load_relocs(struct elf_image *im)
{
	uint32_t relative = im->eh.e_machine == EM_AARCH64 ? R_AARCH64_RELATIVE : R_X86_64_RELATIVE;
	size_t n = 0;
	for (size_t i = 0; i < im->shnum; i++) {
		const Elf64_Shdr *sh = &im->sh[i];
		if (sh->sh_type == SHT_RELA && in_bounds(im->size, sh->sh_offset, sh->sh_size))
			n += sh->sh_size / sizeof(Elf64_Rela);
	}
	if (n == 0 || !(im->rel = calloc(n, sizeof(*im->rel))))
		return;
	for (size_t i = 0; i < im->shnum; i++) {
		const Elf64_Shdr *sh = &im->sh[i];
		if (sh->sh_type != SHT_RELA || !in_bounds(im->size, sh->sh_offset, sh->sh_size))
			continue;
		for (uint64_t k = 0; k + sizeof(Elf64_Rela) <= sh->sh_size; k += sizeof(Elf64_Rela)) {
			Elf64_Rela r;
			memcpy(&r, im->data + sh->sh_offset + k, sizeof(r));
			if (ELF64_R_TYPE(r.r_info) != relative)
				continue;
			im->rel[im->nrel++] = (struct elf_reloc){ r.r_offset, (uint64_t)r.r_addend };
		}
	}
	qsort(im->rel, im->nrel, sizeof(*im->rel), cmp_reloc);
}

static void *copy_table(const uint8_t *data, uint64_t off, size_t n, size_t entsize)
{
	void *t = calloc(n ? n : 1, entsize);
	if (t)
		memcpy(t, data + off, n * entsize);
	return t;
}

int elf_open(struct elf_image *im, const void *data, size_t size, char *err, size_t errlen)
{
	memset(im, 0, sizeof(*im));
	im->data = data;
	im->size = size;
	if (size < sizeof(Elf64_Ehdr) || memcmp(data, ELFMAG, SELFMAG) != 0)
		return fail(err, errlen, "not an ELF file");
	memcpy(&im->eh, data, sizeof(im->eh));
	const Elf64_Ehdr *eh = &im->eh;
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    (eh->e_machine != EM_X86_64 && eh->e_machine != EM_AARCH64))
		return fail(err, errlen, "not a 64-bit x86-64 or arm64 ELF file");
	if (eh->e_type != ET_EXEC && eh->e_type != ET_DYN)
		return fail(err, errlen, "ELF file is not an executable");
	if (eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    !in_bounds(size, eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr)))
		return fail(err, errlen, "corrupt ELF file: program headers outside the file");
	im->phnum = eh->e_phnum;
	if (!(im->ph = copy_table(im->data, eh->e_phoff, im->phnum, sizeof(Elf64_Phdr))))
		return -ENOMEM;
	/* Section headers are optional (sstrip sets e_shnum to 0), but a table that the
	 * header announces and the file does not hold means the file was cut short. */
	if (eh->e_shnum && (eh->e_shentsize != sizeof(Elf64_Shdr) ||
			    !in_bounds(size, eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr)))) {
		elf_close(im);
		return fail(err, errlen, "corrupt or truncated ELF file: section headers outside the file");
	}
	if (eh->e_shnum) {
		im->shnum = eh->e_shnum;
		if (!(im->sh = copy_table(im->data, eh->e_shoff, im->shnum, sizeof(Elf64_Shdr)))) {
			elf_close(im);
			return -ENOMEM;
		}
		/* So does a section whose bytes end past it: the Go linker writes the
		 * section names last when it links internally (arm64 among others). */
		for (size_t i = 0; i < im->shnum; i++)
			if (im->sh[i].sh_type != SHT_NOBITS && im->sh[i].sh_type != SHT_NULL &&
			    !in_bounds(size, im->sh[i].sh_offset, im->sh[i].sh_size)) {
				elf_close(im);
				return fail(err, errlen, "corrupt or truncated ELF file: a section lies outside the file");
			}
		if (eh->e_shstrndx < im->shnum) {
			const Elf64_Shdr *s = &im->sh[eh->e_shstrndx];
			if (s->sh_type == SHT_STRTAB && in_bounds(size, s->sh_offset, s->sh_size)) {
				im->shstr = (const char *)im->data + s->sh_offset;
				im->shstrsz = s->sh_size;
			}
		}
	}
	load_relocs(im);
	return 0;
}

void elf_close(struct elf_image *im)
{
	free(im->ph);
	free(im->sh);
	free(im->rel);
	im->ph = NULL;
	im->sh = NULL;
	im->rel = NULL;
	im->phnum = im->shnum = im->nrel = 0;
}

/* A NUL-terminated string at off of a table of len bytes, or NULL. */
static const char *table_str(const char *tab, size_t len, uint64_t off)
{
	if (!tab || off >= len || !memchr(tab + off, 0, len - off))
		return NULL;
	return tab + off;
}

const Elf64_Shdr *elf_section(const struct elf_image *im, const char *name)
{
	for (size_t i = 0; i < im->shnum; i++) {
		const char *n = table_str(im->shstr, im->shstrsz, im->sh[i].sh_name);
		if (n && strcmp(n, name) == 0)
			return &im->sh[i];
	}
	return NULL;
}

const uint8_t *elf_section_data(const struct elf_image *im, const Elf64_Shdr *sh, size_t *len)
{
	if (!sh || sh->sh_type == SHT_NOBITS || !in_bounds(im->size, sh->sh_offset, sh->sh_size))
		return NULL;
	*len = sh->sh_size;
	return im->data + sh->sh_offset;
}

const uint8_t *elf_at(const struct elf_image *im, uint64_t addr, size_t len, size_t *avail)
{
	for (size_t i = 0; i < im->phnum; i++) {
		const Elf64_Phdr *p = &im->ph[i];
		if (p->p_type != PT_LOAD || addr < p->p_vaddr || addr - p->p_vaddr >= p->p_filesz)
			continue;
		if (!in_bounds(im->size, p->p_offset, p->p_filesz))
			return NULL;
		uint64_t off = addr - p->p_vaddr, left = p->p_filesz - off;
		if (avail)
			*avail = left;
		else if (len > left)
			return NULL;
		return im->data + p->p_offset + off;
	}
	return NULL;
}

static const struct elf_reloc *find_reloc(const struct elf_image *im, uint64_t slot)
{
	size_t lo = 0, hi = im->nrel;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (im->rel[mid].offset < slot)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < im->nrel && im->rel[lo].offset == slot ? &im->rel[lo] : NULL;
}

bool elf_read_ptr(const struct elf_image *im, uint64_t addr, uint64_t *out)
{
	const struct elf_reloc *r = find_reloc(im, addr);
	if (r) {
		*out = r->addend;
		return true;
	}
	const uint8_t *p = elf_at(im, addr, 8, NULL);
	if (!p)
		return false;
	*out = elf_u64(p);
	return true;
}

size_t elf_find_reloc_to(const struct elf_image *im, uint64_t value,
			 bool (*fn)(uint64_t slot, void *arg), void *arg)
{
	size_t n = 0;
	for (size_t i = 0; i < im->nrel; i++) {
		if (im->rel[i].addend != value)
			continue;
		n++;
		if (fn(im->rel[i].offset, arg))
			break;
	}
	return n;
}

bool elf_has_symtab(const struct elf_image *im)
{
	for (size_t i = 0; i < im->shnum; i++)
		if (im->sh[i].sh_type == SHT_SYMTAB)
			return true;
	return false;
}

/* The first symbol named name in a section of the given type (SHT_SYMTAB or
 * SHT_DYNSYM). */
static bool find_sym(const struct elf_image *im, uint32_t type, const char *name, Elf64_Sym *out)
{
	for (size_t i = 0; i < im->shnum; i++) {
		const Elf64_Shdr *sh = &im->sh[i];
		if (sh->sh_type != type || sh->sh_link >= im->shnum)
			continue;
		size_t symlen = 0, strlen_ = 0;
		const uint8_t *syms = elf_section_data(im, sh, &symlen);
		const uint8_t *strs = elf_section_data(im, &im->sh[sh->sh_link], &strlen_);
		if (!syms || !strs)
			continue;
		for (size_t k = 0; k + sizeof(Elf64_Sym) <= symlen; k += sizeof(Elf64_Sym)) {
			memcpy(out, syms + k, sizeof(*out));
			const char *n = table_str((const char *)strs, strlen_, out->st_name);
			if (n && strcmp(n, name) == 0)
				return true;
		}
	}
	return false;
}

bool elf_symbol(const struct elf_image *im, const char *name, uint64_t *value, uint64_t *size)
{
	Elf64_Sym s;
	if (!find_sym(im, SHT_SYMTAB, name, &s))
		return false;
	*value = s.st_value;
	if (size)
		*size = s.st_size;
	return true;
}

bool elf_imports(const struct elf_image *im, const char *name)
{
	Elf64_Sym s;
	return find_sym(im, SHT_DYNSYM, name, &s) && s.st_shndx == SHN_UNDEF;
}

bool elf_exports(const struct elf_image *im, const char *name, uint64_t *value)
{
	Elf64_Sym s;
	if (!find_sym(im, SHT_DYNSYM, name, &s) || s.st_shndx == SHN_UNDEF ||
	    ELF64_ST_TYPE(s.st_info) != STT_FUNC)
		return false;
	*value = s.st_value;
	return true;
}

bool elf_needs_libs(const struct elf_image *im)
{
	const Elf64_Phdr *d = elf_phdr(im, PT_DYNAMIC);
	size_t avail = 0;
	const uint8_t *p = d ? elf_at(im, d->p_vaddr, 0, &avail) : NULL;
	if (!p)
		return false;
	if (avail > d->p_filesz)
		avail = d->p_filesz;
	for (size_t o = 0; o + sizeof(Elf64_Dyn) <= avail; o += sizeof(Elf64_Dyn)) {
		Elf64_Dyn e;
		memcpy(&e, p + o, sizeof(e));
		if (e.d_tag == DT_NULL)
			break;
		if (e.d_tag == DT_NEEDED)
			return true;
	}
	return false;
}

const Elf64_Phdr *elf_phdr(const struct elf_image *im, uint32_t type)
{
	for (size_t i = 0; i < im->phnum; i++)
		if (im->ph[i].p_type == type)
			return &im->ph[i];
	return NULL;
}

/* elfimg: a bounds-checked view of a 64-bit little-endian ELF image held in memory
 * (x86-64 or arm64: e_machine says which, gobin turns it into enum gobin_arch).
 *
 * Owns nothing but copies of the program and section header tables; every other
 * pointer it hands out points into the caller's buffer and has been checked to lie
 * inside it. Every input is untrusted: a truncated or hostile file gets an error,
 * never an out-of-bounds read. Used by gobin (the Go binary reader), and by
 * lib/attach to find dlopen in a target's libc. */
#ifndef GOLAT_ELFIMG_H
#define GOLAT_ELFIMG_H

#include <elf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct elf_reloc {
	uint64_t offset; /* link-time address of the 8-byte slot */
	uint64_t addend; /* its value before the load bias is added */
};

struct elf_image {
	const uint8_t *data;
	size_t size;
	Elf64_Ehdr eh;
	Elf64_Phdr *ph; /* copies, so that unaligned tables are no UB */
	size_t phnum;
	Elf64_Shdr *sh;
	size_t shnum;
	const char *shstr; /* section name table, or NULL */
	size_t shstrsz;
	/* RELATIVE relocations (of the image's machine) sorted by offset: a PIE keeps its pointers
	 * here, and the file holds zero (or the same addend) in the slot. */
	struct elf_reloc *rel;
	size_t nrel;
};

/* Parses the headers of the image in data[0, size). Returns 0, or -ENOEXEC with a
 * reason in err when it is not a 64-bit little-endian x86-64 or arm64 ELF file or its
 * tables lie outside the buffer. */
int elf_open(struct elf_image *im, const void *data, size_t size, char *err, size_t errlen);
void elf_close(struct elf_image *im);

/* The section header named name, or NULL. */
const Elf64_Shdr *elf_section(const struct elf_image *im, const char *name);
/* A section's bytes in the file (NULL for SHT_NOBITS or out of bounds). */
const uint8_t *elf_section_data(const struct elf_image *im, const Elf64_Shdr *sh, size_t *len);
/* The file bytes backing link-time addresses [addr, addr+len), inside one PT_LOAD
 * segment's file image; NULL if any of it is not in the file. With avail non-NULL,
 * len may be 0 and *avail tells how many bytes from addr are backed. */
const uint8_t *elf_at(const struct elf_image *im, uint64_t addr, size_t len, size_t *avail);
/* Reads the pointer stored at link-time address addr, applying a RELATIVE
 * relocation on that slot if there is one. */
bool elf_read_ptr(const struct elf_image *im, uint64_t addr, uint64_t *out);
/* Finds a RELATIVE relocation whose addend is value; calls fn for each slot.
 * Returns the number of matches visited (fn returning true stops early). */
size_t elf_find_reloc_to(const struct elf_image *im, uint64_t value,
			 bool (*fn)(uint64_t slot, void *arg), void *arg);
/* Looks name up in .symtab; true with its value and size when found. */
bool elf_symbol(const struct elf_image *im, const char *name, uint64_t *value, uint64_t *size);
bool elf_has_symtab(const struct elf_image *im);
/* Whether the dynamic symbol table asks the loader for name (an undefined symbol). */
bool elf_imports(const struct elf_image *im, const char *name);
/* Whether the dynamic symbol table defines function name; its link-time value. */
bool elf_exports(const struct elf_image *im, const char *name, uint64_t *value);
/* Whether its dynamic section asks the loader for a library (DT_NEEDED). */
bool elf_needs_libs(const struct elf_image *im);
/* The first program header of the given type, or NULL. */
const Elf64_Phdr *elf_phdr(const struct elf_image *im, uint32_t type);

/* Unaligned little-endian loads (the data may be at any alignment). */
static inline uint32_t elf_u32(const uint8_t *p)
{
	uint32_t v;
	__builtin_memcpy(&v, p, 4);
	return v;
}
static inline uint64_t elf_u64(const uint8_t *p)
{
	uint64_t v;
	__builtin_memcpy(&v, p, 8);
	return v;
}

#endif

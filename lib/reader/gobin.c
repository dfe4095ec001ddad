/* gobin: open a Go binary (file, memory or the running process) and run the readers.
 * See gobin.h for what it yields. */
#include "gobin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int gobin_open_mem(struct gobin *gb, const void *data, size_t size, char *err, size_t errlen)
{
	void *map = gb->map; /* gobin_open sets these before calling us */
	size_t map_len = gb->map_len;
	memset(gb, 0, sizeof(*gb));
	gb->map = map;
	gb->map_len = map_len;
	int rc = elf_open(&gb->elf, data, size, err, errlen);
	if (rc)
		return rc;
	gb->arch = gb->elf.eh.e_machine == EM_AARCH64 ? GOBIN_ARCH_ARM64 : GOBIN_ARCH_AMD64;
	gb->pie = gb->elf.eh.e_type == ET_DYN;
	gb->dynamic = elf_phdr(&gb->elf, PT_INTERP) != NULL;
	gb->has_symtab = elf_has_symtab(&gb->elf);
	if ((rc = pclntab_read(gb, err, errlen)) != 0) {
		elf_close(&gb->elf);
		return rc;
	}
	buildinfo_read(gb);
	gb->cgo = elf_imports(&gb->elf, "sigaction");
	gb->nolibc = !gb->dynamic || !elf_needs_libs(&gb->elf);
	gtls_find(gb);
	goff_find(gb);
	return 0;
}

const char *gobin_arch_name(enum gobin_arch arch)
{
	return arch == GOBIN_ARCH_ARM64 ? "arm64" : "amd64";
}

int gobin_open(struct gobin *gb, const char *path, char *err, size_t errlen)
{
	memset(gb, 0, sizeof(*gb));
	/* O_NONBLOCK: a FIFO or a device must not hang us; regular files ignore it. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		int e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		snprintf(err, errlen, "%s: %s", path, e == EISDIR ? "is a directory" : "not a regular file");
		close(fd);
		return -e;
	}
	if (st.st_size == 0) {
		snprintf(err, errlen, "%s: empty file", path);
		close(fd);
		return -ENOEXEC;
	}
	void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	int e = errno;
	close(fd);
	if (map == MAP_FAILED) {
		snprintf(err, errlen, "%s: cannot map: %s", path, strerror(e));
		return -e;
	}
	gb->map = map;
	gb->map_len = (size_t)st.st_size;
	char why[200];
	int rc = gobin_open_mem(gb, map, (size_t)st.st_size, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, why);
		munmap(map, (size_t)st.st_size);
		gb->map = NULL;
	}
	return rc;
}

/* The load bias of the main executable: where the loader put its program headers
 * (AT_PHDR) minus where the file says they are (PT_PHDR, else the segment holding
 * e_phoff). */
static int self_bias(struct gobin *gb, char *err, size_t errlen)
{
	uint64_t at_phdr = getauxval(AT_PHDR), link_phdr = 0;
	const Elf64_Phdr *p = elf_phdr(&gb->elf, PT_PHDR);
	if (p)
		link_phdr = p->p_vaddr;
	for (size_t i = 0; !p && i < gb->elf.phnum; i++) {
		const Elf64_Phdr *l = &gb->elf.ph[i];
		if (l->p_type == PT_LOAD && gb->elf.eh.e_phoff >= l->p_offset &&
		    gb->elf.eh.e_phoff - l->p_offset < l->p_filesz) {
			link_phdr = l->p_vaddr + (gb->elf.eh.e_phoff - l->p_offset);
			p = l;
		}
	}
	if (!at_phdr || !p) {
		snprintf(err, errlen, "cannot find where the executable is loaded");
		return -ENOENT;
	}
	gb->bias = at_phdr - link_phdr;
	if (!gb->pie && gb->bias) {
		snprintf(err, errlen, "non-PIE executable loaded at a bias of 0x%llx",
			 (unsigned long long)gb->bias);
		return -EINVAL;
	}
	return 0;
}

int gobin_open_self(struct gobin *gb, char *err, size_t errlen)
{
	int rc = gobin_open(gb, "/proc/self/exe", err, errlen);
	if (rc == 0 && (rc = self_bias(gb, err, errlen)) != 0)
		gobin_close(gb);
	return rc;
}

void gobin_close(struct gobin *gb)
{
	free(gb->funcs);
	elf_close(&gb->elf);
	if (gb->map)
		munmap(gb->map, gb->map_len);
	memset(gb, 0, sizeof(*gb));
}

const struct gobin_func *gobin_func_at(const struct gobin *gb, uint64_t pc)
{
	size_t lo = 0, hi = gb->nfuncs;
	while (lo < hi) { /* first function whose end is above pc */
		size_t mid = lo + (hi - lo) / 2;
		if (gb->funcs[mid].end <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < gb->nfuncs && gb->funcs[lo].entry <= pc && pc < gb->funcs[lo].end)
		return &gb->funcs[lo];
	return NULL;
}

const struct gobin_func *gobin_func_named(const struct gobin *gb, const char *name)
{
	for (size_t i = 0; i < gb->nfuncs; i++)
		if (strcmp(gb->funcs[i].name, name) == 0)
			return &gb->funcs[i];
	return NULL;
}

const uint8_t *gobin_code(const struct gobin *gb, const struct gobin_func *f)
{
	return elf_at(&gb->elf, f->entry, f->end - f->entry, NULL);
}

/* goprobe: is this process a Go program? See goprobe.h. */
#define _GNU_SOURCE
#include "goprobe.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

#define ALIGN4(x) (((x) + 3u) & ~(size_t)3u)

struct probe {
	bool go;
};

/* Walks the notes of the main executable's PT_NOTE segments, which the loader has
 * mapped: no system call. The first object dl_iterate_phdr reports is the program. */
static int main_notes(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct probe *p = arg;
	for (size_t i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const unsigned char *n = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
		size_t off = 0, len = ph->p_memsz;
		while (off + sizeof(ElfW(Nhdr)) <= len) {
			ElfW(Nhdr) h;
			memcpy(&h, n + off, sizeof(h));
			size_t name = off + sizeof(h), desc = name + ALIGN4(h.n_namesz);
			if (h.n_namesz > len || h.n_descsz > len || desc + ALIGN4(h.n_descsz) > len)
				break;
			if (h.n_namesz >= 2 && memcmp(n + name, "Go", 2) == 0 &&
			    (h.n_namesz == 2 || n[name + 2] == 0))
				p->go = true;
			off = desc + ALIGN4(h.n_descsz);
		}
	}
	return 1; /* the program only */
}

static bool read_at(int fd, void *buf, size_t n, off_t at)
{
	return pread(fd, buf, n, at) == (ssize_t)n;
}

/* A section named .go.buildinfo or .gopclntab in /proc/self/exe: the ELF header, the
 * section headers (at most 128 read) and the section names (at most 16 KiB). */
static bool go_sections(void)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool go = false;
	ElfW(Ehdr) eh;
	ElfW(Shdr) sh[128];
	char names[16384];
	if (read_at(fd, &eh, sizeof(eh), 0) && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
	    eh.e_shentsize == sizeof(ElfW(Shdr)) && eh.e_shnum > 0 && eh.e_shnum <= 128 &&
	    eh.e_shstrndx < eh.e_shnum &&
	    read_at(fd, sh, eh.e_shnum * sizeof(ElfW(Shdr)), (off_t)eh.e_shoff)) {
		const ElfW(Shdr) *str = &sh[eh.e_shstrndx];
		size_t len = str->sh_size < sizeof(names) - 1 ? str->sh_size : sizeof(names) - 1;
		if (read_at(fd, names, len, (off_t)str->sh_offset)) {
			names[len] = 0;
			for (size_t i = 0; !go && i < eh.e_shnum; i++) {
				const char *s = sh[i].sh_name < len ? names + sh[i].sh_name : "";
				go = strcmp(s, ".go.buildinfo") == 0 || strcmp(s, ".gopclntab") == 0;
			}
		}
	}
	close(fd);
	return go;
}

bool goprobe_self(void)
{
	struct probe p = { false };
	dl_iterate_phdr(main_notes, &p);
	return p.go || go_sections();
}

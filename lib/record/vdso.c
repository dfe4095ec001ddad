/* vdso: see vdso.h. ELF64 structures by their fields' offsets (elf(5)), so that this
 * file needs no libc header. */
#include "vdso.h"

#include <stdint.h>

#define AT_SYSINFO_EHDR 33
#define PT_LOAD 1
#define PT_DYNAMIC 2
#define DT_HASH 4
#define DT_STRTAB 5
#define DT_SYMTAB 6
#define STT_FUNC 2

struct phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct sym {
	uint32_t name;
	uint8_t info, other;
	uint16_t shndx;
	uint64_t value, size;
};

/* AT_SYSINFO_EHDR from /proc/self/auxv: the vDSO's ELF header, or 0. */
static uint64_t vdso_base(void)
{
	long fd = sys_openat(SYS_AT_FDCWD, "/proc/self/auxv", SYS_O_RDONLY | SYS_O_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	uint64_t av[64], base = 0;
	for (uint64_t off = 0; !base;) {
		long n = sys_pread64((int)fd, av, sizeof(av), off);
		if (n < 16)
			break;
		for (long i = 0; i + 1 < n / 8; i += 2)
			if (av[i] == AT_SYSINFO_EHDR) {
				base = av[i + 1];
				break;
			} else if (av[i] == 0) {
				n = 0; /* AT_NULL: the end */
				break;
			}
		if (n < (long)sizeof(av))
			break;
		off += sizeof(av);
	}
	sys_close((int)fd);
	return base;
}

static int same(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

vdso_clock_fn vdso_clock_gettime(void)
{
	uint64_t base = vdso_base();
	const uint8_t *e = (const uint8_t *)(uintptr_t)base;
	if (!e || e[0] != 0x7f || e[1] != 'E' || e[2] != 'L' || e[3] != 'F' || e[4] != 2 /* ELFCLASS64 */)
		return 0;
	uint64_t phoff = *(const uint64_t *)(e + 32);
	uint16_t phnum = *(const uint16_t *)(e + 56);
	const struct phdr *ph = (const struct phdr *)(e + phoff);
	uint64_t bias = 0, dyn = 0;
	int loaded = 0;
	for (uint16_t i = 0; i < phnum; i++) {
		if (ph[i].type == PT_LOAD && !loaded) {
			bias = base + ph[i].offset - ph[i].vaddr; /* runtime/vdso_linux.go: loadOffset */
			loaded = 1;
		} else if (ph[i].type == PT_DYNAMIC) {
			dyn = base + ph[i].offset;
		}
	}
	if (!loaded || !dyn)
		return 0;
	const uint32_t *hash = 0;
	const char *str = 0;
	const struct sym *sym = 0;
	for (const int64_t *d = (const int64_t *)(uintptr_t)dyn; d[0]; d += 2) {
		uint64_t p = bias + (uint64_t)d[1];
		if (d[0] == DT_HASH)
			hash = (const uint32_t *)(uintptr_t)p;
		else if (d[0] == DT_STRTAB)
			str = (const char *)(uintptr_t)p;
		else if (d[0] == DT_SYMTAB)
			sym = (const struct sym *)(uintptr_t)p;
	}
	if (!hash || !str || !sym)
		return 0;
	for (uint32_t i = 0; i < hash[1]; i++) /* nchain: the number of symbols */
		if ((sym[i].info & 0xf) == STT_FUNC && sym[i].shndx != 0 && same(str + sym[i].name, "__vdso_clock_gettime"))
			return (vdso_clock_fn)(uintptr_t)(bias + sym[i].value);
	return 0;
}

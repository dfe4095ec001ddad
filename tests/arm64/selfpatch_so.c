/* selfpatch_so: an arm64 library preloaded into a Go program (selfpatch.sh): its
 * constructor, which runs before the Go runtime starts, applies the plan selfpatch.c
 * wrote ($ARM64_SELFPATCH): maps the trampolines where they were planned, then writes
 * each B over its entry or RET. Prints one line with the counts on stderr, or why it
 * patched nothing. */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct patch {
	uint64_t addr;
	uint32_t word, kind;
};

static int protect(uint64_t addr, int prot)
{
	uint64_t pg = addr & ~0xfffull;
	return mprotect((void *)pg, 4096, prot);
}

__attribute__((constructor)) static void selfpatch(void)
{
	const char *path = getenv("ARM64_SELFPATCH");
	FILE *f = path ? fopen(path, "rb") : NULL;
	char magic[8];
	uint64_t hdr[3];
	if (!f || fread(magic, 1, 8, f) != 8 || memcmp(magic, "A64PATCH", 8) != 0 || fread(hdr, 8, 3, f) != 3) {
		fprintf(stderr, "selfpatch: no plan in %s\n", path ? path : "(ARM64_SELFPATCH unset)");
		if (f)
			fclose(f);
		return;
	}
	uint64_t base = hdr[0], len = hdr[1], n = hdr[2];
	size_t maplen = (len + 0xfff) & ~0xfffull;
	void *area = mmap((void *)base, maplen ? maplen : 4096, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	struct patch *p = malloc(n * sizeof *p + 1);
	if (area != (void *)base || !p || fread(area, 1, len, f) != len || fread(p, sizeof *p, n, f) != n) {
		fprintf(stderr, "selfpatch: cannot map the trampolines at 0x%" PRIx64 " or read the plan\n", base);
		fclose(f);
		return;
	}
	fclose(f);
	if (mprotect(area, maplen, PROT_READ | PROT_EXEC) != 0) {
		fprintf(stderr, "selfpatch: cannot make the trampolines executable\n");
		return;
	}
	__builtin___clear_cache((char *)area, (char *)area + len);
	size_t entries = 0, rets = 0;
	for (uint64_t i = 0; i < n; i++) {
		if (protect(p[i].addr, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) {
			fprintf(stderr, "selfpatch: cannot write 0x%" PRIx64 "\n", p[i].addr);
			return;
		}
		*(volatile uint32_t *)p[i].addr = p[i].word;
		__builtin___clear_cache((char *)p[i].addr, (char *)p[i].addr + 4);
		entries += p[i].kind == 0;
		rets += p[i].kind == 1;
	}
	for (uint64_t i = 0; i < n; i++)
		protect(p[i].addr, PROT_READ | PROT_EXEC);
	free(p);
	fprintf(stderr, "selfpatch: patched %zu entries and %zu returns\n", entries, rets);
}

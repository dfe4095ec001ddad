/* inject_sym: where dlopen and dlerror are in the target. glibc 2.34 and later define
 * both in libc.so.6 (libdl.so.2 is an empty shell since), so the target's own libc
 * file, read through /proc/PID/root (the target may live in another mount namespace),
 * gives their link-time values, and its mapping at file offset 0 the load bias. An
 * older glibc keeps dlopen in libdl.so.2, which a Go program need not map, but its
 * libc.so.6 exports __libc_dlopen_mode (GLIBC_PRIVATE; elf/dl-libc.c, what glibc's own
 * NSS and iconv use): the same _dl_open, without dlerror (its message is freed before
 * it returns NULL). One ELF reader for golat: lib/reader/elfimg. */
#include "inject_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elfimg.h"

/* Maps a file read-only: its length in *len, or NULL. */
static const void *map_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= 0) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	*len = (size_t)st.st_size;
	return p;
}

/* Maps the target's libc file: through /proc/PID/root first, then by its path. */
static const void *map_libc(const struct inj_target *t, size_t *len)
{
	char path[4200];
	snprintf(path, sizeof(path), "/proc/%d/root%s", (int)t->pid, t->libc);
	const void *p = map_file(path, len);
	return p ? p : map_file(t->libc, len);
}

/* Whether the target's loader finds name in one of its default directories (the
 * ld.so.cache may name others, rarely). */
static bool in_root(const struct inj_target *t, const char *name)
{
	static const char *const dirs[] = { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64",
					    "/usr/lib64", "/lib", "/usr/lib" };
	char path[4200];
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "/proc/%d/root%s/%s", (int)t->pid, dirs[i], name);
		if (access(path, F_OK) == 0)
			return true;
	}
	return false;
}

void inject_missing_libs(const struct inj_target *t, const char *lib, char *out, size_t n)
{
	size_t len = 0, avail = 0, dyn_len = 0;
	const void *data = map_file(lib, &len);
	struct elf_image im;
	char why[256];
	*out = 0;
	if (!data || elf_open(&im, data, len, why, sizeof(why)) != 0) {
		if (data)
			munmap((void *)data, len);
		return;
	}
	const Elf64_Phdr *d = elf_phdr(&im, PT_DYNAMIC);
	const uint8_t *dyn = d ? elf_at(&im, d->p_vaddr, 0, &dyn_len) : NULL;
	dyn_len = dyn && dyn_len > d->p_filesz ? d->p_filesz : dyn_len;
	uint64_t strtab = 0;
	for (size_t o = 0; dyn && o + sizeof(Elf64_Dyn) <= dyn_len; o += sizeof(Elf64_Dyn)) {
		Elf64_Dyn e;
		memcpy(&e, dyn + o, sizeof(e));
		strtab = e.d_tag == DT_STRTAB ? e.d_un.d_val : strtab;
	}
	for (size_t o = 0; dyn && strtab && o + sizeof(Elf64_Dyn) <= dyn_len; o += sizeof(Elf64_Dyn)) {
		Elf64_Dyn e;
		memcpy(&e, dyn + o, sizeof(e));
		const char *name = e.d_tag == DT_NEEDED ? (const char *)elf_at(&im, strtab + e.d_un.d_val, 0, &avail) : NULL;
		if (name && memchr(name, 0, avail) && !strchr(name, '/') && !in_root(t, name))
			snprintf(out + strlen(out), n - strlen(out), "%s%s", *out ? ", " : "", name);
	}
	elf_close(&im);
	munmap((void *)data, len);
}

int inject_find_dlopen(struct inj_target *t, char *err, size_t n)
{
	size_t len = 0;
	const void *data = map_libc(t, &len);
	if (!data) {
		snprintf(err, n, "cannot read pid %d's C library %s: %s", (int)t->pid, t->libc, strerror(errno));
		return -ENOEXEC;
	}
	struct elf_image im;
	char why[256];
	int rc = elf_open(&im, data, len, why, sizeof(why));
	uint64_t open_at = 0, error_at = 0;
	if (rc == 0) {
		/* The bias: the mapping at offset 0 holds the first PT_LOAD (vaddr 0 in
		 * every libc seen, but say so rather than assume it). */
		const Elf64_Phdr *load = elf_phdr(&im, PT_LOAD);
		uint64_t first = load ? load->p_vaddr & ~(uint64_t)0xfff : 0;
		t->old_dlopen = !elf_exports(&im, "dlopen", &open_at);
		if (t->old_dlopen && !elf_exports(&im, "__libc_dlopen_mode", &open_at))
			rc = -ENOENT;
		t->dlopen = t->libc_base - first + open_at;
		t->dlerror = elf_exports(&im, "dlerror", &error_at) ? t->libc_base - first + error_at : 0;
		elf_close(&im);
	}
	munmap((void *)data, len);
	if (rc == -ENOENT) {
		snprintf(err, n, "pid %d's C library %s has neither dlopen (glibc 2.34 or later) nor "
			 "__libc_dlopen_mode (older glibc): start the program with LD_PRELOAD=libgolat.so or "
			 "golat run", (int)t->pid, t->libc);
		return -ENOEXEC;
	}
	if (rc) {
		snprintf(err, n, "pid %d's C library %s: %s", (int)t->pid, t->libc, why);
		return -ENOEXEC;
	}
	return 0;
}

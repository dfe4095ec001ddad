/* static_agent: golat-agent.so in a static Go program — finding it there, or mapping
 * it as a dynamic loader would (lib/agent/agent.h), and calling its entry point.
 *
 * The process makes a memfd (memfd_create, run on a thread golat holds), golat writes
 * the agent's bytes into it through /proc/PID/fd/N, and the process maps the segments
 * from it and closes it. So nothing of golat's file system need be visible there (a
 * container has its own mount namespace and often a read-only root), and nothing is
 * written into the process's files; /proc/PID/maps names it "/memfd:golat-agent.so
 * (deleted)": that is how a later golat finds the agent already there, and how a user
 * sees what was put in the process. Its bss is anonymous memory; its
 * R_X86_64_RELATIVE slots (the only relocations it may have) are written through
 * /proc/PID/mem. */
#define _GNU_SOURCE
#include "static_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "elfimg.h"

#define PAGE 4096ull
#define PAGE_DOWN(x) ((x) & ~(PAGE - 1))
#define PAGE_UP(x) (((x) + PAGE - 1) & ~(PAGE - 1))

int static_sys(struct static_ctx *s, long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
	       uint64_t a4, uint64_t a5, uint64_t *ret)
{
	const uint64_t a[6] = { a0, a1, a2, a3, a4, a5 };
	int rc = inject_syscall(&s->call, nr, a, ret, s->err, s->errn);
	if (rc == 0 && *ret > (uint64_t)-4096)
		return (int)(int64_t)*ret;
	return rc ? rc : 0;
}

#define AGENT_MEMFD "golat-agent.so" /* the memfd's name: maps shows /memfd:NAME (deleted) */

/* Whether a mapping's name (in /proc/PID/maps) is an agent: the memfd golat makes, or
 * (an older golat's) a golat-agent.so file, perhaps removed or rebuilt since. */
static bool agent_name(const char *name)
{
	size_t k = strlen(name);
	static const char deleted[] = " (deleted)";
	if (k >= sizeof(deleted) - 1 && strcmp(name + k - (sizeof(deleted) - 1), deleted) == 0)
		k -= sizeof(deleted) - 1;
	static const char file[] = "/golat-agent.so", memfd[] = "/memfd:" AGENT_MEMFD;
	return (k == sizeof(memfd) - 1 && strncmp(name, memfd, k) == 0) ||
	       (k >= sizeof(file) - 1 && strncmp(name + k - (sizeof(file) - 1), file, sizeof(file) - 1) == 0);
}

/* Whether the target maps an agent already (at file offset 0): its base, and its name
 * there in found. */
static bool agent_mapped(pid_t pid, uint64_t *base, char *found, size_t fn)
{
	char path[64], line[4352];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool hit = false;
	while (!hit && fgets(line, sizeof(line), f)) {
		unsigned long long lo, off;
		int pos = 0;
		if (sscanf(line, "%llx-%*x %*s %llx %*s %*s %n", &lo, &off, &pos) < 2 || pos == 0)
			continue;
		char *name = line + pos;
		name[strcspn(name, "\n")] = 0;
		if (off == 0 && agent_name(name)) {
			*base = lo;
			snprintf(found, fn, "%s", name);
			hit = true;
		}
	}
	fclose(f);
	return hit;
}

/* Whether the agent mapped at base in the target is im's build: the bytes of every
 * segment it never writes (headers with the build id, code, read-only data) are the
 * file's. A memfd has no path to compare, and the same path may hold a rebuilt file:
 * the contents say whether this golat's structures (agent_config, the recorder's
 * tables) are the ones in there. */
static bool agent_same(struct static_ctx *s, const struct elf_image *im, const uint8_t *data, uint64_t base)
{
	for (size_t i = 0; i < im->phnum; i++) {
		const Elf64_Phdr *p = &im->ph[i];
		if (p->p_type != PT_LOAD || (p->p_flags & PF_W) || p->p_filesz == 0)
			continue;
		uint8_t *mem = malloc(p->p_filesz);
		bool same = mem && inject_mem_read(&s->t, base + p->p_vaddr, mem, p->p_filesz) == 0 &&
			    memcmp(mem, data + p->p_offset, p->p_filesz) == 0;
		free(mem);
		if (!same)
			return false;
	}
	return true;
}

/* Maps PT_LOAD segment i of im from the file open as fd in the target at base. */
static int map_one(struct static_ctx *s, const struct elf_image *im, size_t i, uint64_t fd, uint64_t base)
{
	const Elf64_Phdr *p = &im->ph[i];
	int prot = (p->p_flags & PF_R ? PROT_READ : 0) | (p->p_flags & PF_W ? PROT_WRITE : 0) |
		   (p->p_flags & PF_X ? PROT_EXEC : 0);
	uint64_t lo = base + PAGE_DOWN(p->p_vaddr), file_end = base + p->p_vaddr + p->p_filesz;
	uint64_t end = PAGE_UP(base + p->p_vaddr + p->p_memsz), ret;
	int rc = 0;
	if (p->p_filesz)
		rc = static_sys(s, SYS_mmap, lo, PAGE_UP(file_end) - lo, (uint64_t)prot, MAP_PRIVATE | MAP_FIXED, fd,
				PAGE_DOWN(p->p_offset), &ret);
	if (rc == 0 && p->p_memsz > p->p_filesz) {
		/* bss: the rest of the file's last page zeroed, whole pages anonymous. */
		static const uint8_t zero[PAGE];
		if (p->p_filesz && PAGE_UP(file_end) > file_end)
			rc = inject_mem_write(&s->t, file_end, zero, PAGE_UP(file_end) - file_end);
		uint64_t anon = p->p_filesz ? PAGE_UP(file_end) : lo;
		if (rc == 0 && end > anon)
			rc = static_sys(s, SYS_mmap, anon, end - anon, (uint64_t)prot,
					MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS, (uint64_t)-1, 0, &ret);
	}
	if (rc && !s->err[0])
		snprintf(s->err, s->errn, "cannot map golat-agent.so's segment %zu in pid %d: %s", i, (int)s->t.pid,
			 strerror(-rc));
	return rc;
}

/* Maps the PT_LOAD segments of im from the file open as fd in the target at base, and
 * relocates them. The segment at file offset 0 goes in last: /proc/PID/maps shows the
 * agent (agent_mapped: its mapping at offset 0) only once it is whole, so a golat
 * killed half way leaves an unnamed reservation (a leak) that the next golat does not
 * take for an agent, rather than an agent with segments or relocations missing. */
static int map_segments(struct static_ctx *s, const struct elf_image *im, uint64_t fd, uint64_t base)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < im->phnum; i++)
		if (im->ph[i].p_type == PT_LOAD && im->ph[i].p_memsz && PAGE_DOWN(im->ph[i].p_offset) != 0)
			rc = map_one(s, im, i, fd, base);
	for (size_t i = 0; rc == 0 && i < im->nrel; i++) {
		uint64_t v = base + im->rel[i].addend;
		if ((rc = inject_mem_write(&s->t, base + im->rel[i].offset, &v, 8)) != 0)
			snprintf(s->err, s->errn, "cannot relocate golat-agent.so in pid %d: %s", (int)s->t.pid,
				 strerror(-rc));
	}
	for (size_t i = 0; rc == 0 && i < im->phnum; i++)
		if (im->ph[i].p_type == PT_LOAD && im->ph[i].p_memsz && PAGE_DOWN(im->ph[i].p_offset) == 0)
			rc = map_one(s, im, i, fd, base);
	return rc;
}

/* What golat-agent.so must be: a shared object with nothing for a loader to do but
 * map it and add its base to RELATIVE slots. */
static int agent_check(const struct elf_image *im, uint64_t *span, char *err, size_t n)
{
	*span = 0;
	if (im->eh.e_type != ET_DYN || im->eh.e_entry == 0) {
		snprintf(err, n, "golat-agent.so is not a position-independent object with an entry point");
		return -ENOEXEC;
	}
	for (size_t i = 0; i < im->phnum; i++) {
		const Elf64_Phdr *p = &im->ph[i];
		if (p->p_type == PT_INTERP || p->p_type == PT_TLS) {
			snprintf(err, n, "golat-agent.so needs a %s", p->p_type == PT_TLS ? "TLS block" : "loader");
			return -ENOEXEC;
		}
		if (p->p_type == PT_LOAD && PAGE_UP(p->p_vaddr + p->p_memsz) > *span)
			*span = PAGE_UP(p->p_vaddr + p->p_memsz);
	}
	if (*span == 0 || *span > (64u << 20)) {
		snprintf(err, n, "golat-agent.so has no loadable segment of a sane size");
		return -ENOEXEC;
	}
	return 0;
}

/* The agent file's bytes, read whole, and its image. 0 or -ENOEXEC with s->err. */
static int agent_read(struct static_ctx *s, const char *agent, struct elf_image *im, void **data, size_t *size)
{
	int fd = open(agent, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(s->err, s->errn, "cannot read %s: %s", agent, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -ENOEXEC;
	}
	*size = (size_t)st.st_size;
	*data = mmap(NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (*data == MAP_FAILED) {
		snprintf(s->err, s->errn, "cannot map %s: %s", agent, strerror(errno));
		*data = NULL;
		return -ENOEXEC;
	}
	int rc = elf_open(im, *data, *size, s->err, s->errn);
	if (rc) {
		munmap(*data, *size);
		*data = NULL;
		return -ENOEXEC;
	}
	return 0;
}

/* A memfd in the target holding the agent's bytes: its fd there in *tfd. The target
 * makes it; golat fills it through /proc/PID/fd/N (as the tracer it may), so the bytes
 * need no file the target can see. */
static int agent_memfd(struct static_ctx *s, const void *data, size_t size, uint64_t *tfd)
{
	/* MFD_EXEC where the kernel knows it (6.3: without it or MFD_NOEXEC_SEAL it warns);
	 * vm.memfd_noexec=2 refuses MFD_EXEC (EACCES) but maps a sealed one executable. */
	static const unsigned flags[] = { MFD_CLOEXEC | 0x10u /* MFD_EXEC */, MFD_CLOEXEC | 0x8u /* NOEXEC_SEAL */,
					  MFD_CLOEXEC };
	int rc = inject_mem_write(&s->t, s->scratch + SCRATCH_PATH, AGENT_MEMFD, sizeof(AGENT_MEMFD));
	if (rc) {
		snprintf(s->err, s->errn, "cannot write to pid %d: %s", (int)s->t.pid, strerror(-rc));
		return rc;
	}
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		rc = static_sys(s, SYS_memfd_create, s->scratch + SCRATCH_PATH, flags[i], 0, 0, 0, 0, tfd);
		if (rc != -EINVAL && rc != -EACCES)
			break; /* EINVAL: a kernel before 6.3 (no MFD_EXEC) */
	}
	if (rc) {
		if (!s->err[0])
			snprintf(s->err, s->errn, "pid %d cannot make a memfd for golat-agent.so: %s", (int)s->t.pid,
				 strerror(-rc));
		return rc;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)s->t.pid, (int)*tfd);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t done = 0;
	ssize_t k = 0;
	while (fd >= 0 && done < size && (k = pwrite(fd, (const char *)data + done, size - done, (off_t)done)) > 0)
		done += (size_t)k;
	rc = done == size ? 0 : fd < 0 || k < 0 ? -errno : -EIO;
	if (fd >= 0)
		close(fd);
	if (rc) {
		uint64_t ret;
		snprintf(s->err, s->errn, "cannot write golat-agent.so into pid %d's memfd (%s): %s", (int)s->t.pid,
			 path, strerror(-rc));
		static_sys(s, SYS_close, *tfd, 0, 0, 0, 0, 0, &ret);
	}
	return rc;
}

/* Maps and relocates the agent (im, from data) in the target; its base in *base. */
static int agent_map(struct static_ctx *s, const struct elf_image *im, const void *data, size_t size,
		     uint64_t *base)
{
	uint64_t span, tfd = 0, ret;
	int rc = agent_check(im, &span, s->err, s->errn);
	if (rc == 0)
		rc = agent_memfd(s, data, size, &tfd);
	if (rc)
		return rc;
	/* The whole span reserved first: the segments go at fixed places in it. */
	rc = static_sys(s, SYS_mmap, 0, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, (uint64_t)-1, 0,
			base);
	if (rc == 0)
		rc = map_segments(s, im, tfd, *base);
	else if (!s->err[0])
		snprintf(s->err, s->errn, "cannot reserve %llu KiB in pid %d: %s", (unsigned long long)span / 1024,
			 (int)s->t.pid, strerror(-rc));
	static_sys(s, SYS_close, tfd, 0, 0, 0, 0, 0, &ret);
	if (rc == 0)
		s->agent_entry = *base + im->eh.e_entry;
	return rc;
}

bool static_agent_find(struct static_ctx *s, uint64_t *entry)
{
	uint64_t base;
	char there[4096];
	Elf64_Ehdr eh;
	if (!agent_mapped(s->t.pid, &base, there, sizeof(there)) || inject_mem_read(&s->t, base, &eh, sizeof(eh)) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
		return false;
	*entry = base + eh.e_entry;
	return true;
}

/* static_attach's errors say what failed (static.h): the errno of a system call the
 * agent or golat ran (ENOENT of an openat above all: "no function") is not one. */
static int agent_errno(int rc)
{
	return rc == 0 || rc == -ESRCH || rc == -ENOEXEC || rc == -EEXIST || rc == -ENOMEM ? rc : -EIO;
}

int static_agent(struct static_ctx *s, const char *agent, struct agent_config *cfg)
{
	uint64_t base = 0;
	char there[4096];
	struct elf_image im;
	void *data;
	size_t size;
	s->agent_loaded = false;
	int rc = agent_read(s, agent, &im, &data, &size);
	if (rc)
		return rc;
	if (agent_mapped(s->t.pid, &base, there, sizeof(there))) {
		/* One agent per process: two would both claim m.tls[1]. Another build's is
		 * left alone (its structures may differ from this golat's). */
		if (!agent_same(s, &im, data, base)) {
			snprintf(s->err, s->errn, "pid %d has the agent of another golat build (%s at %#llx): use the "
				 "golat that attached it first", (int)s->t.pid, there, (unsigned long long)base);
			rc = -EEXIST;
		}
		s->agent_entry = base + im.eh.e_entry;
	} else if ((rc = agent_map(s, &im, data, size, &base)) == 0) {
		s->agent_loaded = true;
	}
	elf_close(&im);
	munmap(data, size);
	if (rc)
		return agent_errno(rc);
	return static_agent_call(s, s->agent_entry, cfg);
}

int static_agent_call(struct static_ctx *s, uint64_t entry, struct agent_config *cfg)
{
	/* golat_agent_init, on the scratch stack, with the configuration beside it. */
	int rc = inject_mem_write(&s->t, s->scratch + SCRATCH_CFG, cfg, sizeof(*cfg));
	uint64_t ret = 0;
	if (rc == 0)
		rc = inject_fn(&s->call, entry, s->scratch + SCRATCH_CFG, 0, s->scratch + SCRATCH_SIZE, 10000,
			       &ret, s->err, s->errn);
	else
		snprintf(s->err, s->errn, "cannot write to pid %d: %s", (int)s->t.pid, strerror(-rc));
	if (rc == 0 && (rc = inject_mem_read(&s->t, s->scratch + SCRATCH_CFG, cfg, sizeof(*cfg))) != 0)
		snprintf(s->err, s->errn, "cannot read from pid %d: %s", (int)s->t.pid, strerror(-rc));
	if (rc == 0 && (cfg->err || (int)ret != 0)) {
		cfg->reason[sizeof(cfg->reason) - 1] = 0;
		snprintf(s->err, s->errn, "golat's agent could not start in pid %d: %s", (int)s->t.pid,
			 cfg->reason[0] ? cfg->reason : strerror(cfg->err ? -cfg->err : EINVAL));
		rc = cfg->err ? cfg->err : -EINVAL;
	}
	return agent_errno(rc);
}

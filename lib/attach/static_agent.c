/* static_agent: golat-agent.so in a static Go program — finding it there, or mapping
 * it as a dynamic loader would (lib/agent/agent.h), and calling its entry point.
 *
 * The segments are mapped from the file itself (openat and mmap run on a thread golat
 * holds), so that /proc/PID/maps names golat-agent.so: that is how a later golat finds
 * the agent already there, and how a user sees what was put in the process. Its bss
 * is anonymous memory; its R_X86_64_RELATIVE slots (the only relocations it may have)
 * are written through /proc/PID/mem. */
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

/* Whether the target maps an agent already (a golat-agent.so at file offset 0): its base,
 * and its path in found. */
static bool agent_mapped(pid_t pid, uint64_t *base, char *found_path, size_t fn)
{
	char path[64], line[4352];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long long lo, off;
		int pos = 0;
		if (sscanf(line, "%llx-%*x %*s %llx %*s %*s %n", &lo, &off, &pos) < 2 || pos == 0)
			continue;
		char *name = line + pos;
		name[strcspn(name, "\n")] = 0;
		const char *slash = strrchr(name, '/');
		if (off == 0 && slash && strcmp(slash + 1, "golat-agent.so") == 0) {
			*base = lo;
			snprintf(found_path, fn, "%s", name);
			found = true;
		}
	}
	fclose(f);
	return found;
}

/* Maps the PT_LOAD segments of im from the file open as fd in the target at base. */
static int map_segments(struct static_ctx *s, const struct elf_image *im, uint64_t fd, uint64_t base)
{
	for (size_t i = 0; i < im->phnum; i++) {
		const Elf64_Phdr *p = &im->ph[i];
		if (p->p_type != PT_LOAD || p->p_memsz == 0)
			continue;
		int prot = (p->p_flags & PF_R ? PROT_READ : 0) | (p->p_flags & PF_W ? PROT_WRITE : 0) |
			   (p->p_flags & PF_X ? PROT_EXEC : 0);
		uint64_t lo = base + PAGE_DOWN(p->p_vaddr), file_end = base + p->p_vaddr + p->p_filesz;
		uint64_t end = PAGE_UP(base + p->p_vaddr + p->p_memsz), ret;
		int rc = 0;
		if (p->p_filesz)
			rc = static_sys(s, SYS_mmap, lo, PAGE_UP(file_end) - lo, (uint64_t)prot, MAP_PRIVATE | MAP_FIXED,
					fd, PAGE_DOWN(p->p_offset), &ret);
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
		if (rc) {
			if (!s->err[0])
				snprintf(s->err, s->errn, "cannot map golat-agent.so's segment %zu in pid %d: %s", i,
					 (int)s->t.pid, strerror(-rc));
			return rc;
		}
	}
	for (size_t i = 0; i < im->nrel; i++) {
		uint64_t v = base + im->rel[i].addend;
		int rc = inject_mem_write(&s->t, base + im->rel[i].offset, &v, 8);
		if (rc) {
			snprintf(s->err, s->errn, "cannot relocate golat-agent.so in pid %d: %s", (int)s->t.pid,
				 strerror(-rc));
			return rc;
		}
	}
	return 0;
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

/* Opens, maps and relocates the agent in the target; its base in *base. */
static int agent_map(struct static_ctx *s, const char *agent, uint64_t *base)
{
	int fd = open(agent, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(s->err, s->errn, "cannot read %s: %s", agent, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -ENOEXEC;
	}
	void *data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (data == MAP_FAILED) {
		snprintf(s->err, s->errn, "cannot map %s: %s", agent, strerror(errno));
		return -ENOEXEC;
	}
	struct elf_image im;
	uint64_t span, tfd = 0, ret;
	int rc = elf_open(&im, data, (size_t)st.st_size, s->err, s->errn);
	if (rc == 0)
		rc = agent_check(&im, &span, s->err, s->errn);
	/* The path, for the target's openat: in the scratch area. */
	if (rc == 0 && (rc = inject_mem_write(&s->t, s->scratch + SCRATCH_PATH, agent, strlen(agent) + 1)))
		snprintf(s->err, s->errn, "cannot write to pid %d: %s", (int)s->t.pid, strerror(-rc));
	if (rc == 0 && (rc = static_sys(s, SYS_openat, (uint64_t)AT_FDCWD, s->scratch + SCRATCH_PATH,
					O_RDONLY | O_CLOEXEC, 0, 0, 0, &tfd)) != 0 && !s->err[0])
		snprintf(s->err, s->errn, "pid %d cannot open %s: %s", (int)s->t.pid, agent, strerror(-rc));
	if (rc == 0) {
		/* The whole span reserved first: the segments go at fixed places in it. */
		rc = static_sys(s, SYS_mmap, 0, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				(uint64_t)-1, 0, base);
		if (rc == 0)
			rc = map_segments(s, &im, tfd, *base);
		else if (!s->err[0])
			snprintf(s->err, s->errn, "cannot reserve %llu KiB in pid %d: %s",
				 (unsigned long long)span / 1024, (int)s->t.pid, strerror(-rc));
		static_sys(s, SYS_close, tfd, 0, 0, 0, 0, 0, &ret);
	}
	if (rc == 0)
		s->agent_entry = *base + im.eh.e_entry;
	elf_close(&im);
	munmap(data, (size_t)st.st_size);
	return rc;
}

int static_agent(struct static_ctx *s, const char *agent, struct agent_config *cfg)
{
	uint64_t base = 0;
	char there[4096];
	struct stat a, b;
	s->agent_loaded = false;
	if (agent_mapped(s->t.pid, &base, there, sizeof(there))) {
		/* One agent per process: two would both claim m.tls[1]. Another build's is
		 * left alone (its structures may differ from this golat's). */
		if (strcmp(there, agent) != 0 &&
		    (stat(there, &a) != 0 || stat(agent, &b) != 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)) {
			snprintf(s->err, s->errn, "pid %d has the agent of another golat (%s): use that golat, "
				 "or GOLAT_AGENT=%s", (int)s->t.pid, there, there);
			return -EEXIST;
		}
		/* Its entry point from the file (the same file the target maps). */
		int fd = open(agent, O_RDONLY | O_CLOEXEC);
		Elf64_Ehdr eh;
		if (fd < 0 || pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh)) {
			snprintf(s->err, s->errn, "cannot read %s: %s", agent, strerror(errno));
			if (fd >= 0)
				close(fd);
			return -ENOEXEC;
		}
		close(fd);
		s->agent_entry = base + eh.e_entry;
	} else {
		int rc = agent_map(s, agent, &base);
		if (rc)
			return rc;
		s->agent_loaded = true;
	}
	/* golat_agent_init, on the scratch stack, with the configuration beside it. */
	int rc = inject_mem_write(&s->t, s->scratch + SCRATCH_CFG, cfg, sizeof(*cfg));
	uint64_t ret = 0;
	if (rc == 0)
		rc = inject_fn(&s->call, s->agent_entry, s->scratch + SCRATCH_CFG, 0, s->scratch + SCRATCH_SIZE, 10000,
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
	return rc;
}

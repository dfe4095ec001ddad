/* args_test: drives lib/reader/dwarf_args.c on real Go binaries.
 *
 *   args_test --sig EXE [PREFIX]   every function of the pclntab whose name starts with
 *                                  PREFIX: its signature with registers, one a line
 *   args_test --check EXE DUMP     DUMP holds, per call, "entry ADDR R0..R8" and
 *                                  "return ADDR R0..R8" (hex; what gdb saw at the entry
 *                                  and at the return address). Prints per parameter
 *                                  "FUNC NAME TYPE WHERE VALUE", the value formatted from
 *                                  those registers, strings read from the file's image
 *   args_test --names EXE          every function found: "0xENTRY NAME: [-> ]PARAM TYPE..."
 *                                  in DWARF order, without .dict and what the reader adds
 *                                  (synthetic), as tests/args/ref prints
 *   args_test --frames EXE [PREFIX] the argument frame each signature implies against
 *                                  the pclntab's: the functions where they differ
 *   args_test --time EXE           indexes every function of the pclntab, then 10000 of
 *                                  them, and prints the times
 *   args_test --enoent EXE         the index of a binary without DWARF is -ENOENT
 *   args_test --damage EXE         truncated and corrupted copies of the (uncompressed)
 *                                  debug sections give an error or an index, never a
 *                                  crash (run it under ASan)
 * Exit status 0 when every check held. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dwarf_args.h"
#include "gobin.h"

static double now_ms(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void open_bin(struct gobin *gb, const char *path)
{
	char err[256];
	if (gobin_open(gb, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", path, err);
		exit(2);
	}
}

/* The entries of the functions whose name starts with prefix. */
static uint64_t *entries(const struct gobin *gb, const char *prefix, size_t *n)
{
	uint64_t *e = malloc((gb->nfuncs + 1) * sizeof(*e));
	*n = 0;
	for (size_t i = 0; i < gb->nfuncs; i++)
		if (strncmp(gb->funcs[i].name, prefix, strlen(prefix)) == 0)
			e[(*n)++] = gb->funcs[i].entry;
	return e;
}

/* The index of the functions at e, checked against their pclntab frames. */
static struct dwarf_args *index_of(const struct gobin *gb, const uint64_t *e, size_t n)
{
	struct dwarf_args *ix;
	uint32_t *frames = malloc((n + 1) * sizeof(*frames));
	for (size_t i = 0; i < n; i++)
		frames[i] = gobin_func_at(gb, e[i])->args;
	int err = dwarf_args_index(&gb->elf, e, frames, n, &ix);
	free(frames);
	if (err) {
		printf("dwarf_args_index: %s\n", strerror(-err));
		exit(1);
	}
	return ix;
}

static const char *where(const struct dwarf_param *p, char *buf, size_t size)
{
	dwarf_param_where(p, buf, size);
	return buf;
}

/* What argsref (debug/dwarf) prints: every function found, in entry order, its
 * parameters as the DWARF lists them, the dictionary and what the reader adds left out. */
static int names(const char *path)
{
	struct gobin gb;
	size_t n;

	open_bin(&gb, path);
	uint64_t *e = entries(&gb, "", &n);
	struct dwarf_args *ix = index_of(&gb, e, n);
	for (size_t i = 0; i < n; i++) {
		const struct dwarf_func_sig *s;
		if (dwarf_func_args(ix, e[i], &s) != 0)
			continue;
		printf("%#llx %s:", (unsigned long long)s->entry, s->name);
		for (size_t j = 0; j < s->nparams; j++)
			if (strcmp(s->param[j].name, ".dict") != 0 && !s->param[j].synthetic)
				printf(" %s%s %s", s->param[j].result ? "-> " : "", s->param[j].name,
				       s->param[j].type);
		printf("\n");
	}
	dwarf_args_free(ix);
	free(e);
	gobin_close(&gb);
	return 0;
}

/* The signatures the pclntab's argument frames do not confirm (enum dwarf_sig_check),
 * then how many of how many it does. */
static int frames(const char *path, const char *prefix)
{
	struct gobin gb;
	size_t n, same = 0, total = 0;

	open_bin(&gb, path);
	uint64_t *e = entries(&gb, prefix, &n);
	struct dwarf_args *ix = index_of(&gb, e, n);
	for (size_t i = 0; i < n; i++) {
		const struct dwarf_func_sig *s;
		uint64_t size;
		if (dwarf_func_args(ix, e[i], &s) != 0)
			continue;
		total++;
		if (s->check == DWARF_SIG_OK) {
			same++;
			continue;
		}
		printf("%s: %s, frame %lld from DWARF, %u in the pclntab\n", s->name, dwarf_check_name(s->check),
		       dwarf_sig_frame_size(s, false, &size) ? -1ll : (long long)size,
		       gobin_func_at(&gb, e[i])->args);
	}
	printf("%zu of %zu argument frames agree with the pclntab\n", same, total);
	dwarf_args_free(ix);
	free(e);
	gobin_close(&gb);
	return 0;
}

static int sig(const char *path, const char *prefix)
{
	struct gobin gb;
	size_t n;
	char wbuf[256];

	open_bin(&gb, path);
	uint64_t *e = entries(&gb, prefix, &n);
	struct dwarf_args *ix = index_of(&gb, e, n);
	for (size_t i = 0; i < n; i++) {
		const struct dwarf_func_sig *s;
		if (dwarf_func_args(ix, e[i], &s) != 0)
			continue;
		printf("%s%s%s%s:", s->name, s->wrapper ? " (wrapper)" : "",
		       s->check != DWARF_SIG_OK ? " !" : "", s->check != DWARF_SIG_OK ? dwarf_check_name(s->check) : "");
		for (size_t j = 0; j < s->nparams; j++) {
			const struct dwarf_param *p = &s->param[j];
			printf(" %s%s %s %s%s", p->result ? "-> " : "", p->name, p->type,
			       where(p, wbuf, sizeof(wbuf)), p->synthetic ? " (synthetic)" : "");
		}
		printf("\n");
	}
	dwarf_args_free(ix);
	free(e);
	gobin_close(&gb);
	return 0;
}

/* Strings of the test program are literals: their bytes are in the file. */
static bool read_image(void *arg, uint64_t addr, void *buf, size_t len)
{
	const uint8_t *p = elf_at(arg, addr, len, NULL);
	if (p)
		memcpy(buf, p, len);
	return p != NULL;
}

static void check_call(const struct gobin *gb, const struct dwarf_args *ix, uint64_t entry,
		       const uint64_t in[DWARF_INT_REGS], const uint64_t out[DWARF_INT_REGS])
{
	const struct dwarf_func_sig *s;
	const struct gobin_func *f = gobin_func_at(gb, entry);
	char val[256], wbuf[256];

	if (dwarf_func_args(ix, entry, &s) != 0) {
		printf("%s: no signature\n", f ? f->name : "?");
		return;
	}
	for (size_t j = 0; j < s->nparams; j++) {
		const struct dwarf_param *p = &s->param[j];
		dwarf_arg_format(p, p->result ? out : in, read_image, (void *)&gb->elf, val, sizeof(val));
		printf("%s %s%s %s %s %s%s%s\n", s->name, p->result ? "-> " : "", p->name,
		       p->type[0] ? p->type : "-", where(p, wbuf, sizeof(wbuf)), val,
		       s->check != DWARF_SIG_OK ? " !" : "", s->check != DWARF_SIG_OK ? dwarf_check_name(s->check) : "");
	}
}

static int check(const char *path, const char *dump)
{
	struct gobin gb;
	size_t n;
	char line[512], kind[16];
	uint64_t addr, r[DWARF_INT_REGS];
	struct { uint64_t addr, regs[DWARF_INT_REGS]; } stack[64]; /* calls not returned yet */
	size_t depth = 0;
	FILE *f = fopen(dump, "r");

	if (!f) {
		perror(dump);
		return 2;
	}
	open_bin(&gb, path);
	uint64_t *e = entries(&gb, "", &n);
	struct dwarf_args *ix = index_of(&gb, e, n);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%15s %lx %lx %lx %lx %lx %lx %lx %lx %lx %lx", kind, &addr, &r[0],
			   &r[1], &r[2], &r[3], &r[4], &r[5], &r[6], &r[7], &r[8]) != 11)
			continue;
		if (strcmp(kind, "entry") == 0 && depth < 64) {
			stack[depth].addr = addr;
			memcpy(stack[depth++].regs, r, sizeof(r));
			continue;
		}
		size_t i = depth; /* the innermost call of that function returned */
		while (i > 0 && stack[i - 1].addr != addr)
			i--;
		if (strcmp(kind, "return") != 0 || i == 0)
			continue;
		check_call(&gb, ix, addr, stack[i - 1].regs, r);
		memmove(&stack[i - 1], &stack[i], (depth - i) * sizeof(*stack));
		depth--;
	}
	fclose(f);
	dwarf_args_free(ix);
	free(e);
	gobin_close(&gb);
	return 0;
}

static double timed_index(const struct gobin *gb, const uint64_t *e, size_t n, size_t *found)
{
	double c0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
	struct dwarf_args *ix = index_of(gb, e, n);
	double ms = now_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
	*found = dwarf_args_count(ix);
	dwarf_args_free(ix);
	return ms;
}

static int timing(const char *path)
{
	struct gobin gb;
	size_t n, found;

	open_bin(&gb, path);
	uint64_t *e = entries(&gb, "", &n);
	double ms = timed_index(&gb, e, n, &found);
	printf("%s: %zu functions, %zu with DWARF signatures: %.0f ms CPU\n", path, n, found, ms);
	size_t k = n < 10000 ? n : 10000;
	for (size_t i = 0; i < k; i++) /* 10000 spread over the binary */
		e[i] = e[i * (n / k)];
	ms = timed_index(&gb, e, k, &found);
	printf("%s: %zu functions asked, %zu found: %.0f ms CPU\n", path, k, found, ms);
	free(e);
	gobin_close(&gb);
	return 0;
}

static int enoent(const char *path)
{
	struct gobin gb;
	struct dwarf_args *ix = NULL;
	uint64_t e = 0;

	open_bin(&gb, path);
	double t0 = now_ms(CLOCK_MONOTONIC);
	int err = dwarf_args_index(&gb.elf, &e, NULL, 1, &ix);
	double ms = now_ms(CLOCK_MONOTONIC) - t0;
	gobin_close(&gb);
	printf("%s: dwarf_args_index %s in %.3f ms: %s\n", path, err ? strerror(-err) : "0", ms,
	       err == -ENOENT && !ix ? "ok" : "FAIL");
	return err == -ENOENT && !ix ? 0 : 1;
}

/* Any documented error, or an index whose every parameter formats. */
static int damaged(const struct gobin *gb, const uint64_t *e, size_t n)
{
	struct dwarf_args *ix;
	uint64_t regs[DWARF_INT_REGS] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	char val[128];
	int err = dwarf_args_index(&gb->elf, e, NULL, n, &ix);

	if (err == -EINVAL || err == -ENOENT || err == -ENOMEM)
		return 0;
	if (err) {
		printf("FAIL: damaged: %s\n", strerror(-err));
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct dwarf_func_sig *s;
		if (dwarf_func_args(ix, e[i], &s) == 0)
			for (size_t j = 0; j < s->nparams; j++)
				dwarf_arg_format(&s->param[j], regs, NULL, NULL, val, sizeof(val));
	}
	dwarf_args_free(ix);
	return 0;
}

/* Cuts and byte flips of one section, in place (the mapping is private). */
static int damage_section(struct gobin *gb, const char *name, const uint64_t *e, size_t n)
{
	Elf64_Shdr *sh = (Elf64_Shdr *)elf_section(&gb->elf, name);
	int fails = 0;

	if (!sh || (sh->sh_flags & SHF_COMPRESSED))
		return 0;
	uint64_t full = sh->sh_size;
	for (uint64_t len = 0; len < full; len = len < 64 ? len + 1 : len + full / 50 + 1) {
		sh->sh_size = len;
		fails += damaged(gb, e, n);
	}
	sh->sh_size = full;
	uint8_t *p = (uint8_t *)elf_section_data(&gb->elf, sh, &(size_t){ 0 });
	srand(1);
	for (int k = 0; k < 100 && full; k++) {
		size_t pos = ((size_t)rand() << 16 ^ (size_t)rand()) % full;
		uint8_t old = p[pos];
		p[pos] = (uint8_t)rand();
		fails += damaged(gb, e, n);
		p[pos] = old;
	}
	printf("damaged %s: %s\n", name, fails ? "FAIL" : "ok");
	return fails;
}

static int damage(const char *path)
{
	static const char *const sections[] = { ".debug_info", ".debug_abbrev", ".debug_addr",
						".debug_str", ".debug_str_offsets" };
	struct gobin gb;
	size_t n, size;
	int fails = 0;
	char err[256];
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;

	if (!f || fseek(f, 0, SEEK_END) || (size = (size_t)ftell(f)) == 0 ||
	    fseek(f, 0, SEEK_SET) || !(data = malloc(size)) || fread(data, 1, size, f) != size ||
	    gobin_open_mem(&gb, data, size, err, sizeof(err)) != 0) {
		printf("FAIL: cannot read %s\n", path);
		return 2;
	}
	fclose(f);
	uint64_t *e = entries(&gb, "main.", &n);
	for (size_t i = 0; i < sizeof(sections) / sizeof(*sections); i++)
		fails += damage_section(&gb, sections[i], e, n);
	free(e);
	gobin_close(&gb);
	free(data);
	return fails != 0;
}

int main(int argc, char **argv)
{
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "--sig") == 0)
		return sig(argv[2], argc == 4 ? argv[3] : "");
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "--frames") == 0)
		return frames(argv[2], argc == 4 ? argv[3] : "");
	if (argc == 3 && strcmp(argv[1], "--names") == 0)
		return names(argv[2]);
	if (argc == 4 && strcmp(argv[1], "--check") == 0)
		return check(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "--time") == 0)
		return timing(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--enoent") == 0)
		return enoent(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--damage") == 0)
		return damage(argv[2]);
	fprintf(stderr, "usage: args_test --sig|--check|--time|--enoent|--damage EXE ...\n");
	return 2;
}

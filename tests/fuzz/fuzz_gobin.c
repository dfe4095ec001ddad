/* libFuzzer target for the Go binary reader: every byte of a binary given to
 * `golat list` or read from /proc/self/exe goes through gobin_open_mem, so any input
 * must give 0 or an error code, never a crash, a hang or a leak. Beyond opening, it
 * walks what the reader hands out (names, code bytes, lookups) the way the CLI does. */
#include <stdint.h>
#include <string.h>

#include "gobin.h"
#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gobin gb = { 0 };
	char err[256];
	if (gobin_open_mem(&gb, data, size, err, sizeof(err)) != 0)
		return 0;
	size_t total = 0;
	for (size_t i = 0; i < gb.nfuncs; i++) {
		const struct gobin_func *f = &gb.funcs[i];
		total += strlen(f->name);
		const uint8_t *code = gobin_code(&gb, f);
		if (code && f->end > f->entry)
			total += code[f->end - f->entry - 1];
		if (gobin_func_at(&gb, f->entry) == NULL && f->end > f->entry)
			__builtin_trap(); /* a function must contain its own entry */
		const char *file;
		int32_t line;
		/* Source positions at the entry and the last instruction (golat list --lines). */
		if (gobin_pc_line(&gb, f->entry, &file, &line) == 0)
			total += strlen(file) + (size_t)line;
		if (f->end - f->entry > gb.pc_quantum && gobin_pc_line(&gb, f->end - gb.pc_quantum, &file, &line) == 0)
			total += strlen(file);
	}
	struct spec_set specs = { 0 };
	spec_add_list(&specs, "main.*,!main.x,runtime.[a-c]*");
	spec_resolve(&specs, &gb);
	for (size_t i = 0; i < gb.nfuncs; i++)
		total += spec_match(&specs, gb.funcs[i].name);
	spec_free(&specs);
	gobin_close(&gb);
	return total == 0xdeadbeef; /* keep the walk from being optimised away */
}

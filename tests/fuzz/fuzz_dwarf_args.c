/* libFuzzer target for lib/reader/dwarf_args.c: the signatures index reads every byte of
 * .debug_info, .debug_abbrev, .debug_addr, .debug_str and .debug_str_offsets, so any
 * content must give 0 or an error, never a crash, a hang or a leak. The input is the
 * sections themselves (args-seed.py writes real ones), wrapped here into a minimal ELF,
 * so that mutations hit DWARF rather than ELF headers:
 *   u8 K, K little-endian u64 entries, then per section a u32 length and its bytes.
 * Each function found is formatted from fixed registers, its strings read from the
 * input, as the report would. */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "dwarf_args.h"

static const char *const names[] = { ".debug_info", ".debug_abbrev", ".debug_addr", ".debug_str",
				     ".debug_str_offsets" };
#define NSEC (sizeof(names) / sizeof(*names))

struct input {
	const uint8_t *p;
	size_t len;
};

static bool read_input(void *arg, uint64_t addr, void *buf, size_t len)
{
	const struct input *in = arg;
	if (addr > in->len || len > in->len - addr)
		return false;
	memcpy(buf, in->p + addr, len);
	return true;
}

/* An ET_EXEC x86-64 image holding sec[i] as names[i]. */
static uint8_t *wrap(const uint8_t *sec[NSEC], const size_t len[NSEC], size_t *size)
{
	char shstr[128] = "";
	size_t shlen = 1, off = sizeof(Elf64_Ehdr), name_at[NSEC];
	for (size_t i = 0; i < NSEC; i++) {
		name_at[i] = shlen;
		strcpy(shstr + shlen, names[i]);
		shlen += strlen(names[i]) + 1;
	}
	size_t total = off + shlen;
	for (size_t i = 0; i < NSEC; i++)
		total += len[i];
	total = (total + 7) & ~(size_t)7;
	uint8_t *img = calloc(1, total + (NSEC + 2) * sizeof(Elf64_Shdr));
	Elf64_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_X86_64, .e_shoff = total,
			  .e_shentsize = sizeof(Elf64_Shdr), .e_shnum = NSEC + 2, .e_shstrndx = 1,
			  .e_phentsize = sizeof(Elf64_Phdr), .e_ehsize = sizeof(Elf64_Ehdr) };
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	memcpy(img, &eh, sizeof(eh));
	Elf64_Shdr *sh = (Elf64_Shdr *)(img + total);
	sh[1] = (Elf64_Shdr){ .sh_type = SHT_STRTAB, .sh_offset = off, .sh_size = shlen };
	memcpy(img + off, shstr, shlen);
	off += shlen;
	for (size_t i = 0; i < NSEC; i++) {
		sh[i + 2] = (Elf64_Shdr){ .sh_name = (uint32_t)name_at[i], .sh_type = SHT_PROGBITS,
					  .sh_offset = off, .sh_size = len[i] };
		if (len[i])
			memcpy(img + off, sec[i], len[i]);
		off += len[i];
	}
	*size = total + (NSEC + 2) * sizeof(Elf64_Shdr);
	return img;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t entries[32], regs[DWARF_INT_REGS] = { 0, 5, 0x7fffffff, ~0ull, 1, 0, 64, 3, 2 };
	const uint8_t *sec[NSEC] = { 0 };
	size_t len[NSEC] = { 0 }, at = 1, k = size ? data[0] % 33 : 0, imgsize;
	struct input in = { data, size };

	if (size < 1 + 8 * k)
		return 0;
	memcpy(entries, data + 1, 8 * k);
	at += 8 * k;
	for (size_t i = 0; i < NSEC && at + 4 <= size; i++) {
		uint32_t n;
		memcpy(&n, data + at, 4);
		at += 4;
		len[i] = n < size - at ? n : size - at;
		sec[i] = data + at;
		at += len[i];
	}
	uint8_t *img = wrap(sec, len, &imgsize);
	struct elf_image im;
	char err[128], val[256];
	struct dwarf_args *ix;
	if (elf_open(&im, img, imgsize, err, sizeof(err)) == 0) {
		uint32_t frames[32];
		for (size_t i = 0; i < k; i++)
			frames[i] = (uint32_t)(entries[i] >> 3) & 0xff; /* now and then right */
		if (dwarf_args_index(&im, entries, data[0] & 0x80 ? frames : NULL, k, &ix) == 0) {
			for (size_t i = 0; i < k; i++) {
				const struct dwarf_func_sig *s;
				if (dwarf_func_args(ix, entries[i], &s) != 0)
					continue;
				for (size_t j = 0; j < s->nparams; j++)
					dwarf_arg_format(&s->param[j], regs, read_input, &in, val, sizeof(val));
			}
			dwarf_args_free(ix);
		}
		elf_close(&im);
	}
	free(img);
	return 0;
}

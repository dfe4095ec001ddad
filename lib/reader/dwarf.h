/* dwarf: reads the byte offset of a struct member from the DWARF of an ELF image.
 *
 * Owns the DWARF side of "where is g.goid in this binary": locating .debug_info
 * and its companions (.debug_abbrev, .debug_str, .debug_line_str,
 * .debug_str_offsets), inflating them when the linker compressed them
 * (SHF_COMPRESSED zlib sections, or the older .zdebug_* "ZLIB" sections), and
 * walking DIEs of DWARF versions 2 to 5. Go 1.19–1.24 emit version 4; Go 1.25
 * made version 5 the default on Linux (internal/buildcfg/exp.go, Dwarf5), as
 * 1.26 and 1.27 show. A cgo binary also holds the C compiler's units, in
 * whatever version that compiler emits (gcc 12: 5).
 *
 * Every byte is untrusted (the functions are fuzzed): malformed input gives an
 * error, never an out-of-bounds read, an endless loop, output or an abort.
 * Nothing is cached between calls: every call inflates what it needs and frees it.
 * Used by goff.c; the version table there is the fallback for stripped binaries.
 * Function signatures and their registers are dwarf_args.h, on the same reader. */
#ifndef GOLAT_DWARF_H
#define GOLAT_DWARF_H

#include <stdbool.h>
#include <stdint.h>

#include "elfimg.h" /* struct elf_image, elf_section(), elf_section_data(), elf_u32/u64 */

/* true when the image has a .debug_info (or .zdebug_info) section with bytes in
 * the file. It says nothing about whether that DWARF is readable. */
bool dwarf_present(const struct elf_image *im);

/* Byte offset of member `member` of the struct type named `type` (e.g. "runtime.g",
 * "goid") in the image's DWARF. `member` may be a dotted path through nested
 * struct members ("stack.hi" of runtime.g is runtime.stack's hi at g's stack);
 * typedefs and qualifiers on the way are followed, pointers are not.
 * The first defining DW_TAG_structure_type with that DW_AT_name is used.
 * Returns 0 with *off set;
 *   -ENOENT     no DWARF, or no such type or member;
 *   -EINVAL     the DWARF is malformed (or a member location is an expression
 *               other than a constant or DW_OP_plus_uconst / DW_OP_constu);
 *   -EOPNOTSUPP a section is compressed with something other than zlib (zstd);
 *   -ENOMEM     out of memory, or a section would inflate to more than 1 GiB. */
int dwarf_member_offset(const struct elf_image *im, const char *type, const char *member,
			uint64_t *off);

#endif

/* dwarf: struct member offsets from .debug_info (see dwarf.h for the contract).
 *
 * The search is one linear walk over the DIEs of every unit until the named
 * struct turns up, then a walk over that struct's children. Go writes no
 * DW_AT_sibling, so the walk is kept tight: an abbreviation whose attributes all
 * have fixed sizes is skipped in one step, and only DIEs that can match (structs,
 * members, typedefs on a dotted path) have their attributes decoded. Inflating
 * costs about as much as walking, so a compressed .debug_info is inflated only as
 * far as the walk goes. A full search of the 8 MB .debug_info of Go 1.27's
 * cmd/compile takes ~40 ms of CPU; finding runtime.g there, ~9 ms.
 *
 * This file is the search. The sections and their inflating are dwarf_sect.c, the
 * unit and DIE reader is dwarf_die.c, and what they share is dwarf_int.h, which also
 * says why no read can overrun. */
#include "dwarf_int.h"

#include <errno.h>
#include <string.h>

/* Longest typedef/qualifier chain followed from a member to its struct. */
#define DWARF_MAX_TYPE_HOPS 16

/* Walks the DIEs of one unit for a defining DW_TAG_structure_type named type.
 * Depth is not tracked: Go puts its types at the top level of a unit, C may nest
 * them, and a struct is a match wherever it is. */
static int dwarf_cu_scan(struct dwarf_ctx *c, struct dwarf_cu *cu, const char *type,
			 uint64_t *die)
{
	struct dwarf_rd r = dwarf_info_at(c, cu->die, cu->end);
	const struct dwarf_abbrev *ab;
	struct dwarf_die d;
	int err;

	while (r.p < r.end) {
		const uint8_t *start = r.p;
		if ((err = dwarf_die_head(c, &r, &ab)))
			return err;
		if (!ab)
			continue;
		if (ab->tag != DW_TAG_structure_type || !ab->children) {
			dwarf_die_skip(c, cu, &r, ab);
			continue;
		}
		if ((err = dwarf_die_attrs(c, cu, &r, ab, &d)))
			return err;
		if (d.name && !d.decl && strcmp(d.name, type) == 0) {
			*die = (uint64_t)(start - c->info.p);
			return 0;
		}
	}
	return r.bad ? -EINVAL : -ENOENT;
}

/* Finds the first defining struct named type in .debug_info; enters its unit. */
static int dwarf_find_struct(struct dwarf_ctx *c, const char *type, struct dwarf_cu *cu,
			     uint64_t *die)
{
	for (uint64_t at = 0; at < c->info.len; at = cu->end) {
		int err = dwarf_cu_header(c, at, cu);
		if (err)
			return err;
		if (!cu->version)
			continue;
		if ((err = dwarf_cu_enter(c, cu)))
			return err;
		if ((err = dwarf_cu_scan(c, cu, type, die)) != -ENOENT)
			return err;
	}
	return -ENOENT;
}

/* Finds the direct child DW_TAG_member named name[0, len) of the struct (or
 * union) DIE at die, in the entered unit cu. */
static int dwarf_member(struct dwarf_ctx *c, struct dwarf_cu *cu, uint64_t die,
			const char *name, size_t len, struct dwarf_die *m)
{
	struct dwarf_rd r = dwarf_info_at(c, die, cu->end);
	const struct dwarf_abbrev *ab;
	int err = dwarf_die_head(c, &r, &ab);

	if (err || !ab)
		return -EINVAL;
	bool in_union = ab->tag == DW_TAG_union_type;
	dwarf_die_skip(c, cu, &r, ab);
	for (size_t depth = ab->children; depth > 0; depth += ab && ab->children) {
		if ((err = dwarf_die_head(c, &r, &ab)))
			return err;
		if (!ab) {
			depth--;
			continue;
		}
		if (depth > 1 || ab->tag != DW_TAG_member) {
			dwarf_die_skip(c, cu, &r, ab);
			continue;
		}
		if ((err = dwarf_die_attrs(c, cu, &r, ab, m)))
			return err;
		if (m->name && strncmp(m->name, name, len) == 0 && m->name[len] == 0) {
			if (in_union && m->loc_state == 0) /* union members may omit it: 0 */
				m->loc_state = 1;
			return m->loc_state == 1 ? 0 : -EINVAL;
		}
	}
	return r.bad ? -EINVAL : -ENOENT;
}

/* From the type DIE at *die, follows typedefs and qualifiers to a struct, union
 * or class DIE (Go's members name a typedef of the struct: *runtime.g points to
 * typedef runtime.g, which names struct runtime.g). Pointers are not followed. */
static int dwarf_struct_of(struct dwarf_ctx *c, struct dwarf_cu *cu, uint64_t *die)
{
	for (int hop = 0; hop < DWARF_MAX_TYPE_HOPS; hop++) {
		const struct dwarf_abbrev *ab;
		struct dwarf_die d;
		int err = dwarf_cu_find(c, *die, cu);
		if (err)
			return err;
		struct dwarf_rd r = dwarf_info_at(c, *die, cu->end);
		if ((err = dwarf_die_head(c, &r, &ab)))
			return err;
		switch (ab ? ab->tag : 0) {
		case DW_TAG_structure_type: case DW_TAG_union_type: case DW_TAG_class_type:
			return 0;
		case DW_TAG_typedef: case DW_TAG_const_type: case DW_TAG_volatile_type:
		case DW_TAG_restrict_type: case DW_TAG_atomic_type: case DW_TAG_packed_type:
			if ((err = dwarf_die_attrs(c, cu, &r, ab, &d)))
				return err;
			*die = d.type;
			break;
		default:
			return -ENOENT;
		}
	}
	return -ENOENT;
}

/* Sums the member offsets along the dotted path member, from struct type. */
static int dwarf_path(struct dwarf_ctx *c, const char *type, const char *member, uint64_t *off)
{
	struct dwarf_cu cu = { 0 };
	uint64_t die = 0, sum = 0;
	int err = dwarf_find_struct(c, type, &cu, &die);

	for (const char *p = member; !err; p++) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		struct dwarf_die m;
		if ((err = dwarf_member(c, &cu, die, p, len, &m)))
			break;
		sum += m.loc;
		if (!dot) {
			*off = sum;
			return 0;
		}
		die = m.type;
		err = dwarf_struct_of(c, &cu, &die);
		p = dot;
	}
	return err;
}

int dwarf_member_offset(const struct elf_image *im, const char *type, const char *member,
			uint64_t *off)
{
	struct dwarf_ctx c = { 0 };

	if (!im || !type || !member || !off)
		return -EINVAL;
	int err = dwarf_ctx_open(&c, im);
	if (!err)
		err = dwarf_path(&c, type, member, off);
	dwarf_ctx_close(&c);
	return err;
}

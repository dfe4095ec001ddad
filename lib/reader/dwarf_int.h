/* dwarf_int: what the parts of the DWARF reader share; private to lib/reader/dwarf*.c.
 *
 *   dwarf_sect.c  the sections of one lookup: found by name, inflated when compressed
 *                 (SHF_COMPRESSED or .zdebug_*; .debug_info only as far as the walk
 *                 goes), freed at the end
 *   dwarf_die.c   the unit and DIE reader: unit headers, abbreviation tables,
 *                 attribute forms, the few attributes a search looks at, the table of
 *                 units for lookups by offset
 *   dwarf.c       the search: a struct by name, then a dotted member path (dwarf.h)
 *   dwarf_args.c  the index of function signatures: one walk for many functions
 *                 (dwarf_args.h)
 *   dwarf_abi.c   Go types and where the register ABI puts a value of one
 *   dwarf_fmt.c   a parameter's value as text, from the registers
 *
 * Safety rests on three things. Every read goes through struct dwarf_rd, which
 * checks it against the end of the unit and turns an overrun into a sticky error.
 * Every loop consumes at least one byte per turn (DIEs, abbreviations, units,
 * LEB128) or is bounded by a constant (typedef chains, DW_FORM_indirect). And the
 * work no single pass bounds is budgeted: bytes inflated, abbreviation bytes
 * re-parsed, table sizes. */
#ifndef GOLAT_DWARF_INT_H
#define GOLAT_DWARF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "dwarf.h"
#include "dwarf_args.h"

enum {
	DW_TAG_class_type = 0x02, DW_TAG_member = 0x0d, DW_TAG_structure_type = 0x13,
	DW_TAG_typedef = 0x16, DW_TAG_union_type = 0x17, DW_TAG_const_type = 0x26,
	DW_TAG_packed_type = 0x2d, DW_TAG_volatile_type = 0x35, DW_TAG_restrict_type = 0x37,
	DW_TAG_atomic_type = 0x47, DW_TAG_array_type = 0x01, DW_TAG_formal_parameter = 0x05,
	DW_TAG_pointer_type = 0x0f, DW_TAG_subroutine_type = 0x15, DW_TAG_base_type = 0x24,
	DW_TAG_subrange_type = 0x21, DW_TAG_subprogram = 0x2e, DW_TAG_compile_unit = 0x11,

	DW_AT_name = 0x03, DW_AT_data_member_location = 0x38, DW_AT_declaration = 0x3c,
	DW_AT_type = 0x49, DW_AT_str_offsets_base = 0x72, DW_AT_byte_size = 0x0b,
	DW_AT_low_pc = 0x11, DW_AT_upper_bound = 0x2f, DW_AT_abstract_origin = 0x31,
	DW_AT_count = 0x37, DW_AT_encoding = 0x3e, DW_AT_variable_parameter = 0x4b,
	DW_AT_trampoline = 0x56, DW_AT_addr_base = 0x73, DW_AT_producer = 0x25,
	DW_AT_go_kind = 0x2900, /* Go's reflect.Kind of a type: cmd/internal/dwarf/dwarf.go */

	DW_ATE_boolean = 0x02, DW_ATE_complex_float = 0x03, DW_ATE_float = 0x04,
	DW_ATE_signed = 0x05, DW_ATE_signed_char = 0x06, DW_ATE_unsigned = 0x07,
	DW_ATE_unsigned_char = 0x08,

	DW_FORM_addr = 0x01, DW_FORM_block2 = 0x03, DW_FORM_block4, DW_FORM_data2,
	DW_FORM_data4, DW_FORM_data8, DW_FORM_string, DW_FORM_block, DW_FORM_block1,
	DW_FORM_data1, DW_FORM_flag, DW_FORM_sdata, DW_FORM_strp, DW_FORM_udata,
	DW_FORM_ref_addr, DW_FORM_ref1, DW_FORM_ref2, DW_FORM_ref4, DW_FORM_ref8,
	DW_FORM_ref_udata, DW_FORM_indirect, DW_FORM_sec_offset, DW_FORM_exprloc,
	DW_FORM_flag_present, DW_FORM_strx, DW_FORM_addrx, DW_FORM_ref_sup4,
	DW_FORM_strp_sup, DW_FORM_data16, DW_FORM_line_strp, DW_FORM_ref_sig8,
	DW_FORM_implicit_const, DW_FORM_loclistx, DW_FORM_rnglistx, DW_FORM_ref_sup8,
	DW_FORM_strx1, DW_FORM_strx2, DW_FORM_strx3, DW_FORM_strx4, DW_FORM_addrx1,
	DW_FORM_addrx2, DW_FORM_addrx3, DW_FORM_addrx4, /* = 0x2c */
	DW_FORM_GNU_addr_index = 0x1f01, DW_FORM_GNU_str_index, DW_FORM_GNU_ref_alt = 0x1f20,
	DW_FORM_GNU_strp_alt,

	DW_OP_constu = 0x10, DW_OP_plus_uconst = 0x23,
	DW_UT_type = 0x02, DW_UT_skeleton = 0x04, DW_UT_split_compile, DW_UT_split_type,
};

#define DWARF_NO_REF UINT64_MAX /* a reference we cannot follow */

struct dwarf_sec {
	const uint8_t *p;
	size_t len;
	void *owned; /* the inflated copy, or NULL when p points into the image */
};

struct dwarf_attr {
	uint32_t name;    /* 0 when out of range: then it matches nothing */
	uint16_t form;
	int16_t size;     /* dwarf_form_size() in the units this table was loaded for */
	int64_t implicit; /* the value of a DW_FORM_implicit_const */
};

struct dwarf_abbrev {
	uint64_t code;
	uint32_t tag;
	bool children;
	int64_t fixed;      /* byte size of all attributes when none varies, else -1 */
	size_t attr, nattr; /* slice of dwarf_abbrevs.at */
};

/* The last abbreviation table parsed. Go's units all share one table, so keeping
 * it avoids re-parsing per unit. Fixed sizes depend on the unit's address size,
 * offset size and version, which are part of the key. */
struct dwarf_abbrevs {
	bool valid;
	uint64_t off;
	uint16_t version;
	uint8_t addr_size, off_size;
	struct dwarf_abbrev *a; /* sorted by code */
	size_t n, cap;
	struct dwarf_attr *at;
	size_t nat, atcap;
};

struct dwarf_cu {
	uint64_t start, die, end; /* .debug_info offsets: header, first DIE, past the unit */
	uint64_t abbrev_off, str_base;
	uint64_t addr_base; /* DWARF 5 DW_AT_addr_base: where its addrx indexes count from */
	uint16_t version; /* 0: a unit of a version we do not read; skipped */
	uint8_t addr_size, off_size;
};

struct dwarf_ctx {
	union { /* by name, or as an array in dwarf_ctx_open's order */
		struct {
			struct dwarf_sec info, abbrev, str, line_str, str_offsets, addr;
		};
		struct dwarf_sec sec[6];
	};
	struct dwarf_abbrevs ab;
	uint64_t inflate_left; /* of DWARF_MAX_INFLATE */
	uint64_t abbrev_left;  /* abbreviation bytes we may still parse */
	z_stream zinfo;        /* a compressed .debug_info is inflated as the walk needs it */
	bool zinfo_open;
	/* Every unit read, entered (bases known), in .debug_info order, for lookups by
	 * offset once units_done: a walk of all of them fills it (dwarf_cu_remember). */
	struct dwarf_cu *units;
	size_t nunits, unitcap;
	bool units_done;
};

/* A bounded cursor. A read past end sets bad, moves p to end and yields 0, so a
 * caller may read several fields and check once. */
struct dwarf_rd {
	const uint8_t *p, *end;
	bool bad;
};

/* What a DIE's interesting attributes say. */
struct dwarf_die {
	const char *name;
	uint64_t type; /* absolute .debug_info offset, or DWARF_NO_REF */
	uint64_t loc;
	int loc_state; /* 0 absent, 1 loc valid, -1 present but not a constant we read */
	bool decl;
	/* for dwarf_args*.c: functions, their parameters and the types of those */
	bool has_low_pc, var_param, trampoline, has_size, has_count;
	uint8_t encoding, go_kind; /* 0 when absent */
	uint64_t low_pc;
	const char *producer; /* of a unit: "Go cmd/compile go1.27.3; regabi" */
	uint64_t origin; /* DW_AT_abstract_origin, absolute, or DWARF_NO_REF */
	uint64_t size, count; /* byte size; an array's element count (upper bound + 1) */
};

/* One attribute value: integers, offsets, references and indexes in u; strings
 * (without their NUL), blocks and exprlocs as [blk, blk + len). */
struct dwarf_val {
	uint64_t u;
	const uint8_t *blk;
	uint64_t len;
};

/* ---- the bounded cursor ---------------------------------------------------- */

static inline bool dwarf_need(struct dwarf_rd *r, uint64_t n)
{
	if (r->bad || n > (uint64_t)(r->end - r->p)) {
		r->bad = true;
		r->p = r->end;
		return false;
	}
	return true;
}

static inline void dwarf_skip(struct dwarf_rd *r, uint64_t n)
{
	if (dwarf_need(r, n))
		r->p += n;
}

static inline uint64_t dwarf_uint(struct dwarf_rd *r, unsigned n) /* n <= 8, little-endian */
{
	uint64_t v = 0;

	if (!dwarf_need(r, n))
		return 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	return v;
}

static inline uint64_t dwarf_leb(struct dwarf_rd *r, bool sign)
{
	uint64_t v = 0;
	unsigned shift = 0;

	if (r->p < r->end && *r->p < 0x40) /* most values: one byte, positive either way */
		return *r->p++;
	while (r->p < r->end) {
		uint8_t b = *r->p++;
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
		if (!(b & 0x80)) {
			if (sign && shift < 64 && (b & 0x40))
				v |= ~0ull << shift;
			return v;
		}
	}
	r->bad = true;
	return 0;
}

static inline struct dwarf_rd dwarf_rd_at(const struct dwarf_sec *s, uint64_t from, uint64_t to)
{
	if (from > to || to > s->len || !s->p) /* an absent section has p NULL */
		return (struct dwarf_rd){ .bad = true };
	return (struct dwarf_rd){ s->p + from, s->p + to, false };
}

/* ---- dwarf_sect.c ------------------------------------------------------------ */

/* Loads (inflating if need be) the sections of one lookup into c, which starts zeroed.
 * On error, dwarf_ctx_close still frees what was loaded. */
int dwarf_ctx_open(struct dwarf_ctx *c, const struct elf_image *im);
/* Frees what c holds: inflated sections, the open .debug_info stream, and the
 * abbreviation table dwarf_die.c grew in it. */
void dwarf_ctx_close(struct dwarf_ctx *c);
/* A cursor on .debug_info [from, to), inflated that far first when compressed. */
struct dwarf_rd dwarf_info_at(struct dwarf_ctx *c, uint64_t from, uint64_t to);

/* ---- dwarf_die.c -------------------------------------------------------------- */

/* Reads the header of the unit at .debug_info offset off; version 0: not one we read. */
int dwarf_cu_header(struct dwarf_ctx *c, uint64_t off, struct dwarf_cu *cu);
/* Makes cu the unit being read (abbreviations, DWARF 5 str_offsets_base). */
int dwarf_cu_enter(struct dwarf_ctx *c, struct dwarf_cu *cu);
/* Finds and enters the unit holding .debug_info offset off (by binary search once
 * c->units_done). */
int dwarf_cu_find(struct dwarf_ctx *c, uint64_t off, struct dwarf_cu *cu);
/* Adds the entered unit cu to c->units; the caller walks them in order and then sets
 * c->units_done. */
int dwarf_cu_remember(struct dwarf_ctx *c, const struct dwarf_cu *cu);
/* Reads the DIE at .debug_info offset off: its unit entered into *cu, its
 * abbreviation, its attributes, and r left on its first child. */
int dwarf_die_at(struct dwarf_ctx *c, uint64_t off, struct dwarf_cu *cu, struct dwarf_rd *r,
		 const struct dwarf_abbrev **ab, struct dwarf_die *d);
/* Makes room for element n of *arr (of *cap elements of size elem), up to max. */
int dwarf_grow(void **arr, size_t *cap, size_t n, size_t elem, size_t max);
/* Reads a DIE's abbreviation code: *ab, or NULL for a null entry. */
int dwarf_die_head(const struct dwarf_ctx *c, struct dwarf_rd *r,
		   const struct dwarf_abbrev **ab);
/* Decodes the attributes struct dwarf_die holds, of the DIE just headed. */
int dwarf_die_attrs(const struct dwarf_ctx *c, struct dwarf_cu *cu, struct dwarf_rd *r,
		    const struct dwarf_abbrev *ab, struct dwarf_die *d);
/* Steps over the attributes of the DIE just headed. */
void dwarf_die_skip(const struct dwarf_ctx *c, const struct dwarf_cu *cu, struct dwarf_rd *r,
		    const struct dwarf_abbrev *ab);

/* ---- dwarf_abi.c: Go types and their register assignment ----------------------- */

/* Every argument register of the architecture with the most (arm64's 16 + 16). */
#define DWARF_MAX_LEAVES (DWARF_ARM64_INT_REGS + DWARF_ARM64_FLOAT_REGS)

/* What the register ABI needs of a type: its register-sized leaves, in order. */
struct dwarf_tinfo {
	uint64_t off;      /* .debug_info offset of the type DIE */
	const char *name;  /* into the DWARF; NULL when no DIE on the way had one */
	uint64_t size;
	uint8_t kind;      /* enum dwarf_kind */
	uint8_t state;     /* DWARF_WHERE_REGS (leaves valid), _STACK (never in registers),
			    * _UNKNOWN (unreadable) */
	uint8_t nleaf;
	uint8_t align;     /* bytes, as types.CalcSize computes it */
	struct dwarf_part leaf[DWARF_MAX_LEAVES]; /* reg unused */
};

/* The types read so far, by DIE offset: parameters share few types. */
struct dwarf_types {
	struct dwarf_tinfo *t;
	size_t n, cap;
	uint32_t *slot; /* open addressing: index into t plus one, 0 empty */
	size_t nslot;
};

/* The type at .debug_info offset off (DWARF_NO_REF: an unknown type). Returns 0 with
 * *ti (valid until the next call), or -ENOMEM; malformed types give state UNKNOWN. */
int dwarf_type_info(struct dwarf_ctx *c, struct dwarf_types *tt, uint64_t off,
		    const struct dwarf_tinfo **ti);
void dwarf_types_free(struct dwarf_types *tt);

/* Register assignment of one function's parameters then results (abiutils.go). */
struct dwarf_abi {
	/* The architecture's argument registers: how many, and the dwarf_reg_names
	 * number of the first, integer and float. */
	uint8_t nint, nfloat, int0, float0;
	unsigned ints, floats; /* registers used by the parameters assigned so far */
	bool results, unknown;
};
/* The state before a function's first parameter, for im's architecture. */
struct dwarf_abi dwarf_abi_start(const struct elf_image *im);
/* Assigns p, whose type is ti, writing its parts to parts (DWARF_MAX_LEAVES room);
 * returns how many. Sets p->where. */
uint8_t dwarf_abi_assign(struct dwarf_abi *st, struct dwarf_param *p, const struct dwarf_tinfo *ti,
			 struct dwarf_part *parts);

#endif

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
 * Safety rests on three things. Every read goes through struct dwarf_rd, which
 * checks it against the end of the unit and turns an overrun into a sticky error.
 * Every loop consumes at least one byte per turn (DIEs, abbreviations, units,
 * LEB128) or is bounded by a constant (typedef chains, DW_FORM_indirect). And the
 * work no single pass bounds is budgeted: bytes inflated, abbreviation bytes
 * re-parsed, table sizes. */
#include "dwarf.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

enum {
	DW_TAG_class_type = 0x02, DW_TAG_member = 0x0d, DW_TAG_structure_type = 0x13,
	DW_TAG_typedef = 0x16, DW_TAG_union_type = 0x17, DW_TAG_const_type = 0x26,
	DW_TAG_packed_type = 0x2d, DW_TAG_volatile_type = 0x35, DW_TAG_restrict_type = 0x37,
	DW_TAG_atomic_type = 0x47,

	DW_AT_name = 0x03, DW_AT_data_member_location = 0x38, DW_AT_declaration = 0x3c,
	DW_AT_type = 0x49, DW_AT_str_offsets_base = 0x72,

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

/* All sections of one lookup may inflate to this much together: Go's largest
 * binaries carry a few hundred MB of DWARF. */
#define DWARF_MAX_INFLATE (1ull << 30)
/* zlib cannot expand data more than ~1032:1; a header claiming more is lying, and
 * believing it would let a few fuzzed bytes allocate a gigabyte. */
#define DWARF_ZLIB_MAX_RATIO 1032
/* Real tables hold tens to a few thousand abbreviations (gcc, clang, Go: ~50). */
#define DWARF_MAX_ABBREVS (1u << 16)
#define DWARF_MAX_ATTRS (1u << 20)
/* Longest typedef/qualifier chain followed from a member to its struct. */
#define DWARF_MAX_TYPE_HOPS 16
#define DWARF_NO_REF UINT64_MAX
/* The longest unit header: 64-bit DWARF 5 type unit. */
#define DWARF_MAX_CU_HEADER 40
/* A compressed .debug_info is inflated at least this much further at a time. */
#define DWARF_INFLATE_STEP (1u << 20)

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
	uint16_t version; /* 0: a unit of a version we do not read; skipped */
	uint8_t addr_size, off_size;
};

struct dwarf_ctx {
	union { /* by name, or as an array in dwarf_ctx_open's order */
		struct {
			struct dwarf_sec info, abbrev, str, line_str, str_offsets;
		};
		struct dwarf_sec sec[5];
	};
	struct dwarf_abbrevs ab;
	uint64_t inflate_left; /* of DWARF_MAX_INFLATE */
	uint64_t abbrev_left;  /* abbreviation bytes we may still parse */
	z_stream zinfo;        /* a compressed .debug_info is inflated as the walk needs it */
	bool zinfo_open;
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
};

/* One attribute value: integers, offsets, references and indexes in u; strings
 * (without their NUL), blocks and exprlocs as [blk, blk + len). */
struct dwarf_val {
	uint64_t u;
	const uint8_t *blk;
	uint64_t len;
};

static bool dwarf_need(struct dwarf_rd *r, uint64_t n)
{
	if (r->bad || n > (uint64_t)(r->end - r->p)) {
		r->bad = true;
		r->p = r->end;
		return false;
	}
	return true;
}

static void dwarf_skip(struct dwarf_rd *r, uint64_t n)
{
	if (dwarf_need(r, n))
		r->p += n;
}

static uint64_t dwarf_uint(struct dwarf_rd *r, unsigned n) /* n <= 8, little-endian */
{
	uint64_t v = 0;

	if (!dwarf_need(r, n))
		return 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += n;
	return v;
}

static uint64_t dwarf_leb(struct dwarf_rd *r, bool sign)
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

static struct dwarf_rd dwarf_rd_at(const struct dwarf_sec *s, uint64_t from, uint64_t to)
{
	if (from > to || to > s->len || !s->p) /* an absent section has p NULL */
		return (struct dwarf_rd){ .bad = true };
	return (struct dwarf_rd){ s->p + from, s->p + to, false };
}

/* Inflates into s until its first upto bytes are there (or the stream fails). */
static bool dwarf_zrun(z_stream *zs, const struct dwarf_sec *s, uint64_t upto)
{
	int ret = Z_OK;

	while (zs->total_out < upto && ret == Z_OK) {
		uint64_t left = s->len - zs->total_out, step = upto - zs->total_out;
		if (step < DWARF_INFLATE_STEP)
			step = DWARF_INFLATE_STEP;
		zs->next_out = (Bytef *)s->owned + zs->total_out;
		zs->avail_out = (uInt)(step < left ? step : left);
		ret = inflate(zs, Z_NO_FLUSH);
	}
	return zs->total_out >= upto;
}

/* A reader on .debug_info [from, to), inflating it that far first if needed:
 * runtime.g lies 9% to 52% of the way into the Go binaries measured (it follows
 * the link order of packages), so a lookup seldom needs all of it. */
static struct dwarf_rd dwarf_info_at(struct dwarf_ctx *c, uint64_t from, uint64_t to)
{
	if (c->zinfo_open && to <= c->info.len && !dwarf_zrun(&c->zinfo, &c->info, to))
		return (struct dwarf_rd){ .bad = true };
	return dwarf_rd_at(&c->info, from, to);
}

/* Byte size of a form in this unit, -1 when it varies per value, -2 when unknown. */
static int dwarf_form_size(uint32_t form, const struct dwarf_cu *cu)
{
	switch (form) {
	case DW_FORM_flag_present: case DW_FORM_implicit_const:
		return 0;
	case DW_FORM_data1: case DW_FORM_ref1: case DW_FORM_flag: case DW_FORM_strx1:
	case DW_FORM_addrx1:
		return 1;
	case DW_FORM_data2: case DW_FORM_ref2: case DW_FORM_strx2: case DW_FORM_addrx2:
		return 2;
	case DW_FORM_strx3: case DW_FORM_addrx3:
		return 3;
	case DW_FORM_data4: case DW_FORM_ref4: case DW_FORM_ref_sup4: case DW_FORM_strx4:
	case DW_FORM_addrx4:
		return 4;
	case DW_FORM_data8: case DW_FORM_ref8: case DW_FORM_ref_sig8: case DW_FORM_ref_sup8:
		return 8;
	case DW_FORM_data16:
		return 16;
	case DW_FORM_addr:
		return cu->addr_size;
	case DW_FORM_ref_addr: /* an address in DWARF 2, an offset since 3 */
		return cu->version <= 2 ? cu->addr_size : cu->off_size;
	case DW_FORM_strp: case DW_FORM_sec_offset: case DW_FORM_line_strp:
	case DW_FORM_strp_sup: case DW_FORM_GNU_ref_alt: case DW_FORM_GNU_strp_alt:
		return cu->off_size;
	case DW_FORM_string: case DW_FORM_block: case DW_FORM_block1: case DW_FORM_block2:
	case DW_FORM_block4: case DW_FORM_exprloc: case DW_FORM_sdata: case DW_FORM_udata:
	case DW_FORM_ref_udata: case DW_FORM_indirect: case DW_FORM_strx: case DW_FORM_addrx:
	case DW_FORM_loclistx: case DW_FORM_rnglistx: case DW_FORM_GNU_addr_index:
	case DW_FORM_GNU_str_index:
		return -1;
	default:
		return -2;
	}
}

/* Reads (or, ignoring the result, skips) one attribute value. The variable-size
 * forms come first: they are what a DIE walk spends its time on. */
static void dwarf_form(struct dwarf_rd *r, const struct dwarf_cu *cu, uint32_t form,
		       int64_t implicit, struct dwarf_val *v)
{
	const uint8_t *nul;
	uint64_t len;
	int n;

	/* DW_FORM_indirect names the real form in the data; one level is all DWARF
	 * producers use, a few are tolerated, a chain is malformed. */
	for (int hops = 0; form == DW_FORM_indirect; hops++) {
		uint64_t f = dwarf_leb(r, false);
		form = hops < 4 && f <= UINT16_MAX && f != DW_FORM_implicit_const ? (uint32_t)f : 0;
	}
	*v = (struct dwarf_val){ 0 };
	switch (form) {
	case DW_FORM_string:
		nul = r->bad ? NULL : memchr(r->p, 0, (size_t)(r->end - r->p));
		if (!nul) {
			dwarf_need(r, UINT64_MAX);
			return;
		}
		v->blk = r->p;
		v->len = (uint64_t)(nul - r->p);
		r->p = nul + 1;
		return;
	case DW_FORM_sdata:
		v->u = dwarf_leb(r, true);
		return;
	case DW_FORM_udata: case DW_FORM_ref_udata: case DW_FORM_strx: case DW_FORM_addrx:
	case DW_FORM_loclistx: case DW_FORM_rnglistx: case DW_FORM_GNU_addr_index:
	case DW_FORM_GNU_str_index:
		v->u = dwarf_leb(r, false);
		return;
	case DW_FORM_implicit_const:
		v->u = (uint64_t)implicit;
		return;
	case DW_FORM_flag_present:
		v->u = 1;
		return;
	case DW_FORM_block1: len = dwarf_uint(r, 1); break;
	case DW_FORM_block2: len = dwarf_uint(r, 2); break;
	case DW_FORM_block4: len = dwarf_uint(r, 4); break;
	case DW_FORM_block: case DW_FORM_exprloc: len = dwarf_leb(r, false); break;
	default:
		n = dwarf_form_size(form, cu);
		if (n < 0) /* unknown */
			dwarf_need(r, UINT64_MAX);
		else if (n <= 8)
			v->u = dwarf_uint(r, (unsigned)n);
		else
			dwarf_skip(r, (uint64_t)n);
		return;
	}
	if (dwarf_need(r, len)) {
		v->blk = r->p;
		v->len = len;
		r->p += len;
	}
}

/* Makes room for element n of *arr, up to max elements. */
static int dwarf_grow(void **arr, size_t *cap, size_t n, size_t elem, size_t max)
{
	if (n < *cap)
		return 0;
	if (n >= max)
		return -EINVAL;
	size_t ncap = *cap ? *cap * 2 : 64;
	void *p = reallocarray(*arr, ncap, elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* Parses one abbreviation's attribute specifications, up to the (0, 0) pair. */
static int dwarf_abbrev_attrs(struct dwarf_rd *r, struct dwarf_abbrevs *t,
			      struct dwarf_abbrev *a, const struct dwarf_cu *cu)
{
	a->attr = t->nat;
	a->fixed = 0;
	for (;;) {
		uint64_t name = dwarf_leb(r, false), form = dwarf_leb(r, false);
		if (r->bad)
			return -EINVAL;
		if (name == 0 && form == 0)
			break;
		int size = dwarf_form_size(form <= UINT16_MAX ? (uint32_t)form : 0, cu);
		int err = size == -2 ? -EINVAL :
			  dwarf_grow((void **)&t->at, &t->atcap, t->nat, sizeof(*t->at), DWARF_MAX_ATTRS);
		if (err)
			return err;
		t->at[t->nat++] = (struct dwarf_attr){
			.name = name <= UINT32_MAX ? (uint32_t)name : 0,
			.form = (uint16_t)form,
			.size = (int16_t)size,
			.implicit = form == DW_FORM_implicit_const ? (int64_t)dwarf_leb(r, true) : 0,
		};
		a->fixed = size < 0 || a->fixed < 0 ? -1 : a->fixed + size;
	}
	a->nattr = t->nat - a->attr;
	return 0;
}

static int dwarf_abbrev_cmp(const void *x, const void *y)
{
	const struct dwarf_abbrev *a = x, *b = y;
	return a->code < b->code ? -1 : a->code > b->code;
}

/* Loads the abbreviation table of cu into c->ab, unless it is already there.
 * Units may take turns between tables; c->abbrev_left keeps a hostile file from
 * making every unit re-parse a large one. */
static int dwarf_abbrevs_load(struct dwarf_ctx *c, const struct dwarf_cu *cu)
{
	struct dwarf_abbrevs *t = &c->ab;
	bool sorted = true;

	if (t->valid && t->off == cu->abbrev_off && t->version == cu->version &&
	    t->addr_size == cu->addr_size && t->off_size == cu->off_size)
		return 0;
	*t = (struct dwarf_abbrevs){ .a = t->a, .cap = t->cap, .at = t->at, .atcap = t->atcap };
	struct dwarf_rd r = dwarf_rd_at(&c->abbrev, cu->abbrev_off, c->abbrev.len);
	for (uint64_t code; (code = dwarf_leb(&r, false)) != 0 || r.bad;) {
		int err = r.bad ? -EINVAL : dwarf_grow((void **)&t->a, &t->cap, t->n, sizeof(*t->a),
						       DWARF_MAX_ABBREVS);
		if (err)
			return err;
		struct dwarf_abbrev *a = &t->a[t->n];
		uint64_t tag = dwarf_leb(&r, false);
		a->code = code;
		a->tag = tag <= UINT32_MAX ? (uint32_t)tag : 0;
		a->children = dwarf_uint(&r, 1) != 0;
		if ((err = dwarf_abbrev_attrs(&r, t, a, cu)))
			return err;
		sorted = sorted && (t->n == 0 || t->a[t->n - 1].code < code);
		t->n++;
	}
	uint64_t used = (uint64_t)(r.p - c->abbrev.p) - cu->abbrev_off;
	if (used > c->abbrev_left)
		return -EINVAL;
	c->abbrev_left -= used;
	if (!sorted)
		qsort(t->a, t->n, sizeof(*t->a), dwarf_abbrev_cmp);
	t->valid = true;
	t->off = cu->abbrev_off;
	t->version = cu->version;
	t->addr_size = cu->addr_size;
	t->off_size = cu->off_size;
	return 0;
}

static const struct dwarf_abbrev *dwarf_abbrev_find(const struct dwarf_abbrevs *t, uint64_t code)
{
	/* Producers number abbreviations 1, 2, 3...: try the direct slot first. */
	if (code - 1 < t->n && t->a[code - 1].code == code)
		return &t->a[code - 1];
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->a[mid].code == code)
			return &t->a[mid];
		if (t->a[mid].code < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Reads the header of the unit at .debug_info offset off (DWARF 5: 7.5.1;
 * DWARF 2-4 put the abbreviation offset before the address size). */
static int dwarf_cu_header(struct dwarf_ctx *c, uint64_t off, struct dwarf_cu *cu)
{
	uint64_t hdr_end = c->info.len - off > DWARF_MAX_CU_HEADER ? off + DWARF_MAX_CU_HEADER
								     : c->info.len;
	struct dwarf_rd r = dwarf_info_at(c, off, hdr_end);
	uint64_t len = dwarf_uint(&r, 4);
	uint8_t unit_type = 0;

	cu->off_size = len == 0xffffffff ? 8 : 4; /* 64-bit DWARF */
	if (cu->off_size == 8)
		len = dwarf_uint(&r, 8);
	if (r.bad || (cu->off_size == 4 && len >= 0xfffffff0) ||
	    len > c->info.len - (uint64_t)(r.p - c->info.p))
		return -EINVAL;
	cu->start = off;
	cu->end = (uint64_t)(r.p - c->info.p) + len;
	if (len < (uint64_t)(r.end - r.p))
		r.end = r.p + len;
	cu->version = (uint16_t)dwarf_uint(&r, 2);
	if (cu->version < 2 || cu->version > 5) {
		cu->version = 0; /* its length is all we need to step over it */
		return r.bad ? -EINVAL : 0;
	}
	if (cu->version == 5) {
		unit_type = (uint8_t)dwarf_uint(&r, 1);
		cu->addr_size = (uint8_t)dwarf_uint(&r, 1);
		cu->abbrev_off = dwarf_uint(&r, cu->off_size);
	} else {
		cu->abbrev_off = dwarf_uint(&r, cu->off_size);
		cu->addr_size = (uint8_t)dwarf_uint(&r, 1);
	}
	if (unit_type == DW_UT_skeleton || unit_type == DW_UT_split_compile)
		dwarf_skip(&r, 8); /* dwo_id */
	if (unit_type == DW_UT_type || unit_type == DW_UT_split_type)
		dwarf_skip(&r, 8 + cu->off_size); /* type_signature, type_offset */
	if (r.bad || (cu->addr_size != 4 && cu->addr_size != 8))
		return -EINVAL;
	cu->die = (uint64_t)(r.p - c->info.p);
	/* Without DW_AT_str_offsets_base, strx indexes count from just past the
	 * .debug_str_offsets header (DWARF 5: 7.26). */
	cu->str_base = cu->off_size == 8 ? 16 : 8;
	return 0;
}

/* A NUL-terminated string at off in s, or NULL if it does not end inside s. */
static const char *dwarf_sec_str(const struct dwarf_sec *s, uint64_t off)
{
	if (off >= s->len || !memchr(s->p + off, 0, s->len - off))
		return NULL;
	return (const char *)s->p + off;
}

/* The string an attribute value names, or NULL when it is not a string we can
 * resolve (or not a string at all). Go writes DW_FORM_string, gcc strp and
 * line_strp, clang's DWARF 5 strx1. */
static const char *dwarf_string(const struct dwarf_ctx *c, const struct dwarf_cu *cu,
				uint32_t form, const struct dwarf_val *v)
{
	const struct dwarf_sec *so = &c->str_offsets;

	switch (form) {
	case DW_FORM_string:
		return (const char *)v->blk; /* dwarf_form checked the NUL */
	case DW_FORM_strp:
		return dwarf_sec_str(&c->str, v->u);
	case DW_FORM_line_strp:
		return dwarf_sec_str(&c->line_str, v->u);
	case DW_FORM_strx: case DW_FORM_strx1: case DW_FORM_strx2: case DW_FORM_strx3:
	case DW_FORM_strx4: case DW_FORM_GNU_str_index:
		if (cu->str_base > so->len || v->u >= (so->len - cu->str_base) / cu->off_size)
			return NULL;
		struct dwarf_rd r = dwarf_rd_at(so, cu->str_base + v->u * cu->off_size, so->len);
		return dwarf_sec_str(&c->str, dwarf_uint(&r, cu->off_size));
	default:
		return NULL;
	}
}

/* The absolute .debug_info offset a reference points at, or DWARF_NO_REF for
 * references into other files (supplementary, split, type units by signature). */
static uint64_t dwarf_ref(const struct dwarf_cu *cu, uint32_t form, const struct dwarf_val *v)
{
	switch (form) {
	case DW_FORM_ref1: case DW_FORM_ref2: case DW_FORM_ref4: case DW_FORM_ref8:
	case DW_FORM_ref_udata:
		return v->u < cu->end - cu->start ? cu->start + v->u : DWARF_NO_REF;
	case DW_FORM_ref_addr: /* Go refers to types this way, across units */
		return v->u;
	default:
		return DWARF_NO_REF;
	}
}

/* DW_AT_data_member_location: a constant since DWARF 3 (Go, gcc, clang), a
 * location expression DW_OP_plus_uconst N in DWARF 2. */
static void dwarf_member_loc(uint32_t form, const struct dwarf_val *v, struct dwarf_die *d)
{
	d->loc_state = -1;
	if (v->blk && form != DW_FORM_string) {
		struct dwarf_rd r = { v->blk, v->blk + v->len, false };
		uint8_t op = (uint8_t)dwarf_uint(&r, 1);
		d->loc = dwarf_leb(&r, false);
		if ((op == DW_OP_plus_uconst || op == DW_OP_constu) && !r.bad && r.p == r.end)
			d->loc_state = 1;
	} else if (form == DW_FORM_data1 || form == DW_FORM_data2 || form == DW_FORM_data4 ||
		   form == DW_FORM_data8 || form == DW_FORM_udata || form == DW_FORM_implicit_const ||
		   (form == DW_FORM_sdata && (int64_t)v->u >= 0)) {
		d->loc = v->u;
		d->loc_state = 1;
	}
}

/* Decodes the attributes of a DIE whose abbreviation ab was just read. */
static int dwarf_die_attrs(const struct dwarf_ctx *c, struct dwarf_cu *cu, struct dwarf_rd *r,
			   const struct dwarf_abbrev *ab, struct dwarf_die *d)
{
	*d = (struct dwarf_die){ .type = DWARF_NO_REF };
	for (size_t i = 0; i < ab->nattr && !r->bad; i++) {
		const struct dwarf_attr *at = &c->ab.at[ab->attr + i];
		struct dwarf_val v;
		dwarf_form(r, cu, at->form, at->implicit, &v);
		if (at->name == DW_AT_name)
			d->name = dwarf_string(c, cu, at->form, &v);
		else if (at->name == DW_AT_type)
			d->type = dwarf_ref(cu, at->form, &v);
		else if (at->name == DW_AT_data_member_location)
			dwarf_member_loc(at->form, &v, d);
		else if (at->name == DW_AT_declaration)
			d->decl = v.u != 0;
		else if (at->name == DW_AT_str_offsets_base)
			cu->str_base = v.u;
	}
	return r->bad ? -EINVAL : 0;
}

static void dwarf_die_skip(const struct dwarf_ctx *c, const struct dwarf_cu *cu,
			   struct dwarf_rd *r, const struct dwarf_abbrev *ab)
{
	struct dwarf_val v;

	if (ab->fixed >= 0) {
		dwarf_skip(r, (uint64_t)ab->fixed);
		return;
	}
	for (size_t i = 0; i < ab->nattr && !r->bad; i++) {
		const struct dwarf_attr *at = &c->ab.at[ab->attr + i];
		if (at->size >= 0)
			dwarf_skip(r, (uint64_t)at->size);
		else
			dwarf_form(r, cu, at->form, at->implicit, &v);
	}
}

/* Reads a DIE's abbreviation code into *ab, NULL for a null entry (the end of a
 * list of siblings). -EINVAL for an unknown code or a short read. */
static int dwarf_die_head(const struct dwarf_ctx *c, struct dwarf_rd *r,
			  const struct dwarf_abbrev **ab)
{
	uint64_t code = dwarf_leb(r, false);

	*ab = code && !r->bad ? dwarf_abbrev_find(&c->ab, code) : NULL;
	return r->bad || (code && !*ab) ? -EINVAL : 0;
}

/* Makes cu the unit being read: its abbreviations loaded and, for DWARF 5, its
 * DW_AT_str_offsets_base taken from the unit DIE. */
static int dwarf_cu_enter(struct dwarf_ctx *c, struct dwarf_cu *cu)
{
	struct dwarf_rd r = dwarf_info_at(c, cu->die, cu->end);
	const struct dwarf_abbrev *ab;
	struct dwarf_die d;
	int err = dwarf_abbrevs_load(c, cu);

	if (err || cu->version < 5 || (err = dwarf_die_head(c, &r, &ab)) || !ab)
		return err;
	return dwarf_die_attrs(c, cu, &r, ab, &d);
}

/* Finds and enters the unit holding .debug_info offset off. Units are stepped
 * over by their length alone: a few thousand header reads at most. */
static int dwarf_cu_find(struct dwarf_ctx *c, uint64_t off, struct dwarf_cu *cu)
{
	if (off == DWARF_NO_REF)
		return -ENOENT;
	if (cu->version && off >= cu->die && off < cu->end)
		return 0;
	for (uint64_t at = 0; at < c->info.len; at = cu->end) {
		int err = dwarf_cu_header(c, at, cu);
		if (err)
			return err;
		if (off < cu->end)
			return !cu->version ? -ENOENT : off < cu->die ? -EINVAL : dwarf_cu_enter(c, cu);
	}
	return -EINVAL;
}

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

/* Starts inflating the zlib stream src into a new buffer of size bytes, held by
 * s. The stream's adler32 trailer is never checked (a raw inflate after the
 * 2-byte header): a lookup may stop early, and a damaged stream that still
 * inflates is just more untrusted DWARF, which the walk copes with. */
static int dwarf_zstart(struct dwarf_ctx *c, z_stream *zs, const uint8_t *src, size_t srclen,
			uint64_t size, struct dwarf_sec *s)
{
	if (size > c->inflate_left)
		return -ENOMEM;
	/* RFC 1950: deflate (CM 8), window <= 32 KiB, no preset dictionary. */
	if (srclen < 2 || (src[0] & 0x8f) != 8 || (src[0] << 8 | src[1]) % 31 || (src[1] & 0x20) ||
	    size / DWARF_ZLIB_MAX_RATIO > srclen)
		return -EINVAL;
	uint8_t *buf = malloc(size ? size : 1);
	*zs = (z_stream){ 0 };
	if (!buf || inflateInit2(zs, -15) != Z_OK) {
		free(buf);
		return -ENOMEM;
	}
	zs->next_in = (Bytef *)src + 2; /* zlib's API is not const-correct; it does not write */
	zs->avail_in = srclen - 2 > UINT32_MAX ? UINT32_MAX : (uInt)(srclen - 2);
	c->inflate_left -= size;
	*s = (struct dwarf_sec){ buf, size, buf };
	return 0;
}

/* Inflates a compressed section: all of it now, except .debug_info (see
 * dwarf_info_at), whose stream stays open in c->zinfo. */
static int dwarf_inflate(struct dwarf_ctx *c, const uint8_t *src, size_t srclen, uint64_t size,
			 struct dwarf_sec *s)
{
	z_stream zs;
	bool info = s == &c->info;
	int err = dwarf_zstart(c, info ? &c->zinfo : &zs, src, srclen, size, s);

	if (err)
		return err;
	if (info) {
		c->zinfo_open = true;
		return 0;
	}
	bool ok = dwarf_zrun(&zs, s, size);
	inflateEnd(&zs);
	return ok ? 0 : -EINVAL;
}

/* Loads .debug_<name>, inflating it if it is SHF_COMPRESSED (an Elf64_Chdr, then
 * the zlib stream: what Go's linker and GNU ld --compress-debug-sections write),
 * or else .zdebug_<name> ("ZLIB", a big-endian 64-bit size, the stream). */
static int dwarf_sec_load(struct dwarf_ctx *c, const struct elf_image *im, const char *name,
			  struct dwarf_sec *s)
{
	char sname[32];
	size_t len = 0;

	snprintf(sname, sizeof(sname), ".debug_%s", name);
	const Elf64_Shdr *sh = elf_section(im, sname);
	const uint8_t *p = elf_section_data(im, sh, &len);
	if (p && !(sh->sh_flags & SHF_COMPRESSED)) {
		*s = (struct dwarf_sec){ p, len, NULL };
		return 0;
	}
	if (p && len < sizeof(Elf64_Chdr))
		return -EINVAL;
	if (p && elf_u32(p) != ELFCOMPRESS_ZLIB)
		return -EOPNOTSUPP;
	if (p)
		return dwarf_inflate(c, p + sizeof(Elf64_Chdr), len - sizeof(Elf64_Chdr),
				     elf_u64(p + offsetof(Elf64_Chdr, ch_size)), s);
	snprintf(sname, sizeof(sname), ".zdebug_%s", name);
	if (!(p = elf_section_data(im, elf_section(im, sname), &len)))
		return -ENOENT;
	if (len < 12 || memcmp(p, "ZLIB", 4) != 0)
		return -EINVAL;
	return dwarf_inflate(c, p + 12, len - 12, __builtin_bswap64(elf_u64(p + 4)), s);
}

/* Loads the sections a lookup reads: without .debug_info there is no DWARF,
 * without .debug_abbrev it cannot be read, the string sections are optional. */
static int dwarf_ctx_open(struct dwarf_ctx *c, const struct elf_image *im)
{
	static const char *const names[] = { "info", "abbrev", "str", "line_str", "str_offsets" };
	_Static_assert(sizeof(names) / sizeof(*names) == sizeof(c->sec) / sizeof(*c->sec),
		       "one name per section");

	c->inflate_left = DWARF_MAX_INFLATE;
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		int err = dwarf_sec_load(c, im, names[i], &c->sec[i]);
		if (err && (err != -ENOENT || i < 2))
			return err == -ENOENT && i == 1 ? -EINVAL : err;
	}
	/* Each table is parsed once in a sane file; allow plenty of re-parsing. */
	c->abbrev_left = 64 * (uint64_t)c->abbrev.len + (1u << 20);
	return 0;
}

bool dwarf_present(const struct elf_image *im)
{
	size_t len;

	return elf_section_data(im, elf_section(im, ".debug_info"), &len) ||
	       elf_section_data(im, elf_section(im, ".zdebug_info"), &len);
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
	if (c.zinfo_open)
		inflateEnd(&c.zinfo);
	for (size_t i = 0; i < sizeof(c.sec) / sizeof(*c.sec); i++)
		free(c.sec[i].owned);
	free(c.ab.a);
	free(c.ab.at);
	return err;
}

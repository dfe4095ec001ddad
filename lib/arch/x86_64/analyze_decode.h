/* analyze_decode: the decoded form of one function that analyze chooses windows
 * in. Internal to analyze (analyze.c, analyze_decode.c).
 *
 * One linear pass of capstone over [entry, end) stops where only 0xCC padding is
 * left (Go puts no data in text, and pads each function with int3 up to its
 * 32-byte alignment: cmd/link/internal/ld/data.go, funcAlign). Each instruction
 * keeps what the window rules need: its size, whether it is a ret, a branch
 * target, may fault on program data, writes RSP, and why it cannot move. */
#ifndef GOLAT_ANALYZE_DECODE_H
#define GOLAT_ANALYZE_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze.h"

#define INS_RET 0x01    /* a ret (C3) */
#define INS_FAULT 0x02  /* may fault on program data (see ins_can_fault) */
#define INS_WRSP 0x04   /* writes RSP */
#define INS_TARGET 0x08 /* a branch or jump-table target */
#define INS_EXIT 0x10   /* leaves the function without a ret: a tail jump */
#define INS_NOP 0x40    /* a nop (any length): alignment the compiler put in */
#define INS_PCREL 0x80  /* its meaning depends on its address: [rip+disp], a relative branch */
#define INS_FIXED 0x20  /* a target golat cannot steer elsewhere: a jump-table entry, or a
			   branch other than jmp/jcc rel8/rel32 (analyze_redirect.c) */

/* A direct branch inside the function: ins[from] jumps to ins[to]. */
struct edge {
	uint32_t to, from;
};

struct ins {
	uint32_t off;        /* from the entry */
	uint8_t len;
	uint8_t flags;       /* INS_* */
	const char *refusal; /* reloc_refusal(): why it cannot move, or NULL */
};

struct fn {
	const struct analyze_input *in;
	const char *name;
	uint32_t len;      /* end - entry */
	uint32_t body_len; /* the instructions; [body_len, len) is 0xCC */
	struct ins *ins;
	uint32_t nins, capins;
	uint32_t ntargets;
	struct edge *edges; /* every direct branch inside the function, by `to` */
	uint32_t nedges;
	/* The first exit without a ret: a direct tail jump (exit_to is where) or an
	 * indirect one; exit_idx < 0 when none. */
	int64_t exit_idx;
	uint64_t exit_to;
	bool exit_indirect;
	char *reason;
	size_t reasonlen;
};

/* Decodes in's code into f, marks every branch and jump-table target. Returns 0, or
 * a negative errno-style code with a reason in f->reason. Free with fn_free. */
int fn_decode(struct fn *f, const struct analyze_input *in, char *reason, size_t reasonlen);
void fn_free(struct fn *f);

/* The branches to ins[to], *n of them (sorted by to: a binary search). */
const struct edge *fn_sources(const struct fn *f, uint32_t to, uint32_t *n);

/* The index of the instruction starting at offset off, or -1. */
int64_t fn_index_at(const struct fn *f, uint32_t off);

/* "`mov rax, qword ptr [rax + 8]` at +0x4": the instruction, for reasons. */
void fn_describe(const struct fn *f, uint32_t idx, char *buf, size_t len);

#endif

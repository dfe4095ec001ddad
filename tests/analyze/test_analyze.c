/* The analyzer on hand-assembled functions shaped like Go's: the prologues and
 * epilogues of Go 1.19 and 1.21+, frameless leaves, a 3-byte function, jump
 * tables, branch targets inside would-be windows, tail-call wrappers, nil checks
 * before and after RSP moves, hops into padding and into another window's tail, and
 * the name policy.
 *
 * Each case gives the code (hex; "90*140" repeats a byte), the function's length
 * with its 0xCC padding, and the plan expected, written as
 *   entry 0+6; ret 18+6; ret 1c+2 hop@25; whole 0+5(3)
 * i.e. window kind, offset+length (hex), "(n)" when only n of those bytes are
 * instructions (the rest is padding), and the hop's padding slot; " int3" for a
 * return through an int3, and " steer F>T@H" for each branch at F steered into the
 * window's copy of T (through a hop at H for a rel8 branch; H < 0: in the previous
 * function's padding); " twin@A" for a return whose jmp rel8 goes to the window at A
 * of the same bytes. Every window of every plan is also relocated with
 * reloc_window, and every hop encoded. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "analyze.h"
#include "gobin.h"
#include "reloc.h"

#define BASE 0x402000ull

struct acase {
	const char *what;
	const char *name; /* NULL: main.f */
	const char *code;
	uint32_t len;     /* with padding; 0: the code's own length */
	uint8_t flag;
	unsigned opts;
	const int *table; /* jump table entries (offsets), -1 ended; at BASE+0x100d */
	uint32_t prev_pad; /* bytes of the previous function's padding it may take */
	int rc;
	const char *want; /* the plan, or a substring of the reason */
};

static const int table1[] = { 0x10, 0x15, 0x18, 0x1e, -1 };
static const int table2[] = { 0x13, 0x18, 0x1b, 0x21, -1 };

/* Go 1.21+: cmp rsp,[r14+0x10]; jbe morestack; push rbp; mov rbp,rsp; sub rsp,0x18;
 * mov [rsp+0x28],rax; call; add rsp,0x18; pop rbp; ret; morestack tail: spill, call
 * runtime.morestack_noctxt, reload, jmp entry. */
#define GO121 "49 3b 66 10 76 18 55 48 89 e5 48 83 ec 18 48 89 44 24 28 e8 fb 0f 00 00 " \
	      "48 83 c4 18 5d c3 48 89 44 24 08 e8 fb 1f 00 00 48 8b 44 24 08 eb d1"

static const struct acase cases[] = {
	/* Go prologues and epilogues */
	{ "Go 1.21 frame: stack check is the entry window, add rsp;pop rbp;ret the return", NULL,
	  GO121, 0x40, 0, 0, NULL, 0, 0, "entry 0+6; ret 18+6" },
	{ "Go 1.19 frame: sub rsp/mov [rsp],rbp prologue, add rsp;ret epilogue", NULL,
	  /* cmp rsp,[r14+0x10]; jbe; sub rsp,0x18; mov [rsp+0x10],rbp; lea rbp,[rsp+0x10]; call;
	   * mov rbp,[rsp+0x10]; add rsp,0x18; ret; call morestack; jmp entry */
	  "49 3b 66 10 76 1d 48 83 ec 18 48 89 6c 24 10 48 8d 6c 24 10 e8 fb 0f 00 00 "
	  "48 8b 6c 24 10 48 83 c4 18 c3 e8 fb 1f 00 00 eb d6", 0x40, 0, 0, NULL, 0, 0, "entry 0+6; ret 1e+5" },
	{ "Go 1.19 big frame: lea r12,[rsp-N] alone makes the entry window", NULL,
	  /* lea r12,[rsp-0x100]; cmp r12,[r14+0x10]; jbe; sub rsp,0x180; mov [rsp+0x178],rbp;
	   * lea rbp,[rsp+0x178]; call; mov rbp,[rsp+0x178]; add rsp,0x180; ret; morestack tail */
	  "4c 8d a4 24 00 ff ff ff 4d 3b 66 10 76 2c 48 81 ec 80 01 00 00 48 89 ac 24 78 01 00 00 "
	  "48 8d ac 24 78 01 00 00 e8 fb 0f 00 00 48 8b ac 24 78 01 00 00 48 81 c4 80 01 00 00 c3 "
	  "e8 fb 1f 00 00 eb bf", 0x60, 0, 0, NULL, 0, 0, "entry 0+8; ret 32+8" },
	{ "jbe rel32 to a far morestack tail widens the entry window to 10 bytes", NULL,
	  /* cmp; jbe rel32; push rbp; mov rbp,rsp; 130 nops; pop rbp; ret; call; jmp entry */
	  "49 3b 66 10 0f 86 88 00 00 00 55 48 89 e5 90*130 5d c3 e8 fb 1f 00 00 e9 64 ff ff ff",
	  0xa0, 0, 0, NULL, 0, 0, "entry 0+a; ret 8d+5" },

	/* frameless leaves and tiny functions */
	{ "leaf getter mov rax,[rax+8]; ret: one whole window, fault allowed at RSP = entry", NULL,
	  "48 8b 40 08 c3", 0x20, 0, 0, NULL, 0, 0, "whole 0+5" },
	{ "3-byte xor eax,eax; ret: whole window completed by padding", "main.tiny",
	  "31 c0 c3", 0x20, 0, 0, NULL, 0, 0, "whole 0+5(3)" },
	{ "3-byte function without padding is refused", "main.tiny",
	  "31 c0 c3", 0, 0, 0, NULL, 0, -ENOSPC,
	  "main.tiny: the entry has no 5-byte window (the code is 3 bytes up to its ret) and the function "
	  "has no padding for a hop" },
	{ "ret right after a 5-byte entry window joins it (whole), later ret borrows padding", NULL,
	  /* test rax,rax; jne L; ret; L: mov rax,[rax]; ret */
	  "48 85 c0 75 01 c3 48 8b 00 c3", 0x10, 0, 0, NULL, 0, 0, "whole 0+6; ret 6+5(4)" },
	{ "loop head at +2: the entry hops into padding", NULL,
	  /* xor ecx,ecx; L: inc ecx; cmp ecx,10; jl L; mov eax,ecx; ret */
	  "31 c9 ff c1 83 f9 0a 7c f9 89 c8 c3", 0x20, 0, 0, NULL, 0, 0, "entry 0+2 hop@c; ret 7+5" },
	{ "an int3 inside the body is decoded as an instruction", NULL,
	  /* test rax,rax; je L; int3; L: mov rax,[rax]; ret */
	  "48 85 c0 74 01 cc 48 8b 00 c3", 0x10, 0, 0, NULL, 0, 0, "entry 0+5; ret 6+5(4)" },

	/* jump tables */
	{ "jump table targets (lea; jmp [rcx+rax*8]) stop a return window", NULL,
	  /* cmp rax,3; ja; lea rcx,[rip+T]; jmp [rcx+rax*8]; c0: mov eax,7; c1: add eax,ecx; ret;
	   * c2: mov eax,2; ret; c3: mov eax,3; ret; default: mov eax,-1; ret */
	  "48 83 f8 03 77 1e 48 8d 0d 00 10 00 00 ff 24 c1 b8 07 00 00 00 01 c8 c3 b8 02 00 00 00 c3 "
	  "b8 03 00 00 00 c3 b8 ff ff ff ff c3", 0x40, 0, 0, table1, 0, 0,
	  "entry 0+6; ret 15+3 hop@2a; ret 18+6; ret 1e+6; ret 24+6" },
	{ "jump table through a register (mov rdx,[rcx+rax*8]; jmp rdx)", NULL,
	  "48 83 f8 03 77 21 48 8d 0d 00 10 00 00 48 8b 14 c1 ff e2 b8 07 00 00 00 01 c8 c3 "
	  "b8 02 00 00 00 c3 b8 03 00 00 00 c3 b8 ff ff ff ff c3", 0x40, 0, 0, table2, 0, 0,
	  "entry 0+6; ret 18+3 hop@2d; ret 1b+6; ret 21+6; ret 27+6" },
	{ "jump table without a pointer reader is refused", NULL,
	  "48 83 f8 03 77 1e 48 8d 0d 00 10 00 00 ff 24 c1 b8 07 00 00 00 01 c8 c3 b8 02 00 00 00 c3 "
	  "b8 03 00 00 00 c3 b8 ff ff ff ff c3", 0x40, 0, 0, NULL, 0, -EINVAL, "jump table at +0xd" },

	/* branch targets inside windows */
	{ "a jcc to pop rbp keeps add rsp out of the return window: hop", NULL,
	  /* Go 1.21 frame whose `je` lands on pop rbp */
	  "49 3b 66 10 76 18 55 48 89 e5 48 83 ec 10 48 85 c0 74 09 e8 fb 0f 00 00 48 83 c4 10 "
	  "5d c3 e8 fb 1f 00 00 eb db", 0x40, 0, 0, NULL, 0, 0, "entry 0+6; ret 1c+2 hop@25" },
	{ "two hops share the padding, the earlier site the nearer slot", NULL,
	  /* cmp rax,1; je A; cmp rax,2; je B; mov eax,3; ret; A: inc eax; ret; B: dec eax; ret; ud2 */
	  "48 83 f8 01 74 0c 48 83 f8 02 74 09 b8 03 00 00 00 c3 ff c0 c3 ff c8 c3 0f 0b", 0x40, 0, 0,
	  NULL, 0, 0, "entry 0+6; ret c+6; ret 12+3 hop@1a; ret 15+3 hop@1f" },
	{ "two hops and room for one", NULL,
	  "48 83 f8 01 74 0c 48 83 f8 02 74 09 b8 03 00 00 00 c3 ff c0 c3 ff c8 c3 0f 0b", 0x20, 0, 0,
	  NULL, 0, -ENOSPC,
	  "main.f: return at +0x17 has no 5-byte window (`dec eax` at +0x15 is a branch target) and no "
	  "padding left for a hop" },
	{ "padding out of rel8 reach", NULL,
	  /* as above with 140 nops before the last block */
	  "48 83 f8 01 74 0c 48 83 f8 02 74 09 b8 03 00 00 00 c3 ff c0 c3 90*140 ff c8 c3", 0xc0, 0, 0,
	  NULL, 0, -ENOSPC,
	  "main.f: return at +0x14 has no 5-byte window (`inc eax` at +0x12 is a branch target) and no "
	  "padding within reach" },
	{ "a ret that is itself a target, not at the end: too short for anything", NULL,
	  /* test rax,rax; je L; mov eax,1; L: ret; ud2 */
	  "48 85 c0 74 05 b8 01 00 00 00 c3 0f 0b", 0x20, 0, 0, NULL, 0, -ENOSPC,
	  "`ret` at +0xa is a branch target) and is too short" },

	/* faulting operands */
	{ "nil check test byte ptr [rax],al at the entry is relocated", NULL,
	  /* test [rax],al; mov ecx,[rax+0x10]; add ecx,1; mov [rax+0x10],ecx; ret */
	  "84 00 8b 48 10 83 c1 01 89 48 10 c3", 0x10, 0, 0, NULL, 0, 0, "entry 0+5; ret 5+7" },
	{ "nil check after push rbp is refused", NULL,
	  /* push rbp; mov rbp,rsp; test [rax],al; mov rcx,[rax+8]; mov rax,[rcx]; pop rbp; ret */
	  "55 48 89 e5 84 00 48 8b 48 08 48 8b 01 5d c3", 0, 0, 0, NULL, 0, -ENOTSUP,
	  "main.f: the entry has no 5-byte window (`test byte ptr [rax], al` at +0x4 may fault where RSP "
	  "is not its value at entry (`push rbp` at +0x0 writes RSP))" },
	{ "nil check after push rbp stays in place when the entry can hop over it", NULL,
	  "55 48 89 e5 84 00 48 8b 48 08 48 8b 01 5d c3", 0x20, 0, 0, NULL, 0, 0,
	  "entry 0+4 hop@12; ret d+5(2)" },
	{ "a load just before ret moves (RSP = entry there), one before pop rbp does not", NULL,
	  /* test rax,rax; je L; mov rax,[rax+8]; ret; L: mov rax,[rax]; pop rbp; ret */
	  "48 85 c0 74 05 48 8b 40 08 c3 48 8b 00 5d c3", 0x20, 0, 0, NULL, 0, 0,
	  "entry 0+5; ret 5+5; ret d+5(2)" },
	{ "...and without padding the second return is refused", NULL,
	  "48 85 c0 74 05 48 8b 40 08 c3 48 8b 00 5d c3", 0, 0, 0, NULL, 0, -ENOTSUP,
	  "`mov rax, qword ptr [rax]` at +0xa may fault where RSP is not its value at entry "
	  "(`pop rbp` at +0xd writes RSP)" },
	{ "a call within the first 5 bytes is refused", NULL,
	  "e8 fb 0f 00 00 c3", 0x10, 0, 0, NULL, 0, -ENOTSUP,
	  "`call 0x403000` at +0x0 cannot be relocated: a return address inside a trampoline" },

	/* functions without a ret */
	{ "promoted-method wrapper: tail jmp, the reason names the method", NULL,
	  "e9 fb 0f 00 00", 0x10, 0, 0, NULL, 0, -ENOENT,
	  "main.f: no return: ends in a tail jump to main.(*T).M; hook main.(*T).M instead" },
	{ "interface wrapper: indirect tail call", NULL,
	  /* mov rcx,[rax]; mov rax,[rax+8]; mov rcx,[rcx+0x18]; jmp rcx */
	  "48 8b 08 48 8b 40 08 48 8b 49 18 ff e1", 0x10, 0, 0, NULL, 0, -ENOENT,
	  "no return: ends in an indirect tail call at +0xb" },
	{ "a tail jump besides a ret leaves an untimed exit", NULL,
	  "48 85 c0 74 05 e9 fb 0f 00 00 31 c0 c3", 0x10, 0, 0, NULL, 0, -ENOTSUP,
	  "leaves by a tail jump at +0x5 to 0x403005 besides returning" },
	{ "a function that only panics never returns", NULL,
	  "48 83 ec 08 e8 fb 0f 00 00 0f 0b", 0x10, 0, 0, NULL, 0, -ENOENT, "never returns" },

	/* undecodable and inconsistent code */
	{ "only padding", NULL, "", 0x10, 0, 0, NULL, 0, -EINVAL, "only padding" },
	{ "undecodable byte", NULL, "06 c3", 0x10, 0, 0, NULL, 0, -EINVAL, "cannot decode the instruction at +0x0" },
	{ "branch into the middle of an instruction", NULL, "eb 01 b8 01 00 00 00 c3", 0x10, 0, 0, NULL, 0,
	  -EINVAL, "the branch at +0x0 lands at +0x3, not on an instruction" },

	/* policy */
	{ "runtime functions are refused by name", "runtime.schedule", GO121, 0x40, 0, 0, NULL, 0, -EPERM,
	  "runtime.schedule: runtime function" },
	{ "but allocation, channels and the like are allowed", "runtime.mallocgc", GO121, 0x40, 0, 0, NULL, 0,
	  0, "entry 0+6; ret 18+6" },
	{ "internal/runtime packages too", "internal/runtime/maps.(*Map).getWithKey", GO121, 0x40, 0, 0,
	  NULL, 0, -EPERM, "runtime function" },
	{ "packages the runtime calls from anywhere", "internal/abi.(*Type).Uncommon", GO121, 0x40, 0, 0,
	  NULL, 0, -EPERM, "runtimePkgs" },
	{ "the fork child's code", "syscall.forkAndExecInChild1", GO121, 0x40, 0, 0, NULL, 0, -EPERM,
	  "between fork and exec" },
	{ "the fork child's raw syscalls", "syscall.RawSyscall6", GO121, 0x40, 0, 0, NULL, 0, -EPERM,
	  "between fork and exec" },
	{ "assembly functions", "main.asm", GO121, 0x40, GOBIN_FLAG_ASM, 0, NULL, 0, -EPERM,
	  "main.asm: assembly function" },
	{ "functions that write SP", NULL, GO121, 0x40, GOBIN_FLAG_SPWRITE, 0, NULL, 0, -EPERM, "SPWRITE" },
	{ "ANALYZE_NO_NAME_POLICY lets golat hook a runtime function it vetted", "runtime.exitHook", GO121,
	  0x40, 0, ANALYZE_NO_NAME_POLICY, NULL, 0, 0, "entry 0+6; ret 18+6" },
	{ "a user function is not refused by name", "main.runtime.x", GO121, 0x40, 0, 0, NULL, 0, 0,
	  "entry 0+6; ret 18+6" },
	/* Signals owned (ANALYZE_SIGNALS_OWNED): branches steered into the trampoline */
	{ "a ret that a rel32 jcc reaches: the window takes it in, the jcc is steered to its copy", NULL,
	  /* mov rcx,rax; mov rdx,rbx; test rax,rax; jle L (rel32); lea rax,[rax+rax*2]; L: ret */
	  "48 89 c1 48 89 da 48 85 c0 0f 8e 04 00 00 00 48 8d 04 40 c3", 0, 0, ANALYZE_SIGNALS_OWNED,
	  NULL, 0, 0, "entry 0+6; ret f+5 steer 9>13" },
	{ "a ret that a rel8 jcc reaches: steered through a hop in the padding", NULL,
	  /* mov rcx,rax; mov rdx,rbx; test rax,rax; jle L; test rbx,rbx; je L2;
	   * lea rax,[rax+rax*2]; L: ret; L2: xor eax,eax; ret */
	  "48 89 c1 48 89 da 48 85 c0 7e 09 48 85 db 74 05 48 8d 04 40 c3 31 c0 c3", 0x20, 0,
	  ANALYZE_SIGNALS_OWNED, NULL, 0, 0, "entry 0+6; ret 10+5 steer 9>14@1a; ret 15+5(3)" },
	{ "without signals owned the same ret has no window", NULL,
	  "48 89 c1 48 89 da 48 85 c0 7e 09 48 85 db 74 05 48 8d 04 40 c3 31 c0 c3", 0x20, 0, 0,
	  NULL, 0, -ENOSPC, "return at +0x14 has no 5-byte window (`ret` at +0x14 is a branch target)" },
	{ "a ret only branches reach (after a ret): nothing written, the branch hops through the "
	  "previous function's padding", NULL,
	  /* mov rcx,rax; mov rdx,rbx; test rax,rax; je L; mov eax,1; ret; L: ret */
	  "48 89 c1 48 89 da 48 85 c0 74 06 b8 01 00 00 00 c3 c3", 0, 0, ANALYZE_SIGNALS_OWNED,
	  NULL, 8, 0, "entry 0+6; ret b+6; ret 11+0(1) steer 9>11@-5" },
	{ "no padding here nor before: that ret gets an int3", NULL,
	  "48 89 c1 48 89 da 48 85 c0 74 06 b8 01 00 00 00 c3 c3", 0, 0, ANALYZE_SIGNALS_OWNED,
	  NULL, 4, 0, "entry 0+6; ret b+6; ret 11+1 int3" },
	{ "go1.19 wrapper: entry and first ret make one whole window; the panic-argp fixup's "
	  "branches to the body hop through the dead bytes past its jump", "main.(*T).Type",
	  /* mov r12,[r14+0x20]; test r12,r12; jne L; B: mov rax,[rax]; ret;
	   * L: lea r13,[rsp+8]; cmp [r12],r13; jne B; mov [r12],rsp; jmp B */
	  "4d 8b 66 20 4d 85 e4 75 04 48 8b 00 c3 4c 8d 6c 24 08 4d 39 2c 24 75 f1 49 89 24 24 eb eb",
	  0x20, 0, ANALYZE_SIGNALS_OWNED, NULL, 0, 0, "whole 0+d steer 16>9@5 steer 1c>9@5" },
	{ "no padding, but a dead nop after the ret (loop alignment) holds the hop", NULL,
	  /* mov rcx,rax; mov rdx,rbx; test rax,rax; jle L; lea rax,[rax+rax*2]; L: ret;
	   * nop dword ptr [rax+rax+0] */
	  "48 89 c1 48 89 da 48 85 c0 7e 04 48 8d 04 40 c3 0f 1f 44 00 00", 0, 0,
	  ANALYZE_SIGNALS_OWNED, NULL, 0, 0, "entry 0+6; ret b+5 steer 9>f@10" },
	{ "no padding anywhere: the window grows to 10 bytes, and the hop goes past its jump", NULL,
	  /* mov rcx,rax; mov rdx,rbx; test rax,rax; je L; mov rdx,[rcx+0x48];
	   * movzx ecx,byte [rdx]; L: mov eax,ecx; ret */
	  "48 89 c1 48 89 da 48 85 c0 74 07 48 8b 51 48 0f b6 0a 89 c8 c3", 0, 0,
	  ANALYZE_SIGNALS_OWNED, NULL, 0, 0, "entry 0+6; ret b+a steer 9>12@10" },
	{ "two rets side by side: the first window shrinks to leave out the branch to the "
	  "second, which only branches reach", NULL,
	  /* cmp rax,3; jl L0; cmp rbx,rax; jle L1; sub rax,rbx; ret; L1: ret; L0: xor eax,eax; ret */
	  "48 83 f8 03 7c 0a 48 39 c3 7e 04 48 29 d8 c3 c3 31 c0 c3", 0x20, 0, ANALYZE_SIGNALS_OWNED,
	  NULL, 0, 0, "entry 0+6; ret b+4 hop@15; ret f+0(1) steer 9>f@1a; ret 10+5(3)" },
	/* A return 2 to 4 bytes long with no padding in reach hops into the 5 bytes past the
	 * jump of another window grown to 10 (analyze_tail.c). */
	{ "go1.27 type:.eq.M12K4M8 (cmd/link): `xor eax,eax; ret` that two jne reach hops into the "
	  "entry window, grown forward to 11 bytes", "type:.eq.M12K4M8",
	  /* mov rcx,[rax]; cmp [rbx],rcx; jne L; mov ecx,[rax+8]; cmp [rbx+8],ecx; jne L;
	   * mov rcx,[rax+0x10]; cmp [rbx+0x10],rcx; sete al; ret; L: xor eax,eax; ret; int3 */
	  "48 8b 08 48 39 0b 75 14 8b 48 08 39 4b 08 75 0c 48 8b 48 10 48 39 4b 10 0f 94 c0 c3 31 c0 c3 cc",
	  0x20, 0, ANALYZE_SIGNALS_OWNED, NULL, 0, 0, "entry 0+b; ret 14+8; ret 1c+3 hop@5" },
	{ "the same with the second jne back to the second compare: the entry window cannot "
	  "grow past it, the previous return's grows back to 12 bytes instead", NULL,
	  "48 8b 08 48 39 0b 75 14 8b 48 08 39 4b 08 75 f8 48 8b 48 10 48 39 4b 10 0f 94 c0 c3 31 c0 c3 cc",
	  0x20, 0, ANALYZE_SIGNALS_OWNED, NULL, 0, 0, "entry 0+6; ret 10+c; ret 1c+3 hop@15" },
	{ "both blocked (the first jne to the third compare too): the int3 stays", NULL,
	  "48 8b 08 48 39 0b 75 0c 8b 48 08 39 4b 08 75 f8 48 8b 48 10 48 39 4b 10 0f 94 c0 c3 31 c0 c3 cc",
	  0x20, 0, ANALYZE_SIGNALS_OWNED, NULL, 0, 0, "entry 0+6; ret 14+8; ret 1e+1 int3" },
	{ "without signals owned no hop is tried there: the plan fails as before", NULL,
	  "48 8b 08 48 39 0b 75 14 8b 48 08 39 4b 08 75 0c 48 8b 48 10 48 39 4b 10 0f 94 c0 c3 31 c0 c3 cc",
	  0x20, 0, 0, NULL, 0, -ENOSPC, "return at +0x1e has no 5-byte window" },
	{ "go1.27 unicode.is32 (gofmt): three `xor eax,eax; pop rbp; ret` exits; the first hops "
	  "into the entry window grown to 10 bytes, the other two, out of reach of any slot, jump "
	  "to it: the same bytes, so its trampoline does their work", "unicode.is32",
	  "55 48 89 e5 48 89 44 24 10 48 83 fb 12 7f 07 31 c9 e9 7e 00 00 00 31 c9 48 89 da 0f 1f 44 00 00 "
	  "48 39 cb 7e 5e 48 8d 34 19 48 d1 ee 48 39 f2 76 5b 4c 8d 04 76 46 8b 0c 80 46 8b 54 80 08 46 8b "
	  "44 80 04 44 39 cf 72 10 44 39 c7 76 13 44 39 cf 72 06 48 8d 4e 01 eb c8 48 89 f3 eb c3 0f 1f 00 "
	  "41 83 fa 01 75 07 b8 01 00 00 00 eb 14 44 29 cf 45 85 d2 74 12 89 f8 31 d2 41 f7 f2 85 d2 0f 94 "
	  "c0 5d c3 31 c0 5d c3 e8 34 8f fb ff e8 6f 8e ff ff 48 ff c1 48 39 cb 7e 3c 48 8d 14 49 8b 34 90 "
	  "39 f7 72 2d 44 8b 44 90 04 41 39 f8 72 e3 8b 4c 90 08 83 f9 01 75 07 b8 01 00 00 00 eb 11 29 f7 "
	  "85 c9 74 15 89 f8 31 d2 f7 f1 85 d2 0f 94 c0 5d c3 31 c0 5d c3 31 c0 5d c3 e8 e2 8e fb ff 90 cc",
	  0xe0, 0, ANALYZE_SIGNALS_OWNED, NULL, 0, 0,
	  "entry 0+d; ret 79+a steer 6b>81@7e; ret 83+4 hop@5; ret c6+b steer bc>cf@cb; ret d1+4 twin@83; ret d5+4 twin@83" },
	{ "go1.27 slices.partialInsertionSortOrdered[go.shape.int] (cmd/link): `xor eax,eax; pop rbp; ret` "
	  "jumps to the window of `xor eax,eax; pop rbp; nop; ret` before it: the same but a nop",
	  "slices.partialInsertionSortOrdered[go.shape.int]",
	  "55 48 89 e5 48 89 5c 24 18 48 8d 56 01 31 ff eb 0f 48 ff c7 49 89 d0 4c 89 d2 66 0f 1f 44 00 00 "
	  "48 83 ff 05 7c 08 e9 91 00 00 00 48 ff c2 49 39 d0 7e 30 48 39 d1 0f 86 13 01 00 00 4c 8d 4a ff "
	  "4c 8b 14 d3 4c 39 c9 0f 86 fd 00 00 00 4c 8b 08 41 84 01 4c 8b 4c d3 f8 4d 39 d1 7e ce 0f 1f 00 "
	  "49 39 d0 74 60 4d 89 c1 49 29 f0 49 83 f8 32 7c 50 48 39 d1 0f 86 cb 00 00 00 4c 8d 42 ff 4c 8b "
	  "14 d3 4c 39 c1 0f 86 b2 00 00 00 4c 8b 5c d3 f8 4c 89 1c d3 4c 89 54 d3 f8 49 89 d2 48 29 f2 90 "
	  "48 83 fa 02 7d 7a 4c 89 ca 4d 29 d1 49 83 f9 02 0f 8c 5b ff ff ff 4d 8d 42 01 eb 24 31 c0 5d 90 "
	  "c3 31 c0 5d c3 b8 01 00 00 00 5d c3 4e 89 1c c3 4e 89 4c c3 f8 49 ff c0 0f 1f 84 00 00 00 00 00 "
	  "4c 39 c2 0f 8e 28 ff ff ff 4c 39 c1 76 1c 4c 8b 08 41 84 01 4e 8b 0c c3 4e 8b 5c c3 f8 0f 1f 00 "
	  "4d 39 cb 7f c7 e9 07 ff ff ff e8 d1 88 f9 ff 4e 89 1c c3 4a 89 54 c3 f8 49 ff c8 0f 1f 44 00 00 "
	  "4d 85 c0 7e 81 48 8b 10 84 02 4a 8b 14 c3 4e 8b 5c c3 f8 49 39 d3 7f d7 e9 69 ff ff ff 0f 1f 00 "
	  "e8 9b 88 f9 ff e8 96 88 f9 ff e8 91 88 f9 ff e8 8c 88 f9 ff 90",
	  0x160, 0, ANALYZE_SIGNALS_OWNED, NULL, 0, 0, "entry 0+9; ret bc+5; ret c1+4 twin@bc; ret c5+7" },
	/* A ret that only short rel8 branches reach, with no padding in their reach: the
	 * branches are steered through hops in the bytes past another window's jump, grown
	 * for them (analyze_tail.c, tail_steer). */
	{ "go1.27 math.ldexp (gofmt): the lone ret at +0x35 that ja and jne reach (rel8): its "
	  "window jnp;ret hops into the entry window grown to 15 bytes, and the branches to "
	  "the ret go through the second slot there", "math.ldexp",
	  "0f 57 c9 66 0f 2e c1 75 06 0f 8b fb 00 00 00 66 48 0f 7e c1 48 0f ba f1 3f 66 48 0f 6e d1 90 f2 "
	  "0f 10 1d 91 32 0b 00 66 0f 2e d3 77 08 66 0f 2e c0 75 02 7b 01 c3 f2 0f 10 1d 9a 32 0b 00 66 0f "
	  "2e da 76 15 f2 0f 10 15 9c 32 0b 00 f2 0f 59 c2 48 c7 c1 cc ff ff ff eb 02 31 c9 48 01 c8 66 48 "
	  "0f 7e c1 48 89 ca 48 c1 e9 34 81 e1 ff 07 00 00 48 8d 1c 01 48 8d 9b 01 fc ff ff 90 0f 1f 40 00 "
	  "48 81 fb cd fb ff ff 7c 6e 48 81 fb ff 03 00 00 7e 1a 66 0f 2e c8 76 0a 90 f2 0f 10 05 ff 31 0b "
	  "00 c3 90 f2 0f 10 05 dd 31 0b 00 c3 48 81 fb 02 fc ff ff 7d 15 48 8d 1c 01 48 8d 9b 36 fc ff ff "
	  "f2 0f 10 05 18 32 0b 00 eb 08 f2 0f 10 05 fe 30 0b 00 48 b8 ff ff ff ff ff ff 0f 80 48 21 d0 48 "
	  "8d 8b ff 03 00 00 48 c1 e1 34 48 09 c8 66 48 0f 6e c8 f2 0f 59 c1 c3 48 b8 00 00 00 00 00 00 00 "
	  "80 48 21 d0 66 48 0f 6e c0 c3 c3",
	  0x120, 0, ANALYZE_SIGNALS_OWNED, NULL, 0, 0, "entry 0+f; ret 33+3 hop@5 steer 2b>35@a steer 31>35@a; ret 99+9; ret a3+9; ret f2+5; ret 104+6; ret 10a+5(1)" },
	{ "go1.27 base32 (*Encoding).Encode (cmd/link): `pop rbp; ret` that rel8 branches reach "
	  "hops into the window before it, which steers a rel32 branch, grown back to 11 bytes",
	  "encoding/base32.(*Encoding).Encode",
	  "55 48 89 e5 48 89 5c 24 18 48 89 74 24 30 4d 85 c0 74 07 84 00 e9 b5 00 00 00 5d c3 44 89 d2 41 "
	  "c1 ea 1b 46 0f b6 14 10 44 88 13 41 89 d2 c1 ea 16 83 e2 1f 0f b6 14 10 88 53 01 44 89 d2 41 c1 "
	  "ea 11 41 83 e2 1f 46 0f b6 14 10 44 88 53 02 41 89 d2 c1 ea 0c 83 e2 1f 0f b6 14 10 88 53 03 44 "
	  "89 d2 41 c1 ea 07 41 83 e2 1f 46 0f b6 14 10 44 88 53 04 c1 ea 02 83 e2 1f 0f b6 14 10 88 53 05 "
	  "44 89 da 41 c1 eb 05 41 83 e3 1f 46 0f b6 14 18 44 88 53 06 83 e2 1f 0f b6 14 10 88 53 07 49 83 "
	  "c1 fb 4c 89 ca 48 f7 da 48 c1 fa 3f 83 e2 05 48 83 c7 f8 49 89 fa 49 f7 da 49 c1 fa 3f 41 83 e2 "
	  "08 48 01 d6 4c 01 d3 49 83 c0 fb 48 83 c1 f8 49 83 f8 05 7c 21 8b 16 0f ca 41 89 d2 c1 e2 08 44 "
	  "0f b6 5e 04 41 09 d3 48 83 f9 07 0f 87 2b ff ff ff e9 43 01 00 00 4d 85 c0 0f 84 fe 00 00 00 90 "
	  "49 83 f8 02 7f 11 49 83 f8 01 75 07 31 ff e9 9b 00 00 00 31 d2 eb 5b 49 83 f8 03 75 05 31 d2 90 "
	  "eb 2d 0f b6 56 03 89 d7 c1 e2 03 83 e2 1f 0f b6 14 10 48 83 f9 06 0f 86 f8 00 00 00 88 53 06 89 "
	  "fa c1 ef 02 83 e7 1f 0f b6 3c 38 40 88 7b 05 0f b6 7e 02 c1 e7 08 09 d7 89 fa c1 ef 07 83 e7 1f "
	  "0f b6 3c 38 48 83 f9 04 0f 86 c1 00 00 00 40 88 7b 04 49 83 f8 01 0f 86 ae 00 00 00 0f b6 7e 01 "
	  "c1 e7 10 09 d7 89 fa c1 ef 0c 83 e7 1f 0f b6 3c 38 48 83 f9 03 0f 86 8a 00 00 00 40 88 7b 03 89 "
	  "d7 c1 ea 11 83 e2 1f 0f b6 14 10 88 53 02 0f b6 16 c1 e2 18 09 fa 89 d6 c1 ea 16 83 e2 1f 0f b6 "
	  "14 10 48 83 f9 01 76 55 88 53 01 c1 ee 1b 0f b6 14 30 88 13 83 b8 20 01 00 00 ff 74 22 49 c1 e0 "
	  "03 48 89 c2 48 b8 cd cc cc cc cc cc cc cc 48 89 d6 49 f7 e0 48 c1 ea 02 48 ff c2 eb 10 5d c3 5d "
	  "c3 8b 86 20 01 00 00 88 04 13 48 ff c2 48 83 fa 08 7d ec 48 39 ca 72 e9 e8 c3 b4 ef ff 0f 1f 00 "
	  "e8 bb b4 ef ff e8 b6 b4 ef ff e8 b1 b4 ef ff e8 ac b4 ef ff e8 a7 b4 ef ff e8 a2 b4 ef ff 90",
	  0x240, 0, ANALYZE_SIGNALS_OWNED, NULL, 0, 0, "entry 0+e; ret 1a+2 hop@5; ret 1f4+b steer f9>1fd; ret 1ff+2 hop@1f9" },
	{ "a branch to the ret inside the entry window cannot be steered: int3", NULL,
	  /* test rax,rax; jle L (rel32); lea rax,[rax+rax*2]; L: ret */
	  "48 85 c0 0f 8e 04 00 00 00 48 8d 04 40 c3", 0, 0, ANALYZE_SIGNALS_OWNED, NULL, 0, 0,
	  "entry 0+9; ret d+1 int3" },
};

static int failures;

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v, rep;
	int k;
	while (sscanf(s, " %2x%n", &v, &k) == 1) {
		s += k;
		rep = 1;
		if (*s == '*' && sscanf(s + 1, "%u%n", &rep, &k) == 1)
			s += 1 + k;
		for (unsigned i = 0; i < rep && n < cap; i++)
			out[n++] = (uint8_t)v;
	}
	return n;
}

static bool read_ptr(void *ctx, uint64_t addr, uint64_t *value)
{
	const int *t = ctx;
	uint64_t table = BASE + 0x100d;
	if (!t || addr < table || (addr - table) % 8)
		return false;
	uint64_t i = (addr - table) / 8;
	for (uint64_t k = 0; k <= i; k++)
		if (t[k] < 0) {
			*value = 0x7f0000; /* the next object: not in the function */
			return true;
		}
	*value = BASE + (uint64_t)t[i];
	return true;
}

static const char *name_at(void *ctx, uint64_t addr)
{
	(void)ctx;
	return addr == BASE + 0x1000 ? "main.(*T).M" : NULL;
}

static void print_window(char *buf, size_t cap, const char *kind, const struct analyze_window *w,
			 const struct analyze_redirect *redirs)
{
	size_t o = strlen(buf);
	o += (size_t)snprintf(buf + o, cap - o, "%s%s %llx+%x", o ? "; " : "", kind,
			      (unsigned long long)(w->addr - BASE), w->len);
	if (w->code_len != w->len)
		o += (size_t)snprintf(buf + o, cap - o, "(%x)", w->code_len);
	if (w->hop)
		o += (size_t)snprintf(buf + o, cap - o, " %s@%llx", w->twin ? "twin" : "hop",
				      (unsigned long long)(w->hop_addr - BASE));
	if (w->int3)
		o += (size_t)snprintf(buf + o, cap - o, " int3");
	for (uint32_t k = w->redir; k < w->redir + w->nredir && o < cap; k++) {
		const struct analyze_redirect *r = &redirs[k];
		o += (size_t)snprintf(buf + o, cap - o, " steer %llx>%llx", (unsigned long long)(r->from - BASE),
				      (unsigned long long)(r->to - BASE));
		if (r->hop_addr && r->hop_addr >= BASE)
			o += (size_t)snprintf(buf + o, cap - o, "@%llx", (unsigned long long)(r->hop_addr - BASE));
		else if (r->hop_addr)
			o += (size_t)snprintf(buf + o, cap - o, "@-%llx", (unsigned long long)(BASE - r->hop_addr));
	}
}

/* Whether a and b are the same bytes once one-byte nops (0x90) are left out: a twin
 * (analyze_tail.c) may differ from its window by a nop before the ret. */
static bool same_but_nop(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t i = 0, j = 0;
	for (;; i++, j++) {
		while (i < alen && a[i] == 0x90)
			i++;
		while (j < blen && b[j] == 0x90)
			j++;
		if (i == alen || j == blen)
			return i == alen && j == blen;
		if (a[i] != b[j])
			return false;
	}
}

/* The plan's windows relocate, hops encode, and nothing overlaps. */
static const char *check_windows(const struct analyze_plan *p, const uint8_t *code, uint32_t len)
{
	const struct analyze_window *all[64];
	size_t n = 0;
	all[n++] = &p->entry;
	for (size_t i = 0; i < p->nsites && n < 64; i++)
		all[n++] = &p->sites[i];
	uint64_t last = BASE;
	for (size_t i = 0; i < n; i++) {
		const struct analyze_window *w = all[i];
		uint8_t out[RELOC_MAX_OUT(ANALYZE_MAX_CODE)], hop[2];
		char why[256];
		size_t outlen;
		if (w->addr < last || w->addr + w->len > BASE + len)
			return "windows overlap or leave the function";
		last = w->addr + w->len;
		if (w->code_len > ANALYZE_MAX_CODE || reloc_window(code + (w->addr - BASE), w->code_len, w->addr, BASE + 0x10000000,
						     w->ret ? RELOC_DROP_RET : 0, out, sizeof out, &outlen, why,
						     sizeof why))
			return "a window does not relocate";
		/* A hop goes to the padding, or right past the jump of a window of 10 bytes or
		 * more (analyze_tail.c: no thread can be left between that jump and the hop). */
		bool tail = false;
		for (size_t j = 0; j < n; j++)
			tail |= all[j] != w && all[j]->hop_addr != w->hop_addr && !all[j]->hop &&
				all[j]->len >= 10 && w->hop_addr == all[j]->addr + 5;
		if (w->hop && (reloc_jmp8(hop, w->addr, w->hop_addr) ||
			       (!tail && !w->twin && w->hop_addr < p->body_end) || w->hop_addr + 5 > BASE + len))
			return "a hop does not encode or leaves the padding and every window's tail";
		bool twin = false; /* a window of the same bytes, with its own jump */
		for (size_t j = 0; j < n && w->twin; j++)
			twin |= all[j] != w && all[j]->addr == w->hop_addr && !all[j]->twin && !all[j]->int3 &&
				all[j]->len &&
				same_but_nop(code + (all[j]->addr - BASE), all[j]->code_len, code + (w->addr - BASE),
					     w->code_len);
		if (w->twin && !twin)
			return "a twin hop does not go to a window of the same bytes";
		if (!w->hop && w->len < 5 && !w->int3 && !(w->len == 0 && w->nredir))
			return "a window shorter than 5 bytes without a hop";
		for (uint32_t k = w->redir; k < w->redir + w->nredir; k++) {
			const struct analyze_redirect *r = &p->redirs[k];
			int64_t d = (int64_t)(r->hop_addr - (r->from + 2));
			if (r->to <= w->addr || r->to >= w->addr + w->code_len)
				if (!(w->len == 0 && r->to == w->addr))
					return "a steered branch's target is not inside its window";
			if (r->hop_addr && (r->from_len != 2 || d < -128 || d > 127))
				return "a steered rel8 branch does not reach its hop";
			if (!r->hop_addr && r->from_len != 5 && r->from_len != 6)
				return "a steered branch kept in place is not rel32";
			for (size_t j = 0; j < n; j++)
				if (r->from < all[j]->addr + all[j]->len && all[j]->addr < r->from + r->from_len)
					return "a steered branch lies in a window";
		}
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (all[i]->hop && all[j]->hop && !all[i]->twin && !all[j]->twin &&
			    all[i]->hop_addr + 5 > all[j]->hop_addr &&
			    all[j]->hop_addr + 5 > all[i]->hop_addr)
				return "hop slots overlap";
	return NULL;
}

static void run_case(const struct acase *c)
{
	uint8_t code[1024];
	memset(code, 0xCC, sizeof code);
	uint32_t n = (uint32_t)unhex(c->code, code, sizeof code);
	uint32_t len = c->len ? c->len : n;
	struct analyze_input in = {
		.name = c->name ? c->name : "main.f", .entry = BASE, .end = BASE + len, .code = code,
		.flag = c->flag, .opts = c->opts, .read_ptr = c->table ? read_ptr : NULL,
		.name_at = name_at, .ctx = (void *)c->table,
		.prev_pad_lo = c->prev_pad ? BASE - c->prev_pad : 0, .prev_pad_hi = c->prev_pad ? BASE : 0,
	};
	struct analyze_plan plan;
	char reason[512] = "", got[512] = "";
	int rc = analyze_func(&in, &plan, reason, sizeof reason);
	const char *bad = NULL;
	if (rc == 0) {
		print_window(got, sizeof got, plan.entry.ret ? "whole" : "entry", &plan.entry, plan.redirs);
		for (size_t i = 0; i < plan.nsites; i++)
			print_window(got, sizeof got, "ret", &plan.sites[i], plan.redirs);
		bad = check_windows(&plan, code, len);
		analyze_plan_free(&plan);
	}
	bool ok = rc == c->rc && !bad && (rc == 0 ? strcmp(got, c->want) == 0 : strstr(reason, c->want) != NULL);
	if (ok) {
		printf("ok: %s\n    %s\n", c->what, rc == 0 ? got : reason);
		return;
	}
	printf("FAIL: %s\n  got  rc %d: %s%s%s\n  want rc %d: %s\n", c->what, rc, rc == 0 ? got : reason,
	       bad ? " -- " : "", bad ? bad : "", c->rc, c->want);
	failures++;
}

static void expect(bool cond, const char *what)
{
	printf("%s: %s\n", cond ? "ok" : "FAIL", what);
	failures += !cond;
}

static void test_policy(void)
{
	expect(analyze_name_policy("runtime.sigtramp") != NULL, "runtime.sigtramp is refused by name");
	expect(analyze_name_policy("runtime/internal/atomic.Load") != NULL, "runtime/internal/* is refused");
	expect(analyze_name_policy("syscall.runtime_AfterForkInChild") != NULL,
	       "syscall.runtime_AfterForkInChild (runs in the child) is refused");
	expect(analyze_name_policy("net/http.(*conn).serve") == NULL, "net/http.(*conn).serve is not");
	expect(analyze_name_policy("syscall.Syscall") == NULL, "syscall.Syscall is not");
	expect(analyze_name_policy("reflect.Value.Call") == NULL, "reflect.Value.Call is not");
}

int main(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run_case(&cases[i]);
	test_policy();
	printf("%s\n", failures ? "FAILED" : "all passed");
	return failures ? 1 : 0;
}

/* The relocator, byte for byte, one instruction kind per case (as frida-gum's
 * relocator tests do): what is copied, what is re-encoded and how, what is refused.
 * Code is taken from SRC and relocated to DST, 1 MiB higher, so every rel32 and
 * rip displacement shrinks by 0x100000: 0x100 becomes 00 01 f0 ff. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "reloc.h"

#define SRC 0x401000ull
#define DST 0x501000ull
#define FAR (SRC + 0x90000000ull) /* beyond rel32 reach of SRC */

struct rcase {
	const char *name;
	const char *in;   /* hex bytes at SRC */
	uint64_t dst;
	unsigned flags;
	int rc;
	const char *out;  /* hex bytes expected at dst, when rc == 0 */
	const char *why;  /* a substring of the reason, when rc != 0 */
};

static const struct rcase cases[] = {
	/* copied as they are */
	{ "frame setup is copied", "55 48 89 e5 48 83 ec 18", DST, 0, 0,
	  "55 48 89 e5 48 83 ec 18", NULL }, /* push rbp; mov rbp,rsp; sub rsp,0x18 */
	{ "g-relative stack check is copied", "49 3b 66 10", DST, 0, 0, "49 3b 66 10", NULL },
	{ "nil check and getter are copied", "84 00 48 8b 40 08", DST, 0, 0, "84 00 48 8b 40 08", NULL },
	{ "stack store with sib is copied", "48 89 44 24 28", DST, 0, 0, "48 89 44 24 28", NULL },
	{ "TLS load is copied", "64 48 8b 04 25 f8 ff ff ff", DST, 0, 0, "64 48 8b 04 25 f8 ff ff ff", NULL },
	{ "xmm15 zeroing store is copied", "44 0f 11 7c 24 08", DST, 0, 0, "44 0f 11 7c 24 08", NULL },
	/* rip-relative operands: the displacement follows the move */
	{ "rip load: disp adjusted", "48 8b 05 00 01 00 00", DST, 0, 0, "48 8b 05 00 01 f0 ff", NULL },
	{ "rip lea: disp adjusted", "48 8d 0d 20 00 00 00", DST, 0, 0, "48 8d 0d 20 00 f0 ff", NULL },
	{ "rip cmp with imm8 after disp", "80 3d 10 00 00 00 00", DST, 0, 0, "80 3d 10 00 f0 ff 00", NULL },
	{ "rip movups (0f map)", "0f 10 05 40 00 00 00", DST, 0, 0, "0f 10 05 40 00 f0 ff", NULL },
	{ "rip operand after a copied one", "55 48 8b 05 00 01 00 00", DST, 0, 0,
	  "55 48 8b 05 00 01 f0 ff", NULL },
	{ "rip 16-bit store (0x66: still disp32)", "66 89 05 00 01 00 00", DST, 0, 0,
	  "66 89 05 00 01 f0 ff", NULL },
	{ "rip 16-bit store of an imm16 after the disp", "66 c7 05 00 01 00 00 34 12", DST, 0, 0,
	  "66 c7 05 00 01 f0 ff 34 12", NULL },
	{ "eip-relative operand (0x67) refused", "67 48 8b 05 00 01 00 00", DST, 0, -EINVAL, NULL,
	  "eip-relative" },
	/* branches: widened to rel32, aimed at the original target */
	{ "jcc rel8 becomes 0f 8x rel32", "74 10", DST, 0, 0, "0f 84 0c 00 f0 ff", NULL },
	{ "jmp rel8 becomes e9 rel32", "eb 10", DST, 0, 0, "e9 0d 00 f0 ff", NULL },
	{ "jcc rel32 is re-targeted", "0f 85 00 02 00 00", DST, 0, 0, "0f 85 00 02 f0 ff", NULL },
	{ "jmp rel32 is re-targeted", "e9 00 02 00 00", DST, 0, 0, "e9 00 02 f0 ff", NULL },
	{ "backward jcc rel8", "7e f0", DST, 0, 0, "0f 8e ec ff ef ff", NULL },
	{ "Go 1.21 entry: stack check then jbe rel8", "49 3b 66 10 76 30", DST, 0, 0,
	  "49 3b 66 10 0f 86 2c 00 f0 ff", NULL },
	{ "widened jcc moves the rip operand after it", "74 10 48 8b 05 00 01 00 00", DST, 0, 0,
	  "0f 84 0c 00 f0 ff 48 8b 05 fc 00 f0 ff", NULL },
	{ "branch back to the window's first byte", "85 c0 75 fc", DST, 0, 0,
	  "85 c0 0f 85 f8 ff ef ff", NULL },
	/* return windows: the ret stays behind */
	{ "ret dropped from a Go 1.21 epilogue", "48 83 c4 18 5d c3", DST, RELOC_DROP_RET, 0,
	  "48 83 c4 18 5d", NULL },
	{ "lone ret dropped", "c3", DST, RELOC_DROP_RET, 0, "", NULL },
	/* refused */
	{ "call rel32 refused", "e8 00 00 00 00", DST, 0, -EINVAL, NULL, "fatal to Go's unwinder" },
	{ "call reg refused", "ff d0", DST, 0, -EINVAL, NULL, "cannot be relocated" },
	{ "loop refused", "e2 00", DST, 0, -EINVAL, NULL, "only a rel8 form" },
	{ "jrcxz refused", "e3 00", DST, 0, -EINVAL, NULL, "only a rel8 form" },
	{ "jecxz refused", "67 e3 00", DST, 0, -EINVAL, NULL, "only a rel8 form" },
	{ "jmp reg refused", "ff e1", DST, 0, -EINVAL, NULL, "indirect jump" },
	{ "jmp [rip] refused", "ff 25 00 00 00 00", DST, 0, -EINVAL, NULL, "indirect jump" },
	{ "jump table jmp refused", "ff 24 c1", DST, 0, -EINVAL, NULL, "indirect jump" },
	{ "syscall refused", "0f 05", DST, 0, -EINVAL, NULL, "traps" },
	{ "int3 refused", "cc", DST, 0, -EINVAL, NULL, "traps" },
	{ "ud2 refused", "0f 0b", DST, 0, -EINVAL, NULL, "traps" },
	{ "ret without RELOC_DROP_RET refused", "5d c3", DST, 0, -EINVAL, NULL, "a ret can only end" },
	{ "ret inside a window refused", "c3 5d c3", DST, RELOC_DROP_RET, -EINVAL, NULL, "a ret can only end" },
	{ "RELOC_DROP_RET without a final ret", "48 83 c4 18", DST, RELOC_DROP_RET, -EINVAL, NULL,
	  "does not end with a plain ret" },
	{ "branch into the window's own bytes refused", "75 01 90 90", DST, 0, -EINVAL, NULL,
	  "jumps into its own window" },
	{ "prefixed branch refused", "3e 74 10", DST, 0, -EINVAL, NULL, "prefixes" },
	{ "truncated instruction refused", "48 8b", DST, 0, -EINVAL, NULL, "cannot decode" },
	{ "undecodable byte refused", "06", DST, 0, -EINVAL, NULL, "cannot decode" },
	{ "jmp out of rel32 reach", "eb 10", FAR, 0, -ERANGE, NULL, "out of rel32 reach" },
	{ "rip operand out of reach", "48 8b 05 00 01 00 00", FAR, 0, -ERANGE, NULL, "out of reach" },
};

static int failures;

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v;
	int k;
	while (n < cap && sscanf(s, " %2x%n", &v, &k) == 1) {
		out[n++] = (uint8_t)v;
		s += k;
	}
	return n;
}

static void hex(const uint8_t *b, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	out[0] = 0;
	for (size_t i = 0; i < n && o + 4 < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%02x", i ? " " : "", b[i]);
}

static void run_case(const struct rcase *c)
{
	uint8_t in[32], out[RELOC_MAX_OUT(32)], want[64];
	char reason[256] = "", got[200];
	size_t n = unhex(c->in, in, sizeof in), outlen = 99;
	int rc = reloc_window(in, n, SRC, c->dst, c->flags, out, sizeof out, &outlen, reason, sizeof reason);
	bool ok = rc == c->rc;
	if (ok && rc == 0) {
		size_t wn = unhex(c->out, want, sizeof want);
		ok = outlen == wn && memcmp(out, want, wn) == 0;
	} else if (ok) {
		ok = outlen == 0 && strstr(reason, c->why) != NULL;
	}
	hex(out, rc == 0 ? outlen : 0, got, sizeof got);
	if (!ok) {
		printf("FAIL: %s\n  in   %s\n  got  rc %d [%s] %s\n  want rc %d [%s] %s\n", c->name, c->in, rc, got,
		       reason, c->rc, c->out ? c->out : "", c->why ? c->why : "");
		failures++;
	} else {
		printf("ok: %s: %s -> %s%s\n", c->name, c->in, rc ? "refused: " : got, rc ? reason : "");
	}
}

static void expect(bool cond, const char *what)
{
	printf("%s: %s\n", cond ? "ok" : "FAIL", what);
	failures += !cond;
}

/* The jumps the patcher writes. */
static void test_jumps(void)
{
	uint8_t b[5];
	expect(reloc_jmp32(b, SRC, DST) == 0 && memcmp(b, "\xe9\xfb\xff\x0f\x00", 5) == 0,
	       "jmp rel32 SRC -> DST is e9 fb ff 0f 00");
	expect(reloc_jmp32(b, DST, SRC) == 0 && memcmp(b, "\xe9\xfb\xff\xef\xff", 5) == 0,
	       "jmp rel32 DST -> SRC is e9 fb ff ef ff");
	expect(reloc_jmp32(b, SRC, FAR) == -ERANGE, "jmp rel32 beyond 2 GiB is -ERANGE");
	expect(reloc_jmp8(b, SRC, SRC + 0x10) == 0 && b[0] == 0xeb && b[1] == 0x0e, "hop forward is eb 0e");
	expect(reloc_jmp8(b, SRC, SRC + 2 + 127) == 0 && b[1] == 0x7f, "hop of +127 fits");
	expect(reloc_jmp8(b, SRC, SRC + 2 + 128) == -ERANGE, "hop of +128 is -ERANGE");
	expect(reloc_jmp8(b, SRC, SRC + 2 - 128) == 0 && b[1] == 0x80, "hop of -128 fits");
	expect(reloc_rel32_reaches(SRC, SRC + 0x7fffffff) && !reloc_rel32_reaches(SRC, SRC + 0x80000000ull),
	       "rel32 reach ends at +2^31-1");
}

static void test_nospace(void)
{
	uint8_t in[] = { 0x74, 0x10 }, out[5];
	char reason[128];
	size_t n;
	int rc = reloc_window(in, sizeof in, SRC, DST, 0, out, sizeof out, &n, reason, sizeof reason);
	expect(rc == -ENOSPC, "a widened jcc does not fit 5 bytes: -ENOSPC");
}

int main(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run_case(&cases[i]);
	test_jumps();
	test_nospace();
	printf("%s\n", failures ? "FAILED" : "all passed");
	return failures ? 1 : 0;
}

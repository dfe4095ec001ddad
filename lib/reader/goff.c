/* goff: offsets of the runtime.g fields the recorder reads, for the Go version that
 * built the binary. DWARF is the authority when present (dwarf.c); stripped binaries,
 * as distributions ship them, get the table below, checked against DWARF of every
 * tested toolchain by tests/reader.
 *
 * g begins { stack{lo,hi}, stackguard0, stackguard1, _panic, _defer, m, … } in every
 * release since 1.17 (runtime/runtime2.go); only goid moves with the fields before it.
 * The struct has no architecture-dependent field (gobuf keeps lr and bp on every
 * architecture), so the offsets are those of every 64-bit GOARCH: tests/reader checks
 * the table against the DWARF of amd64 and arm64 builds alike. */
#include "gobin.h"
#include "dwarf.h"

struct goid_row {
	int first_minor, last_minor;
	uint32_t goid;
};

static const struct goid_row GOID_TABLE[] = {
	{ 17, 22, 0x98 },
	{ 23, 24, 0xa0 },
	{ 25, 1000, 0x98 },
};

static void from_table(struct gobin *gb)
{
	gb->goff.goid = 0;
	for (size_t i = 0; i < sizeof(GOID_TABLE) / sizeof(*GOID_TABLE); i++)
		if (gb->go_minor >= GOID_TABLE[i].first_minor && gb->go_minor <= GOID_TABLE[i].last_minor)
			gb->goff.goid = GOID_TABLE[i].goid;
	gb->goff.source = gb->goff.goid ? "table" : "unknown";
}

void goff_find(struct gobin *gb)
{
	gb->goff.stack_lo = 0;
	gb->goff.stack_hi = 8;
	gb->goff.stackguard0 = 0x10;
	gb->goff.m = 0x30;
	gb->has_dwarf = dwarf_present(&gb->elf);
	uint64_t goid, hi, m;
	if (gb->has_dwarf && dwarf_member_offset(&gb->elf, "runtime.g", "goid", &goid) == 0 &&
	    dwarf_member_offset(&gb->elf, "runtime.g", "m", &m) == 0 &&
	    dwarf_member_offset(&gb->elf, "runtime.stack", "hi", &hi) == 0) {
		gb->goff.goid = (uint32_t)goid;
		gb->goff.m = (uint32_t)m;
		gb->goff.stack_hi = (uint32_t)hi;
		gb->goff.source = "dwarf";
		return;
	}
	from_table(gb);
}

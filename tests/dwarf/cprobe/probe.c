/* Built by tests/dwarf/CMakeLists.txt once per DWARF variant (version, 64-bit
 * format, compression, compiler); dwarf_test --cprobe reads its struct back. */
#include "probe.h"

struct golat_probe golat_probe_var;

int main(void)
{
	return golat_probe_var.a;
}

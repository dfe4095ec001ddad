/* version: golat_version(), shared by the library and the CLI. */
#include "golat.h"

__attribute__((visibility("default"))) const char *golat_version(void)
{
	return GOLAT_VERSION_STRING;
}

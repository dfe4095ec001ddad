/* A C program that links the attach API through the installed golat.pc. It runs with
 * neither LD_PRELOAD nor LD_LIBRARY_PATH, so the loader finds libgolat.so by the run
 * path golat.pc adds. The program is not Go, so the library is inert and golat_attach
 * answers -ENOEXEC with a reason. */
#include <errno.h>
#include <stdio.h>

#include <golat.h>

int main(void)
{
	int rc = golat_attach("main.*");
	printf("golat_attach %d (%s)\n", rc, golat_error());
	return rc == -ENOEXEC ? 0 : 1;
}

/* golat.h — the public interface of libgolat.so.
 *
 * golat measures how long chosen functions of a running Go program take. It is loaded
 * with LD_PRELOAD into a dynamically linked (cgo) Go program on linux/amd64 and is
 * driven by environment variables (see README.md):
 *
 *   GOLAT_FUNCS  comma-separated specs: exact Go names or globs, `!spec` excludes
 *   GOLAT_LOG    quiet | info | debug  (every diagnostic line starts "golat: ")
 *
 * Loaded into a program that is not Go, or with GOLAT_FUNCS unset, the library does
 * nothing and prints nothing. The functions below let a program (through cgo) hook
 * and unhook its own functions while it runs; they are the only symbols the shared
 * object exports. All are thread-safe. Errors are negative errno values; the
 * calling thread's golat_error() then says why in a sentence.
 */
#ifndef GOLAT_H
#define GOLAT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, "MAJOR.MINOR.PATCH". Never NULL. */
const char *golat_version(void);

/* Hooks every function of this program that specs select (GOLAT_FUNCS syntax), with
 * the other threads frozen for the moment of the patch. Returns how many functions
 * were newly hooked (0 or more; functions that cannot be hooked safely are skipped and
 * logged with their reason at GOLAT_LOG=debug), or:
 *   -ENOEXEC  the program is not Go, or its function table cannot be read
 *   -ETIMEDOUT, -EBUSY  the world could not be stopped (a thread would not stop, or
 *             stayed inside code being patched); nothing was changed
 *   -ENOTSUP  patching while goroutines run needs runtime.asyncPreempt hooked first
 *             (to move goroutines preempted inside a window), and it could not be
 *   -ENOMEM, -EINVAL */
int golat_attach(const char *specs);

/* Unhooks the hooked functions that specs select; returns how many, or an error as
 * golat_attach. A call in progress when its function is unhooked is not counted. */
int golat_detach(const char *specs);

struct golat_counts {
	uint64_t entries;   /* calls entered through the hook */
	uint64_t calls;     /* calls whose entry and return were both seen */
	uint64_t abandoned; /* entered, then unwound by a panic */
};

/* The counts of the function named name (summed over functions of that name):
 * 0, or -ENOENT when it was never hooked. */
int golat_counts(const char *name, struct golat_counts *out);

/* Why the calling thread's last failed golat_* call failed. Never NULL. It is per
 * thread: a Go caller must read it in the same C function as the failed call, since
 * the goroutine may run on another thread at its next cgo call. */
const char *golat_error(void);

#ifdef __cplusplus
}
#endif

#endif

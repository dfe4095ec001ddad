/* glibc_compat: what lets libgolat.so (and the golat command) load into any glibc from
 * 2.17 on, though they are built against a newer one.
 *
 * A call into libc binds at link time to the newest version of the symbol the build
 * machine's libc has (stat@GLIBC_2.33, pthread_create@GLIBC_2.34, ...), and the dynamic
 * linker of an older glibc refuses the whole object ("version `GLIBC_2.34' not found").
 * This header is force-included (-include, lib/CMakeLists.txt and tools/CMakeLists.txt)
 * before every C file of golat_core, libgolat.so and the command, never of the
 * freestanding golat-agent.so, so the sources call libc as usual and:
 *   - a function that exists at an old version binds to it (.symver below). Before
 *     glibc 2.34 pthread_create and its kin live in libpthread.so.0 and dlsym in
 *     libdl.so.2, at these same versions (2.34+ keeps them in libc.so.6 as compat
 *     symbols). libgolat.so must not NEED those files: an image made of a Go
 *     program and what its ldd lists has neither on glibc 2.34+, and a libdl.so.2 is
 *     rarely there before. So they are weak references: the dynamic linker binds
 *     them wherever they are loaded (the version's name decides, not the file), or
 *     to 0. Every cgo program before 2.34 loads libpthread.so.0 (runtime/cgo links
 *     -lpthread); golat_threads_ok() says whether they are all there, and the
 *     constructor stays inert, saying why, where they are not; sigown takes libc's
 *     __sigaction where there is no dlsym;
 *   - a function that has no old version (stat, fstat, lstat, fstatat: 2.33;
 *     strerrorname_np: 2.32; reallocarray: 2.26) is renamed to golat_<name>,
 *     glibc_compat.c.
 * tests/selfcontained proves the result from the ELF headers: no GLIBC_ version above
 * 2.17. A new libc call that fails it gets a line here.
 *
 * Nothing here may include a libc header: this runs before each source's own
 * `#define _GNU_SOURCE`, which must come before libc's first header to take effect. */
#ifndef GOLAT_GLIBC_COMPAT_H
#define GOLAT_GLIBC_COMPAT_H
#ifndef __ASSEMBLER__

/* x86-64's first glibc version is GLIBC_2.2.5; pthread_setname_np came in 2.12. Each
 * entry is the same code as the default version on the build machine (glibc 2.34
 * made the old names aliases when it moved libpthread and libdl into libc). */
__asm__(".symver pthread_create, pthread_create@GLIBC_2.2.5");
__asm__(".symver pthread_once, pthread_once@GLIBC_2.2.5");
__asm__(".symver pthread_key_create, pthread_key_create@GLIBC_2.2.5");
__asm__(".symver pthread_getspecific, pthread_getspecific@GLIBC_2.2.5");
__asm__(".symver pthread_setspecific, pthread_setspecific@GLIBC_2.2.5");
__asm__(".symver pthread_setname_np, pthread_setname_np@GLIBC_2.12");
__asm__(".symver dlsym, dlsym@GLIBC_2.2.5");
/* clang warns, with no flag to silence it, of a weak identifier that a file never
 * declares, and most files declare none of these. The library and the command are built
 * with gcc; clang builds only the fuzz targets, programs that bind libc as any does. */
#ifndef __clang__
#pragma weak pthread_create
#pragma weak pthread_once
#pragma weak pthread_key_create
#pragma weak pthread_getspecific
#pragma weak pthread_setspecific
#pragma weak pthread_setname_np
#pragma weak dlsym
#endif
/* Whether a weak function is bound. Through a parameter: a function's own name in a
 * condition makes clang warn that it is never null, weak or not. */
static inline _Bool golat_bound(void (*f)(void))
{
	return f != 0;
}
#define GOLAT_BOUND(f) golat_bound((void (*)(void))(f))
/* pthread_sigmask is libpthread's before 2.32; on Linux sigprocmask (libc.so.6 since
 * GLIBC_2.2.5) sets the calling thread's mask as well. */
#define pthread_sigmask(how, set, old) sigprocmask(how, set, old)
/* Whether every weak function above that golat needs is bound (see above). */
_Bool golat_threads_ok(void);
/* glob@GLIBC_2.27 only changed how GLOB_ALTDIRFUNC's callbacks are called (gl_lstat),
 * which golat does not use. */
__asm__(".symver glob, glob@GLIBC_2.2.5");

/* Function-like for the stat family, so that `struct stat` keeps its name. The
 * prototypes are given here because libc's headers declare them only under their
 * own conditions (_GNU_SOURCE for the last two). */
struct stat;
int golat_stat(const char *path, struct stat *st);
int golat_fstat(int fd, struct stat *st);
int golat_lstat(const char *path, struct stat *st);
int golat_fstatat(int dirfd, const char *path, struct stat *st, int flags);
const char *golat_strerrorname_np(int err);
void *golat_reallocarray(void *p, __SIZE_TYPE__ n, __SIZE_TYPE__ size);
#define stat(path, st) golat_stat(path, st)
#define fstat(fd, st) golat_fstat(fd, st)
#define lstat(path, st) golat_lstat(path, st)
#define fstatat(dirfd, path, st, flags) golat_fstatat(dirfd, path, st, flags)
#define strerrorname_np golat_strerrorname_np
#define reallocarray golat_reallocarray

#endif /* __ASSEMBLER__ */
#endif /* GOLAT_GLIBC_COMPAT_H */

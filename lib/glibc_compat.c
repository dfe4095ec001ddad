/* glibc_compat: golat's own copies of the libc functions that have no version old
 * enough for glibc 2.17 (glibc_compat.h renames the calls to these). Each behaves as
 * the glibc function it stands for, in what golat relies on. */
#define _GNU_SOURCE
#include "glibc_compat.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

/* stat, fstat, lstat and fstatat became libc symbols in glibc 2.33. Before, <sys/stat.h>
 * made them inline calls of these, with the structure version as first argument
 * (_STAT_VER_LINUX, 1 on x86-64: glibc's sysdeps/unix/sysv/linux/x86/xstatver.h):
 * these are what a program built against glibc 2.32 calls, and every later glibc
 * keeps them. */
#define GOLAT_STAT_VER 1
int __xstat(int ver, const char *path, struct stat *st);
int __fxstat(int ver, int fd, struct stat *st);
int __lxstat(int ver, const char *path, struct stat *st);
int __fxstatat(int ver, int dirfd, const char *path, struct stat *st, int flags);

int golat_stat(const char *path, struct stat *st)
{
	return __xstat(GOLAT_STAT_VER, path, st);
}

int golat_fstat(int fd, struct stat *st)
{
	return __fxstat(GOLAT_STAT_VER, fd, st);
}

int golat_lstat(const char *path, struct stat *st)
{
	return __lxstat(GOLAT_STAT_VER, path, st);
}

int golat_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	return __fxstatat(GOLAT_STAT_VER, dirfd, path, st, flags);
}

/* reallocarray (glibc 2.26): realloc of n * size, or NULL and ENOMEM when the product
 * overflows. */
void *golat_reallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n * size);
}

/* strerrorname_np (glibc 2.32): the macro's name of an errno value ("ENOENT"), "0"
 * for 0, NULL for a value that has none. Linux's x86-64 numbers (asm-generic/errno*.h);
 * the aliases EWOULDBLOCK, EDEADLOCK and ENOTSUP name the same values as EAGAIN,
 * EDEADLK and EOPNOTSUPP, and glibc answers with those. */
#define E(name) [name] = #name
static const char *const errno_names[] = {
	[0] = "0",
	E(EPERM), E(ENOENT), E(ESRCH), E(EINTR), E(EIO), E(ENXIO), E(E2BIG), E(ENOEXEC),
	E(EBADF), E(ECHILD), E(EAGAIN), E(ENOMEM), E(EACCES), E(EFAULT), E(ENOTBLK),
	E(EBUSY), E(EEXIST), E(EXDEV), E(ENODEV), E(ENOTDIR), E(EISDIR), E(EINVAL),
	E(ENFILE), E(EMFILE), E(ENOTTY), E(ETXTBSY), E(EFBIG), E(ENOSPC), E(ESPIPE),
	E(EROFS), E(EMLINK), E(EPIPE), E(EDOM), E(ERANGE), E(EDEADLK), E(ENAMETOOLONG),
	E(ENOLCK), E(ENOSYS), E(ENOTEMPTY), E(ELOOP), E(ENOMSG), E(EIDRM), E(ECHRNG),
	E(EL2NSYNC), E(EL3HLT), E(EL3RST), E(ELNRNG), E(EUNATCH), E(ENOCSI), E(EL2HLT),
	E(EBADE), E(EBADR), E(EXFULL), E(ENOANO), E(EBADRQC), E(EBADSLT), E(EBFONT),
	E(ENOSTR), E(ENODATA), E(ETIME), E(ENOSR), E(ENONET), E(ENOPKG), E(EREMOTE),
	E(ENOLINK), E(EADV), E(ESRMNT), E(ECOMM), E(EPROTO), E(EMULTIHOP), E(EDOTDOT),
	E(EBADMSG), E(EOVERFLOW), E(ENOTUNIQ), E(EBADFD), E(EREMCHG), E(ELIBACC),
	E(ELIBBAD), E(ELIBSCN), E(ELIBMAX), E(ELIBEXEC), E(EILSEQ), E(ERESTART),
	E(ESTRPIPE), E(EUSERS), E(ENOTSOCK), E(EDESTADDRREQ), E(EMSGSIZE), E(EPROTOTYPE),
	E(ENOPROTOOPT), E(EPROTONOSUPPORT), E(ESOCKTNOSUPPORT), E(EOPNOTSUPP),
	E(EPFNOSUPPORT), E(EAFNOSUPPORT), E(EADDRINUSE), E(EADDRNOTAVAIL), E(ENETDOWN),
	E(ENETUNREACH), E(ENETRESET), E(ECONNABORTED), E(ECONNRESET), E(ENOBUFS),
	E(EISCONN), E(ENOTCONN), E(ESHUTDOWN), E(ETOOMANYREFS), E(ETIMEDOUT),
	E(ECONNREFUSED), E(EHOSTDOWN), E(EHOSTUNREACH), E(EALREADY), E(EINPROGRESS),
	E(ESTALE), E(EUCLEAN), E(ENOTNAM), E(ENAVAIL), E(EISNAM), E(EREMOTEIO), E(EDQUOT),
	E(ENOMEDIUM), E(EMEDIUMTYPE), E(ECANCELED), E(ENOKEY), E(EKEYEXPIRED),
	E(EKEYREVOKED), E(EKEYREJECTED), E(EOWNERDEAD), E(ENOTRECOVERABLE), E(ERFKILL),
	E(EHWPOISON),
};
#undef E

const char *golat_strerrorname_np(int err)
{
	if (err < 0 || (size_t)err >= sizeof(errno_names) / sizeof(errno_names[0]))
		return NULL;
	return errno_names[err];
}

_Bool golat_threads_ok(void)
{
	/* The weak references of glibc_compat.h that the engine cannot do without. */
	return GOLAT_BOUND(pthread_create) && GOLAT_BOUND(pthread_once) &&
	       GOLAT_BOUND(pthread_key_create) && GOLAT_BOUND(pthread_getspecific) &&
	       GOLAT_BOUND(pthread_setspecific);
}

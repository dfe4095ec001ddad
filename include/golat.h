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
 * nothing and prints nothing. Functions declared here are the only symbols the shared
 * object exports.
 */
#ifndef GOLAT_H
#define GOLAT_H

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, "MAJOR.MINOR.PATCH". Never NULL. */
const char *golat_version(void);

#ifdef __cplusplus
}
#endif

#endif

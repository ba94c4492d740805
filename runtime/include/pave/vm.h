/* Pave VM, C API (SPEC §7.6): open a bundle, decide from JSON, close.
 *
 * A bundle handle may be shared by threads; pave_decide is thread-safe (each thread gets
 * its own scratch state). Strings returned by pave_decide are malloc'd: free them with
 * pave_free. On failure, functions return NULL and pave_last_error() (per thread) says why.
 */
#ifndef PAVE_VM_H
#define PAVE_VM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
/* The C API keeps C's naming (pave_snake_case), not the C++ code's. */
/* NOLINTBEGIN(readability-identifier-naming) */

/* Only these functions are exported by the shared library (libpave.so.0). */
#if defined(__GNUC__) || defined(__clang__)
#define PAVE_API __attribute__((visibility("default")))
#else
#define PAVE_API
#endif

typedef struct pave_bundle pave_bundle;

/* public_key_pem: NULL (signatures not checked) or PEM text holding one or more Ed25519 public
 * keys; when given, the bundle must be signed by one of them. Text with no valid Ed25519 public
 * key, the empty string included, fails the open: it never means "no key". */
PAVE_API pave_bundle* pave_open(const uint8_t* bytes, size_t size, const char* public_key_pem);
PAVE_API pave_bundle* pave_open_file(const char* path, const char* public_key_pem);

/* Decides one input (JSON, SPEC §7.2); returns the decision JSON (SPEC §7.4), malloc'd.
 * explain != 0 adds the "trace". Invalid input is not a failure: it yields a deny decision. */
PAVE_API char* pave_decide(pave_bundle* bundle, const char* input_json, size_t size, int explain);

/* pave_decide writing into the caller's memory (for language bindings: no allocation to free,
 * one copy fewer). Decides, then copies the decision JSON into buf (capacity cap; no NUL is
 * added) when it fits, and returns its length. A length greater than cap means nothing was
 * written: decide again with a buffer that large (the decision is the same). Returns
 * PAVE_DECIDE_FAILED on an internal failure (pave_last_error() says why). buf is not kept. */
#define PAVE_DECIDE_FAILED ((size_t)-1)
PAVE_API size_t pave_decide_into(pave_bundle* bundle, const char* input_json, size_t size, int explain, char* buf,
                                 size_t cap);

/* The bundle's identity and shape as one JSON object (malloc'd, free with pave_free):
 *   {"digest":"sha256:<hex>","signed":true,"signer_key":"sha256:<hex of the raw key>"|null,
 *    "name":…,"revision":…,"compiler_version":…,"sources_digest":… (strings or null),
 *    "rules":N,"request_types":["ns.Type",…],"principal_types":["ns.Type",…]}
 * signer_key is null when the bundle was opened without a public key. NULL on bad arguments. */
PAVE_API char* pave_bundle_info(const pave_bundle* bundle);

/* The runtime's version ("0.1.0"), a static string. */
PAVE_API const char* pave_version(void);

PAVE_API const char* pave_last_error(void);
PAVE_API void pave_free(void* p);
PAVE_API void pave_close(pave_bundle* bundle);

/* NOLINTEND(readability-identifier-naming) */
#ifdef __cplusplus
}
#endif

#endif /* PAVE_VM_H */

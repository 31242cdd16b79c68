/* One-shot message digests with the algorithm fetched once per process.
 * OpenSSL 3 resolves EVP_md5() / EVP_sha256() by an implicit fetch on every
 * EVP_Digest() call, which costs more than hashing a ClientHello; the
 * fetched EVP_MD objects here are immutable and shared (thread-safe). */
#ifndef VTLS_DIGEST_H
#define VTLS_DIGEST_H

#include <stddef.h>

enum dg_alg { DG_MD5, DG_SHA1, DG_SHA256, DG__COUNT };

#define DG_MAX_SIZE 64

/* Digest data[0..n) with alg into out (DG_MAX_SIZE bytes). Returns the
 * digest length, or 0 when OpenSSL fails (no such algorithm, no memory). */
unsigned dg_digest(enum dg_alg alg, const void *data, size_t n, unsigned char *out);

/* The same as lower-case hex, keeping the first hexlen digits (at most
 * twice the digest length) and a NUL. Returns 0, or -1 on failure. */
int dg_hex(enum dg_alg alg, const void *data, size_t n, char *hex, size_t hexlen);

#endif

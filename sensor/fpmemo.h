/* Memo of TLS fingerprints by hello contents.
 *
 * JA3, JA3S and JA4 are digests of strings built from a hello. The clients
 * and servers of a cluster send few distinct hellos, so the digests are
 * remembered under the hello fields they are computed from
 * (fp_client_key, fp_server_key): a hit costs one comparison, not building
 * three strings and hashing them with two MD5s and two SHA-256s. Keys are
 * compared in full, so a hash collision can only cost a miss, never give a
 * hello another hello's fingerprint.
 *
 * Results are interned in the engine's string table, with one reference for
 * the caller. One memo per app engine, used from one thread. */
#ifndef VTLS_FPMEMO_H
#define VTLS_FPMEMO_H

#include "dissectors/tls.h"
#include "sensor/intern.h"

struct fpm_memo;

/* A memo of 2^bits slots whose results live in strings; NULL when out of
 * memory. */
struct fpm_memo *fpm_new(struct istr_table *strings, unsigned bits);

/* Drop every remembered key and result. NULL is a no-op. */
void fpm_free(struct fpm_memo *m);

/* JA3 (MD5 hex) and JA4 of the ClientHello; each NULL when it has none. */
void fpm_client(struct fpm_memo *m, const struct tls_client_hello *ch, const char **ja3,
                const char **ja4);

/* JA3S (MD5 hex) of the ServerHello, or NULL. */
const char *fpm_server(struct fpm_memo *m, const struct tls_server_hello *sh);

struct fpm_stats {
    uint64_t hits, misses;
};
const struct fpm_stats *fpm_stats(const struct fpm_memo *m);

#endif

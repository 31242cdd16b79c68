/* TLS fingerprints from parsed hellos: JA3, JA3S (Salesforce, BSD-3) and
 * JA4 for the client (FoxIO, BSD-3). Only JA4 itself is implemented: JA4S,
 * JA4X and the other JA4+ methods are under a licence that restricts use.
 *
 * Inputs are the hellos of struct tls_facts (dissectors/tls.h). GREASE
 * values (RFC 8701) are left out everywhere. Hashes use OpenSSL's EVP (MD5
 * for JA3/JA3S, SHA-256 for JA4), lower-case hex. Pure functions: no
 * allocation beyond OpenSSL's digest context, no global state.
 *
 * Limitation: the lists in the facts are capped (TLS_MAX_CIPHERS, ...); a
 * hello with more values than that is fingerprinted over the values kept
 * and the functions return FP_TRUNCATED.
 */
#ifndef VTLS_FINGERPRINT_H
#define VTLS_FINGERPRINT_H

#include <stddef.h>

#include "dissectors/tls.h"

/* Room for the JA3/JA3S "full" strings of any hello the parser keeps. */
#define FP_JA3_STR_MAX 4096
#define FP_MD5_HEX     33 /* 32 hex digits + NUL */
#define FP_JA4_LEN     37 /* "t13d1516h2_8daaf6152771_e5627efa2ab1" + NUL */
#define FP_JA4_RAW_MAX 4096

enum fp_result {
    FP_OK = 0,
    FP_TRUNCATED = 1, /* computed over the values the parser kept (see above) */
    FP_NONE = -1,     /* no such hello (not seen), or an SSLv2 hello for JA3 */
    FP_ERROR = -2,    /* buffer too small, or the digest failed */
};

/* JA3: "version,ciphers,extensions,groups,point_formats" with decimal values
 * joined by '-', written to str (cap bytes, FP_JA3_STR_MAX is always
 * enough), and its MD5 to md5 (FP_MD5_HEX bytes). Either output may be NULL. */
enum fp_result fp_ja3(const struct tls_client_hello *ch, char *str, size_t cap, char *md5);

/* JA3S: "version,cipher,extensions" of the ServerHello, and its MD5. */
enum fp_result fp_ja3s(const struct tls_server_hello *sh, char *str, size_t cap, char *md5);

/* JA4 of the ClientHello, e.g. "t13d1516h2_8daaf6152771_e5627efa2ab1", into
 * out (FP_JA4_LEN bytes). Transport is always TCP ('t'). */
enum fp_result fp_ja4(const struct tls_client_hello *ch, char out[FP_JA4_LEN]);

/* JA4 variants of the specification's "Raw Output" section: raw writes the
 * lists instead of their hashes (JA4_r / JA4_ro); original keeps the wire
 * order and SNI/ALPN in the extension list (JA4_o / JA4_ro). out has cap
 * bytes (FP_JA4_RAW_MAX is always enough). */
enum fp_result fp_ja4_ex(const struct tls_client_hello *ch, bool raw, bool original, char *out,
                         size_t cap);

/* Memo keys: the bytes of a hello that its fingerprints depend on (lists
 * without GREASE values, version, SNI and ALPN presence, ALPN's end bytes).
 * Two ClientHellos with equal keys have equal JA3 and JA4; two
 * ServerHellos with equal keys equal JA3S; a client key never equals a
 * server key. Written to out (cap bytes,
 * FP_KEY_MAX is always enough); returns the length, or 0 for a hello with
 * no fingerprint (not seen, SSLv2). */
#define FP_KEY_MAX 1200
size_t fp_client_key(const struct tls_client_hello *ch, uint8_t *out, size_t cap);
size_t fp_server_key(const struct tls_server_hello *sh, uint8_t *out, size_t cap);

#endif

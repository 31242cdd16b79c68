/* X.509 certificate inspection with OpenSSL 3: what a rule needs to know
 * about a certificate seen in a TLS 1.2-or-older handshake, chain
 * validation against a CA bundle at packet time, and the host name check.
 *
 * Usage:
 *     struct x509_info info;
 *     if (x509_parse(der, len, &info) != 0)      info.status says why
 *     ...
 *     struct x509_verifier *v = x509_verifier_new("/etc/ssl/ca.pem", err, sizeof(err));
 *     x509_verify_chain(v, ders, lens, n, packet_time, &res);
 *     x509_check_name(leaf_der, leaf_len, sni);
 *
 * Pure functions over bytes (no I/O except x509_verifier_new() reading the
 * bundle once, no logging, no global state). Text fields are NUL-terminated,
 * truncated to their size with a flag, and control characters are replaced
 * by '?'. The verifier is read-only after creation and may be shared by
 * threads.
 *
 * Cost: parsing is a few tens of microseconds; callers should parse a
 * certificate once per distinct SHA-256 (x509_sha256_hex()) and cache.
 */
#ifndef VTLS_X509_H
#define VTLS_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define X509_NAME_LEN   512 /* subject / issuer in RFC 2253 form */
#define X509_CN_LEN     256
#define X509_MAX_SANS   16
#define X509_SAN_LEN    256
#define X509_SERIAL_LEN 84 /* 40 hex digits for a 20-byte serial, more if malformed */
#define X509_TIME_LEN   24 /* "2026-12-03T15:30:07Z" */
#define X509_SHA256_HEX 65

enum x509_status {
    X509_OK = 0,
    X509_UNPARSEABLE = -1, /* OpenSSL could not decode the DER (or bytes trail it) */
    X509_NOMEM = -2,
};

enum x509_san_type {
    X509_SAN_DNS = 1,
    X509_SAN_IP = 2,
    X509_SAN_URI = 3,
    X509_SAN_EMAIL = 4,
};

struct x509_san {
    uint8_t type; /* enum x509_san_type */
    char value[X509_SAN_LEN];
};

struct x509_info {
    int status;                  /* enum x509_status; nothing below is valid unless X509_OK */
    int version;                 /* 1, 2 or 3 */
    char subject[X509_NAME_LEN]; /* RFC 2253, e.g. "CN=db.test,O=example" */
    char issuer[X509_NAME_LEN];
    char cn[X509_CN_LEN]; /* first commonName of the subject, "" if none */
    bool names_truncated;
    struct x509_san sans[X509_MAX_SANS];
    uint8_t nsans;
    uint16_t sans_total;           /* DNS, IP, URI and email names, kept or not */
    char serial[X509_SERIAL_LEN];  /* lower-case hex, no separators ("-" prefix if negative) */
    int64_t not_before, not_after; /* seconds since the epoch, UTC */
    char not_before_iso[X509_TIME_LEN], not_after_iso[X509_TIME_LEN];
    char key_type[16];  /* "RSA", "EC", "ED25519", "ED448", "DSA", "RSA-PSS", ... */
    int key_bits;       /* modulus or group order size; 0 when unknown */
    char key_curve[32]; /* EC group, e.g. "prime256v1"; "" for other keys */
    char sig_alg[64];   /* e.g. "sha256WithRSAEncryption", "ecdsa-with-SHA256" */
    bool has_basic_constraints;
    bool is_ca;                   /* basicConstraints cA TRUE */
    int path_len;                 /* pathLenConstraint, -1 if absent */
    bool self_issued;             /* issuer name equals subject name */
    bool self_signed;             /* self-issued and the signature verifies with its own key */
    bool bad_extensions;          /* OpenSSL found an extension it could not decode */
    char sha256[X509_SHA256_HEX]; /* SHA-256 of the DER, lower-case hex */
};

/* Decode der[0..len) into *out (always fully written). Returns X509_OK, or
 * X509_UNPARSEABLE / X509_NOMEM, also stored in out->status. Never reads
 * beyond len. */
int x509_parse(const uint8_t *der, size_t len, struct x509_info *out);

/* SHA-256 of der as lower-case hex (for caching before parsing). Returns 0,
 * or -1 if the digest failed. */
int x509_sha256_hex(const uint8_t *der, size_t len, char out[X509_SHA256_HEX]);

struct x509_verifier;

/* Load the CA bundle (PEM file with one or more certificates). Returns NULL
 * and a reason in err (errlen bytes) when it cannot be read or holds no
 * certificate. Free with x509_verifier_free(). */
struct x509_verifier *x509_verifier_new(const char *ca_bundle, char *err, size_t errlen);
void x509_verifier_free(struct x509_verifier *v);

/* Number of CA certificates the verifier holds. */
size_t x509_verifier_count(const struct x509_verifier *v);

struct x509_chain_result {
    bool valid;       /* OpenSSL's verifier accepted the chain */
    int error;        /* X509_V_OK or an X509_V_ERR_* code */
    int error_depth;  /* position in the chain of the certificate at fault */
    char reason[128]; /* X509_verify_cert_error_string(), e.g. "certificate has expired" */
};

/* Verify the chain as sent (der[0] the leaf, der[1..n) untrusted
 * intermediates in any order; unparseable ones are ignored) at time `when`
 * (seconds since the epoch: the packet's time). Returns 0 with *res filled,
 * or -1 when the leaf cannot be parsed or OpenSSL fails to run (res->reason
 * says which). */
int x509_verify_chain(const struct x509_verifier *v, const uint8_t *const *der, const size_t *len,
                      size_t n, int64_t when, struct x509_chain_result *res);

/* Does the certificate match `name` under OpenSSL's host rules (SANs, then
 * CN when there is no DNS SAN; wildcards in the left-most label only)? An
 * IPv4/IPv6 literal is matched against IP SANs instead. Returns 1 match,
 * 0 mismatch, -1 when the certificate cannot be parsed or name is empty. */
int x509_check_name(const uint8_t *der, size_t len, const char *name);

#endif

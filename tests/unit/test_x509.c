/* Unit tests for dissectors/x509.c over certificates made by
 * tests/unit/data/x509/gen.sh and the server certificates of pcaps/. */
#include <criterion/criterion.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <stdlib.h>

#include "dissectors/tls.h"
#include "dissectors/x509.h"
#include "test_tls_build.h"
#include "test_tls_fixture.h"

#define X509_DIR VTLS_SOURCE_DIR "/tests/unit/data/x509/"

struct blob {
    uint8_t *p;
    size_t n;
};

static struct blob load(const char *name)
{
    char path[512];
    struct blob b = {NULL, 0};
    FILE *f;
    long n;

    snprintf(path, sizeof(path), "%s%s", X509_DIR, name);
    f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b.p = malloc((size_t)n);
    b.n = fread(b.p, 1, (size_t)n, f);
    fclose(f);
    return b;
}

static struct x509_info *parse(const char *name)
{
    struct blob b = load(name);
    struct x509_info *i = malloc(sizeof(*i));
    struct guard g;

    /* From a guard-page buffer: OpenSSL must not read past the DER either. */
    cr_assert_eq(x509_parse(guard_copy(&g, b.p, b.n), b.n, i), X509_OK, "%s", name);
    guard_free(&g);
    free(b.p);
    return i;
}

Test(x509, leaf_with_sans)
{
    struct x509_info *i = parse("leaf.der");
    struct blob b = load("leaf.der");
    char hex[X509_SHA256_HEX];

    cr_assert_eq(i->status, X509_OK);
    cr_assert_eq(i->version, 3);
    cr_assert_str_eq(i->subject, "CN=db.test,O=vtls-sensor unit tests");
    cr_assert_str_eq(i->issuer, "CN=ca Test CA,O=vtls-sensor unit tests");
    cr_assert_str_eq(i->cn, "db.test");
    cr_assert_eq(i->nsans, 4);
    cr_assert_eq(i->sans[0].type, X509_SAN_DNS);
    cr_assert_str_eq(i->sans[0].value, "db.test");
    cr_assert_str_eq(i->sans[1].value, "*.vt.test");
    cr_assert_eq(i->sans[2].type, X509_SAN_IP);
    cr_assert_str_eq(i->sans[2].value, "10.1.2.3");
    cr_assert_eq(i->sans[3].type, X509_SAN_URI);
    cr_assert_str_eq(i->sans[3].value, "spiffe://vt/db");
    cr_assert_str_eq(i->key_type, "RSA");
    cr_assert_eq(i->key_bits, 2048);
    cr_assert_str_eq(i->key_curve, "");
    cr_assert_str_eq(i->sig_alg, "sha256WithRSAEncryption");
    cr_assert(i->has_basic_constraints);
    cr_assert_not(i->is_ca);
    cr_assert_not(i->self_issued);
    cr_assert_not(i->self_signed);
    cr_assert_not(i->bad_extensions);
    cr_assert_gt(strlen(i->serial), 0);
    cr_assert_eq(i->not_after - i->not_before, 3650 * 86400);
    cr_assert_eq(strlen(i->not_after_iso), 20);
    cr_assert_eq(i->not_after_iso[19], 'Z');
    x509_sha256_hex(b.p, b.n, hex);
    cr_assert_str_eq(i->sha256, hex);
    cr_assert_eq(strlen(hex), 64);
    free(b.p);
    free(i);
}

Test(x509, weak_and_special_certificates)
{
    struct x509_info *i;

    i = parse("ec256.der");
    cr_assert_str_eq(i->key_type, "EC");
    cr_assert_eq(i->key_bits, 256);
    cr_assert_str_eq(i->key_curve, "prime256v1");
    cr_assert_str_eq(i->sig_alg, "sha256WithRSAEncryption"); /* signed by the RSA CA */
    free(i);

    i = parse("sha1.der");
    cr_assert_str_eq(i->sig_alg, "sha1WithRSAEncryption");
    free(i);

    i = parse("self1024.der");
    cr_assert_eq(i->key_bits, 1024);
    cr_assert(i->self_issued);
    cr_assert(i->self_signed);
    cr_assert_str_eq(i->subject, i->issuer);
    free(i);

    i = parse("expired.der");
    cr_assert_eq(i->not_before, 1577836800); /* 2020-01-01T00:00:00Z */
    cr_assert_eq(i->not_after, 1609459200);  /* 2021-01-01T00:00:00Z */
    cr_assert_str_eq(i->not_after_iso, "2021-01-01T00:00:00Z");
    cr_assert_str_eq(i->subject, "O=vtls-sensor unit tests,CN=expired.test");
    free(i);
}

Test(x509, ca_flag)
{
    char path[512];
    FILE *f;
    X509 *x;
    unsigned char *der = NULL;
    int n;
    struct x509_info info;

    snprintf(path, sizeof(path), "%sca.pem", X509_DIR);
    f = fopen(path, "r");
    cr_assert_not_null(f);
    x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    n = i2d_X509(x, &der);
    cr_assert_eq(x509_parse(der, (size_t)n, &info), X509_OK);
    cr_assert(info.is_ca);
    cr_assert_eq(info.path_len, 1);
    cr_assert(info.self_signed);
    OPENSSL_free(der);
    X509_free(x);
}

Test(x509, garbage_and_truncation_are_statuses)
{
    struct blob g = load("garbage.der"), leaf = load("leaf.der");
    struct x509_info *i = malloc(sizeof(*i));

    cr_assert_eq(x509_parse(g.p, g.n, i), X509_UNPARSEABLE);
    cr_assert_eq(i->status, X509_UNPARSEABLE);
    cr_assert_eq(x509_parse(g.p, 0, i), X509_UNPARSEABLE);
    /* Every prefix of a real certificate, from a guard-page buffer. */
    for (size_t k = 0; k < leaf.n; k++) {
        struct guard gd;

        cr_assert_eq(x509_parse(guard_copy(&gd, leaf.p, k), k, i), X509_UNPARSEABLE, "%zu", k);
        guard_free(&gd);
    }
    /* Trailing bytes after the certificate. */
    leaf.p = realloc(leaf.p, leaf.n + 1);
    leaf.p[leaf.n] = 0;
    cr_assert_eq(x509_parse(leaf.p, leaf.n + 1, i), X509_UNPARSEABLE);
    /* A flipped byte in the body: still a status, never a crash. */
    for (size_t k = 0; k < leaf.n; k += 7) {
        leaf.p[k] ^= 0xff;
        x509_parse(leaf.p, leaf.n, i);
        leaf.p[k] ^= 0xff;
    }
    cr_assert_eq(x509_check_name(g.p, g.n, "db.test"), -1);
    free(i);
    free(g.p);
    free(leaf.p);
}

/* ---- chain validation and names --------------------------------------------------- */

static struct x509_verifier *verifier(void)
{
    char err[256];
    struct x509_verifier *v = x509_verifier_new(X509_DIR "ca.pem", err, sizeof(err));

    cr_assert_not_null(v, "%s", err);
    cr_assert_eq(x509_verifier_count(v), 1);
    return v;
}

static void verify_one(struct x509_verifier *v, const char *name, int64_t when,
                       struct x509_chain_result *res)
{
    struct blob b = load(name);
    const uint8_t *der[1] = {b.p};
    size_t len[1] = {b.n};

    cr_assert_eq(x509_verify_chain(v, der, len, 1, when, res), 0, "%s", name);
    free(b.p);
}

Test(x509, chain_validation_at_packet_time)
{
    struct x509_verifier *v = verifier();
    struct x509_chain_result r;
    struct x509_info *leaf = parse("leaf.der");
    int64_t now = leaf->not_before + 86400;

    verify_one(v, "leaf.der", now, &r);
    cr_assert(r.valid, "%s", r.reason);
    cr_assert_eq(r.error, X509_V_OK);
    cr_assert_str_eq(r.reason, "ok");

    /* The same certificate seen by a packet after its expiry. */
    verify_one(v, "leaf.der", leaf->not_after + 1, &r);
    cr_assert_not(r.valid);
    cr_assert_eq(r.error, X509_V_ERR_CERT_HAS_EXPIRED);
    cr_assert_str_eq(r.reason, "certificate has expired");
    /* ... and before it was valid. */
    verify_one(v, "leaf.der", leaf->not_before - 86400, &r);
    cr_assert_eq(r.error, X509_V_ERR_CERT_NOT_YET_VALID);

    verify_one(v, "expired.der", now, &r);
    cr_assert_not(r.valid);
    cr_assert_eq(r.error, X509_V_ERR_CERT_HAS_EXPIRED);

    verify_one(v, "unknown.der", now, &r);
    cr_assert_not(r.valid);
    cr_assert_eq(r.error, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, "%s", r.reason);
    cr_assert_eq(r.error_depth, 0);

    verify_one(v, "self1024.der", now, &r);
    cr_assert_not(r.valid);
    cr_assert_eq(r.error, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, "%s", r.reason);

    verify_one(v, "ec256.der", now, &r);
    cr_assert(r.valid, "%s", r.reason);

    free(leaf);
    x509_verifier_free(v);
}

Test(x509, chain_with_intermediate_sent)
{
    /* unknown.der's issuer sent along as an untrusted intermediate does not
     * make it trusted: other-ca is not in the bundle. */
    struct x509_verifier *v = verifier();
    struct x509_chain_result r;
    struct blob leaf = load("unknown.der");
    char path[512];
    FILE *f;
    X509 *ca;
    unsigned char *der = NULL;
    int n;

    snprintf(path, sizeof(path), "%sother-ca.pem", X509_DIR);
    f = fopen(path, "r");
    ca = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    n = i2d_X509(ca, &der);
    {
        const uint8_t *ders[3] = {leaf.p, (const uint8_t *)"junk", der};
        size_t lens[3] = {leaf.n, 4, (size_t)n};

        cr_assert_eq(x509_verify_chain(v, ders, lens, 3, time(NULL), &r), 0);
    }
    cr_assert_not(r.valid);
    cr_assert_eq(r.error, X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, "%s", r.reason);
    OPENSSL_free(der);
    X509_free(ca);
    free(leaf.p);
    x509_verifier_free(v);
}

Test(x509, verifier_errors)
{
    char err[256];
    struct blob g = load("garbage.der");
    const uint8_t *der[1] = {g.p};
    size_t len[1] = {g.n};
    struct x509_chain_result r;
    struct x509_verifier *v;

    cr_assert_null(x509_verifier_new("/nonexistent/ca.pem", err, sizeof(err)));
    cr_assert_gt(strlen(err), 0);
    cr_assert_null(x509_verifier_new(X509_DIR "garbage.der", err, sizeof(err)));
    v = verifier();
    cr_assert_eq(x509_verify_chain(v, der, len, 1, 0, &r), -1);
    cr_assert_not(r.valid);
    x509_verifier_free(v);
    free(g.p);
}

Test(x509, host_name_check)
{
    struct blob b = load("leaf.der"), s = load("self1024.der");

    cr_assert_eq(x509_check_name(b.p, b.n, "db.test"), 1);
    cr_assert_eq(x509_check_name(b.p, b.n, "DB.TEST"), 1);
    cr_assert_eq(x509_check_name(b.p, b.n, "a.vt.test"), 1);
    cr_assert_eq(x509_check_name(b.p, b.n, "a.b.vt.test"), 0); /* one label only */
    cr_assert_eq(x509_check_name(b.p, b.n, "other.test"), 0);
    cr_assert_eq(x509_check_name(b.p, b.n, "10.1.2.3"), 1);
    cr_assert_eq(x509_check_name(b.p, b.n, "10.1.2.4"), 0);
    cr_assert_eq(x509_check_name(b.p, b.n, ""), -1);
    /* No SAN: the subject CN is used. */
    cr_assert_eq(x509_check_name(s.p, s.n, "selfsigned.test"), 1);
    free(b.p);
    free(s.p);
}

/* Server certificates from pcaps/, extracted by the TLS dissector. */
Test(x509, certificates_from_captures)
{
    struct fixture *fx = malloc(sizeof(*fx));
    struct tls_parser p;
    struct x509_info *i = malloc(sizeof(*i));
    const uint8_t *der;
    size_t len;

    cr_assert_eq(fix_load(fx, FIX_DIR "tls12-basic.0.txt"), 0);
    fix_run(&p, fx, 0);
    der = tls_cert_der(&p, TLS_DIR_SERVER, 0, &len);
    cr_assert_not_null(der);
    cr_assert_eq(x509_parse(der, len, i), X509_OK);
    cr_assert_str_eq(i->cn, "server.test");
    cr_assert_str_eq(i->issuer, "CN=vtls Test CA,O=vtls-sensor tests");
    cr_assert_eq(x509_check_name(der, len, p.facts.ch.sni), 1);
    tls_free(&p);
    fix_free(fx);

    cr_assert_eq(fix_load(fx, FIX_DIR "cert-selfsigned-1024.0.txt"), 0);
    fix_run(&p, fx, 0);
    der = tls_cert_der(&p, TLS_DIR_SERVER, 0, &len);
    cr_assert_not_null(der);
    cr_assert_eq(x509_parse(der, len, i), X509_OK);
    cr_assert(i->self_signed);
    cr_assert_eq(i->key_bits, 1024);
    tls_free(&p);
    fix_free(fx);

    cr_assert_eq(fix_load(fx, FIX_DIR "cert-sha1.0.txt"), 0);
    fix_run(&p, fx, 0);
    der = tls_cert_der(&p, TLS_DIR_SERVER, 0, &len);
    cr_assert_eq(x509_parse(der, len, i), X509_OK);
    cr_assert_str_eq(i->sig_alg, "sha1WithRSAEncryption");
    tls_free(&p);
    fix_free(fx);

    cr_assert_eq(fix_load(fx, FIX_DIR "cert-name-mismatch.0.txt"), 0);
    fix_run(&p, fx, 0);
    der = tls_cert_der(&p, TLS_DIR_SERVER, 0, &len);
    cr_assert_eq(x509_check_name(der, len, p.facts.ch.sni), 0);
    tls_free(&p);
    fix_free(fx);
    free(i);
    free(fx);
}

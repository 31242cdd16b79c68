/* X.509 inspection, chain validation and host name checks over OpenSSL 3.
 * See x509.h. References: RFC 5280 (certificate fields), RFC 2253 (name
 * strings), RFC 6125 via OpenSSL's X509_check_host. */
#include "dissectors/x509.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dissectors/digest.h"

struct x509_verifier {
    X509_STORE *store;
    size_t count;
};

/* Copy n bytes as text, control characters and DEL replaced by '?', into
 * dst (cap bytes, NUL-terminated). Returns true when truncated. */
static bool copy_text(char *dst, size_t cap, const unsigned char *src, size_t n)
{
    size_t m = n < cap - 1 ? n : cap - 1;

    for (size_t i = 0; i < m; i++)
        dst[i] = (src[i] < 0x20 || src[i] == 0x7f) ? '?' : (char)src[i];
    dst[m] = '\0';
    return m < n;
}

/* A name in RFC 2253 form (X509_NAME_print_ex with XN_FLAG_RFC2253). */
static bool name_rfc2253(const X509_NAME *name, char *dst, size_t cap)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n;
    bool trunc = false;

    dst[0] = '\0';
    if (!b)
        return false;
    if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
        n = BIO_get_mem_data(b, &data);
        if (n > 0)
            trunc = copy_text(dst, cap, (const unsigned char *)data, (size_t)n);
    }
    BIO_free(b);
    return trunc;
}

/* First commonName of the subject, as UTF-8. */
static bool subject_cn(X509 *x, char *dst, size_t cap)
{
    X509_NAME *name = X509_get_subject_name(x);
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    unsigned char *utf8 = NULL;
    int n;
    bool trunc = false;

    dst[0] = '\0';
    if (i < 0)
        return false;
    n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    if (n > 0)
        trunc = copy_text(dst, cap, utf8, (size_t)n);
    OPENSSL_free(utf8);
    return trunc;
}

/* One GeneralName of subjectAltName into the next free slot. */
static void add_san(struct x509_info *out, const GENERAL_NAME *gn)
{
    struct x509_san *s;
    const ASN1_STRING *str = NULL;
    uint8_t type;

    switch (gn->type) {
    case GEN_DNS:
        type = X509_SAN_DNS;
        str = gn->d.dNSName;
        break;
    case GEN_URI:
        type = X509_SAN_URI;
        str = gn->d.uniformResourceIdentifier;
        break;
    case GEN_EMAIL:
        type = X509_SAN_EMAIL;
        str = gn->d.rfc822Name;
        break;
    case GEN_IPADD:
        type = X509_SAN_IP;
        str = gn->d.iPAddress;
        break;
    default:
        return;
    }
    out->sans_total++;
    if (out->nsans >= X509_MAX_SANS) {
        out->names_truncated = true;
        return;
    }
    s = &out->sans[out->nsans++];
    s->type = type;
    if (type != X509_SAN_IP) {
        out->names_truncated |= copy_text(s->value, sizeof(s->value), ASN1_STRING_get0_data(str),
                                          (size_t)ASN1_STRING_length(str));
    } else if (ASN1_STRING_length(str) == 4 || ASN1_STRING_length(str) == 16) {
        int af = ASN1_STRING_length(str) == 4 ? AF_INET : AF_INET6;

        inet_ntop(af, ASN1_STRING_get0_data(str), s->value, sizeof(s->value));
    } else {
        snprintf(s->value, sizeof(s->value), "invalid-ip");
    }
}

static void get_sans(X509 *x, struct x509_info *out)
{
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);

    if (!gens)
        return;
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++)
        add_san(out, sk_GENERAL_NAME_value(gens, i));
    GENERAL_NAMES_free(gens);
}

/* Serial number as lower-case hex. */
static void get_serial(X509 *x, char *dst, size_t cap)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;

    dst[0] = '\0';
    if (hex) {
        copy_text(dst, cap, (const unsigned char *)hex, strlen(hex));
        for (char *c = dst; *c; c++)
            if (*c >= 'A' && *c <= 'F')
                *c = (char)(*c - 'A' + 'a');
    }
    OPENSSL_free(hex);
    BN_free(bn);
}

/* ASN1_TIME to epoch seconds and ISO 8601 UTC. */
static void get_time(const ASN1_TIME *t, int64_t *epoch, char *iso, size_t cap)
{
    struct tm tm;

    *epoch = 0;
    iso[0] = '\0';
    if (!t || !ASN1_TIME_to_tm(t, &tm))
        return;
    *epoch = (int64_t)timegm(&tm);
    strftime(iso, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Public key algorithm, size and curve. */
static void get_key(X509 *x, struct x509_info *out)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    const char *type;
    size_t len = 0;

    snprintf(out->key_type, sizeof(out->key_type), "unknown");
    if (!pk)
        return;
    type = EVP_PKEY_get0_type_name(pk);
    if (type)
        copy_text(out->key_type, sizeof(out->key_type), (const unsigned char *)type, strlen(type));
    out->key_bits = EVP_PKEY_get_bits(pk);
    if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC &&
        !EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, out->key_curve,
                                        sizeof(out->key_curve), &len))
        out->key_curve[0] = '\0';
}

/* Signature algorithm long name, or its OID in dotted form. */
static void get_sig_alg(X509 *x, char *dst, size_t cap)
{
    const X509_ALGOR *alg = NULL;
    const ASN1_OBJECT *obj = NULL;
    int nid = X509_get_signature_nid(x);

    if (nid != NID_undef) {
        snprintf(dst, cap, "%s", OBJ_nid2ln(nid));
        return;
    }
    X509_get0_signature(NULL, &alg, x);
    if (alg)
        X509_ALGOR_get0(&obj, NULL, NULL, alg);
    if (!obj || OBJ_obj2txt(dst, (int)cap, obj, 1) <= 0)
        snprintf(dst, cap, "unknown");
}

static void get_constraints(X509 *x, struct x509_info *out)
{
    BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);

    out->path_len = -1;
    if (!bc)
        return;
    out->has_basic_constraints = true;
    out->is_ca = bc->ca != 0;
    if (bc->pathlen)
        out->path_len = (int)ASN1_INTEGER_get(bc->pathlen);
    BASIC_CONSTRAINTS_free(bc);
}

int x509_sha256_hex(const uint8_t *der, size_t len, char out[X509_SHA256_HEX])
{
    out[0] = '\0';
    return dg_hex(DG_SHA256, der, len, out, 64);
}

/* Decode exactly len bytes of DER; NULL if OpenSSL refuses or bytes trail. */
static X509 *decode(const uint8_t *der, size_t len)
{
    const unsigned char *p = der;
    X509 *x;

    if (len == 0 || len > (size_t)LONG_MAX)
        return NULL;
    x = d2i_X509(NULL, &p, (long)len);
    if (x && p != der + len) {
        X509_free(x);
        x = NULL;
    }
    ERR_clear_error();
    return x;
}

int x509_parse(const uint8_t *der, size_t len, struct x509_info *out)
{
    X509 *x;

    memset(out, 0, sizeof(*out));
    x = decode(der, len);
    if (!x) {
        out->status = X509_UNPARSEABLE;
        return X509_UNPARSEABLE;
    }
    out->version = (int)X509_get_version(x) + 1;
    out->names_truncated =
        name_rfc2253(X509_get_subject_name(x), out->subject, sizeof(out->subject));
    out->names_truncated |= name_rfc2253(X509_get_issuer_name(x), out->issuer, sizeof(out->issuer));
    out->names_truncated |= subject_cn(x, out->cn, sizeof(out->cn));
    get_sans(x, out);
    get_serial(x, out->serial, sizeof(out->serial));
    get_time(X509_get0_notBefore(x), &out->not_before, out->not_before_iso,
             sizeof(out->not_before_iso));
    get_time(X509_get0_notAfter(x), &out->not_after, out->not_after_iso,
             sizeof(out->not_after_iso));
    get_key(x, out);
    get_sig_alg(x, out->sig_alg, sizeof(out->sig_alg));
    get_constraints(x, out);
    out->bad_extensions = (X509_get_extension_flags(x) & EXFLAG_INVALID) != 0;
    out->self_issued = X509_NAME_cmp(X509_get_issuer_name(x), X509_get_subject_name(x)) == 0;
    /* X509_self_signed(x, 1) also verifies the signature with x's own key. */
    out->self_signed = out->self_issued && X509_self_signed(x, 1) == 1;
    x509_sha256_hex(der, len, out->sha256);
    ERR_clear_error();
    X509_free(x);
    out->status = X509_OK;
    return X509_OK;
}

/* ---- chain validation ------------------------------------------------------------- */

struct x509_verifier *x509_verifier_new(const char *ca_bundle, char *err, size_t errlen)
{
    struct x509_verifier *v = calloc(1, sizeof(*v));
    STACK_OF(X509_OBJECT) * objs;

    if (!v || !(v->store = X509_STORE_new())) {
        snprintf(err, errlen, "out of memory");
        free(v);
        return NULL;
    }
    if (X509_STORE_load_file(v->store, ca_bundle) != 1) {
        unsigned long e = ERR_get_error();

        snprintf(err, errlen, "cannot load CA bundle %s: %s", ca_bundle,
                 e ? ERR_reason_error_string(e) : "unknown error");
        ERR_clear_error();
        x509_verifier_free(v);
        return NULL;
    }
    objs = X509_STORE_get0_objects(v->store);
    for (int i = 0; i < sk_X509_OBJECT_num(objs); i++)
        if (X509_OBJECT_get_type(sk_X509_OBJECT_value(objs, i)) == X509_LU_X509)
            v->count++;
    if (v->count == 0) {
        snprintf(err, errlen, "no certificate in CA bundle %s", ca_bundle);
        x509_verifier_free(v);
        return NULL;
    }
    return v;
}

void x509_verifier_free(struct x509_verifier *v)
{
    if (!v)
        return;
    X509_STORE_free(v->store);
    free(v);
}

size_t x509_verifier_count(const struct x509_verifier *v)
{
    return v ? v->count : 0;
}

/* Run OpenSSL's verifier on leaf with the untrusted chain at time when. */
static int run_verify(const struct x509_verifier *v, X509 *leaf, STACK_OF(X509) * chain,
                      int64_t when, struct x509_chain_result *res)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    int rc = -1;

    if (!ctx || X509_STORE_CTX_init(ctx, v->store, leaf, chain) != 1) {
        snprintf(res->reason, sizeof(res->reason), "verifier setup failed");
        goto out;
    }
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)when);
    res->valid = X509_verify_cert(ctx) == 1;
    res->error = X509_STORE_CTX_get_error(ctx);
    res->error_depth = X509_STORE_CTX_get_error_depth(ctx);
    snprintf(res->reason, sizeof(res->reason), "%s", X509_verify_cert_error_string(res->error));
    rc = 0;
out:
    X509_STORE_CTX_free(ctx);
    ERR_clear_error();
    return rc;
}

int x509_verify_chain(const struct x509_verifier *v, const uint8_t *const *der, const size_t *len,
                      size_t n, int64_t when, struct x509_chain_result *res)
{
    STACK_OF(X509) *chain = NULL;
    X509 *leaf = NULL;
    int rc = -1;

    memset(res, 0, sizeof(*res));
    res->error = X509_V_ERR_UNSPECIFIED;
    if (!v || n == 0 || !(leaf = decode(der[0], len[0]))) {
        snprintf(res->reason, sizeof(res->reason), "leaf certificate unparseable");
        return -1;
    }
    chain = sk_X509_new_null();
    if (!chain) {
        snprintf(res->reason, sizeof(res->reason), "out of memory");
        goto out;
    }
    for (size_t i = 1; i < n; i++) {
        X509 *x = decode(der[i], len[i]);

        if (x && !sk_X509_push(chain, x))
            X509_free(x);
    }
    rc = run_verify(v, leaf, chain, when, res);
out:
    sk_X509_pop_free(chain, X509_free);
    X509_free(leaf);
    return rc;
}

/* ---- host name check ------------------------------------------------------------------ */

static bool is_ip_literal(const char *name)
{
    unsigned char buf[16];

    return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

int x509_check_name(const uint8_t *der, size_t len, const char *name)
{
    X509 *x;
    int r;

    if (!name || !name[0])
        return -1;
    x = decode(der, len);
    if (!x)
        return -1;
    if (is_ip_literal(name))
        r = X509_check_ip_asc(x, name, 0);
    else
        r = X509_check_host(x, name, strlen(name), 0, NULL);
    X509_free(x);
    ERR_clear_error();
    return r == 1 ? 1 : r == 0 ? 0 : -1;
}

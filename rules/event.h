/* The event the rules engine evaluates: a plain struct of facts about one
 * flow or one certificate, filled by the pipeline from the dissectors.
 *
 * rules/ depends on nothing but libc and libyaml, so this header includes
 * no dissector header: the caller copies (or points at) the facts it has.
 *
 * Presence: every field can be absent, and a zeroed struct has every field
 * absent. Strings are absent when NULL, numbers (struct rules_num) when
 * .set is false, booleans (rules_bool) when RULES_UNSET, addresses when
 * .family is 0, string lists when .v is NULL (use a non-NULL pointer with
 * n = 0 for "known to be empty"). `FIELD exists` tests presence; every
 * comparison against an absent field is false (so is `!=`).
 *
 * Ownership: the struct only borrows. Every string must stay valid and
 * unchanged while rules_set_eval() and rules_rule_format() run on it.
 */
#ifndef VTLS_RULES_EVENT_H
#define VTLS_RULES_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rules_event_kind {
    RULES_EVENT_FLOW = 0,        /* once per flow, when its verdict is reached */
    RULES_EVENT_CERTIFICATE = 1, /* once per certificate of a chain not seen before */
};
#define RULES_EVENT_KINDS 2

/* Tri-state boolean: zero is absent. */
typedef uint8_t rules_bool;
enum { RULES_UNSET = 0, RULES_FALSE = 1, RULES_TRUE = 2 };
#define RULES_BOOL(b) ((rules_bool)((b) ? RULES_TRUE : RULES_FALSE))

/* Number, TLS version (0x0303 is TLS 1.2) or timestamp (seconds since the
 * epoch, packet time). */
struct rules_num {
    int64_t v;
    bool set;
};
#define RULES_NUM(x) ((struct rules_num){(int64_t)(x), true})

/* IP address in network byte order: family 4 uses b[0..3], family 6 all
 * 16 bytes, family 0 means absent. */
#define RULES_AF_NONE  0
#define RULES_AF_INET  4
#define RULES_AF_INET6 6
struct rules_addr {
    uint8_t family;
    uint8_t b[16];
};

/* Borrowed array of n strings; absent when v is NULL. */
struct rules_strlist {
    const char *const *v;
    size_t n;
};

/* GeoIP / zone facts of one side. custom[] holds the string keys of a
 * custom MaxMind database ("zone", "cell", ...), read as geo.src.<key>;
 * entries past n_custom are ignored. */
#define RULES_GEO_CUSTOM_MAX 8
struct rules_geo_kv {
    const char *key;
    const char *value;
};
struct rules_geo {
    const char *country; /* ISO 3166 alpha-2, "DE" */
    struct rules_num asn;
    const char *as_org;
    size_t n_custom;
    struct rules_geo_kv custom[RULES_GEO_CUSTOM_MAX];
};

#define RULES_CHAIN_MAX      4
#define RULES_NDPI_RISKS_MAX 4 /* nDPI risk names kept per flow */

struct rules_event {
    enum rules_event_kind kind;
    struct rules_num time; /* event.time: packet time, seconds since the epoch */

    struct {
        struct rules_addr src_ip; /* client */
        struct rules_addr dst_ip; /* server */
        struct rules_num src_port, dst_port;
        struct rules_num proto; /* IP protocol number, 6 = TCP */
        rules_bool midstream, encrypted;
        const char *app; /* grpc, mysql, etcd, etcd-peer, zookeeper, http, tls, unknown */
    } flow;

    struct {
        const char *client, *server; /* app, vtgate, vttablet, ..., unknown */
        const char *evidence;        /* why: inventory, grpc-path, greeting, sni, port */
    } vitess;

    struct {
        const char *path;    /* "/queryservice.Query/Execute" */
        const char *service; /* "queryservice.Query" */
        const char *method;  /* "Execute" */
    } grpc;

    /* Plain HTTP/1.x (etcd's HTTP APIs, Vitess web ports); not rule fields yet. */
    struct {
        const char *method, *path, *host, *user_agent;
        struct rules_num status;
    } http;

    struct {
        const char *server_version;
        rules_bool server_ssl;   /* greeting offered CLIENT_SSL */
        rules_bool client_ssl;   /* client answered with SSLRequest */
        const char *auth_plugin; /* the client's plugin in its HandshakeResponse */
        const char *auth_switch; /* plugin the server switched the client to */
        const char *user;
        rules_bool downgrade;          /* server offered TLS, client stayed in plaintext */
        rules_bool cleartext_password; /* password sent in clear (mysql_clear_password) */
    } mysql;

    struct {
        struct rules_num version;            /* negotiated, 0x0303 */
        struct rules_num client_max_version; /* highest the client offered */
        const char *cipher;                  /* IANA name */
        struct rules_num cipher_id;
        struct {
            const char *kx, *auth, *enc, *mac; /* as in dissectors/tls_ciphers.h */
            const char *strength; /* insecure, weak, acceptable, recommended, unknown */
            rules_bool pfs, aead;
            struct rules_num bits; /* bulk cipher key bits */
        } cs;
        const char *sni, *alpn;   /* alpn: the protocol the server selected */
        const char *alpn_offered; /* the client's ALPN list, comma-separated */
        const char *ja3, *ja3s, *ja4;
        rules_bool resumed;
        const char *client_cert; /* presented, requested-none, not-requested, not-observable */
        const char *alert;       /* description of the first alert before the handshake ended */
        rules_bool alert_fatal;
    } tls;

    struct {
        const char *subject, *issuer; /* one-line RFC 4514 form */
        const char *subject_cn, *issuer_cn;
        struct rules_strlist san;               /* DNS names and IP addresses as text */
        struct rules_num not_before, not_after; /* seconds since the epoch */
        struct rules_num days_left;     /* floor((not_after - time) / 86400): < 0 when expired */
        struct rules_num validity_days; /* (not_after - not_before) / 86400 */
        rules_bool expired;             /* not_after < time */
        rules_bool not_yet_valid;       /* not_before > time */
        const char *key_type;           /* RSA, EC, DSA, Ed25519, Ed448 */
        struct rules_num key_bits;
        const char *sig_alg;      /* OpenSSL long name, sha256WithRSAEncryption */
        rules_bool sig_hash_weak; /* MD5 or SHA-1 signature hash */
        rules_bool self_signed, is_ca;
        rules_bool chain_valid; /* against the configured CA bundle */
        const char *chain_error;
        const char *sha256;   /* lowercase hex fingerprint */
        rules_bool sni_match; /* absent when no SNI was sent */
        rules_bool observable;
        rules_bool unparseable;                /* OpenSSL could not decode it */
        struct rules_num shared_by_components; /* distinct components seen presenting it */
        struct rules_num depth;                /* 0 = leaf */
    } cert;

    /* The server's chain as sent (TLS <= 1.2), leaf first: for output only. */
    struct {
        const char *subject, *issuer, *sha256;
        struct rules_num not_after;
    } chain[RULES_CHAIN_MAX];
    size_t nchain;

    struct {
        struct rules_geo src, dst;
    } geo;

    struct {
        const char *protocol;
        /* .v points at names[] of the event filled in: a copy of the event
         * still points at the original's. */
        struct rules_strlist risks;
        const char *names[RULES_NDPI_RISKS_MAX];
    } ndpi;
};

#endif

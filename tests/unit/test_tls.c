/* Unit tests for dissectors/tls.c: handshakes built byte by byte. */
#include <criterion/criterion.h>
#include <stdio.h>

#include "dissectors/tls.h"
#include "dissectors/tls_ciphers.h"
#include "test_tls_build.h"

#define C TLS_DIR_CLIENT
#define S TLS_DIR_SERVER

/* ---- hello builders ------------------------------------------------------------ */

struct ch_opt {
    uint16_t version;
    const uint16_t *ciphers;
    size_t nciphers;
    const char *sni;
    const char *const *alpn; /* NULL-terminated */
    bool tls13;              /* supported_versions + key_share */
    bool grease;
    uint8_t sid_len;
    uint8_t sid_byte;
    int ticket; /* -1 none, 0 empty, >0 that many bytes */
    bool psk;
    bool no_exts;
};

static const uint16_t ciphers12[] = {0xc02f, 0xc030, 0x009e, 0xc013, 0x002f, 0x000a};
static const uint16_t ciphers13[] = {0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0x00ff};
static const char *const alpn_h2[] = {"h2", "http/1.1", NULL};

static void ext_open(struct bb *b, uint16_t type)
{
    bb_u16(b, type);
    bb_open(b, 2);
}

static void ch_exts(struct bb *b, const struct ch_opt *o)
{
    bb_open(b, 2);
    if (o->grease) {
        ext_open(b, 0x0a0a);
        bb_close(b);
    }
    if (o->sni) {
        ext_open(b, TLS_EXT_SERVER_NAME);
        bb_open(b, 2);
        bb_u8(b, 0);
        bb_open(b, 2);
        bb_bytes(b, o->sni, strlen(o->sni));
        bb_close(b);
        bb_close(b);
        bb_close(b);
    }
    ext_open(b, TLS_EXT_EC_POINT_FORMATS);
    bb_open(b, 1);
    bb_u8(b, 0);
    bb_u8(b, 1);
    bb_u8(b, 2);
    bb_close(b);
    bb_close(b);
    ext_open(b, TLS_EXT_SUPPORTED_GROUPS);
    bb_open(b, 2);
    if (o->grease)
        bb_u16(b, 0x2a2a);
    bb_u16(b, 0x001d);
    bb_u16(b, 0x0017);
    bb_u16(b, 0x0018);
    bb_close(b);
    bb_close(b);
    if (o->ticket >= 0) {
        ext_open(b, TLS_EXT_SESSION_TICKET);
        bb_fill(b, 0x77, (size_t)o->ticket);
        bb_close(b);
    }
    if (o->alpn) {
        ext_open(b, TLS_EXT_ALPN);
        bb_open(b, 2);
        for (const char *const *a = o->alpn; *a; a++) {
            bb_open(b, 1);
            bb_bytes(b, *a, strlen(*a));
            bb_close(b);
        }
        bb_close(b);
        bb_close(b);
    }
    ext_open(b, TLS_EXT_SIGNATURE_ALGS);
    bb_open(b, 2);
    bb_u16(b, 0x0403);
    bb_u16(b, 0x0804);
    bb_u16(b, 0x0401);
    bb_close(b);
    bb_close(b);
    ext_open(b, TLS_EXT_EXTENDED_MS);
    bb_close(b);
    if (o->tls13) {
        ext_open(b, TLS_EXT_SUPPORTED_VERSIONS);
        bb_open(b, 1);
        if (o->grease)
            bb_u16(b, 0x3a3a);
        bb_u16(b, 0x0304);
        bb_u16(b, 0x0303);
        bb_close(b);
        bb_close(b);
        ext_open(b, TLS_EXT_PSK_KEX_MODES);
        bb_open(b, 1);
        bb_u8(b, 1);
        bb_close(b);
        bb_close(b);
        ext_open(b, TLS_EXT_KEY_SHARE);
        bb_open(b, 2);
        bb_u16(b, 0x001d);
        bb_open(b, 2);
        bb_fill(b, 0x55, 32);
        bb_close(b);
        bb_close(b);
        bb_close(b);
    }
    if (o->psk) {
        ext_open(b, TLS_EXT_PRE_SHARED_KEY);
        bb_fill(b, 0x11, 40);
        bb_close(b);
    }
    bb_close(b);
}

/* ClientHello handshake message. */
static void client_hello(struct bb *b, const struct ch_opt *o)
{
    hs_open(b, 1);
    bb_u16(b, o->version ? o->version : 0x0303);
    bb_fill(b, 0xaa, 32);
    bb_open(b, 1);
    bb_fill(b, o->sid_byte, o->sid_len);
    bb_close(b);
    bb_open(b, 2);
    if (o->grease)
        bb_u16(b, 0xdada);
    for (size_t i = 0; i < o->nciphers; i++)
        bb_u16(b, o->ciphers[i]);
    bb_close(b);
    bb_u8(b, 1);
    bb_u8(b, 0);
    if (!o->no_exts)
        ch_exts(b, o);
    bb_close(b);
}

struct sh_opt {
    uint16_t version;
    uint16_t cipher;
    uint16_t selected; /* supported_versions, 0 none */
    bool hrr;
    uint16_t group; /* key_share */
    const char *alpn;
    uint8_t sid_len;
    uint8_t sid_byte;
    bool psk;
};

static void server_hello(struct bb *b, const struct sh_opt *o)
{
    static const uint8_t hrr[32] = {
        0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
        0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
        0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
    };

    hs_open(b, 2);
    bb_u16(b, o->version ? o->version : 0x0303);
    if (o->hrr)
        bb_bytes(b, hrr, 32);
    else
        bb_fill(b, 0xbb, 32);
    bb_open(b, 1);
    bb_fill(b, o->sid_byte, o->sid_len);
    bb_close(b);
    bb_u16(b, o->cipher);
    bb_u8(b, 0);
    bb_open(b, 2);
    ext_open(b, TLS_EXT_RENEGOTIATION_INFO);
    bb_u8(b, 0);
    bb_close(b);
    if (o->selected) {
        ext_open(b, TLS_EXT_SUPPORTED_VERSIONS);
        bb_u16(b, o->selected);
        bb_close(b);
    }
    if (o->group) {
        ext_open(b, TLS_EXT_KEY_SHARE);
        bb_u16(b, o->group);
        if (!o->hrr) {
            bb_open(b, 2);
            bb_fill(b, 0x66, 32);
            bb_close(b);
        }
        bb_close(b);
    }
    if (o->alpn) {
        ext_open(b, TLS_EXT_ALPN);
        bb_open(b, 2);
        bb_open(b, 1);
        bb_bytes(b, o->alpn, strlen(o->alpn));
        bb_close(b);
        bb_close(b);
        bb_close(b);
    }
    if (o->psk) {
        ext_open(b, TLS_EXT_PRE_SHARED_KEY);
        bb_u16(b, 0);
        bb_close(b);
    }
    bb_close(b);
    bb_close(b);
}

/* Certificate message with n fake DER blobs of len bytes each. */
static void certificate(struct bb *b, int n, size_t len)
{
    hs_open(b, 11);
    bb_open(b, 3);
    for (int i = 0; i < n; i++) {
        bb_open(b, 3);
        bb_u8(b, 0x30);
        bb_fill(b, (uint8_t)(0x40 + i), len - 1);
        bb_close(b);
    }
    bb_close(b);
    bb_close(b);
}

static void ske_ecdhe(struct bb *b, uint16_t group)
{
    hs_open(b, 12);
    bb_u8(b, 3);
    bb_u16(b, group);
    bb_open(b, 1);
    bb_fill(b, 0x04, 65);
    bb_close(b);
    bb_u16(b, 0x0401);
    bb_open(b, 2);
    bb_fill(b, 0x99, 64);
    bb_close(b);
    bb_close(b);
}

static void simple_msg(struct bb *b, uint8_t type, size_t len)
{
    hs_open(b, type);
    bb_fill(b, 0x21, len);
    bb_close(b);
}

static void ccs(struct bb *out)
{
    static const uint8_t one = 1;

    records(out, 20, 0x0303, &one, 1, 1);
}

static void alert(struct bb *out, uint8_t level, uint8_t desc)
{
    uint8_t a[2] = {level, desc};

    records(out, 21, 0x0303, a, 2, 2);
}

/* The client's ClientKeyExchange, which answers the server's flight. */
static void client_kx(struct bb *out)
{
    struct bb *m = malloc(sizeof(*m));

    bb_init(m);
    simple_msg(m, 16, 33);
    records(out, 22, 0x0303, m->d, m->n, 16384);
    free(m);
}

/* ---- conversation driver ----------------------------------------------------- */

/* A conversation: alternating flights, each a byte string for one side. */
struct flight {
    int dir;
    size_t off, len;
};

struct conv {
    struct bb wire; /* all flights back to back */
    struct flight fl[16];
    int n;
};

static void conv_init(struct conv *cv)
{
    bb_init(&cv->wire);
    cv->n = 0;
}

/* Append a flight made of handshake messages in msgs, wrapped in records
 * of at most frag bytes. */
static void conv_hs(struct conv *cv, int dir, const struct bb *msgs, size_t frag)
{
    struct flight *f = &cv->fl[cv->n++];

    f->dir = dir;
    f->off = cv->wire.n;
    records(&cv->wire, 22, dir == C ? 0x0301 : 0x0303, msgs->d, msgs->n, frag);
    f->len = cv->wire.n - f->off;
}

/* Append raw bytes (already records) as a flight. */
static void conv_raw(struct conv *cv, int dir, const struct bb *raw)
{
    struct flight *f = &cv->fl[cv->n++];

    f->dir = dir;
    f->off = cv->wire.n;
    bb_bytes(&cv->wire, raw->d, raw->n);
    f->len = raw->n;
}

/* Feed every flight in chunks of `chunk` bytes (0: whole flight), each
 * chunk from a guard-page buffer. Returns the last status. */
static enum tls_status conv_run(struct tls_parser *p, const struct conv *cv, size_t chunk)
{
    enum tls_status st = TLS_MORE;

    tls_init(p);
    for (int i = 0; i < cv->n && st == TLS_MORE; i++) {
        const uint8_t *src = cv->wire.d + cv->fl[i].off;
        size_t left = cv->fl[i].len;

        while (left > 0 && st == TLS_MORE) {
            size_t take = chunk && chunk < left ? chunk : left;
            struct guard g;
            const uint8_t *b = guard_copy(&g, src, take);

            st = tls_feed(p, cv->fl[i].dir, b, take);
            guard_free(&g);
            src += take;
            left -= take;
        }
    }
    return st;
}

/* The facts must not depend on how the bytes were cut. */
static void check_chunkings(const struct conv *cv, enum tls_status want)
{
    struct tls_parser ref, p;
    static const size_t chunks[] = {1, 2, 3, 5, 7, 64, 1000};

    cr_assert_eq(conv_run(&ref, cv, 0), want);
    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        cr_assert_eq(conv_run(&p, cv, chunks[i]), want, "chunk %zu", chunks[i]);
        cr_assert_eq(memcmp(&p.facts, &ref.facts, sizeof(p.facts)), 0, "chunk %zu", chunks[i]);
        cr_assert_eq(tls_cert_count(&p, S), tls_cert_count(&ref, S));
        tls_free(&p);
    }
    tls_free(&ref);
}

/* ---- TLS 1.2 full handshake ---------------------------------------------------- */

static void build_tls12(struct conv *cv, size_t frag, bool cert_req, int client_certs)
{
    struct bb *m = malloc(sizeof(*m));
    struct ch_opt co = {.ciphers = ciphers12,
                        .nciphers = 6,
                        .sni = "db.example.com",
                        .alpn = alpn_h2,
                        .grease = true,
                        .ticket = 0};
    struct sh_opt so = {.cipher = 0xc02f, .alpn = "h2"};

    conv_init(cv);
    bb_init(m);
    client_hello(m, &co);
    conv_hs(cv, C, m, frag);

    bb_init(m);
    server_hello(m, &so);
    certificate(m, 2, 700);
    ske_ecdhe(m, 0x001d);
    if (cert_req)
        simple_msg(m, 13, 12);
    simple_msg(m, 14, 0);
    conv_hs(cv, S, m, frag);

    bb_init(m);
    if (client_certs >= 0)
        certificate(m, client_certs, 300);
    simple_msg(m, 16, 33);
    conv_hs(cv, C, m, frag);
    bb_init(m);
    ccs(m);
    records(m, 22, 0x0303, (const uint8_t *)"encrypted-finished-xxxxxxxxxxxxxxxxxxxxx", 40, 40);
    conv_raw(cv, C, m);
    free(m);
}

Test(tls, tls12_full_handshake_facts)
{
    struct conv *cv = malloc(sizeof(*cv));
    struct tls_parser p;
    const struct tls_facts *f;
    size_t len;

    build_tls12(cv, 16384, false, -1);
    cr_assert_eq(conv_run(&p, cv, 0), TLS_DONE);
    f = tls_facts(&p);
    cr_assert(f->ch.seen && f->sh.seen);
    cr_assert_eq(f->version, TLS_V_12);
    cr_assert_eq(f->client_max_version, TLS_V_12);
    cr_assert_eq(f->cipher, 0xc02f);
    cr_assert_str_eq(f->ch.sni, "db.example.com");
    cr_assert_eq(f->ch.alpn_n, 2);
    cr_assert_str_eq(f->ch.alpn[0], "h2");
    cr_assert_str_eq(f->ch.alpn[1], "http/1.1");
    cr_assert_str_eq(f->sh.alpn, "h2");
    cr_assert_eq(f->ch.ciphers.n, 7); /* GREASE kept in the raw list */
    cr_assert(tls_is_grease(f->ch.ciphers.v[0]));
    cr_assert_eq(f->ch.groups.n, 4);
    cr_assert_eq(f->ch.point_formats_n, 3);
    cr_assert_eq(f->ch.sigalgs.n, 3);
    cr_assert(f->ch.has_session_ticket && !f->ch.session_ticket_nonempty);
    cr_assert(f->ch.has_ems);
    cr_assert_eq(f->ch.record_version, 0x0301);
    cr_assert_eq(f->resumed, TLS_RESUME_NONE);
    cr_assert(f->server_cert_observable);
    cr_assert_eq(f->server_certs, 2);
    cr_assert(f->ske_seen);
    cr_assert_eq(f->ske_group, 0x001d);
    cr_assert(f->server_hello_done);
    cr_assert_eq(f->client_cert, TLS_CC_NOT_REQUESTED);
    cr_assert_not(f->alert);
    cr_assert_eq(tls_cert_count(&p, S), 2);
    const uint8_t *der = tls_cert_der(&p, S, 1, &len);
    cr_assert_eq(len, 700);
    cr_assert_eq(der[0], 0x30);
    cr_assert_eq(der[699], 0x41);
    cr_assert_null(tls_cert_der(&p, S, 2, &len));
    cr_assert_eq(f->records[C], 2); /* verdict at the ClientKeyExchange */
    cr_assert_eq(f->records[S], 1);
    tls_free(&p);
    free(cv);
}

Test(tls, tls12_any_chunking_same_facts)
{
    struct conv *cv = malloc(sizeof(*cv));

    build_tls12(cv, 16384, true, 1);
    check_chunkings(cv, TLS_DONE);
    /* One message over several records: 100-byte fragments. */
    build_tls12(cv, 100, true, 1);
    check_chunkings(cv, TLS_DONE);
    /* Every record one byte of handshake. */
    build_tls12(cv, 1, false, -1);
    check_chunkings(cv, TLS_DONE);
    free(cv);
}

Test(tls, message_across_records_same_as_one_record)
{
    struct conv *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
    struct tls_parser pa, pb;

    build_tls12(a, 16384, false, -1);
    build_tls12(b, 37, false, -1);
    cr_assert_eq(conv_run(&pa, a, 0), TLS_DONE);
    cr_assert_eq(conv_run(&pb, b, 0), TLS_DONE);
    cr_assert_gt(pb.facts.records[S], 10);
    pb.facts.records[C] = pa.facts.records[C];
    pb.facts.records[S] = pa.facts.records[S];
    cr_assert_eq(memcmp(&pa.facts, &pb.facts, sizeof(pa.facts)), 0);
    tls_free(&pa);
    tls_free(&pb);
    free(a);
    free(b);
}

Test(tls, memory_bounded_and_released)
{
    struct conv *cv = malloc(sizeof(*cv));
    struct tls_parser p;
    size_t peak, now;

    /* Whole records in one chunk: zero-copy, only the certificates are kept. */
    build_tls12(cv, 16384, false, -1);
    conv_run(&p, cv, 0);
    now = tls_mem(&p, &peak);
    cr_assert_eq(now, 1400);
    cr_assert_eq(peak, 1400);
    tls_free(&p);
    cr_assert_eq(tls_mem(&p, NULL), 0);

    /* One byte at a time: the message buffer grows with bytes received. */
    conv_run(&p, cv, 1);
    now = tls_mem(&p, &peak);
    cr_assert_eq(now, 1400);
    cr_assert_leq(peak, 1400 + 4096);
    tls_free(&p);
    free(cv);
}

/* ---- client certificate states -------------------------------------------------- */

Test(tls, client_cert_presented)
{
    struct conv *cv = malloc(sizeof(*cv));
    struct tls_parser p;

    build_tls12(cv, 16384, true, 1);
    cr_assert_eq(conv_run(&p, cv, 0), TLS_DONE);
    cr_assert(p.facts.cert_requested);
    cr_assert_eq(p.facts.client_cert, TLS_CC_PRESENTED);
    cr_assert_eq(p.facts.client_certs, 1);
    cr_assert_eq(tls_cert_count(&p, C), 1);
    cr_assert_str_eq(tls_client_cert_name(p.facts.client_cert), "presented");
    tls_free(&p);
    free(cv);
}

Test(tls, client_cert_requested_empty)
{
    struct conv *cv = malloc(sizeof(*cv));
    struct tls_parser p;

    build_tls12(cv, 16384, true, 0);
    cr_assert_eq(conv_run(&p, cv, 0), TLS_DONE);
    cr_assert_eq(p.facts.client_cert, TLS_CC_REQUESTED_NONE);
    tls_free(&p);
    /* No Certificate message at all, straight to ClientKeyExchange. */
    build_tls12(cv, 16384, true, -1);
    cr_assert_eq(conv_run(&p, cv, 0), TLS_DONE);
    cr_assert_eq(p.facts.client_cert, TLS_CC_REQUESTED_NONE);
    cr_assert_str_eq(tls_client_cert_name(p.facts.client_cert), "requested-none");
    tls_free(&p);
    free(cv);
}

Test(tls, ssl3_no_certificate_warning)
{
    struct conv *cv = malloc(sizeof(*cv));
    struct bb *m = malloc(sizeof(*m));
    struct tls_parser p;
    struct ch_opt co = {
        .version = 0x0300, .ciphers = ciphers12 + 4, .nciphers = 2, .no_exts = true, .ticket = -1};
    struct sh_opt so = {.version = 0x0300, .cipher = 0x000a};

    conv_init(cv);
    bb_init(m);
    client_hello(m, &co);
    conv_hs(cv, C, m, 16384);
    bb_init(m);
    server_hello(m, &so);
    certificate(m, 1, 500);
    simple_msg(m, 13, 8);
    simple_msg(m, 14, 0);
    conv_hs(cv, S, m, 16384);
    bb_init(m);
    alert(m, 1, 41);
    conv_raw(cv, C, m);
    check_chunkings(cv, TLS_DONE);
    cr_assert_eq(conv_run(&p, cv, 0), TLS_DONE);
    cr_assert_eq(p.facts.version, TLS_V_SSL3);
    cr_assert_str_eq(tls_version_name(p.facts.version), "SSL 3.0");
    cr_assert_eq(p.facts.client_cert, TLS_CC_REQUESTED_NONE);
    cr_assert_not(p.facts.ch.has_extensions);
    cr_assert(p.facts.alert);
    cr_assert_eq(p.facts.alert_desc, 41);
    tls_free(&p);
    free(m);
    free(cv);
}

/* ---- TLS 1.3, HRR, resumption ------------------------------------------------------ */

static void build_tls13(struct conv *cv, bool hrr, bool psk)
{
    struct bb *m = malloc(sizeof(*m));
    struct ch_opt co = {.ciphers = ciphers13,
                        .nciphers = 6,
                        .sni = "vtgate",
                        .alpn = alpn_h2,
                        .tls13 = true,
                        .grease = true,
                        .sid_len = 32,
                        .sid_byte = 0x5a,
                        .ticket = -1,
                        .psk = psk};
    struct sh_opt so = {.cipher = 0x1301,
                        .selected = 0x0304,
                        .group = 0x001d,
                        .sid_len = 32,
                        .sid_byte = 0x5a,
                        .psk = psk};

    conv_init(cv);
    bb_init(m);
    client_hello(m, &co);
    conv_hs(cv, C, m, 16384);
    if (hrr) {
        struct sh_opt ho = so;

        ho.hrr = true;
        ho.group = 0x0017;
        bb_init(m);
        server_hello(m, &ho);
        conv_hs(cv, S, m, 16384);
        bb_init(m);
        ccs(m);
        conv_raw(cv, C, m);
        bb_init(m);
        co.grease = false;
        client_hello(m, &co);
        conv_hs(cv, C, m, 16384);
    }
    bb_init(m);
    server_hello(m, &so);
    conv_hs(cv, S, m, 16384);
    bb_init(m);
    ccs(m);
    records(m, 23, 0x0303, (const uint8_t *)"encrypted extensions........", 28, 28);
    conv_raw(cv, S, m);
    free(m);
}

Test(tls, tls13_done_at_server_hello)
{
    struct conv *cv = malloc(sizeof(*cv));
    struct tls_parser p;
    const struct tls_facts *f;

    build_tls13(cv, false, false);
    check_chunkings(cv, TLS_DONE);
    cr_assert_eq(conv_run(&p, cv, 0), TLS_DONE);
    f = tls_facts(&p);
    cr_assert_eq(f->version, TLS_V_13);
    cr_assert_eq(f->sh.version, TLS_V_12);
    cr_assert_eq(f->client_max_version, TLS_V_13);
    cr_assert_eq(f->cipher, 0x1301);
    cr_assert_eq(f->sh.key_share_group, 0x001d);
    cr_assert_eq(f->ch.key_shares.n, 1);
    cr_assert_eq(f->ch.versions.n, 3);
    cr_assert(f->sh.session_id_echo); /* compat mode echo is not resumption in 1.3 */
    cr_assert_eq(f->resumed, TLS_RESUME_NONE);
    cr_assert_eq(f->client_cert, TLS_CC_NOT_OBSERVABLE);
    cr_assert_not(f->server_cert_observable);
    cr_assert(f->encrypted[S]);
    cr_assert_eq(f->records[S], 1);
    cr_assert_str_eq(tls_version_name(f->version), "TLS 1.3");
    tls_free(&p);
    free(cv);
}

Test(tls, tls13_hello_retry_request)
{
    struct conv *cv = malloc(sizeof(*cv));
    struct tls_parser p;

    build_tls13(cv, true, false);
    check_chunkings(cv, TLS_DONE);
    cr_assert_eq(conv_run(&p, cv, 0), TLS_DONE);
    cr_assert(p.facts.hrr);
    cr_assert_eq(p.facts.hrr_group, 0x0017);
    cr_assert_eq(p.facts.hrr_cipher, 0x1301);
    cr_assert_eq(p.facts.client_hellos, 2);
    cr_assert_eq(p.facts.version, TLS_V_13);
    cr_assert(p.facts.ch.ciphers.n == 7); /* the first hello (with GREASE) is kept */
    cr_assert_not(p.facts.encrypted[C]);
    tls_free(&p);
    free(cv);
}

Test(tls, tls13_psk_resumption)
{
    struct conv *cv = malloc(sizeof(*cv));
    struct tls_parser p;

    build_tls13(cv, false, true);
    cr_assert_eq(conv_run(&p, cv, 0), TLS_DONE);
    cr_assert(p.facts.ch.has_psk);
    cr_assert_eq(p.facts.resumed, TLS_RESUME_PSK);
    cr_assert_str_eq(tls_resumption_name(p.facts.resumed), "psk");
    tls_free(&p);
    free(cv);
}

static void build_resumed12(struct conv *cv, bool ticket)
{
    struct bb *m = malloc(sizeof(*m));
    struct ch_opt co = {.ciphers = ciphers12,
                        .nciphers = 6,
                        .sni = "x",
                        .sid_len = 32,
                        .sid_byte = 0x42,
                        .ticket = ticket ? 100 : -1};
    struct sh_opt so = {.cipher = 0xc02f, .sid_len = 32, .sid_byte = 0x42};

    conv_init(cv);
    bb_init(m);
    client_hello(m, &co);
    conv_hs(cv, C, m, 16384);
    bb_init(m);
    server_hello(m, &so);
    if (ticket)
        simple_msg(m, 4, 60);
    conv_hs(cv, S, m, 16384);
    bb_init(m);
    ccs(m);
    conv_raw(cv, S, m);
    free(m);
}

Test(tls, tls12_resumption_session_id_and_ticket)
{
    struct conv *cv = malloc(sizeof(*cv));
    struct tls_parser p;

    build_resumed12(cv, false);
    check_chunkings(cv, TLS_DONE);
    cr_assert_eq(conv_run(&p, cv, 0), TLS_DONE);
    cr_assert(p.facts.sh.session_id_echo);
    cr_assert_eq(p.facts.resumed, TLS_RESUME_SESSION_ID);
    cr_assert_not(p.facts.server_cert_observable);
    cr_assert(p.facts.encrypted[S]);
    tls_free(&p);

    build_resumed12(cv, true);
    cr_assert_eq(conv_run(&p, cv, 0), TLS_DONE);
    cr_assert(p.facts.new_session_ticket);
    cr_assert_eq(p.facts.resumed, TLS_RESUME_TICKET);
    tls_free(&p);
    free(cv);
}

/* ---- alerts, CCS, interleaving ------------------------------------------------------- */

Test(tls, fatal_alert_ends)
{
    struct conv *cv = malloc(sizeof(*cv));
    struct bb *m = malloc(sizeof(*m));
    struct tls_parser p;
    struct ch_opt co = {.ciphers = ciphers12, .nciphers = 6, .ticket = -1};

    conv_init(cv);
    bb_init(m);
    client_hello(m, &co);
    conv_hs(cv, C, m, 16384);
    bb_init(m);
    alert(m, 2, 40);
    conv_raw(cv, S, m);
    check_chunkings(cv, TLS_DONE);
    cr_assert_eq(conv_run(&p, cv, 0), TLS_DONE);
    cr_assert(p.facts.alert);
    cr_assert_eq(p.facts.alert_level, 2);
    cr_assert_eq(p.facts.alert_desc, 40);
    cr_assert_eq(p.facts.alert_dir, S);
    cr_assert_str_eq(tls_alert_name(p.facts.alert_desc), "handshake_failure");
    cr_assert_str_eq(tls_alert_level_name(p.facts.alert_level), "fatal");
    cr_assert_eq(p.facts.client_cert, TLS_CC_UNKNOWN);
    cr_assert_null(tls_alert_name(255));
    tls_free(&p);
    free(m);
    free(cv);
}

Test(tls, records_interleaved_with_alerts)
{
    struct conv *cv = malloc(sizeof(*cv));
    struct bb *m = malloc(sizeof(*m)), *raw = malloc(sizeof(*raw));
    struct tls_parser p;
    struct ch_opt co = {.ciphers = ciphers12, .nciphers = 6, .ticket = -1, .sni = "a.b"};
    struct sh_opt so = {.cipher = 0x009e};

    conv_init(cv);
    bb_init(m);
    client_hello(m, &co);
    conv_hs(cv, C, m, 16384);

    /* Server: ServerHello record, a no_renegotiation warning, the
     * Certificate split over two records with a heartbeat between them,
     * then ServerKeyExchange (DHE 2048) and ServerHelloDone. */
    bb_init(raw);
    bb_init(m);
    server_hello(m, &so);
    records(raw, 22, 0x0303, m->d, m->n, 16384);
    alert(raw, 1, 100);
    bb_init(m);
    certificate(m, 1, 400);
    records(raw, 22, 0x0303, m->d, 200, 16384);
    records(raw, 24, 0x0303, (const uint8_t *)"hb", 2, 2);
    records(raw, 22, 0x0303, m->d + 200, m->n - 200, 16384);
    bb_init(m);
    hs_open(m, 12);
    bb_open(m, 2);
    bb_u8(m, 0x80);
    bb_fill(m, 0x01, 255);
    bb_close(m);
    bb_open(m, 2);
    bb_u8(m, 2);
    bb_close(m);
    bb_open(m, 2);
    bb_fill(m, 0x03, 256);
    bb_close(m);
    bb_close(m);
    simple_msg(m, 14, 0);
    records(raw, 22, 0x0303, m->d, m->n, 16384);
    conv_raw(cv, S, raw);
    bb_init(raw);
    client_kx(raw);
    conv_raw(cv, C, raw);
    check_chunkings(cv, TLS_DONE);
    cr_assert_eq(conv_run(&p, cv, 0), TLS_DONE);
    cr_assert(p.facts.alert);
    cr_assert_eq(p.facts.alert_desc, 100);
    cr_assert_eq(p.facts.ske_dh_bits, 2048);
    cr_assert_eq(p.facts.server_certs, 1);
    cr_assert(p.facts.server_hello_done);
    tls_free(&p);
    free(raw);
    free(m);
    free(cv);
}

/* ---- SSLv2-compatible ClientHello ------------------------------------------------ */

Test(tls, sslv2_client_hello)
{
    struct conv *cv = malloc(sizeof(*cv));
    struct bb *m = malloc(sizeof(*m));
    struct tls_parser p;
    struct sh_opt so = {.version = 0x0301, .cipher = 0x0035};
    static const uint8_t specs[] = {0x00, 0x00, 0x35, 0x00, 0x00, 0x2f, 0x07, 0x00,
                                    0xc0, 0x00, 0x00, 0x0a, 0x00, 0x00, 0xff};

    conv_init(cv);
    bb_init(m);
    bb_u16(m, 0x8000 | (9 + sizeof(specs) + 16));
    bb_u8(m, 1);
    bb_u16(m, 0x0301);
    bb_u16(m, sizeof(specs));
    bb_u16(m, 0);
    bb_u16(m, 16);
    bb_bytes(m, specs, sizeof(specs));
    bb_fill(m, 0xc1, 16);
    conv_raw(cv, C, m);
    bb_init(m);
    server_hello(m, &so);
    certificate(m, 1, 600);
    simple_msg(m, 14, 0);
    conv_hs(cv, S, m, 16384);
    bb_init(m);
    client_kx(m);
    conv_raw(cv, C, m);
    check_chunkings(cv, TLS_DONE);
    cr_assert_eq(conv_run(&p, cv, 0), TLS_DONE);
    cr_assert(p.facts.ch.sslv2);
    cr_assert_eq(p.facts.ch.version, 0x0301);
    cr_assert_eq(p.facts.ch.ciphers.n, 4);
    cr_assert_eq(p.facts.ch.ciphers.v[0], 0x0035);
    cr_assert_eq(p.facts.ch.ciphers.v[3], 0x00ff);
    cr_assert_eq(p.facts.ch.sslv2_ciphers, 1);
    cr_assert_eq(p.facts.version, TLS_V_10);
    cr_assert_eq(p.facts.client_max_version, TLS_V_10);
    cr_assert_eq(tls_cert_count(&p, S), 1);
    tls_free(&p);
    free(m);
    free(cv);
}

/* ---- lengths that lie -------------------------------------------------------------- */

/* Feed one client record with handshake message bytes msg[0..n) from a
 * guard buffer; return the status and error. */
static enum tls_status feed_client_msg(const uint8_t *msg, size_t n, enum tls_error *err)
{
    struct bb *w = malloc(sizeof(*w));
    struct tls_parser p;
    struct guard g;
    enum tls_status st;

    bb_init(w);
    records(w, 22, 0x0301, msg, n, 16384);
    tls_init(&p);
    st = tls_feed(&p, C, guard_copy(&g, w->d, w->n), w->n);
    *err = tls_error(&p);
    guard_free(&g);
    tls_free(&p);
    free(w);
    return st;
}

static size_t find_u16(const struct bb *m, uint16_t v, size_t from)
{
    for (size_t i = from; i + 1 < m->n; i++)
        if (m->d[i] == (v >> 8) && m->d[i + 1] == (v & 0xff))
            return i;
    cr_assert_fail("value %04x not found", v);
    return 0;
}

Test(tls, lying_lengths_fail_cleanly)
{
    struct bb *m = malloc(sizeof(*m)), *x = malloc(sizeof(*x));
    struct ch_opt co = {
        .ciphers = ciphers12, .nciphers = 6, .sni = "abc.example", .ticket = -1, .alpn = alpn_h2};
    enum tls_error err;
    size_t ext_block, sni, alpn, groups;

    bb_init(m);
    client_hello(m, &co);
    cr_assert_eq(feed_client_msg(m->d, m->n, &err), TLS_MORE);

    /* extension block length: 4 + 2 + 32 + 1 + 2 + 12 + 2 after header */
    ext_block = 4 + 2 + 32 + 1 + 2 + 12 + 2;
    sni = find_u16(m, TLS_EXT_SERVER_NAME, ext_block + 2);
    alpn = find_u16(m, TLS_EXT_ALPN, sni);
    groups = find_u16(m, TLS_EXT_SUPPORTED_GROUPS, ext_block + 2);
    struct {
        const char *what;
        size_t at;
        int delta;
    } cases[] = {
        {"handshake length short", 3, -1},
        {"session id length", 4 + 2 + 32, +1},
        {"cipher suites length odd", 4 + 2 + 32 + 1 + 1, +1},
        {"cipher suites length long", 4 + 2 + 32 + 1 + 1, +40},
        {"compression length", 4 + 2 + 32 + 1 + 2 + 12, +5},
        {"extension block long", ext_block + 1, +1},
        {"extension block short", ext_block + 1, -1},
        {"sni extension length", sni + 3, +1},
        {"sni list length", sni + 5, +1},
        {"sni name length", sni + 8, +1},
        {"alpn list length", alpn + 5, -1},
        {"alpn name length", alpn + 6, +2},
        {"groups vector odd", groups + 5, -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memcpy(x, m, sizeof(*m));
        x->d[cases[i].at] = (uint8_t)(x->d[cases[i].at] + cases[i].delta);
        /* A short handshake length cuts the hello: its extension block
         * then overruns the message. */
        enum tls_status st = feed_client_msg(x->d, x->n, &err);

        cr_assert_eq(st, TLS_ERROR, "%s", cases[i].what);
        cr_assert_eq(err, TLS_E_HANDSHAKE, "%s: %s", cases[i].what, tls_error_name(err));
    }
    free(x);
    free(m);
}

Test(tls, lying_record_lengths)
{
    struct tls_parser p;
    static const uint8_t too_long[] = {22, 3, 3, 0x48, 0x01};
    static const uint8_t zero_hs[] = {22, 3, 3, 0, 0};
    static const uint8_t bad_type[] = {25, 3, 3, 0, 1, 0};
    static const uint8_t bad_ver[] = {22, 2, 0, 0, 1, 0};
    static const uint8_t alert3[] = {21, 3, 3, 0, 3, 2, 40, 0};
    static const uint8_t ccs2[] = {20, 3, 3, 0, 2, 1, 1};
    static const uint8_t http[] = "GET / HTTP/1.1\r\n";
    struct guard g;

    tls_init(&p);
    cr_assert_eq(tls_feed(&p, C, guard_copy(&g, too_long, 5), 5), TLS_ERROR);
    cr_assert_eq(tls_error(&p), TLS_E_RECORD);
    /* A failed parser stays failed. */
    cr_assert_eq(tls_feed(&p, S, too_long, 5), TLS_ERROR);
    guard_free(&g);
    tls_free(&p);

    tls_init(&p);
    cr_assert_eq(tls_feed(&p, C, zero_hs, 5), TLS_ERROR);
    tls_init(&p);
    cr_assert_eq(tls_feed(&p, C, bad_type, 6), TLS_ERROR);
    cr_assert_eq(tls_error(&p), TLS_E_NOT_TLS);
    tls_init(&p);
    cr_assert_eq(tls_feed(&p, C, bad_ver, 6), TLS_ERROR);
    tls_init(&p);
    cr_assert_eq(tls_feed(&p, S, alert3, sizeof(alert3)), TLS_ERROR);
    cr_assert_eq(tls_error(&p), TLS_E_ALERT);
    tls_init(&p);
    cr_assert_eq(tls_feed(&p, S, ccs2, sizeof(ccs2)), TLS_ERROR);
    tls_init(&p);
    cr_assert_eq(tls_feed(&p, C, http, sizeof(http) - 1), TLS_ERROR);
    cr_assert_eq(tls_error(&p), TLS_E_NOT_TLS);
    cr_assert_str_eq(tls_error_name(tls_error(&p)), "not-tls");
    tls_free(&p);
}

Test(tls, oversize_hello_and_skipped_message)
{
    struct tls_parser p;
    static const uint8_t big_ch[] = {22, 3, 1, 0, 4, 1, 0x01, 0x00, 0x01};
    struct bb *w = malloc(sizeof(*w)), *m = malloc(sizeof(*m));
    struct ch_opt co = {.ciphers = ciphers12, .nciphers = 6, .ticket = -1};
    struct sh_opt so = {.cipher = 0xc02f};

    tls_init(&p);
    cr_assert_eq(tls_feed(&p, C, big_ch, sizeof(big_ch)), TLS_ERROR);
    cr_assert_eq(tls_error(&p), TLS_E_OVERSIZE);

    /* A 70000-byte server Certificate is skipped, the handshake goes on. */
    tls_init(&p);
    bb_init(m);
    client_hello(m, &co);
    bb_init(w);
    records(w, 22, 0x0301, m->d, m->n, 16384);
    cr_assert_eq(tls_feed(&p, C, w->d, w->n), TLS_MORE);
    bb_init(m);
    server_hello(m, &so);
    certificate(m, 7, 10000);
    simple_msg(m, 14, 0);
    bb_init(w);
    records(w, 22, 0x0303, m->d, m->n, 16384);
    cr_assert_eq(tls_feed(&p, S, w->d, w->n), TLS_MORE);
    bb_init(w);
    client_kx(w);
    cr_assert_eq(tls_feed(&p, C, w->d, w->n), TLS_DONE);
    cr_assert_eq(p.facts.oversize_msgs, 1);
    cr_assert_not(p.facts.server_cert_observable);
    cr_assert(p.facts.server_hello_done);
    cr_assert_leq(p.mem_peak, TLS_MAX_HS_MSG);
    tls_free(&p);
    free(w);
    free(m);
}

/* ---- truncation at every byte ------------------------------------------------------ */

/* Every prefix of a message, presented as a complete message (lengths
 * rewritten), must fail cleanly; the guard page catches any over-read. */
static void truncate_every_byte(const struct bb *msg, int dir)
{
    struct bb *w = malloc(sizeof(*w));

    for (size_t k = 4; k < msg->n; k++) {
        struct tls_parser p;
        struct guard g;
        enum tls_status st;
        uint32_t body = (uint32_t)(k - 4);
        uint8_t hdr[4] = {msg->d[0], (uint8_t)(body >> 16), (uint8_t)(body >> 8), (uint8_t)body};

        bb_init(w);
        bb_u8(w, 22);
        bb_u16(w, 0x0303);
        bb_u16(w, (uint16_t)k);
        bb_bytes(w, hdr, 4);
        bb_bytes(w, msg->d + 4, k - 4);
        tls_init(&p);
        st = tls_feed(&p, dir, guard_copy(&g, w->d, w->n), w->n);
        cr_assert_neq(st, TLS_DONE, "prefix %zu", k);
        guard_free(&g);
        /* And the raw prefix, fed as is, only ever waits. */
        bb_init(w);
        records(w, 22, 0x0303, msg->d, msg->n, 16384);
        tls_free(&p);
        tls_init(&p);
        size_t cut = 5 + k;
        st = tls_feed(&p, dir, guard_copy(&g, w->d, cut), cut);
        cr_assert_eq(st, TLS_MORE, "raw prefix %zu", k);
        cr_assert_geq(tls_need(&p, dir), 1);
        guard_free(&g);
        tls_free(&p);
    }
    free(w);
}

Test(tls, truncation_client_hello_every_byte)
{
    struct bb *m = malloc(sizeof(*m));
    struct ch_opt co = {.ciphers = ciphers13,
                        .nciphers = 6,
                        .sni = "trunc.example",
                        .alpn = alpn_h2,
                        .tls13 = true,
                        .grease = true,
                        .sid_len = 32,
                        .ticket = 16,
                        .psk = false};

    bb_init(m);
    client_hello(m, &co);
    truncate_every_byte(m, C);
    free(m);
}

Test(tls, truncation_server_messages_every_byte)
{
    struct bb *m = malloc(sizeof(*m));
    struct sh_opt so = {
        .cipher = 0x1301, .selected = 0x0304, .group = 0x001d, .alpn = "h2", .psk = true};

    bb_init(m);
    server_hello(m, &so);
    truncate_every_byte(m, S);
    bb_init(m);
    certificate(m, 3, 50);
    truncate_every_byte(m, S);
    free(m);
}

/* Every prefix of a whole conversation, cut anywhere, never over-reads and
 * never reaches a verdict it should not. */
Test(tls, truncation_conversation_every_byte)
{
    struct conv *cv = malloc(sizeof(*cv));

    build_tls12(cv, 300, true, 1);
    for (size_t cut = 0; cut < cv->fl[1].off + cv->fl[1].len; cut++) {
        struct tls_parser p;
        enum tls_status st = TLS_MORE;

        tls_init(&p);
        for (int i = 0; i < 2 && st == TLS_MORE; i++) {
            size_t off = cv->fl[i].off, len = cv->fl[i].len;
            struct guard g;

            if (off >= cut)
                break;
            if (off + len > cut)
                len = cut - off;
            st = tls_feed(&p, cv->fl[i].dir, guard_copy(&g, cv->wire.d + off, len), len);
            guard_free(&g);
        }
        cr_assert_eq(st, TLS_MORE, "cut %zu", cut);
        tls_free(&p);
    }
    free(cv);
}

/* ---- gaps ---------------------------------------------------------------------------- */

Test(tls, gap_inside_certificate_record)
{
    struct conv *cv = malloc(sizeof(*cv));
    struct tls_parser p;
    const struct flight *sf;

    build_tls12(cv, 16384, false, -1);
    tls_init(&p);
    cr_assert_eq(tls_feed(&p, C, cv->wire.d + cv->fl[0].off, cv->fl[0].len), TLS_MORE);
    sf = &cv->fl[1];
    /* 5-byte header + ServerHello; then lose 100 bytes inside the record. */
    cr_assert_eq(tls_feed(&p, S, cv->wire.d + sf->off, 200), TLS_MORE);
    cr_assert_eq(tls_gap(&p, S, 100), TLS_MORE);
    cr_assert(p.facts.gap[S]);
    cr_assert_eq(tls_feed(&p, S, cv->wire.d + sf->off + 300, sf->len - 300), TLS_MORE);
    cr_assert(p.facts.sh.seen);
    cr_assert_not(p.facts.server_cert_observable);
    /* The client's CCS still ends it (both sides' records are in sync). */
    cr_assert_eq(tls_gap(&p, C, 1000000), TLS_MORE);
    cr_assert_eq(tls_gap(&p, S, 1000000), TLS_DONE);
    tls_free(&p);
    free(cv);
}

Test(tls, gap_before_server_hello_ends)
{
    struct tls_parser p;

    tls_init(&p);
    cr_assert_eq(tls_gap(&p, S, 10), TLS_DONE);
    cr_assert(p.facts.gap[S]);
    cr_assert_eq(tls_feed(&p, S, (const uint8_t *)"x", 1), TLS_DONE);
    tls_free(&p);
}

/* ---- small functions ----------------------------------------------------------------- */

Test(tls, probe_and_names)
{
    static const uint8_t ch[] = {22, 3, 1, 0, 200};
    static const uint8_t v2[] = {0x80, 0x2e, 1, 3, 1};
    char buf[9];

    cr_assert_eq(tls_probe(ch, 5), 1);
    cr_assert_eq(tls_probe(ch, 2), -1);
    cr_assert_eq(tls_probe(v2, 5), 1);
    cr_assert_eq(tls_probe((const uint8_t *)"GET /", 5), 0);
    cr_assert_eq(tls_probe((const uint8_t *)"\x16\x01", 2), -1);
    cr_assert_eq(tls_probe((const uint8_t *)"\x16\x01\x00", 3), 0);
    cr_assert_str_eq(tls_version_name(0x0301), "TLS 1.0");
    cr_assert_str_eq(tls_version_name(0x0302), "TLS 1.1");
    cr_assert_str_eq(tls_version_name(0x0303), "TLS 1.2");
    cr_assert_str_eq(tls_version_name(0x0002), "SSL 2.0");
    cr_assert_null(tls_version_name(0x7f1c));
    cr_assert_str_eq(tls_version_str(0x7f1c, buf), "0x7f1c");
    cr_assert_str_eq(tls_version_str(0x0304, buf), "TLS 1.3");
    cr_assert_str_eq(tls_resumption_name(TLS_RESUME_NONE), "none");
}

Test(tls_ciphers, lookup_and_classes)
{
    char buf[7];
    const struct tls_cipher *c;

    cr_assert_gt(tls_cipher_count(), 300);
    for (size_t i = 1; i < tls_cipher_count(); i++)
        cr_assert_lt(tls_cipher_at(i - 1)->id, tls_cipher_at(i)->id);
    c = tls_cipher_find(0xc02f);
    cr_assert_not_null(c);
    cr_assert_str_eq(c->name, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    cr_assert_str_eq(c->kx, "ECDHE");
    cr_assert_str_eq(c->auth, "RSA");
    cr_assert_str_eq(c->enc, "AES-GCM");
    cr_assert_str_eq(c->mac, "AEAD");
    cr_assert_eq(c->enc_bits, 128);
    cr_assert(c->flags & TLS_CS_F_AEAD);
    cr_assert(c->flags & TLS_CS_F_PFS);
    cr_assert_eq(c->strength, TLS_CS_RECOMMENDED);
    cr_assert_eq(tls_cipher_find(0x1302)->strength, TLS_CS_RECOMMENDED);
    cr_assert_eq(tls_cipher_find(0x0005)->strength, TLS_CS_INSECURE);   /* RC4 */
    cr_assert_eq(tls_cipher_find(0x0000)->strength, TLS_CS_INSECURE);   /* NULL */
    cr_assert_eq(tls_cipher_find(0x0034)->strength, TLS_CS_INSECURE);   /* DH_anon */
    cr_assert_eq(tls_cipher_find(0x0003)->strength, TLS_CS_INSECURE);   /* EXPORT */
    cr_assert_eq(tls_cipher_find(0x0009)->strength, TLS_CS_INSECURE);   /* DES */
    cr_assert_eq(tls_cipher_find(0xc012)->strength, TLS_CS_WEAK);       /* 3DES */
    cr_assert_eq(tls_cipher_find(0xc013)->strength, TLS_CS_WEAK);       /* CBC SHA-1 */
    cr_assert_eq(tls_cipher_find(0x009c)->strength, TLS_CS_WEAK);       /* static RSA */
    cr_assert_eq(tls_cipher_find(0xc027)->strength, TLS_CS_ACCEPTABLE); /* CBC SHA-256 */
    cr_assert_eq(tls_cipher_find(0x00ff)->strength, TLS_CS_SIGNAL);
    cr_assert_str_eq(tls_cipher_strength_name(TLS_CS_WEAK), "weak");
    cr_assert_null(tls_cipher_find(0x0a0a));
    cr_assert_str_eq(tls_cipher_name(0x1234, buf), "0x1234");
    cr_assert_str_eq(tls_cipher_name(0x1301, buf), "TLS_AES_128_GCM_SHA256");
    cr_assert(tls_is_grease(0x0a0a));
    cr_assert(tls_is_grease(0xfafa));
    cr_assert_not(tls_is_grease(0x0a1a));
    cr_assert_not(tls_is_grease(0x1301));
}

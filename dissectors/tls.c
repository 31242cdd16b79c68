/* TLS handshake dissector: record layer, handshake message reassembly and
 * the hello, certificate, key exchange and alert parsers. See tls.h for the
 * contract. References: RFC 8446 (TLS 1.3), RFC 5246 (TLS 1.2), RFC 6101
 * (SSL 3.0), draft-hickman-netscape-ssl-00 (SSLv2), RFC 6066 (SNI), RFC 7301
 * (ALPN), RFC 5077 (tickets), RFC 8422 (ECC), RFC 8701 (GREASE).
 */
#include "dissectors/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/tls_ciphers.h"

/* Record content types (RFC 8446 5.1); SSL2 is our marker for an SSLv2 record. */
enum {
    TLS_CT_CCS = 20,
    TLS_CT_ALERT = 21,
    TLS_CT_HANDSHAKE = 22,
    TLS_CT_APPDATA = 23,
    TLS_CT_HEARTBEAT = 24,
    TLS_CT_SSL2 = 128,
};

/* Handshake message types (RFC 8446 4, RFC 5246 7.4). */
enum {
    TLS_HS_HELLO_REQUEST = 0,
    TLS_HS_CLIENT_HELLO = 1,
    TLS_HS_SERVER_HELLO = 2,
    TLS_HS_NEW_SESSION_TICKET = 4,
    TLS_HS_CERTIFICATE = 11,
    TLS_HS_SERVER_KEY_EXCHANGE = 12,
    TLS_HS_CERTIFICATE_REQUEST = 13,
    TLS_HS_SERVER_HELLO_DONE = 14,
    TLS_HS_CERTIFICATE_VERIFY = 15,
    TLS_HS_CLIENT_KEY_EXCHANGE = 16,
};

/* Largest record body: 2^14 plaintext + 2048 expansion (RFC 5246 6.2.3). */
#define TLS_MAX_RECORD (16384u + 2048u)

/* Alert descriptions that do not end a handshake at warning level. */
#define TLS_ALERT_NO_CERTIFICATE   41
#define TLS_ALERT_NO_RENEGOTIATION 100

/* RFC 8446 4.1.3: the ServerHello.random of a HelloRetryRequest. */
static const uint8_t tls_hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* RFC 8446 4.1.3: downgrade protection, first 7 bytes of the last 8. */
static const uint8_t tls_downgrade[7] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44};

/* ---- cursor ---------------------------------------------------------------- */

struct tls_cur {
    const uint8_t *p, *end;
};

static size_t cur_left(const struct tls_cur *c)
{
    return (size_t)(c->end - c->p);
}

static bool cur_done(const struct tls_cur *c)
{
    return c->p == c->end;
}

static bool cur_skip(struct tls_cur *c, size_t n)
{
    if (n > cur_left(c))
        return false;
    c->p += n;
    return true;
}

static bool cur_u8(struct tls_cur *c, uint8_t *v)
{
    if (1 > cur_left(c))
        return false;
    *v = c->p[0];
    c->p += 1;
    return true;
}

static bool cur_u16(struct tls_cur *c, uint16_t *v)
{
    if (2 > cur_left(c))
        return false;
    *v = (uint16_t)(c->p[0] << 8 | c->p[1]);
    c->p += 2;
    return true;
}

static bool cur_u24(struct tls_cur *c, uint32_t *v)
{
    if (3 > cur_left(c))
        return false;
    *v = (uint32_t)c->p[0] << 16 | (uint32_t)c->p[1] << 8 | c->p[2];
    c->p += 3;
    return true;
}

/* A vector with a 1, 2 or 3 byte length prefix: *sub covers its body and
 * gets its own end; c moves past it. */
static bool cur_block(struct tls_cur *c, int lenbytes, struct tls_cur *sub)
{
    uint32_t len = 0;
    uint8_t l8;
    uint16_t l16;
    bool ok;

    if (lenbytes == 1) {
        ok = cur_u8(c, &l8);
        len = l8;
    } else if (lenbytes == 2) {
        ok = cur_u16(c, &l16);
        len = l16;
    } else {
        ok = cur_u24(c, &len);
    }
    if (!ok || len > cur_left(c))
        return false;
    sub->p = c->p;
    sub->end = c->p + len;
    c->p += len;
    return true;
}

/* ---- small helpers ---------------------------------------------------------- */

static void u16_push(uint16_t *v, size_t cap, uint16_t *n, uint16_t *total, uint16_t x)
{
    if (*n < cap)
        v[(*n)++] = x;
    if (*total < UINT16_MAX)
        (*total)++;
}

#define TLS_LIST_PUSH(list, x)                                                                     \
    u16_push((list).v, sizeof((list).v) / sizeof((list).v[0]), &(list).n, &(list).total, (x))

/* Copy at most cap bytes of src into dst as printable ASCII ('?' for others),
 * NUL-terminated. Returns true when a byte was replaced. */
static bool copy_printable(char *dst, size_t cap, const uint8_t *src, size_t n)
{
    bool odd = false;
    size_t i, m = n < cap ? n : cap;

    for (i = 0; i < m; i++) {
        bool ok = src[i] >= 0x20 && src[i] < 0x7f;

        dst[i] = ok ? (char)src[i] : '?';
        odd |= !ok;
    }
    dst[m] = '\0';
    return odd;
}

/* Read a list of u16 filling an accumulator via TLS_LIST_PUSH; body must be
 * a vector with a `lenbytes` prefix of even length that fills ext exactly. */
static bool parse_u16_vec(struct tls_cur *ext, int lenbytes, uint16_t *v, size_t cap, uint16_t *n,
                          uint16_t *total)
{
    struct tls_cur l;
    uint16_t x;

    if (!cur_block(ext, lenbytes, &l) || !cur_done(ext) || cur_left(&l) % 2 != 0)
        return false;
    while (!cur_done(&l)) {
        if (!cur_u16(&l, &x))
            return false;
        u16_push(v, cap, n, total, x);
    }
    return true;
}

#define TLS_PARSE_U16_VEC(ext, lenbytes, list)                                                     \
    parse_u16_vec((ext), (lenbytes), (list).v, sizeof((list).v) / sizeof((list).v[0]), &(list).n,  \
                  &(list).total)

/* ---- ClientHello extensions ----------------------------------------------------- */

/* server_name (RFC 6066 3): ServerNameList<1..2^16-1> of {type, name<1..2^16-1>}. */
static bool ch_ext_sni(struct tls_client_hello *ch, struct tls_cur *e)
{
    struct tls_cur list, name;
    uint8_t type;

    ch->has_sni = true;
    if (cur_done(e))
        return true; /* empty extension: present, no name */
    if (!cur_block(e, 2, &list) || !cur_done(e))
        return false;
    while (!cur_done(&list)) {
        if (!cur_u8(&list, &type) || !cur_block(&list, 2, &name))
            return false;
        if (type != 0 || ch->sni[0] != '\0')
            continue;
        ch->sni_truncated = cur_left(&name) > TLS_SNI_LEN;
        ch->sni_odd = copy_printable(ch->sni, TLS_SNI_LEN, name.p, cur_left(&name));
    }
    return true;
}

/* application_layer_protocol_negotiation (RFC 7301 3.1). */
static bool ch_ext_alpn(struct tls_client_hello *ch, struct tls_cur *e)
{
    struct tls_cur list, name;

    ch->has_alpn = true;
    if (!cur_block(e, 2, &list) || !cur_done(e))
        return false;
    while (!cur_done(&list)) {
        size_t len;

        if (!cur_block(&list, 1, &name) || cur_done(&name))
            return false;
        len = cur_left(&name);
        if (ch->alpn_total == 0) {
            ch->alpn0_len = (uint8_t)len;
            ch->alpn0_first = name.p[0];
            ch->alpn0_last = name.p[len - 1];
        }
        if (ch->alpn_n < TLS_MAX_ALPN) {
            ch->alpn_truncated |= len > TLS_ALPN_LEN;
            copy_printable(ch->alpn[ch->alpn_n++], TLS_ALPN_LEN, name.p, len);
        } else {
            ch->alpn_truncated = true;
        }
        if (ch->alpn_total < UINT8_MAX)
            ch->alpn_total++;
    }
    return true;
}

/* key_share (RFC 8446 4.2.8): KeyShareEntry client_shares<0..2^16-1>. */
static bool ch_ext_key_share(struct tls_client_hello *ch, struct tls_cur *e)
{
    struct tls_cur list, key;
    uint16_t group;

    if (!cur_block(e, 2, &list) || !cur_done(e))
        return false;
    while (!cur_done(&list)) {
        if (!cur_u16(&list, &group) || !cur_block(&list, 2, &key))
            return false;
        TLS_LIST_PUSH(ch->key_shares, group);
    }
    return true;
}

/* ec_point_formats (RFC 8422 5.1.2): ECPointFormat list<1..2^8-1>. */
static bool ch_ext_point_formats(struct tls_client_hello *ch, struct tls_cur *e)
{
    struct tls_cur list;
    uint8_t f;

    if (!cur_block(e, 1, &list) || !cur_done(e))
        return false;
    while (cur_u8(&list, &f)) {
        if (ch->point_formats_n < TLS_MAX_POINT_FORMATS)
            ch->point_formats[ch->point_formats_n++] = f;
        if (ch->point_formats_total < UINT8_MAX)
            ch->point_formats_total++;
    }
    return true;
}

/* One ClientHello extension of type `type` with body e. */
static bool ch_ext(struct tls_client_hello *ch, uint16_t type, struct tls_cur *e)
{
    switch (type) {
    case TLS_EXT_SERVER_NAME:
        return ch_ext_sni(ch, e);
    case TLS_EXT_SUPPORTED_GROUPS:
        return TLS_PARSE_U16_VEC(e, 2, ch->groups);
    case TLS_EXT_EC_POINT_FORMATS:
        return ch_ext_point_formats(ch, e);
    case TLS_EXT_SIGNATURE_ALGS:
        return TLS_PARSE_U16_VEC(e, 2, ch->sigalgs);
    case TLS_EXT_ALPN:
        return ch_ext_alpn(ch, e);
    case TLS_EXT_SUPPORTED_VERSIONS:
        return TLS_PARSE_U16_VEC(e, 1, ch->versions);
    case TLS_EXT_KEY_SHARE:
        return ch_ext_key_share(ch, e);
    case TLS_EXT_SESSION_TICKET:
        ch->has_session_ticket = true;
        ch->session_ticket_nonempty = !cur_done(e);
        return true;
    case TLS_EXT_PRE_SHARED_KEY:
        ch->has_psk = true;
        return true;
    case TLS_EXT_EARLY_DATA:
        ch->has_early_data = true;
        return true;
    case TLS_EXT_EXTENDED_MS:
        ch->has_ems = true;
        return true;
    case TLS_EXT_RENEGOTIATION_INFO:
        ch->has_reneg_info = true;
        return true;
    default:
        return true;
    }
}

/* Extensions<0..2^16-1>, which must fill the rest of the hello exactly. */
typedef bool (*tls_ext_fn)(void *ctx, uint16_t type, struct tls_cur *e);

static bool parse_ext_block(struct tls_cur *c, uint16_t *types, uint16_t *n, uint16_t *total,
                            tls_ext_fn one, void *ctx)
{
    struct tls_cur exts, body;
    uint16_t type;

    if (!cur_block(c, 2, &exts) || !cur_done(c))
        return false;
    while (!cur_done(&exts)) {
        if (!cur_u16(&exts, &type) || !cur_block(&exts, 2, &body))
            return false;
        u16_push(types, TLS_MAX_EXTS, n, total, type);
        if (!one(ctx, type, &body))
            return false;
    }
    return true;
}

static bool ch_ext_cb(void *ctx, uint16_t type, struct tls_cur *e)
{
    return ch_ext(ctx, type, e);
}

/* ClientHello body (RFC 8446 4.1.2, RFC 5246 7.4.1.2). */
static bool ch_parse(struct tls_client_hello *ch, const uint8_t *b, size_t n)
{
    struct tls_cur c = {b, b + n}, sid, suites, comp;
    uint16_t cs;

    /* legacy_version, random[32], legacy_session_id<0..32> */
    if (!cur_u16(&c, &ch->version) || !cur_skip(&c, 32) || !cur_block(&c, 1, &sid) ||
        cur_left(&sid) > 32)
        return false;
    ch->session_id_len = (uint8_t)cur_left(&sid);
    memcpy(ch->session_id, sid.p, cur_left(&sid));

    /* cipher_suites<2..2^16-2> */
    if (!cur_block(&c, 2, &suites) || cur_done(&suites) || cur_left(&suites) % 2 != 0)
        return false;
    while (cur_u16(&suites, &cs))
        TLS_LIST_PUSH(ch->ciphers, cs);

    /* legacy_compression_methods<1..2^8-1> */
    if (!cur_block(&c, 1, &comp) || cur_done(&comp))
        return false;
    ch->compression_n = (uint8_t)cur_left(&comp);

    /* extensions<0..2^16-1>: absent in old SSL 3.0 / TLS 1.0 hellos */
    if (cur_done(&c))
        return true;
    ch->has_extensions = true;
    return parse_ext_block(&c, ch->exts.v, &ch->exts.n, &ch->exts.total, ch_ext_cb, ch);
}

/* SSLv2 CLIENT-HELLO (draft-hickman-netscape-ssl-00, RFC 6101 E.1): msg type
 * 1, version, cipher_specs_length, session_id_length, challenge_length, then
 * 3-byte cipher specs, session id and challenge. */
static bool ch_parse_v2(struct tls_client_hello *ch, const uint8_t *b, size_t n)
{
    struct tls_cur c = {b, b + n};
    uint16_t spec_len, sid_len, chal_len;
    uint8_t type;

    if (!cur_u8(&c, &type) || type != 1 || !cur_u16(&c, &ch->version) || !cur_u16(&c, &spec_len) ||
        !cur_u16(&c, &sid_len) || !cur_u16(&c, &chal_len))
        return false;
    if (spec_len == 0 || spec_len % 3 != 0 || (sid_len != 0 && sid_len != 16) || chal_len < 16 ||
        chal_len > 32 || cur_left(&c) != (size_t)spec_len + sid_len + chal_len)
        return false;
    ch->sslv2 = true;
    ch->session_id_len = (uint8_t)sid_len;
    ch->compression_n = 1;
    for (uint16_t i = 0; i < spec_len; i += 3) {
        /* A spec with a zero first byte is a TLS suite (RFC 5246 E.2). */
        if (c.p[i] == 0)
            TLS_LIST_PUSH(ch->ciphers, (uint16_t)(c.p[i + 1] << 8 | c.p[i + 2]));
        else if (ch->sslv2_ciphers < UINT16_MAX)
            ch->sslv2_ciphers++;
    }
    return true;
}

/* ---- ServerHello ----------------------------------------------------------------- */

struct sh_ctx {
    struct tls_server_hello *sh;
    bool hrr;
    uint16_t hrr_group;
};

/* ALPN in a ServerHello: a list with exactly one name (RFC 7301 3.1). */
static bool sh_ext_alpn(struct tls_server_hello *sh, struct tls_cur *e)
{
    struct tls_cur list, name;

    if (!cur_block(e, 2, &list) || !cur_done(e) || !cur_block(&list, 1, &name) || cur_done(&name) ||
        !cur_done(&list))
        return false;
    sh->has_alpn = true;
    copy_printable(sh->alpn, TLS_ALPN_LEN, name.p, cur_left(&name));
    return true;
}

static bool sh_ext(void *vctx, uint16_t type, struct tls_cur *e)
{
    struct sh_ctx *x = vctx;
    struct tls_server_hello *sh = x->sh;
    struct tls_cur key;

    switch (type) {
    case TLS_EXT_SUPPORTED_VERSIONS:
        return cur_u16(e, &sh->selected_version) && cur_done(e);
    case TLS_EXT_KEY_SHARE:
        /* HRR: selected_group only; ServerHello: a KeyShareEntry. */
        if (x->hrr)
            return cur_u16(e, &x->hrr_group) && cur_done(e);
        sh->has_key_share = true;
        return cur_u16(e, &sh->key_share_group) && cur_block(e, 2, &key) && cur_done(e);
    case TLS_EXT_ALPN:
        return sh_ext_alpn(sh, e);
    case TLS_EXT_PRE_SHARED_KEY:
        sh->has_psk = true;
        return cur_u16(e, &sh->psk_identity) && cur_done(e);
    case TLS_EXT_SESSION_TICKET:
        sh->has_session_ticket = true;
        return true;
    case TLS_EXT_EXTENDED_MS:
        sh->has_ems = true;
        return true;
    case TLS_EXT_RENEGOTIATION_INFO:
        sh->has_reneg_info = true;
        return true;
    default:
        return true;
    }
}

/* ServerHello body (RFC 8446 4.1.3). sid/sid_len: the client's session ID
 * for the echo test. Sets x->hrr for a HelloRetryRequest. */
static bool sh_parse(struct sh_ctx *x, const uint8_t *b, size_t n, const uint8_t *csid,
                     size_t csid_len)
{
    struct tls_server_hello *sh = x->sh;
    struct tls_cur c = {b, b + n}, sid;
    const uint8_t *random;

    /* legacy_version, random[32] */
    if (!cur_u16(&c, &sh->version) || 32 > cur_left(&c))
        return false;
    random = c.p;
    c.p += 32;
    x->hrr = memcmp(random, tls_hrr_random, 32) == 0;
    sh->downgrade_marker = memcmp(random + 24, tls_downgrade, 7) == 0 && random[31] <= 1;

    /* legacy_session_id_echo<0..32>, cipher_suite, legacy_compression_method */
    if (!cur_block(&c, 1, &sid) || cur_left(&sid) > 32 || !cur_u16(&c, &sh->cipher) ||
        !cur_u8(&c, &sh->compression))
        return false;
    sh->session_id_len = (uint8_t)cur_left(&sid);
    sh->session_id_echo =
        csid_len > 0 && csid_len == cur_left(&sid) && memcmp(csid, sid.p, csid_len) == 0;

    /* extensions<6..2^16-1> (absent before TLS 1.2 in some servers) */
    if (cur_done(&c))
        return true;
    sh->has_extensions = true;
    return parse_ext_block(&c, sh->exts.v, &sh->exts.n, &sh->exts.total, sh_ext, x);
}

/* ---- parser state helpers ------------------------------------------------------ */

static enum tls_status fail(struct tls_parser *p, enum tls_error e)
{
    p->status = TLS_ERROR;
    p->error = (uint8_t)e;
    return TLS_ERROR;
}

static void mem_add(struct tls_parser *p, size_t n)
{
    p->mem += n;
    if (p->mem > p->mem_peak)
        p->mem_peak = p->mem;
}

static void dir_free_buf(struct tls_parser *p, struct tls_dir_state *d)
{
    free(d->buf);
    p->mem -= d->cap;
    d->buf = NULL;
    d->cap = 0;
}

/* Client certificate state from what was seen, once the verdict is ready. */
static void derive_client_cert(struct tls_parser *p)
{
    struct tls_facts *f = &p->facts;

    if (f->client_cert != TLS_CC_UNKNOWN)
        return;
    if (f->version == TLS_V_13 || f->hrr)
        f->client_cert = TLS_CC_NOT_OBSERVABLE;
    else if (!f->sh.seen)
        f->client_cert = TLS_CC_UNKNOWN;
    else if (!f->cert_requested)
        f->client_cert = TLS_CC_NOT_REQUESTED;
    else if (p->d[TLS_DIR_CLIENT].kx_seen || p->d[TLS_DIR_CLIENT].ccs)
        f->client_cert = TLS_CC_REQUESTED_NONE;
}

/* The verdict is ready: derive the last facts and drop reassembly buffers. */
static enum tls_status finish(struct tls_parser *p)
{
    derive_client_cert(p);
    dir_free_buf(p, &p->d[0]);
    dir_free_buf(p, &p->d[1]);
    p->status = TLS_DONE;
    return TLS_DONE;
}

/* Check the <= 1.2 end conditions after each server or client step. */
static void check_final_12(struct tls_parser *p)
{
    struct tls_facts *f = &p->facts;
    const struct tls_dir_state *cd = &p->d[TLS_DIR_CLIENT];

    if (p->status != TLS_MORE)
        return;
    /* Wait for the client's answer to the server's flight: it shows the
     * client certificate, or an alert rejecting the server's certificate. */
    if (f->server_hello_done && (cd->kx_seen || cd->ccs || cd->lost || cd->hs_lost))
        finish(p);
    else if (p->d[TLS_DIR_SERVER].ccs || (f->encrypted[0] && f->encrypted[1]))
        finish(p);
}

/* ---- handshake messages ----------------------------------------------------------- */

static enum tls_status on_client_hello(struct tls_parser *p, const uint8_t *b, size_t n, bool v2)
{
    struct tls_facts *f = &p->facts;
    struct tls_client_hello tmp;
    struct tls_client_hello *ch = f->ch.seen ? &tmp : &f->ch;
    uint16_t maxv = 0;
    bool ok;

    if (ch == &tmp)
        memset(&tmp, 0, sizeof(tmp));
    ok = v2 ? ch_parse_v2(ch, b, n) : ch_parse(ch, b, n);
    if (!ok)
        return fail(p, TLS_E_HANDSHAKE);
    if (f->client_hellos < UINT8_MAX)
        f->client_hellos++;
    if (ch == &tmp)
        return TLS_MORE; /* second hello after an HRR: validated, not kept */
    ch->seen = true;
    ch->record_version = v2 ? TLS_V_SSL2 : p->d[TLS_DIR_CLIENT].first_version;
    for (uint16_t i = 0; i < ch->versions.n; i++)
        if (!tls_is_grease(ch->versions.v[i]) && ch->versions.v[i] > maxv)
            maxv = ch->versions.v[i];
    f->client_max_version = maxv ? maxv : ch->version;
    return TLS_MORE;
}

static enum tls_status on_server_hello(struct tls_parser *p, const uint8_t *b, size_t n)
{
    struct tls_facts *f = &p->facts;
    struct tls_server_hello sh;
    struct sh_ctx x = {&sh, false, 0};

    memset(&sh, 0, sizeof(sh));
    if (!sh_parse(&x, b, n, f->ch.session_id, f->ch.session_id_len))
        return fail(p, TLS_E_HANDSHAKE);
    if (x.hrr) {
        f->hrr = true;
        f->hrr_group = x.hrr_group;
        f->hrr_cipher = sh.cipher;
        return TLS_MORE;
    }
    sh.seen = true;
    f->sh = sh;
    f->version = sh.selected_version ? sh.selected_version : sh.version;
    f->cipher = sh.cipher;
    if (f->version == TLS_V_13) {
        if (sh.has_psk)
            f->resumed = TLS_RESUME_PSK;
        f->encrypted[TLS_DIR_SERVER] = true;
        return finish(p);
    }
    return TLS_MORE;
}

/* Certificate (RFC 5246 7.4.2): certificate_list<0..2^24-1> of
 * ASN.1Cert<1..2^24-1>. Keeps the first TLS_MAX_CERTS as DER. */
static enum tls_status on_certificate(struct tls_parser *p, int dir, const uint8_t *b, size_t n)
{
    struct tls_dir_state *d = &p->d[dir];
    struct tls_cur c = {b, b + n}, list, cert;
    size_t total = 0, off = 0;
    uint16_t count = 0;

    if (p->facts.version == TLS_V_13)
        return TLS_MORE; /* not expected in plaintext; not our format */
    if (!cur_block(&c, 3, &list) || !cur_done(&c))
        return fail(p, TLS_E_HANDSHAKE);
    for (struct tls_cur l = list; !cur_done(&l); count++) {
        if (!cur_block(&l, 3, &cert) || cur_done(&cert))
            return fail(p, TLS_E_HANDSHAKE);
        if (count < TLS_MAX_CERTS)
            total += cur_left(&cert);
    }
    free(d->certs);
    p->mem -= d->certs_size;
    d->certs = NULL;
    d->certs_size = 0;
    d->ncerts = 0;
    if (total > 0) {
        d->certs = malloc(total);
        if (!d->certs)
            return fail(p, TLS_E_NOMEM);
        d->certs_size = total;
        mem_add(p, total);
    }
    for (uint16_t i = 0; i < count && i < TLS_MAX_CERTS; i++) {
        cur_block(&list, 3, &cert);
        d->cert_off[i] = (uint32_t)off;
        d->cert_len[i] = (uint32_t)cur_left(&cert);
        memcpy(d->certs + off, cert.p, cur_left(&cert));
        off += cur_left(&cert);
        d->ncerts++;
    }
    if (count > TLS_MAX_CERTS)
        p->facts.certs_dropped += (uint16_t)(count - TLS_MAX_CERTS);
    if (dir == TLS_DIR_SERVER) {
        p->facts.server_cert_observable = true;
        p->facts.server_certs = count;
    } else {
        p->facts.client_certs = count;
        p->facts.client_cert = count ? TLS_CC_PRESENTED : TLS_CC_REQUESTED_NONE;
        d->kx_seen = true;
    }
    return TLS_MORE;
}

/* Number of significant bits of a big-endian unsigned integer. */
static uint16_t bignum_bits(const uint8_t *b, size_t n)
{
    size_t i = 0;
    uint16_t bits;

    while (i < n && b[i] == 0)
        i++;
    if (i == n)
        return 0;
    bits = (uint16_t)((n - i - 1) * 8);
    for (uint8_t top = b[i]; top; top >>= 1)
        bits++;
    return bits;
}

/* ServerKeyExchange (RFC 5246 7.4.3, RFC 8422 5.4, RFC 4279 2): only the
 * parameters in front (curve or prime), never the signature. */
static enum tls_status on_server_key_exchange(struct tls_parser *p, const uint8_t *b, size_t n)
{
    struct tls_facts *f = &p->facts;
    const struct tls_cipher *cs = tls_cipher_find(f->cipher);
    struct tls_cur c = {b, b + n}, v;
    uint8_t curve_type;

    f->ske_seen = true;
    if (!cs)
        return TLS_MORE;
    /* psk_identity_hint<0..2^16-1> comes first for PSK suites */
    if (strcmp(cs->auth, "PSK") == 0 && !cur_block(&c, 2, &v))
        return fail(p, TLS_E_HANDSHAKE);
    if (strcmp(cs->kx, "ECDHE") == 0 || strcmp(cs->kx, "ECDH") == 0) {
        /* ECParameters: curve_type 3 = named_curve, then NamedCurve */
        if (!cur_u8(&c, &curve_type))
            return fail(p, TLS_E_HANDSHAKE);
        if (curve_type == 3 && !cur_u16(&c, &f->ske_group))
            return fail(p, TLS_E_HANDSHAKE);
        f->ske_explicit_curve = curve_type != 3;
    } else if (strcmp(cs->kx, "DHE") == 0 || strcmp(cs->kx, "DH") == 0) {
        /* ServerDHParams: dh_p<1..2^16-1> */
        if (!cur_block(&c, 2, &v) || cur_done(&v))
            return fail(p, TLS_E_HANDSHAKE);
        f->ske_dh_bits = bignum_bits(v.p, cur_left(&v));
    } else if (strcmp(cs->kx, "RSA") == 0 && (cs->flags & TLS_CS_F_EXPORT)) {
        /* ServerRSAParams: rsa_modulus<1..2^16-1> */
        if (!cur_block(&c, 2, &v) || cur_done(&v))
            return fail(p, TLS_E_HANDSHAKE);
        f->ske_rsa_bits = bignum_bits(v.p, cur_left(&v));
    }
    return TLS_MORE;
}

static enum tls_status on_server_msg(struct tls_parser *p, uint8_t type, const uint8_t *b, size_t n)
{
    struct tls_facts *f = &p->facts;
    enum tls_status st = TLS_MORE;

    switch (type) {
    case TLS_HS_SERVER_HELLO:
        st = on_server_hello(p, b, n);
        break;
    case TLS_HS_CERTIFICATE:
        st = on_certificate(p, TLS_DIR_SERVER, b, n);
        break;
    case TLS_HS_SERVER_KEY_EXCHANGE:
        st = on_server_key_exchange(p, b, n);
        break;
    case TLS_HS_CERTIFICATE_REQUEST:
        f->cert_requested = true;
        break;
    case TLS_HS_SERVER_HELLO_DONE:
        if (n != 0)
            return fail(p, TLS_E_HANDSHAKE);
        f->server_hello_done = true;
        break;
    case TLS_HS_NEW_SESSION_TICKET:
        f->new_session_ticket = true;
        break;
    default:
        break; /* HelloRequest, CertificateStatus, ...: nothing we need */
    }
    if (st == TLS_MORE)
        check_final_12(p);
    return p->status;
}

static enum tls_status on_client_msg(struct tls_parser *p, uint8_t type, const uint8_t *b, size_t n)
{
    enum tls_status st = TLS_MORE;

    switch (type) {
    case TLS_HS_CLIENT_HELLO:
        st = on_client_hello(p, b, n, false);
        break;
    case TLS_HS_CERTIFICATE:
        st = on_certificate(p, TLS_DIR_CLIENT, b, n);
        break;
    case TLS_HS_CLIENT_KEY_EXCHANGE:
        p->d[TLS_DIR_CLIENT].kx_seen = true;
        break;
    default:
        break;
    }
    if (st == TLS_MORE)
        check_final_12(p);
    return p->status;
}

/* SSLv2 SERVER-HELLO: msg type 4, session_id_hit, certificate_type,
 * server_version, certificate_length, cipher_specs_length,
 * connection_id_length, certificate, cipher specs, connection id. */
static enum tls_status on_server_hello_v2(struct tls_parser *p, const uint8_t *b, size_t n)
{
    struct tls_facts *f = &p->facts;
    struct tls_cur c = {b, b + n};
    uint16_t cert_len, spec_len, cid_len;
    uint8_t type, hit, cert_type;

    if (!cur_u8(&c, &type) || type != 4 || !cur_u8(&c, &hit) || !cur_u8(&c, &cert_type) ||
        !cur_u16(&c, &f->sh.version) || !cur_u16(&c, &cert_len) || !cur_u16(&c, &spec_len) ||
        !cur_u16(&c, &cid_len) || cur_left(&c) != (size_t)cert_len + spec_len + cid_len)
        return fail(p, TLS_E_HANDSHAKE);
    f->sh.seen = true;
    f->sh.sslv2 = true;
    f->version = TLS_V_SSL2;
    f->resumed = hit ? TLS_RESUME_SESSION_ID : TLS_RESUME_NONE;
    return finish(p);
}

/* A complete handshake message (or SSLv2 record body) of direction dir. */
static enum tls_status dispatch(struct tls_parser *p, int dir, uint8_t type, const uint8_t *b,
                                size_t n)
{
    if (p->d[dir].type == TLS_CT_SSL2)
        return dir == TLS_DIR_CLIENT ? on_client_hello(p, b, n, true) : on_server_hello_v2(p, b, n);
    if (dir == TLS_DIR_CLIENT)
        return on_client_msg(p, type, b, n);
    return on_server_msg(p, type, b, n);
}

/* ---- handshake message reassembly ------------------------------------------------ */

static void hs_reset(struct tls_dir_state *d)
{
    d->hs_hdr_len = 0;
    d->hs_len = 0;
    d->hs_have = 0;
    d->hs_skip = false;
}

/* Grow d->buf to hold at least `need` bytes (need <= TLS_MAX_HS_MSG). The
 * size follows bytes that have arrived, never a claimed length. */
static bool hs_reserve(struct tls_parser *p, struct tls_dir_state *d, size_t need)
{
    size_t cap = d->cap ? d->cap : 2048;
    uint8_t *nb;

    if (need <= d->cap)
        return true;
    while (cap < need)
        cap *= 2;
    if (cap > TLS_MAX_HS_MSG)
        cap = TLS_MAX_HS_MSG;
    nb = realloc(d->buf, cap);
    if (!nb)
        return false;
    mem_add(p, cap - d->cap);
    d->buf = nb;
    d->cap = (uint32_t)cap;
    return true;
}

/* The 4-byte header is complete: check the length against the cap. */
static enum tls_status hs_header_done(struct tls_parser *p, int dir, struct tls_dir_state *d)
{
    d->hs_type = d->hs_hdr[0];
    d->hs_len = (uint32_t)d->hs_hdr[1] << 16 | (uint32_t)d->hs_hdr[2] << 8 | d->hs_hdr[3];
    d->hs_have = 0;
    if (d->hs_len > TLS_MAX_HS_MSG) {
        if (d->hs_type == TLS_HS_CLIENT_HELLO || d->hs_type == TLS_HS_SERVER_HELLO)
            return fail(p, TLS_E_OVERSIZE);
        d->hs_skip = true;
        if (p->facts.oversize_msgs < UINT16_MAX)
            p->facts.oversize_msgs++;
    }
    if (d->hs_len == 0) {
        uint8_t type = d->hs_type;

        hs_reset(d);
        return dispatch(p, dir, type, d->hs_hdr, 0);
    }
    return TLS_MORE;
}

/* Body bytes of the message in progress; dispatches it when complete. */
static enum tls_status hs_body(struct tls_parser *p, int dir, struct tls_dir_state *d,
                               const uint8_t **b, size_t *n)
{
    size_t want = d->hs_len - d->hs_have;
    size_t take = *n < want ? *n : want;
    uint8_t type = d->hs_type;
    bool skip;

    /* Zero copy when the whole body is in this fragment. */
    if (d->hs_have == 0 && take == want && !d->hs_skip) {
        const uint8_t *body = *b;

        *b += take;
        *n -= take;
        hs_reset(d);
        return dispatch(p, dir, type, body, want);
    }
    if (!d->hs_skip) {
        if (!hs_reserve(p, d, d->hs_have + take))
            return fail(p, TLS_E_NOMEM);
        memcpy(d->buf + d->hs_have, *b, take);
    }
    d->hs_have += (uint32_t)take;
    *b += take;
    *n -= take;
    if (d->hs_have < d->hs_len)
        return TLS_MORE;
    want = d->hs_len;
    skip = d->hs_skip;
    hs_reset(d);
    return skip ? TLS_MORE : dispatch(p, dir, type, d->buf, want);
}

/* A fragment of handshake content (part of one record body). */
static enum tls_status hs_feed(struct tls_parser *p, int dir, const uint8_t *b, size_t n)
{
    struct tls_dir_state *d = &p->d[dir];
    enum tls_status st = TLS_MORE;

    while (n > 0 && st == TLS_MORE) {
        if (d->hs_hdr_len < 4) {
            d->hs_hdr[d->hs_hdr_len++] = *b++;
            n--;
            if (d->hs_hdr_len == 4)
                st = hs_header_done(p, dir, d);
            continue;
        }
        st = hs_body(p, dir, d, &b, &n);
    }
    return st;
}

/* ---- record layer ---------------------------------------------------------------- */

/* ChangeCipherSpec or plaintext alert body, at most 2 bytes kept. */
static void small_feed(struct tls_dir_state *d, const uint8_t *b, size_t n)
{
    while (n > 0 && d->small_len < 2) {
        d->small[d->small_len++] = *b++;
        n--;
    }
}

/* Plaintext alert record complete (RFC 8446 6): level, description. */
static enum tls_status alert_done(struct tls_parser *p, int dir, uint32_t len)
{
    struct tls_facts *f = &p->facts;
    struct tls_dir_state *d = &p->d[dir];
    uint8_t level = d->small[0], desc = d->small[1];

    if (f->encrypted[dir]) {
        f->alert_encrypted = true;
        f->alert_dir = (uint8_t)dir;
        return finish(p);
    }
    if (len != 2 || level < 1 || level > 2)
        return fail(p, TLS_E_ALERT);
    if (!f->alert) {
        f->alert = true;
        f->alert_level = level;
        f->alert_desc = desc;
        f->alert_dir = (uint8_t)dir;
    }
    if (level == 1 && desc == TLS_ALERT_NO_CERTIFICATE) {
        /* SSL 3.0 client without a certificate (RFC 6101 5.4.1). */
        d->kx_seen = true;
        check_final_12(p);
        return p->status;
    }
    if (level == 1 && desc == TLS_ALERT_NO_RENEGOTIATION)
        return TLS_MORE;
    return finish(p);
}

/* ChangeCipherSpec complete (RFC 5246 7.1): one byte, value 1. */
static enum tls_status ccs_done(struct tls_parser *p, int dir, uint32_t len)
{
    struct tls_facts *f = &p->facts;
    struct tls_dir_state *d = &p->d[dir];

    if (len != 1 || d->small[0] != 1)
        return fail(p, TLS_E_ALERT);
    /* TLS 1.3 middlebox compatibility CCS (RFC 8446 D.4) changes nothing. */
    if (f->hrr || f->version == TLS_V_13 || !f->sh.seen)
        return TLS_MORE;
    d->ccs = true;
    f->encrypted[dir] = true;
    if (dir == TLS_DIR_SERVER && !f->server_cert_observable && !f->server_hello_done) {
        /* Abbreviated handshake: the session was resumed, from a ticket
         * if the client offered one (RFC 5077 3.4), else by session ID. */
        f->resumed = f->ch.session_ticket_nonempty ? TLS_RESUME_TICKET : TLS_RESUME_SESSION_ID;
    }
    check_final_12(p);
    return p->status;
}

/* The current record of direction dir is complete. */
static enum tls_status record_done(struct tls_parser *p, int dir, uint32_t len)
{
    struct tls_facts *f = &p->facts;

    switch (p->d[dir].type) {
    case TLS_CT_ALERT:
        return alert_done(p, dir, len);
    case TLS_CT_CCS:
        return ccs_done(p, dir, len);
    case TLS_CT_APPDATA:
        f->encrypted[dir] = true;
        if (dir == TLS_DIR_CLIENT && !f->sh.seen) {
            f->early_data = true; /* TLS 1.3 0-RTT */
            return TLS_MORE;
        }
        return finish(p);
    default:
        return TLS_MORE;
    }
}

/* Validate a 5-byte record header (RFC 8446 5.1). */
static enum tls_status record_header(struct tls_parser *p, int dir, struct tls_dir_state *d)
{
    uint16_t len = (uint16_t)(d->hdr[3] << 8 | d->hdr[4]);
    uint8_t type = d->hdr[0];

    if (type < TLS_CT_CCS || type > TLS_CT_HEARTBEAT)
        return fail(p, p->facts.records[dir] == 1 ? TLS_E_NOT_TLS : TLS_E_RECORD);
    if (d->hdr[1] != 3 || d->hdr[2] > 4)
        return fail(p, p->facts.records[dir] == 1 ? TLS_E_NOT_TLS : TLS_E_RECORD);
    if (len > TLS_MAX_RECORD || (len == 0 && type != TLS_CT_APPDATA))
        return fail(p, TLS_E_RECORD);
    if (p->facts.records[dir] == 1)
        d->first_version = (uint16_t)(d->hdr[1] << 8 | d->hdr[2]);
    d->type = type;
    d->rec_left = len;
    d->rec_len = len;
    d->in_record = true;
    d->small_len = 0;
    return TLS_MORE;
}

/* SSLv2 record with a 2-byte header (high bit set): the body is handled as
 * one handshake message of pseudo type TLS_CT_SSL2. */
static enum tls_status record_header_v2(struct tls_parser *p, struct tls_dir_state *d)
{
    uint16_t len = (uint16_t)((d->hdr[0] & 0x7f) << 8 | d->hdr[1]);

    if (len < 3)
        return fail(p, TLS_E_RECORD);
    d->type = TLS_CT_SSL2;
    d->rec_left = len;
    d->rec_len = len;
    d->in_record = true;
    hs_reset(d);
    d->hs_hdr_len = 4;
    d->hs_type = TLS_CT_SSL2;
    d->hs_len = len;
    return TLS_MORE;
}

/* Collect one header byte, advancing the caller's cursor and count. */
static enum tls_status header_feed(struct tls_parser *p, int dir, const uint8_t **b, size_t *n)
{
    struct tls_dir_state *d = &p->d[dir];
    bool v2 = p->facts.records[dir] == 0 && d->hdr_len > 0 && (d->hdr[0] & 0x80);

    if (d->hdr_len == 0 && p->facts.records[dir] == 0 && (**b & 0x80))
        v2 = true;
    d->hdr[d->hdr_len++] = **b;
    (*b)++;
    (*n)--;
    if (v2 && d->hdr_len == 2) {
        d->hdr_len = 0;
        p->facts.records[dir]++;
        return record_header_v2(p, d);
    }
    if (d->hdr_len < 5)
        return TLS_MORE;
    d->hdr_len = 0;
    p->facts.records[dir]++;
    return record_header(p, dir, d);
}

/* Record body bytes: route by content type. */
static enum tls_status body_feed(struct tls_parser *p, int dir, const uint8_t *b, size_t n)
{
    struct tls_dir_state *d = &p->d[dir];

    switch (d->type) {
    case TLS_CT_HANDSHAKE:
        if (p->facts.encrypted[dir] || d->hs_lost)
            return TLS_MORE; /* Finished and later: encrypted */
        return hs_feed(p, dir, b, n);
    case TLS_CT_SSL2:
        return hs_feed(p, dir, b, n);
    case TLS_CT_ALERT:
    case TLS_CT_CCS:
        small_feed(d, b, n);
        return TLS_MORE;
    default:
        return TLS_MORE; /* application data, heartbeat: skipped */
    }
}

/* ---- public API -------------------------------------------------------------------- */

void tls_init(struct tls_parser *p)
{
    memset(p, 0, sizeof(*p));
    p->status = TLS_MORE;
}

void tls_free(struct tls_parser *p)
{
    for (int i = 0; i < 2; i++) {
        free(p->d[i].buf);
        free(p->d[i].certs);
        p->d[i].buf = NULL;
        p->d[i].certs = NULL;
        p->d[i].cap = 0;
        p->d[i].ncerts = 0;
    }
    p->mem = 0;
}

/* One step: a header byte, or a run of body bytes; ends the record when
 * its last byte went by. */
static enum tls_status feed_step(struct tls_parser *p, int dir, const uint8_t **b, size_t *n)
{
    struct tls_dir_state *d = &p->d[dir];
    enum tls_status st;

    if (!d->in_record) {
        st = header_feed(p, dir, b, n);
    } else {
        size_t take = *n < d->rec_left ? *n : d->rec_left;

        st = body_feed(p, dir, *b, take);
        *b += take;
        *n -= take;
        d->rec_left -= (uint32_t)take;
    }
    if (st != TLS_MORE || !d->in_record || d->rec_left > 0)
        return st;
    d->in_record = false;
    return record_done(p, dir, d->rec_len);
}

enum tls_status tls_feed(struct tls_parser *p, int dir, const uint8_t *buf, size_t n)
{
    enum tls_status st = (enum tls_status)p->status;

    if (st != TLS_MORE || (dir != TLS_DIR_CLIENT && dir != TLS_DIR_SERVER))
        return st;
    if (p->d[dir].lost)
        return TLS_MORE;
    while (n > 0 && st == TLS_MORE)
        st = feed_step(p, dir, &buf, &n);
    return st;
}

/* After a gap: give up when nothing more can be learned. */
static enum tls_status gap_check(struct tls_parser *p, int dir)
{
    const struct tls_dir_state *d = &p->d[dir];

    if (p->d[0].lost && p->d[1].lost)
        return finish(p);
    if (dir == TLS_DIR_SERVER && (d->lost || d->hs_lost) && !p->facts.sh.seen)
        return finish(p); /* the ServerHello is gone: nothing decisive left */
    if (dir == TLS_DIR_SERVER && d->lost)
        return finish(p);
    check_final_12(p);
    return (enum tls_status)p->status;
}

enum tls_status tls_gap(struct tls_parser *p, int dir, uint64_t n)
{
    struct tls_dir_state *d;

    if (p->status != TLS_MORE || (dir != TLS_DIR_CLIENT && dir != TLS_DIR_SERVER) || n == 0)
        return (enum tls_status)p->status;
    d = &p->d[dir];
    p->facts.gap[dir] = true;
    if (d->lost)
        return gap_check(p, dir);
    if (d->in_record && n < d->rec_left && d->type != TLS_CT_SSL2 && d->type != TLS_CT_ALERT &&
        d->type != TLS_CT_CCS) {
        /* Inside one record body: record sync survives. */
        d->rec_left -= (uint32_t)n;
        if (d->type == TLS_CT_HANDSHAKE && !p->facts.encrypted[dir]) {
            d->hs_lost = true;
            hs_reset(d);
        }
    } else {
        d->lost = true;
    }
    return gap_check(p, dir);
}

enum tls_status tls_status(const struct tls_parser *p)
{
    return (enum tls_status)p->status;
}

enum tls_error tls_error(const struct tls_parser *p)
{
    return (enum tls_error)p->error;
}

const char *tls_error_name(enum tls_error e)
{
    switch (e) {
    case TLS_E_NONE:
        return "none";
    case TLS_E_NOT_TLS:
        return "not-tls";
    case TLS_E_RECORD:
        return "bad-record";
    case TLS_E_HANDSHAKE:
        return "bad-handshake";
    case TLS_E_ALERT:
        return "bad-alert";
    case TLS_E_OVERSIZE:
        return "oversize";
    case TLS_E_NOMEM:
        return "no-memory";
    }
    return "unknown";
}

bool tls_final(const struct tls_parser *p)
{
    return p->status == TLS_DONE;
}

size_t tls_need(const struct tls_parser *p, int dir)
{
    const struct tls_dir_state *d;

    if (dir != TLS_DIR_CLIENT && dir != TLS_DIR_SERVER)
        return 0;
    d = &p->d[dir];
    if (d->in_record)
        return d->rec_left ? d->rec_left : 1;
    return 5u - d->hdr_len;
}

const struct tls_facts *tls_facts(const struct tls_parser *p)
{
    return &p->facts;
}

size_t tls_cert_count(const struct tls_parser *p, int dir)
{
    if (dir != TLS_DIR_CLIENT && dir != TLS_DIR_SERVER)
        return 0;
    return p->d[dir].ncerts;
}

const uint8_t *tls_cert_der(const struct tls_parser *p, int dir, size_t i, size_t *len)
{
    const struct tls_dir_state *d;

    if (dir != TLS_DIR_CLIENT && dir != TLS_DIR_SERVER)
        return NULL;
    d = &p->d[dir];
    if (i >= d->ncerts)
        return NULL;
    *len = d->cert_len[i];
    return d->certs + d->cert_off[i];
}

size_t tls_mem(const struct tls_parser *p, size_t *peak)
{
    if (peak)
        *peak = p->mem_peak;
    return p->mem;
}

int tls_probe(const uint8_t *buf, size_t n)
{
    if (n == 0)
        return -1;
    if (buf[0] & 0x80) {
        /* SSLv2 CLIENT-HELLO: 2-byte header, msg type 1, version 0x0002 or 3.x */
        if (n < 5)
            return -1;
        return buf[2] == 1 && (buf[3] == 3 || (buf[3] == 0 && buf[4] == 2));
    }
    if (buf[0] < TLS_CT_CCS || buf[0] > TLS_CT_HEARTBEAT)
        return 0;
    if (n < 3)
        return -1;
    if (buf[1] != 3 || buf[2] > 4)
        return 0;
    if (n < 5)
        return -1;
    return (size_t)(buf[3] << 8 | buf[4]) <= TLS_MAX_RECORD;
}

const char *tls_version_name(uint16_t v)
{
    switch (v) {
    case TLS_V_SSL2:
        return "SSL 2.0";
    case TLS_V_SSL3:
        return "SSL 3.0";
    case TLS_V_10:
        return "TLS 1.0";
    case TLS_V_11:
        return "TLS 1.1";
    case TLS_V_12:
        return "TLS 1.2";
    case TLS_V_13:
        return "TLS 1.3";
    default:
        return NULL;
    }
}

const char *tls_version_str(uint16_t v, char buf[9])
{
    const char *name = tls_version_name(v);

    if (name)
        snprintf(buf, 9, "%s", name);
    else
        snprintf(buf, 9, "0x%04x", v);
    return buf;
}

/* Alert descriptions (RFC 8446 6, RFC 5246 7.2, RFC 6066, RFC 7301). */
static const struct {
    uint8_t desc;
    const char *name;
} tls_alerts[] = {
    {0, "close_notify"},
    {10, "unexpected_message"},
    {20, "bad_record_mac"},
    {21, "decryption_failed"},
    {22, "record_overflow"},
    {30, "decompression_failure"},
    {40, "handshake_failure"},
    {41, "no_certificate"},
    {42, "bad_certificate"},
    {43, "unsupported_certificate"},
    {44, "certificate_revoked"},
    {45, "certificate_expired"},
    {46, "certificate_unknown"},
    {47, "illegal_parameter"},
    {48, "unknown_ca"},
    {49, "access_denied"},
    {50, "decode_error"},
    {51, "decrypt_error"},
    {60, "export_restriction"},
    {70, "protocol_version"},
    {71, "insufficient_security"},
    {80, "internal_error"},
    {86, "inappropriate_fallback"},
    {90, "user_canceled"},
    {100, "no_renegotiation"},
    {109, "missing_extension"},
    {110, "unsupported_extension"},
    {111, "certificate_unobtainable"},
    {112, "unrecognized_name"},
    {113, "bad_certificate_status_response"},
    {114, "bad_certificate_hash_value"},
    {115, "unknown_psk_identity"},
    {116, "certificate_required"},
    {120, "no_application_protocol"},
};

const char *tls_alert_name(uint8_t desc)
{
    for (size_t i = 0; i < sizeof(tls_alerts) / sizeof(tls_alerts[0]); i++)
        if (tls_alerts[i].desc == desc)
            return tls_alerts[i].name;
    return NULL;
}

const char *tls_alert_level_name(uint8_t level)
{
    return level == 1 ? "warning" : level == 2 ? "fatal" : NULL;
}

const char *tls_client_cert_name(enum tls_client_cert c)
{
    switch (c) {
    case TLS_CC_NOT_REQUESTED:
        return "not-requested";
    case TLS_CC_REQUESTED_NONE:
        return "requested-none";
    case TLS_CC_PRESENTED:
        return "presented";
    case TLS_CC_NOT_OBSERVABLE:
        return "not-observable";
    case TLS_CC_UNKNOWN:
        break;
    }
    return "unknown";
}

const char *tls_resumption_name(enum tls_resumption r)
{
    switch (r) {
    case TLS_RESUME_SESSION_ID:
        return "session-id";
    case TLS_RESUME_TICKET:
        return "ticket";
    case TLS_RESUME_PSK:
        return "psk";
    case TLS_RESUME_NONE:
        break;
    }
    return "none";
}

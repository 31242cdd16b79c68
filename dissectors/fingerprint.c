/* JA3, JA3S and JA4 fingerprints. See fingerprint.h; JA3 as described by
 * its authors (github.com/salesforce/ja3), JA4 per FoxIO's
 * technical_details/JA4.md. */
#include "dissectors/fingerprint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/digest.h"

#include "dissectors/tls_ciphers.h"

/* Bounded string builder: overflow is remembered, never written. */
struct fp_str {
    char *p;
    size_t cap, n;
    bool overflow;
};

static void str_init(struct fp_str *s, char *p, size_t cap)
{
    s->p = p;
    s->cap = cap;
    s->n = 0;
    s->overflow = cap == 0;
    if (cap)
        p[0] = '\0';
}

/* Append n bytes of t. */
static void str_put(struct fp_str *s, const char *t, size_t n)
{
    if (s->overflow || n >= s->cap - s->n) {
        s->overflow = true;
        return;
    }
    memcpy(s->p + s->n, t, n);
    s->n += n;
    s->p[s->n] = '\0';
}

/* Append v in decimal (a hand loop: snprintf costs more than the rest of a JA3). */
static void str_dec(struct fp_str *s, unsigned v)
{
    char t[12];
    size_t i = sizeof(t);
    do {
        t[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    str_put(s, t + i, sizeof(t) - i);
}

/* Append v as 4 lower-case hex digits. */
static void str_hex4(struct fp_str *s, unsigned v)
{
    static const char digits[] = "0123456789abcdef";
    char t[4] = {digits[(v >> 12) & 0xf], digits[(v >> 8) & 0xf], digits[(v >> 4) & 0xf],
                 digits[v & 0xf]};
    str_put(s, t, 4);
}

/* Append v (0..99) as 2 decimal digits. */
static void str_dec2(struct fp_str *s, unsigned v)
{
    char t[3] = {(char)('0' + v / 10 % 10), (char)('0' + v % 10), '\0'};

    str_put(s, t, 2);
}

static void str_char(struct fp_str *s, char c)
{
    str_put(s, &c, 1);
}

/* Append the non-GREASE values of v[0..n), decimal, joined by '-'. */
static void str_dec_list(struct fp_str *s, const uint16_t *v, size_t n)
{
    bool first = true;

    for (size_t i = 0; i < n; i++) {
        if (tls_is_grease(v[i]))
            continue;
        if (!first)
            str_char(s, '-');
        str_dec(s, v[i]);
        first = false;
    }
}

/* Hash the JA3 string with MD5 into md5 when asked; copy to str when asked. */
static enum fp_result ja3_finish(struct fp_str *s, char *str, size_t cap, char *md5, bool truncated)
{
    if (s->overflow)
        return FP_ERROR;
    if (md5 && dg_hex(DG_MD5, s->p, s->n, md5, 32) != 0)
        return FP_ERROR;
    if (str) {
        if (s->n + 1 > cap)
            return FP_ERROR;
        memcpy(str, s->p, s->n + 1);
    }
    return truncated ? FP_TRUNCATED : FP_OK;
}

enum fp_result fp_ja3(const struct tls_client_hello *ch, char *str, size_t cap, char *md5)
{
    char buf[FP_JA3_STR_MAX];
    struct fp_str s;
    uint16_t pf[TLS_MAX_POINT_FORMATS];
    bool trunc;

    if (!ch->seen || ch->sslv2)
        return FP_NONE;
    str_init(&s, buf, sizeof(buf));

    /* SSLVersion,Cipher,SSLExtension,EllipticCurve,EllipticCurvePointFormat */
    str_dec(&s, ch->version);
    str_char(&s, ',');
    str_dec_list(&s, ch->ciphers.v, ch->ciphers.n);
    str_char(&s, ',');
    str_dec_list(&s, ch->exts.v, ch->exts.n);
    str_char(&s, ',');
    str_dec_list(&s, ch->groups.v, ch->groups.n);
    str_char(&s, ',');
    for (size_t i = 0; i < ch->point_formats_n; i++)
        pf[i] = ch->point_formats[i];
    str_dec_list(&s, pf, ch->point_formats_n);

    trunc = ch->ciphers.total > ch->ciphers.n || ch->exts.total > ch->exts.n ||
            ch->groups.total > ch->groups.n || ch->point_formats_total > ch->point_formats_n;
    return ja3_finish(&s, str, cap, md5, trunc);
}

enum fp_result fp_ja3s(const struct tls_server_hello *sh, char *str, size_t cap, char *md5)
{
    char buf[FP_JA3_STR_MAX];
    struct fp_str s;

    if (!sh->seen || sh->sslv2)
        return FP_NONE;
    str_init(&s, buf, sizeof(buf));

    /* SSLVersion,Cipher,SSLExtension */
    str_dec(&s, sh->version);
    str_char(&s, ',');
    str_dec(&s, sh->cipher);
    str_char(&s, ',');
    str_dec_list(&s, sh->exts.v, sh->exts.n);
    return ja3_finish(&s, str, cap, md5, sh->exts.total > sh->exts.n);
}

/* ---- JA4 ------------------------------------------------------------------------- */

/* Two characters for the version: highest non-GREASE supported_versions,
 * else the legacy version; the record version is ignored. */
static const char *ja4_version(const struct tls_client_hello *ch)
{
    uint16_t v = 0;

    for (size_t i = 0; i < ch->versions.n; i++)
        if (!tls_is_grease(ch->versions.v[i]) && ch->versions.v[i] > v)
            v = ch->versions.v[i];
    if (v == 0)
        v = ch->version;
    switch (v) {
    case 0x0304:
        return "13";
    case 0x0303:
        return "12";
    case 0x0302:
        return "11";
    case 0x0301:
        return "10";
    case 0x0300:
        return "s3";
    case 0x0002:
        return "s2";
    default:
        return "00";
    }
}

static bool is_alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* First and last character of the first ALPN value, or of its hex form
 * when either end is not an ASCII letter or digit; "00" without ALPN. */
static void ja4_alpn(const struct tls_client_hello *ch, char out[3])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t a = ch->alpn0_first, b = ch->alpn0_last;

    if (!ch->has_alpn || ch->alpn_total == 0 || ch->alpn0_len == 0) {
        memcpy(out, "00", 3);
        return;
    }
    if (is_alnum(a) && is_alnum(b)) {
        out[0] = (char)a;
        out[1] = (char)b;
    } else {
        out[0] = digits[a >> 4];
        out[1] = digits[b & 0xf];
    }
    out[2] = '\0';
}

static int cmp_u16(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;

    return (x > y) - (x < y);
}

/* Copy the non-GREASE values of v[0..n) into out, dropping SNI and ALPN
 * when drop_sni_alpn; sort when asked. Returns the count. */
static size_t ja4_filter(const uint16_t *v, size_t n, bool drop_sni_alpn, bool sort, uint16_t *out)
{
    size_t m = 0;

    for (size_t i = 0; i < n; i++) {
        if (tls_is_grease(v[i]))
            continue;
        if (drop_sni_alpn && (v[i] == TLS_EXT_SERVER_NAME || v[i] == TLS_EXT_ALPN))
            continue;
        out[m++] = v[i];
    }
    if (sort)
        qsort(out, m, sizeof(out[0]), cmp_u16);
    return m;
}

static void str_hex_list(struct fp_str *s, const uint16_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            str_char(s, ',');
        str_hex4(s, v[i]);
    }
}

/* Append a section: the list itself (raw) or 12 hex of its SHA-256, or
 * twelve zeros when the list is empty. */
static void ja4_section(struct fp_str *out, const char *list, size_t len, bool empty, bool raw)
{
    char hex[13];

    if (raw) {
        for (size_t i = 0; i < len; i++)
            str_char(out, list[i]);
        return;
    }
    if (empty || dg_hex(DG_SHA256, list, len, hex, 12) != 0)
        memcpy(hex, "000000000000", 13);
    for (size_t i = 0; i < 12; i++)
        str_char(out, hex[i]);
}

struct ja4_work {
    uint16_t ciphers[TLS_MAX_CIPHERS];
    uint16_t exts[TLS_MAX_EXTS];
    uint16_t sigs[TLS_MAX_SIGALGS];
    char list[FP_JA4_RAW_MAX];
};

/* Section a: t, version, d/i, cipher count, extension count, ALPN. */
static void ja4_a(struct fp_str *s, const struct tls_client_hello *ch, size_t nc, size_t ne)
{
    char alpn[3];

    str_char(s, 't');
    str_char(s, ja4_version(ch)[0]);
    str_char(s, ja4_version(ch)[1]);
    str_char(s, ch->has_sni ? 'd' : 'i');
    str_dec2(s, (unsigned)(nc > 99 ? 99 : nc));
    str_dec2(s, (unsigned)(ne > 99 ? 99 : ne));
    ja4_alpn(ch, alpn);
    str_char(s, alpn[0]);
    str_char(s, alpn[1]);
}

enum fp_result fp_ja4_ex(const struct tls_client_hello *ch, bool raw, bool original, char *out,
                         size_t cap)
{
    struct ja4_work work, *w = &work;
    struct fp_str s, l;
    size_t nc, ne_all, ne, ns;
    bool trunc;

    if (!ch->seen)
        return FP_NONE;
    str_init(&s, out, cap);
    nc = ja4_filter(ch->ciphers.v, ch->ciphers.n, false, !original, w->ciphers);
    ne_all = ja4_filter(ch->exts.v, ch->exts.n, false, false, w->exts);
    ne = ja4_filter(ch->exts.v, ch->exts.n, !original, !original, w->exts);
    ns = ja4_filter(ch->sigalgs.v, ch->sigalgs.n, false, false, w->sigs);
    ja4_a(&s, ch, nc, ne_all);

    /* b: cipher list */
    str_char(&s, '_');
    str_init(&l, w->list, sizeof(w->list));
    str_hex_list(&l, w->ciphers, nc);
    ja4_section(&s, l.p, l.n, nc == 0, raw);

    /* c: extension list, '_', signature algorithms in wire order */
    str_char(&s, '_');
    str_init(&l, w->list, sizeof(w->list));
    str_hex_list(&l, w->exts, ne);
    if (ns > 0) {
        str_char(&l, '_');
        str_hex_list(&l, w->sigs, ns);
    }
    ja4_section(&s, l.p, l.n, ne == 0, raw);

    trunc = ch->ciphers.total > ch->ciphers.n || ch->exts.total > ch->exts.n ||
            ch->sigalgs.total > ch->sigalgs.n;
    if (s.overflow || l.overflow)
        return FP_ERROR;
    return trunc ? FP_TRUNCATED : FP_OK;
}

enum fp_result fp_ja4(const struct tls_client_hello *ch, char out[FP_JA4_LEN])
{
    return fp_ja4_ex(ch, false, false, out, FP_JA4_LEN);
}

/* ---- memo keys ------------------------------------------------------------------- */

/* Bounded byte writer for keys; overflow is remembered. */
struct fp_key {
    uint8_t *p;
    size_t cap, n;
    bool overflow;
};

static void key_u16(struct fp_key *k, uint16_t v)
{
    if (k->cap - k->n < 2) {
        k->overflow = true;
        return;
    }
    k->p[k->n++] = (uint8_t)(v >> 8);
    k->p[k->n++] = (uint8_t)v;
}

/* The non-GREASE values of v[0..n), then their count (so that lists end
 * unambiguously). */
static void key_list(struct fp_key *k, const uint16_t *v, size_t n)
{
    uint16_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!tls_is_grease(v[i])) {
            key_u16(k, v[i]);
            m++;
        }
    }
    key_u16(k, m);
}

static size_t key_end(const struct fp_key *k)
{
    return k->overflow ? 0 : k->n;
}

size_t fp_client_key(const struct tls_client_hello *ch, uint8_t *out, size_t cap)
{
    struct fp_key k = {.p = out, .cap = cap};
    uint16_t pf[TLS_MAX_POINT_FORMATS];
    char alpn[3];

    if (!ch->seen || ch->sslv2)
        return 0;
    ja4_alpn(ch, alpn);
    key_u16(&k, 0x4348); /* "CH": client and server keys never compare equal */
    key_u16(&k, ch->version);
    key_u16(&k, (uint16_t)(ch->has_sni ? 1 : 0));
    key_u16(&k, (uint16_t)((uint8_t)alpn[0] << 8 | (uint8_t)alpn[1]));
    key_list(&k, ch->versions.v, ch->versions.n);
    key_list(&k, ch->ciphers.v, ch->ciphers.n);
    key_list(&k, ch->exts.v, ch->exts.n);
    key_list(&k, ch->groups.v, ch->groups.n);
    key_list(&k, ch->sigalgs.v, ch->sigalgs.n);
    for (size_t i = 0; i < ch->point_formats_n; i++)
        pf[i] = ch->point_formats[i];
    key_list(&k, pf, ch->point_formats_n);
    return key_end(&k);
}

size_t fp_server_key(const struct tls_server_hello *sh, uint8_t *out, size_t cap)
{
    struct fp_key k = {.p = out, .cap = cap};

    if (!sh->seen || sh->sslv2)
        return 0;
    key_u16(&k, 0x5348); /* "SH" */
    key_u16(&k, sh->version);
    key_u16(&k, sh->cipher);
    key_list(&k, sh->exts.v, sh->exts.n);
    return key_end(&k);
}

/* Unit tests for the fingerprint memo (sensor/fpmemo.c) and its keys
 * (fp_client_key, fp_server_key in dissectors/fingerprint.c). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "dissectors/fingerprint.h"
#include "sensor/fpmemo.h"
#include "sensor/intern.h"

/* Deterministic pseudo-random numbers (xorshift64). */
static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Values drawn from small pools, so random hellos often share fingerprints
 * and often differ in one field only; GREASE values are sprinkled in. */
static uint16_t pick(uint64_t *s, const uint16_t *pool, size_t n)
{
    if (rng_next(s) % 8 == 0)
        return (uint16_t)(0x0a0a + 0x1010 * (rng_next(s) % 16));
    return pool[rng_next(s) % n];
}

#define FILL(list, cap, pool)                                                                      \
    do {                                                                                           \
        (list).n = (list).total = (uint16_t)(rng_next(s) % (cap));                                 \
        for (size_t i_ = 0; i_ < (list).n; i_++)                                                   \
            (list).v[i_] = pick(s, (pool), sizeof(pool) / sizeof((pool)[0]));                      \
    } while (0)

static void random_client(uint64_t *s, struct tls_client_hello *ch)
{
    static const uint16_t ciphers[] = {0x1301, 0x1302, 0xc02f, 0x009c};
    static const uint16_t exts[] = {0x0000, 0x0010, 0x000d, 0x002b, 0x0033};
    static const uint16_t groups[] = {0x001d, 0x0017};
    static const uint16_t versions[] = {0x0304, 0x0303};
    static const uint8_t alpn_ends[] = {'h', '2', '1', 0x07};

    memset(ch, 0, sizeof(*ch));
    ch->seen = true;
    ch->version = rng_next(s) % 2 ? 0x0303 : 0x0301;
    FILL(ch->ciphers, 4, ciphers);
    FILL(ch->exts, 4, exts);
    FILL(ch->groups, 3, groups);
    FILL(ch->sigalgs, 3, ciphers);
    FILL(ch->versions, 3, versions);
    ch->point_formats_n = ch->point_formats_total = (uint8_t)(rng_next(s) % 2);
    ch->has_sni = rng_next(s) % 2;
    ch->has_alpn = rng_next(s) % 2;
    if (ch->has_alpn) {
        ch->alpn_n = ch->alpn_total = 1;
        ch->alpn0_len = (uint8_t)(rng_next(s) % 3);
        ch->alpn0_first = alpn_ends[rng_next(s) % 4];
        ch->alpn0_last = alpn_ends[rng_next(s) % 4];
    }
    /* Per-connection fields that no fingerprint reads. */
    ch->session_id_len = (uint8_t)(rng_next(s) % 33);
    snprintf(ch->sni, sizeof(ch->sni), "host%u", (unsigned)(rng_next(s) % 1000));
}

struct client_fp {
    char ja3[FP_MD5_HEX], ja4[FP_JA4_LEN];
};

static void direct_client(const struct tls_client_hello *ch, struct client_fp *fp)
{
    cr_assert_geq(fp_ja3(ch, NULL, 0, fp->ja3), FP_OK);
    cr_assert_geq(fp_ja4(ch, fp->ja4), FP_OK);
}

/* A variant of base: GREASE inserted, per-connection fields changed, and
 * sometimes one field that fingerprints do read. */
static void variant(uint64_t *s, const struct tls_client_hello *base, struct tls_client_hello *ch)
{
    *ch = *base;
    if (rng_next(s) % 2 && ch->ciphers.n < TLS_MAX_CIPHERS) {
        memmove(ch->ciphers.v + 1, ch->ciphers.v, ch->ciphers.n * 2);
        ch->ciphers.v[0] = 0xdada;
        ch->ciphers.n++, ch->ciphers.total++;
    }
    if (rng_next(s) % 2 && ch->exts.n < TLS_MAX_EXTS) {
        ch->exts.v[ch->exts.n++] = 0x1a1a;
        ch->exts.total++;
    }
    snprintf(ch->sni, sizeof(ch->sni), "host%u", (unsigned)(rng_next(s) % 1000));
    ch->session_id_len = (uint8_t)(rng_next(s) % 33);
    switch (rng_next(s) % 8) {
    case 0:
        ch->has_sni = !ch->has_sni;
        break;
    case 1:
        ch->version ^= 0x0002;
        break;
    case 2:
        ch->alpn0_last ^= 0x01;
        break;
    case 3:
        if (ch->groups.n > 0)
            ch->groups.v[0] ^= 0x0001;
        break;
    default:
        break;
    }
}

Test(fp_key, equal_keys_mean_equal_fingerprints)
{
    enum { N = 400, BASES = 12 };
    static struct tls_client_hello base[BASES], ch[N];
    static struct client_fp fp[N];
    static uint8_t key[N][FP_KEY_MAX];
    size_t len[N];
    uint64_t seed = 42;
    unsigned same_key = 0, diff_key = 0;

    for (size_t b = 0; b < BASES; b++)
        random_client(&seed, &base[b]);
    for (size_t i = 0; i < N; i++) {
        variant(&seed, &base[rng_next(&seed) % BASES], &ch[i]);
        direct_client(&ch[i], &fp[i]);
        len[i] = fp_client_key(&ch[i], key[i], FP_KEY_MAX);
        cr_assert_gt(len[i], 0);
    }
    for (size_t i = 0; i < N; i++) {
        for (size_t j = i + 1; j < N; j++) {
            bool keq = len[i] == len[j] && memcmp(key[i], key[j], len[i]) == 0;
            bool feq = strcmp(fp[i].ja3, fp[j].ja3) == 0 && strcmp(fp[i].ja4, fp[j].ja4) == 0;
            if (keq)
                cr_assert(feq, "hellos %zu and %zu: one key, fingerprints %s/%s and %s/%s", i, j,
                          fp[i].ja3, fp[i].ja4, fp[j].ja3, fp[j].ja4);
            same_key += keq;
            diff_key += !feq;
        }
    }
    /* Both outcomes occurred often: the property was really exercised. */
    cr_assert_gt(same_key, 1000, "only %u pairs shared a key", same_key);
    cr_assert_gt(diff_key, 1000, "only %u pairs differed", diff_key);
}

Test(fp_key, grease_and_per_connection_fields_do_not_change_the_key)
{
    struct tls_client_hello a, b;
    uint8_t ka[FP_KEY_MAX], kb[FP_KEY_MAX];
    uint64_t seed = 7;

    random_client(&seed, &a);
    a.ciphers.n = a.ciphers.total = 2;
    a.ciphers.v[0] = 0x1301, a.ciphers.v[1] = 0xc02f;
    b = a;
    b.ciphers.n = b.ciphers.total = 3;
    b.ciphers.v[0] = 0x3a3a, b.ciphers.v[1] = 0x1301, b.ciphers.v[2] = 0xc02f;
    strcpy(b.sni, "another.example");
    b.session_id_len = 0;
    size_t la = fp_client_key(&a, ka, sizeof(ka)), lb = fp_client_key(&b, kb, sizeof(kb));
    cr_assert_eq(la, lb);
    cr_assert_eq(memcmp(ka, kb, la), 0);

    /* Moving a value from one list to the next changes it. */
    b = a;
    b.ciphers.n = b.ciphers.total = 1;
    b.exts.v[b.exts.n] = 0xc02f;
    b.exts.n++, b.exts.total++;
    lb = fp_client_key(&b, kb, sizeof(kb));
    cr_assert(la != lb || memcmp(ka, kb, la) != 0);
}

Test(fp_key, client_and_server_keys_differ_and_sslv2_has_none)
{
    struct tls_client_hello ch;
    struct tls_server_hello sh;
    uint8_t kc[FP_KEY_MAX], ks[FP_KEY_MAX];

    memset(&ch, 0, sizeof(ch));
    memset(&sh, 0, sizeof(sh));
    cr_assert_eq(fp_client_key(&ch, kc, sizeof(kc)), 0); /* not seen */
    ch.seen = sh.seen = true;
    size_t lc = fp_client_key(&ch, kc, sizeof(kc)), ls = fp_server_key(&sh, ks, sizeof(ks));
    cr_assert_gt(lc, 0);
    cr_assert_gt(ls, 0);
    cr_assert(lc != ls || memcmp(kc, ks, lc) != 0);
    cr_assert_neq(kc[0], ks[0]);
    ch.sslv2 = true;
    cr_assert_eq(fp_client_key(&ch, kc, sizeof(kc)), 0);
    cr_assert_eq(fp_client_key(&ch, kc, 3), 0, "a short buffer gives no key");
}

Test(fpm, memo_answers_equal_direct_computation)
{
    struct istr_table *t = istr_table_new();
    struct fpm_memo *m = fpm_new(t, 3); /* 8 slots: many evictions */
    cr_assert_not_null(m);
    uint64_t seed = 99;
    static struct tls_client_hello pool[16];

    for (size_t i = 0; i < 16; i++)
        random_client(&seed, &pool[i]);

    for (unsigned i = 0; i < 3000; i++) {
        struct tls_client_hello ch;
        struct tls_server_hello sh;
        struct client_fp want;
        char ja3s[FP_MD5_HEX];
        const char *ja3, *ja4;

        random_client(&seed, &ch);
        if (i % 4 != 0) /* most hellos repeat an earlier one */
            memcpy(&ch, &pool[rng_next(&seed) % 16], sizeof(ch));
        else
            pool[(i / 4) % 16] = ch;
        direct_client(&ch, &want);
        fpm_client(m, &ch, &ja3, &ja4);
        cr_assert_str_eq(ja3, want.ja3);
        cr_assert_str_eq(ja4, want.ja4);

        memset(&sh, 0, sizeof(sh));
        sh.seen = true;
        sh.version = 0x0303;
        sh.cipher = ch.ciphers.n ? ch.ciphers.v[0] : 0x1301;
        sh.exts.n = sh.exts.total = (uint16_t)(i % 3);
        sh.exts.v[0] = 0x002b, sh.exts.v[1] = 0x0033;
        cr_assert_geq(fp_ja3s(&sh, NULL, 0, ja3s), FP_OK);
        const char *got = fpm_server(m, &sh);
        cr_assert_str_eq(got, ja3s);
        istr_put(t, ja3);
        istr_put(t, ja4);
        istr_put(t, got);
    }
    const struct fpm_stats *st = fpm_stats(m);
    cr_assert_eq(st->hits + st->misses, 6000);
    cr_assert_gt(st->hits, 1000, "hits %llu", (unsigned long long)st->hits);
    cr_assert_gt(st->misses, 100, "misses %llu", (unsigned long long)st->misses);
    /* The memo holds references of its own; freeing it releases them all. */
    fpm_free(m);
    cr_assert_eq(istr_count(t), 0);
    istr_table_free(t);
}

Test(fpm, unseen_hellos_have_no_fingerprints)
{
    struct istr_table *t = istr_table_new();
    struct fpm_memo *m = fpm_new(t, 4);
    struct tls_client_hello ch;
    struct tls_server_hello sh;
    const char *ja3 = "x", *ja4 = "x";

    memset(&ch, 0, sizeof(ch));
    memset(&sh, 0, sizeof(sh));
    fpm_client(m, &ch, &ja3, &ja4);
    cr_assert_null(ja3);
    cr_assert_null(ja4);
    cr_assert_null(fpm_server(m, &sh));
    fpm_free(m);
    istr_table_free(t);
}

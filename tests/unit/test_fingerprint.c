/* Unit tests for dissectors/fingerprint.c: JA3, JA3S, JA4. */
#include <criterion/criterion.h>

#include "dissectors/fingerprint.h"
#include "dissectors/tls.h"
#include "test_tls_fixture.h"

static void set_list(uint16_t *v, uint16_t *n, uint16_t *total, const uint16_t *src, size_t cnt)
{
    memcpy(v, src, cnt * sizeof(src[0]));
    *n = *total = (uint16_t)cnt;
}

#define SET(list, arr) set_list((list).v, &(list).n, &(list).total, (arr), sizeof(arr) / 2)

/* The worked example of FoxIO's JA4 specification (technical_details/JA4.md,
 * "Example" and "Raw Output"), with GREASE values added that must be
 * ignored. */
static void spec_hello(struct tls_client_hello *ch)
{
    static const uint16_t ciphers[] = {0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f,
                                       0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
                                       0x009c, 0x009d, 0x002f, 0x0035};
    static const uint16_t exts[] = {0x0a0a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469,
                                    0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012,
                                    0x002b, 0xff01, 0x000b, 0x000a, 0x0015, 0xfafa};
    static const uint16_t sigs[] = {0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601};
    static const uint16_t versions[] = {0x7a7a, 0x0304, 0x0303};

    memset(ch, 0, sizeof(*ch));
    ch->seen = true;
    ch->version = 0x0303;
    SET(ch->ciphers, ciphers);
    SET(ch->exts, exts);
    SET(ch->sigalgs, sigs);
    SET(ch->versions, versions);
    ch->has_sni = true;
    ch->has_alpn = true;
    ch->alpn_n = ch->alpn_total = 2;
    strcpy(ch->alpn[0], "h2");
    strcpy(ch->alpn[1], "http/1.1");
    ch->alpn0_len = 2;
    ch->alpn0_first = 'h';
    ch->alpn0_last = '2';
}

Test(ja4, specification_example)
{
    struct tls_client_hello ch;
    char out[FP_JA4_RAW_MAX];

    spec_hello(&ch);
    cr_assert_eq(fp_ja4(&ch, out), FP_OK);
    cr_assert_str_eq(out, "t13d1516h2_8daaf6152771_e5627efa2ab1");

    /* JA4_r */
    cr_assert_eq(fp_ja4_ex(&ch, true, false, out, sizeof(out)), FP_OK);
    cr_assert_str_eq(out, "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,"
                          "c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,"
                          "002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601");
    /* JA4_o and JA4_ro */
    cr_assert_eq(fp_ja4_ex(&ch, false, true, out, sizeof(out)), FP_OK);
    cr_assert_str_eq(out, "t13d1516h2_acb858a92679_18f69afefd3d");
    cr_assert_eq(fp_ja4_ex(&ch, true, true, out, sizeof(out)), FP_OK);
    cr_assert_str_eq(out, "t13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,"
                          "009c,009d,002f,0035_001b,0000,0033,0010,4469,0017,002d,000d,0005,"
                          "0023,0012,002b,ff01,000b,000a,0015_0403,0804,0401,0503,0805,0501,"
                          "0806,0601");

    /* Without signature algorithms the list ends without '_' (spec:
     * "0005,...,ff01 = 6d807ffa2a79"). */
    ch.sigalgs.n = ch.sigalgs.total = 0;
    cr_assert_eq(fp_ja4(&ch, out), FP_OK);
    cr_assert_str_eq(out, "t13d1516h2_8daaf6152771_6d807ffa2a79");
}

Test(ja4, alpn_rules_of_the_specification)
{
    struct tls_client_hello ch;
    char out[FP_JA4_LEN];
    static const struct {
        uint8_t first, last, len;
        const char *want;
    } cases[] = {
        {0xab, 0xab, 1, "ab"}, /* 0xAB */
        {0xab, 0xcd, 2, "ad"}, /* 0xAB 0xCD */
        {0x30, 0xab, 2, "3b"}, /* 0x30 0xAB */
        {0x30, 0xcd, 4, "3d"}, /* 0x30 0x31 0xAB 0xCD */
        {0x30, 0x31, 4, "01"}, /* 0x30 0xAB 0xCD 0x31 */
        {'h', '1', 8, "h1"},   /* http/1.1 */
        {'x', 'x', 1, "xx"},   /* a one-character value is first and last */
    };

    spec_hello(&ch);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ch.alpn0_first = cases[i].first;
        ch.alpn0_last = cases[i].last;
        ch.alpn0_len = cases[i].len;
        cr_assert_eq(fp_ja4(&ch, out), FP_OK);
        cr_assert_eq(strncmp(out + 8, cases[i].want, 2), 0, "case %zu: %s", i, out);
    }
    ch.has_alpn = false;
    ch.alpn_total = 0;
    cr_assert_eq(fp_ja4(&ch, out), FP_OK);
    cr_assert_eq(strncmp(out, "t13d151600_", 11), 0, "%s", out);
}

Test(ja4, empty_lists_and_versions)
{
    struct tls_client_hello ch;
    char out[FP_JA4_LEN];

    memset(&ch, 0, sizeof(ch));
    cr_assert_eq(fp_ja4(&ch, out), FP_NONE);
    ch.seen = true;
    ch.version = 0x0300;
    cr_assert_eq(fp_ja4(&ch, out), FP_OK);
    cr_assert_str_eq(out, "ts3i000000_000000000000_000000000000");
    ch.version = 0x0002;
    fp_ja4(&ch, out);
    cr_assert_eq(strncmp(out, "ts2i", 4), 0);
    ch.version = 0x0302;
    fp_ja4(&ch, out);
    cr_assert_eq(strncmp(out, "t11i", 4), 0);
    ch.version = 0x1234;
    fp_ja4(&ch, out);
    cr_assert_eq(strncmp(out, "t00i", 4), 0);
}

/* Parse the first conversation of a capture fixture. */
static void hello_of(const char *name, struct tls_parser *p)
{
    struct fixture *fx = malloc(sizeof(*fx));
    char path[512];

    snprintf(path, sizeof(path), "%s%s", FIX_DIR, name);
    cr_assert_eq(fix_load(fx, path), 0, "%s", path);
    fix_run(p, fx, 0);
    cr_assert(p->facts.ch.seen);
    fix_free(fx);
    free(fx);
}

/* openssl s_client (OpenSSL 3.0), TLS 1.3, pcaps/tls13-basic.pcap:
 *   supported_versions 0304 -> "13"; SNI server.test -> "d";
 *   ciphers 1302,1303,1301,00ff -> "04";
 *   extensions 0000,000b,000a,0023,0010,0016,0017,000d,002b,002d,0033 -> "11";
 *   ALPN h2 -> "h2"                                           => t13d0411h2
 *   sorted ciphers "00ff,1301,1302,1303"
 *     sha256 = 16476d049b0b...
 *   sorted extensions without 0000/0010, '_', signature algorithms:
 *     "000a,000b,000d,0016,0017,0023,002b,002d,0033_0403,0503,0603,0807,0808,
 *      0809,080a,080b,0804,0805,0806,0401,0501,0601"
 *     sha256 = 78f1d400d464...
 * (hashes computed with `printf %s '...' | sha256sum`) */
Test(ja4, openssl_tls13_client)
{
    struct tls_parser p;
    char out[FP_JA4_LEN];

    hello_of("tls13-basic.0.txt", &p);
    cr_assert_eq(fp_ja4(&p.facts.ch, out), FP_OK);
    cr_assert_str_eq(out, "t13d0411h2_16476d049b0b_78f1d400d464");
    tls_free(&p);
}

/* openssl s_client -tls1_2, pcaps/tls12-basic.pcap:
 *   no supported_versions, legacy version 0303 -> "12"; SNI -> "d";
 *   28 ciphers -> "28"; extensions 0000,000b,000a,0023,0016,0017,000d -> "07";
 *   no ALPN -> "00"                                           => t12d280700
 *   sorted ciphers "002f,0033,0035,0039,003c,003d,0067,006b,009c,009d,009e,
 *     009f,00ff,c009,c00a,c013,c014,c023,c024,c027,c028,c02b,c02c,c02f,c030,
 *     cca8,cca9,ccaa"  sha256 = d943125447b4...
 *   "000a,000b,000d,0016,0017,0023_0403,0503,0603,0807,0808,0809,080a,080b,
 *     0804,0805,0806,0401,0501,0601,0303,0301,0302,0402,0502,0602"
 *     sha256 = e7e480e5a997... */
Test(ja4, openssl_tls12_only_client)
{
    struct tls_parser p;
    char out[FP_JA4_LEN];

    hello_of("tls12-basic.0.txt", &p);
    cr_assert_eq(fp_ja4(&p.facts.ch, out), FP_OK);
    cr_assert_str_eq(out, "t12d280700_d943125447b4_e7e480e5a997");
    tls_free(&p);
}

/* gnutls-cli (GnuTLS 3.7) restricted to 3DES, pcaps/tls12-3des.pcap:
 *   legacy version 0303 -> "12"; SNI -> "d"; one cipher 000a -> "01";
 *   extensions 0005,000d,0016,0017,0023,ff01,0000,001c -> "08"; no ALPN "00"
 *                                                             => t12d010800
 *   "000a"  sha256 = a8f3e973773c...
 *   "0005,000d,0016,0017,001c,0023,ff01_0401,0809,0804,0403,0807,0501,080a,
 *     0805,0503,0808,0601,080b,0806,0603,0201,0203"  sha256 = 6420435725ab... */
Test(ja4, gnutls_client)
{
    struct tls_parser p;
    char out[FP_JA4_LEN];

    hello_of("tls12-3des.0.txt", &p);
    cr_assert_eq(fp_ja4(&p.facts.ch, out), FP_OK);
    cr_assert_str_eq(out, "t12d010800_a8f3e973773c_6420435725ab");
    tls_free(&p);
}

Test(ja3, strings_and_grease)
{
    struct tls_client_hello ch;
    struct tls_server_hello sh;
    char s[FP_JA3_STR_MAX], md5[FP_MD5_HEX], small[8];
    static const uint16_t groups[] = {0x2a2a, 29, 23};

    spec_hello(&ch);
    SET(ch.groups, groups);
    ch.point_formats[0] = 0;
    ch.point_formats_n = ch.point_formats_total = 1;
    cr_assert_eq(fp_ja3(&ch, s, sizeof(s), md5), FP_OK);
    cr_assert_str_eq(s, "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-"
                        "156-157-47-53,27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,"
                        "29-23,0");
    cr_assert_eq(strlen(md5), 32);
    /* A small buffer is an error, not a truncated string. */
    cr_assert_eq(fp_ja3(&ch, small, sizeof(small), NULL), FP_ERROR);
    /* More values than kept: computed but flagged. */
    ch.ciphers.total++;
    cr_assert_eq(fp_ja3(&ch, NULL, 0, md5), FP_TRUNCATED);

    memset(&sh, 0, sizeof(sh));
    cr_assert_eq(fp_ja3s(&sh, s, sizeof(s), md5), FP_NONE);
    sh.seen = true;
    sh.version = 0x0303;
    sh.cipher = 0xc02f;
    sh.exts.v[0] = 0xff01;
    sh.exts.v[1] = 0x000b;
    sh.exts.n = sh.exts.total = 2;
    cr_assert_eq(fp_ja3s(&sh, s, sizeof(s), md5), FP_OK);
    cr_assert_str_eq(s, "771,49199,65281-11");
    /* md5("771,49199,65281-11"), from `printf %s ... | md5sum` */
    cr_assert_str_eq(md5, "303951d4c50efb2e991652225a6f02b1");
}

/* Certificate cache: parse once, share, bound, components. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "sensor/certcache.h"

/* DER of a test certificate, made with openssl at test time. */
static uint8_t *make_der(const char *cn, size_t *len)
{
    char cmd[512], path[] = "/tmp/vtls-cc-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "
             "/dev/null -subj /CN=%s -days 30 -outform DER -out %s 2>/dev/null",
             cn, path);
    cr_assert_eq(system(cmd), 0);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    uint8_t *buf = malloc(4096);
    *len = fread(buf, 1, 4096, f);
    fclose(f);
    unlink(path);
    cr_assert_gt(*len, 100);
    return buf;
}

Test(certcache, parses_once_and_shares)
{
    size_t len;
    uint8_t *der = make_der("vttablet-1.demo.test", &len);
    struct cc_cache *c = cc_new(4);
    bool is_new;
    struct cc_entry *a = cc_get(c, der, len, &is_new);
    cr_assert_not_null(a);
    cr_expect(is_new);
    cr_expect_eq(a->info.status, X509_OK);
    cr_expect_str_eq(a->info.cn, "vttablet-1.demo.test");
    cr_expect_str_eq(a->issuer_cn, "vttablet-1.demo.test", "self-signed: issuer is subject");
    struct cc_entry *b = cc_get(c, der, len, &is_new);
    cr_expect_eq(a, b);
    cr_expect(!is_new);
    cr_expect(cc_presented_by(a, 3));
    cr_expect(!cc_presented_by(a, 3), "the same component again is not news");
    cr_expect_eq(cc_components(a), 1);
    cr_expect(cc_presented_by(a, 5));
    cr_expect_eq(cc_components(a), 2, "two components present one certificate");
    struct cc_stats st;
    cc_get_stats(c, &st);
    cr_expect_eq(st.parsed, 1);
    cr_expect_eq(st.hits, 1);
    cc_put(c, a);
    cc_put(c, b);
    cc_free(c);
    free(der);
}

Test(certcache, bounded_by_cap_and_garbage_is_an_entry)
{
    struct cc_cache *c = cc_new(2);
    uint8_t garbage[64];
    for (int i = 0; i < 5; i++) {
        for (size_t j = 0; j < sizeof(garbage); j++)
            garbage[j] = (uint8_t)(i * 31 + j);
        bool is_new;
        struct cc_entry *e = cc_get(c, garbage, sizeof(garbage), &is_new);
        cr_assert_not_null(e);
        cr_expect(is_new);
        cr_expect_eq(e->info.status, X509_UNPARSEABLE);
        cc_put(c, e);
    }
    struct cc_stats st;
    cc_get_stats(c, &st);
    cr_expect_leq(st.entries, 2);
    cr_expect_eq(st.unparseable, 5);
    cr_expect_eq(st.dropped, 3);
    cc_free(c);
}

Test(certcache, leaf_holds_its_chain_as_sent)
{
    size_t l1, l2;
    uint8_t *leaf_der = make_der("leaf.test", &l1), *ca_der = make_der("ca.test", &l2);
    struct cc_cache *c = cc_new(1);
    bool is_new;
    struct cc_entry *leaf = cc_get(c, leaf_der, l1, &is_new);
    struct cc_entry *ca = cc_get(c, ca_der, l2, &is_new);
    cc_set_chain(c, leaf, &ca, 1);
    cc_put(c, ca);
    cr_expect_eq(leaf->sent[0], ca, "the chain is kept by the leaf");
    struct cc_stats st;
    cc_get_stats(c, &st);
    cr_expect_eq(st.entries, 2, "a chain certificate held by a leaf is not dropped");
    cc_put(c, leaf); /* past the cap of 1: the unreferenced leaf goes, its chain is freed */
    cc_get_stats(c, &st);
    cr_expect_eq(st.dropped, 1);
    cr_expect_eq(st.entries, 1, "the chain certificate stays as the one cached (%zu)", st.entries);
    bool again;
    struct cc_entry *back = cc_get(c, ca_der, l2, &again);
    cr_expect(!again, "it is still cached, now unreferenced");
    cc_put(c, back);
    cc_free(c);
    free(leaf_der);
    free(ca_der);
}

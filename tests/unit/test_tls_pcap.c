/* The TLS dissector and JA3/JA3S on every TLS conversation of pcaps/,
 * against tshark's reading of the same capture (fixtures made by
 * tests/unit/data/gen_tls_fixtures.py). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>

#include "dissectors/fingerprint.h"
#include "dissectors/tls.h"
#include "dissectors/tls_ciphers.h"
#include "test_tls_fixture.h"

/* Compare one conversation's facts with tshark's fields. */
static void check_fixture(const struct fixture *fx)
{
    struct tls_parser p, q;
    char ja3[FP_JA3_STR_MAX], md5[FP_MD5_HEX];
    const struct tls_facts *f;
    enum tls_status st = fix_run(&p, fx, 0);

    cr_assert_neq(st, TLS_ERROR, "%s: %s", fx->name, tls_error_name(tls_error(&p)));
    f = tls_facts(&p);
    cr_assert(f->ch.seen, "%s", fx->name);

    /* JA3 equals tshark's tls.handshake.ja3_full / ja3. */
    cr_assert_geq(fp_ja3(&f->ch, ja3, sizeof(ja3), md5), 0, "%s", fx->name);
    cr_assert_str_eq(ja3, fx->ja3_full, "%s", fx->name);
    cr_assert_eq(strncmp(md5, fx->ja3, 32), 0, "%s: %s vs %s", fx->name, md5, fx->ja3);
    cr_assert_str_eq(f->ch.sni, fx->sni, "%s", fx->name);
    if (fx->alpn[0])
        cr_assert_str_eq(f->ch.alpn[0], fx->alpn, "%s", fx->name);
    else
        cr_assert_eq(f->ch.alpn_n, 0, "%s", fx->name);

    if (fx->ja3s_full[0]) {
        char vbuf[16];

        cr_assert(f->sh.seen, "%s", fx->name);
        cr_assert_geq(fp_ja3s(&f->sh, ja3, sizeof(ja3), md5), 0, "%s", fx->name);
        cr_assert_str_eq(ja3, fx->ja3s_full, "%s", fx->name);
        cr_assert_eq(strncmp(md5, fx->ja3s, 32), 0, "%s", fx->name);
        cr_assert_eq(f->cipher, (uint16_t)strtoul(fx->cipher, NULL, 16), "%s", fx->name);
        snprintf(vbuf, sizeof(vbuf), "0x%04x", f->version);
        cr_assert_str_eq(vbuf, fx->version, "%s", fx->name);
        cr_assert_eq(st, TLS_DONE, "%s: verdict not reached", fx->name);
    }

    /* One byte at a time gives the same facts. */
    cr_assert_eq(fix_run(&q, fx, 1), st, "%s", fx->name);
    cr_assert_eq(memcmp(&p.facts, &q.facts, sizeof(p.facts)), 0, "%s", fx->name);
    tls_free(&q);
    tls_free(&p);
}

Test(tls_pcap, every_capture_matches_tshark)
{
    DIR *d = opendir(FIX_DIR);
    struct dirent *e;
    struct fixture *fx = malloc(sizeof(*fx));
    int n = 0;

    cr_assert_not_null(d, "no fixtures in %s", FIX_DIR);
    while ((e = readdir(d)) != NULL) {
        char path[512];

        if (!strstr(e->d_name, ".txt"))
            continue;
        snprintf(path, sizeof(path), "%s%s", FIX_DIR, e->d_name);
        cr_assert_eq(fix_load(fx, path), 0);
        check_fixture(fx);
        fix_free(fx);
        n++;
    }
    closedir(d);
    free(fx);
    cr_assert_geq(n, 2);
    cr_log_info("%d conversations checked", n);
}

/* Facts a rule needs for the weak cases of pcaps/. */
static void load_run(const char *name, struct tls_parser *p)
{
    struct fixture *fx = malloc(sizeof(*fx));
    char path[512];

    snprintf(path, sizeof(path), "%s%s", FIX_DIR, name);
    cr_assert_eq(fix_load(fx, path), 0, "%s", path);
    fix_run(p, fx, 0);
    fix_free(fx);
    free(fx);
}

Test(tls_pcap, weak_cases)
{
    struct tls_parser p;
    const struct tls_cipher *c;

    load_run("tls10-cbc.0.txt", &p);
    cr_assert_eq(p.facts.version, TLS_V_10);
    tls_free(&p);

    load_run("tls12-3des.0.txt", &p);
    c = tls_cipher_find(p.facts.cipher);
    cr_assert_str_eq(c->enc, "3DES");
    cr_assert_eq(c->strength, TLS_CS_WEAK);
    tls_free(&p);

    load_run("tls12-rc4.0.txt", &p);
    cr_assert_str_eq(tls_cipher_find(p.facts.cipher)->enc, "RC4");
    cr_assert_eq(tls_cipher_find(p.facts.cipher)->strength, TLS_CS_INSECURE);
    tls_free(&p);

    load_run("tls12-null.0.txt", &p);
    cr_assert_str_eq(tls_cipher_find(p.facts.cipher)->enc, "NULL");
    tls_free(&p);

    load_run("tls12-anon.0.txt", &p);
    cr_assert_str_eq(tls_cipher_find(p.facts.cipher)->auth, "anon");
    cr_assert_not(p.facts.server_cert_observable);
    tls_free(&p);

    load_run("tls13-basic.0.txt", &p);
    cr_assert_eq(p.facts.version, TLS_V_13);
    cr_assert_eq(p.facts.client_cert, TLS_CC_NOT_OBSERVABLE);
    cr_assert_not(p.facts.server_cert_observable);
    tls_free(&p);

    load_run("tls12-basic.0.txt", &p);
    cr_assert(p.facts.server_cert_observable);
    cr_assert_eq(tls_cert_count(&p, TLS_DIR_SERVER), 1);
    cr_assert_eq(p.facts.client_cert, TLS_CC_NOT_REQUESTED);
    tls_free(&p);

    load_run("client-cert-requested-none.0.txt", &p);
    cr_assert_eq(p.facts.client_cert, TLS_CC_REQUESTED_NONE);
    tls_free(&p);

    load_run("tls12-mutual.0.txt", &p);
    cr_assert_eq(p.facts.client_cert, TLS_CC_PRESENTED);
    cr_assert_geq(tls_cert_count(&p, TLS_DIR_CLIENT), 1);
    tls_free(&p);

    load_run("tls-alert-unknown-ca.0.txt", &p);
    cr_assert(p.facts.alert);
    cr_assert_eq(p.facts.alert_level, 2);
    cr_assert_str_eq(tls_alert_name(p.facts.alert_desc), "unknown_ca");
    cr_assert_eq(p.facts.alert_dir, TLS_DIR_CLIENT);
    tls_free(&p);

    load_run("tls12-resume-id.1.txt", &p);
    cr_assert_eq(p.facts.resumed, TLS_RESUME_SESSION_ID);
    tls_free(&p);

    load_run("tls12-resume-ticket.1.txt", &p);
    cr_assert_eq(p.facts.resumed, TLS_RESUME_TICKET);
    tls_free(&p);
}

/* Mutated real conversations (fixed seed): one byte changed must give a
 * status, never a crash or an over-read (ASan build). */
Test(tls_pcap, mutations_never_crash)
{
    static const char *names[] = {"tls12-basic.0.txt", "tls13-basic.0.txt", "tls12-mutual.0.txt",
                                  "tls13-hrr.0.txt"};
    struct fixture *fx = malloc(sizeof(*fx));
    uint32_t seed = 12345;

    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        char path[512];

        snprintf(path, sizeof(path), "%s%s", FIX_DIR, names[k]);
        cr_assert_eq(fix_load(fx, path), 0, "%s", path);
        for (int round = 0; round < 1500; round++) {
            struct tls_parser p;
            int s;
            size_t at;
            uint8_t old;

            seed = seed * 1103515245u + 12345u;
            s = (int)((seed >> 8) % (uint32_t)fx->nseg);
            if (fx->len[s] == 0)
                continue;
            at = (seed >> 4) % fx->len[s];
            old = fx->seg[s][at];
            fx->seg[s][at] = (uint8_t)(seed >> 16);
            fix_run(&p, fx, round % 3 == 0 ? 1 : 0);
            tls_free(&p);
            fx->seg[s][at] = old;
        }
        fix_free(fx);
    }
    free(fx);
}

/* libFuzzer target for every stream dissector: the input is split into
 * chunks, each prefixed by one control byte (low bit: direction; the rest:
 * chunk length; 0xff: a gap), and fed in order to the TLS, MySQL, HTTP/2,
 * HTTP/1.x and ZooKeeper parsers, the mid-stream probes and the fingerprints.
 *
 *   make fuzz   (clang with -fsanitize=fuzzer,address,undefined)
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dissectors/fingerprint.h"
#include "dissectors/http1.h"
#include "dissectors/http2.h"
#include "dissectors/mysql.h"
#include "dissectors/tls.h"
#include "dissectors/zookeeper.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_parsers {
    struct tls_parser tls;
    struct mysql_parser mysql;
    struct h2_parser h2;
    struct http1_parser http1;
    struct zk_parser zk;
};

static void fz_feed(struct fz_parsers *p, int dir, const uint8_t *b, size_t n)
{
    tls_feed(&p->tls, dir, b, n);
    mysql_feed(&p->mysql, dir, b, n);
    h2_feed(&p->h2, dir, b, n);
    http1_feed(&p->http1, dir, b, n);
    zk_feed(&p->zk, dir, b, n);
    tls_probe(b, n);
    mysql_probe(dir, b, n, NULL);
    h2_probe(dir, b, n);
    http1_probe_request(b, n);
}

static void fz_gap(struct fz_parsers *p, int dir, uint64_t n)
{
    tls_gap(&p->tls, dir, n);
    mysql_gap(&p->mysql, dir, n);
    h2_gap(&p->h2, dir, n);
    http1_gap(&p->http1, dir, n);
    zk_gap(&p->zk, dir, n);
}

/* Fingerprint the hellos, and check the memo keys' promise against the
 * previous input: equal client keys mean equal JA3 and JA4, equal server
 * keys equal JA3S (sensor/fpmemo.c relies on it). */
static void fz_fingerprints(const struct tls_facts *tf)
{
    static uint8_t prev_ck[FP_KEY_MAX], prev_sk[FP_KEY_MAX];
    static size_t prev_cn, prev_sn;
    static char prev_ja3[FP_MD5_HEX], prev_ja4[FP_JA4_LEN], prev_ja3s[FP_MD5_HEX];
    char str[FP_JA3_STR_MAX], ja3[FP_MD5_HEX] = "", ja3s[FP_MD5_HEX] = "", ja4[FP_JA4_LEN] = "";
    uint8_t ck[FP_KEY_MAX], sk[FP_KEY_MAX];

    fp_ja3(&tf->ch, str, sizeof(str), ja3);
    fp_ja3s(&tf->sh, str, sizeof(str), ja3s);
    fp_ja4(&tf->ch, ja4);
    size_t cn = fp_client_key(&tf->ch, ck, sizeof(ck)), sn = fp_server_key(&tf->sh, sk, sizeof(sk));
    if (cn > 0 && cn == prev_cn && memcmp(ck, prev_ck, cn) == 0 &&
        (strcmp(ja3, prev_ja3) != 0 || strcmp(ja4, prev_ja4) != 0))
        __builtin_trap();
    if (sn > 0 && sn == prev_sn && memcmp(sk, prev_sk, sn) == 0 && strcmp(ja3s, prev_ja3s) != 0)
        __builtin_trap();
    memcpy(prev_ck, ck, cn), prev_cn = cn;
    memcpy(prev_sk, sk, sn), prev_sn = sn;
    memcpy(prev_ja3, ja3, sizeof(ja3));
    memcpy(prev_ja4, ja4, sizeof(ja4));
    memcpy(prev_ja3s, ja3s, sizeof(ja3s));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fz_parsers p;
    const uint8_t *cur = data, *end = data + size;

    tls_init(&p.tls);
    mysql_init(&p.mysql);
    h2_init(&p.h2);
    http1_init(&p.http1);
    zk_init(&p.zk);
    while (cur < end) {
        uint8_t ctl = *cur++;
        int dir = ctl & 1;
        if (ctl == 0xff) {
            fz_gap(&p, dir, 1 + (size_t)(end - cur) % 64);
            continue;
        }
        size_t n = (size_t)(ctl >> 1) + 1;
        if (n > (size_t)(end - cur))
            n = (size_t)(end - cur);
        fz_feed(&p, dir, cur, n);
        cur += n;
    }

    fz_fingerprints(tls_facts(&p.tls));
    tls_free(&p.tls);
    mysql_free(&p.mysql);
    h2_free(&p.h2);
    http1_free(&p.http1);
    zk_free(&p.zk);
    return 0;
}

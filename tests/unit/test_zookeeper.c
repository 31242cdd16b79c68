/* Unit tests for dissectors/zookeeper.c.
 *
 * kazoo_connect was captured on loopback on 2026-12-03: python3-kazoo
 * (Debian 12) connecting to ZooKeeper 3.8.0 (Debian 12 package), dumped
 * with `tshark -T fields -e tcp.payload`. The Go-client frame (no readOnly
 * byte, as go-zookeeper sends it) is built byte by byte. */
#include <criterion/criterion.h>
#include <string.h>

#include "dissectors/zookeeper.h"
#include "tests/unit/helper_pkt.h"

#define C DISSECT_DIR_CLIENT
#define S DISSECT_DIR_SERVER

static const uint8_t kazoo_connect[49] = {
    0x00, 0x00, 0x00, 0x2d,                         /* length 45 */
    0x00, 0x00, 0x00, 0x00,                         /* protocolVersion 0 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* lastZxidSeen 0 */
    0x00, 0x00, 0x27, 0x10,                         /* timeOut 10000 ms */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* sessionId 0 */
    0x00, 0x00, 0x00, 0x10,                         /* passwd length 16 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* readOnly false */
};

/* The server's ConnectResponse from the same capture (ignored by the parser). */
static const uint8_t zk_connect_response[41] = {
    0x00, 0x00, 0x00, 0x25, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x27, 0x10, 0x01, 0x00,
    0x00, 0x16, 0x4e, 0xe7, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0xcb, 0x8c, 0x8a, 0x34,
    0xfc, 0x85, 0x35, 0x7b, 0x21, 0x40, 0x7b, 0x40, 0xa5, 0x3c, 0x26, 0x82, 0x00,
};

struct msg {
    uint8_t b[128];
    size_t n;
};

static void be(struct msg *m, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        m->b[m->n++] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* A ConnectRequest: passwd of plen bytes (-1: null), readOnly if ro >= 0. */
static void build(struct msg *m, int64_t zxid, int32_t timeout, int64_t sid, int32_t plen, int ro)
{
    size_t len = 28 + (plen > 0 ? (size_t)plen : 0) + (ro >= 0 ? 1 : 0);
    m->n = 0;
    be(m, len, 4);
    be(m, 0, 4);
    be(m, (uint64_t)zxid, 8);
    be(m, (uint32_t)timeout, 4);
    be(m, (uint64_t)sid, 8);
    be(m, (uint32_t)plen, 4);
    for (int i = 0; i < plen; i++)
        m->b[m->n++] = (uint8_t)(0xa0 + i);
    if (ro >= 0)
        m->b[m->n++] = (uint8_t)ro;
}

static enum dissect_status feed(struct zk_parser *p, const uint8_t *b, size_t n, size_t k)
{
    enum dissect_status st = DISSECT_MORE;
    zk_init(p);
    for (size_t off = 0; off < n; off += k) {
        size_t len = n - off < k ? n - off : k;
        st = zk_feed(p, C, b + off, len);
    }
    return st;
}

Test(zookeeper, kazoo_connect)
{
    struct zk_parser p;
    cr_assert_eq(feed(&p, kazoo_connect, sizeof(kazoo_connect), SIZE_MAX), DISSECT_DONE);
    const struct zk_facts *f = zk_facts(&p);
    cr_assert(f->connect);
    cr_assert_eq(f->frame_len, 45);
    cr_assert_eq(f->protocol_version, 0);
    cr_assert_eq(f->timeout_ms, 10000);
    cr_assert_eq(f->session_id, 0);
    cr_assert_eq(f->passwd_len, 16);
    cr_assert(f->has_read_only);
    cr_assert(!f->read_only);
    cr_assert(!f->reconnect);
    /* server bytes are ignored; the verdict stays */
    cr_assert_eq(zk_feed(&p, S, zk_connect_response, sizeof(zk_connect_response)), DISSECT_DONE);
}

Test(zookeeper, go_client_without_read_only)
{
    struct msg m;
    struct zk_parser p;
    build(&m, 0, 30000, 0, 16, -1);
    cr_assert_eq(m.n, 48);
    cr_assert_eq(feed(&p, m.b, m.n, SIZE_MAX), DISSECT_DONE);
    cr_assert_eq(zk_facts(&p)->frame_len, 44);
    cr_assert(!zk_facts(&p)->has_read_only);
}

Test(zookeeper, reconnect_read_only_and_null_passwd)
{
    struct msg m;
    struct zk_parser p;
    build(&m, 0x100000042, 40000, 0x1000016ee70000, 16, 1);
    cr_assert_eq(feed(&p, m.b, m.n, SIZE_MAX), DISSECT_DONE);
    cr_assert(zk_facts(&p)->reconnect);
    cr_assert(zk_facts(&p)->read_only);
    cr_assert_eq(zk_facts(&p)->last_zxid, 0x100000042);
    build(&m, 0, 4000, 0, -1, -1);
    cr_assert_eq(feed(&p, m.b, m.n, SIZE_MAX), DISSECT_DONE);
    cr_assert_eq(zk_facts(&p)->passwd_len, -1);
    cr_assert_eq(zk_facts(&p)->frame_len, 28);
}

Test(zookeeper, every_chunk_size_same_facts)
{
    struct zk_parser whole, part;
    feed(&whole, kazoo_connect, sizeof(kazoo_connect), SIZE_MAX);
    for (size_t k = 1; k <= sizeof(kazoo_connect); k++) {
        cr_assert_eq(feed(&part, kazoo_connect, sizeof(kazoo_connect), k), DISSECT_DONE);
        cr_assert(memcmp(&whole.facts, &part.facts, sizeof(whole.facts)) == 0, "chunk %zu", k);
    }
}

Test(zookeeper, truncation_at_every_byte)
{
    for (size_t k = 0; k < sizeof(kazoo_connect); k++) {
        struct zk_parser p;
        zk_init(&p);
        cr_assert_eq(zk_feed(&p, C, guard_copy(kazoo_connect, k), k), DISSECT_MORE, "cut %zu", k);
        cr_assert(!zk_facts(&p)->connect);
    }
}

/* Every length field value with the bytes of a real frame behind it: only
 * lengths the fields use up exactly are accepted. */
Test(zookeeper, lying_lengths)
{
    for (unsigned len = 0; len < 256; len++) {
        uint8_t b[4 + 255];
        struct zk_parser p;
        memset(b, 0, sizeof(b));
        memcpy(b, kazoo_connect, sizeof(kazoo_connect));
        b[3] = (uint8_t)len;
        size_t n = 4 + len < sizeof(kazoo_connect) ? 4 + len : sizeof(kazoo_connect);
        zk_init(&p);
        enum dissect_status st = zk_feed(&p, C, guard_copy(b, n), n);
        if (len == 44 || len == 45)
            cr_assert_eq(st, DISSECT_DONE, "len %u", len);
        else
            cr_assert_neq(st, DISSECT_DONE, "len %u", len);
    }
    /* passwd length lying in both directions */
    for (int plen = -3; plen < 40; plen++) {
        struct zk_parser p;
        uint8_t b[sizeof(kazoo_connect)];
        memcpy(b, kazoo_connect, sizeof(b));
        b[28] = plen < 0 ? 0xff : 0;
        b[29] = plen < 0 ? 0xff : 0;
        b[30] = plen < 0 ? 0xff : 0;
        b[31] = (uint8_t)plen;
        zk_init(&p);
        enum dissect_status st = zk_feed(&p, C, guard_copy(b, sizeof(b)), sizeof(b));
        cr_assert_eq(st, plen == 16 ? DISSECT_DONE : DISSECT_ERROR, "plen %d", plen);
    }
}

Test(zookeeper, bad_fields)
{
    struct msg m;
    struct zk_parser p;
    build(&m, 0, 0, 0, 16, 0); /* timeout 0 */
    cr_assert_eq(feed(&p, m.b, m.n, SIZE_MAX), DISSECT_ERROR);
    build(&m, -1, 1000, 0, 16, 0); /* negative zxid */
    cr_assert_eq(feed(&p, m.b, m.n, SIZE_MAX), DISSECT_ERROR);
    build(&m, 0, 1000, 0, 16, 2); /* readOnly 2 */
    cr_assert_eq(feed(&p, m.b, m.n, SIZE_MAX), DISSECT_ERROR);
    build(&m, 0, 1000, 0, 16, 0);
    m.b[7] = 1; /* protocolVersion 1 */
    cr_assert_eq(feed(&p, m.b, m.n, SIZE_MAX), DISSECT_ERROR);
    cr_assert_eq(zk_error(&p), ZK_E_NOT_ZK);
}

Test(zookeeper, tls_and_others)
{
    static const uint8_t hello[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01};
    struct zk_parser p;
    cr_assert_eq(feed(&p, hello, sizeof(hello), 1), DISSECT_ERROR);
    cr_assert_eq(zk_error(&p), ZK_E_TLS);
    cr_assert_str_eq(zk_error_name(ZK_E_TLS), "tls");
    cr_assert_eq(feed(&p, (const uint8_t *)"GET / HTTP/1.1\r\n", 16, SIZE_MAX), DISSECT_ERROR);
    cr_assert_eq(zk_error(&p), ZK_E_NOT_ZK);
    cr_assert_eq(feed(&p, (const uint8_t *)"\x16\x00", 2, SIZE_MAX), DISSECT_ERROR);
    cr_assert_eq(zk_error(&p), ZK_E_NOT_ZK);
    /* a MySQL greeting header: 0x4a 0 0 0 */
    cr_assert_eq(feed(&p, (const uint8_t *)"\x4a\x00\x00\x00\x0a", 5, SIZE_MAX), DISSECT_ERROR);
}

Test(zookeeper, four_letter_words)
{
    struct zk_parser p;
    cr_assert_eq(feed(&p, (const uint8_t *)"ruok", 4, 1), DISSECT_DONE);
    cr_assert(zk_facts(&p)->four_letter);
    cr_assert_str_eq(zk_facts(&p)->command, "ruok");
    cr_assert_eq(feed(&p, (const uint8_t *)"mntr\n", 5, SIZE_MAX), DISSECT_DONE);
    cr_assert_eq(feed(&p, (const uint8_t *)"rubbish", 7, SIZE_MAX), DISSECT_ERROR);
    cr_assert_eq(feed(&p, (const uint8_t *)"sta", 3, SIZE_MAX), DISSECT_MORE);
}

Test(zookeeper, gaps)
{
    struct zk_parser p;
    zk_init(&p);
    zk_feed(&p, C, kazoo_connect, 10);
    cr_assert_eq(zk_gap(&p, S, 10), DISSECT_MORE);
    cr_assert_eq(zk_gap(&p, C, 10), DISSECT_ERROR);
    cr_assert_eq(zk_error(&p), ZK_E_GAP);
    cr_assert(zk_facts(&p)->gap[C] && zk_facts(&p)->gap[S]);
}

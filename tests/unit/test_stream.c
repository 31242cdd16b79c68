/* Unit tests of TCP stream reassembly (sensor/stream.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "sensor/flow.h"
#include "sensor/stream.h"

#define SEC     1000000ull
#define BUF_MAX 8192
#define GAP_MAX 16

#define CISN 1000u
#define SISN 5000u

/* What the consumer saw, per direction. */
struct seen {
    uint8_t buf[2][BUF_MAX];
    size_t len[2];
    unsigned ngap[2];
    size_t gap_at[2][GAP_MAX]; /* buffer length when the gap came */
    uint64_t gap_n[2][GAP_MAX];
    unsigned calls;         /* data + gap callbacks */
    size_t done_after;      /* answer STREAM_DONE once this many bytes arrived (0: never) */
    unsigned ends;          /* flows ended */
    struct flow *only_flow; /* when set, callbacks must be for this flow */
};

struct fix {
    struct flow_table *ft;
    struct stream_engine *se;
    struct seen seen;
    uint64_t now;
};

static struct fix g;

static enum stream_verdict on_data(void *ctx, struct flow *f, enum flow_dir dir, const uint8_t *p,
                                   size_t n)
{
    struct seen *s = ctx;

    (void)f;
    cr_assert_gt(n, 0);
    cr_assert_leq(s->len[dir] + n, BUF_MAX);
    memcpy(s->buf[dir] + s->len[dir], p, n);
    s->len[dir] += n;
    s->calls++;
    if (s->done_after && s->len[0] + s->len[1] >= s->done_after)
        return STREAM_DONE;
    return STREAM_MORE;
}

static enum stream_verdict on_gap(void *ctx, struct flow *f, enum flow_dir dir, uint64_t n)
{
    struct seen *s = ctx;

    (void)f;
    if (s->ngap[dir] < GAP_MAX) {
        s->gap_at[dir][s->ngap[dir]] = s->len[dir];
        s->gap_n[dir][s->ngap[dir]] = n;
    }
    s->ngap[dir]++;
    s->calls++;
    return STREAM_MORE;
}

static void on_end(void *ctx, struct flow *f, enum flow_end why)
{
    struct fix *x = ctx;

    (void)why;
    stream_finish(x->se, f);
    cr_assert_null(f->stream);
    x->seen.ends++;
}

static void setup_cfg(uint32_t depth, uint32_t max_ooo, uint64_t memcap)
{
    struct flow_config fc;
    struct stream_config sc;

    memset(&g, 0, sizeof(g));
    flow_config_default(&fc);
    fc.on_end = on_end;
    fc.ctx = &g;
    if (memcap)
        fc.memcap = memcap;
    g.ft = flow_table_new(&fc);
    cr_assert_not_null(g.ft);
    stream_config_default(&sc);
    if (depth)
        sc.depth = depth;
    if (max_ooo)
        sc.max_ooo = max_ooo;
    struct stream_consumer c = {.data = on_data, .gap = on_gap, .ctx = &g.seen};
    g.se = stream_engine_new(&sc, &c, g.ft);
    cr_assert_not_null(g.se);
}

static void setup(void)
{
    setup_cfg(0, 0, 0);
}

static void teardown(void)
{
    flow_table_free(g.ft);
    stream_engine_free(g.se);
}

/* One TCP packet: from the client 10.0.0.1:40000 (to_server) or from the
 * server 10.0.0.2:3306. Returns the flow. */
static struct flow *seg(bool to_server, uint8_t flags, uint32_t seq, uint32_t ack, const char *data)
{
    struct dec_packet p;
    enum flow_dir dir;
    size_t n = data ? strlen(data) : 0;

    memset(&p, 0, sizeof(p));
    p.src.b[0] = p.dst.b[0] = 10;
    p.src.b[3] = to_server ? 1 : 2;
    p.dst.b[3] = to_server ? 2 : 1;
    p.sport = to_server ? 40000 : 3306;
    p.dport = to_server ? 3306 : 40000;
    p.family = 4;
    p.ip_proto = 6;
    p.tcp_flags = flags;
    p.seq = seq;
    p.ack = ack;
    p.payload = (const uint8_t *)data;
    p.payload_len = p.payload_wire = (uint32_t)n;
    g.now += 1000;
    struct flow *f = flow_track(g.ft, &p, (uint32_t)(54 + n), g.now, &dir);
    cr_assert_not_null(f);
    cr_assert_eq(dir, to_server ? FLOW_TO_SERVER : FLOW_TO_CLIENT);
    stream_segment(g.se, f, dir, &p);
    return f;
}

#define A  DEC_TCP_ACK
#define PA (DEC_TCP_ACK | DEC_TCP_PSH)

static struct flow *open_conn(uint32_t cisn, uint32_t sisn)
{
    seg(true, DEC_TCP_SYN, cisn, 0, NULL);
    seg(false, DEC_TCP_SYN | A, sisn, cisn + 1, NULL);
    return seg(true, A, cisn + 1, sisn + 1, NULL);
}

static void assert_seen(enum flow_dir dir, const char *want)
{
    size_t n = strlen(want);

    cr_assert_eq(g.seen.len[dir], n, "dir %d: %zu bytes, want %zu", dir, g.seen.len[dir], n);
    cr_assert_eq(memcmp(g.seen.buf[dir], want, n), 0, "dir %d: got '%.*s' want '%s'", dir,
                 (int)g.seen.len[dir], (const char *)g.seen.buf[dir], want);
}

static const struct stream_stats *sst(void)
{
    return stream_engine_stats(g.se);
}

TestSuite(stream, .init = setup, .fini = teardown);

Test(stream, in_order_both_directions)
{
    open_conn(CISN, SISN);
    seg(true, PA, CISN + 1, SISN + 1, "hello ");
    seg(true, PA, CISN + 7, SISN + 1, "world");
    seg(false, PA, SISN + 1, CISN + 12, "hi");
    assert_seen(FLOW_TO_SERVER, "hello world");
    assert_seen(FLOW_TO_CLIENT, "hi");
    cr_assert_eq(sst()->segments, 3);
    cr_assert_eq(sst()->delivered, 13);
    cr_assert_eq(sst()->held, 0);
    cr_assert_eq(g.seen.ngap[0] + g.seen.ngap[1], 0);
}

Test(stream, reordering)
{
    open_conn(CISN, SISN);
    seg(true, PA, CISN + 7, SISN + 1, "world");
    seg(true, PA, CISN + 12, SISN + 1, "!!");
    cr_assert_eq(g.seen.len[0], 0);
    seg(true, PA, CISN + 1, SISN + 1, "hello ");
    assert_seen(FLOW_TO_SERVER, "hello world!!");
    cr_assert_eq(sst()->held, 2);
    cr_assert_eq(g.seen.ngap[0], 0);
}

Test(stream, overlap_first_wins)
{
    open_conn(CISN, SISN);
    seg(true, PA, CISN + 1, 0, "AAAA");         /* 1001..1004 delivered */
    seg(true, PA, CISN + 9, 0, "CCCC");         /* 1009..1012 held */
    seg(true, PA, CISN + 3, 0, "0123456789ab"); /* 1003..1014: only uncovered bytes count */
    assert_seen(FLOW_TO_SERVER, "AAAA2345CCCCab");
    cr_assert_geq(sst()->overlaps, 1);

    /* A later held segment around an earlier held one: the earlier bytes win. */
    seg(true, PA, CISN + 20, 0, "XXXX");     /* 1020..1023 */
    seg(true, PA, CISN + 18, 0, "yyyyyyyy"); /* 1018..1025 */
    seg(true, PA, CISN + 15, 0, "zzz");      /* 1015..1017 fills the hole */
    assert_seen(FLOW_TO_SERVER, "AAAA2345CCCCabzzzyyXXXXyy");
    cr_assert_eq(g.seen.ngap[0], 0);
}

Test(stream, retransmission)
{
    open_conn(CISN, SISN);
    seg(true, PA, CISN + 1, 0, "hello");
    seg(true, PA, CISN + 1, 0, "hello");
    seg(true, PA, CISN + 1, 0, "HEL");
    seg(true, PA, CISN + 6, 0, "!");
    seg(true, DEC_TCP_SYN, CISN, 0, NULL); /* a retransmitted SYN changes nothing */
    seg(true, PA, CISN + 7, 0, "?");
    assert_seen(FLOW_TO_SERVER, "hello!?");
    cr_assert_eq(sst()->retransmitted, 2);
}

Test(stream, gap_by_ack)
{
    open_conn(CISN, SISN);
    seg(true, PA, CISN + 1, SISN + 1, "abc");  /* 1001..1003 */
    seg(true, PA, CISN + 10, SISN + 1, "xyz"); /* 1010..1012; 1004..1009 lost */
    cr_assert_eq(g.seen.ngap[0], 0);
    seg(false, A, SISN + 1, CISN + 13, NULL); /* pure ACK past the hole */
    assert_seen(FLOW_TO_SERVER, "abcxyz");
    cr_assert_eq(g.seen.ngap[0], 1);
    cr_assert_eq(g.seen.gap_n[0][0], 6);
    cr_assert_eq(g.seen.gap_at[0][0], 3);
    cr_assert_eq(sst()->gaps, 1);
    cr_assert_eq(sst()->gap_bytes, 6);
}

Test(stream, ack_before_data_declares_nothing)
{
    open_conn(CISN, SISN);
    /* The capture shows the server's ACK before the client data it acknowledges. */
    seg(false, A, SISN + 1, CISN + 7, NULL);
    seg(true, PA, CISN + 1, SISN + 1, "hello!");
    assert_seen(FLOW_TO_SERVER, "hello!");
    cr_assert_eq(g.seen.ngap[0], 0);
    /* Later data after a hole the peer already acknowledged: gap, then the data. */
    seg(false, A, SISN + 1, CISN + 20, NULL);
    seg(true, PA, CISN + 10, SISN + 1, "late");
    assert_seen(FLOW_TO_SERVER, "hello!late");
    cr_assert_eq(g.seen.ngap[0], 1);
    cr_assert_eq(g.seen.gap_n[0][0], 3);
}

Test(stream, gap_by_max_ooo)
{
    teardown();
    setup_cfg(0, 10, 0);
    open_conn(CISN, SISN);
    seg(true, PA, CISN + 1, 0, "ab");
    seg(true, PA, CISN + 6, 0, "012345"); /* 6 held: under max_ooo */
    cr_assert_eq(g.seen.ngap[0], 0);
    seg(true, PA, CISN + 12, 0, "6789X"); /* 11 held: over max_ooo */
    assert_seen(FLOW_TO_SERVER, "ab0123456789X");
    cr_assert_eq(g.seen.ngap[0], 1);
    cr_assert_eq(g.seen.gap_n[0][0], 3);
    cr_assert_eq(g.seen.gap_at[0][0], 2);
    /* The hole's bytes arriving late are a retransmission now. */
    seg(true, PA, CISN + 3, 0, "cde");
    assert_seen(FLOW_TO_SERVER, "ab0123456789X");
    cr_assert_eq(sst()->retransmitted, 1);
}

Test(stream, gap_at_finish)
{
    open_conn(CISN, SISN);
    seg(true, PA, CISN + 1, 0, "ab");
    seg(true, PA, CISN + 5, 0, "ef");
    seg(true, PA, CISN + 10, 0, "jk");
    seg(false, PA, SISN + 3, 0, "late"); /* server side: first two bytes missing */
    cr_assert_eq(g.seen.len[0], 2);
    uint64_t charged = flow_table_stats(g.ft)->mem_used;
    flow_flush(g.ft);
    cr_assert_lt(flow_table_stats(g.ft)->mem_used, charged);
    assert_seen(FLOW_TO_SERVER, "abefjk");
    assert_seen(FLOW_TO_CLIENT, "late");
    cr_assert_eq(g.seen.ngap[0], 2);
    cr_assert_eq(g.seen.gap_n[0][0], 2);
    cr_assert_eq(g.seen.gap_at[0][0], 2);
    cr_assert_eq(g.seen.gap_n[0][1], 3);
    cr_assert_eq(g.seen.gap_at[0][1], 4);
    cr_assert_eq(g.seen.ngap[1], 1);
    cr_assert_eq(g.seen.gap_n[1][0], 2);
    cr_assert_eq(g.seen.ends, 1);
}

Test(stream, sequence_wrap)
{
    uint32_t isn = 0xfffffff8u; /* data starts at 2^32 - 7 and crosses zero */

    open_conn(isn, 0xfffffffeu);
    seg(true, PA, isn + 11, 0, "KLMNOP");     /* after the wrap: held */
    seg(true, PA, isn + 1, 0, "ABCDE");       /* before the wrap */
    seg(true, PA, isn + 6, 0, "FGHIJ");       /* crosses zero */
    seg(true, PA, isn + 3, 0, "cdefghijklm"); /* overlap across zero: old bytes win */
    seg(false, PA, 0xffffffffu, isn + 17, "s1");
    seg(false, PA, 1, isn + 17, "s2");
    assert_seen(FLOW_TO_SERVER, "ABCDEFGHIJKLMNOP");
    assert_seen(FLOW_TO_CLIENT, "s1s2");
    cr_assert_eq(g.seen.ngap[0] + g.seen.ngap[1], 0);
    /* An ACK across the wrap with a hole after it. */
    seg(true, PA, isn + 20, 0, "zz");
    seg(false, A, 3, isn + 22, NULL);
    assert_seen(FLOW_TO_SERVER, "ABCDEFGHIJKLMNOPzz");
    cr_assert_eq(g.seen.gap_n[0][0], 3);
}

Test(stream, depth_limit)
{
    teardown();
    setup_cfg(10, 0, 0);
    struct flow *f = open_conn(CISN, SISN);
    seg(true, PA, CISN + 12, 0, "should-not-be-held"); /* beyond depth: never held */
    cr_assert_eq(sst()->held, 0);
    seg(true, PA, CISN + 1, 0, "0123456");
    seg(true, PA, CISN + 8, 0, "789abcdef");
    assert_seen(FLOW_TO_SERVER, "0123456789");
    cr_assert_eq(sst()->depth_reached, 1);
    cr_assert_not_null(f->stream);
    seg(false, PA, SISN + 1, 0, "server-side-bytes");
    assert_seen(FLOW_TO_CLIENT, "server-sid");
    cr_assert_eq(sst()->depth_reached, 2);
    /* Both directions at depth: fast path. */
    cr_assert(f->flags & FLOW_F_STREAM_DONE);
    cr_assert_null(f->stream);
    cr_assert_eq(sst()->done, 1);
    unsigned calls = g.seen.calls;
    seg(true, PA, CISN + 17, 0, "more");
    cr_assert_eq(g.seen.calls, calls);
}

Test(stream, done_fast_path)
{
    struct flow *f = open_conn(CISN, SISN);
    uint64_t before = flow_table_stats(g.ft)->mem_used;

    seg(true, PA, CISN + 20, 0, "held-bytes"); /* held: charged */
    cr_assert_gt(flow_table_stats(g.ft)->mem_used, before);
    g.seen.done_after = 3;
    seg(true, PA, CISN + 1, 0, "abcd");
    cr_assert_eq(g.seen.calls, 1);
    cr_assert(f->flags & FLOW_F_STREAM_DONE);
    cr_assert_null(f->stream);
    cr_assert_eq(sst()->done, 1);
    /* Held bytes and the stream state are released. */
    cr_assert_eq(flow_table_stats(g.ft)->mem_used, 64 * sizeof(void *) + sizeof(struct flow));
    uint64_t segs = sst()->segments;
    seg(true, PA, CISN + 5, 0, "efgh");
    seg(false, PA, SISN + 1, 0, "xyz");
    seg(false, A | DEC_TCP_FIN, SISN + 4, 0, NULL);
    cr_assert_eq(g.seen.calls, 1);
    cr_assert_eq(sst()->segments, segs);
    flow_flush(g.ft);
    cr_assert_eq(g.seen.calls, 1);
    cr_assert_eq(g.seen.ends, 1);
}

/* mem_used of a table holding one flow with its stream state. */
static uint64_t probe_one_flow(void)
{
    open_conn(CISN, SISN);
    uint64_t m = flow_table_stats(g.ft)->mem_used;
    teardown();
    return m;
}

Test(stream, memcap_drop)
{
    uint64_t one = probe_one_flow();

    setup_cfg(0, 0, one + 64);
    struct flow *f = open_conn(CISN, SISN);
    char big[128];
    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    seg(true, PA, CISN + 50, 0, big); /* cannot be held: dropped */
    cr_assert_eq(sst()->memcap_drops, 1);
    cr_assert_eq(sst()->held, 0);
    seg(true, PA, CISN + 20, 0, "small"); /* fits */
    cr_assert_eq(sst()->held, 1);
    seg(true, PA, CISN + 1, 0, "0123456789012345678");
    assert_seen(FLOW_TO_SERVER, "0123456789012345678small");
    cr_assert_eq(flow_table_stats(g.ft)->mem_used, one);
    cr_assert_not_null(f->stream);
}

Test(stream, memcap_evicts_other_flow)
{
    uint64_t one = probe_one_flow();

    /* Room for two flows with streams (one bucket array) and a little more. */
    setup_cfg(0, 0, 2 * one - 64 * sizeof(void *) + 40);
    /* An idle flow on another port with held data. */
    struct dec_packet p;
    enum flow_dir dir;
    memset(&p, 0, sizeof(p));
    p.src.b[0] = p.dst.b[0] = 10;
    p.src.b[3] = 3;
    p.dst.b[3] = 2;
    p.sport = 41000;
    p.dport = 3306;
    p.family = 4;
    p.ip_proto = 6;
    p.tcp_flags = PA;
    p.seq = 100;
    p.payload = (const uint8_t *)"old";
    p.payload_len = p.payload_wire = 3;
    struct flow *other = flow_track(g.ft, &p, 60, 1, &dir);
    stream_segment(g.se, other, dir, &p);
    assert_seen(FLOW_TO_SERVER, "old");

    g.now = 10 * SEC;
    open_conn(CISN, SISN);
    seg(true, PA, CISN + 10, 0, "0123456789abcdefghijklmnopqrstuvwxyz");
    cr_assert_eq(g.seen.ends, 1); /* the idle flow was evicted to make room */
    cr_assert_eq(flow_table_stats(g.ft)->evicted, 1);
    cr_assert_eq(sst()->held, 1);
    cr_assert_eq(sst()->memcap_drops, 0);
}

Test(stream, midstream_start)
{
    struct flow *f = seg(false, PA, 777777, 123, "server-first");
    cr_assert(f->flags & FLOW_F_MIDSTREAM);
    seg(true, PA, 123, 777777 + 12, "client");
    seg(true, PA, 129, 777777 + 12, "+more");
    seg(false, PA, 777777 + 12, 134, "!");
    assert_seen(FLOW_TO_CLIENT, "server-first!");
    assert_seen(FLOW_TO_SERVER, "client+more");
    cr_assert_eq(g.seen.ngap[0] + g.seen.ngap[1], 0);
}

Test(stream, midstream_tentative_orientation)
{
    /* Ports without hints: a pure ACK from A first, then B's payload makes B the client. */
    struct dec_packet p;
    enum flow_dir dir;
    memset(&p, 0, sizeof(p));
    p.src.b[0] = p.dst.b[0] = 10;
    p.src.b[3] = 1;
    p.dst.b[3] = 2;
    p.sport = 40000;
    p.dport = 50000;
    p.family = 4;
    p.ip_proto = 6;
    p.tcp_flags = A;
    p.seq = 10;
    p.ack = 500;
    struct flow *f = flow_track(g.ft, &p, 60, 1, &dir);
    cr_assert_eq(dir, FLOW_TO_SERVER);
    stream_segment(g.se, f, dir, &p);

    struct dec_packet q = p;
    q.src = p.dst;
    q.dst = p.src;
    q.sport = 50000;
    q.dport = 40000;
    q.tcp_flags = PA;
    q.seq = 500;
    q.ack = 10;
    q.payload = (const uint8_t *)"from-B";
    q.payload_len = q.payload_wire = 6;
    f = flow_track(g.ft, &q, 66, 2, &dir);
    cr_assert_eq(dir, FLOW_TO_SERVER);
    stream_segment(g.se, f, dir, &q);
    assert_seen(FLOW_TO_SERVER, "from-B");
    cr_assert_eq(g.seen.len[FLOW_TO_CLIENT], 0);
}

Test(stream, fin_ends_direction)
{
    struct flow *f = open_conn(CISN, SISN);
    seg(true, PA | DEC_TCP_FIN, CISN + 1, 0, "bye");
    seg(true, PA, CISN + 5, 0, "after-fin"); /* FIN took CISN + 4 */
    seg(true, PA, CISN + 2, 0, "yeXXX");     /* trimmed at the FIN */
    assert_seen(FLOW_TO_SERVER, "bye");
    cr_assert_not_null(f->stream);
    /* The server's FIN arrives before its last data: delivered up to the FIN. */
    seg(false, A | DEC_TCP_FIN, SISN + 4, CISN + 5, NULL);
    cr_assert_not_null(f->stream);
    seg(false, PA, SISN + 1, CISN + 5, "okk");
    assert_seen(FLOW_TO_CLIENT, "okk");
    cr_assert(f->flags & FLOW_F_STREAM_DONE);
    cr_assert_null(f->stream);
}

Test(stream, rst_ends_delivery)
{
    struct flow *f = open_conn(CISN, SISN);
    seg(true, PA, CISN + 1, 0, "ab");
    seg(true, PA, CISN + 6, 0, "fg");
    seg(false, DEC_TCP_RST, SISN + 1, 0, NULL);
    assert_seen(FLOW_TO_SERVER, "abfg");
    cr_assert_eq(g.seen.gap_n[0][0], 3);
    cr_assert(f->flags & FLOW_F_STREAM_DONE);
    cr_assert_null(f->stream);
    unsigned calls = g.seen.calls;
    seg(true, PA, CISN + 8, 0, "zz");
    cr_assert_eq(g.seen.calls, calls);
}

Test(stream, truncated_payload_becomes_gap)
{
    open_conn(CISN, SISN);
    /* 10 bytes on the wire, 4 captured (small snaplen). */
    struct dec_packet p;
    enum flow_dir dir;
    memset(&p, 0, sizeof(p));
    p.src.b[0] = p.dst.b[0] = 10;
    p.src.b[3] = 1;
    p.dst.b[3] = 2;
    p.sport = 40000;
    p.dport = 3306;
    p.family = 4;
    p.ip_proto = 6;
    p.tcp_flags = PA;
    p.seq = CISN + 1;
    p.payload = (const uint8_t *)"abcd";
    p.payload_len = 4;
    p.payload_wire = 10;
    struct flow *f = flow_track(g.ft, &p, 64, g.now + 1, &dir);
    stream_segment(g.se, f, dir, &p);
    seg(true, PA, CISN + 11, 0, "next");
    seg(false, A, SISN + 1, CISN + 15, NULL);
    assert_seen(FLOW_TO_SERVER, "abcdnext");
    cr_assert_eq(g.seen.gap_n[0][0], 6);
}

Test(stream, many_tiny_segments_bounded)
{
    open_conn(CISN, SISN);
    /* 300 one-byte pieces after a hole, each two bytes apart: over the piece bound. */
    for (uint32_t i = 0; i < 300; i++)
        seg(true, PA, CISN + 10 + 2 * i, 0, "x");
    /* From the 257th piece on, each new piece skips the oldest hole. */
    cr_assert_eq(g.seen.ngap[0], 1 + 300 - 257);
    cr_assert_eq(g.seen.gap_n[0][0], 9);
    cr_assert_eq(g.seen.len[0], 1 + 300 - 257);
    flow_flush(g.ft);
    cr_assert_eq(g.seen.len[0], 300);
    cr_assert_eq(g.seen.ngap[0], 300);
    cr_assert_eq(flow_table_stats(g.ft)->mem_used, 64 * sizeof(void *));
}

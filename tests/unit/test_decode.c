/* Unit tests for sensor/decode.c: every link type, VLANs, IPv4 options, IPv6
 * extension chains, fragments, every tunnel, nesting, malformed headers with
 * their exact counter, and every test packet truncated at every length inside
 * a buffer that ends at a PROT_NONE page.
 *
 * Set VTLS_DECODE_PCAP=path to also write every good Ethernet test packet to a
 * pcap file, for cross-checking the hand-built headers with tshark.
 */
#include <criterion/criterion.h>

#include <dirent.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/decode.h"
#include "tests/unit/helper_pkt.h"

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif

static const char payload[] = "hello, vitess";
#define PAYLOAD_LEN (sizeof payload - 1)

/* ------------------------------------------------------------------ helpers */

static uint64_t counters_sum(const struct dec_stats *st)
{
    uint64_t sum = 0;

    for (int i = 0; i < DEC_C__COUNT; i++)
        sum += st->c[i];
    return sum;
}

static void pcap_dump_eth(const uint8_t *b, size_t n)
{
    static FILE *f;
    const char *path = getenv("VTLS_DECODE_PCAP");
    uint32_t rec[4] = {0, 0, (uint32_t)n, (uint32_t)n};

    if (path == NULL)
        return;
    if (f == NULL) {
        uint32_t hdr[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, DLT_EN10MB};

        f = fopen(path, "ab"); /* each test runs in its own process: append */
        cr_assert_not_null(f);
        fseek(f, 0, SEEK_END);
        if (ftell(f) == 0)
            fwrite(hdr, sizeof hdr, 1, f);
    }
    fwrite(rec, sizeof rec, 1, f);
    fwrite(b, n, 1, f);
    fflush(f);
}

/* dec_packet's one-pass path gave what the layer-by-layer decoder gives. */
static void check_same_as_layers(int dlt, const uint8_t *b, size_t n, bool ok,
                                 const struct dec_packet *d, const struct dec_stats *st)
{
    struct dec_stats st2 = {0};
    struct dec_packet d2;
    bool ok2 = dec_packet_layers(dlt, b, (uint32_t)n, &d2, &st2);

    cr_assert_eq(ok, ok2, "%zu bytes: fast path %d, layers %d", n, ok, ok2);
    cr_assert_eq(memcmp(st, &st2, sizeof(st2)), 0, "%zu bytes: counters differ", n);
    if (ok)
        cr_assert_eq(memcmp(d, &d2, sizeof(d2)), 0, "%zu bytes: packets differ", n);
}

/* Every prefix of b[0..n) decodes to false with exactly one counter, or to true
 * with the payload inside the prefix. With payload_off set (a good packet whose
 * payload spans [payload_off, payload_end)), the result must be true exactly
 * when the prefix holds every header, with the payload cut to the prefix. */
static void check_prefixes(int dlt, const uint8_t *b, size_t n, size_t payload_off,
                           size_t payload_end)
{
    for (size_t cut = 0; cut < n; cut++) {
        const uint8_t *g = guard_copy(b, cut);
        struct dec_stats st = {0};
        struct dec_packet d;
        bool ok = dec_packet(dlt, g, (uint32_t)cut, &d, &st);

        check_same_as_layers(dlt, g, cut, ok, &d, &st);
        cr_assert_eq(counters_sum(&st), ok ? 0 : 1, "cut %zu", cut);
        if (ok) {
            cr_assert(d.payload >= g && d.payload <= g + cut, "cut %zu", cut);
            cr_assert(d.payload_len <= (size_t)(g + cut - d.payload), "cut %zu", cut);
            cr_assert(d.payload_len <= d.payload_wire, "cut %zu", cut);
        }
        if (payload_end == 0)
            continue;
        cr_assert_eq(ok, cut >= payload_off, "cut %zu of %zu (payload at %zu)", cut, n,
                     payload_off);
        if (ok) {
            size_t want = (cut < payload_end ? cut : payload_end) - payload_off;

            cr_assert_eq((size_t)(d.payload - g), payload_off, "cut %zu", cut);
            cr_assert_eq(d.payload_len, want, "cut %zu", cut);
        }
    }
}

struct result {
    struct dec_packet d;
    size_t off; /* payload offset in the packet */
};

/* Decode a good packet (true, no counter), then check all its prefixes; strict:
 * true exactly for the prefixes that hold every header (see check_prefixes). */
static struct result expect_ok_prefixes(int dlt, const struct pkt *p, bool strict)
{
    const uint8_t *g = guard_copy(p->b, p->len);
    struct dec_stats st = {0};
    struct result r;

    cr_assert(dec_packet(dlt, g, (uint32_t)p->len, &r.d, &st), "decode failed");
    cr_assert_eq(counters_sum(&st), 0);
    r.off = (size_t)(r.d.payload - g);
    cr_assert_leq(r.off + r.d.payload_len, p->len);
    cr_assert_eq(r.d.payload_len, r.d.payload_wire);
    if (dlt == DLT_EN10MB)
        pcap_dump_eth(p->b, p->len);
    if (strict)
        check_prefixes(dlt, p->b, p->len, r.off, r.off + r.d.payload_len);
    else
        check_prefixes(dlt, p->b, p->len, 0, 0);
    r.d.payload = NULL; /* pointed into the guard buffer */
    return r;
}

static struct result expect_ok(int dlt, const struct pkt *p)
{
    return expect_ok_prefixes(dlt, p, true);
}

/* Decode a bad packet: false with exactly counter c once; prefixes stay in bounds. */
static void expect_fail(int dlt, const struct pkt *p, enum dec_counter c)
{
    const uint8_t *g = guard_copy(p->b, p->len);
    struct dec_stats st = {0};
    struct dec_packet d;

    cr_assert_not(dec_packet(dlt, g, (uint32_t)p->len, &d, &st), "decoded, wanted %s",
                  dec_counter_name(c));
    for (int i = 0; i < DEC_C__COUNT; i++)
        cr_assert_eq(st.c[i], i == (int)c ? 1u : 0u, "counter %s = %llu (wanted %s)",
                     dec_counter_name((enum dec_counter)i), (unsigned long long)st.c[i],
                     dec_counter_name(c));
    check_prefixes(dlt, p->b, p->len, 0, 0);
}

static void assert_payload(const struct pkt *p, const struct result *r)
{
    cr_assert_eq(r->d.payload_len, PAYLOAD_LEN);
    cr_assert_eq(memcmp(p->b + r->off, payload, PAYLOAD_LEN), 0);
}

static void assert_addr(const struct dec_addr *a, int family, const char *want)
{
    char buf[64];

    cr_assert_str_eq(dec_addr_str(a, family, buf, sizeof buf), want);
}

/* TCP options of a SYN: MSS 1460, SACK permitted, timestamps, NOP, window scale 7. */
static const uint8_t syn_opts[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
                                     0, 1, 0,    0,    0, 0, 1, 3,  3, 7};

/* IPv4 + TCP 40000 -> 443 + payload. */
static void add_tcp4(struct pkt *p, const char *src, const char *dst)
{
    pkt_ipv4(p, src, dst, 6);
    pkt_tcp(p, 40000, 443, 1000, 2000, DEC_TCP_ACK | DEC_TCP_PSH, NULL, 0);
    pkt_bytes(p, payload, PAYLOAD_LEN);
}

/* IPv6 + TCP 40000 -> 3306 + payload. */
static void add_tcp6(struct pkt *p)
{
    pkt_ipv6(p, "2001:db8::1", "2001:db8::2", 6);
    pkt_tcp(p, 40000, 3306, 1, 2, DEC_TCP_ACK, NULL, 0);
    pkt_bytes(p, payload, PAYLOAD_LEN);
}

/* Ethernet + IPv4 + TCP + payload. */
static void add_eth_tcp4(struct pkt *p, const char *src, const char *dst)
{
    pkt_eth(p, 0x0800);
    add_tcp4(p, src, dst);
}

static void build_eth_tcp4(struct pkt *p)
{
    pkt_init(p);
    add_eth_tcp4(p, "10.0.0.1", "10.0.0.2");
    pkt_finish(p);
}

static void assert_inner_tcp4(const struct pkt *p, const struct result *r, const char *src,
                              const char *dst)
{
    cr_assert_eq(r->d.family, 4);
    cr_assert_eq(r->d.ip_proto, 6);
    assert_addr(&r->d.src, 4, src);
    assert_addr(&r->d.dst, 4, dst);
    cr_assert_eq(r->d.sport, 40000);
    cr_assert_eq(r->d.dport, 443);
    assert_payload(p, r);
}

/* ------------------------------------------------------------- link types */

Test(decode, ethernet_ipv4_tcp_fields)
{
    struct pkt p;
    struct result r;

    pkt_init(&p);
    pkt_eth(&p, 0x0800);
    pkt_ipv4(&p, "192.0.2.10", "198.51.100.20", 6);
    pkt_tcp(&p, 51000, 15991, 0xfffffff0, 0x01020304, DEC_TCP_SYN | DEC_TCP_ACK, syn_opts,
            sizeof syn_opts);
    pkt_bytes(&p, payload, PAYLOAD_LEN);
    pkt_finish(&p);
    r = expect_ok(DLT_EN10MB, &p);

    cr_assert_eq(r.d.family, 4);
    assert_addr(&r.d.src, 4, "192.0.2.10");
    assert_addr(&r.d.dst, 4, "198.51.100.20");
    for (int i = 4; i < 16; i++)
        cr_assert_eq(r.d.src.b[i], 0);
    cr_assert_eq(r.d.sport, 51000);
    cr_assert_eq(r.d.dport, 15991);
    cr_assert_eq(r.d.seq, 0xfffffff0u);
    cr_assert_eq(r.d.ack, 0x01020304u);
    cr_assert_eq(r.d.tcp_flags, DEC_TCP_SYN | DEC_TCP_ACK);
    cr_assert_eq(r.d.window, 65535);
    cr_assert_eq(r.d.mss, 1460);
    cr_assert_eq(r.d.wscale, 7);
    cr_assert_eq(r.d.tunnels, 0);
    cr_assert_eq(r.d.tunnel_depth, 0);
    cr_assert_eq(r.d.vlan_count, 0);
    assert_payload(&p, &r);
}

Test(decode, ethernet_ipv6_udp)
{
    struct pkt p;
    struct result r;

    pkt_init(&p);
    pkt_eth(&p, 0x86dd);
    pkt_ipv6(&p, "fe80::1", "2001:db8::53", 17);
    pkt_udp(&p, 5353, 53);
    pkt_bytes(&p, payload, PAYLOAD_LEN);
    pkt_finish(&p);
    r = expect_ok(DLT_EN10MB, &p);

    cr_assert_eq(r.d.family, 6);
    cr_assert_eq(r.d.ip_proto, 17);
    assert_addr(&r.d.src, 6, "fe80::1");
    assert_addr(&r.d.dst, 6, "2001:db8::53");
    cr_assert_eq(r.d.sport, 5353);
    cr_assert_eq(r.d.dport, 53);
    cr_assert_eq(r.d.wscale, 0, "TCP fields are zero for UDP");
    cr_assert_eq(r.d.tcp_flags, 0);
    assert_payload(&p, &r);
}

Test(decode, tcp_without_options)
{
    struct pkt p;
    struct result r;

    build_eth_tcp4(&p);
    r = expect_ok(DLT_EN10MB, &p);
    cr_assert_eq(r.d.mss, 0);
    cr_assert_eq(r.d.wscale, 0xff);
    assert_inner_tcp4(&p, &r, "10.0.0.1", "10.0.0.2");
}

Test(decode, linux_sll)
{
    struct pkt p;
    struct result r;

    pkt_init(&p);
    pkt_be16(&p, 0);        /* packet type: to us */
    pkt_be16(&p, 1);        /* ARPHRD_ETHER */
    pkt_be16(&p, 6);        /* address length */
    pkt_bytes(&p, NULL, 8); /* address */
    pkt_be16(&p, 0x0800);   /* protocol */
    add_tcp4(&p, "10.1.0.1", "10.1.0.2");
    pkt_finish(&p);
    r = expect_ok(DLT_LINUX_SLL, &p);
    assert_inner_tcp4(&p, &r, "10.1.0.1", "10.1.0.2");
    cr_assert_eq(r.off, 16 + 20 + 20);
}

Test(decode, linux_sll_with_vlan)
{
    struct pkt p;
    struct result r;

    pkt_init(&p);
    pkt_be16(&p, 4); /* sent by us */
    pkt_be16(&p, 1);
    pkt_be16(&p, 6);
    pkt_bytes(&p, NULL, 8);
    pkt_be16(&p, 0x8100); /* libpcap re-inserted the VLAN tag */
    pkt_vlan(&p, 42, 0x86dd);
    add_tcp6(&p);
    pkt_finish(&p);
    r = expect_ok(DLT_LINUX_SLL, &p);
    cr_assert_eq(r.d.family, 6);
    cr_assert_eq(r.d.vlan_count, 1);
    cr_assert_eq(r.d.vlan[0], 42);
    cr_assert_eq(r.d.dport, 3306);
    assert_payload(&p, &r);
}

Test(decode, linux_sll2)
{
    struct pkt p;
    struct result r;

    pkt_init(&p);
    pkt_be16(&p, 0x86dd);   /* protocol */
    pkt_be16(&p, 0);        /* reserved */
    pkt_be32(&p, 3);        /* interface index */
    pkt_be16(&p, 1);        /* ARPHRD_ETHER */
    pkt_u8(&p, 0);          /* packet type */
    pkt_u8(&p, 6);          /* address length */
    pkt_bytes(&p, NULL, 8); /* address */
    add_tcp6(&p);
    pkt_finish(&p);
    r = expect_ok(DLT_LINUX_SLL2, &p);
    cr_assert_eq(r.d.family, 6);
    assert_addr(&r.d.src, 6, "2001:db8::1");
    cr_assert_eq(r.off, 20 + 40 + 20);
    assert_payload(&p, &r);
}

static void build_null(struct pkt *p, const uint8_t fam[4], bool v6)
{
    pkt_init(p);
    pkt_bytes(p, fam, 4);
    if (v6)
        add_tcp6(p);
    else
        add_tcp4(p, "127.0.0.1", "127.0.0.1");
    pkt_finish(p);
}

Test(decode, bsd_null_and_loop_families_both_orders)
{
    static const uint8_t v6fams[] = {10, 24, 28, 30};
    struct pkt p;
    struct result r;

    for (int dlt = 0; dlt < 2; dlt++) {
        int link = dlt == 0 ? DLT_NULL : DLT_LOOP;
        uint8_t le[4] = {2, 0, 0, 0}, be[4] = {0, 0, 0, 2};

        build_null(&p, le, false);
        r = expect_ok(link, &p);
        cr_assert_eq(r.d.family, 4);
        build_null(&p, be, false);
        r = expect_ok(link, &p);
        cr_assert_eq(r.d.family, 4);
        for (size_t i = 0; i < sizeof v6fams; i++) {
            uint8_t le6[4] = {v6fams[i], 0, 0, 0}, be6[4] = {0, 0, 0, v6fams[i]};

            build_null(&p, le6, true);
            r = expect_ok(link, &p);
            cr_assert_eq(r.d.family, 6);
            build_null(&p, be6, true);
            r = expect_ok(link, &p);
            cr_assert_eq(r.d.family, 6);
            assert_payload(&p, &r);
        }
    }
}

Test(decode, bsd_null_bad_family)
{
    static const uint8_t fam[4] = {0, 0, 0, 17}; /* AF_ROUTE-like */
    struct pkt p;

    build_null(&p, fam, false);
    expect_fail(DLT_NULL, &p, DEC_C_NULL_FAMILY);
    pkt_init(&p);
    pkt_bytes(&p, NULL, 3);
    expect_fail(DLT_LOOP, &p, DEC_C_NULL_TRUNC);
}

Test(decode, raw_ip_all_link_types)
{
    static const int raw_v4[] = {DLT_RAW, 101, DLT_IPV4};
    static const int raw_v6[] = {DLT_RAW, 101, DLT_IPV6};
    struct pkt p4, p6;
    struct result r;

    pkt_init(&p4);
    add_tcp4(&p4, "10.9.0.1", "10.9.0.2");
    pkt_finish(&p4);
    pkt_init(&p6);
    add_tcp6(&p6);
    pkt_finish(&p6);
    for (int i = 0; i < 3; i++) {
        r = expect_ok(raw_v4[i], &p4);
        assert_inner_tcp4(&p4, &r, "10.9.0.1", "10.9.0.2");
        cr_assert_eq(r.off, 40);
        r = expect_ok(raw_v6[i], &p6);
        cr_assert_eq(r.d.family, 6);
        cr_assert_eq(r.off, 60);
    }
    /* The link type fixes the version: IPv6 bytes on DLT_IPV4 are a bad version. */
    expect_fail(DLT_IPV4, &p6, DEC_C_IPV4_VERSION);
    expect_fail(DLT_IPV6, &p4, DEC_C_IPV6_VERSION);
    p4.b[0] = 0x55;
    expect_fail(DLT_RAW, &p4, DEC_C_NOT_IP);
}

Test(decode, unsupported_link)
{
    struct pkt p;

    build_eth_tcp4(&p);
    expect_fail(DLT_IEEE802_11, &p, DEC_C_LINK_UNSUPPORTED);
    cr_assert_not(dec_dlt_supported(DLT_IEEE802_11));
    cr_assert_not(dec_dlt_supported(-1));
    cr_assert(dec_dlt_supported(DLT_EN10MB));
    cr_assert(dec_dlt_supported(DLT_LINUX_SLL));
    cr_assert(dec_dlt_supported(DLT_LINUX_SLL2));
    cr_assert(dec_dlt_supported(DLT_NULL));
    cr_assert(dec_dlt_supported(DLT_LOOP));
    cr_assert(dec_dlt_supported(DLT_RAW));
    cr_assert(dec_dlt_supported(101));
    cr_assert(dec_dlt_supported(DLT_IPV4));
    cr_assert(dec_dlt_supported(DLT_IPV6));
}

Test(decode, not_ip)
{
    struct pkt p;

    pkt_init(&p);
    pkt_eth(&p, 0x0806); /* ARP */
    pkt_bytes(&p, NULL, 28);
    expect_fail(DLT_EN10MB, &p, DEC_C_NOT_IP);
}

/* ------------------------------------------------------------------ VLAN */

Test(decode, vlan_8021q)
{
    struct pkt p;
    struct result r;

    pkt_init(&p);
    pkt_eth(&p, 0x8100);
    pkt_vlan(&p, 0xe000 | 100, 0x0800); /* priority bits are not part of the ID */
    add_tcp4(&p, "10.0.0.1", "10.0.0.2");
    pkt_finish(&p);
    r = expect_ok(DLT_EN10MB, &p);
    cr_assert_eq(r.d.vlan_count, 1);
    cr_assert_eq(r.d.vlan[0], 100);
    assert_inner_tcp4(&p, &r, "10.0.0.1", "10.0.0.2");
}

Test(decode, vlan_qinq)
{
    static const uint16_t outer[] = {0x88a8, 0x9100, 0x8100};
    struct pkt p;
    struct result r;

    for (int i = 0; i < 3; i++) {
        pkt_init(&p);
        pkt_eth(&p, outer[i]);
        pkt_vlan(&p, 300, 0x8100);
        pkt_vlan(&p, 4095, 0x86dd);
        add_tcp6(&p);
        pkt_finish(&p);
        r = expect_ok(DLT_EN10MB, &p);
        cr_assert_eq(r.d.vlan_count, 2);
        cr_assert_eq(r.d.vlan[0], 300);
        cr_assert_eq(r.d.vlan[1], 4095);
        assert_payload(&p, &r);
    }
}

Test(decode, vlan_too_deep_and_truncated)
{
    struct pkt p;

    pkt_init(&p);
    pkt_eth(&p, 0x88a8);
    pkt_vlan(&p, 1, 0x8100);
    pkt_vlan(&p, 2, 0x8100);
    pkt_vlan(&p, 3, 0x0800);
    add_tcp4(&p, "10.0.0.1", "10.0.0.2");
    pkt_finish(&p);
    expect_fail(DLT_EN10MB, &p, DEC_C_VLAN_TOO_DEEP);

    pkt_init(&p);
    pkt_eth(&p, 0x8100);
    pkt_be16(&p, 5);
    pkt_u8(&p, 8);
    expect_fail(DLT_EN10MB, &p, DEC_C_VLAN_TRUNC);
}

/* ------------------------------------------------------------------ IPv4 */

Test(decode, ipv4_options)
{
    /* Record Route (7) with room for 2 addresses, NOP, End of Options list. */
    static const uint8_t opts[12] = {7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    struct pkt p;
    struct result r;

    pkt_init(&p);
    pkt_eth(&p, 0x0800);
    pkt_ipv4_opts(&p, "10.2.0.1", "10.2.0.2", 6, opts, sizeof opts);
    pkt_tcp(&p, 40000, 443, 1, 1, DEC_TCP_ACK, NULL, 0);
    pkt_bytes(&p, payload, PAYLOAD_LEN);
    pkt_finish(&p);
    r = expect_ok(DLT_EN10MB, &p);
    cr_assert_eq(r.off, 14 + 32 + 20);
    assert_inner_tcp4(&p, &r, "10.2.0.1", "10.2.0.2");
}

Test(decode, ethernet_padding_trimmed)
{
    struct pkt p;
    struct result r;

    pkt_init(&p);
    pkt_eth(&p, 0x0800);
    pkt_ipv4(&p, "10.0.0.1", "10.0.0.2", 6);
    pkt_tcp(&p, 40000, 443, 1, 1, DEC_TCP_ACK, NULL, 0);
    pkt_bytes(&p, "ab", 2);
    pkt_finish(&p);
    pkt_bytes(&p, "\xee\xee\xee\xee\xee\xee\xee\xee", 8); /* pad to 64 with FCS-like bytes */
    r = expect_ok(DLT_EN10MB, &p);
    cr_assert_eq(r.d.payload_len, 2);
    cr_assert_eq(r.d.payload_wire, 2);
}

Test(decode, snaplen_cut_payload)
{
    struct pkt p;
    const uint8_t *g;
    struct dec_stats st = {0};
    struct dec_packet d;

    build_eth_tcp4(&p);
    g = guard_copy(p.b, 14 + 20 + 20 + 5);
    cr_assert(dec_packet(DLT_EN10MB, g, 14 + 20 + 20 + 5, &d, &st));
    cr_assert_eq(d.payload_len, 5);
    cr_assert_eq(d.payload_wire, PAYLOAD_LEN);
}

Test(decode, ipv4_malformed)
{
    struct pkt p;

    build_eth_tcp4(&p);
    p.b[14] = 0x65; /* version 6 in an IPv4 EtherType */
    expect_fail(DLT_EN10MB, &p, DEC_C_IPV4_VERSION);

    build_eth_tcp4(&p);
    p.b[14] = 0x44; /* IHL 4 */
    expect_fail(DLT_EN10MB, &p, DEC_C_IPV4_HLEN);

    build_eth_tcp4(&p);
    p.b[14] = 0x4f;  /* IHL 15: 60 bytes, more than the packet holds before TCP... */
    p.len = 14 + 40; /* ...and the frame ends inside the options */
    expect_fail(DLT_EN10MB, &p, DEC_C_IPV4_TRUNC);

    build_eth_tcp4(&p);
    p.b[16] = 0;
    p.b[17] = 19; /* total length below the header length */
    expect_fail(DLT_EN10MB, &p, DEC_C_IPV4_LEN);

    build_eth_tcp4(&p);
    p.b[16] = 0;
    p.b[17] = 0; /* total length 0 on a small packet */
    expect_fail(DLT_EN10MB, &p, DEC_C_IPV4_LEN);

    pkt_init(&p);
    pkt_eth(&p, 0x0800);
    pkt_bytes(&p, "\x45\x00\x00", 3);
    expect_fail(DLT_EN10MB, &p, DEC_C_IPV4_TRUNC);

    pkt_init(&p);
    expect_fail(DLT_RAW, &p, DEC_C_IPV4_TRUNC);

    pkt_init(&p);
    pkt_eth(&p, 0x0800);
    pkt_ipv4(&p, "10.0.0.1", "10.0.0.2", 1); /* ICMP */
    pkt_bytes(&p, NULL, 8);
    pkt_finish(&p);
    expect_fail(DLT_EN10MB, &p, DEC_C_IP_PROTO_OTHER);
}

Test(decode, ipv4_fragments)
{
    struct pkt p;

    build_eth_tcp4(&p);
    p.b[14 + 6] = 0x20; /* MF, offset 0 */
    expect_fail(DLT_EN10MB, &p, DEC_C_IPV4_FRAGMENT);

    build_eth_tcp4(&p);
    p.b[14 + 7] = 0x03; /* offset 3, no MF */
    expect_fail(DLT_EN10MB, &p, DEC_C_IPV4_FRAGMENT);

    build_eth_tcp4(&p);
    p.b[14 + 6] = 0x40; /* DF only: not a fragment */
    expect_ok(DLT_EN10MB, &p);
}

Test(decode, ethernet_truncated)
{
    struct pkt p;

    pkt_init(&p);
    pkt_bytes(&p, NULL, 13);
    expect_fail(DLT_EN10MB, &p, DEC_C_ETH_TRUNC);
    pkt_init(&p);
    pkt_bytes(&p, NULL, 15);
    expect_fail(DLT_LINUX_SLL, &p, DEC_C_SLL_TRUNC);
    pkt_init(&p);
    pkt_bytes(&p, NULL, 19);
    expect_fail(DLT_LINUX_SLL2, &p, DEC_C_SLL2_TRUNC);
}

/* ------------------------------------------------------------------ IPv6 */

/* Append a generic extension header of 8 * units bytes (units >= 1). */
static void add_ext(struct pkt *p, uint8_t next, unsigned units)
{
    size_t off = pkt_u8(p, next);

    pkt_u8(p, (uint8_t)(units - 1));
    pkt_bytes(p, NULL, 8 * units - 2);
    if (units == 1) {
        p->b[off + 2] = 1; /* a PadN option: type 1, length 4 */
        p->b[off + 3] = 4;
    }
}

Test(decode, ipv6_extension_chain)
{
    struct pkt p;
    struct result r;

    pkt_init(&p);
    pkt_eth(&p, 0x86dd);
    pkt_ipv6(&p, "2001:db8::a", "2001:db8::b", 0); /* hop-by-hop */
    add_ext(&p, 43, 1);                            /* -> routing */
    add_ext(&p, 60, 3);                            /* -> destination options */
    add_ext(&p, 6, 2);                             /* -> TCP */
    pkt_tcp(&p, 40000, 443, 7, 8, DEC_TCP_ACK, NULL, 0);
    pkt_bytes(&p, payload, PAYLOAD_LEN);
    pkt_finish(&p);
    r = expect_ok(DLT_EN10MB, &p);
    cr_assert_eq(r.d.family, 6);
    cr_assert_eq(r.d.ip_proto, 6);
    cr_assert_eq(r.off, 14 + 40 + 8 + 24 + 16 + 20);
    cr_assert_eq(r.d.payload_wire, PAYLOAD_LEN);
    assert_payload(&p, &r);
}

Test(decode, ipv6_ah_and_other_extensions)
{
    struct pkt p;
    struct result r;
    size_t ah;

    pkt_init(&p);
    pkt_eth(&p, 0x86dd);
    pkt_ipv6(&p, "2001:db8::a", "2001:db8::b", 135); /* mobility */
    add_ext(&p, 139, 1);                             /* -> HIP */
    add_ext(&p, 140, 1);                             /* -> shim6 */
    add_ext(&p, 51, 1);                              /* -> AH */
    /* AH (RFC 4302): next header, payload len = 4-byte words - 2, reserved, SPI,
     * sequence, 12-byte ICV: 24 bytes = 6 words, so 4. */
    ah = pkt_u8(&p, 17);
    pkt_u8(&p, 4);
    pkt_be16(&p, 0);
    pkt_be32(&p, 0x1000);
    pkt_be32(&p, 1);
    pkt_bytes(&p, NULL, 12);
    pkt_udp(&p, 500, 4500);
    pkt_bytes(&p, payload, PAYLOAD_LEN);
    pkt_finish(&p);
    r = expect_ok(DLT_EN10MB, &p);
    cr_assert_eq(r.d.ip_proto, 17);
    cr_assert_eq(r.off, ah + 24 + 8);
    assert_payload(&p, &r);
}

Test(decode, ipv6_fragments)
{
    struct pkt p;
    size_t frag;

    pkt_init(&p);
    pkt_eth(&p, 0x86dd);
    pkt_ipv6(&p, "2001:db8::a", "2001:db8::b", 44);
    frag = pkt_u8(&p, 6); /* next header TCP */
    pkt_u8(&p, 0);
    pkt_be16(&p, 0x0001); /* offset 0, M set */
    pkt_be32(&p, 0xabcd);
    pkt_tcp(&p, 40000, 443, 1, 1, DEC_TCP_ACK, NULL, 0);
    pkt_bytes(&p, payload, PAYLOAD_LEN);
    pkt_finish(&p);
    expect_fail(DLT_EN10MB, &p, DEC_C_IPV6_FRAGMENT);

    p.b[frag + 2] = 0x01; /* offset 32, M clear */
    p.b[frag + 3] = 0x00;
    expect_fail(DLT_EN10MB, &p, DEC_C_IPV6_FRAGMENT);

    p.b[frag + 2] = 0x00; /* atomic fragment: a whole packet (RFC 6946) */
    p.b[frag + 3] = 0x06; /* reserved bits are ignored */
    expect_ok(DLT_EN10MB, &p);
}

Test(decode, ipv6_malformed)
{
    struct pkt p;
    size_t ip;

    /* ESP and No Next Header end the walk. */
    pkt_init(&p);
    pkt_eth(&p, 0x86dd);
    pkt_ipv6(&p, "::1", "::2", 50);
    pkt_bytes(&p, NULL, 16);
    pkt_finish(&p);
    expect_fail(DLT_EN10MB, &p, DEC_C_IP_PROTO_OTHER);
    pkt_init(&p);
    pkt_eth(&p, 0x86dd);
    pkt_ipv6(&p, "::1", "::2", 60);
    add_ext(&p, 59, 1);
    pkt_finish(&p);
    expect_fail(DLT_EN10MB, &p, DEC_C_IP_PROTO_OTHER);

    /* Nine extension headers. */
    pkt_init(&p);
    pkt_eth(&p, 0x86dd);
    pkt_ipv6(&p, "::1", "::2", 60);
    for (int i = 0; i < 8; i++)
        add_ext(&p, 60, 1);
    add_ext(&p, 6, 1);
    pkt_tcp(&p, 1, 2, 3, 4, 0, NULL, 0);
    pkt_finish(&p);
    expect_fail(DLT_EN10MB, &p, DEC_C_IPV6_EXT_TOO_MANY);

    /* Eight are fine. */
    pkt_init(&p);
    pkt_eth(&p, 0x86dd);
    pkt_ipv6(&p, "::1", "::2", 60);
    for (int i = 0; i < 7; i++)
        add_ext(&p, 60, 1);
    add_ext(&p, 6, 1);
    pkt_tcp(&p, 1, 2, 3, 4, 0, NULL, 0);
    pkt_finish(&p);
    expect_ok(DLT_EN10MB, &p);

    /* An extension header longer than the payload length. */
    pkt_init(&p);
    pkt_eth(&p, 0x86dd);
    ip = pkt_ipv6(&p, "::1", "::2", 0);
    add_ext(&p, 6, 1);
    pkt_tcp(&p, 1, 2, 3, 4, 0, NULL, 0);
    pkt_finish(&p);
    p.b[ip + 40 + 1] = 5; /* 48 bytes */
    expect_fail(DLT_EN10MB, &p, DEC_C_IPV6_EXT_TRUNC);

    /* Version 4 in an IPv6 EtherType; a cut header. */
    pkt_init(&p);
    pkt_eth(&p, 0x86dd);
    add_tcp6(&p);
    pkt_finish(&p);
    p.b[14] = 0x40;
    expect_fail(DLT_EN10MB, &p, DEC_C_IPV6_VERSION);
    p.len = 14 + 39;
    p.b[14] = 0x60;
    expect_fail(DLT_EN10MB, &p, DEC_C_IPV6_TRUNC);
}

Test(decode, ipv6_payload_length_zero_is_as_captured)
{
    struct pkt p;
    struct result r;
    size_t ip;

    pkt_init(&p);
    pkt_eth(&p, 0x86dd);
    ip = pkt_ipv6(&p, "::1", "::2", 6);
    pkt_tcp(&p, 1, 2, 3, 4, 0, NULL, 0);
    pkt_bytes(&p, payload, PAYLOAD_LEN);
    pkt_finish(&p);
    p.b[ip + 4] = 0;
    p.b[ip + 5] = 0;
    r = expect_ok(DLT_EN10MB, &p);
    assert_payload(&p, &r);
}

/* ------------------------------------------------------------------- TCP */

static void build_tcp_opts(struct pkt *p, const uint8_t *opts, size_t optlen)
{
    pkt_init(p);
    pkt_eth(p, 0x0800);
    pkt_ipv4(p, "10.0.0.1", "10.0.0.2", 6);
    pkt_tcp(p, 40000, 443, 1, 0, DEC_TCP_SYN, opts, optlen);
    pkt_bytes(p, payload, PAYLOAD_LEN);
    pkt_finish(p);
}

Test(decode, tcp_options_edge_cases)
{
    struct pkt p;
    struct result r;

    /* EOL ends the list: garbage after it is not parsed. */
    static const uint8_t eol[8] = {1, 0, 0xff, 0x00, 0xff, 0xff, 0xff, 0xff};
    build_tcp_opts(&p, eol, sizeof eol);
    r = expect_ok(DLT_EN10MB, &p);
    cr_assert_eq(r.d.mss, 0);
    cr_assert_eq(r.d.wscale, 0xff);

    /* Window scale over 14 means 14 (RFC 7323 2.3); MSS of the wrong length is ignored. */
    static const uint8_t ws[8] = {3, 3, 20, 2, 3, 0x05, 1, 1};
    build_tcp_opts(&p, ws, sizeof ws);
    r = expect_ok(DLT_EN10MB, &p);
    cr_assert_eq(r.d.wscale, 14);
    cr_assert_eq(r.d.mss, 0);

    /* An unknown option with a valid length is skipped; MSS of length 2 is ignored. */
    static const uint8_t unknown[8] = {30, 6, 1, 2, 3, 4, 2, 2};
    build_tcp_opts(&p, unknown, sizeof unknown);
    r = expect_ok(DLT_EN10MB, &p);
    cr_assert_eq(r.d.mss, 0);
}

Test(decode, tcp_malformed)
{
    static const uint8_t len1[4] = {2, 1, 0, 0};  /* length below 2 */
    static const uint8_t len0[4] = {30, 0, 0, 0}; /* length 0 */
    static const uint8_t past[4] = {1, 8, 4, 0};  /* kind 8 claims 4 bytes, 2 remain */
    static const uint8_t last[4] = {1, 1, 1, 2};  /* a kind with no length byte */
    static const uint8_t nops[4] = {1, 1, 1, 1};
    struct pkt p;

    build_tcp_opts(&p, len1, sizeof len1);
    expect_fail(DLT_EN10MB, &p, DEC_C_TCP_OPT);
    build_tcp_opts(&p, len0, sizeof len0);
    expect_fail(DLT_EN10MB, &p, DEC_C_TCP_OPT);
    build_tcp_opts(&p, past, sizeof past);
    expect_fail(DLT_EN10MB, &p, DEC_C_TCP_OPT);
    build_tcp_opts(&p, last, sizeof last);
    expect_fail(DLT_EN10MB, &p, DEC_C_TCP_OPT);
    build_tcp_opts(&p, nops, sizeof nops);
    expect_ok(DLT_EN10MB, &p);

    /* Data offset below 5. */
    build_eth_tcp4(&p);
    p.b[14 + 20 + 12] = 0x40;
    expect_fail(DLT_EN10MB, &p, DEC_C_TCP_HLEN);

    /* Data offset 15 (60 bytes) but the IP packet holds only 20 + payload. */
    pkt_init(&p);
    pkt_eth(&p, 0x0800);
    pkt_ipv4(&p, "10.0.0.1", "10.0.0.2", 6);
    pkt_tcp(&p, 1, 2, 3, 4, 0, NULL, 0);
    pkt_bytes(&p, "abc", 3);
    pkt_finish(&p);
    p.b[14 + 20 + 12] = 0xf0;
    expect_fail(DLT_EN10MB, &p, DEC_C_TCP_HLEN);

    /* Data offset 15 within what the IP header claims, but cut by the snaplen. */
    pkt_init(&p);
    pkt_eth(&p, 0x0800);
    pkt_ipv4(&p, "10.0.0.1", "10.0.0.2", 6);
    pkt_tcp(&p, 1, 2, 3, 4, 0, NULL, 0);
    pkt_bytes(&p, NULL, 100);
    pkt_finish(&p);
    p.b[14 + 20 + 12] = 0xf0;
    p.len = 14 + 20 + 30;
    expect_fail(DLT_EN10MB, &p, DEC_C_TCP_TRUNC);

    /* Fewer than 20 bytes of TCP. */
    pkt_init(&p);
    pkt_eth(&p, 0x0800);
    pkt_ipv4(&p, "10.0.0.1", "10.0.0.2", 6);
    pkt_bytes(&p, NULL, 19);
    pkt_finish(&p);
    expect_fail(DLT_EN10MB, &p, DEC_C_TCP_TRUNC);
}

Test(decode, udp_malformed)
{
    struct pkt p;
    size_t u;

    pkt_init(&p);
    pkt_eth(&p, 0x0800);
    pkt_ipv4(&p, "10.0.0.1", "10.0.0.2", 17);
    u = pkt_udp(&p, 1, 2);
    pkt_bytes(&p, payload, PAYLOAD_LEN);
    pkt_finish(&p);
    expect_ok(DLT_EN10MB, &p);

    p.b[u + 4] = 0;
    p.b[u + 5] = 7; /* below the header */
    expect_fail(DLT_EN10MB, &p, DEC_C_UDP_LEN);
    p.b[u + 5] = (uint8_t)(8 + PAYLOAD_LEN + 1); /* beyond the IP packet */
    expect_fail(DLT_EN10MB, &p, DEC_C_UDP_LEN);
    p.b[u + 5] = 8 + 2; /* shorter than the IP packet: payload trimmed */
    {
        struct result r = expect_ok(DLT_EN10MB, &p);

        cr_assert_eq(r.d.payload_len, 2);
    }

    pkt_init(&p);
    pkt_eth(&p, 0x0800);
    pkt_ipv4(&p, "10.0.0.1", "10.0.0.2", 17);
    pkt_bytes(&p, NULL, 7);
    pkt_finish(&p);
    expect_fail(DLT_EN10MB, &p, DEC_C_UDP_TRUNC);
}

/* --------------------------------------------------------------- tunnels */

/* Outer Ethernet + IPv4 + UDP to port, then the tunnel header bytes. */
static void add_udp_tunnel(struct pkt *p, uint16_t port, const uint8_t *hdr, size_t n)
{
    pkt_eth(p, 0x0800);
    pkt_ipv4(p, "172.16.0.1", "172.16.0.2", 17);
    pkt_udp(p, 51234, port);
    pkt_bytes(p, hdr, n);
}

Test(decode, vxlan)
{
    static const uint8_t vx[8] = {0x08, 0, 0, 0, 0x00, 0x10, 0x01, 0};
    struct pkt p;
    struct result r;

    pkt_init(&p);
    add_udp_tunnel(&p, 4789, vx, sizeof vx);
    pkt_eth(&p, 0x8100); /* the inner frame's VLAN is the one kept */
    pkt_vlan(&p, 7, 0x0800);
    add_tcp4(&p, "10.244.1.5", "10.244.2.9");
    pkt_finish(&p);
    r = expect_ok(DLT_EN10MB, &p);
    assert_inner_tcp4(&p, &r, "10.244.1.5", "10.244.2.9");
    cr_assert_eq(r.d.tunnels, DEC_TUN_VXLAN);
    cr_assert_eq(r.d.tunnel_depth, 1);
    cr_assert_eq(r.d.vlan_count, 1);
    cr_assert_eq(r.d.vlan[0], 7);
}

Test(decode, vxlan_inner_replaces_outer_vlan)
{
    static const uint8_t vx[8] = {0x08, 0, 0, 0, 0, 0, 1, 0};
    struct pkt p;
    struct result r;

    pkt_init(&p);
    pkt_eth(&p, 0x8100);
    pkt_vlan(&p, 10, 0x0800);
    pkt_ipv4(&p, "172.16.0.1", "172.16.0.2", 17);
    pkt_udp(&p, 51234, 4789);
    pkt_bytes(&p, vx, sizeof vx);
    add_eth_tcp4(&p, "10.0.0.1", "10.0.0.2");
    pkt_finish(&p);
    r = expect_ok(DLT_EN10MB, &p);
    cr_assert_eq(r.d.vlan_count, 0);
    cr_assert_eq(r.d.vlan[0], 0);
}

Test(decode, vxlan_without_i_flag_is_plain_udp)
{
    static const uint8_t vx[8] = {0x00, 0, 0, 0, 0, 0, 1, 0};
    struct pkt p;
    struct result r;

    pkt_init(&p);
    add_udp_tunnel(&p, 4789, vx, sizeof vx);
    pkt_bytes(&p, payload, PAYLOAD_LEN);
    pkt_finish(&p);
    /* Not strict: a prefix with less than a VXLAN header counts vxlan_truncated. */
    r = expect_ok_prefixes(DLT_EN10MB, &p, false);
    cr_assert_eq(r.d.tunnels, 0);
    cr_assert_eq(r.d.dport, 4789);
    cr_assert_eq(r.off, 14 + 20 + 8);
    cr_assert_eq(r.d.payload_len, 8 + PAYLOAD_LEN);

    pkt_init(&p);
    add_udp_tunnel(&p, 4789, vx, 7);
    pkt_finish(&p);
    expect_fail(DLT_EN10MB, &p, DEC_C_VXLAN_TRUNC);
}

Test(decode, geneve_with_options_ethernet)
{
    /* Version 0, option length 3 (12 bytes), protocol 0x6558, VNI 0x123456;
     * one option: class 0x0102, type 0x80, length 2 words, 8 bytes of data. */
    static const uint8_t gen[20] = {0x03, 0x00, 0x65, 0x58, 0x12, 0x34, 0x56, 0x00, 0x01, 0x02,
                                    0x80, 0x02, 1,    2,    3,    4,    5,    6,    7,    8};
    struct pkt p;
    struct result r;

    pkt_init(&p);
    add_udp_tunnel(&p, 6081, gen, sizeof gen);
    add_eth_tcp4(&p, "10.3.0.1", "10.3.0.2");
    pkt_finish(&p);
    r = expect_ok(DLT_EN10MB, &p);
    assert_inner_tcp4(&p, &r, "10.3.0.1", "10.3.0.2");
    cr_assert_eq(r.d.tunnels, DEC_TUN_GENEVE);
    cr_assert_eq(r.d.tunnel_depth, 1);
}

Test(decode, geneve_ip_payloads)
{
    static const uint8_t gen4[8] = {0x00, 0x00, 0x08, 0x00, 0, 0, 1, 0};
    static const uint8_t gen6[8] = {0x00, 0x00, 0x86, 0xdd, 0, 0, 1, 0};
    struct pkt p;
    struct result r;

    pkt_init(&p);
    add_udp_tunnel(&p, 6081, gen4, sizeof gen4);
    add_tcp4(&p, "10.4.0.1", "10.4.0.2");
    pkt_finish(&p);
    r = expect_ok(DLT_EN10MB, &p);
    assert_inner_tcp4(&p, &r, "10.4.0.1", "10.4.0.2");

    pkt_init(&p);
    add_udp_tunnel(&p, 6081, gen6, sizeof gen6);
    add_tcp6(&p);
    pkt_finish(&p);
    r = expect_ok(DLT_EN10MB, &p);
    cr_assert_eq(r.d.family, 6);
    assert_payload(&p, &r);
}

Test(decode, geneve_malformed)
{
    static const uint8_t ver1[8] = {0x40, 0x00, 0x65, 0x58, 0, 0, 1, 0};
    static const uint8_t mpls[8] = {0x00, 0x00, 0x88, 0x47, 0, 0, 1, 0};
    static const uint8_t longopt[8] = {0x3f, 0x00, 0x65, 0x58, 0, 0, 1, 0};
    struct pkt p;

    pkt_init(&p);
    add_udp_tunnel(&p, 6081, ver1, sizeof ver1);
    add_eth_tcp4(&p, "10.0.0.1", "10.0.0.2");
    pkt_finish(&p);
    expect_fail(DLT_EN10MB, &p, DEC_C_GENEVE_PROTO);

    pkt_init(&p);
    add_udp_tunnel(&p, 6081, mpls, sizeof mpls);
    pkt_bytes(&p, NULL, 40);
    pkt_finish(&p);
    expect_fail(DLT_EN10MB, &p, DEC_C_GENEVE_PROTO);

    pkt_init(&p);
    add_udp_tunnel(&p, 6081, longopt, sizeof longopt); /* 252 bytes of options claimed */
    add_eth_tcp4(&p, "10.0.0.1", "10.0.0.2");
    pkt_finish(&p);
    expect_fail(DLT_EN10MB, &p, DEC_C_GENEVE_TRUNC);
}

Test(decode, ipip_all_families)
{
    struct pkt p;
    struct result r;

    /* IPv4 in IPv4. */
    pkt_init(&p);
    pkt_eth(&p, 0x0800);
    pkt_ipv4(&p, "192.0.2.1", "192.0.2.2", 4);
    add_tcp4(&p, "10.5.0.1", "10.5.0.2");
    pkt_finish(&p);
    r = expect_ok(DLT_EN10MB, &p);
    assert_inner_tcp4(&p, &r, "10.5.0.1", "10.5.0.2");
    cr_assert_eq(r.d.tunnels, DEC_TUN_IPIP);
    cr_assert_eq(r.d.tunnel_depth, 1);

    /* IPv6 in IPv4 (6in4, proto 41). */
    pkt_init(&p);
    pkt_eth(&p, 0x0800);
    pkt_ipv4(&p, "192.0.2.1", "192.0.2.2", 41);
    add_tcp6(&p);
    pkt_finish(&p);
    r = expect_ok(DLT_EN10MB, &p);
    cr_assert_eq(r.d.family, 6);
    cr_assert_eq(r.d.tunnels, DEC_TUN_IPIP);
    assert_payload(&p, &r);

    /* IPv4 in IPv6 (proto 4), IPv6 in IPv6 (proto 41). */
    pkt_init(&p);
    pkt_eth(&p, 0x86dd);
    pkt_ipv6(&p, "2001:db8::1", "2001:db8::2", 4);
    add_tcp4(&p, "10.5.0.1", "10.5.0.2");
    pkt_finish(&p);
    r = expect_ok(DLT_EN10MB, &p);
    assert_inner_tcp4(&p, &r, "10.5.0.1", "10.5.0.2");
    for (int i = 4; i < 16; i++)
        cr_assert_eq(r.d.src.b[i], 0, "IPv6 outer address bytes cleared");

    pkt_init(&p);
    pkt_eth(&p, 0x86dd);
    pkt_ipv6(&p, "2001:db8::1", "2001:db8::2", 41);
    add_tcp6(&p);
    pkt_finish(&p);
    r = expect_ok(DLT_EN10MB, &p);
    cr_assert_eq(r.d.family, 6);
    cr_assert_eq(r.d.tunnel_depth, 1);
}

Test(decode, inner_length_beyond_outer)
{
    struct pkt p;
    size_t inner;

    pkt_init(&p);
    pkt_eth(&p, 0x0800);
    pkt_ipv4(&p, "192.0.2.1", "192.0.2.2", 4);
    inner = p.len;
    add_tcp4(&p, "10.5.0.1", "10.5.0.2");
    pkt_finish(&p);
    p.b[inner + 3]++; /* inner total length one more than the outer leaves */
    expect_fail(DLT_EN10MB, &p, DEC_C_IPV4_LEN);

    pkt_init(&p);
    pkt_eth(&p, 0x0800);
    pkt_ipv4(&p, "192.0.2.1", "192.0.2.2", 41);
    inner = p.len;
    add_tcp6(&p);
    pkt_finish(&p);
    p.b[inner + 5]++;
    expect_fail(DLT_EN10MB, &p, DEC_C_IPV6_LEN);
}

/* Outer Ethernet + IPv4 + GRE header bytes. */
static void add_gre(struct pkt *p, const uint8_t *gre, size_t n)
{
    pkt_eth(p, 0x0800);
    pkt_ipv4(p, "198.18.0.1", "198.18.0.2", 47);
    pkt_bytes(p, gre, n);
}

Test(decode, gre_key_and_sequence)
{
    /* K and S set: key 0x0000beef, sequence 9. */
    static const uint8_t gre[12] = {0x30, 0x00, 0x08, 0x00, 0, 0, 0xbe, 0xef, 0, 0, 0, 9};
    /* C, K and S set: checksum + reserved, key, sequence. */
    static const uint8_t grec[16] = {0xb0, 0x00, 0x86, 0xdd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2};
    struct pkt p;
    struct result r;

    pkt_init(&p);
    add_gre(&p, gre, sizeof gre);
    add_tcp4(&p, "10.6.0.1", "10.6.0.2");
    pkt_finish(&p);
    r = expect_ok(DLT_EN10MB, &p);
    assert_inner_tcp4(&p, &r, "10.6.0.1", "10.6.0.2");
    cr_assert_eq(r.d.tunnels, DEC_TUN_GRE);
    cr_assert_eq(r.d.tunnel_depth, 1);

    pkt_init(&p);
    add_gre(&p, grec, sizeof grec);
    add_tcp6(&p);
    pkt_finish(&p);
    r = expect_ok(DLT_EN10MB, &p);
    cr_assert_eq(r.d.family, 6);
    assert_payload(&p, &r);
}

Test(decode, gre_transparent_ethernet)
{
    static const uint8_t gre[8] = {0x20, 0x00, 0x65, 0x58, 0, 0, 0, 5}; /* K, key 5 */
    struct pkt p;
    struct result r;

    pkt_init(&p);
    add_gre(&p, gre, sizeof gre);
    add_eth_tcp4(&p, "10.7.0.1", "10.7.0.2");
    pkt_finish(&p);
    r = expect_ok(DLT_EN10MB, &p);
    assert_inner_tcp4(&p, &r, "10.7.0.1", "10.7.0.2");
    cr_assert_eq(r.d.tunnels, DEC_TUN_GRE);
}

Test(decode, gre_malformed)
{
    static const uint8_t ver1[8] = {0x30, 0x01, 0x88, 0x0b, 0, 0, 0, 0}; /* PPTP */
    static const uint8_t route[4] = {0x40, 0x00, 0x08, 0x00};
    static const uint8_t mpls[4] = {0x00, 0x00, 0x88, 0x47};
    static const uint8_t cut[8] = {0xb0, 0x00, 0x08, 0x00, 0, 0, 0, 0}; /* C K S: needs 16 */
    struct pkt p;

    pkt_init(&p);
    add_gre(&p, ver1, sizeof ver1);
    pkt_bytes(&p, NULL, 20);
    pkt_finish(&p);
    expect_fail(DLT_EN10MB, &p, DEC_C_GRE_VERSION);

    pkt_init(&p);
    add_gre(&p, route, sizeof route);
    add_tcp4(&p, "10.0.0.1", "10.0.0.2");
    pkt_finish(&p);
    expect_fail(DLT_EN10MB, &p, DEC_C_GRE_VERSION);

    pkt_init(&p);
    add_gre(&p, mpls, sizeof mpls);
    pkt_bytes(&p, NULL, 20);
    pkt_finish(&p);
    expect_fail(DLT_EN10MB, &p, DEC_C_GRE_PROTO);

    pkt_init(&p);
    add_gre(&p, cut, sizeof cut);
    pkt_finish(&p);
    expect_fail(DLT_EN10MB, &p, DEC_C_GRE_TRUNC);
}

Test(decode, erspan_type1)
{
    static const uint8_t gre[4] = {0x00, 0x00, 0x88, 0xbe};
    struct pkt p;
    struct result r;

    pkt_init(&p);
    add_gre(&p, gre, sizeof gre);
    add_eth_tcp4(&p, "10.8.0.1", "10.8.0.2");
    pkt_finish(&p);
    r = expect_ok(DLT_EN10MB, &p);
    assert_inner_tcp4(&p, &r, "10.8.0.1", "10.8.0.2");
    cr_assert_eq(r.d.tunnels, DEC_TUN_GRE | DEC_TUN_ERSPAN2);
    cr_assert_eq(r.d.tunnel_depth, 1);
}

Test(decode, erspan_type2)
{
    /* GRE with S, sequence 77; ERSPAN II: version 1, VLAN 5, COS 0, En 3, T 0,
     * session 0x3ff; reserved, index 0x12345. */
    static const uint8_t hdr[16] = {0x10, 0x00, 0x88, 0xbe, 0,    0,    0,    77,
                                    0x10, 0x05, 0x1b, 0xff, 0x00, 0x01, 0x23, 0x45};
    struct pkt p;
    struct result r;

    pkt_init(&p);
    add_gre(&p, hdr, sizeof hdr);
    add_eth_tcp4(&p, "10.8.0.1", "10.8.0.2");
    pkt_finish(&p);
    r = expect_ok(DLT_EN10MB, &p);
    assert_inner_tcp4(&p, &r, "10.8.0.1", "10.8.0.2");
    cr_assert_eq(r.d.tunnels, DEC_TUN_GRE | DEC_TUN_ERSPAN2);
    cr_assert_eq(r.off, 14 + 20 + 16 + 14 + 20 + 20);

    /* The header cut after GRE. */
    pkt_init(&p);
    add_gre(&p, hdr, 12);
    pkt_finish(&p);
    expect_fail(DLT_EN10MB, &p, DEC_C_ERSPAN_TRUNC);
}

/* GRE with S + ERSPAN III header (12 bytes) with frame type ft and the O bit,
 * plus the 8-byte platform-specific subheader when o is set. */
static void add_erspan3(struct pkt *p, unsigned ft, bool o)
{
    static const uint8_t gre[8] = {0x10, 0x00, 0x22, 0xeb, 0, 0, 0, 1};
    /* Version 2, VLAN 9, COS 0, BSO 0, T 0, session 1; timestamp; SGT 0x0abc. */
    static const uint8_t word01[10] = {0x20, 0x09, 0x00, 0x01, 0x11, 0x22, 0x33, 0x44, 0x0a, 0xbc};
    /* Platform-specific subheader: platform ID 3, port ID, timestamp. */
    static const uint8_t plat[8] = {0x0c, 0x00, 0x00, 0x2a, 0x55, 0x66, 0x77, 0x88};

    add_gre(p, gre, sizeof gre);
    pkt_bytes(p, word01, sizeof word01);
    /* P 0, frame type, hardware ID 5, D 1, granularity 3, O. */
    pkt_u8(p, (uint8_t)(ft << 2 | 5 >> 4));
    pkt_u8(p, (uint8_t)((5 & 0x0f) << 4 | 1 << 3 | 3 << 1 | (o ? 1 : 0)));
    if (o)
        pkt_bytes(p, plat, sizeof plat);
}

Test(decode, erspan_type3)
{
    struct pkt p;
    struct result r;

    for (int o = 0; o < 2; o++) {
        pkt_init(&p);
        add_erspan3(&p, 0, o);
        add_eth_tcp4(&p, "10.8.0.1", "10.8.0.2");
        pkt_finish(&p);
        r = expect_ok(DLT_EN10MB, &p);
        assert_inner_tcp4(&p, &r, "10.8.0.1", "10.8.0.2");
        cr_assert_eq(r.d.tunnels, DEC_TUN_GRE | DEC_TUN_ERSPAN3);
        cr_assert_eq(r.off, 14 + 20 + 8 + 12 + (o ? 8 : 0) + 14 + 20 + 20);
    }

    /* Frame type 2: an IP packet, no Ethernet header. */
    pkt_init(&p);
    add_erspan3(&p, 2, true);
    add_tcp6(&p);
    pkt_finish(&p);
    r = expect_ok(DLT_EN10MB, &p);
    cr_assert_eq(r.d.family, 6);
    assert_payload(&p, &r);
}

Test(decode, erspan_type3_malformed)
{
    struct pkt p;

    /* O set but the subheader is missing. */
    pkt_init(&p);
    add_erspan3(&p, 0, false);
    p.b[p.len - 1] |= 1;
    pkt_bytes(&p, NULL, 4);
    pkt_finish(&p);
    expect_fail(DLT_EN10MB, &p, DEC_C_ERSPAN_TRUNC);

    /* Frame type 1 (not Ethernet or IP). */
    pkt_init(&p);
    add_erspan3(&p, 1, false);
    add_eth_tcp4(&p, "10.0.0.1", "10.0.0.2");
    pkt_finish(&p);
    expect_fail(DLT_EN10MB, &p, DEC_C_GRE_PROTO);
}

Test(decode, erspan_mirrored_frame_cut_by_switch)
{
    /* The mirrored frame's IP header claims more than ERSPAN carried: that is a
     * capture cut, decoded like a short snaplen, not a bad length. */
    static const uint8_t hdr[16] = {0x10, 0x00, 0x88, 0xbe, 0,    0,    0,    77,
                                    0x10, 0x05, 0x1c, 0x01, 0x00, 0x00, 0x00, 0x01};
    struct pkt p;
    const uint8_t *g;
    struct dec_stats st = {0};
    struct dec_packet d;
    size_t ip;

    pkt_init(&p);
    add_gre(&p, hdr, sizeof hdr);
    pkt_eth(&p, 0x0800);
    ip = pkt_ipv4(&p, "10.0.0.1", "10.0.0.2", 6);
    pkt_tcp(&p, 40000, 443, 1, 1, DEC_TCP_ACK, NULL, 0);
    pkt_bytes(&p, payload, PAYLOAD_LEN);
    pkt_finish(&p);
    p.b[ip + 2] = 0x05; /* inner total length 1400-ish */
    g = guard_copy(p.b, p.len);
    cr_assert(dec_packet(DLT_EN10MB, g, (uint32_t)p.len, &d, &st));
    cr_assert_eq(d.payload_len, PAYLOAD_LEN);
    cr_assert_gt(d.payload_wire, PAYLOAD_LEN);
}

/* ----------------------------------------------------------- nesting */

Test(decode, nested_tunnels)
{
    static const uint8_t gre[4] = {0x00, 0x00, 0x65, 0x58};
    static const uint8_t vx[8] = {0x08, 0, 0, 0, 0, 0, 2, 0};
    struct pkt p;
    struct result r;

    /* IPv6 -> GRE -> Ethernet -> IPv4 -> UDP -> VXLAN -> Ethernet -> IPv4 -> IPv4 -> TCP. */
    pkt_init(&p);
    pkt_eth(&p, 0x86dd);
    pkt_ipv6(&p, "2001:db8::1", "2001:db8::2", 47);
    pkt_bytes(&p, gre, sizeof gre);
    pkt_eth(&p, 0x0800);
    pkt_ipv4(&p, "172.16.0.1", "172.16.0.2", 17);
    pkt_udp(&p, 40001, 4789);
    pkt_bytes(&p, vx, sizeof vx);
    pkt_eth(&p, 0x0800);
    pkt_ipv4(&p, "192.168.0.1", "192.168.0.2", 4);
    add_tcp4(&p, "10.10.0.1", "10.10.0.2");
    pkt_finish(&p);
    r = expect_ok(DLT_EN10MB, &p);
    assert_inner_tcp4(&p, &r, "10.10.0.1", "10.10.0.2");
    cr_assert_eq(r.d.tunnels, DEC_TUN_GRE | DEC_TUN_VXLAN | DEC_TUN_IPIP);
    cr_assert_eq(r.d.tunnel_depth, 3);
}

static void build_ipip_chain(struct pkt *p, int tunnels)
{
    pkt_init(p);
    pkt_eth(p, 0x0800);
    for (int i = 0; i < tunnels; i++)
        pkt_ipv4(p, "192.0.2.1", "192.0.2.2", 4);
    add_tcp4(p, "10.11.0.1", "10.11.0.2");
    pkt_finish(p);
}

Test(decode, tunnel_depth_limit)
{
    struct pkt p;
    struct result r;

    build_ipip_chain(&p, DEC_MAX_TUNNEL_DEPTH);
    r = expect_ok(DLT_EN10MB, &p);
    cr_assert_eq(r.d.tunnel_depth, DEC_MAX_TUNNEL_DEPTH);
    assert_inner_tcp4(&p, &r, "10.11.0.1", "10.11.0.2");

    build_ipip_chain(&p, DEC_MAX_TUNNEL_DEPTH + 1);
    expect_fail(DLT_EN10MB, &p, DEC_C_TUNNEL_TOO_DEEP);
}

Test(decode, too_deep_mixed)
{
    static const uint8_t vx[8] = {0x08, 0, 0, 0, 0, 0, 2, 0};
    struct pkt p;

    /* Five VXLAN levels. */
    pkt_init(&p);
    for (int i = 0; i < DEC_MAX_TUNNEL_DEPTH + 1; i++) {
        pkt_eth(&p, 0x0800);
        pkt_ipv4(&p, "172.16.0.1", "172.16.0.2", 17);
        pkt_udp(&p, 40001, 4789);
        pkt_bytes(&p, vx, sizeof vx);
    }
    add_eth_tcp4(&p, "10.0.0.1", "10.0.0.2");
    pkt_finish(&p);
    expect_fail(DLT_EN10MB, &p, DEC_C_TUNNEL_TOO_DEEP);
}

/* --------------------------------------------------- robustness, API */

/* Random byte changes to a set of good packets: every result is in bounds and
 * counts exactly one counter when false. Fixed seed, so failures repeat. */
Test(decode, random_mutations_stay_in_bounds)
{
    static const uint8_t vx[8] = {0x08, 0, 0, 0, 0, 0, 2, 0};
    struct pkt base[3], p;
    uint32_t rng = 12345;

    build_eth_tcp4(&base[0]);
    pkt_init(&base[1]);
    add_udp_tunnel(&base[1], 4789, vx, sizeof vx);
    pkt_eth(&base[1], 0x86dd);
    pkt_ipv6(&base[1], "::1", "::2", 0);
    add_ext(&base[1], 6, 1);
    pkt_tcp(&base[1], 1, 2, 3, 4, DEC_TCP_SYN, syn_opts, sizeof syn_opts);
    pkt_finish(&base[1]);
    pkt_init(&base[2]);
    add_erspan3(&base[2], 0, true);
    add_eth_tcp4(&base[2], "10.0.0.1", "10.0.0.2");
    pkt_finish(&base[2]);

    for (int i = 0; i < 30000; i++) {
        p = base[i % 3];
        for (int k = 0; k < 3; k++) {
            rng = rng * 1103515245u + 12345u;
            p.b[(rng >> 8) % p.len] = (uint8_t)(rng >> 24);
        }
        rng = rng * 1103515245u + 12345u;
        size_t n = (rng >> 8) % (p.len + 1);
        const uint8_t *g = guard_copy(p.b, n);
        struct dec_stats st = {0};
        struct dec_packet d;
        bool ok = dec_packet(DLT_EN10MB, g, (uint32_t)n, &d, &st);

        cr_assert_eq(counters_sum(&st), ok ? 0 : 1);
        if (ok)
            cr_assert(d.payload >= g && d.payload + d.payload_len <= g + n);
    }
}

Test(decode, counter_names)
{
    for (int i = 0; i < DEC_C__COUNT; i++) {
        const char *name = dec_counter_name((enum dec_counter)i);

        cr_assert_not_null(name);
        cr_assert_gt(strlen(name), 0);
        for (int j = 0; j < i; j++)
            cr_assert_str_neq(name, dec_counter_name((enum dec_counter)j));
    }
    cr_assert_str_eq(dec_counter_name(DEC_C_TCP_OPT), "tcp_bad_option");
    cr_assert_str_eq(dec_counter_name(DEC_C__COUNT), "unknown");
    cr_assert(dec_counter_is_error(DEC_C_IPV4_HLEN));
    cr_assert_not(dec_counter_is_error(DEC_C_IPV4_FRAGMENT));
    cr_assert_not(dec_counter_is_error(DEC_C_NOT_IP));
    cr_assert_not(dec_counter_is_error(DEC_C__COUNT));
}

Test(decode, addr_str)
{
    struct dec_addr a = {{192, 0, 2, 1}};
    struct dec_addr b = {{0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
    char buf[46], small[4];

    cr_assert_str_eq(dec_addr_str(&a, 4, buf, sizeof buf), "192.0.2.1");
    cr_assert_str_eq(dec_addr_str(&b, 6, buf, sizeof buf), "2001:db8::1");
    cr_assert_str_eq(dec_addr_str(&b, 5, buf, sizeof buf), "");
    cr_assert_str_eq(dec_addr_str(&a, 4, small, sizeof small), "");
}

/* ------------------------------------------- real tunnel captures (pcaps/) */

struct capture_case {
    const char *file;
    unsigned tunnels;  /* expected dec_packet.tunnels of every TCP packet */
    unsigned vlans;    /* expected vlan_count */
    uint16_t vlan0;    /* expected first VLAN ID when vlans > 0 */
    const char *inner; /* inner client address */
};

static const struct capture_case capture_cases[] = {
    {"tunnel-vxlan.pcap", DEC_TUN_VXLAN, 0, 0, "10.98.0.1"},
    {"tunnel-geneve.pcap", DEC_TUN_GENEVE, 0, 0, "10.98.0.1"},
    {"tunnel-gre.pcap", DEC_TUN_GRE, 0, 0, "10.98.0.1"},
    {"tunnel-gretap.pcap", DEC_TUN_GRE, 0, 0, "10.98.0.1"},
    {"tunnel-erspan2.pcap", DEC_TUN_GRE | DEC_TUN_ERSPAN2, 0, 0, "10.98.0.1"},
    {"tunnel-erspan3.pcap", DEC_TUN_GRE | DEC_TUN_ERSPAN3, 0, 0, "10.98.0.1"},
    {"tunnel-ipip.pcap", DEC_TUN_IPIP, 0, 0, "10.98.0.1"},
    {"tunnel-sit.pcap", DEC_TUN_IPIP, 0, 0, "fd00:98::1"},
    {"tunnel-ip6tnl.pcap", DEC_TUN_IPIP, 0, 0, "10.98.0.1"},
    {"tunnel-ip6gre.pcap", DEC_TUN_GRE, 0, 0, "10.98.0.1"},
    {"tunnel-vlan.pcap", 0, 1, 100, "10.98.0.1"},
    {"tunnel-qinq.pcap", 0, 2, 200, "10.98.0.1"},
};

/* Every TCP packet of the capture decodes with the expected tunnels, VLANs and
 * addresses; everything else is valid non-TCP traffic (no error counter). With
 * snaplen, each frame is cut to that many bytes first. Returns the TCP count. */
static unsigned check_capture(const struct capture_case *c, uint32_t snaplen)
{
    char path[512], errbuf[PCAP_ERRBUF_SIZE], addr[64];
    struct pcap_pkthdr *h;
    const u_char *data;
    unsigned tcp = 0;
    pcap_t *pc;

    snprintf(path, sizeof path, "%s/pcaps/%s", VTLS_SOURCE_DIR, c->file);
    pc = pcap_open_offline(path, errbuf);
    if (pc == NULL)
        return 0;
    while (pcap_next_ex(pc, &h, &data) == 1) {
        uint32_t n = h->caplen < snaplen ? h->caplen : snaplen;
        const uint8_t *g = guard_copy(data, n);
        struct dec_stats st = {0};
        struct dec_packet d;

        if (!dec_packet(pcap_datalink(pc), g, n, &d, &st)) {
            for (int i = 0; i < DEC_C__COUNT; i++)
                cr_assert(st.c[i] == 0 || !dec_counter_is_error((enum dec_counter)i) ||
                              (snaplen < 65535 && strstr(dec_counter_name(i), "trunc")),
                          "%s: %s", c->file, dec_counter_name((enum dec_counter)i));
            continue;
        }
        if (d.ip_proto != 6)
            continue;
        tcp++;
        cr_assert_eq(d.tunnels, c->tunnels, "%s", c->file);
        cr_assert_eq(d.tunnel_depth, c->tunnels ? 1 : 0, "%s", c->file);
        cr_assert_eq(d.vlan_count, c->vlans, "%s", c->file);
        if (c->vlans > 0)
            cr_assert_eq(d.vlan[0], c->vlan0, "%s", c->file);
        dec_addr_str(d.sport > d.dport ? &d.src : &d.dst, d.family, addr, sizeof addr);
        cr_assert_str_eq(addr, c->inner, "%s", c->file);
        cr_assert_leq(d.payload_len, d.payload_wire);
    }
    pcap_close(pc);
    return tcp;
}

Test(decode, real_tunnel_captures)
{
    unsigned files = 0;

    for (size_t i = 0; i < sizeof capture_cases / sizeof capture_cases[0]; i++) {
        unsigned tcp = check_capture(&capture_cases[i], 65535);

        if (tcp == 0)
            continue; /* capture not present in this checkout */
        files++;
        cr_assert_gt(tcp, 10, "%s", capture_cases[i].file);
        check_capture(&capture_cases[i], 96); /* a short snaplen: bounds and counters only */
    }
    if (files == 0)
        cr_log_warn("no tunnel captures found under %s/pcaps", VTLS_SOURCE_DIR);
}

/* Every frame of every capture in pcaps/ decodes the same way through
 * dec_packet() and layer by layer, and the one-pass path alone gives the same
 * packet for the frames it takes: most of them (the captures are mostly
 * untagged Ethernet, IPv4, TCP). */
Test(decode, fast_path_equals_layers_on_every_capture)
{
    DIR *dir = opendir(VTLS_SOURCE_DIR "/pcaps");
    struct dirent *e;
    unsigned long frames = 0, fast_frames = 0, files = 0;

    cr_assert_not_null(dir);
    while ((e = readdir(dir)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".pcap") != 0)
            continue;
        char path[512], err[PCAP_ERRBUF_SIZE];
        snprintf(path, sizeof(path), "%s/pcaps/%s", VTLS_SOURCE_DIR, e->d_name);
        pcap_t *p = pcap_open_offline(path, err);
        cr_assert_not_null(p, "%s: %s", path, err);
        struct pcap_pkthdr *h;
        const u_char *data;
        while (pcap_next_ex(p, &h, &data) == 1) {
            struct dec_stats st = {0};
            struct dec_packet d;
            bool ok = dec_packet(pcap_datalink(p), data, h->caplen, &d, &st);
            check_same_as_layers(pcap_datalink(p), data, h->caplen, ok, &d, &st);
            struct dec_packet fast;
            if (dec_packet_fast(pcap_datalink(p), data, h->caplen, &fast)) {
                cr_assert(ok && memcmp(&fast, &d, sizeof(d)) == 0, "%s: frame %lu", path, frames);
                fast_frames++;
            }
            frames++;
        }
        pcap_close(p);
        files++;
    }
    closedir(dir);
    cr_assert_gt(files, 50);
    cr_assert_gt(frames, 2500);
    cr_assert_gt(fast_frames, frames / 2, "%lu of %lu frames took the one-pass path", fast_frames,
                 frames);
    cr_log_info("%lu frames of %lu captures, %lu in one pass", frames, files, fast_frames);
}

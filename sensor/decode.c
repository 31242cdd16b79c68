/* Packet decoding: see decode.h for the contract.
 *
 * The decoder is a small state machine. struct dec_state holds a cursor p,
 * the end of the captured bytes of the current packet, and how many bytes the
 * enclosing headers claim from p on (wire). Each layer function checks room
 * as `need > (size_t)(end - p)`, reads its header, moves the cursor and names
 * the next layer, or records one counter and answers DEC_N_FAIL. Tunnels
 * lead back to an Ethernet or IP layer and each one raises tunnel_depth, so
 * the loop in dec_packet() is bounded by DEC_MAX_TUNNEL_DEPTH.
 *
 * Invariant: end - p <= wire. Once an IP or UDP header has given its length,
 * end is cut to that length (this drops Ethernet padding) and wire is set to
 * it; before any length is known wire is DEC_WIRE_UNKNOWN.
 */
#include "sensor/decode.h"

#include <arpa/inet.h>
#include <pcap/dlt.h>
#include <stddef.h>
#include <string.h>

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
/* LINKTYPE_RAW as stored in capture files; pcap_datalink() normally maps it to DLT_RAW. */
#define DEC_LINKTYPE_RAW 101

/* IPv6 extension headers walked before giving up (ipv6_ext_too_many). */
#define DEC_MAX_IPV6_EXT 8
#define DEC_WIRE_UNKNOWN UINT32_MAX

/* EtherTypes (IEEE registry) and the tunnel ports (IANA). */
enum {
    DEC_ETH_IPV4 = 0x0800,
    DEC_ETH_IPV6 = 0x86dd,
    DEC_ETH_VLAN = 0x8100,
    DEC_ETH_QINQ = 0x88a8,
    DEC_ETH_QINQ_OLD = 0x9100,
    DEC_ETH_TEB = 0x6558, /* transparent Ethernet bridging */
    DEC_ETH_ERSPAN2 = 0x88be,
    DEC_ETH_ERSPAN3 = 0x22eb,
    DEC_PORT_VXLAN = 4789,
    DEC_PORT_GENEVE = 6081,
};

/* IP protocol numbers (IANA). */
enum {
    DEC_IP_HOPOPTS = 0,
    DEC_IP_IPIP = 4,
    DEC_IP_TCP = 6,
    DEC_IP_UDP = 17,
    DEC_IP_IPV6 = 41,
    DEC_IP_ROUTING = 43,
    DEC_IP_FRAGMENT = 44,
    DEC_IP_GRE = 47,
    DEC_IP_AH = 51,
    DEC_IP_DSTOPTS = 60,
    DEC_IP_MOBILITY = 135,
    DEC_IP_HIP = 139,
    DEC_IP_SHIM6 = 140,
};

/* The layer to decode next. */
enum dec_next {
    DEC_N_ETH,
    DEC_N_SLL,
    DEC_N_SLL2,
    DEC_N_NULL,
    DEC_N_IP_ANY, /* IPv4 or IPv6, from the version nibble */
    DEC_N_IPV4,
    DEC_N_IPV6,
    DEC_N_TCP,
    DEC_N_UDP,
    DEC_N_GRE,
    DEC_N_VXLAN,
    DEC_N_GENEVE,
    DEC_N_DONE, /* *pkt holds a TCP or UDP packet */
    DEC_N_FAIL, /* err names the counter */
};

struct dec_state {
    const uint8_t *p;   /* cursor */
    const uint8_t *end; /* end of the captured bytes of the current packet */
    uint32_t wire;      /* bytes from p to the end of the packet as headers claim */
    struct dec_packet *pkt;
    enum dec_counter err;
};

static const char *const dec_names[DEC_C__COUNT] = {
#define DEC_NAME(sym, name, err) [DEC_C_##sym] = name,
    DEC_COUNTERS(DEC_NAME)
#undef DEC_NAME
};

static const bool dec_errors[DEC_C__COUNT] = {
#define DEC_ERR(sym, name, err) [DEC_C_##sym] = err,
    DEC_COUNTERS(DEC_ERR)
#undef DEC_ERR
};

static inline uint16_t dec_be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t dec_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline bool dec_room(const struct dec_state *s, size_t need)
{
    return need <= (size_t)(s->end - s->p);
}

/* Move past n bytes; callers have checked dec_room(s, n), so n <= wire too. */
static inline void dec_advance(struct dec_state *s, size_t n)
{
    s->p += n;
    s->wire -= (uint32_t)n;
}

/* The current packet is len bytes long from p (as a header says; len <= wire). */
static inline void dec_limit(struct dec_state *s, uint32_t len)
{
    s->wire = len;
    if (len < (size_t)(s->end - s->p))
        s->end = s->p + len;
}

static enum dec_next dec_fail(struct dec_state *s, enum dec_counter c)
{
    s->err = c;
    return DEC_N_FAIL;
}

/* Enter one more tunnel of kind (enum dec_tunnel bits) whose inner packet is inner. */
static enum dec_next dec_tunnel(struct dec_state *s, unsigned kind, enum dec_next inner)
{
    struct dec_packet *pkt = s->pkt;

    if (pkt->tunnel_depth >= DEC_MAX_TUNNEL_DEPTH)
        return dec_fail(s, DEC_C_TUNNEL_TOO_DEEP);
    pkt->tunnel_depth++;
    pkt->tunnels |= (uint8_t)kind;
    return inner;
}

/* The layer an EtherType-like protocol field (GRE, Geneve) leads to, or DEC_N_FAIL. */
static enum dec_next dec_inner_proto(uint16_t proto)
{
    switch (proto) {
    case DEC_ETH_IPV4:
        return DEC_N_IPV4;
    case DEC_ETH_IPV6:
        return DEC_N_IPV6;
    case DEC_ETH_TEB:
        return DEC_N_ETH;
    default:
        return DEC_N_FAIL;
    }
}

static bool dec_is_vlan_tpid(uint16_t type)
{
    return type == DEC_ETH_VLAN || type == DEC_ETH_QINQ || type == DEC_ETH_QINQ_OLD;
}

/* EtherType after a link header, through any 802.1Q / 802.1ad tags
 * (IEEE 802.1Q 9.5: 2-byte TCI with the VLAN ID in its low 12 bits, then the next type). */
static enum dec_next dec_ethertype(struct dec_state *s, uint16_t type)
{
    struct dec_packet *pkt = s->pkt;

    while (dec_is_vlan_tpid(type)) {
        if (pkt->vlan_count == DEC_MAX_VLAN)
            return dec_fail(s, DEC_C_VLAN_TOO_DEEP);
        if (!dec_room(s, 4))
            return dec_fail(s, DEC_C_VLAN_TRUNC);
        pkt->vlan[pkt->vlan_count++] = dec_be16(s->p) & 0x0fff;
        type = dec_be16(s->p + 2);
        dec_advance(s, 4);
    }
    if (type == DEC_ETH_IPV4)
        return DEC_N_IPV4;
    if (type == DEC_ETH_IPV6)
        return DEC_N_IPV6;
    return dec_fail(s, DEC_C_NOT_IP);
}

/* Ethernet II header: destination (6), source (6), EtherType (2). The VLAN tags
 * kept are those of the innermost Ethernet header, so each one starts afresh. */
static enum dec_next dec_eth(struct dec_state *s)
{
    uint16_t type;

    if (!dec_room(s, 14))
        return dec_fail(s, DEC_C_ETH_TRUNC);
    type = dec_be16(s->p + 12);
    dec_advance(s, 14);
    s->pkt->vlan_count = 0;
    s->pkt->vlan[0] = 0;
    s->pkt->vlan[1] = 0;
    return dec_ethertype(s, type);
}

/* Linux cooked v1 (libpcap LINKTYPE_LINUX_SLL, 16 bytes): packet type (2),
 * ARPHRD type (2), address length (2), address (8), protocol (2). libpcap
 * re-inserts a stripped VLAN tag after it, with protocol 0x8100. */
static enum dec_next dec_sll(struct dec_state *s)
{
    uint16_t type;

    if (!dec_room(s, 16))
        return dec_fail(s, DEC_C_SLL_TRUNC);
    type = dec_be16(s->p + 14);
    dec_advance(s, 16);
    return dec_ethertype(s, type);
}

/* Linux cooked v2 (LINKTYPE_LINUX_SLL2, 20 bytes): protocol (2), reserved (2),
 * interface index (4), ARPHRD type (2), packet type (1), address length (1),
 * address (8). */
static enum dec_next dec_sll2(struct dec_state *s)
{
    uint16_t type;

    if (!dec_room(s, 20))
        return dec_fail(s, DEC_C_SLL2_TRUNC);
    type = dec_be16(s->p);
    dec_advance(s, 20);
    return dec_ethertype(s, type);
}

/* IP version of a BSD address family: AF_INET 2; AF_INET6 10 (Linux), 24 (NetBSD,
 * OpenBSD), 28 (FreeBSD), 30 (macOS). 0 for anything else. */
static int dec_af_version(uint32_t af)
{
    switch (af) {
    case 2:
        return 4;
    case 10:
    case 24:
    case 28:
    case 30:
        return 6;
    default:
        return 0;
    }
}

/* BSD loopback (NULL: 4-byte family in the capturing host's order; LOOP: network
 * order). A file may come from a host of the other byte order, so both orders
 * are tried for both link types. */
static enum dec_next dec_null(struct dec_state *s)
{
    uint32_t af;
    int version;

    if (!dec_room(s, 4))
        return dec_fail(s, DEC_C_NULL_TRUNC);
    af = dec_be32(s->p);
    version = dec_af_version(af);
    if (version == 0)
        version = dec_af_version(__builtin_bswap32(af));
    dec_advance(s, 4);
    if (version == 4)
        return DEC_N_IPV4;
    if (version == 6)
        return DEC_N_IPV6;
    return dec_fail(s, DEC_C_NULL_FAMILY);
}

/* Raw IP: the version nibble says which. An empty frame counts as ipv4_truncated. */
static enum dec_next dec_ip_any(struct dec_state *s)
{
    if (!dec_room(s, 1))
        return dec_fail(s, DEC_C_IPV4_TRUNC);
    if (s->p[0] >> 4 == 4)
        return DEC_N_IPV4;
    if (s->p[0] >> 4 == 6)
        return DEC_N_IPV6;
    return dec_fail(s, DEC_C_NOT_IP);
}

/* The layer after an IP header (or IPv6 extension chain) with protocol proto. */
static enum dec_next dec_ip_proto(struct dec_state *s, uint8_t proto)
{
    s->pkt->ip_proto = proto;
    switch (proto) {
    case DEC_IP_TCP:
        return DEC_N_TCP;
    case DEC_IP_UDP:
        return DEC_N_UDP;
    case DEC_IP_IPIP:
        return dec_tunnel(s, DEC_TUN_IPIP, DEC_N_IPV4);
    case DEC_IP_IPV6:
        return dec_tunnel(s, DEC_TUN_IPIP, DEC_N_IPV6);
    case DEC_IP_GRE:
        return DEC_N_GRE;
    default:
        return dec_fail(s, DEC_C_IP_PROTO_OTHER);
    }
}

static void dec_set_addr(struct dec_addr *a, const uint8_t *src, size_t n)
{
    memset(a->b, 0, sizeof a->b);
    memcpy(a->b, src, n);
}

/* IPv4 header (RFC 791 3.1): version/IHL, TOS, total length, identification,
 * flags/fragment offset, TTL, protocol, checksum (not verified), addresses, options.
 * Limitation: IPv4 AH (proto 51) is not walked; such packets count as ip_proto_other. */
static enum dec_next dec_ipv4(struct dec_state *s)
{
    const uint8_t *ip = s->p;
    size_t hlen;
    uint32_t total;

    if (!dec_room(s, 20))
        return dec_fail(s, DEC_C_IPV4_TRUNC);
    if (ip[0] >> 4 != 4)
        return dec_fail(s, DEC_C_IPV4_VERSION);
    hlen = (size_t)(ip[0] & 0x0f) * 4;
    if (hlen < 20)
        return dec_fail(s, DEC_C_IPV4_HLEN);
    if (!dec_room(s, hlen))
        return dec_fail(s, DEC_C_IPV4_TRUNC);

    /* Total length; Linux BIG TCP writes 0 in GSO packets over 64 KiB, so 0
     * with more than 64 KiB captured means "as captured". */
    total = dec_be16(ip + 2);
    if (total == 0 && (size_t)(s->end - s->p) > 0xffff)
        total = (uint32_t)(s->end - s->p);
    if (total < hlen || total > s->wire)
        return dec_fail(s, DEC_C_IPV4_LEN);

    /* Limitation: fragments (MF set or offset != 0) are counted and skipped, not reassembled. */
    if (dec_be16(ip + 6) & 0x3fff)
        return dec_fail(s, DEC_C_IPV4_FRAGMENT);

    s->pkt->family = 4;
    dec_set_addr(&s->pkt->src, ip + 12, 4);
    dec_set_addr(&s->pkt->dst, ip + 16, 4);
    dec_limit(s, total);
    s->pkt->l3 = ip;
    s->pkt->l3_len = (uint32_t)(s->end - ip);
    dec_advance(s, hlen);
    return dec_ip_proto(s, ip[9]);
}

/* Whether nh is an IPv6 extension header walked to reach the upper layer
 * (RFC 8200 4, IANA "IPv6 Extension Header Types"). ESP (50) and No Next Header
 * (59) are not: their contents cannot be read. */
static bool dec_ipv6_is_ext(uint8_t nh)
{
    switch (nh) {
    case DEC_IP_HOPOPTS:
    case DEC_IP_ROUTING:
    case DEC_IP_FRAGMENT:
    case DEC_IP_AH:
    case DEC_IP_DSTOPTS:
    case DEC_IP_MOBILITY:
    case DEC_IP_HIP:
    case DEC_IP_SHIM6:
        return true;
    default:
        return false;
    }
}

/* Length of extension header nh starting at h (8 bytes available). The fragment
 * header is 8 bytes; AH (RFC 4302 2.2) counts 4-byte words minus 2; the others
 * (RFC 8200 4.3-4.6, RFC 6275, 7401, 5533) count 8-byte units after the first. */
static size_t dec_ipv6_ext_len(uint8_t nh, const uint8_t *h)
{
    if (nh == DEC_IP_FRAGMENT)
        return 8;
    if (nh == DEC_IP_AH)
        return ((size_t)h[1] + 2) * 4;
    return ((size_t)h[1] + 1) * 8;
}

/* Walk the extension header chain after the fixed IPv6 header; every extension
 * header is at least 8 bytes with next header in its first byte. */
static enum dec_next dec_ipv6_ext(struct dec_state *s, uint8_t nh)
{
    for (unsigned n = 0; dec_ipv6_is_ext(nh); n++) {
        const uint8_t *h = s->p;
        size_t len;

        if (n == DEC_MAX_IPV6_EXT)
            return dec_fail(s, DEC_C_IPV6_EXT_TOO_MANY);
        if (!dec_room(s, 8))
            return dec_fail(s, DEC_C_IPV6_EXT_TRUNC);
        len = dec_ipv6_ext_len(nh, h);
        if (!dec_room(s, len))
            return dec_fail(s, DEC_C_IPV6_EXT_TRUNC);

        /* Fragment header (RFC 8200 4.5): offset (13 bits), reserved (2), M flag.
         * An atomic fragment (offset 0, M 0) is a whole packet (RFC 6946).
         * Limitation: real fragments are counted and skipped, not reassembled. */
        if (nh == DEC_IP_FRAGMENT && (dec_be16(h + 2) & 0xfff9) != 0)
            return dec_fail(s, DEC_C_IPV6_FRAGMENT);

        nh = h[0];
        dec_advance(s, len);
    }
    return dec_ip_proto(s, nh);
}

/* IPv6 header (RFC 8200 3): version/class/flow label (4), payload length (2),
 * next header (1), hop limit (1), source (16), destination (16). */
static enum dec_next dec_ipv6(struct dec_state *s)
{
    const uint8_t *ip = s->p;
    uint32_t plen;

    if (!dec_room(s, 40))
        return dec_fail(s, DEC_C_IPV6_TRUNC);
    if (ip[0] >> 4 != 6)
        return dec_fail(s, DEC_C_IPV6_VERSION);
    plen = dec_be16(ip + 4);
    if (plen > s->wire - 40)
        return dec_fail(s, DEC_C_IPV6_LEN);

    s->pkt->family = 6;
    dec_set_addr(&s->pkt->src, ip + 8, 16);
    dec_set_addr(&s->pkt->dst, ip + 24, 16);
    dec_advance(s, 40);

    /* Limitation: payload length 0 (RFC 2675 jumbograms, Linux BIG TCP) is taken
     * as "as captured"; the Jumbo Payload option is not read. */
    if (plen == 0)
        plen = (uint32_t)(s->end - s->p);
    dec_limit(s, plen);
    s->pkt->l3 = ip;
    s->pkt->l3_len = (uint32_t)(s->end - ip);
    return dec_ipv6_ext(s, ip[6]);
}

/* Payload of the current L4 packet: what is captured, and what the headers claim. */
static void dec_set_payload(struct dec_state *s)
{
    s->pkt->payload = s->p;
    s->pkt->payload_len = (uint32_t)(s->end - s->p);
    s->pkt->payload_wire = s->wire;
}

/* TCP options (RFC 9293 3.2): End of Option List, No-Operation, else kind,
 * length (>= 2, within the header), data. MSS (kind 2, length 4) and window
 * scale (kind 3, length 3; RFC 7323 2.3: values over 14 mean 14) are kept;
 * other lengths for those kinds are ignored as a TCP receiver would. */
static bool dec_tcp_options(const uint8_t *p, const uint8_t *end, struct dec_packet *pkt)
{
    while (p < end) {
        size_t len;

        if (p[0] == 0)
            break;
        if (p[0] == 1) {
            p++;
            continue;
        }
        if (2 > (size_t)(end - p))
            return false;
        len = p[1];
        if (len < 2 || len > (size_t)(end - p))
            return false;
        if (p[0] == 2 && len == 4)
            pkt->mss = dec_be16(p + 2);
        else if (p[0] == 3 && len == 3)
            pkt->wscale = p[2] > 14 ? 14 : p[2];
        p += len;
    }
    return true;
}

/* TCP header (RFC 9293 3.1): ports, sequence, acknowledgment, data offset,
 * flags, window, checksum (not verified), urgent pointer, options. The whole
 * header must be captured and must fit in what the IP header claims. */
static enum dec_next dec_tcp(struct dec_state *s)
{
    const uint8_t *th = s->p;
    struct dec_packet *pkt = s->pkt;
    size_t hlen;

    if (!dec_room(s, 20))
        return dec_fail(s, DEC_C_TCP_TRUNC);
    hlen = (size_t)(th[12] >> 4) * 4;
    if (hlen < 20 || hlen > s->wire)
        return dec_fail(s, DEC_C_TCP_HLEN);
    if (!dec_room(s, hlen))
        return dec_fail(s, DEC_C_TCP_TRUNC);
    pkt->wscale = 0xff;
    pkt->mss = 0;
    if (!dec_tcp_options(th + 20, th + hlen, pkt))
        return dec_fail(s, DEC_C_TCP_OPT);

    pkt->sport = dec_be16(th);
    pkt->dport = dec_be16(th + 2);
    pkt->seq = dec_be32(th + 4);
    pkt->ack = dec_be32(th + 8);
    pkt->tcp_flags = th[13];
    pkt->window = dec_be16(th + 14);
    dec_advance(s, hlen);
    dec_set_payload(s);
    return DEC_N_DONE;
}

/* UDP header (RFC 768): ports, length (header included, >= 8), checksum (not
 * verified). UDP to the VXLAN or Geneve port is decapsulated.
 * Limitation: length 0 (RFC 2675 jumbograms) counts as udp_bad_len. */
static enum dec_next dec_udp(struct dec_state *s)
{
    const uint8_t *uh = s->p;
    struct dec_packet *pkt = s->pkt;
    uint32_t len;

    if (!dec_room(s, 8))
        return dec_fail(s, DEC_C_UDP_TRUNC);
    len = dec_be16(uh + 4);
    if (len < 8 || len > s->wire)
        return dec_fail(s, DEC_C_UDP_LEN);

    pkt->sport = dec_be16(uh);
    pkt->dport = dec_be16(uh + 2);
    dec_limit(s, len);
    dec_advance(s, 8);
    dec_set_payload(s);
    if (pkt->dport == DEC_PORT_VXLAN)
        return DEC_N_VXLAN;
    if (pkt->dport == DEC_PORT_GENEVE)
        return DEC_N_GENEVE;
    return DEC_N_DONE;
}

/* VXLAN header (RFC 7348 5): flags (I = 0x08, VNI valid), reserved (3), VNI (3),
 * reserved (1), then an Ethernet frame. Without the I flag the datagram is not
 * VXLAN and is returned as the plain UDP packet it is. */
static enum dec_next dec_vxlan(struct dec_state *s)
{
    if (!dec_room(s, 8))
        return dec_fail(s, DEC_C_VXLAN_TRUNC);
    if (!(s->p[0] & 0x08))
        return DEC_N_DONE;
    dec_advance(s, 8);
    return dec_tunnel(s, DEC_TUN_VXLAN, DEC_N_ETH);
}

/* Geneve header (RFC 8926 3.4): version (2 bits, must be 0), option length (6 bits,
 * 4-byte units), O, C, reserved, protocol type (2), VNI (3), reserved (1), options. */
static enum dec_next dec_geneve(struct dec_state *s)
{
    const uint8_t *g = s->p;
    size_t hlen;
    enum dec_next inner;

    if (!dec_room(s, 8))
        return dec_fail(s, DEC_C_GENEVE_TRUNC);
    if (g[0] >> 6 != 0)
        return dec_fail(s, DEC_C_GENEVE_PROTO);
    hlen = 8 + (size_t)(g[0] & 0x3f) * 4;
    if (!dec_room(s, hlen))
        return dec_fail(s, DEC_C_GENEVE_TRUNC);
    inner = dec_inner_proto(dec_be16(g + 2));
    if (inner == DEC_N_FAIL)
        return dec_fail(s, DEC_C_GENEVE_PROTO);
    dec_advance(s, hlen);
    return dec_tunnel(s, DEC_TUN_GENEVE, inner);
}

/* A mirrored frame (ERSPAN) was cut or not by the switch, independently of the
 * outer lengths, so its own headers start with an unknown wire length. */
static enum dec_next dec_erspan_inner(struct dec_state *s, unsigned kind, enum dec_next inner)
{
    s->wire = DEC_WIRE_UNKNOWN;
    return dec_tunnel(s, DEC_TUN_GRE | kind, inner);
}

/* ERSPAN type II header (draft-foschiano-erspan-03 4.2, 8 bytes): version (4),
 * VLAN (12), COS (3), En (2), T (1), session ID (10), reserved (12), index (20);
 * then the mirrored Ethernet frame. */
static enum dec_next dec_erspan2(struct dec_state *s)
{
    if (!dec_room(s, 8))
        return dec_fail(s, DEC_C_ERSPAN_TRUNC);
    dec_advance(s, 8);
    return dec_erspan_inner(s, DEC_TUN_ERSPAN2, DEC_N_ETH);
}

/* ERSPAN type III header (draft-foschiano-erspan-03 4.3, 12 bytes): version,
 * VLAN, COS, BSO, T, session ID (4); timestamp (4); SGT (16 bits), P (1), frame
 * type (5: 0 Ethernet, 2 IP), hardware ID (6), D (1), granularity (2), O (1).
 * With O set an 8-byte platform-specific subheader follows. */
static enum dec_next dec_erspan3(struct dec_state *s)
{
    const uint8_t *e = s->p;
    size_t hlen;
    unsigned frame_type;

    if (!dec_room(s, 12))
        return dec_fail(s, DEC_C_ERSPAN_TRUNC);
    hlen = (e[11] & 0x01) ? 20 : 12;
    if (!dec_room(s, hlen))
        return dec_fail(s, DEC_C_ERSPAN_TRUNC);
    frame_type = (e[10] >> 2) & 0x1f;
    if (frame_type != 0 && frame_type != 2)
        return dec_fail(s, DEC_C_GRE_PROTO);
    dec_advance(s, hlen);
    return dec_erspan_inner(s, DEC_TUN_ERSPAN3, frame_type == 0 ? DEC_N_ETH : DEC_N_IP_ANY);
}

/* GRE header (RFC 2784 2, RFC 2890 2): C, R, K, S, s, recursion (3), flags (5),
 * version (3), protocol type (2); then checksum + reserved (C), key (K) and
 * sequence number (S), 4 bytes each. Only version 0 is GRE (1 is PPTP); the
 * routing bit of RFC 1701 is refused as receivers of RFC 2784 do. Both count as
 * gre_bad_version. ERSPAN uses 0x88be (type II with S, type I without S: no
 * ERSPAN header) and 0x22eb (type III). */
static enum dec_next dec_gre(struct dec_state *s)
{
    const uint8_t *g = s->p;
    size_t hlen;
    uint16_t proto;
    enum dec_next inner;

    if (!dec_room(s, 4))
        return dec_fail(s, DEC_C_GRE_TRUNC);
    if ((g[1] & 0x07) != 0 || (g[0] & 0x40) != 0)
        return dec_fail(s, DEC_C_GRE_VERSION);
    hlen = 4 + 4 * (size_t)(((g[0] >> 7) & 1) + ((g[0] >> 5) & 1) + ((g[0] >> 4) & 1));
    if (!dec_room(s, hlen))
        return dec_fail(s, DEC_C_GRE_TRUNC);
    proto = dec_be16(g + 2);
    dec_advance(s, hlen);

    if (proto == DEC_ETH_ERSPAN2 && (g[0] & 0x10))
        return dec_erspan2(s);
    if (proto == DEC_ETH_ERSPAN2)
        return dec_erspan_inner(s, DEC_TUN_ERSPAN2, DEC_N_ETH);
    if (proto == DEC_ETH_ERSPAN3)
        return dec_erspan3(s);
    inner = dec_inner_proto(proto);
    if (inner == DEC_N_FAIL)
        return dec_fail(s, DEC_C_GRE_PROTO);
    return dec_tunnel(s, DEC_TUN_GRE, inner);
}

/* The first layer of link type dlt. */
static enum dec_next dec_link(struct dec_state *s, int dlt)
{
    switch (dlt) {
    case DLT_EN10MB:
        return DEC_N_ETH;
    case DLT_LINUX_SLL:
        return DEC_N_SLL;
    case DLT_LINUX_SLL2:
        return DEC_N_SLL2;
    case DLT_NULL:
    case DLT_LOOP:
        return DEC_N_NULL;
    case DLT_RAW:
    case DEC_LINKTYPE_RAW:
        return DEC_N_IP_ANY;
    case DLT_IPV4:
        return DEC_N_IPV4;
    case DLT_IPV6:
        return DEC_N_IPV6;
    default:
        return dec_fail(s, DEC_C_LINK_UNSUPPORTED);
    }
}

static enum dec_next dec_layer(struct dec_state *s, enum dec_next n)
{
    switch (n) {
    case DEC_N_ETH:
        return dec_eth(s);
    case DEC_N_SLL:
        return dec_sll(s);
    case DEC_N_SLL2:
        return dec_sll2(s);
    case DEC_N_NULL:
        return dec_null(s);
    case DEC_N_IP_ANY:
        return dec_ip_any(s);
    case DEC_N_IPV4:
        return dec_ipv4(s);
    case DEC_N_IPV6:
        return dec_ipv6(s);
    case DEC_N_TCP:
        return dec_tcp(s);
    case DEC_N_UDP:
        return dec_udp(s);
    case DEC_N_GRE:
        return dec_gre(s);
    case DEC_N_VXLAN:
        return dec_vxlan(s);
    case DEC_N_GENEVE:
        return dec_geneve(s);
    case DEC_N_DONE:
    case DEC_N_FAIL:
        break;
    }
    return n;
}

/* The one-pass path (see decode.h): each test below sends the frame to the
 * layer walk, which then decodes it or counts what is wrong with it. */
/* An IPv4 address into a, zero-padded, as one 16-byte store: the flow key
 * reads each address back with one 16-byte load, which would stall on a
 * 4-byte store over memset's (store forwarding needs one store holding all
 * of the load). */
static inline void dec_put_v4(struct dec_addr *a, const uint8_t *ip4)
{
    typedef uint32_t v4u __attribute__((vector_size(16)));
    uint32_t w;
    memcpy(&w, ip4, 4);
    v4u v = {w, 0, 0, 0};
    memcpy(a->b, &v, sizeof(v));
}

bool dec_packet_fast(int dlt, const uint8_t *data, uint32_t caplen, struct dec_packet *out)
{
    memset(out, 0, sizeof *out);
    if (dlt != DLT_EN10MB)
        return false;
    if (caplen < 14 + 20 + 20 || dec_be16(data + 12) != DEC_ETH_IPV4)
        return false;
    const uint8_t *ip = data + 14;
    uint32_t total = dec_be16(ip + 2), cap_ip = caplen - 14;
    if (ip[0] != 0x45 || ip[9] != DEC_IP_TCP || (dec_be16(ip + 6) & 0x3fff) || total < 40)
        return false;
    uint32_t l3_len = total < cap_ip ? total : cap_ip;
    const uint8_t *th = ip + 20;
    uint32_t thl = (uint32_t)(th[12] >> 4) * 4;
    if (thl < 20 || thl > total - 20 || 20 + thl > l3_len)
        return false;
    out->wscale = 0xff;
    if (thl > 20 && !dec_tcp_options(th + 20, th + thl, out))
        return false;
    out->family = 4;
    dec_put_v4(&out->src, ip + 12);
    dec_put_v4(&out->dst, ip + 16);
    out->l3 = ip;
    out->l3_len = l3_len;
    out->ip_proto = DEC_IP_TCP;
    out->sport = dec_be16(th);
    out->dport = dec_be16(th + 2);
    out->seq = dec_be32(th + 4);
    out->ack = dec_be32(th + 8);
    out->tcp_flags = th[13];
    out->window = dec_be16(th + 14);
    out->payload = th + thl;
    out->payload_len = l3_len - 20 - thl;
    out->payload_wire = total - 20 - thl;
    return true;
}

bool dec_packet(int dlt, const uint8_t *data, uint32_t caplen, struct dec_packet *out,
                struct dec_stats *st)
{
    if (dec_packet_fast(dlt, data, caplen, out))
        return true;
    return dec_packet_layers(dlt, data, caplen, out, st);
}

bool dec_packet_layers(int dlt, const uint8_t *data, uint32_t caplen, struct dec_packet *out,
                       struct dec_stats *st)
{
    struct dec_state s = {
        .p = data,
        .end = caplen ? data + caplen : data,
        .wire = DEC_WIRE_UNKNOWN,
        .pkt = out,
    };
    enum dec_next n;

    memset(out, 0, sizeof *out);
    n = dec_link(&s, dlt);
    while (n != DEC_N_DONE && n != DEC_N_FAIL)
        n = dec_layer(&s, n);
    if (n == DEC_N_FAIL) {
        st->c[s.err]++;
        return false;
    }
    return true;
}

bool dec_dlt_supported(int dlt)
{
    struct dec_state s = {0};

    return dec_link(&s, dlt) != DEC_N_FAIL;
}

const char *dec_counter_name(enum dec_counter c)
{
    if ((unsigned)c >= DEC_C__COUNT)
        return "unknown";
    return dec_names[c];
}

bool dec_counter_is_error(enum dec_counter c)
{
    if ((unsigned)c >= DEC_C__COUNT)
        return false;
    return dec_errors[c];
}

char *dec_addr_str(const struct dec_addr *addr, int family, char *buf, unsigned len)
{
    int af = family == 4 ? AF_INET : AF_INET6;

    if (len == 0)
        return buf;
    buf[0] = '\0';
    if (family != 4 && family != 6)
        return buf;
    if (inet_ntop(af, addr->b, buf, len) == NULL)
        buf[0] = '\0';
    return buf;
}

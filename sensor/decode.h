/* Packet decoding: link layer, VLAN, IP, tunnels, TCP/UDP.
 *
 * dec_packet() turns one captured frame into the facts the flow table needs.
 * It never reads past caplen and never allocates. Every malformed or
 * truncated layer increments one named counter and the packet is skipped.
 */
#ifndef VTLS_DECODE_H
#define VTLS_DECODE_H

#include <stdbool.h>
#include <stdint.h>

/* Tunnels nested deeper than this are skipped (counted as tunnel_too_deep). */
#define DEC_MAX_TUNNEL_DEPTH 4
/* 802.1Q/802.1ad tags kept per Ethernet header; more are skipped (vlan_too_deep). */
#define DEC_MAX_VLAN 2

/* Why a packet was not decoded to a TCP or UDP segment.
 * X(enum suffix, counter name, is_error): errors are malformed input; the
 * others are valid traffic we do not inspect (ARP, ICMP, IP fragments).
 * gre_bad_version also counts GRE with the RFC 1701 routing bit; an empty raw-IP
 * frame counts as ipv4_truncated. */
#define DEC_COUNTERS(X)                                                                            \
    X(LINK_UNSUPPORTED, "link_unsupported", false)                                                 \
    X(ETH_TRUNC, "eth_truncated", true)                                                            \
    X(VLAN_TRUNC, "vlan_truncated", true)                                                          \
    X(VLAN_TOO_DEEP, "vlan_too_deep", false)                                                       \
    X(SLL_TRUNC, "sll_truncated", true)                                                            \
    X(SLL2_TRUNC, "sll2_truncated", true)                                                          \
    X(NULL_TRUNC, "null_truncated", true)                                                          \
    X(NULL_FAMILY, "null_bad_family", true)                                                        \
    X(NOT_IP, "not_ip", false)                                                                     \
    X(IPV4_TRUNC, "ipv4_truncated", true)                                                          \
    X(IPV4_VERSION, "ipv4_bad_version", true)                                                      \
    X(IPV4_HLEN, "ipv4_bad_header_len", true)                                                      \
    X(IPV4_LEN, "ipv4_bad_total_len", true)                                                        \
    X(IPV4_FRAGMENT, "ipv4_fragment", false)                                                       \
    X(IPV6_TRUNC, "ipv6_truncated", true)                                                          \
    X(IPV6_VERSION, "ipv6_bad_version", true)                                                      \
    X(IPV6_LEN, "ipv6_bad_payload_len", true)                                                      \
    X(IPV6_EXT_TRUNC, "ipv6_ext_truncated", true)                                                  \
    X(IPV6_EXT_TOO_MANY, "ipv6_ext_too_many", true)                                                \
    X(IPV6_FRAGMENT, "ipv6_fragment", false)                                                       \
    X(IP_PROTO_OTHER, "ip_proto_other", false)                                                     \
    X(TCP_TRUNC, "tcp_truncated", true)                                                            \
    X(TCP_HLEN, "tcp_bad_header_len", true)                                                        \
    X(TCP_OPT, "tcp_bad_option", true)                                                             \
    X(UDP_TRUNC, "udp_truncated", true)                                                            \
    X(UDP_LEN, "udp_bad_len", true)                                                                \
    X(VXLAN_TRUNC, "vxlan_truncated", true)                                                        \
    X(GENEVE_TRUNC, "geneve_truncated", true)                                                      \
    X(GENEVE_PROTO, "geneve_unsupported_proto", false)                                             \
    X(GRE_TRUNC, "gre_truncated", true)                                                            \
    X(GRE_VERSION, "gre_bad_version", true)                                                        \
    X(GRE_PROTO, "gre_unsupported_proto", false)                                                   \
    X(ERSPAN_TRUNC, "erspan_truncated", true)                                                      \
    X(TUNNEL_TOO_DEEP, "tunnel_too_deep", true)

enum dec_counter {
#define DEC_ENUM(sym, name, err) DEC_C_##sym,
    DEC_COUNTERS(DEC_ENUM)
#undef DEC_ENUM
        DEC_C__COUNT
};

struct dec_stats {
    uint64_t c[DEC_C__COUNT];
};

/* Tunnel kinds seen on the way to the inner packet (bit set in dec_packet.tunnels).
 * Each tunnel adds one to dec_packet.tunnel_depth; ERSPAN (carried in GRE) sets
 * both DEC_TUN_GRE and its ERSPAN bit for one level. */
enum dec_tunnel {
    DEC_TUN_VXLAN = 1u << 0,
    DEC_TUN_GENEVE = 1u << 1,
    DEC_TUN_IPIP = 1u << 2, /* IPv4 or IPv6 inside IPv4 or IPv6 */
    DEC_TUN_GRE = 1u << 3,
    DEC_TUN_ERSPAN2 = 1u << 4, /* ERSPAN type I or II (GRE 0x88be) */
    DEC_TUN_ERSPAN3 = 1u << 5, /* ERSPAN type III (GRE 0x22eb) */
};

/* TCP header flags (RFC 9293 3.1). */
enum dec_tcp_flag {
    DEC_TCP_FIN = 0x01,
    DEC_TCP_SYN = 0x02,
    DEC_TCP_RST = 0x04,
    DEC_TCP_PSH = 0x08,
    DEC_TCP_ACK = 0x10,
    DEC_TCP_URG = 0x20,
};

/* An IP address: IPv4 in b[0..3] with b[4..15] zero, or IPv6 in all 16. */
struct dec_addr {
    uint8_t b[16];
};

/* IP protocol numbers of the packets dec_packet() returns. */
enum { DEC_PROTO_TCP = 6, DEC_PROTO_UDP = 17 };

/* The innermost TCP or UDP packet of one frame. All pointers point into the
 * caller's frame buffer and live as long as it does. */
struct dec_packet {
    struct dec_addr src, dst;
    const uint8_t *l3;      /* innermost IP header (for nDPI) */
    uint32_t l3_len;        /* its captured bytes, up to the IP length */
    const uint8_t *payload; /* L4 payload, never beyond the captured bytes */
    uint32_t payload_len;   /* captured payload bytes (may be short at small snaplen) */
    uint32_t payload_wire;  /* payload length claimed by the IP header */
    uint16_t sport, dport;
    uint16_t vlan[DEC_MAX_VLAN]; /* tags of the innermost Ethernet header, outer first */
    uint8_t vlan_count;
    uint8_t family;   /* 4 or 6 */
    uint8_t ip_proto; /* DEC_PROTO_TCP or DEC_PROTO_UDP */
    uint8_t tunnels;  /* enum dec_tunnel bits */
    uint8_t tunnel_depth;
    /* TCP only (zero for UDP). */
    uint8_t tcp_flags;
    uint8_t wscale; /* window scale option, 0xff when absent */
    uint16_t mss;   /* MSS option, 0 when absent */
    uint16_t window;
    uint32_t seq, ack;
};

/* Decode one frame of link type dlt (a DLT_* value as pcap_datalink() returns).
 * Returns true and fills *out when the frame holds a TCP or UDP packet;
 * otherwise returns false after incrementing exactly one counter in *st.
 * *out is unspecified after false. data[0..caplen) is all that is read. */
bool dec_packet(int dlt, const uint8_t *data, uint32_t caplen, struct dec_packet *out,
                struct dec_stats *st);

/* dec_packet() in two parts. dec_packet_fast() decodes the common frame in
 * one pass (Ethernet without tags, IPv4 without options or fragmentation,
 * TCP with its whole header captured) and returns false, counting nothing,
 * for any other frame; dec_packet_layers() walks every frame layer by layer.
 * Where the first succeeds both give the same packet: tests and the decode
 * fuzzer compare them. */
bool dec_packet_fast(int dlt, const uint8_t *data, uint32_t caplen, struct dec_packet *out);
bool dec_packet_layers(int dlt, const uint8_t *data, uint32_t caplen, struct dec_packet *out,
                       struct dec_stats *st);

/* Whether dec_packet() understands link type dlt. */
bool dec_dlt_supported(int dlt);

/* Counter name (lower-case, for JSON and metrics; "unknown" when c is out of range)
 * and whether it counts malformed input (false when out of range). */
const char *dec_counter_name(enum dec_counter c);
bool dec_counter_is_error(enum dec_counter c);

/* Format addr of family 4 or 6 into buf (at least 46 bytes); returns buf. */
char *dec_addr_str(const struct dec_addr *addr, int family, char *buf, unsigned len);

#endif

/* Packet builders for unit tests: Ethernet, VLAN, IPv4, IPv6, TCP, UDP, raw
 * bytes, appended in order into one fixed buffer, plus a guard-page buffer for
 * catching over-reads.
 *
 * Usage: pkt_init(&p); pkt_eth(&p, 0x0800); pkt_ipv4(&p, "10.0.0.1", "10.0.0.2", 6);
 * pkt_tcp(&p, 1234, 443, seq, ack, flags, NULL, 0); pkt_bytes(&p, "hello", 5);
 * pkt_finish(&p). Headers that carry a length (IPv4 total length and header
 * checksum, IPv6 payload length, UDP length) are "open" until pkt_finish(),
 * which sets each to reach the current end of the packet; bytes appended after
 * pkt_finish() (Ethernet padding) are outside every length. Overflowing the
 * buffer or the open-header stack aborts the test program.
 */
#ifndef VTLS_HELPER_PKT_H
#define VTLS_HELPER_PKT_H

#include <stddef.h>
#include <stdint.h>

#define PKT_MAX      4096
#define PKT_MAX_OPEN 16

struct pkt {
    uint8_t b[PKT_MAX];
    size_t len;
    struct {
        uint8_t kind; /* internal: which length field to set */
        size_t off;
    } open[PKT_MAX_OPEN];
    unsigned nopen;
};

/* Start an empty packet. */
void pkt_init(struct pkt *p);

/* Append n bytes (data NULL appends zeros); returns their offset. */
size_t pkt_bytes(struct pkt *p, const void *data, size_t n);
size_t pkt_u8(struct pkt *p, uint8_t v);
size_t pkt_be16(struct pkt *p, uint16_t v);
size_t pkt_be32(struct pkt *p, uint32_t v);

/* Ethernet II header with fixed MAC addresses and EtherType type; returns its offset. */
size_t pkt_eth(struct pkt *p, uint16_t type);

/* One VLAN tag body after a TPID: TCI with VLAN ID vid, then the next EtherType. */
size_t pkt_vlan(struct pkt *p, uint16_t vid, uint16_t next_type);

/* IPv4 header (TTL 64, DF clear) from dotted-quad strings, with optlen bytes of
 * options (a multiple of 4, at most 40); total length set by pkt_finish(). */
size_t pkt_ipv4(struct pkt *p, const char *src, const char *dst, uint8_t proto);
size_t pkt_ipv4_opts(struct pkt *p, const char *src, const char *dst, uint8_t proto,
                     const uint8_t *opts, size_t optlen);

/* IPv6 header from textual addresses; payload length set by pkt_finish(). */
size_t pkt_ipv6(struct pkt *p, const char *src, const char *dst, uint8_t next_header);

/* TCP header with optlen bytes of options (a multiple of 4, at most 40). */
size_t pkt_tcp(struct pkt *p, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
               uint8_t flags, const uint8_t *opts, size_t optlen);

/* UDP header; length set by pkt_finish(). */
size_t pkt_udp(struct pkt *p, uint16_t sport, uint16_t dport);

/* Set the lengths (and IPv4 header checksums) of all open headers. */
void pkt_finish(struct pkt *p);

/* Copy n bytes (n <= PKT_MAX) into a buffer that ends exactly at a PROT_NONE
 * page, so reading one byte past them crashes; returns the start of the copy.
 * There is one such buffer per process: each call overwrites the last copy. */
const uint8_t *guard_copy(const void *data, size_t n);

#endif

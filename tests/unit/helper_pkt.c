/* Packet builders for unit tests: see helper_pkt.h. */
#include "tests/unit/helper_pkt.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum { PKT_OPEN_IPV4, PKT_OPEN_IPV6, PKT_OPEN_UDP };

static void pkt_die(const char *why)
{
    fprintf(stderr, "helper_pkt: %s\n", why);
    abort();
}

void pkt_init(struct pkt *p)
{
    memset(p, 0, sizeof *p);
}

size_t pkt_bytes(struct pkt *p, const void *data, size_t n)
{
    size_t off = p->len;

    if (n > PKT_MAX - p->len)
        pkt_die("packet buffer full");
    if (data != NULL)
        memcpy(p->b + off, data, n);
    else
        memset(p->b + off, 0, n);
    p->len += n;
    return off;
}

size_t pkt_u8(struct pkt *p, uint8_t v)
{
    return pkt_bytes(p, &v, 1);
}

size_t pkt_be16(struct pkt *p, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

    return pkt_bytes(p, b, 2);
}

size_t pkt_be32(struct pkt *p, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

    return pkt_bytes(p, b, 4);
}

static void pkt_open(struct pkt *p, uint8_t kind, size_t off)
{
    if (p->nopen == PKT_MAX_OPEN)
        pkt_die("too many open headers");
    p->open[p->nopen].kind = kind;
    p->open[p->nopen].off = off;
    p->nopen++;
}

static void pkt_put16(uint8_t *b, size_t v)
{
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}

size_t pkt_eth(struct pkt *p, uint16_t type)
{
    static const uint8_t macs[12] = {0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01};
    size_t off = pkt_bytes(p, macs, sizeof macs);

    pkt_be16(p, type);
    return off;
}

size_t pkt_vlan(struct pkt *p, uint16_t vid, uint16_t next_type)
{
    size_t off = pkt_be16(p, vid);

    pkt_be16(p, next_type);
    return off;
}

static void pkt_addr(struct pkt *p, int af, const char *text)
{
    uint8_t b[16];

    if (inet_pton(af, text, b) != 1)
        pkt_die("bad address");
    pkt_bytes(p, b, af == AF_INET ? 4 : 16);
}

size_t pkt_ipv4_opts(struct pkt *p, const char *src, const char *dst, uint8_t proto,
                     const uint8_t *opts, size_t optlen)
{
    size_t off = p->len;

    if (optlen % 4 != 0 || optlen > 40)
        pkt_die("bad IPv4 option length");
    pkt_u8(p, (uint8_t)(0x40 | (5 + optlen / 4)));
    pkt_u8(p, 0);        /* TOS */
    pkt_be16(p, 0);      /* total length, set by pkt_finish */
    pkt_be16(p, 0x1234); /* identification */
    pkt_be16(p, 0);      /* flags, fragment offset */
    pkt_u8(p, 64);
    pkt_u8(p, proto);
    pkt_be16(p, 0); /* checksum, set by pkt_finish */
    pkt_addr(p, AF_INET, src);
    pkt_addr(p, AF_INET, dst);
    if (optlen > 0)
        pkt_bytes(p, opts, optlen);
    pkt_open(p, PKT_OPEN_IPV4, off);
    return off;
}

size_t pkt_ipv4(struct pkt *p, const char *src, const char *dst, uint8_t proto)
{
    return pkt_ipv4_opts(p, src, dst, proto, NULL, 0);
}

size_t pkt_ipv6(struct pkt *p, const char *src, const char *dst, uint8_t next_header)
{
    size_t off = pkt_be32(p, 0x60000000);

    pkt_be16(p, 0); /* payload length, set by pkt_finish */
    pkt_u8(p, next_header);
    pkt_u8(p, 64);
    pkt_addr(p, AF_INET6, src);
    pkt_addr(p, AF_INET6, dst);
    pkt_open(p, PKT_OPEN_IPV6, off);
    return off;
}

size_t pkt_tcp(struct pkt *p, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
               uint8_t flags, const uint8_t *opts, size_t optlen)
{
    size_t off = pkt_be16(p, sport);

    if (optlen % 4 != 0 || optlen > 40)
        pkt_die("bad TCP option length");
    pkt_be16(p, dport);
    pkt_be32(p, seq);
    pkt_be32(p, ack);
    pkt_u8(p, (uint8_t)((5 + optlen / 4) << 4));
    pkt_u8(p, flags);
    pkt_be16(p, 65535); /* window */
    pkt_be16(p, 0);     /* checksum */
    pkt_be16(p, 0);     /* urgent pointer */
    if (optlen > 0)
        pkt_bytes(p, opts, optlen);
    return off;
}

size_t pkt_udp(struct pkt *p, uint16_t sport, uint16_t dport)
{
    size_t off = pkt_be16(p, sport);

    pkt_be16(p, dport);
    pkt_be16(p, 0); /* length, set by pkt_finish */
    pkt_be16(p, 0); /* checksum */
    pkt_open(p, PKT_OPEN_UDP, off);
    return off;
}

static void pkt_ipv4_checksum(uint8_t *ip)
{
    size_t hlen = (size_t)(ip[0] & 0x0f) * 4;
    uint32_t sum = 0;

    ip[10] = 0;
    ip[11] = 0;
    for (size_t i = 0; i < hlen; i += 2)
        sum += (uint32_t)ip[i] << 8 | ip[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    pkt_put16(ip + 10, ~sum & 0xffff);
}

void pkt_finish(struct pkt *p)
{
    /* Innermost first, so the IPv4 checksums cover final inner lengths. */
    while (p->nopen > 0) {
        p->nopen--;
        size_t off = p->open[p->nopen].off;
        uint8_t *h = p->b + off;

        switch (p->open[p->nopen].kind) {
        case PKT_OPEN_IPV4:
            pkt_put16(h + 2, p->len - off);
            pkt_ipv4_checksum(h);
            break;
        case PKT_OPEN_IPV6:
            pkt_put16(h + 4, p->len - off - 40);
            break;
        default:
            pkt_put16(h + 4, p->len - off);
            break;
        }
    }
}

const uint8_t *guard_copy(const void *data, size_t n)
{
    static uint8_t *area;
    static size_t page;

    if (area == NULL) {
        page = (size_t)sysconf(_SC_PAGESIZE);
        size_t span = (PKT_MAX + page - 1) / page * page;

        area = mmap(NULL, span + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (area == MAP_FAILED)
            pkt_die("mmap failed");
        if (mprotect(area + span, page, PROT_NONE) != 0)
            pkt_die("mprotect failed");
        area += span; /* the guard page starts here */
    }
    if (n > PKT_MAX)
        pkt_die("guard_copy: too long");
    memcpy(area - n, data, n);
    return area - n;
}

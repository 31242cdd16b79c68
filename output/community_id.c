/* Community ID v1: see community_id.h. */
#include "output/community_id.h"

#include <openssl/evp.h>

#include "dissectors/digest.h"
#include <string.h>

/* Whether (a, ap) orders before (b, bp): address bytes first, then port. */
static int cid_less(const uint8_t *a, uint16_t ap, const uint8_t *b, uint16_t bp, size_t alen)
{
    int c = memcmp(a, b, alen);
    return c < 0 || (c == 0 && ap < bp);
}

static void cid_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

char *cid_v1(uint16_t seed, int family, const struct dec_addr *src, uint16_t sport,
             const struct dec_addr *dst, uint16_t dport, uint8_t proto, char out[CID_LEN])
{
    size_t alen = family == 6 ? 16 : 4;
    const struct dec_addr *a = src, *b = dst;
    uint16_t ap = sport, bp = dport;
    if (!cid_less(src->b, sport, dst->b, dport, alen)) {
        a = dst, b = src;
        ap = dport, bp = sport;
    }

    /* Hash input: seed, ordered addresses, proto, one pad byte, ordered ports. */
    uint8_t buf[2 + 16 + 16 + 2 + 4];
    uint8_t *p = buf;
    cid_put16(p, seed), p += 2;
    memcpy(p, a->b, alen), p += alen;
    memcpy(p, b->b, alen), p += alen;
    *p++ = proto;
    *p++ = 0;
    cid_put16(p, ap), p += 2;
    cid_put16(p, bp), p += 2;

    unsigned char md[DG_MAX_SIZE];
    out[0] = '\0';
    if (dg_digest(DG_SHA1, buf, (size_t)(p - buf), md) != 20)
        return out;
    out[0] = '1';
    out[1] = ':';
    EVP_EncodeBlock((unsigned char *)out + 2, md, 20);
    return out;
}

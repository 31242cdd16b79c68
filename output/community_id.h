/* Community ID v1 flow hash (corelight community-id-spec), for TCP, UDP and
 * other port-based transports. ICMP's type/code mapping is not needed: the
 * sensor tracks TCP and UDP only. */
#ifndef VTLS_COMMUNITY_ID_H
#define VTLS_COMMUNITY_ID_H

#include <stdint.h>

#include "sensor/decode.h"

/* "1:" + base64 of a SHA-1 digest + NUL. */
#define CID_LEN 31

/* Write the Community ID of the flow (src, sport) -> (dst, dport) of IP
 * family 4 or 6 and transport proto, with the given seed, into out
 * (CID_LEN bytes). The result is the same for both directions. Returns
 * out, or an empty string if hashing failed. */
char *cid_v1(uint16_t seed, int family, const struct dec_addr *src, uint16_t sport,
             const struct dec_addr *dst, uint16_t dport, uint8_t proto, char out[CID_LEN]);

#endif

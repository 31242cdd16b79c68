/* GeoIP and zone enrichment with libmaxminddb (--geoip FILE.mmdb, repeatable).
 *
 * For an address, every database is consulted in the order added and the
 * first answer for each field wins:
 *  - country: country.iso_code (GeoLite2/GeoIP2 Country and City layouts);
 *  - asn, as_org: autonomous_system_number / autonomous_system_organization
 *    (GeoLite2-ASN layout);
 *  - every other top-level string value of a record (a custom database
 *    mapping the cluster's own networks to zone, cell, environment) as a
 *    key/value pair: at most GEO_MAX_KV pairs, keys of [A-Za-z0-9_-] up to
 *    GEO_KEY_MAX - 1 bytes (others skipped), values cut to GEO_VALUE_MAX - 1
 *    bytes at a UTF-8 boundary; what does not fit is counted in `dropped`.
 * Results land in a caller-provided struct (no allocation) and are cached
 * per address in a small direct-mapped cache (GEO_CACHE_SLOTS).
 *
 * Not thread-safe: one struct geo per thread (the packet thread).
 */
#ifndef VTLS_GEO_H
#define VTLS_GEO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GEO_ERRLEN      512
#define GEO_MAX_DBS     8
#define GEO_MAX_KV      8
#define GEO_KEY_MAX     32
#define GEO_VALUE_MAX   64
#define GEO_ORG_MAX     96
#define GEO_CACHE_SLOTS 256

struct geo_kv {
    char key[GEO_KEY_MAX];
    char value[GEO_VALUE_MAX];
};

struct geo_result {
    bool found;      /* some database had a record for the address */
    char country[3]; /* ISO 3166-1 alpha-2, "" when unknown */
    uint32_t asn;    /* 0 when unknown */
    char as_org[GEO_ORG_MAX];
    uint8_t nkv;
    uint8_t dropped; /* custom pairs skipped or cut short */
    struct geo_kv kv[GEO_MAX_KV];
};

struct geo_stats {
    uint64_t lookups, cache_hits, errors; /* errors: libmaxminddb lookup failures */
};

struct geo;

/* An empty set of databases; NULL when out of memory. */
struct geo *geo_new(void);

/* Open path (memory-mapped) and add it after the others. Returns false with
 * "path: reason" in err (GEO_ERRLEN bytes): unreadable or invalid file, or
 * more than GEO_MAX_DBS databases. */
bool geo_add(struct geo *g, const char *path, char *err);

/* Databases added. */
size_t geo_count(const struct geo *g);

/* Look up addr of family (4: IPv4 in addr[0..3], 6: 16 bytes) and fill out.
 * Returns out->found. */
bool geo_lookup(struct geo *g, int family, const uint8_t addr[16], struct geo_result *out);

/* The value of field key of r as a string, for rules and output: "country",
 * "asn" (decimal), "as_org", or a custom key. NULL when absent. buf (at least
 * 16 bytes) holds the ASN text. */
const char *geo_get(const struct geo_result *r, const char *key, char *buf);

/* r as a JSON object {"country", "asn", "as_org", custom keys...}, fields
 * that are unknown left out; a custom key that repeats a standard name is
 * left out too. Returns NULL when out of memory; the caller owns it. */
json_t *geo_json(const struct geo_result *r);

void geo_get_stats(const struct geo *g, struct geo_stats *st);

/* Close all databases; NULL is a no-op. */
void geo_free(struct geo *g);

#endif

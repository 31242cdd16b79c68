/* Certificates seen on the wire, parsed once per distinct SHA-256 and
 * shared by the flows that presented them. Bounded: the least recently
 * used certificates not held by a flow are dropped past the cap. Knows
 * which server components presented each certificate (the same key on
 * several components is a finding). */
#ifndef VTLS_CERTCACHE_H
#define VTLS_CERTCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissectors/x509.h"

#define CC_DEFAULT_CAP 1024
#define CC_CHAIN_MAX   3 /* certificates kept after a leaf, as sent */

struct cc_entry {
    struct x509_info info;
    const char *sans[X509_MAX_SANS];     /* info.sans[i].value, for rule string lists */
    char issuer_cn[X509_CN_LEN];         /* CN of the RFC 2253 issuer, "" if none */
    uint32_t components;                 /* bit (1 << component) per server component */
    struct cc_entry *sent[CC_CHAIN_MAX]; /* a leaf: the certificates last sent after it */
    /* Private. */
    struct cc_entry *hnext, *lprev, *lnext;
    uint32_t refs;
    uint32_t hash;
};

struct cc_stats {
    uint64_t parsed, hits, unparseable, dropped;
    size_t entries;
};

struct cc_cache;

/* cap 0 means CC_DEFAULT_CAP. NULL on allocation failure. */
struct cc_cache *cc_new(size_t cap);
void cc_free(struct cc_cache *c);

/* The entry for der[0..len), parsed on first sight, with a reference for
 * the caller; *is_new tells whether it was not in the cache. NULL when
 * memory is short or the digest fails. An unparseable certificate still
 * gets an entry (info.status says so). */
struct cc_entry *cc_get(struct cc_cache *c, const uint8_t *der, size_t len, bool *is_new);

/* Remember chain[0..n) (n <= CC_CHAIN_MAX, taken by reference) as what was
 * last sent after the leaf e; the previous chain is dropped. */
void cc_set_chain(struct cc_cache *c, struct cc_entry *e, struct cc_entry *const *chain, size_t n);

/* Take one more reference; returns e. */
struct cc_entry *cc_ref(struct cc_entry *e);

/* Drop a reference (NULL is a no-op). */
void cc_put(struct cc_cache *c, struct cc_entry *e);

/* Record that server component comp presented e; returns true when comp
 * had not presented it before. */
bool cc_presented_by(struct cc_entry *e, unsigned comp);

/* How many distinct server components have presented e. */
unsigned cc_components(const struct cc_entry *e);

void cc_get_stats(const struct cc_cache *c, struct cc_stats *st);

#endif

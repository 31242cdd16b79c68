/* Certificate cache: see certcache.h. */
#include "sensor/certcache.h"

#include <stdlib.h>
#include <string.h>

struct cc_cache {
    struct cc_entry **buckets;
    size_t nbuckets; /* power of two, >= cap */
    size_t cap, count;
    struct cc_entry *lru_head, *lru_tail; /* unreferenced entries, oldest first */
    struct cc_stats st;
};

struct cc_cache *cc_new(size_t cap)
{
    struct cc_cache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->cap = cap ? cap : CC_DEFAULT_CAP;
    c->nbuckets = 16;
    while (c->nbuckets < c->cap)
        c->nbuckets *= 2;
    c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
    if (c->buckets == NULL) {
        free(c);
        return NULL;
    }
    return c;
}

void cc_free(struct cc_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nbuckets; i++) {
        struct cc_entry *e = c->buckets[i];
        while (e != NULL) {
            struct cc_entry *next = e->hnext;
            free(e);
            e = next;
        }
    }
    free(c->buckets);
    free(c);
}

static uint32_t cc_hash(const char *hex)
{
    uint32_t h = 0;
    for (int i = 0; i < 8; i++)
        h = (h << 4) | (uint32_t)(hex[i] <= '9' ? hex[i] - '0' : hex[i] - 'a' + 10);
    return h;
}

static void cc_lru_unlink(struct cc_cache *c, struct cc_entry *e)
{
    if (e->lprev != NULL)
        e->lprev->lnext = e->lnext;
    else if (c->lru_head == e)
        c->lru_head = e->lnext;
    if (e->lnext != NULL)
        e->lnext->lprev = e->lprev;
    else if (c->lru_tail == e)
        c->lru_tail = e->lprev;
    e->lprev = e->lnext = NULL;
}

static void cc_remove(struct cc_cache *c, struct cc_entry *e)
{
    struct cc_entry *sent[CC_CHAIN_MAX];
    struct cc_entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    cc_lru_unlink(c, e);
    c->count--;
    c->st.dropped++;
    memcpy(sent, e->sent, sizeof(sent));
    free(e);
    /* Its chain may become unreferenced in turn (and be dropped past the cap). */
    for (size_t i = 0; i < CC_CHAIN_MAX; i++)
        cc_put(c, sent[i]);
}

static struct cc_entry *cc_find(struct cc_cache *c, const char *hex, uint32_t h)
{
    for (struct cc_entry *e = c->buckets[h & (c->nbuckets - 1)]; e != NULL; e = e->hnext)
        if (e->hash == h && strcmp(e->info.sha256, hex) == 0)
            return e;
    return NULL;
}

/* The first CN= value of an RFC 2253 name (commas inside values are escaped). */
static void cc_issuer_cn(const char *name, char *out, size_t len)
{
    const char *p = strstr(name, "CN=");
    size_t n = 0;
    out[0] = '\0';
    if (p == NULL || (p != name && p[-1] != ','))
        return;
    for (p += 3; p[n] != '\0' && n + 1 < len && (p[n] != ',' || (n > 0 && p[n - 1] == '\\'));)
        n++;
    memcpy(out, p, n);
    out[n] = '\0';
}

static struct cc_entry *cc_add(struct cc_cache *c, const uint8_t *der, size_t len, uint32_t h)
{
    /* Make room: drop the oldest entries no flow holds. */
    while (c->count >= c->cap && c->lru_head != NULL)
        cc_remove(c, c->lru_head);
    struct cc_entry *e = calloc(1, sizeof(*e));
    if (e == NULL)
        return NULL;
    if (x509_parse(der, len, &e->info) == X509_OK)
        c->st.parsed++;
    else
        c->st.unparseable++;
    x509_sha256_hex(der, len, e->info.sha256);
    for (unsigned i = 0; i < e->info.nsans; i++)
        e->sans[i] = e->info.sans[i].value;
    if (e->info.status == X509_OK)
        cc_issuer_cn(e->info.issuer, e->issuer_cn, sizeof(e->issuer_cn));
    e->hash = h;
    e->hnext = c->buckets[h & (c->nbuckets - 1)];
    c->buckets[h & (c->nbuckets - 1)] = e;
    c->count++;
    return e;
}

struct cc_entry *cc_get(struct cc_cache *c, const uint8_t *der, size_t len, bool *is_new)
{
    char hex[X509_SHA256_HEX];
    if (x509_sha256_hex(der, len, hex) != 0)
        return NULL;
    uint32_t h = cc_hash(hex);
    struct cc_entry *e = cc_find(c, hex, h);
    *is_new = e == NULL;
    if (e == NULL) {
        e = cc_add(c, der, len, h);
        if (e == NULL)
            return NULL;
    } else {
        c->st.hits++;
        if (e->refs == 0)
            cc_lru_unlink(c, e);
    }
    e->refs++;
    return e;
}

void cc_put(struct cc_cache *c, struct cc_entry *e)
{
    if (e == NULL || --e->refs > 0)
        return;
    /* Unreferenced: newest at the tail of the LRU list. */
    e->lprev = c->lru_tail;
    e->lnext = NULL;
    if (c->lru_tail != NULL)
        c->lru_tail->lnext = e;
    else
        c->lru_head = e;
    c->lru_tail = e;
    while (c->count > c->cap && c->lru_head != NULL)
        cc_remove(c, c->lru_head);
}

void cc_set_chain(struct cc_cache *c, struct cc_entry *e, struct cc_entry *const *chain, size_t n)
{
    struct cc_entry *old[CC_CHAIN_MAX];
    memcpy(old, e->sent, sizeof(old));
    for (size_t i = 0; i < CC_CHAIN_MAX; i++)
        e->sent[i] = i < n && chain[i] != NULL && chain[i] != e ? cc_ref(chain[i]) : NULL;
    for (size_t i = 0; i < CC_CHAIN_MAX; i++)
        cc_put(c, old[i]);
}

struct cc_entry *cc_ref(struct cc_entry *e)
{
    e->refs++;
    return e;
}

unsigned cc_components(const struct cc_entry *e)
{
    return (unsigned)__builtin_popcount(e->components);
}

bool cc_presented_by(struct cc_entry *e, unsigned comp)
{
    uint32_t bit = comp < 32 ? 1u << comp : 0;
    bool fresh = (e->components & bit) == 0 && bit != 0;
    e->components |= bit;
    return fresh;
}

void cc_get_stats(const struct cc_cache *c, struct cc_stats *st)
{
    *st = c->st;
    st->entries = c->count;
}

/* Interned strings: see intern.h. */
#include "sensor/intern.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct istr {
    struct istr *next;
    uint32_t hash;
    uint32_t refs;
    size_t len;
    char s[];
};

struct istr_table {
    struct istr **buckets;
    size_t nbuckets; /* power of two */
    size_t count;
    size_t mem;
};

#define ISTR_INITIAL_BUCKETS 256

/* FNV-1a: strings here are short and not attacker-chosen in bulk. */
static uint32_t istr_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

struct istr_table *istr_table_new(void)
{
    struct istr_table *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->buckets = calloc(ISTR_INITIAL_BUCKETS, sizeof(*t->buckets));
    if (t->buckets == NULL) {
        free(t);
        return NULL;
    }
    t->nbuckets = ISTR_INITIAL_BUCKETS;
    return t;
}

void istr_table_free(struct istr_table *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct istr *e = t->buckets[i];
        while (e != NULL) {
            struct istr *next = e->next;
            free(e);
            e = next;
        }
    }
    free(t->buckets);
    free(t);
}

/* Double the buckets when the table is full; on failure keep the old size. */
static void istr_grow(struct istr_table *t)
{
    size_t n = t->nbuckets * 2;
    struct istr **b = calloc(n, sizeof(*b));
    if (b == NULL)
        return;
    for (size_t i = 0; i < t->nbuckets; i++) {
        struct istr *e = t->buckets[i];
        while (e != NULL) {
            struct istr *next = e->next;
            e->next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->nbuckets = n;
}

const char *istr_get(struct istr_table *t, const char *s, size_t len)
{
    if (s == NULL)
        return NULL;
    uint32_t h = istr_hash(s, len);
    for (struct istr *e = t->buckets[h & (t->nbuckets - 1)]; e != NULL; e = e->next) {
        if (e->hash == h && e->len == len && memcmp(e->s, s, len) == 0) {
            e->refs++;
            return e->s;
        }
    }
    struct istr *e = malloc(sizeof(*e) + len + 1);
    if (e == NULL)
        return NULL;
    e->hash = h;
    e->refs = 1;
    e->len = len;
    memcpy(e->s, s, len);
    e->s[len] = '\0';
    if (t->count >= t->nbuckets)
        istr_grow(t);
    e->next = t->buckets[h & (t->nbuckets - 1)];
    t->buckets[h & (t->nbuckets - 1)] = e;
    t->count++;
    t->mem += sizeof(*e) + len + 1;
    return e->s;
}

const char *istr_cstr(struct istr_table *t, const char *s)
{
    return s == NULL || s[0] == '\0' ? NULL : istr_get(t, s, strlen(s));
}

const char *istr_ref(const char *s)
{
    if (s != NULL)
        ((struct istr *)(s - offsetof(struct istr, s)))->refs++;
    return s;
}

void istr_put(struct istr_table *t, const char *s)
{
    if (s == NULL)
        return;
    struct istr *e = (struct istr *)(s - offsetof(struct istr, s));
    if (--e->refs > 0)
        return;
    struct istr **pp = &t->buckets[e->hash & (t->nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->next;
    *pp = e->next;
    t->count--;
    t->mem -= sizeof(*e) + e->len + 1;
    free(e);
}

size_t istr_count(const struct istr_table *t)
{
    return t->count;
}

size_t istr_mem(const struct istr_table *t)
{
    return t->mem + t->nbuckets * sizeof(*t->buckets);
}

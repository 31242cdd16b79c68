/* Memo of TLS fingerprints: see fpmemo.h. */
#include "sensor/fpmemo.h"

#include <stdlib.h>
#include <string.h>

#include "dissectors/fingerprint.h"

/* A remembered key (fp_client_key or fp_server_key, which never compare
 * equal) and the interned fingerprints computed from it. */
struct fpm_slot {
    uint64_t hash;
    uint8_t *key;
    size_t len;
    const char *v[2];
};

struct fpm_memo {
    struct istr_table *strings;
    struct fpm_slot *slots;
    size_t mask;
    struct fpm_stats st;
};

struct fpm_memo *fpm_new(struct istr_table *strings, unsigned bits)
{
    struct fpm_memo *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return NULL;
    m->slots = calloc((size_t)1 << bits, sizeof(*m->slots));
    if (m->slots == NULL) {
        free(m);
        return NULL;
    }
    m->strings = strings;
    m->mask = ((size_t)1 << bits) - 1;
    return m;
}

static void fpm_clear(struct fpm_memo *m, struct fpm_slot *sl)
{
    free(sl->key);
    istr_put(m->strings, sl->v[0]);
    istr_put(m->strings, sl->v[1]);
    memset(sl, 0, sizeof(*sl));
}

void fpm_free(struct fpm_memo *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i <= m->mask; i++)
        fpm_clear(m, &m->slots[i]);
    free(m->slots);
    free(m);
}

const struct fpm_stats *fpm_stats(const struct fpm_memo *m)
{
    return &m->st;
}

/* 64-bit hash of the key, eight bytes at a time. */
static uint64_t fpm_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15u ^ n;
    uint64_t w;
    for (; n >= 8; p += 8, n -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdu;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, p, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
    return h ^ (h >> 29);
}

/* The slot remembering key, or NULL on a miss (then *victim is where the
 * result should go). */
static struct fpm_slot *fpm_find(struct fpm_memo *m, const uint8_t *key, size_t len, uint64_t h,
                                 struct fpm_slot **victim)
{
    struct fpm_slot *sl = &m->slots[h & m->mask];
    if (sl->key != NULL && sl->hash == h && sl->len == len && memcmp(sl->key, key, len) == 0) {
        m->st.hits++;
        return sl;
    }
    m->st.misses++;
    *victim = sl;
    return NULL;
}

/* Remember v under key in sl (replacing what it held); the memo takes a
 * reference of its own to each value. Out of memory only loses the entry. */
static void fpm_store(struct fpm_memo *m, struct fpm_slot *sl, const uint8_t *key, size_t len,
                      uint64_t h, const char *const v[2])
{
    fpm_clear(m, sl);
    sl->key = malloc(len);
    if (sl->key == NULL)
        return;
    memcpy(sl->key, key, len);
    sl->len = len;
    sl->hash = h;
    sl->v[0] = istr_ref(v[0]);
    sl->v[1] = istr_ref(v[1]);
}

/* Look key up; on a miss compute the values with fill and remember them.
 * Returns the values with one reference each for the caller. */
static void fpm_lookup(struct fpm_memo *m, const uint8_t *key, size_t len, const char *v[2],
                       void (*fill)(struct fpm_memo *, const void *, const char *[2]),
                       const void *hello)
{
    uint64_t h = fpm_hash(key, len);
    struct fpm_slot *victim = NULL;
    struct fpm_slot *sl = fpm_find(m, key, len, h, &victim);
    if (sl != NULL) {
        v[0] = istr_ref(sl->v[0]);
        v[1] = istr_ref(sl->v[1]);
        return;
    }
    fill(m, hello, v);
    fpm_store(m, victim, key, len, h, v);
}

static void fpm_fill_client(struct fpm_memo *m, const void *hello, const char *v[2])
{
    char md5[FP_MD5_HEX], ja4[FP_JA4_LEN];
    v[0] = fp_ja3(hello, NULL, 0, md5) >= FP_OK ? istr_cstr(m->strings, md5) : NULL;
    v[1] = fp_ja4(hello, ja4) >= FP_OK ? istr_cstr(m->strings, ja4) : NULL;
}

static void fpm_fill_server(struct fpm_memo *m, const void *hello, const char *v[2])
{
    char md5[FP_MD5_HEX];
    v[0] = fp_ja3s(hello, NULL, 0, md5) >= FP_OK ? istr_cstr(m->strings, md5) : NULL;
    v[1] = NULL;
}

void fpm_client(struct fpm_memo *m, const struct tls_client_hello *ch, const char **ja3,
                const char **ja4)
{
    uint8_t key[FP_KEY_MAX];
    const char *v[2] = {NULL, NULL};
    size_t len = fp_client_key(ch, key, sizeof(key));
    if (len > 0)
        fpm_lookup(m, key, len, v, fpm_fill_client, ch);
    else if (ch->seen)
        fpm_fill_client(m, ch, v); /* SSLv2: JA4 only, not worth remembering */
    *ja3 = v[0];
    *ja4 = v[1];
}

const char *fpm_server(struct fpm_memo *m, const struct tls_server_hello *sh)
{
    uint8_t key[FP_KEY_MAX];
    const char *v[2] = {NULL, NULL};
    size_t len = fp_server_key(sh, key, sizeof(key));
    if (len > 0)
        fpm_lookup(m, key, len, v, fpm_fill_server, sh);
    return v[0];
}

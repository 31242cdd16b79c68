/* Flow table: chained hash of bidirectional flows, one LRU list per timeout
 * class, incremental expiry and a memory cap with eviction. See flow.h. */
#include "sensor/flow.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define FLOW_POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define FLOW_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define FLOW_POISON(p, n)   ((void)(p), (void)(n))
#define FLOW_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#include "sensor/classify.h"

#define FLOW_INIT_BUCKETS 64u
#define FLOW_US_PER_S     1000000ull
#define FLOW_ID_MASK      ((1ull << 53) - 1)
/* Odd multiplier: counter * FLOW_ID_MULT mod 2^53 is a bijection, so ids stay unique. */
#define FLOW_ID_MULT 0x1f3d5b79a3c1dull
#define FLOW_HASH_K1 0x9e3779b97f4a7c15ull
#define FLOW_HASH_K2 0xd6e8feb86659fd93ull

struct flow_lru {
    struct flow *head, *tail; /* head: longest idle */
};

/* Flows come from slabs: 2 MiB blocks of flow slots, asked to be backed by
 * one huge page each, so the flows a busy link keeps touching sit on few
 * pages (a TLB entry covers them all) instead of being spread over a heap
 * shared with parser buffers. Freed slots go on a free list. */
#define FLOW_SLAB_BYTES (2u << 20)

struct flow_slab {
    struct flow_slab *next;
};

struct flow_table {
    struct flow *free_slots; /* chained through hnext */
    struct flow_slab *slabs;
    unsigned char *carve, *carve_end; /* unused tail of the newest slab */
    struct flow_config cfg;
    struct flow **buckets;
    size_t nbuckets; /* power of two */
    struct flow_lru lru[FLOW_T__COUNT];
    uint64_t timeout_us[FLOW_T__COUNT];
    uint64_t id_counter;
    unsigned expire_start; /* class examined first by the next flow_expire() */
    unsigned in_end;       /* on_end callbacks running (no eviction from inside them) */
    struct flow_stats st;
};

void flow_config_default(struct flow_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->memcap = 256ull << 20;
    cfg->timeout_s[FLOW_T_HANDSHAKE] = 60;
    cfg->timeout_s[FLOW_T_ESTABLISHED] = 3600;
    cfg->timeout_s[FLOW_T_CLOSED] = 10;
    cfg->timeout_s[FLOW_T_UDP] = 60;
    cfg->seed = 0x5eed1e55u;
    cfg->expire_budget = 16;
}

bool flow_port_hint(uint16_t p)
{
    /* The ports of PROTOCOLS.md ("Ports seen in practice"), kept in one table
     * in classify.c, plus HTTPS and HTTP. */
    return p == 80 || p == 443 || cls_port_component(p) != CLS_UNKNOWN;
}

const char *flow_end_name(enum flow_end why)
{
    switch (why) {
    case FLOW_END_NONE:
        return "none";
    case FLOW_END_FIN:
        return "fin";
    case FLOW_END_RST:
        return "rst";
    case FLOW_END_TIMEOUT:
        return "timeout";
    case FLOW_END_EVICTED:
        return "evicted";
    case FLOW_END_SHUTDOWN:
        return "shutdown";
    }
    return "unknown";
}

const struct flow_stats *flow_table_stats(const struct flow_table *ft)
{
    return &ft->st;
}

/* ---- memory accounting ---- */

static void mem_add(struct flow_table *ft, size_t n)
{
    ft->st.mem_used += n;
    if (ft->st.mem_used > ft->st.mem_peak)
        ft->st.mem_peak = ft->st.mem_used;
}

void flow_mem_release(struct flow_table *ft, size_t n)
{
    ft->st.mem_used = n > ft->st.mem_used ? 0 : ft->st.mem_used - n;
}

static bool mem_fits(const struct flow_table *ft, size_t n)
{
    return n <= ft->cfg.memcap && ft->st.mem_used <= ft->cfg.memcap - n;
}

/* ---- LRU lists ---- */

static void lru_unlink_from(struct flow_table *ft, struct flow *f, unsigned tclass)
{
    struct flow_lru *l = &ft->lru[tclass];

    if (f->lprev)
        f->lprev->lnext = f->lnext;
    else
        l->head = f->lnext;
    if (f->lnext)
        f->lnext->lprev = f->lprev;
    else
        l->tail = f->lprev;
    f->lprev = f->lnext = NULL;
}

static void lru_unlink(struct flow_table *ft, struct flow *f)
{
    lru_unlink_from(ft, f, f->tclass);
}

static void lru_append(struct flow_table *ft, struct flow *f)
{
    struct flow_lru *l = &ft->lru[f->tclass];

    f->lnext = NULL;
    f->lprev = l->tail;
    if (l->tail)
        l->tail->lnext = f;
    else
        l->head = f;
    l->tail = f;
}

/* The longest idle flow other than keep: the oldest of the list heads. */
static struct flow *lru_oldest(const struct flow_table *ft, const struct flow *keep)
{
    struct flow *best = NULL;

    for (unsigned c = 0; c < FLOW_T__COUNT; c++) {
        struct flow *h = ft->lru[c].head;
        if (h && h == keep)
            h = h->lnext;
        if (h && (!best || h->last_us < best->last_us))
            best = h;
    }
    return best;
}

/* ---- hashing and lookup ---- */

/* 64x64 -> 128-bit multiply folded to 64 bits. */
static inline uint64_t key_mum(uint64_t a, uint64_t b)
{
    unsigned __int128 m = (unsigned __int128)a * b;
    return (uint64_t)m ^ (uint64_t)(m >> 64);
}

/* A flow key as the six 64-bit words of struct flow_key, kept in registers:
 * a key assembled in memory by small stores and read back as words would
 * stall store forwarding on every packet. */
struct key_words {
    uint64_t w[6];
};

_Static_assert(sizeof(struct flow_key) == sizeof(struct key_words), "flow_key is six words");

/* Seeded hash of the six key words. The three products are independent, so
 * the latency is two multiplies rather than six in a chain: this hash sits
 * on every packet's critical path (bucket load waits for it). */
static uint32_t key_hash(const struct flow_table *ft, const struct key_words *k)
{
    uint64_t seed = (ft->cfg.seed + 1ull) * FLOW_HASH_K1;
    const uint64_t *w = k->w;
    uint64_t a = key_mum(w[0] ^ seed, w[1] ^ FLOW_HASH_K2);
    uint64_t b = key_mum(w[2] ^ FLOW_HASH_K2, w[3] ^ seed);
    uint64_t c = key_mum(w[4] ^ seed ^ FLOW_HASH_K2, w[5] ^ FLOW_HASH_K1);
    uint64_t h = key_mum(a ^ (b << 21 | b >> 43) ^ (c << 42 | c >> 22), FLOW_HASH_K1 ^ seed);
    return (uint32_t)(h ^ h >> 32);
}

static uint64_t load64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Whether address a sorts after b as a big-endian number (memcmp's order). */
static bool addr_after(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
    uint64_t x0 = __builtin_bswap64(a0), y0 = __builtin_bswap64(b0);
    return x0 != y0 ? x0 > y0 : __builtin_bswap64(a1) > __builtin_bswap64(b1);
}

/* The canonical key of pkt (the lower address, or with equal addresses the
 * lower port, on side 0); *src_side receives the key side of its source. */
static void key_build(const struct dec_packet *pkt, struct key_words *k, unsigned *src_side)
{
    uint64_t s0 = load64(pkt->src.b), s1 = load64(pkt->src.b + 8);
    uint64_t d0 = load64(pkt->dst.b), d1 = load64(pkt->dst.b + 8);
    bool swap = (s0 == d0 && s1 == d1) ? pkt->sport > pkt->dport : addr_after(s0, s1, d0, d1);
    uint16_t p0 = swap ? pkt->dport : pkt->sport, p1 = swap ? pkt->sport : pkt->dport;
    uint16_t v0 = pkt->vlan_count > 0 ? pkt->vlan[0] : 0;
    uint16_t v1 = pkt->vlan_count > 1 ? pkt->vlan[1] : 0;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    k->w[0] = swap ? d0 : s0;
    k->w[1] = swap ? d1 : s1;
    k->w[2] = swap ? s0 : d0;
    k->w[3] = swap ? s1 : d1;
    k->w[4] = (uint64_t)p0 | (uint64_t)p1 << 16 | (uint64_t)v0 << 32 | (uint64_t)v1 << 48;
    k->w[5] = (uint64_t)pkt->family | (uint64_t)pkt->ip_proto << 8;
#else
    struct flow_key fk = {.addr = {swap ? pkt->dst : pkt->src, swap ? pkt->src : pkt->dst},
                          .port = {p0, p1},
                          .vlan = {v0, v1},
                          .family = pkt->family,
                          .proto = pkt->ip_proto};
    memcpy(k->w, &fk, sizeof(k->w));
#endif
    *src_side = swap ? 1 : 0;
}

/* Key equality as six word comparisons folded into one test. */
static bool key_eq(const struct flow_key *a, const struct key_words *b)
{
    const uint8_t *p = (const uint8_t *)a;
    uint64_t d = 0;
    for (int i = 0; i < 6; i++)
        d |= load64(p + 8 * i) ^ b->w[i];
    return d == 0;
}

static struct flow *table_find(const struct flow_table *ft, const struct key_words *k, uint32_t h)
{
    struct flow *f = ft->buckets[h & (ft->nbuckets - 1)];

    while (f && (f->hash != h || !key_eq(&f->key, k)))
        f = f->hnext;
    return f;
}

static void table_unlink(struct flow_table *ft, struct flow *f)
{
    struct flow **pp = &ft->buckets[f->hash & (ft->nbuckets - 1)];

    while (*pp && *pp != f)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = f->hnext;
    f->hnext = NULL;
}

/* Double the bucket array when the cap allows it. Limitation: the rehash is
 * done in one go (amortised O(1) per flow, but one packet pays for all). */
static void table_grow(struct flow_table *ft)
{
    size_t n = ft->nbuckets * 2;
    size_t old_bytes = ft->nbuckets * sizeof(struct flow *);
    size_t add = n * sizeof(struct flow *) - old_bytes;

    if (!mem_fits(ft, add))
        return;
    struct flow **b = calloc(n, sizeof(*b));
    if (!b)
        return;
    for (size_t i = 0; i < ft->nbuckets; i++) {
        struct flow *f = ft->buckets[i];
        while (f) {
            struct flow *next = f->hnext;
            f->hnext = b[f->hash & (n - 1)];
            b[f->hash & (n - 1)] = f;
            f = next;
        }
    }
    free(ft->buckets);
    ft->buckets = b;
    ft->nbuckets = n;
    mem_add(ft, add);
}

/* ---- flow life cycle ---- */

/* A zeroed flow slot, or NULL when no memory is left. Under AddressSanitizer
 * free slots and the unused slab tail are poisoned, so a use of an ended
 * flow is reported as it would be with malloc. */
static struct flow *slot_alloc(struct flow_table *ft)
{
    struct flow *f = ft->free_slots;
    if (f != NULL) {
        FLOW_UNPOISON(f, sizeof(*f));
        ft->free_slots = f->hnext;
    } else {
        if (ft->carve == NULL || (size_t)(ft->carve_end - ft->carve) < sizeof(*f)) {
            struct flow_slab *sl = aligned_alloc(FLOW_SLAB_BYTES, FLOW_SLAB_BYTES);
            if (sl == NULL)
                return NULL;
            madvise(sl, FLOW_SLAB_BYTES, MADV_HUGEPAGE);
            sl->next = ft->slabs;
            ft->slabs = sl;
            ft->carve = (unsigned char *)sl + 64;
            ft->carve_end = (unsigned char *)sl + FLOW_SLAB_BYTES;
            FLOW_POISON(ft->carve, FLOW_SLAB_BYTES - 64);
        }
        f = (struct flow *)ft->carve;
        ft->carve += sizeof(*f);
        FLOW_UNPOISON(f, sizeof(*f));
    }
    memset(f, 0, sizeof(*f));
    return f;
}

static void slot_free(struct flow_table *ft, struct flow *f)
{
    f->hnext = ft->free_slots;
    ft->free_slots = f;
    FLOW_POISON(f, sizeof(*f));
}

static void flow_end_one(struct flow_table *ft, struct flow *f, enum flow_end why)
{
    table_unlink(ft, f);
    lru_unlink(ft, f);
    ft->st.active--;
    ft->st.ended[why]++;
    if (why == FLOW_END_EVICTED)
        ft->st.evicted++;
    if (ft->cfg.on_end) {
        ft->in_end++;
        ft->cfg.on_end(ft->cfg.ctx, f, why);
        ft->in_end--;
    }
    slot_free(ft, f);
    flow_mem_release(ft, sizeof(struct flow));
}

/* Evict longest idle flows other than keep until n more bytes fit. */
static bool mem_make_room(struct flow_table *ft, const struct flow *keep, size_t n)
{
    /* An ending flow's callback may still allocate (last bytes reach its
     * parsers); evicting from there could end the very flow whose packet
     * is being handled further up the stack, so it only gets what fits. */
    if (ft->in_end > 0)
        return mem_fits(ft, n);
    while (!mem_fits(ft, n)) {
        struct flow *victim = lru_oldest(ft, keep);
        if (!victim)
            return false;
        flow_end_one(ft, victim, FLOW_END_EVICTED);
    }
    return true;
}

bool flow_mem_charge(struct flow_table *ft, const struct flow *f, size_t n)
{
    if (!mem_make_room(ft, f, n))
        return false;
    mem_add(ft, n);
    return true;
}

static struct flow *flow_create(struct flow_table *ft, const struct key_words *k, uint32_t h,
                                uint64_t now_us)
{
    struct flow *f;

    if (!mem_make_room(ft, NULL, sizeof(*f)) || !(f = slot_alloc(ft))) {
        ft->st.alloc_failed++;
        return NULL;
    }
    mem_add(ft, sizeof(*f));
    memcpy(&f->key, k->w, sizeof(f->key));
    f->hash = h;
    f->id = (++ft->id_counter * FLOW_ID_MULT) & FLOW_ID_MASK;
    f->first_us = f->last_us = now_us;
    f->hnext = ft->buckets[h & (ft->nbuckets - 1)];
    ft->buckets[h & (ft->nbuckets - 1)] = f;
    ft->st.created++;
    ft->st.active++;
    if (ft->st.active > ft->nbuckets)
        table_grow(ft);
    return f;
}

/* ---- orientation and TCP state ---- */

static bool pkt_has_payload(const struct dec_packet *pkt)
{
    return pkt->payload_wire > 0 || pkt->payload_len > 0;
}

/* Orientation without a handshake: port hint, then port < 1024, then the
 * sender of the first payload (tentatively the sender of the first packet). */
static void orient_guess(struct flow *f, unsigned src_side, bool payload)
{
    bool h0 = flow_port_hint(f->key.port[0]), h1 = flow_port_hint(f->key.port[1]);
    bool l0 = f->key.port[0] < 1024, l1 = f->key.port[1] < 1024;

    if (h0 != h1) {
        f->client = h0 ? 1 : 0;
        f->flags |= FLOW_F_ORIENT_FINAL;
    } else if (l0 != l1) {
        f->client = l0 ? 1 : 0;
        f->flags |= FLOW_F_ORIENT_FINAL;
    } else {
        f->client = (uint8_t)src_side;
        if (payload)
            f->flags |= FLOW_F_ORIENT_FINAL;
    }
}

static void set_state(struct flow *f, enum flow_state s, enum flow_tclass c)
{
    f->state = (uint8_t)s;
    f->tclass = (uint8_t)c;
}

static void flow_init_first(struct flow *f, const struct dec_packet *pkt, unsigned src_side)
{
    uint8_t fl = pkt->tcp_flags;

    if (pkt->ip_proto != DEC_PROTO_TCP) {
        set_state(f, FLOW_S_UDP, FLOW_T_UDP);
        orient_guess(f, src_side, true);
    } else if ((fl & DEC_TCP_SYN) && !(fl & DEC_TCP_ACK)) {
        f->client = (uint8_t)src_side;
        f->flags |= FLOW_F_ORIENT_FINAL;
        set_state(f, FLOW_S_SYN_SENT, FLOW_T_HANDSHAKE);
    } else if (fl & DEC_TCP_SYN) {
        f->client = (uint8_t)(src_side ^ 1);
        f->flags |= FLOW_F_ORIENT_FINAL;
        set_state(f, FLOW_S_SYN_ACKED, FLOW_T_HANDSHAKE);
    } else {
        f->flags |= FLOW_F_MIDSTREAM;
        set_state(f, FLOW_S_ESTABLISHED, FLOW_T_ESTABLISHED);
        orient_guess(f, src_side, pkt_has_payload(pkt));
    }
}

/* First payload of a tentatively oriented flow: its sender is the client. */
static void orient_by_payload(struct flow *f, unsigned src_side)
{
    f->flags |= FLOW_F_ORIENT_FINAL;
    if (f->client == src_side)
        return;
    f->client = (uint8_t)src_side;
    uint64_t t = f->pkts[0];
    f->pkts[0] = f->pkts[1];
    f->pkts[1] = t;
    t = f->bytes[0];
    f->bytes[0] = f->bytes[1];
    f->bytes[1] = t;
    uint8_t fins = f->flags & (FLOW_F_CLIENT_FIN | FLOW_F_SERVER_FIN);
    f->flags &= (uint8_t) ~(FLOW_F_CLIENT_FIN | FLOW_F_SERVER_FIN);
    if (fins & FLOW_F_CLIENT_FIN)
        f->flags |= FLOW_F_SERVER_FIN;
    if (fins & FLOW_F_SERVER_FIN)
        f->flags |= FLOW_F_CLIENT_FIN;
}

static void tcp_handshake(struct flow *f, uint8_t fl, enum flow_dir dir)
{
    if (f->state == FLOW_S_SYN_SENT && (fl & DEC_TCP_SYN) && (fl & DEC_TCP_ACK) &&
        dir == FLOW_TO_CLIENT)
        set_state(f, FLOW_S_SYN_ACKED, FLOW_T_HANDSHAKE);
    else if ((f->state == FLOW_S_SYN_SENT || f->state == FLOW_S_SYN_ACKED) && (fl & DEC_TCP_ACK) &&
             !(fl & DEC_TCP_SYN))
        set_state(f, FLOW_S_ESTABLISHED, FLOW_T_ESTABLISHED);
}

/* TCP state update for one packet in direction dir (after orientation). */
static void tcp_update(struct flow *f, uint8_t fl, enum flow_dir dir)
{
    if (f->state == FLOW_S_CLOSED)
        return;
    if (fl & DEC_TCP_RST) {
        f->flags |= FLOW_F_RST;
        set_state(f, FLOW_S_CLOSED, FLOW_T_CLOSED);
        return;
    }
    tcp_handshake(f, fl, dir);
    if (!(fl & DEC_TCP_FIN))
        return;
    f->flags |= dir == FLOW_TO_SERVER ? FLOW_F_CLIENT_FIN : FLOW_F_SERVER_FIN;
    if ((f->flags & FLOW_F_CLIENT_FIN) && (f->flags & FLOW_F_SERVER_FIN))
        set_state(f, FLOW_S_CLOSED, FLOW_T_CLOSED);
    else
        set_state(f, FLOW_S_FIN_WAIT, FLOW_T_ESTABLISHED);
}

/* Limitation: only a closed flow is reused by a new SYN; a SYN on a flow whose
 * FIN/RST was not captured counts in the old flow until it times out. */
static bool is_reuse(const struct flow *f, const struct dec_packet *pkt)
{
    uint8_t fl = pkt->tcp_flags;

    return f->state == FLOW_S_CLOSED && pkt->ip_proto == DEC_PROTO_TCP && (fl & DEC_TCP_SYN) &&
           !(fl & DEC_TCP_ACK);
}

static enum flow_end expire_reason(const struct flow *f)
{
    if (f->tclass != FLOW_T_CLOSED)
        return FLOW_END_TIMEOUT;
    return (f->flags & FLOW_F_RST) ? FLOW_END_RST : FLOW_END_FIN;
}

uint32_t flow_hash(const struct flow_table *ft, const struct dec_packet *pkt)
{
    struct key_words k;
    unsigned src_side;

    key_build(pkt, &k, &src_side);
    return key_hash(ft, &k);
}

void flow_bucket_prefetch(const struct flow_table *ft, uint32_t h)
{
    __builtin_prefetch(&ft->buckets[h & (ft->nbuckets - 1)]);
}

void flow_prefetch(const struct flow_table *ft, uint32_t h)
{
    const struct flow *f = ft->buckets[h & (ft->nbuckets - 1)];
    if (f == NULL)
        return;
    /* A slot is not line-aligned: its first and last bytes bound its lines. */
    for (const char *p = (const char *)f; p < (const char *)(f + 1); p += 64)
        __builtin_prefetch(p, 1);
    __builtin_prefetch((const char *)(f + 1) - 1, 1);
}

struct flow *flow_track(struct flow_table *ft, const struct dec_packet *pkt, uint32_t wire_len,
                        uint64_t now_us, enum flow_dir *dir)
{
    return flow_track_hashed(ft, pkt, flow_hash(ft, pkt), wire_len, now_us, dir);
}

struct flow *flow_track_hashed(struct flow_table *ft, const struct dec_packet *pkt, uint32_t h,
                               uint32_t wire_len, uint64_t now_us, enum flow_dir *dir)
{
    struct key_words k;
    unsigned src_side;

    key_build(pkt, &k, &src_side);
    struct flow *f = table_find(ft, &k, h);
    bool fresh = false;

    if (f && is_reuse(f, pkt)) {
        /* The old connection ended by FIN or RST; its linger is cut short. */
        flow_end_one(ft, f, expire_reason(f));
        f = NULL;
    }
    if (!f) {
        f = flow_create(ft, &k, h, now_us);
        if (!f)
            return NULL;
        flow_init_first(f, pkt, src_side);
        fresh = true;
    } else if (!(f->flags & FLOW_F_ORIENT_FINAL) && pkt_has_payload(pkt)) {
        orient_by_payload(f, src_side);
    }
    /* The LRU lists are kept to the second: a flow moves to its list's tail
     * on its first packet of each second of packet time, or when its
     * timeout class changes, not on every packet (touching its neighbours
     * costs cache misses). Expiry and eviction are off by at most 1 s. */
    unsigned old_class = f->tclass;
    bool move = fresh || f->last_us / 1000000u != now_us / 1000000u;
    enum flow_dir d = src_side == f->client ? FLOW_TO_SERVER : FLOW_TO_CLIENT;
    if (pkt->ip_proto == DEC_PROTO_TCP)
        tcp_update(
            f, fresh ? (uint8_t)(pkt->tcp_flags & (DEC_TCP_FIN | DEC_TCP_RST)) : pkt->tcp_flags, d);
    f->pkts[d]++;
    f->bytes[d] += wire_len;
    if (now_us > f->last_us)
        f->last_us = now_us;
    if (!fresh && (move || f->tclass != old_class))
        lru_unlink_from(ft, f, old_class);
    if (fresh || move || f->tclass != old_class)
        lru_append(ft, f);
    *dir = d;
    return f;
}

/* ---- expiry, flush, free ---- */

void flow_expire(struct flow_table *ft, uint64_t now_us)
{
    unsigned used = 0, budget = ft->cfg.expire_budget;
    unsigned start = ft->expire_start;

    for (unsigned i = 0; i < FLOW_T__COUNT && used < budget; i++) {
        unsigned c = (start + i) % FLOW_T__COUNT;
        struct flow *f;
        while (used < budget && (f = ft->lru[c].head) != NULL) {
            used++;
            if (now_us <= f->last_us || now_us - f->last_us < ft->timeout_us[c])
                break;
            flow_end_one(ft, f, expire_reason(f));
        }
    }
    ft->expire_start = (start + 1) % FLOW_T__COUNT;
}

void flow_flush(struct flow_table *ft)
{
    /* A closed flow ended by FIN or RST; only its linger is cut short. */
    for (unsigned c = 0; c < FLOW_T__COUNT; c++)
        while (ft->lru[c].head)
            flow_end_one(ft, ft->lru[c].head,
                         c == FLOW_T_CLOSED ? expire_reason(ft->lru[c].head) : FLOW_END_SHUTDOWN);
}

struct flow_table *flow_table_new(const struct flow_config *cfg)
{
    struct flow_table *ft = calloc(1, sizeof(*ft));

    if (!ft)
        return NULL;
    ft->cfg = *cfg;
    ft->nbuckets = FLOW_INIT_BUCKETS;
    ft->buckets = calloc(ft->nbuckets, sizeof(*ft->buckets));
    if (!ft->buckets) {
        free(ft);
        return NULL;
    }
    for (unsigned c = 0; c < FLOW_T__COUNT; c++)
        ft->timeout_us[c] = (uint64_t)cfg->timeout_s[c] * FLOW_US_PER_S;
    mem_add(ft, ft->nbuckets * sizeof(*ft->buckets));
    return ft;
}

void flow_table_free(struct flow_table *ft)
{
    if (!ft)
        return;
    flow_flush(ft);
    while (ft->slabs != NULL) {
        struct flow_slab *next = ft->slabs->next;
        FLOW_UNPOISON(ft->slabs, FLOW_SLAB_BYTES);
        free(ft->slabs);
        ft->slabs = next;
    }
    free(ft->buckets);
    free(ft);
}

/* Flow table: bidirectional TCP and UDP flows keyed by addresses, ports,
 * protocol and VLAN tags.
 *
 * The key is stored in a canonical order so both directions hash and compare
 * the same; the hash is seeded per table. Client and server are decided from
 * SYN / SYN-ACK, else from port hints and the direction of the first payload
 * (the flow is then marked midstream). Flows end on FIN/RST (after a short
 * linger for the last ACKs), on idle timeout, on eviction when the memory cap
 * is reached, or when the table is flushed. All time is packet time in
 * microseconds. Expiry is incremental: each call to flow_expire() looks at a
 * bounded number of flows, the longest idle first.
 */
#ifndef VTLS_FLOW_H
#define VTLS_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor/decode.h"

/* Timeout classes; each has its own idle timeout and its own LRU list. */
enum flow_tclass {
    FLOW_T_HANDSHAKE,   /* SYN seen, not yet established */
    FLOW_T_ESTABLISHED, /* TCP data phase (also midstream TCP) */
    FLOW_T_CLOSED,      /* FIN both ways or RST: linger for trailing packets */
    FLOW_T_UDP,
    FLOW_T__COUNT
};

/* TCP state of a flow. */
enum flow_state {
    FLOW_S_SYN_SENT,    /* client SYN seen */
    FLOW_S_SYN_ACKED,   /* server SYN-ACK seen */
    FLOW_S_ESTABLISHED, /* handshake complete, or data seen midstream */
    FLOW_S_FIN_WAIT,    /* FIN seen from one side */
    FLOW_S_CLOSED,      /* FIN from both sides, or RST */
    FLOW_S_UDP,
};

/* Why a flow ended. */
enum flow_end {
    FLOW_END_NONE,
    FLOW_END_FIN,      /* FIN from both sides */
    FLOW_END_RST,      /* a RST */
    FLOW_END_TIMEOUT,  /* idle timeout of its class */
    FLOW_END_EVICTED,  /* longest idle when the memory cap was reached */
    FLOW_END_SHUTDOWN, /* end of capture or program exit */
};

/* Flow flags. */
enum flow_flag {
    FLOW_F_MIDSTREAM = 1u << 0,    /* start (SYN) not seen */
    FLOW_F_ORIENT_FINAL = 1u << 1, /* client/server decided (SYN, SYN-ACK, payload or port) */
    FLOW_F_CLIENT_FIN = 1u << 2,
    FLOW_F_SERVER_FIN = 1u << 3,
    FLOW_F_STREAM_DONE = 1u << 4, /* reassembly finished: fast path (set by stream.c) */
    FLOW_F_RST = 1u << 5,         /* closed by a RST (end reason RST rather than FIN) */
    FLOW_F_APP_PACKETS = 1u << 6, /* the application layer wants whole packets (nDPI) */
};

/* Direction of a packet relative to the flow's client. */
enum flow_dir { FLOW_TO_SERVER = 0, FLOW_TO_CLIENT = 1 };

/* Canonical key: side 0 is the lower (address, port) pair, compared as
 * (address bytes, port). VLAN tags beyond the packet's vlan_count and the pad
 * are zero, so keys compare with memcmp. 48 bytes: hashed as six 64-bit words. */
struct flow_key {
    struct dec_addr addr[2];
    uint16_t port[2];
    uint16_t vlan[DEC_MAX_VLAN];
    uint8_t family;
    uint8_t proto;
    uint8_t pad[6];
};

struct stream;

struct flow {
    /* Lookup reads these first: a chain entry that is not the flow sought
     * costs one cache line (next and hash in its first 16 bytes). */
    struct flow *hnext; /* hash chain */
    uint32_t hash;
    uint8_t client; /* key side (0 or 1) that is the client */
    uint8_t state;  /* enum flow_state */
    uint8_t tclass; /* enum flow_tclass */
    uint8_t flags;  /* enum flow_flag */
    struct flow_key key;
    uint64_t first_us, last_us;
    uint64_t pkts[2], bytes[2]; /* indexed by enum flow_dir; bytes are frame lengths */
    struct stream *stream;      /* reassembly state, owned by stream.c; NULL when none */
    void *app;                  /* consumer state, owned by the pipeline */
    struct flow *lprev, *lnext; /* LRU list of its timeout class */
    uint64_t id;                /* flow_id of the records: unique within the run, < 2^53 */
};

/* Called for each flow as it ends, already unlinked from the table, before
 * the table frees it. The callback must release flow->stream and flow->app
 * (stream_finish() does the former) and must call no table function except
 * flow_mem_release() and flow_mem_charge() (which then evicts nothing). It may run inside
 * flow_track() or flow_mem_charge() for another flow, when that call evicts this one. */
typedef void (*flow_end_fn)(void *ctx, struct flow *f, enum flow_end why);

struct flow_config {
    uint64_t memcap;                   /* bytes for flows + charged buffers; default 256 MiB */
    uint32_t timeout_s[FLOW_T__COUNT]; /* idle timeout per class, seconds */
    uint32_t seed;                     /* hash seed */
    unsigned expire_budget;            /* flows examined per flow_expire() call */
    flow_end_fn on_end;
    void *ctx;
};

struct flow_stats {
    uint64_t created, ended[FLOW_END_SHUTDOWN + 1];
    uint64_t evicted;      /* same as ended[FLOW_END_EVICTED] */
    uint64_t alloc_failed; /* flow not created: cap reached with nothing evictable */
    uint64_t active;
    uint64_t mem_used, mem_peak; /* flows + bucket array + charged buffers, in bytes */
};

struct flow_table;

/* Fill cfg with the defaults (256 MiB; 60 s handshake, 3600 s established,
 * 10 s closed, 60 s UDP; budget 16). */
void flow_config_default(struct flow_config *cfg);

/* Create a table (cfg is copied). mem_used starts at the size of the initial
 * bucket array; the array doubles when flows outnumber buckets and the cap
 * allows it. Flows live in 2 MiB slabs (huge pages where the kernel allows)
 * that are reused, not returned, until the table is freed; mem_used counts
 * sizeof(struct flow) per live flow, so the slab tail not yet handed out
 * (under 2 MiB) is outside the cap. Returns NULL on allocation failure. */
struct flow_table *flow_table_new(const struct flow_config *cfg);

/* End every flow (reason FLOW_END_SHUTDOWN) and free the table. NULL is a no-op. */
void flow_table_free(struct flow_table *ft);

/* Find or create the flow of pkt at packet time now_us and update its
 * counters, TCP state and orientation. *dir receives the packet's direction.
 * wire_len is the frame's original length (counted in bytes[]). A SYN without
 * ACK on a flow in FLOW_S_CLOSED ends that flow (with its FIN or RST reason) and starts a
 * new one with the same key. Returns NULL (counted in alloc_failed) when no
 * memory could be found even after eviction. The flow stays valid until the
 * next call into the table. Allocates only when a flow is created. */
struct flow *flow_track(struct flow_table *ft, const struct dec_packet *pkt, uint32_t wire_len,
                        uint64_t now_us, enum flow_dir *dir);

/* Looking ahead at packets soon to be tracked. flow_hash() is the hash
 * flow_track() computes for pkt; it reads only the seed, fixed when the table
 * is made, so it may run on another thread while the table is in use.
 * flow_bucket_prefetch() asks the cache for the bucket of hash h, and
 * flow_prefetch(), a few packets later, for the flow at the head of that
 * bucket. flow_track_hashed() is flow_track() given h = flow_hash(ft, pkt).
 * The prefetches are hints: the table may change between them and the call. */
uint32_t flow_hash(const struct flow_table *ft, const struct dec_packet *pkt);
void flow_bucket_prefetch(const struct flow_table *ft, uint32_t h);
void flow_prefetch(const struct flow_table *ft, uint32_t h);
struct flow *flow_track_hashed(struct flow_table *ft, const struct dec_packet *pkt, uint32_t h,
                               uint32_t wire_len, uint64_t now_us, enum flow_dir *dir);

/* End flows idle past their class timeout at now_us, looking at no more than
 * the configured budget of flows (the heads of the class LRU lists, starting
 * with a different class on each call). Flows of FLOW_T_CLOSED end with
 * FLOW_END_FIN or FLOW_END_RST, the others with FLOW_END_TIMEOUT. */
void flow_expire(struct flow_table *ft, uint64_t now_us);

/* End every flow with FLOW_END_SHUTDOWN (end of a capture). */
void flow_flush(struct flow_table *ft);

/* Charge n bytes of buffers held for flow f against the memory cap, evicting
 * other flows (longest idle first, never f; f may be NULL) if needed; from
 * inside an on_end callback nothing is evicted (only what fits is charged).
 * Returns false, charging nothing, when the cap cannot be met.
 * flow_mem_release() returns bytes charged earlier. */
bool flow_mem_charge(struct flow_table *ft, const struct flow *f, size_t n);
void flow_mem_release(struct flow_table *ft, size_t n);

/* What the heap spends on one malloc'd block of n bytes (glibc on a 64-bit
 * system: n and an 8-byte header rounded up to 16, at least 32). A block is
 * charged and released at this size, so that the cap bounds the memory the
 * flows really take, headers included. */
static inline size_t flow_mem_block(size_t n)
{
    size_t b = (n + 8 + 15) & ~(size_t)15;
    return b < 32 ? 32 : b;
}

const struct flow_stats *flow_table_stats(const struct flow_table *ft);

/* Key side (0 or 1) of the client and of the server: f->key.addr[side]. */
static inline unsigned flow_client_side(const struct flow *f)
{
    return f->client;
}
static inline unsigned flow_server_side(const struct flow *f)
{
    return f->client ^ 1u;
}

/* Whether port p is a well-known server port of a Vitess cluster (hint only). */
bool flow_port_hint(uint16_t p);

const char *flow_end_name(enum flow_end why);

#endif

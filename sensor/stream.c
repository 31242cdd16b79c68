/* TCP stream reassembly: see the policy in stream.h. */
#include "sensor/stream.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define STREAM_CFG_MAX (1u << 30)
/* Held pieces per direction beyond which the first hole is declared a gap, as
 * for max_ooo: bounds the list walk of hostile streams of tiny segments. */
#define STREAM_MAX_PIECES 256u

enum half_flag {
    HALF_INIT = 1u << 0,  /* next is known */
    HALF_ACKED = 1u << 1, /* acked is valid */
    HALF_FIN = 1u << 2,   /* fin_seq is valid */
    HALF_ENDED = 1u << 3, /* depth or FIN reached: nothing more to deliver */
};

/* A held out-of-order piece; pieces of one half never overlap. */
struct stream_seg {
    struct stream_seg *next;
    uint32_t seq, len;
    uint8_t data[];
};

/* One direction, indexed by the key side of its sender (so the index does not
 * change when a tentative orientation is corrected). */
struct stream_half {
    struct stream_seg *held; /* sorted by seq, all after next */
    uint32_t next;           /* sequence number of the next byte to deliver */
    uint32_t offset;         /* stream bytes passed (delivered or gap), <= depth */
    uint32_t acked;          /* highest ACK number the peer sent */
    uint32_t fin_seq;        /* sequence number of the FIN */
    uint32_t held_bytes;
    uint16_t held_pieces;
    uint8_t flags; /* enum half_flag */
};

struct stream {
    struct stream_half h[2];
};

struct stream_engine {
    struct stream_config cfg;
    struct stream_consumer cons;
    struct flow_table *ft;
    struct stream_stats st;
};

/* Everything a step needs: the engine, the flow and one of its halves. */
struct sctx {
    struct stream_engine *se;
    struct flow *f;
    struct stream_half *h;
    enum flow_dir dir;
};

/* Serial number arithmetic (RFC 1982) on 32-bit sequence numbers. */
static bool seq_lt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}
static bool seq_le(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) <= 0;
}
static bool seq_gt(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) > 0;
}

void stream_config_default(struct stream_config *cfg)
{
    cfg->depth = 64u << 10;
    cfg->max_ooo = 64u << 10;
}

struct stream_engine *stream_engine_new(const struct stream_config *cfg,
                                        const struct stream_consumer *consumer,
                                        struct flow_table *ft)
{
    struct stream_engine *se = calloc(1, sizeof(*se));

    if (!se)
        return NULL;
    se->cfg = *cfg;
    if (se->cfg.depth > STREAM_CFG_MAX)
        se->cfg.depth = STREAM_CFG_MAX;
    if (se->cfg.max_ooo > STREAM_CFG_MAX)
        se->cfg.max_ooo = STREAM_CFG_MAX;
    se->cons = *consumer;
    se->ft = ft;
    return se;
}

void stream_engine_free(struct stream_engine *se)
{
    free(se);
}

const struct stream_stats *stream_engine_stats(const struct stream_engine *se)
{
    return &se->st;
}

static struct sctx sctx_of(struct stream_engine *se, struct flow *f, unsigned side)
{
    struct sctx c = {.se = se, .f = f, .h = &f->stream->h[side]};

    c.dir = side == flow_client_side(f) ? FLOW_TO_SERVER : FLOW_TO_CLIENT;
    return c;
}

/* ---- held segments ---- */

static void seg_free(struct stream_engine *se, struct stream_seg *s)
{
    flow_mem_release(se->ft, flow_mem_block(sizeof(*s) + s->len));
    free(s);
}

static void half_drop_held(struct stream_engine *se, struct stream_half *h)
{
    while (h->held) {
        struct stream_seg *s = h->held;
        h->held = s->next;
        seg_free(se, s);
    }
    h->held_bytes = 0;
    h->held_pieces = 0;
}

static struct stream_seg *seg_new(const struct sctx *c, uint32_t seq, const uint8_t *p, uint32_t n)
{
    size_t size = sizeof(struct stream_seg) + n;
    struct stream_seg *s;

    if (!flow_mem_charge(c->se->ft, c->f, flow_mem_block(size)))
        return NULL;
    s = malloc(size);
    if (!s) {
        flow_mem_release(c->se->ft, flow_mem_block(size));
        return NULL;
    }
    s->next = NULL;
    s->seq = seq;
    s->len = n;
    memcpy(s->data, p, n);
    return s;
}

/* Hold the bytes of [seq, seq + len) that no held piece covers (first wins). */
static void hold(const struct sctx *c, uint32_t seq, const uint8_t *p, uint32_t len, bool *overlap)
{
    struct stream_half *h = c->h;
    struct stream_seg **pp = &h->held;
    uint32_t s = seq, e = seq + len;
    bool stored = false;

    while (seq_lt(s, e)) {
        while (*pp && seq_le((*pp)->seq + (*pp)->len, s))
            pp = &(*pp)->next;
        struct stream_seg *cur = *pp;
        uint32_t pe = e;
        if (cur && seq_lt(cur->seq, e)) {
            *overlap = true;
            if (seq_le(cur->seq, s)) {
                s = cur->seq + cur->len;
                pp = &cur->next;
                continue;
            }
            pe = cur->seq;
        }
        struct stream_seg *n = seg_new(c, s, p + (s - seq), pe - s);
        if (!n) {
            c->se->st.memcap_drops++;
            break;
        }
        n->next = *pp;
        *pp = n;
        pp = &n->next;
        h->held_bytes += pe - s;
        h->held_pieces++;
        stored = true;
        s = pe;
    }
    if (stored)
        c->se->st.held++;
}

/* ---- delivery ---- */

static void half_end(const struct sctx *c, bool depth)
{
    c->h->flags |= HALF_ENDED;
    half_drop_held(c->se, c->h);
    if (depth)
        c->se->st.depth_reached++;
}

/* Pass the stream position by n bytes (delivered or gap); ends the half at depth. */
static void half_pass(const struct sctx *c, uint64_t n)
{
    uint32_t room = c->se->cfg.depth - c->h->offset;

    c->h->next += (uint32_t)n;
    c->h->offset += n > room ? room : (uint32_t)n;
}

/* Deliver up to n in-order bytes at next. Returns false when the consumer is done. */
static bool deliver(const struct sctx *c, const uint8_t *p, uint32_t n)
{
    struct stream_engine *se = c->se;
    uint32_t room = se->cfg.depth - c->h->offset;
    enum stream_verdict v = STREAM_MORE;

    if (n > room)
        n = room;
    if (n == 0)
        return true;
    half_pass(c, n);
    se->st.delivered += n;
    if (se->cons.data)
        v = se->cons.data(se->cons.ctx, c->f, c->dir, p, n);
    if (v == STREAM_DONE)
        return false;
    if (c->h->offset >= se->cfg.depth)
        half_end(c, true);
    return true;
}

/* Declare the n bytes at next lost. Returns false when the consumer is done. */
static bool declare_gap(const struct sctx *c, uint32_t n)
{
    struct stream_engine *se = c->se;
    enum stream_verdict v = STREAM_MORE;

    half_pass(c, n);
    se->st.gaps++;
    se->st.gap_bytes += n;
    if (se->cons.gap)
        v = se->cons.gap(se->cons.ctx, c->f, c->dir, n);
    if (v == STREAM_DONE)
        return false;
    if (c->h->offset >= se->cfg.depth)
        half_end(c, true);
    return true;
}

/* Deliver the head piece s (it starts at or before next) and free it. */
static bool deliver_held(const struct sctx *c, struct stream_seg *s)
{
    struct stream_half *h = c->h;
    uint32_t end = s->seq + s->len;
    bool more = true;

    h->held = s->next;
    h->held_bytes -= s->len;
    h->held_pieces--;
    if ((h->flags & HALF_FIN) && seq_gt(end, h->fin_seq))
        end = h->fin_seq;
    if (seq_gt(end, h->next))
        more = deliver(c, s->data + (h->next - s->seq), end - h->next);
    seg_free(c->se, s);
    return more;
}

/* Deliver what became contiguous and skip the holes the policy declares gaps
 * (all of them when finishing). Returns false when the consumer is done. */
static bool advance(const struct sctx *c, bool finishing)
{
    struct stream_half *h = c->h;

    for (;;) {
        if (h->flags & HALF_ENDED)
            return true;
        if ((h->flags & HALF_FIN) && seq_le(h->fin_seq, h->next)) {
            half_end(c, false);
            return true;
        }
        struct stream_seg *s = h->held;
        if (!s)
            return true;
        if (seq_le(s->seq, h->next)) {
            if (!deliver_held(c, s))
                return false;
            continue;
        }
        uint32_t end = s->seq;
        if ((h->flags & HALF_ACKED) && seq_gt(h->acked, h->next)) {
            if (seq_lt(h->acked, end))
                end = h->acked;
        } else if (!finishing && h->held_bytes <= c->se->cfg.max_ooo &&
                   h->held_pieces <= STREAM_MAX_PIECES) {
            return true;
        }
        if (!declare_gap(c, end - h->next))
            return false;
    }
}

/* ---- one segment ---- */

/* Payload bytes [seq, seq + len) of the half. Returns false when the consumer is done. */
static bool half_data(const struct sctx *c, uint32_t seq, const uint8_t *p, uint32_t len)
{
    struct stream_half *h = c->h;
    bool overlap = false;

    if (h->flags & HALF_ENDED)
        return true;
    if (h->flags & HALF_FIN) {
        if (seq_le(h->fin_seq, seq))
            return true;
        if (seq_gt(seq + len, h->fin_seq))
            len = h->fin_seq - seq;
    }
    if (seq_le(seq + len, h->next)) {
        c->se->st.retransmitted++;
        return true;
    }
    if (seq_lt(seq, h->next)) {
        uint32_t skip = h->next - seq;
        seq += skip;
        p += skip;
        len -= skip;
        overlap = true;
    }

    /* Bytes beyond depth are never needed. */
    uint32_t limit = h->next + (c->se->cfg.depth - h->offset);
    if (seq_le(limit, seq))
        return true;
    if (seq_gt(seq + len, limit))
        len = limit - seq;

    /* In order: deliver up to the first held piece (held bytes win). */
    if (seq == h->next) {
        uint32_t n = len;
        if (h->held && seq_lt(h->held->seq, seq + len))
            n = h->held->seq - seq;
        if (!deliver(c, p, n))
            return false;
        seq += n;
        p += n;
        len -= n;
    }
    if (len > 0 && !(h->flags & HALF_ENDED))
        hold(c, seq, p, len, &overlap);
    if (overlap)
        c->se->st.overlaps++;
    return advance(c, false);
}

/* The peer acknowledged everything before ack. */
static bool half_ack(const struct sctx *c, uint32_t ack)
{
    struct stream_half *h = c->h;

    if (!(h->flags & HALF_INIT) || (h->flags & HALF_ENDED))
        return true;
    if (!(h->flags & HALF_ACKED) || seq_gt(ack, h->acked)) {
        h->acked = ack;
        h->flags |= HALF_ACKED;
    }
    return h->held ? advance(c, false) : true;
}

static bool half_fin(const struct sctx *c, uint32_t fin_seq)
{
    if (!(c->h->flags & HALF_FIN)) {
        c->h->fin_seq = fin_seq;
        c->h->flags |= HALF_FIN;
    }
    return advance(c, false);
}

static bool finish_all(struct stream_engine *se, struct flow *f)
{
    for (unsigned side = 0; side < 2; side++) {
        struct sctx c = sctx_of(se, f, side);
        if (!advance(&c, true))
            return false;
    }
    return true;
}

/* Returns false when the stream is done (consumer verdict or RST). */
static bool segment_in(struct stream_engine *se, struct flow *f, unsigned side,
                       const struct dec_packet *pkt)
{
    uint8_t fl = pkt->tcp_flags;
    uint32_t wire = pkt->payload_wire > pkt->payload_len ? pkt->payload_wire : pkt->payload_len;

    if (fl & DEC_TCP_RST) {
        finish_all(se, f);
        return false;
    }
    if (fl & DEC_TCP_ACK) {
        struct sctx peer = sctx_of(se, f, side ^ 1u);
        if (!half_ack(&peer, pkt->ack))
            return false;
    }

    struct sctx c = sctx_of(se, f, side);
    struct stream_half *h = c.h;
    uint32_t seq = pkt->seq;
    if (fl & DEC_TCP_SYN) {
        seq++;
        if (!(h->flags & HALF_INIT)) {
            h->next = seq;
            h->flags |= HALF_INIT;
        }
    } else if (!(h->flags & HALF_INIT) && (wire > 0 || (fl & DEC_TCP_FIN))) {
        h->next = seq;
        h->flags |= HALF_INIT;
    }
    if (!(h->flags & HALF_INIT))
        return true;
    if (pkt->payload_len > 0 && !half_data(&c, seq, pkt->payload, pkt->payload_len))
        return false;
    if (fl & DEC_TCP_FIN)
        return half_fin(&c, seq + wire);
    return true;
}

/* ---- stream state life cycle ---- */

static bool stream_create(struct stream_engine *se, struct flow *f)
{
    if (!flow_mem_charge(se->ft, f, flow_mem_block(sizeof(struct stream)))) {
        se->st.memcap_drops++;
        return false;
    }
    f->stream = calloc(1, sizeof(struct stream));
    if (!f->stream) {
        flow_mem_release(se->ft, flow_mem_block(sizeof(struct stream)));
        se->st.memcap_drops++;
        return false;
    }
    return true;
}

static void stream_free(struct stream_engine *se, struct flow *f)
{
    half_drop_held(se, &f->stream->h[0]);
    half_drop_held(se, &f->stream->h[1]);
    free(f->stream);
    f->stream = NULL;
    flow_mem_release(se->ft, flow_mem_block(sizeof(struct stream)));
    f->flags |= FLOW_F_STREAM_DONE;
}

void stream_segment(struct stream_engine *se, struct flow *f, enum flow_dir dir,
                    const struct dec_packet *pkt)
{
    if ((f->flags & FLOW_F_STREAM_DONE) || pkt->ip_proto != DEC_PROTO_TCP)
        return;
    if (pkt->payload_len > 0 || pkt->payload_wire > 0)
        se->st.segments++;
    if (!f->stream && !stream_create(se, f))
        return;

    unsigned side = dir == FLOW_TO_SERVER ? flow_client_side(f) : flow_server_side(f);
    bool more = segment_in(se, f, side, pkt);
    const struct stream *s = f->stream;
    if (more && (s->h[0].flags & HALF_ENDED) && (s->h[1].flags & HALF_ENDED))
        more = false;
    if (!more) {
        stream_free(se, f);
        se->st.done++;
    }
}

void stream_finish(struct stream_engine *se, struct flow *f)
{
    if (!f->stream)
        return;
    finish_all(se, f);
    stream_free(se, f);
}

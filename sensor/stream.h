/* TCP stream reassembly: per direction, in-order delivery of the first
 * `depth` bytes of each TCP flow to one consumer.
 *
 * Policy (documented for users in README.md):
 * - The stream starts at the SYN's ISN + 1 (the SYN-ACK's for the server
 *   side), or midstream at the first segment with payload (or FIN) seen in
 *   that direction.
 * - Out-of-order segments are copied and held (charged to the flow table's
 *   memory cap) until the hole before them is filled. When the charge fails
 *   the segment is dropped and counted (memcap_drops); its bytes become a hole.
 * - Overlaps: bytes already delivered or already held win ("first wins");
 *   a retransmission adds nothing; a later segment only contributes bytes no
 *   earlier segment covered.
 * - A hole is declared a gap, reported to the consumer with its size, and
 *   skipped when: the peer has acknowledged data beyond the start of the
 *   hole and data after the hole is held (the capture lost it; the gap ends
 *   at the acknowledged point or the held data, whichever comes first), the
 *   held bytes of that direction exceed max_ooo (or the held pieces exceed
 *   256), or the flow ends
 *   (stream_finish) or is reset. An ACK with nothing held after the hole
 *   declares nothing yet, so an ACK captured before the data it acknowledges
 *   loses no bytes.
 * - depth counts stream bytes of a direction, delivered or skipped as a gap;
 *   bytes beyond it are never held or delivered.
 * - A FIN consumes one sequence number; data after it is ignored. The
 *   direction ends once delivery reaches the FIN.
 * - A RST ends delivery: what is held is delivered as at stream_finish
 *   (holes reported as gaps), then the stream is done.
 * - Sequence numbers are compared modulo 2^32 (serial number arithmetic), so
 *   wrap-around is handled.
 * - When the consumer answers STREAM_DONE (from either callback), or both
 *   directions have ended (depth or FIN reached), all buffers are freed,
 *   flow->stream is set to NULL and FLOW_F_STREAM_DONE is set: later segments
 *   of the flow cost a flag test. No callback follows a STREAM_DONE answer.
 */
#ifndef VTLS_STREAM_H
#define VTLS_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "sensor/decode.h"
#include "sensor/flow.h"

enum stream_verdict {
    STREAM_MORE = 0, /* keep delivering */
    STREAM_DONE = 1, /* the consumer has seen enough of this flow (both directions) */
};

struct stream_consumer {
    /* n in-order bytes of direction dir (n > 0). p is valid during the call only. */
    enum stream_verdict (*data)(void *ctx, struct flow *f, enum flow_dir dir, const uint8_t *p,
                                size_t n);
    /* n bytes of direction dir that will never be delivered, just before the next data. */
    enum stream_verdict (*gap)(void *ctx, struct flow *f, enum flow_dir dir, uint64_t n);
    void *ctx;
};

struct stream_config {
    uint32_t depth;   /* bytes delivered per direction; default 64 KiB, at most 1 GiB */
    uint32_t max_ooo; /* bytes held out of order per direction; default 64 KiB, at most 1 GiB */
};

struct stream_stats {
    uint64_t segments;        /* TCP segments with payload offered */
    uint64_t delivered;       /* bytes delivered in order */
    uint64_t retransmitted;   /* segments entirely before the delivery point */
    uint64_t overlaps;        /* segments that partly overlapped known bytes */
    uint64_t held;            /* segments held out of order */
    uint64_t gaps, gap_bytes; /* holes declared */
    uint64_t memcap_drops;    /* segments not held (or streams not created): memory cap */
    uint64_t depth_reached;   /* directions that reached depth */
    uint64_t done;            /* flows switched to the fast path */
};

struct stream_engine;

void stream_config_default(struct stream_config *cfg);

/* Create an engine delivering to *consumer (copied) and charging held
 * buffers to ft. Returns NULL on allocation failure. */
struct stream_engine *stream_engine_new(const struct stream_config *cfg,
                                        const struct stream_consumer *consumer,
                                        struct flow_table *ft);
void stream_engine_free(struct stream_engine *se);

/* Offer one TCP segment of flow f travelling in direction dir (as returned
 * by flow_track). Call it for EVERY TCP packet of the flow, with or without
 * payload: SYNs set the base sequence numbers and the ACK numbers of pure
 * ACKs are what declares lost data a gap. Creates the flow's stream state on
 * first use (charged to the flow table's cap; when that fails the packet is
 * skipped and counted in memcap_drops); does nothing once FLOW_F_STREAM_DONE
 * is set. Delivery to the consumer happens inside this call. Charging held
 * segments may evict other flows, so the table's on_end (and through
 * stream_finish this consumer, for those flows) may run inside this call. */
void stream_segment(struct stream_engine *se, struct flow *f, enum flow_dir dir,
                    const struct dec_packet *pkt);

/* The flow is ending: report remaining holes as gaps, deliver what is held,
 * then free the flow's stream state (flow->stream = NULL). Safe on flows
 * without a stream. Meant for the flow table's on_end callback. */
void stream_finish(struct stream_engine *se, struct flow *f);

const struct stream_stats *stream_engine_stats(const struct stream_engine *se);

#endif

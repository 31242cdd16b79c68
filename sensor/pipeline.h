/* The per-packet pipeline: decode -> flow table -> stream reassembly ->
 * dissectors, and the records written when flows end. One pipeline owns one
 * flow table and has no global state, so a worker thread could own one each.
 */
#ifndef VTLS_PIPELINE_H
#define VTLS_PIPELINE_H

#include <stdint.h>
#include <stdio.h>

#include "output/eve.h"
#include "output/geo.h"
#include "sensor/app.h"
#include "sensor/capture.h"
#include "sensor/classify.h"
#include "sensor/decode.h"
#include "sensor/flow.h"
#include "sensor/stream.h"
#include "sensor/verdict.h"

struct pl_config {
    struct flow_config flow; /* on_end and ctx are set by the pipeline */
    struct stream_config stream;
    uint16_t cid_seed;                     /* Community ID seed; default 0 */
    struct eve_writer *flows;              /* flow records; NULL writes none; not owned */
    const struct cls_inventory *inventory; /* may be NULL; not owned */
    const char *ca_bundle;                 /* PEM bundle for chain validation, or NULL */
    bool ndpi;                             /* nDPI on unrecognised flows; default true */
    struct vd_engine *verdicts;            /* rules, alerts, metrics; NULL: none; not owned */
    struct geo *geo;                       /* GeoIP / zone databases; NULL: none; not owned */
};

struct pl_stats {
    uint64_t packets;      /* frames offered */
    uint64_t bytes;        /* their original (wire) lengths */
    uint64_t decoded;      /* frames that held TCP or UDP */
    uint64_t untracked;    /* decoded but no flow (memory cap) */
    uint64_t ts_backwards; /* frames whose time went backwards (clamped) */
};

struct pipeline;

void pl_config_default(struct pl_config *cfg);

/* Create a pipeline for frames of link type dlt. Returns NULL with a
 * message in err (256 bytes) when dlt is unsupported or memory is short. */
struct pipeline *pl_new(const struct pl_config *cfg, int dlt, char *err);

/* The work on a frame that needs only the frame, for cap_set_prep() (ctx is
 * the pipeline, notes are pl_note_size() bytes): the one-pass decode and the
 * flow hash. It reads only what is fixed when the pipeline is made (the link
 * type, the table's hash seed), so it may run on the capture's reader thread
 * while pl_packets() runs on another. */
void pl_prep(const void *ctx, const struct cap_pkt *p, void *note);
size_t pl_note_size(void);

/* Process frames p[0..n) in order (a cap_batch_fn: ctx is the pipeline).
 * With n > 1 each frame's flow hash bucket and flow are prefetched a few
 * frames before its turn, from its note (pl_prep) when the frames have
 * notes, or else decoding it that far ahead. */
void pl_packets(void *ctx, const struct cap_pkt *p, size_t n);

/* A live capture with no packet for a while: let packet time follow the
 * clock (now_us, the same clock the kernel stamps packets with) and expire
 * idle flows in bounded steps, so a silent link still ends its flows. */
void pl_idle(struct pipeline *pl, uint64_t now_us);

/* End every flow now (end of a capture): records are written. */
void pl_finish(struct pipeline *pl);

/* Finish and free; NULL is a no-op. */
void pl_free(struct pipeline *pl);

const struct pl_stats *pl_get_stats(const struct pipeline *pl);
const struct dec_stats *pl_dec_stats(const struct pipeline *pl);
const struct flow_stats *pl_flow_stats(const struct pipeline *pl);
const struct stream_stats *pl_stream_stats(const struct pipeline *pl);
const struct app_stats *pl_app_stats(const struct pipeline *pl);

/* Publish the pipeline's counters (packets, bytes, decode and parser
 * errors, flows, evictions, memory) as absolute values into std. Call it
 * now and then (e.g. once per second of packet time), not per packet. */
void pl_publish_metrics(const struct pipeline *pl, struct metrics *m,
                        const struct metrics_std *std);

/* The end-of-run summary: packets, bytes, flows, decode errors by kind,
 * evictions, reassembly, output errors. */
void pl_print_summary(const struct pipeline *pl, FILE *out);

#endif

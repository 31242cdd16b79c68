/* The per-packet pipeline: see pipeline.h. */
#include "sensor/pipeline.h"

#include <stdlib.h>
#include <string.h>

#include "output/eve_event.h"

/* Packets between two expiry steps (a power of two). Each step looks at the
 * oldest flow of every timeout class, cold cache lines, so steps are spaced
 * out; the budget per step keeps up with two ended flows per packet. */
#define PL_EXPIRE_EVERY 64

/* pl_packets() decodes a packet and prefetches its hash bucket
 * PL_AHEAD_BUCKET packets before its turn, and the flow at the head of the
 * bucket PL_AHEAD_FLOW packets before. */
#define PL_AHEAD_BUCKET 8
#define PL_AHEAD_FLOW   4
#define PL_AHEAD_RING   16 /* a power of two above PL_AHEAD_BUCKET */

struct pipeline {
    struct pl_config cfg;
    int dlt;
    uint64_t now_us; /* latest packet time seen: time never goes backwards */
    struct flow_table *ft;
    struct stream_engine *se;
    struct app_engine *app;
    struct dec_stats dec;
    struct pl_stats st;
};

void pl_config_default(struct pl_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    flow_config_default(&cfg->flow);
    cfg->flow.expire_budget = 2 * PL_EXPIRE_EVERY;
    stream_config_default(&cfg->stream);
    cfg->ndpi = true;
}

/* One side's GeoIP / zone facts into g, pointing into r. */
static void pl_geo_side(struct pipeline *pl, const struct rules_addr *a, struct geo_result *r,
                        struct rules_geo *g)
{
    if (!geo_lookup(pl->cfg.geo, a->family, a->b, r) || !r->found)
        return;
    g->country = r->country[0] ? r->country : NULL;
    if (r->asn != 0)
        g->asn = RULES_NUM(r->asn);
    g->as_org = r->as_org[0] ? r->as_org : NULL;
    g->n_custom = r->nkv < RULES_GEO_CUSTOM_MAX ? r->nkv : RULES_GEO_CUSTOM_MAX;
    for (size_t i = 0; i < g->n_custom; i++)
        g->custom[i] = (struct rules_geo_kv){.key = r->kv[i].key, .value = r->kv[i].value};
}

/* Enrich ev with both sides' geo facts; r holds them while ev is used. */
static void pl_geo(struct pipeline *pl, struct rules_event *ev, struct geo_result r[2])
{
    if (pl->cfg.geo == NULL)
        return;
    pl_geo_side(pl, &ev->flow.src_ip, &r[0], &ev->geo.src);
    pl_geo_side(pl, &ev->flow.dst_ip, &r[1], &ev->geo.dst);
}

/* An event from the application layer, enriched with geo facts, to the
 * verdict engine: a flow's verdict, or a certificate not seen before. */
static void pl_on_event(void *ctx, struct flow *f, const struct rules_event *ev)
{
    struct pipeline *pl = ctx;
    struct rules_event full = *ev;
    struct geo_result geo[2];
    if (pl->cfg.verdicts == NULL)
        return;
    pl_geo(pl, &full, geo);
    if (full.kind == RULES_EVENT_FLOW)
        vd_flow(pl->cfg.verdicts, f, &full, pl->now_us, app_tls_duration_us(f));
    else
        vd_certificate(pl->cfg.verdicts, f, &full, pl->now_us);
}

static void pl_write_flow(struct pipeline *pl, struct flow *f, enum flow_end why)
{
    struct rules_event ev;
    struct geo_result geo[2];
    app_fill_event(pl->app, f, &ev);
    pl_geo(pl, &ev, geo);
    eve_scope_begin();
    json_t *rec = eve_flow_record(f, why, pl->cfg.cid_seed);
    if (rec != NULL && eve_add_event(rec, &ev))
        eve_write(pl->cfg.flows, rec);
    json_decref(rec);
    eve_scope_end();
}

static void pl_on_flow_end(void *ctx, struct flow *f, enum flow_end why)
{
    struct pipeline *pl = ctx;

    stream_finish(pl->se, f);
    app_on_end(pl->app, f);
    if (pl->cfg.flows != NULL)
        pl_write_flow(pl, f, why);
    app_release(pl->app, f);
}

struct pipeline *pl_new(const struct pl_config *cfg, int dlt, char *err)
{
    if (!dec_dlt_supported(dlt)) {
        snprintf(err, 256, "link type %d is not supported", dlt);
        return NULL;
    }
    struct pipeline *pl = calloc(1, sizeof(*pl));
    if (pl == NULL)
        goto nomem;
    pl->cfg = *cfg;
    pl->dlt = dlt;
    pl->cfg.flow.on_end = pl_on_flow_end;
    pl->cfg.flow.ctx = pl;
    pl->ft = flow_table_new(&pl->cfg.flow);
    if (pl->ft == NULL)
        goto nomem;
    struct app_config ac = {.inventory = cfg->inventory,
                            .ca_bundle = cfg->ca_bundle,
                            .ndpi = cfg->ndpi,
                            .on_verdict = pl_on_event,
                            .on_certificate = pl_on_event,
                            .ctx = pl};
    pl->app = app_engine_new(&ac, pl->ft, err);
    if (pl->app == NULL) {
        pl_free(pl);
        return NULL;
    }
    struct stream_consumer consumer = {.data = app_on_data, .gap = app_on_gap, .ctx = pl->app};
    pl->se = stream_engine_new(&pl->cfg.stream, &consumer, pl->ft);
    if (pl->se == NULL)
        goto nomem;
    return pl;

nomem:
    snprintf(err, 256, "out of memory creating the flow table");
    pl_free(pl);
    return NULL;
}

/* A packet decoded ahead of its turn: in pl_packets_ring()'s ring, or as the
 * packet's note when the capture's reader thread made it (pl_prep). */
struct pl_ahead {
    struct dec_packet pkt;
    uint32_t hash; /* flow_hash() of pkt */
    bool ok;       /* dec_packet_fast() took the frame; else it is decoded in turn */
};

size_t pl_note_size(void)
{
    return sizeof(struct pl_ahead);
}

void pl_prep(const void *ctx, const struct cap_pkt *p, void *note)
{
    const struct pipeline *pl = ctx;
    struct pl_ahead *a = note;
    a->ok = dec_packet_fast(pl->dlt, p->data, p->caplen, &a->pkt);
    if (a->ok)
        a->hash = flow_hash(pl->ft, &a->pkt);
}

static void pl_one(struct pipeline *pl, const struct cap_pkt *cp, struct pl_ahead *a)
{
    pl->st.packets++;
    pl->st.bytes += cp->wire_len;
    if (cp->ts_us < pl->now_us)
        pl->st.ts_backwards++;
    else
        pl->now_us = cp->ts_us;
    app_set_time(pl->app, pl->now_us);

    if (a->ok || dec_packet(pl->dlt, cp->data, cp->caplen, &a->pkt, &pl->dec)) {
        pl->st.decoded++;
        enum flow_dir dir;
        struct flow *f =
            a->ok ? flow_track_hashed(pl->ft, &a->pkt, a->hash, cp->wire_len, pl->now_us, &dir)
                  : flow_track(pl->ft, &a->pkt, cp->wire_len, pl->now_us, &dir);
        if (f == NULL) {
            pl->st.untracked++;
        } else {
            if (a->pkt.ip_proto == DEC_PROTO_TCP && !(f->flags & FLOW_F_STREAM_DONE))
                stream_segment(pl->se, f, dir, &a->pkt);
            if (f->flags & FLOW_F_APP_PACKETS)
                app_on_packet(pl->app, f, &a->pkt);
        }
    }
    /* Expiry in small steps: every PL_EXPIRE_EVERY packets, a bounded look at
     * the longest idle flows (flow_expire's budget), never a sweep. */
    if ((pl->st.packets & (PL_EXPIRE_EVERY - 1)) == 0)
        flow_expire(pl->ft, pl->now_us);
}

/* Stage one of the look-ahead: decode, hash and ask for the bucket. */
static void pl_look(const struct pipeline *pl, const struct cap_pkt *cp, struct pl_ahead *a)
{
    pl_prep(pl, cp, a);
    if (a->ok)
        flow_bucket_prefetch(pl->ft, a->hash);
}

/* Packets without notes: decoded here, in a ring PL_AHEAD_BUCKET ahead. */
static void pl_packets_ring(struct pipeline *pl, const struct cap_pkt *p, size_t n)
{
    struct pl_ahead ring[PL_AHEAD_RING];

    if (n == 1) {
        ring[0].ok = false;
        pl_one(pl, p, &ring[0]);
        return;
    }
    for (size_t i = 0; i < n && i < PL_AHEAD_BUCKET; i++)
        pl_look(pl, &p[i], &ring[i % PL_AHEAD_RING]);
    for (size_t i = 0; i < n; i++) {
        size_t b = i + PL_AHEAD_BUCKET, f = i + PL_AHEAD_FLOW;
        if (b < n)
            pl_look(pl, &p[b], &ring[b % PL_AHEAD_RING]);
        if (f < n && ring[f % PL_AHEAD_RING].ok)
            flow_prefetch(pl->ft, ring[f % PL_AHEAD_RING].hash);
        pl_one(pl, &p[i], &ring[i % PL_AHEAD_RING]);
    }
}

/* Packets whose notes the reader thread made (pl_prep). */
static void pl_packets_noted(struct pipeline *pl, const struct cap_pkt *p, size_t n)
{
    for (size_t i = 0; i < n && i < PL_AHEAD_BUCKET; i++) {
        const struct pl_ahead *a = p[i].note;
        if (a->ok)
            flow_bucket_prefetch(pl->ft, a->hash);
    }
    for (size_t i = 0; i < n; i++) {
        size_t b = i + PL_AHEAD_BUCKET, f = i + PL_AHEAD_FLOW;
        const struct pl_ahead *ab = b < n ? p[b].note : NULL, *af = f < n ? p[f].note : NULL;
        if (ab != NULL && ab->ok)
            flow_bucket_prefetch(pl->ft, ab->hash);
        if (af != NULL && af->ok)
            flow_prefetch(pl->ft, af->hash);
        pl_one(pl, &p[i], p[i].note);
    }
}

void pl_packets(void *ctx, const struct cap_pkt *p, size_t n)
{
    if (n > 0 && p[0].note != NULL)
        pl_packets_noted(ctx, p, n);
    else
        pl_packets_ring(ctx, p, n);
}

void pl_idle(struct pipeline *pl, uint64_t now_us)
{
    if (now_us <= pl->now_us)
        return;
    pl->now_us = now_us;
    app_set_time(pl->app, now_us);
    for (int i = 0; i < 64; i++)
        flow_expire(pl->ft, now_us);
}

void pl_finish(struct pipeline *pl)
{
    flow_flush(pl->ft);
}

void pl_free(struct pipeline *pl)
{
    if (pl == NULL)
        return;
    if (pl->ft != NULL && pl->se != NULL && pl->app != NULL)
        flow_flush(pl->ft);
    stream_engine_free(pl->se);
    flow_table_free(pl->ft);
    app_engine_free(pl->app);
    free(pl);
}

const struct pl_stats *pl_get_stats(const struct pipeline *pl)
{
    return &pl->st;
}

const struct dec_stats *pl_dec_stats(const struct pipeline *pl)
{
    return &pl->dec;
}

const struct flow_stats *pl_flow_stats(const struct pipeline *pl)
{
    return flow_table_stats(pl->ft);
}

const struct stream_stats *pl_stream_stats(const struct pipeline *pl)
{
    return stream_engine_stats(pl->se);
}

const struct app_stats *pl_app_stats(const struct pipeline *pl)
{
    return app_engine_stats(pl->app);
}

static void pl_print_decode(const struct pipeline *pl, FILE *out)
{
    bool any = false;
    for (int i = 0; i < DEC_C__COUNT; i++) {
        if (pl->dec.c[i] == 0)
            continue;
        fputs(any ? ", " : "  not decoded: ", out);
        fprintf(out, "%s=%llu", dec_counter_name(i), (unsigned long long)pl->dec.c[i]);
        any = true;
    }
    if (any)
        fputc('\n', out);
}

void pl_print_summary(const struct pipeline *pl, FILE *out)
{
    const struct flow_stats *fs = flow_table_stats(pl->ft);
    const struct stream_stats *ss = stream_engine_stats(pl->se);
    uint64_t errors = 0;
    for (int i = 0; i < DEC_C__COUNT; i++)
        if (dec_counter_is_error(i))
            errors += pl->dec.c[i];

    fprintf(out, "vtls-sensor: %llu packets, %llu bytes, %llu decoded, %llu malformed\n",
            (unsigned long long)pl->st.packets, (unsigned long long)pl->st.bytes,
            (unsigned long long)pl->st.decoded, (unsigned long long)errors);
    pl_print_decode(pl, out);
    fprintf(out,
            "  flows: %llu created, %llu evicted, %llu not tracked (memory cap), peak %.1f MiB\n",
            (unsigned long long)fs->created, (unsigned long long)fs->evicted,
            (unsigned long long)pl->st.untracked, (double)fs->mem_peak / (1024.0 * 1024.0));
    fprintf(out, "  streams: %llu bytes in order, %llu gaps (%llu bytes), %llu out of order\n",
            (unsigned long long)ss->delivered, (unsigned long long)ss->gaps,
            (unsigned long long)ss->gap_bytes, (unsigned long long)ss->held);
    const struct app_stats *as = app_engine_stats(pl->app);
    if (as->dpi_flows > 0)
        fprintf(out, "  nDPI: %llu flows (%llu shown their one payload packet at their end)\n",
                (unsigned long long)as->dpi_flows, (unsigned long long)as->dpi_late);
    if (pl->st.ts_backwards > 0)
        fprintf(out, "  %llu packets with time going backwards (clamped)\n",
                (unsigned long long)pl->st.ts_backwards);
    if (pl->cfg.flows != NULL) {
        const struct eve_stats *es = eve_writer_stats(pl->cfg.flows);
        if (es->write_errors > 0)
            fprintf(out, "  flow records: %llu lost writing %s (%s)\n",
                    (unsigned long long)es->write_errors, eve_writer_path(pl->cfg.flows),
                    strerror(es->last_errno));
    }
}

void pl_publish_metrics(const struct pipeline *pl, struct metrics *m, const struct metrics_std *std)
{
    const struct flow_stats *fs = flow_table_stats(pl->ft);
    const struct app_stats *as = app_engine_stats(pl->app);

    metrics_lock(m);
    metrics_set(std->packets, NULL, (double)pl->st.packets);
    metrics_set(std->bytes, NULL, (double)pl->st.bytes);
    for (int i = 0; i < DEC_C__COUNT; i++)
        if (pl->dec.c[i] != 0 && dec_counter_is_error(i))
            metrics_set(std->decode_errors, (const char *[]){dec_counter_name(i)},
                        (double)pl->dec.c[i]);
    for (int i = 0; i < APP_P__COUNT; i++)
        if (as->parser_errors[i] != 0)
            metrics_set(std->parser_errors, (const char *[]){app_parser_name(i), "malformed"},
                        (double)as->parser_errors[i]);
    metrics_set(std->flows_active, NULL, (double)fs->active);
    metrics_set(std->flow_evictions, NULL, (double)fs->evicted);
    metrics_set(std->memory, NULL, (double)fs->mem_used);
    metrics_unlock(m);
}

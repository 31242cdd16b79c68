/* What happens at a flow's verdict (and for each new certificate): the
 * rules in force are evaluated, alerts are de-duplicated and written, and
 * the per-path metrics and the verification summary are updated. */
#ifndef VTLS_VERDICT_H
#define VTLS_VERDICT_H

#include <stdbool.h>
#include <stdint.h>

#include "output/alerts.h"
#include "output/eve.h"
#include "output/metrics.h"
#include "rules/rules.h"
#include "sensor/flow.h"
#include "sensor/report.h"

struct vd_config {
    struct rules_holder *rules; /* set in force; NULL: no rules */
    struct eve_writer *alerts;  /* alert lines; NULL: none written */
    bool ecs;                   /* write the ECS layout instead of EVE */
    uint64_t dedup_window_us;   /* 0: one hour */
    bool no_dedup;              /* write every alert (tests, replays) */
    uint16_t cid_seed;
    struct metrics *metrics;       /* NULL: no metrics */
    const struct metrics_std *std; /* its standard families */
    struct rep_table *report;      /* NULL: no summary */
};

struct vd_stats {
    uint64_t events;     /* events evaluated */
    uint64_t matches;    /* rules that matched */
    uint64_t alerts;     /* alerts written (or attempted) */
    uint64_t suppressed; /* alerts suppressed by de-duplication */
};

struct vd_engine;

/* NULL on allocation failure. Nothing in cfg is owned. */
struct vd_engine *vd_new(const struct vd_config *cfg);
void vd_free(struct vd_engine *v);

/* A flow's verdict at packet time now_us: ev holds its facts;
 * tls_duration_us is the handshake duration (0: not measured). */
void vd_flow(struct vd_engine *v, const struct flow *f, const struct rules_event *ev,
             uint64_t now_us, uint64_t tls_duration_us);

/* A certificate not seen before (ev->kind is RULES_EVENT_CERTIFICATE). */
void vd_certificate(struct vd_engine *v, const struct flow *f, const struct rules_event *ev,
                    uint64_t now_us);

const struct vd_stats *vd_get_stats(const struct vd_engine *v);
void vd_dedup_stats(const struct vd_engine *v, struct alerts_dedup_stats *st);

#endif

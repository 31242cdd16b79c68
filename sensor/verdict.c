/* Verdicts: rules, alerts, metrics, summary. See verdict.h. */
#include "sensor/verdict.h"

#include <stdlib.h>
#include <string.h>

#include "output/eve_event.h"

#define VD_MAX_TAGS 16

struct vd_engine {
    struct vd_config cfg;
    struct alerts_dedup *dedup;
    struct alerts_ratelimit write_rl;
    struct vd_stats st;
};

/* What a match callback needs. */
struct vd_match {
    struct vd_engine *v;
    const struct flow *f;
    uint64_t now_us;
};

struct vd_engine *vd_new(const struct vd_config *cfg)
{
    struct vd_engine *v = calloc(1, sizeof(*v));
    if (v == NULL)
        return NULL;
    v->cfg = *cfg;
    v->dedup = alerts_dedup_new(cfg->dedup_window_us, 0);
    if (v->dedup == NULL) {
        free(v);
        return NULL;
    }
    v->write_rl.interval_us = ALERTS_RATELIMIT_US;
    return v;
}

void vd_free(struct vd_engine *v)
{
    if (v == NULL)
        return;
    alerts_dedup_free(v->dedup);
    free(v);
}

const struct vd_stats *vd_get_stats(const struct vd_engine *v)
{
    return &v->st;
}

void vd_dedup_stats(const struct vd_engine *v, struct alerts_dedup_stats *st)
{
    alerts_dedup_stats(v->dedup, st);
}

static void vd_metric_add(struct vd_engine *v, struct metrics_family *fam, const char *const *vals)
{
    if (v->cfg.metrics == NULL)
        return;
    metrics_lock(v->cfg.metrics);
    metrics_add(fam, vals, 1);
    metrics_unlock(v->cfg.metrics);
}

/* Build and write one alert line. */
static void vd_write_alert(struct vd_engine *v, const struct flow *f, const struct rules_event *ev,
                           const struct alerts_info *ai, uint64_t now_us)
{
    eve_scope_begin();
    json_t *rec = eve_record(f, "alert", now_us, v->cfg.cid_seed);
    if (rec != NULL && eve_add_event(rec, ev) && alerts_eve(rec, ai)) {
        json_t *out = v->cfg.ecs ? alerts_ecs(rec) : json_incref(rec);
        if (out != NULL && !eve_write(v->cfg.alerts, out))
            alerts_report_write_failure(&v->write_rl, eve_writer_path(v->cfg.alerts),
                                        eve_writer_stats(v->cfg.alerts)->last_errno);
        json_decref(out);
    }
    json_decref(rec);
    eve_scope_end();
}

static void vd_addr(struct alerts_addr *out, const struct rules_addr *a)
{
    out->family = a->family;
    memcpy(out->b, a->b, sizeof(out->b));
}

static bool vd_on_match(const struct rules_rule *r, const struct rules_event *ev, void *ctx)
{
    struct vd_match *m = ctx;
    struct vd_engine *v = m->v;
    const char *name = rules_rule_name(r);
    const char *sev = rules_severity_name(rules_rule_severity(r));
    struct alerts_addr client, server;
    uint64_t suppressed = 0;

    v->st.matches++;
    vd_addr(&client, &ev->flow.src_ip);
    vd_addr(&server, &ev->flow.dst_ip);
    if (!v->cfg.no_dedup &&
        !alerts_dedup_check(v->dedup, name, &client, &server, (uint16_t)ev->flow.dst_port.v,
                            m->now_us, &suppressed)) {
        v->st.suppressed++;
        if (v->cfg.metrics != NULL)
            vd_metric_add(v, v->cfg.std->alerts_suppressed, (const char *[]){name});
        return true;
    }
    v->st.alerts++;
    if (v->cfg.report != NULL)
        rep_alert(v->cfg.report, name, sev);
    if (v->cfg.metrics != NULL)
        vd_metric_add(v, v->cfg.std->alerts, (const char *[]){name, sev});
    if (v->cfg.alerts == NULL)
        return true;

    char msg[1024];
    const char *tags[VD_MAX_TAGS];
    size_t ntags = rules_rule_tag_count(r);
    ntags = ntags < VD_MAX_TAGS ? ntags : VD_MAX_TAGS;
    for (size_t i = 0; i < ntags; i++)
        tags[i] = rules_rule_tag(r, i);
    rules_rule_format(r, ev, msg, sizeof(msg));
    const char *desc = rules_rule_desc(r);
    struct alerts_info ai = {.rule = name,
                             .severity = sev,
                             .message = msg,
                             .description = desc[0] ? desc : NULL,
                             .tags = tags,
                             .ntags = ntags,
                             .suppressed = suppressed};
    vd_write_alert(v, m->f, ev, &ai, m->now_us);
    return true;
}

static void vd_eval(struct vd_engine *v, const struct flow *f, const struct rules_event *ev,
                    uint64_t now_us)
{
    v->st.events++;
    if (v->cfg.rules == NULL)
        return;
    struct rules_set *set = rules_holder_acquire(v->cfg.rules);
    if (set == NULL)
        return;
    struct vd_match m = {.v = v, .f = f, .now_us = now_us};
    rules_set_eval(set, ev, vd_on_match, &m);
    rules_set_release(set);
}

static void vd_flow_metrics(struct vd_engine *v, const struct rules_event *ev, uint64_t now_us,
                            uint64_t tls_duration_us)
{
    const struct metrics_std *std = v->cfg.std;
    char version[16] = "";
    if (ev->tls.version.set)
        snprintf(version, sizeof(version), "%s",
                 ev->tls.version.v == 0x0304   ? "TLS 1.3"
                 : ev->tls.version.v == 0x0303 ? "TLS 1.2"
                 : ev->tls.version.v == 0x0302 ? "TLS 1.1"
                 : ev->tls.version.v == 0x0301 ? "TLS 1.0"
                 : ev->tls.version.v == 0x0300 ? "SSL 3.0"
                                               : "other");
    const char *enc = eve_encryption(ev);
    const char *flow_labels[] = {ev->vitess.client, ev->vitess.server, ev->flow.app, enc, version};

    metrics_lock(v->cfg.metrics);
    metrics_add(std->flows, flow_labels, 1);
    if (ev->tls.version.set) {
        const char *cls = ev->tls.cs.strength ? ev->tls.cs.strength : "unknown";
        metrics_add(std->tls_handshakes, (const char *[]){version, cls}, 1);
    }
    if (tls_duration_us > 0)
        metrics_observe(std->handshake_duration, (const char *[]){ev->vitess.server},
                        (double)tls_duration_us / 1e6);
    if (ev->flow.encrypted == RULES_FALSE)
        metrics_set(std->plaintext_last_seen,
                    (const char *[]){ev->vitess.client, ev->vitess.server},
                    (double)(now_us / 1000000u));
    metrics_unlock(v->cfg.metrics);
}

void vd_flow(struct vd_engine *v, const struct flow *f, const struct rules_event *ev,
             uint64_t now_us, uint64_t tls_duration_us)
{
    if (v->cfg.report != NULL)
        rep_flow(v->cfg.report, ev);
    if (v->cfg.metrics != NULL)
        vd_flow_metrics(v, ev, now_us, tls_duration_us);
    vd_eval(v, f, ev, now_us);
}

void vd_certificate(struct vd_engine *v, const struct flow *f, const struct rules_event *ev,
                    uint64_t now_us)
{
    if (v->cfg.metrics != NULL && ev->cert.not_after.set && ev->cert.sha256 != NULL) {
        char fp[17];
        snprintf(fp, sizeof(fp), "%.16s", ev->cert.sha256);
        const char *vals[] = {ev->cert.subject_cn, ev->cert.issuer_cn, fp, ev->vitess.server};
        metrics_lock(v->cfg.metrics);
        metrics_set(v->cfg.std->cert_not_after, vals, (double)ev->cert.not_after.v);
        metrics_unlock(v->cfg.metrics);
    }
    vd_eval(v, f, ev, now_us);
}

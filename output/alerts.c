/* Alert de-duplication, write-failure rate limiting, EVE and ECS layouts.
 * See alerts.h. */
#include "output/alerts.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* ---- de-duplication table ---- */

/* Indexes are 1-based so that 0 means none. */
struct alerts_entry {
    uint64_t rule_hash;
    uint8_t client[16], server[16];
    uint16_t port;
    uint8_t cfam, sfam;
    uint32_t hnext, lru_prev, lru_next;
    uint64_t window_start; /* packet time of the last written alert */
    uint64_t suppressed;   /* since then */
};

struct alerts_dedup {
    uint64_t window;
    uint64_t seed;
    size_t cap, used;
    struct alerts_entry *e; /* e[0] unused */
    uint32_t *bucket;
    size_t mask;
    uint32_t lru_head, lru_tail; /* most and least recently seen */
    struct alerts_dedup_stats st;
};

struct alerts_dedup *alerts_dedup_new(uint64_t window_us, size_t cap)
{
    struct alerts_dedup *d = calloc(1, sizeof(*d));
    size_t slots = 16;

    if (d == NULL)
        return NULL;
    d->window = window_us ? window_us : ALERTS_DEFAULT_WINDOW_US;
    d->cap = cap ? cap : ALERTS_DEFAULT_CAP;
    if (d->cap > UINT32_MAX - 1)
        d->cap = UINT32_MAX - 1;
    while (slots < d->cap)
        slots *= 2;
    d->mask = slots - 1;
    d->e = calloc(d->cap + 1, sizeof(*d->e));
    d->bucket = calloc(slots, sizeof(*d->bucket));
    if (getrandom(&d->seed, sizeof(d->seed), GRND_NONBLOCK) != sizeof(d->seed))
        d->seed = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)d;
    if (d->e == NULL || d->bucket == NULL) {
        alerts_dedup_free(d);
        return NULL;
    }
    return d;
}

void alerts_dedup_free(struct alerts_dedup *d)
{
    if (d == NULL)
        return;
    free(d->e);
    free(d->bucket);
    free(d);
}

static uint64_t alerts_mix(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* Seeded FNV-1a with a final avalanche.
 * Limitation: not a keyed PRF; a peer that can make alerts fire for chosen
 * addresses could still aim for one chain, bounded by cap entries. */
static uint64_t alerts_key_hash(const struct alerts_dedup *d, const struct alerts_entry *k)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ d->seed;

    h = alerts_mix(h, &k->rule_hash, sizeof(k->rule_hash));
    h = alerts_mix(h, k->client, sizeof(k->client));
    h = alerts_mix(h, k->server, sizeof(k->server));
    h = alerts_mix(h, &k->port, sizeof(k->port));
    h = alerts_mix(h, &k->cfam, 1);
    h = alerts_mix(h, &k->sfam, 1);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static bool alerts_key_eq(const struct alerts_entry *a, const struct alerts_entry *b)
{
    return a->rule_hash == b->rule_hash && a->port == b->port && a->cfam == b->cfam &&
           a->sfam == b->sfam && memcmp(a->client, b->client, 16) == 0 &&
           memcmp(a->server, b->server, 16) == 0;
}

static void alerts_lru_unlink(struct alerts_dedup *d, uint32_t i)
{
    struct alerts_entry *e = &d->e[i];

    if (e->lru_prev)
        d->e[e->lru_prev].lru_next = e->lru_next;
    else
        d->lru_head = e->lru_next;
    if (e->lru_next)
        d->e[e->lru_next].lru_prev = e->lru_prev;
    else
        d->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = 0;
}

static void alerts_lru_front(struct alerts_dedup *d, uint32_t i)
{
    struct alerts_entry *e = &d->e[i];

    if (d->lru_head == i)
        return;
    if (e->lru_prev || e->lru_next || d->lru_tail == i)
        alerts_lru_unlink(d, i);
    e->lru_next = d->lru_head;
    if (d->lru_head)
        d->e[d->lru_head].lru_prev = i;
    d->lru_head = i;
    if (!d->lru_tail)
        d->lru_tail = i;
}

static void alerts_unhash(struct alerts_dedup *d, uint32_t i)
{
    const struct alerts_entry *e = &d->e[i];
    uint32_t *pp = &d->bucket[alerts_key_hash(d, e) & d->mask];

    while (*pp != i)
        pp = &d->e[*pp].hnext;
    *pp = e->hnext;
}

/* A free entry: the next unused one, or the least recently seen, evicted. */
static uint32_t alerts_take(struct alerts_dedup *d)
{
    uint32_t i;

    if (d->used < d->cap)
        return (uint32_t)++d->used;
    i = d->lru_tail;
    alerts_unhash(d, i);
    alerts_lru_unlink(d, i);
    d->st.evictions++;
    d->st.lost += d->e[i].suppressed;
    return i;
}

static void alerts_key(struct alerts_entry *k, const char *rule, const struct alerts_addr *client,
                       const struct alerts_addr *server, uint16_t port)
{
    memset(k, 0, sizeof(*k));
    k->rule_hash = alerts_mix(0xcbf29ce484222325ULL, rule, strlen(rule));
    memcpy(k->client, client->b, 16);
    memcpy(k->server, server->b, 16);
    k->cfam = client->family;
    k->sfam = server->family;
    k->port = port;
}

bool alerts_dedup_check(struct alerts_dedup *d, const char *rule, const struct alerts_addr *client,
                        const struct alerts_addr *server, uint16_t server_port, uint64_t now_us,
                        uint64_t *suppressed)
{
    struct alerts_entry k;
    uint64_t h;
    uint32_t i;

    alerts_key(&k, rule, client, server, server_port);
    h = alerts_key_hash(d, &k);
    for (i = d->bucket[h & d->mask]; i != 0; i = d->e[i].hnext)
        if (alerts_key_eq(&d->e[i], &k))
            break;
    if (i != 0) {
        struct alerts_entry *e = &d->e[i];

        alerts_lru_front(d, i);
        if (now_us < e->window_start || now_us - e->window_start < d->window) {
            e->suppressed++;
            d->st.suppressed++;
            return false;
        }
        if (suppressed != NULL)
            *suppressed = e->suppressed;
        e->suppressed = 0;
        e->window_start = now_us;
        d->st.emitted++;
        return true;
    }
    i = alerts_take(d);
    k.window_start = now_us;
    k.hnext = d->bucket[h & d->mask];
    d->e[i] = k;
    d->bucket[h & d->mask] = i;
    alerts_lru_front(d, i);
    if (suppressed != NULL)
        *suppressed = 0;
    d->st.emitted++;
    return true;
}

void alerts_dedup_stats(const struct alerts_dedup *d, struct alerts_dedup_stats *st)
{
    *st = d->st;
    st->keys = d->used;
}

/* ---- rate limiter ---- */

bool alerts_ratelimit_allow(struct alerts_ratelimit *rl, uint64_t now_us, uint64_t *held)
{
    uint64_t interval = rl->interval_us ? rl->interval_us : ALERTS_RATELIMIT_US;

    if (rl->started && (now_us < rl->last_us || now_us - rl->last_us < interval)) {
        rl->held++;
        return false;
    }
    if (held != NULL)
        *held = rl->held;
    rl->held = 0;
    rl->last_us = now_us;
    rl->started = true;
    return true;
}

bool alerts_report_write_failure(struct alerts_ratelimit *rl, const char *what, int err)
{
    struct timespec ts;
    uint64_t held = 0;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    if (!alerts_ratelimit_allow(rl, (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000,
                                &held))
        return false;
    fprintf(stderr, "vtls-sensor: write to %s failed: %s (%llu more failures since last report)\n",
            what, strerror(err), (unsigned long long)held);
    return true;
}

/* ---- EVE ---- */

bool alerts_eve(json_t *rec, const struct alerts_info *ai)
{
    json_t *alert = json_object();
    json_t *tags = json_array();
    bool ok = alert != NULL && tags != NULL;

    ok = ok && json_object_set_new(rec, "event_type", json_string("alert")) == 0;
    ok = ok && json_object_set_new(alert, "rule", json_string(ai->rule ? ai->rule : "")) == 0;
    ok = ok &&
         json_object_set_new(alert, "severity", json_string(ai->severity ? ai->severity : "")) == 0;
    ok = ok &&
         json_object_set_new(alert, "message", json_string(ai->message ? ai->message : "")) == 0;
    if (ok && ai->description != NULL)
        ok = json_object_set_new(alert, "description", json_string(ai->description)) == 0;
    for (size_t i = 0; ok && i < ai->ntags; i++)
        ok = json_array_append_new(tags, json_string(ai->tags[i])) == 0;
    ok = ok && json_object_set(alert, "tags", tags) == 0;
    if (ok && ai->suppressed > 0)
        ok =
            json_object_set_new(alert, "suppressed", json_integer((json_int_t)ai->suppressed)) == 0;
    ok = ok && json_object_set(rec, "alert", alert) == 0;
    json_decref(tags);
    json_decref(alert);
    return ok;
}

/* ---- ECS ---- */

int alerts_severity_num(const char *severity)
{
    static const struct {
        const char *name;
        int num;
    } map[] = {{"info", 1}, {"low", 21}, {"medium", 47}, {"high", 73}, {"critical", 99}};

    for (size_t i = 0; severity != NULL && i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(severity, map[i].name) == 0)
            return map[i].num;
    return 0;
}

/* Set root.a.b.c = v (v stolen; NULL v is ignored), creating objects. */
static void alerts_put(json_t *root, const char *dotted, json_t *v)
{
    char part[64];
    const char *p = dotted;
    json_t *o = root;

    if (v == NULL)
        return;
    for (const char *dot = strchr(p, '.'); dot != NULL; p = dot + 1, dot = strchr(p, '.')) {
        size_t n = (size_t)(dot - p);
        json_t *next;

        if (n >= sizeof(part))
            break;
        memcpy(part, p, n);
        part[n] = '\0';
        next = json_object_get(o, part);
        if (!json_is_object(next)) {
            next = json_object();
            if (next == NULL || json_object_set_new(o, part, next) != 0) {
                json_decref(v);
                return;
            }
        }
        o = next;
    }
    json_object_set_new(o, p, v);
}

/* A copy of obj[key] (NULL when absent). */
static json_t *alerts_copy(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    return v ? json_deep_copy(v) : NULL;
}

/* The CN of a distinguished name in RFC 2253 ("CN=a,O=b"), OpenSSL one-line
 * ("C = US, CN = a") or slash ("/O=b/CN=a") form, into out (len bytes).
 * Limitation: multi-valued RDNs ("CN=a+O=b") end the value at '+'. */
static bool alerts_cn(const char *dn, char *out, size_t len)
{
    const char *p = dn;

    while (p != NULL && *p != '\0') {
        while (*p == ' ' || *p == ',' || *p == '/' || *p == '+')
            p++;
        if (strncmp(p, "CN", 2) == 0) {
            const char *v = p + 2;
            size_t o = 0;

            while (*v == ' ')
                v++;
            if (*v == '=') {
                for (v++; *v == ' '; v++)
                    ;
                for (; *v != '\0' && *v != ',' && *v != '+' && (*dn != '/' || *v != '/'); v++) {
                    if (*v == '\\' && v[1] != '\0')
                        v++;
                    if (o + 1 < len)
                        out[o++] = *v;
                }
                out[o] = '\0';
                return true;
            }
        }
        /* Skip this component, honouring backslash escapes. */
        for (; *p != '\0' && *p != ',' && (*dn != '/' || *p != '/'); p++)
            if (*p == '\\' && p[1] != '\0')
                p++;
    }
    return false;
}

static void alerts_ecs_cn(json_t *ecs, const char *path, const json_t *dn)
{
    char cn[256];

    if (json_is_string(dn) && alerts_cn(json_string_value(dn), cn, sizeof(cn)))
        alerts_put(ecs, path, json_string(cn));
}

/* "ab:CD:ef..." or "abcdef..." as upper-case hex without separators. */
static json_t *alerts_hex_upper(const json_t *v)
{
    const char *s = json_string_value(v);
    char out[129];
    size_t o = 0;

    if (s == NULL)
        return NULL;
    for (; *s != '\0' && o + 1 < sizeof(out); s++)
        if (isxdigit((unsigned char)*s))
            out[o++] = (char)toupper((unsigned char)*s);
    out[o] = '\0';
    return json_string(out);
}

static void alerts_ecs_cert(json_t *ecs, const json_t *cert)
{
    const json_t *cn = json_object_get(cert, "subject_cn");

    if (!json_is_object(cert))
        return;
    if (json_is_string(cn))
        alerts_put(ecs, "tls.server.x509.subject.common_name", json_deep_copy(cn));
    else
        alerts_ecs_cn(ecs, "tls.server.x509.subject.common_name", json_object_get(cert, "subject"));
    alerts_ecs_cn(ecs, "tls.server.x509.issuer.common_name", json_object_get(cert, "issuer"));
    alerts_put(ecs, "tls.server.x509.not_after", alerts_copy(cert, "not_after"));
    alerts_put(ecs, "tls.server.x509.not_before", alerts_copy(cert, "not_before"));
    alerts_put(ecs, "tls.server.subject", alerts_copy(cert, "subject"));
    alerts_put(ecs, "tls.server.issuer", alerts_copy(cert, "issuer"));
    alerts_put(ecs, "tls.server.not_after", alerts_copy(cert, "not_after"));
    alerts_put(ecs, "tls.server.not_before", alerts_copy(cert, "not_before"));
    alerts_put(ecs, "tls.server.hash.sha256", alerts_hex_upper(json_object_get(cert, "sha256")));
}

static void alerts_ecs_tls(json_t *ecs, const json_t *tls)
{
    const char *ver = json_string_value(json_object_get(tls, "version"));
    const char *sp = ver ? strchr(ver, ' ') : NULL;

    if (!json_is_object(tls))
        return;
    if (sp != NULL && sp > ver && sp - ver < 16) {
        char proto[16];
        size_t n = (size_t)(sp - ver);

        for (size_t i = 0; i < n; i++)
            proto[i] = (char)tolower((unsigned char)ver[i]);
        proto[n] = '\0';
        alerts_put(ecs, "tls.version", json_string(sp + 1));
        alerts_put(ecs, "tls.version_protocol", json_string(proto));
    }
    alerts_put(ecs, "tls.cipher", alerts_copy(tls, "cipher"));
    alerts_put(ecs, "tls.client.server_name", alerts_copy(tls, "sni"));
    alerts_put(ecs, "tls.client.ja3", alerts_copy(tls, "ja3"));
    alerts_put(ecs, "tls.server.ja3s", alerts_copy(tls, "ja3s"));
    alerts_put(ecs, "tls.resumed", alerts_copy(tls, "resumed"));
    alerts_ecs_cert(ecs, json_object_get(tls, "cert"));
}

static void alerts_ecs_geo(json_t *ecs, const json_t *geo, const char *side, const char *ecs_side)
{
    const json_t *g = json_object_get(geo, side);
    char path[64];

    if (!json_is_object(g))
        return;
    snprintf(path, sizeof(path), "%s.geo.country_iso_code", ecs_side);
    alerts_put(ecs, path, alerts_copy(g, "country"));
    snprintf(path, sizeof(path), "%s.as.number", ecs_side);
    alerts_put(ecs, path, alerts_copy(g, "asn"));
    snprintf(path, sizeof(path), "%s.as.organization.name", ecs_side);
    alerts_put(ecs, path, alerts_copy(g, "as_org"));
}

static json_t *alerts_lower(const json_t *v)
{
    const char *s = json_string_value(v);
    char out[32];
    size_t i = 0;

    if (s == NULL)
        return NULL;
    for (; s[i] != '\0' && i + 1 < sizeof(out); i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = '\0';
    return json_string(out);
}

static void alerts_ecs_alert(json_t *ecs, const json_t *alert)
{
    const json_t *desc = json_object_get(alert, "description");
    const char *sev = json_string_value(json_object_get(alert, "severity"));
    int num = alerts_severity_num(sev);

    alerts_put(ecs, "rule.name", alerts_copy(alert, "rule"));
    alerts_put(ecs, "rule.description",
               desc ? json_deep_copy(desc) : alerts_copy(alert, "message"));
    if (num > 0)
        alerts_put(ecs, "event.severity", json_integer(num));
    alerts_put(ecs, "vtls.alert.severity", alerts_copy(alert, "severity"));
    alerts_put(ecs, "vtls.alert.suppressed", alerts_copy(alert, "suppressed"));
    alerts_put(ecs, "message", alerts_copy(alert, "message"));
    alerts_put(ecs, "tags", alerts_copy(alert, "tags"));
}

/* EVE "vlan": [outer, inner] -> network.vlan.id, network.inner.vlan.id. */
static void alerts_ecs_vlan(json_t *ecs, const json_t *vlan)
{
    static const char *const path[] = {"network.vlan.id", "network.inner.vlan.id"};
    char id[16];

    for (size_t i = 0; i < 2 && i < json_array_size(vlan); i++) {
        json_t *v = json_array_get(vlan, i);

        if (!json_is_integer(v))
            continue;
        snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(v));
        alerts_put(ecs, path[i], json_string(id));
    }
}

json_t *alerts_ecs(const json_t *eve)
{
    static const char *const kept[] = {"flow_id", "vitess", "mysql", "grpc", "geo", "tls"};
    json_t *ecs;

    if (!json_is_object(eve))
        return NULL;
    ecs = json_object();
    if (ecs == NULL)
        return NULL;
    alerts_put(ecs, "@timestamp", alerts_copy(eve, "timestamp"));
    alerts_put(ecs, "ecs.version", json_string("8.11.0"));
    alerts_put(ecs, "event.kind", json_string("alert"));
    alerts_put(ecs, "event.category", json_pack("[s]", "network"));
    alerts_put(ecs, "event.type", json_pack("[s]", "info"));
    alerts_put(ecs, "source.ip", alerts_copy(eve, "src_ip"));
    alerts_put(ecs, "source.port", alerts_copy(eve, "src_port"));
    alerts_put(ecs, "destination.ip", alerts_copy(eve, "dest_ip"));
    alerts_put(ecs, "destination.port", alerts_copy(eve, "dest_port"));
    alerts_put(ecs, "network.transport", alerts_lower(json_object_get(eve, "proto")));
    alerts_put(ecs, "network.community_id", alerts_copy(eve, "community_id"));
    alerts_put(ecs, "network.protocol", alerts_copy(eve, "app_proto"));
    alerts_ecs_vlan(ecs, json_object_get(eve, "vlan"));
    alerts_ecs_tls(ecs, json_object_get(eve, "tls"));
    alerts_ecs_geo(ecs, json_object_get(eve, "geo"), "src", "source");
    alerts_ecs_geo(ecs, json_object_get(eve, "geo"), "dst", "destination");
    alerts_ecs_alert(ecs, json_object_get(eve, "alert"));
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
        char path[32];

        snprintf(path, sizeof(path), "vtls.%s", kept[i]);
        alerts_put(ecs, path, alerts_copy(eve, kept[i]));
    }
    return ecs;
}

/* Application objects of EVE records: see eve_event.h. */
#include "output/eve_event.h"

#include <stdio.h>
#include <time.h>

#include "dissectors/tls.h"

const char *eve_encryption(const struct rules_event *ev)
{
    if (ev->flow.encrypted == RULES_UNSET)
        return "unknown";
    return ev->flow.encrypted == RULES_TRUE ? "tls" : "plaintext";
}

/* Setters that skip absent values; false only on allocation failure. */
static bool ee_str(json_t *o, const char *key, const char *s)
{
    return s == NULL || json_object_set_new(o, key, json_string(s)) == 0;
}

static bool ee_num(json_t *o, const char *key, struct rules_num n)
{
    return !n.set || json_object_set_new(o, key, json_integer(n.v)) == 0;
}

static bool ee_bool(json_t *o, const char *key, rules_bool b)
{
    return b == RULES_UNSET || json_object_set_new(o, key, json_boolean(b == RULES_TRUE)) == 0;
}

static bool ee_version(json_t *o, const char *key, struct rules_num v)
{
    char buf[9];
    return !v.set || ee_str(o, key, tls_version_str((uint16_t)v.v, buf));
}

static bool ee_time(json_t *o, const char *key, struct rules_num t)
{
    if (!t.set)
        return true;
    time_t secs = (time_t)t.v;
    struct tm tm;
    char buf[32];
    if (gmtime_r(&secs, &tm) == NULL || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return true;
    return ee_str(o, key, buf);
}

static bool ee_strlist(json_t *o, const char *key, struct rules_strlist l)
{
    if (l.v == NULL)
        return true;
    json_t *arr = json_array();
    if (arr == NULL)
        return false;
    for (size_t i = 0; i < l.n; i++)
        if (json_array_append_new(arr, json_string(l.v[i])) != 0) {
            json_decref(arr);
            return false;
        }
    return json_object_set_new(o, key, arr) == 0;
}

/* Attach obj to rec under key when it has members; frees it otherwise. */
static bool ee_attach(json_t *rec, const char *key, json_t *obj, bool ok)
{
    if (obj == NULL)
        return false;
    if (!ok || json_object_size(obj) == 0) {
        json_decref(obj);
        return ok;
    }
    return json_object_set_new(rec, key, obj) == 0;
}

static bool ee_cert(json_t *tls, const struct rules_event *ev)
{
    json_t *c = json_object();
    if (c == NULL)
        return false;
    bool ok =
        ee_bool(c, "observable", ev->cert.observable) &&
        ee_bool(c, "unparseable", ev->cert.unparseable) && ee_str(c, "subject", ev->cert.subject) &&
        ee_str(c, "issuer", ev->cert.issuer) && ee_str(c, "subject_cn", ev->cert.subject_cn) &&
        ee_str(c, "issuer_cn", ev->cert.issuer_cn) && ee_strlist(c, "san", ev->cert.san) &&
        ee_time(c, "not_before", ev->cert.not_before) &&
        ee_time(c, "not_after", ev->cert.not_after) && ee_num(c, "days_left", ev->cert.days_left) &&
        ee_str(c, "key_type", ev->cert.key_type) && ee_num(c, "key_bits", ev->cert.key_bits) &&
        ee_str(c, "sig_alg", ev->cert.sig_alg) && ee_bool(c, "self_signed", ev->cert.self_signed) &&
        ee_bool(c, "chain_valid", ev->cert.chain_valid) &&
        ee_str(c, "chain_error", ev->cert.chain_error) &&
        ee_bool(c, "sni_match", ev->cert.sni_match) && ee_str(c, "sha256", ev->cert.sha256);
    return ee_attach(tls, "cert", c, ok);
}

/* The chain as sent, leaf first (TLS <= 1.2). */
static bool ee_chain(json_t *tls, const struct rules_event *ev)
{
    if (ev->nchain == 0)
        return true;
    json_t *arr = json_array();
    if (arr == NULL)
        return false;
    for (size_t i = 0; i < ev->nchain && i < RULES_CHAIN_MAX; i++) {
        json_t *c = json_object();
        bool ok = c != NULL && ee_str(c, "subject", ev->chain[i].subject) &&
                  ee_str(c, "issuer", ev->chain[i].issuer) &&
                  ee_time(c, "not_after", ev->chain[i].not_after) &&
                  ee_str(c, "sha256", ev->chain[i].sha256);
        if (!ok || json_array_append_new(arr, c) != 0) {
            json_decref(ok ? NULL : c);
            json_decref(arr);
            return false;
        }
    }
    return json_object_set_new(tls, "chain", arr) == 0;
}

static bool ee_tls(json_t *rec, const struct rules_event *ev)
{
    json_t *t = json_object();
    if (t == NULL)
        return false;
    bool ok = ee_version(t, "version", ev->tls.version) &&
              ee_version(t, "client_max_version", ev->tls.client_max_version) &&
              ee_str(t, "cipher", ev->tls.cipher) &&
              ee_str(t, "cipher_class", ev->tls.cs.strength) && ee_str(t, "sni", ev->tls.sni) &&
              ee_str(t, "alpn", ev->tls.alpn) && ee_str(t, "alpn_offered", ev->tls.alpn_offered) &&
              ee_str(t, "ja3", ev->tls.ja3) && ee_str(t, "ja3s", ev->tls.ja3s) &&
              ee_str(t, "ja4", ev->tls.ja4) && ee_bool(t, "resumed", ev->tls.resumed) &&
              ee_str(t, "client_cert", ev->tls.client_cert) && ee_str(t, "alert", ev->tls.alert);
    if (ok && !ev->tls.cipher && ev->tls.cipher_id.set) {
        char hex[8];
        snprintf(hex, sizeof(hex), "0x%04x", (unsigned)ev->tls.cipher_id.v);
        ok = ee_str(t, "cipher", hex);
    }
    ok = ok && ee_cert(t, ev) && ee_chain(t, ev);
    return ee_attach(rec, "tls", t, ok);
}

static bool ee_vitess(json_t *rec, const struct rules_event *ev)
{
    json_t *v = json_object();
    bool ok = v != NULL && ee_str(v, "client", ev->vitess.client) &&
              ee_str(v, "server", ev->vitess.server) && ee_str(v, "evidence", ev->vitess.evidence);
    return ee_attach(rec, "vitess", v, ok);
}

static bool ee_mysql(json_t *rec, const struct rules_event *ev)
{
    json_t *m = json_object();
    bool ok = m != NULL && ee_str(m, "server_version", ev->mysql.server_version) &&
              ee_bool(m, "server_ssl", ev->mysql.server_ssl) &&
              ee_bool(m, "client_ssl", ev->mysql.client_ssl) &&
              ee_str(m, "auth_plugin", ev->mysql.auth_plugin) &&
              ee_str(m, "auth_switch", ev->mysql.auth_switch) &&
              ee_str(m, "user", ev->mysql.user) && ee_bool(m, "downgrade", ev->mysql.downgrade) &&
              ee_bool(m, "cleartext_password", ev->mysql.cleartext_password);
    return ee_attach(rec, "mysql", m, ok);
}

static bool ee_grpc(json_t *rec, const struct rules_event *ev)
{
    json_t *g = json_object();
    bool ok = g != NULL && ee_str(g, "path", ev->grpc.path) &&
              ee_str(g, "service", ev->grpc.service) && ee_str(g, "method", ev->grpc.method);
    return ee_attach(rec, "grpc", g, ok);
}

static bool ee_http(json_t *rec, const struct rules_event *ev)
{
    json_t *h = json_object();
    bool ok = h != NULL && ee_str(h, "method", ev->http.method) &&
              ee_str(h, "path", ev->http.path) && ee_str(h, "host", ev->http.host) &&
              ee_str(h, "user_agent", ev->http.user_agent) && ee_num(h, "status", ev->http.status);
    return ee_attach(rec, "http", h, ok);
}

static bool ee_geo_side(json_t *geo, const char *key, const struct rules_geo *g)
{
    json_t *o = json_object();
    bool ok = o != NULL && ee_str(o, "country", g->country) && ee_num(o, "asn", g->asn) &&
              ee_str(o, "as_org", g->as_org);
    for (size_t i = 0; ok && i < g->n_custom && i < RULES_GEO_CUSTOM_MAX; i++)
        ok = ee_str(o, g->custom[i].key, g->custom[i].value);
    return ee_attach(geo, key, o, ok);
}

static bool ee_geo(json_t *rec, const struct rules_event *ev)
{
    json_t *g = json_object();
    bool ok =
        g != NULL && ee_geo_side(g, "src", &ev->geo.src) && ee_geo_side(g, "dst", &ev->geo.dst);
    return ee_attach(rec, "geo", g, ok);
}

static bool ee_ndpi(json_t *rec, const struct rules_event *ev)
{
    json_t *n = json_object();
    bool ok = n != NULL && ee_str(n, "protocol", ev->ndpi.protocol) &&
              ee_strlist(n, "risks", ev->ndpi.risks);
    return ee_attach(rec, "ndpi", n, ok);
}

bool eve_add_event(json_t *rec, const struct rules_event *ev)
{
    return ee_str(rec, "app_proto", ev->flow.app ? ev->flow.app : "unknown") &&
           ee_str(rec, "encryption", eve_encryption(ev)) && ee_vitess(rec, ev) &&
           ee_grpc(rec, ev) && ee_http(rec, ev) && ee_mysql(rec, ev) && ee_tls(rec, ev) &&
           ee_geo(rec, ev) && ee_ndpi(rec, ev);
}

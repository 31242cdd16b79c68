/* Application layer of a flow: see app.h. */
#include "sensor/app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dissectors/etcd.h"
#include "dissectors/grpc.h"
#include "dissectors/http1.h"
#include "dissectors/http2.h"
#include "dissectors/mysql.h"
#include "dissectors/ndpi.h"
#include "dissectors/tls.h"
#include "dissectors/tls_ciphers.h"
#include "dissectors/zookeeper.h"
#include "sensor/certcache.h"
#include "sensor/fpmemo.h"
#include "sensor/intern.h"

/* First bytes of a direction kept until a dissector can be chosen, and the
 * most bytes judged at once when stashed bytes are joined with new ones. */
#define APP_STASH 64
#define APP_PROBE 512

enum app_stage {
    APP_ST_DETECT, /* no dissector chosen yet */
    APP_ST_TLS,
    APP_ST_MYSQL,
    APP_ST_H2,
    APP_ST_HTTP1,
    APP_ST_ZK,
    APP_ST_OPAQUE, /* nothing to parse: wait for the end */
    APP_ST_DONE,   /* verdict reached */
};

/* Everything learned about a flow: worked out at its verdict from the
 * parsers, then packed; unpacked again when its events and records are
 * written. */
struct app_summary {
    uint8_t proto, enc;
    uint8_t client, server;       /* enum cls_component */
    uint8_t client_ev, server_ev; /* enum cls_evidence */
    uint8_t tls_client_cert;      /* enum tls_client_cert */
    uint8_t tls_resumed;          /* enum tls_resumption */
    uint8_t alert_level, alert_desc;
    bool alert, verdict, tls_seen, mysql_seen;
    bool dpi_encrypted; /* nDPI named an encrypted protocol we do not dissect */
    bool mysql_server_ssl, mysql_client_ssl, mysql_downgrade, mysql_cleartext;
    uint16_t tls_version, tls_client_max, tls_cipher;
    uint32_t tls_duration_us;
    const char *sni, *alpn, *alpn_offered;
    const char *ja3, *ja3s, *ja4;
    const char *grpc_path, *grpc_service, *grpc_method, *authority, *user_agent;
    uint8_t grpc_server, grpc_client; /* enum cls_component from the service table */
    const char *http_method, *http_path;
    uint16_t http_status;
    const char *mysql_version, *mysql_user, *mysql_plugin, *mysql_switch;
    const char *ndpi_proto;
    struct cc_entry *leaf; /* server's certificate (TLS <= 1.2), shared */
    const char *ndpi_risk[RULES_NDPI_RISKS_MAX];
    const char *chain_error; /* OpenSSL's reason when the chain did not verify */
    rules_bool chain_valid;  /* absent without --ca-bundle or certificate */
    rules_bool sni_match;    /* absent without SNI or certificate */
    bool cert_observable;    /* the server's Certificate was in plaintext */
};

/* Parser state, freed at the verdict. */
struct app_live {
    uint8_t stage;
    uint8_t stash_len[2];
    uint8_t proto, enc; /* enum app_proto, enum app_enc: what the first bytes showed */
    bool text;          /* an unrecognised flow's first bytes were printable text */
    bool dpi_off;       /* nDPI given up for this flow (memory cap) */
    /* The first payload packet of an unrecognised TCP flow, held back from
     * nDPI until a second one comes or the flow ends (see app_on_packet). */
    uint32_t dpi_first_len;
    uint8_t *dpi_first;
    uint64_t dpi_first_us;
    /* The first bytes of each side while too few to decide (APP_STASH per
     * side): allocated when a side first needs it, so that the many flows
     * decided on their first segment (and a flood of one-segment flows that
     * never are) do not carry 128 bytes they never use. */
    uint8_t *stash;
    uint64_t tls_start_us;
    size_t dpi_heap; /* nDPI heap bytes charged for this flow */
    struct tls_parser *tls;
    struct mysql_parser *mysql;
    struct h2_parser *h2;
    struct http1_parser *http1;
    struct zk_parser *zk;
    struct dpi_flow *dpi;
    size_t charged; /* bytes charged to the flow table */
};

_Static_assert(sizeof(struct app_live) <= 112, "app_live: small fields packed together");

/* Certificates first seen in this flow, waiting for their certificate event. */
struct app_new_certs {
    struct cc_entry *e[2 * TLS_MAX_CERTS];
    uint8_t depth[2 * TLS_MAX_CERTS];
    unsigned n;
};

/* Kept past the verdict for flows that spoke TLS. */
struct app_tls_keep {
    uint16_t version, client_max, cipher;
    uint8_t client_cert, resumed, alert_level, alert_desc;
    bool alert, cert_observable;
    rules_bool chain_valid, sni_match;
    uint32_t duration_us;
    const char *sni, *alpn, *alpn_offered, *ja3, *ja3s, *ja4, *chain_error;
    struct cc_entry *leaf;
};

/* Which facts of the union in struct app_flow are kept. */
enum app_keep { APP_K_NONE, APP_K_WEB, APP_K_MYSQL, APP_K_DPI };

/* Per flow: the parsers until the verdict, then only what the flow record
 * needs: a few bytes, interned strings, and a TLS block for TLS flows. */
struct app_flow {
    struct app_live *live;        /* NULL past the verdict */
    struct app_tls_keep *tls;     /* past the verdict, when TLS was seen */
    uint8_t proto, enc;           /* enum app_proto, enum app_enc */
    uint8_t client, server;       /* enum cls_component */
    uint8_t client_ev, server_ev; /* enum cls_evidence */
    uint8_t keep;                 /* enum app_keep */
    uint8_t verdict : 1, uncharged : 1, tls_charged : 1;
    union {
        struct {
            const char *path, *service, *method, *authority, *user_agent, *http_method, *http_path;
            uint8_t grpc_server, grpc_client;
            uint16_t http_status;
        } web;
        struct {
            const char *version, *user, *plugin, *sw;
            bool server_ssl, client_ssl, downgrade, cleartext;
        } mysql;
        struct {
            const char *proto, *risk[RULES_NDPI_RISKS_MAX];
        } dpi;
    } u;
};

/* Freed parser states kept for the next flows: the large ones (1-3 KiB)
 * are past glibc's per-thread cache, and malloc would sort its bins (and
 * consolidate) for each flow. At most APP_POOL_MAX per kind (about 200 KiB
 * in all) are held; they are not charged to the flow table. */
#define APP_POOL_MAX 32
enum app_pool_kind { APP_POOL_TLS, APP_POOL_MYSQL, APP_POOL_H2, APP_POOL__COUNT };

struct app_pool {
    void *free[APP_POOL_MAX];
    unsigned n;
};

struct app_engine {
    struct app_config cfg;
    struct app_pool pools[APP_POOL__COUNT];
    struct flow_table *ft;
    struct istr_table *strings;
    struct fpm_memo *fps; /* fingerprints of recent hellos */
    struct dpi_engine *dpi;
    struct cc_cache *certs;
    struct x509_verifier *verifier; /* NULL without --ca-bundle */
    uint64_t now_us;
    struct app_stats st;
};

static const char *const app_proto_names[APP__COUNT] = {
    [APP_UNKNOWN] = "unknown",     [APP_TLS] = "tls",
    [APP_MYSQL] = "mysql",         [APP_GRPC] = "grpc",
    [APP_HTTP2] = "http2",         [APP_HTTP] = "http",
    [APP_ETCD] = "etcd",           [APP_ETCD_PEER] = "etcd-peer",
    [APP_ZOOKEEPER] = "zookeeper",
};

const char *app_proto_name(enum app_proto p)
{
    return (unsigned)p < APP__COUNT ? app_proto_names[p] : "unknown";
}

const char *app_enc_name(enum app_enc e)
{
    return e == APP_ENC_TLS ? "tls" : e == APP_ENC_PLAINTEXT ? "plaintext" : "unknown";
}

const char *app_parser_name(enum app_parser p)
{
    static const char *const names[APP_P__COUNT] = {"tls",   "mysql",     "http2",
                                                    "http1", "zookeeper", "x509"};
    return (unsigned)p < APP_P__COUNT ? names[p] : "unknown";
}

/* n bytes for f, charged to f as flow_mem_block(n) (and counted in
 * lv->charged when lv is given): a block from pool when it has one (not
 * cleared), else a new one (cleared when there is no pool). NULL, charge
 * undone, when either fails. */
static void *app_charged(struct app_engine *e, struct flow *f, struct app_live *lv, size_t n,
                         struct app_pool *pool)
{
    size_t block = flow_mem_block(n);
    if (!flow_mem_charge(e->ft, f, block)) {
        e->st.alloc_failed++;
        return NULL;
    }
    void *p = pool == NULL ? calloc(1, n) : pool->n > 0 ? pool->free[--pool->n] : malloc(n);
    if (p == NULL) {
        flow_mem_release(e->ft, block);
        e->st.alloc_failed++;
        return NULL;
    }
    if (lv != NULL)
        lv->charged += block;
    return p;
}

static const size_t app_pool_size[APP_POOL__COUNT] = {
    [APP_POOL_TLS] = sizeof(struct tls_parser),
    [APP_POOL_MYSQL] = sizeof(struct mysql_parser),
    [APP_POOL_H2] = sizeof(struct h2_parser),
};

/* Parser state of kind k for f, charged to f: from the pool, else malloc.
 * Not cleared: every parser's init function clears its state. */
static void *app_parser_alloc(struct app_engine *e, struct flow *f, struct app_live *lv,
                              enum app_pool_kind k)
{
    return app_charged(e, f, lv, app_pool_size[k], &e->pools[k]);
}

/* Return parser state to its pool (the caller releases the charge). */
static void app_parser_free(struct app_engine *e, enum app_pool_kind k, void *p)
{
    struct app_pool *pool = &e->pools[k];
    if (p == NULL)
        return;
    if (pool->n < APP_POOL_MAX)
        pool->free[pool->n++] = p;
    else
        free(p);
}

static void app_pools_free(struct app_engine *e)
{
    for (int k = 0; k < APP_POOL__COUNT; k++)
        while (e->pools[k].n > 0)
            free(e->pools[k].free[--e->pools[k].n]);
}

struct app_engine *app_engine_new(const struct app_config *cfg, struct flow_table *ft, char *err)
{
    struct app_engine *e = calloc(1, sizeof(*e));
    if (e == NULL)
        goto nomem;
    e->cfg = *cfg;
    e->ft = ft;
    e->strings = istr_table_new();
    e->certs = cc_new(0);
    e->fps = e->strings ? fpm_new(e->strings, 8) : NULL;
    if (e->strings == NULL || e->certs == NULL || e->fps == NULL)
        goto nomem;
    if (cfg->ca_bundle != NULL) {
        char why[200];
        e->verifier = x509_verifier_new(cfg->ca_bundle, why, sizeof(why));
        if (e->verifier == NULL) {
            snprintf(err, 256, "--ca-bundle %s: %s", cfg->ca_bundle, why);
            app_engine_free(e);
            return NULL;
        }
    }
    /* nDPI's module (about 8 MiB, 40 ms to build) is made when a first flow
     * needs it: a cluster whose flows are all recognised never pays for it. */
    return e;

nomem:
    snprintf(err, 256, "out of memory");
    app_engine_free(e);
    return NULL;
}

void app_engine_free(struct app_engine *e)
{
    if (e == NULL)
        return;
    dpi_engine_free(e->dpi);
    x509_verifier_free(e->verifier);
    cc_free(e->certs);
    app_pools_free(e);
    fpm_free(e->fps);
    istr_table_free(e->strings);
    free(e);
}

void app_set_time(struct app_engine *e, uint64_t now_us)
{
    e->now_us = now_us;
}

const struct app_stats *app_engine_stats(const struct app_engine *e)
{
    return &e->st;
}

/* ---- per-flow state ---- */

static void *app_alloc(struct app_engine *e, struct flow *f, struct app_live *lv, size_t n)
{
    return app_charged(e, f, lv, n, NULL);
}

static struct app_flow *app_get(struct app_engine *e, struct flow *f)
{
    if (f->app != NULL)
        return f->app;
    struct app_flow *a = app_alloc(e, f, NULL, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->live = app_alloc(e, f, NULL, sizeof(*a->live));
    if (a->live == NULL) {
        flow_mem_release(e->ft, flow_mem_block(sizeof(*a)));
        free(a);
        return NULL;
    }
    a->live->charged = flow_mem_block(sizeof(*a->live));
    f->app = a;
    return a;
}

static void app_free_live(struct app_engine *e, struct app_flow *a)
{
    struct app_live *lv = a->live;
    if (lv == NULL)
        return;
    if (lv->tls != NULL) {
        tls_free(lv->tls);
        app_parser_free(e, APP_POOL_TLS, lv->tls);
    }
    app_parser_free(e, APP_POOL_MYSQL, lv->mysql);
    if (lv->h2 != NULL) {
        h2_free(lv->h2);
        app_parser_free(e, APP_POOL_H2, lv->h2);
    }
    free(lv->http1);
    free(lv->zk);
    dpi_flow_free(lv->dpi);
    free(lv->dpi_first);
    free(lv->stash);
    flow_mem_release(e->ft, lv->charged);
    free(lv);
    a->live = NULL;
}

/* Drop the references of a kept TLS block and free it. */
static void app_free_tls_keep(struct app_engine *e, struct app_flow *a)
{
    struct app_tls_keep *t = a->tls;
    if (t == NULL)
        return;
    const char *strs[] = {t->sni,  t->alpn, t->alpn_offered, t->ja3,
                          t->ja3s, t->ja4,  t->chain_error};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        istr_put(e->strings, strs[i]);
    cc_put(e->certs, t->leaf);
    if (a->tls_charged)
        flow_mem_release(e->ft, flow_mem_block(sizeof(*t)));
    free(t);
    a->tls = NULL;
}

/* The interned strings of the kept union. */
static size_t app_keep_strings(struct app_flow *a, const char ***out)
{
    switch (a->keep) {
    case APP_K_WEB:
        out[0] = &a->u.web.path, out[1] = &a->u.web.service, out[2] = &a->u.web.method;
        out[3] = &a->u.web.authority, out[4] = &a->u.web.user_agent;
        out[5] = &a->u.web.http_method, out[6] = &a->u.web.http_path;
        return 7;
    case APP_K_MYSQL:
        out[0] = &a->u.mysql.version, out[1] = &a->u.mysql.user, out[2] = &a->u.mysql.plugin;
        out[3] = &a->u.mysql.sw;
        return 4;
    case APP_K_DPI:
        out[0] = &a->u.dpi.proto;
        for (size_t i = 0; i < RULES_NDPI_RISKS_MAX; i++)
            out[1 + i] = &a->u.dpi.risk[i];
        return 5;
    default:
        return 0;
    }
}

void app_release(struct app_engine *e, struct flow *f)
{
    struct app_flow *a = f->app;
    const char **strs[8];
    if (a == NULL)
        return;
    app_free_live(e, a);
    app_free_tls_keep(e, a);
    size_t n = app_keep_strings(a, strs);
    for (size_t i = 0; i < n; i++)
        istr_put(e->strings, *strs[i]);
    if (!a->uncharged)
        flow_mem_release(e->ft, flow_mem_block(sizeof(*a)));
    free(a);
    f->app = NULL;
}

/* ---- summary, classification, verdict ---- */

/* Append ",s" (or "s" first) to buf, never past len; a name that does not fit is left out. */
static void app_append(char *buf, size_t len, size_t *used, const char *name)
{
    size_t need = strlen(name) + (*used > 0);
    if (*used + need >= len)
        return;
    if (*used > 0)
        buf[(*used)++] = ',';
    memcpy(buf + *used, name, strlen(name) + 1);
    *used += strlen(name);
}

static const char *app_join(char *buf, size_t len, const char (*names)[TLS_ALPN_LEN + 1],
                            unsigned n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < n; i++)
        app_append(buf, len, &used, names[i]);
    return buf;
}

static void app_sum_fingerprints(struct app_engine *e, struct app_summary *s,
                                 const struct tls_facts *tf)
{
    fpm_client(e->fps, &tf->ch, &s->ja3, &s->ja4);
    s->ja3s = fpm_server(e->fps, &tf->sh);
}

/* Look up (parse on first sight) every certificate of direction dir;
 * those not seen before are kept in nc for their certificate events. */
static struct cc_entry *app_certs_dir(struct app_engine *e, const struct tls_parser *tp, int dir,
                                      struct app_new_certs *nc)
{
    struct cc_entry *leaf = NULL, *chain[CC_CHAIN_MAX] = {NULL};
    size_t n = tls_cert_count(tp, dir);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const uint8_t *der = tls_cert_der(tp, dir, i, &len);
        bool is_new;
        struct cc_entry *ce = der ? cc_get(e->certs, der, len, &is_new) : NULL;
        if (ce == NULL)
            continue;
        if (is_new && ce->info.status != X509_OK)
            e->st.parser_errors[APP_P_X509]++;
        if (is_new && nc->n < sizeof(nc->e) / sizeof(nc->e[0])) {
            nc->depth[nc->n] = (uint8_t)i;
            nc->e[nc->n++] = cc_ref(ce);
        }
        if (i == 0 && dir == TLS_DIR_SERVER)
            leaf = ce;
        else if (dir == TLS_DIR_SERVER && i <= CC_CHAIN_MAX)
            chain[i - 1] = ce;
        else
            cc_put(e->certs, ce);
    }
    if (dir != TLS_DIR_SERVER)
        return leaf;
    /* The chain as sent is remembered by the (shared) leaf, not per flow. */
    if (leaf != NULL)
        cc_set_chain(e->certs, leaf, chain, CC_CHAIN_MAX);
    for (size_t i = 0; i < CC_CHAIN_MAX; i++)
        cc_put(e->certs, chain[i]);
    return leaf;
}

/* Validate the server's chain as sent at packet time, and its name against SNI. */
static void app_check_chain(struct app_engine *e, struct app_summary *s,
                            const struct tls_parser *tp)
{
    const uint8_t *der[TLS_MAX_CERTS];
    size_t len[TLS_MAX_CERTS], n = tls_cert_count(tp, TLS_DIR_SERVER);
    for (size_t i = 0; i < n && i < TLS_MAX_CERTS; i++)
        der[i] = tls_cert_der(tp, TLS_DIR_SERVER, i, &len[i]);
    if (s->sni != NULL) {
        int m = x509_check_name(der[0], len[0], s->sni);
        if (m >= 0)
            s->sni_match = RULES_BOOL(m == 1);
    }
    if (e->verifier == NULL)
        return;
    struct x509_chain_result res;
    if (x509_verify_chain(e->verifier, der, len, n < TLS_MAX_CERTS ? n : TLS_MAX_CERTS,
                          (int64_t)(e->now_us / 1000000u), &res) != 0)
        return;
    s->chain_valid = RULES_BOOL(res.valid);
    if (!res.valid)
        s->chain_error = istr_cstr(e->strings, res.reason);
}

static void app_sum_certs(struct app_engine *e, struct app_summary *s, const struct tls_parser *tp,
                          struct app_new_certs *nc)
{
    s->leaf = app_certs_dir(e, tp, TLS_DIR_SERVER, nc);
    cc_put(e->certs, app_certs_dir(e, tp, TLS_DIR_CLIENT, nc));
    s->cert_observable = s->leaf != NULL;
    if (s->leaf != NULL)
        app_check_chain(e, s, tp);
}

static void app_sum_tls(struct app_engine *e, struct app_live *lv, struct app_summary *s,
                        struct app_new_certs *nc)
{
    const struct tls_facts *tf = tls_facts(lv->tls);
    char buf[TLS_MAX_ALPN * (TLS_ALPN_LEN + 1) + 1];

    s->tls_seen = true;
    s->tls_version = tf->version;
    s->tls_client_max = tf->client_max_version;
    s->tls_cipher = tf->sh.seen ? tf->cipher : 0;
    s->tls_client_cert = (uint8_t)tf->client_cert;
    s->tls_resumed = (uint8_t)tf->resumed;
    s->alert = tf->alert;
    s->alert_level = tf->alert_level;
    s->alert_desc = tf->alert_desc;
    if (tf->ch.has_sni)
        s->sni = istr_cstr(e->strings, tf->ch.sni);
    /* ALPN: the server's choice is visible up to TLS 1.2 only. */
    if (tf->sh.has_alpn)
        s->alpn = istr_cstr(e->strings, tf->sh.alpn);
    if (tf->ch.has_alpn)
        s->alpn_offered =
            istr_cstr(e->strings, app_join(buf, sizeof(buf), tf->ch.alpn, tf->ch.alpn_n));
    app_sum_fingerprints(e, s, tf);
    app_sum_certs(e, s, lv->tls, nc);
    if (lv->tls_start_us != 0 && tf->sh.seen && e->now_us >= lv->tls_start_us)
        s->tls_duration_us = (uint32_t)(e->now_us - lv->tls_start_us);
}

static void app_sum_mysql(struct app_engine *e, struct app_summary *s, const struct mysql_facts *mf)
{
    s->mysql_seen = true;
    s->mysql_server_ssl = mf->server_ssl;
    s->mysql_client_ssl = mf->client_ssl;
    s->mysql_downgrade = mf->downgrade;
    s->mysql_cleartext = mf->cleartext;
    s->mysql_version = istr_cstr(e->strings, mf->server_version);
    s->mysql_user = istr_cstr(e->strings, mf->user);
    s->mysql_plugin = istr_cstr(e->strings, mf->client_plugin);
    s->mysql_switch = istr_cstr(e->strings, mf->switch_plugin);
}

static enum cls_component app_component(const char *name)
{
    enum cls_component c = name ? cls_component_from_name(name) : CLS__COUNT;
    return c == CLS__COUNT ? CLS_UNKNOWN : c;
}

/* The first request's gRPC service decides app and components. */
static void app_sum_grpc(struct app_engine *e, struct app_summary *s, const char *path)
{
    struct grpc_path gp;
    if (grpc_split_path(path, strlen(path), &gp) != 0)
        return;
    s->grpc_service = istr_get(e->strings, gp.service, gp.service_len);
    s->grpc_method = istr_get(e->strings, gp.method, gp.method_len);
    const struct grpc_service *svc = grpc_service_lookup(gp.service, gp.service_len);
    if (svc == NULL)
        return;
    s->grpc_server = (uint8_t)app_component(svc->server);
    s->grpc_client = (uint8_t)app_component(svc->callers[0]); /* the most typical caller */
    if (strcmp(svc->app, "etcd") == 0)
        s->proto = APP_ETCD;
}

/* Vitess and etcd serve only gRPC over HTTP/2 on their gRPC ports: a
 * mid-stream HTTP/2 flow whose headers cannot be decoded is gRPC there. */
static bool app_grpc_port(uint16_t port)
{
    switch (cls_port_component(port)) {
    case CLS_VTGATE:
    case CLS_VTTABLET:
    case CLS_VTCTLD:
    case CLS_ETCD:
        return port != 15000 && port != 15001 && port != 2380 && (port < 15100 || port > 15199);
    default:
        return false;
    }
}

static void app_sum_h2(struct app_engine *e, struct app_summary *s, const struct h2_parser *hp,
                       uint16_t port)
{
    const struct h2_facts *hf = h2_facts(hp);
    if (!hf->recognised)
        return;
    s->proto = APP_HTTP2;
    s->enc = APP_ENC_PLAINTEXT;
    s->authority = istr_cstr(e->strings, hf->authority);
    s->user_agent = istr_cstr(e->strings, hf->user_agent);
    bool grpc_ct = grpc_content_type(hf->content_type, strlen(hf->content_type)) != GRPC_CT_NONE;
    if (hf->npaths > 0) {
        s->grpc_path = istr_cstr(e->strings, hf->paths[0]);
        if (grpc_ct || hf->content_type[0] == '\0')
            app_sum_grpc(e, s, hf->paths[0]);
    }
    if (s->proto == APP_HTTP2 && (grpc_ct || s->grpc_service != NULL || app_grpc_port(port)))
        s->proto = APP_GRPC;
}

static void app_sum_http1(struct app_engine *e, struct app_summary *s,
                          const struct http1_parser *hp, uint16_t port)
{
    const struct http1_facts *hf = http1_facts(hp);
    if (!hf->request)
        return;
    enum etcd_kind k = etcd_classify_http(hf, NULL);
    if (k == ETCD_EITHER)
        k = port == 2380 ? ETCD_PEER : ETCD_CLIENT;
    s->proto = k == ETCD_PEER ? APP_ETCD_PEER : k == ETCD_CLIENT ? APP_ETCD : APP_HTTP;
    s->enc = APP_ENC_PLAINTEXT;
    s->http_method = istr_cstr(e->strings, hf->method);
    s->http_path = istr_cstr(e->strings, hf->path);
    s->authority = istr_cstr(e->strings, hf->host);
    s->user_agent = istr_cstr(e->strings, hf->user_agent);
    s->http_status = hf->response ? hf->status : 0;
}

static void app_sum_dpi(struct app_engine *e, struct app_summary *s, struct app_live *lv)
{
    struct dpi_result r;

    dpi_result(e->dpi, lv->dpi, &r);
    s->ndpi_proto = istr_cstr(e->strings, r.protocol);
    for (unsigned i = 0; i < r.nrisks && i < RULES_NDPI_RISKS_MAX; i++)
        s->ndpi_risk[i] = istr_cstr(e->strings, r.risks[i]);

    /* nDPI's name only decides what our dissectors could not, and never a
     * guess from the port alone. */
    if (s->proto != APP_UNKNOWN || r.guessed)
        return;
    if (strstr(r.protocol, "TLS") != NULL)
        s->proto = APP_TLS, s->enc = APP_ENC_TLS;
    else if (strncmp(r.protocol, "HTTP", 4) == 0)
        s->proto = APP_HTTP, s->enc = APP_ENC_PLAINTEXT;
    else if (strstr(r.protocol, "MySQL") != NULL)
        s->proto = APP_MYSQL, s->enc = APP_ENC_PLAINTEXT;
    else if (r.encrypted)
        s->dpi_encrypted = true; /* e.g. SSH: its first line is text, the rest is not */
}

static enum cls_app_hint app_hint(const struct app_summary *s)
{
    switch (s->proto) {
    case APP_MYSQL:
        if (s->mysql_version == NULL)
            return CLS_HINT_NONE;
        return strstr(s->mysql_version, "-Vitess") != NULL ? CLS_HINT_MYSQL_VITESS : CLS_HINT_MYSQL;
    case APP_GRPC:
        return s->grpc_server != CLS_UNKNOWN ? CLS_HINT_GRPC : CLS_HINT_NONE;
    case APP_ETCD:
        return CLS_HINT_ETCD_CLIENT;
    case APP_ETCD_PEER:
        return CLS_HINT_ETCD_PEER;
    case APP_ZOOKEEPER:
        return CLS_HINT_ZOOKEEPER;
    default:
        return CLS_HINT_NONE;
    }
}

static void app_classify(struct app_engine *e, const struct flow *f, struct app_summary *s)
{
    unsigned cs = flow_client_side(f), ss = flow_server_side(f);
    struct cls_input in = {
        .family = f->key.family,
        .client_addr = &f->key.addr[cs],
        .server_addr = &f->key.addr[ss],
        .client_port = f->key.port[cs],
        .server_port = f->key.port[ss],
        .hint = app_hint(s),
        .grpc_server = (enum cls_component)s->grpc_server,
        .grpc_client = (enum cls_component)s->grpc_client,
        .tls_names = {s->sni},
    };
    unsigned k = s->sni != NULL;
    for (unsigned i = 0; s->leaf != NULL && i < s->leaf->info.nsans && k < 7; i++)
        in.tls_names[k++] = s->leaf->sans[i];
    struct cls_result r;
    cls_classify(e->cfg.inventory, &in, &r);
    s->client = (uint8_t)r.client, s->server = (uint8_t)r.server;
    s->client_ev = (uint8_t)r.client_evidence, s->server_ev = (uint8_t)r.server_evidence;
}

/* Reach the verdict: summarise the parsers, free them, classify, report. */
/* ---- packing the summary past the verdict ---- */

static void app_sum_put_tls(struct app_engine *e, struct app_summary *s)
{
    const char *strs[] = {s->sni,  s->alpn, s->alpn_offered, s->ja3,
                          s->ja3s, s->ja4,  s->chain_error};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        istr_put(e->strings, strs[i]);
    cc_put(e->certs, s->leaf);
}

/* Move the TLS facts of s (and their references) into a kept block. */
static void app_pack_tls(struct app_engine *e, struct flow *f, struct app_flow *a,
                         struct app_summary *s)
{
    struct app_tls_keep *t;
    if (!s->tls_seen)
        return;
    t = a->uncharged ? calloc(1, sizeof(*t)) : app_alloc(e, f, NULL, sizeof(*t));
    if (t == NULL) {
        app_sum_put_tls(e, s); /* Limitation: past the memory cap the TLS facts are lost */
        return;
    }
    a->tls_charged = !a->uncharged;
    *t = (struct app_tls_keep){.version = s->tls_version,
                               .client_max = s->tls_client_max,
                               .cipher = s->tls_cipher,
                               .client_cert = s->tls_client_cert,
                               .resumed = s->tls_resumed,
                               .alert_level = s->alert_level,
                               .alert_desc = s->alert_desc,
                               .alert = s->alert,
                               .cert_observable = s->cert_observable,
                               .chain_valid = s->chain_valid,
                               .sni_match = s->sni_match,
                               .duration_us = s->tls_duration_us,
                               .sni = s->sni,
                               .alpn = s->alpn,
                               .alpn_offered = s->alpn_offered,
                               .ja3 = s->ja3,
                               .ja3s = s->ja3s,
                               .ja4 = s->ja4,
                               .chain_error = s->chain_error,
                               .leaf = s->leaf};
    a->tls = t;
}

/* Keep the one group of plaintext facts a flow can have; drop the others. */
static void app_pack_plain(struct app_engine *e, struct app_flow *a, struct app_summary *s)
{
    const char *web[] = {s->grpc_path,  s->grpc_service, s->grpc_method, s->authority,
                         s->user_agent, s->http_method,  s->http_path};
    const char *mysql[] = {s->mysql_version, s->mysql_user, s->mysql_plugin, s->mysql_switch};
    bool has_web = false;
    for (size_t i = 0; i < 7; i++)
        has_web |= web[i] != NULL;
    a->keep = s->mysql_seen ? APP_K_MYSQL : has_web ? APP_K_WEB : s->ndpi_proto ? APP_K_DPI : 0;
    if (a->keep == APP_K_MYSQL) {
        a->u.mysql.version = mysql[0], a->u.mysql.user = mysql[1];
        a->u.mysql.plugin = mysql[2], a->u.mysql.sw = mysql[3];
        a->u.mysql.server_ssl = s->mysql_server_ssl, a->u.mysql.client_ssl = s->mysql_client_ssl;
        a->u.mysql.downgrade = s->mysql_downgrade, a->u.mysql.cleartext = s->mysql_cleartext;
    } else if (a->keep == APP_K_WEB) {
        a->u.web.path = web[0], a->u.web.service = web[1], a->u.web.method = web[2];
        a->u.web.authority = web[3], a->u.web.user_agent = web[4];
        a->u.web.http_method = web[5], a->u.web.http_path = web[6];
        a->u.web.grpc_server = s->grpc_server, a->u.web.grpc_client = s->grpc_client;
        a->u.web.http_status = s->http_status;
    } else if (a->keep == APP_K_DPI) {
        a->u.dpi.proto = s->ndpi_proto;
        memcpy(a->u.dpi.risk, s->ndpi_risk, sizeof(a->u.dpi.risk));
    }
    for (size_t i = 0; a->keep != APP_K_WEB && i < 7; i++)
        istr_put(e->strings, web[i]);
    for (size_t i = 0; a->keep != APP_K_MYSQL && i < RULES_NDPI_RISKS_MAX; i++)
        istr_put(e->strings, mysql[i]);
    if (a->keep != APP_K_DPI) {
        istr_put(e->strings, s->ndpi_proto);
        for (size_t i = 0; i < 4; i++)
            istr_put(e->strings, s->ndpi_risk[i]);
    }
}

static void app_pack(struct app_engine *e, struct flow *f, struct app_flow *a,
                     struct app_summary *s)
{
    a->proto = s->proto, a->enc = s->enc;
    a->client = s->client, a->server = s->server;
    a->client_ev = s->client_ev, a->server_ev = s->server_ev;
    app_pack_tls(e, f, a, s);
    app_pack_plain(e, a, s);
}

/* The summary of a flow past its verdict, for its events and record. The
 * strings stay owned by the flow. */
static void app_unpack(const struct app_flow *a, struct app_summary *s)
{
    memset(s, 0, sizeof(*s));
    s->proto = a->proto, s->enc = a->enc, s->client = a->client, s->server = a->server;
    s->client_ev = a->client_ev, s->server_ev = a->server_ev;
    s->verdict = a->verdict;
    const struct app_tls_keep *t = a->tls;
    if (t != NULL) {
        s->tls_seen = true;
        s->tls_version = t->version, s->tls_client_max = t->client_max, s->tls_cipher = t->cipher;
        s->tls_client_cert = t->client_cert, s->tls_resumed = t->resumed;
        s->alert_level = t->alert_level, s->alert_desc = t->alert_desc, s->alert = t->alert;
        s->cert_observable = t->cert_observable, s->chain_valid = t->chain_valid;
        s->sni_match = t->sni_match, s->tls_duration_us = t->duration_us;
        s->sni = t->sni, s->alpn = t->alpn, s->alpn_offered = t->alpn_offered;
        s->ja3 = t->ja3, s->ja3s = t->ja3s, s->ja4 = t->ja4, s->chain_error = t->chain_error;
        s->leaf = t->leaf;
    }
    if (a->keep == APP_K_MYSQL) {
        s->mysql_seen = true;
        s->mysql_version = a->u.mysql.version, s->mysql_user = a->u.mysql.user;
        s->mysql_plugin = a->u.mysql.plugin, s->mysql_switch = a->u.mysql.sw;
        s->mysql_server_ssl = a->u.mysql.server_ssl, s->mysql_client_ssl = a->u.mysql.client_ssl;
        s->mysql_downgrade = a->u.mysql.downgrade, s->mysql_cleartext = a->u.mysql.cleartext;
    } else if (a->keep == APP_K_WEB) {
        s->grpc_path = a->u.web.path, s->grpc_service = a->u.web.service;
        s->grpc_method = a->u.web.method, s->authority = a->u.web.authority;
        s->user_agent = a->u.web.user_agent, s->http_method = a->u.web.http_method;
        s->http_path = a->u.web.http_path, s->http_status = a->u.web.http_status;
        s->grpc_server = a->u.web.grpc_server, s->grpc_client = a->u.web.grpc_client;
    } else if (a->keep == APP_K_DPI) {
        s->ndpi_proto = a->u.dpi.proto;
        memcpy(s->ndpi_risk, a->u.dpi.risk, sizeof(s->ndpi_risk));
    }
}

static void app_cert_events(struct app_engine *e, struct flow *f, struct app_new_certs *nc);

/* The leaf's server component; a component new for a known certificate
 * (one key shared by several components) gets a certificate event too. */
static void app_leaf_component(struct app_summary *s, struct app_new_certs *nc)
{
    if (s->leaf == NULL || !cc_presented_by(s->leaf, s->server))
        return;
    for (unsigned i = 0; i < nc->n; i++)
        if (nc->e[i] == s->leaf)
            return;
    if (nc->n < sizeof(nc->e) / sizeof(nc->e[0])) {
        nc->depth[nc->n] = 0;
        nc->e[nc->n++] = cc_ref(s->leaf);
    }
}

/* Summarise the parsers of the live state into s. */
static void app_summarise(struct app_engine *e, struct flow *f, struct app_live *lv,
                          struct app_summary *s, struct app_new_certs *nc)
{
    uint16_t port = f->key.port[flow_server_side(f)];
    if (lv->mysql != NULL)
        app_sum_mysql(e, s, mysql_facts(lv->mysql));
    if (lv->tls != NULL)
        app_sum_tls(e, lv, s, nc);
    if (lv->h2 != NULL)
        app_sum_h2(e, s, lv->h2, port);
    if (lv->http1 != NULL)
        app_sum_http1(e, s, lv->http1, port);
    if (lv->zk != NULL && zk_facts(lv->zk)->connect)
        s->proto = APP_ZOOKEEPER, s->enc = APP_ENC_PLAINTEXT;
    if (lv->dpi != NULL)
        app_sum_dpi(e, s, lv);
    if (s->enc == APP_ENC_UNKNOWN && lv->text && !s->dpi_encrypted)
        s->enc = APP_ENC_PLAINTEXT;
}

static void app_verdict(struct app_engine *e, struct flow *f, struct app_flow *a)
{
    struct app_summary sum = {0}, *s = &sum; /* worked out here, then packed into a */
    struct app_new_certs nc = {.n = 0};

    if (a->verdict)
        return;
    a->verdict = 1;
    s->verdict = true;
    f->flags &= (uint8_t)~FLOW_F_APP_PACKETS;
    if (a->live != NULL) {
        s->proto = a->live->proto, s->enc = a->live->enc;
        app_summarise(e, f, a->live, s, &nc);
    }
    app_classify(e, f, s);
    app_leaf_component(s, &nc);
    e->st.flows[s->proto]++;
    e->st.enc[s->enc]++;
    app_pack(e, f, a, s);
    app_free_live(e, a);
    if (e->cfg.on_verdict != NULL) {
        struct rules_event ev;
        app_fill_event(e, f, &ev);
        e->cfg.on_verdict(e->cfg.ctx, f, &ev);
    }
    app_cert_events(e, f, &nc);
}

static bool app_dpi_begin(struct app_engine *e, struct flow *f, struct app_live *lv, bool *done);

void app_on_end(struct app_engine *e, struct flow *f)
{
    /* A flow without payload still gets its verdict (and its components):
     * its state is made here, briefly, outside the memory cap. */
    if (f->app == NULL) {
        struct app_flow *a = calloc(1, sizeof(*a));
        if (a == NULL) {
            e->st.alloc_failed++;
            return;
        }
        a->uncharged = true;
        f->app = a;
    }
    struct app_live *lv = ((struct app_flow *)f->app)->live;
    bool done;
    if (lv != NULL && lv->dpi == NULL && lv->dpi_first != NULL && e->cfg.ndpi &&
        app_dpi_begin(e, f, lv, &done))
        e->st.dpi_late++;
    app_verdict(e, f, f->app);
}

uint64_t app_tls_duration_us(const struct flow *f)
{
    const struct app_flow *a = f->app;
    return a != NULL && a->tls != NULL ? a->tls->duration_us : 0;
}

/* ---- dissectors ---- */

static bool app_start_tls(struct app_engine *e, struct flow *f, struct app_flow *a)
{
    struct app_live *lv = a->live;
    lv->tls = app_parser_alloc(e, f, lv, APP_POOL_TLS);
    if (lv->tls == NULL)
        return false;
    tls_init(lv->tls);
    lv->stage = APP_ST_TLS;
    if (lv->proto == APP_UNKNOWN)
        lv->proto = APP_TLS;
    lv->enc = APP_ENC_TLS;
    return true;
}

static bool app_start_mysql(struct app_engine *e, struct flow *f, struct app_flow *a)
{
    struct app_live *lv = a->live;
    lv->mysql = app_parser_alloc(e, f, lv, APP_POOL_MYSQL);
    if (lv->mysql == NULL)
        return false;
    mysql_init(lv->mysql);
    lv->stage = APP_ST_MYSQL;
    lv->proto = APP_MYSQL;
    lv->enc = APP_ENC_PLAINTEXT;
    return true;
}

static bool app_start_h2(struct app_engine *e, struct flow *f, struct app_flow *a)
{
    struct app_live *lv = a->live;
    lv->h2 = app_parser_alloc(e, f, lv, APP_POOL_H2);
    if (lv->h2 == NULL)
        return false;
    h2_init(lv->h2);
    lv->stage = APP_ST_H2;
    return true;
}

/* Feed HTTP/2. The verdict comes with the first request's path (or when the
 * client's header decoder cannot follow a mid-stream connection). */
static bool app_feed_h2(struct app_engine *e, struct app_live *lv, int dir, const uint8_t *p,
                        size_t n)
{
    enum dissect_status st = h2_feed(lv->h2, dir, p, n);
    if (st == DISSECT_ERROR) {
        e->st.parser_errors[APP_P_HTTP2]++;
        return true;
    }
    const struct h2_facts *hf = h2_facts(lv->h2);
    return st == DISSECT_DONE ||
           (hf->recognised && (hf->npaths > 0 || hf->decoder_broken[TLS_DIR_CLIENT]));
}

/* Parser state of a stage that needs only a fixed struct and a feed. */
static bool app_start_simple(struct app_engine *e, struct flow *f, struct app_flow *a,
                             enum app_stage st)
{
    struct app_live *lv = a->live;
    if (st == APP_ST_HTTP1) {
        lv->http1 = app_alloc(e, f, lv, sizeof(*lv->http1));
        if (lv->http1 == NULL)
            return false;
        http1_init(lv->http1);
    } else {
        lv->zk = app_alloc(e, f, lv, sizeof(*lv->zk));
        if (lv->zk == NULL)
            return false;
        zk_init(lv->zk);
    }
    lv->stage = st;
    return true;
}

static bool app_feed_simple(struct app_engine *e, struct app_live *lv, int dir, const uint8_t *p,
                            size_t n)
{
    bool http = lv->stage == APP_ST_HTTP1;
    enum dissect_status st = http ? http1_feed(lv->http1, dir, p, n) : zk_feed(lv->zk, dir, p, n);
    if (st == DISSECT_ERROR)
        e->st.parser_errors[http ? APP_P_HTTP1 : APP_P_ZK]++;
    return st != DISSECT_MORE;
}

/* Feed TLS; returns true when the verdict is ready. */
static bool app_feed_tls(struct app_engine *e, struct app_live *lv, int dir, const uint8_t *p,
                         size_t n)
{
    if (lv->tls_start_us == 0 && dir == TLS_DIR_CLIENT)
        lv->tls_start_us = e->now_us;
    enum tls_status st = tls_feed(lv->tls, dir, p, n);
    if (st == TLS_ERROR)
        e->st.parser_errors[APP_P_TLS]++;
    return st != TLS_MORE;
}

/* Feed MySQL; on an SSLRequest hand the rest over to TLS. True at the verdict. */
static bool app_feed_mysql(struct app_engine *e, struct flow *f, struct app_flow *a, int dir,
                           const uint8_t *p, size_t n)
{
    struct app_live *lv = a->live;
    uint64_t before = mysql_offset(lv->mysql, dir);
    enum dissect_status st = mysql_feed(lv->mysql, dir, p, n);
    if (st == DISSECT_ERROR) {
        e->st.parser_errors[APP_P_MYSQL]++;
        return true;
    }
    if (st == DISSECT_MORE)
        return false;
    if (!mysql_facts(lv->mysql)->tls_handoff)
        return true;

    /* TLS follows the SSLRequest on the same stream. */
    e->st.tls_handoffs++;
    size_t used = (size_t)(mysql_offset(lv->mysql, dir) - before);
    if (!app_start_tls(e, f, a))
        return true;
    lv->proto = APP_MYSQL;
    return used < n && app_feed_tls(e, lv, dir, p + used, n - used);
}

/* Which dissector the first bytes of a flow call for. */
/* An HTTP/2 server may speak first: its connection preface is a SETTINGS
 * frame (RFC 9113 3.4) on stream 0 without ACK, a multiple of 6 bytes long. */
static bool app_h2_server_preface(const uint8_t *p, size_t n)
{
    if (n < 9)
        return false;
    uint32_t len = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
    uint32_t stream = ((uint32_t)p[5] << 24 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 8 | p[8]);
    return p[3] == H2_SETTINGS && p[4] == 0 && (stream & 0x7fffffffu) == 0 && len % 6 == 0 &&
           len <= H2_DEFAULT_MAX_FRAME;
}

/* A ZooKeeper ConnectRequest: 4-byte length of a connect frame, then
 * protocolVersion 0 (the zookeeper dissector checks the rest). */
static bool app_zk_connect(const uint8_t *p, size_t n)
{
    if (n < 8)
        return false;
    uint32_t len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    return len >= ZK_CONNECT_MIN_LEN && len <= ZK_CONNECT_MAX_LEN && p[4] == 0 && p[5] == 0 &&
           p[6] == 0 && p[7] == 0;
}

static enum app_stage app_choose(const struct flow *f, int dir, const uint8_t *p, size_t n,
                                 bool *need_more)
{
    bool mid = f->flags & FLOW_F_MIDSTREAM;
    int tls = tls_probe(p, n);
    enum h2_probe_result h2 = h2_probe(dir, p, n);

    *need_more = false;
    if (tls == 1)
        return APP_ST_TLS;
    if (h2 == H2_PROBE_PREFACE || (mid && h2 == H2_PROBE_FRAMES))
        return APP_ST_H2;
    if (mid) {
        enum mysql_probe_result m = mysql_probe(dir, p, n, NULL);
        if (m == MYSQL_PROBE_YES)
            return APP_ST_MYSQL;
        *need_more = tls == -1 || m == MYSQL_PROBE_MORE || h2 == H2_PROBE_MORE;
        return APP_ST_OPAQUE;
    }
    /* MySQL: the server speaks first, a protocol-10 greeting or an ERR packet. */
    if (dir == TLS_DIR_SERVER) {
        if (n < 5) {
            *need_more = true;
            return APP_ST_OPAQUE;
        }
        if (app_h2_server_preface(p, n))
            return APP_ST_H2;
        return p[3] == 0 && (p[4] == 0x0a || p[4] == 0xff) ? APP_ST_MYSQL : APP_ST_OPAQUE;
    }
    int http = http1_probe_request(p, n);
    if (http == 1)
        return APP_ST_HTTP1;
    if (app_zk_connect(p, n))
        return APP_ST_ZK;
    *need_more = tls == -1 || h2 == H2_PROBE_MORE || http == -1 || n < 8;
    return APP_ST_OPAQUE;
}

/* Feed the chosen dissector; true when the verdict is ready. */
static bool app_feed(struct app_engine *e, struct flow *f, struct app_flow *a, int dir,
                     const uint8_t *p, size_t n)
{
    switch (a->live->stage) {
    case APP_ST_TLS:
        return app_feed_tls(e, a->live, dir, p, n);
    case APP_ST_MYSQL:
        return app_feed_mysql(e, f, a, dir, p, n);
    case APP_ST_H2:
        return app_feed_h2(e, a->live, dir, p, n);
    case APP_ST_HTTP1:
    case APP_ST_ZK:
        return app_feed_simple(e, a->live, dir, p, n);
    default:
        return false;
    }
}

static bool app_begin(struct app_engine *e, struct flow *f, struct app_flow *a, enum app_stage st)
{
    if (st == APP_ST_TLS)
        return app_start_tls(e, f, a);
    if (st == APP_ST_H2)
        return app_start_h2(e, f, a);
    if (st == APP_ST_HTTP1 || st == APP_ST_ZK)
        return app_start_simple(e, f, a, st);
    if (f->flags & FLOW_F_MIDSTREAM) {
        /* MySQL commands or results without the login: plaintext, nothing to parse. */
        a->live->proto = APP_MYSQL;
        a->live->enc = APP_ENC_PLAINTEXT;
        a->live->stage = APP_ST_DONE;
        return true;
    }
    return app_start_mysql(e, f, a);
}

/* Printable ASCII (and whitespace) in at least 15 of 16 bytes: a text protocol in the clear. */
static bool app_is_text(const uint8_t *p, size_t n)
{
    size_t text = 0;
    for (size_t i = 0; i < n; i++)
        text += (p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\r' || p[i] == '\n' || p[i] == '\t';
    return n >= 8 && text * 16 >= n * 15;
}

/* Choose a dissector from the first bytes (kept in the stash while too few
 * to decide), then feed it everything seen so far. True at the verdict. */
static bool app_detect(struct app_engine *e, struct flow *f, struct app_flow *a, int dir,
                       const uint8_t *p, size_t n)
{
    struct app_live *lv = a->live;
    uint8_t probe[APP_PROBE];
    size_t have = lv->stash_len[dir];
    const uint8_t *q = p;
    size_t m = n;
    bool more;

    /* Judge the stashed bytes and the new ones together (a bounded copy). */
    if (have > 0) {
        m = have + (n < APP_PROBE - have ? n : APP_PROBE - have);
        memcpy(probe, lv->stash + dir * APP_STASH, have);
        memcpy(probe + have, p, m - have);
        q = probe;
    }
    enum app_stage st = app_choose(f, dir, q, m, &more);
    if (st == APP_ST_OPAQUE && more && have + n <= APP_STASH &&
        (lv->stash != NULL || (lv->stash = app_charged(e, f, lv, 2 * APP_STASH, NULL)))) {
        memcpy(lv->stash + dir * APP_STASH + have, p, n);
        lv->stash_len[dir] = (uint8_t)(have + n);
        return false;
    }
    if (st == APP_ST_OPAQUE || !app_begin(e, f, a, st)) {
        lv->stage = APP_ST_OPAQUE;
        if (e->cfg.ndpi)
            f->flags |= FLOW_F_APP_PACKETS;
        lv->text = app_is_text(q, m < APP_PROBE ? m : APP_PROBE);
        return false;
    }
    if (lv->stage == APP_ST_DONE)
        return true;
    for (int d = 0; d < 2; d++)
        if (lv->stash_len[d] > 0 &&
            app_feed(e, f, a, d, lv->stash + d * APP_STASH, lv->stash_len[d]))
            return true;
    return app_feed(e, f, a, dir, p, n);
}

enum stream_verdict app_on_data(void *ctx, struct flow *f, enum flow_dir dir, const uint8_t *p,
                                size_t n)
{
    struct app_engine *e = ctx;
    struct app_flow *a = app_get(e, f);
    if (a == NULL || a->verdict)
        return STREAM_DONE;
    struct app_live *lv = a->live;
    bool done = lv->stage == APP_ST_DETECT ? app_detect(e, f, a, (int)dir, p, n)
                                           : app_feed(e, f, a, (int)dir, p, n);
    if (done) {
        app_verdict(e, f, a);
        return STREAM_DONE;
    }
    return lv->stage == APP_ST_OPAQUE ? STREAM_DONE : STREAM_MORE;
}

enum stream_verdict app_on_gap(void *ctx, struct flow *f, enum flow_dir dir, uint64_t n)
{
    struct app_engine *e = ctx;
    struct app_flow *a = app_get(e, f);
    if (a == NULL || a->verdict)
        return STREAM_DONE;
    struct app_live *lv = a->live;
    bool done = false;
    switch (lv->stage) {
    case APP_ST_TLS:
        done = tls_gap(lv->tls, (int)dir, n) != TLS_MORE;
        break;
    case APP_ST_MYSQL:
        done = mysql_gap(lv->mysql, (int)dir, n) != DISSECT_MORE;
        break;
    case APP_ST_H2:
        done = h2_gap(lv->h2, (int)dir, n) != DISSECT_MORE;
        break;
    case APP_ST_HTTP1:
        done = http1_gap(lv->http1, (int)dir, n) != DISSECT_MORE;
        break;
    case APP_ST_ZK:
        done = zk_gap(lv->zk, (int)dir, n) != DISSECT_MORE;
        break;
    default:
        /* Bytes lost before the protocol was known: nothing to parse reliably. */
        lv->stage = APP_ST_OPAQUE;
        if (e->cfg.ndpi)
            f->flags |= FLOW_F_APP_PACKETS;
        return STREAM_DONE;
    }
    if (done) {
        app_verdict(e, f, a);
        return STREAM_DONE;
    }
    return STREAM_MORE;
}

static bool app_start_dpi(struct app_engine *e, struct flow *f, struct app_live *lv)
{
    if (e->dpi == NULL && (e->dpi = dpi_engine_new()) == NULL) {
        e->cfg.ndpi = false; /* nDPI failed to initialise: go on without it */
        e->st.alloc_failed++;
        return false;
    }
    if (!flow_mem_charge(e->ft, f, dpi_flow_size())) {
        e->st.alloc_failed++;
        return false;
    }
    lv->dpi = dpi_flow_new();
    if (lv->dpi == NULL) {
        flow_mem_release(e->ft, dpi_flow_size());
        e->st.alloc_failed++;
        return false;
    }
    lv->charged += dpi_flow_size();
    e->st.dpi_flows++;
    return true;
}

/* Charge what nDPI allocated for this packet (its heap grew by delta); when
 * the memory cap cannot take it, nDPI's state of the flow is given up. */
static bool app_charge_dpi(struct app_engine *e, struct flow *f, struct app_live *lv, size_t before)
{
    size_t after = dpi_heap_bytes();
    if (after <= before) {
        size_t freed = before - after < lv->dpi_heap ? before - after : lv->dpi_heap;
        flow_mem_release(e->ft, freed);
        lv->dpi_heap -= freed;
        lv->charged -= freed;
        return true;
    }
    if (flow_mem_charge(e->ft, f, after - before)) {
        lv->dpi_heap += after - before;
        lv->charged += after - before;
        return true;
    }
    e->st.alloc_failed++;
    return false;
}

/* Hold a copy of the first payload packet (charged to f). */
static bool app_dpi_hold(struct app_engine *e, struct flow *f, struct app_live *lv,
                         const struct dec_packet *pkt)
{
    lv->dpi_first = app_alloc(e, f, lv, pkt->l3_len);
    if (lv->dpi_first == NULL)
        return false;
    memcpy(lv->dpi_first, pkt->l3, pkt->l3_len);
    lv->dpi_first_len = pkt->l3_len;
    lv->dpi_first_us = e->now_us;
    return true;
}

/* One packet to nDPI; false when the flow's nDPI state had to be given up
 * (memory cap), else *done says whether nDPI has finished with the flow. */
static bool app_dpi_feed(struct app_engine *e, struct flow *f, struct app_live *lv,
                         const uint8_t *l3, uint32_t len, uint64_t ts_us, bool *done)
{
    size_t before = dpi_heap_bytes();
    *done = dpi_packet(e->dpi, lv->dpi, l3, len, ts_us);
    if (app_charge_dpi(e, f, lv, before))
        return true;
    /* Limitation: past the memory cap a flow is left without nDPI's opinion. */
    size_t held = lv->charged;
    dpi_flow_free(lv->dpi);
    lv->dpi = NULL;
    lv->dpi_off = true;
    flow_mem_release(e->ft, dpi_flow_size() + lv->dpi_heap);
    lv->charged = held - dpi_flow_size() - lv->dpi_heap;
    lv->dpi_heap = 0;
    return false;
}

/* Start nDPI on the flow and show it the held first packet, if any. */
static bool app_dpi_begin(struct app_engine *e, struct flow *f, struct app_live *lv, bool *done)
{
    *done = false;
    if (lv->dpi_off || !app_start_dpi(e, f, lv))
        return false;
    if (lv->dpi_first == NULL)
        return true;
    bool ok = app_dpi_feed(e, f, lv, lv->dpi_first, lv->dpi_first_len, lv->dpi_first_us, done);
    free(lv->dpi_first);
    lv->dpi_first = NULL;
    flow_mem_release(e->ft, flow_mem_block(lv->dpi_first_len));
    lv->charged -= flow_mem_block(lv->dpi_first_len);
    return ok;
}

/* nDPI sees unrecognised flows packet by packet. Its state costs about
 * 1.6 KiB per flow, so a TCP flow's first payload packet is held back (a
 * copy) and nDPI starts with the second: a scan or flood whose flows send
 * one segment each costs the copy, not nDPI's state. A flow that ends with
 * the packet still held shows it to nDPI then (app_on_end), so single-
 * segment flows are still classified. */
void app_on_packet(struct app_engine *e, struct flow *f, const struct dec_packet *pkt)
{
    struct app_flow *a = f->app;
    if (!e->cfg.ndpi || pkt->payload_len == 0 || a == NULL || a->live == NULL ||
        a->live->stage != APP_ST_OPAQUE)
        return;
    struct app_live *lv = a->live;
    bool done = false;
    if (lv->dpi == NULL) {
        if (lv->dpi_off)
            return;
        if (lv->dpi_first == NULL && pkt->ip_proto == DEC_PROTO_TCP && app_dpi_hold(e, f, lv, pkt))
            return;
        if (!app_dpi_begin(e, f, lv, &done))
            return;
    }
    if (!done && !app_dpi_feed(e, f, lv, pkt->l3, pkt->l3_len, e->now_us, &done))
        return;
    if (done)
        app_verdict(e, f, a);
}

/* ---- events ---- */

static void app_event_addr(struct rules_addr *out, const struct flow *f, unsigned side)
{
    out->family = f->key.family;
    memcpy(out->b, f->key.addr[side].b, sizeof(out->b));
}

/* TLS with a NULL bulk cipher carries its data in the clear. */
static bool app_null_cipher(const struct app_summary *s)
{
    const struct tls_cipher *c = s->tls_cipher ? tls_cipher_find(s->tls_cipher) : NULL;
    return c != NULL && strcmp(c->enc, "NULL") == 0;
}

static void app_event_flow(struct rules_event *ev, const struct flow *f,
                           const struct app_summary *s)
{
    unsigned cs = flow_client_side(f), ss = flow_server_side(f);
    app_event_addr(&ev->flow.src_ip, f, cs);
    app_event_addr(&ev->flow.dst_ip, f, ss);
    ev->flow.src_port = RULES_NUM(f->key.port[cs]);
    ev->flow.dst_port = RULES_NUM(f->key.port[ss]);
    ev->flow.proto = RULES_NUM(f->key.proto);
    ev->flow.midstream = RULES_BOOL(f->flags & FLOW_F_MIDSTREAM);
    if (s->enc != APP_ENC_UNKNOWN)
        ev->flow.encrypted = RULES_BOOL(s->enc == APP_ENC_TLS && !app_null_cipher(s));
    ev->flow.app = app_proto_name(s->proto);
    ev->vitess.client = cls_component_name(s->client);
    ev->vitess.server = cls_component_name(s->server);
    ev->vitess.evidence = cls_evidence_name(s->server_ev);
}

static void app_event_tls(struct rules_event *ev, const struct app_summary *s)
{
    if (!s->tls_seen)
        return;
    if (s->tls_version != 0)
        ev->tls.version = RULES_NUM(s->tls_version);
    if (s->tls_client_max != 0)
        ev->tls.client_max_version = RULES_NUM(s->tls_client_max);
    const struct tls_cipher *c = s->tls_cipher ? tls_cipher_find(s->tls_cipher) : NULL;
    if (c != NULL) {
        ev->tls.cipher = c->name;
        ev->tls.cipher_id = RULES_NUM(c->id);
        ev->tls.cs.kx = c->kx, ev->tls.cs.auth = c->auth;
        ev->tls.cs.enc = c->enc, ev->tls.cs.mac = c->mac;
        ev->tls.cs.strength = tls_cipher_strength_name(c->strength);
        ev->tls.cs.pfs = RULES_BOOL(c->flags & TLS_CS_F_PFS);
        ev->tls.cs.aead = RULES_BOOL(c->flags & TLS_CS_F_AEAD);
        ev->tls.cs.bits = RULES_NUM(c->enc_bits);
    } else if (s->tls_cipher != 0) {
        ev->tls.cipher_id = RULES_NUM(s->tls_cipher);
    }
    ev->tls.sni = s->sni;
    ev->tls.alpn = s->alpn;
    ev->tls.alpn_offered = s->alpn_offered;
    ev->tls.ja3 = s->ja3, ev->tls.ja3s = s->ja3s, ev->tls.ja4 = s->ja4;
    if (s->tls_cipher != 0)
        ev->tls.resumed = RULES_BOOL(s->tls_resumed != TLS_RESUME_NONE);
    if (s->tls_client_cert != TLS_CC_UNKNOWN)
        ev->tls.client_cert = tls_client_cert_name((enum tls_client_cert)s->tls_client_cert);
    else if (s->tls_cipher == 0)
        ev->tls.client_cert = tls_client_cert_name(TLS_CC_NOT_OBSERVABLE); /* no handshake */
    if (s->alert) {
        ev->tls.alert = tls_alert_name(s->alert_desc);
        ev->tls.alert_fatal = RULES_BOOL(s->alert_level == 2);
    }
}

static void app_event_mysql(struct rules_event *ev, const struct app_summary *s)
{
    if (!s->mysql_seen)
        return;
    ev->mysql.server_version = s->mysql_version;
    ev->mysql.server_ssl = RULES_BOOL(s->mysql_server_ssl);
    ev->mysql.client_ssl = RULES_BOOL(s->mysql_client_ssl);
    ev->mysql.auth_plugin = s->mysql_plugin;
    ev->mysql.auth_switch = s->mysql_switch;
    ev->mysql.user = s->mysql_user;
    ev->mysql.downgrade = RULES_BOOL(s->mysql_downgrade);
    ev->mysql.cleartext_password = RULES_BOOL(s->mysql_cleartext);
}

/* A SHA-1 or MD5 signature hash, by OpenSSL's algorithm name. */
static bool app_weak_sig(const char *alg)
{
    return strcasestr(alg, "sha1") != NULL || strcasestr(alg, "md5") != NULL ||
           strcasestr(alg, "md2") != NULL;
}

static void app_event_cert(struct rules_event *ev, const struct cc_entry *ce, int64_t now)
{
    const struct x509_info *x = &ce->info;
    ev->cert.observable = RULES_TRUE;
    ev->cert.sha256 = x->sha256;
    ev->cert.unparseable = RULES_BOOL(x->status != X509_OK);
    if (x->status != X509_OK)
        return;
    ev->cert.subject = x->subject, ev->cert.issuer = x->issuer;
    ev->cert.subject_cn = x->cn[0] ? x->cn : NULL;
    ev->cert.issuer_cn = ce->issuer_cn[0] ? ce->issuer_cn : NULL;
    ev->cert.san = (struct rules_strlist){.v = ce->sans, .n = x->nsans};
    ev->cert.not_before = RULES_NUM(x->not_before);
    ev->cert.not_after = RULES_NUM(x->not_after);
    int64_t left = x->not_after - now;
    ev->cert.days_left = RULES_NUM(left >= 0 ? left / 86400 : -((-left + 86399) / 86400));
    ev->cert.validity_days = RULES_NUM((x->not_after - x->not_before) / 86400);
    ev->cert.expired = RULES_BOOL(x->not_after < now);
    ev->cert.not_yet_valid = RULES_BOOL(x->not_before > now);
    ev->cert.key_type = x->key_type;
    if (x->key_bits > 0)
        ev->cert.key_bits = RULES_NUM(x->key_bits);
    ev->cert.sig_alg = x->sig_alg;
    ev->cert.sig_hash_weak = RULES_BOOL(app_weak_sig(x->sig_alg));
    ev->cert.self_signed = RULES_BOOL(x->self_signed);
    ev->cert.is_ca = RULES_BOOL(x->is_ca);
    ev->cert.shared_by_components = RULES_NUM(cc_components(ce));
}

static void app_cert_events(struct app_engine *e, struct flow *f, struct app_new_certs *nc)
{
    struct app_summary unpacked;
    const struct app_summary *s = &unpacked;
    app_unpack(f->app, &unpacked);
    for (unsigned i = 0; i < nc->n; i++) {
        struct rules_event ev;
        if (e->cfg.on_certificate != NULL) {
            app_fill_event(e, f, &ev);
            memset(&ev.cert, 0, sizeof(ev.cert));
            ev.kind = RULES_EVENT_CERTIFICATE;
            app_event_cert(&ev, nc->e[i], (int64_t)(e->now_us / 1000000u));
            ev.cert.depth = RULES_NUM(nc->depth[i]);
            if (nc->e[i] == s->leaf) {
                ev.cert.chain_valid = s->chain_valid;
                ev.cert.chain_error = s->chain_error;
                ev.cert.sni_match = s->sni_match;
            }
            e->cfg.on_certificate(e->cfg.ctx, f, &ev);
        }
        cc_put(e->certs, nc->e[i]);
    }
}

static void app_event_chain(struct rules_event *ev, const struct app_summary *s)
{
    const struct cc_entry *all[RULES_CHAIN_MAX] = {s->leaf};
    for (size_t i = 0; s->leaf != NULL && i < CC_CHAIN_MAX && i + 1 < RULES_CHAIN_MAX; i++)
        all[i + 1] = s->leaf->sent[i];
    for (size_t i = 0; i < RULES_CHAIN_MAX && all[i] != NULL; i++) {
        const struct x509_info *x = &all[i]->info;
        ev->chain[i].sha256 = x->sha256;
        if (x->status == X509_OK) {
            ev->chain[i].subject = x->subject;
            ev->chain[i].issuer = x->issuer;
            ev->chain[i].not_after = RULES_NUM(x->not_after);
        }
        ev->nchain = i + 1;
    }
}

void app_fill_event(struct app_engine *e, const struct flow *f, struct rules_event *ev)
{
    struct app_summary unpacked = {0};
    const struct app_summary *s = &unpacked;
    if (f->app != NULL)
        app_unpack(f->app, &unpacked);

    memset(ev, 0, sizeof(*ev));
    ev->kind = RULES_EVENT_FLOW;
    ev->time = RULES_NUM(e->now_us / 1000000u);
    app_event_flow(ev, f, s);
    app_event_tls(ev, s);
    app_event_mysql(ev, s);
    ev->ndpi.protocol = s->ndpi_proto;
    /* The names are copied into the event: s is gone when it is used. */
    size_t nrisk = 0;
    while (nrisk < RULES_NDPI_RISKS_MAX && s->ndpi_risk[nrisk] != NULL) {
        ev->ndpi.names[nrisk] = s->ndpi_risk[nrisk];
        nrisk++;
    }
    if (nrisk > 0)
        ev->ndpi.risks = (struct rules_strlist){.v = ev->ndpi.names, .n = nrisk};
    app_event_chain(ev, s);
    ev->http.method = s->http_method;
    ev->http.path = s->http_path;
    ev->http.host = s->http_method != NULL ? s->authority : NULL;
    ev->http.user_agent = s->http_method != NULL ? s->user_agent : NULL;
    if (s->http_status != 0)
        ev->http.status = RULES_NUM(s->http_status);
    ev->grpc.path = s->grpc_path;
    ev->grpc.service = s->grpc_service;
    ev->grpc.method = s->grpc_method;
    if (s->leaf != NULL) {
        app_event_cert(ev, s->leaf, (int64_t)(e->now_us / 1000000u));
        ev->cert.depth = RULES_NUM(0);
        ev->cert.chain_valid = s->chain_valid;
        ev->cert.chain_error = s->chain_error;
        ev->cert.sni_match = s->sni_match;
    } else if (s->tls_seen) {
        /* TLS 1.3, a resumed session, or a flow seen mid-stream. */
        ev->cert.observable = RULES_FALSE;
    }
}

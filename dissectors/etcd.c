/* etcd client / peer recognition. See etcd.h for the contract. */
#include "dissectors/etcd.h"

#include <string.h>

#include "dissectors/grpc.h"

/* Path rules: a prefix and whether it must be followed by the end, '/' or
 * anything. Checked in order. */
enum match { EXACT_OR_SUB, PREFIX };

struct path_rule {
    const char *prefix;
    enum match match;
    enum etcd_kind kind;
    enum etcd_evidence ev;
};

static const struct path_rule etcd_paths[] = {
    /* peer API (rafthttp, etcdserver/api/etcdhttp peer handler) */
    {"/raft", EXACT_OR_SUB, ETCD_PEER, ETCD_EV_PATH},
    {"/members", EXACT_OR_SUB, ETCD_PEER, ETCD_EV_PATH},
    {"/leases", EXACT_OR_SUB, ETCD_PEER, ETCD_EV_PATH},
    /* client API: grpc-gateway and the v2 API */
    {"/v3/", PREFIX, ETCD_CLIENT, ETCD_EV_PATH},
    {"/v3beta/", PREFIX, ETCD_CLIENT, ETCD_EV_PATH},
    {"/v3alpha/", PREFIX, ETCD_CLIENT, ETCD_EV_PATH},
    {"/v2/keys", EXACT_OR_SUB, ETCD_CLIENT, ETCD_EV_PATH},
    {"/v2/members", EXACT_OR_SUB, ETCD_CLIENT, ETCD_EV_PATH},
    {"/v2/stats", EXACT_OR_SUB, ETCD_CLIENT, ETCD_EV_PATH},
    {"/v2/machines", EXACT_OR_SUB, ETCD_CLIENT, ETCD_EV_PATH},
    /* generic endpoints etcd also serves */
    {"/version", EXACT_OR_SUB, ETCD_EITHER, ETCD_EV_PATH_WEAK},
    {"/health", EXACT_OR_SUB, ETCD_CLIENT, ETCD_EV_PATH_WEAK},
    {"/readyz", EXACT_OR_SUB, ETCD_CLIENT, ETCD_EV_PATH_WEAK},
    {"/livez", EXACT_OR_SUB, ETCD_CLIENT, ETCD_EV_PATH_WEAK},
};

static bool rule_matches(const struct path_rule *r, const char *path, size_t len)
{
    size_t lp = strlen(r->prefix);

    if (len < lp || memcmp(path, r->prefix, lp) != 0)
        return false;
    return r->match == PREFIX || len == lp || path[lp] == '/';
}

enum etcd_kind etcd_classify_path(const char *path, size_t len, enum etcd_evidence *ev)
{
    const char *q = memchr(path, '?', len);

    if (q != NULL)
        len = (size_t)(q - path);
    for (size_t i = 0; i < sizeof(etcd_paths) / sizeof(etcd_paths[0]); i++) {
        if (rule_matches(&etcd_paths[i], path, len)) {
            if (ev != NULL)
                *ev = etcd_paths[i].ev;
            return etcd_paths[i].kind;
        }
    }
    if (ev != NULL)
        *ev = ETCD_EV_NONE;
    return ETCD_NONE;
}

enum etcd_kind etcd_classify_http(const struct http1_facts *f, enum etcd_evidence *ev)
{
    enum etcd_evidence pev;
    enum etcd_kind k = f->request ? etcd_classify_path(f->path, strlen(f->path), &pev) : ETCD_NONE;

    if (f->x_server_from[0] != '\0' || f->x_raft_to[0] != '\0') {
        if (ev != NULL)
            *ev = ETCD_EV_HEADER;
        return ETCD_PEER;
    }
    if (f->x_etcd_cluster_id[0] != '\0') {
        if (ev != NULL)
            *ev = ETCD_EV_HEADER;
        return k == ETCD_NONE ? ETCD_EITHER : k;
    }
    if (ev != NULL)
        *ev = k == ETCD_NONE ? ETCD_EV_NONE : pev;
    return k;
}

enum etcd_kind etcd_classify_h2(const struct h2_facts *f, enum etcd_evidence *ev)
{
    for (size_t i = 0; i < f->npaths; i++) {
        struct grpc_path gp;
        const struct grpc_service *s;
        if (grpc_split_path(f->paths[i], strlen(f->paths[i]), &gp) != 0)
            continue;
        s = grpc_service_lookup(gp.service, gp.service_len);
        if (s != NULL && strcmp(s->app, "etcd") == 0) {
            if (ev != NULL)
                *ev = ETCD_EV_GRPC;
            return ETCD_CLIENT;
        }
    }
    if (ev != NULL)
        *ev = ETCD_EV_NONE;
    return ETCD_NONE;
}

const char *etcd_kind_name(enum etcd_kind k)
{
    switch (k) {
    case ETCD_CLIENT:
        return "client";
    case ETCD_PEER:
        return "peer";
    case ETCD_EITHER:
        return "either";
    case ETCD_NONE:
        break;
    }
    return "none";
}

const char *etcd_app_name(enum etcd_kind k)
{
    switch (k) {
    case ETCD_CLIENT:
    case ETCD_EITHER:
        return "etcd";
    case ETCD_PEER:
        return "etcd-peer";
    case ETCD_NONE:
        break;
    }
    return NULL;
}

const char *etcd_evidence_name(enum etcd_evidence e)
{
    switch (e) {
    case ETCD_EV_PATH_WEAK:
        return "path-weak";
    case ETCD_EV_PATH:
        return "path";
    case ETCD_EV_HEADER:
        return "header";
    case ETCD_EV_GRPC:
        return "grpc-service";
    case ETCD_EV_NONE:
        break;
    }
    return "none";
}

void etcd_init(struct etcd_parser *p)
{
    http1_init(&p->http);
    p->facts.kind = ETCD_NONE;
    p->facts.evidence = ETCD_EV_NONE;
}

void etcd_free(struct etcd_parser *p)
{
    http1_free(&p->http);
}

static void refresh(struct etcd_parser *p)
{
    p->facts.kind = etcd_classify_http(http1_facts(&p->http), &p->facts.evidence);
}

enum dissect_status etcd_feed(struct etcd_parser *p, int dir, const uint8_t *buf, size_t n)
{
    enum dissect_status st;

    if (http1_status(&p->http) != DISSECT_MORE)
        return http1_status(&p->http);
    st = http1_feed(&p->http, dir, buf, n);
    refresh(p);
    return st;
}

enum dissect_status etcd_gap(struct etcd_parser *p, int dir, uint64_t n)
{
    enum dissect_status st = http1_gap(&p->http, dir, n);

    refresh(p);
    return st;
}

enum dissect_status etcd_status(const struct etcd_parser *p)
{
    return http1_status(&p->http);
}

enum http1_error etcd_error(const struct etcd_parser *p)
{
    return http1_error(&p->http);
}

bool etcd_final(const struct etcd_parser *p)
{
    return http1_final(&p->http);
}

const struct etcd_facts *etcd_facts(const struct etcd_parser *p)
{
    return &p->facts;
}

const struct http1_facts *etcd_http(const struct etcd_parser *p)
{
    return http1_facts(&p->http);
}

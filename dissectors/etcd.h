/* etcd recognition: its gRPC client API (by service, from the table in
 * grpc.h), its HTTP/1.1 client API (grpc-gateway /v3/..., /version,
 * /health, v2 /v2/keys) and its HTTP/1.1 peer API (/raft..., /members,
 * /leases, headers X-Server-From, X-Etcd-Cluster-ID, X-Raft-To).
 *
 * Two ways to use it:
 * - stateless classifiers over facts another dissector produced:
 *   etcd_classify_http() over struct http1_facts, etcd_classify_h2() over
 *   struct h2_facts (paths looked up in the gRPC service table);
 * - a resumable parser for an HTTP/1.x flow on an etcd port, wrapping the
 *   HTTP/1.x dissector (life cycle of dissect.h):
 *
 *     struct etcd_parser ep;
 *     etcd_init(&ep);
 *     st = etcd_feed(&ep, dir, bytes, n);   (any chunking)
 *     st = etcd_gap(&ep, dir, n);
 *     etcd_facts(&ep)->kind, ->evidence; etcd_http(&ep) for method, path...
 *     etcd_free(&ep);                        (no heap: no-op)
 *
 *   DISSECT_DONE when the HTTP/1.x exchange's header blocks are complete
 *   (facts final, kind may be ETCD_NONE: plain HTTP, not etcd);
 *   DISSECT_ERROR when the client bytes are not HTTP/1.x (etcd_error()).
 *
 * Sources: etcd 3.4/3.5 server/etcdserver/api/rafthttp (peer paths and
 * headers), api/v3rpc and grpc-gateway (client paths), see PROTOCOLS.md.
 */
#ifndef VTLS_ETCD_H
#define VTLS_ETCD_H

#include <stdbool.h>
#include <stddef.h>

#include "dissectors/dissect.h"
#include "dissectors/http1.h"
#include "dissectors/http2.h"

enum etcd_kind {
    ETCD_NONE = 0, /* not etcd */
    ETCD_CLIENT,   /* client API (flow.app "etcd") */
    ETCD_PEER,     /* peer API (flow.app "etcd-peer") */
    ETCD_EITHER,   /* etcd, but the path is served on both ports (/version) */
};

/* What decided, strongest last. */
enum etcd_evidence {
    ETCD_EV_NONE = 0,
    ETCD_EV_PATH_WEAK, /* /version, /health, /readyz, /livez: any server may have them */
    ETCD_EV_PATH,      /* an etcd-only path: /v3/..., /v2/keys, /raft..., /members, /leases */
    ETCD_EV_HEADER,    /* X-Etcd-Cluster-ID, X-Server-From or X-Raft-To */
    ETCD_EV_GRPC,      /* an etcd gRPC service (etcdserverpb.*, v3lockpb, v3electionpb) */
};

/* Classify a request-target path[0..len) (query string ignored). *ev
 * (may be NULL) receives ETCD_EV_PATH or ETCD_EV_PATH_WEAK when the kind is
 * not ETCD_NONE, else ETCD_EV_NONE. */
enum etcd_kind etcd_classify_path(const char *path, size_t len, enum etcd_evidence *ev);

/* Classify an HTTP/1.x exchange: headers first (X-Server-From / X-Raft-To:
 * peer; X-Etcd-Cluster-ID: etcd, kind from the path or ETCD_EITHER), then
 * the path. */
enum etcd_kind etcd_classify_http(const struct http1_facts *f, enum etcd_evidence *ev);

/* Classify an HTTP/2 flow: ETCD_CLIENT with ETCD_EV_GRPC when one of its
 * request paths names an etcd gRPC service in the grpc.h table. */
enum etcd_kind etcd_classify_h2(const struct h2_facts *f, enum etcd_evidence *ev);

/* "client", "peer", "either", "none"; and flow.app: "etcd", "etcd-peer",
 * "etcd" (either), NULL (none). */
const char *etcd_kind_name(enum etcd_kind k);
const char *etcd_app_name(enum etcd_kind k);
const char *etcd_evidence_name(enum etcd_evidence e);

struct etcd_facts {
    enum etcd_kind kind;
    enum etcd_evidence evidence;
};

struct etcd_parser {
    struct http1_parser http;
    struct etcd_facts facts;
};

void etcd_init(struct etcd_parser *p);
void etcd_free(struct etcd_parser *p);

/* Feed n in-order bytes of direction dir (see http1_feed()); the facts are
 * recomputed as the HTTP/1.x facts grow. Returns the HTTP/1.x status. */
enum dissect_status etcd_feed(struct etcd_parser *p, int dir, const uint8_t *buf, size_t n);
enum dissect_status etcd_gap(struct etcd_parser *p, int dir, uint64_t n);
enum dissect_status etcd_status(const struct etcd_parser *p);
enum http1_error etcd_error(const struct etcd_parser *p);
bool etcd_final(const struct etcd_parser *p);
const struct etcd_facts *etcd_facts(const struct etcd_parser *p);
const struct http1_facts *etcd_http(const struct etcd_parser *p);

#endif

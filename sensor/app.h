/* Application layer of a flow: picks the dissector from the first bytes,
 * feeds it the reassembled streams, hands MySQL's SSLRequest over to TLS,
 * asks nDPI about flows no dissector recognises, and keeps a compact
 * summary of the facts past the verdict (interned strings, no parser state).
 *
 * The verdict is reached when the facts are final (handshake seen through
 * the server's certificate or first encrypted record, plaintext protocol
 * recognised) or, at the latest, when the flow ends. The engine then calls
 * its verdict callback once per flow.
 */
#ifndef VTLS_APP_H
#define VTLS_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/event.h"
#include "sensor/classify.h"
#include "sensor/flow.h"
#include "sensor/stream.h"

enum app_proto {
    APP_UNKNOWN,
    APP_TLS, /* TLS whose inner protocol is not known */
    APP_MYSQL,
    APP_GRPC,      /* HTTP/2 with gRPC (cleartext, or ALPN h2 on a gRPC port) */
    APP_HTTP2,     /* HTTP/2 that is not gRPC */
    APP_HTTP,      /* HTTP/1.x */
    APP_ETCD,      /* etcd client protocol (gRPC or HTTP gateway) */
    APP_ETCD_PEER, /* etcd raft over HTTP/1.1 */
    APP_ZOOKEEPER,
    APP__COUNT
};

enum app_enc { APP_ENC_UNKNOWN, APP_ENC_TLS, APP_ENC_PLAINTEXT };

/* Parser errors by dissector, for /metrics. */
enum app_parser {
    APP_P_TLS,
    APP_P_MYSQL,
    APP_P_HTTP2,
    APP_P_HTTP1,
    APP_P_ZK,
    APP_P_X509, /* certificates OpenSSL could not decode */
    APP_P__COUNT
};

struct app_stats {
    uint64_t flows[APP__COUNT]; /* verdicts by protocol */
    uint64_t enc[3];            /* verdicts by enum app_enc */
    uint64_t parser_errors[APP_P__COUNT];
    uint64_t tls_handoffs; /* MySQL SSLRequest -> TLS */
    uint64_t dpi_flows;    /* flows shown to nDPI */
    uint64_t dpi_late;     /* of which first shown their one held packet at their end */
    uint64_t alloc_failed; /* parser state not allocated (memory cap) */
};

struct app_engine;
struct app_flow;

/* Called once per flow when its verdict is reached; ev is filled from the
 * flow's facts and valid during the call. */
typedef void (*app_verdict_fn)(void *ctx, struct flow *f, const struct rules_event *ev);

struct app_config {
    const struct cls_inventory *inventory; /* may be NULL; not owned */
    const char *ca_bundle;                 /* PEM file for chain validation, or NULL */
    bool ndpi;                             /* ask nDPI about unrecognised flows */
    app_verdict_fn on_verdict;
    /* Once per certificate not seen before (chain of a TLS <= 1.2 handshake),
     * after the flow's verdict; ev->kind is RULES_EVENT_CERTIFICATE. May be NULL. */
    app_verdict_fn on_certificate;
    void *ctx;
};

/* NULL with a message in err (256 bytes) when a resource cannot be set up
 * (e.g. the CA bundle cannot be read). ft is charged for parser state. */
struct app_engine *app_engine_new(const struct app_config *cfg, struct flow_table *ft, char *err);
void app_engine_free(struct app_engine *e);

/* Set the packet time used for the next callbacks (handshake durations,
 * certificate validity). */
void app_set_time(struct app_engine *e, uint64_t now_us);

/* Stream consumer callbacks (struct stream_consumer with ctx = engine). */
enum stream_verdict app_on_data(void *ctx, struct flow *f, enum flow_dir dir, const uint8_t *p,
                                size_t n);
enum stream_verdict app_on_gap(void *ctx, struct flow *f, enum flow_dir dir, uint64_t n);

/* Offer a packet to nDPI while the flow is undecided (pkt->l3 onward). */
void app_on_packet(struct app_engine *e, struct flow *f, const struct dec_packet *pkt);

/* The flow ends: reach the verdict if not yet done. Keeps the summary. */
void app_on_end(struct app_engine *e, struct flow *f);

/* Fill ev (zeroed first) from the flow's summary; NULL-safe on flows
 * without application state. Strings stay valid until app_release(). */
void app_fill_event(struct app_engine *e, const struct flow *f, struct rules_event *ev);

/* Handshake duration in microseconds (ClientHello to the server's last
 * handshake message), 0 when not measured. */
uint64_t app_tls_duration_us(const struct flow *f);

/* Free the flow's application state (f->app). */
void app_release(struct app_engine *e, struct flow *f);

const struct app_stats *app_engine_stats(const struct app_engine *e);

const char *app_proto_name(enum app_proto p);
const char *app_enc_name(enum app_enc e);
const char *app_parser_name(enum app_parser p);

#endif

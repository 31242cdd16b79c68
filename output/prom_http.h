/* The /metrics HTTP server (libmicrohttpd, one internal polling thread).
 *
 * Routes: GET or HEAD /metrics renders the registry (text format 0.0.4, or
 * OpenMetrics 1.0 when the Accept header prefers application/openmetrics-text);
 * / is a small HTML page linking to it; anything else is 404, other methods
 * 405. With a web config (webconfig.h): TLS via GnuTLS, client certificates
 * per client_auth_type (a missing or unverifiable certificate fails the
 * handshake where the type requires one), and basic auth (401 with
 * WWW-Authenticate on missing or wrong credentials).
 *
 * Default port: 9854 (PROM_DEFAULT_PORT). It is outside every port Vitess
 * (15000-15999 web/gRPC, 15306 vtgate MySQL, 16000+ gRPC), MySQL (3306,
 * 33060), etcd (2379, 2380) and ZooKeeper (2181, 2888, 3888) use by default,
 * and inside the 9100-9999 range Prometheus exporters take by convention.
 * Limitation: that range is fully allocated on the Prometheus wiki and the
 * wiki could not be consulted offline; pick another port with
 * --metrics-listen if 9854 collides with an exporter on the same host.
 */
#ifndef VTLS_PROM_HTTP_H
#define VTLS_PROM_HTTP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "output/metrics.h"
#include "output/webconfig.h"

#define PROM_DEFAULT_PORT   9854
#define PROM_DEFAULT_LISTEN ":9854"
#define PROM_ERRLEN         512

struct prom_server;

struct prom_listen {
    struct sockaddr_storage addr; /* family AF_INET or AF_INET6 */
    bool any;                     /* no host given: all addresses, IPv6 and IPv4 */
    uint16_t port;
};

struct prom_stats {
    uint64_t requests;      /* requests answered */
    uint64_t scrapes;       /* /metrics answered with 200 */
    uint64_t unauthorized;  /* 401 and client certificate refusals */
    uint64_t render_errors; /* out of memory while rendering (503) */
};

/* Parse "ADDR:PORT": "0.0.0.0:9854", "127.0.0.1:0", "[::1]:9854",
 * ":9854" (all addresses) or "localhost:9854". Port 0 asks for an ephemeral
 * port (tests). Returns false with a reason in err (PROM_ERRLEN bytes). */
bool prom_parse_listen(const char *s, struct prom_listen *out, char *err);

/* Which format an Accept header asks for: OpenMetrics when it lists
 * application/openmetrics-text (version 1.0.0 or unversioned) with a q at
 * least as high as text/plain's; the text format otherwise (NULL too). */
enum metrics_format prom_negotiate(const char *accept);

/* Start serving m on listen. wc may be NULL (plain HTTP, no auth); m and wc
 * must outlive the server. Returns NULL with a reason in err when the
 * address does not parse, the port is taken, or the TLS material is
 * rejected. */
struct prom_server *prom_start(struct metrics *m, const char *listen, const struct webconfig *wc,
                               char *err);

/* The port actually bound (useful after port 0). */
uint16_t prom_port(const struct prom_server *s);

/* A snapshot of the counters (read without locking; values may be one
 * request behind). */
void prom_get_stats(const struct prom_server *s, struct prom_stats *st);

/* Stop the thread, close the socket, free s. NULL is a no-op. */
void prom_stop(struct prom_server *s);

#endif

/* A stand-in for the sensor in the Prometheus end-to-end test: registers the
 * standard vtls_ metrics, fills them with fixed values, and serves them.
 *
 *   metrics_demo LISTEN SECONDS [WEB_CONFIG]
 *
 * Values (what tests/e2e/test_prometheus.py expects by default):
 *   vtls_packets_total 1000, vtls_bytes_total 654321
 *   vtls_flows_total{client="vtctld",server="vttablet",app="grpc",encryption="plaintext",
 *                    tls_version=""} 3
 *   vtls_flows_total{client="vtgate",server="vttablet",app="grpc",encryption="tls",
 *                    tls_version="TLS 1.3"} 5
 *   vtls_cert_not_after_timestamp_seconds{subject_cn="vttablet-1",...} 1798761600
 *   vtls_tls_handshake_duration_seconds{server="vttablet"}: 4 observations, sum 0.01
 *   vtls_build_info{version="0.1.0-demo",...} 1
 * vtls_packets_total then grows by 10 per second while serving.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "output/metrics.h"
#include "output/prom_http.h"
#include "output/webconfig.h"

static volatile sig_atomic_t demo_stop;

static void demo_signal(int sig)
{
    (void)sig;
    demo_stop = 1;
}

static void demo_fill(const struct metrics_std *s)
{
    metrics_set(s->packets, NULL, 1000);
    metrics_set(s->bytes, NULL, 654321);
    metrics_set(s->capture_drops, (const char *[]){"kernel"}, 0);
    metrics_set(s->capture_drops, (const char *[]){"interface"}, 0);
    metrics_add(s->parser_errors, (const char *[]){"tls", "record_too_long"}, 2);
    metrics_set(s->flows_active, NULL, 8);
    metrics_add(s->flows, (const char *[]){"vtctld", "vttablet", "grpc", "plaintext", ""}, 3);
    metrics_add(s->flows, (const char *[]){"vtgate", "vttablet", "grpc", "tls", "TLS 1.3"}, 5);
    metrics_add(s->tls_handshakes, (const char *[]){"TLS 1.3", "strong"}, 5);
    metrics_add(s->alerts, (const char *[]){"plaintext-grpc", "high"}, 1);
    metrics_add(s->alerts_suppressed, (const char *[]){"plaintext-grpc"}, 2);
    metrics_set(
        s->cert_not_after,
        (const char *[]){"vttablet-1", "Vitess \"Test\" CA", "0123456789abcdef", "vttablet"},
        1798761600);
    metrics_set(s->plaintext_last_seen, (const char *[]){"vtctld", "vttablet"}, 1764775807.5);
    for (int i = 0; i < 4; i++)
        metrics_observe(s->handshake_duration, (const char *[]){"vttablet"}, 0.0025);
    metrics_set(s->memory, NULL, 1 << 20);
    metrics_add(s->rules_reloads, (const char *[]){"success"}, 1);
    metrics_set(s->rules_last_reload_success, NULL, (double)time(NULL));
    metrics_set(s->rules_loaded, NULL, 12);
}

int main(int argc, char **argv)
{
    char err[WEBCONFIG_ERRLEN > PROM_ERRLEN ? WEBCONFIG_ERRLEN : PROM_ERRLEN];
    struct metrics_build_info bi = {"0.1.0-demo", "demo", "libpcap", "4.2"};
    struct webconfig *wc = NULL;
    struct metrics_std std;
    struct prom_server *srv;
    struct metrics *m;
    int seconds;

    if (argc < 3) {
        fprintf(stderr, "usage: %s LISTEN SECONDS [WEB_CONFIG]\n", argv[0]);
        return 2;
    }
    seconds = atoi(argv[2]);
    if (argc > 3 && (wc = webconfig_load(argv[3], err)) == NULL) {
        fprintf(stderr, "metrics_demo: %s\n", err);
        return 1;
    }
    m = metrics_new();
    if (m == NULL || !metrics_register_std(m, &std, &bi, err)) {
        fprintf(stderr, "metrics_demo: %s\n", m ? err : "out of memory");
        return 1;
    }
    demo_fill(&std);
    srv = prom_start(m, argv[1], wc, err);
    if (srv == NULL) {
        fprintf(stderr, "metrics_demo: %s\n", err);
        return 1;
    }
    signal(SIGTERM, demo_signal);
    signal(SIGINT, demo_signal);
    fprintf(stderr, "metrics_demo: serving on port %u for %d s\n", prom_port(srv), seconds);
    for (int i = 0; i < seconds && !demo_stop; i++) {
        sleep(1);
        metrics_add(std.packets, NULL, 10);
    }
    prom_stop(srv);
    metrics_free(m);
    webconfig_free(wc);
    return 0;
}

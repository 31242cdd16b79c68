/* Rules benchmark: evaluations per second of the default policy on a
 * realistic mix of Vitess events.
 *
 *   bench_rules [POLICY.yaml ...] [--seconds S]
 *
 * Default policy: rules/vitess-tls.yaml from the source tree (VTLS_SOURCE_DIR
 * when defined, else the current directory). Prints one human line and one
 * `key=value` line for scripts:
 *   bench_rules events_per_sec=N rule_evals_per_sec=N ns_per_event=N matches=N
 * Exits 1 when the policy does not load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rules/rules.h"

#ifndef VTLS_SOURCE_DIR
#define VTLS_SOURCE_DIR "."
#endif

#define MIX 20

static const char *const sans[] = {"vttablet-0.vt.svc", "vttablet-0"};

static void flow_base(struct rules_event *ev, int i)
{
    memset(ev, 0, sizeof(*ev));
    ev->kind = RULES_EVENT_FLOW;
    ev->time = RULES_NUM(1796300000 + i);
    ev->flow.src_ip.family = RULES_AF_INET;
    memcpy(ev->flow.src_ip.b, (unsigned char[]){10, 0, 1, (unsigned char)i}, 4);
    ev->flow.dst_ip.family = RULES_AF_INET;
    memcpy(ev->flow.dst_ip.b, (unsigned char[]){10, 0, 2, (unsigned char)(i * 7)}, 4);
    ev->flow.src_port = RULES_NUM(40000 + i);
    ev->flow.dst_port = RULES_NUM(15999);
    ev->flow.proto = RULES_NUM(6);
    ev->flow.midstream = RULES_BOOL(i % 5 == 0);
}

static void tls13(struct rules_event *ev, const char *client, const char *server)
{
    ev->flow.encrypted = RULES_BOOL(true);
    ev->flow.app = "tls";
    ev->vitess.client = client;
    ev->vitess.server = server;
    ev->tls.version = RULES_NUM(0x0304);
    ev->tls.client_max_version = RULES_NUM(0x0304);
    ev->tls.cipher = "TLS_AES_128_GCM_SHA256";
    ev->tls.cs.kx = "any";
    ev->tls.cs.auth = "any";
    ev->tls.cs.enc = "AES-GCM";
    ev->tls.cs.mac = "AEAD";
    ev->tls.cs.strength = "recommended";
    ev->tls.cs.aead = RULES_BOOL(true);
    ev->tls.sni = "vttablet-0.vt.svc";
    ev->tls.alpn = "h2";
    ev->tls.client_cert = "not-observable";
}

static void tls12(struct rules_event *ev, const char *client, const char *server, bool cbc)
{
    tls13(ev, client, server);
    ev->tls.version = RULES_NUM(0x0303);
    ev->tls.cipher =
        cbc ? "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256" : "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256";
    ev->tls.cs.kx = "ECDHE";
    ev->tls.cs.auth = "RSA";
    ev->tls.cs.enc = cbc ? "AES-CBC" : "AES-GCM";
    ev->tls.cs.mac = cbc ? "SHA256" : "AEAD";
    ev->tls.cs.pfs = RULES_BOOL(true);
    ev->tls.client_cert = cbc ? "requested-none" : "presented";
}

static void plain(struct rules_event *ev, const char *app, const char *client, const char *server,
                  const char *path)
{
    ev->flow.encrypted = RULES_BOOL(false);
    ev->flow.app = app;
    ev->vitess.client = client;
    ev->vitess.server = server;
    ev->grpc.path = path;
}

static void cert(struct rules_event *ev, int days_left, int bits)
{
    tls12(ev, "vtgate", "vttablet", false);
    ev->kind = RULES_EVENT_CERTIFICATE;
    ev->cert.subject_cn = "vttablet-0";
    ev->cert.issuer_cn = "cluster CA";
    ev->cert.san.v = sans;
    ev->cert.san.n = 2;
    ev->cert.days_left = RULES_NUM(days_left);
    ev->cert.validity_days = RULES_NUM(90);
    ev->cert.expired = RULES_BOOL(days_left < 0);
    ev->cert.not_yet_valid = RULES_BOOL(false);
    ev->cert.key_type = "RSA";
    ev->cert.key_bits = RULES_NUM(bits);
    ev->cert.sig_alg = "sha256WithRSAEncryption";
    ev->cert.sig_hash_weak = RULES_BOOL(false);
    ev->cert.self_signed = RULES_BOOL(false);
    ev->cert.chain_valid = RULES_BOOL(true);
    ev->cert.sni_match = RULES_BOOL(true);
    ev->cert.observable = RULES_BOOL(true);
    ev->cert.shared_by_components = RULES_NUM(1);
    ev->cert.depth = RULES_NUM(0);
}

/* A cluster mostly in TLS, with the usual leftovers: 12 clean TLS flows,
 * 5 plaintext flows of various paths, 3 certificate events. */
static void build_mix(struct rules_event *ev)
{
    for (int i = 0; i < MIX; i++)
        flow_base(&ev[i], i);
    for (int i = 0; i < 8; i++)
        tls13(&ev[i], i % 2 ? "vtgate" : "app", i % 2 ? "vttablet" : "vtgate");
    tls12(&ev[8], "vtgate", "vttablet", false);
    tls12(&ev[9], "vtctld", "vttablet", true);
    tls12(&ev[10], "vttablet", "mysqld", false);
    tls13(&ev[11], "vttablet", "etcd");
    plain(&ev[12], "grpc", "vtadmin", "vtgate", "/vtgateservice.Vitess/Execute");
    plain(&ev[13], "mysql", "vttablet", "mysqld", NULL);
    ev[13].mysql.server_ssl = RULES_BOOL(true);
    ev[13].mysql.downgrade = RULES_BOOL(true);
    plain(&ev[14], "etcd", "vtgate", "etcd", "/etcdserverpb.Watch/Watch");
    plain(&ev[15], "http", "unknown", "vttablet", NULL);
    plain(&ev[16], "grpc", "vtgate", "vttablet", "/queryservice.Query/StreamExecute");
    cert(&ev[17], 60, 2048);
    cert(&ev[18], 12, 2048);
    cert(&ev[19], 200, 1024);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const char *paths[16];
    size_t np = 0;
    double seconds = 2.0;
    struct rules_errors e = {0};
    struct rules_event ev[MIX];

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (np < 16)
            paths[np++] = argv[i];
    }
    if (np == 0)
        paths[np++] = VTLS_SOURCE_DIR "/rules/vitess-tls.yaml";
    struct rules_set *s = rules_load(paths, np, &e);
    if (!s) {
        rules_errors_print(&e, stderr);
        rules_errors_free(&e);
        return 1;
    }
    build_mix(ev);

    size_t per_kind[RULES_EVENT_KINDS] = {0};
    for (size_t i = 0; i < rules_set_count(s); i++) {
        const struct rules_rule *r = rules_set_rule(s, i);
        if (rules_rule_enabled(r))
            per_kind[rules_rule_event(r)]++;
    }

    unsigned long long events = 0, rule_evals = 0, matches = 0;
    double t0 = now_s(), t = t0;
    while (t - t0 < seconds) {
        for (int rep = 0; rep < 1000; rep++) {
            for (int i = 0; i < MIX; i++) {
                matches += rules_set_eval(s, &ev[i], NULL, NULL);
                rule_evals += per_kind[ev[i].kind];
            }
        }
        events += 1000ull * MIX;
        t = now_s();
    }
    double el = t - t0;
    printf("rules: %zu rules, %llu events in %.2f s: %.0f events/s, %.0f rule evaluations/s, "
           "%.0f ns/event, %.2f matches/event\n",
           rules_set_count(s), events, el, (double)events / el, (double)rule_evals / el,
           el * 1e9 / (double)events, (double)matches / (double)events);
    printf("bench_rules events_per_sec=%.0f rule_evals_per_sec=%.0f ns_per_event=%.1f "
           "matches=%llu\n",
           (double)events / el, (double)rule_evals / el, el * 1e9 / (double)events, matches);
    rules_set_release(s);
    return 0;
}

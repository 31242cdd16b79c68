/* The /metrics server: address parsing, Accept negotiation, routes, and the
 * web config (TLS, client certificates, basic auth) tried with curl against
 * a server on 127.0.0.1 with an ephemeral port. */
#include <crypt.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "output/prom_http.h"
#include "output/webconfig.h"

static char tp_err[PROM_ERRLEN];

/* ---- helpers ---- */

struct tp_result {
    int exit;              /* curl's exit status */
    int code;              /* HTTP status, 0 without a response */
    char ctype[128];       /* Content-Type */
    char body[1 << 16];    /* response body */
    char headers[1 << 12]; /* response headers */
};

static char tp_dir[64];

static void tp_read(const char *path, char *buf, size_t len)
{
    FILE *fp = fopen(path, "rb");
    size_t n = 0;
    if (fp != NULL) {
        n = fread(buf, 1, len - 1, fp);
        fclose(fp);
    }
    buf[n] = '\0';
}

/* Run curl with args (a shell fragment) against url. */
static void tp_curl(struct tp_result *r, const char *args, const char *url)
{
    char cmd[2048], meta[256];
    snprintf(cmd, sizeof(cmd),
             "curl -sS --max-time 10 -o %s/body -D %s/headers -w '%%{http_code} %%{content_type}'"
             " %s '%s' > %s/meta 2>/dev/null",
             tp_dir, tp_dir, args, url, tp_dir);
    char path[128];
    memset(r, 0, sizeof(*r));
    snprintf(path, sizeof(path), "%s/body", tp_dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/headers", tp_dir);
    unlink(path);
    int st = system(cmd);
    r->exit = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    snprintf(cmd, sizeof(cmd), "%s/meta", tp_dir);
    tp_read(cmd, meta, sizeof(meta));
    sscanf(meta, "%d %127[^\n]", &r->code, r->ctype);
    snprintf(cmd, sizeof(cmd), "%s/body", tp_dir);
    tp_read(cmd, r->body, sizeof(r->body));
    snprintf(cmd, sizeof(cmd), "%s/headers", tp_dir);
    tp_read(cmd, r->headers, sizeof(r->headers));
}

static void tp_mkdir(void)
{
    snprintf(tp_dir, sizeof(tp_dir), "/tmp/vtls-prom-XXXXXX");
    cr_assert_not_null(mkdtemp(tp_dir));
}

static void tp_rmdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tp_dir);
    cr_assert_eq(system(cmd), 0);
}

static struct metrics *tp_registry(void)
{
    struct metrics *m = metrics_new();
    char err[METRICS_ERRLEN];
    struct metrics_family *f = metrics_register(m,
                                                &(struct metrics_spec){.type = METRICS_COUNTER,
                                                                       .name = "vtls_packets_total",
                                                                       .help = "Packets captured."},
                                                err);
    cr_assert_not_null(f, "%s", err);
    metrics_set(f, NULL, 1234);
    return m;
}

static void tp_url(char *buf, size_t len, const char *scheme, struct prom_server *s,
                   const char *path)
{
    snprintf(buf, len, "%s://127.0.0.1:%u%s", scheme, prom_port(s), path);
}

static void tp_write(const char *name, const char *text)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", tp_dir, name);
    FILE *fp = fopen(path, "w");
    cr_assert_not_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* A bcrypt hash of pass with cost 5 (fast enough for tests), prefix "$2b$". */
static void tp_bcrypt_cost(const char *pass, int cost, char out[CRYPT_OUTPUT_SIZE]);

static void tp_bcrypt(const char *pass, char out[CRYPT_OUTPUT_SIZE])
{
    tp_bcrypt_cost(pass, 5, out);
}

static void tp_bcrypt_cost(const char *pass, int cost, char out[CRYPT_OUTPUT_SIZE])
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data cd;
    memset(&cd, 0, sizeof(cd));
    cr_assert_not_null(crypt_gensalt_rn("$2b$", cost, NULL, 0, setting, sizeof(setting)));
    cr_assert_not_null(crypt_rn(pass, setting, &cd, sizeof(cd)));
    snprintf(out, CRYPT_OUTPUT_SIZE, "%s", cd.output);
}

/* ---- address parsing and negotiation ---- */

Test(prom, parse_listen)
{
    struct prom_listen l;
    cr_assert(prom_parse_listen("0.0.0.0:9854", &l, tp_err));
    cr_assert_eq(l.addr.ss_family, AF_INET);
    cr_assert_eq(l.port, 9854);
    cr_assert_not(l.any);
    cr_assert(prom_parse_listen("[::1]:9854", &l, tp_err));
    cr_assert_eq(l.addr.ss_family, AF_INET6);
    cr_assert(prom_parse_listen(":9854", &l, tp_err));
    cr_assert(l.any);
    cr_assert_eq(l.port, 9854);
    cr_assert(prom_parse_listen(PROM_DEFAULT_LISTEN, &l, tp_err));
    cr_assert(prom_parse_listen("127.0.0.1:0", &l, tp_err));
    cr_assert(prom_parse_listen("localhost:80", &l, tp_err));
    cr_assert_not(prom_parse_listen("9854", &l, tp_err));
    cr_assert_not_null(strstr(tp_err, "ADDR:PORT"));
    cr_assert_not(prom_parse_listen("1.2.3.4:65536", &l, tp_err));
    cr_assert_not(prom_parse_listen("1.2.3.4:", &l, tp_err));
    cr_assert_not(prom_parse_listen("1.2.3.4:9x", &l, tp_err));
    cr_assert_not(prom_parse_listen("[::1]9854", &l, tp_err));
    cr_assert_not(prom_parse_listen("::1:9854", &l, tp_err));
    cr_assert_not(prom_parse_listen("no-such-host.invalid:9854", &l, tp_err));
}

Test(prom, negotiate)
{
    cr_assert_eq(prom_negotiate(NULL), METRICS_FMT_TEXT);
    cr_assert_eq(prom_negotiate("*/*"), METRICS_FMT_TEXT);
    cr_assert_eq(prom_negotiate("text/plain;version=0.0.4"), METRICS_FMT_TEXT);
    /* What Prometheus 2.42 sends. */
    cr_assert_eq(prom_negotiate("application/openmetrics-text;version=1.0.0,"
                                "application/openmetrics-text;version=0.0.1;q=0.75,"
                                "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
                 METRICS_FMT_OPENMETRICS);
    cr_assert_eq(prom_negotiate("application/openmetrics-text"), METRICS_FMT_OPENMETRICS);
    cr_assert_eq(prom_negotiate("application/openmetrics-text; version=0.0.1"), METRICS_FMT_TEXT);
    cr_assert_eq(prom_negotiate("application/openmetrics-text;q=0.3, text/plain;q=0.9"),
                 METRICS_FMT_TEXT);
    cr_assert_eq(prom_negotiate("application/openmetrics-text;q=0"), METRICS_FMT_TEXT);
}

/* ---- plain HTTP ---- */

Test(prom, plain_routes, .init = tp_mkdir, .fini = tp_rmdir)
{
    struct metrics *m = tp_registry();
    struct prom_server *s = prom_start(m, "127.0.0.1:0", NULL, tp_err);
    cr_assert_not_null(s, "%s", tp_err);
    cr_assert_neq(prom_port(s), 0);
    char url[128];
    struct tp_result *r = malloc(sizeof(*r));

    tp_url(url, sizeof(url), "http", s, "/metrics");
    tp_curl(r, "", url);
    cr_assert_eq(r->code, 200);
    cr_assert_str_eq(r->ctype, METRICS_CT_TEXT);
    cr_assert_str_eq(r->body, "# HELP vtls_packets_total Packets captured.\n"
                              "# TYPE vtls_packets_total counter\nvtls_packets_total 1234\n");

    tp_curl(r, "-H 'Accept: application/openmetrics-text;version=1.0.0,text/plain;q=0.5'", url);
    cr_assert_eq(r->code, 200);
    cr_assert_str_eq(r->ctype, METRICS_CT_OPENMETRICS);
    cr_assert_str_eq(r->body, "# HELP vtls_packets Packets captured.\n"
                              "# TYPE vtls_packets counter\nvtls_packets_total 1234\n# EOF\n");

    tp_curl(r, "-I", url); /* HEAD */
    cr_assert_eq(r->code, 200);

    tp_url(url, sizeof(url), "http", s, "/");
    tp_curl(r, "", url);
    cr_assert_eq(r->code, 200);
    cr_assert_not_null(strstr(r->body, "<a href=\"/metrics\">"));

    tp_url(url, sizeof(url), "http", s, "/nope");
    tp_curl(r, "", url);
    cr_assert_eq(r->code, 404);

    tp_url(url, sizeof(url), "http", s, "/metrics");
    tp_curl(r, "-X POST -d x=1", url);
    cr_assert_eq(r->code, 405);

    struct prom_stats st;
    prom_get_stats(s, &st);
    cr_assert_eq(st.scrapes, 3);
    prom_stop(s);
    metrics_free(m);
    free(r);
}

Test(prom, port_taken)
{
    struct metrics *m = tp_registry();
    struct prom_server *a = prom_start(m, "127.0.0.1:0", NULL, tp_err);
    cr_assert_not_null(a, "%s", tp_err);
    char listen[64];
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", prom_port(a));
    struct prom_server *b = prom_start(m, listen, NULL, tp_err);
    cr_assert_null(b);
    cr_assert_not_null(strstr(tp_err, "cannot serve"), "%s", tp_err);
    prom_stop(a);
    prom_stop(NULL);
    metrics_free(m);
}

Test(prom, ipv6_loopback)
{
    struct metrics *m = tp_registry();
    struct prom_server *s = prom_start(m, "[::1]:0", NULL, tp_err);
    if (s == NULL) {
        cr_log_warn("no IPv6 loopback: %s", tp_err);
        metrics_free(m);
        return;
    }
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "curl -sf -o /dev/null 'http://[::1]:%u/metrics'", prom_port(s));
    cr_assert_eq(system(cmd), 0);
    prom_stop(s);
    metrics_free(m);
}

/* ---- web config ---- */

static struct webconfig *tp_webconfig(const char *yaml)
{
    char path[128], err[WEBCONFIG_ERRLEN];
    tp_write("web.yml", yaml);
    snprintf(path, sizeof(path), "%s/web.yml", tp_dir);
    struct webconfig *wc = webconfig_load(path, err);
    cr_assert_not_null(wc, "%s", err);
    return wc;
}

static void tp_webconfig_fails(const char *yaml, const char *want)
{
    char path[128], err[WEBCONFIG_ERRLEN];
    tp_write("bad.yml", yaml);
    snprintf(path, sizeof(path), "%s/bad.yml", tp_dir);
    cr_assert_null(webconfig_load(path, err), "accepted: %s", yaml);
    cr_assert_not_null(strstr(err, want), "error \"%s\" lacks \"%s\"", err, want);
}

static void tp_certs(void)
{
    char cmd[256];
    tp_mkdir();
    snprintf(cmd, sizeof(cmd), "%s/tests/unit/data/webtls/make_certs.sh %s", VTLS_SOURCE_DIR,
             tp_dir);
    cr_assert_eq(system(cmd), 0, "make_certs.sh failed");
}

Test(webconfig, errors_with_position, .init = tp_certs, .fini = tp_rmdir)
{
    tp_webconfig_fails("tls_server_config:\n  cert_file: server.crt\n  key_fil: server.key\n",
                       "bad.yml:3:3: unknown key \"key_fil\"");
    tp_webconfig_fails("tls_server_config:\n  cert_file: server.crt\n",
                       "needs both cert_file and key_file");
    tp_webconfig_fails("basic_auth_users:\n  alice: plaintext\n",
                       "bad.yml:2:10: user \"alice\": not a bcrypt hash");
    tp_webconfig_fails("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                       "  client_ca_file: ca.crt\n",
                       "client_ca_file needs client_auth_type");
    tp_webconfig_fails("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                       "  client_auth_type: RequireAndVerifyClientCert\n",
                       "needs client_ca_file");
    tp_webconfig_fails("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                       "  client_auth_type: Sometimes\n",
                       "bad.yml:4:21: invalid client_auth_type");
    tp_webconfig_fails("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                       "  min_version: TLS14\n",
                       "invalid TLS version");
    tp_webconfig_fails("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                       "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
                       "bad.yml:4:3: cipher_suites is not supported");
    tp_webconfig_fails("tls_server_config:\n  cert_file: nothere.crt\n  key_file: server.key\n",
                       "nothere.crt: No such file");
    tp_webconfig_fails("tls_server_config: [\n", "bad.yml:2:1:");
    tp_webconfig_fails("basic_auth_users: x\n", "bad.yml:1:19: expected a mapping");
}

Test(webconfig, bcrypt_variants, .init = tp_mkdir, .fini = tp_rmdir)
{
    char h[CRYPT_OUTPUT_SIZE], yaml[1024];
    tp_bcrypt("s3cret", h);
    cr_assert_eq(strncmp(h, "$2b$05$", 7), 0, "%s", h);
    /* $2y$ (PHP, htpasswd -B) is the same algorithm under another name. */
    char y[CRYPT_OUTPUT_SIZE];
    snprintf(y, sizeof(y), "$2y$%s", h + 4);
    snprintf(yaml, sizeof(yaml), "basic_auth_users:\n  alice: '%s'\n  bob: '%s'\n", h, y);
    struct webconfig *wc = tp_webconfig(yaml);
    cr_assert(webconfig_has_users(wc));
    cr_assert_not(wc->tls);
    cr_assert(webconfig_check_user(wc, "alice", "s3cret"));
    cr_assert(webconfig_check_user(wc, "bob", "s3cret"));
    cr_assert_not(webconfig_check_user(wc, "alice", "s3cret "));
    cr_assert_not(webconfig_check_user(wc, "alice", ""));
    cr_assert_not(webconfig_check_user(wc, "carol", "s3cret"));
    webconfig_free(wc);
}

static struct prom_server *tp_serve(struct metrics *m, const struct webconfig *wc)
{
    struct prom_server *s = prom_start(m, "127.0.0.1:0", wc, tp_err);
    cr_assert_not_null(s, "%s", tp_err);
    return s;
}

Test(webconfig, basic_auth, .init = tp_mkdir, .fini = tp_rmdir)
{
    char h[CRYPT_OUTPUT_SIZE], yaml[1024], url[128], args[256];
    tp_bcrypt("pa:ss word", h);
    snprintf(yaml, sizeof(yaml), "basic_auth_users:\n  prometheus: %s\n", h);
    struct webconfig *wc = tp_webconfig(yaml);
    struct metrics *m = tp_registry();
    struct prom_server *s = tp_serve(m, wc);
    struct tp_result *r = malloc(sizeof(*r));
    tp_url(url, sizeof(url), "http", s, "/metrics");

    tp_curl(r, "-u 'prometheus:pa:ss word'", url);
    cr_assert_eq(r->code, 200);
    cr_assert_not_null(strstr(r->body, "vtls_packets_total 1234"));
    tp_curl(r, "-u 'prometheus:wrong'", url);
    cr_assert_eq(r->code, 401);
    cr_assert_not_null(strstr(r->headers, "WWW-Authenticate: Basic realm=\"vtls-sensor\""), "%s",
                       r->headers);
    cr_assert_null(strstr(r->body, "vtls_packets_total"));
    tp_curl(r, "", url);
    cr_assert_eq(r->code, 401);
    tp_curl(r, "-u 'nobody:pa:ss word'", url);
    cr_assert_eq(r->code, 401);
    snprintf(args, sizeof(args), "-H 'Authorization: Basic !!!notbase64'");
    tp_curl(r, args, url);
    cr_assert_eq(r->code, 401);
    struct prom_stats st;
    prom_get_stats(s, &st);
    cr_assert_eq(st.unauthorized, 4);
    prom_stop(s);
    metrics_free(m);
    webconfig_free(wc);
    free(r);
}

Test(webconfig, tls_server_only, .init = tp_certs, .fini = tp_rmdir)
{
    struct webconfig *wc =
        tp_webconfig("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n");
    struct metrics *m = tp_registry();
    struct prom_server *s = tp_serve(m, wc);
    struct tp_result *r = malloc(sizeof(*r));
    char url[128], args[256];
    tp_url(url, sizeof(url), "https", s, "/metrics");

    snprintf(args, sizeof(args), "--cacert %s/ca.crt", tp_dir);
    tp_curl(r, args, url);
    cr_assert_eq(r->code, 200, "curl exit %d", r->exit);
    cr_assert_not_null(strstr(r->body, "vtls_packets_total 1234"));
    /* min_version TLS12 by default: a TLS 1.1 client fails. */
    snprintf(args, sizeof(args), "--cacert %s/ca.crt --tlsv1.1 --tls-max 1.1", tp_dir);
    tp_curl(r, args, url);
    cr_assert_eq(r->code, 0);
    cr_assert_neq(r->exit, 0);
    /* Plain HTTP to the TLS port gets nothing useful. */
    tp_url(url, sizeof(url), "http", s, "/metrics");
    tp_curl(r, "", url);
    cr_assert_neq(r->code, 200);
    prom_stop(s);
    metrics_free(m);
    webconfig_free(wc);
    free(r);
}

Test(webconfig, tls_client_cert_required, .init = tp_certs, .fini = tp_rmdir)
{
    char h[CRYPT_OUTPUT_SIZE], yaml[1024], url[128], args[512];
    tp_bcrypt("pw", h);
    snprintf(yaml, sizeof(yaml),
             "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
             "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n"
             "  min_version: TLS13\nbasic_auth_users:\n  scraper: \"%s\"\n",
             h);
    struct webconfig *wc = tp_webconfig(yaml);
    cr_assert_eq(wc->client_auth, WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT);
    struct metrics *m = tp_registry();
    struct prom_server *s = tp_serve(m, wc);
    struct tp_result *r = malloc(sizeof(*r));
    tp_url(url, sizeof(url), "https", s, "/metrics");

    snprintf(args, sizeof(args),
             "--cacert %s/ca.crt --cert %s/client.crt --key %s/client.key -u scraper:pw", tp_dir,
             tp_dir, tp_dir);
    tp_curl(r, args, url);
    cr_assert_eq(r->code, 200, "curl exit %d", r->exit);
    cr_assert_not_null(strstr(r->body, "vtls_packets_total 1234"));

    /* Right certificate, wrong password. */
    snprintf(args, sizeof(args),
             "--cacert %s/ca.crt --cert %s/client.crt --key %s/client.key -u scraper:no", tp_dir,
             tp_dir, tp_dir);
    tp_curl(r, args, url);
    cr_assert_eq(r->code, 401);

    /* No certificate: the handshake fails. */
    snprintf(args, sizeof(args), "--cacert %s/ca.crt -u scraper:pw", tp_dir);
    tp_curl(r, args, url);
    cr_assert_eq(r->code, 0, "served %d without a client certificate", r->code);
    cr_assert_neq(r->exit, 0);

    /* A certificate from another CA: the handshake fails. */
    snprintf(args, sizeof(args),
             "--cacert %s/ca.crt --cert %s/rogue.crt --key %s/rogue.key -u scraper:pw", tp_dir,
             tp_dir, tp_dir);
    tp_curl(r, args, url);
    cr_assert_eq(r->code, 0, "served %d to a rogue certificate", r->code);
    cr_assert_neq(r->exit, 0);

    /* TLS 1.2 is below min_version. */
    snprintf(
        args, sizeof(args),
        "--cacert %s/ca.crt --cert %s/client.crt --key %s/client.key -u scraper:pw --tls-max 1.2",
        tp_dir, tp_dir, tp_dir);
    tp_curl(r, args, url);
    cr_assert_eq(r->code, 0);
    prom_stop(s);
    metrics_free(m);
    webconfig_free(wc);
    free(r);
}

Test(webconfig, tls_verify_if_given, .init = tp_certs, .fini = tp_rmdir)
{
    struct webconfig *wc =
        tp_webconfig("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                     "  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.crt\n");
    struct metrics *m = tp_registry();
    struct prom_server *s = tp_serve(m, wc);
    struct tp_result *r = malloc(sizeof(*r));
    char url[128], args[512];
    tp_url(url, sizeof(url), "https", s, "/metrics");

    snprintf(args, sizeof(args), "--cacert %s/ca.crt", tp_dir);
    tp_curl(r, args, url);
    cr_assert_eq(r->code, 200, "no certificate: curl exit %d", r->exit);
    snprintf(args, sizeof(args), "--cacert %s/ca.crt --cert %s/client.crt --key %s/client.key",
             tp_dir, tp_dir, tp_dir);
    tp_curl(r, args, url);
    cr_assert_eq(r->code, 200, "good certificate: curl exit %d", r->exit);
    snprintf(args, sizeof(args), "--cacert %s/ca.crt --cert %s/rogue.crt --key %s/rogue.key",
             tp_dir, tp_dir, tp_dir);
    tp_curl(r, args, url);
    cr_assert_eq(r->code, 0, "served %d to a rogue certificate", r->code);
    prom_stop(s);
    metrics_free(m);
    webconfig_free(wc);
    free(r);
}

Test(webconfig, tls_require_any, .init = tp_certs, .fini = tp_rmdir)
{
    struct webconfig *wc =
        tp_webconfig("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                     "  client_auth_type: RequireAnyClientCert\n");
    struct metrics *m = tp_registry();
    struct prom_server *s = tp_serve(m, wc);
    struct tp_result *r = malloc(sizeof(*r));
    char url[128], args[512];
    tp_url(url, sizeof(url), "https", s, "/metrics");

    snprintf(args, sizeof(args), "--cacert %s/ca.crt", tp_dir);
    tp_curl(r, args, url);
    cr_assert_eq(r->code, 0, "served %d without a certificate", r->code);
    snprintf(args, sizeof(args), "--cacert %s/ca.crt --cert %s/rogue.crt --key %s/rogue.key",
             tp_dir, tp_dir, tp_dir);
    tp_curl(r, args, url);
    cr_assert_eq(r->code, 200, "any certificate: curl exit %d", r->exit);
    prom_stop(s);
    metrics_free(m);
    webconfig_free(wc);
    free(r);
}

static double tp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Good credentials pass bcrypt once; later scrapes hit the digest cache. A
 * wrong password is never cached. */
Test(webconfig, basic_auth_cache, .init = tp_mkdir, .fini = tp_rmdir, .timeout = 60)
{
    char h[CRYPT_OUTPUT_SIZE], yaml[1024], url[128];
    tp_bcrypt_cost("pw", 12, h);
    snprintf(yaml, sizeof(yaml), "basic_auth_users:\n  prometheus: '%s'\n", h);
    struct webconfig *wc = tp_webconfig(yaml);
    struct metrics *m = tp_registry();
    struct prom_server *s = tp_serve(m, wc);
    struct tp_result *r = malloc(sizeof(*r));
    tp_url(url, sizeof(url), "http", s, "/metrics");

    double t0 = tp_now();
    tp_curl(r, "-u prometheus:pw", url);
    double first = tp_now() - t0;
    cr_assert_eq(r->code, 200);
    t0 = tp_now();
    for (int i = 0; i < 10; i++) {
        tp_curl(r, "-u prometheus:pw", url);
        cr_assert_eq(r->code, 200);
    }
    double cached = (tp_now() - t0) / 10;
    t0 = tp_now();
    tp_curl(r, "-u prometheus:pW", url);
    double wrong = tp_now() - t0;
    cr_assert_eq(r->code, 401);
    cr_log_info("bcrypt cost 12: first %.0f ms, cached %.1f ms, wrong %.0f ms", first * 1e3,
                cached * 1e3, wrong * 1e3);
    fprintf(stderr, "prom: bcrypt cost 12: first %.0f ms, cached %.1f ms, wrong %.0f ms\n",
            first * 1e3, cached * 1e3, wrong * 1e3);
    cr_assert_lt(cached, first / 2);
    cr_assert_gt(wrong, cached);
    prom_stop(s);
    metrics_free(m);
    webconfig_free(wc);
    free(r);
}

/* RequestClientCert asks for a certificate and accepts any, or none. */
Test(webconfig, tls_request_client_cert, .init = tp_certs, .fini = tp_rmdir)
{
    struct webconfig *wc =
        tp_webconfig("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                     "  client_auth_type: RequestClientCert\n");
    struct metrics *m = tp_registry();
    struct prom_server *s = tp_serve(m, wc);
    struct tp_result *r = malloc(sizeof(*r));
    char url[128], args[512];
    tp_url(url, sizeof(url), "https", s, "/metrics");

    snprintf(args, sizeof(args), "--cacert %s/ca.crt", tp_dir);
    tp_curl(r, args, url);
    cr_assert_eq(r->code, 200, "no certificate: curl exit %d", r->exit);
    snprintf(args, sizeof(args), "--cacert %s/ca.crt --cert %s/rogue.crt --key %s/rogue.key",
             tp_dir, tp_dir, tp_dir);
    tp_curl(r, args, url);
    cr_assert_eq(r->code, 200, "any certificate: curl exit %d", r->exit);
    prom_stop(s);
    metrics_free(m);
    webconfig_free(wc);
    free(r);
}

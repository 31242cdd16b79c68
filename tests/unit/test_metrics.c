/* Metrics registry: exact renderings in both formats, escaping, caps,
 * overflow, the LRU family, the standard set, and a render timing. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "output/metrics.h"

static struct metrics *tm_m;
static char tm_err[METRICS_ERRLEN];

static void tm_setup(void)
{
    tm_m = metrics_new();
    cr_assert_not_null(tm_m);
}

static void tm_teardown(void)
{
    metrics_free(tm_m);
}

TestSuite(metrics, .init = tm_setup, .fini = tm_teardown);

static struct metrics_family *tm_reg(enum metrics_type t, const char *name, const char *labels)
{
    struct metrics_family *f = metrics_register(
        tm_m, &(struct metrics_spec){.type = t, .name = name, .help = "Help.", .labels = labels},
        tm_err);
    cr_assert_not_null(f, "%s", tm_err);
    return f;
}

/* Render in fmt into a string the caller frees with metrics_buf_free. */
static struct metrics_buf tm_render(enum metrics_format fmt)
{
    struct metrics_buf b = {0};
    cr_assert(metrics_render(tm_m, fmt, &b));
    return b;
}

static void tm_expect(enum metrics_format fmt, const char *want)
{
    struct metrics_buf b = tm_render(fmt);
    cr_assert_str_eq(b.data, want);
    metrics_buf_free(&b);
}

static void tm_small_registry(void)
{
    static const double le[] = {0.1, 1, 2.5};
    struct metrics_family *c = tm_reg(METRICS_COUNTER, "x_requests_total", "code,path");
    struct metrics_family *g = tm_reg(METRICS_GAUGE, "x_temp_celsius", NULL);
    struct metrics_family *h = metrics_register(tm_m,
                                                &(struct metrics_spec){.type = METRICS_HISTOGRAM,
                                                                       .name = "x_latency_seconds",
                                                                       .help = "Latency.",
                                                                       .labels = "server",
                                                                       .buckets = le,
                                                                       .nbuckets = 3},
                                                tm_err);
    cr_assert_not_null(h, "%s", tm_err);
    cr_assert(metrics_add(c, (const char *[]){"200", "/a"}, 3));
    cr_assert(metrics_add(c, (const char *[]){"500", "/b"}, 1));
    cr_assert(metrics_add(c, (const char *[]){"200", "/a"}, 2));
    cr_assert(metrics_set(g, NULL, -1.5));
    cr_assert(metrics_observe(h, (const char *[]){"vtgate"}, 0.05));
    cr_assert(metrics_observe(h, (const char *[]){"vtgate"}, 1));
    cr_assert(metrics_observe(h, (const char *[]){"vtgate"}, 7));
}

Test(metrics, text_exact)
{
    tm_small_registry();
    tm_expect(METRICS_FMT_TEXT, "# HELP x_requests_total Help.\n"
                                "# TYPE x_requests_total counter\n"
                                "x_requests_total{code=\"200\",path=\"/a\"} 5\n"
                                "x_requests_total{code=\"500\",path=\"/b\"} 1\n"
                                "# HELP x_temp_celsius Help.\n"
                                "# TYPE x_temp_celsius gauge\n"
                                "x_temp_celsius -1.5\n"
                                "# HELP x_latency_seconds Latency.\n"
                                "# TYPE x_latency_seconds histogram\n"
                                "x_latency_seconds_bucket{server=\"vtgate\",le=\"0.1\"} 1\n"
                                "x_latency_seconds_bucket{server=\"vtgate\",le=\"1\"} 2\n"
                                "x_latency_seconds_bucket{server=\"vtgate\",le=\"2.5\"} 2\n"
                                "x_latency_seconds_bucket{server=\"vtgate\",le=\"+Inf\"} 3\n"
                                "x_latency_seconds_sum{server=\"vtgate\"} 8.05\n"
                                "x_latency_seconds_count{server=\"vtgate\"} 3\n");
}

Test(metrics, openmetrics_exact)
{
    tm_small_registry();
    tm_expect(METRICS_FMT_OPENMETRICS, "# HELP x_requests Help.\n"
                                       "# TYPE x_requests counter\n"
                                       "x_requests_total{code=\"200\",path=\"/a\"} 5\n"
                                       "x_requests_total{code=\"500\",path=\"/b\"} 1\n"
                                       "# HELP x_temp_celsius Help.\n"
                                       "# TYPE x_temp_celsius gauge\n"
                                       "x_temp_celsius -1.5\n"
                                       "# HELP x_latency_seconds Latency.\n"
                                       "# TYPE x_latency_seconds histogram\n"
                                       "x_latency_seconds_bucket{server=\"vtgate\",le=\"0.1\"} 1\n"
                                       "x_latency_seconds_bucket{server=\"vtgate\",le=\"1.0\"} 2\n"
                                       "x_latency_seconds_bucket{server=\"vtgate\",le=\"2.5\"} 2\n"
                                       "x_latency_seconds_bucket{server=\"vtgate\",le=\"+Inf\"} 3\n"
                                       "x_latency_seconds_sum{server=\"vtgate\"} 8.05\n"
                                       "x_latency_seconds_count{server=\"vtgate\"} 3\n"
                                       "# EOF\n");
}

Test(metrics, escaping_and_sanitising)
{
    struct metrics_family *f = tm_reg(METRICS_GAUGE, "x_info", "v");
    metrics_register(tm_m,
                     &(struct metrics_spec){
                         .type = METRICS_GAUGE, .name = "x_help", .help = "a \\ b \"q\"\nnext"},
                     tm_err);
    cr_assert(metrics_set(f, (const char *[]){"a\\b\"c\"\nd"}, 1));
    cr_assert(metrics_set(f, (const char *[]){"bad\xff\xc3z\x01x\xc3\xa9"}, 2));
    tm_expect(METRICS_FMT_TEXT, "# HELP x_info Help.\n"
                                "# TYPE x_info gauge\n"
                                "x_info{v=\"a\\\\b\\\"c\\\"\\nd\"} 1\n"
                                "x_info{v=\"bad??z?x\xc3\xa9\"} 2\n"
                                "# HELP x_help a \\\\ b \"q\"\\nnext\n"
                                "# TYPE x_help gauge\n"
                                "x_help 0\n");
    /* OpenMetrics escapes the double quote in HELP too. */
    struct metrics_buf b = tm_render(METRICS_FMT_OPENMETRICS);
    cr_assert_not_null(strstr(b.data, "# HELP x_help a \\\\ b \\\"q\\\"\\nnext\n"));
    metrics_buf_free(&b);
}

Test(metrics, long_value_truncated_on_utf8_boundary)
{
    struct metrics_family *f = tm_reg(METRICS_GAUGE, "x_long", "v");
    char v[400];
    /* "ab" then 2-byte characters: 127 bytes would split one, so 126 remain. */
    v[0] = 'a', v[1] = 'b';
    for (size_t i = 2; i + 2 < sizeof(v); i += 2)
        v[i] = '\xc3', v[i + 1] = '\xa9', v[i + 2] = '\0';
    cr_assert(metrics_set(f, (const char *[]){v}, 1));
    struct metrics_buf b = tm_render(METRICS_FMT_TEXT);
    const char *s = strstr(b.data, "x_long{v=\"");
    cr_assert_not_null(s);
    s += strlen("x_long{v=\"");
    size_t n = (size_t)(strchr(s, '"') - s);
    cr_assert_eq(n, METRICS_VALUE_MAX - 2, "kept %zu bytes", n);
    metrics_buf_free(&b);
}

Test(metrics, registration_errors)
{
    struct metrics_spec bad_counter = {.type = METRICS_COUNTER, .name = "x_requests"};
    cr_assert_null(metrics_register(tm_m, &bad_counter, tm_err));
    cr_assert_not_null(strstr(tm_err, "_total"));
    struct metrics_spec bad_name = {.type = METRICS_GAUGE, .name = "1x"};
    cr_assert_null(metrics_register(tm_m, &bad_name, tm_err));
    struct metrics_spec bad_label = {.type = METRICS_GAUGE, .name = "x_g", .labels = "a,__b"};
    cr_assert_null(metrics_register(tm_m, &bad_label, tm_err));
    struct metrics_spec dup_label = {.type = METRICS_GAUGE, .name = "x_g", .labels = "a,a"};
    cr_assert_null(metrics_register(tm_m, &dup_label, tm_err));
    double le[] = {1, 1};
    struct metrics_spec bad_h = {
        .type = METRICS_HISTOGRAM, .name = "x_h", .buckets = le, .nbuckets = 2};
    cr_assert_null(metrics_register(tm_m, &bad_h, tm_err));
    struct metrics_spec le_label = {
        .type = METRICS_HISTOGRAM, .name = "x_h", .labels = "le", .buckets = le, .nbuckets = 1};
    cr_assert_null(metrics_register(tm_m, &le_label, tm_err));
    tm_reg(METRICS_GAUGE, "x_g", NULL);
    struct metrics_spec dup = {.type = METRICS_GAUGE, .name = "x_g"};
    cr_assert_null(metrics_register(tm_m, &dup, tm_err));
    cr_assert_not_null(strstr(tm_err, "already registered"));
}

Test(metrics, wrong_updates_rejected)
{
    struct metrics_family *c = tm_reg(METRICS_COUNTER, "x_total", NULL);
    struct metrics_family *g = tm_reg(METRICS_GAUGE, "x_g", NULL);
    cr_assert_not(metrics_add(c, NULL, -1));
    cr_assert_not(metrics_observe(c, NULL, 1));
    cr_assert_not(metrics_observe(g, NULL, 1));
    cr_assert(metrics_add(g, NULL, -1));
    cr_assert(metrics_set(c, NULL, 42)); /* absolute publishing */
    tm_expect(METRICS_FMT_TEXT, "# HELP x_total Help.\n# TYPE x_total counter\nx_total 42\n"
                                "# HELP x_g Help.\n# TYPE x_g gauge\nx_g -1\n");
}

Test(metrics, cap_overflow_series)
{
    struct metrics_family *c = metrics_register(
        tm_m,
        &(struct metrics_spec){
            .type = METRICS_COUNTER, .name = "x_total", .help = "H.", .labels = "k", .cap = 2},
        tm_err);
    struct metrics_family *g = metrics_register(
        tm_m,
        &(struct metrics_spec){
            .type = METRICS_GAUGE, .name = "x_g", .help = "G.", .labels = "k", .cap = 1},
        tm_err);
    cr_assert(metrics_add(c, (const char *[]){"a"}, 1));
    cr_assert(metrics_add(c, (const char *[]){"b"}, 1));
    cr_assert(metrics_add(c, (const char *[]){"c"}, 1));
    cr_assert(metrics_add(c, (const char *[]){"d"}, 2));
    cr_assert(metrics_add(c, (const char *[]){"a"}, 1));
    cr_assert_not(metrics_set(c, (const char *[]){"e"}, 5)); /* absolute: dropped */
    cr_assert(metrics_set(g, (const char *[]){"a"}, 1));
    cr_assert_not(metrics_set(g, (const char *[]){"b"}, 1));
    struct metrics_family_stats st;
    metrics_family_stats(c, &st);
    cr_assert_eq(st.series, 3);
    cr_assert_eq(st.overflows, 3);
    tm_expect(METRICS_FMT_TEXT, "# HELP x_total H.\n# TYPE x_total counter\n"
                                "x_total{k=\"a\"} 2\nx_total{k=\"b\"} 1\n"
                                "x_total{k=\"_overflow\"} 3\n"
                                "# HELP x_g G.\n# TYPE x_g gauge\nx_g{k=\"a\"} 1\n"
                                "# HELP vtls_metrics_series_overflow_total Updates that found "
                                "their family's series cap reached.\n"
                                "# TYPE vtls_metrics_series_overflow_total counter\n"
                                "vtls_metrics_series_overflow_total{family=\"x_total\"} 3\n"
                                "vtls_metrics_series_overflow_total{family=\"x_g\"} 1\n");
}

Test(metrics, lru_family_evicts_least_recent)
{
    struct metrics_family *f = metrics_register(tm_m,
                                                &(struct metrics_spec){.type = METRICS_GAUGE,
                                                                       .name = "x_cert",
                                                                       .help = "C.",
                                                                       .labels = "cn",
                                                                       .cap = 3,
                                                                       .bound = METRICS_BOUND_LRU},
                                                tm_err);
    cr_assert(metrics_set(f, (const char *[]){"a"}, 1));
    cr_assert(metrics_set(f, (const char *[]){"b"}, 2));
    cr_assert(metrics_set(f, (const char *[]){"c"}, 3));
    cr_assert(metrics_set(f, (const char *[]){"a"}, 10)); /* a is now most recent */
    cr_assert(metrics_set(f, (const char *[]){"d"}, 4));  /* evicts b */
    cr_assert(metrics_set(f, (const char *[]){"e"}, 5));  /* evicts c */
    struct metrics_family_stats st;
    metrics_family_stats(f, &st);
    cr_assert_eq(st.series, 3);
    cr_assert_eq(st.evictions, 2);
    cr_assert_eq(st.overflows, 0);
    tm_expect(METRICS_FMT_TEXT, "# HELP x_cert C.\n# TYPE x_cert gauge\n"
                                "x_cert{cn=\"a\"} 10\nx_cert{cn=\"d\"} 4\nx_cert{cn=\"e\"} 5\n");
    cr_assert(metrics_remove(f, (const char *[]){"d"}));
    cr_assert_not(metrics_remove(f, (const char *[]){"d"}));
    tm_expect(METRICS_FMT_TEXT, "# HELP x_cert C.\n# TYPE x_cert gauge\n"
                                "x_cert{cn=\"a\"} 10\nx_cert{cn=\"e\"} 5\n");
}

Test(metrics, lru_many)
{
    struct metrics_family *f = metrics_register(tm_m,
                                                &(struct metrics_spec){.type = METRICS_GAUGE,
                                                                       .name = "x_cert",
                                                                       .labels = "cn",
                                                                       .cap = 100,
                                                                       .bound = METRICS_BOUND_LRU},
                                                tm_err);
    char v[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(v, sizeof(v), "cert-%d", i);
        cr_assert(metrics_set(f, (const char *[]){v}, i));
    }
    struct metrics_family_stats st;
    metrics_family_stats(f, &st);
    cr_assert_eq(st.series, 100);
    cr_assert_eq(st.evictions, 9900);
    struct metrics_buf b = tm_render(METRICS_FMT_TEXT);
    cr_assert_not_null(strstr(b.data, "x_cert{cn=\"cert-9999\"} 9999\n"));
    cr_assert_not_null(strstr(b.data, "x_cert{cn=\"cert-9900\"} 9900\n"));
    cr_assert_null(strstr(b.data, "cert-9899\""));
    metrics_buf_free(&b);
}

Test(metrics, values_format)
{
    struct metrics_family *g = tm_reg(METRICS_GAUGE, "x_g", "k");
    cr_assert(metrics_set(g, (const char *[]){"ts"}, 1764775807.123456));
    cr_assert(metrics_set(g, (const char *[]){"big"}, 1e20));
    cr_assert(metrics_set(g, (const char *[]){"inf"}, 1.0 / 0.0));
    cr_assert(metrics_set(g, (const char *[]){"third"}, 1.0 / 3));
    tm_expect(METRICS_FMT_TEXT, "# HELP x_g Help.\n# TYPE x_g gauge\n"
                                "x_g{k=\"ts\"} 1764775807.123456\n"
                                "x_g{k=\"big\"} 1e+20\n"
                                "x_g{k=\"inf\"} +Inf\n"
                                "x_g{k=\"third\"} 0.3333333333333333\n");
}

Test(metrics, standard_set)
{
    struct metrics_std std;
    struct metrics_build_info bi = {.version = "0.1.0", .commit = "abc", .libpcap = "1.10.3"};
    cr_assert(metrics_register_std(tm_m, &std, &bi, tm_err), "%s", tm_err);
    cr_assert(metrics_set(std.packets, NULL, 100));
    cr_assert(
        metrics_add(std.flows, (const char *[]){"vtctld", "vttablet", "grpc", "plaintext", ""}, 1));
    cr_assert(metrics_set(
        std.cert_not_after,
        (const char *[]){"vttablet-1", "Vitess CA", "0123456789abcdef", "vttablet"}, 1798761600));
    cr_assert(metrics_observe(std.handshake_duration, (const char *[]){"vtgate"}, 0.003));
    struct metrics_buf b = tm_render(METRICS_FMT_TEXT);
    cr_assert_not_null(strstr(b.data, "\nvtls_packets_total 100\n"));
    cr_assert_not_null(strstr(b.data,
                              "vtls_flows_total{client=\"vtctld\",server=\"vttablet\","
                              "app=\"grpc\",encryption=\"plaintext\",tls_version=\"\"} 1\n"));
    cr_assert_not_null(strstr(b.data, "vtls_build_info{version=\"0.1.0\",commit=\"abc\","
                                      "libpcap=\"1.10.3\",ndpi=\"\"} 1\n"));
    cr_assert_not_null(strstr(b.data,
                              "vtls_tls_handshake_duration_seconds_bucket{server=\"vtgate\","
                              "le=\"0.005\"} 1\n"));
    cr_assert_not_null(strstr(b.data, "fingerprint_sha256=\"0123456789abcdef\""));
    metrics_buf_free(&b);
    cr_assert_null(metrics_register(
        tm_m, &(struct metrics_spec){.type = METRICS_GAUGE, .name = "vtls_flows_active"}, tm_err));
    cr_assert_eq(metrics_find(tm_m, "vtls_flows_active"), std.flows_active);
}

/* Render time for 10 families x 1000 series, reported on stderr. */
Test(metrics, render_timing)
{
    char name[32], v[32];
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "x_f%d_total", i);
        struct metrics_family *f = tm_reg(METRICS_COUNTER, name, "a,b");
        for (int j = 0; j < 1000; j++) {
            snprintf(v, sizeof(v), "value-%d", j);
            cr_assert(metrics_add(f, (const char *[]){"component", v}, j));
        }
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct metrics_buf b = {0};
    for (int r = 0; r < 10; r++) {
        b.len = 0;
        cr_assert(metrics_render(tm_m, METRICS_FMT_TEXT, &b));
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = ((t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6) / 10;
    fprintf(stderr, "metrics: render 10000 series: %.2f ms, %zu bytes\n", ms, b.len);
    metrics_buf_free(&b);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct metrics_family *f = metrics_find(tm_m, "x_f0_total");
    for (int k = 0; k < 1000000; k++)
        metrics_add(f, (const char *[]){"component", "value-7"}, 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e6;
    fprintf(stderr, "metrics: labelled add: %.0f ns per update\n", ns);
}

struct tm_race {
    struct metrics *m;
    volatile int stop;
    int renders;
    bool torn; /* a render saw the two batch counters differ */
};

static void *tm_renderer(void *arg)
{
    struct tm_race *r = arg;
    struct metrics_buf b = {0};
    while (!r->stop) {
        b.len = 0;
        cr_assert(
            metrics_render(r->m, r->renders % 2 ? METRICS_FMT_OPENMETRICS : METRICS_FMT_TEXT, &b));
        const char *a = strstr(b.data, "\nx_a_total ");
        const char *c = strstr(b.data, "\nx_b_total ");
        if (a && c && strtod(a + 11, NULL) != strtod(c + 11, NULL))
            r->torn = true;
        r->renders++;
    }
    metrics_buf_free(&b);
    return NULL;
}

/* The HTTP thread renders while the packet thread publishes batches: no
 * crash, no torn batch, every series present. */
Test(metrics, concurrent_render_and_batches)
{
    struct metrics_family *a = tm_reg(METRICS_COUNTER, "x_a_total", NULL);
    struct metrics_family *b = tm_reg(METRICS_COUNTER, "x_b_total", NULL);
    struct metrics_family *l = tm_reg(METRICS_COUNTER, "x_l_total", "k");
    struct tm_race r = {.m = tm_m};
    pthread_t th;
    char v[16];
    cr_assert_eq(pthread_create(&th, NULL, tm_renderer, &r), 0);
    for (int i = 1; i <= 200000; i++) {
        metrics_lock(tm_m);
        metrics_set(a, NULL, i);
        metrics_set(b, NULL, i);
        metrics_unlock(tm_m);
        snprintf(v, sizeof(v), "%d", i % 500);
        metrics_add(l, (const char *[]){v}, 1);
    }
    r.stop = 1;
    pthread_join(th, NULL);
    cr_assert_not(r.torn);
    cr_assert_gt(r.renders, 0);
    struct metrics_family_stats st;
    metrics_family_stats(l, &st);
    cr_assert_eq(st.series, 500);
    fprintf(stderr, "metrics: %d renders during 200000 batches\n", r.renders);
}

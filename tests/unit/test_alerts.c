/* Alerts: de-duplication windows in packet time, the bounded key table, the
 * write-failure rate limiter, and the EVE and ECS layouts field by field. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "output/alerts.h"
#include "output/eve.h"

#define SEC 1000000ULL

static struct alerts_addr ta_addr(const char *s)
{
    struct alerts_addr a;
    memset(&a, 0, sizeof(a));
    if (strchr(s, ':') != NULL) {
        a.family = 6;
        cr_assert_eq(inet_pton(AF_INET6, s, a.b), 1);
    } else {
        a.family = 4;
        cr_assert_eq(inet_pton(AF_INET, s, a.b), 1);
    }
    return a;
}

Test(dedup, window_in_packet_time)
{
    struct alerts_dedup *d = alerts_dedup_new(0, 0);
    struct alerts_addr c = ta_addr("10.0.0.1"), s = ta_addr("10.0.1.1");
    uint64_t t0 = 1764775807 * SEC, n = 99;
    cr_assert_not_null(d);

    cr_assert(alerts_dedup_check(d, "plaintext-grpc", &c, &s, 15999, t0, &n));
    cr_assert_eq(n, 0);
    for (int i = 1; i <= 5; i++)
        cr_assert_not(
            alerts_dedup_check(d, "plaintext-grpc", &c, &s, 15999, t0 + i * 600 * SEC, &n));
    /* 3599.999999 s later: still inside the hour. */
    cr_assert_not(alerts_dedup_check(d, "plaintext-grpc", &c, &s, 15999, t0 + 3600 * SEC - 1, &n));
    /* Exactly one hour later: written, carrying the 6 suppressed. */
    cr_assert(alerts_dedup_check(d, "plaintext-grpc", &c, &s, 15999, t0 + 3600 * SEC, &n));
    cr_assert_eq(n, 6);
    /* The new window starts there. */
    cr_assert_not(alerts_dedup_check(d, "plaintext-grpc", &c, &s, 15999, t0 + 7000 * SEC, &n));
    cr_assert(alerts_dedup_check(d, "plaintext-grpc", &c, &s, 15999, t0 + 7200 * SEC, &n));
    cr_assert_eq(n, 1);
    /* Time going backwards stays suppressed. */
    cr_assert_not(alerts_dedup_check(d, "plaintext-grpc", &c, &s, 15999, t0, &n));

    struct alerts_dedup_stats st;
    alerts_dedup_stats(d, &st);
    cr_assert_eq(st.emitted, 3);
    cr_assert_eq(st.suppressed, 8);
    cr_assert_eq(st.keys, 1);
    cr_assert_eq(st.evictions, 0);
    alerts_dedup_free(d);
}

Test(dedup, key_parts)
{
    struct alerts_dedup *d = alerts_dedup_new(60 * SEC, 0);
    struct alerts_addr c = ta_addr("10.0.0.1"), c2 = ta_addr("10.0.0.2"), s = ta_addr("10.0.1.1");
    struct alerts_addr s6 = ta_addr("fd00::1");
    uint64_t t = 1000 * SEC;

    cr_assert(alerts_dedup_check(d, "r1", &c, &s, 3306, t, NULL));
    cr_assert_not(alerts_dedup_check(d, "r1", &c, &s, 3306, t + 1, NULL));
    /* Different server port, rule, client, server: different keys. */
    cr_assert(alerts_dedup_check(d, "r1", &c, &s, 3307, t + 2, NULL));
    cr_assert(alerts_dedup_check(d, "r2", &c, &s, 3306, t + 3, NULL));
    cr_assert(alerts_dedup_check(d, "r1", &c2, &s, 3306, t + 4, NULL));
    cr_assert(alerts_dedup_check(d, "r1", &c, &s6, 3306, t + 5, NULL));
    cr_assert_not(alerts_dedup_check(d, "r1", &c, &s6, 3306, t + 6, NULL));
    /* Client port is not part of the key (a new connection repeats). */
    struct alerts_dedup_stats st;
    alerts_dedup_stats(d, &st);
    cr_assert_eq(st.keys, 5);
    alerts_dedup_free(d);
}

Test(dedup, lru_cap)
{
    struct alerts_dedup *d = alerts_dedup_new(3600 * SEC, 3);
    struct alerts_addr s = ta_addr("10.0.1.1");
    struct alerts_addr c[5];
    char buf[32];
    uint64_t n;
    for (int i = 0; i < 5; i++) {
        snprintf(buf, sizeof(buf), "10.0.0.%d", i + 1);
        c[i] = ta_addr(buf);
    }
    cr_assert(alerts_dedup_check(d, "r", &c[0], &s, 1, 1 * SEC, NULL));
    cr_assert(alerts_dedup_check(d, "r", &c[1], &s, 1, 2 * SEC, NULL));
    cr_assert(alerts_dedup_check(d, "r", &c[2], &s, 1, 3 * SEC, NULL));
    cr_assert_not(alerts_dedup_check(d, "r", &c[0], &s, 1, 4 * SEC, NULL)); /* c0 recent */
    cr_assert_not(alerts_dedup_check(d, "r", &c[1], &s, 1, 4 * SEC, NULL)); /* c1 recent */
    cr_assert(alerts_dedup_check(d, "r", &c[3], &s, 1, 5 * SEC, NULL));     /* evicts c2 */
    cr_assert_not(alerts_dedup_check(d, "r", &c[0], &s, 1, 6 * SEC, NULL));
    cr_assert(alerts_dedup_check(d, "r", &c[2], &s, 1, 7 * SEC, &n)); /* back, evicts c1 */
    cr_assert_eq(n, 0);
    cr_assert(alerts_dedup_check(d, "r", &c[1], &s, 1, 8 * SEC, NULL)); /* evicts c3 */
    struct alerts_dedup_stats st;
    alerts_dedup_stats(d, &st);
    cr_assert_eq(st.keys, 3);
    cr_assert_eq(st.evictions, 3);
    cr_assert_eq(st.lost, 1); /* c1's one suppressed alert */
    alerts_dedup_free(d);
}

Test(dedup, many_keys)
{
    struct alerts_dedup *d = alerts_dedup_new(3600 * SEC, 100000);
    struct alerts_addr s = ta_addr("10.0.1.1"), c = ta_addr("10.0.0.0");
    for (uint32_t i = 0; i < 300000; i++) {
        memcpy(c.b, &i, sizeof(i));
        cr_assert(alerts_dedup_check(d, "r", &c, &s, 443, i, NULL));
    }
    for (uint32_t i = 200000; i < 300000; i++) {
        memcpy(c.b, &i, sizeof(i));
        cr_assert_not(alerts_dedup_check(d, "r", &c, &s, 443, 300000 + i, NULL));
    }
    struct alerts_dedup_stats st;
    alerts_dedup_stats(d, &st);
    cr_assert_eq(st.keys, 100000);
    cr_assert_eq(st.evictions, 200000);
    alerts_dedup_free(d);
}

Test(ratelimit, once_per_interval)
{
    struct alerts_ratelimit rl = ALERTS_RATELIMIT_INIT;
    uint64_t held = 99;
    cr_assert(alerts_ratelimit_allow(&rl, 100 * SEC, &held));
    cr_assert_eq(held, 0);
    cr_assert_not(alerts_ratelimit_allow(&rl, 100 * SEC + 1, &held));
    cr_assert_not(alerts_ratelimit_allow(&rl, 159 * SEC, &held));
    cr_assert(alerts_ratelimit_allow(&rl, 160 * SEC, &held));
    cr_assert_eq(held, 2);
    struct alerts_ratelimit zero = {0};
    cr_assert(alerts_ratelimit_allow(&zero, 0, NULL));
    cr_assert_not(alerts_ratelimit_allow(&zero, 59 * SEC, NULL));
    cr_assert(alerts_ratelimit_allow(&zero, 60 * SEC, NULL));
}

Test(ratelimit, write_failure_report, .init = cr_redirect_stderr)
{
    struct alerts_ratelimit rl = ALERTS_RATELIMIT_INIT;
    cr_assert(alerts_report_write_failure(&rl, "/dev/full", 28));
    for (int i = 0; i < 100; i++)
        cr_assert_not(alerts_report_write_failure(&rl, "/dev/full", 28));
    fflush(stderr);
    cr_assert_stderr_eq_str("vtls-sensor: write to /dev/full failed: No space left on device "
                            "(0 more failures since last report)\n");
}

/* ---- layouts ---- */

static json_t *ta_record(void)
{
    json_error_t e;
    json_t *r = json_loads(
        "{\"timestamp\":\"2026-12-03T15:30:07.123456Z\",\"event_type\":\"flow\","
        "\"flow_id\":123456789,\"community_id\":\"1:LQU9qZlK+B5F3KDmev6m5PMibrg=\","
        "\"src_ip\":\"10.0.0.5\",\"src_port\":51234,\"dest_ip\":\"10.0.1.7\",\"dest_port\":15999,"
        "\"proto\":\"TCP\",\"app_proto\":\"grpc\",\"vlan\":[100,200],"
        "\"vitess\":{\"client\":\"vtctld\",\"server\":\"vttablet\",\"evidence\":\"grpc-path\"},"
        "\"tls\":{\"version\":\"TLS 1.2\",\"cipher\":\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\","
        "\"sni\":\"vttablet-1.example\",\"ja3\":\"abc\",\"ja3s\":\"def\","
        "\"cert\":{\"subject\":\"CN=vttablet-1.example,O=Vitess\",\"issuer\":\"C = US, O = "
        "Example, CN = Example CA\",\"not_after\":\"2027-01-01T00:00:00Z\","
        "\"sha256\":\"ab:cd:ef:01\"}},"
        "\"grpc\":{\"path\":\"/tabletmanagerservice.TabletManager/Ping\"},"
        "\"geo\":{\"src\":{\"country\":\"DE\",\"asn\":64500,\"as_org\":\"Example AS\","
        "\"zone\":\"zone1\"},\"dst\":{\"zone\":\"zone2\",\"cell\":\"cell-b\"}}}",
        0, &e);
    cr_assert_not_null(r, "%s", e.text);
    return r;
}

static const struct alerts_info ta_info = {
    .rule = "tls-old-version",
    .severity = "high",
    .message = "vtctld -> vttablet uses TLS 1.2",
    .description = "Vitess paths must use TLS 1.3.",
    .tags = (const char *const[]){"tls", "vitess"},
    .ntags = 2,
    .suppressed = 4,
};

static void ta_str(const json_t *o, const char *path, const char *want)
{
    char tmp[128];
    const json_t *v = o;
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *save = NULL, *p = strtok_r(tmp, "/", &save); p; p = strtok_r(NULL, "/", &save))
        v = json_object_get(v, p);
    cr_assert(json_is_string(v), "%s is not a string", path);
    cr_assert_str_eq(json_string_value(v), want, "%s", path);
}

static void ta_int(const json_t *o, const char *path, long long want)
{
    char tmp[128];
    const json_t *v = o;
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *save = NULL, *p = strtok_r(tmp, "/", &save); p; p = strtok_r(NULL, "/", &save))
        v = json_object_get(v, p);
    cr_assert(json_is_integer(v), "%s is not an integer", path);
    cr_assert_eq(json_integer_value(v), want, "%s", path);
}

Test(layout, eve)
{
    json_t *r = ta_record();
    cr_assert(alerts_eve(r, &ta_info));
    ta_str(r, "event_type", "alert");
    ta_str(r, "alert/rule", "tls-old-version");
    ta_str(r, "alert/severity", "high");
    ta_str(r, "alert/message", "vtctld -> vttablet uses TLS 1.2");
    ta_str(r, "alert/description", "Vitess paths must use TLS 1.3.");
    ta_int(r, "alert/suppressed", 4);
    const json_t *tags = json_object_get(json_object_get(r, "alert"), "tags");
    cr_assert_eq(json_array_size(tags), 2);
    cr_assert_str_eq(json_string_value(json_array_get(tags, 0)), "tls");
    cr_assert_str_eq(json_string_value(json_array_get(tags, 1)), "vitess");
    /* The common fields stay as they were. */
    ta_str(r, "timestamp", "2026-12-03T15:30:07.123456Z");
    ta_str(r, "tls/version", "TLS 1.2");
    ta_str(r, "vitess/client", "vtctld");
    ta_str(r, "geo/dst/zone", "zone2");
    /* No suppressed count, no description: both fields left out. */
    struct alerts_info plain = {.rule = "r", .severity = "low", .message = "m"};
    json_t *r2 = ta_record();
    cr_assert(alerts_eve(r2, &plain));
    const json_t *a = json_object_get(r2, "alert");
    cr_assert_null(json_object_get(a, "suppressed"));
    cr_assert_null(json_object_get(a, "description"));
    cr_assert_eq(json_array_size(json_object_get(a, "tags")), 0);
    cr_assert_eq(json_object_size(a), 4);
    json_decref(r2);
    json_decref(r);
}

Test(layout, ecs)
{
    json_t *r = ta_record();
    cr_assert(alerts_eve(r, &ta_info));
    json_t *e = alerts_ecs(r);
    cr_assert_not_null(e);
    ta_str(e, "@timestamp", "2026-12-03T15:30:07.123456Z");
    ta_str(e, "ecs/version", "8.11.0");
    ta_str(e, "event/kind", "alert");
    const json_t *cat = json_object_get(json_object_get(e, "event"), "category");
    cr_assert_eq(json_array_size(cat), 1);
    cr_assert_str_eq(json_string_value(json_array_get(cat, 0)), "network");
    ta_int(e, "event/severity", 73);
    ta_str(e, "source/ip", "10.0.0.5");
    ta_int(e, "source/port", 51234);
    ta_str(e, "destination/ip", "10.0.1.7");
    ta_int(e, "destination/port", 15999);
    ta_str(e, "network/transport", "tcp");
    ta_str(e, "network/protocol", "grpc");
    ta_str(e, "network/community_id", "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
    ta_str(e, "network/vlan/id", "100");
    ta_str(e, "network/inner/vlan/id", "200");
    ta_str(e, "tls/version", "1.2");
    ta_str(e, "tls/version_protocol", "tls");
    ta_str(e, "tls/cipher", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    ta_str(e, "tls/client/server_name", "vttablet-1.example");
    ta_str(e, "tls/client/ja3", "abc");
    ta_str(e, "tls/server/ja3s", "def");
    ta_str(e, "tls/server/x509/subject/common_name", "vttablet-1.example");
    ta_str(e, "tls/server/x509/issuer/common_name", "Example CA");
    ta_str(e, "tls/server/x509/not_after", "2027-01-01T00:00:00Z");
    ta_str(e, "tls/server/not_after", "2027-01-01T00:00:00Z");
    ta_str(e, "tls/server/subject", "CN=vttablet-1.example,O=Vitess");
    ta_str(e, "tls/server/hash/sha256", "ABCDEF01");
    ta_str(e, "rule/name", "tls-old-version");
    ta_str(e, "rule/description", "Vitess paths must use TLS 1.3.");
    ta_str(e, "message", "vtctld -> vttablet uses TLS 1.2");
    cr_assert_eq(json_array_size(json_object_get(e, "tags")), 2);
    ta_str(e, "source/geo/country_iso_code", "DE");
    ta_int(e, "source/as/number", 64500);
    ta_str(e, "source/as/organization/name", "Example AS");
    cr_assert_null(json_object_get(json_object_get(e, "destination"), "geo"));
    ta_str(e, "vtls/vitess/client", "vtctld");
    ta_str(e, "vtls/vitess/server", "vttablet");
    ta_str(e, "vtls/geo/dst/cell", "cell-b");
    ta_str(e, "vtls/grpc/path", "/tabletmanagerservice.TabletManager/Ping");
    ta_int(e, "vtls/flow_id", 123456789);
    ta_int(e, "vtls/alert/suppressed", 4);
    ta_str(e, "vtls/alert/severity", "high");
    /* No EVE-only top-level names leak into the ECS document. */
    cr_assert_null(json_object_get(e, "src_ip"));
    cr_assert_null(json_object_get(e, "alert"));
    cr_assert_null(json_object_get(e, "event_type"));
    json_decref(e);
    json_decref(r);
}

Test(layout, ecs_variants)
{
    json_error_t err;
    json_t *r =
        json_loads("{\"timestamp\":\"t\",\"proto\":\"UDP\",\"tls\":{\"version\":\"TLS 1.3\","
                   "\"cert\":{\"subject\":\"/O=Vitess/CN=a\\\\,b\",\"subject_cn\":\"x\","
                   "\"issuer\":\"/C=US/CN=Root/O=y\"}},"
                   "\"alert\":{\"rule\":\"r\",\"severity\":\"weird\",\"message\":\"m\"}}",
                   0, &err);
    cr_assert_not_null(r, "%s", err.text);
    json_t *e = alerts_ecs(r);
    ta_str(e, "network/transport", "udp");
    ta_str(e, "tls/version", "1.3");
    ta_str(e, "tls/server/x509/subject/common_name", "x"); /* subject_cn wins */
    ta_str(e, "tls/server/x509/issuer/common_name", "Root");
    ta_str(e, "rule/description", "m");
    cr_assert_null(json_object_get(json_object_get(e, "event"), "severity"));
    json_decref(e);
    json_decref(r);
    cr_assert_eq(alerts_severity_num("critical"), 99);
    cr_assert_eq(alerts_severity_num("info"), 1);
    cr_assert_eq(alerts_severity_num(NULL), 0);
    cr_assert_null(alerts_ecs(NULL));
}

/* Records built inside a scope take their memory from the arena; past its
 * 32 KiB they fall back to malloc, and either kind is freed correctly (the
 * sanitizer build checks the frees). */
Test(record_scope, values_come_from_the_arena)
{
    eve_scope_begin();
    json_t *o = json_object();
    cr_assert_not_null(o);
    size_t after_one = eve_scope_used();
    cr_assert_gt(after_one, 0);
    char key[16];
    for (int i = 0; i < 2000; i++) { /* well past the arena */
        snprintf(key, sizeof(key), "k%d", i);
        cr_assert_eq(json_object_set_new(o, key, json_string("a value of some length")), 0);
    }
    cr_assert_gt(eve_scope_used(), after_one);
    static char text[128 * 1024];
    size_t n = json_dumpb(o, text, sizeof(text) - 1, JSON_COMPACT);
    cr_assert(n > 0 && n < sizeof(text));
    text[n] = '\0';
    cr_assert(strstr(text, "\"k1999\":\"a value of some length\"") != NULL);
    json_decref(o);
    eve_scope_end();
    cr_assert_eq(eve_scope_used(), 0);

    /* Outside a scope jansson uses malloc, and values outlive scopes. */
    json_t *kept = json_string("kept");
    eve_scope_begin();
    json_t *arr = json_array();
    json_array_append(arr, kept);
    json_decref(arr);
    eve_scope_end();
    cr_assert_str_eq(json_string_value(kept), "kept");
    json_decref(kept);
}

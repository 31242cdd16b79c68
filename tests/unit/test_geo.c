/* GeoIP and zone enrichment on the databases built by
 * tests/unit/data/geo/make_mmdb.pl. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <string.h>

#include "output/geo.h"

#define TG_DIR VTLS_SOURCE_DIR "/tests/unit/data/geo/"

static struct geo *tg;
static char tg_err[GEO_ERRLEN];

static void tg_setup(void)
{
    tg = geo_new();
    cr_assert_not_null(tg);
    cr_assert(geo_add(tg, TG_DIR "test-zones.mmdb", tg_err), "%s", tg_err);
    cr_assert(geo_add(tg, TG_DIR "test-country.mmdb", tg_err), "%s", tg_err);
    cr_assert(geo_add(tg, TG_DIR "test-asn.mmdb", tg_err), "%s", tg_err);
}

static void tg_teardown(void)
{
    geo_free(tg);
}

TestSuite(geo, .init = tg_setup, .fini = tg_teardown);

static bool tg_lookup(const char *ip, struct geo_result *r)
{
    uint8_t a[16] = {0};
    int fam = strchr(ip, ':') ? 6 : 4;
    cr_assert_eq(inet_pton(fam == 6 ? AF_INET6 : AF_INET, ip, a), 1);
    return geo_lookup(tg, fam, a, r);
}

static const char *tg_kv(const struct geo_result *r, const char *key)
{
    char buf[16];
    const char *v = geo_get(r, key, buf);
    return v;
}

Test(geo, private_range_custom_keys)
{
    struct geo_result r;
    cr_assert(tg_lookup("10.0.3.4", &r));
    cr_assert_str_eq(r.country, "NL"); /* from the country database's 10.0.0.0/8 */
    cr_assert_eq(r.asn, 0);
    cr_assert_eq(r.nkv, 3, "nkv %u", r.nkv);
    cr_assert_str_eq(tg_kv(&r, "zone"), "zone1");
    cr_assert_str_eq(tg_kv(&r, "cell"), "cell-a");
    cr_assert_str_eq(tg_kv(&r, "environment"), "prod");
    cr_assert_null(tg_kv(&r, "rack")); /* a number, not a string */
    cr_assert_null(tg_kv(&r, "tags"));
    cr_assert_eq(r.dropped, 0);

    cr_assert(tg_lookup("10.1.200.1", &r));
    cr_assert_str_eq(tg_kv(&r, "zone"), "zone2");
    cr_assert_str_eq(tg_kv(&r, "cell"), "cell-b");

    cr_assert(tg_lookup("10.2.0.1", &r)); /* country only */
    cr_assert_eq(r.nkv, 0);
    cr_assert_str_eq(r.country, "NL");
}

Test(geo, country_and_asn)
{
    struct geo_result r;
    char buf[16];
    cr_assert(tg_lookup("198.51.100.77", &r));
    cr_assert_str_eq(r.country, "DE");
    cr_assert_eq(r.asn, 64500);
    cr_assert_str_eq(r.as_org, "Example Transit AS");
    cr_assert_eq(r.nkv, 0); /* autonomous_system_organization is not a custom key */
    cr_assert_str_eq(geo_get(&r, "asn", buf), "64500");
    cr_assert_str_eq(geo_get(&r, "country", buf), "DE");

    cr_assert(tg_lookup("81.2.69.160", &r));
    cr_assert_str_eq(r.country, "GB");
    cr_assert_eq(r.asn, 0);
    cr_assert_null(geo_get(&r, "asn", buf));

    cr_assert_not(tg_lookup("192.0.2.1", &r));
    cr_assert_str_eq(r.country, "");
}

Test(geo, ipv6)
{
    struct geo_result r;
    cr_assert(tg_lookup("2001:db8:1::5", &r));
    cr_assert_str_eq(r.country, "SE");
    cr_assert_eq(r.asn, 64501);
    cr_assert(tg_lookup("fd00:10::1", &r));
    cr_assert_str_eq(tg_kv(&r, "zone"), "zone6");
    cr_assert_not(tg_lookup("2001:db8:2::1", &r));
}

Test(geo, long_and_odd_values)
{
    struct geo_result r;
    cr_assert(tg_lookup("10.9.1.1", &r));
    cr_assert_str_eq(tg_kv(&r, "zone"), "z\"q\xc3\xa9");
    cr_assert_eq(strlen(tg_kv(&r, "cell")), GEO_VALUE_MAX - 1);
    cr_assert_eq(r.dropped, 1);
    json_t *j = geo_json(&r);
    cr_assert_not_null(j);
    cr_assert_str_eq(json_string_value(json_object_get(j, "zone")), "z\"q\xc3\xa9");
    cr_assert_str_eq(json_string_value(json_object_get(j, "environment")), "staging");
    cr_assert_str_eq(json_string_value(json_object_get(j, "country")), "NL");
    cr_assert_null(json_object_get(j, "asn"));
    json_decref(j);
}

Test(geo, json_and_cache)
{
    struct geo_result r;
    cr_assert(tg_lookup("198.51.100.1", &r));
    json_t *j = geo_json(&r);
    char *s = json_dumps(j, JSON_COMPACT);
    cr_assert_str_eq(s, "{\"country\":\"DE\",\"asn\":64500,\"as_org\":\"Example Transit AS\"}");
    free(s);
    json_decref(j);
    for (int i = 0; i < 10; i++)
        cr_assert(tg_lookup("198.51.100.1", &r));
    struct geo_stats st;
    geo_get_stats(tg, &st);
    cr_assert_eq(st.lookups, 11);
    cr_assert_eq(st.cache_hits, 10);
    cr_assert_eq(st.errors, 0);
    cr_assert_eq(r.asn, 64500);
}

Test(geo, order_first_database_wins)
{
    /* A second zones database added later never overrides the first. */
    struct geo *g = geo_new();
    cr_assert(geo_add(g, TG_DIR "test-country.mmdb", tg_err));
    cr_assert(geo_add(g, TG_DIR "test-zones.mmdb", tg_err));
    cr_assert_eq(geo_count(g), 2);
    struct geo_result r;
    uint8_t a[16] = {10, 0, 0, 1};
    cr_assert(geo_lookup(g, 4, a, &r));
    cr_assert_str_eq(r.country, "NL");
    cr_assert_eq(r.nkv, 3);
    geo_free(g);
}

Test(geo, open_errors)
{
    struct geo *g = geo_new();
    cr_assert_not(geo_add(g, TG_DIR "missing.mmdb", tg_err));
    cr_assert_not_null(strstr(tg_err, "missing.mmdb: "), "%s", tg_err);
    cr_assert_not(geo_add(g, TG_DIR "make_mmdb.pl", tg_err));
    cr_assert_not_null(strstr(tg_err, "make_mmdb.pl: "), "%s", tg_err);
    for (int i = 0; i < GEO_MAX_DBS; i++)
        cr_assert(geo_add(g, TG_DIR "test-asn.mmdb", tg_err));
    cr_assert_not(geo_add(g, TG_DIR "test-asn.mmdb", tg_err));
    cr_assert_not_null(strstr(tg_err, "more than"));
    geo_free(g);
    geo_free(NULL);
}

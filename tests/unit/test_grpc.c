/* Unit tests for dissectors/grpc.c: path split, content types, message
 * headers and the service table (sorted, every service of PROTOCOLS.md). */
#include <criterion/criterion.h>
#include <string.h>

#include "dissectors/grpc.h"
#include "tests/unit/helper_pkt.h"

static int split(const char *s, struct grpc_path *out)
{
    size_t n = strlen(s);
    return grpc_split_path((const char *)guard_copy(s, n), n, out);
}

static bool span_eq(const char *p, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(p, want, n) == 0;
}

Test(grpc, split_paths)
{
    struct grpc_path gp;
    cr_assert_eq(split("/queryservice.Query/StreamExecute", &gp), 0);
    cr_assert(span_eq(gp.service, gp.service_len, "queryservice.Query"));
    cr_assert(span_eq(gp.package, gp.package_len, "queryservice"));
    cr_assert(span_eq(gp.method, gp.method_len, "StreamExecute"));

    cr_assert_eq(split("/grpc.health.v1.Health/Check", &gp), 0);
    cr_assert(span_eq(gp.package, gp.package_len, "grpc.health.v1"));
    cr_assert(span_eq(gp.service, gp.service_len, "grpc.health.v1.Health"));

    cr_assert_eq(split("/Greeter/SayHello", &gp), 0);
    cr_assert_eq(gp.package_len, 0);
    cr_assert(span_eq(gp.service, gp.service_len, "Greeter"));
}

Test(grpc, split_rejects)
{
    static const char *bad[] = {"",         "/",           "//",           "/a/",
                                "//m",      "a/b",         "/a/b/c",       "/a b/c",
                                "/a/b?x=1", "/index.html", "/v3/kv/range", "/a\x01/b"};
    struct grpc_path gp;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(split(bad[i], &gp), -1, "%s", bad[i]);
    /* every prefix of a good path, against the guard page */
    const char *good = "/vtctlservice.Vtctld/GetKeyspaces";
    for (size_t k = 0; k < strlen(good); k++) {
        const char *g = (const char *)guard_copy(good, k);
        int r = grpc_split_path(g, k, &gp);
        cr_assert(r == -1 || k > strlen("/vtctlservice.Vtctld/"));
    }
}

Test(grpc, content_types)
{
    static const struct {
        const char *v;
        enum grpc_content_type ct;
    } cases[] = {
        {"application/grpc", GRPC_CT_GRPC},
        {"application/grpc+proto", GRPC_CT_PROTO},
        {"Application/GRPC+proto", GRPC_CT_PROTO},
        {"application/grpc+json", GRPC_CT_JSON},
        {"application/grpc+thrift", GRPC_CT_OTHER},
        {"application/grpc; charset=utf-8", GRPC_CT_GRPC},
        {"application/grpc-web+proto", GRPC_CT_WEB},
        {"application/grpc-web-text", GRPC_CT_WEB},
        {"application/grpcx", GRPC_CT_NONE},
        {"application/grpc+", GRPC_CT_NONE},
        {"application/json", GRPC_CT_NONE},
        {"text/html", GRPC_CT_NONE},
        {"", GRPC_CT_NONE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = strlen(cases[i].v);
        cr_assert_eq(grpc_content_type((const char *)guard_copy(cases[i].v, n), n), cases[i].ct,
                     "%s", cases[i].v);
    }
    cr_assert_str_eq(grpc_content_type_name(GRPC_CT_PROTO), "grpc+proto");
    cr_assert_str_eq(grpc_content_type_name(GRPC_CT_NONE), "none");
}

Test(grpc, message_header)
{
    static const uint8_t m[] = {0x01, 0x00, 0x00, 0x01, 0x02};
    bool comp;
    uint32_t len;
    cr_assert_eq(grpc_msg_header(guard_copy(m, 5), 5, &comp, &len), 1);
    cr_assert(comp);
    cr_assert_eq(len, 258);
    for (size_t k = 0; k < 5; k++)
        cr_assert_eq(grpc_msg_header(guard_copy(m, k), k, &comp, &len), 0);
    static const uint8_t bad[] = {0x02, 0, 0, 0, 0};
    cr_assert_eq(grpc_msg_header(bad, 5, &comp, &len), -1);
}

Test(grpc, table_sorted_and_complete)
{
    size_t n;
    const struct grpc_service *t = grpc_services(&n);
    cr_assert_geq(n, 20);
    for (size_t i = 1; i < n; i++)
        cr_assert_lt(strcmp(t[i - 1].name, t[i].name), 0, "%s before %s", t[i - 1].name, t[i].name);
    for (size_t i = 0; i < n; i++) {
        cr_assert_not_null(t[i].server);
        cr_assert_not_null(t[i].callers[0]);
        cr_assert(strcmp(t[i].app, "grpc") == 0 || strcmp(t[i].app, "etcd") == 0);
        const struct grpc_service *s = grpc_service_lookup(t[i].name, strlen(t[i].name));
        cr_assert_eq(s, &t[i], "%s", t[i].name);
    }
}

static const struct grpc_service *look(const char *name)
{
    return grpc_service_lookup(name, strlen(name));
}

Test(grpc, lookups)
{
    static const struct {
        const char *name, *server, *caller0, *app;
    } cases[] = {
        {"vtgateservice.Vitess", "vtgate", "app", "grpc"},
        {"queryservice.Query", "vttablet", "vtgate", "grpc"},
        {"tabletmanagerservice.TabletManager", "vttablet", "vtctld", "grpc"},
        {"binlogservice.UpdateStream", "vttablet", "vttablet", "grpc"},
        {"throttlerservice.Throttler", "vttablet", "vtctld", "grpc"},
        {"vtctlservice.Vtctl", "vtctld", "vtctlclient", "grpc"},
        {"vtctlservice.Vtctld", "vtctld", "vtctldclient", "grpc"},
        {"mysqlctl.MysqlCtl", "mysqlctld", "vttablet", "grpc"},
        {"vtadmin.VTAdmin", "vtadmin", "vtadmin-web", "grpc"},
        {"etcdserverpb.KV", "etcd", "any", "etcd"},
        {"etcdserverpb.Watch", "etcd", "any", "etcd"},
        {"etcdserverpb.Lease", "etcd", "any", "etcd"},
        {"etcdserverpb.Cluster", "etcd", "any", "etcd"},
        {"etcdserverpb.Maintenance", "etcd", "any", "etcd"},
        {"etcdserverpb.Auth", "etcd", "any", "etcd"},
        {"v3lockpb.Lock", "etcd", "any", "etcd"},
        {"v3electionpb.Election", "etcd", "any", "etcd"},
        {"grpc.health.v1.Health", "any", "any", "grpc"},
        {"grpc.reflection.v1alpha.ServerReflection", "any", "any", "grpc"},
        {"grpc.reflection.v1beta.ServerReflection", "any", "any", "grpc"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct grpc_service *s = look(cases[i].name);
        cr_assert_not_null(s, "%s", cases[i].name);
        cr_assert_str_eq(s->server, cases[i].server, "%s", cases[i].name);
        cr_assert_str_eq(s->callers[0], cases[i].caller0, "%s", cases[i].name);
        cr_assert_str_eq(s->app, cases[i].app, "%s", cases[i].name);
    }
    cr_assert_str_eq(look("queryservice.Query")->callers[2], "vtctld");
    cr_assert_null(look("queryservice.Quer"));
    cr_assert_null(look("queryservice.Queryx"));
    cr_assert_null(look("helloworld.Greeter"));
    cr_assert_null(look(""));
}

Test(grpc, lookup_from_split_path)
{
    struct grpc_path gp;
    cr_assert_eq(split("/tabletmanagerservice.TabletManager/FullStatus", &gp), 0);
    const struct grpc_service *s = grpc_service_lookup(gp.service, gp.service_len);
    cr_assert_not_null(s);
    cr_assert_str_eq(s->server, "vttablet");
}

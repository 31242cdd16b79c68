/* Inventory loading and component classification. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sensor/classify.h"

static char inv_path[64];

static void write_inv(const char *text)
{
    strcpy(inv_path, "/tmp/vtls-inv-XXXXXX");
    int fd = mkstemp(inv_path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static struct dec_addr ip4(const char *s)
{
    struct dec_addr a;
    memset(&a, 0, sizeof(a));
    cr_assert_eq(inet_pton(AF_INET, s, a.b), 1);
    return a;
}

static const char good_inv[] = "components:\n"
                               "  - name: vtgate\n"
                               "    cidrs: [10.99.20.0/24]\n"
                               "    ports: [15306, 15991]\n"
                               "  - name: tablets-a\n"
                               "    kind: vttablet\n"
                               "    cidrs: [10.99.30.0/24, 10.99.31.7]\n"
                               "  - name: vttablet-special\n"
                               "    kind: vttablet\n"
                               "    cidrs: 10.99.30.128/25\n"
                               "  - name: etcd\n"
                               "    cidrs: [10.99.60.0/24]\n"
                               "    tls_names: [\"etcd*.demo.test\"]\n";

Test(classify, inventory_wins_longest_prefix_and_ports)
{
    write_inv(good_inv);
    char err[256];
    struct cls_inventory *inv = cls_inventory_load(inv_path, err, sizeof(err));
    cr_assert_not_null(inv, "%s", err);
    cr_expect_eq(cls_inventory_count(inv), 4);

    struct dec_addr c = ip4("10.99.30.200"), s = ip4("10.99.20.1");
    struct cls_input in = {.family = 4,
                           .client_addr = &c,
                           .server_addr = &s,
                           .client_port = 40000,
                           .server_port = 15991};
    struct cls_result r;
    cls_classify(inv, &in, &r);
    cr_expect_eq(r.server, CLS_VTGATE);
    cr_expect_eq(r.server_evidence, CLS_EV_INVENTORY);
    cr_expect_eq(r.client, CLS_VTTABLET);
    cr_expect_str_eq(r.client_name, "vttablet-special", "longest prefix wins");

    /* Port not listed for vtgate: the inventory does not decide, the gRPC service does. */
    in.server_port = 15999;
    in.hint = CLS_HINT_GRPC;
    in.grpc_server = CLS_VTCTLD;
    in.grpc_client = CLS_VTCTLDCLIENT;
    cls_classify(inv, &in, &r);
    cr_expect_eq(r.server, CLS_VTCTLD);
    cr_expect_eq(r.server_evidence, CLS_EV_GRPC_SERVICE);
    cr_expect_eq(r.client_evidence, CLS_EV_INVENTORY);
    cls_inventory_free(inv);
    unlink(inv_path);
}

Test(classify, evidence_order_without_inventory)
{
    struct dec_addr c = ip4("192.0.2.1"), s = ip4("192.0.2.2");
    struct cls_input in = {.family = 4,
                           .client_addr = &c,
                           .server_addr = &s,
                           .client_port = 50000,
                           .server_port = 3306};
    struct cls_result r;

    cls_classify(NULL, &in, &r);
    cr_expect_eq(r.server, CLS_MYSQLD);
    cr_expect_eq(r.server_evidence, CLS_EV_PORT);
    cr_expect_eq(r.client, CLS_UNKNOWN);

    in.hint = CLS_HINT_MYSQL_VITESS;
    cls_classify(NULL, &in, &r);
    cr_expect_eq(r.server, CLS_VTGATE, "a -Vitess greeting beats the port");
    cr_expect_eq(r.server_evidence, CLS_EV_VITESS_GREETING);
    cr_expect_eq(r.client, CLS_APP);

    in.hint = CLS_HINT_ETCD_PEER;
    in.server_port = 40001;
    cls_classify(NULL, &in, &r);
    cr_expect_eq(r.server, CLS_ETCD);
    cr_expect_eq(r.client, CLS_ETCD);

    in.hint = CLS_HINT_NONE;
    in.server_port = 16001;
    cls_classify(NULL, &in, &r);
    cr_expect_eq(r.server, CLS_VTTABLET);
    in.server_port = 443;
    cls_classify(NULL, &in, &r);
    cr_expect_eq(r.server, CLS_UNKNOWN);
    cr_expect_eq(r.server_evidence, CLS_EV_NONE);
}

Test(classify, tls_name_patterns)
{
    write_inv(good_inv);
    char err[256];
    struct cls_inventory *inv = cls_inventory_load(inv_path, err, sizeof(err));
    cr_assert_not_null(inv, "%s", err);
    struct dec_addr c = ip4("192.0.2.1"), s = ip4("192.0.2.2");
    struct cls_input in = {.family = 4,
                           .client_addr = &c,
                           .server_addr = &s,
                           .client_port = 50000,
                           .server_port = 443,
                           .tls_names = {"other.example", "ETCD-2.demo.test", NULL}};
    struct cls_result r;
    cls_classify(inv, &in, &r);
    cr_expect_eq(r.server, CLS_ETCD);
    cr_expect_eq(r.server_evidence, CLS_EV_TLS_NAME);
    cls_inventory_free(inv);
    unlink(inv_path);
}

struct bad_case {
    const char *text, *want;
};

Test(classify, errors_name_file_line_column)
{
    static const struct bad_case cases[] = {
        {"components:\n  - name: vtgate\n    cidrs: [10.0.0.300/8]\n",
         ":3:13: expected an address"},
        {"components:\n  - name: nosuch\n    cidrs: [10.0.0.0/8]\n", ":2:5: unknown component"},
        {"components:\n  - name: vtgate\n    cidrs: [10.0.0.0/8]\n    ports: [0]\n",
         ":4:13: expected a port"},
        {"components:\n  - name: vtgate\n    colour: red\n    cidrs: [10.0.0.0/8]\n",
         ":3:5: unknown key"},
        {"components:\n  - name: vtgate\n", ":2:5: component without cidrs"},
        {"components: [\n", ":2:1: "},
        {"servers: []\n", ":1:1: unknown key"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        write_inv(cases[i].text);
        char err[256];
        struct cls_inventory *inv = cls_inventory_load(inv_path, err, sizeof(err));
        cr_expect_null(inv, "case %zu loaded", i);
        cr_expect(strncmp(err, inv_path, strlen(inv_path)) == 0, "case %zu: %s", i, err);
        cr_expect(strstr(err, cases[i].want) != NULL, "case %zu: want '%s' in '%s'", i,
                  cases[i].want, err);
        cls_inventory_free(inv);
        unlink(inv_path);
    }
}

/* Rules engine: condition language (every operator and type), templates,
 * lists, macros, exceptions, overrides, every load error with its exact
 * position, and evaluation without allocation.
 */
#include <criterion/criterion.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "helper_rules.h"
#include "rules/rules.h"

/* Compile one rule with condition cond (single-quoted in YAML) for event
 * kind and evaluate it on ev. Fails the test when it does not load. */
static bool cond_eval(const char *cond, enum rules_event_kind kind, const struct rules_event *ev)
{
    char yaml[2048], q[1024];
    size_t j = 0;
    struct rules_errors e = {0};

    for (size_t i = 0; cond[i] && j + 2 < sizeof(q); i++) {
        if (cond[i] == '\'')
            q[j++] = '\'';
        q[j++] = cond[i];
    }
    q[j] = '\0';
    snprintf(yaml, sizeof(yaml),
             "- list: comps\n  items: [vtgate, vttablet]\n"
             "- list: nets\n  items: [10.0.0.0/8, 'fd00::/8']\n"
             "- macro: enc\n  condition: flow.encrypted = true\n"
             "- rule: t\n  condition: '%s'\n  output: o\n  severity: info\n  event: %s\n",
             q, kind == RULES_EVENT_FLOW ? "flow" : "certificate");
    struct rules_set *s = trl_load(yaml, &e);
    if (!s)
        trl_dump(&e);
    cr_assert_not_null(s, "condition did not load: %s", cond);
    rules_errors_free(&e);
    struct rules_event copy = *ev;
    copy.kind = kind;
    bool hit = rules_set_eval(s, &copy, NULL, NULL) == 1;
    rules_set_release(s);
    return hit;
}

static bool flow_true(const char *cond, const struct rules_event *ev)
{
    return cond_eval(cond, RULES_EVENT_FLOW, ev);
}

static bool cert_true(const char *cond, const struct rules_event *ev)
{
    return cond_eval(cond, RULES_EVENT_CERTIFICATE, ev);
}

static const char *const risks[] = {"TLS_SELFSIGNED_CERTIFICATE", "KNOWN_PROTOCOL_ON_NON_STD_PORT"};
static const char *const sans[] = {"db.example", "10.1.2.3"};

static struct rules_event sample(void)
{
    struct rules_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = RULES_EVENT_FLOW;
    ev.time = RULES_NUM(1796300000);
    ev.flow.src_ip.family = RULES_AF_INET;
    memcpy(ev.flow.src_ip.b, (uint8_t[]){10, 1, 2, 3}, 4);
    ev.flow.dst_ip.family = RULES_AF_INET6;
    memcpy(ev.flow.dst_ip.b, (uint8_t[]){0xfd, 0, 0, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 16);
    ev.flow.src_port = RULES_NUM(51000);
    ev.flow.dst_port = RULES_NUM(15991);
    ev.flow.proto = RULES_NUM(6);
    ev.flow.encrypted = RULES_BOOL(false);
    ev.flow.app = "grpc";
    ev.vitess.client = "vtgate";
    ev.vitess.server = "vttablet";
    ev.grpc.path = "/queryservice.Query/Execute";
    ev.tls.version = RULES_NUM(0x0302);
    ev.tls.sni = "tablet-1.vt.svc";
    ev.cert.san.v = sans;
    ev.cert.san.n = 2;
    ev.cert.days_left = RULES_NUM(-3);
    ev.cert.not_after = RULES_NUM(1796000000);
    ev.ndpi.risks.v = risks;
    ev.ndpi.risks.n = 2;
    ev.geo.src.n_custom = 1;
    ev.geo.src.custom[0].key = "zone";
    ev.geo.src.custom[0].value = "eu-west-1a";
    return ev;
}

/* ---- operators and types ---- */

Test(rules_ops, strings)
{
    struct rules_event ev = sample();

    cr_assert(flow_true("vitess.server = vttablet", &ev));
    cr_assert(flow_true("vitess.server == \"vttablet\"", &ev));
    cr_assert_not(flow_true("vitess.server = vtgate", &ev));
    cr_assert(flow_true("vitess.server != vtgate", &ev));
    cr_assert(flow_true("grpc.path contains Query/", &ev));
    cr_assert(flow_true("grpc.path startswith /queryservice.", &ev));
    cr_assert(flow_true("grpc.path endswith /Execute", &ev));
    cr_assert_not(flow_true("grpc.path endswith /Begin", &ev));
    cr_assert(flow_true("tls.sni glob \"tablet-*.vt.svc\"", &ev));
    cr_assert(flow_true("tls.sni glob \"tablet-[0-9].??.svc\"", &ev));
    cr_assert_not(flow_true("tls.sni glob \"tablet-[!0-9]*\"", &ev));
    cr_assert(flow_true("vitess.client in (app, vtgate)", &ev));
    cr_assert(flow_true("vitess.client in comps", &ev));
    cr_assert(flow_true("vitess.client in (app, comps)", &ev)); /* list inside a set */
    cr_assert_not(flow_true("vitess.client in (app, vtctld)", &ev));
    cr_assert(flow_true("vitess.client exists", &ev));
}

Test(rules_ops, absent_fields_compare_false)
{
    struct rules_event ev = sample();

    cr_assert_not(flow_true("mysql.user = root", &ev));
    cr_assert_not(flow_true("mysql.user != root", &ev));
    cr_assert(flow_true("not mysql.user = root", &ev));
    cr_assert_not(flow_true("mysql.user exists", &ev));
    cr_assert(flow_true("not mysql.user exists", &ev));
    cr_assert_not(flow_true("tls.client_max_version < \"TLS 1.2\"", &ev));
    cr_assert_not(flow_true("mysql.downgrade = false", &ev));
    cr_assert_not(flow_true("mysql.downgrade != true", &ev));
    cr_assert_not(flow_true("flow.midstream exists", &ev));
    cr_assert_not(flow_true("geo.dst.zone = x", &ev));
    cr_assert_not(flow_true("geo.src.cell exists", &ev));
}

Test(rules_ops, numbers)
{
    struct rules_event ev = sample();

    cr_assert(flow_true("flow.dst_port = 15991", &ev));
    cr_assert(flow_true("flow.dst_port != 3306", &ev));
    cr_assert(flow_true("flow.dst_port > 15990 and flow.dst_port >= 15991", &ev));
    cr_assert(flow_true("flow.dst_port < 15992 and flow.dst_port <= 15991", &ev));
    cr_assert_not(flow_true("flow.dst_port < 15991", &ev));
    cr_assert(flow_true("flow.dst_port in (3306, 15991, 15999)", &ev));
    cr_assert(flow_true("flow.proto = 0x6", &ev));
    cr_assert(cert_true("cert.days_left < 0", &ev));
    cr_assert(cert_true("cert.days_left = -3", &ev));
}

Test(rules_ops, booleans)
{
    struct rules_event ev = sample();

    cr_assert(flow_true("flow.encrypted = false", &ev));
    cr_assert(flow_true("flow.encrypted != true", &ev));
    cr_assert_not(flow_true("flow.encrypted = true", &ev));
    cr_assert(flow_true("not enc", &ev));
    ev.flow.encrypted = RULES_BOOL(true);
    cr_assert(flow_true("enc", &ev));
}

Test(rules_ops, tls_versions_are_ordered)
{
    struct rules_event ev = sample(); /* TLS 1.1 */

    cr_assert(flow_true("tls.version < \"TLS 1.2\"", &ev));
    cr_assert(flow_true("tls.version = 'TLS 1.1'", &ev));
    cr_assert(flow_true("tls.version = TLSv1.1", &ev));
    cr_assert(flow_true("tls.version > \"SSL 3.0\"", &ev));
    cr_assert(flow_true("tls.version = 0x0302", &ev));
    cr_assert(flow_true("tls.version in (\"TLS 1.0\", \"TLS 1.1\")", &ev));
    ev.tls.version = RULES_NUM(0x0304);
    cr_assert_not(flow_true("tls.version < \"TLS 1.2\"", &ev));
    cr_assert(flow_true("tls.version >= \"TLS 1.3\"", &ev));
}

Test(rules_ops, addresses_and_cidr)
{
    struct rules_event ev = sample();

    cr_assert(flow_true("flow.src_ip = 10.1.2.3", &ev));
    cr_assert(flow_true("flow.src_ip != 10.1.2.4", &ev));
    cr_assert(flow_true("flow.src_ip in (10.0.0.0/8)", &ev));
    cr_assert(flow_true("flow.src_ip in (192.168.0.0/16, 10.1.2.0/23)", &ev));
    cr_assert_not(flow_true("flow.src_ip in (10.1.3.0/24, fd00::/8)", &ev));
    cr_assert(flow_true("flow.dst_ip in (10.0.0.0/8, fd00::/8)", &ev));
    cr_assert(flow_true("flow.dst_ip = \"fd00:99::2\"", &ev));
    cr_assert(flow_true("flow.dst_ip in nets and flow.src_ip in nets", &ev));
    cr_assert(flow_true("flow.src_ip in (10.1.2.3)", &ev));
    cr_assert_not(flow_true("flow.src_ip in (10.1.2.2/32)", &ev));
}

Test(rules_ops, timestamps)
{
    struct rules_event ev = sample(); /* not_after 1796000000 = 2026-11-29T...Z */

    cr_assert(cert_true("cert.not_after < \"2026-12-01T00:00:00Z\"", &ev));
    cr_assert(cert_true("cert.not_after > 2026-11-01", &ev));
    cr_assert(cert_true("cert.not_after = 1796000000", &ev));
    cr_assert(flow_true("event.time > \"2026-12-01\"", &ev));
}

Test(rules_ops, string_lists)
{
    struct rules_event ev = sample();
    static const char *const none[] = {NULL};

    cr_assert(flow_true("ndpi.risks contains TLS_SELFSIGNED_CERTIFICATE", &ev));
    cr_assert_not(flow_true("ndpi.risks contains TLS_SELFSIGNED", &ev));
    cr_assert(flow_true("ndpi.risks in (X, KNOWN_PROTOCOL_ON_NON_STD_PORT)", &ev));
    cr_assert(cert_true("cert.san contains 10.1.2.3", &ev));
    cr_assert(flow_true("ndpi.risks exists", &ev));
    ev.ndpi.risks.v = none;
    ev.ndpi.risks.n = 0;
    cr_assert(flow_true("ndpi.risks exists", &ev)); /* known to be empty */
    cr_assert_not(flow_true("ndpi.risks contains X", &ev));
    ev.ndpi.risks.v = NULL;
    cr_assert_not(flow_true("ndpi.risks exists", &ev));
}

Test(rules_ops, geo_custom_keys)
{
    struct rules_event ev = sample();

    cr_assert(flow_true("geo.src.zone = eu-west-1a", &ev));
    cr_assert(flow_true("geo.src.zone startswith eu-", &ev));
    cr_assert(flow_true("geo.src.zone exists and not geo.dst.zone exists", &ev));
    ev.geo.dst.country = "DE";
    ev.geo.dst.asn = RULES_NUM(3320);
    cr_assert(flow_true("geo.dst.country = DE and geo.dst.asn = 3320", &ev));
}

Test(rules_ops, precedence_and_parentheses)
{
    struct rules_event ev = sample();

    /* and binds tighter than or */
    cr_assert(flow_true("flow.app = grpc or flow.app = x and flow.app = y", &ev));
    cr_assert_not(flow_true("(flow.app = grpc or flow.app = x) and flow.app = y", &ev));
    cr_assert(flow_true("not not flow.app = grpc", &ev));
    cr_assert(flow_true("not (flow.app = x or flow.app = y)", &ev));
    cr_assert(flow_true("((((flow.app = grpc))))", &ev));
}

/* ---- templates ---- */

Test(rules_tpl, substitution)
{
    const char *yaml = "- rule: t\n"
                       "  condition: flow.app exists\n"
                       "  output: \"%vitess.client to %{vitess.server} %tls.version at "
                       "%flow.dst_ip:%flow.dst_port 100%% user=%mysql.user risks=%ndpi.risks, "
                       "zone %geo.src.zone.\"\n"
                       "  severity: low\n";
    struct rules_errors e = {0};
    struct rules_set *s = trl_load(yaml, &e);
    trl_dump(&e);
    cr_assert_not_null(s);
    struct rules_event ev = sample();
    char buf[512];
    const struct rules_rule *r = rules_set_rule(s, 0);
    size_t n = rules_rule_format(r, &ev, buf, sizeof(buf));
    const char *want = "vtgate to vttablet TLS 1.1 at fd00:99::2:15991 100% user=<NA> "
                       "risks=TLS_SELFSIGNED_CERTIFICATE,KNOWN_PROTOCOL_ON_NON_STD_PORT, zone "
                       "eu-west-1a.";
    cr_assert_str_eq(buf, want);
    cr_assert_eq(n, strlen(want));

    char small[10];
    n = rules_rule_format(r, &ev, small, sizeof(small));
    cr_assert_eq(n, strlen(want));
    cr_assert_str_eq(small, "vtgate to");
    rules_set_release(s);
}

/* ---- lists, macros, exceptions ---- */

Test(rules_defs, lists_and_macros)
{
    const char *yaml = "- list: a\n  items: [vtgate]\n"
                       "- list: b\n  items: [a, vttablet]\n"
                       "- macro: m1\n  condition: vitess.server in b\n"
                       "- macro: m2\n  condition: m1 and flow.encrypted = false\n"
                       "- rule: t\n  condition: m2 and not vitess.client = app\n"
                       "  output: o\n  severity: high\n  tags: [x, y]\n  desc: d\n";
    struct rules_errors e = {0};
    struct rules_set *s = trl_load(yaml, &e);
    trl_dump(&e);
    cr_assert_not_null(s);
    struct rules_event ev = sample();
    cr_assert(trl_fires(s, &ev, "t"));
    ev.vitess.server = "vtgate";
    cr_assert(trl_fires(s, &ev, "t"));
    ev.vitess.client = "app";
    cr_assert_not(trl_fires(s, &ev, "t"));

    const struct rules_rule *r = rules_set_rule(s, 0);
    cr_assert_str_eq(rules_rule_name(r), "t");
    cr_assert_str_eq(rules_rule_desc(r), "d");
    cr_assert_eq(rules_rule_severity(r), RULES_SEV_HIGH);
    cr_assert_str_eq(rules_severity_name(rules_rule_severity(r)), "high");
    cr_assert_eq(rules_rule_tag_count(r), 2);
    cr_assert_str_eq(rules_rule_tag(r, 1), "y");
    cr_assert_eq(rules_rule_event(r), RULES_EVENT_FLOW);
    cr_assert_eq(rules_set_count(s), 1);
    rules_set_release(s);
}

static const char exc_yaml[] = "- rule: plain\n"
                               "  condition: flow.encrypted = false\n"
                               "  output: o\n"
                               "  severity: high\n"
                               "  exceptions:\n"
                               "    - name: vtadmin_to_vtgate\n"
                               "      fields: [vitess.client, vitess.server]\n"
                               "      values: [[vtadmin, vtgate], [app, [vtgate, vtctld]]]\n"
                               "    - name: lab_network\n"
                               "      fields: [flow.src_ip]\n"
                               "      values: [[192.168.0.0/16], ['fd00:99::/32']]\n"
                               "    - name: risky\n"
                               "      fields: ndpi.risks\n"
                               "      values: [ACCEPTED_RISK]\n";

Test(rules_defs, exceptions)
{
    struct rules_errors e = {0};
    struct rules_set *s = trl_load(exc_yaml, &e);
    trl_dump(&e);
    cr_assert_not_null(s);
    struct rules_event ev = sample();

    cr_assert(trl_fires(s, &ev, "plain"));
    ev.vitess.client = "vtadmin";
    ev.vitess.server = "vtgate";
    cr_assert_not(trl_fires(s, &ev, "plain"));
    ev.vitess.server = "vtctld"; /* vtadmin row is for vtgate only */
    cr_assert(trl_fires(s, &ev, "plain"));
    ev.vitess.client = "app"; /* app row: vtgate or vtctld */
    cr_assert_not(trl_fires(s, &ev, "plain"));

    ev = sample();
    memcpy(ev.flow.src_ip.b, (uint8_t[]){192, 168, 7, 1}, 4);
    cr_assert_not(trl_fires(s, &ev, "plain"));
    ev.flow.src_ip.family = RULES_AF_INET6;
    memcpy(ev.flow.src_ip.b, (uint8_t[]){0xfd, 0, 0, 0x99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 16);
    cr_assert_not(trl_fires(s, &ev, "plain"));

    ev = sample();
    static const char *const accepted[] = {"ACCEPTED_RISK"};
    ev.ndpi.risks.v = accepted;
    ev.ndpi.risks.n = 1;
    cr_assert_not(trl_fires(s, &ev, "plain"));
    rules_set_release(s);
}

Test(rules_defs, override_append_and_replace)
{
    char yaml[4096];
    snprintf(yaml, sizeof(yaml),
             "%s"
             "- list: l\n  items: [vtgate]\n"
             "- list: l\n  items: [vttablet]\n  override: {items: append}\n"
             "- macro: m\n  condition: flow.app = nosuch\n"
             "- macro: m\n  condition: flow.app = grpc\n  override:\n    condition: replace\n"
             "- rule: plain\n"
             "  condition: and vitess.server in l and m\n"
             "  tags: [extra]\n"
             "  exceptions:\n"
             "    - name: vtadmin_to_vtgate\n"
             "      fields: [vitess.client, vitess.server]\n"
             "      values: [[vtgate, vttablet]]\n"
             "  override: {condition: append, tags: append, exceptions: append}\n"
             "- rule: plain\n  severity: low\n  override: {severity: replace}\n"
             "- rule: other\n  condition: flow.app exists\n  output: o\n  severity: info\n"
             "- rule: other\n  enabled: false\n",
             exc_yaml);
    struct rules_errors e = {0};
    struct rules_set *s = trl_load(yaml, &e);
    trl_dump(&e);
    cr_assert_not_null(s);
    cr_assert_eq(rules_set_count(s), 2);
    cr_assert_eq(rules_set_enabled(s), 1);
    const struct rules_rule *r = rules_set_rule(s, 0);
    cr_assert_eq(rules_rule_severity(r), RULES_SEV_LOW);
    cr_assert_eq(rules_rule_tag_count(r), 1);
    cr_assert_str_eq(rules_rule_tag(r, 0), "extra");
    cr_assert_not(rules_rule_enabled(rules_set_rule(s, 1)));

    struct rules_event ev = sample(); /* vtgate -> vttablet: now an exception row */
    cr_assert_not(trl_fires(s, &ev, "plain"));
    ev.vitess.client = "vtctld";
    cr_assert(trl_fires(s, &ev, "plain"));
    ev.flow.app = "mysql"; /* appended condition needs macro m */
    cr_assert_not(trl_fires(s, &ev, "plain"));
    ev.flow.app = "grpc";
    ev.vitess.server = "vtgate"; /* list l after the append: vtgate, vttablet */
    cr_assert(trl_fires(s, &ev, "plain"));
    ev.vitess.server = "vtctld";
    cr_assert_not(trl_fires(s, &ev, "plain"));
    cr_assert_not(trl_fires(s, &ev, "other"));
    rules_set_release(s);
}

Test(rules_defs, replace_exceptions_and_certificate_rules)
{
    char yaml[4096];
    snprintf(yaml, sizeof(yaml),
             "%s"
             "- rule: plain\n  exceptions: []\n  override: {exceptions: replace}\n"
             "- rule: c\n  event: certificate\n  condition: cert.days_left < 30\n"
             "  output: \"%%cert.subject_cn expires in %%cert.days_left days\"\n"
             "  severity: medium\n",
             exc_yaml);
    struct rules_errors e = {0};
    struct rules_set *s = trl_load(yaml, &e);
    trl_dump(&e);
    cr_assert_not_null(s);
    struct rules_event ev = sample();
    ev.vitess.client = "vtadmin";
    ev.vitess.server = "vtgate";
    cr_assert(trl_fires(s, &ev, "plain"));
    cr_assert_not(trl_fires(s, &ev, "c")); /* flow event */
    ev.kind = RULES_EVENT_CERTIFICATE;
    ev.cert.subject_cn = "vtgate";
    cr_assert(trl_fires(s, &ev, "c"));
    cr_assert_not(trl_fires(s, &ev, "plain"));
    char buf[100];
    rules_rule_format(rules_set_rule(s, 1), &ev, buf, sizeof(buf));
    cr_assert_str_eq(buf, "vtgate expires in -3 days");
    rules_set_release(s);
}

/* ---- errors, with exact positions ---- */

struct err_case {
    const char *yaml;
    const char *error;
};

static const struct err_case err_cases[] = {
    /* unknown field with a suggestion, plain scalar: column of the token */
    {"- rule: r\n  condition: flow.app = grpc and tls.verison = x\n  output: o\n"
     "  severity: low\n",
     "t.yaml:2:34: unknown field 'tls.verison' (did you mean 'tls.version'?)"},
    /* double-quoted: the column skips the quote */
    {"- rule: r\n  condition: \"flow.ap = grpc\"\n  output: o\n  severity: low\n",
     "t.yaml:2:15: unknown field 'flow.ap' (did you mean 'flow.app'?)"},
    /* single-quoted */
    {"- rule: r\n  condition:   'x.y = 1'\n  output: o\n  severity: low\n",
     "t.yaml:2:17: unknown field 'x.y'"},
    /* type mismatch */
    {"- rule: r\n  condition: flow.dst_port = https\n  output: o\n  severity: low\n",
     "t.yaml:2:30: 'https' is not a number (field flow.dst_port, number)"},
    {"- rule: r\n  condition: tls.version < \"TLS 1.4\"\n  output: o\n  severity: low\n",
     "t.yaml:2:28: 'TLS 1.4' is not a TLS version (write \"TLS 1.2\", \"SSL 3.0\" or 0x0303) "
     "(field tls.version, TLS version)"},
    {"- rule: r\n  condition: flow.encrypted = yes\n  output: o\n  severity: low\n",
     "t.yaml:2:31: 'yes' is not a boolean (true or false) (field flow.encrypted, boolean)"},
    {"- rule: r\n  condition: flow.src_ip = 10.0.0.0/8\n  output: o\n  severity: low\n",
     "t.yaml:2:28: '10.0.0.0/8' is a CIDR range: use `in (...)` for membership (field "
     "flow.src_ip, IP address)"},
    {"- rule: r\n  condition: flow.src_ip in (10.0.0.0/33)\n  output: o\n  severity: low\n",
     "t.yaml:2:30: '10.0.0.0/33' is not an IP address or CIDR range (field flow.src_ip, IP "
     "address)"},
    /* operator that does not apply */
    {"- rule: r\n  condition: tls.version contains 1\n  output: o\n  severity: low\n",
     "t.yaml:2:26: operator 'contains' does not apply to field 'tls.version' (TLS version)"},
    {"- rule: r\n  condition: flow.app > a\n  output: o\n  severity: low\n",
     "t.yaml:2:23: operator '>' does not apply to field 'flow.app' (string)"},
    /* unknown list, unknown macro */
    {"- rule: r\n  condition: flow.app in apps\n  output: o\n  severity: low\n",
     "t.yaml:2:26: unknown list 'apps'"},
    {"- macro: plaintext\n  condition: flow.encrypted = false\n"
     "- rule: r\n  condition: plaintxt and flow.app = grpc\n  output: o\n  severity: low\n",
     "t.yaml:4:14: unknown macro or field 'plaintxt' (did you mean 'plaintext'?)"},
    /* list item of the wrong type */
    {"- list: ports\n  items: [3306, mysql]\n"
     "- rule: r\n  condition: flow.dst_port in ports\n  output: o\n  severity: low\n",
     "t.yaml:4:31: list 'ports': item 'mysql' is not a number (field flow.dst_port)"},
    /* macro cycles */
    {"- macro: a\n  condition: b or flow.app = x\n- macro: b\n  condition: flow.app = y and a\n"
     "- rule: r\n  condition: a\n  output: o\n  severity: low\n",
     "t.yaml:4:31: macro cycle: a -> b -> a"},
    {"- macro: a\n  condition: a\n", "t.yaml:2:14: macro cycle: a -> a"},
    /* syntax */
    {"- rule: r\n  condition: (flow.app = grpc\n  output: o\n  severity: low\n",
     "t.yaml:2:14: '(' is never closed"},
    {"- rule: r\n  condition: flow.app = grpc)\n  output: o\n  severity: low\n",
     "t.yaml:2:29: unbalanced ')'"},
    {"- rule: r\n  condition: flow.app = grpc flow.encrypted = true\n  output: o\n"
     "  severity: low\n",
     "t.yaml:2:30: expected 'and', 'or' or the end, got 'flow.encrypted'"},
    {"- rule: r\n  condition: flow.app = 'grpc\n  output: o\n  severity: low\n",
     "t.yaml:2:25: unterminated quoted string"},
    {"- rule: r\n  condition: flow.app\n  output: o\n  severity: low\n",
     "t.yaml:2:22: expected an operator after field 'flow.app'"},
    {"- rule: r\n  condition: flow.app in (a, b\n  output: o\n  severity: low\n",
     "t.yaml:2:31: expected ',' or ')' in the list, got 'end of condition'"},
    {"- rule: r\n  condition: and flow.app = x\n  output: o\n  severity: low\n",
     "t.yaml:2:14: expected a field, a macro or '(', got 'and'"},
    {"- rule: r\n  condition: flow.app ! x\n  output: o\n  severity: low\n",
     "t.yaml:2:23: '!' must be followed by '=' (use 'not' to negate)"},
    {"- rule: r\n  condition: ''\n  output: o\n  severity: low\n", "t.yaml:2:15: empty condition"},
    /* block scalar: the start of the node, said so */
    {"- rule: r\n  condition: |\n    flow.app = grpc and\n    nosuch.field = 1\n"
     "  output: o\n  severity: low\n",
     "t.yaml:2:14: unknown field 'nosuch.field' (at the start of the multi-line text; columns "
     "inside it are not tracked)"},
    /* certificate fields in a flow rule */
    {"- rule: r\n  condition: cert.days_left < 3\n  output: o\n  severity: low\n",
     "t.yaml:2:14: field 'cert.days_left' is not available in flow events (only in certificate "
     "rules)"},
    {"- macro: soon\n  condition: cert.days_left < 3\n"
     "- rule: r\n  condition: flow.app = x or soon\n  output: o\n  severity: low\n",
     "t.yaml:4:30: macro 'soon' uses field 'cert.days_left', which only certificate events have"},
    /* output templates */
    {"- rule: r\n  condition: flow.app = x\n  output: \"from %flow.src_pot\"\n  severity: low\n",
     "t.yaml:3:17: output: unknown field 'flow.src_pot'"},
    {"- rule: r\n  condition: flow.app = x\n  output: 100% sure\n  severity: low\n",
     "t.yaml:3:14: output: expected a field name after '%' (write %% for a percent) '%'"},
    /* item structure */
    {"- rule: r\n  condition: flow.app = x\n  output: o\n  severity: urgent\n",
     "t.yaml:4:13: bad severity 'urgent' (critical, high, medium, low or info)"},
    {"- rule: r\n  condition: flow.app = x\n  output: o\n  severity: low\n  event: packet\n",
     "t.yaml:5:10: bad event 'packet' (flow or certificate)"},
    {"- rule: r\n  condtion: flow.app = x\n  output: o\n  severity: low\n",
     "t.yaml:2:3: unknown key 'condtion' in rule 'r' (did you mean 'condition'?)"},
    {"- rule: r\n  output: o\n  severity: low\n", "t.yaml:1:9: rule 'r' has no condition"},
    {"- rule: r\n  condition: flow.app = x\n  output: o\n  severity: low\n  enabled: maybe\n",
     "t.yaml:5:12: 'maybe' is not a boolean (true or false)"},
    {"- rules: r\n", "t.yaml:1:3: an item must have a rule, list or macro key"},
    {"rule: r\n", "t.yaml:1:1: a rules file is a sequence of items (- rule: ..., - list: ..., "
                  "- macro: ...)"},
    {"- list: l\n  items: {a: b}\n", "t.yaml:2:10: items must be a sequence of values"},
    /* YAML syntax */
    {"- rule: r\n  condition: [flow.app\n", "t.yaml:3:1: YAML syntax error: did not find "
                                            "expected ',' or ']' while parsing a flow sequence"},
    /* duplicates and overrides */
    {"- list: l\n  items: [a]\n- list: l\n  items: [b]\n",
     "t.yaml:3:9: list 'l' is already defined at t.yaml:1:9 (to change it, add override:)"},
    {"- macro: m\n  condition: flow.app = x\n  override: {condition: append}\n",
     "t.yaml:1:10: override of macro 'm', which is not defined before"},
    {"- list: l\n  items: [a]\n- list: l\n  items: [b]\n  override: {items: prepend}\n",
     "t.yaml:5:21: override: items takes append or replace"},
    {"- rule: r\n  condition: flow.app = x\n  output: o\n  severity: low\n"
     "- rule: r\n  output: p\n  override: {severity: replace}\n",
     "t.yaml:7:13: override does not name 'output', which this item sets (add output: replace)"},
    {"- rule: r\n  condition: flow.app = x\n  output: o\n  severity: low\n"
     "- rule: r\n  output: p\n  override: {output: append}\n",
     "t.yaml:7:22: override: output takes replace"},
    /* exceptions */
    {"- rule: r\n  condition: flow.app = x\n  output: o\n  severity: low\n  exceptions:\n"
     "    - name: e\n      fields: [vitess.clinet]\n      values: [[a]]\n",
     "t.yaml:7:16: unknown field 'vitess.clinet' (did you mean 'vitess.client'?)"},
    {"- rule: r\n  condition: flow.app = x\n  output: o\n  severity: low\n  exceptions:\n"
     "    - name: e\n      fields: [vitess.client, flow.dst_port]\n      values: [[a]]\n",
     "t.yaml:8:16: exception 'e': row has 1 values for 2 fields"},
    {"- rule: r\n  condition: flow.app = x\n  output: o\n  severity: low\n  exceptions:\n"
     "    - name: e\n      fields: [flow.dst_port]\n      values: [[http]]\n",
     "t.yaml:8:17: exception value 'http' is not a number (field flow.dst_port, number)"},
};

Test(rules_errors, every_kind_with_its_position)
{
    for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
        struct rules_errors e = {0};
        struct rules_set *s = trl_load(err_cases[i].yaml, &e);
        if (!trl_has_error(&e, err_cases[i].error)) {
            fprintf(stderr, "case %zu: want %s\n", i, err_cases[i].error);
            trl_dump(&e);
        }
        cr_expect_null(s, "case %zu loaded", i);
        cr_expect(trl_has_error(&e, err_cases[i].error), "case %zu", i);
        rules_set_release(s);
        rules_errors_free(&e);
    }
}

Test(rules_errors, every_error_is_collected)
{
    const char *yaml = "- rule: a\n  condition: flow.ap = x and tls.verson = y\n  output: o\n"
                       "  severity: low\n"
                       "- rule: b\n  condition: flow.app = x\n  output: o\n  severity: hgh\n"
                       "- rule: c\n  condition: flow.app = x\n  output: \"%nope\"\n"
                       "  severity: low\n";
    struct rules_errors e = {0};
    struct rules_set *s = trl_load(yaml, &e);
    cr_assert_null(s);
    trl_dump(&e);
    cr_assert_eq(e.count, 4);
    cr_assert(trl_has_error(&e, "t.yaml:2:14: unknown field 'flow.ap' (did you mean 'flow.app'?)"));
    cr_assert(
        trl_has_error(&e, "t.yaml:2:30: unknown field 'tls.verson' (did you mean 'tls.version'?)"));
    rules_errors_free(&e);
}

Test(rules_errors, appended_condition_points_into_the_later_file)
{
    const char *base = VTLS_SOURCE_DIR "/tests/unit/data/rules/base.yaml";
    const char *bad = VTLS_SOURCE_DIR "/tests/unit/data/rules/bad-append.yaml";
    const char *paths[] = {base, bad};
    struct rules_errors e = {0};
    struct rules_set *s = rules_load(paths, 2, &e);
    char want[512];

    cr_assert_null(s);
    snprintf(want, sizeof(want),
             "%s:4:22: unknown field 'flow.dst_prt' (did you mean "
             "'flow.dst_port'?)",
             bad);
    trl_dump(&e);
    cr_assert(trl_has_error(&e, want));
    rules_errors_free(&e);
}

Test(rules_files, directory_in_name_order_skipping_hidden)
{
    const char *paths[] = {VTLS_SOURCE_DIR "/tests/unit/data/rules/dir"};
    struct rules_errors e = {0};
    struct rules_set *s = rules_load(paths, 1, &e);
    trl_dump(&e);
    cr_assert_not_null(s);
    /* 10-base.yaml defines the rule, 20-local.yaml appends to it; .hidden.yaml
     * (a broken file) and README.txt are not read. */
    cr_assert_eq(rules_set_count(s), 1);
    struct rules_event ev = sample();
    ev.flow.encrypted = RULES_BOOL(false);
    ev.vitess.server = "vtgate";
    cr_assert(trl_fires(s, &ev, "dir-rule"));
    ev.vitess.client = "vtadmin";
    cr_assert_not(trl_fires(s, &ev, "dir-rule"));
    rules_set_release(s);

    const char *missing[] = {"/nonexistent/rules.yaml"};
    cr_assert_null(rules_load(missing, 1, &e));
    cr_assert(trl_has_error(&e, "/nonexistent/rules.yaml:1:1: cannot open: No such file or "
                                "directory"));
    rules_errors_free(&e);
}

Test(rules_files, check_files_and_list_fields)
{
    const char *good[] = {VTLS_SOURCE_DIR "/tests/unit/data/rules/base.yaml"};
    const char *bad[] = {VTLS_SOURCE_DIR "/tests/unit/data/rules/base.yaml",
                         VTLS_SOURCE_DIR "/tests/unit/data/rules/bad-append.yaml"};
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    cr_assert_eq(rules_check_files(good, 1, f), 0);
    cr_assert_eq(rules_check_files(bad, 2, f), 1);
    rules_list_fields(f);
    fclose(f);
    cr_assert(strstr(out, "rules OK: 1 rules, 1 enabled"));
    cr_assert(strstr(out, "rules rejected: 1 error\n"));
    cr_assert(strstr(out, "tls.client_max_version"));
    cr_assert(strstr(out, "cert.days_left"));
    free(out);
}

/* ---- evaluation allocates nothing ---- */

Test(rules_eval, no_allocation)
{
    char yaml[4096];
    snprintf(yaml, sizeof(yaml),
             "%s"
             "- rule: g\n  condition: tls.sni glob '*.svc' and geo.src.zone startswith eu\n"
             "  output: \"%%tls.sni %%flow.dst_ip %%ndpi.risks %%event.time %%tls.version\"\n"
             "  severity: info\n",
             exc_yaml);
    struct rules_set *s = trl_load(yaml, NULL);
    cr_assert_not_null(s);
    struct rules_event ev = sample();
    char buf[256];
    size_t hits = 0;

    hits += rules_set_eval(s, &ev, NULL, NULL); /* warm up */
    struct mallinfo2 before = mallinfo2();
    for (int i = 0; i < 100000; i++) {
        ev.flow.encrypted = RULES_BOOL(i & 1);
        hits += rules_set_eval(s, &ev, NULL, NULL);
        rules_rule_format(rules_set_rule(s, 1), &ev, buf, sizeof(buf));
    }
    struct mallinfo2 after = mallinfo2();
    cr_assert_eq(after.uordblks, before.uordblks, "eval allocated %zu bytes",
                 after.uordblks - before.uordblks);
    cr_assert_eq(after.hblks, before.hblks);
    cr_assert_gt(hits, 100000);
    rules_set_release(s);
}

static bool stop_at_first(const struct rules_rule *r, const struct rules_event *ev, void *ctx)
{
    (void)r;
    (void)ev;
    (*(int *)ctx)++;
    return false;
}

Test(rules_eval, callback_can_stop)
{
    const char *yaml = "- rule: a\n  condition: flow.app exists\n  output: o\n  severity: low\n"
                       "- rule: b\n  condition: flow.app exists\n  output: o\n  severity: low\n";
    struct rules_set *s = trl_load(yaml, NULL);
    struct rules_event ev = sample();
    int calls = 0;
    cr_assert_eq(rules_set_eval(s, &ev, NULL, NULL), 2);
    cr_assert_eq(rules_set_eval(s, &ev, stop_at_first, &calls), 1);
    cr_assert_eq(calls, 1);
    cr_assert_eq(rules_rule_index(rules_set_rule(s, 1)), 1);
    rules_set_release(s);
}

Test(rules_errors, exponential_macros_and_lists_are_bounded)
{
    char yaml[8192];
    size_t at = 0;
    struct rules_errors e = {0};

    /* m<i> uses m<i-1> twice: 2^24 references if inlined naively */
    at +=
        (size_t)snprintf(yaml + at, sizeof(yaml) - at, "- macro: m0\n  condition: flow.app = x\n");
    for (int i = 1; i <= 24; i++)
        at += (size_t)snprintf(yaml + at, sizeof(yaml) - at,
                               "- macro: m%d\n  condition: m%d or m%d\n", i, i - 1, i - 1);
    /* l<i> names l<i-1> four times: 4^12 items */
    at += (size_t)snprintf(yaml + at, sizeof(yaml) - at, "- list: l0\n  items: [a]\n");
    for (int i = 1; i <= 12; i++)
        at += (size_t)snprintf(yaml + at, sizeof(yaml) - at,
                               "- list: l%d\n  items: [l%d, l%d, l%d, l%d]\n", i, i - 1, i - 1,
                               i - 1, i - 1);
    snprintf(yaml + at, sizeof(yaml) - at,
             "- rule: r\n  condition: m24 and flow.app in l12\n  output: o\n  severity: low\n");
    struct rules_set *s = trl_load(yaml, &e);
    cr_assert_null(s);
    bool macro_limit = false, list_limit = false;
    for (size_t i = 0; i < e.count; i++) {
        macro_limit |= strstr(e.msg[i], "macros expand to more than 100000 references") != NULL;
        list_limit |= strstr(e.msg[i], "list 'l9' expands to more than 100000 items") != NULL;
    }
    cr_assert(macro_limit);
    cr_assert(list_limit);
    rules_errors_free(&e);
}

Test(rules_errors, overrides_without_the_base_file)
{
    /* found by fuzz_rules: a site file loaded without the policy it changes */
    const char *paths[] = {VTLS_SOURCE_DIR "/tests/unit/data/rules/policy-local.yaml"};
    struct rules_errors e = {0};
    cr_assert_null(rules_load(paths, 1, &e));
    cr_assert_eq(e.count, 4);
    cr_assert(strstr(e.msg[0], "policy-local.yaml:4:10: override of macro 'cert_expiry_warning', "
                               "which is not defined before"));
    cr_assert(strstr(e.msg[3], "policy-local.yaml:25:9: rule 'tls-cipher-cbc' is not defined "
                               "before (enabled: alone changes an existing rule)"));
    rules_errors_free(&e);
}

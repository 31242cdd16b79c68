/* Classification of flow ends into Vitess components: see classify.h. */
#include "sensor/classify.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define CLS_MAX_ENTRIES 4096
#define CLS_MAX_ITEMS   256 /* cidrs, ports or names per entry */
#define CLS_NAME_LEN    64

struct cls_cidr {
    struct dec_addr net;
    uint8_t family;
    uint8_t bits;
};

struct cls_entry {
    char name[CLS_NAME_LEN];
    enum cls_component kind;
    struct cls_cidr cidrs[CLS_MAX_ITEMS];
    uint16_t ports[CLS_MAX_ITEMS];
    char *tls_names[CLS_MAX_ITEMS];
    unsigned ncidrs, nports, nnames;
};

struct cls_inventory {
    struct cls_entry *entries;
    size_t count;
};

static const char *const cls_names[CLS__COUNT] = {
    [CLS_UNKNOWN] = "unknown",     [CLS_APP] = "app",         [CLS_VTGATE] = "vtgate",
    [CLS_VTTABLET] = "vttablet",   [CLS_VTCTLD] = "vtctld",   [CLS_VTCTLDCLIENT] = "vtctldclient",
    [CLS_VTORC] = "vtorc",         [CLS_VTADMIN] = "vtadmin", [CLS_MYSQLD] = "mysqld",
    [CLS_MYSQLCTLD] = "mysqlctld", [CLS_ETCD] = "etcd",       [CLS_ZOOKEEPER] = "zookeeper",
};

const char *cls_component_name(enum cls_component c)
{
    return (unsigned)c < CLS__COUNT ? cls_names[c] : "unknown";
}

enum cls_component cls_component_from_name(const char *name)
{
    for (int i = 0; i < CLS__COUNT; i++)
        if (strcmp(cls_names[i], name) == 0)
            return (enum cls_component)i;
    return CLS__COUNT;
}

const char *cls_evidence_name(enum cls_evidence e)
{
    switch (e) {
    case CLS_EV_INVENTORY:
        return "inventory";
    case CLS_EV_GRPC_SERVICE:
        return "grpc-service";
    case CLS_EV_VITESS_GREETING:
        return "vitess-greeting";
    case CLS_EV_MYSQL_GREETING:
        return "mysql-greeting";
    case CLS_EV_ETCD_PROTOCOL:
        return "etcd-protocol";
    case CLS_EV_ZOOKEEPER_PROTOCOL:
        return "zookeeper-protocol";
    case CLS_EV_TLS_NAME:
        return "tls-name";
    case CLS_EV_PORT:
        return "port";
    default:
        return "none";
    }
}

enum cls_component cls_port_component(uint16_t port)
{
    switch (port) {
    case 15306:
    case 15991:
    case 15001:
        return CLS_VTGATE;
    case 15999:
    case 15000:
        return CLS_VTCTLD;
    case 3306:
        return CLS_MYSQLD;
    case 2379:
    case 2380:
        return CLS_ETCD;
    case 2181:
    case 21811:
    case 21812:
    case 21813:
        return CLS_ZOOKEEPER;
    case 14200:
    case 14201:
        return CLS_VTADMIN;
    default:
        break;
    }
    if (port >= 16000 && port <= 16099)
        return CLS_VTTABLET;
    if (port >= 15100 && port <= 15199)
        return CLS_VTTABLET; /* web port 15000 + uid of examples/local tablets */
    if (port >= 17000 && port <= 17099)
        return CLS_MYSQLD;
    return CLS_UNKNOWN;
}

/* ---- inventory matching ---- */

static bool cls_cidr_contains(const struct cls_cidr *c, int family, const struct dec_addr *a)
{
    if (c->family != family)
        return false;
    unsigned full = c->bits / 8u, rest = c->bits % 8u;
    if (memcmp(c->net.b, a->b, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xffu << (8u - rest));
    return (c->net.b[full] & mask) == (a->b[full] & mask);
}

/* Longest prefix of e's CIDRs containing a, or -1. */
static int cls_entry_prefix(const struct cls_entry *e, int family, const struct dec_addr *a)
{
    int best = -1;
    for (unsigned i = 0; i < e->ncidrs; i++)
        if (cls_cidr_contains(&e->cidrs[i], family, a) && e->cidrs[i].bits > best)
            best = e->cidrs[i].bits;
    return best;
}

static bool cls_entry_has_port(const struct cls_entry *e, uint16_t port)
{
    if (e->nports == 0)
        return true;
    for (unsigned i = 0; i < e->nports; i++)
        if (e->ports[i] == port)
            return true;
    return false;
}

/* The entry for an address: longest prefix wins; for a server its port must match. */
static const struct cls_entry *cls_inventory_find(const struct cls_inventory *inv, int family,
                                                  const struct dec_addr *a, int server_port)
{
    const struct cls_entry *best = NULL;
    int best_bits = -1;
    for (size_t i = 0; inv != NULL && i < inv->count; i++) {
        const struct cls_entry *e = &inv->entries[i];
        if (server_port >= 0 && !cls_entry_has_port(e, (uint16_t)server_port))
            continue;
        int bits = cls_entry_prefix(e, family, a);
        if (bits > best_bits)
            best = e, best_bits = bits;
    }
    return best;
}

static const struct cls_entry *cls_inventory_by_name(const struct cls_inventory *inv,
                                                     const char *const *names)
{
    for (size_t i = 0; inv != NULL && i < inv->count; i++)
        for (unsigned j = 0; j < inv->entries[i].nnames; j++)
            for (unsigned k = 0; k < 8 && names[k] != NULL; k++)
                if (fnmatch(inv->entries[i].tls_names[j], names[k], FNM_CASEFOLD) == 0)
                    return &inv->entries[i];
    return NULL;
}

/* ---- classification ---- */

static bool cls_from_hint(const struct cls_input *in, enum cls_component *server,
                          enum cls_evidence *ev)
{
    switch (in->hint) {
    case CLS_HINT_GRPC:
        *server = in->grpc_server, *ev = CLS_EV_GRPC_SERVICE;
        return in->grpc_server != CLS_UNKNOWN;
    case CLS_HINT_MYSQL_VITESS:
        *server = CLS_VTGATE, *ev = CLS_EV_VITESS_GREETING;
        return true;
    case CLS_HINT_MYSQL:
        *server = CLS_MYSQLD, *ev = CLS_EV_MYSQL_GREETING;
        return true;
    case CLS_HINT_ETCD_CLIENT:
    case CLS_HINT_ETCD_PEER:
        *server = CLS_ETCD, *ev = CLS_EV_ETCD_PROTOCOL;
        return true;
    case CLS_HINT_ZOOKEEPER:
        *server = CLS_ZOOKEEPER, *ev = CLS_EV_ZOOKEEPER_PROTOCOL;
        return true;
    default:
        return false;
    }
}

static void cls_server(const struct cls_inventory *inv, const struct cls_input *in,
                       struct cls_result *out)
{
    const struct cls_entry *e =
        cls_inventory_find(inv, in->family, in->server_addr, in->server_port);
    if (e != NULL) {
        out->server = e->kind, out->server_evidence = CLS_EV_INVENTORY;
        out->server_name = e->name;
        return;
    }
    if (cls_from_hint(in, &out->server, &out->server_evidence))
        return;
    e = cls_inventory_by_name(inv, in->tls_names);
    if (e != NULL) {
        out->server = e->kind, out->server_evidence = CLS_EV_TLS_NAME;
        out->server_name = e->name;
        return;
    }
    out->server = cls_port_component(in->server_port);
    out->server_evidence = out->server == CLS_UNKNOWN ? CLS_EV_NONE : CLS_EV_PORT;
}

/* The usual caller of the server's protocol, when it is unambiguous. */
static enum cls_component cls_typical_client(const struct cls_input *in)
{
    switch (in->hint) {
    case CLS_HINT_GRPC:
        return in->grpc_client;
    case CLS_HINT_MYSQL_VITESS:
        return CLS_APP;
    case CLS_HINT_ETCD_PEER:
        return CLS_ETCD;
    default:
        return CLS_UNKNOWN;
    }
}

static void cls_client(const struct cls_inventory *inv, const struct cls_input *in,
                       struct cls_result *out)
{
    const struct cls_entry *e = cls_inventory_find(inv, in->family, in->client_addr, -1);
    if (e != NULL) {
        out->client = e->kind, out->client_evidence = CLS_EV_INVENTORY;
        out->client_name = e->name;
        return;
    }
    out->client = cls_typical_client(in);
    if (out->client == CLS_UNKNOWN && in->server_port == 2380) {
        /* Only etcd members talk to the peer port. */
        out->client = CLS_ETCD, out->client_evidence = CLS_EV_PORT;
        return;
    }
    if (out->client == CLS_UNKNOWN)
        out->client_evidence = CLS_EV_NONE;
    else
        out->client_evidence = in->hint == CLS_HINT_GRPC           ? CLS_EV_GRPC_SERVICE
                               : in->hint == CLS_HINT_MYSQL_VITESS ? CLS_EV_VITESS_GREETING
                                                                   : CLS_EV_ETCD_PROTOCOL;
}

void cls_classify(const struct cls_inventory *inv, const struct cls_input *in,
                  struct cls_result *out)
{
    memset(out, 0, sizeof(*out));
    cls_server(inv, in, out);
    cls_client(inv, in, out);
    if (out->server_name == NULL)
        out->server_name = cls_component_name(out->server);
    if (out->client_name == NULL)
        out->client_name = cls_component_name(out->client);
}

/* ---- inventory loading (libyaml document API, marks for positions) ---- */

struct cls_loader {
    const char *path;
    yaml_document_t *doc;
    char *err;
    size_t errlen;
};

static bool cls_fail(struct cls_loader *ld, const yaml_node_t *n, const char *msg,
                     const char *detail)
{
    snprintf(ld->err, ld->errlen, "%s:%zu:%zu: %s%s%s", ld->path, n->start_mark.line + 1,
             n->start_mark.column + 1, msg, detail ? ": " : "", detail ? detail : "");
    return false;
}

static const char *cls_scalar(const yaml_node_t *n)
{
    return n != NULL && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool cls_parse_cidr(const char *s, struct cls_cidr *c)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    if (alen == 0 || alen >= sizeof(buf))
        return false;
    memcpy(buf, s, alen);
    buf[alen] = '\0';
    memset(c, 0, sizeof(*c));
    c->family = strchr(buf, ':') ? 6 : 4;
    if (inet_pton(c->family == 6 ? AF_INET6 : AF_INET, buf, c->net.b) != 1)
        return false;
    unsigned max = c->family == 6 ? 128 : 32;
    unsigned long bits = max;
    if (slash != NULL) {
        char *end;
        errno = 0;
        bits = strtoul(slash + 1, &end, 10);
        if (errno != 0 || end == slash + 1 || *end != '\0' || bits > max)
            return false;
    }
    c->bits = (uint8_t)bits;
    return true;
}

typedef bool (*cls_item_fn)(struct cls_loader *ld, const yaml_node_t *n, struct cls_entry *e);

static bool cls_item_cidr(struct cls_loader *ld, const yaml_node_t *n, struct cls_entry *e)
{
    const char *s = cls_scalar(n);
    if (s == NULL || !cls_parse_cidr(s, &e->cidrs[e->ncidrs]))
        return cls_fail(ld, n, "expected an address or CIDR", s);
    e->ncidrs++;
    return true;
}

static bool cls_item_port(struct cls_loader *ld, const yaml_node_t *n, struct cls_entry *e)
{
    const char *s = cls_scalar(n);
    char *end = NULL;
    unsigned long v = s ? strtoul(s, &end, 10) : 0;
    if (s == NULL || end == s || *end != '\0' || v == 0 || v > 65535)
        return cls_fail(ld, n, "expected a port number from 1 to 65535", s);
    e->ports[e->nports++] = (uint16_t)v;
    return true;
}

static bool cls_item_name(struct cls_loader *ld, const yaml_node_t *n, struct cls_entry *e)
{
    const char *s = cls_scalar(n);
    if (s == NULL || s[0] == '\0')
        return cls_fail(ld, n, "expected a TLS name pattern", NULL);
    e->tls_names[e->nnames] = strdup(s);
    if (e->tls_names[e->nnames] == NULL)
        return cls_fail(ld, n, "out of memory", NULL);
    e->nnames++;
    return true;
}

/* A sequence of scalars (or one scalar) fed to fn, at most CLS_MAX_ITEMS. */
static bool cls_items(struct cls_loader *ld, const yaml_node_t *n, struct cls_entry *e,
                      cls_item_fn fn)
{
    if (n->type == YAML_SCALAR_NODE)
        return fn(ld, n, e);
    if (n->type != YAML_SEQUENCE_NODE)
        return cls_fail(ld, n, "expected a list", NULL);
    yaml_node_item_t *it = n->data.sequence.items.start;
    if (n->data.sequence.items.top - it > CLS_MAX_ITEMS)
        return cls_fail(ld, n, "too many items (the limit is 256)", NULL);
    for (; it < n->data.sequence.items.top; it++)
        if (!fn(ld, yaml_document_get_node(ld->doc, *it), e))
            return false;
    return true;
}

static bool cls_entry_key(struct cls_loader *ld, const char *key, const yaml_node_t *k,
                          const yaml_node_t *v, struct cls_entry *e, const char **kind)
{
    if (strcmp(key, "name") == 0 || strcmp(key, "kind") == 0) {
        const char *s = cls_scalar(v);
        if (s == NULL || s[0] == '\0' || strlen(s) >= CLS_NAME_LEN)
            return cls_fail(ld, v, "expected a short name", NULL);
        if (key[0] == 'n')
            snprintf(e->name, sizeof(e->name), "%s", s);
        else
            *kind = s;
        return true;
    }
    if (strcmp(key, "cidrs") == 0)
        return cls_items(ld, v, e, cls_item_cidr);
    if (strcmp(key, "ports") == 0)
        return cls_items(ld, v, e, cls_item_port);
    if (strcmp(key, "tls_names") == 0)
        return cls_items(ld, v, e, cls_item_name);
    return cls_fail(ld, k, "unknown key (expected name, kind, cidrs, ports, tls_names)", key);
}

static bool cls_entry_load(struct cls_loader *ld, const yaml_node_t *n, struct cls_entry *e)
{
    if (n->type != YAML_MAPPING_NODE)
        return cls_fail(ld, n, "expected a component (a mapping with name and cidrs)", NULL);
    const char *kind = NULL;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = yaml_document_get_node(ld->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(ld->doc, p->value);
        const char *key = cls_scalar(k);
        if (key == NULL)
            return cls_fail(ld, k, "expected a key", NULL);
        if (!cls_entry_key(ld, key, k, v, e, &kind))
            return false;
    }
    if (e->name[0] == '\0')
        return cls_fail(ld, n, "component without a name", NULL);
    e->kind = cls_component_from_name(kind ? kind : e->name);
    if (e->kind == CLS__COUNT)
        return cls_fail(ld, n, "unknown component kind (give kind: vtgate, vttablet, ...)",
                        kind ? kind : e->name);
    if (e->ncidrs == 0)
        return cls_fail(ld, n, "component without cidrs", e->name);
    return true;
}

static bool cls_load_doc(struct cls_loader *ld, struct cls_inventory *inv)
{
    const yaml_node_t *root = yaml_document_get_root_node(ld->doc);
    if (root == NULL || root->type != YAML_MAPPING_NODE) {
        snprintf(ld->err, ld->errlen, "%s:1:1: expected a mapping with a components list",
                 ld->path);
        return false;
    }
    const yaml_node_t *list = NULL;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = yaml_document_get_node(ld->doc, p->key);
        const char *key = cls_scalar(k);
        if (key == NULL || strcmp(key, "components") != 0)
            return cls_fail(ld, k, "unknown key (expected components)", key);
        list = yaml_document_get_node(ld->doc, p->value);
    }
    if (list == NULL || list->type != YAML_SEQUENCE_NODE)
        return cls_fail(ld, list ? list : root, "expected a list of components", NULL);
    size_t n = (size_t)(list->data.sequence.items.top - list->data.sequence.items.start);
    if (n > CLS_MAX_ENTRIES)
        return cls_fail(ld, list, "too many components (the limit is 4096)", NULL);
    inv->entries = calloc(n ? n : 1, sizeof(*inv->entries));
    if (inv->entries == NULL)
        return cls_fail(ld, list, "out of memory", NULL);
    for (size_t i = 0; i < n; i++) {
        inv->count = i + 1;
        const yaml_node_t *item =
            yaml_document_get_node(ld->doc, list->data.sequence.items.start[i]);
        if (!cls_entry_load(ld, item, &inv->entries[i]))
            return false;
    }
    return true;
}

struct cls_inventory *cls_inventory_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct cls_inventory *inv = calloc(1, sizeof(*inv));
    yaml_parser_t parser;
    yaml_document_t doc;
    bool ok = false, have_doc = false;
    if (inv == NULL || !yaml_parser_initialize(&parser)) {
        snprintf(err, errlen, "%s: out of memory", path);
        fclose(f);
        free(inv);
        return NULL;
    }
    yaml_parser_set_input_file(&parser, f);
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%s:%zu:%zu: %s", path, parser.problem_mark.line + 1,
                 parser.problem_mark.column + 1, parser.problem ? parser.problem : "bad YAML");
    } else {
        have_doc = true;
        struct cls_loader ld = {.path = path, .doc = &doc, .err = err, .errlen = errlen};
        ok = cls_load_doc(&ld, inv);
    }
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    fclose(f);
    if (!ok) {
        cls_inventory_free(inv);
        return NULL;
    }
    return inv;
}

void cls_inventory_free(struct cls_inventory *inv)
{
    if (inv == NULL)
        return;
    for (size_t i = 0; i < inv->count; i++)
        for (unsigned j = 0; j < inv->entries[i].nnames; j++)
            free(inv->entries[i].tls_names[j]);
    free(inv->entries);
    free(inv);
}

size_t cls_inventory_count(const struct cls_inventory *inv)
{
    return inv ? inv->count : 0;
}

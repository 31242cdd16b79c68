/* Verification summary: see report.h. */
#include "sensor/report.h"

#include <stdlib.h>
#include <string.h>

#define REP_MAX_PATHS 256
#define REP_MAX_RULES 128
#define REP_NAME      32

enum rep_col {
    REP_TLS13,
    REP_TLS12,
    REP_TLS_OLD,
    REP_TLS_OTHER,
    REP_PLAIN,
    REP_UNKNOWN,
    REP__COLS
};

struct rep_path {
    char client[REP_NAME], server[REP_NAME];
    uint64_t flows, col[REP__COLS];
};

struct rep_rule {
    char name[64], severity[16];
    uint64_t count;
};

struct rep_table {
    struct rep_path paths[REP_MAX_PATHS];
    struct rep_rule rules[REP_MAX_RULES];
    unsigned npaths, nrules;
    uint64_t other_paths, other_rules; /* beyond the table sizes */
};

struct rep_table *rep_new(void)
{
    return calloc(1, sizeof(struct rep_table));
}

void rep_free(struct rep_table *r)
{
    free(r);
}

static enum rep_col rep_column(const struct rules_event *ev)
{
    if (ev->flow.encrypted == RULES_FALSE)
        return REP_PLAIN;
    if (ev->flow.encrypted != RULES_TRUE)
        return REP_UNKNOWN;
    if (!ev->tls.version.set)
        return REP_TLS_OTHER;
    if (ev->tls.version.v == 0x0304)
        return REP_TLS13;
    if (ev->tls.version.v == 0x0303)
        return REP_TLS12;
    return REP_TLS_OLD;
}

static struct rep_path *rep_path(struct rep_table *r, const char *client, const char *server)
{
    for (unsigned i = 0; i < r->npaths; i++)
        if (strcmp(r->paths[i].client, client) == 0 && strcmp(r->paths[i].server, server) == 0)
            return &r->paths[i];
    if (r->npaths == REP_MAX_PATHS)
        return NULL;
    struct rep_path *p = &r->paths[r->npaths++];
    snprintf(p->client, sizeof(p->client), "%s", client);
    snprintf(p->server, sizeof(p->server), "%s", server);
    return p;
}

void rep_flow(struct rep_table *r, const struct rules_event *ev)
{
    struct rep_path *p = rep_path(r, ev->vitess.client ? ev->vitess.client : "unknown",
                                  ev->vitess.server ? ev->vitess.server : "unknown");
    if (p == NULL) {
        r->other_paths++;
        return;
    }
    p->flows++;
    p->col[rep_column(ev)]++;
}

void rep_alert(struct rep_table *r, const char *rule, const char *severity)
{
    for (unsigned i = 0; i < r->nrules; i++)
        if (strcmp(r->rules[i].name, rule) == 0) {
            r->rules[i].count++;
            return;
        }
    if (r->nrules == REP_MAX_RULES) {
        r->other_rules++;
        return;
    }
    struct rep_rule *x = &r->rules[r->nrules++];
    snprintf(x->name, sizeof(x->name), "%s", rule);
    snprintf(x->severity, sizeof(x->severity), "%s", severity);
    x->count = 1;
}

static int rep_cmp_path(const void *a, const void *b)
{
    const struct rep_path *x = a, *y = b;
    int c = strcmp(x->client, y->client);
    return c ? c : strcmp(x->server, y->server);
}

static int rep_cmp_rule(const void *a, const void *b)
{
    const struct rep_rule *x = a, *y = b;
    return x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->name, y->name);
}

static void rep_print_paths(const struct rep_table *r, FILE *out)
{
    struct rep_path sorted[REP_MAX_PATHS];
    memcpy(sorted, r->paths, r->npaths * sizeof(sorted[0]));
    qsort(sorted, r->npaths, sizeof(sorted[0]), rep_cmp_path);

    fprintf(out, "%-30s %6s %8s %8s %8s %9s %8s\n", "path (client -> server)", "flows", "TLS 1.3",
            "TLS 1.2", "TLS<1.2", "plaintext", "unknown");
    for (unsigned i = 0; i < r->npaths; i++) {
        const struct rep_path *p = &sorted[i];
        char name[2 * REP_NAME + 8];
        snprintf(name, sizeof(name), "%.31s -> %.31s", p->client, p->server);
        fprintf(out, "%-30s %6llu %8llu %8llu %8llu %9llu %8llu%s\n", name,
                (unsigned long long)p->flows, (unsigned long long)p->col[REP_TLS13],
                (unsigned long long)p->col[REP_TLS12], (unsigned long long)p->col[REP_TLS_OLD],
                (unsigned long long)p->col[REP_PLAIN],
                (unsigned long long)(p->col[REP_UNKNOWN] + p->col[REP_TLS_OTHER]),
                p->col[REP_PLAIN] ? "  <- plaintext" : "");
    }
    if (r->other_paths)
        fprintf(out, "(%llu flows on further paths not shown)\n",
                (unsigned long long)r->other_paths);
}

void rep_print(const struct rep_table *r, FILE *out)
{
    fputs("\nVerification summary\n\n", out);
    rep_print_paths(r, out);

    struct rep_rule sorted[REP_MAX_RULES];
    memcpy(sorted, r->rules, r->nrules * sizeof(sorted[0]));
    qsort(sorted, r->nrules, sizeof(sorted[0]), rep_cmp_rule);
    fprintf(out, "\n%-40s %-9s %6s\n", "alerts by rule", "severity", "count");
    if (r->nrules == 0)
        fputs("(none)\n", out);
    for (unsigned i = 0; i < r->nrules; i++)
        fprintf(out, "%-40s %-9s %6llu\n", sorted[i].name, sorted[i].severity,
                (unsigned long long)sorted[i].count);
    if (r->other_rules)
        fprintf(out, "(%llu alerts of further rules not shown)\n",
                (unsigned long long)r->other_rules);
}

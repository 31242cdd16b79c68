/* Shared by the rules tests: load from a string, look for an error, count
 * matches of one rule. (A header only, so it is not linked into every
 * test executable.)
 */
#ifndef VTLS_TEST_HELPER_RULES_H
#define VTLS_TEST_HELPER_RULES_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "rules/rules.h"

static inline struct rules_set *trl_load(const char *yaml, struct rules_errors *e)
{
    return rules_load_string("t.yaml", yaml, strlen(yaml), e);
}

/* True when some error message is exactly msg. */
static inline bool trl_has_error(const struct rules_errors *e, const char *msg)
{
    for (size_t i = 0; i < e->count; i++) {
        if (strcmp(e->msg[i], msg) == 0)
            return true;
    }
    return false;
}

static inline void trl_dump(const struct rules_errors *e)
{
    for (size_t i = 0; i < e->count; i++)
        fprintf(stderr, "  error: %s\n", e->msg[i]);
}

struct trl_hits {
    const char *names[64];
    size_t n;
};

static inline bool trl_collect(const struct rules_rule *r, const struct rules_event *ev, void *ctx)
{
    struct trl_hits *h = ctx;
    (void)ev;
    if (h->n < 64)
        h->names[h->n++] = rules_rule_name(r);
    return true;
}

/* Did rule name fire on ev? */
static inline bool trl_fires(const struct rules_set *s, const struct rules_event *ev,
                             const char *name)
{
    struct trl_hits h = {.n = 0};
    rules_set_eval(s, ev, trl_collect, &h);
    for (size_t i = 0; i < h.n; i++) {
        if (strcmp(h.names[i], name) == 0)
            return true;
    }
    return false;
}

#endif

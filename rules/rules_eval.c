/* Evaluation of compiled rules (no parsing, no allocation), rule
 * accessors, set reference counting and the holder swapped on reload.
 */
#include <stdlib.h>
#include <string.h>

#include "rules/rules_int.h"

/* ---- glob ---- */

/* Match one pattern item at *pp against c, advancing *pp past the item. */
static bool glob_one(const char **pp, const char *pe, char c)
{
    const char *p = *pp;

    if (*p == '?') {
        *pp = p + 1;
        return true;
    }
    if (*p == '\\' && pe - p >= 2) {
        *pp = p + 2;
        return p[1] == c;
    }
    if (*p == '[') {
        const char *q = p + 1;
        bool neg = q < pe && (*q == '!' || *q == '^');
        bool hit = false;
        q += neg;
        const char *first = q;
        while (q < pe && (*q != ']' || q == first)) {
            if (pe - q >= 3 && q[1] == '-' && q[2] != ']') {
                hit |= (unsigned char)c >= (unsigned char)q[0] &&
                       (unsigned char)c <= (unsigned char)q[2];
                q += 3;
            } else {
                hit |= *q == c;
                q++;
            }
        }
        if (q < pe) { /* closed class */
            *pp = q + 1;
            return hit != neg;
        }
    }
    *pp = p + 1; /* a literal, or '[' without a closing ']' */
    return *p == c;
}

bool rules_glob(const char *p, size_t plen, const char *s)
{
    const char *pe = p + plen;
    const char *star_p = NULL, *star_s = NULL;

    while (*s) {
        if (p < pe && *p == '*') {
            star_p = ++p;
            star_s = s;
            continue;
        }
        if (p < pe && glob_one(&p, pe, *s)) {
            s++;
            continue;
        }
        if (!star_p)
            return false;
        p = star_p;
        s = ++star_s;
    }
    while (p < pe && *p == '*')
        p++;
    return p == pe;
}

/* ---- leaves ---- */

static bool str_cmp(const struct rules_node *n, const char *s)
{
    const char *v = n->v.u.str.s;
    size_t vl = n->v.u.str.len;

    switch ((enum rules_op)n->op) {
    case RULES_OP_EQ:
        return strcmp(s, v) == 0;
    case RULES_OP_NE:
        return strcmp(s, v) != 0;
    case RULES_OP_CONTAINS:
        return strstr(s, v) != NULL;
    case RULES_OP_STARTSWITH:
        return strncmp(s, v, vl) == 0;
    case RULES_OP_ENDSWITH: {
        size_t sl = strlen(s);
        return sl >= vl && memcmp(s + sl - vl, v, vl) == 0;
    }
    case RULES_OP_GLOB:
        return rules_glob(v, vl, s);
    default:
        return false;
    }
}

static bool num_cmp(enum rules_op op, int64_t a, int64_t b)
{
    switch (op) {
    case RULES_OP_EQ:
        return a == b;
    case RULES_OP_NE:
        return a != b;
    case RULES_OP_LT:
        return a < b;
    case RULES_OP_LE:
        return a <= b;
    case RULES_OP_GT:
        return a > b;
    case RULES_OP_GE:
        return a >= b;
    default:
        return false;
    }
}

static bool list_has(const struct rules_strlist *l, const char *v)
{
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i] && strcmp(l->v[i], v) == 0)
            return true;
    }
    return false;
}

static bool eval_cmp(const struct rules_node *n, const struct rules_event *ev)
{
    const void *p = rules_field_ptr(n->field, ev);

    switch ((enum rules_store)n->field->store) {
    case RULES_S_STR: {
        const char *s = *(const char *const *)p;
        return s && str_cmp(n, s);
    }
    case RULES_S_GEO: {
        const char *s = rules_geo_custom(p, n->key);
        return s && str_cmp(n, s);
    }
    case RULES_S_NUM: {
        const struct rules_num *x = p;
        return x->set && num_cmp((enum rules_op)n->op, x->v, n->v.u.n);
    }
    case RULES_S_BOOL: {
        rules_bool b = *(const rules_bool *)p;
        if (b == RULES_UNSET)
            return false;
        return ((b == RULES_TRUE) == n->v.u.b) == (n->op == RULES_OP_EQ);
    }
    case RULES_S_ADDR: {
        const struct rules_addr *a = p;
        if (a->family == RULES_AF_NONE)
            return false;
        return rules_cidr_match(&n->v.u.ip, a) == (n->op == RULES_OP_EQ);
    }
    case RULES_S_LIST: {
        const struct rules_strlist *l = p;
        return l->v && list_has(l, n->v.u.str.s);
    }
    }
    return false;
}

static bool str_in(const struct rules_node *n, const char *s)
{
    for (size_t i = 0; i < n->nset; i++) {
        if (strcmp(s, n->set[i].u.str.s) == 0)
            return true;
    }
    return false;
}

static bool eval_set(const struct rules_node *n, const struct rules_event *ev)
{
    const void *p = rules_field_ptr(n->field, ev);

    switch ((enum rules_store)n->field->store) {
    case RULES_S_STR: {
        const char *s = *(const char *const *)p;
        return s && str_in(n, s);
    }
    case RULES_S_GEO: {
        const char *s = rules_geo_custom(p, n->key);
        return s && str_in(n, s);
    }
    case RULES_S_NUM: {
        const struct rules_num *x = p;
        for (size_t i = 0; x->set && i < n->nset; i++) {
            if (x->v == n->set[i].u.n)
                return true;
        }
        return false;
    }
    case RULES_S_BOOL: {
        rules_bool b = *(const rules_bool *)p;
        for (size_t i = 0; b != RULES_UNSET && i < n->nset; i++) {
            if ((b == RULES_TRUE) == n->set[i].u.b)
                return true;
        }
        return false;
    }
    case RULES_S_ADDR: {
        const struct rules_addr *a = p;
        for (size_t i = 0; a->family != RULES_AF_NONE && i < n->nset; i++) {
            if (rules_cidr_match(&n->set[i].u.ip, a))
                return true;
        }
        return false;
    }
    case RULES_S_LIST: {
        const struct rules_strlist *l = p;
        for (size_t i = 0; l->v && i < l->n; i++) {
            if (l->v[i] && str_in(n, l->v[i]))
                return true;
        }
        return false;
    }
    }
    return false;
}

static bool eval_exists(const struct rules_node *n, const struct rules_event *ev)
{
    const void *p = rules_field_ptr(n->field, ev);

    switch ((enum rules_store)n->field->store) {
    case RULES_S_STR:
        return *(const char *const *)p != NULL;
    case RULES_S_GEO:
        return rules_geo_custom(p, n->key) != NULL;
    case RULES_S_NUM:
        return ((const struct rules_num *)p)->set;
    case RULES_S_BOOL:
        return *(const rules_bool *)p != RULES_UNSET;
    case RULES_S_ADDR:
        return ((const struct rules_addr *)p)->family != RULES_AF_NONE;
    case RULES_S_LIST:
        return ((const struct rules_strlist *)p)->v != NULL;
    }
    return false;
}

bool rules_node_eval(const struct rules_node *n, const struct rules_event *ev)
{
    switch ((enum rules_node_kind)n->kind) {
    case RULES_N_AND:
        for (size_t i = 0; i < n->nkids; i++) {
            if (!rules_node_eval(n->kids[i], ev))
                return false;
        }
        return true;
    case RULES_N_OR:
        for (size_t i = 0; i < n->nkids; i++) {
            if (rules_node_eval(n->kids[i], ev))
                return true;
        }
        return false;
    case RULES_N_NOT:
        return !rules_node_eval(n->kids[0], ev);
    case RULES_N_CMP:
        return eval_cmp(n, ev);
    case RULES_N_SET:
        return eval_set(n, ev);
    case RULES_N_EXISTS:
        return eval_exists(n, ev);
    }
    return false;
}

/* ---- sets ---- */

static bool rule_matches(const struct rules_rule *r, const struct rules_event *ev)
{
    if (!rules_node_eval(r->cond, ev))
        return false;
    return !r->exc || !rules_node_eval(r->exc, ev);
}

size_t rules_set_eval(const struct rules_set *s, const struct rules_event *ev, rules_match_fn cb,
                      void *ctx)
{
    size_t hits = 0;

    if (!s || (unsigned)ev->kind >= RULES_EVENT_KINDS)
        return 0;
    const struct rules_rule *const *rs = s->by_kind[ev->kind];
    for (size_t i = 0; i < s->nby_kind[ev->kind]; i++) {
        if (!rule_matches(rs[i], ev))
            continue;
        hits++;
        if (cb && !cb(rs[i], ev, ctx))
            break;
    }
    return hits;
}

struct rules_set *rules_set_ref(struct rules_set *s)
{
    if (s)
        atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    return s;
}

void rules_set_release(struct rules_set *s)
{
    if (!s || atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    rules_arena_free(&s->arena);
    free(s);
}

size_t rules_set_count(const struct rules_set *s)
{
    return s ? s->n : 0;
}

size_t rules_set_enabled(const struct rules_set *s)
{
    return s ? s->nenabled : 0;
}

const struct rules_rule *rules_set_rule(const struct rules_set *s, size_t i)
{
    return s && i < s->n ? &s->rules[i] : NULL;
}

/* ---- rule accessors ---- */

const char *rules_rule_name(const struct rules_rule *r)
{
    return r->name;
}

const char *rules_rule_desc(const struct rules_rule *r)
{
    return r->desc ? r->desc : "";
}

enum rules_severity rules_rule_severity(const struct rules_rule *r)
{
    return (enum rules_severity)r->severity;
}

enum rules_event_kind rules_rule_event(const struct rules_rule *r)
{
    return (enum rules_event_kind)r->event;
}

bool rules_rule_enabled(const struct rules_rule *r)
{
    return r->enabled;
}

size_t rules_rule_index(const struct rules_rule *r)
{
    return r->index;
}

size_t rules_rule_tag_count(const struct rules_rule *r)
{
    return r->ntags;
}

const char *rules_rule_tag(const struct rules_rule *r, size_t i)
{
    return i < r->ntags ? r->tags[i] : NULL;
}

size_t rules_rule_format(const struct rules_rule *r, const struct rules_event *ev, char *buf,
                         size_t len)
{
    return rules_tpl_format(&r->tpl, ev, buf, len);
}

const char *rules_severity_name(enum rules_severity s)
{
    static const char *const names[] = {"info", "low", "medium", "high", "critical"};
    return (unsigned)s < 5 ? names[s] : "unknown";
}

/* ---- holder ---- */

bool rules_holder_init(struct rules_holder *h)
{
    memset(h, 0, sizeof(*h));
    return pthread_mutex_init(&h->lock, NULL) == 0;
}

void rules_holder_destroy(struct rules_holder *h)
{
    rules_set_release(h->cur);
    h->cur = NULL;
    pthread_mutex_destroy(&h->lock);
}

struct rules_set *rules_holder_acquire(struct rules_holder *h)
{
    pthread_mutex_lock(&h->lock);
    struct rules_set *s = rules_set_ref(h->cur);
    pthread_mutex_unlock(&h->lock);
    return s;
}

void rules_holder_swap(struct rules_holder *h, struct rules_set *s, int64_t now)
{
    pthread_mutex_lock(&h->lock);
    struct rules_set *old = h->cur;
    h->cur = s;
    h->stats.success++;
    h->stats.last_success = now;
    h->stats.rules_loaded = rules_set_enabled(s);
    pthread_mutex_unlock(&h->lock);
    rules_set_release(old); /* freed here, or by its last user */
}

bool rules_holder_reload(struct rules_holder *h, const char *const *paths, size_t n, int64_t now,
                         struct rules_errors *errs)
{
    struct rules_set *s = rules_load(paths, n, errs);

    if (!s) {
        pthread_mutex_lock(&h->lock);
        h->stats.failure++;
        h->stats.last_failure = now;
        pthread_mutex_unlock(&h->lock);
        return false;
    }
    rules_holder_swap(h, s, now);
    return true;
}

struct rules_reload_stats rules_holder_stats(struct rules_holder *h)
{
    pthread_mutex_lock(&h->lock);
    struct rules_reload_stats st = h->stats;
    pthread_mutex_unlock(&h->lock);
    return st;
}

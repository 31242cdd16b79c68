/* Rule files: YAML reading (libyaml documents, with the mark of every
 * node), the catalog of rules, lists and macros with explicit overrides,
 * and compilation of the catalog into a struct rules_set.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "rules/rules_int.h"

#define LOAD_MAX_FILE  (4u << 20) /* bytes per rule file */
#define LOAD_MAX_FILES 256

enum item_kind { ITEM_RULE, ITEM_LIST, ITEM_MACRO };

/* Keys an item may carry, as bits. */
enum {
    K_DESC = 1u << 0,
    K_COND = 1u << 1,
    K_OUTPUT = 1u << 2,
    K_SEV = 1u << 3,
    K_TAGS = 1u << 4,
    K_ENABLED = 1u << 5,
    K_EVENT = 1u << 6,
    K_EXC = 1u << 7,
    K_ITEMS = 1u << 8,
};

static const struct {
    const char *name;
    unsigned bit;
    bool appendable;
} item_keys[] = {
    {"desc", K_DESC, false},    {"condition", K_COND, true}, {"output", K_OUTPUT, false},
    {"severity", K_SEV, false}, {"tags", K_TAGS, true},      {"enabled", K_ENABLED, false},
    {"event", K_EVENT, false},  {"exceptions", K_EXC, true}, {"items", K_ITEMS, true},
};
#define NITEM_KEYS (sizeof(item_keys) / sizeof(item_keys[0]))

static const unsigned kind_keys[] = {
    [ITEM_RULE] = K_DESC | K_COND | K_OUTPUT | K_SEV | K_TAGS | K_ENABLED | K_EVENT | K_EXC,
    [ITEM_LIST] = K_ITEMS,
    [ITEM_MACRO] = K_COND,
};
static const char *const kind_names[] = {"rule", "list", "macro"};

struct item {
    enum item_kind kind;
    char *name;
    struct rules_loc loc; /* of the name */
    unsigned has;         /* K_* present in this item */
    unsigned append;      /* K_* overridden by append (others in ovr: replace) */
    unsigned ovr;         /* K_* named in override */
    bool has_ovr;
    struct rules_loc ovr_loc;

    char *desc;
    struct rules_src cond;
    char *output;
    struct rules_loc out_loc;
    bool out_exact;
    int severity;
    char **tags;
    size_t ntags;
    bool enabled;
    int event;
    struct rules_exc_def **exc;
    size_t nexc;
    char **items;
    size_t nitems;
};

struct yfile {
    const char *name;
    const char *text;
    size_t len;
    bool ascii;
    yaml_document_t *doc;
};

struct loader {
    struct rules_arena scratch;
    struct rules_errors *errs;
    size_t nerr;
    struct item **items[3];
    size_t nitems[3], cap[3];
};

/* ---- errors ---- */

void rules_errors_add(struct rules_errors *e, size_t *nerr, const char *fmt, ...)
{
    va_list ap;
    char buf[1024];

    (*nerr)++;
    if (!e)
        return;
    if (e->count >= RULES_ERRORS_MAX) {
        e->dropped++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (e->count == e->cap) {
        size_t nc = e->cap ? e->cap * 2 : 16;
        char **nm = realloc(e->msg, nc * sizeof(*nm));
        if (!nm) {
            e->dropped++;
            return;
        }
        e->msg = nm;
        e->cap = nc;
    }
    e->msg[e->count] = strdup(buf);
    if (e->msg[e->count])
        e->count++;
    else
        e->dropped++;
}

void rules_errors_free(struct rules_errors *e)
{
    for (size_t i = 0; i < e->count; i++)
        free(e->msg[i]);
    free(e->msg);
    memset(e, 0, sizeof(*e));
}

void rules_errors_print(const struct rules_errors *e, FILE *out)
{
    for (size_t i = 0; i < e->count; i++)
        fprintf(out, "%s\n", e->msg[i]);
    if (e->dropped)
        fprintf(out, "(%zu more errors not shown)\n", e->dropped);
}

void rules_cc_error(struct rules_cc *cc, const struct rules_loc *loc, const char *fmt, ...)
{
    va_list ap;
    char buf[900];

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    rules_errors_add(cc->errs, &cc->nerr, "%s:%u:%u: %s", loc->file, loc->line, loc->col, buf);
}

static void lerr(struct loader *L, const struct rules_loc *loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void lerr(struct loader *L, const struct rules_loc *loc, const char *fmt, ...)
{
    va_list ap;
    char buf[900];

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    rules_errors_add(L->errs, &L->nerr, "%s:%u:%u: %s", loc->file, loc->line, loc->col, buf);
}

/* ---- small helpers ---- */

/* Grow an arena array of elem-size items to hold n + 1. */
static bool grow(struct rules_arena *a, void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 8;
    void *na = rules_arena_alloc(a, nc * elem);
    if (!na)
        return false;
    if (n)
        memcpy(na, *arr, n * elem);
    *arr = na;
    *cap = nc;
    return true;
}

static struct rules_loc node_loc(const struct yfile *yf, const yaml_node_t *n)
{
    struct rules_loc l = {yf->name, (uint32_t)n->start_mark.line + 1,
                          (uint32_t)n->start_mark.column + 1};
    return l;
}

static yaml_node_t *node_at(const struct yfile *yf, yaml_node_item_t i)
{
    return yaml_document_get_node(yf->doc, i);
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Byte offset of libyaml's character index idx in the file. */
static size_t byte_off(const struct yfile *yf, size_t idx)
{
    size_t b = 0;

    if (yf->ascii)
        return idx;
    for (size_t c = 0; c < idx && b < yf->len; c++) {
        b++;
        while (b < yf->len && ((unsigned char)yf->text[b] & 0xc0) == 0x80)
            b++;
    }
    return b;
}

/* Does the scalar appear in the file as one line, character for character
 * (plain, or quoted without escapes)? Then columns inside it are exact. */
static bool scalar_exact(const struct yfile *yf, const yaml_node_t *n, uint32_t *skip)
{
    const char *v = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    yaml_scalar_style_t st = n->data.scalar.style;
    size_t at = byte_off(yf, n->start_mark.index);

    *skip = 0;
    if (n->start_mark.line != n->end_mark.line || memchr(v, '\n', len))
        return false;
    if (st == YAML_SINGLE_QUOTED_SCALAR_STYLE || st == YAML_DOUBLE_QUOTED_SCALAR_STYLE) {
        *skip = 1;
        at++;
    } else if (st != YAML_PLAIN_SCALAR_STYLE) {
        return false;
    }
    return at <= yf->len && len <= yf->len - at && memcmp(yf->text + at, v, len) == 0;
}

static void src_from_node(struct loader *L, const struct yfile *yf, const yaml_node_t *n,
                          struct rules_src *src)
{
    uint32_t skip;
    size_t len = n->data.scalar.length;

    memset(src, 0, sizeof(*src));
    src->text = rules_arena_strndup(&L->scratch, (const char *)n->data.scalar.value, len);
    src->len = src->text ? len : 0;
    src->nfrag = 1;
    src->frag[0].loc = node_loc(yf, n);
    src->frag[0].exact = scalar_exact(yf, n, &skip);
    src->frag[0].loc.col += src->frag[0].exact ? skip : 0;
}

/* src += " " + add, keeping every fragment's position. */
static void src_append(struct loader *L, struct rules_src *src, const struct rules_src *add,
                       const struct rules_loc *at)
{
    if (src->nfrag + add->nfrag > RULES_SRC_FRAGS) {
        lerr(L, at, "too many appends to one condition (at most %d)", RULES_SRC_FRAGS);
        return;
    }
    char *t = rules_arena_alloc(&L->scratch, src->len + add->len + 2);
    if (!t)
        return;
    memcpy(t, src->text, src->len);
    t[src->len] = ' ';
    memcpy(t + src->len + 1, add->text, add->len);
    for (size_t i = 0; i < add->nfrag; i++) {
        src->frag[src->nfrag] = add->frag[i];
        src->frag[src->nfrag++].off += src->len + 1;
    }
    src->text = t;
    src->len += add->len + 1;
}

static char *dup_scalar(struct loader *L, const yaml_node_t *n)
{
    return rules_arena_strndup(&L->scratch, (const char *)n->data.scalar.value,
                               n->data.scalar.length);
}

/* A scalar, or an error naming what was expected. */
static const char *want_scalar(struct loader *L, const struct yfile *yf, const yaml_node_t *n,
                               const char *what)
{
    const char *s = scalar(n);
    if (!s) {
        struct rules_loc l = node_loc(yf, n);
        lerr(L, &l, "%s must be a single value", what);
    }
    return s;
}

/* Sequence of scalars (or one scalar) into *out. */
static bool read_strings(struct loader *L, const struct yfile *yf, const yaml_node_t *n,
                         const char *what, char ***out, size_t *nout)
{
    size_t cap = 0;

    *out = NULL;
    *nout = 0;
    if (n->type == YAML_SCALAR_NODE) {
        if (n->data.scalar.length == 0 && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
            return true; /* empty */
        if (!grow(&L->scratch, (void **)out, &cap, 0, sizeof(char *)))
            return false;
        (*out)[(*nout)++] = dup_scalar(L, n);
        return true;
    }
    if (n->type != YAML_SEQUENCE_NODE) {
        struct rules_loc l = node_loc(yf, n);
        lerr(L, &l, "%s must be a sequence of values", what);
        return false;
    }
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        const yaml_node_t *c = node_at(yf, *it);
        if (!want_scalar(L, yf, c, what))
            return false;
        if (!grow(&L->scratch, (void **)out, &cap, *nout, sizeof(char *)))
            return false;
        (*out)[(*nout)++] = dup_scalar(L, c);
    }
    return true;
}

/* Nearest of candidates[0..n-1] to s, for "did you mean". */
static const char *nearest(const char *s, const char *const *cand, size_t n)
{
    const char *best = NULL;
    size_t bd = (size_t)-1, sl = strlen(s);

    for (size_t i = 0; i < n; i++) {
        size_t d = rules_levenshtein(s, sl, cand[i], strlen(cand[i]));
        if (d < bd) {
            bd = d;
            best = cand[i];
        }
    }
    return bd <= 1 + sl / 3 ? best : NULL;
}

/* ---- exceptions ---- */

/* One cell: a value or a sequence of alternatives. */
static bool read_cell(struct loader *L, const struct yfile *yf, const yaml_node_t *n,
                      struct rules_exc_cell *c)
{
    c->loc = node_loc(yf, n);
    if (!read_strings(L, yf, n, "an exception value", &c->alts, &c->nalts))
        return false;
    if (c->nalts == 0) {
        lerr(L, &c->loc, "empty exception value");
        return false;
    }
    return true;
}

static bool read_exc_values(struct loader *L, const struct yfile *yf, const yaml_node_t *v,
                            struct rules_exc_def *d, bool one_field)
{
    size_t cap = 0, rows = 0;
    struct rules_loc l = node_loc(yf, v);

    if (v->type != YAML_SEQUENCE_NODE) {
        lerr(L, &l, "exception '%s': values must be a sequence of rows", d->name);
        return false;
    }
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        const yaml_node_t *row = node_at(yf, *it);
        size_t nc = row->type == YAML_SEQUENCE_NODE && !one_field
                        ? (size_t)(row->data.sequence.items.top - row->data.sequence.items.start)
                        : 1;
        struct rules_loc rl = node_loc(yf, row);
        if (nc != d->nfields) {
            lerr(L, &rl, "exception '%s': row has %zu values for %zu fields", d->name, nc,
                 d->nfields);
            return false;
        }
        for (size_t i = 0; i < nc; i++) {
            if (!grow(&L->scratch, (void **)&d->cells, &cap, rows * d->nfields + i,
                      sizeof(*d->cells)))
                return false;
            const yaml_node_t *cn =
                one_field ? row : node_at(yf, row->data.sequence.items.start[i]);
            if (!read_cell(L, yf, cn, &d->cells[rows * d->nfields + i]))
                return false;
        }
        rows++;
    }
    d->nrows = rows;
    return true;
}

static bool read_exc_fields(struct loader *L, const struct yfile *yf, const yaml_node_t *v,
                            struct rules_exc_def *d, bool *one)
{
    *one = v->type == YAML_SCALAR_NODE;
    if (!read_strings(L, yf, v, "exception fields", &d->fields, &d->nfields))
        return false;
    d->floc = rules_arena_alloc(&L->scratch, (d->nfields + 1) * sizeof(*d->floc));
    if (!d->floc)
        return false;
    for (size_t i = 0; i < d->nfields; i++) {
        const yaml_node_t *fn = *one ? v : node_at(yf, v->data.sequence.items.start[i]);
        d->floc[i] = node_loc(yf, fn);
    }
    return true;
}

static struct rules_exc_def *read_exception(struct loader *L, const struct yfile *yf,
                                            const yaml_node_t *n)
{
    static const char *const keys[] = {"name", "fields", "values"};
    struct rules_exc_def *d = rules_arena_alloc(&L->scratch, sizeof(*d));
    const yaml_node_t *fields = NULL, *values = NULL;
    bool one = false;

    if (!d)
        return NULL;
    d->loc = node_loc(yf, n);
    if (n->type != YAML_MAPPING_NODE) {
        lerr(L, &d->loc, "an exception must be a mapping with name, fields and values");
        return NULL;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = node_at(yf, p->key), *v = node_at(yf, p->value);
        const char *ks = scalar(k);
        struct rules_loc kl = node_loc(yf, k);
        if (ks && strcmp(ks, "name") == 0 && want_scalar(L, yf, v, "exception name")) {
            d->name = dup_scalar(L, v);
            d->loc = node_loc(yf, v);
        } else if (ks && strcmp(ks, "fields") == 0) {
            fields = v;
        } else if (ks && strcmp(ks, "values") == 0) {
            values = v;
        } else if (ks && strcmp(ks, "name") != 0) {
            const char *sug = nearest(ks, keys, 3);
            lerr(L, &kl, "unknown key '%s' in exception%s%s%s", ks, sug ? " (did you mean '" : "",
                 sug ? sug : "", sug ? "'?)" : "");
            return NULL;
        }
    }
    if (!d->name) {
        lerr(L, &d->loc, "exception without a name");
        return NULL;
    }
    if (fields && !read_exc_fields(L, yf, fields, d, &one))
        return NULL;
    if (values && !fields) {
        lerr(L, &d->loc, "exception '%s': values without fields", d->name);
        return NULL;
    }
    if (values && !read_exc_values(L, yf, values, d, one))
        return NULL;
    return d;
}

static bool read_exceptions(struct loader *L, const struct yfile *yf, const yaml_node_t *n,
                            struct item *it)
{
    size_t cap = 0;
    struct rules_loc l = node_loc(yf, n);

    if (n->type != YAML_SEQUENCE_NODE) {
        lerr(L, &l, "exceptions must be a sequence");
        return false;
    }
    for (yaml_node_item_t *e = n->data.sequence.items.start; e < n->data.sequence.items.top; e++) {
        struct rules_exc_def *d = read_exception(L, yf, node_at(yf, *e));
        if (!d)
            return false;
        for (size_t i = 0; i < it->nexc; i++) {
            if (strcmp(it->exc[i]->name, d->name) == 0) {
                lerr(L, &d->loc, "duplicate exception name '%s'", d->name);
                return false;
            }
        }
        if (!grow(&L->scratch, (void **)&it->exc, &cap, it->nexc, sizeof(*it->exc)))
            return false;
        it->exc[it->nexc++] = d;
    }
    return true;
}

/* ---- items ---- */

static bool read_bool(struct loader *L, const struct yfile *yf, const yaml_node_t *v, bool *out)
{
    const char *s = want_scalar(L, yf, v, "enabled");
    struct rules_loc l = node_loc(yf, v);

    if (!s)
        return false;
    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0)
        *out = true;
    else if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0)
        *out = false;
    else {
        lerr(L, &l, "'%s' is not a boolean (true or false)", s);
        return false;
    }
    return true;
}

static int severity_parse(const char *s)
{
    for (int i = RULES_SEV_INFO; i <= RULES_SEV_CRITICAL; i++) {
        if (strcmp(s, rules_severity_name((enum rules_severity)i)) == 0)
            return i;
    }
    return -1;
}

static bool read_override(struct loader *L, const struct yfile *yf, const yaml_node_t *n,
                          struct item *it)
{
    struct rules_loc l = node_loc(yf, n);

    it->has_ovr = true;
    it->ovr_loc = l;
    if (n->type != YAML_MAPPING_NODE) {
        lerr(L, &l, "override must be a mapping of key: append|replace");
        return false;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = node_at(yf, p->key), *v = node_at(yf, p->value);
        const char *ks = scalar(k), *vs = scalar(v);
        struct rules_loc kl = node_loc(yf, k), vl = node_loc(yf, v);
        size_t i = 0;
        while (ks && i < NITEM_KEYS && strcmp(item_keys[i].name, ks) != 0)
            i++;
        if (!ks || i == NITEM_KEYS || !(item_keys[i].bit & kind_keys[it->kind])) {
            lerr(L, &kl, "override: '%s' is not a key of a %s", ks ? ks : "?",
                 kind_names[it->kind]);
            return false;
        }
        if (vs && strcmp(vs, "append") == 0 && item_keys[i].appendable) {
            it->append |= item_keys[i].bit;
        } else if (!vs || strcmp(vs, "replace") != 0) {
            lerr(L, &vl, "override: %s takes %s", ks,
                 item_keys[i].appendable ? "append or replace" : "replace");
            return false;
        }
        it->ovr |= item_keys[i].bit;
    }
    return true;
}

/* One key of a rule, list or macro item. */
static bool read_key(struct loader *L, const struct yfile *yf, const char *ks, const yaml_node_t *v,
                     struct item *it)
{
    struct rules_loc vl = node_loc(yf, v);
    const char *s;

    if (strcmp(ks, "desc") == 0 && (s = want_scalar(L, yf, v, "desc"))) {
        it->desc = dup_scalar(L, v);
    } else if (strcmp(ks, "condition") == 0 && (s = want_scalar(L, yf, v, "condition"))) {
        src_from_node(L, yf, v, &it->cond);
    } else if (strcmp(ks, "output") == 0 && (s = want_scalar(L, yf, v, "output"))) {
        uint32_t skip;
        it->output = dup_scalar(L, v);
        it->out_loc = vl;
        it->out_exact = scalar_exact(yf, v, &skip);
        it->out_loc.col += skip;
    } else if (strcmp(ks, "severity") == 0 && (s = want_scalar(L, yf, v, "severity"))) {
        it->severity = severity_parse(s);
        if (it->severity < 0) {
            lerr(L, &vl, "bad severity '%s' (critical, high, medium, low or info)", s);
            return false;
        }
    } else if (strcmp(ks, "tags") == 0) {
        return read_strings(L, yf, v, "tags", &it->tags, &it->ntags);
    } else if (strcmp(ks, "items") == 0) {
        return read_strings(L, yf, v, "items", &it->items, &it->nitems);
    } else if (strcmp(ks, "enabled") == 0) {
        return read_bool(L, yf, v, &it->enabled);
    } else if (strcmp(ks, "event") == 0 && (s = want_scalar(L, yf, v, "event"))) {
        if (strcmp(s, "flow") == 0)
            it->event = RULES_EVENT_FLOW;
        else if (strcmp(s, "certificate") == 0)
            it->event = RULES_EVENT_CERTIFICATE;
        else {
            lerr(L, &vl, "bad event '%s' (flow or certificate)", s);
            return false;
        }
    } else if (strcmp(ks, "exceptions") == 0) {
        return read_exceptions(L, yf, v, it);
    } else {
        return false; /* want_scalar reported */
    }
    return true;
}

/* Bit of key ks allowed for the item's kind, 0 if none. */
static unsigned key_bit(const struct item *it, const char *ks)
{
    for (size_t i = 0; i < NITEM_KEYS; i++) {
        if (strcmp(item_keys[i].name, ks) == 0)
            return item_keys[i].bit & kind_keys[it->kind];
    }
    return 0;
}

static void unknown_key(struct loader *L, const struct item *it, const char *ks,
                        const struct rules_loc *kl)
{
    const char *cand[NITEM_KEYS + 1];
    size_t n = 0;

    for (size_t i = 0; i < NITEM_KEYS; i++) {
        if (item_keys[i].bit & kind_keys[it->kind])
            cand[n++] = item_keys[i].name;
    }
    cand[n++] = "override";
    const char *sug = nearest(ks, cand, n);
    lerr(L, kl, "unknown key '%s' in %s '%s'%s%s%s", ks, kind_names[it->kind],
         it->name ? it->name : "?", sug ? " (did you mean '" : "", sug ? sug : "",
         sug ? "'?)" : "");
}

static bool read_item_keys(struct loader *L, const struct yfile *yf, const yaml_node_t *n,
                           struct item *it)
{
    bool ok = true;

    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = node_at(yf, p->key), *v = node_at(yf, p->value);
        const char *ks = scalar(k);
        struct rules_loc kl = node_loc(yf, k);
        unsigned bit = ks ? key_bit(it, ks) : 0;

        if (ks && strcmp(ks, kind_names[it->kind]) == 0)
            continue;
        if (ks && strcmp(ks, "override") == 0) {
            ok = read_override(L, yf, v, it) && ok;
            continue;
        }
        if (!bit) {
            unknown_key(L, it, ks ? ks : "?", &kl);
            ok = false;
            continue;
        }
        if (it->has & bit) {
            lerr(L, &kl, "key '%s' appears twice", ks);
            ok = false;
            continue;
        }
        it->has |= bit;
        ok = read_key(L, yf, ks, v, it) && ok;
    }
    return ok;
}

/* The kind of an item mapping: the one of rule/list/macro it has. */
static int item_kind_of(struct loader *L, const struct yfile *yf, const yaml_node_t *n,
                        const yaml_node_t **name)
{
    int kind = -1;
    struct rules_loc l = node_loc(yf, n);

    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        const char *ks = scalar(node_at(yf, p->key));
        for (int k = 0; ks && k < 3; k++) {
            if (strcmp(ks, kind_names[k]) != 0)
                continue;
            if (kind >= 0) {
                lerr(L, &l, "an item has exactly one of rule, list, macro");
                return -1;
            }
            kind = k;
            *name = node_at(yf, p->value);
        }
    }
    if (kind < 0)
        lerr(L, &l, "an item must have a rule, list or macro key");
    return kind;
}

/* ---- catalog: new items and explicit overrides ---- */

static struct item *catalog_find(struct loader *L, enum item_kind k, const char *name)
{
    for (size_t i = 0; i < L->nitems[k]; i++) {
        if (strcmp(L->items[k][i]->name, name) == 0)
            return L->items[k][i];
    }
    return NULL;
}

static void merge_exceptions(struct loader *L, struct item *old, const struct item *it)
{
    for (size_t i = 0; i < it->nexc; i++) {
        struct rules_exc_def *d = it->exc[i], *o = NULL;
        for (size_t j = 0; j < old->nexc; j++) {
            if (strcmp(old->exc[j]->name, d->name) == 0)
                o = old->exc[j];
        }
        if (!o) {
            size_t cap = old->nexc; /* arrays are exact-size: grow copies */
            if (grow(&L->scratch, (void **)&old->exc, &cap, old->nexc, sizeof(*old->exc)))
                old->exc[old->nexc++] = d;
            continue;
        }
        bool same = o->nfields == d->nfields;
        for (size_t f = 0; same && f < d->nfields; f++)
            same = strcmp(o->fields[f], d->fields[f]) == 0;
        if (!same) {
            lerr(L, &d->loc, "exception '%s' is appended with different fields", d->name);
            continue;
        }
        struct rules_exc_cell *cells = rules_arena_alloc(
            &L->scratch, ((o->nrows + d->nrows) * o->nfields + 1) * sizeof(*cells));
        if (!cells)
            continue;
        if (o->nrows)
            memcpy(cells, o->cells, o->nrows * o->nfields * sizeof(*cells));
        if (d->nrows)
            memcpy(cells + o->nrows * o->nfields, d->cells, d->nrows * d->nfields * sizeof(*cells));
        o->cells = cells;
        o->nrows += d->nrows;
    }
}

static char **concat(struct loader *L, char **a, size_t na, char **b, size_t nb)
{
    char **r = rules_arena_alloc(&L->scratch, (na + nb + 1) * sizeof(*r));
    if (r && na)
        memcpy(r, a, na * sizeof(*r));
    if (r && nb)
        memcpy(r + na, b, nb * sizeof(*r));
    return r;
}

static void apply_override(struct loader *L, struct item *old, const struct item *it)
{
    unsigned app = it->append;

    if (it->has & K_COND) {
        if (app & K_COND)
            src_append(L, &old->cond, &it->cond, &it->ovr_loc);
        else
            old->cond = it->cond;
    }
    if (it->has & K_EXC) {
        if (app & K_EXC) {
            merge_exceptions(L, old, it);
        } else {
            old->exc = it->exc;
            old->nexc = it->nexc;
        }
    }
    if (it->has & K_TAGS) {
        char **t = app & K_TAGS ? concat(L, old->tags, old->ntags, it->tags, it->ntags) : it->tags;
        old->ntags = app & K_TAGS ? old->ntags + it->ntags : it->ntags;
        old->tags = t;
    }
    if (it->has & K_ITEMS) {
        char **t =
            app & K_ITEMS ? concat(L, old->items, old->nitems, it->items, it->nitems) : it->items;
        old->nitems = app & K_ITEMS ? old->nitems + it->nitems : it->nitems;
        old->items = t;
    }
    if (it->has & K_DESC)
        old->desc = it->desc;
    if (it->has & K_OUTPUT) {
        old->output = it->output;
        old->out_loc = it->out_loc;
        old->out_exact = it->out_exact;
    }
    if (it->has & K_SEV)
        old->severity = it->severity;
    if (it->has & K_ENABLED)
        old->enabled = it->enabled;
    if (it->has & K_EVENT)
        old->event = it->event;
}

static void check_override_keys(struct loader *L, const struct item *it)
{
    for (size_t i = 0; i < NITEM_KEYS; i++) {
        unsigned b = item_keys[i].bit;
        if ((it->has & b) && !(it->ovr & b))
            lerr(L, &it->ovr_loc, "override does not name '%s', which this item sets (add %s: %s)",
                 item_keys[i].name, item_keys[i].name,
                 item_keys[i].appendable ? "append" : "replace");
        else if (!(it->has & b) && (it->ovr & b))
            lerr(L, &it->ovr_loc, "override names '%s', which this item does not set",
                 item_keys[i].name);
    }
}

static void catalog_add_new(struct loader *L, struct item *it)
{
    static const unsigned required[] = {
        [ITEM_RULE] = K_COND | K_OUTPUT | K_SEV,
        [ITEM_LIST] = K_ITEMS,
        [ITEM_MACRO] = K_COND,
    };
    unsigned missing = required[it->kind] & ~it->has;

    if (it->has_ovr) {
        lerr(L, &it->loc, "override of %s '%s', which is not defined before", kind_names[it->kind],
             it->name);
        return;
    }
    if (it->kind == ITEM_RULE && it->has == K_ENABLED) {
        lerr(L, &it->loc,
             "rule '%s' is not defined before (enabled: alone changes an existing rule)", it->name);
        return;
    }
    for (size_t i = 0; i < NITEM_KEYS; i++) {
        if (missing & item_keys[i].bit)
            lerr(L, &it->loc, "%s '%s' has no %s", kind_names[it->kind], it->name,
                 item_keys[i].name);
    }
    if (missing)
        return;
    if (!grow(&L->scratch, (void **)&L->items[it->kind], &L->cap[it->kind], L->nitems[it->kind],
              sizeof(struct item *)))
        return;
    L->items[it->kind][L->nitems[it->kind]++] = it;
}

static void catalog_add(struct loader *L, struct item *it)
{
    struct item *old = catalog_find(L, it->kind, it->name);

    if (!old) {
        catalog_add_new(L, it);
        return;
    }
    if (it->has_ovr) {
        check_override_keys(L, it);
        apply_override(L, old, it);
    } else if (it->kind == ITEM_RULE && it->has == K_ENABLED) {
        old->enabled = it->enabled; /* the enable/disable shortcut */
    } else {
        lerr(L, &it->loc, "%s '%s' is already defined at %s:%u:%u (to change it, add override:)",
             kind_names[it->kind], it->name, old->loc.file, old->loc.line, old->loc.col);
    }
}

static void read_item(struct loader *L, const struct yfile *yf, const yaml_node_t *n)
{
    struct rules_loc l = node_loc(yf, n);
    const yaml_node_t *name = NULL;

    if (n->type != YAML_MAPPING_NODE) {
        lerr(L, &l, "an item must be a mapping (- rule: ..., - list: ..., - macro: ...)");
        return;
    }
    int kind = item_kind_of(L, yf, n, &name);
    if (kind < 0)
        return;
    struct item *it = rules_arena_alloc(&L->scratch, sizeof(*it));
    if (!it)
        return;
    it->kind = (enum item_kind)kind;
    it->enabled = true;
    it->event = RULES_EVENT_FLOW;
    it->loc = node_loc(yf, name);
    if (!scalar(name) || name->data.scalar.length == 0) {
        lerr(L, &it->loc, "%s name must be a non-empty value", kind_names[kind]);
        return;
    }
    it->name = dup_scalar(L, name);
    if (read_item_keys(L, yf, n, it))
        catalog_add(L, it);
}

/* ---- files ---- */

static void read_root(struct loader *L, const struct yfile *yf, const yaml_node_t *root)
{
    struct rules_loc l = node_loc(yf, root);

    if (root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0)
        return; /* an empty document */
    if (root->type != YAML_SEQUENCE_NODE) {
        lerr(L, &l, "a rules file is a sequence of items (- rule: ..., - list: ..., - macro: ...)");
        return;
    }
    for (yaml_node_item_t *i = root->data.sequence.items.start; i < root->data.sequence.items.top;
         i++)
        read_item(L, yf, node_at(yf, *i));
}

static void load_text(struct loader *L, const char *name, const char *text, size_t len)
{
    yaml_parser_t p;
    yaml_document_t doc;
    struct yfile yf = {.name = rules_arena_strndup(&L->scratch, name, strlen(name)),
                       .text = text,
                       .len = len,
                       .ascii = true,
                       .doc = &doc};

    if (!yf.name || !yaml_parser_initialize(&p))
        return;
    for (size_t i = 0; i < len; i++)
        yf.ascii = yf.ascii && (unsigned char)text[i] < 0x80;
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    for (;;) {
        if (!yaml_parser_load(&p, &doc)) {
            struct rules_loc l = {yf.name, (uint32_t)p.problem_mark.line + 1,
                                  (uint32_t)p.problem_mark.column + 1};
            lerr(L, &l, "YAML syntax error: %s%s%s", p.problem ? p.problem : "unknown",
                 p.context ? " " : "", p.context ? p.context : "");
            break;
        }
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (root)
            read_root(L, &yf, root);
        yaml_document_delete(&doc);
        if (!root)
            break;
    }
    yaml_parser_delete(&p);
}

static void load_file(struct loader *L, const char *path)
{
    struct rules_loc l = {path, 1, 1};
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0;

    if (!f) {
        lerr(L, &l, "cannot open: %s", strerror(errno));
        return;
    }
    buf = malloc(LOAD_MAX_FILE + 1);
    if (buf)
        len = fread(buf, 1, LOAD_MAX_FILE + 1, f);
    if (!buf || ferror(f))
        lerr(L, &l, "cannot read: %s", strerror(errno ? errno : EIO));
    else if (len > LOAD_MAX_FILE)
        lerr(L, &l, "file larger than %u bytes", LOAD_MAX_FILE);
    else
        load_text(L, path, buf, len);
    free(buf);
    fclose(f);
}

static bool yaml_name(const char *n)
{
    size_t l = strlen(n);
    if (n[0] == '.')
        return false;
    return (l > 5 && strcmp(n + l - 5, ".yaml") == 0) || (l > 4 && strcmp(n + l - 4, ".yml") == 0);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_dir(struct loader *L, const char *path)
{
    struct rules_loc l = {path, 1, 1};
    DIR *d = opendir(path);
    char *names[LOAD_MAX_FILES];
    size_t n = 0;
    struct dirent *e;

    if (!d) {
        lerr(L, &l, "cannot open directory: %s", strerror(errno));
        return;
    }
    while ((e = readdir(d)) && n < LOAD_MAX_FILES) {
        struct stat st;
        char full[4096];
        if (!yaml_name(e->d_name))
            continue;
        snprintf(full, sizeof(full), "%s/%s", path, e->d_name);
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode))
            names[n++] = rules_arena_strndup(&L->scratch, full, strlen(full));
    }
    closedir(d);
    if (n == 0)
        lerr(L, &l, "no *.yaml or *.yml files in the directory");
    for (size_t i = 0; i < n; i++) {
        if (!names[i]) /* allocation failed */
            return;
    }
    qsort(names, n, sizeof(names[0]), cmp_str);
    for (size_t i = 0; i < n; i++)
        load_file(L, names[i]);
}

static void load_path(struct loader *L, const char *path)
{
    struct stat st;

    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        load_dir(L, path);
    else
        load_file(L, path);
}

/* ---- compile the catalog ---- */

struct rules_macro_def *rules_cc_macro(struct rules_cc *cc, const char *name, size_t len)
{
    for (size_t i = 0; i < cc->nmacros; i++) {
        const char *m = cc->macros[i]->name;
        if (strlen(m) == len && memcmp(m, name, len) == 0)
            return cc->macros[i];
    }
    return NULL;
}

struct rules_list_def *rules_cc_list(struct rules_cc *cc, const char *name, size_t len)
{
    for (size_t i = 0; i < cc->nlists; i++) {
        const char *m = cc->lists[i]->name;
        if (strlen(m) == len && memcmp(m, name, len) == 0)
            return cc->lists[i];
    }
    return NULL;
}

/* Lists in catalog order; an item naming an earlier list is replaced by
 * that list's items. */
static bool compile_lists(struct loader *L, struct rules_cc *cc)
{
    size_t n = L->nitems[ITEM_LIST];

    cc->lists = rules_arena_alloc(&L->scratch, (n + 1) * sizeof(*cc->lists));
    if (!cc->lists)
        return false;
    for (size_t i = 0; i < n; i++) {
        const struct item *it = L->items[ITEM_LIST][i];
        struct rules_list_def *d = rules_arena_alloc(&L->scratch, sizeof(*d));
        size_t cap = 0;
        if (!d)
            return false;
        d->name = it->name;
        d->loc = it->loc;
        for (size_t j = 0; j < it->nitems; j++) {
            const struct rules_list_def *sub =
                rules_cc_list(cc, it->items[j], strlen(it->items[j]));
            size_t add = sub ? sub->n : 1;
            if (add > RULES_MAX_LIST_ITEMS - d->n) {
                rules_cc_error(cc, &d->loc, "list '%s' expands to more than %d items", d->name,
                               RULES_MAX_LIST_ITEMS);
                break;
            }
            for (size_t k = 0; k < add; k++) {
                if (!grow(&L->scratch, (void **)&d->items, &cap, d->n, sizeof(char *)))
                    return false;
                d->items[d->n++] = sub ? sub->items[k] : it->items[j];
            }
        }
        cc->lists[cc->nlists++] = d;
    }
    return true;
}

static bool compile_macros(struct loader *L, struct rules_cc *cc)
{
    size_t n = L->nitems[ITEM_MACRO];

    cc->macros = rules_arena_alloc(&L->scratch, (n + 1) * sizeof(*cc->macros));
    if (!cc->macros)
        return false;
    for (size_t i = 0; i < n; i++) {
        const struct item *it = L->items[ITEM_MACRO][i];
        struct rules_macro_def *d = rules_arena_alloc(&L->scratch, sizeof(*d));
        if (!d)
            return false;
        d->name = it->name;
        d->loc = it->loc;
        d->src = it->cond;
        cc->macros[cc->nmacros++] = d;
    }
    rules_expr_check_macros(cc);
    return true;
}

static bool compile_rule(struct rules_cc *cc, const struct item *it, struct rules_rule *r)
{
    struct rules_arena *a = cc->arena;
    unsigned kinds = 1u << it->event;
    bool ok = true;

    r->name = rules_arena_strndup(a, it->name, strlen(it->name));
    r->desc = it->desc ? rules_arena_strndup(a, it->desc, strlen(it->desc)) : NULL;
    r->severity = (uint8_t)it->severity;
    r->event = (uint8_t)it->event;
    r->enabled = it->enabled;
    r->tags = rules_arena_alloc(a, (it->ntags + 1) * sizeof(*r->tags));
    if (!r->name || !r->tags)
        return false;
    for (size_t i = 0; i < it->ntags; i++)
        r->tags[i] = rules_arena_strndup(a, it->tags[i], strlen(it->tags[i]));
    r->ntags = it->ntags;

    if (!it->cond.text || !it->output)
        return false; /* allocation failed while reading */
    r->cond = rules_expr_compile(cc, &it->cond, kinds);
    ok = r->cond != NULL;
    r->exc = rules_exc_compile(cc, it->exc, it->nexc, kinds, &ok);
    ok = ok && r->cond != NULL;
    if (!rules_tpl_compile(cc, it->output, &it->out_loc, it->out_exact, kinds, &r->tpl))
        ok = false;
    return ok;
}

static struct rules_set *compile(struct loader *L)
{
    struct rules_set *s = calloc(1, sizeof(*s));
    size_t n = L->nitems[ITEM_RULE];

    if (!s)
        return NULL;
    atomic_init(&s->refs, 1);
    struct rules_cc cc = {.errs = L->errs, .nerr = L->nerr, .arena = &s->arena};
    s->rules = rules_arena_alloc(&s->arena, (n + 1) * sizeof(*s->rules));
    for (int k = 0; k < RULES_EVENT_KINDS; k++)
        s->by_kind[k] = rules_arena_alloc(&s->arena, (n + 1) * sizeof(*s->by_kind[k]));
    bool ok = s->rules && s->by_kind[0] && s->by_kind[1] && compile_lists(L, &cc) &&
              compile_macros(L, &cc);

    for (size_t i = 0; ok && i < n; i++) {
        const struct item *it = L->items[ITEM_RULE][i];
        struct rules_rule *r = &s->rules[s->n];
        if (!compile_rule(&cc, it, r))
            continue;
        r->index = s->n++;
        if (r->enabled) {
            s->by_kind[r->event][s->nby_kind[r->event]++] = r;
            s->nenabled++;
        }
    }
    L->nerr = cc.nerr;
    if (!ok && L->nerr == 0)
        rules_errors_add(L->errs, &L->nerr, "out of memory while compiling the rules");
    if (L->nerr) {
        rules_set_release(s);
        return NULL;
    }
    return s;
}

static struct rules_set *finish(struct loader *L)
{
    struct rules_set *s = compile(L);
    rules_arena_free(&L->scratch);
    return s;
}

struct rules_set *rules_load(const char *const *paths, size_t n, struct rules_errors *errs)
{
    struct loader L = {.errs = errs};

    if (n == 0) {
        rules_errors_add(errs, &L.nerr, "no rule files given");
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        load_path(&L, paths[i]);
    return finish(&L);
}

struct rules_set *rules_load_string(const char *name, const char *text, size_t len,
                                    struct rules_errors *errs)
{
    struct loader L = {.errs = errs};

    load_text(&L, name, text, len);
    return finish(&L);
}

int rules_check_files(const char *const *paths, size_t n, FILE *err)
{
    struct rules_errors e = {0};
    struct rules_set *s = rules_load(paths, n, &e);

    rules_errors_print(&e, err);
    if (s) {
        fprintf(err, "rules OK: %zu rules, %zu enabled\n", rules_set_count(s),
                rules_set_enabled(s));
    } else {
        fprintf(err, "rules rejected: %zu error%s\n", e.count + e.dropped,
                e.count + e.dropped == 1 ? "" : "s");
    }
    rules_errors_free(&e);
    rules_set_release(s);
    return s ? 0 : 1;
}

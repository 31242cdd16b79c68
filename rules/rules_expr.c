/* Condition language: tokenizer, recursive-descent parser and compiler.
 *
 * A condition is compiled once into a tree whose leaves hold a resolved
 * field and literals already converted to the field's type; macros are
 * inlined, lists expanded. Every error is reported with its position.
 *
 *   expr    := and ('or' and)*
 *   and     := unary ('and' unary)*
 *   unary   := 'not' unary | primary
 *   primary := '(' expr ')' | MACRO | FIELD 'exists' | FIELD OP VALUE
 *            | FIELD 'in' '(' VALUE (',' VALUE)* ')' | FIELD 'in' LIST
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/rules_int.h"

#define EXPR_MAX_DEPTH 64

enum tok_kind { T_END, T_LP, T_RP, T_COMMA, T_OP, T_WORD, T_STR };

struct tok {
    enum tok_kind kind;
    size_t off, len; /* raw text, quotes included */
    enum rules_op op;
};

struct px {
    struct rules_cc *cc;
    const struct rules_src *src;
    size_t pos;
    struct tok t;
    unsigned kinds; /* RULES_K_* allowed, 0 = any (macro checked alone) */
    bool quiet;     /* inlined macro already checked: report nothing */
    bool failed;    /* a semantic error: keep parsing to find more */
    bool aborted;   /* a syntax error: stop */
    int depth;
    const char *bad_kind_field; /* quiet mode: first field of the wrong kind */
};

/* ---- errors and positions ---- */

struct rules_loc rules_src_loc(const struct rules_src *src, size_t off, const char **note)
{
    size_t i = 0;

    while (i + 1 < src->nfrag && src->frag[i + 1].off <= off)
        i++;
    struct rules_loc loc = src->frag[i].loc;
    *note = "";
    if (src->frag[i].exact)
        loc.col += (uint32_t)(off - src->frag[i].off);
    else
        *note = " (at the start of the multi-line text; columns inside it are not tracked)";
    return loc;
}

static void px_verr(struct px *px, size_t off, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void px_err(struct px *px, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void px_syntax(struct px *px, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void px_verr(struct px *px, size_t off, const char *fmt, va_list ap)
{
    const char *note;
    char msg[512];

    px->failed = true;
    if (px->quiet)
        return;
    struct rules_loc loc = rules_src_loc(px->src, off, &note);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    rules_cc_error(px->cc, &loc, "%s%s", msg, note);
}

static void px_err(struct px *px, size_t off, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    px_verr(px, off, fmt, ap);
    va_end(ap);
}

/* A syntax error: report the first one and stop parsing this text. */
static void px_syntax(struct px *px, size_t off, const char *fmt, ...)
{
    va_list ap;
    if (!px->aborted) {
        va_start(ap, fmt);
        px_verr(px, off, fmt, ap);
        va_end(ap);
    }
    px->aborted = true;
}

/* Token text as a NUL-terminated copy (bounded) for messages. */
static const char *tok_show(const struct px *px, const struct tok *t, char *buf, size_t len)
{
    size_t n = t->len < len - 1 ? t->len : len - 1;
    if (t->kind == T_END)
        return "end of condition";
    memcpy(buf, px->src->text + t->off, n);
    buf[n] = '\0';
    return buf;
}

/* ---- tokenizer ---- */

static bool is_bare(char c)
{
    return c != '\0' && !strchr(" \t\r\n()',\"=!<>", c);
}

static void lex_op(struct px *px, const char *p, const char *end)
{
    struct tok *t = &px->t;
    bool eq2 = end - p >= 2 && p[1] == '=';

    t->kind = T_OP;
    t->len = eq2 ? 2 : 1;
    switch (p[0]) {
    case '=':
        t->op = RULES_OP_EQ;
        t->len = eq2 ? 2 : 1; /* == is accepted as = */
        break;
    case '!':
        t->op = RULES_OP_NE;
        if (!eq2)
            px_syntax(px, t->off, "'!' must be followed by '=' (use 'not' to negate)");
        break;
    case '<':
        t->op = eq2 ? RULES_OP_LE : RULES_OP_LT;
        break;
    default:
        t->op = eq2 ? RULES_OP_GE : RULES_OP_GT;
        break;
    }
}

static void lex_string(struct px *px, const char *p, const char *end)
{
    struct tok *t = &px->t;
    char q = *p;
    const char *s = p + 1;

    while (s < end && *s != q) {
        if (*s == '\\' && end - s >= 2)
            s++;
        s++;
    }
    if (s >= end) {
        px_syntax(px, t->off, "unterminated quoted string");
        t->kind = T_END;
        return;
    }
    t->kind = T_STR;
    t->len = (size_t)(s + 1 - p);
}

static void next(struct px *px)
{
    const char *text = px->src->text;
    const char *p = text + px->pos;
    const char *end = text + px->src->len;
    struct tok *t = &px->t;

    while (p < end && strchr(" \t\r\n", *p) && *p)
        p++;
    t->off = (size_t)(p - text);
    t->len = 1;
    if (p >= end)
        t->kind = T_END;
    else if (*p == '(')
        t->kind = T_LP;
    else if (*p == ')')
        t->kind = T_RP;
    else if (*p == ',')
        t->kind = T_COMMA;
    else if (*p == '\0') {
        px_syntax(px, t->off, "NUL byte in condition");
        t->kind = T_END;
        return;
    } else if (strchr("=!<>", *p))
        lex_op(px, p, end);
    else if (*p == '"' || *p == '\'')
        lex_string(px, p, end);
    else {
        const char *s = p;
        while (s < end && is_bare(*s))
            s++;
        if (s == p) { /* a NUL byte inside the condition */
            px_syntax(px, t->off, "unexpected character in condition");
            t->kind = T_END;
            return;
        }
        t->kind = T_WORD;
        t->len = (size_t)(s - p);
    }
    px->pos = t->off + (t->kind == T_END ? 0 : t->len);
}

static bool tok_is(const struct px *px, const struct tok *t, const char *word)
{
    return t->kind == T_WORD && strlen(word) == t->len &&
           memcmp(px->src->text + t->off, word, t->len) == 0;
}

static const char *const keywords[] = {"and",        "or",       "not",  "in",    "contains",
                                       "startswith", "endswith", "glob", "exists"};

static bool tok_keyword(const struct px *px, const struct tok *t)
{
    for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
        if (tok_is(px, t, keywords[i]))
            return true;
    }
    return false;
}

/* The operator a token stands for, or -1. */
static int tok_operator(const struct px *px, const struct tok *t)
{
    static const struct {
        const char *w;
        enum rules_op op;
    } words[] = {{"in", RULES_OP_IN},
                 {"contains", RULES_OP_CONTAINS},
                 {"startswith", RULES_OP_STARTSWITH},
                 {"endswith", RULES_OP_ENDSWITH},
                 {"glob", RULES_OP_GLOB},
                 {"exists", RULES_OP_EXISTS}};

    if (t->kind == T_OP)
        return (int)t->op;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (tok_is(px, t, words[i].w))
            return (int)words[i].op;
    }
    return -1;
}

/* Literal value of a WORD or STR token into the arena (quotes removed,
 * backslash escapes resolved). NULL on allocation failure. */
static char *tok_value(struct px *px, const struct tok *t, size_t *len)
{
    const char *s = px->src->text + t->off;

    if (t->kind == T_WORD) {
        *len = t->len;
        return rules_arena_strndup(px->cc->arena, s, t->len);
    }
    char *d = rules_arena_alloc(px->cc->arena, t->len);
    size_t n = 0;
    if (!d)
        return NULL;
    for (size_t i = 1; i + 1 < t->len; i++) {
        if (s[i] == '\\' && i + 2 < t->len)
            i++;
        d[n++] = s[i];
    }
    d[n] = '\0';
    *len = n;
    return d;
}

/* ---- nodes ---- */

static struct rules_node *node_new(struct px *px, enum rules_node_kind kind)
{
    struct rules_node *n = rules_arena_alloc(px->cc->arena, sizeof(*n));
    if (!n) {
        px_syntax(px, px->t.off, "out of memory");
        return NULL;
    }
    n->kind = (uint8_t)kind;
    return n;
}

/* Node kind over kids[0..n-1] copied into the arena. */
static struct rules_node *node_group(struct rules_arena *a, enum rules_node_kind kind,
                                     struct rules_node **kids, size_t n)
{
    struct rules_node *g = rules_arena_alloc(a, sizeof(*g));
    struct rules_node **k = rules_arena_alloc(a, n * sizeof(*k));
    if (!g || !k)
        return NULL;
    memcpy(k, kids, n * sizeof(*k));
    g->kind = (uint8_t)kind;
    g->kids = k;
    g->nkids = n;
    return g;
}

/* ---- literals ---- */

static bool op_applies(enum rules_type t, enum rules_op op)
{
    switch (t) {
    case RULES_T_STR:
        return op == RULES_OP_EQ || op == RULES_OP_NE || op >= RULES_OP_CONTAINS;
    case RULES_T_NUM:
    case RULES_T_TIME:
    case RULES_T_TLSVER:
        return op <= RULES_OP_GE || op == RULES_OP_IN || op == RULES_OP_EXISTS;
    case RULES_T_BOOL:
        return op == RULES_OP_EQ || op == RULES_OP_NE || op == RULES_OP_EXISTS;
    case RULES_T_IP:
        return op == RULES_OP_EQ || op == RULES_OP_NE || op == RULES_OP_IN || op == RULES_OP_EXISTS;
    case RULES_T_LIST:
        return op == RULES_OP_CONTAINS || op == RULES_OP_IN || op == RULES_OP_EXISTS;
    }
    return false;
}

const char *rules_value_convert(struct rules_arena *a, const struct rules_field *f,
                                enum rules_op op, const char *s, size_t len, struct rules_val *out)
{
    switch ((enum rules_type)f->type) {
    case RULES_T_STR:
    case RULES_T_LIST:
        out->u.str.s = rules_arena_strndup(a, s, len);
        out->u.str.len = len;
        return out->u.str.s ? NULL : "out of memory";
    case RULES_T_NUM:
        return rules_num_parse(s, len, &out->u.n) ? NULL : "is not a number";
    case RULES_T_TIME:
        return rules_time_parse(s, len, &out->u.n)
                   ? NULL
                   : "is not a timestamp (epoch seconds or 2026-12-03T15:30:07Z)";
    case RULES_T_TLSVER:
        return rules_tlsver_parse(s, len, &out->u.n)
                   ? NULL
                   : "is not a TLS version (write \"TLS 1.2\", \"SSL 3.0\" or 0x0303)";
    case RULES_T_BOOL:
        if (len == 4 && memcmp(s, "true", 4) == 0)
            out->u.b = true;
        else if (len == 5 && memcmp(s, "false", 5) == 0)
            out->u.b = false;
        else
            return "is not a boolean (true or false)";
        return NULL;
    case RULES_T_IP:
        if (!rules_cidr_parse(s, len, &out->u.ip))
            return "is not an IP address or CIDR range";
        if (op != RULES_OP_IN && out->u.ip.bits != (out->u.ip.family == RULES_AF_INET ? 32 : 128))
            return "is a CIDR range: use `in (...)` for membership";
        return NULL;
    }
    return "has an unknown type";
}

/* Convert one literal token for field f, reporting at the token. */
static bool convert_tok(struct px *px, const struct rules_field *f, enum rules_op op,
                        const struct tok *t, struct rules_val *out)
{
    size_t len;
    char *s = tok_value(px, t, &len);
    if (!s)
        return false;
    const char *why = rules_value_convert(px->cc->arena, f, op, s, len, out);
    if (why) {
        char msg[160];
        snprintf(msg, sizeof(msg), "%s (field %s, %s)", why, f->name, rules_type_name(f->type));
        px_err(px, t->off, "'%s' %s", s, msg);
        return false;
    }
    return true;
}

/* Values of an `in` set while it is parsed (compile time only). */
struct valbuf {
    struct rules_val *v;
    size_t n, cap;
};

/* Room for one more value, or NULL when out of memory. */
static struct rules_val *valbuf_slot(struct valbuf *vb)
{
    if (vb->n == vb->cap) {
        size_t nc = vb->cap ? vb->cap * 2 : 8;
        struct rules_val *nv = realloc(vb->v, nc * sizeof(*nv));
        if (!nv)
            return NULL;
        vb->v = nv;
        vb->cap = nc;
    }
    return &vb->v[vb->n];
}

/* Append the items of list l (referenced at offset at), converting each. */
static void set_add_list(struct px *px, const struct rules_field *f, const struct rules_list_def *l,
                         size_t at, struct valbuf *vb)
{
    if (l->n > RULES_MAX_VALUES - px->cc->values) {
        px_err(px, at, "lists used in conditions add up to more than %d values", RULES_MAX_VALUES);
        return;
    }
    px->cc->values += l->n;
    for (size_t i = 0; i < l->n; i++) {
        struct rules_val *slot = valbuf_slot(vb);
        if (!slot) {
            px_syntax(px, at, "out of memory");
            return;
        }
        const char *why = rules_value_convert(px->cc->arena, f, RULES_OP_IN, l->items[i],
                                              strlen(l->items[i]), slot);
        if (why) {
            char msg[300];
            snprintf(msg, sizeof(msg), "item '%.100s' %s (field %s)", l->items[i], why, f->name);
            px_err(px, at, "list '%s': %s", l->name, msg);
            continue;
        }
        vb->n++;
    }
}

/* One value of a parenthesised set: a literal, or the name of a list. */
static void set_add_item(struct px *px, const struct rules_field *f, struct valbuf *vb)
{
    const struct rules_list_def *l =
        px->t.kind == T_WORD ? rules_cc_list(px->cc, px->src->text + px->t.off, px->t.len) : NULL;

    if (!f)
        return;
    if (l) {
        set_add_list(px, f, l, px->t.off, vb);
        return;
    }
    struct rules_val *slot = valbuf_slot(vb);
    if (!slot)
        px_syntax(px, px->t.off, "out of memory");
    else if (convert_tok(px, f, RULES_OP_IN, &px->t, slot))
        vb->n++;
}

/* "( v1, v2, ... )" with the current token on '('. */
static void parse_set_items(struct px *px, const struct rules_field *f, struct valbuf *vb)
{
    char b[80];

    next(px);
    while (!px->aborted) {
        if (px->t.kind != T_WORD && px->t.kind != T_STR) {
            px_syntax(px, px->t.off, "expected a value in the list, got '%s'",
                      tok_show(px, &px->t, b, sizeof(b)));
            return;
        }
        set_add_item(px, f, vb);
        next(px);
        if (px->t.kind == T_RP)
            break;
        if (px->t.kind != T_COMMA) {
            px_syntax(px, px->t.off, "expected ',' or ')' in the list, got '%s'",
                      tok_show(px, &px->t, b, sizeof(b)));
            return;
        }
        next(px);
    }
    if (!px->aborted)
        next(px);
}

/* ---- comparisons ---- */

/* The operand of `in`: a list name or a parenthesised set. */
static struct rules_node *parse_in(struct px *px, struct rules_node *n, const struct rules_field *f)
{
    struct valbuf vb = {0};
    char b[80];

    if (px->t.kind == T_WORD && !tok_keyword(px, &px->t)) {
        const struct rules_list_def *l =
            rules_cc_list(px->cc, px->src->text + px->t.off, px->t.len);
        if (!l)
            px_err(px, px->t.off, "unknown list '%s'", tok_show(px, &px->t, b, sizeof(b)));
        else if (f)
            set_add_list(px, f, l, px->t.off, &vb);
        next(px);
    } else if (px->t.kind == T_LP) {
        parse_set_items(px, f, &vb);
    } else {
        px_syntax(px, px->t.off, "expected '(' or a list name after 'in', got '%s'",
                  tok_show(px, &px->t, b, sizeof(b)));
    }

    if (n && !px->failed && !px->aborted) {
        n->set = rules_arena_alloc(px->cc->arena, (vb.n ? vb.n : 1) * sizeof(*vb.v));
        if (n->set && vb.n)
            memcpy(n->set, vb.v, vb.n * sizeof(*vb.v));
        n->nset = vb.n;
    }
    free(vb.v);
    return n;
}

/* Resolve a field token: NULL after reporting. */
static const struct rules_field *resolve_field(struct px *px, const struct tok *ft,
                                               const char **key)
{
    const char *name = px->src->text + ft->off;
    const char *k;
    size_t klen;
    char b[80];

    const struct rules_field *f = rules_field_find(name, ft->len, &k, &klen);
    if (!f) {
        const char *sug = rules_field_suggest(name, ft->len);
        px_err(px, ft->off,
               sug ? "unknown field '%s' (did you mean '%s'?)" : "unknown field '%s'%s",
               tok_show(px, ft, b, sizeof(b)), sug ? sug : "");
        return NULL;
    }
    *key = k ? rules_arena_strndup(px->cc->arena, k, klen) : NULL;
    if (px->kinds && !(f->kinds & px->kinds)) {
        if (px->quiet && !px->bad_kind_field)
            px->bad_kind_field = f->name;
        px_err(px, ft->off, "field '%s' is not available in %s events (only in certificate rules)",
               f->name, (px->kinds & RULES_K_FLOW) ? "flow" : "certificate");
        return NULL;
    }
    return f;
}

static struct rules_node *parse_cmp(struct px *px, const struct tok *ft)
{
    const char *key = NULL;
    const struct rules_field *f = resolve_field(px, ft, &key);
    int op = tok_operator(px, &px->t);
    struct tok optok = px->t;
    struct rules_node *n = NULL;
    char b[80];

    if (f && !op_applies((enum rules_type)f->type, (enum rules_op)op)) {
        char what[160];
        snprintf(what, sizeof(what), "'%s' (%s)", f->name, rules_type_name(f->type));
        px_err(px, optok.off, "operator '%s' does not apply to field %s",
               tok_show(px, &optok, b, sizeof(b)), what);
        f = NULL;
    }
    if (f) {
        n = node_new(px, op == RULES_OP_EXISTS ? RULES_N_EXISTS
                         : op == RULES_OP_IN   ? RULES_N_SET
                                               : RULES_N_CMP);
        if (!n)
            return NULL;
        n->op = (uint8_t)op;
        n->field = f;
        n->key = key;
    }
    next(px);
    if (op == RULES_OP_EXISTS)
        return n;
    if (op == RULES_OP_IN)
        return parse_in(px, n, f);

    if (px->t.kind != T_WORD && px->t.kind != T_STR) {
        px_syntax(px, px->t.off, "expected a value after the operator, got '%s'",
                  tok_show(px, &px->t, b, sizeof(b)));
        return NULL;
    }
    if (f && !convert_tok(px, f, (enum rules_op)op, &px->t, &n->v))
        n = NULL;
    next(px);
    return n;
}

/* ---- macros ---- */

static struct rules_node *parse_full(struct px *px);
static void check_macro(struct rules_cc *cc, struct rules_macro_def *m);

static struct rules_node *inline_macro(struct px *px, const struct tok *wt,
                                       struct rules_macro_def *m)
{
    if (++px->cc->expansions > RULES_MAX_EXPANSIONS) {
        px_err(px, wt->off, "macros expand to more than %d references", RULES_MAX_EXPANSIONS);
        return NULL;
    }
    if (m->state == 0)
        check_macro(px->cc, m);
    if (m->state == 1) {
        char path[400] = "";
        for (size_t i = 0; i < px->cc->nstack; i++) {
            if (strlen(path) + strlen(px->cc->stack[i]) + 8 < sizeof(path)) {
                strcat(path, px->cc->stack[i]);
                strcat(path, " -> ");
            }
        }
        px_err(px, wt->off, "macro cycle: %s%s", path, m->name);
        return NULL;
    }
    if (m->state != 2) {
        px->failed = true; /* its own errors were reported where it is defined */
        return NULL;
    }

    struct px sub = {.cc = px->cc, .src = &m->src, .kinds = px->kinds, .quiet = true};
    sub.depth = px->depth + 1;
    struct rules_node *n = parse_full(&sub);
    if (sub.bad_kind_field) {
        px_err(px, wt->off, "macro '%s' uses field '%s', which only certificate events have",
               m->name, sub.bad_kind_field);
    } else if (sub.depth > EXPR_MAX_DEPTH || (!n && !px->failed)) {
        px_err(px, wt->off, "macro '%s' cannot be inlined here (nested too deeply)", m->name);
    }
    if (!n)
        px->failed = true;
    return n;
}

static struct rules_node *parse_macro_ref(struct px *px, const struct tok *wt)
{
    const char *name = px->src->text + wt->off;
    struct rules_macro_def *m = rules_cc_macro(px->cc, name, wt->len);
    char b[80];

    if (m)
        return inline_macro(px, wt, m);

    const char *k;
    size_t kl;
    if (rules_field_find(name, wt->len, &k, &kl)) {
        px_err(px, px->t.off, "expected an operator after field '%s'",
               tok_show(px, wt, b, sizeof(b)));
        px->aborted = true;
        return NULL;
    }
    const char *sug = NULL;
    size_t best = (size_t)-1;
    for (size_t i = 0; i < px->cc->nmacros; i++) {
        const char *mn = px->cc->macros[i]->name;
        size_t d = rules_levenshtein(name, wt->len, mn, strlen(mn));
        if (d < best && d <= 2 + wt->len / 4) {
            best = d;
            sug = mn;
        }
    }
    if (!sug && memchr(name, '.', wt->len))
        sug = rules_field_suggest(name, wt->len);
    px_err(px, wt->off,
           sug ? "unknown macro or field '%s' (did you mean '%s'?)" : "unknown macro '%s'%s",
           tok_show(px, wt, b, sizeof(b)), sug ? sug : "");
    return NULL;
}

/* ---- grammar ---- */

static struct rules_node *parse_or(struct px *px);

static struct rules_node *parse_primary(struct px *px)
{
    char b[80];

    if (px->t.kind == T_LP) {
        size_t open = px->t.off;
        next(px);
        struct rules_node *n = parse_or(px);
        if (px->aborted)
            return NULL;
        if (px->t.kind != T_RP) {
            if (px->t.kind == T_END)
                px_syntax(px, open, "'(' is never closed");
            else
                px_syntax(px, px->t.off, "expected ')' here, got '%s'",
                          tok_show(px, &px->t, b, sizeof(b)));
            return NULL;
        }
        next(px);
        return n;
    }
    if (px->t.kind != T_WORD || tok_keyword(px, &px->t)) {
        px_syntax(px, px->t.off, "expected a field, a macro or '(', got '%s'",
                  tok_show(px, &px->t, b, sizeof(b)));
        return NULL;
    }
    struct tok w = px->t;
    next(px);
    if (px->aborted)
        return NULL;
    if (tok_operator(px, &px->t) >= 0)
        return parse_cmp(px, &w);
    return parse_macro_ref(px, &w);
}

static struct rules_node *parse_unary(struct px *px)
{
    if (!tok_is(px, &px->t, "not"))
        return parse_primary(px);
    if (++px->depth > EXPR_MAX_DEPTH) {
        px_syntax(px, px->t.off, "condition nested too deeply");
        return NULL;
    }
    next(px);
    struct rules_node *kid = parse_unary(px);
    px->depth--;
    if (!kid)
        return NULL;
    return node_group(px->cc->arena, RULES_N_NOT, &kid, 1);
}

/* One level of 'and' or 'or': items joined by word, flattened. */
static struct rules_node *parse_chain(struct px *px, const char *word, enum rules_node_kind kind,
                                      struct rules_node *(*item)(struct px *))
{
    struct rules_node *stack[16];
    struct rules_node **kids = stack;
    size_t n = 0, cap = 16;
    struct rules_node *res = NULL;

    if (++px->depth > EXPR_MAX_DEPTH) {
        px_syntax(px, px->t.off, "condition nested too deeply");
        return NULL;
    }
    for (;;) {
        struct rules_node *k = item(px);
        if (px->aborted)
            goto out;
        if (n == cap) {
            struct rules_node **nk = malloc(cap * 2 * sizeof(*nk));
            if (!nk)
                goto out;
            memcpy(nk, kids, n * sizeof(*nk));
            if (kids != stack)
                free(kids);
            kids = nk;
            cap *= 2;
        }
        kids[n++] = k;
        if (!tok_is(px, &px->t, word))
            break;
        next(px);
    }
    if (!px->failed)
        res = n == 1 ? kids[0] : node_group(px->cc->arena, kind, kids, n);
out:
    if (kids != stack)
        free(kids);
    px->depth--;
    return res;
}

static struct rules_node *parse_and(struct px *px)
{
    return parse_chain(px, "and", RULES_N_AND, parse_unary);
}

static struct rules_node *parse_or(struct px *px)
{
    return parse_chain(px, "or", RULES_N_OR, parse_and);
}

static struct rules_node *parse_full(struct px *px)
{
    char b[80];

    if (px->depth > EXPR_MAX_DEPTH)
        return NULL;
    next(px);
    if (px->t.kind == T_END && !px->aborted) {
        px_syntax(px, px->t.off, "empty condition");
        return NULL;
    }
    struct rules_node *n = parse_or(px);
    if (!px->aborted && px->t.kind != T_END) {
        px_syntax(px, px->t.off,
                  px->t.kind == T_RP ? "unbalanced '%s'"
                                     : "expected 'and', 'or' or the end, got '%s'",
                  tok_show(px, &px->t, b, sizeof(b)));
    }
    return px->failed || px->aborted ? NULL : n;
}

struct rules_node *rules_expr_compile(struct rules_cc *cc, const struct rules_src *src,
                                      unsigned kinds)
{
    struct px px = {.cc = cc, .src = src, .kinds = kinds};
    if (!src->text)
        return NULL;
    return parse_full(&px);
}

static void check_macro(struct rules_cc *cc, struct rules_macro_def *m)
{
    if (cc->nstack >= sizeof(cc->stack) / sizeof(cc->stack[0])) {
        rules_cc_error(cc, &m->loc, "macro '%s': macros nested too deeply", m->name);
        m->state = 3;
        return;
    }
    if (!m->src.text) {
        m->state = 3;
        return;
    }
    m->state = 1;
    cc->stack[cc->nstack++] = m->name;
    struct px px = {.cc = cc, .src = &m->src, .kinds = 0};
    struct rules_node *n = parse_full(&px);
    cc->nstack--;
    m->state = n ? 2 : 3;
}

void rules_expr_check_macros(struct rules_cc *cc)
{
    for (size_t i = 0; i < cc->nmacros; i++) {
        if (cc->macros[i]->state == 0)
            check_macro(cc, cc->macros[i]);
    }
}

/* ---- exceptions ---- */

static struct rules_node *exc_cell(struct rules_cc *cc, const struct rules_field *f,
                                   const char *key, const struct rules_exc_cell *c)
{
    struct rules_node *n = rules_arena_alloc(cc->arena, sizeof(*n));
    struct rules_val *v = rules_arena_alloc(cc->arena, (c->nalts ? c->nalts : 1) * sizeof(*v));
    bool ok = n && v;

    for (size_t i = 0; ok && i < c->nalts; i++) {
        const char *why =
            rules_value_convert(cc->arena, f, RULES_OP_IN, c->alts[i], strlen(c->alts[i]), &v[i]);
        if (why) {
            rules_cc_error(cc, &c->loc, "exception value '%.100s' %s (field %s, %s)", c->alts[i],
                           why, f->name, rules_type_name(f->type));
            ok = false;
        }
    }
    if (!ok)
        return NULL;
    n->kind = RULES_N_SET;
    n->op = RULES_OP_IN;
    n->field = f;
    n->key = key;
    n->set = v;
    n->nset = c->nalts;
    return n;
}

static struct rules_node *exc_one(struct rules_cc *cc, const struct rules_exc_def *d,
                                  unsigned kinds, bool *ok)
{
    const struct rules_field *fs[16];
    const char *keys[16];
    struct rules_node *rows = NULL;

    if (d->nfields > 16) {
        rules_cc_error(cc, &d->loc, "exception '%s': at most 16 fields", d->name);
        *ok = false;
        return NULL;
    }
    for (size_t i = 0; i < d->nfields; i++) {
        const char *k;
        size_t kl;
        fs[i] = rules_field_find(d->fields[i], strlen(d->fields[i]), &k, &kl);
        keys[i] = k ? rules_arena_strndup(cc->arena, k, kl) : NULL;
        if (!fs[i]) {
            const char *sug = rules_field_suggest(d->fields[i], strlen(d->fields[i]));
            rules_cc_error(cc, &d->floc[i], "unknown field '%s'%s%s%s", d->fields[i],
                           sug ? " (did you mean '" : "", sug ? sug : "", sug ? "'?)" : "");
            *ok = false;
        } else if (kinds && !(fs[i]->kinds & kinds)) {
            rules_cc_error(cc, &d->floc[i], "field '%s' is not available in flow events",
                           fs[i]->name);
            *ok = false;
            fs[i] = NULL;
        }
    }
    if (!*ok)
        return NULL;

    struct rules_node **rk = rules_arena_alloc(cc->arena, (d->nrows + 1) * sizeof(*rk));
    if (!rk)
        return NULL;
    for (size_t r = 0; r < d->nrows; r++) {
        struct rules_node **cells = rules_arena_alloc(cc->arena, d->nfields * sizeof(*cells));
        if (!cells)
            return NULL;
        for (size_t i = 0; i < d->nfields; i++) {
            cells[i] = exc_cell(cc, fs[i], keys[i], &d->cells[r * d->nfields + i]);
            *ok = *ok && cells[i];
        }
        rk[r] = node_group(cc->arena, RULES_N_AND, cells, d->nfields);
    }
    if (*ok && d->nrows)
        rows = node_group(cc->arena, RULES_N_OR, rk, d->nrows);
    return rows;
}

struct rules_node *rules_exc_compile(struct rules_cc *cc, struct rules_exc_def *const *defs,
                                     size_t n, unsigned kinds, bool *ok)
{
    struct rules_node **all = rules_arena_alloc(cc->arena, (n + 1) * sizeof(*all));
    size_t k = 0;

    *ok = true;
    if (!all)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        struct rules_node *e = exc_one(cc, defs[i], kinds, ok);
        if (e)
            all[k++] = e;
    }
    if (!*ok || k == 0)
        return NULL;
    return node_group(cc->arena, RULES_N_OR, all, k);
}

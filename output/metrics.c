/* Metrics registry and its two exposition formats. See metrics.h. */
#include "output/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_OVERFLOW_FAMILY "vtls_metrics_series_overflow_total"
/* Stored label values of one series, NUL-separated. */
#define METRICS_VALS_MAX (METRICS_MAX_LABELS * METRICS_VALUE_MAX)

struct metrics_series {
    struct metrics_series *hnext;               /* hash chain */
    struct metrics_series *prev, *next;         /* creation order, for rendering */
    struct metrics_series *lru_prev, *lru_next; /* most recently updated first */
    uint64_t hash;
    size_t vals_len;   /* bytes of vals, NULs included */
    double value;      /* counter or gauge value; histogram sum */
    uint64_t count;    /* histogram observations */
    uint64_t bucket[]; /* histogram: per-bucket (not cumulative) counts; then vals */
};

struct metrics_family {
    struct metrics *m;
    struct metrics_family *next;
    enum metrics_type type;
    enum metrics_bound bound;
    char *name;
    char *help;
    char *label_buf; /* label names, NUL-separated; label[i] point into it */
    const char *label[METRICS_MAX_LABELS];
    size_t nlabels;
    double le[METRICS_MAX_BUCKETS];
    size_t nle;
    size_t cap;
    size_t nseries; /* in the hash table (the overflow series is not) */
    struct metrics_series **table;
    size_t table_mask;
    struct metrics_series *head, *tail;
    struct metrics_series *lru_head, *lru_tail;
    struct metrics_series *overflow;
    uint64_t overflows;
    uint64_t evictions;
};

struct metrics {
    pthread_mutex_t mu;
    struct metrics_family *first, *last;
};

/* ---- small helpers ---- */

static void metrics_err(char *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(err, METRICS_ERRLEN, fmt, ap);
    va_end(ap);
}

static char *metrics_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);

    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

static uint64_t metrics_hash(const char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

static bool metrics_name_ok(const char *s, bool colon)
{
    if (s == NULL || *s == '\0')
        return false;
    for (size_t i = 0; s[i] != '\0'; i++) {
        char c = s[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        bool ok = alpha || (colon && c == ':') || (i > 0 && c >= '0' && c <= '9');

        if (!ok)
            return false;
    }
    return true;
}

static bool metrics_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* ---- buffer ---- */

void metrics_buf_free(struct metrics_buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

static bool metrics_buf_reserve(struct metrics_buf *b, size_t more)
{
    size_t want, ncap;
    char *nd;

    if (b->failed)
        return false;
    if (more < b->cap - b->len)
        return true;
    want = b->len + more + 1;
    ncap = b->cap ? b->cap : 4096;
    while (ncap < want)
        ncap *= 2;
    nd = realloc(b->data, ncap);
    if (nd == NULL) {
        b->failed = true;
        return false;
    }
    b->data = nd;
    b->cap = ncap;
    return true;
}

static void metrics_buf_put(struct metrics_buf *b, const char *s, size_t n)
{
    if (!metrics_buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void metrics_buf_str(struct metrics_buf *b, const char *s)
{
    metrics_buf_put(b, s, strlen(s));
}

/* Escape backslash, newline and (when quote) the double quote. */
static void metrics_buf_escaped(struct metrics_buf *b, const char *s, bool quote)
{
    const char *run = s;

    for (; *s != '\0'; s++) {
        const char *rep = NULL;

        if (*s == '\\')
            rep = "\\\\";
        else if (*s == '\n')
            rep = "\\n";
        else if (*s == '"' && quote)
            rep = "\\\"";
        if (rep == NULL)
            continue;
        metrics_buf_put(b, run, (size_t)(s - run));
        metrics_buf_str(b, rep);
        run = s + 1;
    }
    metrics_buf_put(b, run, (size_t)(s - run));
}

/* Shortest text that reads back as v; integers without exponent. With
 * canonical (OpenMetrics le values), integers get a ".0". */
static void metrics_fmt_double(char out[40], double v, bool canonical)
{
    if (isnan(v)) {
        strcpy(out, "NaN");
        return;
    }
    if (isinf(v)) {
        strcpy(out, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(out, 40, canonical ? "%.1f" : "%.0f", v);
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, 40, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            break;
    }
    if (canonical && strpbrk(out, ".eE") == NULL)
        strcat(out, ".0");
}

static void metrics_buf_double(struct metrics_buf *b, double v, bool canonical)
{
    char tmp[40];

    metrics_fmt_double(tmp, v, canonical);
    metrics_buf_str(b, tmp);
}

/* ---- label values ---- */

/* Length of a valid UTF-8 sequence at p (at most n bytes), 0 if invalid. */
static size_t metrics_utf8_len(const uint8_t *p, size_t n)
{
    size_t len;
    uint32_t cp;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        len = 2, cp = p[0] & 0x1f;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        len = 3, cp = p[0] & 0x0f;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        len = 4, cp = p[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

/* Copy s sanitised into out (room for METRICS_VALUE_MAX bytes); returns the
 * bytes written including the NUL. */
static size_t metrics_sanitize(const char *s, char *out)
{
    const uint8_t *p = (const uint8_t *)(s ? s : "");
    size_t n = strlen((const char *)p), o = 0;

    while (n > 0) {
        size_t k = metrics_utf8_len(p, n);

        if (k == 0 || (k == 1 && ((p[0] < 0x20 && p[0] != '\n') || p[0] == 0x7f))) {
            if (o + 1 > METRICS_VALUE_MAX - 1)
                break;
            out[o++] = '?';
            p++, n--;
            continue;
        }
        if (o + k > METRICS_VALUE_MAX - 1)
            break;
        memcpy(out + o, p, k);
        o += k, p += k, n -= k;
    }
    out[o++] = '\0';
    return o;
}

/* Sanitised values of all labels, NUL-separated, into key; returns length. */
static size_t metrics_key(const struct metrics_family *f, const char *const *vals, char *key)
{
    size_t len = 0;

    for (size_t i = 0; i < f->nlabels; i++)
        len += metrics_sanitize(vals ? vals[i] : NULL, key + len);
    return len;
}

/* ---- registry ---- */

struct metrics *metrics_new(void)
{
    struct metrics *m = calloc(1, sizeof(*m));
    pthread_mutexattr_t attr;

    if (m == NULL)
        return NULL;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    if (pthread_mutex_init(&m->mu, &attr) != 0) {
        free(m);
        m = NULL;
    }
    pthread_mutexattr_destroy(&attr);
    return m;
}

static void metrics_family_free(struct metrics_family *f)
{
    struct metrics_series *s = f->head;

    while (s != NULL) {
        struct metrics_series *n = s->next;

        free(s);
        s = n;
    }
    free(f->overflow);
    free(f->table);
    free(f->name);
    free(f->help);
    free(f->label_buf);
    free(f);
}

void metrics_free(struct metrics *m)
{
    struct metrics_family *f;

    if (m == NULL)
        return;
    f = m->first;
    while (f != NULL) {
        struct metrics_family *n = f->next;

        metrics_family_free(f);
        f = n;
    }
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void metrics_lock(struct metrics *m)
{
    pthread_mutex_lock(&m->mu);
}

void metrics_unlock(struct metrics *m)
{
    pthread_mutex_unlock(&m->mu);
}

struct metrics_family *metrics_find(struct metrics *m, const char *name)
{
    struct metrics_family *f;

    metrics_lock(m);
    for (f = m->first; f != NULL; f = f->next)
        if (strcmp(f->name, name) == 0)
            break;
    metrics_unlock(m);
    return f;
}

/* Split spec->labels into f->label[]. */
static bool metrics_parse_labels(struct metrics_family *f, const char *labels, char *err)
{
    char *p;

    if (labels == NULL || *labels == '\0')
        return true;
    f->label_buf = metrics_strdup(labels);
    if (f->label_buf == NULL) {
        metrics_err(err, "out of memory");
        return false;
    }
    for (p = f->label_buf;;) {
        char *comma = strchr(p, ',');

        if (comma != NULL)
            *comma = '\0';
        if (f->nlabels == METRICS_MAX_LABELS) {
            metrics_err(err, "%s: more than %d labels", f->name, METRICS_MAX_LABELS);
            return false;
        }
        if (!metrics_name_ok(p, false) || strncmp(p, "__", 2) == 0 ||
            (f->type == METRICS_HISTOGRAM && strcmp(p, "le") == 0)) {
            metrics_err(err, "%s: invalid label name \"%s\"", f->name, p);
            return false;
        }
        for (size_t i = 0; i < f->nlabels; i++) {
            if (strcmp(f->label[i], p) == 0) {
                metrics_err(err, "%s: duplicate label name \"%s\"", f->name, p);
                return false;
            }
        }
        f->label[f->nlabels++] = p;
        if (comma == NULL)
            return true;
        p = comma + 1;
    }
}

static bool metrics_check_spec(const struct metrics_spec *spec, char *err)
{
    if (!metrics_name_ok(spec->name, true)) {
        metrics_err(err, "invalid metric name \"%s\"", spec->name ? spec->name : "(null)");
        return false;
    }
    if (strcmp(spec->name, METRICS_OVERFLOW_FAMILY) == 0) {
        metrics_err(err, "%s: name reserved by the registry", spec->name);
        return false;
    }
    if (spec->type == METRICS_COUNTER && !metrics_ends_with(spec->name, "_total")) {
        metrics_err(err, "%s: a counter name must end in _total", spec->name);
        return false;
    }
    if (spec->type != METRICS_HISTOGRAM)
        return true;
    if (spec->nbuckets < 1 || spec->nbuckets > METRICS_MAX_BUCKETS || spec->buckets == NULL) {
        metrics_err(err, "%s: a histogram needs 1 to %d buckets", spec->name, METRICS_MAX_BUCKETS);
        return false;
    }
    for (size_t i = 0; i < spec->nbuckets; i++) {
        if (!isfinite(spec->buckets[i]) || (i > 0 && spec->buckets[i] <= spec->buckets[i - 1])) {
            metrics_err(err, "%s: buckets must be finite and increasing", spec->name);
            return false;
        }
    }
    return true;
}

static struct metrics_series *metrics_series_new(const struct metrics_family *f, const char *key,
                                                 size_t key_len, uint64_t hash)
{
    size_t nb = f->type == METRICS_HISTOGRAM ? f->nle + 1 : 0;
    struct metrics_series *s = calloc(1, sizeof(*s) + nb * sizeof(uint64_t) + key_len);

    if (s == NULL)
        return NULL;
    s->hash = hash;
    s->vals_len = key_len;
    memcpy((char *)(s->bucket + nb), key, key_len);
    return s;
}

static const char *metrics_series_vals(const struct metrics_family *f,
                                       const struct metrics_series *s)
{
    size_t nb = f->type == METRICS_HISTOGRAM ? f->nle + 1 : 0;

    return (const char *)(s->bucket + nb);
}

static bool metrics_family_init(struct metrics_family *f, const struct metrics_spec *spec,
                                char *err)
{
    size_t slots = 16;

    f->type = spec->type;
    f->bound = spec->bound;
    f->cap = spec->cap ? spec->cap : METRICS_DEFAULT_CAP;
    f->name = metrics_strdup(spec->name);
    f->help = metrics_strdup(spec->help ? spec->help : "");
    if (f->name == NULL || f->help == NULL) {
        metrics_err(err, "out of memory");
        return false;
    }
    if (spec->type == METRICS_HISTOGRAM) {
        memcpy(f->le, spec->buckets, spec->nbuckets * sizeof(double));
        f->nle = spec->nbuckets;
    }
    if (!metrics_parse_labels(f, spec->labels, err))
        return false;
    while (slots < f->cap && slots < (1u << 20))
        slots *= 2;
    f->table = calloc(slots, sizeof(*f->table));
    f->table_mask = slots - 1;
    if (f->table == NULL) {
        metrics_err(err, "out of memory");
        return false;
    }
    return true;
}

static struct metrics_series *metrics_get(struct metrics_family *f, const char *const *vals,
                                          bool create);

struct metrics_family *metrics_register(struct metrics *m, const struct metrics_spec *spec,
                                        char *err)
{
    struct metrics_family *f = NULL;

    if (!metrics_check_spec(spec, err))
        return NULL;
    metrics_lock(m);
    if (metrics_find(m, spec->name) != NULL) {
        metrics_err(err, "%s: already registered", spec->name);
        goto out;
    }
    f = calloc(1, sizeof(*f));
    if (f == NULL) {
        metrics_err(err, "out of memory");
        goto out;
    }
    f->m = m;
    if (!metrics_family_init(f, spec, err)) {
        metrics_family_free(f);
        f = NULL;
        goto out;
    }
    if (f->nlabels == 0 && metrics_get(f, NULL, true) == NULL) {
        metrics_err(err, "out of memory");
        metrics_family_free(f);
        f = NULL;
        goto out;
    }
    if (m->last != NULL)
        m->last->next = f;
    else
        m->first = f;
    m->last = f;
out:
    metrics_unlock(m);
    return f;
}

/* ---- series table ---- */

static void metrics_lru_unlink(struct metrics_family *f, struct metrics_series *s)
{
    if (s->lru_prev != NULL)
        s->lru_prev->lru_next = s->lru_next;
    else if (f->lru_head == s)
        f->lru_head = s->lru_next;
    if (s->lru_next != NULL)
        s->lru_next->lru_prev = s->lru_prev;
    else if (f->lru_tail == s)
        f->lru_tail = s->lru_prev;
    s->lru_prev = s->lru_next = NULL;
}

static void metrics_lru_front(struct metrics_family *f, struct metrics_series *s)
{
    if (f->bound != METRICS_BOUND_LRU || f->lru_head == s)
        return;
    metrics_lru_unlink(f, s);
    s->lru_next = f->lru_head;
    if (f->lru_head != NULL)
        f->lru_head->lru_prev = s;
    f->lru_head = s;
    if (f->lru_tail == NULL)
        f->lru_tail = s;
}

static void metrics_unlink(struct metrics_family *f, struct metrics_series *s)
{
    struct metrics_series **pp = &f->table[s->hash & f->table_mask];

    while (*pp != s)
        pp = &(*pp)->hnext;
    *pp = s->hnext;
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        f->head = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    else
        f->tail = s->prev;
    metrics_lru_unlink(f, s);
    f->nseries--;
}

static void metrics_insert(struct metrics_family *f, struct metrics_series *s)
{
    struct metrics_series **slot = &f->table[s->hash & f->table_mask];

    s->hnext = *slot;
    *slot = s;
    s->prev = f->tail;
    if (f->tail != NULL)
        f->tail->next = s;
    else
        f->head = s;
    f->tail = s;
    f->nseries++;
    metrics_lru_front(f, s);
}

/* The overflow series, created on first use. NULL when out of memory. */
static struct metrics_series *metrics_overflow(struct metrics_family *f)
{
    char key[METRICS_VALS_MAX];
    size_t len = 0;

    if (f->overflow != NULL)
        return f->overflow;
    for (size_t i = 0; i < f->nlabels; i++)
        len += metrics_sanitize(METRICS_OVERFLOW_VALUE, key + len);
    f->overflow = metrics_series_new(f, key, len, 0);
    return f->overflow;
}

static struct metrics_series *metrics_lookup(struct metrics_family *f, const char *key, size_t len,
                                             uint64_t hash)
{
    struct metrics_series *s = f->table[hash & f->table_mask];

    for (; s != NULL; s = s->hnext)
        if (s->hash == hash && s->vals_len == len &&
            memcmp(metrics_series_vals(f, s), key, len) == 0)
            return s;
    return NULL;
}

/* Find or create the series for vals. Caller holds the lock. Returns NULL
 * when the cap is reached and no overflow applies (or out of memory); with
 * create false, returns NULL for a missing series. */
static struct metrics_series *metrics_get(struct metrics_family *f, const char *const *vals,
                                          bool create)
{
    char key[METRICS_VALS_MAX];
    size_t len = metrics_key(f, vals, key);
    uint64_t hash = metrics_hash(key, len);
    struct metrics_series *s = metrics_lookup(f, key, len, hash);

    if (s != NULL || !create)
        return s;
    if (f->nseries >= f->cap) {
        if (f->bound != METRICS_BOUND_LRU || f->lru_tail == NULL)
            return NULL;
        s = f->lru_tail;
        metrics_unlink(f, s);
        free(s);
        f->evictions++;
    }
    s = metrics_series_new(f, key, len, hash);
    if (s != NULL)
        metrics_insert(f, s);
    return s;
}

/* The series an update goes to: its own, or (counter and histogram adds)
 * the overflow series. NULL when dropped. */
static struct metrics_series *metrics_target(struct metrics_family *f, const char *const *vals,
                                             bool may_overflow)
{
    struct metrics_series *s = metrics_get(f, vals, true);

    if (s != NULL) {
        metrics_lru_front(f, s);
        return s;
    }
    f->overflows++;
    if (!may_overflow || f->bound == METRICS_BOUND_LRU)
        return NULL;
    return metrics_overflow(f);
}

/* ---- updates ---- */

bool metrics_add(struct metrics_family *f, const char *const *vals, double delta)
{
    struct metrics_series *s;

    if (f->type == METRICS_HISTOGRAM || isnan(delta) || (f->type == METRICS_COUNTER && delta < 0))
        return false;
    metrics_lock(f->m);
    s = metrics_target(f, vals, f->type == METRICS_COUNTER);
    if (s != NULL)
        s->value += delta;
    metrics_unlock(f->m);
    return s != NULL;
}

bool metrics_set(struct metrics_family *f, const char *const *vals, double v)
{
    struct metrics_series *s;

    if (f->type == METRICS_HISTOGRAM || (f->type == METRICS_COUNTER && (isnan(v) || v < 0)))
        return false;
    metrics_lock(f->m);
    s = metrics_target(f, vals, false);
    if (s != NULL)
        s->value = v;
    metrics_unlock(f->m);
    return s != NULL;
}

bool metrics_observe(struct metrics_family *f, const char *const *vals, double v)
{
    struct metrics_series *s;
    size_t i = 0;

    if (f->type != METRICS_HISTOGRAM || isnan(v))
        return false;
    while (i < f->nle && v > f->le[i])
        i++;
    metrics_lock(f->m);
    s = metrics_target(f, vals, true);
    if (s != NULL) {
        s->bucket[i]++;
        s->count++;
        s->value += v;
    }
    metrics_unlock(f->m);
    return s != NULL;
}

bool metrics_remove(struct metrics_family *f, const char *const *vals)
{
    struct metrics_series *s;

    metrics_lock(f->m);
    s = metrics_get(f, vals, false);
    if (s != NULL) {
        metrics_unlink(f, s);
        free(s);
    }
    metrics_unlock(f->m);
    return s != NULL;
}

void metrics_family_stats(struct metrics_family *f, struct metrics_family_stats *st)
{
    metrics_lock(f->m);
    st->series = f->nseries + (f->overflow != NULL);
    st->overflows = f->overflows;
    st->evictions = f->evictions;
    metrics_unlock(f->m);
}

/* ---- rendering ---- */

static const char *metrics_type_name(enum metrics_type t)
{
    switch (t) {
    case METRICS_COUNTER:
        return "counter";
    case METRICS_GAUGE:
        return "gauge";
    case METRICS_HISTOGRAM:
        return "histogram";
    }
    return "untyped";
}

/* "{a="x",b="y"" plus an optional le, then "}"; nothing without labels. */
static void metrics_render_labels(struct metrics_buf *b, const struct metrics_family *f,
                                  const char *vals, const char *le)
{
    if (f->nlabels == 0 && le == NULL)
        return;
    metrics_buf_str(b, "{");
    for (size_t i = 0; i < f->nlabels; i++) {
        if (i > 0)
            metrics_buf_str(b, ",");
        metrics_buf_str(b, f->label[i]);
        metrics_buf_str(b, "=\"");
        metrics_buf_escaped(b, vals, true);
        metrics_buf_str(b, "\"");
        vals += strlen(vals) + 1;
    }
    if (le != NULL) {
        metrics_buf_str(b, f->nlabels ? ",le=\"" : "le=\"");
        metrics_buf_str(b, le);
        metrics_buf_str(b, "\"");
    }
    metrics_buf_str(b, "}");
}

static void metrics_render_sample(struct metrics_buf *b, const struct metrics_family *f,
                                  const char *suffix, const char *vals, const char *le, double v)
{
    metrics_buf_str(b, f->name);
    metrics_buf_str(b, suffix);
    metrics_render_labels(b, f, vals, le);
    metrics_buf_str(b, " ");
    metrics_buf_double(b, v, false);
    metrics_buf_str(b, "\n");
}

static void metrics_render_histogram(struct metrics_buf *b, const struct metrics_family *f,
                                     const struct metrics_series *s, bool om)
{
    const char *vals = metrics_series_vals(f, s);
    uint64_t cum = 0;
    char le[40];

    for (size_t i = 0; i < f->nle; i++) {
        cum += s->bucket[i];
        metrics_fmt_double(le, f->le[i], om);
        metrics_render_sample(b, f, "_bucket", vals, le, (double)cum);
    }
    metrics_render_sample(b, f, "_bucket", vals, "+Inf", (double)s->count);
    metrics_render_sample(b, f, "_sum", vals, NULL, s->value);
    metrics_render_sample(b, f, "_count", vals, NULL, (double)s->count);
}

static void metrics_render_series(struct metrics_buf *b, const struct metrics_family *f,
                                  const struct metrics_series *s, bool om)
{
    if (f->type == METRICS_HISTOGRAM)
        metrics_render_histogram(b, f, s, om);
    else
        metrics_render_sample(b, f, "", metrics_series_vals(f, s), NULL, s->value);
}

/* HELP and TYPE lines. OpenMetrics names a counter family without _total. */
static void metrics_render_meta(struct metrics_buf *b, const char *name, const char *help,
                                const char *type, bool om)
{
    size_t n = strlen(name);

    if (om && strcmp(type, "counter") == 0)
        n -= strlen("_total");
    metrics_buf_str(b, "# HELP ");
    metrics_buf_put(b, name, n);
    metrics_buf_str(b, " ");
    metrics_buf_escaped(b, help, om);
    metrics_buf_str(b, "\n# TYPE ");
    metrics_buf_put(b, name, n);
    metrics_buf_str(b, " ");
    metrics_buf_str(b, type);
    metrics_buf_str(b, "\n");
}

static void metrics_render_family(struct metrics_buf *b, const struct metrics_family *f, bool om)
{
    metrics_render_meta(b, f->name, f->help, metrics_type_name(f->type), om);
    for (const struct metrics_series *s = f->head; s != NULL; s = s->next)
        metrics_render_series(b, f, s, om);
    if (f->overflow != NULL)
        metrics_render_series(b, f, f->overflow, om);
}

/* vtls_metrics_series_overflow_total{family}, once any family overflowed. */
static void metrics_render_overflows(struct metrics_buf *b, const struct metrics *m, bool om)
{
    const struct metrics_family *f;
    bool any = false;

    for (f = m->first; f != NULL; f = f->next) {
        if (f->overflows == 0)
            continue;
        if (!any)
            metrics_render_meta(b, METRICS_OVERFLOW_FAMILY,
                                "Updates that found their family's series cap reached.", "counter",
                                om);
        any = true;
        metrics_buf_str(b, METRICS_OVERFLOW_FAMILY "{family=\"");
        metrics_buf_str(b, f->name);
        metrics_buf_str(b, "\"} ");
        metrics_buf_double(b, (double)f->overflows, false);
        metrics_buf_str(b, "\n");
    }
}

bool metrics_render(struct metrics *m, enum metrics_format fmt, struct metrics_buf *out)
{
    bool om = fmt == METRICS_FMT_OPENMETRICS;

    metrics_lock(m);
    for (const struct metrics_family *f = m->first; f != NULL; f = f->next)
        metrics_render_family(out, f, om);
    metrics_render_overflows(out, m, om);
    metrics_unlock(m);
    if (om)
        metrics_buf_str(out, "# EOF\n");
    return !out->failed;
}

/* ---- the standard set ---- */

struct metrics_std_def {
    size_t offset;
    struct metrics_spec spec;
};

#define METRICS_STD(field) offsetof(struct metrics_std, field)

static const double metrics_hs_buckets[] = METRICS_HANDSHAKE_BUCKETS;

#define METRICS_DEF(field, t, n, h, l)                                                             \
    {                                                                                              \
        METRICS_STD(field),                                                                        \
        {                                                                                          \
            .type = (t), .name = (n), .help = (h), .labels = (l)                                   \
        }                                                                                          \
    }

static const struct metrics_std_def metrics_std_defs[] = {
    METRICS_DEF(packets, METRICS_COUNTER, "vtls_packets_total", "Packets captured.", NULL),
    METRICS_DEF(bytes, METRICS_COUNTER, "vtls_bytes_total", "Bytes captured (wire length).", NULL),
    METRICS_DEF(capture_drops, METRICS_COUNTER, "vtls_capture_drops_total",
                "Packets dropped before the sensor saw them, by where (kernel, interface).",
                "where"),
    METRICS_DEF(decode_errors, METRICS_COUNTER, "vtls_decode_errors_total",
                "Packets that failed to decode, by kind.", "kind"),
    METRICS_DEF(parser_errors, METRICS_COUNTER, "vtls_parser_errors_total",
                "Protocol parser errors by parser and kind.", "parser,kind"),
    METRICS_DEF(flows_active, METRICS_GAUGE, "vtls_flows_active", "Flows in the flow table.", NULL),
    METRICS_DEF(flows, METRICS_COUNTER, "vtls_flows_total",
                "Flows with a verdict, by client and server component, app, encryption and TLS "
                "version.",
                "client,server,app,encryption,tls_version"),
    METRICS_DEF(tls_handshakes, METRICS_COUNTER, "vtls_tls_handshakes_total",
                "TLS handshakes seen, by version and cipher class.", "version,cipher_class"),
    METRICS_DEF(alerts, METRICS_COUNTER, "vtls_alerts_total",
                "Alerts written, by rule and severity.", "rule,severity"),
    METRICS_DEF(alerts_suppressed, METRICS_COUNTER, "vtls_alerts_suppressed_total",
                "Alerts suppressed by de-duplication, by rule.", "rule"),
    {METRICS_STD(cert_not_after),
     {.type = METRICS_GAUGE,
      .name = "vtls_cert_not_after_timestamp_seconds",
      .help = "Certificate expiry (notAfter) as a Unix timestamp.",
      .labels = "subject_cn,issuer_cn,fingerprint_sha256,server",
      .cap = METRICS_CERT_LRU_CAP,
      .bound = METRICS_BOUND_LRU}},
    METRICS_DEF(plaintext_last_seen, METRICS_GAUGE, "vtls_plaintext_last_seen_timestamp_seconds",
                "Packet time a plaintext flow was last seen, by client and server component.",
                "client,server"),
    {METRICS_STD(handshake_duration),
     {.type = METRICS_HISTOGRAM,
      .name = "vtls_tls_handshake_duration_seconds",
      .help = "ClientHello to the server's last handshake message, by server component.",
      .labels = "server",
      .buckets = metrics_hs_buckets,
      .nbuckets = sizeof(metrics_hs_buckets) / sizeof(metrics_hs_buckets[0])}},
    METRICS_DEF(flow_evictions, METRICS_COUNTER, "vtls_flow_evictions_total",
                "Flows evicted from a full flow table before they ended.", NULL),
    METRICS_DEF(memory, METRICS_GAUGE, "vtls_memory_bytes",
                "Memory held by flow and reassembly tables.", NULL),
    METRICS_DEF(rules_reloads, METRICS_COUNTER, "vtls_rules_reloads_total",
                "Rules reloads by result.", "result"),
    METRICS_DEF(rules_last_reload_success, METRICS_GAUGE,
                "vtls_rules_last_reload_success_timestamp_seconds",
                "Wall-clock time of the last successful rules load.", NULL),
    METRICS_DEF(rules_loaded, METRICS_GAUGE, "vtls_rules_loaded", "Rules in effect.", NULL),
    METRICS_DEF(build_info, METRICS_GAUGE, "vtls_build_info",
                "Build information; the value is always 1.", "version,commit,libpcap,ndpi"),
};

bool metrics_register_std(struct metrics *m, struct metrics_std *std,
                          const struct metrics_build_info *bi, char *err)
{
    size_t n = sizeof(metrics_std_defs) / sizeof(metrics_std_defs[0]);
    const char *vals[4] = {bi ? bi->version : NULL, bi ? bi->commit : NULL, bi ? bi->libpcap : NULL,
                           bi ? bi->ndpi : NULL};

    memset(std, 0, sizeof(*std));
    for (size_t i = 0; i < n; i++) {
        struct metrics_family *f = metrics_register(m, &metrics_std_defs[i].spec, err);

        if (f == NULL)
            return false;
        memcpy((char *)std + metrics_std_defs[i].offset, &f, sizeof(f));
    }
    if (!metrics_set(std->build_info, vals, 1)) {
        metrics_err(err, "vtls_build_info: out of memory");
        return false;
    }
    return true;
}

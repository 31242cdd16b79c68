/* Plain HTTP/1.x request and response header dissector. See http1.h for
 * the contract. Wire format: RFC 9112 (message syntax), RFC 9110 (methods,
 * field names). */
#include "dissectors/http1.h"

#include <string.h>

/* Direction states. */
enum {
    ST_FIRST = 0, /* first line (request line / status line) */
    ST_HEADERS,   /* header fields up to the empty line */
    ST_END,       /* header block done, body or lost: not parsed */
};

static const char *const http1_methods[] = {"GET",     "POST",  "PUT",     "DELETE", "HEAD",
                                            "OPTIONS", "PATCH", "CONNECT", "TRACE"};
#define NMETHODS (sizeof(http1_methods) / sizeof(http1_methods[0]))

/* ---- Small helpers ----------------------------------------------------------- */

static void copy_str(char *out, size_t cap, const uint8_t *s, size_t n, bool *cut)
{
    size_t k = n < cap - 1 ? n : cap - 1;

    for (size_t i = 0; i < k; i++)
        out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
    out[k] = '\0';
    if (cut != NULL && k < n)
        *cut = true;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool name_eq(const uint8_t *s, size_t n, const char *lname)
{
    size_t ln = strlen(lname);

    if (n != ln)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower((char)s[i]) != lname[i])
            return false;
    return true;
}

static bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* Is s[0..n) a prefix of "<method> " for some known method? 1 a whole
 * method and its space, -1 a proper prefix, 0 neither. */
static int method_prefix(const uint8_t *s, size_t n)
{
    bool partial = false;

    for (size_t m = 0; m < NMETHODS; m++) {
        size_t ml = strlen(http1_methods[m]);
        size_t k = n < ml ? n : ml;
        if (memcmp(s, http1_methods[m], k) != 0)
            continue;
        if (n <= ml)
            partial = true;
        else if (s[ml] == ' ')
            return 1;
    }
    return partial ? -1 : 0;
}

int http1_probe_request(const uint8_t *buf, size_t n)
{
    size_t k = n < 9 ? n : 9; /* "OPTIONS " / "CONNECT " and one more */

    return method_prefix(buf, k);
}

static void fail(struct http1_parser *p, enum http1_error e)
{
    p->status = DISSECT_ERROR;
    p->error = (uint8_t)e;
}

static void check_done(struct http1_parser *p)
{
    const struct http1_facts *f = &p->facts;

    if (p->status != DISSECT_MORE)
        return;
    if (f->headers_done[0] && (f->headers_done[1] || p->d[1].st == ST_END))
        p->status = DISSECT_DONE;
}

/* ---- Lines --------------------------------------------------------------------- */

/* Request line: method SP request-target SP HTTP-version. */
static bool parse_request_line(struct http1_parser *p, const uint8_t *s, size_t n, bool over)
{
    struct http1_facts *f = &p->facts;
    const uint8_t *sp1 = memchr(s, ' ', n), *sp2;
    size_t tlen;

    if (sp1 == NULL || method_prefix(s, (size_t)(sp1 - s) + 1) != 1)
        return false;
    copy_str(f->method, sizeof(f->method), s, (size_t)(sp1 - s), NULL);
    sp2 = memchr(sp1 + 1, ' ', (size_t)(s + n - (sp1 + 1)));
    f->version_minor = -1;
    if (sp2 == NULL) {
        /* cut by the line cap: keep the target's start */
        if (!over || (size_t)(s + n - (sp1 + 1)) == 0)
            return false;
        tlen = (size_t)(s + n - (sp1 + 1));
        f->path_cut = true;
    } else {
        const uint8_t *v = sp2 + 1;
        size_t vl = (size_t)(s + n - v);
        tlen = (size_t)(sp2 - (sp1 + 1));
        if (tlen == 0 || vl != 8 || memcmp(v, "HTTP/1.", 7) != 0 || !is_digit(v[7]))
            return false;
        f->version_minor = (int8_t)(v[7] - '0');
    }
    copy_str(f->path, sizeof(f->path), sp1 + 1, tlen, &f->path_cut);
    f->request = true;
    return true;
}

/* Status line: HTTP-version SP status-code SP [reason-phrase]. */
static bool parse_status_line(struct http1_parser *p, const uint8_t *s, size_t n)
{
    struct http1_facts *f = &p->facts;

    if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || !is_digit(s[7]) || s[8] != ' ' ||
        !is_digit(s[9]) || !is_digit(s[10]) || !is_digit(s[11]) || (n > 12 && s[12] != ' '))
        return false;
    f->status = (uint16_t)((s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0'));
    f->response = true;
    return true;
}

/* Keep the value of a header we report (first occurrence). */
static void keep_header(struct http1_parser *p, int dir, const uint8_t *name, size_t nl,
                        const uint8_t *v, size_t vl)
{
    struct http1_facts *f = &p->facts;
    struct {
        const char *lname;
        int dir; /* -1 either */
        char *out;
        size_t cap;
    } const keep[] = {
        {"host", 0, f->host, sizeof(f->host)},
        {"user-agent", 0, f->user_agent, sizeof(f->user_agent)},
        {"content-type", 0, f->content_type, sizeof(f->content_type)},
        {"server", 1, f->server, sizeof(f->server)},
        {"x-server-from", -1, f->x_server_from, sizeof(f->x_server_from)},
        {"x-etcd-cluster-id", -1, f->x_etcd_cluster_id, sizeof(f->x_etcd_cluster_id)},
        {"x-raft-to", -1, f->x_raft_to, sizeof(f->x_raft_to)},
        {"x-server-version", -1, f->x_server_version, sizeof(f->x_server_version)},
    };

    for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
        if ((keep[i].dir == -1 || keep[i].dir == dir) && keep[i].out[0] == '\0' &&
            name_eq(name, nl, keep[i].lname)) {
            copy_str(keep[i].out, keep[i].cap, v, vl, NULL);
            return;
        }
    }
    if (dir == 0 && name_eq(name, nl, "upgrade") && vl == 3 && name_eq(v, vl, "h2c"))
        f->upgrade_h2c = true;
}

/* field-line = field-name ":" OWS field-value OWS. Malformed lines are
 * skipped (counted as headers) rather than failing the flow. */
static void parse_header(struct http1_parser *p, int dir, const uint8_t *s, size_t n)
{
    const uint8_t *colon = memchr(s, ':', n);
    const uint8_t *v, *end = s + n;

    p->facts.headers[dir]++;
    if (colon == NULL || colon == s)
        return;
    v = colon + 1;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    keep_header(p, dir, s, (size_t)(colon - s), v, (size_t)(end - v));
}

/* The first line of dir is not HTTP/1.x. */
static void first_line_bad(struct http1_parser *p, int dir)
{
    if (dir == 0) {
        fail(p, HTTP1_E_NOT_HTTP);
        return;
    }
    p->facts.response_bad = true;
    p->d[dir].st = ST_END;
    check_done(p);
}

/* A whole line (without CRLF) of direction dir. */
static void on_line(struct http1_parser *p, int dir, const uint8_t *s, size_t n, bool over)
{
    struct http1_dir *d = &p->d[dir];

    if (d->st == ST_FIRST) {
        bool ok = dir == 0 ? parse_request_line(p, s, n, over) : parse_status_line(p, s, n);
        if (ok)
            d->st = ST_HEADERS;
        else
            first_line_bad(p, dir);
        return;
    }
    if (n == 0 && !over) {
        p->facts.headers_done[dir] = true;
        d->st = ST_END;
        check_done(p);
        return;
    }
    parse_header(p, dir, s, n);
}

/* Early checks on the first line while it arrives, so that other
 * protocols fail on their first bytes. */
static bool first_line_plausible(int dir, const struct http1_dir *d)
{
    size_t k;

    if (dir == 0) {
        k = d->line_len < 9 ? d->line_len : 9;
        return method_prefix(d->line, k) != 0;
    }
    k = d->line_len < 7 ? d->line_len : 7;
    return memcmp(d->line, "HTTP/1.", k) == 0;
}

static void end_line(struct http1_parser *p, int dir)
{
    struct http1_dir *d = &p->d[dir];
    size_t n = d->line_len;

    if (n > 0 && d->line[n - 1] == '\r' && !d->line_over)
        n--;
    on_line(p, dir, d->line, n, d->line_over);
    d->line_len = 0;
    d->line_over = false;
}

static void header_cap_reached(struct http1_parser *p, int dir)
{
    p->facts.headers_cut[dir] = true;
    p->facts.headers_done[dir] = true;
    p->d[dir].st = ST_END;
    check_done(p);
}

/* Take bytes up to and including the next LF. Returns bytes used. */
static size_t line_take(struct http1_parser *p, int dir, const uint8_t *b, size_t n)
{
    struct http1_dir *d = &p->d[dir];
    const uint8_t *lf = memchr(b, '\n', n);
    size_t take = lf != NULL ? (size_t)(lf - b) + 1 : n;
    size_t body = lf != NULL ? take - 1 : take;
    size_t room = HTTP1_LINE_CAP - d->line_len;
    size_t keep = body < room ? body : room;

    if (take > HTTP1_HEADERS_CAP - d->block) {
        if (d->st == ST_FIRST)
            on_line(p, dir, d->line, d->line_len, true);
        if (p->status == DISSECT_MORE && d->st != ST_END)
            header_cap_reached(p, dir);
        return n;
    }
    d->block += (uint32_t)take;
    memcpy(d->line + d->line_len, b, keep);
    d->line_len = (uint16_t)(d->line_len + keep);
    if (keep < body) {
        d->line_over = true;
        p->facts.line_cut[dir] = true;
    }
    if (d->st == ST_FIRST && !first_line_plausible(dir, d)) {
        first_line_bad(p, dir);
        return take;
    }
    if (lf != NULL)
        end_line(p, dir);
    return take;
}

void http1_init(struct http1_parser *p)
{
    memset(p, 0, sizeof(*p));
    p->status = DISSECT_MORE;
    p->facts.version_minor = -1;
}

void http1_free(struct http1_parser *p)
{
    (void)p;
}

enum dissect_status http1_feed(struct http1_parser *p, int dir, const uint8_t *buf, size_t n)
{
    if (p->status != DISSECT_MORE || (dir != 0 && dir != 1))
        return (enum dissect_status)p->status;
    while (n > 0 && p->status == DISSECT_MORE && p->d[dir].st != ST_END) {
        size_t used = line_take(p, dir, buf, n);
        buf += used;
        n -= used;
    }
    return (enum dissect_status)p->status;
}

enum dissect_status http1_gap(struct http1_parser *p, int dir, uint64_t n)
{
    if (p->status != DISSECT_MORE || (dir != 0 && dir != 1) || n == 0)
        return (enum dissect_status)p->status;
    p->facts.gap[dir] = true;
    if (dir == 0 && !p->facts.request) {
        fail(p, HTTP1_E_GAP);
        return DISSECT_ERROR;
    }
    if (p->d[dir].st != ST_END) {
        p->d[dir].st = ST_END;
        if (dir == 0)
            p->facts.headers_done[0] = true; /* nothing more will come */
    }
    check_done(p);
    return (enum dissect_status)p->status;
}

enum dissect_status http1_status(const struct http1_parser *p)
{
    return (enum dissect_status)p->status;
}

enum http1_error http1_error(const struct http1_parser *p)
{
    return (enum http1_error)p->error;
}

const char *http1_error_name(enum http1_error e)
{
    switch (e) {
    case HTTP1_E_NONE:
        return "none";
    case HTTP1_E_NOT_HTTP:
        return "not-http";
    case HTTP1_E_GAP:
        return "gap";
    }
    return "unknown";
}

bool http1_final(const struct http1_parser *p)
{
    return p->status == DISSECT_DONE;
}

const struct http1_facts *http1_facts(const struct http1_parser *p)
{
    return &p->facts;
}

/* Unit tests for dissectors/http1.c: request and status lines, headers,
 * caps, every chunking, truncation at every byte against the guard page. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "dissectors/http1.h"
#include "tests/unit/helper_pkt.h"

#define C DISSECT_DIR_CLIENT
#define S DISSECT_DIR_SERVER

/* A Vitess web-port request as a browser sends it (vtgate /debug/status). */
static const char req_status[] = "GET /debug/status?refresh=5 HTTP/1.1\r\n"
                                 "Host: vtgate-zone1:15001\r\n"
                                 "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n"
                                 "Accept: text/html\r\n"
                                 "Content-Type:   text/plain  \r\n"
                                 "\r\n";
static const char resp_ok[] = "HTTP/1.1 200 OK\r\n"
                              "Content-Type: text/html; charset=utf-8\r\n"
                              "Server: vtgate\r\n"
                              "\r\n"
                              "<html>";

static enum dissect_status feed_chunked(struct http1_parser *p, const char *req, const char *resp,
                                        size_t k)
{
    enum dissect_status st = DISSECT_MORE;
    http1_init(p);
    for (size_t off = 0; off < strlen(req); off += k) {
        size_t n = strlen(req) - off < k ? strlen(req) - off : k;
        st = http1_feed(p, C, (const uint8_t *)req + off, n);
    }
    if (resp == NULL)
        return st;
    for (size_t off = 0; off < strlen(resp); off += k) {
        size_t n = strlen(resp) - off < k ? strlen(resp) - off : k;
        st = http1_feed(p, S, (const uint8_t *)resp + off, n);
    }
    return st;
}

Test(http1, request_and_response)
{
    struct http1_parser p;
    cr_assert_eq(feed_chunked(&p, req_status, NULL, SIZE_MAX), DISSECT_MORE);
    const struct http1_facts *f = http1_facts(&p);
    cr_assert(f->request);
    cr_assert_str_eq(f->method, "GET");
    cr_assert_str_eq(f->path, "/debug/status?refresh=5");
    cr_assert_eq(f->version_minor, 1);
    cr_assert_str_eq(f->host, "vtgate-zone1:15001");
    cr_assert_str_eq(f->user_agent, "Mozilla/5.0 (X11; Linux x86_64)");
    cr_assert_str_eq(f->content_type, "text/plain");
    cr_assert(f->headers_done[C]);
    cr_assert_eq(f->headers[C], 4);
    cr_assert_eq(feed_chunked(&p, req_status, resp_ok, SIZE_MAX), DISSECT_DONE);
    cr_assert(f->response);
    cr_assert_eq(f->status, 200);
    cr_assert_str_eq(f->server, "vtgate");
    cr_assert(!f->response_bad);
}

Test(http1, every_chunk_size_same_facts)
{
    struct http1_parser whole, part;
    enum dissect_status st = feed_chunked(&whole, req_status, resp_ok, SIZE_MAX);
    for (size_t k = 1; k < 40; k++) {
        cr_assert_eq(feed_chunked(&part, req_status, resp_ok, k), st, "chunk %zu", k);
        cr_assert(memcmp(&whole.facts, &part.facts, sizeof(whole.facts)) == 0, "chunk %zu", k);
    }
}

Test(http1, methods_and_versions)
{
    static const struct {
        const char *line;
        const char *method;
        int minor;
    } ok[] = {
        {"POST /v3/kv/range HTTP/1.1\r\n\r\n", "POST", 1},
        {"PUT /v2/keys/a HTTP/1.0\r\n\r\n", "PUT", 0},
        {"DELETE /x HTTP/1.1\r\n\r\n", "DELETE", 1},
        {"HEAD / HTTP/1.1\r\n\r\n", "HEAD", 1},
        {"OPTIONS * HTTP/1.1\r\n\r\n", "OPTIONS", 1},
        {"PATCH /a HTTP/1.1\r\n\r\n", "PATCH", 1},
        {"CONNECT vtgate:15991 HTTP/1.1\r\n\r\n", "CONNECT", 1},
        {"TRACE / HTTP/1.1\n\n", "TRACE", 1},
    };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct http1_parser p;
        size_t n = strlen(ok[i].line);
        http1_init(&p);
        cr_assert_eq(http1_feed(&p, C, guard_copy(ok[i].line, n), n), DISSECT_MORE, "%s",
                     ok[i].line);
        cr_assert_str_eq(http1_facts(&p)->method, ok[i].method);
        cr_assert_eq(http1_facts(&p)->version_minor, ok[i].minor);
        cr_assert(http1_facts(&p)->headers_done[C]);
    }
}

Test(http1, not_http)
{
    static const char *bad[] = {
        "GETX / HTTP/1.1\r\n",  "get / HTTP/1.1\r\n",      "GET / HTTP/2.0\r\n",
        "GET  HTTP/1.1\r\n",    "GET / HTTP/1.1 x\r\n",    "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        "\x16\x03\x01\x02\x00", "SSH-2.0-OpenSSH_9.2\r\n", "GET /\r\n",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct http1_parser p;
        size_t n = strlen(bad[i]);
        http1_init(&p);
        cr_assert_eq(http1_feed(&p, C, guard_copy(bad[i], n), n), DISSECT_ERROR, "%s", bad[i]);
        cr_assert_eq(http1_error(&p), HTTP1_E_NOT_HTTP);
        cr_assert_eq(http1_feed(&p, C, (const uint8_t *)req_status, 10), DISSECT_ERROR);
    }
    cr_assert_str_eq(http1_error_name(HTTP1_E_NOT_HTTP), "not-http");
}

Test(http1, binary_fails_on_first_bytes)
{
    struct http1_parser p;
    http1_init(&p);
    cr_assert_eq(http1_feed(&p, C, (const uint8_t *)"G", 1), DISSECT_MORE);
    cr_assert_eq(http1_feed(&p, C, (const uint8_t *)"\x00", 1), DISSECT_ERROR);
    cr_assert_eq(http1_probe_request((const uint8_t *)"POS", 3), -1);
    cr_assert_eq(http1_probe_request((const uint8_t *)"POST /", 6), 1);
    cr_assert_eq(http1_probe_request((const uint8_t *)"\x16\x03", 2), 0);
}

Test(http1, bad_response_ends_server_side)
{
    struct http1_parser p;
    cr_assert_eq(feed_chunked(&p, req_status, "SSH-2.0-x\r\n", SIZE_MAX), DISSECT_DONE);
    cr_assert(http1_facts(&p)->response_bad);
    cr_assert(!http1_facts(&p)->response);
}

Test(http1, long_lines_are_cut)
{
    static char req[3000];
    struct http1_parser p;
    strcpy(req, "GET /");
    memset(req + 5, 'a', 2000);
    strcpy(req + 2005, " HTTP/1.1\r\nHost: h\r\n\r\n");
    size_t n = strlen(req);
    http1_init(&p);
    cr_assert_eq(http1_feed(&p, C, guard_copy(req, n), n), DISSECT_MORE);
    const struct http1_facts *f = http1_facts(&p);
    cr_assert(f->request);
    cr_assert(f->path_cut);
    cr_assert_eq(strlen(f->path), HTTP1_PATH_LEN);
    cr_assert_eq(f->version_minor, -1);
    cr_assert(f->line_cut[C]);
    cr_assert_str_eq(f->host, "h");
}

Test(http1, header_block_cap)
{
    static char req[20000];
    struct http1_parser p;
    size_t n = 0;
    n += (size_t)sprintf(req, "GET / HTTP/1.1\r\n");
    while (n < 17000)
        n += (size_t)sprintf(req + n, "X-Filler: 0123456789012345678901234567890123456789\r\n");
    http1_init(&p);
    http1_feed(&p, C, (const uint8_t *)req, n);
    cr_assert(http1_facts(&p)->headers_cut[C]);
    cr_assert(http1_facts(&p)->headers_done[C]);
}

Test(http1, truncation_at_every_byte)
{
    size_t n = strlen(req_status);
    for (size_t k = 0; k < n; k++) {
        struct http1_parser p;
        http1_init(&p);
        cr_assert_eq(http1_feed(&p, C, guard_copy(req_status, k), k), DISSECT_MORE, "cut %zu", k);
        cr_assert(!http1_facts(&p)->headers_done[C]);
    }
    n = strlen(resp_ok);
    for (size_t k = 0; k < n; k++) {
        struct http1_parser p;
        http1_init(&p);
        http1_feed(&p, C, (const uint8_t *)req_status, strlen(req_status));
        enum dissect_status st = http1_feed(&p, S, guard_copy(resp_ok, k), k);
        cr_assert_eq(st, k >= strlen(resp_ok) - 6 ? DISSECT_DONE : DISSECT_MORE, "cut %zu", k);
    }
}

Test(http1, gaps)
{
    struct http1_parser p;
    http1_init(&p);
    http1_feed(&p, C, (const uint8_t *)"GET /x", 6);
    cr_assert_eq(http1_gap(&p, C, 5), DISSECT_ERROR);
    cr_assert_eq(http1_error(&p), HTTP1_E_GAP);

    http1_init(&p);
    http1_feed(&p, C, (const uint8_t *)req_status, strlen(req_status));
    cr_assert_eq(http1_gap(&p, S, 100), DISSECT_DONE);
    cr_assert(http1_facts(&p)->gap[S]);
}
